//! Expiry notices: each token the person owns or manages is announced once at 7 days and
//! once at 1 day before it expires, never twice, and never for other people's tokens.

use crate::common;

use tessera_core::model::Role;
use tessera_core::token::TokenKind;

#[tokio::test]
async fn each_expiring_token_is_announced_once_per_threshold_to_those_who_manage_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, _) = common::company(dir.path()).await;
    let uli = common::person(&t, "uli@acme.test", Role::User).await;
    let vera = common::person(&t, "vera@acme.test", Role::VrmAdmin).await;
    let soon = common::token(&t, &uli, TokenKind::Personal, "soon", "5d").await;
    let tomorrow = common::token(&t, &uli, TokenKind::Personal, "tomorrow", "20h").await;
    common::token(&t, &uli, TokenKind::Personal, "later", "60d").await;
    let svc = common::token(&t, &vera, TokenKind::Company, "svc", "3d").await;

    let mut got: Vec<_> = t
        .take_expiry_notices(&uli)
        .await
        .expect("notices")
        .into_iter()
        .map(|(tok, d)| (tok.id, d))
        .collect();
    got.sort();
    let mut want = vec![(soon, 7), (tomorrow, 1)];
    want.sort();
    assert_eq!(got, want);
    // Asked again: nothing new.
    assert!(t
        .take_expiry_notices(&uli)
        .await
        .expect("notices")
        .is_empty());
    // The VRM admin manages company tokens and gets their notice, not Uli's tokens.
    let v: Vec<_> = t
        .take_expiry_notices(&vera)
        .await
        .expect("notices")
        .into_iter()
        .map(|(tok, d)| (tok.id, d))
        .collect();
    assert_eq!(v, vec![(svc, 7)]);
}

#[tokio::test]
async fn tokens_presented_in_a_url_query_are_counted_on_the_dashboard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    let a = common::token(&t, &admin, TokenKind::Personal, "a", "30d").await;
    common::token(&t, &admin, TokenKind::Personal, "b", "30d").await;
    let event = |via: &'static str| tessera_core::store::usage::UseEvent {
        token_id: a,
        at: time::OffsetDateTime::now_utc(),
        ip: Some(std::net::Ipv4Addr::LOCALHOST.into()),
        user_agent: None,
        method: "GET".into(),
        path: "/v1/me".into(),
        status: 200,
        outcome: "accepted",
        via,
    };
    t.record_uses(&[event("bearer")]).await.expect("record");
    assert_eq!(
        t.dashboard(&admin)
            .await
            .expect("dashboard")
            .presented_in_query,
        0
    );
    t.record_uses(&[event("query"), event("query")])
        .await
        .expect("record");
    let d = t.dashboard(&admin).await.expect("dashboard");
    assert_eq!(d.presented_in_query, 1);
    assert_eq!(d.never_used, 1);
    let filter = tessera_core::store::tokens::TokenFilter {
        presented_in_query: true,
        limit: 10,
        ..Default::default()
    };
    let listed = t.list_tokens(&admin, &filter).await.expect("list");
    assert_eq!(listed.iter().map(|x| x.id).collect::<Vec<_>>(), vec![a]);
}
