//! The handlers. Each unpacks its input, calls the core as the caller's [`Actor`](tessera_core::Actor), and shapes
//! the reply; the rights checks are the core's, so the API can do nothing the token's owner
//! could not do in the app. Authentication happened in [`crate::gate`].

pub mod clients;
pub mod leaks;
pub mod oauth;
pub mod sessions;
pub mod tokens;
pub mod users;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::header::{HeaderValue, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use foldhash::HashMap;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tessera_core::error::Field;
use tessera_core::model::{Scope, TokenId};
use tessera_core::store::audit::AuditFilter;
use tessera_core::verify::{Owner, VerifiedToken};
use time::OffsetDateTime;

use crate::auth::Via;

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryParams};
use crate::gate::{use_event, user_agent, Caller, ReqInfo};
use crate::ratelimit::Admit;
use crate::AppState;

pub const DEFAULT_PAGE: u32 = 100;
pub const MAX_PAGE: u32 = 500;

/// `GET /healthz`: 200 while this instance can answer with current data; 503 with the
/// reason while the database is not answering or (PostgreSQL) the change listener is
/// reconnecting, so a load balancer sends requests elsewhere.
pub async fn health(State(app): State<AppState>) -> Response {
    match app.tessera.health().await {
        Ok(()) => {
            Json(json!({"status": "ok", "instances": app.tessera.instances()})).into_response()
        }
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "reason": reason})),
        )
            .into_response(),
    }
}

pub async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

/// `GET /v1/me`. Borrows from the verified token.
#[derive(Debug, Serialize)]
pub struct Me<'a> {
    pub token_id: TokenId,
    pub token_name: &'a str,
    pub hint: &'a str,
    pub kind: tessera_core::token::TokenKind,
    pub owner: Option<&'a Owner>,
    pub scopes: Vec<&'a str>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub rate_limit: u32,
    /// How the token was presented in this request.
    pub via: &'static str,
}

impl<'a> Me<'a> {
    fn of(t: &'a VerifiedToken, via: Via) -> Self {
        Self {
            token_id: t.id,
            token_name: &t.name,
            hint: &t.hint,
            kind: t.kind,
            owner: t.owner.as_ref(),
            scopes: t.scopes.iter().map(|s| s.as_str()).collect(),
            expires_at: t.expires_at,
            rate_limit: t.rate_limit,
            via: via.as_str(),
        }
    }
}

/// `/v1/me` answers already serialized, one per token and way of presenting it. An answer is
/// served only to the very token object it was made from: the verification cache hands out
/// a new one whenever anything about the token or its owner changes, so a stale answer is
/// never served. Bounded: when full it starts afresh.
#[derive(Default)]
pub struct MeAnswers(Mutex<HashMap<(TokenId, Via), MeAnswer>>);

/// An answer and the token object it was made from.
type MeAnswer = (Arc<VerifiedToken>, Bytes);

impl MeAnswers {
    const MAX: usize = 4096;

    fn body(&self, token: &Arc<VerifiedToken>, via: Via) -> serde_json::Result<Bytes> {
        let key = (token.id, via);
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((t, body)) = lock().get(&key) {
            if Arc::ptr_eq(t, token) {
                return Ok(body.clone());
            }
        }
        let body = Bytes::from(serde_json::to_vec(&Me::of(token, via))?);
        let mut map = lock();
        if map.len() >= Self::MAX {
            map.clear();
        }
        map.insert(key, (token.clone(), body.clone()));
        Ok(body)
    }
}

pub async fn me(State(app): State<AppState>, Extension(c): Extension<Caller>) -> Response {
    me_answer(&app, &c)
}

