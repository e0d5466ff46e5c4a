//! Token parsing, checksum and the token-shape scanner: no input panics, and anything that
//! parses is token-shaped and keeps its text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::token::{contains_token_pattern, looks_like_token, TokenSecret};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = TokenSecret::parse(s) {
        assert!(contains_token_pattern(s));
        assert_eq!(t.expose(), s.trim());
        assert!(looks_like_token(t.expose()));
    }
    let _ = contains_token_pattern(s);
});
