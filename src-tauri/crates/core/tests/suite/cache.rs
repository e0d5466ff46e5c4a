//! The in-memory verification cache never outlives a change: in-process writes apply on the
//! very next call, and writes by another process (another `Tessera` on the same file, as the
//! CLI would be) once the watcher has seen SQLite's data_version move.

use std::time::{Duration, Instant};
use tessera_core::store::Tx;

use crate::common;

use tessera_core::model::{Role, Scope};
use tessera_core::password::Password;
use tessera_core::token::TokenKind;
use tessera_core::verify::Reason;
use tessera_core::{Actor, NewToken, NewUser, StatusAction, Tessera};
use time::OffsetDateTime;

async fn token(t: &Tessera, name: &str, scopes: &[&str]) -> (tessera_core::model::TokenId, String) {
    let c = t
        .create_token(
            &Actor::Operator,
            NewToken {
                owner: Some("admin@acme.test".parse().expect("email")),
                scopes: scopes.iter().map(|s| s.parse().expect("scope")).collect(),
                ..NewToken::named(TokenKind::Personal, name)
            },
        )
        .await
        .expect("create");
    (c.info.id, c.token.expose().to_owned())
}

fn scope(s: &str) -> Scope {
    s.parse().expect("scope")
}

#[tokio::test]
async fn a_cached_token_is_refused_on_the_very_next_call_after_an_in_process_revoke() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, _) = common::company(dir.path()).await;
    t.enable_verify_cache(Duration::from_millis(50));
    assert!(t.verify_cache_ready(Duration::from_secs(10)).await);
    let (id, secret) = token(&t, "a", &["me:read"]).await;
    let now = OffsetDateTime::now_utc();
    for _ in 0..3 {
        assert!(t
            .verify(&secret, &[], None, now)
            .await
            .expect("verify")
            .accepted());
    }
    // The first call read the row; the cache answered the other two.
    assert_eq!(t.verify_cache_hits(), 2);
    t.set_token_status(&Actor::Operator, id, StatusAction::Deactivate)
        .await
        .expect("deactivate");
    let d = t.verify(&secret, &[], None, now).await.expect("verify");
    assert_eq!(d.refused, Some(Reason::Deactivated));
    assert_eq!(t.verify_cache_hits(), 2, "a stale entry answered");
    t.set_token_status(&Actor::Operator, id, StatusAction::Activate)
        .await
        .expect("activate");
    assert!(t
        .verify(&secret, &[], None, now)
        .await
        .expect("verify")
        .accepted());
    t.set_token_status(&Actor::Operator, id, StatusAction::Revoke)
        .await
        .expect("revoke");
    assert_eq!(
        t.verify(&secret, &[], None, now)
            .await
            .expect("verify")
            .refused,
        Some(Reason::Revoked)
    );
    assert_eq!(t.verify_cache_hits(), 2, "a stale entry answered");
    // The revoked row is cached in turn (on PostgreSQL, once the notifications of this
    // test's own changes have come back from the listener: a row read while one arrives is
    // not kept).
    let mut tries = 0;
    while t.verify_cache_hits() == 2 {
        tries += 1;
        assert!(tries < 200, "the revoked row was never cached");
        let d = t.verify(&secret, &[], None, now).await.expect("verify");
        assert_eq!(d.refused, Some(Reason::Revoked));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(t.verify_cache_hits(), 3);
}

#[tokio::test]
async fn a_typo_of_a_cached_token_is_still_malformed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, _) = common::company(dir.path()).await;
    t.enable_verify_cache(Duration::from_millis(50));
    assert!(t.verify_cache_ready(Duration::from_secs(10)).await);
    let (_, secret) = token(&t, "a", &["me:read"]).await;
    let now = tessera_core::verify::unix_now();
    for _ in 0..2 {
        assert!(t
            .verify_at(&secret, &[], None, now)
            .await
            .expect("verify")
            .accepted());
    }
    assert_eq!(t.verify_cache_hits(), 1, "the second call is a cache hit");
    // The checksum is skipped only for a cache hit; every single-character change misses.
    for i in 6..secret.len() {
        let mut b = secret.clone().into_bytes();
        b[i] = if b[i] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(b).expect("ascii");
        let d = t.verify_at(&typo, &[], None, now).await.expect("verify");
        assert_eq!(d.refused, Some(Reason::Malformed), "position {i}");
        assert!(d.token.is_none());
    }
    assert_eq!(
        t.verify_cache_hits(),
        1,
        "a typo was answered from the cache"
    );
}