/// The answer to `GET /v1/me` for this caller, before the gate's headers.
pub fn me_answer(app: &AppState, c: &Caller) -> Response {
    // The gate lets only tokens through to this route.
    let Caller::Token { token, via } = c else {
        return ApiError::forbidden("session_not_token", "this route describes an API token")
            .into_response();
    };
    match app.me_answers.body(token, *via) {
        Ok(body) => {
            let mut res = Response::new(Body::from(body));
            // Room for every header the gate and the front add, so none grows the map.
            *res.headers_mut() = HeaderMap::with_capacity(8);
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize /v1/me");
            ApiError::internal().into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub token: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The address the token was presented from, if not the caller's own.
    #[serde(default)]
    pub ip: Option<String>,
}

/// `POST /v1/verify`: introspection in the spirit of RFC 7662.
#[derive(Debug, Serialize)]
pub struct Introspection {
    pub active: bool,
    /// `accepted`, or the rule that refused the token.
    pub reason: &'static str,
    pub message: &'static str,
    pub token_id: Option<TokenId>,
    pub kind: Option<tessera_core::token::TokenKind>,
    pub owner: Option<Owner>,
    pub scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

pub async fn verify(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    JsonBody(body): JsonBody<VerifyRequest>,
) -> ApiResult<Json<Introspection>> {
    let scopes = parse_scopes(&body.scopes)?;
    let ip = parse_ip(body.ip.as_deref(), peer)?;
    let now = OffsetDateTime::now_utc();
    let d = app
        .tessera
        .verify(&body.token, &scopes, Some(ip), now)
        .await?;
    if let Some(id) = d.honeytoken {
        let ua = user_agent(&app, &headers, body.token.trim());
        crate::gate::alert_honeytoken(&app, id, Some(ip), ua, "POST", "/v1/verify".into());
    }
    let mut reason = d.refused.map(|r| r.as_str()).unwrap_or("accepted");
    let mut message = d
        .refused
        .map(|r| r.message())
        .unwrap_or("the token is active");
    if let Some(t) = &d.token {
        let limited = matches!(d.refused, None | Some(tessera_core::verify::Reason::Scope))
            && matches!(
                app.limits.check(t.rate_key(), t.rate_limit),
                Admit::No { .. }
            );
        if limited {
            reason = "rate_limited";
            message = "the token is over its rate limit";
        }
        let info = ReqInfo {
            at: now,
            ip: Some(ip),
            user_agent: user_agent(&app, &headers, body.token.trim()),
            method: "POST",
            path: "/v1/verify".into(),
        };
        app.usage
            .send(use_event(t, &info, StatusCode::OK, reason, "verify"));
    }
    let active = reason == "accepted";
    let (token_id, kind) = match &d.token {
        Some(t) => (Some(t.id), Some(t.kind)),
        None => (None, None),
    };
    let t = d.token.filter(|_| active);
    Ok(Json(Introspection {
        active,
        reason,
        message,
        token_id,
        kind,
        owner: t.as_ref().and_then(|t| t.owner.clone()),
        scopes: t
            .as_ref()
            .map(|t| t.scopes.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        expires_at: t.as_ref().and_then(|t| t.expires_at),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainRequest {
    /// The token to explain, pasted; or
    #[serde(default)]
    pub token: Option<String>,
    /// the id of a token the caller manages.
    #[serde(default)]
    pub id: Option<TokenId>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub ip: Option<String>,
    /// RFC 3339; default now.
    #[serde(default)]
    pub at: Option<String>,
}

/// `POST /v1/explain`: every verification rule applied to a token, with what each compared.
/// Records nothing as a use.
pub async fn explain(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody<ExplainRequest>,
) -> ApiResult<Json<tessera_core::service::Explanation>> {
    let scopes = parse_scopes(&body.scopes)?;
    let ip = parse_ip(body.ip.as_deref(), peer)?;
    let at = match body.at.as_deref() {
        None => OffsetDateTime::now_utc(),
        Some(s) => OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                ApiError::invalid_field(
                    Field::At.as_str(),
                    "not an RFC 3339 time like 2027-01-31T17:00:00Z",
                )
            })?,
    };
    let what = match (body.token.as_deref(), body.id) {
        (Some(t), None) => tessera_core::service::Presented::Token(t),
        (None, Some(id)) => tessera_core::service::Presented::Id(id),
        _ => {
            return Err(ApiError::invalid_field(
                Field::Token.as_str(),
                "give the token, or the id of a token you manage, not both",
            ))
        }
    };
    let actor = c.actor(&app.tessera).await?;
    let e = app
        .tessera
        .explain(&actor, what, &scopes, Some(ip), at.unix_timestamp())
        .await?;
    Ok(Json(e))
}

/// A request's `scopes` member, each a scope name.
fn parse_scopes(scopes: &[String]) -> ApiResult<Vec<Scope>> {
    scopes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse::<Scope>().map_err(|_| {
                ApiError::invalid_field(
                    Field::Scopes.as_str(),
                    format!("item {i} is not a scope name"),
                )
            })
        })
        .collect()
}

/// A request's `ip` member, or the caller's own address.
fn parse_ip(ip: Option<&str>, peer: SocketAddr) -> ApiResult<std::net::IpAddr> {
    match ip {
        None => Ok(peer.ip().to_canonical()),
        Some(s) => s
            .trim()
            .parse()
            .map_err(|_| ApiError::invalid_field(Field::Ip.as_str(), "not an IP address")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub limit: Option<u32>,
    pub cursor: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// An RFC 3339 time in a query (`since`, `until`) as seconds.
fn when(field: Field, raw: Option<&str>) -> ApiResult<Option<i64>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(|t| Some(t.unix_timestamp()))
            .map_err(|_| {
                ApiError::invalid_field(
                    field.as_str(),
                    "not an RFC 3339 time like 2027-01-31T17:00:00Z",
                )
            }),
    }
}

pub async fn audit(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let limit = page_size(q.limit)?;
    let filter = AuditFilter {
        since: when(Field::Since, q.since.as_deref())?,
        until: when(Field::Until, q.until.as_deref())?,
        actor: q.actor,
        action: q.action,
        target: q.target,
        before_id: q.cursor,
        limit,
    };
    let items = app.tessera.audit(&actor, &filter).await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditExportQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// `GET /v1/audit/export`: the matching entries as a CSV file (what the app's Export CSV
/// writes).
pub async fn audit_export(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    QueryParams(q): QueryParams<AuditExportQuery>,
) -> ApiResult<Response> {
    let actor = c.actor(&app.tessera).await?;
    let filter = AuditFilter {
        since: when(Field::Since, q.since.as_deref())?,
        until: when(Field::Until, q.until.as_deref())?,
        actor: q.actor,
        action: q.action,
        target: q.target,
        ..Default::default()
    };
    let (csv, _) = app.tessera.audit_csv(&actor, &filter).await?;
    let mut res = Response::new(Body::from(csv));
    let h = res.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        axum::http::header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"tessera-audit.csv\""),
    );
    Ok(res)
}

/// `GET /v1/policy`: what a new token may be (any valid token may read it).
pub async fn policy(State(app): State<AppState>) -> ApiResult<impl IntoResponse> {
    Ok(Json(app.tessera.policy().await?))
}

/// `GET /v1/changes`: a number that moves whenever anyone changes anything, for a window to
/// poll (with the `Tessera-Background` header) and refresh when it moves.
pub async fn changes(State(app): State<AppState>) -> ApiResult<impl IntoResponse> {
    Ok(Json(json!({"version": app.tessera.change_marker().await?})))
}

/// `GET /v1/scopes`: the scope catalogue (any valid token may read it).
pub async fn scopes(State(app): State<AppState>) -> ApiResult<impl IntoResponse> {
    Ok(Json(json!({"items": app.tessera.list_scopes().await?})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeRequest {
    /// The audit entry id of the newest alert acknowledged (the Dashboard's `honeytoken_alerts`).
    pub up_to: i64,
}

/// `POST /v1/dashboard/honeytoken-alerts/acknowledge` (admins): the alerts up to and
/// including `up_to` leave the Dashboard.
pub async fn acknowledge_honeytokens(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<AcknowledgeRequest>,
) -> ApiResult<StatusCode> {
    let actor = c.actor(&app.tessera).await?;
    app.tessera
        .acknowledge_honeytoken_alerts(&actor, b.up_to)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/dashboard`: the counts the app's Dashboard shows, over what the caller may see.
pub async fn dashboard(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(app.tessera.dashboard(&actor).await?))
}

pub fn page_size(limit: Option<u32>) -> ApiResult<u32> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid_field(
            "limit",
            format!("use 1 to {MAX_PAGE}"),
        )),
    }
}
