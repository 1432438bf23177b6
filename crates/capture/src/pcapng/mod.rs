//! pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks, each
//! `type (4) | total length (4) | body | total length (4)`, grouped in sections that start
//! with a Section Header Block and may each use their own byte order.
//!
//! The block framing and the per-block parsers are written by hand rather than taken from
//! `pcap-parser`: its block types gather every option of every packet into a `Vec` (one heap
//! allocation per packet on the hottest path) and its errors do not carry the byte offset we
//! report. Blocks here are parsed in place in the reader's window and packets borrowed from it.
//!
//! One file per block type; this file holds the framing (length checks, byte order, section
//! and interface bookkeeping) and the option walker they share.

mod dpib;
pub(crate) use dpib::Dpib;
pub(crate) use epb::ProcessRef;
mod dsb;
mod epb;
mod idb;
mod isb;
mod nrb;
mod pb;
mod shb;
mod spb;

use std::ops::Range;

use crate::pcap::{u16_at, u32_at, MAX_RECORD};
use crate::reader::{Meta, Record};
use crate::source::Window;
use crate::Error;

/// The first four bytes of every pcapng file: the SHB block type, a byte palindrome.
pub(crate) const SHB_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Largest block accepted: a maximal packet plus room for headers and options.
pub const MAX_BLOCK: u32 = MAX_RECORD + (64 << 10);

/// Most interfaces accepted in one file (each one holds a few strings).
pub const MAX_INTERFACES: usize = 1 << 16;

/// Custom blocks (section 4.8), skipped like any other unknown type.
const CUSTOM: u32 = 0x0000_0bad;
const CUSTOM_NO_COPY: u32 = 0x4000_0bad;

pub(crate) struct Pcapng {
    big_endian: bool,
    /// Number of the current section, `None` before the first SHB.
    section: Option<u32>,
    /// Index in `Meta::interfaces` of this section's interface 0.
    first_interface: usize,
}

impl Pcapng {
    pub(crate) fn new() -> Self {
        Self {
            big_endian: false,
            section: None,
            first_interface: 0,
        }
    }

    pub(crate) fn next(
        &mut self,
        window: &mut Window,
        meta: &mut Meta,
    ) -> Result<Option<Record>, Error> {
        loop {
            let offset = window.offset();
            let got = window.fill(12).map_err(|e| meta.read_error(offset, e))?;
            let head = window.avail();
            if !got {
                if !head.is_empty() {
                    let n = head.len();
                    meta.warn(
                        offset,
                        format!("capture ends inside a block header ({n} bytes)"),
                    );
                }
                return Ok(None);
            }
            if head[..4] == SHB_MAGIC {
                // Section 4.1: the byte-order magic decides how this section is read; the
                // block type reads the same either way.
                self.big_endian = match u32_at(head, 8, false) {
                    shb::BYTE_ORDER_MAGIC => false,
                    0x4d3c_2b1a => true,
                    other => {
                        return Err(meta.error(
                            offset,
                            format!("section header with unknown byte-order magic {other:#010x}"),
                        ))
                    }
                };
            } else if self.section.is_none() {
                return Err(meta.error(offset, "pcapng file does not start with a section header"));
            }
            let be = self.big_endian;
            let block_type = u32_at(head, 0, be);
            let total = u32_at(head, 4, be);
            // Section 3.1: the total length counts the 12 framing bytes and is a multiple of 4.
            let problem = if total < 12 {
                "shorter than a block header"
            } else if !total.is_multiple_of(4) {
                "not a multiple of 4"
            } else if total > MAX_BLOCK {
                "absurd"
            } else {
                ""
            };
            if !problem.is_empty() {
                return Err(meta.error(
                    offset,
                    format!("block type {block_type:#x}: total length {total} is {problem}"),
                ));
            }
            let total = total as usize;
            let got = window.fill(total).map_err(|e| meta.read_error(offset, e))?;
            let block = window.avail();
            if !got {
                let n = block.len();
                meta.warn(
                    offset,
                    format!("capture ends inside a block of type {block_type:#x} ({n} of {total} bytes)"),
                );
                return Ok(None);
            }
            let block = &block[..total];
            let trailer = u32_at(block, total - 4, be);
            if trailer as usize != total {
                return Err(meta.error(
                    offset,
                    format!(
                        "block type {block_type:#x}: total length {total} at the start but {trailer} at the end"
                    ),
                ));
            }
            let body = &block[8..total - 4];
            let base = window.start() + 8;
            let record = self.block(block_type, body, base, offset, meta)?;
            window.consume(total);
            if record.is_some() {
                return Ok(record);
            }
        }
    }

