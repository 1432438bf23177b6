//! `scanbench`: the personal-data scanner against a tokeniser with a hash set, on payloads alone.
//!
//! The question it answers: could the variants of a device profile be found faster by cutting
//! payloads into tokens (runs of decimal digits, numbers with dots, hex digits, letters and
//! digits, the two base64 alphabets) and looking each token up in a hash set, instead of running
//! one Aho-Corasick automaton over every byte? Digests and their hex/base64 encodings are
//! fixed-length tokens, so a hash lookup finds many variants; what it cannot find is whatever is
//! not a whole token: values inside longer runs, text with spaces or punctuation, UTF-16,
//! percent-encoding, base64 at an offset inside a longer blob.
//!
//! It builds the variants of a profile (by default `bench/profile-20.toml`), generates payloads
//! in memory (JSON API bodies, URL targets with query strings, HTML pages, random binary standing
//! for compressed media), each kind the same share of `--mib`, with the profile's values planted
//! in realistic encodings a few times per kind, then measures, best of `--runs`:
//!
//! - `scanner`: the shipped `phonehome_detect::scanner::Scanner`, one stream per payload fed in
//!   64 KiB chunks, as the pipeline does;
//! - `tokens`: the tokeniser and hash set of this file (ahash): every maximal run of each class
//!   is a token, so a decimal run inside an alphanumeric one is looked up too;
//! - `runs`: the cheapest tokeniser, one token per maximal run of bytes of any class;
//! - `dfa+pre`: an aho-corasick DFA with its prefilter on (overlapping search, no verification);
//! - `dfa`: the same DFA without prefilter, driven state by state (the scanner without its checks);
//! - `nfa`: the contiguous NFA the scanner falls back to for large profiles, state by state;
//! - `hybrid`: `runs` for the variants that are runs of token bytes, plus a DFA over the others
//!   (state by state), both passes timed together.
//!
//! and reports, for every planted value, which methods found it (a hit of the same profile entry
//! overlapping the planted bytes), plus the hits outside planted values. Everything is
//! deterministic for a given `--seed`; only the timings vary.

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{dfa, nfa, Anchored, Input, MatchKind, StartKind};
use anyhow::Context;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use clap::Parser;
use md5::Md5;
use phonehome_bench::rng::Rng;
use phonehome_detect::profile::{Phone, Profile};
use phonehome_detect::scanner::{Hit, Scanner};
use phonehome_detect::variants::Variants;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The chunk size the pipeline feeds a stream with.
const CHUNK: usize = 64 * 1024;

