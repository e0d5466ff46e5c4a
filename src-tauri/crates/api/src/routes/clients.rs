//! `/v1/clients`: OAuth clients (register, list, read, rotate and retire secrets, disable,
//! enable, delete). The rights checks are the core's ([`tessera_core::service::clients`]).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tessera_core::error::Field;
use tessera_core::model::{Networks, Scope};
use tessera_core::service::{
    parse_token_ttl, ClientAction, ClientInfo, ClientWithSecret, NewClient,
};

use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::gate::Caller;
use crate::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub allowed_networks: Vec<String>,
    pub rate_limit: Option<u32>,
    /// The access tokens' lifetime, like `1h` (default) or `15m`.
    pub token_ttl: Option<String>,
}

/// A client with a secret's plaintext, this once.
#[derive(Serialize)]
pub struct Revealed {
    /// The client secret, shown only in this reply.
    pub client_secret: String,
    #[serde(flatten)]
    pub client: ClientInfo,
}

fn reveal(c: ClientWithSecret) -> (StatusCode, Json<Revealed>) {
    (
        StatusCode::CREATED,
        Json(Revealed {
            client_secret: c.client_secret.expose().to_owned(),
            client: c.client,
        }),
    )
}

fn client_no(raw: &str) -> ApiResult<i64> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            tessera_core::Error::invalid(
                Field::Client,
                format!(
                    "'{}' is not a client number; use the id from GET /v1/clients",
                    tessera_core::text::clip(raw)
                ),
            )
            .into()
        })
}

pub async fn list(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(
        json!({"items": app.tessera.list_clients(&actor).await?}),
    ))
}

pub async fn create(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<CreateClientRequest>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let scopes = b
        .scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<Vec<_>, _>>()?;
    let req = NewClient {
        name: b.name,
        description: b.description,
        scopes,
        networks: Networks::parse(&b.allowed_networks)?,
        rate_limit: b.rate_limit,
        token_ttl: b.token_ttl.as_deref().map(parse_token_ttl).transpose()?,
    };
    Ok(reveal(app.tessera.create_client(&actor, req).await?))
}

pub async fn get(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<ClientInfo>> {
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(app.tessera.get_client(&actor, client_no(&id)?).await?))
}

pub async fn disable(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<ClientInfo>> {
    set_status(&app, &c, &id, ClientAction::Disable).await
}

pub async fn enable(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<ClientInfo>> {
    set_status(&app, &c, &id, ClientAction::Enable).await
}

async fn set_status(
    app: &AppState,
    c: &Caller,
    id: &str,
    action: ClientAction,
) -> ApiResult<Json<ClientInfo>> {
    let actor = c.actor(&app.tessera).await?;
    let id = client_no(id)?;
    Ok(Json(
        app.tessera.set_client_status(&actor, id, action).await?,
    ))
}

/// `POST /v1/clients/{id}/secrets`: a new secret (plaintext this once); the old one keeps
/// working until it is retired.
pub async fn rotate_secret(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    Ok(reveal(
        app.tessera
            .rotate_client_secret(&actor, client_no(&id)?)
            .await?,
    ))
}

/// `DELETE /v1/clients/{id}/secrets/{secret}`: retire a secret.
pub async fn retire_secret(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path((id, secret)): Path<(String, String)>,
) -> ApiResult<Json<ClientInfo>> {
    let actor = c.actor(&app.tessera).await?;
    let secret = secret.trim().parse::<i64>().map_err(|_| {
        tessera_core::Error::invalid(
            Field::Secret,
            "not a secret number; use a secret's id from GET /v1/clients/{id}",
        )
    })?;
    Ok(Json(
        app.tessera
            .retire_client_secret(&actor, client_no(&id)?, secret)
            .await?,
    ))
}

pub async fn delete(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let id = client_no(&id)?;
    app.tessera.delete_client(&actor, id).await?;
    Ok(Json(json!({"deleted": id})))
}
