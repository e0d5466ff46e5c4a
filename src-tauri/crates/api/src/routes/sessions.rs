//! A team server's signed-in sessions and what a person does only for themselves or to the
//! settings: sign in and out (`/v1/sessions`), the profile, the password, the user API token,
//! the policy and custom scopes. Everything but the sign-in needs a session, never a token
//! (the gate refuses tokens here, [`crate::catalog::Access::Session`]).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::header::{HeaderValue, CACHE_CONTROL, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use tessera_core::error::Field;
use tessera_core::model::Email;
use tessera_core::password::Password;
use tessera_core::policy::Policy;
use tessera_core::service::{SESSION_IDLE_MINUTES, WRONG_CREDENTIALS};
use tessera_core::store::users::User;
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::gate::Caller;
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}

/// A session: its person, the company, and when it ends.
#[derive(Serialize)]
pub struct SessionInfo {
    pub user: User,
    pub company: String,
    /// The latest it ends, however busy.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// It also ends after this many minutes without a request.
    pub idle_minutes: u32,
}

/// The answer to a sign-in: the session credential (this once) and the session.
#[derive(Serialize)]
pub struct SignedIn {
    /// `tsr_w_…`: present it as `Authorization: Bearer`.
    pub session: String,
    #[serde(flatten)]
    pub info: SessionInfo,
}

async fn info(app: &AppState, user: User, expires_at: OffsetDateTime) -> ApiResult<SessionInfo> {
    Ok(SessionInfo {
        user,
        company: app.tessera.company().await?.unwrap_or_default(),
        expires_at,
        idle_minutes: SESSION_IDLE_MINUTES,
    })
}

