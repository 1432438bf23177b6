//! QPACK field decompression (RFC 9204), decoding side: the static table, the dynamic
//! table fed by the peer's encoder stream, and field sections with Required Insert Count
//! and Base. Prefix integers, string literals and Huffman are HPACK's
//! ([`crate::http2::hpack`]).

use std::collections::VecDeque;

use crate::http2::hpack::{integer, string, Error, Field, ENTRY_OVERHEAD};

/// RFC 9204 Appendix A, indices 0 to 98.
#[rustfmt::skip]
const STATIC: [(&str, &str); 99] = [
    (":authority", ""), (":path", "/"), ("age", "0"), ("content-disposition", ""),
    ("content-length", "0"), ("cookie", ""), ("date", ""), ("etag", ""),
    ("if-modified-since", ""), ("if-none-match", ""), ("last-modified", ""), ("link", ""),
    ("location", ""), ("referer", ""), ("set-cookie", ""), (":method", "CONNECT"),
    (":method", "DELETE"), (":method", "GET"), (":method", "HEAD"), (":method", "OPTIONS"),
    (":method", "POST"), (":method", "PUT"), (":scheme", "http"), (":scheme", "https"),
    (":status", "103"), (":status", "200"), (":status", "304"), (":status", "404"),
    (":status", "503"), ("accept", "*/*"), ("accept", "application/dns-message"),
    ("accept-encoding", "gzip, deflate, br"), ("accept-ranges", "bytes"),
    ("access-control-allow-headers", "cache-control"),
    ("access-control-allow-headers", "content-type"), ("access-control-allow-origin", "*"),
    ("cache-control", "max-age=0"), ("cache-control", "max-age=2592000"),
    ("cache-control", "max-age=604800"), ("cache-control", "no-cache"),
    ("cache-control", "no-store"), ("cache-control", "public, max-age=31536000"),
    ("content-encoding", "br"), ("content-encoding", "gzip"),
    ("content-type", "application/dns-message"), ("content-type", "application/javascript"),
    ("content-type", "application/json"), ("content-type", "application/x-www-form-urlencoded"),
    ("content-type", "image/gif"), ("content-type", "image/jpeg"), ("content-type", "image/png"),
    ("content-type", "text/css"), ("content-type", "text/html; charset=utf-8"),
    ("content-type", "text/plain"), ("content-type", "text/plain;charset=utf-8"),
    ("range", "bytes=0-"), ("strict-transport-security", "max-age=31536000"),
    ("strict-transport-security", "max-age=31536000; includesubdomains"),
    ("strict-transport-security", "max-age=31536000; includesubdomains; preload"),
    ("vary", "accept-encoding"), ("vary", "origin"), ("x-content-type-options", "nosniff"),
    ("x-xss-protection", "1; mode=block"), (":status", "100"), (":status", "204"),
    (":status", "206"), (":status", "302"), (":status", "400"), (":status", "403"),
    (":status", "421"), (":status", "425"), (":status", "500"), ("accept-language", ""),
    ("access-control-allow-credentials", "FALSE"), ("access-control-allow-credentials", "TRUE"),
    ("access-control-allow-headers", "*"), ("access-control-allow-methods", "get"),
    ("access-control-allow-methods", "get, post, options"),
    ("access-control-allow-methods", "options"),
    ("access-control-expose-headers", "content-length"),
    ("access-control-request-headers", "content-type"),
    ("access-control-request-method", "get"), ("access-control-request-method", "post"),
    ("alt-svc", "clear"), ("authorization", ""),
    ("content-security-policy", "script-src 'none'; object-src 'none'; base-uri 'none'"),
    ("early-data", "1"), ("expect-ct", ""), ("forwarded", ""), ("if-range", ""),
    ("origin", ""), ("purpose", "prefetch"), ("server", ""), ("timing-allow-origin", "*"),
    ("upgrade-insecure-requests", "1"), ("user-agent", ""), ("x-forwarded-for", ""),
    ("x-frame-options", "deny"), ("x-frame-options", "sameorigin"),
];

/// A field section could not be decoded yet: its Required Insert Count is ahead of the
/// inserts received (RFC 9204 2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocked;

