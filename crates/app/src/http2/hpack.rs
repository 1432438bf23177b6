//! HPACK header decompression (RFC 7541), decoding side only.
//!
//! Written here because the HPACK crates on offer are either unmaintained with known panics
//! on hostile input or do not bound their memory; the primitives (prefix integers, string
//! literals, Huffman) are also what QPACK needs, so [`crate::http3`] reuses them.
//!
//! A [`Decoder`] keeps one direction's dynamic table. Every header block must be decoded in
//! order, even when its fields are dropped (list size cap), or the table goes out of step.

use std::collections::VecDeque;

use super::huffman;

/// Entry overhead counted in the table size (RFC 7541 4.1).
pub(crate) const ENTRY_OVERHEAD: usize = 32;
/// Default SETTINGS_HEADER_TABLE_SIZE (RFC 9113 6.5.2).
pub(crate) const DEFAULT_TABLE_SIZE: usize = 4096;

/// Why a header block did not decode. The direction's dynamic table is then unreliable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Error {
    /// The block ended inside a representation.
    Truncated,
    /// An integer longer than 64 bits or than ten continuation bytes.
    Integer,
    /// An index outside the static and dynamic tables (RFC 7541 2.3.3).
    Index,
    /// A Huffman string that does not decode.
    Huffman,
    /// A size update above the cap this decoder accepts.
    TableSize,
    /// A string longer than the field cap.
    TooLong,
}

/// Reads an integer with an `n`-bit prefix (RFC 7541 5.1); returns the value and the first
/// byte (for its flag bits).
pub(crate) fn integer(buf: &mut &[u8], n: u32) -> Result<(u64, u8), Error> {
    let (&first, rest) = buf.split_first().ok_or(Error::Truncated)?;
    *buf = rest;
    let max = (1u64 << n) - 1;
    let mut v = u64::from(first) & max;
    if v < max {
        return Ok((v, first));
    }
    let mut shift = 0u32;
    loop {
        let (&b, rest) = buf.split_first().ok_or(Error::Truncated)?;
        *buf = rest;
        let add = u64::from(b & 0x7f)
            .checked_shl(shift)
            .filter(|a| a >> shift == u64::from(b & 0x7f))
            .ok_or(Error::Integer)?;
        v = v.checked_add(add).ok_or(Error::Integer)?;
        if b & 0x80 == 0 {
            return Ok((v, first));
        }
        shift += 7;
        if shift > 63 {
            return Err(Error::Integer);
        }
    }
}

/// Reads a string literal whose length has an `n`-bit prefix and whose Huffman flag is the
/// bit just above it (RFC 7541 5.2; RFC 9204 4.1.2 uses other prefixes). Appends at most
/// `cap` bytes to `out`.
pub(crate) fn string(buf: &mut &[u8], n: u32, out: &mut Vec<u8>, cap: usize) -> Result<(), Error> {
    let (len, first) = integer(buf, n)?;
    let huff = first & (1 << n) != 0;
    let len = usize::try_from(len).map_err(|_| Error::Truncated)?;
    if len > buf.len() {
        return Err(Error::Truncated);
    }
    let (s, rest) = buf.split_at(len);
    *buf = rest;
    if huff {
        huffman::decode(s, out, out.len().saturating_add(cap)).map_err(|e| match e {
            huffman::HuffmanError::BadPadding => Error::Huffman,
            huffman::HuffmanError::TooLong => Error::TooLong,
        })
    } else if s.len() > cap {
        Err(Error::TooLong)
    } else {
        out.extend_from_slice(s);
        Ok(())
    }
}

/// RFC 7541 Appendix A, indices 1 to 61.
#[rustfmt::skip]
pub(crate) const STATIC: [(&str, &str); 61] = [
    (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
    (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"), (":status", "200"),
    (":status", "204"), (":status", "206"), (":status", "304"), (":status", "400"),
    (":status", "404"), (":status", "500"), ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
    ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
    ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
    ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
    ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
    ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
    ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
    ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""),
    ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),
    ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
    ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
];

/// One decoded field: name and value bytes.
pub(crate) type Field = (Vec<u8>, Vec<u8>);

/// One direction's HPACK decoding state.
#[derive(Debug)]
pub(crate) struct Decoder {
    /// Newest entry first (RFC 7541 2.3.3).
    table: VecDeque<Field>,
    size: usize,
    /// Current maximum set by the encoder's size updates.
    max: usize,
    /// Largest size update accepted: the memory bound.
    cap: usize,
}

