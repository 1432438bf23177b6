//! Initial-space frames and the CRYPTO stream they carry.
//!
//! Hand-written because no maintained crate offers a sans-IO, allocation-light
//! frame walker for passive observers (quinn-proto's is tied to its endpoint).

use crate::tls::codec::Reader;

/// Bytes of one direction's Initial CRYPTO stream kept (a ClientHello with
/// post-quantum key shares is about 2 KiB; certificates are not in Initials).
pub const MAX_CRYPTO: usize = 64 * 1024;
/// Disjoint received ranges tracked before giving up on a stream.
const MAX_RANGES: usize = 32;

/// Out-of-order reassembly of one CRYPTO stream, bounded by [`MAX_CRYPTO`].
#[derive(Debug, Default)]
pub(crate) struct CryptoStream {
    buf: Vec<u8>,
    /// Sorted, disjoint, non-adjacent [start, end) ranges received.
    ranges: Vec<(usize, usize)>,
    pub(crate) overflow: bool,
}

impl CryptoStream {
    /// Stores `data` at `offset`; returns false (and marks overflow) when it
    /// falls outside the cap or fragments the stream too much.
    pub(crate) fn insert(&mut self, offset: u64, data: &[u8]) -> bool {
        let Some(start) = usize::try_from(offset).ok().filter(|&s| s <= MAX_CRYPTO) else {
            self.overflow = true;
            return false;
        };
        let Some(end) = start.checked_add(data.len()).filter(|&e| e <= MAX_CRYPTO) else {
            self.overflow = true;
            return false;
        };
        if data.is_empty() {
            return true;
        }
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        // Retransmitted CRYPTO data is identical (RFC 9000 section 19.6), so
        // overwriting an overlap is harmless.
        self.buf[start..end].copy_from_slice(data);
        let (mut s, mut e) = (start, end);
        self.ranges.retain(|&(rs, re)| {
            if re < s || rs > e {
                true
            } else {
                s = s.min(rs);
                e = e.max(re);
                false
            }
        });
        let at = self.ranges.partition_point(|&(rs, _)| rs < s);
        self.ranges.insert(at, (s, e));
        if self.ranges.len() > MAX_RANGES {
            self.overflow = true;
            return false;
        }
        true
    }

    /// The in-order prefix received so far.
    pub(crate) fn contiguous(&self) -> &[u8] {
        match self.ranges.first() {
            Some(&(0, end)) => &self.buf[..end],
            _ => &[],
        }
    }

    /// The first handshake message, once complete.
    pub(crate) fn first_message(&self) -> Option<&[u8]> {
        let c = self.contiguous();
        let mut r = Reader::new(c);
        r.u8()?;
        let len = r.u24()?;
        c.get(..len.checked_add(4)?)
    }

    /// The first message declares more than we will ever buffer.
    pub(crate) fn message_too_large(&self) -> bool {
        let c = self.contiguous();
        c.len() >= 4
            && (usize::from(c[1]) << 16 | usize::from(c[2]) << 8 | usize::from(c[3])) + 4
                > MAX_CRYPTO
    }
}

/// Why a frame walk stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// A frame ran past the packet's end.
    Truncated,
    /// A frame type not allowed in Initial packets (RFC 9000 section 12.4).
    Unexpected(u64),
}

/// Walks the frames of a decrypted Initial payload (RFC 9000 sections 12.4
/// and 19), handing CRYPTO frame data to `crypto(offset, data)`.
pub(crate) fn walk_frames(
    payload: &[u8],
    mut crypto: impl FnMut(u64, &[u8]),
) -> Result<(), FrameError> {
    let mut r = Reader::new(payload);
    let t = FrameError::Truncated;
    while !r.is_empty() {
        let ty = r.varint().ok_or(t)?;
        match ty {
            0x00 | 0x01 => {} // PADDING, PING
            // ACK (section 19.3); 0x03 adds three ECN counts.
            0x02 | 0x03 => {
                r.varint().ok_or(t)?; // largest acknowledged
                r.varint().ok_or(t)?; // ack delay
                let ranges = r.varint().ok_or(t)?;
                r.varint().ok_or(t)?; // first range
                                      // Each range consumes at least two bytes, so the packet
                                      // length bounds this loop whatever `ranges` claims.
                for _ in 0..ranges {
                    r.varint().ok_or(t)?;
                    r.varint().ok_or(t)?;
                }
                if ty == 0x03 {
                    for _ in 0..3 {
                        r.varint().ok_or(t)?;
                    }
                }
            }
            // CRYPTO (section 19.6).
            0x06 => {
                let offset = r.varint().ok_or(t)?;
                let len = usize::try_from(r.varint().ok_or(t)?).map_err(|_| t)?;
                crypto(offset, r.take(len).ok_or(t)?);
            }
            // CONNECTION_CLOSE (section 19.19): transport form has a frame type.
            0x1c | 0x1d => {
                r.varint().ok_or(t)?;
                if ty == 0x1c {
                    r.varint().ok_or(t)?;
                }
                let len = usize::try_from(r.varint().ok_or(t)?).map_err(|_| t)?;
                r.take(len).ok_or(t)?;
            }
            other => return Err(FrameError::Unexpected(other)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembly_out_of_order_and_overlap() {
        let mut s = CryptoStream::default();
        assert!(s.insert(4, b"efgh"));
        assert_eq!(s.contiguous(), b"");
        assert!(s.insert(0, b"abc"));
        assert_eq!(s.contiguous(), b"abc");
        assert!(s.insert(2, b"cd"));
        assert_eq!(s.contiguous(), b"abcdefgh");
        assert!(s.insert(0, b"abcdefgh")); // duplicate
        assert_eq!(s.contiguous(), b"abcdefgh");
        assert!(s.insert(8, b""));
        assert!(!s.insert(MAX_CRYPTO as u64, b"x"));
        assert!(s.overflow);
        assert!(!CryptoStream::default().insert(u64::MAX, b"x"));
    }

    #[test]
    fn too_many_holes() {
        let mut s = CryptoStream::default();
        for i in 0..MAX_RANGES as u64 {
            assert!(s.insert(i * 2 + 1, b"x"));
        }
        assert!(!s.insert(1000, b"x"));
    }

    #[test]
    fn first_message_needs_all_bytes() {
        let mut s = CryptoStream::default();
        s.insert(0, &[1, 0, 0, 3, 9, 9]);
        assert_eq!(s.first_message(), None);
        s.insert(6, &[9, 7]);
        assert_eq!(s.first_message(), Some(&[1, 0, 0, 3, 9, 9, 9][..]));
    }

    #[test]
    fn frames() {
        // PADDING, PING, ACK(ECN) with one extra range, CRYPTO "hi", CONNECTION_CLOSE.
        let p = [
            0, 0, 1, 3, 5, 0, 1, 0, 1, 1, 0, 0, 0, 6, 0x40, 2, 2, b'h', b'i', 0x1c, 1, 6, 1, b'x',
            0,
        ];
        let mut got = Vec::new();
        assert_eq!(walk_frames(&p, |o, d| got.push((o, d.to_vec()))), Ok(()));
        assert_eq!(got, vec![(2, b"hi".to_vec())]);
        assert_eq!(
            walk_frames(&[6, 0, 5, 1], |_, _| {}),
            Err(FrameError::Truncated)
        );
        assert_eq!(
            walk_frames(&[0x08, 0], |_, _| {}),
            Err(FrameError::Unexpected(8))
        );
        assert_eq!(
            walk_frames(&[2, 0, 0, 0x3f], |_, _| {}),
            Err(FrameError::Truncated)
        );
    }
}
