use super::*;

fn facts() -> ServiceFacts<'static> {
    ServiceFacts {
        proto: "tcp",
        server_port: 443,
        ..ServiceFacts::default()
    }
}

#[test]
fn bundled_rules_load_and_name_known_orgs() {
    let rules = Rules::from_toml(BUNDLED).expect("services.toml is valid");
    let orgs = crate::orgs::OrgDb::bundled();
    for s in &rules.services {
        if let Some(org) = &s.org {
            assert!(orgs.by_name(org).is_some(), "{}: unknown org {org}", s.name);
        }
    }
}

#[test]
fn names_pick_the_longest_suffix() {
    let cases: &[(&str, &str)] = &[
        ("szshort.weixin.qq.com", "WeChat"),
        ("res.wx.qq.com", "WeChat"),
        ("mail.qq.com", "QQ"),
        ("api.xmpush.xiaomi.com", "Xiaomi Push"),
        ("account.xiaomi.com", "Xiaomi Account"),
        ("data.mistat.xiaomi.com", "Xiaomi Analytics"),
        ("update.miui.com", "MIUI Update"),
        ("api.io.mi.com", "Xiaomi Cloud"),
        ("www.mi.com", "Xiaomi"),
        ("uts-front.line-apps.com", "LINE"),
        ("vcs-va.tiktokv.com", "TikTok"),
        ("aweme.snssdk.com", "Douyin"),
        ("mtalk.google.com", "Firebase Cloud Messaging"),
        ("app-measurement.com", "Firebase"),
        ("android.clients.google.com", "Google Play"),
        ("www.google.com", "Google"),
        ("courier.push.apple.com", "Apple Push"),
        ("mobilegw.alipay.com", "Alipay"),
        ("textsecure-service.whispersystems.org", "Signal"),
        ("g.whatsapp.net", "WhatsApp"),
        ("scontent-mxp1-1.cdninstagram.com", "Instagram"),
        ("graph.facebook.com", "Facebook"),
        ("id7.cloud.huawei.com", "Huawei HMS"),
        ("WEB.TELEGRAM.ORG.", "Telegram"),
    ];
    for &(sni, want) in cases {
        let f = ServiceFacts {
            sni: Some(sni),
            ..facts()
        };
        let got = identify(&f).map(|m| m.service);
        assert_eq!(got.as_deref(), Some(want), "{sni}");
    }
    let f = ServiceFacts {
        sni: Some("qq.com.example"),
        ..facts()
    };
    assert_eq!(identify(&f), None);
}

#[test]
fn the_sni_outranks_the_certificate() {
    let names = vec!["*.facebook.com".to_string(), "www.google.com".to_string()];
    let f = ServiceFacts {
        sni: Some("web.wechat.com"),
        cert_names: &names,
        ..facts()
    };
    assert_eq!(identify(&f).unwrap().service, "WeChat");
    let f = ServiceFacts {
        cert_names: &names,
        ..facts()
    };
    let hit = identify(&f).unwrap();
    // The first certificate name that matches wins; a wildcard is walked like any name.
    assert_eq!(hit.service, "Facebook");
    assert_eq!(
        hit.evidence,
        "certificate name *.facebook.com is under facebook.com"
    );
}

/// First bytes taken from the nDPI test captures named in each case.
#[test]
fn payload_rules_recognise_unnamed_flows() {
    // app_xiaomi: client to port 5222.
    let xiaomi = [0xc2, 0xfe, 0x00, 0x05, 0x00, 0x00, 0x00, 0xcd, 0x00, 0x02];
    // app_whatsapp: client to port 5222.
    let whatsapp = *b"ED\x00\x01";
    // app_alicloud: client to port 8999.
    let alicloud = [0xce, 0xfa, 0xbe, 0xba, 0x80, 0x00, 0x00, 0x00];
    // app_qq_oicq: UDP to port 8000.
    let oicq = [0x02, 0x3b, 0x0b, 0x00, 0x01, 0x00, 0x17, 0x03];
    let cases: &[(&str, u16, &[u8], &str)] = &[
        ("tcp", 5222, &xiaomi, "Xiaomi Push"),
        ("tcp", 5222, &whatsapp, "WhatsApp"),
        ("tcp", 8999, &alicloud, "Aliyun"),
        ("udp", 8000, &oicq, "QQ"),
    ];
    for &(proto, port, up, want) in cases {
        let f = ServiceFacts {
            proto,
            server_port: port,
            first_bytes_up: up,
            ..ServiceFacts::default()
        };
        assert_eq!(
            identify(&f).map(|m| m.service).as_deref(),
            Some(want),
            "{want}"
        );
    }
    // The same OICQ bytes on another port are not QQ.
    let f = ServiceFacts {
        proto: "udp",
        server_port: 9000,
        first_bytes_up: &oicq,
        ..ServiceFacts::default()
    };
    assert_eq!(identify(&f), None);
}

