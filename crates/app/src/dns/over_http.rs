//! DNS carried in HTTP, which names servers as plain DNS does and which a resolver on the wire
//! never sees:
//! - DNS over HTTPS in wire format (RFC 8484 section 4.1): a GET with the query in the `dns`
//!   parameter (base64url, no padding) or a POST of `application/dns-message`; the answer is
//!   an `application/dns-message` body;
//! - the JSON form Google and Cloudflare answer (`GET /resolve?name=...&type=...`, Accept
//!   `application/dns-json`): `{"Status":0,"Question":[...],"Answer":[{"name":...,"type":1,
//!   "TTL":...,"data":"..."}]}`;
//! - the HTTPDNS services apps call by address to bypass the phone's resolver (often in plain
//!   HTTP): Alibaba Cloud's `/{account}/d?host=...` and `/resolve?host=a,b` (JSON with `host`,
//!   `ips`, `ipsv6`, `ttl`, or a `dns` list of those; the newer form `data.answers[].dn` with
//!   `v4.ips` and `v6.ips`), and Tencent DNSPod's `/d?dn=...`, answered in plain text
//!   `1.2.3.4;5.6.7.8[,ttl]`, one `name.:addresses` line per name when several were asked.
//!
//! Each request and answer becomes a [`Message`], so that later stages treat it as any other
//! DNS message: its answers name the addresses the device connects to next. Encrypted
//! HTTPDNS requests (DNSPod's DES or AES `dn`, Alibaba's signed bodies) are not DNS to anyone
//! without the app's key and are left alone.

use std::net::IpAddr;

use base64::Engine as _;

use super::{parse, Message, Question, RData, Record, RrType};

/// How the DNS message travelled in HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// RFC 8484 wire format.
    Wire,
    /// The JSON API of public resolvers.
    Json,
    /// A vendor's HTTPDNS API.
    HttpDns,
}

impl Form {
    /// The stable report spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Wire => "doh",
            Self::Json => "doh-json",
            Self::HttpDns => "httpdns",
        }
    }
}

/// A DNS message read out of an HTTP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub form: Form,
    pub message: Message,
}

/// Bodies larger than this are not read as DNS (a DNS message is at most 64 KiB; JSON answers
/// are a few KiB).
const MAX_BODY: usize = 256 * 1024;
/// Names asked in one HTTPDNS request (Alibaba's batch API takes up to 5; DNSPod 8).
const MAX_NAMES: usize = 32;
/// Addresses kept per name in one answer.
const MAX_ADDRESSES: usize = 64;

