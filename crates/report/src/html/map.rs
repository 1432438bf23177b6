//! The world map: countries shaded by the bytes the device sent to servers registered there.
//!
//! The shapes are Natural Earth's 1:110m countries (public domain), projected once with the
//! Natural Earth projection and shipped as SVG path data keyed by ISO 3166-1 alpha-2
//! (`data/world-110m.tsv`, with the script that makes it). Drawing is then string
//! concatenation: no projection maths and no geometry at report time.
//!
//! Limits: a server's country is where its address is registered, not where the machine
//! stands (a CDN or anycast address is everywhere at once); the page says so beside the map.
//! Countries too small for the 1:110m scale (Singapore, Hong Kong, Malta, ...) are dots, drawn
//! only when something was sent there. A code the shapes do not know (a registry's `EU`, a
//! private range) is still listed in the table beside the map.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::OnceLock;

use super::escape::esc;
use crate::human_bytes;

/// The projected country shapes, see `data/README.md`.
const WORLD_TSV: &str = include_str!("../../data/world-110m.tsv");

/// Shading steps: a country's step is how many tenfold steps below the top country it is.
const STEPS: usize = 5;

/// One country of the shapes file.
pub(super) struct Shape {
    pub(super) code: &'static str,
    pub(super) name: &'static str,
    pub(super) geo: Geo,
}

pub(super) enum Geo {
    /// SVG path data.
    Area(&'static str),
    /// A dot's centre, for countries too small to draw.
    Point(&'static str, &'static str),
}

pub(super) struct World {
    width: &'static str,
    height: &'static str,
    outline: &'static str,
    graticule: &'static str,
    pub(super) shapes: Vec<Shape>,
}

pub(super) fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| parse(WORLD_TSV))
}

/// Reads the shapes file; a malformed line is skipped (the file is ours, but a bad line must
/// cost one country, not the report).
fn parse(text: &'static str) -> World {
    let mut w = World {
        width: "1000",
        height: "520",
        outline: "",
        graticule: "",
        shapes: Vec::new(),
    };
    for line in text.lines() {
        let fields: Vec<&'static str> = line.split('\t').collect();
        match fields.as_slice() {
            ["@size", width, height] => {
                w.width = width;
                w.height = height;
            }
            ["@outline", d] => w.outline = d,
            ["@graticule", d] => w.graticule = d,
            [code, "a", name, d] => w.shapes.push(Shape {
                code,
                name,
                geo: Geo::Area(d),
            }),
            [code, "p", name, xy] => {
                if let Some((x, y)) = xy.split_once(' ') {
                    w.shapes.push(Shape {
                        code,
                        name,
                        geo: Geo::Point(x, y),
                    });
                }
            }
            _ => {}
        }
    }
    w
}

/// The short English name of a country by its ISO 3166-1 alpha-2 code, when the shapes know it.
pub(crate) fn country_name(code: &str) -> Option<&'static str> {
    world()
        .shapes
        .iter()
        .find(|s| s.code.eq_ignore_ascii_case(code))
        .map(|s| s.name)
}

/// What was sent to one server country.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sent {
    pub(crate) bytes_up: u64,
    pub(crate) bytes_down: u64,
    pub(crate) flows: u64,
}

/// Bytes and flows per server country (upper-case code; "" for flows without one).
pub(crate) fn by_country(flows: &[crate::Flow]) -> BTreeMap<String, Sent> {
    let mut m: BTreeMap<String, Sent> = BTreeMap::new();
    for f in flows {
        let key = f
            .server_country
            .as_deref()
            .map(str::to_ascii_uppercase)
            .unwrap_or_default();
        let e = m.entry(key).or_default();
        e.bytes_up = e.bytes_up.saturating_add(f.bytes_up);
        e.bytes_down = e.bytes_down.saturating_add(f.bytes_down);
        e.flows = e.flows.saturating_add(1);
    }
    m
}

/// The shading step (1..=STEPS) of `bytes` against the largest country's `max`, 0 for none.
fn step(bytes: u64, max: u64) -> usize {
    if bytes == 0 || max == 0 {
        return 0;
    }
    let mut threshold = max;
    for k in (1..=STEPS).rev() {
        threshold /= 10;
        if bytes > threshold || k == 1 {
            return k;
        }
    }
    1
}

/// The lower bound of each step, for the legend (step k holds bytes above `max / 10^(STEPS-k+1)`).
fn step_floor(k: usize, max: u64) -> u64 {
    let mut t = max;
    for _ in k..=STEPS {
        t /= 10;
    }
    t
}

