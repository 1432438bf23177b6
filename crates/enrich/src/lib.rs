//! Enrichment: names for every destination (DNS cache, naming rules).
