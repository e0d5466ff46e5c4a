//! Leaked tokens found on a person's computer by a team server's window: the window reads
//! the files, the server says what each token-shaped string is, and revokes the live ones
//! with the place in the audit log.

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use tessera_core::error::Field;
use tessera_core::model::TokenId;
use tessera_core::TokenInfo;
use zeroize::Zeroizing;

use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::gate::Caller;
use crate::AppState;

/// Strings one identify request may carry.
pub const MAX_IDENTIFY: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifyRequest {
    pub tokens: Vec<String>,
}

/// `POST /v1/leaks/identify` (a signed-in session): what each token-shaped string is here,
/// in the order sent. Nothing is recorded as a use, so API tokens may not ask (they have
/// `/v1/verify`, which records it).
pub async fn identify(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<IdentifyRequest>,
) -> ApiResult<Json<Value>> {
    c.session()?;
    // Wiped when the answer is made.
    let tokens: Vec<Zeroizing<String>> = b.tokens.into_iter().map(Zeroizing::new).collect();
    if tokens.len() > MAX_IDENTIFY {
        return Err(ApiError::invalid_field(
            Field::Token.as_str(),
            format!("send at most {MAX_IDENTIFY} strings a request"),
        ));
    }
    let actor = c.actor(&app.tessera).await?;
    let mut findings = Vec::with_capacity(tokens.len());
    for t in &tokens {
        findings.push(app.tessera.identify(&actor, t.as_str()).await?);
    }
    Ok(Json(json!({"findings": findings})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeakRevokeRequest {
    pub id: TokenId,
    /// Where it was found, like `deploy/.env:3` (at most 1,000 characters are kept).
    pub place: String,
}

/// `POST /v1/leaks/revoke`: revoke a token found leaked; the audit entry says where.
pub async fn revoke(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<LeakRevokeRequest>,
) -> ApiResult<Json<TokenInfo>> {
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(
        app.tessera.revoke_leaked(&actor, b.id, &b.place).await?,
    ))
}