/// Writes the map as an inline SVG, and its legend.
pub(crate) fn write_map(out: &mut dyn Write, sent: &BTreeMap<String, Sent>) -> io::Result<()> {
    let w = world();
    let max = sent
        .iter()
        .filter(|(c, _)| !c.is_empty())
        .map(|(_, s)| s.bytes_up)
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        r#"<svg id="world-map" class="map" viewBox="0 0 {} {}" role="img" aria-label="World map of bytes sent per server country">"#,
        w.width, w.height
    )?;
    writeln!(out, r#"<path class="sphere" d="{}"/>"#, esc(w.outline))?;
    writeln!(out, r#"<path class="graticule" d="{}"/>"#, esc(w.graticule))?;
    let mut dots = Vec::new();
    for shape in &w.shapes {
        let s = sent.get(shape.code).copied().unwrap_or_default();
        let k = step(s.bytes_up, max);
        match shape.geo {
            Geo::Area(d) => {
                write!(
                    out,
                    r#"<path class="country s{k}" data-cc="{}" d="{}">"#,
                    esc(shape.code),
                    esc(d)
                )?;
                write_title(out, shape, s)?;
                writeln!(out, "</path>")?;
            }
            Geo::Point(x, y) if s.flows > 0 => dots.push((shape, x, y, k, s)),
            Geo::Point(..) => {}
        }
    }
    // Dots last, so that a neighbour's area never hides them.
    for (shape, x, y, k, s) in dots {
        write!(
            out,
            r#"<circle class="country dot s{k}" data-cc="{}" cx="{}" cy="{}" r="4">"#,
            esc(shape.code),
            esc(x),
            esc(y)
        )?;
        write_title(out, shape, s)?;
        writeln!(out, "</circle>")?;
    }
    writeln!(out, "</svg>")?;
    write_legend(out, max)
}

fn write_title(out: &mut dyn Write, shape: &Shape, s: Sent) -> io::Result<()> {
    write!(
        out,
        "<title>{} ({}): {} sent, {} received, {} flow{}</title>",
        esc(shape.name),
        esc(shape.code),
        human_bytes(s.bytes_up),
        human_bytes(s.bytes_down),
        s.flows,
        if s.flows == 1 { "" } else { "s" }
    )
}

fn write_legend(out: &mut dyn Write, max: u64) -> io::Result<()> {
    write!(
        out,
        r#"<div class="legend" aria-label="Map legend"><span class="key"><span class="swatch s0"></span>nothing sent</span>"#
    )?;
    if max > 0 {
        for k in 1..=STEPS {
            let floor = step_floor(k, max);
            // Steps whose floor rounds to the same as the next are empty for small totals.
            if k < STEPS && floor == step_floor(k + 1, max) {
                continue;
            }
            let label = if k == STEPS {
                format!("up to {}", human_bytes(max))
            } else {
                format!("up to {}", human_bytes(step_floor(k + 1, max)))
            };
            write!(
                out,
                r#"<span class="key"><span class="swatch s{k}"></span>{}</span>"#,
                esc(&label)
            )?;
        }
    }
    writeln!(out, "</div>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_file_parses_with_big_and_small_countries() {
        let w = world();
        assert_eq!((w.width, w.height), ("1000", "520.0"));
        assert!(w.outline.starts_with('M'));
        assert!(w.shapes.len() > 230, "{} shapes", w.shapes.len());
        let kind = |code: &str| w.shapes.iter().find(|s| s.code == code).map(|s| &s.geo);
        assert!(matches!(kind("DE"), Some(Geo::Area(d)) if d.starts_with('M')));
        assert!(matches!(kind("SG"), Some(Geo::Point(..))));
        assert!(matches!(kind("HK"), Some(Geo::Point(..))));
        assert!(matches!(kind("XK"), Some(Geo::Area(_))));
        assert_eq!(country_name("cn"), Some("China"));
        assert_eq!(country_name("ZZ"), None);
    }

    #[test]
    fn steps_are_tenfold_below_the_top() {
        assert_eq!(step(0, 1_000_000), 0);
        assert_eq!(step(1_000_000, 1_000_000), 5);
        assert_eq!(step(100_001, 1_000_000), 5);
        assert_eq!(step(100_000, 1_000_000), 4);
        assert_eq!(step(1, 1_000_000), 1);
        assert_eq!(step(5, 5), 5);
        assert_eq!(step_floor(5, 1_000_000), 100_000);
        assert_eq!(step_floor(1, 1_000_000), 10);
    }

    #[test]
    fn sent_country_is_shaded_and_dots_only_when_used() {
        let mut sent = BTreeMap::new();
        let s = |b| Sent {
            bytes_up: b,
            bytes_down: 0,
            flows: 1,
        };
        sent.insert("DE".to_string(), s(5000));
        sent.insert("SG".to_string(), s(50));
        let mut out = Vec::new();
        write_map(&mut out, &sent).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(html.contains(r#"<path class="country s5" data-cc="DE" d="M"#));
        assert!(html.contains(r#"<path class="country s0" data-cc="FR""#));
        assert!(html.contains(r#"<circle class="country dot s3" data-cc="SG""#));
        assert!(!html.contains(r#"data-cc="HK""#));
        assert!(html.contains("Germany (DE): 5.0 KB sent"));
    }
}
