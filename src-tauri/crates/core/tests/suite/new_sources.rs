//! New-source alerts: a token with alerts on that is accepted from a network (/24, /48) or a
//! client family it was never accepted from gets one `token.new_source` audit entry, a
//! notice for its owner (for those who manage company tokens, on a company token) and a line
//! on the Dashboard. Its first network and client are its baseline; refusals are not sources.

use std::borrow::Cow;
use std::net::IpAddr;

use tessera_core::model::{Role, TokenId};
use tessera_core::service::RotateRequest;
use tessera_core::store::audit::AuditFilter;
use tessera_core::store::usage::UseEvent;
use tessera_core::token::TokenKind;
use tessera_core::{Actor, NewToken, Tessera};
use time::OffsetDateTime;

use crate::common;

fn used(id: TokenId, ip: &str, agent: &str, outcome: &'static str) -> UseEvent {
    UseEvent {
        token_id: id,
        at: OffsetDateTime::now_utc(),
        ip: Some(ip.parse::<IpAddr>().expect("ip")),
        user_agent: Some(agent.into()),
        method: Cow::Borrowed("GET"),
        path: Cow::Borrowed("/v1/me"),
        status: if outcome == "accepted" { 200 } else { 403 },
        outcome,
        via: "bearer",
    }
}

async fn accept(t: &Tessera, id: TokenId, ip: &str, agent: &str) {
    t.record_uses(&[used(id, ip, agent, "accepted")])
        .await
        .expect("record");
}

/// The token.new_source entries about `id`, oldest first, as (network, client).
async fn alerts(t: &Tessera, admin: &Actor, id: TokenId) -> Vec<(Option<String>, Option<String>)> {
    let mut entries = t
        .audit(
            admin,
            &AuditFilter {
                action: Some("token.new_source".into()),
                target: Some(format!("token:{id}")),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    entries.reverse();
    entries
        .into_iter()
        .map(|e| {
            let s = |k: &str| e.details[k].as_str().map(str::to_owned);
            (s("network"), s("client"))
        })
        .collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[tokio::test]
async fn a_company_token_alerts_on_a_new_network_and_a_new_client_once_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let id = common::token(&t, &admin, TokenKind::Company, "billing", "30d").await;
    let info = t.get_token(&admin, id).await.expect("get");
    assert!(info.alert_new_sources, "on by default for company tokens");

    // The first use is the baseline; another address in the same /24 with another version of
    // the same client is not news.
    accept(&t, id, "10.1.2.3", "curl/8.5.0").await;
    accept(&t, id, "10.1.2.99", "curl/7.88.1").await;
    assert!(alerts(&t, &admin, id).await.is_empty());

    // A refused request from elsewhere is not a source.
    t.record_uses(&[used(id, "198.51.100.7", "evil/1", "scope")])
        .await
        .expect("record");
    assert!(alerts(&t, &admin, id).await.is_empty());

    accept(&t, id, "203.0.113.5", "curl/8.5.0").await;
    accept(&t, id, "203.0.113.6", "curl/8.5.0").await;
    assert_eq!(
        alerts(&t, &admin, id).await,
        vec![(some("203.0.113.0/24"), None)]
    );
    accept(&t, id, "10.1.2.3", "python-requests/2.32.3").await;
    // Both new at once: one entry naming both.
    accept(&t, id, "2001:db8:7:1::1", "Go-http-client/1.1").await;
    // Known again, after a restart of the process (the database remembers, not only memory).
    let again = common::open(dir.path()).await;
    accept(&again, id, "2001:db8:7:ffff::2", "Go-http-client/2.0").await;
    assert_eq!(
        alerts(&t, &admin, id).await,
        vec![
            (some("203.0.113.0/24"), None),
            (None, some("python-requests")),
            (some("2001:db8:7::/48"), some("Go-http-client")),
        ]
    );
    let sources = t.token_sources(&admin, id).await.expect("sources");
    let listed: Vec<(&str, &str)> = sources
        .iter()
        .map(|s| (s.kind.as_str(), s.source.as_str()))
        .collect();
    for want in [
        ("network", "10.1.2.0/24"),
        ("client", "curl"),
        ("network", "203.0.113.0/24"),
        ("client", "python-requests"),
        ("network", "2001:db8:7::/48"),
        ("client", "Go-http-client"),
    ] {
        assert!(listed.contains(&want), "{want:?} in {listed:?}");
    }
    assert!(!listed
        .iter()
        .any(|(_, s)| s.contains("198.51.100") || *s == "evil"));

    // The Dashboard counts tokens, not alerts.
    let d = t.dashboard(&admin).await.expect("dashboard");
    assert_eq!(d.new_source_tokens, 1);
    assert_eq!(d.new_sources.len(), 3);
    assert_eq!(d.new_sources[0].client.as_deref(), Some("Go-http-client"));
    assert_eq!(d.new_sources[0].ip.as_deref(), Some("2001:db8:7:1::1"));
    assert_eq!(d.new_sources[0].name, "billing");

    // Admins hear about company tokens, once.
    let first = t.take_new_source_notices(&admin).await.expect("notices");
    assert_eq!(first.len(), 3);
    assert!(t
        .take_new_source_notices(&admin)
        .await
        .expect("notices")
        .is_empty());
    accept(&t, id, "192.0.2.1", "curl/8.5.0").await;
    let next = t.take_new_source_notices(&admin).await.expect("notices");
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].network.as_deref(), Some("192.0.2.0/24"));

    // A plain user sees none of it.
    let uli = common::person(&t, "uli@acme.test", Role::User).await;
    assert_eq!(t.dashboard(&uli).await.expect("dash").new_source_tokens, 0);
    assert!(t
        .take_new_source_notices(&uli)
        .await
        .expect("notices")
        .is_empty());
}

