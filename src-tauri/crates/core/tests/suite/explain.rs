//! "Why was this refused?": the explanation applies every rule, agrees with verification on
//! the answer, says what each rule compared, and records nothing.

use std::net::IpAddr;

use tessera_core::model::{Networks, Role, Scope};
use tessera_core::policy::ExpiryRequest;
use tessera_core::service::Presented;
use tessera_core::token::{TokenKind, TokenSecret};
use tessera_core::{NewToken, StatusAction};
use time::OffsetDateTime;

use crate::common;

fn scopes(s: &[&str]) -> Vec<Scope> {
    s.iter().map(|x| x.parse().expect("scope")).collect()
}

#[tokio::test]
async fn the_explanation_agrees_with_verification_and_lists_every_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let uli = common::person(&t, "uli@acme.test", Role::User).await;
    let make = |name: &'static str, nets: &[&str], idle: Option<u32>, s: &[&str]| NewToken {
        scopes: scopes(s),
        networks: Networks::parse(nets).expect("nets"),
        idle_days: idle,
        expiry: ExpiryRequest::parse_in("30d").expect("expiry"),
        ..NewToken::named(TokenKind::Personal, name)
    };
    let mut tokens = Vec::new();
    for (name, nets, idle, s) in [
        (
            "fenced",
            &["192.168.0.0/24", "2001:db8::/32"][..],
            Some(1),
            &["me:read"][..],
        ),
        ("open", &[][..], None, &["me:read", "tokens:read"][..]),
        ("revoked", &[][..], None, &["me:read"][..]),
        ("paused", &[][..], None, &["me:read"][..]),
    ] {
        let c = t
            .create_token(&uli, make(name, nets, idle, s))
            .await
            .expect("create");
        tokens.push((c.info.id, c.token.expose().to_owned()));
    }
    t.set_token_status(&uli, tokens[2].0, StatusAction::Revoke)
        .await
        .expect("revoke");
    t.set_token_status(&uli, tokens[3].0, StatusAction::Deactivate)
        .await
        .expect("deactivate");
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let ips: [Option<IpAddr>; 3] = [
        None,
        Some("192.168.0.9".parse().expect("ip")),
        Some("10.0.0.7".parse().expect("ip")),
    ];
    let asks = [
        scopes(&[]),
        scopes(&["me:read"]),
        scopes(&["users:write"]),
        scopes(&["me:read", "tokens:read"]),
    ];
    let times = [now, now + 2 * 86_400, now + 31 * 86_400];
    let mut refused = std::collections::BTreeSet::new();
    for (_, secret) in &tokens {
        for ip in ips {
            for ask in &asks {
                for at in times {
                    let e = t
                        .explain(&admin, Presented::Token(secret), ask, ip, at)
                        .await
                        .expect("explain");
                    let d = t
                        .verify(
                            secret,
                            ask,
                            ip,
                            time::OffsetDateTime::from_unix_timestamp(at).expect("at"),
                        )
                        .await
                        .expect("verify");
                    assert_eq!(e.outcome, d.outcome(), "{e:?}");
                    assert_eq!(e.accepted, d.accepted());
                    refused.insert(e.outcome.clone());
                    // Every rule is there, once, and a scope check for each scope asked.
                    let rules: Vec<&str> = e.checks.iter().map(|c| c.rule.as_str()).collect();
                    for r in [
                        "format",
                        "checksum",
                        "known",
                        "status",
                        "expiry",
                        "idle_expiry",
                        "owner_active",
                        "network",
                        "rate_limit",
                    ] {
                        assert_eq!(
                            rules.iter().filter(|x| **x == r).count(),
                            1,
                            "{r}: {rules:?}"
                        );
                    }
                    for s in ask {
                        assert!(rules.contains(&format!("scope:{s}").as_str()), "{rules:?}");
                    }
                    // Failures beyond the first are listed too.
                    let failed = e.checks.iter().filter(|c| !c.passed).count();
                    assert_eq!(failed == 0, e.accepted, "{e:?}");
                }
            }
        }
    }
    for want in [
        "accepted",
        "revoked",
        "deactivated",
        "expired",
        "idle_expired",
        "network",
        "scope",
    ] {
        assert!(
            refused.contains(want),
            "no case answered {want}: {refused:?}"
        );
    }
    // What the network rule compared, and the later scope failure after it.
    let e = t
        .explain(
            &admin,
            Presented::Token(&tokens[0].1),
            &scopes(&["users:write"]),
            Some("10.0.0.7".parse().expect("ip")),
            now,
        )
        .await
        .expect("explain");
    assert_eq!(e.outcome, "network");
    let detail = |rule: &str| {
        e.checks
            .iter()
            .find(|c| c.rule == rule)
            .map(|c| (c.passed, c.detail.clone()))
            .expect("rule")
    };
    assert_eq!(
        detail("network"),
        (
            false,
            "10.0.0.7 not in 192.168.0.0/24, 2001:db8::/32".to_owned()
        )
    );
    assert_eq!(
        detail("scope:users:write"),
        (false, "not held (holds me:read)".to_owned())
    );
    // Explaining records nothing: no uses, no last use.
    for (id, _) in &tokens {
        let info = t.get_token(&admin, *id).await.expect("token");
        assert!(info.last_used_at.is_none(), "{info:?}");
        assert!(t
            .token_usage(&admin, *id, 10)
            .await
            .expect("usage")
            .is_empty());
    }
}

