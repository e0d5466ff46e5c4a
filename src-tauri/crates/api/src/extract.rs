//! Request extractors whose refusals use the API's error shape and name the field at fault:
//! [`JsonBody`] (415 without a JSON content type, 413 over the body limit, 400 naming the
//! field) and [`QueryParams`].

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body.
pub struct JsonBody<T>(pub T);

fn is_json(ct: Option<&str>) -> bool {
    let Some(ct) = ct else { return false };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The request member a body error is about (`rate_limit`, `scopes[2]` → `scopes`), when it
/// is one the API's errors name.
fn known_field(path: &str) -> Option<&'static str> {
    let top = path.split(['.', '[']).next().unwrap_or_default();
    crate::error::field_names().find(|name| *name == top)
}

/// A serde message without any value the client sent.
fn describe(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let msg = full.split(" at line ").next().unwrap_or(&full);
    if let Some(rest) = msg.strip_prefix("missing field ") {
        return format!("{} is required", rest.trim_matches('`'));
    }
    if msg.starts_with("invalid type")
        || msg.starts_with("invalid value")
        || msg.starts_with("invalid length")
    {
        return match msg.split_once(", expected ") {
            Some((_, expected)) => format!("wrong type or value; expected {expected}"),
            None => "wrong type or value".to_owned(),
        };
    }
    if msg.starts_with("unknown field") {
        return match msg.split_once(", expected ") {
            Some((_, expected)) => format!("unknown field; expected {expected}"),
            None => "unknown field".to_owned(),
        };
    }
    msg.to_owned()
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !is_json(ct) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    r.status(),
                    "too_large",
                    "the request body is larger than 64 KiB",
                )
            } else {
                ApiError::new(r.status(), "invalid", "the request body could not be read")
            }
        })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value: T = match serde_path_to_error::deserialize(&mut de) {
            Ok(v) => v,
            Err(e) => {
                let path = e.path().to_string();
                let mut field = known_field(&path);
                let inner = e.into_inner();
                let message = match inner.classify() {
                    serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                        // Not about a member: the JSON itself is broken where it stopped.
                        field = None;
                        format!(
                            "body: not valid JSON (line {}, column {})",
                            inner.line(),
                            inner.column()
                        )
                    }
                    _ if path == "." || path.is_empty() => {
                        let d = describe(&inner);
                        match d.strip_suffix(" is required") {
                            Some(name) => {
                                field = known_field(name);
                                format!("{name}: required")
                            }
                            None => format!("body: {d}"),
                        }
                    }
                    _ => format!("{path}: {}", describe(&inner)),
                };
                let err = ApiError::bad_request(message);
                return Err(match field {
                    Some(f) => err.for_field(f),
                    None => err,
                });
            }
        };
        de.end()
            .map_err(|_| ApiError::bad_request("body: unexpected data after the JSON value"))?;
        Ok(Self(value))
    }
}

/// Query parameters.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Self(v)),
            Err(r) => {
                let text = r.body_text();
                let text = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                Err(ApiError::bad_request(format!("query: {text}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("application/json; charset=utf-8")));
        assert!(is_json(Some("application/vnd.api+json")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }

    #[test]
    fn messages_do_not_repeat_values() {
        let e = serde_json::from_str::<Vec<String>>("\"secret-value\"").expect_err("type");
        let d = describe(&e);
        assert!(!d.contains("secret-value"), "{d}");
        assert!(d.contains("expected a sequence"), "{d}");
    }
}