/// The DNS query an HTTP request makes, if it is one. `target` is the request target (path
/// and query), `content_type` the request's own.
pub fn request(
    method: &str,
    target: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Option<Carried> {
    if method.eq_ignore_ascii_case("POST") && media_type_is(content_type, "application/dns-message")
    {
        return wire(body, false);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params = Params(query);
    if let Some(dns) = params.get("dns") {
        let raw = dns.trim_end_matches('=');
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .ok()?;
        return wire(&bytes, false);
    }
    let last = path.rsplit('/').next().unwrap_or("");
    let (form, names, qtype) = match last {
        "resolve" | "dns-query" if params.get("name").is_some() => (
            Form::Json,
            params.get("name").map(|n| vec![n]).unwrap_or_default(),
            params.get("type").and_then(|t| qtype_param(&t)),
        ),
        "d" | "resolve" | "sign_d" | "sign_resolve" => {
            let list = params.get("host").or_else(|| params.get("dn"))?;
            let qtype = match params.get("query").as_deref() {
                Some("6") => Some(RrType::AAAA),
                _ => params.get("type").and_then(|t| qtype_param(&t)),
            };
            (
                Form::HttpDns,
                list.split(',')
                    .map(str::to_string)
                    .take(MAX_NAMES)
                    .collect(),
                qtype,
            )
        }
        _ => return None,
    };
    let qtype = qtype.unwrap_or(RrType::A);
    let questions: Vec<Question> = names
        .iter()
        .filter_map(|n| hostname(n))
        .map(|name| Question {
            name,
            qtype,
            qclass: 1,
        })
        .collect();
    // Every name must be one: an encrypted `dn` (hex of ciphertext) is no name.
    if questions.is_empty() || questions.len() != names.len() {
        return None;
    }
    Some(Carried {
        form,
        message: synthetic(false, questions, Vec::new(), 0),
    })
}

/// The DNS answer an HTTP response carries. `asked` is what the matching request asked, when
/// it was DNS: plain-text HTTPDNS answers name nothing themselves, and JSON bodies are read
/// only as the answer to a DNS request or under a DNS media type.
pub fn response(
    content_type: Option<&str>,
    body: &[u8],
    asked: Option<&Carried>,
) -> Option<Carried> {
    if body.is_empty() || body.len() > MAX_BODY {
        return None;
    }
    if media_type_is(content_type, "application/dns-message")
        || asked.is_some_and(|a| a.form == Form::Wire)
    {
        return wire(body, true);
    }
    let json_type = media_type_is(content_type, "application/dns-json");
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'{') && (json_type || asked.is_some()) {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        return json_answer(&value);
    }
    let asked = asked.filter(|a| a.form == Form::HttpDns)?;
    plain_answer(std::str::from_utf8(body).ok()?, &asked.message.questions)
}

fn wire(bytes: &[u8], response: bool) -> Option<Carried> {
    let message = parse(bytes).ok()?;
    (message.response == response && !message.questions.is_empty()).then_some(Carried {
        form: Form::Wire,
        message,
    })
}

/// Google's and Cloudflare's JSON, or Alibaba's HTTPDNS JSON.
fn json_answer(v: &serde_json::Value) -> Option<Carried> {
    if let Some(status) = v.get("Status").and_then(serde_json::Value::as_u64) {
        return resolver_json(v, status);
    }
    let mut questions = Vec::new();
    let mut answers = Vec::new();
    let entries: Vec<&serde_json::Value> =
        if let Some(list) = v.get("dns").and_then(|d| d.as_array()) {
            list.iter().collect()
        } else if let Some(list) = v.pointer("/data/answers").and_then(|d| d.as_array()) {
            list.iter().collect()
        } else {
            vec![v]
        };
    for e in entries.into_iter().take(MAX_NAMES) {
        let Some(name) = ["host", "dn"]
            .iter()
            .find_map(|k| e.get(*k).and_then(|n| n.as_str()))
            .and_then(hostname)
        else {
            continue;
        };
        let ttl = e.get("ttl").and_then(as_ttl).unwrap_or(0);
        let lists = [
            (e.get("ips"), ttl),
            (e.get("ipsv6"), ttl),
            (
                e.pointer("/v4/ips"),
                e.pointer("/v4/ttl").and_then(as_ttl).unwrap_or(ttl),
            ),
            (
                e.pointer("/v6/ips"),
                e.pointer("/v6/ttl").and_then(as_ttl).unwrap_or(ttl),
            ),
        ];
        for (list, ttl) in lists {
            let addresses = list
                .and_then(|l| l.as_array())
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str()?.trim().parse::<IpAddr>().ok());
            for address in addresses.take(MAX_ADDRESSES) {
                answers.push(address_record(&name, address, ttl));
            }
        }
        questions.push(Question {
            name,
            qtype: RrType::A,
            qclass: 1,
        });
    }
    (!questions.is_empty()).then(|| Carried {
        form: Form::HttpDns,
        message: synthetic(true, questions, answers, 0),
    })
}

