//! The app crate's integration tests, one binary (one link, one process start for cargo test).

mod commands;
mod common;
mod contract;
mod ipc_matrix;
mod team_server;