#[test]
fn network_rules_need_their_address_or_as() {
    let telegram = ServiceFacts {
        proto: "udp",
        server_port: 536,
        server_ip: "91.108.12.1".parse().ok(),
        ..ServiceFacts::default()
    };
    let hit = identify(&telegram).unwrap();
    assert_eq!(hit.service, "Telegram");
    assert!(hit.evidence.contains("Telegram's own prefixes"));
    let v6 = ServiceFacts {
        server_ip: "2001:67c:4e8:f004::9".parse().ok(),
        ..facts()
    };
    assert_eq!(identify(&v6).unwrap().service, "Telegram");

    let fcm = ServiceFacts {
        server_port: 5228,
        asn: Some(15169),
        ..facts()
    };
    assert_eq!(identify(&fcm).unwrap().service, "Firebase Cloud Messaging");
    let elsewhere = ServiceFacts {
        server_port: 5228,
        asn: Some(64_512),
        ..facts()
    };
    assert_eq!(identify(&elsewhere), None);

    // STUN binding request (RFC 8489 section 5: magic cookie at offset 4), from
    // app_whatsapp_login_call, to Meta's AS.
    let stun = [0x00, 0x01, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42, 0x00];
    let call = ServiceFacts {
        proto: "udp",
        server_port: 3478,
        asn: Some(32934),
        first_bytes_up: &stun,
        ..ServiceFacts::default()
    };
    assert_eq!(identify(&call).unwrap().service, "WhatsApp");
}

#[test]
fn short_or_odd_payloads_never_panic() {
    let rules = Rules::bundled();
    for len in 0..8 {
        let bytes = vec![0xc2; len];
        let f = ServiceFacts {
            proto: "udp",
            server_port: 3478,
            asn: Some(32934),
            first_bytes_up: &bytes,
            first_bytes_down: &bytes,
            sni: Some("é.ü"),
            ..ServiceFacts::default()
        };
        let _ = rules.identify(&f);
    }
}

#[test]
fn invalid_rules_are_rejected() {
    let cases: &[(&str, &str)] = &[
        (
            "[[service]]\nname='A'\n[[service.rule]]\nwhy='p'\nports=['tcp/1']",
            "port alone",
        ),
        (
            "[[service]]\nname='A'\n[[service.rule]]\nwhy='x'\nup_prefix='abc'",
            "odd",
        ),
        (
            "[[service]]\nname='A'\n[[service.rule]]\nwhy='x'\nup_prefix='zz'",
            "not hex",
        ),
        (
            "[[service]]\nname='A'\n[[service.rule]]\nwhy='x'\nip_prefixes=['1.2.3.4/33']",
            "CIDR",
        ),
        (
            "[[service]]\nname='A'\n[[service.rule]]\nwhy='x'\nasns=[1]\nports=['sctp/1']",
            "tcp/N",
        ),
        ("[[service]]\nname='A'\nhosts=['a.com', 'a.com']", "twice"),
        ("[[service]]\nname='A'\nhosts=['A.com']", "lower-case"),
        (
            "[[service]]\nname='A'\n[[service.rule]]\nwhy=''\nasns=[1]",
            "why",
        ),
    ];
    for &(text, want) in cases {
        let err = Rules::from_toml(text).expect_err(text).to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn prefixes_compare_only_their_bits() {
    let p = Prefix::parse("149.154.160.0/20").unwrap();
    assert!(p.contains("149.154.175.255".parse().unwrap()));
    assert!(!p.contains("149.154.176.0".parse().unwrap()));
    assert!(!p.contains("::1".parse().unwrap()));
    let all = Prefix::parse("0.0.0.0/0").unwrap();
    assert!(all.contains("8.8.8.8".parse().unwrap()));
}

#[test]
fn knows_service_names_in_any_case_and_nothing_else() {
    let rules = Rules::bundled();
    assert!(rules.knows("WeChat"));
    assert!(rules.knows("xiaomi analytics"));
    assert!(!rules.knows("WeChatt"));
    assert!(!rules.knows(""));
}
