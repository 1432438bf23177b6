//! The HPACK Huffman code (RFC 7541 Appendix B), shared with QPACK (RFC 9204 4.1.2).
//!
//! Written here rather than taken from a crate: the HPACK crates either panic on hostile
//! input or do not expose their Huffman decoder for QPACK to reuse. The code is canonical
//! (codes assigned in order of length, then symbol), so the table below holds only the 257
//! code lengths and the decoder walks the canonical code bit by bit; no code value is typed
//! by hand.

/// Code length in bits of each symbol 0..=255 and EOS (256), RFC 7541 Appendix B.
#[rustfmt::skip]
const LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
    30,
];

const MAX_LEN: usize = 30;
const EOS: u16 = 256;

/// Canonical decoding tables, built at compile time from [`LENGTHS`].
struct Canon {
    /// Symbols sorted by (length, symbol).
    symbols: [u16; 257],
    /// Per length: number of codes, first code value, index of its first symbol.
    count: [u32; MAX_LEN + 1],
    first: [u32; MAX_LEN + 1],
    offset: [u16; MAX_LEN + 1],
}

const fn canon() -> Canon {
    let mut c = Canon {
        symbols: [0; 257],
        count: [0; MAX_LEN + 1],
        first: [0; MAX_LEN + 1],
        offset: [0; MAX_LEN + 1],
    };
    let mut s = 0;
    while s < 257 {
        c.count[LENGTHS[s] as usize] += 1;
        s += 1;
    }
    let mut code = 0u32;
    let mut idx = 0u16;
    let mut len = 1;
    while len <= MAX_LEN {
        c.first[len] = code;
        c.offset[len] = idx;
        let mut s = 0;
        while s < 257 {
            if LENGTHS[s] as usize == len {
                c.symbols[idx as usize] = s as u16;
                idx += 1;
            }
            s += 1;
        }
        code = (code + c.count[len]) << 1;
        len += 1;
    }
    c
}

static CANON: Canon = canon();

/// Why a Huffman string did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HuffmanError {
    /// EOS inside the string, or padding longer than 7 bits or not all ones (RFC 7541 5.2).
    BadPadding,
    /// Output would exceed the caller's cap.
    TooLong,
}

/// Decodes `data` and appends it to `out`, writing at most `cap` bytes in all.
pub(crate) fn decode(data: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<(), HuffmanError> {
    let mut code = 0u32;
    let mut len = 0usize;
    // Output is at most 8/5 of the input; reserve once.
    out.reserve((data.len().saturating_mul(8) / 5).min(cap.saturating_sub(out.len())));
    for &byte in data {
        for shift in (0..8).rev() {
            code = code << 1 | u32::from(byte >> shift & 1);
            len += 1;
            let at = code.wrapping_sub(CANON.first[len]);
            if at < CANON.count[len] {
                let sym = CANON.symbols[usize::from(CANON.offset[len]) + at as usize];
                if sym == EOS {
                    return Err(HuffmanError::BadPadding);
                }
                if out.len() >= cap {
                    return Err(HuffmanError::TooLong);
                }
                out.push(sym as u8);
                code = 0;
                len = 0;
            } else if len >= MAX_LEN {
                // Only EOS is 30 bits long; anything else here is not a code.
                return Err(HuffmanError::BadPadding);
            }
        }
    }
    // RFC 7541 5.2: padding is the most significant bits of EOS (all ones), under 8 bits.
    if len > 7 || code != (1u32 << len) - 1 {
        return Err(HuffmanError::BadPadding);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) fn encode(data: &[u8]) -> Vec<u8> {
    // Test-only encoder: the codes follow from the canonical tables.
    let mut codes = [0u32; 257];
    for len in 1..=MAX_LEN {
        for i in 0..CANON.count[len] {
            let sym = CANON.symbols[usize::from(CANON.offset[len]) + i as usize];
            codes[usize::from(sym)] = CANON.first[len] + i;
        }
    }
    let (mut acc, mut bits, mut out) = (0u64, 0u32, Vec::new());
    for &b in data {
        acc = acc << LENGTHS[usize::from(b)] | u64::from(codes[usize::from(b)]);
        bits += u32::from(LENGTHS[usize::from(b)]);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) as u8) | ((1u8 << (8 - bits)) - 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_complete() {
        // Kraft equality: a complete prefix code sums to exactly one.
        let sum: u64 = LENGTHS.iter().map(|&l| 1u64 << (30 - u32::from(l))).sum();
        assert_eq!(sum, 1u64 << 30);
        // Spot checks against RFC 7541 Appendix B: '0' = 00000, 'a' = 00011, EOS all ones.
        assert_eq!(encode(b"0"), [0x07]);
        assert_eq!(encode(b"a"), [0x1f]);
    }

    #[test]
    fn rfc7541_c4_strings() {
        // RFC 7541 Appendix C.4.1 to C.4.3 and C.6.1.
        let cases: &[(&str, &str)] = &[
            ("f1e3c2e5f23a6ba0ab90f4ff", "www.example.com"),
            ("a8eb10649cbf", "no-cache"),
            ("25a849e95ba97d7f", "custom-key"),
            ("25a849e95bb8e8b4bf", "custom-value"),
            ("6402", "302"),
            ("aec3771a4b", "private"),
            (
                "d07abe941054d444a8200595040b8166e082a62d1bff",
                "Mon, 21 Oct 2013 20:13:21 GMT",
            ),
            (
                "9d29ad171863c78f0b97c8e9ae82ae43d3",
                "https://www.example.com",
            ),
        ];
        for (hex_in, want) in cases {
            let mut out = Vec::new();
            decode(&hex::decode(hex_in).unwrap(), &mut out, 1 << 10).unwrap();
            assert_eq!(out, want.as_bytes());
            assert_eq!(hex::encode(encode(want.as_bytes())), *hex_in);
        }
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        let mut out = Vec::new();
        decode(&encode(&all), &mut out, 1 << 10).unwrap();
        assert_eq!(out, all);
    }

    #[test]
    fn bad_padding_and_caps() {
        let mut out = Vec::new();
        // 'a' (00011) padded with zeros instead of ones.
        assert_eq!(decode(&[0x18], &mut out, 10), Err(HuffmanError::BadPadding));
        // A full byte of ones is more than 7 bits of padding.
        assert_eq!(decode(&[0xff], &mut out, 10), Err(HuffmanError::BadPadding));
        // EOS spelled out: 30 ones.
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], &mut out, 10),
            Err(HuffmanError::BadPadding)
        );
        out.clear();
        assert_eq!(
            decode(&encode(b"abcdef"), &mut out, 3),
            Err(HuffmanError::TooLong)
        );
        assert_eq!(decode(&[], &mut out, 3), Ok(()));
    }
}
