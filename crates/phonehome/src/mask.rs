//! Profile values never appear in a report unless asked for (`--show-values`).
//!
//! A report is published; the values seeded on the test phone (its IMEI, the lab's phone
//! number, a contact's name) are exactly what it must not spread. Every text field a value can
//! travel into (URIs, DNS names, HTTP headers and bodies, server names, excerpts) goes through
//! the same automaton that found the values, and each occurrence, in any of its encodings, is
//! replaced by its data type in brackets: `/t?imei=[imei]`.

use phonehome_detect::scanner::Hit;
use phonehome_report as report;

use crate::Detection;

impl Detection {
    /// `text` with every occurrence of a profile value replaced by `[data_type]`, or `None`
    /// when it holds none.
    pub fn mask(&self, text: &str) -> Option<String> {
        let mut hits = self.find(text.as_bytes());
        if hits.is_empty() {
            return None;
        }
        Some(self.replace(text.as_bytes(), &mut hits))
    }

    /// Every hit of a profile value in `bytes`, as one search.
    pub(crate) fn find(&self, bytes: &[u8]) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.find_into(bytes, &mut hits);
        hits
    }

    /// Appends to `hits` every hit of a profile value in `bytes`, searched as one whole buffer.
    pub(crate) fn find_into(&self, bytes: &[u8], hits: &mut Vec<Hit>) {
        if bytes.is_empty() {
            return;
        }
        // A profile whose automaton failed to compile ends the audit with that error.
        if let Ok(scanner) = self.scanner() {
            scanner.scan(&[bytes], hits);
        }
    }

    /// `bytes` with the ranges of `hits` replaced by `[data_type]`; overlapping hits merge.
    pub(crate) fn replace(&self, bytes: &[u8], hits: &mut [Hit]) -> String {
        hits.sort_by_key(|h| (h.offset, std::cmp::Reverse(h.len)));
        let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
        let mut at = 0usize;
        for hit in hits.iter() {
            let start = usize::try_from(hit.offset).unwrap_or(usize::MAX);
            let end = start.saturating_add(hit.len as usize).min(bytes.len());
            if start < at || start >= bytes.len() {
                // Inside a range already masked: extend it if this one reaches further.
                at = at.max(end);
                continue;
            }
            out.extend_from_slice(&bytes[at..start]);
            let kind = self
                .variants
                .get(hit.variant)
                .map_or("value", |v| v.data_type.as_str());
            out.extend_from_slice(format!("[{kind}]").as_bytes());
            at = end;
        }
        if at < bytes.len() {
            out.extend_from_slice(&bytes[at..]);
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn mask_in(d: &Detection, s: &mut String) {
    if let Some(masked) = d.mask(s) {
        *s = masked;
    }
}

fn mask_opt(d: &Detection, s: &mut Option<String>) {
    if let Some(s) = s {
        mask_in(d, s);
    }
}

/// Masks the profile's values everywhere in the report they can appear.
pub(crate) fn mask_report(report: &mut report::Report, d: &Detection) {
    for flow in &mut report.flows {
        mask_opt(d, &mut flow.server_name);
        flow.name_conflicts.iter_mut().for_each(|n| mask_in(d, n));
        if let Some(tls) = &mut flow.tls {
            mask_opt(d, &mut tls.sni);
            mask_opt(d, &mut tls.cert_subject);
            tls.cert_sans.iter_mut().for_each(|n| mask_in(d, n));
        }
        if let Some(quic) = &mut flow.quic {
            mask_opt(d, &mut quic.sni);
        }
        mask_opt(d, &mut flow.app);
    }
    for dns in &mut report.dns {
        mask_opt(d, &mut dns.query);
        dns.questions.iter_mut().for_each(|n| mask_in(d, n));
        for answer in &mut dns.answers {
            mask_in(d, &mut answer.name);
            mask_in(d, &mut answer.data);
        }
    }
    for http in &mut report.http {
        mask_opt(d, &mut http.host);
        mask_opt(d, &mut http.uri);
        mask_opt(d, &mut http.user_agent);
        if http.body_encoding.is_none() {
            mask_opt(d, &mut http.body);
        } else if http.body.is_some() {
            // A binary body (base64 in the report) may hold a value in any form: it is kept
            // out rather than shown half-masked.
            http.body = Some("[binary body withheld: may hold profile values]".into());
            http.body_encoding = None;
        }
    }
    for dest in &mut report.destinations {
        mask_in(d, &mut dest.name);
    }
    for finding in &mut report.findings {
        mask_opt(d, &mut finding.server_name);
        mask_opt(d, &mut finding.excerpt);
        mask_in(d, &mut finding.message);
    }
    for spot in &mut report.blind_spots {
        mask_in(d, &mut spot.detail);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use phonehome_detect::profile::Profile;

    pub(crate) fn detection() -> Detection {
        let (p, _) = Profile::parse(
            "[identifiers]\nimei = \"356938035643809\"\nphone = \"+886 912 345 678\"\n",
            "t.toml",
        )
        .unwrap();
        Detection::new(&p)
    }

    #[test]
    fn values_in_any_form_are_masked() {
        let d = detection();
        assert_eq!(
            d.mask("/t?imei=356938035643809&x=1").unwrap(),
            "/t?imei=[imei]&x=1"
        );
        assert_eq!(d.mask("tel=%2B886912345678").unwrap(), "tel=[phone]");
        assert_eq!(d.mask("nothing here"), None);
    }

    #[test]
    fn a_report_keeps_no_value() {
        let d = detection();
        let mut r = report::Report {
            schema: report::SCHEMA,
            run: report::Run::default(),
            inputs: Vec::new(),
            flows: Vec::new(),
            dns: vec![report::Dns {
                ts: String::new(),
                flow: 1,
                input: 0,
                frame: 1,
                response: false,
                id: 1,
                query: Some("356938035643809.t.example".into()),
                questions: vec!["356938035643809.t.example".into()],
                qtype: None,
                rcode: None,
                answers: Vec::new(),
                transport: None,
            }],
            http: Vec::new(),
            destinations: Vec::new(),
            findings: Vec::new(),
            blind_spots: Vec::new(),
            stats: report::Stats::default(),
            keylogs: Vec::new(),
            verdict: report::Verdict::default(),
        };
        mask_report(&mut r, &d);
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("356938035643809"), "{json}");
        assert!(json.contains("[imei].t.example"));
    }
}
