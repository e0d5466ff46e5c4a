//! Allowed-network lists: no input panics, and a parsed list survives its stored form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::model::Networks;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let items: Vec<&str> = s.split(',').collect();
    if let Ok(n) = Networks::parse(&items) {
        assert_eq!(Networks::from_text(&n.to_text()), n);
        for ip in ["127.0.0.1", "::1", "10.1.2.3"] {
            let _ = n.allows(ip.parse().expect("ip"));
        }
    }
});
