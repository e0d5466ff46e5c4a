//! Authority only narrows, tried as an attacker would against a real HTTPS server: whatever
//! acts through a token creates or changes only what both its owner's current role and the
//! token's own scopes, networks, expiry and rate limit allow.

use crate::common;
use tessera_core::store::Tx;

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
    send_as(env, method, path, t.expose(), body).await
}

/// [`send`] with any bearer credential (a token or a session); an empty answer is `null`.
async fn send_as(
    env: &Env,
    method: &str,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = env.client.request(m, env.url(path)).bearer_auth(bearer);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let csv = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let text = res.text().await.expect("body");
    if csv {
        return (status, Value::String(text));
    }
    if text.is_empty() && status == StatusCode::NO_CONTENT {
        return (status, Value::Null);
    }
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

/// The newest audit entries (at most 10) by this actor and of this action.
async fn audit(
    env: &Env,
    actor: Option<&str>,
    action: Option<&str>,
) -> Vec<tessera_core::store::audit::AuditEntry> {
    env.tessera
        .audit(
            &Actor::Operator,
            &AuditFilter {
                actor: actor.map(str::to_owned),
                action: action.map(str::to_owned),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("audit")
}

fn message(v: &Value) -> &str {
    v["message"].as_str().unwrap_or_default()
}

/// The refusal is about `field`: named in the answer's `field`, and first in its message.
fn assert_field(v: &Value, field: &str, context: &dyn std::fmt::Display) {
    assert_eq!(v["field"], field, "{context}: {v}");
    assert!(
        message(v).starts_with(&format!("{field}: ")),
        "{context}: {v}"
    );
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
    assert_field(&v, "scopes", &"wide");
    assert!(
        message(&v).contains("audit:read") && message(&v).contains("users:write"),
        "{v}"
    );

    // Each limit on its own.
    let wider = [
        (json!({"expires_in": "365d"}), "expires_in"),
        (json!({"never_expires": true}), "never_expires"),
        (
            json!({"allowed_networks": ["0.0.0.0/0"]}),
            "allowed_networks",
        ),
        (
            json!({"allowed_networks": ["127.0.0.0/8"]}),
            "allowed_networks",
        ),
        (json!({"rate_limit": 101}), "rate_limit"),
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
        assert_field(&v, field, &body);
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
    let entries = audit(&env, None, Some("token.create")).await;
    assert_eq!(
        entries[0].actor,
        format!("ada@example.com via token narrow ({})", narrow.info.hint)
    );
    // And filtering by the person still finds it.
    let by_ada = audit(&env, Some("ada@example.com"), Some("token.create")).await;
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
        assert_field(&v, "scopes", &scope);
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
    assert!(matches!(e, tessera_core::Error::Forbidden(_)), "{e}");
    assert_eq!(e.field(), Some(tessera_core::error::Field::Scopes), "{e}");
    assert!(
        e.message()
            .starts_with("company tokens act with at most a VRM admin's rights"),
        "{e}"
    );

    // Within its rights it works, and it is recorded as itself, never as the operator.
    let (status, v) = post(&env, "/v1/tokens", &svc.token, json!({
        "kind": "company", "name": "child", "description": "made by the deployer", "scopes": ["tokens:verify"]
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let label = format!("company token deployer ({})", svc.info.hint);
    assert_eq!(v["created_by"], label);
    let entries = audit(&env, Some(&label), None).await;
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
    // By hand: a statement of its own, outside Tessera's rules (on either engine).
    let sql = "UPDATE tokens SET scopes = 'audit:read tokens:verify users:write' WHERE id = $1";
    let mut tx = env.tessera.store().begin().await.expect("tx");
    match &mut tx {
        Tx::Lite(tx) => sqlx::query(sql)
            .bind(svc.info.id.0)
            .execute(&mut **tx)
            .await
            .map(|_| ()),
        Tx::Pg(tx) => sqlx::query(sql)
            .bind(svc.info.id.0)
            .execute(&mut **tx)
            .await
            .map(|_| ()),
    }
    .expect("widen by hand");
    tx.commit().await.expect("commit");
    let checker = env.token("checker", &["tokens:verify"]).await;
    // The server hears of other writers' changes (SQLite: polling the file; PostgreSQL: the
    // schema's triggers notify); wait for the change to show.
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
    assert_field(&v, "scopes", &"activate");
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
        (json!({"expires_in": "10000y"}), "expires_in"),
        (json!({"expires_in": "99999999999999999999d"}), "expires_in"),
        (json!({"expires_in": "0d"}), "expires_in"),
        (json!({"expires_at": "9999-12-31T23:59:59Z"}), "expires_at"),
        (json!({"expires_at": "2001-01-01T00:00:00Z"}), "expires_at"),
    ] {
        let mut b = json!({"kind": "personal", "name": "long", "scopes": ["me:read"]});
        for (k, v) in body.as_object().expect("object") {
            b[k] = v.clone();
        }
        let (status, v) = post(&env, "/v1/tokens", &t.token, b.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{b}: {v}");
        assert_field(&v, field, &b);
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
    // The budget refills one request every half second, so a slow machine may get a few more
    // than the budget before the first 429; never fewer, and never unlimited.
    let unknown = TokenSecret::generate(TokenKind::Personal);
    let budget = tessera_api::ratelimit::RateLimits::PER_ADDRESS as usize;
    let mut first_limited = None;
    for i in 0..budget * 2 {
        let res = env.get("/v1/me", &unknown).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().get("retry-after").is_some());
            first_limited = Some(i);
            break;
        }
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let first_limited = first_limited.expect("unknown tokens from one address are limited");
    assert!(
        first_limited >= budget,
        "limited after {first_limited} of {budget}"
    );

    // The flood of distinct user agents folded: the rate-limited uses carry none.
    let rows = env.usage_counting(leaked.info.id, 100, 8).await;
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
    let before = env.usage_counting(used.info.id, 100, 3).await;
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

/// Who presents the token in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// An admin's token with every scope and no limits beyond the policy's.
    Admin,
    /// An admin's token with tokens:read/write, usage:read and me:read, 127.0.0.1 only, one
    /// day, 100 a minute.
    Narrow,
    /// A VRM admin's token with every scope the role allows.
    Vrm,
    /// An ordinary user's token with every scope the role allows.
    User,
    /// A company token with every scope a company token may hold.
    Company,
    /// An admin's token with me:read only.
    MeOnly,
    /// The admin signed in (`POST /v1/sessions`): her role's full rights, no token.
    AdminSession,
    /// The ordinary user signed in.
    UserSession,
}

const WHO: [Who; 8] = [
    Who::Admin,
    Who::Narrow,
    Who::Vrm,
    Who::User,
    Who::Company,
    Who::MeOnly,
    Who::AdminSession,
    Who::UserSession,
];

/// Every route of the management API against every kind of actor, tokens and signed-in
/// sessions: each cell is one request whose answer is asserted. The expected statuses are
/// written out, not computed.
#[tokio::test]
async fn authority_matrix_every_route_by_every_actor() {
    let env = setup().await;
    let vrm = env.add_user("vera@example.com", Role::VrmAdmin).await;
    let user = env.add_user("uli@example.com", Role::User).await;
    let role_scopes = [
        "me:read",
        "tokens:read",
        "tokens:write",
        "usage:read",
        "tokens:verify",
    ];
    let mut tokens = Vec::new();
    for who in WHO {
        let t = match who {
            Who::Admin => {
                let mut r = new_token(
                    TokenKind::Personal,
                    Some("ada@example.com"),
                    "m-admin",
                    ALL_SCOPES,
                );
                r.expiry = ExpiryRequest::parse_in("365d").expect("365d");
                env.token_with(r).await
            }
            Who::Narrow => {
                let mut r = new_token(
                    TokenKind::Personal,
                    Some("ada@example.com"),
                    "m-narrow",
                    &["me:read", "tokens:read", "tokens:write", "usage:read"],
                );
                r.networks = Networks::parse(&["127.0.0.1"]).expect("net");
                r.expiry = ExpiryRequest::parse_in("1d").expect("1d");
                r.rate_limit = Some(100);
                env.token_with(r).await
            }
            Who::Vrm => env
                .tessera
                .create_token(
                    &Actor::User(vrm.clone()),
                    new_token(TokenKind::Personal, None, "m-vrm", &role_scopes),
                )
                .await
                .expect("vrm token"),
            Who::User => env
                .tessera
                .create_token(
                    &Actor::User(user.clone()),
                    new_token(TokenKind::Personal, None, "m-user", &role_scopes),
                )
                .await
                .expect("user token"),
            Who::Company => {
                env.token_with(new_token(
                    TokenKind::Company,
                    None,
                    "m-company",
                    &[
                        "me:read",
                        "tokens:read",
                        "tokens:write",
                        "usage:read",
                        "tokens:verify",
                    ],
                ))
                .await
            }
            Who::MeOnly => env.token("m-me", &["me:read"]).await,
            Who::AdminSession => {
                let s = env.sign_in("ada@example.com", common::ADMIN_PASSWORD).await;
                tokens.push((who, s));
                continue;
            }
            Who::UserSession => {
                let s = env.sign_in("uli@example.com", common::USER_PASSWORD).await;
                tokens.push((who, s));
                continue;
            }
        };
        tokens.push((who, t.token.expose().to_owned()));
    }
    let mut fresh = 0;
    let mut company_token = |env: &Env, deactivated: bool| {
        fresh += 1;
        let name = format!("target-{fresh}");
        let tessera = env.tessera.clone();
        async move {
            // One day: a target made a second after the acting token, with the same
            // default lifetime, would outlive it, and activating it through that token is
            // then refused for its expiry rather than answered by the cell's rule.
            let mut req = new_token(TokenKind::Company, None, &name, &["tokens:verify"]);
            req.expiry = ExpiryRequest::in_days(1).expect("one day");
            let t = tessera
                .create_token(&Actor::Operator, req)
                .await
                .expect("target");
            if deactivated {
                tessera
                    .set_token_status(&Actor::Operator, t.info.id, StatusAction::Deactivate)
                    .await
                    .expect("deactivate");
            }
            t.info.id
        }
    };

    // A client registered through a company token that expires in an hour: it ends then,
    // before every acting token, so bringing it back or giving it a secret through one of
    // them is judged by the cell's other rules. Optionally disabled, or with two secrets;
    // its number and its older secret's.
    let mut clients = 0;
    let mut client_target = |env: &Env, disabled: bool, two_secrets: bool| {
        clients += 1;
        let n = clients;
        let tessera = env.tessera.clone();
        async move {
            let mut req = new_token(
                TokenKind::Company,
                None,
                &format!("client-maker-{n}"),
                &["me:read"],
            );
            req.expiry = ExpiryRequest::parse_in("1h").expect("1h");
            let maker = tessera
                .create_token(&Actor::Operator, req)
                .await
                .expect("maker");
            let d = tessera
                .verify(maker.token.expose(), &[], None, OffsetDateTime::now_utc())
                .await
                .expect("verify");
            let via = Actor::via_token(&d.token.expect("maker verifies"), None);
            let c = tessera
                .create_client(
                    &via,
                    tessera_core::service::NewClient {
                        name: format!("target-client-{n}"),
                        description: "matrix".into(),
                        scopes: vec!["me:read".parse().expect("scope")],
                        ..Default::default()
                    },
                )
                .await
                .expect("client");
            let id = c.client.id;
            if disabled {
                tessera
                    .set_client_status(
                        &Actor::Operator,
                        id,
                        tessera_core::service::ClientAction::Disable,
                    )
                    .await
                    .expect("disable");
            }
            let older = if two_secrets {
                let r = tessera
                    .rotate_client_secret(&Actor::Operator, id)
                    .await
                    .expect("rotate");
                r.client.secrets[1].id
            } else {
                c.client.secrets[0].id
            };
            (id, older)
        }
    };

    use Who::*;
    // Expected status per actor, in WHO's order.
    let mut cells = 0;
    let routes: &[(&str, &str)] = &[
        ("GET", "/v1/me"),
        ("POST", "/v1/verify"),
        ("GET", "/v1/tokens"),
        ("POST", "/v1/tokens (wide personal)"),
        ("POST", "/v1/tokens (company)"),
        ("GET", "/v1/tokens/{id}"),
        ("POST", "/v1/tokens/{id}/deactivate"),
        ("POST", "/v1/tokens/{id}/activate"),
        ("POST", "/v1/tokens/{id}/revoke"),
        ("DELETE", "/v1/tokens/{id}"),
        ("GET", "/v1/tokens/{id}/usage"),
        ("GET", "/v1/users"),
        ("POST", "/v1/users"),
        ("POST", "/v1/users/{id}/deactivate"),
        ("PUT", "/v1/users/{id}/role"),
        ("GET", "/v1/audit"),
        ("PATCH", "/v1/tokens/{id}"),
        ("POST", "/v1/explain"),
        ("POST", "/v1/tokens/{id}/rotate"),
        ("GET", "/v1/tokens/{id}/rotation"),
        ("POST", "/v1/tokens/{id}/rotation/finish"),
        ("GET", "/v1/tokens/{id}/sources"),
        ("GET", "/v1/dashboard"),
        ("POST", "/v1/tokens/bulk"),
        ("GET", "/v1/audit/export"),
        ("GET", "/v1/policy"),
        ("GET", "/v1/scopes"),
        ("GET", "/v1/clients"),
        ("POST", "/v1/clients"),
        ("GET", "/v1/clients/{id}"),
        ("POST", "/v1/clients/{id}/disable"),
        ("POST", "/v1/clients/{id}/enable"),
        ("POST", "/v1/clients/{id}/secrets"),
        ("DELETE", "/v1/clients/{id}/secrets/{secret}"),
        ("DELETE", "/v1/clients/{id}"),
        ("GET", "/v1/sessions/current"),
        ("PATCH", "/v1/profile"),
        ("POST", "/v1/profile/password"),
        ("GET", "/v1/profile/token"),
        ("POST", "/v1/profile/token"),
        ("PUT", "/v1/policy"),
        ("POST", "/v1/scopes"),
        ("POST", "/v1/users/{id}/reactivate"),
        ("GET", "/v1/users/{id}/role-change"),
        ("GET", "/v1/users/{id}/deactivation"),
        ("GET", "/v1/tokens/{id}/report"),
        ("POST", "/v1/dashboard/honeytoken-alerts/acknowledge"),
        ("POST", "/v1/leaks/identify"),
        ("POST", "/v1/leaks/revoke"),
        ("POST", "/v1/notices/take"),
        ("GET", "/v1/changes"),
        // Last: the sessions end here.
        ("DELETE", "/v1/sessions/current"),
    ];
    // Every route of the catalogue has a row (a row's parenthesis only names its case).
    let rows: std::collections::BTreeSet<(&str, &str)> = routes
        .iter()
        .map(|(m, r)| (*m, r.split(" (").next().unwrap_or(r)))
        .collect();
    let catalogue: std::collections::BTreeSet<(&str, &str)> = tessera_api::catalog::ROUTES
        .iter()
        // The OAuth endpoints authenticate clients, not bearer tokens: tests/suite/oauth.rs.
        .filter(|r| {
            !matches!(
                r.access,
                tessera_api::catalog::Access::Public | tessera_api::catalog::Access::Client
            )
        })
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(rows, catalogue, "the matrix and the route catalogue differ");
    for (i, (method, route)) in routes.iter().enumerate() {
        for (j, (who, t)) in tokens.iter().enumerate() {
            let who = *who;
            let (path, body): (String, Option<Value>) = match i {
                0 => ("/v1/me".into(), None),
                1 => ("/v1/verify".into(), Some(json!({"token": tokens[0].1}))),
                2 => ("/v1/tokens".into(), None),
                3 => (
                    "/v1/tokens".into(),
                    Some(json!({
                        "kind": "personal", "name": format!("wide-{j}"),
                        "scopes": ["users:write", "audit:read"], "expires_in": "30d"
                    })),
                ),
                4 => (
                    "/v1/tokens".into(),
                    Some(json!({
                        "kind": "company", "name": format!("svc-{j}"), "description": "matrix",
                        "scopes": ["tokens:verify"], "expires_in": "12h"
                    })),
                ),
                5 => (
                    format!("/v1/tokens/{}", company_token(&env, false).await),
                    None,
                ),
                6 => (
                    format!("/v1/tokens/{}/deactivate", company_token(&env, false).await),
                    Some(json!({})),
                ),
                7 => (
                    format!("/v1/tokens/{}/activate", company_token(&env, true).await),
                    Some(json!({})),
                ),
                8 => (
                    format!("/v1/tokens/{}/revoke", company_token(&env, false).await),
                    Some(json!({})),
                ),
                9 => (
                    format!("/v1/tokens/{}", company_token(&env, false).await),
                    None,
                ),
                10 => (
                    format!("/v1/tokens/{}/usage", company_token(&env, false).await),
                    None,
                ),
                11 => ("/v1/users".into(), None),
                12 => (
                    "/v1/users".into(),
                    Some(json!({
                        "email": format!("new-{j}@example.com"), "name": "New", "role": "admin",
                        "password": "a long enough passphrase"
                    })),
                ),
                13 | 14 => {
                    let email = format!("target-{i}-{j}@example.com");
                    env.add_user(&email, Role::User).await;
                    if i == 13 {
                        (format!("/v1/users/{email}/deactivate"), Some(json!({})))
                    } else {
                        (
                            format!("/v1/users/{email}/role"),
                            Some(json!({"role": "admin"})),
                        )
                    }
                }
                15 => ("/v1/audit".into(), None),
                17 => (
                    "/v1/explain".into(),
                    Some(json!({"token": tokens[0].1, "scopes": ["users:write"]})),
                ),
                18 => (
                    format!("/v1/tokens/{}/rotate", company_token(&env, false).await),
                    Some(json!({"overlap": "1h"})),
                ),
                19 | 20 => {
                    let id = company_token(&env, false).await;
                    env.tessera
                        .rotate_token(
                            &Actor::Operator,
                            id,
                            tessera_core::service::RotateRequest::parse(None, None)
                                .expect("defaults"),
                        )
                        .await
                        .expect("rotate");
                    if i == 19 {
                        (format!("/v1/tokens/{id}/rotation"), None)
                    } else {
                        (format!("/v1/tokens/{id}/rotation/finish"), Some(json!({})))
                    }
                }
                16 => (
                    format!("/v1/tokens/{}", company_token(&env, false).await),
                    Some(json!({"note": format!("matrix {j}")})),
                ),
                21 => (
                    format!("/v1/tokens/{}/sources", company_token(&env, false).await),
                    None,
                ),
                22 => ("/v1/dashboard".into(), None),
                24 => ("/v1/audit/export".into(), None),
                25 => ("/v1/policy".into(), None),
                26 => ("/v1/scopes".into(), None),
                27 => ("/v1/clients".into(), None),
                28 => (
                    "/v1/clients".into(),
                    Some(json!({
                        "name": format!("matrix-client-{j}"), "description": "matrix",
                        "scopes": ["me:read"]
                    })),
                ),
                29 => (
                    format!("/v1/clients/{}", client_target(&env, false, false).await.0),
                    None,
                ),
                30 => (
                    format!(
                        "/v1/clients/{}/disable",
                        client_target(&env, false, false).await.0
                    ),
                    Some(json!({})),
                ),
                31 => (
                    format!(
                        "/v1/clients/{}/enable",
                        client_target(&env, true, false).await.0
                    ),
                    Some(json!({})),
                ),
                32 => (
                    format!(
                        "/v1/clients/{}/secrets",
                        client_target(&env, false, false).await.0
                    ),
                    Some(json!({})),
                ),
                33 => {
                    let (id, older) = client_target(&env, false, true).await;
                    (format!("/v1/clients/{id}/secrets/{older}"), None)
                }
                34 => (
                    format!("/v1/clients/{}", client_target(&env, false, false).await.0),
                    None,
                ),
                23 => (
                    "/v1/tokens/bulk".into(),
                    Some(
                        json!({"ids": [company_token(&env, false).await.0], "action": "deactivate"}),
                    ),
                ),
                35 | 38 | 50 | 51 => (route.to_string(), None),
                49 => (route.to_string(), Some(json!({}))),
                42..=44 => {
                    let email = format!("target-{i}-{j}@example.com");
                    let u = env.add_user(&email, Role::Admin).await;
                    match i {
                        42 => {
                            env.tessera
                                .deactivate_user(&Actor::Operator, &u.email)
                                .await
                                .expect("deactivate");
                            (format!("/v1/users/{email}/reactivate"), Some(json!({})))
                        }
                        43 => (format!("/v1/users/{}/role-change?role=user", u.id.0), None),
                        _ => (format!("/v1/users/{email}/deactivation"), None),
                    }
                }
                45 => (
                    format!(
                        "/v1/tokens/{}/report?days=7",
                        company_token(&env, false).await
                    ),
                    None,
                ),
                46 => (
                    "/v1/dashboard/honeytoken-alerts/acknowledge".into(),
                    Some(json!({"up_to": 0})),
                ),
                47 => (
                    "/v1/leaks/identify".into(),
                    Some(json!({"tokens": [tokens[0].1, "tsr_p_broken"]})),
                ),
                48 => (
                    "/v1/leaks/revoke".into(),
                    Some(
                        json!({"id": company_token(&env, false).await.0, "place": format!("matrix/{j}.env:1")}),
                    ),
                ),
                36 => (
                    "/v1/profile".into(),
                    Some(json!({"name": format!("Matrix {j}")})),
                ),
                37 => {
                    // The person's own password, kept the same.
                    let pw = if who == UserSession {
                        common::USER_PASSWORD
                    } else {
                        common::ADMIN_PASSWORD
                    };
                    (
                        "/v1/profile/password".into(),
                        Some(json!({"current_password": pw, "new_password": pw})),
                    )
                }
                39 => ("/v1/profile/token".into(), Some(json!({}))),
                40 => (
                    "/v1/policy".into(),
                    Some(
                        serde_json::to_value(tessera_core::policy::Policy::default())
                            .expect("policy"),
                    ),
                ),
                41 => (
                    "/v1/scopes".into(),
                    Some(json!({"name": format!("matrix:scope-{j}"), "description": "matrix"})),
                ),
                _ => unreachable!("a row without a request"),
            };
            let expected: u16 = match (i, who) {
                // A session is not a token: who am I is a token's question.
                (0, AdminSession | UserSession) => 403,
                // Only sessions, never a token; each person for themselves, the settings the
                // admin alone.
                (35 | 36 | 38, AdminSession | UserSession) => 200,
                (37 | 51, AdminSession | UserSession) => 204,
                // Any token or session: what moved.
                (50, _) => 200,
                (47 | 49, AdminSession | UserSession) => 200,
                (39, AdminSession | UserSession) => 201,
                (40, AdminSession) => 200,
                (41, AdminSession) => 201,
                (35..=41 | 47 | 49 | 51, _) => 403,
                // A leaked token is revoked as any revoke: someone else's is missing.
                (48, Admin | Narrow | Vrm | Company | AdminSession) => 200,
                (48, User | UserSession) => 404,
                // Users are the admins' (a token needs the users: scopes too).
                (42, Admin | AdminSession) => 200,
                (43 | 44, Admin | AdminSession) => 200,
                // A token's usage report: as its usage.
                (45, Admin | Narrow | Vrm | Company | AdminSession) => 200,
                (45, User | UserSession) => 404,
                // Honeytoken alerts are acknowledged by admins, through a token with
                // tokens:write or signed in.
                (46, Admin | Narrow | AdminSession) => 204,
                // Any valid token (or session): who am I, and what may a token be.
                (0 | 25 | 26, _) => 200,
                // A session acts with its person's whole role: the admin's every right, the
                // user's own tokens only.
                (1 | 2 | 5..=11 | 13..=17 | 19..=27 | 29 | 30 | 31 | 33 | 34, AdminSession) => 200,
                (3 | 4 | 12 | 18 | 28 | 32, AdminSession) => 201,
                (1 | 2 | 17 | 22 | 23, UserSession) => 200,
                (5..=10 | 16 | 18..=21, UserSession) => 404,
                (1 | 17, Admin | Vrm | User | Company) => 200,
                (2 | 5 | 6 | 8 | 9 | 10 | 16 | 21..=23, Admin | Narrow | Vrm | Company) => 200,
                // A bulk change answers 200 with each id done or failed (see below).
                (2 | 22 | 23, User) => 200,
                (3, Admin) => 201,
                // A company token has no person to own a personal token.
                (3, Company) => 400,
                (4, Admin | Vrm | Company) => 201,
                (7, Admin | Vrm | Company) => 200,
                // Someone else's (the company's) token answers like a missing one.
                // Rotating needs the successor's scopes: the narrow token lacks tokens:verify.
                (18, Admin | Vrm | Company) => 201,
                (19 | 20, Admin | Narrow | Vrm | Company) => 200,
                (5..=10 | 16 | 18..=21, User) => 404,
                (11 | 15 | 24, Admin) => 200,
                (12, Admin) => 201,
                (13 | 14, Admin) => 200,
                // OAuth clients are the company's: admins and VRM admins, and company tokens.
                (27 | 29 | 30 | 33 | 34, Admin | Narrow | Vrm | Company) => 200,
                (28, Admin | Narrow | Vrm | Company) => 201,
                // A client registered anywhere may get tokens from anywhere, which the narrow
                // token (127.0.0.1, 100 a minute) cannot pass on.
                (31, Admin | Vrm | Company) => 200,
                (32, Admin | Vrm | Company) => 201,
                _ => 403,
            };
            let (status, v) = send_as(&env, method, &path, t, body).await;
            if matches!(i, 35..=41 | 47 | 49 | 51) && !matches!(who, AdminSession | UserSession) {
                assert_eq!(
                    v["error"], "session_required",
                    "{method} {route} by {who:?}"
                );
            }
            assert_eq!(
                status.as_u16(),
                expected,
                "{method} {route} by {who:?}: {v}"
            );
            cells += 1;
        }
    }
    assert_eq!(cells, routes.len() * WHO.len());
    println!(
        "authority matrix: {cells} cells of {} covered",
        routes.len() * WHO.len()
    );
}

/// A leaked, revoked token flooding the API with a new user agent on every request: the
/// usage table grows by a bounded number of rows (the token's limit of distinct refusals,
/// then one counted row per second and writer flush), and 429s appear. `TESSERA_FLOOD=100000` runs the size the
/// README quotes; CI runs 4,000.
#[tokio::test]
async fn a_flood_from_a_revoked_token_stays_bounded() {
    let env = setup().await;
    let n: usize = std::env::var("TESSERA_FLOOD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000);
    let mut req = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "leaked",
        &["me:read"],
    );
    req.rate_limit = Some(60);
    let leaked = env.token_with(req).await;
    env.tessera
        .set_token_status(&Actor::Operator, leaked.info.id, StatusAction::Revoke)
        .await
        .expect("revoke");
    let db = env.dir.path().join("tessera.db");
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = env.dir.path().join("tessera.db-wal");
    let before = size(&db) + size(&wal);
    // Resident memory of this process (server and clients both live in it), in KiB.
    let rss = || -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    };
    let rss_before = rss();
    let started = std::time::Instant::now();
    let workers = 8;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let client = env.client.clone();
        let url = env.url("/v1/me");
        let secret = leaked.token.expose().to_owned();
        tasks.push(tokio::spawn(async move {
            let (mut refused, mut limited) = (0usize, 0usize);
            for i in (w..n).step_by(workers) {
                let status = client
                    .get(&url)
                    .bearer_auth(&secret)
                    .header(
                        "user-agent",
                        format!("flood/{i}-{}", i.wrapping_mul(2_654_435_761)),
                    )
                    .send()
                    .await
                    .expect("send")
                    .status();
                match status.as_u16() {
                    401 => refused += 1,
                    429 => limited += 1,
                    other => panic!("unexpected {other}"),
                }
            }
            (refused, limited)
        }));
    }
    let (mut refused, mut limited) = (0, 0);
    for t in tasks {
        let (r, l) = t.await.expect("task");
        refused += r;
        limited += l;
    }
    let secs = started.elapsed().as_secs() + 1;
    assert_eq!(refused + limited, n);
    assert!(limited > 0, "no 429 in {n} requests");
    // The token's burst (60) plus what refills in the meantime (one a second).
    assert!(
        refused as u64 <= 60 + secs,
        "{refused} refusals in {secs} s"
    );
    let mut rows = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        rows = env
            .tessera
            .token_usage(&Actor::Operator, leaked.info.id, 1000)
            .await
            .expect("usage");
        if rows.iter().map(|r| r.uses).sum::<i64>() == n as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        rows.iter().map(|r| r.uses).sum::<i64>(),
        n as i64,
        "every request is counted"
    );
    // Distinct refusals, plus one rate-limited row per second and writer flush (every
    // 200 ms: at most 5 a second).
    assert!(
        rows.len() as u64 <= refused as u64 + 5 * (secs + 1),
        "{} rows for {n} requests in {secs} s",
        rows.len()
    );
    let grown = (size(&db) + size(&wal)).saturating_sub(before);
    let rss_grown = rss().saturating_sub(rss_before);
    println!(
        "flood: {n} requests in {secs} s: {refused} refused (401), {limited} rate-limited (429); {} usage rows; database and WAL grew {} KiB; resident memory grew {} KiB",
        rows.len(),
        grown / 1024,
        rss_grown
    );
    // Nothing per request is kept: memory grows by connection buffers and caches, not by n.
    assert!(
        rss_grown < 128 * 1024,
        "resident memory grew {rss_grown} KiB"
    );
}

/// `POST /v1/tokens/bulk` checks each id as the single route does: a user's request changes
/// their own token and leaves the company's untouched (reported as not found, as the single
/// route answers), and more than 1000 ids are refused with what to do.
#[tokio::test]
async fn a_bulk_status_change_does_each_token_only_if_the_caller_may() {
    let env = setup().await;
    env.add_user("uli@example.com", Role::User).await;
    let uli = env
        .token_with(new_token(
            TokenKind::Personal,
            Some("uli@example.com"),
            "uli",
            &["tokens:read", "tokens:write"],
        ))
        .await;
    let own = env
        .token_with(new_token(
            TokenKind::Personal,
            Some("uli@example.com"),
            "own",
            &["me:read"],
        ))
        .await;
    let company = env
        .token_with(new_token(TokenKind::Company, None, "svc", &["me:read"]))
        .await;
    let (status, v) = post(
        &env,
        "/v1/tokens/bulk",
        &uli.token,
        json!({"ids": [own.info.id.0, company.info.id.0], "action": "revoke"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["done"], json!([own.info.id.0]), "{v}");
    assert_eq!(v["failed"][0]["id"], company.info.id.0, "{v}");
    assert_eq!(v["failed"][0]["error"], "not_found", "{v}");
    let status_of = |id| {
        let t = env.tessera.clone();
        async move {
            t.get_token(&Actor::Operator, id)
                .await
                .expect("get")
                .status
                .to_string()
        }
    };
    assert_eq!(status_of(own.info.id).await, "revoked");
    assert_eq!(status_of(company.info.id).await, "active");

    let too_many: Vec<i64> = (1..=1001).collect();
    let (status, v) = post(
        &env,
        "/v1/tokens/bulk",
        &uli.token,
        json!({"ids": too_many, "action": "revoke"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "ids", "{v}");
    assert!(
        v["message"].as_str().unwrap_or("").contains("at most 1000"),
        "{v}"
    );
}
