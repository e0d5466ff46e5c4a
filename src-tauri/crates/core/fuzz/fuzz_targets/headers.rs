//! Token extraction from the Authorization and X-API-Key headers and the query string,
//! every scheme: no input panics.
#![no_main]

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, query) = data.split_at(data.len() / 2);
    let (auth, key) = head.split_at(head.len() / 2);
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(auth) {
        h.insert(axum::http::header::AUTHORIZATION, v);
    }
    if let Ok(v) = HeaderValue::from_bytes(key) {
        h.insert(HeaderName::from_static("x-api-key"), v);
    }
    let query = std::str::from_utf8(query).ok();
    let _ = tessera_api::auth::extract(&h, query, true);
    let _ = tessera_api::auth::extract(&h, query, false);
});