/// Measures the profile scanner against a tokeniser with a hash set.
#[derive(Parser, Debug)]
#[command(name = "scanbench", about, long_about = None)]
struct Args {
    /// Device profile whose variants are searched.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/profile-20.toml"))]
    profile: PathBuf,
    /// Payload to generate, MiB in all (split evenly between the four kinds).
    #[arg(long, default_value_t = 256)]
    mib: usize,
    /// Seed of the payload generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Timed runs per method and kind; the best is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// How many times each planted value appears in each kind that carries it.
    #[arg(long, default_value_t = 4)]
    repeat: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.profile)
        .with_context(|| format!("reading {}", args.profile.display()))?;
    let (profile, _warnings) = Profile::parse(&text, &args.profile.display().to_string())
        .with_context(|| format!("parsing {}", args.profile.display()))?;
    let variants = Variants::build(&profile);
    let t = Instant::now();
    let scanner = Arc::new(Scanner::new(&variants)?);
    let built = t.elapsed();
    let pattern_bytes: usize = variants.list().iter().map(|v| v.bytes.len()).sum();
    println!(
        "profile {}: {} variants ({} pattern bytes, longest {}), scanner: {} of {} KiB built in {:.0} ms",
        args.profile
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        variants.list().len(),
        pattern_bytes,
        scanner.max_pattern_len(),
        if scanner.is_dfa() {
            "DFA"
        } else {
            "contiguous NFA"
        },
        scanner.memory_usage() / 1024,
        built.as_secs_f64() * 1e3
    );
    let tokens = Tokeniser::new(&variants, true);
    let runs = Tokeniser::new(&variants, false);
    println!(
        "tokeniser: {} of {} variants are one token of one class ({} keys with whole-value \
         base64); {} are one run of token bytes ({} keys)",
        tokens.token_variants,
        variants.list().len(),
        tokens.map.len(),
        runs.token_variants,
        runs.map.len()
    );
    print_shapes(&variants);

    let patterns: Vec<&[u8]> = variants.list().iter().map(|v| v.bytes.as_slice()).collect();
    let dfa_pre = dfa::Builder::new()
        .match_kind(MatchKind::Standard)
        .start_kind(StartKind::Unanchored)
        .ascii_case_insensitive(true)
        .prefilter(true)
        .build(&patterns)?;
    let dfa_raw = dfa::Builder::new()
        .match_kind(MatchKind::Standard)
        .start_kind(StartKind::Unanchored)
        .ascii_case_insensitive(true)
        .prefilter(false)
        .build(&patterns)?;
    let nfa = nfa::contiguous::Builder::new()
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(true)
        .prefilter(false)
        .build(&patterns)?;
    // The hybrid: whole runs looked up for the variants that are runs of token bytes, an
    // automaton over the rest only.
    let (rest_ids, rest): (Vec<u32>, Vec<&[u8]>) = variants
        .list()
        .iter()
        .filter(|v| !runs.holds(v.id))
        .map(|v| (v.id, v.bytes.as_slice()))
        .unzip();
    let dfa_rest = dfa::Builder::new()
        .match_kind(MatchKind::Standard)
        .start_kind(StartKind::Unanchored)
        .ascii_case_insensitive(true)
        .prefilter(false)
        .build(&rest)?;
    println!(
        "hybrid: DFA of the {} other variants, {} KiB",
        rest.len(),
        dfa_rest.memory_usage() / 1024
    );
    println!(
        "dfa+pre: prefilter {}; dfa {} KiB; contiguous nfa {} KiB",
        if dfa_pre.prefilter().is_some() {
            "built"
        } else {
            "not built (too many patterns for one)"
        },
        dfa_raw.memory_usage() / 1024,
        nfa.memory_usage() / 1024
    );

    let t = Instant::now();
    let plants = plant_specs(&profile);
    let per_kind = args.mib.saturating_mul(1 << 20) / KINDS.len();
    let corpora: Vec<Corpus> = KINDS
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            let specs: Vec<&PlantSpec> = plants.iter().filter(|p| p.kind == kind).collect();
            let seed = args.seed.wrapping_mul(31).wrapping_add(i as u64);
            Corpus::generate(kind, per_kind, seed, &specs, args.repeat)
        })
        .collect();
    println!(
        "payload: {} MiB generated in {:.1} s ({})",
        corpora.iter().map(|c| c.data.len()).sum::<usize>() >> 20,
        t.elapsed().as_secs_f64(),
        corpora
            .iter()
            .map(|c| format!(
                "{} {} payloads, {} planted",
                c.kind.name(),
                c.messages.len(),
                c.planted.len()
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );

    let methods: [Method<'_>; 7] = [
        ("scanner", &|c, out| run_scanner(&scanner, c, out)),
        ("tokens", &|c, out| run_tokens(&tokens, c, out)),
        ("runs", &|c, out| run_tokens(&runs, c, out)),
        ("dfa+pre", &|c, out| run_overlapping(&dfa_pre, c, out)),
        ("dfa", &|c, out| run_states(&dfa_raw, None, c, out)),
        ("nfa", &|c, out| run_states(&nfa, None, c, out)),
        ("hybrid", &|c, out| {
            run_tokens(&runs, c, out);
            run_states(&dfa_rest, Some(&rest_ids), c, out);
        }),
    ];
    // results[method][kind] = (best seconds, hits of the last run)
    let mut results: Vec<Vec<(f64, Vec<Found>)>> = Vec::new();
    for (name, method) in &methods {
        let mut row = Vec::new();
        for c in &corpora {
            let mut best = f64::INFINITY;
            let mut hits = Vec::new();
            for _ in 0..args.runs.max(1) {
                hits.clear();
                let t = Instant::now();
                method(c, &mut hits);
                best = best.min(t.elapsed().as_secs_f64());
            }
            eprintln!(
                "{name:>8} {:>6}: {:.3} GB/s",
                c.kind.name(),
                gbps(c.data.len(), best)
            );
            row.push((best, hits));
        }
        results.push(row);
    }

    println!();
    println!("Throughput, GB/s (best of {}, one core):", args.runs.max(1));
    println!();
    let mut head = String::from("| payload | MiB |");
    let mut rule = String::from("|---|---:|");
    for (name, _) in &methods {
        head.push_str(&format!(" {name} |"));
        rule.push_str("---:|");
    }
    println!("{head}\n{rule}");
    for (k, c) in corpora.iter().enumerate() {
        let mut line = format!("| {} | {} |", c.kind.name(), c.data.len() >> 20);
        for row in &results {
            line.push_str(&format!(" {:.2} |", gbps(c.data.len(), row[k].0)));
        }
        println!("{line}");
    }
    let total: usize = corpora.iter().map(|c| c.data.len()).sum();
    let mut line = format!("| all | {} |", total >> 20);
    for row in &results {
        let secs: f64 = row.iter().map(|r| r.0).sum();
        line.push_str(&format!(" {:.2} |", gbps(total, secs)));
    }
    println!("{line}");

    println!();
    println!("Planted values found (of the times planted):");
    println!();
    let mut head = String::from("| payload | planted as | entry |");
    let mut rule = String::from("|---|---|---|");
    for (name, _) in &methods {
        head.push_str(&format!(" {name} |"));
        rule.push_str("---:|");
    }
    println!("{head}\n{rule}");
    let mut found_all = vec![0usize; methods.len()];
    let mut planted_all = 0usize;
    let mut other = vec![vec![0usize; corpora.len()]; methods.len()];
    let mut chance: Vec<(&str, String)> = Vec::new();
    for (k, c) in corpora.iter().enumerate() {
        let mut sorted: Vec<Vec<Found>> = results
            .iter()
            .map(|row| {
                let mut h = row[k].1.clone();
                h.sort_by_key(|f| f.start);
                h
            })
            .collect();
        for (m, hits) in sorted.iter_mut().enumerate() {
            for h in hits
                .iter()
                .filter(|h| !c.planted.iter().any(|p| overlaps(&p.span, h)))
            {
                other[m][k] += 1;
                let what = variants.get(h.variant).map_or_else(String::new, |v| {
                    let text = String::from_utf8_lossy(c.data.get(h.start..h.end).unwrap_or(&[]))
                        .escape_debug()
                        .to_string();
                    format!(
                        "{} {} {} {text:?}",
                        v.label,
                        v.form,
                        if v.encoding.is_empty() {
                            "plain".to_owned()
                        } else {
                            v.encoding.join("-")
                        }
                    )
                });
                let name = c.kind.name();
                if !chance.iter().any(|(k, w)| *k == name && *w == what) {
                    chance.push((name, what));
                }
            }
        }
        // Planted values are sorted by spec: one row per run of the same spec.
        let mut rows: Vec<(&str, &str)> = c
            .planted
            .iter()
            .map(|p| (p.desc, p.label.as_str()))
            .collect();
        rows.dedup();
        for (desc, label) in rows {
            let these: Vec<&Planted> = c
                .planted
                .iter()
                .filter(|p| p.desc == desc && p.label == label)
                .collect();
            let mut line = format!("| {} | {desc} | {label} |", c.kind.name());
            for (m, hits) in sorted.iter().enumerate() {
                let n = these.iter().filter(|p| found(&variants, hits, p)).count();
                found_all[m] += n;
                line.push_str(&format!(" {n}/{} |", these.len()));
            }
            planted_all += these.len();
            println!("{line}");
        }
    }
    let mut line = String::from("| all | | |");
    for n in &found_all {
        line.push_str(&format!(" {n}/{planted_all} |"));
    }
    println!("{line}");
    println!();
    println!("Hits outside planted values (chance matches; raw automata are not verified):");
    println!();
    let mut head = String::from("| payload |");
    let mut rule = String::from("|---|");
    for (name, _) in &methods {
        head.push_str(&format!(" {name} |"));
        rule.push_str("---:|");
    }
    println!("{head}\n{rule}");
    for (k, c) in corpora.iter().enumerate() {
        let mut line = format!("| {} |", c.kind.name());
        for row in &other {
            line.push_str(&format!(" {} |", row[k]));
        }
        println!("{line}");
    }
    if !chance.is_empty() {
        println!();
        for (kind, what) in &chance {
            println!("- {kind}: {what}");
        }
    }
    Ok(())
}

/// A method's name and its run over one corpus, pushing what it finds.
type Method<'a> = (&'static str, &'a dyn Fn(&Corpus, &mut Vec<Found>));

fn gbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs.max(1e-9) / 1e9
}

/// One match, in corpus offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Found {
    variant: u32,
    start: usize,
    end: usize,
}

fn overlaps(span: &Range<usize>, h: &Found) -> bool {
    h.start < span.end && span.start < h.end
}