#[tokio::test]
async fn a_personal_token_alerts_only_when_its_owner_turns_alerts_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let uli = common::person(&t, "uli@acme.test", Role::User).await;
    let id = common::token(&t, &uli, TokenKind::Personal, "laptop", "30d").await;
    assert!(!t.get_token(&uli, id).await.expect("get").alert_new_sources);
    accept(&t, id, "10.0.0.1", "curl/8").await;
    accept(&t, id, "10.0.9.1", "curl/8").await;
    assert!(alerts(&t, &admin, id).await.is_empty(), "off by default");

    let info = t.set_token_alerts(&uli, id, true).await.expect("on");
    assert!(info.alert_new_sources);
    // Sources seen while alerts were off are known, not news.
    accept(&t, id, "10.0.9.7", "curl/8").await;
    assert!(alerts(&t, &admin, id).await.is_empty());
    accept(&t, id, "172.16.5.5", "curl/8").await;
    assert_eq!(
        alerts(&t, &admin, id).await,
        vec![(some("172.16.5.0/24"), None)]
    );
    // The owner is told, once; admins are not told about someone's personal token (they
    // see it on their Dashboard, as they see every token).
    assert_eq!(t.take_new_source_notices(&uli).await.expect("n").len(), 1);
    assert!(t.take_new_source_notices(&uli).await.expect("n").is_empty());
    assert!(t
        .take_new_source_notices(&admin)
        .await
        .expect("n")
        .is_empty());
    assert_eq!(t.dashboard(&admin).await.expect("d").new_source_tokens, 1);
    assert_eq!(t.dashboard(&uli).await.expect("d").new_source_tokens, 1);

    // Another user may not change it, and the change is audited.
    let eve = common::person(&t, "eve@acme.test", Role::User).await;
    assert!(t.set_token_alerts(&eve, id, false).await.is_err());
    t.set_token_alerts(&uli, id, false).await.expect("off");
    accept(&t, id, "192.0.2.9", "curl/8").await;
    assert_eq!(alerts(&t, &admin, id).await.len(), 1, "off again");
    let changes = t
        .audit(
            &admin,
            &AuditFilter {
                action: Some("token.alerts".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert_eq!(changes.len(), 2);
}

#[tokio::test]
async fn two_servers_seeing_the_same_new_source_alert_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, admin) = common::company(dir.path()).await;
    let b = common::open(dir.path()).await;
    let id = common::token(&a, &admin, TokenKind::Company, "feed", "30d").await;
    accept(&a, id, "10.0.0.1", "feeder/1").await;
    let (x, y) = tokio::join!(
        accept(&a, id, "198.51.100.1", "feeder/1"),
        accept(&b, id, "198.51.100.2", "feeder/1"),
    );
    let ((), ()) = (x, y);
    accept(&b, id, "198.51.100.3", "feeder/1").await;
    accept(&a, id, "198.51.100.4", "feeder/1").await;
    assert_eq!(
        alerts(&a, &admin, id).await,
        vec![(some("198.51.100.0/24"), None)]
    );
}