/// `{"Status":0,"Question":[{"name":"example.com.","type":1}],"Answer":[...]}`.
fn resolver_json(v: &serde_json::Value, status: u64) -> Option<Carried> {
    let items = |key: &str| {
        v.get(key)
            .and_then(|q| q.as_array())
            .map(|a| a.iter().take(MAX_ADDRESSES * MAX_NAMES).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let questions: Vec<Question> = items("Question")
        .into_iter()
        .filter_map(|q| {
            Some(Question {
                name: hostname(q.get("name")?.as_str()?)?,
                qtype: RrType(u16::try_from(q.get("type")?.as_u64()?).ok()?),
                qclass: 1,
            })
        })
        .collect();
    if questions.is_empty() {
        return None;
    }
    let answers = items("Answer")
        .into_iter()
        .filter_map(|a| {
            let name = hostname(a.get("name")?.as_str()?)?;
            let rtype = RrType(u16::try_from(a.get("type")?.as_u64()?).ok()?);
            let ttl = a.get("TTL").and_then(as_ttl).unwrap_or(0);
            let data = a.get("data")?.as_str()?.trim();
            let data = match rtype {
                RrType::A | RrType::AAAA => match data.parse::<IpAddr>().ok()? {
                    IpAddr::V4(x) if rtype == RrType::A => RData::A(x),
                    IpAddr::V6(x) if rtype == RrType::AAAA => RData::Aaaa(x),
                    _ => return None,
                },
                RrType::CNAME => RData::Cname(hostname(data)?),
                _ => RData::Other { len: data.len() },
            };
            Some(Record {
                name,
                rtype,
                class: 1,
                ttl,
                data,
            })
        })
        .collect();
    let rcode = u16::try_from(status).unwrap_or(u16::MAX);
    Some(Carried {
        form: Form::Json,
        message: synthetic(true, questions, answers, rcode),
    })
}

/// DNSPod's plain text: `1.2.3.4;5.6.7.8` (`,ttl` appended when asked for), or with several
/// names one line each, `name.:1.2.3.4;5.6.7.8,ttl`. `0` stands for "no address".
fn plain_answer(text: &str, asked: &[Question]) -> Option<Carried> {
    let mut answers = Vec::new();
    let mut named: Vec<Question> = Vec::new();
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if i >= MAX_NAMES {
            break;
        }
        let (name, rest) = match line.split_once(".:") {
            Some((n, rest)) => (hostname(n)?, rest),
            None => (asked.get(i)?.name.clone(), line),
        };
        let (list, ttl) = match rest.rsplit_once(',') {
            Some((list, ttl)) => (list, ttl.trim().parse::<u32>().ok()?),
            None => (rest, 0),
        };
        for a in list
            .split(';')
            .map(str::trim)
            .filter(|a| *a != "0" && !a.is_empty())
        {
            let address = a.parse::<IpAddr>().ok()?;
            if answers.len() < MAX_ADDRESSES * MAX_NAMES {
                answers.push(address_record(&name, address, ttl));
            }
        }
        let qtype = asked
            .iter()
            .find(|q| q.name == name)
            .map_or(RrType::A, |q| q.qtype);
        named.push(Question {
            name,
            qtype,
            qclass: 1,
        });
    }
    (!named.is_empty()).then(|| Carried {
        form: Form::HttpDns,
        message: synthetic(true, named, answers, 0),
    })
}

fn address_record(name: &str, address: IpAddr, ttl: u32) -> Record {
    let (rtype, data) = match address {
        IpAddr::V4(a) => (RrType::A, RData::A(a)),
        IpAddr::V6(a) => (RrType::AAAA, RData::Aaaa(a)),
    };
    Record {
        name: name.to_string(),
        rtype,
        class: 1,
        ttl,
        data,
    }
}

fn synthetic(
    response: bool,
    questions: Vec<Question>,
    answers: Vec<Record>,
    rcode: u16,
) -> Message {
    Message {
        response,
        rcode,
        question_count: u16::try_from(questions.len()).unwrap_or(u16::MAX),
        answer_count: u16::try_from(answers.len()).unwrap_or(u16::MAX),
        questions,
        answers,
        ..Message::default()
    }
}

fn as_ttl(v: &serde_json::Value) -> Option<u32> {
    u32::try_from(v.as_u64()?).ok()
}

/// A query's `type`: a number or a mnemonic (`A`, `AAAA`, `CNAME`, `HTTPS`, ...).
fn qtype_param(t: &str) -> Option<RrType> {
    if let Ok(n) = t.parse::<u16>() {
        return Some(RrType(n));
    }
    (1..=u16::from(u8::MAX))
        .chain([RrType::CAA.0])
        .map(RrType)
        .find(|r| r.name().eq_ignore_ascii_case(t))
}

/// `name` as a DNS name without its final dot, if it is a host name (letters, digits,
/// hyphens and underscores in dot-separated labels of at most 63, two labels at least, at
/// most 253 in all).
fn hostname(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches('.');
    let ok = name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && name.bytes().any(|b| b.is_ascii_alphabetic());
    ok.then(|| name.to_string())
}

fn media_type_is(content_type: Option<&str>, want: &str) -> bool {
    content_type.is_some_and(|c| {
        c.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case(want))
    })
}

