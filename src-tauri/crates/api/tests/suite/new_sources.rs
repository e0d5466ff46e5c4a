//! New-source alerts over real HTTPS: a company token (alerts on by default) accepted from a
//! client family it was never used from gets one `token.new_source` entry, written by the
//! usage writer off the request's path; PATCH turns alerts off, and a PATCH that names nothing
//! to change is refused with what to send.

use reqwest::StatusCode;
use serde_json::json;
use tessera_core::store::audit::AuditFilter;
use tessera_core::token::TokenKind;
use tessera_core::Actor;

use crate::common::{new_token, setup, Env};

async fn me(env: &Env, secret: &str, agent: &str) {
    let res = env
        .client
        .get(env.url("/v1/me"))
        .bearer_auth(secret)
        .header("user-agent", agent)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
}

async fn alerts(env: &Env) -> Vec<serde_json::Value> {
    env.tessera
        .audit(
            &Actor::Operator,
            &AuditFilter {
                action: Some("token.new_source".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.details)
        .collect()
}

/// The alerts once the usage writer has flushed (it writes every 200 ms).
async fn alerts_after_flush(
    env: &Env,
    id: tessera_core::model::TokenId,
    uses: i64,
) -> Vec<serde_json::Value> {
    env.usage_counting(id, 100, uses).await;
    // The sources are written in the same transaction as the uses.
    alerts(env).await
}

#[tokio::test]
async fn a_new_client_of_a_company_token_is_alerted_once() {
    let env = setup().await;
    let admin = env
        .token("admin", &["tokens:read", "tokens:write", "usage:read"])
        .await;
    let feed = env
        .token_with(new_token(TokenKind::Company, None, "feed", &["me:read"]))
        .await;
    assert!(feed.info.alert_new_sources);
    let secret = feed.token.expose();
    me(&env, secret, "feeder/1.0").await;
    assert!(
        alerts_after_flush(&env, feed.info.id, 1).await.is_empty(),
        "the baseline"
    );
    me(&env, secret, "feeder/1.1").await;
    assert!(
        alerts_after_flush(&env, feed.info.id, 2).await.is_empty(),
        "same family"
    );
    me(&env, secret, "sqlmap/1.8").await;
    me(&env, secret, "sqlmap/1.8").await;
    let got = alerts_after_flush(&env, feed.info.id, 4).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["client"], "sqlmap");
    assert_eq!(got[0]["user_agent"], "sqlmap/1.8");
    assert_eq!(got[0]["ip"], "127.0.0.1");
    assert_eq!(
        got[0]["network"],
        serde_json::Value::Null,
        "127.0.0.0/24 is known"
    );
    assert_eq!(got[0]["hint"], feed.info.hint.as_str());
    // What it has been seen from, as the API lists it.
    let listed: serde_json::Value = env
        .client
        .get(env.url(&format!("/v1/tokens/{}/sources", feed.info.id)))
        .bearer_auth(admin.token.expose())
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let mut sources: Vec<(&str, &str)> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap_or(""),
                s["source"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // Oldest first; uses in the same second come in (kind, source) order, so compare sorted.
    sources.sort_unstable();
    assert_eq!(
        sources,
        vec![
            ("client", "feeder"),
            ("client", "sqlmap"),
            ("network", "127.0.0.0/24")
        ],
        "{listed}"
    );

    // Turned off through the API: the next new client is recorded but not alerted.
    let patch = |body: serde_json::Value| {
        env.client
            .patch(env.url(&format!("/v1/tokens/{}", feed.info.id)))
            .bearer_auth(admin.token.expose())
            .json(&body)
            .send()
    };
    let res = patch(json!({"alert_new_sources": false}))
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let v: serde_json::Value = res.json().await.expect("json");
    assert_eq!(v["alert_new_sources"], false);
    me(&env, secret, "nmap/7").await;
    assert_eq!(alerts_after_flush(&env, feed.info.id, 5).await.len(), 1);

    let res = patch(json!({})).await.expect("send");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = res.json().await.expect("json");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("alert_new_sources"),
        "{v}"
    );
}