/// `POST /v1/sessions`: sign in with e-mail and password. Wrong passwords are limited per
/// account and per address (429 with `Retry-After`), and slow each next attempt down.
pub async fn sign_in(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<SignInRequest>,
) -> ApiResult<Response> {
    let ip = Some(peer.ip().to_canonical());
    let email: Email = b.email.parse().map_err(|_| {
        ApiError::invalid_field(
            Field::Email.as_str(),
            "enter the e-mail address you sign in with",
        )
    })?;
    if let Some(wait) = app.limits.sign_in_blocked(email.as_str(), ip) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many wrong passwords for this account or from this address; retry after {secs} s"),
        )
        .with_header(axum::http::header::RETRY_AFTER, HeaderValue::from(secs.max(1))));
    }
    let wrong = || ApiError::unauthorized("invalid_credentials", WRONG_CREDENTIALS);
    let Ok(password) = Password::new(b.password) else {
        // Too short to be anyone's password: as slow as a real check, and the same answer.
        tokio::time::sleep(app.tessera.sign_in_delay(&email).await?).await;
        app.limits.failed_sign_in(email.as_str(), ip);
        return Err(wrong());
    };
    let agent = headers.get(USER_AGENT).and_then(|v| v.to_str().ok());
    let opened = match app.tessera.open_session(&email, password, ip, agent).await {
        Ok(o) => o,
        Err(tessera_core::Error::Forbidden(m)) if m.message == WRONG_CREDENTIALS => {
            app.limits.failed_sign_in(email.as_str(), ip);
            return Err(wrong());
        }
        Err(e) => return Err(e.into()),
    };
    let body = SignedIn {
        session: opened.secret.expose().to_owned(),
        info: info(&app, opened.user, opened.expires_at).await?,
    };
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `GET /v1/sessions/current`: who is signed in, and until when.
pub async fn current(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<SessionInfo>> {
    let s = c.session()?;
    Ok(Json(info(&app, s.user.clone(), s.expires_at).await?))
}

/// `DELETE /v1/sessions/current`: sign out.
pub async fn sign_out(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
) -> ApiResult<StatusCode> {
    app.tessera.close_session(c.session()?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    pub name: String,
    #[serde(default)]
    pub source_group: String,
}

/// `PATCH /v1/profile`: one's own name and default source group.
pub async fn update_profile(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<ProfileUpdate>,
) -> ApiResult<Json<User>> {
    c.session()?;
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(
        app.tessera
            .update_profile(&actor, &b.name, &b.source_group)
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /v1/profile/password`: change one's own password, proving the current one. The
/// person's other sessions end; this one stays open.
pub async fn change_password(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    let s = c.session()?;
    let actor = c.actor(&app.tessera).await?;
    let current = Password::new(b.current_password).map_err(|_| {
        ApiError::invalid_field(
            Field::CurrentPassword.as_str(),
            "the current password is wrong",
        )
    })?;
    let next = Password::new(b.new_password)
        .map_err(|e| ApiError::from(e).renamed(Field::Password, "new_password"))?;
    app.tessera
        .change_password_keeping(&actor, current, next, Some(s.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/profile/token`: one's user API token (`{"token": null}` when there is none).
pub async fn user_token(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
) -> ApiResult<impl IntoResponse> {
    c.session()?;
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(
        serde_json::json!({"token": app.tessera.user_token(&actor).await?}),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RegenerateRequest {
    /// Seconds the previous token keeps working beside the new one (none or 0: it stops now).
    pub overlap_seconds: Option<u32>,
}

/// `POST /v1/profile/token`: a new user API token, its plaintext in the reply this once.
pub async fn regenerate_user_token(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<RegenerateRequest>,
) -> ApiResult<impl IntoResponse> {
    c.session()?;
    let actor = c.actor(&app.tessera).await?;
    let created = app
        .tessera
        .regenerate_user_token(&actor, b.overlap_seconds)
        .await?;
    Ok(super::tokens::reveal(created))
}

/// `PUT /v1/policy`: change the token policy (admins).
pub async fn set_policy(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(body): JsonBody<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<Policy>> {
    c.session()?;
    let p = whole_policy(body)?;
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(app.tessera.set_policy(&actor, p).await?))
}

/// A policy sent whole: every member, none unknown, so a typo or a missing member never
/// quietly puts a default in its place.
fn whole_policy(body: serde_json::Map<String, serde_json::Value>) -> ApiResult<Policy> {
    let known = match serde_json::to_value(Policy::default()) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(ApiError::internal()),
    };
    if let Some(k) = body.keys().find(|k| !known.contains_key(*k)) {
        return Err(ApiError::bad_request(format!(
            "unknown member {}; the policy's members are those GET /v1/policy answers",
            tessera_core::text::clip(k)
        )));
    }
    let missing: Vec<&str> = known
        .keys()
        .filter(|k| !body.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::bad_request(format!(
            "send the whole policy: {} missing (GET /v1/policy gives the current one to change)",
            missing.join(", ")
        )));
    }
    serde_json::from_value(serde_json::Value::Object(body))
        .map_err(|e| ApiError::bad_request(format!("the policy is not valid: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewScope {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// `POST /v1/scopes`: add a custom scope (admins).
pub async fn add_scope(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<NewScope>,
) -> ApiResult<impl IntoResponse> {
    c.session()?;
    let actor = c.actor(&app.tessera).await?;
    let name = b
        .name
        .parse()
        .map_err(|e: tessera_core::Error| ApiError::from(e).for_field("name"))?;
    let added = app.tessera.add_scope(&actor, &name, &b.description).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// A token the person owns or manages that expires soon: within `days` (7, then 1).
#[derive(Serialize)]
pub struct Expiring {
    pub token: tessera_core::TokenInfo,
    pub days: u32,
}

/// What a window announces as desktop notifications, each once per person.
#[derive(Serialize)]
pub struct Notices {
    pub expiring: Vec<Expiring>,
    /// Honeytoken presentations (admins).
    pub honeytokens: Vec<tessera_core::service::HoneytokenAlert>,
    /// Tokens the person owns or manages used from a new network or client.
    pub new_sources: Vec<tessera_core::NewSourceAlert>,
}

/// `POST /v1/notices/take`: the notices not yet announced to the signed-in person, now
/// marked announced (a window shows each once, as on this computer).
pub async fn take_notices(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<Notices>> {
    c.session()?;
    let actor = c.actor(&app.tessera).await?;
    let expiring = app
        .tessera
        .take_expiry_notices(&actor)
        .await?
        .into_iter()
        .map(|(token, days)| Expiring { token, days })
        .collect();
    // Honeytoken alerts are the admins'.
    let honeytokens = match app.tessera.take_honeytoken_notices(&actor).await {
        Ok(a) => a,
        Err(tessera_core::Error::Forbidden(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let new_sources = app.tessera.take_new_source_notices(&actor).await?;
    Ok(Json(Notices {
        expiring,
        honeytokens,
        new_sources,
    }))
}
