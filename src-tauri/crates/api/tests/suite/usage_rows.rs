//! What the usage log keeps of a request, row by row (found missing by mutation testing:
//! nothing pinned the logged path of a route with an id, or which rows keep the client's
//! user agent), and the code of an unreadable Authorization header.

use crate::common;

use common::{new_token, setup};
use serde_json::Value;
use tessera_core::token::TokenKind;

#[tokio::test]
async fn a_row_keeps_the_real_path_and_user_agent_and_a_rate_limited_row_drops_the_agent() {
    let mut env = setup().await;
    let mut req = new_token(
        TokenKind::Personal,
        Some("ada@example.com"),
        "rows",
        &["tokens:read"],
    );
    req.rate_limit = Some(2);
    let t = env.token_with(req).await;
    let id = t.info.id;
    let send = |path: String| {
        env.client
            .get(env.url(&path))
            .bearer_auth(t.token.expose())
            .header("user-agent", "probe/1.0")
            .send()
    };
    // Accepted, on a route with an id: the row names this token's path, not the template.
    let r = send(format!("/v1/tokens/{id}")).await.expect("request");
    assert_eq!(r.status(), 200);
    // Refused for its scope: the row keeps the client's user agent.
    let r = send("/v1/audit".to_owned()).await.expect("request");
    assert_eq!(r.status(), 403);
    // Past the limit of 2 a minute (refusals count): the row keeps no user agent, since a
    // flooding client could vary it to add rows.
    let r = send("/v1/me".to_owned()).await.expect("request");
    assert_eq!(r.status(), 429);

    let rows = env.usage_counting(id, 10, 3).await;
    let row = |status: i64| {
        rows.iter()
            .find(|r| r.status == status)
            .unwrap_or_else(|| panic!("no {status} row in {rows:?}"))
    };
    assert_eq!(row(200).path, format!("/v1/tokens/{id}"));
    assert_eq!(row(200).user_agent.as_deref(), Some("probe/1.0"));
    assert_eq!(row(403).path, "/v1/audit");
    assert_eq!(row(403).user_agent.as_deref(), Some("probe/1.0"));
    assert_eq!(row(429).outcome, "rate_limited");
    assert_eq!(row(429).user_agent, None);
    env.stop().await;
}

#[tokio::test]
async fn an_unreadable_authorization_header_is_called_malformed() {
    let mut env = setup().await;
    let r = env
        .client
        .get(env.url("/v1/me"))
        .header("authorization", "Basic !!!not-base64!!!")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "malformed", "{body}");
    env.stop().await;
}
