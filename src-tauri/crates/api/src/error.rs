//! The API's one error shape, `{"error": CODE, "message": TEXT}`, for every refusal: our own,
//! the core's, and the ones axum and its extractors produce (404, 405, 413, 415...), which
//! [`normalize`] rewrites. Messages never carry a token: [`scrub`] removes anything shaped
//! like one before a message leaves the process.

use axum::body::Body;
use axum::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tessera_core::error::Field;

/// The per-token limit (requests a minute), on every answer to a verified token.
pub const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// Requests left in the current burst.
pub const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");

/// `WWW-Authenticate` sent with every 401.
pub const WWW_AUTHENTICATE_VALUE: &str = "Bearer realm=\"tessera\"";

/// Request members the API names itself (beyond the core's fields): paging, and the
/// create route's `never_expires`.
pub const API_FIELDS: &[&str] = &[
    "limit",
    "cursor",
    "never_expires",
    "sort",
    "days",
    "new_password",
];

/// Every name an error's `field` can take: the core's fields and the API's own members.
pub fn field_names() -> impl Iterator<Item = &'static str> {
    Field::ALL
        .iter()
        .map(|f| f.as_str())
        .chain(API_FIELDS.iter().copied())
}

/// A refusal or failure, ready to become a JSON response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The request member (or path or query parameter) the refusal is about.
    pub field: Option<&'static str>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// 400 about one request member: `NAME: MESSAGE`, with `field` set to NAME.
    pub fn invalid_field(name: &'static str, message: impl std::fmt::Display) -> Self {
        Self::bad_request(format!("{name}: {message}")).for_field(name)
    }

    /// The same refusal named by this route's own member: the core says `email` for the
    /// person a request names, and this route calls that member `owner` (or `id`).
    pub fn renamed(mut self, from: Field, to: &'static str) -> Self {
        if self.field == Some(from.as_str()) {
            if let Some(rest) = self.message.strip_prefix(&format!("{from}: ")) {
                self.message = format!("{to}: {rest}");
            }
            self.field = Some(to);
        }
        self
    }

    /// 401 for a missing or unacceptable token; carries `WWW-Authenticate`.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message).with_header(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(WWW_AUTHENTICATE_VALUE),
        )
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 429 with `Retry-After` (whole seconds, at least 1) and the rate-limit headers.
    pub fn rate_limited(limit: u32, retry_after_secs: u64) -> Self {
        let retry = retry_after_secs.max(1);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "this token made more than {limit} requests in a minute; retry after {retry} s"
            ),
        )
        .with_header(RETRY_AFTER, HeaderValue::from(retry))
        .with_header(RATELIMIT_LIMIT, HeaderValue::from(limit))
        .with_header(RATELIMIT_REMAINING, HeaderValue::from(0u32))
    }

    /// 429 for a client address presenting too many unknown or malformed tokens.
    pub fn rate_limited_address(limit: u32, retry_after_secs: u64) -> Self {
        let retry = retry_after_secs.max(1);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "this address presented more than {limit} unknown or malformed tokens in a minute; check the token and retry after {retry} s"
            ),
        )
        .with_header(RETRY_AFTER, HeaderValue::from(retry))
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; see its log for detail and try again",
        )
    }

    /// Name the request member the refusal is about (`{"field": ...}` in the answer).
    pub fn for_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl From<tessera_core::Error> for ApiError {
    fn from(e: tessera_core::Error) -> Self {
        use tessera_core::Error as E;
        let status = match &e {
            E::Invalid(_) => StatusCode::BAD_REQUEST,
            E::NotFound(_) => StatusCode::NOT_FOUND,
            E::Forbidden(_) => StatusCode::FORBIDDEN,
            E::Conflict(_) | E::State(_) | E::NotSetUp | E::AlreadySetUp => StatusCode::CONFLICT,
            E::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            E::Internal { .. } => {
                tracing::error!(error = ?e, "core operation failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        // The API names a field as the core does (its request members use those names), and
        // the message keeps it in front so a person reading the answer sees it too.
        let mut out = Self::new(status, e.code(), e.to_string());
        out.field = e.field().map(tessera_core::error::Field::as_str);
        out
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.code, "message": scrub(&self.message)});
        if let Some(field) = self.field {
            body["field"] = json!(field);
        }
        let mut res = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            res.headers_mut().insert(name, value);
        }
        res
    }
}

/// The code for a status that reached the client without one of ours.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "invalid",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_server_error() => "internal",
        _ => "invalid",
    }
}

fn default_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "no such route; see /openapi.json for the routes this API serves",
        StatusCode::METHOD_NOT_ALLOWED => {
            "this route does not accept that method; see /openapi.json for the methods it does"
        }
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than 64 KiB",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "send the body as JSON with Content-Type: application/json"
        }
        StatusCode::REQUEST_TIMEOUT => "the request took too long to arrive or to answer",
        s if s.is_server_error() => "the server failed; see its log for detail and try again",
        _ => "the request was refused",
    }
}

/// Any error response that is not already our JSON shape becomes it.
pub async fn normalize(res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = if text.trim().is_empty() || status.is_server_error() {
        default_message(status).to_owned()
    } else {
        // axum's rejection texts ("Failed to buffer the request body: length limit exceeded").
        text.trim().to_owned()
    };
    let body = json!({"error": code_for(status), "message": scrub(&message)});
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body.to_string()))
}

/// Replace anything shaped like a Tessera token, whole or in part (`tsr_` and 8 or more
/// characters), with `[token]`, so no message, log line or echo of input can carry one.
pub fn scrub(s: &str) -> String {
    if !s.contains("tsr_") {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("tsr_") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        // Everything alphanumeric or '_' after the prefix is part of the candidate.
        let len = tail
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map(|(j, _)| j)
            .unwrap_or(tail.len());
        // A prefix and a few characters is enough to hide: even part of a token is secret.
        if len >= 12 {
            out.push_str("[token]");
        } else {
            out.push_str(&tail[..len]);
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::token::{TokenKind, TokenSecret};

    #[test]
    fn scrub_removes_tokens_and_keeps_the_rest() {
        let t = TokenSecret::generate(TokenKind::Personal);
        let msg = format!(
            "invalid type: string \"{}\", expected a sequence",
            t.expose()
        );
        let s = scrub(&msg);
        assert!(!s.contains(t.expose()));
        assert!(s.contains("[token]"));
        assert!(s.ends_with("expected a sequence"));
        // A truncated token is still scrubbed; a mere mention of the prefix is not.
        let cut = &t.expose()[..14];
        assert!(!scrub(cut).contains(cut));
        assert_eq!(scrub("tokens start with tsr_"), "tokens start with tsr_");
    }
}
