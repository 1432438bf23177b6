//! DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): each message is preceded by a two-byte
//! length. Sans-IO: bytes and gaps in, complete messages out.

use super::HEADER_LEN;

/// Bytes scanned for a plausible message start after a gap before the stream is given up.
const MAX_RESYNC_SCAN: u64 = 1 << 20;

/// Bytes needed to judge a candidate start: the length prefix and the header.
const PROBE: usize = 2 + HEADER_LEN;

/// What the framer saw; nothing is dropped without being counted here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FramerStats {
    pub messages: u64,
    pub gaps: u64,
    /// Messages that a gap cut into.
    pub lost_messages: u64,
    /// Times framing was lost and a new start had to be searched for.
    pub resyncs: u64,
    /// Bytes dropped while searching for a message start (or after giving up).
    pub skipped_bytes: u64,
    /// The search failed for [`MAX_RESYNC_SCAN`] bytes; the rest of the stream is ignored.
    pub stopped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At a message boundary, or inside a message held in `buf`.
    Sync,
    /// Dropping the rest of a message a gap cut into; framing is still known.
    Skip(usize),
    /// Framing lost; looking for a prefix + header that make sense.
    Resync {
        scanned: u64,
    },
    Stopped,
}

/// Splits one direction of a DNS-over-TCP stream into messages.
///
/// Memory: at most one incomplete message (2 + 65535 bytes) is buffered; complete messages in
/// a pushed slice are handed out without copying.
#[derive(Debug, Clone)]
pub struct TcpFramer {
    buf: Vec<u8>,
    state: State,
    stats: FramerStats,
}

impl Default for TcpFramer {
    fn default() -> Self {
        Self::new()
    }
}

