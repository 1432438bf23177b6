//! Fuzz entries for HTTP/3: no panic, and the same messages however stream bytes are cut.

use super::{Connection, Limits};
use crate::http::Message;

/// Streams the input describes: the first byte picks the cut size, the rest is split into
/// a client encoder stream (id 2), a request (id 0) and a response (id 0, server), each
/// fed whole or in pieces; the messages must not depend on the cuts.
pub fn split_invariance(data: &[u8]) {
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let third = rest.len() / 3;
    let mut enc = vec![0x02];
    enc.extend_from_slice(&rest[..third]);
    let req = &rest[third..2 * third];
    let resp = &rest[2 * third..];
    let run = |step: usize| -> Vec<Message> {
        let mut c = Connection::new(Limits {
            max_body: 1 << 12,
            max_decoded: 1 << 12,
            ..Limits::default()
        });
        let mut out = Vec::new();
        let feed = |c: &mut Connection, out: &mut Vec<Message>, client: bool, id: u64, b: &[u8]| {
            let n = b.chunks(step).count();
            for (i, p) in b.chunks(step).enumerate() {
                c.stream_data(client, id, p, i + 1 == n, out);
            }
        };
        feed(&mut c, &mut out, true, 0, req);
        feed(&mut c, &mut out, true, 2, &enc);
        feed(&mut c, &mut out, false, 0, resp);
        c.finish(&mut out);
        out
    };
    let whole = run(usize::MAX);
    let cut = run(usize::from(seed % 9) + 1);
    assert_eq!(whole, cut);
}
#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(parts: &[&str]) -> Vec<u8> {
        let s: String = parts.concat();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Found by the `http3_streams` target: a response stream that fails (a HEADERS frame too
    /// large to keep) before its last bytes. Fed whole, the failure and the stream's end
    /// came in one call and the message was handed out then; fed byte by byte, the end came
    /// after the failure, was ignored, and the message waited for the end of input, behind
    /// the request's.
    #[test]
    fn a_dead_stream_still_ends_where_its_bytes_end_regression() {
        split_invariance(&unhex(&[
            "003f3fff0500ffd1fffffd9f2e0500003f3fff0500ffd1fffffd9f2e0500ff23",
            "30ff000000169a016d0001040055d0e1fb142e2b00000001000004ff00000000",
            "63ff00169a169a016d0001040055d0e101ebd1d4000059000000a40000002b00",
            "000000",
        ]));
    }

    /// Found next by the same target: a request section waiting for inserts, then an encoder
    /// stream whose inserts fall short of it and end in a bad instruction. Fed whole, the
    /// error came with the inserts and the section failed at once; fed byte by byte, it was
    /// retried after each insert, not after the error, and waited to the end of input.
    #[test]
    fn an_encoder_error_fails_the_waiting_sections_regression() {
        split_invariance(&unhex(&[
            "003f3fff0500ffd1fffffd9f2e0500003f3fff0500ffd1fffffd9f2e0500ff23",
            "30ff000000169a016d0001040055d0e1fb142e2b00000000000105b6b6b6b6b6",
            "b6ffffffff019a016d0001040055d0e1fb142e2b000059000000a40000002b00",
            "000000",
        ]));
    }
}