    /// Handles one well-framed block; `base` is the window index of `body[0]`.
    fn block(
        &mut self,
        block_type: u32,
        body: &[u8],
        base: usize,
        offset: u64,
        meta: &mut Meta,
    ) -> Result<Option<Record>, Error> {
        let be = self.big_endian;
        let at = |r: Range<usize>| base + r.start..base + r.end;
        match block_type {
            shb::TYPE => {
                shb::parse(body, be).map_err(|m| meta.error(offset, m))?;
                // Process numbers count within a section.
                meta.processes.clear();
                self.section = Some(self.section.map_or(0, |s| s.saturating_add(1)));
                self.first_interface = meta.interfaces.len();
            }
            idb::TYPE => {
                if meta.interfaces.len() >= MAX_INTERFACES {
                    return Err(
                        meta.error(offset, format!("more than {MAX_INTERFACES} interfaces"))
                    );
                }
                let (mut interface, damaged) =
                    idb::parse(body, be).map_err(|m| meta.error(offset, m))?;
                interface.section = self.section.unwrap_or(0);
                if damaged {
                    meta.warn(
                        offset,
                        "interface description options damaged; the rest ignored",
                    );
                }
                meta.interfaces.push(interface);
            }
            epb::TYPE => match epb::parse(body, be) {
                Ok(p) => {
                    let (ts, data, comment) = (p.ts, at(p.data), p.comment.map(at));
                    let record = self.packet(
                        p.interface,
                        Some(ts),
                        data,
                        p.orig_len,
                        comment,
                        offset,
                        meta,
                    );
                    return Ok(record.map(|r| Record {
                        process: p.process,
                        ..r
                    }));
                }
                Err(m) => meta.warn(offset, format!("enhanced packet block skipped: {m}")),
            },
            pb::TYPE => match pb::parse(body, be) {
                Ok(p) => {
                    let (ts, data, comment) = (p.ts, at(p.data), p.comment.map(at));
                    let interface = u32::from(p.interface);
                    return Ok(self.packet(
                        interface,
                        Some(ts),
                        data,
                        p.orig_len,
                        comment,
                        offset,
                        meta,
                    ));
                }
                Err(m) => meta.warn(offset, format!("packet block skipped: {m}")),
            },
            spb::TYPE => {
                // Section 4.4: the packet belongs to the section's first interface.
                let snaplen = meta
                    .interfaces
                    .get(self.first_interface)
                    .filter(|_| self.has(0, meta));
                let snaplen = snaplen.map_or(0, |i| i.snaplen);
                match spb::parse(body, be, snaplen) {
                    Ok((data, orig_len)) => {
                        return Ok(self.packet(0, None, at(data), orig_len, None, offset, meta));
                    }
                    Err(m) => meta.warn(offset, format!("simple packet block skipped: {m}")),
                }
            }
            dsb::TYPE => match dsb::parse(body, be) {
                Ok((secrets_type, data)) => meta.add_secrets(offset, secrets_type, &body[data]),
                Err(m) => meta.warn(offset, format!("decryption secrets block skipped: {m}")),
            },
            isb::TYPE => match isb::parse(body, be) {
                Ok(id) if !self.has(id, meta) => meta.warn(
                    offset,
                    format!("statistics for interface {id}, which has no description block"),
                ),
                Ok(_) => {}
                Err(m) => meta.warn(offset, format!("interface statistics block skipped: {m}")),
            },
            nrb::TYPE => {
                if let Err(m) = nrb::parse(body, be) {
                    meta.warn(offset, format!("name resolution block damaged: {m}"));
                }
            }
            // Section 4.8 custom blocks and types this reader has no use for.
            dpib::TYPE => match dpib::parse(body, be) {
                Ok(d) if meta.processes.len() < MAX_PROCESSES => meta.processes.push(d),
                Ok(_) => meta.warn(
                    offset,
                    format!(
                        "more than {MAX_PROCESSES} process blocks in a section; the rest ignored"
                    ),
                ),
                Err(m) => meta.warn(offset, format!("process information block skipped: {m}")),
            },
            CUSTOM | CUSTOM_NO_COPY => {}
            _ => {}
        }
        Ok(None)
    }