/// Whether `hits` (sorted by start) hold a variant of the planted entry overlapping it.
fn found(variants: &Variants, hits: &[Found], p: &Planted) -> bool {
    // Hits are at most a few hundred bytes long (the longest variant, or a location pair).
    let from = hits.partition_point(|h| h.start + 4096 < p.span.start);
    hits[from..]
        .iter()
        .take_while(|h| h.start < p.span.end)
        .any(|h| {
            overlaps(&p.span, h) && variants.get(h.variant).is_some_and(|v| v.label == p.label)
        })
}

// ---------------------------------------------------------------------------------------------
// The methods.

fn run_scanner(scanner: &Arc<Scanner>, c: &Corpus, out: &mut Vec<Found>) {
    let mut hits: Vec<Hit> = Vec::new();
    for m in &c.messages {
        let Some(payload) = c.data.get(m.clone()) else {
            continue;
        };
        let mut st = scanner.stream();
        for (i, chunk) in payload.chunks(CHUNK).enumerate() {
            st.feed(chunk, (i * CHUNK) as u64, &mut hits);
        }
        st.finish(&mut hits);
        for h in hits.drain(..) {
            let start = m.start + h.offset as usize;
            out.push(Found {
                variant: h.variant,
                start,
                end: start + h.len as usize,
            });
        }
    }
}

fn run_tokens(t: &Tokeniser, c: &Corpus, out: &mut Vec<Found>) {
    let mut scratch = Vec::new();
    for m in &c.messages {
        if let Some(payload) = c.data.get(m.clone()) {
            t.scan(payload, m.start, &mut scratch, out);
        }
    }
}

/// The library's own overlapping search, which uses the prefilter when there is one.
fn run_overlapping(a: &dfa::DFA, c: &Corpus, out: &mut Vec<Found>) {
    for m in &c.messages {
        let Some(payload) = c.data.get(m.clone()) else {
            continue;
        };
        // Unanchored overlapping searches on a Standard-semantics DFA cannot fail.
        let Ok(iter) = a.try_find_overlapping_iter(Input::new(payload)) else {
            continue;
        };
        for x in iter {
            out.push(Found {
                variant: x.pattern().as_u32(),
                start: m.start + x.start(),
                end: m.start + x.end(),
            });
        }
    }
}

