//! Black-box tests of the HTTPS API: a real server on 127.0.0.1, real SQLite files, a real
//! TLS client that trusts only the exported CA.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{new_token, setup, ALL_SCOPES};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::model::TokenId;
use tessera_core::model::{Networks, Role};
use tessera_core::policy::{ExpiryRequest, Policy};
use tessera_core::store::usage::UsageEntry;
use tessera_core::token::{TokenKind, TokenSecret};
use tessera_core::{Actor, StatusAction};

async fn body(res: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, headers, v)
}

#[tokio::test]
async fn every_header_form_presents_the_token() {
    let env = setup().await;
    let t = env.token("forms", &["me:read"]).await;
    let s = t.token.expose();
    let b64 = |x: String| base64::engine::general_purpose::STANDARD.encode(x);
    let forms: Vec<(&str, String, &str)> = vec![
        ("authorization", format!("Bearer {s}"), "bearer"),
        (
            "authorization",
            format!("Basic {}", b64(format!("{s}:"))),
            "basic",
        ),
        ("authorization", format!("Token token={s}"), "token"),
        ("authorization", format!("Token token=\"{s}\""), "token"),
        ("authorization", format!("Token {s}"), "token"),
        ("authorization", format!("Api-Token {s}"), "api-token"),
        ("authorization", format!("apiToken {s}"), "api-token"),
        ("authorization", format!("SSWS {s}"), "ssws"),
        ("x-api-key", s.to_owned(), "x-api-key"),
    ];
    for (name, value, via) in forms {
        let res = env
            .client
            .get(env.url("/v1/me"))
            .header(name, value)
            .send()
            .await
            .expect("send");
        let (status, _, v) = body(res).await;
        assert_eq!(status, StatusCode::OK, "{via}: {v}");
        assert_eq!(v["via"], via);
        assert_eq!(v["token_id"], t.info.id.0);
        assert_eq!(v["owner"]["email"], "ada@example.com");
    }

    // Query parameters are off by default, and say so.
    let (status, _, v) = body(
        env.client
            .get(env.url(&format!("/v1/me?api_token={s}")))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"], "query_tokens_off");
    let p = Policy {
        query_param_tokens: true,
        ..env.tessera.policy().await.expect("policy")
    };
    env.tessera
        .set_policy(&Actor::Operator, p)
        .await
        .expect("policy");
    for param in ["api_token", "key"] {
        let (status, _, v) = body(
            env.client
                .get(env.url(&format!("/v1/me?{param}={s}")))
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{param}");
        assert_eq!(v["via"], "query");
    }

    // Two different tokens in one request.
    let other = env.token("other", &["me:read"]).await;
    let res = env
        .client
        .get(env.url("/v1/me"))
        .bearer_auth(s)
        .header("x-api-key", other.token.expose())
        .send()
        .await
        .expect("send");
    let (status, _, v) = body(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["message"]
        .as_str()
        .unwrap_or("")
        .contains("two different tokens"));

    // The usage log says how each was presented.
    const VIAS: [&str; 7] = [
        "bearer",
        "basic",
        "token",
        "api-token",
        "ssws",
        "x-api-key",
        "query",
    ];
    let usage = env
        .usage_until(t.info.id, 100, |u| {
            VIAS.iter().all(|via| u.iter().any(|r| r.via == *via))
        })
        .await;
    let vias: std::collections::BTreeSet<&str> = usage.iter().map(|u| u.via.as_str()).collect();
    for via in [
        "bearer",
        "basic",
        "token",
        "api-token",
        "ssws",
        "x-api-key",
        "query",
    ] {
        assert!(vias.contains(via), "{via} missing from {vias:?}");
    }
}

/// The server answers a plain `GET /v1/me` before its router (the hot path); a `GET` with a
/// body and a `HEAD` take the router. Both ways must give the same answer, headers, refusals
/// and usage rows.
#[tokio::test]
async fn v1_me_answers_the_same_with_or_without_the_router() {
    let env = setup().await;
    let t = env.token("both-ways", &["me:read"]).await;
    let s = t.token.expose();
    let send = |body: Option<&'static str>, token: Option<&str>| {
        let mut req = env.client.get(env.url("/v1/me"));
        if let Some(b) = body {
            req = req.body(b);
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send()
    };
    let (fast_status, fast_headers, fast) = body(send(None, Some(s)).await.expect("send")).await;
    let (routed_status, routed_headers, routed) =
        body(send(Some("{}"), Some(s)).await.expect("send")).await;
    assert_eq!(fast_status, StatusCode::OK, "{fast}");
    assert_eq!(routed_status, StatusCode::OK, "{routed}");
    assert_eq!(fast, routed);
    assert_eq!(fast["token_id"], t.info.id.0);
    for name in [
        "content-type",
        "cache-control",
        "x-content-type-options",
        "x-ratelimit-limit",
    ] {
        assert_eq!(fast_headers.get(name), routed_headers.get(name), "{name}");
        assert!(fast_headers.contains_key(name), "{name} missing");
    }
    let head = env
        .client
        .head(env.url("/v1/me"))
        .bearer_auth(s)
        .send()
        .await
        .expect("send");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers().get("cache-control"),
        fast_headers.get("cache-control")
    );

    // The refusals are the same too, WWW-Authenticate included.
    for token in [None, Some("tsr_p_not-a-real-token")] {
        let (fs, fh, fv) = body(send(None, token).await.expect("send")).await;
        let (rs, rh, rv) = body(send(Some("{}"), token).await.expect("send")).await;
        assert_eq!(fs, StatusCode::UNAUTHORIZED, "{fv}");
        assert_eq!((fs, &fv), (rs, &rv));
        assert!(fh.contains_key("www-authenticate"), "{fh:?}");
        assert_eq!(fh.get("www-authenticate"), rh.get("www-authenticate"));
        assert_eq!(fh.get("cache-control"), rh.get("cache-control"));
    }

    // Each way records its use of the token, under the route's path.
    let get_head = |usage: &[UsageEntry]| -> (i64, i64) {
        usage
            .iter()
            .filter(|u| u.path == "/v1/me" && u.outcome == "accepted" && u.status == 200)
            .map(|u| (u.method.as_str(), u.uses))
            .fold((0, 0), |(get, head), (method, n)| match method {
                "GET" => (get + n, head),
                "HEAD" => (get, head + n),
                _ => (get, head),
            })
    };
    let usage = env
        .usage_until(t.info.id, 100, |u| {
            let (g, h) = get_head(u);
            g + h >= 3
        })
        .await;
    let uses = get_head(&usage);
    assert_eq!(uses, (2, 1), "GET and HEAD uses: {usage:?}");
}

#[tokio::test]
async fn every_refusal_has_its_status_and_rule() {
    let env = setup().await;
    let ok = env.token("ok", &["me:read"]).await;

    // No token.
    let res = env
        .client
        .get(env.url("/v1/me"))
        .send()
        .await
        .expect("send");
    let (status, headers, v) = body(res).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing_token"))
    );
    assert_eq!(headers["www-authenticate"], "Bearer realm=\"tessera\"");

    // Malformed (one character changed: the checksum catches it) and unknown.
    let mut typo = ok.token.expose().to_owned().into_bytes();
    typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).expect("ascii");
    let unknown = TokenSecret::generate(TokenKind::Personal);
    let cases = [(typo.as_str(), "malformed"), (unknown.expose(), "unknown")];
    for (tok, code) in cases {
        let (status, headers, v) = body(
            env.client
                .get(env.url("/v1/me"))
                .bearer_auth(tok)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(
            (status, v["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some(code))
        );
        assert!(headers.contains_key("www-authenticate"));
    }

    // Revoked, deactivated, expired.
    let revoked = env.token("revoked", &["me:read"]).await;
    env.tessera
        .set_token_status(&Actor::Operator, revoked.info.id, StatusAction::Revoke)
        .await
        .expect("revoke");
    let deactivated = env.token("deactivated", &["me:read"]).await;
    env.tessera
        .set_token_status(
            &Actor::Operator,
            deactivated.info.id,
            StatusAction::Deactivate,
        )
        .await
        .expect("deactivate");
    let mut short = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "short",
        &["me:read"],
    );
    short.expiry = ExpiryRequest::In(time::Duration::seconds(1));
    let expired = env.token_with(short).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    for (t, code) in [
        (&revoked, "revoked"),
        (&deactivated, "deactivated"),
        (&expired, "expired"),
    ] {
        let (status, headers, v) = body(env.get("/v1/me", &t.token).await).await;
        assert_eq!(
            (status, v["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some(code)),
            "{v}"
        );
        assert!(headers.contains_key("www-authenticate"));
    }

    // Scope and network are 403.
    let (status, _, v) = body(env.get("/v1/tokens", &ok.token).await).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("scope"))
    );
    let mut far = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "far",
        &["me:read"],
    );
    far.networks = Networks::parse(&["10.0.0.0/8"]).expect("net");
    let far = env.token_with(far).await;
    let (status, _, v) = body(env.get("/v1/me", &far.token).await).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("network"))
    );

    // A role change takes effect on the next request: a vrm_admin loses audit:read at once.
    let bob = env.add_user("bob@example.com", Role::Admin).await;
    let bobs = env
        .token_with(new_token(
            TokenKind::Personal,
            Some("bob@example.com"),
            "bob",
            &["audit:read"],
        ))
        .await;
    assert_eq!(
        env.get("/v1/audit", &bobs.token).await.status(),
        StatusCode::OK
    );
    env.tessera
        .set_role(&Actor::Operator, &bob.email, Role::VrmAdmin)
        .await
        .expect("role");
    let (status, _, v) = body(env.get("/v1/audit", &bobs.token).await).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("scope"))
    );

    // Refusals of known tokens are counted.
    env.usage_counting(revoked.info.id, 10, 1).await;
    let info = env
        .tessera
        .get_token(&Actor::Operator, revoked.info.id)
        .await
        .expect("get");
    assert_eq!(info.refused_count, 1);
}

