//! Lifetimes and dates as every front end passes them in: no input panics, and what
//! resolves lies in the future.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::policy::{ExpiryRequest, Policy};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let now = time::OffsetDateTime::now_utc();
    let open = Policy {
        expiry_required: false,
        max_lifetime_days: 3650,
        ..Policy::default()
    };
    for req in [ExpiryRequest::parse_in(s), ExpiryRequest::parse_at(s)]
        .into_iter()
        .flatten()
    {
        if let Ok(Some(at)) = open.resolve_expiry(&req, now) {
            assert!(at > now);
        }
    }
    if let Ok(days) = s.trim().parse::<u32>() {
        if let Ok(req) = ExpiryRequest::in_days(days) {
            let _ = open.resolve_expiry(&req, now);
        }
    }
});