/// The state loop of the scanner, without its verification, over 64 KiB chunks.
/// `ids` maps the automaton's pattern ids to variant ids when it holds only some variants.
fn run_states<A: Automaton>(a: &A, ids: Option<&[u32]>, c: &Corpus, out: &mut Vec<Found>) {
    let Ok(start) = a.start_state(Anchored::No) else {
        return;
    };
    for m in &c.messages {
        let Some(payload) = c.data.get(m.clone()) else {
            continue;
        };
        let mut sid: StateID = start;
        for (k, chunk) in payload.chunks(CHUNK).enumerate() {
            let base = m.start + k * CHUNK;
            for (i, &b) in chunk.iter().enumerate() {
                sid = a.next_state(Anchored::No, sid, b);
                if a.is_special(sid) && a.is_match(sid) {
                    for j in 0..a.match_len(sid) {
                        let p = a.match_pattern(sid, j);
                        let end = base + i + 1;
                        let variant = match ids {
                            Some(ids) => ids.get(p.as_usize()).copied().unwrap_or(u32::MAX),
                            None => p.as_u32(),
                        };
                        out.push(Found {
                            variant,
                            start: end.saturating_sub(a.pattern_len(p)),
                            end,
                        });
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tokeniser.

/// Token classes, one bit each; a byte belongs to every class whose set holds it.
const DEC: u8 = 1; // 0-9
const NUM: u8 = 2; // 0-9 and '.': decimals such as coordinates
const HEX: u8 = 4; // 0-9 a-f A-F
const ALNUM: u8 = 8; // 0-9 a-z A-Z: plain words and identifiers
const B64: u8 = 16; // the base64 alphabet (RFC 4648 section 4)
const B64URL: u8 = 32; // the base64url alphabet (section 5), also UUIDs
const B64ANY: u8 = 64; // both alphabets at once, as in "Lin+Mei-hua"

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut m = 0;
        if b.is_ascii_digit() {
            m |= DEC | NUM | HEX | ALNUM | B64 | B64URL | B64ANY;
        } else if b.is_ascii_hexdigit() {
            m |= HEX | ALNUM | B64 | B64URL | B64ANY;
        } else if b.is_ascii_alphabetic() {
            m |= ALNUM | B64 | B64URL | B64ANY;
        } else if b == b'.' {
            m |= NUM;
        } else if b == b'+' || b == b'/' {
            m |= B64 | B64ANY;
        } else if b == b'-' || b == b'_' {
            m |= B64URL | B64ANY;
        }
        t[i] = m;
        i += 1;
    }
    t
};

/// The classes every byte of `s` belongs to: non-zero when `s` is one token of some class.
fn token_classes(s: &[u8]) -> u8 {
    s.iter().fold(0x7f, |m, &b| m & CLASS[usize::from(b)])
}

#[derive(Debug)]
struct Entry {
    variant: u32,
    /// The bytes a case-sensitive variant must equal; None when any ASCII case matches.
    exact: Option<Vec<u8>>,
}

/// Variants that are whole tokens, in a hash map keyed by their lowercase bytes.
struct Tokeniser {
    map: HashMap<Vec<u8>, Range<usize>, ahash::RandomState>,
    entries: Vec<Entry>,
    /// `lens[n]`: some key is `n` bytes long.
    lens: Vec<bool>,
    /// The shortest key: runs of token bytes shorter than this are skipped whole.
    min_len: usize,
    /// One bit per (first, second) byte of a key: most tokens are rejected before hashing.
    heads: Vec<u64>,
    /// Split runs into the runs of each class (else a run of token bytes is one token).
    split: bool,
    token_variants: usize,
    /// `is_key[id]`: the variant is a key (as itself, not only through its whole base64).
    is_key: Vec<bool>,
}

/// The bit of `heads` for a token's first two bytes (ASCII case folded).
fn head(token: &[u8]) -> usize {
    let b = |i: usize| usize::from(token.get(i).copied().unwrap_or(0).to_ascii_lowercase());
    b(0) << 8 | b(1)
}

impl Tokeniser {
    /// `split`: tokens are the runs of each class; else the runs of bytes of any class.
    fn new(variants: &Variants, split: bool) -> Self {
        let mut keyed: Vec<(Vec<u8>, Entry)> = Vec::new();
        let mut token_variants = 0;
        let mut holds = vec![false; variants.list().len()];
        for v in variants.list() {
            let token = if split {
                token_classes(&v.bytes) != 0
            } else {
                v.bytes.iter().all(|&b| CLASS[usize::from(b)] != 0)
            };
            if token {
                token_variants += 1;
                if let Some(h) = holds.get_mut(v.id as usize) {
                    *h = true;
                }
                keyed.push((
                    v.bytes.to_ascii_lowercase(),
                    Entry {
                        variant: v.id,
                        exact: (!v.case_insensitive).then(|| v.bytes.clone()),
                    },
                ));
            }
            // The automaton's base64 variants are the characters that do not depend on the
            // neighbouring bytes, which is shorter than the whole encoding of a value standing
            // alone unless its length is a multiple of 3: a token lookup needs the whole one.
            if v.encoding.is_empty() {
                for enc in [
                    STANDARD_NO_PAD.encode(&v.bytes),
                    URL_SAFE_NO_PAD.encode(&v.bytes),
                ] {
                    keyed.push((
                        enc.to_ascii_lowercase().into_bytes(),
                        Entry {
                            variant: v.id,
                            exact: Some(enc.into_bytes()),
                        },
                    ));
                }
            }
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.0 == b.0 && a.1.exact == b.1.exact);
        let mut map = HashMap::with_hasher(ahash::RandomState::with_seeds(1, 2, 3, 4));
        let mut entries = Vec::new();
        let mut lens = Vec::new();
        let mut heads = vec![0u64; 1 << 10];
        let mut i = 0;
        while i < keyed.len() {
            let key = keyed[i].0.clone();
            let from = entries.len();
            while i < keyed.len() && keyed[i].0 == key {
                let (_, e) = std::mem::replace(
                    &mut keyed[i],
                    (
                        Vec::new(),
                        Entry {
                            variant: 0,
                            exact: None,
                        },
                    ),
                );
                entries.push(e);
                i += 1;
            }
            if lens.len() <= key.len() {
                lens.resize(key.len() + 1, false);
            }
            lens[key.len()] = true;
            let h = head(&key);
            heads[h / 64] |= 1 << (h % 64);
            map.insert(key, from..entries.len());
        }
        let min_len = lens.iter().position(|&x| x).unwrap_or(usize::MAX);
        Self {
            map,
            entries,
            lens,
            min_len,
            heads,
            split,
            token_variants,
            is_key: holds,
        }
    }

    /// Whether the variant is found by lookup (it is a whole token).
    fn holds(&self, variant: u32) -> bool {
        self.is_key.get(variant as usize).copied().unwrap_or(false)
    }

    /// Looks up every token of `hay`; `base` is its corpus offset. Runs of bytes that belong to
    /// some class are found first, 64 bytes at a time (a bit mask of token bytes, whose edges
    /// are the runs' starts and ends, so the loop does not branch per byte); a run shorter than
    /// any key is skipped whole (most words are), only longer ones are looked up.
    fn scan(&self, hay: &[u8], base: usize, scratch: &mut Vec<u8>, out: &mut Vec<Found>) {
        let mut start = 0usize;
        // Whether the byte before the current block is a token byte (its run is still open).
        let mut carry = 0u64;
        for (k, block) in hay.chunks(64).enumerate() {
            let at = k * 64;
            let mut mask = 0u64;
            for (j, &b) in block.iter().enumerate() {
                mask |= u64::from(CLASS[usize::from(b)] != 0) << j;
            }
            let before = mask << 1 | carry;
            let starts = mask & !before;
            // A bit past a short last block is 0, so a run ending the payload ends there too.
            let ends = !mask & before;
            let mut edges = starts | ends;
            while edges != 0 {
                let j = edges.trailing_zeros() as usize;
                edges &= edges - 1;
                if starts & (1 << j) != 0 {
                    start = at + j;
                } else {
                    self.run(hay, start, at + j, base, scratch, out);
                }
            }
            carry = mask >> 63;
        }
        // A run reaching the end of a payload whose length is a multiple of 64.
        if carry != 0 {
            self.run(hay, start, hay.len(), base, scratch, out);
        }
    }

    fn run(
        &self,
        hay: &[u8],
        start: usize,
        end: usize,
        base: usize,
        scratch: &mut Vec<u8>,
        out: &mut Vec<Found>,
    ) {
        if end - start >= self.min_len {
            if let Some(run) = hay.get(start..end) {
                self.classes(run, base + start, scratch, out);
            }
        }
    }

    /// The tokens of one run of token bytes: with `split`, the maximal runs of every class
    /// inside it (walked once, a class's run ending where its bytes stop); without, the run
    /// itself.
    fn classes(&self, run: &[u8], base: usize, scratch: &mut Vec<u8>, out: &mut Vec<Found>) {
        if !self.split {
            self.lookup(run, base, scratch, out);
            return;
        }
        let mut starts = [0usize; 8];
        let mut prev = 0u8;
        for (i, &b) in run.iter().enumerate() {
            let m = CLASS[usize::from(b)];
            if m == prev {
                continue;
            }
            let ended = prev & !m;
            if ended != 0 {
                self.ended(run, &starts, ended, i, base, scratch, out);
            }
            let mut started = m & !prev;
            while started != 0 {
                starts[started.trailing_zeros() as usize] = i;
                started &= started - 1;
            }
            prev = m;
        }
        self.ended(run, &starts, prev, run.len(), base, scratch, out);
    }

    /// Looks up the runs of the classes in `ended`, all ending at `end`.
    #[allow(clippy::too_many_arguments)]
    fn ended(
        &self,
        run: &[u8],
        starts: &[usize; 8],
        ended: u8,
        end: usize,
        base: usize,
        scratch: &mut Vec<u8>,
        out: &mut Vec<Found>,
    ) {
        // Runs of several classes often coincide ("2024" is decimal, hex and alphanumeric):
        // each distinct run is looked up once.
        let mut done = [usize::MAX; 8];
        let mut n = 0;
        let mut e = ended;
        while e != 0 {
            let s = starts[e.trailing_zeros() as usize];
            e &= e - 1;
            if end - s < self.min_len || done[..n].contains(&s) {
                continue;
            }
            done[n] = s;
            n += 1;
            if let Some(token) = run.get(s..end) {
                self.lookup(token, base + s, scratch, out);
            }
        }
    }

    /// Looks one token up; `at` is its corpus offset.
    fn lookup(&self, token: &[u8], at: usize, scratch: &mut Vec<u8>, out: &mut Vec<Found>) {
        if !self.lens.get(token.len()).copied().unwrap_or(false) {
            return;
        }
        let h = head(token);
        if self
            .heads
            .get(h / 64)
            .is_none_or(|w| w & (1 << (h % 64)) == 0)
        {
            return;
        }
        scratch.clear();
        scratch.extend(token.iter().map(u8::to_ascii_lowercase));
        let Some(r) = self.map.get(scratch.as_slice()) else {
            return;
        };
        for entry in self.entries.get(r.clone()).unwrap_or(&[]) {
            if entry.exact.as_deref().is_none_or(|x| x == token) {
                out.push(Found {
                    variant: entry.variant,
                    start: at,
                    end: at + token.len(),
                });
            }
        }
    }
}

/// Variants by encoding, and how many of each are one token.
fn print_shapes(variants: &Variants) {
    let mut by: Vec<(String, usize, usize)> = Vec::new();
    for v in variants.list() {
        let key = if v.encoding.is_empty() {
            "plain".to_owned()
        } else {
            v.encoding.join("-")
        };
        let tok = usize::from(token_classes(&v.bytes) != 0);
        match by.iter_mut().find(|x| x.0 == key) {
            Some(x) => {
                x.1 += 1;
                x.2 += tok;
            }
            None => by.push((key, 1, tok)),
        }
    }
    by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let parts: Vec<String> = by.iter().map(|(k, n, t)| format!("{k} {t}/{n}")).collect();
    println!("one-token variants by encoding: {}", parts.join(", "));
}

// ---------------------------------------------------------------------------------------------
// The payloads.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Json,
    Query,
    Html,
    Binary,
}

const KINDS: [Kind; 4] = [Kind::Json, Kind::Query, Kind::Html, Kind::Binary];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Query => "query",
            Self::Html => "html",
            Self::Binary => "binary",
        }
    }
}

