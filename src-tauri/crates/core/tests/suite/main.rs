//! The core crate's integration tests, one binary (one link, one process start for cargo test).

mod audit_chain;
mod cache;
mod clients;
mod common;
mod explain;
mod new_sources;
mod notices;
mod properties;
mod rotation;
mod rules;
mod scan;
mod usage;
