//! What the two TOML readers, [`crate::profile`] and [`crate::policy`], share: the line of a
//! byte offset, so that every message names one, and warnings put back in file order.

use std::fmt;

/// A TOML text being read, and the warnings found in it so far.
pub(crate) struct Doc<'a> {
    text: &'a str,
    /// Where the text came from (a file name), first in every message.
    pub(crate) source: &'a str,
    /// (line, message), sorted by line at the end: the TOML map does not keep file order.
    warnings: Vec<(usize, String)>,
}

impl<'a> Doc<'a> {
    pub(crate) const fn new(text: &'a str, source: &'a str) -> Self {
        Self {
            text,
            source,
            warnings: Vec::new(),
        }
    }

    /// The 1-based line holding byte `offset` (the last line when past the end).
    pub(crate) fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text
            .as_bytes()
            .get(..end)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
            .saturating_add(1)
    }

    /// The text as a TOML table, or the line and message of its syntax error (line 1 when the
    /// parser gives no position).
    pub(crate) fn parse(&self) -> Result<toml::Spanned<toml::de::DeTable<'a>>, (usize, String)> {
        toml::de::DeTable::parse(self.text).map_err(|e| {
            (
                e.span().map_or(1, |s| self.line(s.start)),
                e.message().trim().to_owned(),
            )
        })
    }

    /// Keeps `source:line: message` for the line holding byte `offset`.
    pub(crate) fn warn(&mut self, offset: usize, message: impl fmt::Display) {
        let line = self.line(offset);
        self.warnings
            .push((line, format!("{}:{line}: {message}", self.source)));
    }

    /// The warnings in file order (of one line, in the order found).
    pub(crate) fn into_warnings(mut self) -> Vec<String> {
        self.warnings.sort_by_key(|w| w.0);
        self.warnings.into_iter().map(|w| w.1).collect()
    }
}
