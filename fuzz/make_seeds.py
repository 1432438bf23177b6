#!/usr/bin/env python3
"""Builds the curated seed sets in fuzz/seeds/<target>/ from real captures.

Usage: python3 fuzz/make_seeds.py CAPTURES_DIR
       python3 fuzz/make_seeds.py --detect-only   (the detect targets' seeds, built by hand)

Needs tshark (4.x) on PATH. Frames come from classic pcap files (read here), stream bytes
from `tshark -z follow,tcp,raw`, datagram payloads from `tshark -T fields -e udp.payload`.
The output is deterministic for a given tshark and set of captures; each seed is cut to a
few KiB so that the whole set stays small and fast to execute.
"""

import base64
import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "seeds")
MAX_SEED = 6 * 1024

# Link types in the order of the wire_decode target's table (fuzz_targets/wire_decode.rs).
LINKS = [0, 1, 101, 108, 113, 228, 229, 239, 276, 12, 14]


def tshark(*args):
    out = subprocess.run(
        ["tshark", *args], capture_output=True, check=False, text=True
    ).stdout
    return out


def put(target, name, data):
    if not data:
        return
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    data = data[:MAX_SEED]
    digest = hashlib.sha1(data).hexdigest()[:8]
    with open(os.path.join(d, f"{name}-{digest}"), "wb") as f:
        f.write(data)


