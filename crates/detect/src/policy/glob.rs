//! Case-insensitive wildcard patterns for names: `*.xiaomi.com`, `Xiaomi*`, `WeChat`.
//!
//! Service, app and organisation names and server names are short and a policy holds a few
//! dozen patterns, so a compiled matcher buys nothing. `globset` compiles to regular expressions
//! and treats `/` as a path separator, which names do not have; this is the classic two-pointer
//! wildcard match instead: linear in practice, `O(pattern × text)` at worst, no allocation per
//! match.
//!
//! `*` matches any run of characters, dots included (`*.xiaomi.com` matches
//! `data.mistat.xiaomi.com` but not `xiaomi.com` itself: the dot before `xiaomi` is literal).
//! `?` matches one character. Nothing else is special. Case is folded with Unicode simple
//! lowercase on both sides, so `wechat` matches `WeChat`.

/// A parsed pattern, lower-cased once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    chars: Vec<char>,
}

impl Glob {
    pub(crate) fn new(pattern: &str) -> Self {
        Self {
            chars: fold(pattern).collect(),
        }
    }

    /// True when the pattern holds a wildcard.
    pub(crate) fn is_wild(&self) -> bool {
        self.chars.iter().any(|&c| c == '*' || c == '?')
    }

    /// Matches `text` (already folded by [`fold_str`]).
    pub(crate) fn matches(&self, text: &[char]) -> bool {
        let (p, t) = (&self.chars, text);
        let (mut pi, mut ti) = (0usize, 0usize);
        // Where the last `*` was, and the text position it currently stands for the end of:
        // on a mismatch the star swallows one more character and matching resumes.
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some('*') => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                    pi += 1;
                    ti += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p.get(pi..)
            .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
    }
}

/// Folds case the same way patterns are folded.
fn fold(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().flat_map(char::to_lowercase)
}

/// A name folded for matching; a trailing root dot (`example.com.`) is dropped.
pub(crate) fn fold_str(s: &str) -> Vec<char> {
    fold(s.strip_suffix('.').unwrap_or(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p).matches(&fold_str(t))
    }

    #[test]
    fn table() {
        let cases: &[(&str, &str, bool)] = &[
            ("WeChat", "wechat", true),
            ("wechat", "WeChat", true),
            ("wechat", "WeChat Pay", false),
            ("*.xiaomi.com", "data.mistat.xiaomi.com", true),
            ("*.xiaomi.com", "xiaomi.com", false),
            ("*.xiaomi.com", "xiaomi.com.evil.net", false),
            ("*.xiaomi.com", "DATA.MISTAT.XIAOMI.COM.", true),
            ("Xiaomi*", "Xiaomi Analytics", true),
            ("Xiaomi*", "xiaomi", true),
            ("Xiaomi*", "MIUI Update", false),
            ("*", "", true),
            ("*", "anything", true),
            ("", "", true),
            ("", "a", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*a*b*c*", "xxaxxbxxcxx", true),
            ("*a*b*c*", "xxaxxcxxbxx", false),
            ("**.qq.com", "weixin.qq.com", true),
            ("*.line-apps.com", "gd2.line-apps.com", true),
            ("抖音", "抖音", true),
            ("ÄPP", "äpp", true),
        ];
        for &(p, t, want) in cases {
            assert_eq!(m(p, t), want, "{p:?} vs {t:?}");
        }
    }

    #[test]
    fn pathological_pattern_ends() {
        // Many stars against a long non-matching text: must finish (and quickly).
        let p = "*a*a*a*a*a*a*a*a*b";
        let t = "a".repeat(2000);
        assert!(!m(p, &t));
        assert!(Glob::new(p).is_wild());
        assert!(!Glob::new("update.miui.com").is_wild());
    }
}
