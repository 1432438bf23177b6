//! Helpers that build small captures byte by byte and run the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A classic pcap file being built in memory (little endian, microseconds).
pub struct PcapBuilder {
    bytes: Vec<u8>,
}

impl PcapBuilder {
    pub fn new(linktype: u32) -> Self {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&linktype.to_le_bytes());
        Self { bytes }
    }

    pub fn packet(mut self, secs: u32, usecs: u32, data: &[u8]) -> Self {
        self.bytes.extend_from_slice(&secs.to_le_bytes());
        self.bytes.extend_from_slice(&usecs.to_le_bytes());
        let len = data.len() as u32;
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(data);
        self
    }

    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &self.bytes).expect("test directory is writable");
        path
    }
}

pub fn phonehome(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phonehome"))
        .args(args)
        .output()
        .expect("the phonehome binary runs")
}

pub fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "phonehome failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("phonehome prints valid JSON")
}