#[tokio::test]
async fn a_rotated_token_s_successor_knows_where_the_old_one_was_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let old = common::token(&t, &admin, TokenKind::Company, "sync", "30d").await;
    accept(&t, old, "10.0.0.1", "sync/1").await;
    accept(&t, old, "10.0.1.1", "sync/1").await;
    let new = t
        .rotate_token(&admin, old, RotateRequest::parse(None, None).expect("req"))
        .await
        .expect("rotate")
        .info
        .id;
    assert!(
        t.get_token(&admin, new)
            .await
            .expect("get")
            .alert_new_sources
    );
    accept(&t, new, "10.0.1.7", "sync/2").await;
    assert!(alerts(&t, &admin, new).await.is_empty(), "not news");
    accept(&t, new, "203.0.113.1", "sync/2").await;
    assert_eq!(
        alerts(&t, &admin, new).await,
        vec![(some("203.0.113.0/24"), None)]
    );

    // Turned off on the old one, the choice carries over too.
    let quiet = t
        .create_token(
            &admin,
            NewToken {
                alert_new_sources: Some(false),
                description: Some("a quiet one".into()),
                ..NewToken::named(TokenKind::Company, "quiet")
            },
        )
        .await
        .expect("create")
        .info;
    assert!(!quiet.alert_new_sources);
    let next = t
        .rotate_token(
            &admin,
            quiet.id,
            RotateRequest::parse(None, None).expect("req"),
        )
        .await
        .expect("rotate");
    assert!(!next.info.alert_new_sources);
}

#[tokio::test]
async fn a_honeytoken_cannot_have_new_source_alerts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let trap = t
        .create_token(
            &admin,
            NewToken {
                honeytoken: true,
                description: Some("a trap".into()),
                ..NewToken::named(TokenKind::Company, "trap")
            },
        )
        .await
        .expect("create")
        .info;
    assert!(!trap.alert_new_sources);
    let err = t
        .set_token_alerts(&admin, trap.id, true)
        .await
        .expect_err("honeytoken");
    assert!(err.to_string().contains("alerts already"), "{err}");
}

#[tokio::test]
async fn a_client_changing_its_user_agent_every_request_cannot_flood_the_audit_log_or_the_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let id = common::token(&t, &admin, TokenKind::Company, "sprayed", "30d").await;
    accept(&t, id, "10.0.0.1", "first/1").await;
    let events: Vec<UseEvent> = (0..1_010)
        .map(|i| used(id, "10.0.0.1", &format!("spray-{i}/1"), "accepted"))
        .collect();
    t.record_uses(&events).await.expect("record");
    // At most 20 alerts an hour for one token; the first of the flood are among them.
    let got = alerts(&t, &admin, id).await;
    assert_eq!(got.len(), 20);
    assert!(got
        .iter()
        .all(|(n, c)| n.is_none() && c.as_deref().is_some_and(|c| c.starts_with("spray-"))));
    // At most 1,000 clients kept for it.
    let clients = t
        .token_sources(&admin, id)
        .await
        .expect("sources")
        .into_iter()
        .filter(|s| s.kind == "client")
        .count();
    assert_eq!(clients, 1_000);
    // The networks are counted apart: a new one is still news.
    t.record_uses(&[used(id, "198.51.100.1", "spray-1/1", "accepted")])
        .await
        .expect("record");
    let sources = t.token_sources(&admin, id).await.expect("sources");
    assert!(sources
        .iter()
        .any(|s| s.kind == "network" && s.source == "198.51.100.0/24"));
}
