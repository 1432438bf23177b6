//! What the phone does: the demo story (a few minutes of one phone's background traffic) and the
//! benchmark mix (thousands of sessions drawn from a catalogue of real services, by weight).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::dns;
use crate::http::{self, Framing};
use crate::packet::Peer;
use crate::rng::Rng;
use crate::session::{
    self, Ctx, Exchange, HttpBody, HttpExchange, Plan, Session, LEG_DNS, LEG_MAIN,
};

/// Android's default HTTP user agent on a Redmi Note 12 Pro.
pub const DALVIK_UA: &str = "Dalvik/2.1.0 (Linux; U; Android 13; 22101316G Build/TP1A.220624.014)";

/// How a service is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TLS 1.3 over TCP 443.
    Tls,
    /// QUIC v1 on UDP 443.
    Quic,
    /// Plain HTTP/1.1 on this TCP port.
    Http(u16),
}

/// How much a session moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Volume {
    /// Beacons and config polls: a few small exchanges.
    Beacon,
    /// API and page loads: tens to hundreds of kilobytes.
    Web,
    /// Images, video segments, app updates: megabytes.
    Media,
}

/// A service in the catalogue, with addresses it really answers from (or plausibly could).
#[derive(Clone, Copy, Debug)]
pub struct Service {
    /// Host name the app resolves.
    pub host: &'static str,
    /// CNAME the resolver returns first, if any.
    pub cname: Option<&'static str>,
    /// IPv4 addresses.
    pub v4: &'static [[u8; 4]],
    /// IPv6 addresses (empty when the service is IPv4-only).
    pub v6: &'static [&'static str],
    /// Transport.
    pub transport: Transport,
    /// Size class.
    pub volume: Volume,
    /// Relative weight in the benchmark mix.
    pub weight: u32,
    /// Round trip from a phone in Asia, milliseconds.
    pub rtt_ms: u32,
}

#[allow(clippy::too_many_arguments)] // a table row: one argument per column
const fn svc(
    host: &'static str,
    cname: Option<&'static str>,
    v4: &'static [[u8; 4]],
    v6: &'static [&'static str],
    transport: Transport,
    volume: Volume,
    weight: u32,
    rtt_ms: u32,
) -> Service {
    Service {
        host,
        cname,
        v4,
        v6,
        transport,
        volume,
        weight,
        rtt_ms,
    }
}

use Transport::{Http, Quic, Tls};
use Volume::{Beacon, Media, Web};