/// A value to plant: where, in which encoding, and which profile entry it belongs to.
#[derive(Debug)]
struct PlantSpec {
    kind: Kind,
    desc: &'static str,
    label: String,
    bytes: Vec<u8>,
    /// Offset and length, inside `bytes`, of the value itself (the rest is its key or markup).
    value: Range<usize>,
}

/// A planted value in a corpus.
#[derive(Debug)]
struct Planted {
    desc: &'static str,
    label: String,
    span: Range<usize>,
}

/// The value without the separators people write in identifiers (as the profile reads them).
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '/' | ':' | '\t'))
        .collect()
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The profile's values as apps send them. Entries the profile lacks are skipped.
fn plant_specs(p: &Profile) -> Vec<PlantSpec> {
    let mut out = Vec::new();
    let mut add = |kind, desc, label: &str, before: &str, value: Vec<u8>, after: &str| {
        let mut bytes = before.as_bytes().to_vec();
        let at = bytes.len();
        bytes.extend_from_slice(&value);
        let value = at..bytes.len();
        bytes.extend_from_slice(after.as_bytes());
        out.push(PlantSpec {
            kind,
            desc,
            label: label.to_owned(),
            bytes,
            value,
        });
    };
    let ids = &p.identifiers;
    let e164 = |s: &str| Phone::parse(s, None).ok().map(|x| x.e164());
    let b = |s: &str| s.as_bytes().to_vec();
    use Kind::{Binary, Html, Json, Query};
    if let Some(imei) = ids.imei.as_deref().map(compact) {
        add(Json, "JSON string", "imei", "\"imei\":\"", b(&imei), "\"");
        let md5 = hex::encode(Md5::digest(imei.as_bytes()));
        add(Json, "MD5 hex", "imei", "\"did\":\"", b(&md5), "\"");
        let sha = hex::encode_upper(Sha256::digest(imei.as_bytes()));
        add(Json, "SHA-256 HEX", "imei", "\"h\":\"", b(&sha), "\"");
        add(Query, "query value", "imei", "imei=", b(&imei), "");
        let b64 = STANDARD.encode(imei.as_bytes());
        add(Query, "base64 of the value", "imei", "d=", b(&b64), "");
        let hexed = hex::encode(format!("imei={imei};v=3"));
        add(Query, "hex of a longer string", "imei", "q=", b(&hexed), "");
        add(Binary, "ASCII in binary", "imei", "", b(&imei), "");
    }
    if let Some(imsi) = ids.imsi.as_deref().map(compact) {
        let sha1 = STANDARD.encode(Sha1::digest(imsi.as_bytes()));
        add(Json, "SHA-1 base64", "imsi", "\"sid\":\"", b(&sha1), "\"");
        let sha = URL_SAFE_NO_PAD.encode(Sha256::digest(imsi.as_bytes()));
        add(Query, "SHA-256 base64url", "imsi", "t=", b(&sha), "");
    }
    if let Some(iccid) = ids.iccid.as_deref().map(compact) {
        add(Binary, "UTF-16LE", "iccid", "", utf16le(&iccid), "");
    }
    if let Some(phone) = ids.phone.as_deref() {
        if let Some(e) = e164(phone) {
            add(Json, "E.164 in JSON", "phone", "\"tel\":\"", b(&e), "\"");
            let blob = STANDARD.encode(format!("{{\"uid\":52173,\"tel\":\"{e}\",\"v\":2}}"));
            add(
                Json,
                "inside a base64 blob",
                "phone",
                "\"ext\":\"",
                b(&blob),
                "\"",
            );
            let url = e.replace('+', "%2B");
            add(Query, "E.164 percent-encoded", "phone", "tel=", b(&url), "");
            add(Binary, "UTF-16LE", "phone", "", utf16le(&e), "");
        }
        add(
            Html,
            "as written (spaces)",
            "phone",
            "<p>Tel: ",
            b(phone.trim()),
            "</p>",
        );
    }
    if let Some(s) = ids.serial.as_deref() {
        add(Query, "query value", "serial", "sn=", b(s.trim()), "");
    }
    if let Some(s) = ids.android_id.as_deref().map(compact) {
        add(Json, "hex id", "android_id", "\"aid\":\"", b(&s), "\"");
        // A protobuf string field (tag 2, wire type 2): length byte, then the text.
        let mut pb = vec![0x12, s.len() as u8];
        pb.extend_from_slice(s.as_bytes());
        add(Binary, "protobuf string", "android_id", "", pb, "");
    }
    if let Some(s) = ids.advertising_id.as_deref() {
        add(
            Json,
            "UUID",
            "advertising_id",
            "\"gaid\":\"",
            b(s.trim()),
            "\"",
        );
    }
    if let Some(s) = ids.wifi_mac.as_deref() {
        let upper = s.trim().to_ascii_uppercase();
        add(
            Json,
            "MAC with colons",
            "wifi_mac",
            "\"mac\":\"",
            b(&upper),
            "\"",
        );
    }
    if let Some(s) = ids.bt_mac.as_deref() {
        let bare: String = s.chars().filter(char::is_ascii_hexdigit).collect();
        add(Query, "bare MAC", "bt_mac", "bt=", b(&bare), "");
    }
    if let Some(s) = p.owner.name.as_deref() {
        add(Json, "name", "owner.name", "\"nick\":\"", b(s), "\"");
        add(
            Query,
            "form-encoded name",
            "owner.name",
            "name=",
            b(&s.replace(' ', "+")),
            "",
        );
        add(
            Html,
            "name in text",
            "owner.name",
            "<span class=\"user\">",
            b(s),
            "</span>",
        );
    }
    if let Some(s) = p.owner.email.as_deref() {
        add(Json, "email", "owner.email", "\"email\":\"", b(s), "\"");
        add(
            Query,
            "email percent-encoded",
            "owner.email",
            "u=",
            b(&s.replace('@', "%40")),
            "",
        );
        add(
            Html,
            "mailto link",
            "owner.email",
            "<a href=\"mailto:",
            b(s),
            "\">mail</a>",
        );
    }
    if let Some(c) = p.contacts.first() {
        if let Some(name) = c.name.as_deref() {
            add(
                Html,
                "contact name",
                "contacts[0].name",
                "<li>",
                b(name),
                "</li>",
            );
        }
    }
    if let Some(m) = p.sms.first() {
        if let Some(body) = m.body.as_deref() {
            add(Html, "SMS body", "sms[0].body", "<p>", b(body), "</p>");
            if let Some(code) = body
                .split(|c: char| !c.is_ascii_digit())
                .find(|r| r.len() >= 6)
            {
                add(
                    Json,
                    "one-time code",
                    "sms[0].code",
                    "\"otp\":\"",
                    b(code),
                    "\"",
                );
            }
        }
    }
    if let Some(l) = p.locations.first() {
        let pair = format!("\"lat\":{},\"lng\":{}", l.lat, l.lon);
        add(Json, "lat/lng pair", "locations[0]", "", b(&pair), "");
        let ll = format!("{}%2C{}", l.lat, l.lon);
        add(
            Query,
            "pair percent-encoded",
            "locations[0]",
            "ll=",
            b(&ll),
            "",
        );
        let text = format!("{:.6}, {:.6}", l.lat, l.lon);
        add(
            Html,
            "pair in text",
            "locations[0]",
            "<td>",
            b(&text),
            "</td>",
        );
        add(
            Binary,
            "pair in UTF-16LE",
            "locations[0]",
            "",
            utf16le(&format!("{},{}", l.lat, l.lon)),
            "",
        );
    }
    out
}

