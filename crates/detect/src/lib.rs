//! Personal data leaving the device.
//!
//! A lab seeds a test phone with known values (IMEI, phone number, contacts, an SMS, a
//! location), captures its traffic, and asks which of those values left the phone, to whom,
//! and how they were disguised. This crate answers the "which and how" part:
//!
//! - [`profile`] reads the device profile (TOML) and checks its values;
//! - [`variants`] expands each value into every byte string it can take on the wire: normal
//!   forms (E.164, national, MAC with colons or dashes...), then encodings (URL, JSON escapes,
//!   UTF-16, hex, base64 at each alignment) and digests (MD5, SHA-1, SHA-256, SHA-512);
//! - [`scanner`] searches streams for all of them at once, one chunk at a time, carrying the
//!   automaton's state across chunk boundaries, per flow direction;
//! - [`findings`] folds hits into one finding per flow and variant, with a count.
//!
//! # Contract
//!
//! Stream bytes are hostile. Nothing here panics on them: offsets use saturating or checked
//! arithmetic, every index into a chunk is checked, and per-stream memory is bounded by the
//! longest pattern (itself bounded by [`variants::MAX_VALUE_LEN`]) plus fixed caps on pending
//! and paired hits. The number of findings is capped too; what a cap drops is counted.
//!
//! ```
//! use std::sync::Arc;
//! use phonehome_detect::{profile::Profile, scanner::Scanner, variants::Variants};
//!
//! let (profile, _warnings) = Profile::parse("[identifiers]\nimei = \"356938035643809\"\n", "lab.toml")?;
//! let variants = Variants::build(&profile);
//! let scanner = Arc::new(Scanner::new(&variants)?);
//! let mut stream = scanner.stream();
//! let mut hits = Vec::new();
//! stream.feed(b"GET /t?imei=35693803", 0, &mut hits);
//! stream.feed(b"5643809 HTTP/1.1\r\n", 20, &mut hits);
//! stream.finish(&mut hits);
//! assert_eq!(hits.len(), 1);
//! assert_eq!(hits[0].offset, 12);
//! assert_eq!(variants.get(hits[0].variant).unwrap().form, "15_digits");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod decode;
pub mod findings;
#[doc(hidden)]
pub mod fuzzing;
pub mod patterns;
pub mod policy;
pub mod profile;
pub mod scanner;
mod toml_doc;
pub mod variants;
