//! The check every guarded request passes, in the order the issue gives: find the token
//! ([`crate::auth`]), verify it (format, hash, status, expiry, owner, network: the core), the
//! per-token rate limit, then the route's scope from [`crate::catalog`]. Every presentation
//! of a known token, accepted or refused, is handed to the usage writer with its final status.
//! Handlers behind the gate receive the verified token as a [`Caller`] extension.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::header::{HeaderValue, USER_AGENT};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tessera_core::model::Email;
use tessera_core::service::OpenSession;
use tessera_core::store::usage::UseEvent;
use tessera_core::token::SessionSecret;
use tessera_core::verify::{unix_now, Reason, VerifiedToken};
use tessera_core::{Actor, Tessera};
use time::OffsetDateTime;

use crate::auth::{self, ExtractError, Via};
use crate::catalog::{self, Access};
use crate::error::{scrub, ApiError, ApiResult, RATELIMIT_LIMIT, RATELIMIT_REMAINING};
use crate::ratelimit::Admit;
use crate::AppState;

/// Who is behind a request: a verified API token, or a person's signed-in session (a team
/// server's window).
#[derive(Debug, Clone)]
pub enum Caller {
    Token {
        /// Shared with the verification cache; cloning is cheap.
        token: Arc<VerifiedToken>,
        via: Via,
    },
    /// Its person was read afresh for this request.
    Session(Arc<OpenSession>),
}

/// Requests a minute one team server session may make (a person at a window, and its
/// background refresh).
pub const SESSION_RATE_LIMIT: u32 = 600;

/// The header a window's background refresh sends (any value), so that it does not keep an
/// idle session open.
pub const BACKGROUND_HEADER: &str = "tessera-background";

impl Caller {
    /// Who acts in the core. A session: its person, with their role's full rights. A token:
    /// the owner of a user or personal token (read afresh, so a role change applies at once),
    /// or the company for a company token, in either case narrowed to this token's own scopes,
    /// expiry, networks and rate limit.
    pub async fn actor(&self, tessera: &Tessera) -> ApiResult<Actor> {
        let token = match self {
            Self::Session(s) => return Ok(Actor::User(s.user.clone())),
            Self::Token { token, .. } => token,
        };
        if token.kind.company_owned() {
            return Ok(Actor::via_token(token, None));
        }
        let inactive = || {
            ApiError::unauthorized(
                Reason::OwnerInactive.as_str(),
                Reason::OwnerInactive.message(),
            )
        };
        let owner = token.owner.as_ref().ok_or_else(inactive)?;
        let email: Email = owner.email.parse().map_err(|_| inactive())?;
        match tessera.find_user(&email).await {
            Ok(u) if u.active => Ok(Actor::via_token(token, Some(u))),
            Ok(_) | Err(tessera_core::Error::NotFound(_)) => Err(inactive()),
            Err(e) => Err(e.into()),
        }
    }

    /// The session behind a session-only route (the gate admits nothing else there).
    pub fn session(&self) -> ApiResult<&OpenSession> {
        match self {
            Self::Session(s) => Ok(s),
            Self::Token { .. } => Err(session_required()),
        }
    }
}

/// The refusal of an API token on a route only a signed-in session may use.
pub fn session_required() -> ApiError {
    ApiError::forbidden(
        "session_required",
        "this route needs a signed-in session (POST /v1/sessions with e-mail and password), not an API token: a token cannot change a profile, a password, a user API token or the settings",
    )
}

/// The address to check against a token's networks: the socket's peer, never a header.
pub fn peer_ip(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())
}

/// The user agent for the usage log, without control characters or any token in it; shared
/// text from [`crate::usage::Agents`] in the usual case of a client that sends the same one
/// every time.
pub fn user_agent(app: &AppState, headers: &HeaderMap, secret: &str) -> Option<Arc<str>> {
    let ua = headers.get(USER_AGENT)?.to_str().ok()?;
    if !secret.is_empty() && ua.contains(secret) {
        Some(scrub(&ua.replace(secret, "[token]")).into())
    } else if ua.contains("tsr_") {
        Some(scrub(ua).into())
    } else {
        Some(app.agents.get(ua))
    }
}

