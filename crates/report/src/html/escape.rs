//! HTML escaping of capture text.
//!
//! Everything a report holds about traffic (server names, URIs, certificate subjects, excerpts
//! of payloads) came from the network and may have been written to attack the reader of the
//! report. Every string goes into the page through [`Esc`], in text and in attribute values
//! alike (attributes are always double-quoted), so no byte of it can open a tag, close an
//! attribute or start an entity. C0 controls other than tab and newline, DEL, C1 controls and
//! the non-characters that HTML parsers report as errors become U+FFFD, so a hostile excerpt
//! cannot make the page malformed either.
//!
//! Long values are cut ([`Esc::cut`]): a 64 KiB Host header must not make one table cell the
//! size of a book.

use std::fmt;

/// A string written HTML-escaped, optionally cut to a number of characters.
#[derive(Clone, Copy)]
pub(crate) struct Esc<'a> {
    text: &'a str,
    max_chars: usize,
}

impl<'a> Esc<'a> {
    /// Escaped in full.
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            max_chars: usize::MAX,
        }
    }

    /// Escaped, and cut to `max_chars` characters with an ellipsis when longer.
    pub(crate) fn cut(text: &'a str, max_chars: usize) -> Self {
        Self { text, max_chars }
    }
}

/// Shorthand for [`Esc::new`].
pub(crate) fn esc(text: &str) -> Esc<'_> {
    Esc::new(text)
}

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut start = 0;
        for (n, (i, c)) in self.text.char_indices().enumerate() {
            if n == self.max_chars {
                f.write_str(&self.text[start..i])?;
                return f.write_str("\u{2026}");
            }
            let rep = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                c if is_bad(c) => "\u{FFFD}",
                _ => continue,
            };
            f.write_str(&self.text[start..i])?;
            f.write_str(rep)?;
            start = i + c.len_utf8();
        }
        f.write_str(&self.text[start..])
    }
}

/// Characters HTML parsers reject or that would garble the page (WHATWG HTML, 13.2.5: control
/// characters and noncharacters are parse errors).
fn is_bad(c: char) -> bool {
    let u = u32::from(c);
    (c.is_control() && c != '\t' && c != '\n')
        || (0xFDD0..=0xFDEF).contains(&u)
        || (u & 0xFFFE) == 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\"").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }

    #[test]
    fn replaces_controls_and_noncharacters() {
        assert_eq!(
            esc("a\u{0}b\u{1b}c\td\ne\u{7f}\u{85}\u{FFFF}").to_string(),
            "a\u{FFFD}b\u{FFFD}c\td\ne\u{FFFD}\u{FFFD}\u{FFFD}"
        );
    }

    #[test]
    fn cuts_on_characters_not_bytes() {
        assert_eq!(Esc::cut("h\u{e9}llo", 2).to_string(), "h\u{e9}\u{2026}");
        assert_eq!(Esc::cut("a<b", 2).to_string(), "a&lt;\u{2026}");
        assert_eq!(Esc::cut("abc", 3).to_string(), "abc");
        assert_eq!(Esc::cut("abc", 0).to_string(), "\u{2026}");
    }
}
