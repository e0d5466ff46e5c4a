//! The OAuth 2.0 authorization server as a standard client sees it, over real HTTPS: the
//! `oauth2` crate (not our code) gets a token with each client authentication method and
//! calls `/v1/me`; the client's Postman collection runs under newman and fetches its token
//! once; the client's networks and its shared rate limit hold.

use crate::common;

use common::{run_newman, setup, Env};
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use tessera_core::model::Networks;
use tessera_core::service::{ClientWithSecret, NewClient};
use tessera_core::Actor;

async fn client(env: &Env, name: &str, edit: impl FnOnce(&mut NewClient)) -> ClientWithSecret {
    let mut req = NewClient {
        name: name.into(),
        description: "made by a test".into(),
        scopes: vec![
            "me:read".parse().expect("s"),
            "tokens:read".parse().expect("s"),
        ],
        ..Default::default()
    };
    edit(&mut req);
    env.tessera
        .create_client(&Actor::Operator, req)
        .await
        .expect("client")
}

/// `POST /oauth/token` with the client credentials grant, as HTTP Basic.
async fn grant(env: &Env, c: &ClientWithSecret) -> reqwest::Response {
    env.client
        .post(env.url("/oauth/token"))
        .basic_auth(&c.client.client_id, Some(c.client_secret.expose()))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token")
}

/// The `oauth2` crate's HTTP hook, sent with the test's reqwest client (which trusts the CA).
fn http(
    env: &Env,
) -> impl Fn(
    oauth2::HttpRequest,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, reqwest::Error>> + Send>,
> + '_ {
    move |req: oauth2::HttpRequest| {
        let client = env.client.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let mut r = client
                .request(parts.method, parts.uri.to_string())
                .body(body);
            for (k, v) in &parts.headers {
                r = r.header(k, v);
            }
            let res = r.send().await?;
            let mut out = http::Response::builder().status(res.status());
            for (k, v) in res.headers() {
                out = out.header(k, v);
            }
            let bytes = res.bytes().await?;
            Ok(out.body(bytes.to_vec()).expect("response"))
        })
    }
}

#[tokio::test]
async fn a_standard_oauth2_client_gets_a_token_and_calls_the_api() {
    let mut env = setup().await;
    let c = client(&env, "standard", |_| {}).await;
    let token_url = TokenUrl::new(env.url("/oauth/token")).expect("url");
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let oauth = BasicClient::new(ClientId::new(c.client.client_id.clone()))
            .set_client_secret(ClientSecret::new(c.client_secret.expose().to_owned()))
            .set_token_uri(token_url.clone())
            .set_auth_type(auth.clone());
        let got = oauth
            .exchange_client_credentials()
            .add_scope(Scope::new("me:read".into()))
            .request_async(&http(&env))
            .await
            .unwrap_or_else(|e| panic!("{auth:?}: {e:?}"));
        let scopes: Vec<String> = got
            .scopes()
            .map(|s| s.iter().map(|x| x.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(scopes, ["me:read"], "{auth:?}");
        let lifetime = got.expires_in().expect("expires_in");
        assert!(lifetime.as_secs() > 3500 && lifetime.as_secs() <= 3600);
        let access = got.access_token().secret();
        assert!(access.starts_with("tsr_a_"));
        let me = env
            .client
            .get(env.url("/v1/me"))
            .bearer_auth(access)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status(), reqwest::StatusCode::OK);
        let v: serde_json::Value = me.json().await.expect("json");
        assert_eq!(v["kind"], "access", "{v}");
        assert_eq!(v["scopes"], serde_json::json!(["me:read"]), "{v}");
        // Narrowed to me:read: listing tokens is refused.
        let list = env
            .client
            .get(env.url("/v1/tokens"))
            .bearer_auth(access)
            .send()
            .await
            .expect("list");
        assert_eq!(list.status(), reqwest::StatusCode::FORBIDDEN);
    }
    // A wrong secret: the library reports the server's RFC error.
    let wrong = BasicClient::new(ClientId::new(c.client.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            tessera_core::token::ClientSecret::generate()
                .expose()
                .to_owned(),
        ))
        .set_token_uri(token_url);
    match wrong
        .exchange_client_credentials()
        .request_async(&http(&env))
        .await
    {
        Err(oauth2::RequestTokenError::ServerResponse(r)) => {
            assert_eq!(r.error().as_ref(), "invalid_client");
        }
        other => panic!("a wrong secret must be invalid_client: {other:?}"),
    }
    env.stop().await;
}

#[tokio::test]
async fn a_client_is_held_to_its_networks_and_one_rate_limit_for_all_its_tokens() {
    let mut env = setup().await;
    let fenced = client(&env, "fenced", |r| {
        r.networks = Networks::parse(&["10.0.0.0/8"]).expect("nets");
    })
    .await;
    let res = grant(&env, &fenced).await;
    assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST);
    let v: serde_json::Value = res.json().await.expect("json");
    assert_eq!(v["error"], "unauthorized_client", "{v}");

    // Three requests a minute, shared by the token requests and every token's use.
    let small = client(&env, "small", |r| r.rate_limit = Some(3)).await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let res = grant(&env, &small).await;
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        let v: serde_json::Value = res.json().await.expect("json");
        tokens.push(v["access_token"].as_str().expect("token").to_owned());
    }
    let me = |t: String| {
        let req = env.client.get(env.url("/v1/me")).bearer_auth(t);
        async move { req.send().await.expect("me").status() }
    };
    assert_eq!(me(tokens[0].clone()).await, reqwest::StatusCode::OK);
    // The other token has its own row but the same client: the limit is spent.
    assert_eq!(
        me(tokens[1].clone()).await,
        reqwest::StatusCode::TOO_MANY_REQUESTS
    );
    let res = grant(&env, &small).await;
    assert_eq!(res.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key(reqwest::header::RETRY_AFTER));
    env.stop().await;
}

/// The client's own collection (the one the app and the CLI hand out) under newman: every
/// request passes and the pre-request script fetched the token once for the whole run.
#[tokio::test]
async fn the_client_collection_fetches_its_token_once_under_newman() {
    let mut env = setup().await;
    let c = client(&env, "newman", |_| {}).await;
    let environment = tessera_api::postman::client_environment(
        &env.base,
        &c.client.client_id,
        c.client_secret.expose(),
        "newman",
    );
    let (stdout, report) = run_newman(
        &env,
        "postman-client",
        &tessera_api::postman::client_collection("newman"),
        &environment,
    )
    .await;
    let stats = &report["run"]["stats"];
    // Four requests of the collection and one token request by its pre-request script.
    assert_eq!(stats["items"]["total"], 4, "{stats}");
    assert_eq!(stats["requests"]["total"], 5, "{stats}");
    assert!(!stdout.contains(c.client_secret.expose()));
    // The server issued exactly one token to the client during the run.
    let info = env
        .tessera
        .get_client(&Actor::Operator, c.client.id)
        .await
        .expect("client");
    assert_eq!(info.tokens_issued_24h, 1);
    env.stop().await;
}
