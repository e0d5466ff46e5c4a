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
use tessera_core::store::usage::UseEvent;
use tessera_core::verify::{unix_now, Reason, VerifiedToken};
use tessera_core::{Actor, Tessera};
use time::OffsetDateTime;

use crate::auth::{self, ExtractError, Via};
use crate::catalog::{self, Access};
use crate::error::{scrub, ApiError, ApiResult, RATELIMIT_LIMIT, RATELIMIT_REMAINING};
use crate::ratelimit::Admit;
use crate::AppState;

/// The verified token behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Shared with the verification cache; cloning is cheap.
    pub token: Arc<VerifiedToken>,
    pub via: Via,
}

impl Caller {
    /// Who acts in the core: the owner of a user or personal token (read afresh, so a role
    /// change applies at once), or the company for a company token, in either case narrowed
    /// to this token's own scopes, expiry, networks and rate limit.
    pub async fn actor(&self, tessera: &Tessera) -> ApiResult<Actor> {
        if self.token.kind.company_owned() {
            return Ok(Actor::via_token(&self.token, None));
        }
        let inactive = || {
            ApiError::unauthorized(
                Reason::OwnerInactive.as_str(),
                Reason::OwnerInactive.message(),
            )
        };
        let owner = self.token.owner.as_ref().ok_or_else(inactive)?;
        let email: Email = owner.email.parse().map_err(|_| inactive())?;
        match tessera.find_user(&email).await {
            Ok(u) if u.active => Ok(Actor::via_token(&self.token, Some(u))),
            Ok(_) | Err(tessera_core::Error::NotFound(_)) => Err(inactive()),
            Err(e) => Err(e.into()),
        }
    }
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
    info: ReqInfo,
    remaining: u32,
}

impl Admitted {
    /// Add the rate-limit headers to the route's answer and record the use with its final
    /// status.
    pub fn finish(self, app: &AppState, res: &mut Response) {
        let token = &self.caller.token;
        let h = res.headers_mut();
        h.insert(RATELIMIT_LIMIT, HeaderValue::from(token.rate_limit));
        h.insert(RATELIMIT_REMAINING, HeaderValue::from(self.remaining));
        app.usage.send(use_event(
            token,
            &self.info,
            res.status(),
            "accepted",
            self.caller.via.as_str(),
        ));
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
        caller: Caller {
            token,
            via: via_kind,
        },
        info,
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
