//! Zero-copy views of link, network and transport headers.
