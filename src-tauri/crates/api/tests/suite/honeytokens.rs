//! Honeytokens over real HTTPS: every presentation is answered byte for byte like an unknown
//! token's (status, headers, body), never grants anything, and raises one alert per source a
//! minute, which admins see and acknowledge; nobody else can make or see one.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tessera_core::model::Role;
use tessera_core::store::audit::AuditFilter;
use tessera_core::token::{TokenKind, TokenSecret};
use tessera_core::Actor;

use crate::common::{new_token, setup, Env};

/// Status, every header but `date`, and the body bytes.
async fn answer(
    env: &Env,
    path: &str,
    secret: &str,
    agent: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let res = env
        .client
        .get(env.url(path))
        .bearer_auth(secret)
        .header("user-agent", agent)
        .send()
        .await
        .expect("send");
    let status = res.status().as_u16();
    let mut headers: Vec<(String, String)> = res
        .headers()
        .iter()
        .filter(|(k, _)| k.as_str() != "date")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_owned()))
        .collect();
    headers.sort();
    let body = res.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

async fn alerts(env: &Env) -> Vec<tessera_core::store::audit::AuditEntry> {
    env.tessera
        .audit(
            &Actor::Operator,
            &AuditFilter {
                action: Some("honeytoken.used".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit")
}

#[tokio::test]
async fn a_honeytoken_is_answered_exactly_like_an_unknown_token_and_alerts() {
    let env = setup().await;
    let mut req = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "aws-prod-backup",
        &["me:read", "tokens:read"],
    );
    req.honeytoken = true;
    let honey = env.token_with(req).await;
    assert!(honey.info.honeytoken);
    let unknown = TokenSecret::generate(TokenKind::Personal);

    for path in ["/v1/me", "/v1/tokens"] {
        let a = answer(&env, path, honey.token.expose(), "thief/1.0").await;
        let b = answer(&env, path, unknown.expose(), "thief/1.0").await;
        assert_eq!(a.0, 401, "{}", String::from_utf8_lossy(&a.2));
        assert_eq!(
            a, b,
            "{path}: the honeytoken's answer differs from an unknown token's"
        );
    }

    // One alert per source a minute, with the address, client and request; nothing else
    // records the presentation.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let found = loop {
        let found = alerts(&env).await;
        if !found.is_empty() || tokio::time::Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(found.len(), 1, "{found:?}");
    let a = &found[0];
    assert_eq!(a.target, format!("token:{}", honey.info.id));
    assert_eq!(a.details["ip"], "127.0.0.1");
    assert_eq!(a.details["client"], "thief/1.0");
    assert_eq!(a.details["request"], "GET /v1/me");
    assert!(!a.details.to_string().contains(honey.token.expose()));
    let info = env
        .tessera
        .get_token(&Actor::Operator, honey.info.id)
        .await
        .expect("get");
    assert_eq!((info.use_count, info.refused_count), (0, 0));
    // Meant to stay unused: not counted among forgotten tokens.
    let d = env
        .tessera
        .dashboard(&Actor::Operator)
        .await
        .expect("dashboard");
    let plain = env
        .tessera
        .count_tokens(
            &Actor::Operator,
            &tessera_core::store::tokens::TokenFilter {
                never_used: true,
                ..Default::default()
            },
        )
        .await
        .expect("count");
    assert_eq!(d.never_used, plain);
    let all_unused = env
        .tessera
        .list_tokens(&Actor::Operator, &Default::default())
        .await
        .expect("list")
        .into_iter()
        .filter(|t| {
            t.last_used_at.is_none() && t.status == tessera_core::model::TokenStatus::Active
        })
        .count() as i64;
    assert_eq!(d.never_used, all_unused - 1, "the honeytoken is left out");

    // /v1/verify says what it says of an unknown token, and alerts again (another client).
    let checker = env.token("checker", &["tokens:verify"]).await;
    let verify = |t: String| {
        let env = &env;
        let checker = &checker;
        async move {
            let res = env
                .client
                .post(env.url("/v1/verify"))
                .bearer_auth(checker.token.expose())
                .header("user-agent", "scanner/2")
                .json(&json!({"token": t}))
                .send()
                .await
                .expect("send");
            (res.status(), res.text().await.expect("text"))
        }
    };
    assert_eq!(
        verify(honey.token.expose().to_owned()).await,
        verify(unknown.expose().to_owned()).await
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while alerts(&env).await.len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no alert from /v1/verify"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The admin's Dashboard lists them until acknowledged.
    let shown = env
        .tessera
        .honeytoken_alerts(&Actor::Operator)
        .await
        .expect("alerts");
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[0].client.as_deref(), Some("scanner/2"));
    // Each is announced on the desktop once.
    let notices = |t: &tessera_core::Tessera| {
        let t = t.clone();
        async move {
            t.take_honeytoken_notices(&Actor::Operator)
                .await
                .expect("notices")
                .len()
        }
    };
    assert_eq!(notices(&env.tessera).await, 2);
    assert_eq!(notices(&env.tessera).await, 0);
    env.tessera
        .acknowledge_honeytoken_alerts(&Actor::Operator, shown[0].id)
        .await
        .expect("acknowledge");
    assert!(env
        .tessera
        .honeytoken_alerts(&Actor::Operator)
        .await
        .expect("alerts")
        .is_empty());
}

#[tokio::test]
async fn only_admins_make_or_see_honeytokens() {
    let env = setup().await;
    let vrm = env.add_user("vera@example.com", Role::VrmAdmin).await;
    let mut req = new_token(TokenKind::Company, None, "decoy", &["me:read"]);
    req.honeytoken = true;
    let e = env
        .tessera
        .create_token(&Actor::User(vrm.clone()), req.clone())
        .await
        .expect_err("a VRM admin may not");
    assert!(e.to_string().contains("honeytoken"), "{e}");
    let honey = env.token_with(req).await;
    // A VRM admin manages company tokens, but not this one: not listed, not found.
    let vrm_actor = Actor::User(vrm);
    let listed = env
        .tessera
        .list_tokens(&vrm_actor, &Default::default())
        .await
        .expect("list");
    assert!(listed.iter().all(|t| t.id != honey.info.id));
    assert!(env
        .tessera
        .get_token(&vrm_actor, honey.info.id)
        .await
        .is_err());
    assert!(env
        .tessera
        .honeytoken_alerts(&vrm_actor)
        .await
        .expect("alerts")
        .is_empty());
    assert!(env
        .tessera
        .acknowledge_honeytoken_alerts(&vrm_actor, 1)
        .await
        .is_err());

    // Through the API a non-admin's token is refused with the reason.
    let through = env
        .tessera
        .create_token(
            &vrm_actor,
            new_token(TokenKind::Personal, None, "vrm-writer", &["tokens:write"]),
        )
        .await
        .expect("token");
    let res = env
        .client
        .post(env.url("/v1/tokens"))
        .bearer_auth(through.token.expose())
        .json(
            &json!({"kind": "company", "name": "decoy-2", "description": "x", "honeytoken": true}),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.expect("text").contains("honeytoken"));
}
