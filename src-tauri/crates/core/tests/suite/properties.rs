//! Property tests of the parsers every front end feeds with outside input: tokens, the
//! token-shape scanner, networks, lifetimes, dates and e-mails. None may panic on any input,
//! and what is made must parse back to itself.

use proptest::prelude::*;
use tessera_core::model::{Email, Networks, Scope};
use tessera_core::policy::{ExpiryRequest, Policy};
use tessera_core::token::{contains_token_pattern, looks_like_token, TokenKind, TokenSecret};

fn kind() -> impl Strategy<Value = TokenKind> {
    prop_oneof![
        Just(TokenKind::User),
        Just(TokenKind::Personal),
        Just(TokenKind::Company)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn token_parsing_never_panics(s in ".{0,80}") {
        let parsed = TokenSecret::parse(&s).is_ok();
        // Anything that parses has a token's shape.
        prop_assert!(!parsed || contains_token_pattern(&s));
        let _ = looks_like_token(&s);
    }

    #[test]
    fn generated_tokens_round_trip_and_are_found_in_any_text(
        k in kind(),
        before in "[^\\x00]{0,20}",
        after in "[^\\x00]{0,20}",
    ) {
        let t = TokenSecret::generate(k);
        let back = TokenSecret::parse(t.expose()).expect("a generated token parses");
        prop_assert_eq!(back.kind(), k);
        prop_assert_eq!(back.expose(), t.expose());
        let text = format!("{before}{}{after}", t.expose());
        prop_assert!(contains_token_pattern(&text));
    }

    #[test]
    fn one_changed_character_fails_the_checksum(k in kind(), pos in 6usize..42, c in "[0-9A-Za-z]") {
        let t = TokenSecret::generate(k);
        let mut chars: Vec<char> = t.expose().chars().collect();
        let c = c.chars().next().expect("one char");
        prop_assume!(chars[pos] != c);
        chars[pos] = c;
        let typo: String = chars.into_iter().collect();
        prop_assert!(TokenSecret::parse(&typo).is_err());
        // Still token-shaped: the scanner keeps it out of names and the audit log.
        prop_assert!(contains_token_pattern(&typo));
    }

    #[test]
    fn network_lists_never_panic_and_round_trip(items in proptest::collection::vec(".{0,45}", 0..6)) {
        if let Ok(n) = Networks::parse(&items) {
            prop_assert_eq!(Networks::from_text(&n.to_text()), n);
        }
    }

    #[test]
    fn valid_networks_round_trip(v4 in any::<[u8; 4]>(), len in 0u8..=32, v6 in any::<[u16; 8]>(), len6 in 0u8..=128) {
        let a = format!("{}.{}.{}.{}/{len}", v4[0], v4[1], v4[2], v4[3]);
        let b = format!(
            "{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}/{len6}",
            v6[0], v6[1], v6[2], v6[3], v6[4], v6[5], v6[6], v6[7]
        );
        let n = Networks::parse(&[a, b]).expect("valid CIDRs parse");
        prop_assert_eq!(Networks::from_text(&n.to_text()), n);
    }

    #[test]
    fn lifetimes_never_panic_and_resolve_or_refuse(s in "[0-9]{0,25}[smhdwyx]?") {
        let now = time::OffsetDateTime::now_utc();
        let open = Policy { expiry_required: false, max_lifetime_days: 3650, ..Policy::default() };
        if let Ok(req) = ExpiryRequest::parse_in(&s) {
            if let Ok(Some(at)) = open.resolve_expiry(&req, now) {
                prop_assert!(at > now);
            }
        }
    }

    #[test]
    fn numeric_lifetimes_in_range_resolve(n in 1i64..=3650) {
        let now = time::OffsetDateTime::now_utc();
        let open = Policy { max_lifetime_days: 3650, default_lifetime_days: 90, ..Policy::default() };
        let req = ExpiryRequest::parse_in(&format!("{n}d")).expect("parses");
        let at = open.resolve_expiry(&req, now).expect("within the policy").expect("expires");
        prop_assert_eq!(at - now, time::Duration::days(n));
    }

    #[test]
    fn dates_never_panic(s in ".{0,40}", y in 0i32..=20000, m in 1u8..=12, d in 1u8..=28) {
        let now = time::OffsetDateTime::now_utc();
        let _ = ExpiryRequest::parse_at(&s).map(|r| Policy::default().resolve_expiry(&r, now));
        let text = format!("{y:04}-{m:02}-{d:02}T12:00:00Z");
        if let Ok(r) = ExpiryRequest::parse_at(&text) {
            let _ = Policy::default().resolve_expiry(&r, now);
        }
    }

    #[test]
    fn emails_and_scopes_never_panic(s in ".{0,300}") {
        if let Ok(e) = s.parse::<Email>() {
            let again: Email = e.as_str().parse().expect("normalised parses");
            prop_assert_eq!(again.as_str(), e.as_str());
        }
        if let Ok(sc) = s.parse::<Scope>() {
            prop_assert_eq!(sc.as_str().parse::<Scope>().expect("scope parses"), sc);
        }
    }
}