impl TcpFramer {
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            state: State::Sync,
            stats: FramerStats::default(),
        }
    }

    pub fn stats(&self) -> &FramerStats {
        &self.stats
    }

    /// Feeds in-order stream bytes; `on_message` gets each complete message (prefix removed).
    pub fn push(&mut self, mut data: &[u8], mut on_message: impl FnMut(&[u8])) {
        while !data.is_empty() {
            match self.state {
                State::Stopped => {
                    self.stats.skipped_bytes =
                        self.stats.skipped_bytes.saturating_add(data.len() as u64);
                    return;
                }
                State::Skip(n) => {
                    let k = n.min(data.len());
                    data = &data[k..];
                    self.state = if k == n {
                        State::Sync
                    } else {
                        State::Skip(n - k)
                    };
                }
                State::Resync { scanned } => data = self.resync(data, scanned),
                State::Sync if !self.buf.is_empty() => data = self.fill(data, &mut on_message),
                State::Sync => {
                    // Zero-copy path: whole messages inside `data`.
                    let Some(&[hi, lo]) = data.get(..2) else {
                        self.buf.extend_from_slice(data);
                        return;
                    };
                    let len = usize::from(u16::from_be_bytes([hi, lo]));
                    if len < HEADER_LEN {
                        self.lose_sync();
                        continue;
                    }
                    match data.get(2..2 + len) {
                        Some(msg) => {
                            self.stats.messages += 1;
                            on_message(msg);
                            data = &data[2 + len..];
                        }
                        None => {
                            self.buf.extend_from_slice(data);
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Completes the message held in `buf`; returns the unused input.
    fn fill<'a>(&mut self, data: &'a [u8], on_message: &mut impl FnMut(&[u8])) -> &'a [u8] {
        let mut data = data;
        if self.buf.len() < 2 {
            let k = (2 - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..k]);
            data = &data[k..];
            if self.buf.len() < 2 {
                return data;
            }
        }
        let len = usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]));
        if len < HEADER_LEN {
            // The two prefix bytes stay as carried bytes for the search, exactly as on the
            // zero-copy path, so the outcome does not depend on segment boundaries.
            self.lose_sync();
            return data;
        }
        let want = (2 + len).saturating_sub(self.buf.len());
        let k = want.min(data.len());
        self.buf.extend_from_slice(&data[..k]);
        if k == want {
            self.stats.messages += 1;
            on_message(self.buf.get(2..).unwrap_or_default());
            self.buf.clear();
        }
        &data[k..]
    }

    fn lose_sync(&mut self) {
        self.stats.resyncs += 1;
        self.state = State::Resync { scanned: 0 };
    }

    /// Looks for a plausible start; `buf` holds fewer than [`PROBE`] carried-over bytes.
    fn resync<'a>(&mut self, data: &'a [u8], scanned: u64) -> &'a [u8] {
        // Candidates starting in the carried bytes, judged on a small stack copy.
        let carry = self.buf.len();
        let mut probe = [0u8; 2 * PROBE];
        let m = data.len().min(PROBE);
        probe[..carry].copy_from_slice(&self.buf);
        probe[carry..carry + m].copy_from_slice(&data[..m]);
        let joined = &probe[..carry + m];
        for j in 0..carry {
            match joined.get(j..j + PROBE) {
                Some(head) if plausible(head) => {
                    self.stats.skipped_bytes += j as u64;
                    self.buf.drain(..j);
                    self.state = State::Sync;
                    return data;
                }
                Some(_) => {}
                None => {
                    // Not enough bytes yet to judge this candidate: carry on from here.
                    self.stats.skipped_bytes += j as u64;
                    self.buf.drain(..j);
                    self.buf.extend_from_slice(data);
                    self.bump(scanned, j as u64);
                    return &[];
                }
            }
        }
        self.stats.skipped_bytes += carry as u64;
        self.buf.clear();
        let scanned = scanned.saturating_add(carry as u64);
        for i in 0..data.len() {
            match data.get(i..i + PROBE) {
                Some(head) if plausible(head) => {
                    self.stats.skipped_bytes += i as u64;
                    self.state = State::Sync;
                    return &data[i..];
                }
                Some(_) => {}
                None => {
                    self.stats.skipped_bytes += i as u64;
                    self.buf.extend_from_slice(&data[i..]);
                    self.bump(scanned, i as u64);
                    return &[];
                }
            }
        }
        // Unreachable in practice (the last PROBE positions take the `None` arm); kept total.
        self.stats.skipped_bytes += data.len() as u64;
        self.bump(scanned, data.len() as u64);
        &[]
    }

    fn bump(&mut self, scanned: u64, more: u64) {
        let scanned = scanned.saturating_add(more);
        if scanned > MAX_RESYNC_SCAN {
            self.stats.stopped = true;
            self.stats.skipped_bytes += self.buf.len() as u64;
            self.buf.clear();
            self.state = State::Stopped;
        } else {
            self.state = State::Resync { scanned };
        }
    }

    /// `len` bytes of the stream were lost (not captured).
    pub fn gap(&mut self, len: u64) {
        self.stats.gaps += 1;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        match self.state {
            State::Stopped => {}
            State::Resync { scanned } => {
                // The carried bytes are no longer contiguous with what follows.
                self.stats.skipped_bytes += self.buf.len() as u64;
                self.buf.clear();
                self.state = State::Resync { scanned };
            }
            State::Skip(n) => {
                self.state = match len.cmp(&n) {
                    std::cmp::Ordering::Less => State::Skip(n - len),
                    std::cmp::Ordering::Equal => State::Sync,
                    std::cmp::Ordering::Greater => {
                        self.lose_sync();
                        return;
                    }
                };
            }
            State::Sync => {
                // RFC 1035 4.2.2: framing survives if the gap ends inside the message whose
                // length we already know.
                let remaining = match self.buf.get(..2) {
                    Some(&[hi, lo]) => {
                        (2 + usize::from(u16::from_be_bytes([hi, lo]))).checked_sub(self.buf.len())
                    }
                    _ => None,
                };
                let had_partial = !self.buf.is_empty();
                self.stats.skipped_bytes += self.buf.len() as u64;
                self.buf.clear();
                if had_partial {
                    self.stats.lost_messages += 1;
                }
                match remaining {
                    Some(r) if len < r => self.state = State::Skip(r - len),
                    Some(r) if len == r => self.state = State::Sync,
                    _ => self.lose_sync(),
                }
            }
        }
    }
}

