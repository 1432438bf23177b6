//! Flows: the bidirectional flow table, IP defragmentation and TCP reassembly.
