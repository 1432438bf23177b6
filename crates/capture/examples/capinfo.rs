//! Reads captures and prints, per file: packets, captured bytes, interfaces, warnings,
//! the error that stopped reading (if any), the SHA-256 of the file and the read rate.
//!
//! `cargo run --release -p phonehome-capture --example capinfo -- [--frames] FILE...`
//! (`-` = stdin). `--frames` also prints frame, epoch time, interface and captured length
//! per packet, in the layout of `tshark -T fields -e frame.number -e frame.time_epoch
//! -e frame.interface_id -e frame.cap_len`.

use std::time::Instant;

use phonehome_capture::Reader;

fn main() {
    let mut failed = false;
    let mut frames = false;
    for path in std::env::args().skip(1) {
        if path == "--frames" {
            frames = true;
            continue;
        }
        let started = Instant::now();
        let mut reader = match Reader::open(&path) {
            Ok(r) => r,
            Err(e) => {
                println!("{path}\tERROR\t{e}");
                failed = true;
                continue;
            }
        };
        let (mut packets, mut bytes) = (0u64, 0u64);
        let error = loop {
            match reader.next_packet() {
                Ok(Some(p)) => {
                    if frames {
                        let (s, ns) = (p.ts.secs(), p.ts.subsec_nanos());
                        println!(
                            "{}\t{s}.{ns:09}\t{}\t{}",
                            p.frame,
                            p.interface,
                            p.data.len()
                        );
                    }
                    packets += 1;
                    bytes += p.data.len() as u64;
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        let secs = started.elapsed().as_secs_f64();
        let warnings = reader.take_warnings();
        let links: Vec<String> = reader
            .interfaces()
            .iter()
            .map(|i| i.link.to_string())
            .collect();
        println!(
            "{path}\tpackets={packets}\tbytes={bytes}\tinterfaces={}\twarnings={}\tsecrets={}\tsha256={}\t{:.0} MB/s\t[{}]",
            links.len(),
            warnings.len(),
            reader.take_secrets().len(),
            reader.sha256_hex(),
            reader.bytes_read() as f64 / secs / 1e6,
            links.join(", "),
        );
        for w in warnings.iter().take(5) {
            println!("  warning: {w}");
        }
        if let Some(e) = error {
            println!("  ERROR: {e}");
            failed = true;
        }
    }
    std::process::exit(i32::from(failed));
}