/// A length prefix and header that could start a DNS-over-TCP message.
fn plausible(head: &[u8]) -> bool {
    let Some(&[l0, l1, _, _, f0, f1, q0, q1, a0, a1, n0, n1, r0, r1]) = head.get(..PROBE) else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    let flags = u16::from_be_bytes([f0, f1]);
    let qd = u16::from_be_bytes([q0, q1]);
    let records = [[a0, a1], [n0, n1], [r0, r1]]
        .iter()
        .map(|b| usize::from(u16::from_be_bytes(*b)))
        .sum::<usize>();
    let opcode = (flags >> 11) & 0x0F;
    let response = flags & 0x8000 != 0;
    // Over TCP a message carries exactly one question in practice (RFC 9619); allow a few.
    (1..=4).contains(&qd)
        && matches!(opcode, 0 | 2 | 4 | 5)
        && (response || flags & 0x000F == 0)
        && HEADER_LEN + usize::from(qd) * 5 + records * 11 <= len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One query for a.example/A, framed (hand-built, RFC 1035 4.1 + 4.2.2).
    fn framed(id: u16) -> Vec<u8> {
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(
            b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x07example\x00\x00\x01\x00\x01",
        );
        let mut v = (m.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(&m);
        v
    }

    fn run(f: &mut TcpFramer, data: &[u8]) -> Vec<u16> {
        let mut ids = Vec::new();
        f.push(data, |m| ids.push(u16::from_be_bytes([m[0], m[1]])));
        ids
    }

    #[test]
    fn whole_and_byte_by_byte() {
        let stream: Vec<u8> = (1..=3).flat_map(framed).collect();
        let mut f = TcpFramer::new();
        assert_eq!(run(&mut f, &stream), vec![1, 2, 3]);
        let mut f = TcpFramer::new();
        let ids: Vec<u16> = stream
            .iter()
            .flat_map(|b| run(&mut f, std::slice::from_ref(b)))
            .collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert_eq!(f.stats().messages, 3);
    }

    #[test]
    fn gap_inside_a_known_message_keeps_framing() {
        let one = framed(1);
        let mut f = TcpFramer::new();
        assert!(run(&mut f, &one[..5]).is_empty());
        f.gap(3);
        let mut rest = one[8..].to_vec();
        rest.extend(framed(2));
        assert_eq!(run(&mut f, &rest), vec![2]);
        assert_eq!((f.stats().lost_messages, f.stats().resyncs), (1, 0));
    }

    #[test]
    fn gap_across_a_boundary_resyncs() {
        let mut f = TcpFramer::new();
        let mut s = framed(1);
        s.truncate(10);
        assert!(run(&mut f, &s).is_empty());
        f.gap(100);
        // Resumes with the tail of a lost message, then two good ones.
        let mut rest = b"\x00\x07\x00\x00junk".to_vec();
        rest.extend(framed(7));
        rest.extend(framed(8));
        for chunk in rest.chunks(3) {
            run(&mut f, chunk);
        }
        let mut f2 = f.clone();
        assert_eq!(f.stats().messages, 2);
        assert_eq!(f.stats().resyncs, 1);
        assert_eq!(run(&mut f2, &framed(9)), vec![9]);
    }

    #[test]
    fn garbage_gives_up_after_the_scan_limit() {
        let mut f = TcpFramer::new();
        f.gap(1);
        let zeros = vec![0u8; 4096];
        for _ in 0..300 {
            run(&mut f, &zeros);
        }
        assert!(f.stats().stopped);
        assert_eq!(f.stats().skipped_bytes, 300 * 4096);
        assert!(run(&mut f, &framed(1)).is_empty());
    }

    #[test]
    fn too_short_length_loses_sync() {
        let mut f = TcpFramer::new();
        let mut s = b"\x00\x03abc".to_vec();
        s.extend(framed(5));
        assert_eq!(run(&mut f, &s), vec![5]);
        assert_eq!(f.stats().resyncs, 1);
    }
}