/// Build a usage event for a presentation. Allocates nothing unless the path carries an id.
pub fn use_event(
    token: &VerifiedToken,
    req_info: &ReqInfo,
    status: StatusCode,
    outcome: &'static str,
    via: &'static str,
) -> UseEvent {
    UseEvent {
        token_id: token.id,
        at: req_info.at,
        ip: req_info.ip,
        user_agent: req_info.user_agent.clone(),
        method: Cow::Borrowed(req_info.method),
        path: req_info.path.clone(),
        status: status.as_u16(),
        outcome,
        via,
    }
}

/// What the usage log keeps of a request.
#[derive(Debug, Clone)]
pub struct ReqInfo {
    pub at: OffsetDateTime,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<Arc<str>>,
    pub method: &'static str,
    /// The path only (a query string may hold a token), with anything token-shaped removed.
    pub path: Cow<'static, str>,
}

/// A wait in whole seconds, rounded up.
fn whole_secs(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The refusal for a known token's rule.
pub fn refusal(reason: Reason) -> ApiError {
    if reason.is_identity() {
        ApiError::unauthorized(reason.as_str(), reason.message())
    } else {
        ApiError::forbidden(reason.as_str(), reason.message())
    }
}

/// A request the gate let through: who is calling, and what [`Admitted::finish`] adds to
/// the answer and records.
pub struct Admitted {
    pub caller: Caller,
    /// What the usage log keeps of a token's request (a session's are not token uses).
    info: Option<ReqInfo>,
    remaining: u32,
}

impl Admitted {
    /// Add the rate-limit headers to the route's answer and record a token's use with its
    /// final status.
    pub fn finish(self, app: &AppState, res: &mut Response) {
        let limit = match &self.caller {
            Caller::Token { token, .. } => token.rate_limit,
            Caller::Session(_) => SESSION_RATE_LIMIT,
        };
        let h = res.headers_mut();
        h.insert(RATELIMIT_LIMIT, HeaderValue::from(limit));
        h.insert(RATELIMIT_REMAINING, HeaderValue::from(self.remaining));
        if let (Caller::Token { token, via }, Some(info)) = (&self.caller, &self.info) {
            app.usage.send(use_event(
                token,
                info,
                res.status(),
                "accepted",
                via.as_str(),
            ));
        }
    }
}

/// A honeytoken was presented: write the alert off the request's path, so the answer (and its
/// time) is an unknown token's.
pub fn alert_honeytoken(
    app: &AppState,
    id: tessera_core::model::TokenId,
    ip: Option<IpAddr>,
    user_agent: Option<Arc<str>>,
    method: &'static str,
    path: String,
) {
    let tessera = app.tessera.clone();
    tokio::spawn(async move {
        let seen = tessera_core::service::HoneytokenUse {
            ip,
            user_agent: user_agent.as_deref(),
            method,
            path: &path,
        };
        if let Err(e) = tessera.honeytoken_used(id, seen).await {
            tracing::warn!(error = %e, token = %id, "recording a honeytoken alert failed");
        }
    });
}

/// The gate, run by the API's front middleware over every route; passes through routes the
/// catalog marks public or does not know (axum then answers 404 or 405).
pub async fn gate(app: &AppState, mut req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>();
    // axum answers HEAD with the GET route's handler, so HEAD is guarded as GET is.
    let head = req.method() == Method::HEAD;
    let method = if head { "GET" } else { req.method().as_str() };
    let spec = matched.and_then(|m| catalog::find(method, m.as_str()));
    let spec = match spec {
        None
        | Some(catalog::RouteSpec {
            access: Access::Public | Access::Client,
            ..
        }) => return next.run(req).await,
        Some(s) => s,
    };
    // A route without parameters is logged as the catalog's text, not a copy of the request's.
    let path = if matched.is_some_and(|m| m.as_str() == req.uri().path()) {
        Cow::Borrowed(spec.path)
    } else {
        Cow::Owned(scrub(req.uri().path()))
    };
    let ip = peer_ip(&req);
    let method = if head { "HEAD" } else { spec.method };
    let checked = check(
        app,
        spec,
        method,
        path,
        req.headers(),
        req.uri().query(),
        ip,
    )
    .await;
    let admitted = match checked {
        Ok(a) => a,
        Err(refused) => return refused.into_response(),
    };
    req.extensions_mut().insert(admitted.caller.clone());
    let mut res = next.run(req).await;
    admitted.finish(app, &mut res);
    res
}

/// The checks of a guarded route (`spec`, logged as `method` and `path`) for a request with
/// these `headers` and `query` from `ip`: find the token, verify it, the rate limit, the route's
/// scope. A refusal of a known token has its use recorded already.
pub async fn check(
    app: &AppState,
    spec: &'static catalog::RouteSpec,
    method: &'static str,
    path: Cow<'static, str>,
    headers: &HeaderMap,
    query: Option<&str>,
    ip: Option<IpAddr>,
) -> ApiResult<Admitted> {
    let query_allowed = if auth::query_has_token(query) {
        match app.tessera.policy().await {
            Ok(p) => p.query_param_tokens,
            Err(e) => return Err(e.into()),
        }
    } else {
        false
    };
    let presented = match auth::extract(headers, query, query_allowed) {
        Ok(p) => p,
        Err(ExtractError::Conflict) => {
            return Err(ApiError::bad_request(ExtractError::Conflict.message()));
        }
        Err(e) => {
            let code = match e {
                ExtractError::QueryOff => "query_tokens_off",
                ExtractError::Unreadable => "malformed",
                _ => "missing_token",
            };
            return Err(ApiError::unauthorized(code, e.message()));
        }
    };
    if SessionSecret::is_session_shaped(&presented.secret) {
        return check_session(app, spec, headers, &presented, ip).await;
    }
    // Whole seconds: what every rule and the usage log work in, and cheaper to read.
    let now = unix_now();
    let decision = match app.tessera.verify_at(&presented.secret, &[], ip, now).await {
        Ok(d) => d,
        Err(e) => return Err(e.into()),
    };
    let Some(token) = decision.token else {
        if let Some(id) = decision.honeytoken {
            alert_honeytoken(
                app,
                id,
                ip,
                user_agent(app, headers, presented.secret.trim()),
                method,
                path.to_string(),
            );
        }
        // Unknown or malformed (or a honeytoken, answered the same): nothing to record
        // against, but limited per client address so guessing costs time.
        if let Admit::No { retry_after } = app.limits.check_address(ip) {
            return Err(ApiError::rate_limited_address(
                crate::ratelimit::RateLimits::PER_ADDRESS,
                whole_secs(retry_after),
            ));
        }
        let reason = decision.refused.unwrap_or(Reason::Unknown);
        return Err(refusal(reason));
    };
    let via_kind = presented.via;
    let via = via_kind.as_str();
    let info = ReqInfo {
        at: OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        ip,
        user_agent: user_agent(app, headers, presented.secret.trim()),
        method,
        path,
    };
    drop(presented);
    let refused = |err: ApiError, outcome: &'static str| {
        let mut event = use_event(&token, &info, err.status, outcome, via);
        if outcome == "rate_limited" {
            // Past its limit a client may vary what it sends: keep only what folds into one
            // counted row a second, so a flood adds rows at a bounded pace.
            event.user_agent = None;
            event.path = Cow::Borrowed(spec.path);
        }
        app.usage.send(event);
        Err(err)
    };
    // Refusals spend the token's rate limit too: a leaked revoked token is limited like a
    // live one. With several servers on one database each enforces its share of the limit.
    let share = token.rate_limit.div_ceil(app.tessera.instances());
    let remaining = match app.limits.check(token.rate_key(), share) {
        Admit::Yes { remaining } => remaining,
        Admit::No { retry_after } => {
            return refused(
                ApiError::rate_limited(token.rate_limit, whole_secs(retry_after)),
                "rate_limited",
            );
        }
    };
    if let Some(reason) = decision.refused {
        return refused(refusal(reason), reason.as_str());
    }
    if spec.access == Access::Session {
        return refused(session_required(), "session_required");
    }
    if let Access::Scope(needed) = spec.access {
        if !token.scopes.iter().any(|s| s.as_str() == needed) {
            let err = ApiError::forbidden(
                Reason::Scope.as_str(),
                format!("this route needs the scope {needed}, which the token does not carry (or its owner's role no longer allows)"),
            );
            return refused(err, Reason::Scope.as_str());
        }
    }
    Ok(Admitted {
        caller: Caller::Token {
            token,
            via: via_kind,
        },
        info: Some(info),
        remaining,
    })
}