#[tokio::test]
async fn tokens_restricted_to_other_networks_are_refused_and_loopback_ones_work() {
    let env = setup().await;
    let mut far = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "far",
        &["me:read"],
    );
    far.networks = Networks::parse(&["10.0.0.0/8"]).expect("net");
    let far = env.token_with(far).await;
    let mut near = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "near",
        &["me:read"],
    );
    near.networks = Networks::parse(&["127.0.0.1"]).expect("net");
    let near = env.token_with(near).await;
    assert_eq!(
        env.get("/v1/me", &far.token).await.status(),
        StatusCode::FORBIDDEN
    );
    // X-Forwarded-For is ignored: only the socket's peer address counts.
    let res = env
        .client
        .get(env.url("/v1/me"))
        .bearer_auth(far.token.expose())
        .header("x-forwarded-for", "10.1.2.3")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        env.get("/v1/me", &near.token).await.status(),
        StatusCode::OK
    );
    let u = env.usage_counting(far.info.id, 10, 1).await;
    assert!(!u.is_empty(), "the refused use was not recorded");
    assert!(u
        .iter()
        .all(|e| e.outcome == "network" && e.ip.as_deref() == Some("127.0.0.1")));
}

#[tokio::test]
async fn revocation_takes_effect_at_once_under_concurrent_requests() {
    let env = setup().await;
    // Refusals spend the rate limit too; a limit no burst here reaches keeps every refusal
    // a 401 from the revocation itself.
    let p = Policy {
        max_rate_limit: 1_000_000,
        ..env.tessera.policy().await.expect("policy")
    };
    env.tessera
        .set_policy(&Actor::Operator, p)
        .await
        .expect("policy");
    let mut req = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "busy",
        &["me:read"],
    );
    req.rate_limit = Some(1_000_000);
    let t = env.token_with(req).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = env.client.clone();
        let url = env.url("/v1/me");
        let secret = t.token.expose().to_owned();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            // Until told to stop (bounded, in case the test itself goes wrong).
            while start.elapsed() < Duration::from_secs(20) {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let sent = start.elapsed();
                let status = client
                    .get(&url)
                    .bearer_auth(&secret)
                    .send()
                    .await
                    .expect("send")
                    .status();
                seen.push((sent, status));
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.tessera
        .set_token_status(&Actor::Operator, t.info.id, StatusAction::Revoke)
        .await
        .expect("revoke");
    let revoked_at = start.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut before_ok = 0;
    let mut after = 0;
    for task in tasks {
        for (sent, status) in task.await.expect("task") {
            if sent > revoked_at {
                after += 1;
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "a request sent after the revoke was not refused"
                );
            } else if status == StatusCode::OK {
                before_ok += 1;
            }
        }
    }
    assert!(before_ok > 0, "no request succeeded before the revoke");
    assert!(after > 0, "no request was sent after the revoke");
}