/// The benchmark catalogue: what a Chinese-market Android phone with the usual apps talks to.
#[rustfmt::skip]
pub const CATALOG: &[Service] = &[
    // Xiaomi / MIUI
    svc("sdkconfig.ad.xiaomi.com", Some("sdkconfig.ad.intl.xiaomi.com"), &[[161, 117, 56, 38], [161, 117, 96, 183]], &[], Tls, Beacon, 30, 60),
    svc("api.ad.xiaomi.com", None, &[[120, 92, 65, 35], [120, 92, 96, 52]], &[], Tls, Web, 12, 45),
    svc("tracking.miui.com", None, &[[120, 92, 96, 221], [111, 13, 141, 182]], &[], Http(80), Beacon, 25, 45),
    svc("data.mistat.xiaomi.com", None, &[[161, 117, 68, 95]], &[], Tls, Beacon, 25, 60),
    svc("api.account.xiaomi.com", None, &[[161, 117, 71, 154]], &[], Tls, Beacon, 8, 60),
    svc("resolver.msg.xiaomi.net", None, &[[120, 92, 93, 37]], &[], Http(80), Beacon, 10, 45),
    svc("update.miui.com", None, &[[111, 13, 141, 225]], &[], Tls, Web, 4, 45),
    svc("bigota.d.miui.com", Some("bigota.d.miui.com.wscdns.com"), &[[122, 228, 89, 15], [101, 89, 125, 240]], &[], Http(80), Media, 1, 40),
    // Tencent / WeChat
    svc("szshort.weixin.qq.com", None, &[[183, 3, 234, 105], [183, 3, 225, 22]], &[], Http(80), Beacon, 25, 35),
    svc("szextshort.weixin.qq.com", None, &[[183, 3, 234, 12], [14, 17, 73, 132]], &[], Http(8080), Beacon, 12, 35),
    svc("dns.weixin.qq.com", None, &[[203, 205, 239, 29], [109, 244, 194, 160]], &[], Http(80), Beacon, 8, 35),
    svc("mmbiz.qpic.cn", Some("mmbiz.qpic.cn.cdn.dnsv1.com"), &[[58, 251, 82, 148], [183, 3, 235, 34]], &[], Tls, Media, 3, 35),
    svc("wx.qlogo.cn", None, &[[58, 251, 100, 49]], &[], Tls, Web, 8, 35),
    // Google
    svc("www.googleapis.com", None, &[[142, 250, 4, 95], [172, 217, 194, 95]], &["2404:6800:4003:c03::5f", "2404:6800:4003:c00::5f"], Quic, Web, 20, 30),
    svc("android.googleapis.com", None, &[[142, 250, 4, 188]], &["2404:6800:4003:c1a::bc"], Tls, Beacon, 14, 30),
    svc("play.googleapis.com", None, &[[142, 251, 10, 95]], &["2404:6800:4003:c04::5f"], Quic, Web, 10, 30),
    svc("firebaselogging-pa.googleapis.com", None, &[[216, 58, 200, 10]], &["2404:6800:4003:c0f::5f"], Tls, Beacon, 14, 30),
    svc("app-measurement.com", None, &[[142, 250, 4, 102]], &["2404:6800:4003:c11::66"], Tls, Beacon, 12, 30),
    svc("rr3---sn-i3b7kn7s.googlevideo.com", None, &[[173, 194, 57, 104]], &["2404:6800:4003:4::8"], Quic, Media, 4, 25),
    svc("lh3.googleusercontent.com", Some("googlehosted.l.googleusercontent.com"), &[[142, 250, 66, 65]], &["2404:6800:4003:808::2001"], Quic, Web, 10, 30),
    svc("dns.google", None, &[[8, 8, 8, 8], [8, 8, 4, 4]], &["2001:4860:4860::8888"], Tls, Beacon, 10, 25),
    // Apple
    svc("gsp-ssl.ls.apple.com", Some("gsp-ssl.ls-apple.com.akadns.net"), &[[17, 253, 84, 125], [17, 253, 84, 253]], &["2403:300:a42:100::e"], Tls, Beacon, 4, 50),
    svc("init.itunes.apple.com", Some("init.itunes.apple.com.edgekey.net"), &[[23, 45, 237, 36]], &[], Tls, Beacon, 3, 50),
    svc("is1-ssl.mzstatic.com", None, &[[17, 253, 85, 204]], &["2403:300:a0b:a000::d"], Tls, Media, 1, 50),
    // Meta
    svc("graph.facebook.com", Some("star.c10r.facebook.com"), &[[157, 240, 15, 35]], &["2a03:2880:f12f:83:face:b00c:0:25de"], Tls, Web, 10, 55),
    svc("edge-mqtt.facebook.com", Some("mqtt.c10r.facebook.com"), &[[157, 240, 15, 9]], &["2a03:2880:f02f:12:face:b00c:0:1"], Tls, Beacon, 6, 55),
    svc("scontent.xx.fbcdn.net", None, &[[157, 240, 15, 15]], &["2a03:2880:f02f:1:face:b00c:0:3"], Quic, Media, 3, 55),
    svc("i.instagram.com", Some("instagram.c10r.instagram.com"), &[[157, 240, 15, 174]], &["2a03:2880:f22f:c5:face:b00c:0:43fe"], Tls, Web, 6, 55),
    // LINE
    svc("gd2.line.naver.jp", None, &[[147, 92, 128, 13], [147, 92, 150, 196]], &[], Tls, Beacon, 10, 40),
    svc("legy.line-apps.com", None, &[[147, 92, 147, 148]], &[], Tls, Web, 6, 40),
    svc("obs.line-scdn.net", Some("obs.line-scdn.net.edgekey.net"), &[[203, 104, 153, 1], [104, 80, 88, 240]], &[], Tls, Media, 2, 40),
    // TikTok / ByteDance
    svc("api16-normal-c-alisg.tiktokv.com", None, &[[161, 117, 195, 62], [161, 117, 196, 10]], &[], Tls, Web, 12, 60),
    svc("log-va.tiktokv.com", None, &[[130, 44, 212, 111]], &[], Tls, Beacon, 10, 70),
    svc("mon.tiktokv.com", None, &[[130, 44, 215, 90]], &[], Tls, Beacon, 8, 70),
    svc("v16m-default.tiktokcdn.com", Some("v16m-default.tiktokcdn.com.akamaized.net"), &[[23, 48, 97, 146], [23, 32, 241, 51]], &["2600:1417:76::1735:9392"], Tls, Media, 4, 30),
    // Misc SDKs and CDNs
    svc("firebase-settings.crashlytics.com", None, &[[142, 250, 4, 100]], &["2404:6800:4003:c02::64"], Tls, Beacon, 6, 30),
    svc("graph.appsflyer.com", None, &[[52, 85, 223, 73]], &[], Tls, Beacon, 5, 80),
    svc("sdk.hockeyapp.net", None, &[[13, 107, 42, 14]], &["2620:1ec:21::14"], Tls, Beacon, 2, 90),
    svc("cdn.jsdelivr.net", None, &[[104, 16, 85, 20]], &["2606:4700::6810:5514"], Quic, Web, 4, 20),
];

