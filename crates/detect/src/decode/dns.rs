//! Layers "dns-hex", "dns-base32", "dns-base64url": data carried in DNS query names.
//!
//! SDKs and tunnels (iodine, dnscat2, DNS-based telemetry) put data in the labels left of a
//! domain they control: `<encoded>.<encoded>.t.example.com`. Every label except the last two
//! (the registrable part, kept simple: no public-suffix lookup) is decoded as hex, base32 (RFC
//! 4648 section 6, unpadded), base32hex (section 7) and base64url (section 5), and so is each
//! concatenation of the first two, three... of those labels, since tunnels cut one encoded
//! string into labels of at most 63 bytes and may add a fixed label before the domain. A name
//! has at most 255 bytes, so this is a few hundred small decodes at worst.
//! Resolvers may randomise the letter case of a query (the "0x20" defence), so hex and base32
//! are decoded ignoring case; base64url cannot be. Only decodes that succeed in full, with
//! zero padding bits, are views.

use std::sync::LazyLock;

use data_encoding::{
    Encoding, Specification, BASE32_NOPAD_NOCASE, BASE64URL_NOPAD, HEXLOWER_PERMISSIVE,
};

use super::{Expander, Hint, Visit, MIN_VIEW};

/// Labels looked at in one name; a DNS name has at most 127.
const MAX_LABELS: usize = 127;
/// Bytes of a name looked at: 255 on the wire, room for escapes in presentation form.
const MAX_NAME: usize = 1024;

/// base32hex without padding, decoded ignoring case (data-encoding has no constant for it).
static BASE32HEX_NOCASE: LazyLock<Option<Encoding>> = LazyLock::new(|| {
    let mut spec = Specification::new();
    spec.symbols.push_str("0123456789ABCDEFGHIJKLMNOPQRSTUV");
    spec.translate.from.push_str("abcdefghijklmnopqrstuv");
    spec.translate.to.push_str("ABCDEFGHIJKLMNOPQRSTUV");
    spec.encoding().ok()
});

/// Decodes all of `text` onto an empty `out`; false (and `out` empty) unless it is valid.
fn decode(enc: &Encoding, text: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let Ok(n) = enc.decode_len(text.len()) else {
        return false;
    };
    out.resize(n, 0);
    match enc.decode_mut(text, out) {
        Ok(w) => {
            out.truncate(w);
            true
        }
        Err(_) => {
            out.clear();
            false
        }
    }
}

impl Expander {
    pub(super) fn dns(&mut self, input: &[u8], depth: usize, visit: Visit<'_>) {
        let name = input.strip_suffix(b".").unwrap_or(input);
        let name = name.get(..name.len().min(MAX_NAME)).unwrap_or(name);
        let total = name.split(|&b| b == b'.').take(MAX_LABELS).count();
        let inner = total.saturating_sub(2);
        if inner == 0 {
            return;
        }
        let mut buf = self.take(depth, 0);
        let mut joined = self.take(depth, 1);
        for label in name.split(|&b| b == b'.').take(inner) {
            self.dns_text(label, &mut buf, input, depth, visit);
        }
        for (k, label) in name.split(|&b| b == b'.').take(inner).enumerate() {
            joined.extend_from_slice(label);
            if k > 0 {
                self.dns_text(&joined, &mut buf, input, depth, visit);
            }
        }
        self.put(depth, 0, buf);
        self.put(depth, 1, joined);
    }

    fn dns_text(
        &mut self,
        text: &[u8],
        buf: &mut Vec<u8>,
        input: &[u8],
        depth: usize,
        visit: Visit<'_>,
    ) {
        let b32hex = BASE32HEX_NOCASE.as_ref();
        let tries: [(&'static str, Option<&Encoding>); 4] = [
            ("dns-hex", Some(&HEXLOWER_PERMISSIVE)),
            ("dns-base32", Some(&BASE32_NOPAD_NOCASE)),
            ("dns-base32", b32hex),
            ("dns-base64url", Some(&BASE64URL_NOPAD)),
        ];
        for (name, enc) in tries {
            let Some(enc) = enc else { continue };
            if self.stop {
                return;
            }
            // Every encoding here is at least as long as its data.
            if text.len() < MIN_VIEW || !decode(enc, text, buf) {
                continue;
            }
            self.emit(&[name], buf, input, Hint::Payload, depth, visit);
        }
    }
}

#[cfg(test)]
mod tests {
    use data_encoding::{BASE32HEX_NOPAD, BASE32_NOPAD};

    use super::super::tests::expand;
    use super::*;

    const IMEI: &[u8] = b"356938035643809";

    fn random_case(s: &str) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 3 == 0 {
                    c.to_ascii_lowercase()
                } else {
                    c
                }
            })
            .collect()
    }

    #[test]
    fn hex_label_any_case() {
        let label = random_case(
            &HEXLOWER_PERMISSIVE
                .encode(b"\xde\xad\xbe\xef imei")
                .to_uppercase(),
        );
        let v = expand(Hint::DnsName, format!("{label}.t.example.com.").as_bytes());
        assert_eq!(
            v[0],
            ("dns-hex".to_owned(), b"\xde\xad\xbe\xef imei".to_vec())
        );
    }

    #[test]
    fn base32_split_over_labels() {
        let enc = BASE32_NOPAD.encode(b"imei=356938035643809;model=Pixel 7");
        let (a, b) = enc.split_at(30);
        let name = format!("{}.{}.x.tunnel.example.net", random_case(a), random_case(b));
        let v = expand(Hint::DnsName, name.as_bytes());
        assert!(
            v.contains(&(
                "dns-base32".to_owned(),
                b"imei=356938035643809;model=Pixel 7".to_vec()
            )),
            "{v:?}"
        );
        let hex32 = BASE32HEX_NOPAD.encode(IMEI).to_lowercase();
        let v = expand(Hint::DnsName, format!("{hex32}.example.org").as_bytes());
        assert!(
            v.contains(&("dns-base32".to_owned(), IMEI.to_vec())),
            "{v:?}"
        );
    }

    #[test]
    fn base64url_label() {
        let label = BASE64URL_NOPAD.encode(b"\x01\x02device-id:42");
        let v = expand(Hint::DnsName, format!("{label}.c.example.com").as_bytes());
        assert!(v.contains(&("dns-base64url".to_owned(), b"\x01\x02device-id:42".to_vec())));
    }

    #[test]
    fn ordinary_names() {
        for name in [
            "www.google.com",
            "example.com",
            "connectivitycheck.gstatic.com",
            "a.b.c.d.e.f.g.example.com",
            "",
            "...",
        ] {
            let v = expand(Hint::DnsName, name.as_bytes());
            // Only decodes that succeed fully; short labels cannot give a 6-byte view.
            assert!(v.iter().all(|(_, b)| b.len() >= MIN_VIEW), "{name}: {v:?}");
            if name.len() < 20 {
                assert!(v.is_empty(), "{name}: {v:?}");
            }
        }
        // Two last labels only: nothing left of the registrable part.
        assert!(expand(
            Hint::DnsName,
            format!("{}.com", BASE32_NOPAD.encode(IMEI)).as_bytes()
        )
        .is_empty());
    }
}