/// One direction's QPACK decoding state (the table the peer's encoder builds).
#[derive(Debug)]
pub(crate) struct Decoder {
    /// Oldest entry first; absolute index `dropped + i`.
    table: VecDeque<Field>,
    dropped: u64,
    size: usize,
    capacity: usize,
    /// SETTINGS_QPACK_MAX_TABLE_CAPACITY of the decoding peer, once seen (RFC 9204 5).
    max_capacity: Option<u64>,
    /// Memory cap on the capacity accepted.
    cap: usize,
    /// Encoder stream bytes not yet a whole instruction.
    pending: Vec<u8>,
    pending_cap: usize,
}

impl Decoder {
    pub(crate) fn new(cap: usize, pending_cap: usize) -> Self {
        Self {
            table: VecDeque::new(),
            dropped: 0,
            size: 0,
            capacity: 0,
            max_capacity: None,
            cap,
            pending: Vec::new(),
            pending_cap,
        }
    }

    /// Total inserts so far (the Insert Count, RFC 9204 3.2.5... 2.1.1).
    pub(crate) fn inserted(&self) -> u64 {
        self.dropped + self.table.len() as u64
    }

    pub(crate) fn set_max_capacity(&mut self, v: u64) {
        self.max_capacity = Some(v);
    }

    /// Encoder stream bytes (RFC 9204 4.3); whole instructions are applied, a cut one waits.
    pub(crate) fn encoder_stream(&mut self, data: &[u8]) -> Result<(), Error> {
        self.pending.extend_from_slice(data);
        let pending = std::mem::take(&mut self.pending);
        let mut buf = &pending[..];
        let r = loop {
            if buf.is_empty() {
                break Ok(());
            }
            let mut b = buf;
            match self.instruction(&mut b) {
                Ok(()) => buf = b,
                Err(Error::Truncated) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if buf.len() > self.pending_cap {
            return Err(Error::TooLong);
        }
        self.pending = buf.to_vec();
        r
    }

    fn instruction(&mut self, buf: &mut &[u8]) -> Result<(), Error> {
        let b = *buf.first().ok_or(Error::Truncated)?;
        let (mut name, mut value) = (Vec::new(), Vec::new());
        if b & 0x80 != 0 {
            // 4.3.2 Insert with Name Reference.
            let (i, first) = integer(buf, 6)?;
            name = if first & 0x40 != 0 {
                self.static_entry(i)?.0.to_vec()
            } else {
                let abs = self.inserted().checked_sub(i + 1).ok_or(Error::Index)?;
                self.get(abs)?.0.clone()
            };
            string(buf, 7, &mut value, self.cap)?;
        } else if b & 0x40 != 0 {
            // 4.3.3 Insert with Literal Name.
            string(buf, 5, &mut name, self.cap)?;
            string(buf, 7, &mut value, self.cap)?;
        } else if b & 0x20 != 0 {
            // 4.3.1 Set Dynamic Table Capacity.
            let (c, _) = integer(buf, 5)?;
            if c > self.max_capacity.unwrap_or(u64::MAX) || c > self.cap as u64 {
                return Err(Error::TableSize);
            }
            self.capacity = usize::try_from(c).map_err(|_| Error::TableSize)?;
            self.evict(0);
            return Ok(());
        } else {
            // 4.3.4 Duplicate.
            let (i, _) = integer(buf, 5)?;
            let abs = self.inserted().checked_sub(i + 1).ok_or(Error::Index)?;
            let (n, v) = self.get(abs)?.clone();
            name = n;
            value = v;
        }
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.capacity {
            return Err(Error::TableSize);
        }
        self.evict(size);
        self.size += size;
        self.table.push_back((name, value));
        Ok(())
    }

    fn evict(&mut self, room: usize) {
        while self.size.saturating_add(room) > self.capacity {
            let Some((n, v)) = self.table.pop_front() else {
                self.size = 0;
                return;
            };
            self.dropped += 1;
            self.size -= n.len() + v.len() + ENTRY_OVERHEAD;
        }
    }

    fn get(&self, abs: u64) -> Result<&Field, Error> {
        let i = abs.checked_sub(self.dropped).ok_or(Error::Index)?;
        self.table
            .get(usize::try_from(i).map_err(|_| Error::Index)?)
            .ok_or(Error::Index)
    }

    fn static_entry(&self, i: u64) -> Result<(&'static [u8], &'static [u8]), Error> {
        let (n, v) = usize::try_from(i)
            .ok()
            .and_then(|i| STATIC.get(i))
            .ok_or(Error::Index)?;
        Ok((n.as_bytes(), v.as_bytes()))
    }

    /// RFC 9204 4.5.1.1: the Required Insert Count from its encoding.
    fn required_insert_count(&self, enc: u64) -> Result<u64, Error> {
        if enc == 0 {
            return Ok(0);
        }
        let max_cap = self.max_capacity.unwrap_or(self.cap as u64);
        let max_entries = max_cap / 32;
        let full = max_entries
            .checked_mul(2)
            .filter(|&f| f > 0)
            .ok_or(Error::Index)?;
        if enc > full {
            return Err(Error::Index);
        }
        let max_value = self.inserted().saturating_add(max_entries);
        let max_wrapped = max_value / full * full;
        let mut ric = max_wrapped.saturating_add(enc - 1);
        if ric > max_value {
            if ric <= full {
                return Err(Error::Index);
            }
            ric -= full;
        }
        if ric == 0 {
            return Err(Error::Index);
        }
        Ok(ric)
    }

    /// Decodes one field section (RFC 9204 4.5), passing each field to `emit`. Nothing is
    /// emitted when the section is blocked.
    pub(crate) fn section(
        &self,
        mut buf: &[u8],
        field_cap: usize,
        mut emit: impl FnMut(&[u8], &[u8]),
    ) -> Result<Result<(), Blocked>, Error> {
        let (enc, _) = integer(&mut buf, 8)?;
        let ric = self.required_insert_count(enc)?;
        let (delta, first) = integer(&mut buf, 7)?;
        let base = if first & 0x80 == 0 {
            ric.checked_add(delta)
        } else {
            ric.checked_sub(delta.saturating_add(1))
        }
        .ok_or(Error::Index)?;
        if ric > self.inserted() {
            return Ok(Err(Blocked));
        }
        // References must stay below the Required Insert Count (RFC 9204 2.2.3).
        let dynamic = |abs: u64| -> Result<&Field, Error> {
            if abs >= ric {
                return Err(Error::Index);
            }
            self.get(abs)
        };
        let (mut name, mut value) = (Vec::new(), Vec::new());
        while let Some(&b) = buf.first() {
            name.clear();
            value.clear();
            if b & 0x80 != 0 {
                // 4.5.2 Indexed Field Line.
                let (i, first) = integer(&mut buf, 6)?;
                if first & 0x40 != 0 {
                    let (n, v) = self.static_entry(i)?;
                    emit(n, v);
                } else {
                    let abs = base.checked_sub(i + 1).ok_or(Error::Index)?;
                    let (n, v) = dynamic(abs)?;
                    emit(n, v);
                }
                continue;
            }
            if b & 0xf0 == 0x10 {
                // 4.5.3 Indexed Field Line with Post-Base Index.
                let (i, _) = integer(&mut buf, 4)?;
                let (n, v) = dynamic(base.checked_add(i).ok_or(Error::Index)?)?;
                emit(n, v);
                continue;
            }
            if b & 0xc0 == 0x40 {
                // 4.5.4 Literal Field Line with Name Reference.
                let (i, first) = integer(&mut buf, 4)?;
                if first & 0x10 != 0 {
                    name.extend_from_slice(self.static_entry(i)?.0);
                } else {
                    let abs = base.checked_sub(i + 1).ok_or(Error::Index)?;
                    name.extend_from_slice(&dynamic(abs)?.0);
                }
            } else if b & 0xe0 == 0x20 {
                // 4.5.6 Literal Field Line with Literal Name.
                string(&mut buf, 3, &mut name, field_cap)?;
            } else {
                // 4.5.5 Literal Field Line with Post-Base Name Reference.
                let (i, _) = integer(&mut buf, 3)?;
                name.extend_from_slice(&dynamic(base.checked_add(i).ok_or(Error::Index)?)?.0);
            }
            string(&mut buf, 7, &mut value, field_cap)?;
            emit(&name, &value);
        }
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(d: &Decoder, hex_in: &str) -> Result<Result<Vec<(String, String)>, Blocked>, Error> {
        let mut out = Vec::new();
        let r = d.section(&hex::decode(hex_in).unwrap(), 1 << 16, |n, v| {
            out.push((
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ));
        })?;
        Ok(r.map(|()| out))
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// RFC 9204 Appendix B.1 to B.5, decoder side, with SETTINGS_QPACK_MAX_TABLE_CAPACITY 220.
    #[test]
    fn rfc9204_appendix_b() {
        let mut d = Decoder::new(4096, 4096);
        d.set_max_capacity(220);
        // B.1: literal field line with name reference, static table only.
        assert_eq!(
            section(&d, "0000510b2f696e6465782e68746d6c").unwrap(),
            Ok(pairs(&[(":path", "/index.html")]))
        );
        // B.2: the encoder stream sets capacity 220 and inserts two entries; the section
        // refers to them with post-base... here base-relative indices.
        let stream =
            hex::decode("3fbd01c00f7777772e6578616d706c652e636f6dc10c2f73616d706c652f70617468")
                .unwrap();
        // Before the inserts arrive, the section is blocked.
        assert_eq!(section(&d, "03811011").unwrap(), Err(Blocked));
        d.encoder_stream(&stream).unwrap();
        assert_eq!(d.inserted(), 2);
        assert_eq!(
            section(&d, "03811011").unwrap(),
            Ok(pairs(&[
                (":authority", "www.example.com"),
                (":path", "/sample/path")
            ]))
        );
        // B.3: insert with literal name custom-key/custom-value.
        d.encoder_stream(&hex::decode("4a637573746f6d2d6b65790c637573746f6d2d76616c7565").unwrap())
            .unwrap();
        assert_eq!(d.inserted(), 3);
        // B.4: duplicate of relative index 2 (:authority), then a section using it and
        // the custom field.
        d.encoder_stream(&hex::decode("02").unwrap()).unwrap();
        assert_eq!(
            section(&d, "050080c181").unwrap(),
            Ok(pairs(&[
                (":authority", "www.example.com"),
                (":path", "/"),
                ("custom-key", "custom-value"),
            ]))
        );
        assert_eq!(d.size, 217);
        // B.5: insert with dynamic name reference evicts the oldest entry.
        d.encoder_stream(&hex::decode("810d637573746f6d2d76616c756532").unwrap())
            .unwrap();
        assert_eq!((d.inserted(), d.dropped, d.size), (5, 1, 215));
        assert_eq!(d.get(4).unwrap().1, b"custom-value2");
    }

    #[test]
    fn bad_sections_and_instructions() {
        let mut d = Decoder::new(4096, 64);
        d.set_max_capacity(220);
        let bad: &[(&str, Error)] = &[
            ("", Error::Truncated),
            ("00", Error::Truncated),
            ("0000ff7f", Error::Index), // static index beyond 98
            ("00008f", Error::Index),   // dynamic reference with RIC 0
            ("ff0a00", Error::Index),   // encoded RIC beyond FullRange
            ("00005f", Error::Truncated),
        ];
        for (hex_in, want) in bad {
            assert_eq!(section(&d, hex_in), Err(*want), "{hex_in}");
        }
        // Capacity above the advertised maximum.
        assert_eq!(d.encoder_stream(&[0x3f, 0xbe, 0x01]), Err(Error::TableSize));
        // A cut instruction waits for the rest.
        let mut d = Decoder::new(4096, 64);
        d.set_max_capacity(220);
        d.encoder_stream(&[0x3f, 0xbd]).unwrap();
        d.encoder_stream(&[0x01, 0xc0, 0x03, b'a']).unwrap();
        assert_eq!(d.inserted(), 0);
        d.encoder_stream(b"bc").unwrap();
        assert_eq!(d.inserted(), 1);
        // Pending bytes are capped.
        let mut long_name = vec![0x5f, 0xc9, 0x07]; // a 1000-byte name, cut short
        long_name.extend_from_slice(&[b'n'; 100]);
        assert_eq!(d.encoder_stream(&long_name), Err(Error::TooLong));
    }
}