fn v4(a: [u8; 4]) -> IpAddr {
    Ipv4Addr::from(a).into()
}

fn v6(s: &str) -> IpAddr {
    // Catalogue literals are valid addresses; `tests::catalogue_addresses_parse` holds that.
    s.parse::<Ipv6Addr>()
        .map(IpAddr::V6)
        .unwrap_or(IpAddr::V6(Ipv6Addr::LOCALHOST))
}

/// Multicast endpoints and a smart TV on the hotspot, for mDNS and SSDP.
fn multicast(ctx: &Ctx, v4addr: [u8; 4], port: u16) -> (Peer, Peer, Peer) {
    let lan = &ctx.lan;
    let group_mac = [0x01, 0x00, 0x5e, v4addr[1] & 0x7f, v4addr[2], v4addr[3]];
    let group = Peer {
        mac: group_mac,
        ip: v4(v4addr),
        port,
    };
    let phone = Peer {
        mac: lan.phone_mac,
        ip: lan.phone_v4.into(),
        port,
    };
    let tv = Peer {
        mac: [0xa8, 0x23, 0xfe, 0x17, 0x4c, 0x02],
        ip: v4([192, 168, 43, 57]),
        port,
    };
    (phone, tv, group)
}

/// mDNS: the phone looks for Chromecasts, the TV answers (RFC 6762).
pub fn mdns(ctx: &Ctx, rng: &mut Rng) -> Session {
    let (phone, tv, group) = multicast(ctx, [224, 0, 0, 251], 5353);
    let mut p = Plan::with_legs(rng, [(tv, group), (phone, group)], 0);
    let svc = "_googlecast._tcp.local";
    p.datagram(LEG_MAIN, true, 1_000, |o, _| {
        dns::mdns_query(o, svc, dns::TYPE_PTR)
    });
    let d = p.rng().range32(2_000, 120_000);
    p.datagram(LEG_DNS, true, d, |o, _| {
        dns::mdns_ptr_answer(o, svc, "Xiaomi-TV-4A-2a7f", 120)
    });
    p.build()
}