    /// Whether section-local interface `id` has a description block.
    fn has(&self, id: u32, meta: &Meta) -> bool {
        (id as usize)
            .checked_add(self.first_interface)
            .is_some_and(|g| g < meta.interfaces.len())
    }

    /// Builds the record of a packet on section-local interface `id`; `ts` in that
    /// interface's units, `None` for "same as the previous packet" (Simple Packet Blocks).
    #[allow(clippy::too_many_arguments)]
    fn packet(
        &self,
        id: u32,
        ts: Option<u64>,
        data: Range<usize>,
        orig_len: u32,
        comment: Option<Range<usize>>,
        offset: u64,
        meta: &mut Meta,
    ) -> Option<Record> {
        if !self.has(id, meta) {
            meta.warn(
                offset,
                format!("packet on interface {id}, which has no description block; skipped"),
            );
            return None;
        }
        let global = self.first_interface + id as usize;
        let interface = &meta.interfaces[global];
        let ts = ts.map_or(meta.last_ts, |units| interface.timestamp(units));
        Some(Record {
            ts,
            interface: global as u32,
            data,
            orig_len,
            comment,
            process: None,
        })
    }
}

/// Darwin process blocks kept per section.
pub(crate) const MAX_PROCESSES: usize = 65_536;

/// Rounds a length up to the 32-bit boundary pcapng pads every field to.
#[inline]
pub(crate) fn padded(len: usize) -> usize {
    len.saturating_add(3) & !3
}

/// Walks options (section 3.5): `code (2) | length (2) | value | padding to 4`, ending at
/// `opt_endofopt` or at the end of the data. Yields each value's range within the data.
pub(crate) struct Options<'a> {
    data: &'a [u8],
    pos: usize,
    big_endian: bool,
    /// Set when an option ran past the end of its block; walking stops there.
    pub(crate) damaged: bool,
}

impl<'a> Options<'a> {
    pub(crate) fn new(data: &'a [u8], big_endian: bool) -> Self {
        Self {
            data,
            pos: 0,
            big_endian,
            damaged: false,
        }
    }
}

pub(crate) const OPT_COMMENT: u16 = 1;

impl Iterator for Options<'_> {
    type Item = (u16, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let left = self.data.len().checked_sub(self.pos)?;
        if left == 0 {
            return None;
        }
        if left < 4 {
            self.damaged = true;
            return None;
        }
        let code = u16_at(self.data, self.pos, self.big_endian);
        let len = usize::from(u16_at(self.data, self.pos + 2, self.big_endian));
        if code == 0 {
            return None;
        }
        let start = self.pos + 4;
        let end = start + len;
        if end > self.data.len() {
            self.damaged = true;
            return None;
        }
        self.pos = start + padded(len);
        Some((code, start..end))
    }
}

/// The range of a packet block's first `opt_comment` within its options, if any. Damaged
/// options end the walk: the packet is kept, without what followed the damage.
pub(crate) fn first_comment(options: &[u8], big_endian: bool) -> Option<Range<usize>> {
    Options::new(options, big_endian)
        .find(|(code, _)| *code == OPT_COMMENT)
        .map(|(_, r)| r)
}

#[cfg(test)]
pub(crate) mod tests;