/// Generated payloads of one kind, back to back in one buffer.
struct Corpus {
    kind: Kind,
    data: Vec<u8>,
    messages: Vec<Range<usize>>,
    planted: Vec<Planted>,
}

impl Corpus {
    /// About `bytes` of payloads; each spec planted `repeat` times at evenly spread random offsets.
    fn generate(kind: Kind, bytes: usize, seed: u64, specs: &[&PlantSpec], repeat: usize) -> Self {
        let mut g = Gen::new(seed);
        // Where plants go: random corpus offsets, sorted; the payload being written when an
        // offset is passed carries the next plant (a payload carries one at most).
        let mut due: Vec<(usize, usize)> = (0..specs.len() * repeat)
            .map(|i| (g.rng.below(bytes as u64) as usize, i % specs.len()))
            .collect();
        due.sort_unstable();
        let mut due = due.into_iter().peekable();
        let mut data = Vec::with_capacity(bytes + (4 << 20));
        let mut messages = Vec::new();
        let mut planted = Vec::new();
        // Plants still due at the end (more than payloads) get payloads of their own.
        while data.len() < bytes || due.peek().is_some() {
            let start = data.len();
            let spec = match due.peek() {
                Some(&(at, i)) if at <= start || start >= bytes => {
                    due.next();
                    specs.get(i).copied()
                }
                _ => None,
            };
            let plant = spec.map(|s| s.bytes.as_slice());
            let at = match kind {
                Kind::Json => g.json(&mut data, plant),
                Kind::Query => g.query(&mut data, plant),
                Kind::Html => g.html(&mut data, plant),
                Kind::Binary => g.binary(&mut data, plant),
            };
            if let (Some(s), Some(at)) = (spec, at) {
                planted.push(Planted {
                    desc: s.desc,
                    label: s.label.clone(),
                    span: at + s.value.start..at + s.value.end,
                });
            }
            messages.push(start..data.len());
        }
        // Group the report's rows by plant, in the order of the specs.
        planted.sort_by_key(|p| {
            (
                specs
                    .iter()
                    .position(|s| s.desc == p.desc && s.label == p.label),
                p.span.start,
            )
        });
        Self {
            kind,
            data,
            messages,
            planted,
        }
    }
}

const WORDS: &str =
    "the of and to in is for on with as by at from this that be are or an it not your all new \
     more can will about one user device session event data value status result error message \
     config version update account profile settings search video image music share comment like \
     follow feed item order price count total page index channel region language network \
     battery screen model brand vendor package install launch click impression duration \
     timestamp latency request response token nonce signature payload content title description \
     category tags location weather news sports travel shopping coupon wallet payment invoice \
     delivery address city street friend group chat sticker emoji theme light dark mode enabled \
     disabled default android ios web release beta stable cache retry timeout upload download \
     complete";

const KEYS: &str =
    "id uid user_id sessionId ts event type name title status code msg data items count page \
     size total price currency lang region os osVersion appVersion model brand net carrier \
     screen dpi sdk channel abtest trace_id requestId nonce sign token payload url cover \
     duration width height score rank tags extra cursor hasMore expires createdAt updatedAt";

const B64_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct Gen {
    rng: Rng,
    words: Vec<&'static str>,
    keys: Vec<&'static str>,
}

