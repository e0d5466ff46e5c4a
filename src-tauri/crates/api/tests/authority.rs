//! Authority only narrows, tried as an attacker would against a real HTTPS server: whatever
//! acts through a token creates or changes only what both its owner's current role and the
//! token's own scopes, networks, expiry and rate limit allow.

mod common;

use std::time::Duration;

use common::{new_token, setup, Env, ALL_SCOPES};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::model::{Networks, Role};
use tessera_core::policy::ExpiryRequest;
use tessera_core::store::audit::AuditFilter;
use tessera_core::token::{TokenKind, TokenSecret};
use tessera_core::{Actor, StatusAction};
use time::OffsetDateTime;

async fn send(
    env: &Env,
    method: &str,
    path: &str,
    t: &TokenSecret,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = env.client.request(m, env.url(path)).bearer_auth(t.expose());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let text = res.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, v)
}

async fn post(env: &Env, path: &str, t: &TokenSecret, body: Value) -> (StatusCode, Value) {
    send(env, "POST", path, t, Some(body)).await
}

/// An admin's personal token holding only `tokens:write`, limited to 127.0.0.1, for a day.
async fn narrow_admin_token(env: &Env) -> tessera_core::CreatedToken {
    let mut req = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "narrow",
        &["tokens:write"],
    );
    req.networks = Networks::parse(&["127.0.0.1"]).expect("net");
    req.expiry = ExpiryRequest::parse_in("1d").expect("1d");
    req.rate_limit = Some(100);
    env.token_with(req).await
}