#[tokio::test]
async fn a_role_change_reaches_cached_tokens_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, _) = common::company(dir.path()).await;
    t.enable_verify_cache(Duration::from_millis(50));
    assert!(t.verify_cache_ready(Duration::from_secs(10)).await);
    t.add_user(
        &Actor::Operator,
        NewUser {
            email: "boss@acme.test".parse().expect("email"),
            name: "Boss".into(),
            role: Role::Admin,
            password: Password::new("correct horse battery staple".into()).expect("pw"),
            source_group: String::new(),
        },
    )
    .await
    .expect("user");
    let (_, secret) = token(&t, "ops", &["users:read"]).await;
    let now = OffsetDateTime::now_utc();
    for _ in 0..2 {
        assert!(t
            .verify(&secret, &[scope("users:read")], None, now)
            .await
            .expect("verify")
            .accepted());
    }
    assert_eq!(t.verify_cache_hits(), 1);
    t.set_role(
        &Actor::Operator,
        &"admin@acme.test".parse().expect("email"),
        Role::User,
    )
    .await
    .expect("role");
    let d = t
        .verify(&secret, &[scope("users:read")], None, now)
        .await
        .expect("verify");
    assert_eq!(d.refused, Some(Reason::Scope));
    assert_eq!(t.verify_cache_hits(), 1, "a stale entry answered");
}

