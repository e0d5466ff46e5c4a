//! The OAuth 2.0 authorization server for machine clients: the token endpoint with the
//! client credentials grant (RFC 6749 section 4.4), introspection (RFC 7662), revocation
//! (RFC 7009) and the server's metadata (RFC 8414). Requests are form-encoded; errors are
//! RFC 6749 section 5.2's `{"error", "error_description"}`. Clients authenticate with HTTP
//! Basic (`client_secret_basic`) or form fields (`client_secret_post`), never both; wrong
//! secrets are limited per client and per address.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{
    HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST, RETRY_AFTER, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;
use tessera_core::service::{GrantRefused, Introspector};
use tessera_core::store::clients::ClientRow;

use crate::catalog::{Access, RouteSpec};
use crate::ratelimit::Admit;
use crate::AppState;

/// An RFC 6749 section 5.2 error answer.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<u64>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            retry_after: None,
        }
    }
    fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }
    fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", d)
    }
    /// A failure of the server (the database away, say), in the RFC's words.
    fn internal(e: tessera_core::Error) -> Self {
        let api = crate::error::ApiError::from(e);
        let error = if api.status == StatusCode::SERVICE_UNAVAILABLE {
            "temporarily_unavailable"
        } else {
            "server_error"
        };
        Self::new(api.status, error, api.message)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.error,
            "error_description": crate::error::scrub(&self.description),
        });
        let mut res = (self.status, Json(body)).into_response();
        let h = res.headers_mut();
        h.insert("pragma", HeaderValue::from_static("no-cache"));
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tessera\", charset=\"UTF-8\""),
            );
        }
        if let Some(s) = self.retry_after {
            h.insert(RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

type Form = HashMap<String, String>;

/// The form body: `application/x-www-form-urlencoded`, each parameter at most once.
fn form(headers: &HeaderMap, body: &[u8]) -> Result<Form, OAuthError> {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.split(';').next().is_some_and(|t| {
        t.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    }) {
        return Err(OAuthError::invalid_request(
            "send the parameters form-encoded, with Content-Type: application/x-www-form-urlencoded",
        ));
    }
    let mut out = Form::new();
    for (k, v) in form_urlencoded::parse(body) {
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "the parameter {} is given more than once",
                crate::error::scrub(&k)
            )));
        }
    }
    Ok(out)
}

/// One form-urlencoded component, decoded (RFC 6749 appendix B for Basic credentials).
fn decode_component(s: &str) -> String {
    form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The client's credentials from Basic or the form (not both).
fn credentials(headers: &HeaderMap, form: &Form) -> Result<(String, String), OAuthError> {
    let basic = match headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) if v.len() > 6 && v[..6].eq_ignore_ascii_case("basic ") => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(v[6..].trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    OAuthError::invalid_client(
                        "the Basic credentials are not base64 of client_id:client_secret",
                    )
                })?;
            let (id, secret) = raw.split_once(':').ok_or_else(|| {
                OAuthError::invalid_client("the Basic credentials are not client_id:client_secret")
            })?;
            Some((decode_component(id), decode_component(secret)))
        }
        _ => None,
    };
    let posted = match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        (None, None) => None,
        (Some(_), None) if basic.is_some() => None,
        _ => {
            return Err(OAuthError::invalid_client(
                "give both client_id and client_secret, or authenticate with HTTP Basic",
            ))
        }
    };
    match (basic, posted) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "use one way to authenticate the client: HTTP Basic or client_id and client_secret in the form, not both",
        )),
        (Some(c), None) | (None, Some(c)) => Ok(c),
        (None, None) => Err(OAuthError::invalid_client(
            "authenticate the client: HTTP Basic with client_id:client_secret, or client_id and client_secret in the form",
        )),
    }
}

fn ip_of(peer: &SocketAddr) -> Option<std::net::IpAddr> {
    Some(peer.ip().to_canonical())
}

/// Authenticate the client, limited per client and per address.
async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    form: &Form,
    peer: &SocketAddr,
) -> Result<ClientRow, OAuthError> {
    let (id, secret) = credentials(headers, form)?;
    let ip = ip_of(peer);
    if let Some(wait) = app.limits.client_blocked(&id, ip) {
        let mut e = OAuthError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_client",
            "too many failed client authentications for this client or from this address; wait, then check the client_id and secret",
        );
        e.retry_after = Some(wait.as_secs().max(1));
        return Err(e);
    }
    match app.tessera.authenticate_client(&id, &secret).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(_)) => {
            app.limits.failed_client(&id, ip);
            Err(OAuthError::invalid_client(
                "client authentication failed: unknown client_id, or a wrong or retired secret",
            ))
        }
        Err(e) => Err(OAuthError::internal(e)),
    }
}

/// `POST /oauth/token`: the client credentials grant.
pub async fn token(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match token_inner(&app, &headers, &body, &peer).await {
        Ok(r) | Err(r) => r,
    }
}