/// SSDP: the phone searches, the TV announces itself (UPnP Device Architecture 2.0 section 1).
pub fn ssdp(ctx: &Ctx, rng: &mut Rng) -> Session {
    let (mut phone, tv, group) = multicast(ctx, [239, 255, 255, 250], 1900);
    phone.port = 40_000 + rng.range(0, 20_000) as u16;
    let mut p = Plan::with_legs(rng, [(tv, group), (phone, group)], 0);
    p.datagram(LEG_MAIN, true, 1_000, |o, _| {
        o.extend_from_slice(
            b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n\
ST: urn:dial-multiscreen-org:service:dial:1\r\nUSER-AGENT: Android/13 UPnP/1.0 MiShare/3.0\r\n\r\n",
        );
    });
    let d = p.rng().range32(50_000, 900_000);
    p.datagram(LEG_DNS, true, d, |o, _| {
        o.extend_from_slice(
            b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n\
LOCATION: http://192.168.43.57:49152/description.xml\r\nNT: urn:dial-multiscreen-org:service:dial:1\r\n\
NTS: ssdp:alive\r\nSERVER: Linux/4.9 UPnP/1.0 MiTV/1.0\r\nUSN: uuid:2a7f43c1-5be0-4a3b-9a6e-a823fe174c02::urn:dial-multiscreen-org:service:dial:1\r\n\r\n",
        );
    });
    p.build()
}

fn json_response(body: &[u8], gzip: bool, chunked: bool, server: &str) -> Vec<HttpBody> {
    let payload = if gzip {
        http::gzip(body)
    } else {
        body.to_vec()
    };
    let mut head = Vec::with_capacity(256);
    let framing = if chunked {
        Framing::Chunked
    } else {
        Framing::Length(payload.len())
    };
    http::response_head(
        &mut head,
        "application/json; charset=utf-8",
        gzip,
        framing,
        server,
    );
    if chunked {
        http::chunked(&mut head, &payload, 1_000);
    } else {
        head.extend_from_slice(&payload);
    }
    vec![HttpBody::Bytes(head)]
}

/// Where a session goes: a host, one of its addresses, and how.
fn plan_for(ctx: &mut Ctx, rng: &mut Rng, s: &Service, ip: IpAddr) -> Plan {
    let port = match s.transport {
        Transport::Http(p) => p,
        _ => 443,
    };
    let rtt = s.rtt_ms * 1000;
    let rtt = rtt + rng.range32(0, rtt / 4 + 1);
    let mut p = Plan::new(ctx, rng, ip, port, rtt);
    p.bytes_per_ms = rng.range32(1_500, 9_000);
    session::lookup(&mut p, 1_000, s.host, s.cname, ip);
    p
}

// ---------------------------------------------------------------------------------------------
// Demo story

/// Device identifiers the demo's trackers send; made up, shaped like the real ones.
pub const DEMO_IMEI: &str = "868927051463300";
/// Android ID (64-bit hex) of the demo phone.
pub const DEMO_ANDROID_ID: &str = "3f6a1c2e9b0d4e71";
/// OAID of the demo phone.
pub const DEMO_OAID: &str = "7e1f5c3a0b9d4a26";

fn find(host: &str) -> Service {
    // Only called with hosts from CATALOG (a programming error otherwise; the demo test covers it).
    *CATALOG
        .iter()
        .find(|s| s.host == host)
        .unwrap_or(&CATALOG[0])
}

