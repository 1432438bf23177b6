use super::*;

/// Every problem of the bundled file at once, so that one run lists them all.
#[test]
fn bundled_file_is_valid() {
    let file: File = toml::from_str(BUNDLED).expect("orgs.toml parses");
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for org in &file.org {
        if let Err(p) = validate(org) {
            problems.push(format!("{}: {p}", org.name));
        }
        for d in org.domains.iter().chain(&org.hosts) {
            if let Some(other) = seen.insert(d, &org.name) {
                problems.push(format!("{d}: listed for {other} and {}", org.name));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let db = OrgDb::from_toml(BUNDLED).expect("orgs.toml is valid");
    assert!(db.orgs().len() >= 150, "{} organisations", db.orgs().len());
}

#[test]
fn lookup_finds_the_longest_listed_suffix() {
    let db = OrgDb::bundled();
    let cases: &[(&str, Option<(&str, &str)>)] = &[
        ("resolver.msg.xiaomi.net", Some(("Xiaomi", "xiaomi.net"))),
        ("API.IO.MI.COM.", Some(("Xiaomi", "mi.com"))),
        ("dns.weixin.qq.com", Some(("Tencent", "weixin.qq.com"))),
        ("mail.qq.com", Some(("Tencent", "qq.com"))),
        (
            "api16-normal-c-useast1a.tiktokv.com",
            Some(("TikTok", "tiktokv.com")),
        ),
        (
            "d1234.cloudfront.net",
            Some(("Amazon CloudFront", "cloudfront.net")),
        ),
        ("umeng.com", Some(("Umeng", "umeng.com"))),
        (
            "legacy.line-apps.com",
            Some(("LY Corporation", "line-apps.com")),
        ),
        ("example.invalid", None),
        ("qq.com.evil.example", None),
        ("xqq.com", None),
        ("203.0.113.7", None),
        ("", None),
    ];
    for &(host, want) in cases {
        let got = db
            .lookup(host)
            .map(|m| (m.org.name.as_str(), m.matched_domain));
        assert_eq!(got, want, "{host}");
    }
}

#[test]
fn parents_carry_their_own_country() {
    let db = OrgDb::bundled();
    let tiktok = db.lookup("www.tiktok.com").unwrap().org;
    assert_eq!(tiktok.country, "SG");
    assert_eq!(tiktok.parent.as_deref(), Some("ByteDance"));
    assert_eq!(tiktok.parent_country.as_deref(), Some("CN"));
    assert_eq!(
        db.lookup("alog.umeng.com").unwrap().org.parent.as_deref(),
        Some("Alibaba")
    );
}

#[test]
fn attribution_falls_back_from_domain_to_cert_to_asn() {
    let db = OrgDb::bundled();
    let a = db.attribute(&Clues {
        host: Some("graph.facebook.com"),
        cert_org: Some("Somebody Else"),
        asn: Some(13335),
        ..Clues::default()
    });
    assert_eq!(
        (a.org, a.org_country, a.source),
        (Some("Meta"), Some("US"), Source::Domain)
    );
    assert!(a.cdn, "AS13335 is Cloudflare's edge");

    let a = db.attribute(&Clues {
        host: Some("unknown.example"),
        cert_org: Some("Beijing Xiaomi Mobile Software Co., Ltd"),
        ..Clues::default()
    });
    assert_eq!(
        (a.org, a.org_country, a.source),
        (Some("Xiaomi"), Some("CN"), Source::Cert)
    );

    let a = db.attribute(&Clues {
        cert_org: Some("Acme Widgets GmbH"),
        asn: Some(15169),
        ..Clues::default()
    });
    assert_eq!(
        (a.org, a.org_country, a.source),
        (Some("Acme Widgets GmbH"), None, Source::Cert)
    );

    let a = db.attribute(&Clues {
        service_org: Some("Xiaomi"),
        asn: Some(16509),
        ..Clues::default()
    });
    assert_eq!(
        (a.org, a.org_country, a.source),
        (Some("Xiaomi"), Some("CN"), Source::Service)
    );

    let a = db.attribute(&Clues {
        asn: Some(45090),
        as_org: Some("Shenzhen Tencent Computer Systems Company Limited"),
        ..Clues::default()
    });
    assert_eq!(
        (a.org, a.org_country, a.source),
        (Some("Tencent"), Some("CN"), Source::Asn)
    );
    assert!(!a.cdn);

    let a = db.attribute(&Clues {
        asn: Some(64_512),
        as_org: Some("Private Network Co"),
        ..Clues::default()
    });
    assert_eq!(
        (a.org, a.org_country, a.source),
        (Some("Private Network Co"), None, Source::Asn)
    );

    let a = db.attribute(&Clues::default());
    assert_eq!((a.org, a.source), (None, Source::None));
}

#[test]
fn cdn_names_and_networks_are_marked() {
    let db = OrgDb::bundled();
    for asn in [20940, 16625, 13335, 54113] {
        assert!(db.is_cdn_asn(asn), "AS{asn}");
    }
    // AWS as a whole is not a CDN; CloudFront is recognised by its names.
    assert!(!db.is_cdn_asn(16509));
    let a = db.attribute(&Clues {
        host: Some("d1.cloudfront.net"),
        asn: Some(16509),
        ..Clues::default()
    });
    assert!(a.cdn);
}

#[test]
fn invalid_files_are_rejected_with_the_reason() {
    let cases: &[(&str, &str)] = &[
        (
            "[[org]]\nname='A'\ncountry='ZZ'\ncategories=['cloud']\ndomains=['a.com']",
            "ZZ",
        ),
        (
            "[[org]]\nname='A'\ncountry='US'\ncategories=[]\ndomains=['a.com']",
            "no category",
        ),
        (
            "[[org]]\nname='A'\ncountry='US'\ncategories=['nope']\ndomains=['a.com']",
            "nope",
        ),
        (
            "[[org]]\nname='A'\ncountry='US'\ncategories=['cloud']\ndomains=['www.a.com']",
            "registrable",
        ),
        (
            "[[org]]\nname='A'\ncountry='US'\ncategories=['cloud']\ndomains=['com.cn']",
            "registrable",
        ),
        (
            "[[org]]\nname='A'\ncountry='US'\ncategories=['cloud']\nhosts=['a.com']",
            "longer",
        ),
        (
            "[[org]]\nname='A'\ncountry='US'\ncategories=['cloud']\ndomains=['a.com']\n\
             [[org]]\nname='B'\ncountry='US'\ncategories=['cloud']\ndomains=['a.com']",
            "also listed",
        ),
        (
            "[[org]]\nname='A'\ncountry='US'\nparent='P'\ncategories=['cloud']\ndomains=['a.com']",
            "parent",
        ),
        (
            "[[org]]\nname='A'\ncountry='US'\ncategories=['cloud']\ndomains=['a.com']\nwho='x'",
            "who",
        ),
    ];
    for &(text, want) in cases {
        let err = OrgDb::from_toml(text).expect_err(text).to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn name_keys_ignore_company_forms() {
    assert_eq!(name_key("Google LLC"), name_key("google, llc."));
    assert_eq!(name_key("Apple Inc."), "apple");
    assert_eq!(
        name_key("Beijing Xiaomi Mobile Software Co., Ltd"),
        "beijing xiaomi mobile software"
    );
}