def pcap_frames(path):
    """(linktype, frame) of a classic pcap file, either byte order, any timestamp unit."""
    with open(path, "rb") as f:
        raw = f.read()
    magic = raw[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return []
    link = struct.unpack(e + "I", raw[20:24])[0] & 0xFFFF
    out, off = [], 24
    while off + 16 <= len(raw):
        incl = struct.unpack(e + "I", raw[off + 8 : off + 12])[0]
        frame = raw[off + 16 : off + 16 + incl]
        if len(frame) < incl:
            break
        out.append((link, frame))
        off += 16 + incl
    return out


def tcp_streams(path):
    """[(client bytes, server bytes)] for every TCP stream, as tshark reassembles them."""
    ids = sorted(
        {int(s) for s in tshark("-r", path, "-T", "fields", "-e", "tcp.stream").split() if s}
    )
    result = []
    for i in ids:
        text = tshark("-r", path, "-q", "-z", f"follow,tcp,raw,{i}")
        c, s = bytearray(), bytearray()
        for line in text.splitlines():
            if not line.strip() or line.startswith(("=", "Follow", "Filter", "Node")):
                continue
            try:
                chunk = bytes.fromhex(line.strip())
            except ValueError:
                continue
            (s if line.startswith("\t") else c).extend(chunk)
        result.append((bytes(c), bytes(s)))
    return result


def udp_payloads(path, display_filter):
    rows = tshark(
        "-r", path, "-Y", display_filter, "-T", "fields", "-e", "udp.srcport", "-e", "udp.payload"
    )
    out = []
    for row in rows.splitlines():
        parts = row.split("\t")
        if len(parts) == 2 and parts[1]:
            out.append((int(parts[0]), bytes.fromhex(parts[1].replace(":", ""))))
    return out


def ws_frame(opcode, payload, key=None, fin=True, rsv1=False):
    """One WebSocket frame (RFC 6455 section 5.2), masked with `key` when given."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    m = 0x80 if key else 0
    if n < 126:
        head = bytes([b0, m | n])
    elif n < 0x10000:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    return head + payload


def raw_deflate(data):
    """permessage-deflate payload: raw deflate, sync-flushed, the 00 00 ff ff tail removed."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out


def detect_seeds():
    """Seeds of the phonehome-detect targets: decoded traffic and lab files written by hand in
    the shapes apps and phones produce (crates/detect/src/fuzzing.rs gives the selector bytes)."""
    for t in ["decode_expand", "websocket_deframe", "patterns_find", "vcard_parse", "profile_parse", "policy_parse"]:
        shutil.rmtree(os.path.join(SEEDS, t), ignore_errors=True)
    b64 = lambda b: base64.b64encode(b)  # noqa: E731
    imei = b"356938035643809"
    payload = b'{"imei":"356938035643809","mac":"3c:5a:b4:01:02:03","name":"Chen Mei"}'

    # decode_expand: data[0] low nibble = hint (0 Uri, 1 cookie, 2 x-data, 3 JSON body, 4 form,
    # 5 multipart with boundary ----fuzzb, 6 protobuf, 7 body of no type, 8 DNS name, 9 payload);
    # bit 7 = small limits.
    de = [
        (0, "uri", b"/api/report?imei=356938035643809&u=Ch%C3%A9n%20Mei&d=" + b64(payload).replace(b"=", b"%3D")),
        (1, "cookie", b"sid=" + base64.urlsafe_b64encode(payload).rstrip(b"=") + b"; lang=zh-TW"),
        (2, "x-data", b64(gzip.compress(payload, mtime=0))),
        (3, "json", b'{"a":"\\u0043h\\u00e9n Mei","b":"' + b64(b"imei=" + imei) + b'","c":{"d":"' + b64(zlib.compress(payload)) + b'"}}'),
        (4, "form", b"data=" + b64(payload).replace(b"+", b"%2B").replace(b"=", b"%3D") + b"&v=2&q=Ch%E9n+Mei"),
        (5, "multipart", b"------fuzzb\r\nContent-Disposition: form-data; name=\"f\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(payload) + b"\r\n------fuzzb\r\nContent-Disposition: form-data; name=\"g\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCh=C3=A9n Mei=\r\n lives here\r\n------fuzzb--\r\n"),
        (6, "protobuf", b"\x0a\x0f" + imei + b"\x12\x08Chen Mei\x1a\x06\x08\x01\x10\x02\x18\x03\x22" + bytes([len(b64(payload))]) + b64(payload)),
        (7, "gzip-body", gzip.compress(payload * 3, mtime=0)),
        (8, "dns-base32", base64.b32encode(b"imei=" + imei).rstrip(b"=").lower() + b".t.example.com"),
        (9, "websocket", ws_frame(1, payload, key=b"\x37\xfa\x21\x3d") + ws_frame(1, raw_deflate(payload), key=b"\x37\xfa\x21\x3d", rsv1=True)),
        (9, "base64-twice", b64(b64(payload))),
        (0x89, "nested-small", b64(b64(b64(b"imei=" + imei + b"&n=1")))),
    ]
    for sel, name, body in de:
        put("decode_expand", name, bytes([sel]) + body)

    # websocket_deframe: data[0] seeds the cut sizes; then one direction after the handshake.
    key = b"\x12\x34\x56\x78"
    client = ws_frame(1, payload, key) + ws_frame(2, b"part one ", key, fin=False) + ws_frame(9, b"ping", key) + ws_frame(0, b"part two", key) + ws_frame(8, b"\x03\xe8", key)
    put("websocket_deframe", "client-masked", b"\x05" + client)
    deflated = b"".join(ws_frame(1, raw_deflate(payload + bytes([i])), key, rsv1=True) for i in range(3))
    put("websocket_deframe", "client-deflate", b"\x02" + deflated)
    server = ws_frame(2, bytes(range(256)) * 2) + ws_frame(10, b"pong") + ws_frame(1, b'{"ok":true}')
    put("websocket_deframe", "server-16bit", b"\x0b" + server)
    put("websocket_deframe", "server-64bit-cut", b"\x07" + ws_frame(2, b"x" * 70000)[:600])

    # patterns_find: data[0] % 11 = context (0 Uri, 1 form, 2 JSON, 3 header named by
    # HEADERS[(data[0] >> 4) % 4], 4 JSON body, 5 form body, 6 text body, 7 body of no type,
    # 8 DNS name, 9-10 payload).
    pf = [
        (0, "uri", b"/v1/report?imei=356938035643809&phone=%2B886912345678&lat=25.03361&lng=121.56500&ts=1700000000"),
        (1, "form", b"deviceId=a1b2c3d4e5f60718&imsi=466924200012345&iccid=8988692000001234567&order_id=356938035643809"),
        (2, "json", b'{"device":{"imei":"356938035643809","mac":"3c:5a:b4:01:02:03","oaid":"0b1e4b5c-6f1a-4c2e-9d0a-2f6b8e7c1a3d"},"user":{"email":"chen.mei@gmail.com"},"loc":{"latitude":25.03361,"longitude":121.565}}'),
        (0x13, "header-device-id", b"a1b2c3d4e5f60718"),
        (0x03, "header-cookie", b"imei=356938035643809; sid=abc; tel=+886912345678"),
        (4, "json-contacts", b'{"contacts":[{"name":"Lin Chih-Hao","phone":"+886 987 654 321"},{"name":"Wang","phone":"0912-345-678"}],"sms":[{"body":"Your code is 123456","from":"+886900000000"}]}'),
        (5, "form-body", b"mac=3C-5A-B4-01-02-03&serial=R58M12ABCDE&android_id=9774d56d682e549c"),
        (7, "xml", b"<req><imei>356938035643809</imei><phone>+886912345678</phone></req>"),
        (8, "dns", b"356938035643809.imei.t.example.com"),
        (9, "text", b"POST /upload HTTP/1.1\r\nHost: x\r\n\r\nimei: 356938035643809, mail chen.mei@gmail.com, call +886 912 345 678"),
    ]
    for sel, name, body in pf:
        put("patterns_find", name, bytes([sel]) + body)

    # vcard_parse: exports as Android, iOS and older phones write them.
    put("vcard_parse", "v3-ios", b"BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 17.1//EN\r\nN:Lin;Chih-Hao;;;\r\nFN:Chih-Hao Lin\r\nitem1.TEL;type=pref:+886 987 654 321\r\nitem1.X-ABLabel:mobile\r\nEMAIL;type=INTERNET;type=HOME:chlin@example.com\r\nPHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U\r\n HR8eHRocHCAkLicgIiwjHBwoNyksMDE0NDQfJzk9ODI8LjM0Mv/AAAsIAAEAAQEBEQA/\r\nEND:VCARD\r\n")
    put("vcard_parse", "v21-android", "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E9=99=B3;=E7=BE=8E=\n=E7=8E=B2;;;\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E9=99=B3=E7=BE=8E=E7=8E=B2\nTEL;CELL;PREF:0912-345-678\nTEL;HOME:02 2345 6789\nEND:VCARD\nBEGIN:VCARD\nVERSION:2.1\nN:;Mom;;;\nTEL;CELL:+886912000111\nEND:VCARD\n".encode())
    put("vcard_parse", "v4-folded", b"BEGIN:VCARD\nVERSION:4.0\nFN:Mei\n  Chen\nTEL;VALUE=uri;TYPE=\"voice,cell\":tel:+886-2-2345-6789\nEMAIL:mei@example.org\nBEGIN:VCARD\nFN:nested\nEND:VCARD\nEND:VCARD\n")
    put("vcard_parse", "no-end", "\ufeffBEGIN:VCARD\nFN:張偉\nTEL:+8613800138000\n".encode())

    # profile_parse: small profiles (under the 512-byte cap the target compiles) and the
    # full shape.
    put("profile_parse", "identifiers", b'[identifiers]\nimei = "356938035643809"\nimsi = "466924200012345"\nphone = "+886912345678"\nwifi_mac = "3c:5a:b4:01:02:03"\nandroid_id = "9774d56d682e549c"\n')
    put("profile_parse", "owner-contacts", '[owner]\nname = "陳美玲"\nemail = "chen.mei@gmail.com"\n\n[[contacts]]\nname = "Lin Chih-Hao"\nphone = "0987654321"\n\n[[sms]]\nbody = "Your code is 123456"\n'.encode())
    put("profile_parse", "locations-secrets", b'[identifiers]\nphone = "0912345678"\n\n[[locations]]\nlat = 25.0336\nlon = 121.5650\n\n[[secrets]]\nlabel = "wifi"\nvalue = "hunter2-lab"\n')
    put("profile_parse", "full", b'[identifiers]\nimei = "356938035643809"\nimei2 = "356938035643817"\nmeid = "A0000049C4B0A2"\nimsi = "466924200012345"\niccid = "8988692000001234567"\nphone = "+886912345678"\nserial = "R58M12ABCDE"\nandroid_id = "9774d56d682e549c"\nadvertising_id = "0b1e4b5c-6f1a-4c2e-9d0a-2f6b8e7c1a3d"\nwifi_mac = "3c:5a:b4:01:02:03"\nbt_mac = "3c:5a:b4:01:02:04"\n\n[owner]\nname = "Chen Mei"\nemail = "chen.mei@gmail.com"\n\n[[contacts]]\nname = "Lin Chih-Hao"\nphone = "+886 987 654 321"\n\n[[sms]]\nbody = "Meet at 7"\nfrom = "+886900000000"\n\n[[locations]]\nlat = 25.0336\nlon = 121.5650\n')

    # policy_parse: the shipped presets and a policy using every section.
    policies = os.path.join(HERE, "..", "data", "policies")
    for name in sorted(os.listdir(policies)):
        with open(os.path.join(policies, name), "rb") as f:
            put("policy_parse", name.split(".")[0], f.read())
    put("policy_parse", "lab", b'name = "lab-tw"\nhome = "TW"\n\n[[rule]]\nid = "pii-abroad"\nseverity = "critical"\n[rule.when]\ndata = "any"\ncountry = "abroad"\n[rule.unless]\nserver_name = ["update.miui.com", "*.example.tw"]\n\n[[rule]]\nid = "no-tiktok"\nseverity = "high"\nwhen = { service = ["TikTok", "Douyin"] }\n\n[[rule]]\nid = "cleartext"\nseverity = "medium"\nwhen = [{ data = ["identifiers"], encryption = "cleartext" }, { encryption = "unknown" }]\n\n[[allow]]\nreason = "the lab server"\nserver_name = "collector.lab.example"\nrules = ["pii-abroad"]\n')


def main():
    if sys.argv[1:] == ["--detect-only"]:
        detect_seeds()
        return
    caps = sys.argv[1]
    cap = lambda name: os.path.join(caps, name)  # noqa: E731
    shutil.rmtree(SEEDS, ignore_errors=True)

    # Whole small files: every container variant the reader handles.
    files = [
        "dns_udp_dig_a_query__suri.pcap",
        "dns_https_rr__zeek.pcap",
        "http_chunked__suri.pcap",
        "sll2_http__suri.pcap",
        "sll2_icmp__zeek.pcap",
        "ipfrag_v4_udp__zeek.pcap",
        "ipfrag_v6_tcp__suri.pcap",
        "malformed_cut_short__ndpi.pcap",
        "malformed_ipv4_truncated__zeek.pcap",
        "pcap_modified_format__pcapparser.pcap",
        "pcapng_big_endian__pcapparser.pcapng",
        "pcapng_multi_interface__zeek.pcapng",
        "vlan_dns__ndpi.pcap",
        "tcp_overlap__suri.pcap",
        "http_ipv6_loopback_null__suri.pcap",
        "app_tencent_games_rawip__ndpi.pcap",
    ]
    for name in files:
        with open(cap(name), "rb") as f:
            data = f.read()[:4096]
        stem = name.split("__")[0]
        put("capture_read", stem, data)
        put("pipeline", stem, data)
        put("audit", stem, data)
    # The project's own capture of TLS through a proxy's CONNECT tunnel (scripts/live_tls_check.py).
    with open(os.path.join(HERE, "..", "tests", "e2e", "data", "curl-proxy-tls.pcap"), "rb") as f:
        put("audit", "connect_tunnel_tls", f.read()[:MAX_SEED])
    with open(cap("dns_udp_dig_a_query__suri.pcap"), "rb") as f:
        small = f.read()
    put("capture_read", "gzip", gzip.compress(small, mtime=0))
    zst = subprocess.run(["zstd", "-q", "-c"], input=small, capture_output=True).stdout
    put("capture_read", "zstd", zst)

    # Single frames, one per link type and protocol mix.
    frame_files = [
        "dns_udp_google_a_aaaa_mx__suri.pcap",
        "ipfrag_v4__suri.pcap",
        "ipfrag_v6_tcp__suri.pcap",
        "sll2_icmp__zeek.pcap",
        "sll2_http__suri.pcap",
        "http_ipv6_loopback_null__suri.pcap",
        "tls_alpn_rawip__suri.pcap",
        "app_kakaotalk_chat_sll__ndpi.pcap",
        "app_xiaomi__ndpi.pcap",
        "dns_ipv6_fragmented__zeek.pcap",
    ]
    for name in frame_files:
        frames = pcap_frames(cap(name))
        for link, frame in frames[:3]:
            if link in LINKS:
                put("wire_decode", name.split("__")[0], bytes([LINKS.index(link)]) + frame)

    # DNS messages over UDP.
    for name in [
        "dns_udp_google_a_aaaa_mx__suri.pcap",
        "dns_https_rr__zeek.pcap",
        "dns_edns_ecs_mixed_v4_v6_tcp__zeek.pcap",
        "malformed_dns__ndpi.pcap",
        "app_telegram__ndpi.pcap",
    ]:
        seen = set()
        for _, p in udp_payloads(cap(name), "dns && udp"):
            if p not in seen and len(seen) < 4:
                seen.add(p)
                put("dns_parse", name.split("__")[0], p)

    # DNS over TCP: a seed byte for the cut points, then the client or server stream.
    for name in ["dns_tcp_www_google_com__suri.pcap", "dns_tcp_multirequest__suri.pcap"]:
        for i, (c, s) in enumerate(tcp_streams(cap(name))[:2]):
            put("dns_tcp", name.split("__")[0], bytes([i]) + c)
            put("dns_tcp", name.split("__")[0], bytes([i + 3]) + s)

    # HTTP/1.x streams: seed byte bit 0 = direction (0 request), bit 1 = small limits.
    for name in [
        "http_chunked__suri.pcap",
        "http_compressed_gzip__scapy.pcap",
        "http_get_gzip__zeek.pcap",
        "http_layered_gzip_encodings__suri.pcap",
        "sll2_http__suri.pcap",
        "http_basic_auth_chunked__ndpi.pcap",
        "vlan_http__zeek.pcap",
    ]:
        for i, (c, s) in enumerate(tcp_streams(cap(name))[:1]):
            put("http_stream", name.split("__")[0], bytes([0x10 * i]) + c)
            put("http_stream", name.split("__")[0], bytes([0x10 * i + 1]) + s)
            put("http_stream", name.split("__")[0] + "-small", bytes([0x10 * i + 3]) + s)

    # HTTP over UDP (SSDP) and request/response heads as datagrams.
    seen = set()
    for name in ["app_android_phone__ndpi.pcap", "app_alicloud__ndpi.pcap"]:
        for _, p in udp_payloads(cap(name), "ssdp"):
            if p not in seen and len(seen) < 4:
                seen.add(p)
                put("http_datagram", "ssdp", p)
    # Hand-built SSDP datagrams (UPnP Device Architecture 2.0, section 1.3) in case the
    # captures at hand hold none.
    put("http_datagram", "ssdp-msearch", b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: urn:dial-multiscreen-org:service:dial:1\r\nUSER-AGENT: Google Chrome/120.0 Linux\r\n\r\n')
    put("http_datagram", "ssdp-notify", b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: http://192.168.1.20:8008/ssdp/device-desc.xml\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Linux/3.8 UPnP/1.0\r\nUSN: uuid:1234::upnp:rootdevice\r\n\r\n")
    put("http_datagram", "ssdp-response-gzip", b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\nContent-Length: 5\r\nContent-Encoding: gzip\r\n\r\nhello")
    for c, s in tcp_streams(cap("http_chunked__suri.pcap"))[:1]:
        put("http_datagram", "request", c)
        put("http_datagram", "response", s)

    # TLS streams, both directions.
    for name in [
        "tls13_wolfssl__zeek.pcap",
        "tls_ja4__suri.pcap",
        "tls12_handshake_certs__zeek.pcap",
        "tls13_hello_retry_request__zeek.pcap",
        "tls_ja3_many_ciphers__ndpi.pcap",
        "tls_alpn_rawip__suri.pcap",
        "tls13_ech__zeek.pcap",
        "tls12_chrome34_google__zeek.pcap",
    ]:
        for c, s in tcp_streams(cap(name))[:1]:
            put("tls_record_stream", name.split("__")[0], c)
            put("tls_record_stream", name.split("__")[0], s)

    # QUIC: the first datagrams of a connection, each with a 2-byte length whose top bit
    # marks the server's (fuzz_targets/quic_datagrams.rs).
    for name, port in [
        ("quic_chromium_cirrus__zeek.pcap", 443),
        ("quic_v2_echo__zeek.pcap", 443),
        ("quic_ietf27_play_google__ndpi.pcap", 443),
        ("quic_ja4__suri.pcap", 443),
        ("keylog_quic_illustrated__iquic.pcap", 8400),
        ("quic_crypto_frag__suri.pcap", 443),
    ]:
        out = bytearray()
        for src, p in udp_payloads(cap(name), "udp")[:4]:
            n = min(len(p), 0x7FFF)
            out += struct.pack(">H", n | (0x8000 if src == port else 0)) + p[:n]
        put("quic_datagrams", name.split("__")[0], bytes(out))

    # Flow components take a small record language (crates/flow/src/fuzzing.rs); seeds
    # are the shapes a real connection takes.
    def seg(op, off, length):
        return bytes([op, off >> 8, off & 0xFF, length])

    put("flow_stream", "in-order", bytes([8, 8, 0, 1]) + b"".join(seg(0, o, 100) for o in range(0, 800, 100)) + seg(4, 800, 10))
    put("flow_stream", "reordered", bytes([16, 16, 0, 1]) + seg(0, 100, 100) + seg(0, 0, 100) + seg(0, 300, 50) + seg(0, 200, 100) + seg(4, 350, 0))
    put("flow_stream", "overlap", bytes([4, 4, 0xFF, 0xF0]) + seg(0, 0, 60) + seg(0, 30, 60) + seg(0x80, 40, 30) + seg(5, 200, 0) + seg(6, 210, 0))
    put("flow_stream", "syn-half", bytes([2, 2, 0, 0]) + seg(7, 0, 0) + seg(0x40, 0, 200) + seg(0, 200, 100) + seg(8, 300, 10))

    def frag(ident, off, length, flags):
        return bytes([ident, off >> 8, off & 0xFF, length, flags])

    put("flow_defrag", "in-order", frag(1, 0, 200, 1) + frag(1, 200, 200, 1) + frag(1, 400, 40, 0))
    put("flow_defrag", "reversed", frag(2, 400, 40, 0) + frag(2, 200, 200, 1) + frag(2, 0, 200, 1))
    put("flow_defrag", "overlap-expire", frag(3, 0, 100, 1) + frag(3, 50, 100, 3) + frag(4, 0, 8, 1) + frag(3, 150, 10, 4))

    detect_seeds()


if __name__ == "__main__":
    main()
