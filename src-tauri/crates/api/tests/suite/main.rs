//! The api crate's integration tests, one binary (one link, one process start for cargo test).

mod api;
mod authority;
mod common;
mod extract_properties;
mod honeytokens;
mod new_sources;
mod newman;
mod no_leak;
mod oauth;
mod oauth_python;
mod openapi_live;
mod sessions;
mod slow_clients;
mod usage_rows;