/// The parameters of a query string, percent-decoded (`+` is a space), looked up by name.
struct Params<'a>(&'a str);

impl Params<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.0.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == key).then(|| percent_decode(v))
        })
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// example.com/A as a query (RFC 8484 section 4.1.1's example, id 0).
    const QUERY: &[u8] =
        b"\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01";

    fn answer() -> Vec<u8> {
        let mut m = QUERY.to_vec();
        m[2] = 0x81;
        m[3] = 0x80;
        m[7] = 1;
        m.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x5d\xb8\xd7\x0e");
        m
    }

    fn addresses(c: &Carried) -> Vec<(String, String)> {
        c.message
            .answers
            .iter()
            .map(|a| (a.name.clone(), a.data.to_text()))
            .collect()
    }

    #[test]
    fn rfc8484_get_and_post_and_the_answer() {
        // The RFC's own GET example.
        let get = request(
            "GET",
            "/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB",
            None,
            b"",
        )
        .unwrap();
        assert_eq!(get.form, Form::Wire);
        assert_eq!(get.message.questions[0].name, "www.example.com");
        assert!(!get.message.response);
        let post = request("POST", "/dns-query", Some("application/dns-message"), QUERY).unwrap();
        assert_eq!(post.message, get.message);
        // A POST of anything else, and a GET whose `dns` is no DNS query, are not DNS.
        assert!(request("POST", "/dns-query", Some("application/json"), QUERY).is_none());
        assert!(request("GET", "/x?dns=aGVsbG8", None, b"").is_none());
        let a = response(Some("application/dns-message"), &answer(), None).unwrap();
        assert!(a.message.response);
        assert_eq!(
            addresses(&a),
            [("www.example.com".into(), "93.184.215.14".into())]
        );
        // The answer to a wire-format request is read whatever its media type says.
        assert!(response(Some("application/octet-stream"), &answer(), Some(&get)).is_some());
        // A query is no answer.
        assert!(response(Some("application/dns-message"), QUERY, None).is_none());
    }

    #[test]
    fn the_json_api_of_public_resolvers() {
        let q = request("GET", "/resolve?name=example.com&type=AAAA", None, b"").unwrap();
        assert_eq!(q.form, Form::Json);
        assert_eq!(q.message.questions[0].qtype, RrType::AAAA);
        let body = br#"{"Status":0,"TC":false,"Question":[{"name":"www.example.com.","type":1}],
            "Answer":[{"name":"www.example.com.","type":5,"TTL":300,"data":"edge.example.net."},
                      {"name":"edge.example.net.","type":1,"TTL":20,"data":"93.184.215.14"}]}"#;
        let a = response(Some("application/dns-json"), body, None).unwrap();
        assert_eq!(a.form, Form::Json);
        assert_eq!(a.message.questions[0].name, "www.example.com");
        assert_eq!(
            addresses(&a),
            [
                ("www.example.com".into(), "edge.example.net.".into()),
                ("edge.example.net".into(), "93.184.215.14".into())
            ]
        );
        let nx = br#"{"Status":3,"Question":[{"name":"nx.example.","type":1}]}"#;
        assert_eq!(response(None, nx, Some(&q)).unwrap().message.rcode, 3);
        // JSON that answers no DNS request and comes under no DNS media type is not read.
        assert!(response(Some("application/json"), body, None).is_none());
    }

    #[test]
    fn alibaba_httpdns_single_batch_and_v2() {
        let q = request(
            "GET",
            "/100000/d?host=api.example.cn&ip=10.0.0.1",
            None,
            b"",
        )
        .unwrap();
        assert_eq!(q.form, Form::HttpDns);
        let single = br#"{"host":"api.example.cn","ips":["47.1.2.3","47.1.2.4"],"ipsv6":["2408:4000::1"],"ttl":60,"origin_ttl":600}"#;
        let a = response(Some("application/json"), single, Some(&q)).unwrap();
        assert_eq!(
            addresses(&a),
            [
                ("api.example.cn".into(), "47.1.2.3".into()),
                ("api.example.cn".into(), "47.1.2.4".into()),
                ("api.example.cn".into(), "2408:4000::1".into())
            ]
        );
        let batch_q = request(
            "GET",
            "/100000/resolve?host=a.example.cn,b.example.cn&query=4",
            None,
            b"",
        )
        .unwrap();
        assert_eq!(batch_q.message.questions.len(), 2);
        let batch = br#"{"dns":[{"host":"a.example.cn","ips":["1.1.1.10"],"ttl":30,"type":1},{"host":"b.example.cn","ips":[],"ttl":30}]}"#;
        let a = response(None, batch, Some(&batch_q)).unwrap();
        assert_eq!(a.message.questions.len(), 2);
        assert_eq!(addresses(&a), [("a.example.cn".into(), "1.1.1.10".into())]);
        let v2 = br#"{"code":"success","data":{"cip":"1.2.3.4","answers":[{"dn":"c.example.cn","v4":{"ips":["180.101.1.1"],"ttl":60},"v6":{"ips":["2400:3200::1"],"ttl":60}}]}}"#;
        let a = response(None, v2, Some(&q)).unwrap();
        assert_eq!(addresses(&a).len(), 2);
    }

    #[test]
    fn dnspod_plain_text_is_read_against_the_names_asked() {
        let q = request("GET", "/d?dn=www.example.com&ttl=1", None, b"").unwrap();
        let a = response(Some("text/html"), b"1.2.3.4;5.6.7.8,120", Some(&q)).unwrap();
        assert_eq!(
            addresses(&a),
            [
                ("www.example.com".into(), "1.2.3.4".into()),
                ("www.example.com".into(), "5.6.7.8".into())
            ]
        );
        assert_eq!(a.message.answers[0].ttl, 120);
        let two = request("GET", "/d?dn=a.example.com,b.example.com", None, b"").unwrap();
        let a = response(
            None,
            b"a.example.com.:1.2.3.4\nb.example.com.:0",
            Some(&two),
        )
        .unwrap();
        assert_eq!(a.message.questions.len(), 2);
        assert_eq!(addresses(&a), [("a.example.com".into(), "1.2.3.4".into())]);
        // Without the request, plain text names nothing.
        assert!(response(None, b"1.2.3.4", None).is_none());
        // An encrypted `dn` is no name; nor is an ordinary `/d` page.
        assert!(request("GET", "/d?dn=8e1c7ab3f0c9d2e1&id=12&alg=des", None, b"").is_none());
        assert!(request("GET", "/d", None, b"").is_none());
        assert!(request("GET", "/search?host=example.com", None, b"").is_none());
        // Garbage after a name is not an answer.
        assert!(response(None, b"<html>oops</html>", Some(&q)).is_none());
    }

    #[test]
    fn hostile_input_is_bounded() {
        let many: String = (0..100).map(|i| format!("h{i}.example.com,")).collect();
        let q = request(
            "GET",
            &format!("/resolve?host={}", many.trim_end_matches(',')),
            None,
            b"",
        )
        .unwrap();
        assert_eq!(q.message.questions.len(), MAX_NAMES);
        assert!(response(None, &vec![b'{'; MAX_BODY + 1], Some(&q)).is_none());
        assert_eq!(percent_decode("a%2Cb%zz%4"), "a,b%zz%4");
        assert!(request("GET", "/q?dns=%%%", None, b"").is_none());
    }
}