impl Decoder {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            table: VecDeque::new(),
            size: 0,
            max: DEFAULT_TABLE_SIZE.min(cap),
            cap,
        }
    }

    /// Entries in the dynamic table.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Table size in the RFC 7541 4.1 sense.
    #[cfg(test)]
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Decodes one complete header block. Fields are passed to `emit` in order; the caller
    /// decides what to keep. Values are capped at `field_cap` bytes each.
    pub(crate) fn decode(
        &mut self,
        mut buf: &[u8],
        field_cap: usize,
        mut emit: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), Error> {
        let (mut name, mut value) = (Vec::new(), Vec::new());
        while let Some(&b) = buf.first() {
            if b & 0x80 != 0 {
                // 6.1 Indexed Header Field.
                let (i, _) = integer(&mut buf, 7)?;
                let (n, v) = self.get(i)?;
                emit(n, v);
                continue;
            }
            // 6.3 Dynamic Table Size Update.
            if b & 0xe0 == 0x20 {
                let (size, _) = integer(&mut buf, 5)?;
                let size = usize::try_from(size).map_err(|_| Error::TableSize)?;
                if size > self.cap {
                    return Err(Error::TableSize);
                }
                self.max = size;
                self.evict(0);
                continue;
            }
            // 6.2.1 with incremental indexing (01), 6.2.2 without (0000), 6.2.3 never (0001).
            let (index, prefix) = if b & 0x40 != 0 { (true, 6) } else { (false, 4) };
            let (i, _) = integer(&mut buf, prefix)?;
            name.clear();
            value.clear();
            if i == 0 {
                string(&mut buf, 7, &mut name, field_cap)?;
            } else {
                name.extend_from_slice(self.get(i)?.0);
            }
            string(&mut buf, 7, &mut value, field_cap)?;
            emit(&name, &value);
            if index {
                self.insert(std::mem::take(&mut name), std::mem::take(&mut value));
            }
        }
        Ok(())
    }

    /// Sets the cap from SETTINGS_HEADER_TABLE_SIZE (bounded by the caller's memory cap).
    pub(crate) fn set_cap(&mut self, cap: usize) {
        self.cap = cap;
        if self.max > cap {
            self.max = cap;
            self.evict(0);
        }
    }

    fn get(&self, i: u64) -> Result<(&[u8], &[u8]), Error> {
        let i = usize::try_from(i).map_err(|_| Error::Index)?;
        if let Some(&(n, v)) = i.checked_sub(1).and_then(|i| STATIC.get(i)) {
            return Ok((n.as_bytes(), v.as_bytes()));
        }
        let (n, v) = i
            .checked_sub(STATIC.len() + 1)
            .and_then(|d| self.table.get(d))
            .ok_or(Error::Index)?;
        Ok((n, v))
    }

    /// RFC 7541 4.4: evicts until the new entry fits; an entry larger than the table
    /// empties it and is not added.
    fn insert(&mut self, name: Vec<u8>, value: Vec<u8>) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        self.evict(size);
        if size <= self.max {
            self.size += size;
            self.table.push_front((name, value));
        }
    }

    /// Evicts oldest entries until `room` more bytes fit under the maximum.
    fn evict(&mut self, room: usize) {
        while self.size.saturating_add(room) > self.max {
            let Some((n, v)) = self.table.pop_back() else {
                self.size = 0;
                return;
            };
            self.size -= n.len() + v.len() + ENTRY_OVERHEAD;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(d: &mut Decoder, hex_in: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        d.decode(&hex::decode(hex_in).unwrap(), 1 << 16, |n, v| {
            out.push((
                String::from_utf8(n.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            ));
        })
        .unwrap();
        out
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn integers_rfc7541_c1() {
        // C.1.1: 10 in a 5-bit prefix; C.1.2: 1337; C.1.3: 42 at an octet boundary.
        let cases: &[(&[u8], u32, u64)] = &[
            (&[0x0a], 5, 10),
            (&[0x1f, 0x9a, 0x0a], 5, 1337),
            (&[0x2a], 8, 42),
        ];
        for (bytes, n, want) in cases {
            let mut b = *bytes;
            assert_eq!(integer(&mut b, *n).unwrap().0, *want);
            assert!(b.is_empty());
        }
        let mut b: &[u8] = &[0x1f, 0xff, 0xff];
        assert_eq!(integer(&mut b, 5), Err(Error::Truncated));
        let mut long = vec![0x1f];
        long.extend_from_slice(&[0xff; 12]);
        long.push(0x01);
        assert_eq!(integer(&mut &long[..], 5), Err(Error::Integer));
    }

    /// RFC 7541 C.3 (requests, no Huffman) and C.4 (the same with Huffman).
    #[test]
    fn requests_rfc7541_c3_c4() {
        for blocks in [
            [
                "828684410f7777772e6578616d706c652e636f6d",
                "828684be58086e6f2d6361636865",
                "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
            ],
            [
                "828684418cf1e3c2e5f23a6ba0ab90f4ff",
                "828684be5886a8eb10649cbf",
                "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
            ],
        ] {
            let mut d = Decoder::new(4096);
            let base = [
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
            ];
            assert_eq!(block(&mut d, blocks[0]), pairs(&base));
            assert_eq!((d.len(), d.size()), (1, 57));
            let mut second = base.to_vec();
            second.push(("cache-control", "no-cache"));
            assert_eq!(block(&mut d, blocks[1]), pairs(&second));
            assert_eq!((d.len(), d.size()), (2, 110));
            assert_eq!(
                block(&mut d, blocks[2]),
                pairs(&[
                    (":method", "GET"),
                    (":scheme", "https"),
                    (":path", "/index.html"),
                    (":authority", "www.example.com"),
                    ("custom-key", "custom-value"),
                ])
            );
            assert_eq!((d.len(), d.size()), (3, 164));
        }
    }

    /// RFC 7541 C.5 (responses, table size 256, evictions) and C.6 (the same with Huffman).
    #[test]
    fn responses_rfc7541_c5_c6() {
        let date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
        let date2 = "Mon, 21 Oct 2013 20:13:22 GMT";
        let first = [
            (":status", "302"),
            ("cache-control", "private"),
            ("date", date1),
            ("location", "https://www.example.com"),
        ];
        let mut second = first;
        second[0] = (":status", "307");
        let third = [
            (":status", "200"),
            ("cache-control", "private"),
            ("date", date2),
            ("location", "https://www.example.com"),
            ("content-encoding", "gzip"),
            (
                "set-cookie",
                "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
            ),
        ];
        for blocks in [
            [
                "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
                "4803333037c1c0bf",
                "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31",
            ],
            [
                "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
                "4883640effc1c0bf",
                "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
            ],
        ] {
            let mut d = Decoder::new(256);
            d.max = 256;
            assert_eq!(block(&mut d, blocks[0]), pairs(&first));
            assert_eq!(d.size(), 222);
            assert_eq!(block(&mut d, blocks[1]), pairs(&second));
            assert_eq!((d.len(), d.size()), (4, 222));
            assert_eq!(block(&mut d, blocks[2]), pairs(&third));
            assert_eq!((d.len(), d.size()), (3, 215));
        }
    }

    #[test]
    fn size_updates_and_bad_blocks() {
        let mut d = Decoder::new(4096);
        block(&mut d, "828684410f7777772e6578616d706c652e636f6d");
        assert_eq!(d.len(), 1);
        // Size update to 0 empties the table; then back to 4096.
        block(&mut d, "203fe11f");
        assert_eq!((d.len(), d.max), (0, 4096));
        let bad: &[(&str, Error)] = &[
            ("be", Error::Index),         // dynamic index 62 on an empty table
            ("80", Error::Index),         // index 0
            ("3fe220", Error::TableSize), // 4097 > cap
            ("41", Error::Truncated),
            ("418cf1e3", Error::Truncated),
            ("4181ff", Error::Huffman),
        ];
        for (hex_in, want) in bad {
            let r = d.decode(&hex::decode(hex_in).unwrap(), 100, |_, _| {});
            assert_eq!(r, Err(*want), "{hex_in}");
        }
        // Field cap.
        let r = d.decode(
            &hex::decode("410f7777772e6578616d706c652e636f6d").unwrap(),
            4,
            |_, _| {},
        );
        assert_eq!(r, Err(Error::TooLong));
    }
}