/// The demo's sessions, each with its start time in microseconds after the capture starts.
pub fn demo(ctx: &mut Ctx, rng: &mut Rng) -> Vec<(u64, Session)> {
    let mut out: Vec<(u64, Session)> = Vec::new();
    out.push((0, mdns(ctx, rng)));
    out.push((400_000, ssdp(ctx, rng)));

    let small = |n: u32, up: (u32, u32), down: (u32, u32), rng: &mut Rng| -> Vec<Exchange> {
        (0..n)
            .map(|_| Exchange {
                up: rng.range32(up.0, up.1),
                down: rng.range32(down.0, down.1),
                think_us: rng.range32(200_000, 3_000_000),
            })
            .collect()
    };

    // Private DNS (DNS over HTTPS to dns.google).
    let s = find("dns.google");
    let mut p = plan_for(ctx, rng, &s, v4(s.v4[0]));
    let ex = small(4, (90, 140), (120, 400), rng);
    session::tls_session(&mut p, ctx, s.host, &ex);
    out.push((900_000, p.build()));

    // MIUI ad SDK config and account sync over TLS.
    for (t, host) in [
        (1_600_000, "sdkconfig.ad.xiaomi.com"),
        (2_300_000, "api.account.xiaomi.com"),
    ] {
        let s = find(host);
        let mut p = plan_for(ctx, rng, &s, v4(s.v4[0]));
        let ex = small(2, (300, 900), (800, 6_000), rng);
        session::tls_session(&mut p, ctx, s.host, &ex);
        out.push((t, p.build()));
    }

    // MIUI analytics: a plain-HTTP POST carrying the device identifiers.
    let s = find("tracking.miui.com");
    let mut p = plan_for(ctx, rng, &s, v4(s.v4[0]));
    let body = format!(
        concat!(
            r#"{{"app":"com.miui.analytics","ver":"3.1.2","device":{{"imei":"{imei}","android_id":"{aid}","#,
            r#""oaid":"{oaid}","model":"22101316G","brand":"Redmi","os":"V14.0.6.0.TMOCNXM","region":"CN"}},"#,
            r#""events":[{{"name":"screen_on","ts":1715674803211}},{{"name":"app_launch","pkg":"com.tencent.mm","ts":1715674805930}}],"#,
            r#""net":"WIFI","ip":"192.168.43.107","mac":"64:cc:2e:5a:91:3d"}}"#
        ),
        imei = DEMO_IMEI,
        aid = DEMO_ANDROID_ID,
        oaid = DEMO_OAID,
    );
    let mut req = Vec::new();
    http::request(
        &mut req,
        "POST",
        s.host,
        "/track/v4",
        DALVIK_UA,
        &[("X-Miui-Sdk", "2.4.1")],
        Some(("application/json", body.as_bytes())),
    );
    let resp = json_response(
        br#"{"code":0,"msg":"success","data":{"interval":3600,"upload":true}}"#,
        true,
        true,
        "Tengine",
    );
    session::http_session(
        &mut p,
        vec![HttpExchange {
            request: req,
            response: resp,
            think_us: 0,
        }],
    );
    out.push((3_000_000, p.build()));

    // Xiaomi push resolver: GET with a gzip'd Content-Length response.
    let s = find("resolver.msg.xiaomi.net");
    let mut p = plan_for(ctx, rng, &s, v4(s.v4[0]));
    let mut req = Vec::new();
    http::request(
        &mut req,
        "GET",
        s.host,
        "/gslb/?ver=4.0&type=wifi&uuid=3f6a1c2e9b0d4e71&list=app.chat.xiaomi.net",
        DALVIK_UA,
        &[],
        None,
    );
    let resp = json_response(br#"{"S":"Ok","R":{"wifi":{"app.chat.xiaomi.net":["120.92.96.57:5222","120.92.65.35:443"]},"ttl":86400}}"#, true, false, "nginx");
    session::http_session(
        &mut p,
        vec![HttpExchange {
            request: req,
            response: resp,
            think_us: 0,
        }],
    );
    out.push((3_400_000, p.build()));

    // WeChat short links: HTTP POST on port 80 and on 8080, binary bodies as WeChat sends.
    for (t, host) in [
        (4_200_000, "szshort.weixin.qq.com"),
        (6_800_000, "szextshort.weixin.qq.com"),
    ] {
        let s = find(host);
        let mut p = plan_for(ctx, rng, &s, v4(s.v4[0]));
        let mut body = vec![0u8; rng.range(300, 700) as usize];
        rng.fill(&mut body);
        body[..4].copy_from_slice(&[0x16, 0xf1, 0x04, 0x00]);
        let mut req = Vec::new();
        http::request(
            &mut req,
            "POST",
            s.host,
            "/mmtls/2b8f6a41",
            "MicroMessenger Client",
            &[
                ("Upgrade", "mmtls"),
                ("Accept", "*/*"),
                ("Cache-Control", "no-cache"),
            ],
            Some(("application/octet-stream", &body)),
        );
        let mut head = Vec::new();
        let n = rng.range32(200, 1_400);
        http::response_head(
            &mut head,
            "application/octet-stream",
            false,
            Framing::Length(n as usize),
            "MMServer",
        );
        let resp = vec![HttpBody::Bytes(head), HttpBody::Random(n)];
        session::http_session(
            &mut p,
            vec![HttpExchange {
                request: req,
                response: resp,
                think_us: 0,
            }],
        );
        out.push((t, p.build()));
    }

    // Google APIs over QUIC on IPv6.
    let s = find("www.googleapis.com");
    let mut p = plan_for(ctx, rng, &s, v6(s.v6[0]));
    let ex = small(3, (200, 900), (1_500, 9_000), rng);
    session::quic_session(&mut p, ctx, s.host, &ex);
    out.push((5_000_000, p.build()));

    // Apple location services, LINE, Facebook (IPv6), TikTok.
    let rest: [(u64, &str, bool); 4] = [
        (5_600_000, "gsp-ssl.ls.apple.com", false),
        (7_400_000, "gd2.line.naver.jp", false),
        (8_100_000, "graph.facebook.com", true),
        (8_900_000, "api16-normal-c-alisg.tiktokv.com", false),
    ];
    for (t, host, use_v6) in rest {
        let s = find(host);
        let ip = if use_v6 { v6(s.v6[0]) } else { v4(s.v4[0]) };
        let mut p = plan_for(ctx, rng, &s, ip);
        let ex = small(2, (200, 1_200), (1_000, 12_000), rng);
        session::tls_session(&mut p, ctx, s.host, &ex);
        out.push((t, p.build()));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Benchmark mix

/// Draws sessions from [`CATALOG`] by weight.
#[derive(Debug)]
pub struct Mix {
    total_weight: u64,
    json: Vec<Arc<[u8]>>,
}

impl Default for Mix {
    fn default() -> Self {
        Self::new()
    }
}

impl Mix {
    /// The mix with its cached response bodies.
    pub fn new() -> Self {
        let mut rng = Rng::new(0x6a50);
        let mut json = Vec::new();
        // Cached JSON responses of a few sizes, each plain, gzip, chunked and gzip+chunked.
        for n in [120usize, 900, 4_000, 30_000] {
            let mut body = String::from(r#"{"code":0,"data":{"items":["#);
            while body.len() < n {
                let id = rng.next_u64();
                body.push_str(&format!(
                    r#"{{"id":"{id:016x}","ts":{},"ok":true}},"#,
                    1_715_674_800 + rng.below(86_400)
                ));
            }
            body.push_str(r#"{"end":1}]}}"#);
            for (gz, ch) in [(false, false), (true, false), (false, true), (true, true)] {
                let parts = json_response(body.as_bytes(), gz, ch, "nginx");
                if let Some(HttpBody::Bytes(b)) = parts.into_iter().next() {
                    json.push(Arc::from(b));
                }
            }
        }
        Self {
            total_weight: CATALOG.iter().map(|s| u64::from(s.weight)).sum(),
            json,
        }
    }

    /// The next random session.
    pub fn next(&self, ctx: &mut Ctx, rng: &mut Rng) -> Session {
        // One session in fifty is LAN noise.
        if rng.chance(0.02) {
            return if rng.chance(0.5) {
                mdns(ctx, rng)
            } else {
                ssdp(ctx, rng)
            };
        }
        let mut w = rng.below(self.total_weight);
        let s = CATALOG
            .iter()
            .find(|s| {
                let hit = w < u64::from(s.weight);
                w = w.saturating_sub(u64::from(s.weight));
                hit
            })
            .unwrap_or(&CATALOG[0]);
        let ip = if !s.v6.is_empty() && rng.chance(0.4) {
            v6(rng.pick::<&str>(s.v6))
        } else {
            v4(*rng.pick(s.v4))
        };
        let mut p = plan_for(ctx, rng, s, ip);
        let (n, up, down): (u32, (u64, u64), (u64, u64)) = match s.volume {
            Volume::Beacon => (rng.range32(1, 4), (150, 4_000), (60, 6_000)),
            Volume::Web => (rng.range32(2, 9), (200, 2_500), (1_000, 150_000)),
            Volume::Media => (rng.range32(1, 4), (300, 1_500), (200_000, 4_000_000)),
        };
        match s.transport {
            Transport::Tls | Transport::Quic => {
                let ex: Vec<Exchange> = (0..n)
                    .map(|_| Exchange {
                        up: rng.log_uniform(up.0, up.1) as u32,
                        down: rng.log_uniform(down.0, down.1) as u32,
                        think_us: rng.range32(5_000, 2_000_000),
                    })
                    .collect();
                if s.transport == Transport::Tls {
                    session::tls_session(&mut p, ctx, s.host, &ex);
                } else {
                    session::quic_session(&mut p, ctx, s.host, &ex);
                }
            }
            Transport::Http(_) => {
                let ex: Vec<HttpExchange> = (0..n)
                    .map(|i| self.http_exchange(rng, s, i, down))
                    .collect();
                session::http_session(&mut p, ex);
            }
        }
        p.build()
    }

    fn http_exchange(&self, rng: &mut Rng, s: &Service, i: u32, down: (u64, u64)) -> HttpExchange {
        let mut req = Vec::with_capacity(512);
        let think_us = rng.range32(10_000, 1_500_000);
        if s.volume == Volume::Media {
            let n = rng.log_uniform(down.0, down.1) as u32;
            http::request(
                &mut req,
                "GET",
                s.host,
                &format!("/pkg/{:08x}/part{i}.bin", rng.next_u64() as u32),
                DALVIK_UA,
                &[("Range", "bytes=0-")],
                None,
            );
            let mut head = Vec::new();
            http::response_head(
                &mut head,
                "application/octet-stream",
                false,
                Framing::Length(n as usize),
                "Tengine",
            );
            return HttpExchange {
                request: req,
                response: vec![HttpBody::Bytes(head), HttpBody::Random(n)],
                think_us,
            };
        }
        if rng.chance(0.6) {
            let body = format!(
                r#"{{"uid":"{:016x}","seq":{i},"ts":{},"net":"wifi","events":[{{"k":"app_active","v":{}}}]}}"#,
                rng.next_u64(),
                1_715_674_800_000u64 + rng.below(86_400_000),
                rng.below(1000)
            );
            http::request(
                &mut req,
                "POST",
                s.host,
                "/api/v2/report",
                DALVIK_UA,
                &[],
                Some(("application/json", body.as_bytes())),
            );
        } else {
            http::request(
                &mut req,
                "GET",
                s.host,
                &format!("/cgi-bin/conf?uin={}&v={i}", rng.below(4_000_000_000)),
                DALVIK_UA,
                &[],
                None,
            );
        }
        let body = Arc::clone(rng.pick(&self.json));
        HttpExchange {
            request: req,
            response: vec![HttpBody::Shared(body)],
            think_us,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_addresses_parse_and_weights_are_positive() {
        for s in CATALOG {
            assert!(!s.v4.is_empty(), "{}", s.host);
            for a in s.v6 {
                assert!(a.parse::<Ipv6Addr>().is_ok(), "{a}");
            }
            assert!(s.weight > 0 && s.rtt_ms > 0);
        }
    }

    #[test]
    fn demo_hosts_are_in_the_catalogue() {
        for h in [
            "dns.google",
            "sdkconfig.ad.xiaomi.com",
            "api.account.xiaomi.com",
            "tracking.miui.com",
            "resolver.msg.xiaomi.net",
            "szshort.weixin.qq.com",
            "szextshort.weixin.qq.com",
            "www.googleapis.com",
            "gsp-ssl.ls.apple.com",
            "gd2.line.naver.jp",
            "graph.facebook.com",
            "api16-normal-c-alisg.tiktokv.com",
        ] {
            assert_eq!(find(h).host, h);
        }
    }
}