#[tokio::test]
async fn bursting_a_token_past_its_rate_limit_gives_429_with_retry_after() {
    let env = setup().await;
    let mut req = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "slow",
        &["me:read"],
    );
    req.rate_limit = Some(5);
    let t = env.token_with(req).await;
    for i in 0..5u32 {
        let res = env.get("/v1/me", &t.token).await;
        assert_eq!(res.status(), StatusCode::OK, "request {i}");
        assert_eq!(res.headers()["x-ratelimit-limit"], "5");
        assert_eq!(
            res.headers()["x-ratelimit-remaining"],
            (4 - i).to_string().as_str()
        );
    }
    let (status, headers, v) = body(env.get("/v1/me", &t.token).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(v["error"], "rate_limited");
    let retry: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=12).contains(&retry), "retry-after {retry}");
    assert_eq!(headers["x-ratelimit-limit"], "5");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    // Another token is unaffected.
    let other = env.token("other", &["me:read"]).await;
    assert_eq!(
        env.get("/v1/me", &other.token).await.status(),
        StatusCode::OK
    );
    env.usage_until(t.info.id, 10, |u| {
        u.iter()
            .any(|e| e.outcome == "rate_limited" && e.status == 429)
    })
    .await;
}

#[tokio::test]
async fn usage_rows_follow_a_burst_and_shutdown_flushes_them() {
    let mut env = setup().await;
    let t = env.token("burst", &["me:read"]).await;
    let mut handles = Vec::new();
    for i in 0..60 {
        let client = env.client.clone();
        // Every third request asks for a route the token lacks the scope for.
        let url = env.url(if i % 3 == 0 { "/v1/tokens" } else { "/v1/me" });
        let secret = t.token.expose().to_owned();
        handles.push(tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(secret)
                .send()
                .await
                .expect("send")
                .status()
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
    // No settling: shutdown itself must write what is pending.
    env.stop().await;
    let info = env
        .tessera
        .get_token(&Actor::Operator, t.info.id)
        .await
        .expect("get");
    assert_eq!((info.use_count, info.refused_count), (40, 20));
    assert_eq!(info.last_used_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(info.last_used_agent.as_deref(), Some("tessera-api-tests"));
    assert!(info.last_used_at.is_some());
    let u = env
        .tessera
        .token_usage(&Actor::Operator, t.info.id, 1000)
        .await
        .expect("usage");
    // Every request is counted; identical ones in the same second share a row.
    let uses = |keep: &dyn Fn(&UsageEntry) -> bool| -> i64 {
        u.iter().filter(|e| keep(e)).map(|e| e.uses).sum()
    };
    assert_eq!(uses(&|_| true), 60);
    assert_eq!(uses(&|e| e.outcome == "scope" && e.status == 403), 20);
    assert_eq!(uses(&|e| e.outcome == "accepted" && e.path == "/v1/me"), 40);
    assert!(
        u.len() < 60,
        "identical requests were not folded: {} rows",
        u.len()
    );
    assert!(!u.is_empty());
    assert!(u.iter().all(|e| e.via == "bearer" && e.method == "GET"));
}

#[tokio::test]
async fn management_routes_follow_scopes_and_the_owners_rights() {
    let env = setup().await;
    let admin = env.token("admin", ALL_SCOPES).await;
    let a = admin.token.expose();

    // Create a token over the API: the plaintext comes back once and works.
    let res = env
        .client
        .post(env.url("/v1/tokens"))
        .bearer_auth(a)
        .json(&json!({"kind": "personal", "name": "made-by-api", "scopes": ["me:read", "tokens:read"], "expires_in": "7d"}))
        .send()
        .await
        .expect("send");
    let (status, _, created) = body(res).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().expect("token").to_owned();
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["owner"]["email"], "ada@example.com");
    let me = env
        .client
        .get(env.url("/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("send");
    assert_eq!(me.status(), StatusCode::OK);
    let (_, _, got) = body(
        env.client
            .get(env.url(&format!("/v1/tokens/{id}")))
            .bearer_auth(a)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(got["name"], "made-by-api");
    assert!(
        got.get("token").is_none(),
        "the plaintext is shown only once"
    );

    // Paging.
    let (_, _, p1) = body(
        env.client
            .get(env.url("/v1/tokens?limit=1"))
            .bearer_auth(a)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(p1["items"].as_array().map(Vec::len), Some(1));
    let cursor = p1["next_cursor"].as_i64().expect("cursor");
    let (_, _, p2) = body(
        env.client
            .get(env.url(&format!("/v1/tokens?limit=1&cursor={cursor}")))
            .bearer_auth(a)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert!(p2["items"][0]["id"].as_i64().expect("id") > cursor);
    let (_, _, f) = body(
        env.client
            .get(env.url("/v1/tokens?q=made-by&status=active&kind=personal"))
            .bearer_auth(a)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(f["items"].as_array().map(Vec::len), Some(1));

    // Status changes take effect for the very next request.
    for (action, status, me_status) in [
        ("deactivate", "deactivated", StatusCode::UNAUTHORIZED),
        ("activate", "active", StatusCode::OK),
        ("revoke", "revoked", StatusCode::UNAUTHORIZED),
    ] {
        let (s, _, v) = body(
            env.client
                .post(env.url(&format!("/v1/tokens/{id}/{action}")))
                .bearer_auth(a)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(
            (s, v["status"].as_str()),
            (StatusCode::OK, Some(status)),
            "{v}"
        );
        let me = env
            .client
            .get(env.url("/v1/me"))
            .bearer_auth(&secret)
            .send()
            .await
            .expect("send");
        assert_eq!(me.status(), me_status, "after {action}");
    }
    let (s, _, v) = body(
        env.client
            .post(env.url(&format!("/v1/tokens/{id}/activate")))
            .bearer_auth(a)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid")),
        "revoke is final"
    );
    env.usage_until(TokenId(id), 100, |u| u.len() >= 3).await;
    let (s, _, u) = body(
        env.client
            .get(env.url(&format!("/v1/tokens/{id}/usage")))
            .bearer_auth(a)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(u["items"].as_array().is_some_and(|i| i.len() >= 3));
    let (s, _, _) = body(
        env.client
            .delete(env.url(&format!("/v1/tokens/{id}")))
            .bearer_auth(a)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = body(
        env.client
            .get(env.url(&format!("/v1/tokens/{id}")))
            .bearer_auth(a)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Users: add, change role, deactivate (which revokes their tokens).
    let (s, _, u) = body(env.client.post(env.url("/v1/users")).bearer_auth(a)
        .json(&json!({"email": "cy@example.com", "name": "Cy", "role": "user", "password": "a long enough passphrase"}))
        .send().await.expect("send")).await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    let uid = u["id"].as_i64().expect("id");
    let cys = env
        .token_with(new_token(
            TokenKind::Personal,
            Some("cy@example.com"),
            "cy",
            &["tokens:read", "me:read"],
        ))
        .await;
    let (s, _, list) = body(env.get("/v1/tokens", &cys.token).await).await;
    assert_eq!(s, StatusCode::OK);
    let items = list["items"].as_array().expect("items");
    assert!(
        items.iter().any(|t| t["id"] == cys.info.id.0),
        "a user sees their own tokens: {list}"
    );
    assert!(
        items
            .iter()
            .all(|t| t["owner"]["email"] == "cy@example.com"),
        "a user sees only their own tokens"
    );
    let (s, _, v) = body(
        env.client
            .put(env.url(&format!("/v1/users/{uid}/role")))
            .bearer_auth(a)
            .json(&json!({"role": "vrm_admin"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (s, v["user"]["role"].as_str()),
        (StatusCode::OK, Some("vrm_admin"))
    );
    let (s, _, v) = body(
        env.client
            .post(env.url("/v1/users/cy@example.com/deactivate"))
            .bearer_auth(a)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (s, v["tokens_revoked"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{v}"
    );
    assert_eq!(
        env.get("/v1/me", &cys.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (s, _, v) = body(env.get("/v1/users", &admin.token).await).await;
    assert_eq!(
        (s, v["items"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(2))
    );
    let (s, _, v) = body(env.get("/v1/audit?limit=5", &admin.token).await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"].as_array().map(Vec::len), Some(5));

    // A non-admin cannot do what they could not do in the app: a company token manages
    // company tokens but not people's, and cannot even carry a user administrator's scopes
    // (authority.rs tries one stored with them by hand).
    let company = env
        .token_with(new_token(
            TokenKind::Company,
            None,
            "svc",
            &["tokens:read", "tokens:write"],
        ))
        .await;
    let (s, _, v) = body(env.get("/v1/users", &company.token).await).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("scope")),
        "{v}"
    );
    let (s, _, v) = body(
        env.get(&format!("/v1/tokens/{}", admin.info.id), &company.token)
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, _, v) = body(env.get("/v1/tokens", &company.token).await).await;
    assert_eq!(s, StatusCode::OK);
    let items = v["items"].as_array().expect("items");
    assert!(items.iter().any(|t| t["name"] == "svc"), "{v}");
    assert!(items.iter().all(|t| t["kind"] == "company"), "{v}");
}

#[tokio::test]
async fn verify_introspects_another_token_and_records_the_use() {
    let env = setup().await;
    let service = env.token("service", &["tokens:verify"]).await;
    let mut client_req = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "client",
        &["me:read", "tokens:read"],
    );
    client_req.networks = Networks::parse(&["127.0.0.0/8"]).expect("net");
    let client_tok = env.token_with(client_req).await;
    let post = |b: Value| {
        env.client
            .post(env.url("/v1/verify"))
            .bearer_auth(service.token.expose())
            .json(&b)
            .send()
    };

    let (s, _, v) = body(
        post(json!({"token": client_tok.token.expose(), "scopes": ["me:read"]}))
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["active"], true);
    assert_eq!(v["reason"], "accepted");
    assert_eq!(v["owner"]["email"], "ada@example.com");
    assert_eq!(v["kind"], "personal");
    assert_eq!(v["token_id"], client_tok.info.id.0);
    assert!(v["expires_at"].is_string());
    assert_eq!(v["scopes"], json!(["me:read", "tokens:read"]));

    let (_, _, v) = body(
        post(json!({"token": client_tok.token.expose(), "scopes": ["audit:read"]}))
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (v["active"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("scope"))
    );
    let (_, _, v) = body(
        post(json!({"token": client_tok.token.expose(), "ip": "192.0.2.1"}))
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(v["reason"], "network");
    let (_, _, v) = body(post(json!({"token": "nonsense"})).await.expect("send")).await;
    assert_eq!(
        (v["active"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("malformed"))
    );
    assert!(v["owner"].is_null());

    env.tessera
        .set_token_status(&Actor::Operator, client_tok.info.id, StatusAction::Revoke)
        .await
        .expect("revoke");
    let (_, _, v) = body(
        post(json!({"token": client_tok.token.expose()}))
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (v["active"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("revoked"))
    );
    assert!(v["owner"].is_null() && v["scopes"] == json!([]));

    // A live token without tokens:verify is refused for the scope (the revoked one for
    // being revoked).
    let reader = env.token("reader", &["me:read", "tokens:read"]).await;
    for (t, status, reason) in [
        (&reader.token, StatusCode::FORBIDDEN, "scope"),
        (&client_tok.token, StatusCode::UNAUTHORIZED, "revoked"),
    ] {
        let (s, _, v) = body(
            env.client
                .post(env.url("/v1/verify"))
                .bearer_auth(t.expose())
                .json(&json!({"token": "x"}))
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!((s, v["error"].as_str()), (status, Some(reason)), "{v}");
    }

    let u = env.usage_counting(client_tok.info.id, 10, 5).await;
    // Four introspections, and its own refused attempt to call the route.
    let uses = |keep: &dyn Fn(&UsageEntry) -> bool| -> i64 {
        u.iter().filter(|e| keep(e)).map(|e| e.uses).sum()
    };
    assert_eq!(uses(&|_| true), 5);
    assert_eq!(uses(&|e| e.via == "verify" && e.path == "/v1/verify"), 4);
    assert_eq!(uses(&|e| e.via == "bearer" && e.outcome == "revoked"), 1);
}

#[tokio::test]
async fn the_openapi_document_is_openapi_3_and_every_route_is_served() {
    let env = setup().await;
    let res = env
        .client
        .get(env.url("/openapi.json"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.expect("text");
    let doc: openapiv3::OpenAPI = serde_json::from_str(&text).expect("a valid OpenAPI 3 document");
    assert!(doc.openapi.starts_with("3."));
    for r in tessera_api::catalog::ROUTES {
        let item = doc
            .paths
            .paths
            .get(r.path)
            .and_then(|p| p.as_item())
            .unwrap_or_else(|| panic!("{} missing", r.path));
        let op = match r.method {
            "GET" => item.get.as_ref(),
            "POST" => item.post.as_ref(),
            "PUT" => item.put.as_ref(),
            "DELETE" => item.delete.as_ref(),
            "PATCH" => item.patch.as_ref(),
            _ => None,
        };
        let op = op.unwrap_or_else(|| panic!("{} {} missing", r.method, r.path));
        assert_eq!(op.operation_id.as_deref(), Some(r.operation_id));

        // The router serves it: no 404 or 405, and guarded routes ask for a token.
        let url = env.url(&r.path.replace("{id}", "1").replace("{secret}", "1"));
        let method = reqwest::Method::from_bytes(r.method.as_bytes()).expect("method");
        let status = env
            .client
            .request(method, url)
            .send()
            .await
            .expect("send")
            .status();
        let expected = match r.access {
            // The sign-in reads its JSON body first: none was sent.
            tessera_api::catalog::Access::Public if r.body.is_some() => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            tessera_api::catalog::Access::Public => StatusCode::OK,
            // An OAuth endpoint reads its form before anything else: none was sent.
            tessera_api::catalog::Access::Client => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        };
        assert_eq!(status, expected, "{} {}", r.method, r.path);
    }
}

#[tokio::test]
async fn bad_input_gets_a_json_error_and_never_a_500() {
    let env = setup().await;
    let admin = env.token("admin", ALL_SCOPES).await;
    let a = admin.token.expose();
    let big = format!("{{\"token\": \"{}\"}}", "x".repeat(70 * 1024));
    type Case = (
        &'static str,
        &'static str,
        Option<&'static str>,
        String,
        StatusCode,
        &'static str,
        &'static str,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        ("POST", "/v1/verify", Some("application/json"), "{\"token\": 5}".into(), StatusCode::BAD_REQUEST, "invalid", "token", Some("token")),
        ("POST", "/v1/verify", Some("application/json"), "{\"scopes\": []}".into(), StatusCode::BAD_REQUEST, "invalid", "token: required", Some("token")),
        ("POST", "/v1/verify", Some("application/json"), "{\"token\": \"a\", \"scopes\": \"me:read\"}".into(), StatusCode::BAD_REQUEST, "invalid", "scopes", Some("scopes")),
        ("POST", "/v1/verify", Some("application/json"), "{\"token\": ".into(), StatusCode::BAD_REQUEST, "invalid", "not valid JSON", None),
        ("POST", "/v1/verify", Some("application/json"), "".into(), StatusCode::BAD_REQUEST, "invalid", "JSON", None),
        ("POST", "/v1/tokens", Some("application/json"), "{\"kind\": \"gold\"}".into(), StatusCode::BAD_REQUEST, "invalid", "kind", Some("kind")),
        ("POST", "/v1/tokens", Some("application/json"), "{\"kind\": \"personal\", \"name\": \"x\", \"rate_limit\": -1}".into(), StatusCode::BAD_REQUEST, "invalid", "rate_limit", Some("rate_limit")),
        ("POST", "/v1/tokens", Some("application/json"), "{\"kind\": \"personal\", \"name\": \"x\", \"scopes\": [\"me:read\"], \"rate_limit\": 0}".into(), StatusCode::BAD_REQUEST, "invalid", "requests per minute is not allowed", Some("rate_limit")),
        ("POST", "/v1/tokens", Some("application/json"), "{\"kind\": \"personal\", \"name\": \"x\", \"expires_in\": \"soon\"}".into(), StatusCode::BAD_REQUEST, "invalid", "expires_in", Some("expires_in")),
        // The core names the person by e-mail; each route by its own member.
        ("POST", "/v1/tokens", Some("application/json"), "{\"kind\": \"personal\", \"name\": \"x\", \"owner\": \"ghost@example.com\"}".into(), StatusCode::NOT_FOUND, "not_found", "owner: no user with e-mail ghost@example.com", Some("owner")),
        ("POST", "/v1/tokens", Some("application/json"), "{\"kind\": \"personal\", \"name\": \"x\", \"owner\": \"not an address\"}".into(), StatusCode::BAD_REQUEST, "invalid", "owner: 'not an address' is not an e-mail address", Some("owner")),
        ("POST", "/v1/users/ghost@example.com/deactivate", None, String::new(), StatusCode::NOT_FOUND, "not_found", "id: no user with e-mail ghost@example.com", Some("id")),
        ("POST", "/v1/users", Some("application/json"), "{\"email\": \"x@example.com\", \"name\": \"X\", \"role\": \"user\", \"password\": \"short\"}".into(), StatusCode::BAD_REQUEST, "invalid", "password", Some("password")),
        ("POST", "/v1/verify", Some("application/json"), big, StatusCode::PAYLOAD_TOO_LARGE, "too_large", "64 KiB", None),
        ("POST", "/v1/verify", Some("text/plain"), "{\"token\": \"a\"}".into(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "application/json", None),
        ("POST", "/v1/verify", None, "{\"token\": \"a\"}".into(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "application/json", None),
        ("GET", "/v1/nope", None, String::new(), StatusCode::NOT_FOUND, "not_found", "route", None),
        ("GET", "/", None, String::new(), StatusCode::NOT_FOUND, "not_found", "route", None),
        ("DELETE", "/v1/me", None, String::new(), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method", None),
        ("PATCH", "/v1/tokens", None, String::new(), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method", None),
        ("GET", "/v1/tokens?limit=abc", None, String::new(), StatusCode::BAD_REQUEST, "invalid", "limit", None),
        ("GET", "/v1/tokens?limit=0", None, String::new(), StatusCode::BAD_REQUEST, "invalid", "limit", Some("limit")),
        ("GET", "/v1/tokens?colour=red", None, String::new(), StatusCode::BAD_REQUEST, "invalid", "query", None),
        ("GET", "/v1/tokens?status=shiny", None, String::new(), StatusCode::BAD_REQUEST, "invalid", "status", Some("status")),
        ("GET", "/v1/tokens/abc", None, String::new(), StatusCode::BAD_REQUEST, "invalid", "id", Some("id")),
        ("GET", "/v1/tokens/99999", None, String::new(), StatusCode::NOT_FOUND, "not_found", "token", Some("id")),
        ("GET", "/v1/tokens/-1", None, String::new(), StatusCode::BAD_REQUEST, "invalid", "id", Some("id")),
        ("PUT", "/v1/users/1/role", Some("application/json"), "{\"role\": \"emperor\"}".into(), StatusCode::BAD_REQUEST, "invalid", "role", Some("role")),
        ("POST", "/v1/users/zzz/deactivate", None, String::new(), StatusCode::BAD_REQUEST, "invalid", "id", Some("id")),
    ];
    for (method, path, ct, payload, status, code, needle, field) in cases {
        let mut req = env
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                env.url(path),
            )
            .bearer_auth(a);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        if !payload.is_empty() || method == "POST" {
            req = req.body(payload);
        }
        let res = req.send().await.expect("send");
        let (s, headers, v) = body(res).await;
        assert_eq!(s, status, "{method} {path}: {v}");
        assert_eq!(
            headers["content-type"], "application/json",
            "{method} {path}"
        );
        assert_eq!(v["error"], code, "{method} {path}: {v}");
        let msg = v["message"].as_str().unwrap_or("");
        assert!(
            msg.contains(needle),
            "{method} {path}: message {msg:?} should mention {needle:?}"
        );
        // The input the refusal is about is named in `field` too, exactly when the core or
        // the API knows it; the message then starts with that name.
        assert_eq!(
            v.get("field").and_then(|f| f.as_str()),
            field,
            "{method} {path}: {v}"
        );
        if let Some(f) = field {
            assert!(msg.starts_with(&format!("{f}: ")), "{method} {path}: {v}");
        }
    }

    // Headers over 8 KiB are refused (431 from the server, or the connection is closed).
    let res = env
        .client
        .get(env.url("/v1/me"))
        .bearer_auth(a)
        .header("x-padding", "p".repeat(16 * 1024))
        .send()
        .await;
    match res {
        Ok(r) => assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    // The server still serves after all that.
    assert_eq!(
        env.get("/v1/me", &admin.token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn plain_http_to_the_tls_port_gets_no_data() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let env = setup().await;
    let addr = env.server.as_ref().expect("server").addr;
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    assert!(
        !text.contains("HTTP/1"),
        "plain HTTP got an HTTP answer: {text}"
    );
    assert!(!text.contains("ok"), "plain HTTP got data: {text}");
    // HTTPS on the same port works, with the certificate people can check by fingerprint.
    let res = env
        .client
        .get(env.url("/healthz"))
        .send()
        .await
        .expect("https");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let fp = &env.server.as_ref().expect("server").fingerprint;
    assert_eq!(fp.len(), 95);
    // A client that does not trust the CA is refused.
    let stranger = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(rcgen_free_ca().as_bytes()).expect("pem")])
        .build()
        .expect("client");
    assert!(stranger.get(env.url("/healthz")).send().await.is_err());
}

/// A CA from another data dir: valid, but not ours.
fn rcgen_free_ca() -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    tessera_api::export_ca(dir.path()).expect("ca")
}