#[tokio::test]
async fn a_revoke_by_another_process_reaches_the_cache_within_the_poll_interval() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _) = common::company(dir.path()).await;
    server.enable_verify_cache(Duration::from_millis(20));
    assert!(server.verify_cache_ready(Duration::from_secs(10)).await);
    let (id, secret) = token(&server, "x", &["me:read"]).await;
    let now = OffsetDateTime::now_utc();
    for _ in 0..2 {
        assert!(server
            .verify(&secret, &[], None, now)
            .await
            .expect("verify")
            .accepted());
    }
    assert_eq!(server.verify_cache_hits(), 1);
    // Another store on the same file stands in for the CLI in another process.
    let other = common::open(dir.path()).await;
    other
        .set_token_status(&Actor::Operator, id, StatusAction::Revoke)
        .await
        .expect("revoke");
    let started = Instant::now();
    loop {
        let d = server
            .verify(&secret, &[], None, OffsetDateTime::now_utc())
            .await
            .expect("verify");
        if d.refused == Some(Reason::Revoked) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the external revoke never reached the cache"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn an_accepted_use_renews_idle_expiry_for_cached_tokens_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, _) = common::company(dir.path()).await;
    t.enable_verify_cache(Duration::from_secs(3600));
    assert!(t.verify_cache_ready(Duration::from_secs(10)).await);
    let c = t
        .create_token(
            &Actor::Operator,
            NewToken {
                owner: Some("admin@acme.test".parse().expect("email")),
                idle_days: Some(1),
                ..NewToken::named(TokenKind::Personal, "idle")
            },
        )
        .await
        .expect("create");
    let now = OffsetDateTime::now_utc();
    // Almost a day unused.
    let mut tx = t.store().begin().await.expect("tx");
    let (sql, anchor) = (
        "UPDATE tokens SET idle_anchor_at = $1 WHERE id = $2",
        now.unix_timestamp() - 86_400 + 60,
    );
    match &mut tx {
        Tx::Lite(tx) => sqlx::query(sql)
            .bind(anchor)
            .bind(c.info.id.0)
            .execute(&mut **tx)
            .await
            .map(|_| ()),
        Tx::Pg(tx) => sqlx::query(sql)
            .bind(anchor)
            .bind(c.info.id.0)
            .execute(&mut **tx)
            .await
            .map(|_| ()),
    }
    .expect("update");
    tx.commit().await.expect("commit");
    let secret = c.token.expose();
    // Verify until the cache answers (on PostgreSQL the edit's notification may arrive
    // during the first read, and that row is then not kept).
    let mut tries = 0;
    while t.verify_cache_hits() == 0 {
        tries += 1;
        assert!(tries < 200, "the token was never cached");
        let d = t.verify(secret, &[], None, now).await.expect("verify");
        assert!(d.accepted(), "still within the day: {:?}", d.refused);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(t.verify_cache_hits(), 1);
    t.record_uses(&[tessera_core::store::usage::UseEvent {
        token_id: c.info.id,
        at: now,
        ip: None,
        user_agent: None,
        method: "GET".into(),
        path: "/v1/me".into(),
        status: 200,
        outcome: "accepted",
        via: "bearer",
    }])
    .await
    .expect("record");
    // Two minutes later the old anchor would have expired it; the use renewed it.
    let later = now + time::Duration::minutes(2);
    let d = t.verify(secret, &[], None, later).await.expect("verify");
    assert!(
        d.accepted(),
        "the accepted use must renew idle expiry: {:?}",
        d.refused
    );
    assert_eq!(
        t.verify_cache_hits(),
        1,
        "the renewal did not reach the cache"
    );
    let d = t
        .verify(
            secret,
            &[],
            None,
            now + time::Duration::days(1) + time::Duration::minutes(1),
        )
        .await
        .expect("verify");
    assert_eq!(d.refused, Some(Reason::IdleExpired));
}

#[tokio::test]
async fn a_cached_idle_expired_answer_is_read_again_before_refusing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, _) = common::company(dir.path()).await;
    // B is another server on the same store that hears of A's writes only hourly (SQLite's
    // poll; on PostgreSQL the renewal's notification may reach it sooner).
    let b = common::open(dir.path()).await;
    b.enable_verify_cache(Duration::from_secs(3600));
    assert!(b.verify_cache_ready(Duration::from_secs(10)).await);
    let c = a
        .create_token(
            &Actor::Operator,
            NewToken {
                owner: Some("admin@acme.test".parse().expect("email")),
                idle_days: Some(1),
                ..NewToken::named(TokenKind::Personal, "idle")
            },
        )
        .await
        .expect("create");
    let secret = c.token.expose();
    let now = OffsetDateTime::now_utc();
    let mut tries = 0;
    while b.verify_cache_hits() == 0 {
        tries += 1;
        assert!(tries < 200, "the token was never cached");
        assert!(b
            .verify(secret, &[], None, now)
            .await
            .expect("verify")
            .accepted());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A accepts a use just before the day is over, renewing the idle clock there.
    let used = now + time::Duration::days(1) - time::Duration::minutes(1);
    a.record_uses(&[tessera_core::store::usage::UseEvent {
        token_id: c.info.id,
        at: used,
        ip: None,
        user_agent: None,
        method: "GET".into(),
        path: "/v1/me".into(),
        status: 200,
        outcome: "accepted",
        via: "bearer",
    }])
    .await
    .expect("record");
    // B's cached row says idle-expired by now; B reads the row again and accepts.
    let later = now + time::Duration::days(1) + time::Duration::minutes(1);
    let d = b.verify(secret, &[], None, later).await.expect("verify");
    assert!(
        d.accepted(),
        "a renewal elsewhere must not be refused: {:?}",
        d.refused
    );
    // Past the renewed day it is refused, by the row read again too.
    let d = b
        .verify(
            secret,
            &[],
            None,
            used + time::Duration::days(1) + time::Duration::minutes(1),
        )
        .await
        .expect("verify");
    assert_eq!(d.refused, Some(Reason::IdleExpired));
}
