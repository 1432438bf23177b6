//! A bounded big-endian reader over untrusted bytes.
//!
//! Every read checks the remaining length first and returns `None` instead of
//! panicking, so parsers built on it chain reads with `?` and never index past
//! the end (the shape of rustls' `codec::Reader`).

/// Cursor over a borrowed slice; every accessor is bounds-checked.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let (&b, tail) = self.buf.split_first()?;
        self.buf = tail;
        Some(b)
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u24(&mut self) -> Option<usize> {
        let b = self.take(3)?;
        Some(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A sub-reader over a vector whose length prefix is one byte.
    pub(crate) fn vec8(&mut self) -> Option<Self> {
        let n = self.u8()?;
        self.take(usize::from(n)).map(Self::new)
    }

    /// A sub-reader over a vector whose length prefix is two bytes.
    pub(crate) fn vec16(&mut self) -> Option<Self> {
        let n = self.u16()?;
        self.take(usize::from(n)).map(Self::new)
    }

    /// A QUIC variable-length integer (RFC 9000 section 16).
    pub(crate) fn varint(&mut self) -> Option<u64> {
        let first = *self.buf.first()?;
        let len = 1usize << (first >> 6);
        let b = self.take(len)?;
        let mut v = u64::from(first & 0x3f);
        for &x in b.iter().skip(1) {
            v = v << 8 | u64::from(x);
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Some(0x0102));
        assert_eq!(r.u16(), None);
        assert_eq!(r.u8(), Some(3));
        assert_eq!(r.u8(), None);
        assert!(r.is_empty());
        let mut r = Reader::new(&[5, 1, 2]);
        assert!(r.vec8().is_none());
    }

    #[test]
    fn varints_rfc9000_appendix_a1() {
        // RFC 9000 Appendix A.1 sample encodings.
        let cases: &[(&[u8], u64)] = &[
            (
                &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c],
                151_288_809_941_952_652,
            ),
            (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
            (&[0x7b, 0xbd], 15_293),
            (&[0x25], 37),
            (&[0x40, 0x25], 37),
        ];
        for (bytes, want) in cases {
            assert_eq!(Reader::new(bytes).varint(), Some(*want));
        }
        assert_eq!(Reader::new(&[0x80, 1]).varint(), None);
    }
}