fn message(v: &Value) -> &str {
    v["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_narrow_token_cannot_mint_a_wider_one() {
    let env = setup().await;
    let narrow = narrow_admin_token(&env).await;
    let t = &narrow.token;

    // The attack from the issue: admin scopes, a year, no network limit.
    let (status, v) = post(
        &env,
        "/v1/tokens",
        t,
        json!({
            "kind": "personal", "name": "wide",
            "scopes": ["users:write", "audit:read", "tokens:write"], "expires_in": "365d"
        }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert!(message(&v).starts_with("scope: "), "{v}");
    assert!(
        message(&v).contains("audit:read") && message(&v).contains("users:write"),
        "{v}"
    );

    // Each limit on its own.
    let wider = [
        (json!({"expires_in": "365d"}), "expiry: "),
        (json!({"never_expires": true}), "expiry: "),
        (json!({"allowed_networks": ["0.0.0.0/0"]}), "allow: "),
        (json!({"allowed_networks": ["127.0.0.0/8"]}), "allow: "),
        (json!({"rate_limit": 101}), "rate-limit: "),
    ];
    for (extra, field) in wider {
        let mut body = json!({"kind": "personal", "name": "wider", "scopes": ["tokens:write"]});
        for (k, val) in extra.as_object().expect("object") {
            body[k] = val.clone();
        }
        let (status, v) = post(&env, "/v1/tokens", t, body.clone()).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::BAD_REQUEST,
            "{body}: {status} {v}"
        );
        assert!(message(&v).starts_with(field), "{body}: {v}");
    }

    // Within every limit it works, and the defaults narrow to the presenting token.
    let (status, v) = post(
        &env,
        "/v1/tokens",
        t,
        json!({
            "kind": "personal", "name": "narrower", "scopes": ["tokens:write"]
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["allowed_networks"], json!(["127.0.0.1/32"]));
    assert_eq!(v["rate_limit"], 100);
    let expires = OffsetDateTime::parse(
        v["expires_at"].as_str().expect("expires"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("date");
    assert!(
        expires <= narrow.info.expires_at.expect("narrow expires"),
        "{v}"
    );
    assert_eq!(
        v["created_by"],
        format!("ada@example.com via token narrow ({})", narrow.info.hint)
    );

    // The audit log names the token that acted.
    let entries = env
        .tessera
        .audit(
            &Actor::Operator,
            &AuditFilter {
                action: Some("token.create".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert_eq!(
        entries[0].actor,
        format!("ada@example.com via token narrow ({})", narrow.info.hint)
    );
    // And filtering by the person still finds it.
    let by_ada = env
        .tessera
        .audit(
            &Actor::Operator,
            &AuditFilter {
                actor: Some("ada@example.com".into()),
                action: Some("token.create".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert!(
        by_ada.iter().any(|e| e.actor.contains("via token narrow")),
        "{by_ada:?}"
    );
}

#[tokio::test]
async fn a_company_token_acts_with_at_most_a_vrm_admins_rights() {
    let env = setup().await;
    let vera = env.add_user("vera@example.com", Role::VrmAdmin).await;
    let vera_actor = Actor::User(vera);
    let svc = env
        .tessera
        .create_token(
            &vera_actor,
            new_token(
                TokenKind::Company,
                None,
                "deployer",
                &["tokens:write", "tokens:verify"],
            ),
        )
        .await
        .expect("company token");

    for scope in ["users:write", "audit:read", "users:read"] {
        let (status, v) = post(
            &env,
            "/v1/tokens",
            &svc.token,
            json!({
                "kind": "company", "name": format!("wide-{scope}"), "description": "escalation",
                "scopes": [scope]
            }),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{scope}: {v}");
        assert!(message(&v).starts_with("scope: "), "{v}");
    }
    // Not even an admin gives a company token admin-only scopes: it could never use them.
    let e = env
        .tessera
        .create_token(
            &Actor::Operator,
            new_token(TokenKind::Company, None, "op-wide", &["audit:read"]),
        )
        .await
        .expect_err("company tokens hold VRM admin scopes at most");
    assert!(
        e.to_string()
            .starts_with("scope: company tokens act with at most a VRM admin's rights"),
        "{e}"
    );

    // Within its rights it works, and it is recorded as itself, never as the operator.
    let (status, v) = post(&env, "/v1/tokens", &svc.token, json!({
        "kind": "company", "name": "child", "description": "made by the deployer", "scopes": ["tokens:verify"]
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let label = format!("company token deployer ({})", svc.info.hint);
    assert_eq!(v["created_by"], label);
    let entries = env
        .tessera
        .audit(
            &Actor::Operator,
            &AuditFilter {
                actor: Some(label.clone()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].action, "token.create");

    // A company token cannot reach users or the audit log, whatever its scopes say.
    for (method, path, body) in [
        ("GET", "/v1/users", None),
        ("GET", "/v1/audit", None),
        (
            "POST",
            "/v1/users",
            Some(
                json!({"email": "x@example.com", "name": "X", "role": "admin", "password": "a long enough passphrase"}),
            ),
        ),
    ] {
        let (status, v) = send(&env, method, path, &svc.token, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {v}");
    }
}

#[tokio::test]
async fn a_company_token_stored_with_admin_scopes_verifies_without_them() {
    // A company token written before this rule (or by hand) with admin-only scopes.
    let env = setup().await;
    let svc = env
        .tessera
        .create_token(
            &Actor::Operator,
            new_token(TokenKind::Company, None, "legacy", &["tokens:verify"]),
        )
        .await
        .expect("company token");
    let db = env.dir.path().join("tessera.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("raw connection");
    sqlx::query("UPDATE tokens SET scopes = 'audit:read tokens:verify users:write' WHERE id = ?")
        .bind(svc.info.id.0)
        .execute(&pool)
        .await
        .expect("widen by hand");
    pool.close().await;
    let checker = env.token("checker", &["tokens:verify"]).await;
    // The server polls the file for other writers' changes; wait for the change to show.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, v) = post(
            &env,
            "/v1/verify",
            &checker.token,
            json!({"token": svc.token.expose()}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        if v["scopes"] == json!(["tokens:verify"]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "scopes never narrowed: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, v) = send(&env, "GET", "/v1/audit", &svc.token, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
}

#[tokio::test]
async fn roles_users_and_activation_follow_the_same_rule() {
    let env = setup().await;
    let uli = env.add_user("uli@example.com", Role::User).await;
    // An admin token with users:write but not audit:read cannot make anyone an admin.
    let uw = env
        .token("users-only", &["users:write", "users:read"])
        .await;
    let (status, v) = send(
        &env,
        "PUT",
        &format!("/v1/users/{}/role", uli.email),
        &uw.token,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert!(message(&v).contains("audit:read"), "{v}");
    let (status, v) = post(&env, "/v1/users", &uw.token, json!({
        "email": "eve@example.com", "name": "Eve", "role": "admin", "password": "a long enough passphrase"
    })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    // It may add an ordinary user and make someone a VRM admin (no privileged scopes).
    let (status, v) = post(&env, "/v1/users", &uw.token, json!({
        "email": "eve@example.com", "name": "Eve", "role": "user", "password": "a long enough passphrase"
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = send(
        &env,
        "PUT",
        &format!("/v1/users/{}/role", uli.email),
        &uw.token,
        Some(json!({"role": "vrm_admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // A token holding every admin scope may.
    let full = env.token("full", ALL_SCOPES).await;
    let (status, v) = send(
        &env,
        "PUT",
        &format!("/v1/users/{}/role", uli.email),
        &full.token,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // Activation gives authority back: only within the presenting token's limits.
    let wide = env
        .token("wide-deactivated", &["tokens:write", "audit:read"])
        .await;
    env.tessera
        .set_token_status(&Actor::Operator, wide.info.id, StatusAction::Deactivate)
        .await
        .expect("deactivate");
    let narrow = narrow_admin_token(&env).await;
    let (status, v) = post(
        &env,
        &format!("/v1/tokens/{}/activate", wide.info.id),
        &narrow.token,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert!(message(&v).starts_with("scope: "), "{v}");
    // Revoking narrows, so it is allowed.
    let (status, v) = post(
        &env,
        &format!("/v1/tokens/{}/revoke", wide.info.id),
        &narrow.token,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn lifetimes_past_every_bound_get_a_field_naming_400() {
    let env = setup().await;
    let t = env.token("maker", &["tokens:write"]).await;
    for (body, field) in [
        (json!({"expires_in": "10000y"}), "expires-in: "),
        (
            json!({"expires_in": "99999999999999999999d"}),
            "expires-in: ",
        ),
        (json!({"expires_in": "0d"}), "expires-in: "),
        (json!({"expires_at": "9999-12-31T23:59:59Z"}), "expiry: "),
        (json!({"expires_at": "2001-01-01T00:00:00Z"}), "expiry: "),
    ] {
        let mut b = json!({"kind": "personal", "name": "long", "scopes": ["me:read"]});
        for (k, v) in body.as_object().expect("object") {
            b[k] = v.clone();
        }
        let (status, v) = post(&env, "/v1/tokens", &t.token, b.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{b}: {v}");
        assert!(message(&v).starts_with(field), "{b}: {v}");
    }
}

#[tokio::test]
async fn refusals_spend_the_rate_limit_and_unknown_tokens_are_limited_per_address() {
    let env = setup().await;
    let mut req = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "leaked",
        &["me:read"],
    );
    req.rate_limit = Some(5);
    let leaked = env.token_with(req).await;
    env.tessera
        .set_token_status(&Actor::Operator, leaked.info.id, StatusAction::Revoke)
        .await
        .expect("revoke");
    let mut statuses = Vec::new();
    for i in 0..8 {
        let res = env
            .client
            .get(env.url("/v1/me"))
            .bearer_auth(leaked.token.expose())
            .header("user-agent", format!("flood-{i}"))
            .send()
            .await
            .expect("send");
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);

    // Unknown tokens: a fixed budget per client address, then 429 with Retry-After.
    let unknown = TokenSecret::generate(TokenKind::Personal);
    let mut last = None;
    for _ in 0..=tessera_api::ratelimit::RateLimits::PER_ADDRESS {
        let res = env.get("/v1/me", &unknown).await;
        last = Some((res.status(), res.headers().get("retry-after").cloned()));
    }
    let (status, retry) = last.expect("sent");
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some());

    // The flood of distinct user agents folded: the rate-limited uses carry none.
    let rows = env.settled_usage(leaked.info.id, 100).await;
    let limited: Vec<_> = rows
        .iter()
        .filter(|r| r.outcome == "rate_limited")
        .collect();
    assert!(!limited.is_empty(), "{rows:?}");
    assert!(
        limited.iter().all(|r| r.user_agent.is_none()),
        "{limited:?}"
    );
    assert_eq!(limited.iter().map(|r| r.uses).sum::<i64>(), 3);
}

#[tokio::test]
async fn a_token_in_a_name_or_description_is_refused() {
    let env = setup().await;
    let t = env.token("maker", &["tokens:write"]).await;
    let secret = t.token.expose();
    for (name, description) in [
        (format!("key={secret}"), "fine".to_owned()),
        (
            "fine".to_owned(),
            format!("the token is {secret}, do not share"),
        ),
    ] {
        let (status, v) = post(
            &env,
            "/v1/tokens",
            &t.token,
            json!({
                "kind": "personal", "name": name, "description": description, "scopes": ["me:read"]
            }),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
        assert!(
            message(&v).contains("looks like it contains a token"),
            "{v}"
        );
        assert!(
            !v.to_string().contains(secret),
            "the answer echoes the token: {v}"
        );
    }
}

#[tokio::test]
async fn deleting_a_token_keeps_its_usage_history() {
    let env = setup().await;
    let used = env.token("used", &["me:read"]).await;
    let admin = env.token("admin", &["tokens:write"]).await;
    for _ in 0..3 {
        assert_eq!(
            env.get("/v1/me", &used.token).await.status(),
            StatusCode::OK
        );
    }
    let before = env.settled_usage(used.info.id, 100).await;
    assert_eq!(before.iter().map(|r| r.uses).sum::<i64>(), 3, "{before:?}");
    let (status, v) = send(
        &env,
        "DELETE",
        &format!("/v1/tokens/{}", used.info.id),
        &admin.token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // Gone from lists and refused like a revoked token...
    let list = env
        .tessera
        .list_tokens(&Actor::Operator, &Default::default())
        .await
        .expect("list");
    assert!(list.iter().all(|t| t.id != used.info.id));
    assert_eq!(
        env.get("/v1/me", &used.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // ...but its history, hint and counts stay.
    let after = env
        .tessera
        .token_usage(&Actor::Operator, used.info.id, 100)
        .await
        .expect("usage of a deleted token");
    assert!(after.iter().map(|r| r.uses).sum::<i64>() >= 3, "{after:?}");
    let e = env
        .tessera
        .get_token(&Actor::Operator, used.info.id)
        .await
        .expect_err("deleted");
    assert!(e.to_string().contains("was deleted"), "{e}");
    // Presentations after the delete are still recorded against the tombstone.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows = env
            .tessera
            .token_usage(&Actor::Operator, used.info.id, 100)
            .await
            .expect("usage");
        if rows.iter().any(|r| r.outcome == "revoked") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A deleted token cannot be deleted or activated again.
    let (status, _) = send(
        &env,
        "DELETE",
        &format!("/v1/tokens/{}", used.info.id),
        &admin.token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