/// The checks of a guarded route for a session credential: sent as a bearer token, on a
/// route a session may use, open (not idle, not past its end, its person active), within
/// the session's rate limit, and the route's scope allowed by the person's current role.
async fn check_session(
    app: &AppState,
    spec: &'static catalog::RouteSpec,
    headers: &HeaderMap,
    presented: &auth::Presented,
    ip: Option<IpAddr>,
) -> ApiResult<Admitted> {
    if presented.via != Via::Bearer {
        return Err(ApiError::unauthorized(
            "session_not_bearer",
            "a session credential is sent as Authorization: Bearer",
        ));
    }
    if spec.access == Access::Token {
        return Err(ApiError::forbidden(
            "session_not_token",
            "this route describes the API token presented; a session's person is at GET /v1/sessions/current",
        ));
    }
    let active = !headers.contains_key(BACKGROUND_HEADER);
    let session = match app.tessera.session(&presented.secret, active).await? {
        Ok(s) => s,
        Err(why) => {
            // Guessing session credentials costs time like guessing tokens.
            if let Admit::No { retry_after } = app.limits.check_address(ip) {
                return Err(ApiError::rate_limited_address(
                    crate::ratelimit::RateLimits::PER_ADDRESS,
                    whole_secs(retry_after),
                ));
            }
            return Err(ApiError::unauthorized(why.as_str(), why.message()));
        }
    };
    // Sessions are counted apart from tokens (whose keys are ids and minus client numbers).
    let key = i64::MIN + session.id;
    let remaining = match app.limits.check(key, SESSION_RATE_LIMIT) {
        Admit::Yes { remaining } => remaining,
        Admit::No { retry_after } => {
            return Err(ApiError::rate_limited(
                SESSION_RATE_LIMIT,
                whole_secs(retry_after),
            ));
        }
    };
    if let Access::Scope(needed) = spec.access {
        let allowed = needed
            .parse::<tessera_core::model::Scope>()
            .is_ok_and(|s| session.user.role.allows(&s));
        if !allowed {
            return Err(ApiError::forbidden(
                Reason::Scope.as_str(),
                format!(
                    "this route needs the scope {needed}, which your role ({}) does not allow",
                    session.user.role
                ),
            ));
        }
    }
    Ok(Admitted {
        caller: Caller::Session(Arc::new(session)),
        info: None,
        remaining,
    })
}

#[cfg(test)]
mod tests {
    use super::whole_secs;
    use std::time::Duration;

    /// `Retry-After` is whole seconds, rounded up: never 0 while a wait remains, never a
    /// second more than needed.
    #[test]
    fn a_wait_rounds_up_to_whole_seconds() {
        for (wait, secs) in [
            (Duration::ZERO, 0),
            (Duration::from_nanos(1), 1),
            (Duration::from_millis(300), 1),
            (Duration::from_secs(1), 1),
            (Duration::from_millis(1_200), 2),
            (Duration::from_millis(59_999), 60),
            (Duration::from_secs(60), 60),
        ] {
            assert_eq!(whole_secs(wait), secs, "{wait:?}");
        }
    }
}