#[tokio::test]
async fn unknown_typos_rate_limits_and_picking_by_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let uli = common::person(&t, "uli@acme.test", Role::User).await;
    let now = OffsetDateTime::now_utc();
    // Well formed, right checksum, never issued here.
    let stranger = TokenSecret::generate(TokenKind::Personal);
    let e = t
        .explain(
            &admin,
            Presented::Token(stranger.expose()),
            &[],
            None,
            now.unix_timestamp(),
        )
        .await
        .expect("explain");
    assert_eq!(e.outcome, "unknown");
    let passed: Vec<(&str, bool)> = e
        .checks
        .iter()
        .map(|c| (c.rule.as_str(), c.passed))
        .collect();
    assert_eq!(
        passed,
        vec![("format", true), ("checksum", true), ("known", false)]
    );
    // A typo in the last character: the checksum says so.
    let c = t
        .create_token(
            &uli,
            NewToken {
                rate_limit: Some(3),
                ..NewToken::named(TokenKind::Personal, "ci")
            },
        )
        .await
        .expect("create");
    let secret = c.token.expose().to_owned();
    let mut typo = secret.clone();
    let last = typo.pop().expect("char");
    typo.push(if last == 'a' { 'b' } else { 'a' });
    let e = t
        .explain(
            &admin,
            Presented::Token(&typo),
            &[],
            None,
            now.unix_timestamp(),
        )
        .await
        .expect("explain");
    assert_eq!(e.outcome, "malformed");
    assert_eq!(
        e.checks.last().map(|c| (c.rule.as_str(), c.passed)),
        Some(("checksum", false))
    );
    // Three accepted uses in the last minute use up a limit of three a minute.
    let event = tessera_core::store::usage::UseEvent {
        token_id: c.info.id,
        at: now,
        ip: None,
        user_agent: None,
        method: "GET".into(),
        path: "/v1/me".into(),
        status: 200,
        outcome: "accepted",
        via: "bearer",
    };
    t.record_uses(&[event.clone(), event.clone(), event])
        .await
        .expect("uses");
    let e = t
        .explain(
            &admin,
            Presented::Token(&secret),
            &[],
            None,
            now.unix_timestamp(),
        )
        .await
        .expect("explain");
    assert_eq!(e.outcome, "rate_limited");
    assert!(!e.accepted);
    let rate = e
        .checks
        .iter()
        .find(|c| c.rule == "rate_limit")
        .expect("rate");
    assert!(
        !rate.passed && rate.detail.starts_with("3 of 3"),
        "{rate:?}"
    );
    // A minute later the limit has room again.
    let e = t
        .explain(
            &admin,
            Presented::Token(&secret),
            &[],
            None,
            now.unix_timestamp() + 61,
        )
        .await
        .expect("explain");
    assert_eq!(e.outcome, "accepted");
    // By id: the owner and an admin may; another user may not even learn it exists.
    let e = t
        .explain(
            &uli,
            Presented::Id(c.info.id),
            &[],
            None,
            now.unix_timestamp() + 61,
        )
        .await
        .expect("explain");
    assert_eq!(e.outcome, "accepted");
    assert_eq!(e.checks[0].rule, "known");
    let other = common::person(&t, "other@acme.test", Role::User).await;
    let err = t
        .explain(
            &other,
            Presented::Id(c.info.id),
            &[],
            None,
            now.unix_timestamp(),
        )
        .await
        .expect_err("not theirs");
    assert!(matches!(err, tessera_core::Error::NotFound(_)), "{err}");
}