async fn token_inner(
    app: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    peer: &SocketAddr,
) -> Result<Response, Response> {
    let f = form(headers, body).map_err(IntoResponse::into_response)?;
    match f.get("grant_type").map(String::as_str) {
        None => {
            return Err(OAuthError::invalid_request("grant_type is missing; use client_credentials").into_response())
        }
        Some("client_credentials") => {}
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!(
                    "grant type '{}' is not offered; Tessera issues tokens to machine clients with client_credentials",
                    tessera_core::text::clip(other)
                ),
            )
            .into_response())
        }
    }
    let client = authenticate(app, headers, &f, peer)
        .await
        .map_err(IntoResponse::into_response)?;
    // The client's rate limit covers its token requests and its tokens' use together.
    let share = u32::try_from(client.rate_limit)
        .unwrap_or(1)
        .div_ceil(app.tessera.instances());
    if let Admit::No { retry_after } = app.limits.check(-client.id, share) {
        let mut e = OAuthError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "slow_down",
            format!(
                "this client is over its rate limit of {} requests per minute; cache the access token until it expires instead of asking for one per request",
                client.rate_limit
            ),
        );
        e.retry_after = Some(retry_after.as_secs().max(1));
        return Err(e.into_response());
    }
    let issued = app
        .tessera
        .issue_access_token(&client, f.get("scope").map(String::as_str), ip_of(peer))
        .await
        .map_err(|e| OAuthError::internal(e).into_response())?;
    match issued {
        Ok(t) => {
            let mut res = Json(json!({
                "access_token": t.token.expose(),
                "token_type": "Bearer",
                "expires_in": t.expires_in,
                "scope": t.scope,
            }))
            .into_response();
            res.headers_mut()
                .insert("pragma", HeaderValue::from_static("no-cache"));
            Ok(res)
        }
        Err(GrantRefused::InvalidScope(m)) => {
            Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", m).into_response())
        }
        Err(GrantRefused::UnauthorizedClient(m)) => {
            Err(OAuthError::new(StatusCode::BAD_REQUEST, "unauthorized_client", m).into_response())
        }
        Err(GrantRefused::InvalidClient) => {
            Err(OAuthError::invalid_client("client authentication failed").into_response())
        }
    }
}

/// Introspection by a caller with a `tokens:verify` token goes through the gate's checks
/// as this route (rate limit, scope, usage), not listed on its own in the catalog.
static INTROSPECT_BY_TOKEN: RouteSpec = RouteSpec {
    method: "POST",
    path: "/oauth/introspect",
    access: Access::Scope("tokens:verify"),
    operation_id: "introspect",
    tag: "oauth",
    summary: "",
    query: &[],
    body: None,
    body_schema: None,
    ok: 200,
};

/// `POST /oauth/introspect` (RFC 7662).
pub async fn introspect(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = match form(&headers, &body) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    let (by, admitted) = if bearer {
        match crate::gate::check(
            &app,
            &INTROSPECT_BY_TOKEN,
            "POST",
            Cow::Borrowed(INTROSPECT_BY_TOKEN.path),
            &headers,
            None,
            ip_of(&peer),
        )
        .await
        {
            Ok(a) => (Introspector::Verifier, Some(a)),
            Err(e) => return bearer_refused(e),
        }
    } else {
        match authenticate(&app, &headers, &f, &peer).await {
            Ok(c) => (Introspector::Client(c.client_id), None),
            Err(e) => return e.into_response(),
        }
    };
    let Some(token) = f.get("token") else {
        return OAuthError::invalid_request("token is missing: give the token to introspect")
            .into_response();
    };
    let mut res = match app.tessera.introspect(&by, token).await {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => OAuthError::internal(e).into_response(),
    };
    if let Some(a) = admitted {
        a.finish(&app, &mut res);
    }
    res
}

/// A bearer token refused at introspection, in RFC 6750's words (`invalid_token`,
/// `insufficient_scope`) and this endpoint's shape, with the gate's headers
/// (`WWW-Authenticate: Bearer`, `Retry-After`).
fn bearer_refused(e: crate::error::ApiError) -> Response {
    let error = match e.status {
        StatusCode::UNAUTHORIZED => "invalid_token",
        StatusCode::FORBIDDEN => "insufficient_scope",
        StatusCode::TOO_MANY_REQUESTS => "slow_down",
        s if s.is_server_error() => "server_error",
        _ => "invalid_request",
    };
    let body = json!({"error": error, "error_description": crate::error::scrub(&e.message)});
    let mut res = e.into_response();
    res.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
    *res.body_mut() = axum::body::Body::from(body.to_string());
    res
}

/// `POST /oauth/revoke` (RFC 7009): 200 whatever the token was, once the client is known.
pub async fn revoke(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = match form(&headers, &body) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let client = match authenticate(&app, &headers, &f, &peer).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Some(token) = f.get("token") else {
        return OAuthError::invalid_request("token is missing: give the token to revoke")
            .into_response();
    };
    match app.tessera.revoke_by_client(&client, token).await {
        Ok(()) => Json(json!({})).into_response(),
        Err(e) => OAuthError::internal(e).into_response(),
    }
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414): where the endpoints are, for
/// the host the client reached.
pub async fn metadata(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let issuer = format!("https://{host}");
    let scopes: Vec<String> = match app.tessera.list_scopes().await {
        Ok(s) => s.into_iter().map(|s| s.name).collect(),
        Err(e) => return OAuthError::internal(e).into_response(),
    };
    let auth = ["client_secret_basic", "client_secret_post"];
    Json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/oauth/token"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": auth,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "bearer"],
        "revocation_endpoint_auth_methods_supported": auth,
        "scopes_supported": scopes,
        "service_documentation": format!("{issuer}/openapi.json"),
    }))
    .into_response()
}
