//! A team server's sessions over HTTPS: a person signs in with e-mail and password and acts
//! with their role's rights through a short-lived credential; it ends when signed out, idle,
//! past its end, or when the person is deactivated or changes the password elsewhere; wrong
//! passwords back off per account and per address. The authority matrix (`authority.rs`)
//! has the session actors on every route.

use crate::common;

use common::{setup, Env, ADMIN_PASSWORD, USER_PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::model::Role;
use tessera_core::store::audit::AuditFilter;
use tessera_core::store::Tx;
use tessera_core::Actor;

async fn call(
    env: &Env,
    method: &str,
    path: &str,
    session: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = env.client.request(m, env.url(path)).bearer_auth(session);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let text = res.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
    };
    (status, v)
}

async fn sign_in_raw(env: &Env, email: &str, password: &str) -> reqwest::Response {
    env.client
        .post(env.url("/v1/sessions"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("sign in")
}

/// Run one statement against the store by hand, binding `a` then `b` (either engine).
async fn by_hand(env: &Env, sql: &str, a: i64, b: Option<i64>) {
    let mut tx = env.tessera.store().begin().await.expect("tx");
    match &mut tx {
        Tx::Lite(tx) => {
            let mut q = sqlx::query(sql).bind(a);
            if let Some(b) = b {
                q = q.bind(b);
            }
            q.execute(&mut **tx).await.map(|_| ())
        }
        Tx::Pg(tx) => {
            let mut q = sqlx::query(sql).bind(a);
            if let Some(b) = b {
                q = q.bind(b);
            }
            q.execute(&mut **tx).await.map(|_| ())
        }
    }
    .expect("by hand");
    tx.commit().await.expect("commit");
}

/// One number from the store by hand (either engine).
async fn number(env: &Env, sql: &'static str) -> i64 {
    let mut tx = env.tessera.store().begin().await.expect("tx");
    let (n,): (i64,) = match &mut tx {
        Tx::Lite(tx) => sqlx::query_as(sql).fetch_one(&mut **tx).await,
        Tx::Pg(tx) => sqlx::query_as(sql).fetch_one(&mut **tx).await,
    }
    .expect("row");
    tx.commit().await.expect("commit");
    n
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn audit_actions(env: &Env, actor: &str) -> Vec<String> {
    env.tessera
        .audit(
            &Actor::Operator,
            &AuditFilter {
                actor: Some(actor.to_owned()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn a_person_signs_in_acts_with_their_role_and_signs_out() {
    let env = setup().await;
    let res = sign_in_raw(&env, "ada@example.com", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let v: Value = res.json().await.expect("json");
    let s = v["session"].as_str().expect("session").to_owned();
    assert!(s.starts_with("tsr_w_"), "{s}");
    assert_eq!(v["user"]["email"], "ada@example.com");
    assert_eq!(v["idle_minutes"], 15);
    let ends = time::OffsetDateTime::parse(
        v["expires_at"].as_str().expect("end"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("rfc3339");
    let hours = (ends - time::OffsetDateTime::now_utc()).whole_minutes();
    assert!((11 * 60..=12 * 60).contains(&hours), "{hours} minutes");

    let (status, me) = call(&env, "GET", "/v1/sessions/current", &s, None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["role"], "admin");

    // Only as a bearer credential, and never taken for an API token.
    let res = env
        .client
        .get(env.url("/v1/sessions/current"))
        .header("x-api-key", &s)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let v: Value = res.json().await.expect("json");
    assert_eq!(v["error"], "session_not_bearer");
    let (status, v) = call(&env, "GET", "/v1/me", &s, None).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("session_not_token"))
    );
    let d = env
        .tessera
        .verify(&s, &[], None, time::OffsetDateTime::now_utc())
        .await
        .expect("verify");
    assert!(d.token.is_none(), "a session never verifies as a token");

    // The admin's rights: a company token, audited as her.
    let (status, created) = call(
        &env,
        "POST",
        "/v1/tokens",
        &s,
        Some(json!({"kind": "company", "name": "from-the-window", "description": "made in a session", "scopes": ["tokens:verify"], "expires_in": "1d"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let actions = audit_actions(&env, "ada@example.com").await;
    assert!(actions.contains(&"token.create".to_owned()), "{actions:?}");
    assert!(actions.contains(&"user.sign_in".to_owned()), "{actions:?}");

    // Her user API token, made and shown once in the session, works as a token.
    let (status, made) = call(&env, "POST", "/v1/profile/token", &s, Some(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let user_token = made["token"].as_str().expect("plaintext").to_owned();
    assert!(user_token.starts_with("tsr_u_"));
    let (status, listed) = call(&env, "GET", "/v1/profile/token", &s, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["token"]["id"], made["id"]);
    let me = env
        .client
        .get(env.url("/v1/me"))
        .bearer_auth(&user_token)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::OK);

    // Neither plaintext is stored: the database file holds neither.
    let db = std::fs::read(env.dir.path().join("tessera.db")).unwrap_or_default();
    let wal = std::fs::read(env.dir.path().join("tessera.db-wal")).unwrap_or_default();
    for secret in [&s, &user_token] {
        let needle = secret.as_bytes();
        for bytes in [&db, &wal] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        }
    }

    // An ordinary user's session: her own tokens only; a role change applies at once.
    let uli = env.add_user("uli@example.com", Role::User).await;
    let u = env.sign_in("uli@example.com", USER_PASSWORD).await;
    let (status, _) = call(&env, "GET", "/v1/users", &u, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    env.tessera
        .set_role(&Actor::Operator, &uli.email, Role::Admin)
        .await
        .expect("promote");
    let (status, users) = call(&env, "GET", "/v1/users", &u, None).await;
    assert_eq!(status, StatusCode::OK, "{users}");
    // Deactivated: the session ends on its next request.
    env.tessera
        .deactivate_user(&Actor::Operator, &uli.email)
        .await
        .expect("deactivate");
    let (status, v) = call(&env, "GET", "/v1/sessions/current", &u, None).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("owner_inactive"))
    );

    // Signing out ends it everywhere.
    let (status, _) = call(&env, "DELETE", "/v1/sessions/current", &s, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, v) = call(&env, "GET", "/v1/sessions/current", &s, None).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unknown_session"))
    );
    assert!(audit_actions(&env, "ada@example.com")
        .await
        .contains(&"user.sign_out".to_owned()));
}

#[tokio::test]
async fn wrong_passwords_back_off_per_account_and_per_address() {
    let env = setup().await;
    let limit = tessera_api::ratelimit::RateLimits::ACCOUNT_FAILURES;
    for _ in 0..limit {
        let res = sign_in_raw(&env, "ada@example.com", "a wrong passphrase here").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let v: Value = res.json().await.expect("json");
        assert_eq!(v["error"], "invalid_credentials");
        assert_eq!(v["message"], "wrong e-mail or password");
    }
    // The account is blocked for a while, even with the right password.
    let res = sign_in_raw(&env, "ada@example.com", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    // An unknown e-mail is answered as a wrong password, and counts for the address.
    let res = sign_in_raw(&env, "nobody@example.com", "a wrong passphrase here").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The address: its failures are spent across accounts (short passwords cost no hash).
    // The minute's allowance refills as the test runs (one every two seconds), so allow a few
    // more than are left of it.
    let left = tessera_api::ratelimit::RateLimits::ADDRESS_FAILURES - (limit + 1);
    let mut refused = 0;
    let blocked = loop {
        let res = sign_in_raw(&env, &format!("guess-{refused}@example.com"), "short").await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"));
            break refused;
        }
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        refused += 1;
        assert!(refused <= left + 10, "the address was never blocked");
    };
    assert!(blocked >= left, "blocked after {blocked} of {left}");
    // Bad input says what is wrong.
    let res = sign_in_raw(&env, "not an address", "whatever it is").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let v: Value = res.json().await.expect("json");
    assert_eq!(v["field"], "email");
    // Every failure is in the audit log, the password in none of it.
    let failed = audit_actions(&env, "ada@example.com").await;
    assert_eq!(
        failed
            .iter()
            .filter(|a| *a == "user.sign_in_failed")
            .count(),
        limit as usize
    );
}

#[tokio::test]
async fn a_session_ends_idle_or_at_its_end_and_background_refresh_does_not_renew_it() {
    let env = setup().await;
    let s = env.sign_in("ada@example.com", ADMIN_PASSWORD).await;
    const LAST_SEEN: &str = "SELECT last_seen_at FROM sessions";
    // Fourteen minutes idle: still open. A background refresh leaves the clock alone...
    let then = now() - 14 * 60;
    by_hand(
        &env,
        "UPDATE sessions SET last_seen_at = $1 WHERE id > $2",
        then,
        Some(0),
    )
    .await;
    let res = env
        .client
        .get(env.url("/v1/dashboard"))
        .bearer_auth(&s)
        .header(tessera_api::gate::BACKGROUND_HEADER, "1")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(number(&env, LAST_SEEN).await, then);
    // ... and a person's request starts it again.
    let (status, _) = call(&env, "GET", "/v1/dashboard", &s, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(number(&env, LAST_SEEN).await >= now() - 5);
    // Sixteen minutes idle: over.
    by_hand(
        &env,
        "UPDATE sessions SET last_seen_at = $1 WHERE id > $2",
        now() - 16 * 60,
        Some(0),
    )
    .await;
    let (status, v) = call(&env, "GET", "/v1/dashboard", &s, None).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_idle"))
    );
    assert!(v["message"]
        .as_str()
        .expect("message")
        .contains("15 minutes idle"));
    // Past its end, however busy.
    let s = env.sign_in("ada@example.com", ADMIN_PASSWORD).await;
    by_hand(
        &env,
        "UPDATE sessions SET expires_at = $1 WHERE id > $2",
        now() - 1,
        Some(0),
    )
    .await;
    let (status, v) = call(&env, "GET", "/v1/sessions/current", &s, None).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_ended"))
    );
    // Ended sessions are gone from the store.
    let s = env.sign_in("ada@example.com", ADMIN_PASSWORD).await;
    let n = number(&env, "SELECT COUNT(*) FROM sessions").await;
    assert_eq!(n, 1);
    let (status, _) = call(&env, "GET", "/v1/sessions/current", &s, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_needs_the_current_one() {
    let env = setup().await;
    let one = env.sign_in("ada@example.com", ADMIN_PASSWORD).await;
    let two = env.sign_in("ada@example.com", ADMIN_PASSWORD).await;
    let new_pw = "a brand new passphrase";
    let (status, v) = call(
        &env,
        "POST",
        "/v1/profile/password",
        &one,
        Some(json!({"current_password": "not the right one", "new_password": new_pw})),
    )
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("current_password"))
    );
    let (status, v) = call(
        &env,
        "POST",
        "/v1/profile/password",
        &one,
        Some(json!({"current_password": ADMIN_PASSWORD, "new_password": "short"})),
    )
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("new_password"))
    );
    let (status, _) = call(
        &env,
        "POST",
        "/v1/profile/password",
        &one,
        Some(json!({"current_password": ADMIN_PASSWORD, "new_password": new_pw})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&env, "GET", "/v1/sessions/current", &one, None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the session that changed it stays open"
    );
    let (status, v) = call(&env, "GET", "/v1/sessions/current", &two, None).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unknown_session"))
    );
    assert_eq!(
        sign_in_raw(&env, "ada@example.com", ADMIN_PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    env.sign_in("ada@example.com", new_pw).await;
    // The profile, in the session.
    let (status, v) = call(
        &env,
        "PATCH",
        "/v1/profile",
        &one,
        Some(json!({"name": "Ada L.", "source_group": "platform"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        (v["name"].as_str(), v["source_group"].as_str()),
        (Some("Ada L."), Some("platform"))
    );
    let (status, v) = call(
        &env,
        "PATCH",
        "/v1/profile",
        &one,
        Some(json!({"name": " "})),
    )
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("name"))
    );
}
