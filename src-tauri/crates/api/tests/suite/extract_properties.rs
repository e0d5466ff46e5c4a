//! Property tests of token extraction from request headers and the query string: no input
//! panics, and a token sent in any accepted scheme comes back whole with its scheme named.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use proptest::prelude::*;
use tessera_api::auth::{extract, Via};
use tessera_core::token::{TokenKind, TokenSecret};

fn scheme() -> impl Strategy<Value = (&'static str, Via)> {
    prop_oneof![
        Just(("Bearer", Via::Bearer)),
        Just(("bearer", Via::Bearer)),
        Just(("Basic", Via::Basic)),
        Just(("Token", Via::Token)),
        Just(("Token token=", Via::Token)),
        Just(("Api-Token", Via::ApiToken)),
        Just(("apiToken", Via::ApiToken)),
        Just(("SSWS", Via::Ssws)),
        Just(("x-api-key", Via::XApiKey)),
        Just(("?api_token=", Via::Query)),
        Just(("?key=", Via::Query)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_header_or_query_never_panics(
        auth in proptest::collection::vec(any::<u8>(), 0..120),
        key in proptest::collection::vec(any::<u8>(), 0..60),
        query in ".{0,120}",
        allowed in any::<bool>(),
    ) {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_bytes(&auth) {
            h.insert(axum::http::header::AUTHORIZATION, v);
        }
        if let Ok(v) = HeaderValue::from_bytes(&key) {
            h.insert(HeaderName::from_static("x-api-key"), v);
        }
        let _ = extract(&h, Some(&query), allowed);
        let _ = extract(&h, None, allowed);
    }

    #[test]
    fn every_scheme_round_trips(
        (scheme, via) in scheme(),
        kind in prop_oneof![Just(TokenKind::User), Just(TokenKind::Personal), Just(TokenKind::Company)],
        spaces in 0usize..3,
    ) {
        let t = TokenSecret::generate(kind);
        let s = t.expose();
        let mut h = HeaderMap::new();
        let mut query = None;
        let pad = " ".repeat(spaces);
        match via {
            Via::XApiKey => {
                h.insert(HeaderName::from_static("x-api-key"), HeaderValue::from_str(&format!("{pad}{s}")).expect("ascii"));
            }
            Via::Query => query = Some(format!("a=1&{}{s}", &scheme[1..])),
            Via::Basic => {
                let b = base64::engine::general_purpose::STANDARD.encode(format!("{s}:"));
                h.insert(axum::http::header::AUTHORIZATION, HeaderValue::from_str(&format!("Basic {b}")).expect("ascii"));
            }
            _ => {
                let sep = if scheme.ends_with('=') { "" } else { " " };
                h.insert(axum::http::header::AUTHORIZATION, HeaderValue::from_str(&format!("{scheme}{sep}{s}")).expect("ascii"));
            }
        }
        let got = extract(&h, query.as_deref(), true).expect("extracted");
        prop_assert_eq!(got.via, via);
        prop_assert_eq!(got.secret.trim(), s);
        if via == Via::Query {
            prop_assert!(extract(&h, query.as_deref(), false).is_err());
        }
    }
}