impl Gen {
    fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            words: WORDS.split_ascii_whitespace().collect(),
            keys: KEYS.split_ascii_whitespace().collect(),
        }
    }

    fn word(&mut self) -> &'static str {
        let i = self.rng.below(self.words.len() as u64) as usize;
        self.words.get(i).copied().unwrap_or("")
    }

    fn key(&mut self) -> &'static str {
        let i = self.rng.below(self.keys.len() as u64) as usize;
        self.keys.get(i).copied().unwrap_or("id")
    }

    fn words(&mut self, out: &mut Vec<u8>, n: u64, sep: u8) {
        for i in 0..n {
            if i > 0 {
                out.push(sep);
            }
            out.extend_from_slice(self.word().as_bytes());
        }
    }

    fn hex(&mut self, out: &mut Vec<u8>, n: usize) {
        const DIGITS: &[u8] = b"0123456789abcdef";
        for _ in 0..n {
            out.push(DIGITS[self.rng.below(16) as usize]);
        }
    }

    fn digits(&mut self, out: &mut Vec<u8>, n: usize) {
        out.push(b'1' + self.rng.below(9) as u8);
        for _ in 1..n {
            out.push(b'0' + self.rng.below(10) as u8);
        }
    }

    fn chars(&mut self, out: &mut Vec<u8>, alphabet: &[u8], n: usize) {
        for _ in 0..n {
            out.push(*self.rng.pick(alphabet));
        }
    }

    fn uuid(&mut self, out: &mut Vec<u8>) {
        for (i, n) in [8, 4, 4, 4, 12].into_iter().enumerate() {
            if i > 0 {
                out.push(b'-');
            }
            self.hex(out, n);
        }
    }

    /// One JSON value: the shapes of mobile API traffic.
    fn json_value(&mut self, out: &mut Vec<u8>, depth: u32) {
        match self.rng.below(20) {
            0..=3 => {
                out.push(b'"');
                let n = *self.rng.pick(&[16, 24, 32, 40, 64]);
                self.hex(out, n);
                out.push(b'"');
            }
            4..=6 => {
                let n = self.rng.range(1, 10) as usize;
                self.digits(out, n);
            }
            7 => {
                self.digits(out, 13); // a timestamp in milliseconds
            }
            8 => {
                let n = self.rng.range(1, 4) as usize;
                self.digits(out, n);
                out.push(b'.');
                let n = self.rng.range(1, 7) as usize;
                self.digits(out, n);
            }
            9..=11 => {
                out.push(b'"');
                let n = self.rng.range(1, 7);
                self.words(out, n, b' ');
                out.push(b'"');
            }
            12..=13 => {
                out.push(b'"');
                let n = self.rng.range(4, 60) as usize;
                self.chars(out, B64_CHARS, 4 * n);
                out.push(b'"');
            }
            14 => {
                out.push(b'"');
                self.uuid(out);
                out.push(b'"');
            }
            15 => out.extend_from_slice(self.rng.pick::<&[u8]>(&[&b"true"[..], b"false", b"null"])),
            16 => {
                out.extend_from_slice(b"\"https://");
                self.words(out, 2, b'.');
                out.extend_from_slice(b".com/");
                self.words(out, 2, b'/');
                out.push(b'"');
            }
            _ if depth < 2 => {
                out.push(b'[');
                let n = self.rng.range(1, 6);
                for i in 0..n {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.json_object(out, depth + 1, 2, 8, None);
                }
                out.push(b']');
            }
            _ => {
                let n = self.rng.range(1, 6) as usize;
                self.digits(out, n);
            }
        }
    }

    fn json_object(
        &mut self,
        out: &mut Vec<u8>,
        depth: u32,
        lo: u64,
        hi: u64,
        plant: Option<&[u8]>,
    ) -> Option<usize> {
        let n = self.rng.range(lo, hi);
        let slot = plant.map(|_| self.rng.below(n + 1));
        let mut at = None;
        let mut first = true;
        out.push(b'{');
        for i in 0..=n {
            if slot == Some(i) {
                if !first {
                    out.push(b',');
                }
                at = Some(out.len());
                out.extend_from_slice(plant.unwrap_or_default());
                first = false;
            }
            if i == n {
                break;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.push(b'"');
            out.extend_from_slice(self.key().as_bytes());
            out.extend_from_slice(b"\":");
            self.json_value(out, depth);
        }
        out.push(b'}');
        at
    }

    fn json(&mut self, out: &mut Vec<u8>, plant: Option<&[u8]>) -> Option<usize> {
        self.json_object(out, 0, 4, 40, plant)
    }

    /// A request target with a query string.
    fn query(&mut self, out: &mut Vec<u8>, plant: Option<&[u8]>) -> Option<usize> {
        out.extend_from_slice(b"/api/v");
        out.push(b'1' + self.rng.below(3) as u8);
        for _ in 0..self.rng.range(1, 4) {
            out.push(b'/');
            out.extend_from_slice(self.word().as_bytes());
        }
        out.push(b'?');
        let n = self.rng.range(3, 25);
        let slot = plant.map(|_| self.rng.below(n));
        let mut at = None;
        for i in 0..n {
            if i > 0 {
                out.push(b'&');
            }
            if slot == Some(i) {
                at = Some(out.len());
                out.extend_from_slice(plant.unwrap_or_default());
                continue;
            }
            out.extend_from_slice(self.key().as_bytes());
            out.push(b'=');
            match self.rng.below(8) {
                0 => out.extend_from_slice(self.word().as_bytes()),
                1 | 2 => {
                    let n = self.rng.range(1, 14) as usize;
                    self.digits(out, n);
                }
                3 => {
                    let n = *self.rng.pick(&[16, 32, 40]);
                    self.hex(out, n);
                }
                4 => {
                    let n = self.rng.range(8, 90) as usize;
                    self.chars(out, B64URL_CHARS, n);
                }
                5 => {
                    // A phrase as a form encodes it.
                    let n = self.rng.range(2, 6);
                    self.words(out, n, b'+');
                    out.extend_from_slice(b"%2C");
                    self.words(out, 1, b'+');
                }
                6 => {
                    out.extend_from_slice(b"https%3A%2F%2F");
                    self.words(out, 2, b'.');
                    out.extend_from_slice(b".com%2F");
                    self.words(out, 1, b'+');
                }
                _ => out.extend_from_slice(self.rng.pick::<&[u8]>(&[
                    &b"1"[..],
                    b"0",
                    b"true",
                    b"zh_TW",
                    b"en-US",
                ])),
            }
        }
        at
    }

    fn sentence(&mut self, out: &mut Vec<u8>) {
        let n = self.rng.range(4, 20);
        for i in 0..n {
            if i > 0 {
                out.push(b' ');
            }
            if self.rng.chance(0.08) {
                let n = self.rng.range(1, 5) as usize;
                self.digits(out, n);
            } else {
                out.extend_from_slice(self.word().as_bytes());
            }
        }
        out.push(b'.');
    }

    /// An HTML page, 2 to 64 KiB.
    fn html(&mut self, out: &mut Vec<u8>, plant: Option<&[u8]>) -> Option<usize> {
        let start = out.len();
        let size = self.rng.log_uniform(2 << 10, 64 << 10) as usize;
        out.extend_from_slice(
            b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>",
        );
        self.sentence(out);
        out.extend_from_slice(b"</title></head><body>\n");
        let mut plant = plant;
        let mut at = None;
        while out.len() - start < size {
            if let Some(p) = plant.filter(|_| self.rng.chance(0.05)) {
                at = Some(out.len());
                out.extend_from_slice(p);
                out.push(b'\n');
                plant = None;
                continue;
            }
            match self.rng.below(6) {
                0 => {
                    out.extend_from_slice(b"<div class=\"");
                    self.words(out, 2, b'-');
                    out.extend_from_slice(b"\">");
                }
                1 | 2 => {
                    out.extend_from_slice(b"<p>");
                    self.sentence(out);
                    out.push(b' ');
                    self.sentence(out);
                    out.extend_from_slice(b"</p></div>");
                }
                3 => {
                    out.extend_from_slice(b"<a href=\"/");
                    self.words(out, 2, b'/');
                    out.extend_from_slice(b"?id=");
                    self.digits(out, 7);
                    out.extend_from_slice(b"&amp;ref=");
                    out.extend_from_slice(self.word().as_bytes());
                    out.extend_from_slice(b"\">");
                    self.words(out, 3, b' ');
                    out.extend_from_slice(b"</a>");
                }
                4 => {
                    out.extend_from_slice(b"<img src=\"https://cdn.example.com/i/");
                    self.hex(out, 32);
                    out.extend_from_slice(b".jpg\" alt=\"");
                    self.words(out, 2, b' ');
                    out.extend_from_slice(b"\" width=\"640\">");
                }
                _ => {
                    out.extend_from_slice(b"<script>window.__cfg=");
                    self.json_object(out, 1, 2, 8, None);
                    out.extend_from_slice(b";</script>");
                }
            }
            out.push(b'\n');
        }
        if let Some(p) = plant {
            at = Some(out.len());
            out.extend_from_slice(p);
        }
        out.extend_from_slice(b"</body></html>\n");
        at
    }

    /// Random bytes, 64 KiB to 2 MiB: what compressed media looks like.
    fn binary(&mut self, out: &mut Vec<u8>, plant: Option<&[u8]>) -> Option<usize> {
        let size = self.rng.log_uniform(64 << 10, 2 << 20) as usize;
        let start = out.len();
        out.resize(start + size, 0);
        self.rng.fill(&mut out[start..]);
        let p = plant?;
        let at = start + self.rng.below((size.saturating_sub(p.len())) as u64) as usize;
        let end = (at + p.len()).min(out.len());
        out[at..end].copy_from_slice(&p[..end - at]);
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = include_str!("../../profile-20.toml");

    fn setup() -> (Profile, Variants) {
        let (p, _) = Profile::parse(PROFILE, "t").unwrap();
        let v = Variants::build(&p);
        (p, v)
    }

    fn labels(v: &Variants, t: &Tokeniser, hay: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        t.scan(hay, 0, &mut Vec::new(), &mut out);
        out.iter()
            .map(|f| v.get(f.variant).unwrap().label.clone())
            .collect()
    }

    #[test]
    fn tokens_are_found_whole_and_only_whole() {
        let (_, v) = setup();
        let t = Tokeniser::new(&v, true);
        let md5 = hex::encode_upper(Md5::digest(b"356938035643809"));
        // A digest in either case, an IMEI between quotes, a UUID.
        for hay in [
            format!("{{\"did\":\"{md5}\"}}"),
            "{\"imei\":\"356938035643809\"}".to_owned(),
            "gaid=38400000-8cf0-11bd-b23e-10b96e40000d&x=1".to_owned(),
        ] {
            assert!(!labels(&v, &t, hay.as_bytes()).is_empty(), "{hay}");
        }
        // Inside a longer run of its class, or with spaces: not a token.
        for hay in [
            "id=13569380356438091".to_owned(),
            format!("sig={md5}00"),
            "Lin Mei-hua".to_owned(),
        ] {
            assert!(labels(&v, &t, hay.as_bytes()).is_empty(), "{hay}");
        }
    }

    #[test]
    fn whole_base64_of_a_value_is_a_key() {
        let (_, v) = setup();
        let t = Tokeniser::new(&v, true);
        // 13 bytes: the automaton's alignment-0 part is one character shorter than this.
        let b64 = STANDARD_NO_PAD.encode(b"+886912345678");
        let got = labels(&v, &t, format!("t={b64}&").as_bytes());
        assert!(got.iter().any(|l| l == "phone"), "{got:?}");
        // Case matters for base64.
        let swapped = b64.to_ascii_lowercase();
        let got = labels(&v, &t, format!("t={swapped}&").as_bytes());
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn runs_are_tokens_only_whole() {
        let (_, v) = setup();
        let (split, runs) = (Tokeniser::new(&v, true), Tokeniser::new(&v, false));
        // The decimal run inside the hex run "2B886912345678" is the phone without its "+".
        let hay = b"tel=%2B886912345678&ll=25.0418,121.5654";
        assert_eq!(
            labels(&v, &split, hay),
            ["phone", "locations[0]", "locations[0]"]
        );
        assert_eq!(labels(&v, &runs, hay), ["locations[0]", "locations[0]"]);
    }

    #[test]
    fn the_end_of_the_payload_ends_a_token() {
        let (_, v) = setup();
        let t = Tokeniser::new(&v, true);
        assert_eq!(labels(&v, &t, b"356938035643809"), ["imei"]);
    }

    #[test]
    fn plants_sit_where_the_corpus_says() {
        let (p, _) = setup();
        let specs = plant_specs(&p);
        for kind in KINDS {
            let these: Vec<&PlantSpec> = specs.iter().filter(|s| s.kind == kind).collect();
            assert!(!these.is_empty());
            let c = Corpus::generate(kind, 4 << 20, 7, &these, 2);
            assert_eq!(c.planted.len(), 2 * these.len(), "{}", kind.name());
            for pl in &c.planted {
                let s = these
                    .iter()
                    .find(|s| s.desc == pl.desc && s.label == pl.label)
                    .unwrap();
                assert_eq!(&c.data[pl.span.clone()], &s.bytes[s.value.clone()]);
                assert!(c
                    .messages
                    .iter()
                    .any(|m| m.start <= pl.span.start && pl.span.end <= m.end));
            }
            assert_eq!(c.messages.last().unwrap().end, c.data.len());
        }
    }

    #[test]
    fn json_payloads_parse_as_json() {
        let mut g = Gen::new(3);
        let plant = b"\"imei\":\"356938035643809\"";
        for i in 0..200 {
            let mut out = Vec::new();
            let at = g.json(&mut out, (i % 2 == 0).then_some(&plant[..]));
            let v: serde_json::Value = serde_json::from_slice(&out)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
            assert!(v.is_object());
            assert_eq!(at.is_some(), i % 2 == 0);
        }
    }

    #[test]
    fn the_scanner_finds_what_tokens_miss() {
        let (p, v) = setup();
        let scanner = Arc::new(Scanner::new(&v).unwrap());
        let t = Tokeniser::new(&v, true);
        let specs = plant_specs(&p);
        let blob = specs
            .iter()
            .find(|s| s.desc == "inside a base64 blob")
            .unwrap();
        let c = Corpus::generate(Kind::Json, 1 << 20, 1, &[blob], 3);
        let mut a = Vec::new();
        run_scanner(&scanner, &c, &mut a);
        let mut b = Vec::new();
        run_tokens(&t, &c, &mut b);
        a.sort_by_key(|f| f.start);
        b.sort_by_key(|f| f.start);
        assert!(c.planted.iter().all(|pl| found(&v, &a, pl)));
        assert!(c.planted.iter().all(|pl| !found(&v, &b, pl)));
    }
}
