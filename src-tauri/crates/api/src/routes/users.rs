//! `/v1/users`: list, add, deactivate, change role (admins; the core checks).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use tessera_core::error::Field;
use tessera_core::model::{Email, Role};
use tessera_core::password::Password;
use tessera_core::{Actor, NewUser};

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryParams};
use crate::gate::Caller;
use crate::AppState;

pub async fn list(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let users = app.tessera.list_users(&actor).await?;
    let counts = app.tessera.live_token_counts(&actor).await?;
    let items: Vec<UserWithTokens> = users
        .into_iter()
        .map(|user| UserWithTokens {
            live_tokens: counts.get(&user.id).copied().unwrap_or(0),
            user,
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

/// A user in the list, with how many user and personal tokens they hold that are not revoked.
#[derive(serde::Serialize)]
pub struct UserWithTokens {
    #[serde(flatten)]
    pub user: tessera_core::store::users::User,
    pub live_tokens: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
    #[serde(default)]
    pub source_group: String,
}

pub async fn create(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<CreateUserRequest>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let user = NewUser {
        email: b.email.parse()?,
        name: b.name,
        role: b.role.parse()?,
        password: Password::new(b.password)?,
        source_group: b.source_group,
    };
    let created = app.tessera.add_user(&actor, user).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The path names the user as `id` (number or e-mail): a refusal about the e-mail is about it.
fn as_id(e: tessera_core::Error) -> ApiError {
    ApiError::from(e).renamed(Field::Email, Field::Id.as_str())
}

/// A user named in a path by numeric id or by e-mail.
async fn email_for(app: &AppState, actor: &Actor, raw: &str) -> ApiResult<Email> {
    if raw.contains('@') {
        // The path's member is `id`, whichever form it takes.
        return raw.parse().map_err(as_id);
    }
    let id: i64 = raw.trim().parse().map_err(|_| {
        ApiError::invalid_field(Field::Id.as_str(), "use the user's numeric id or e-mail")
    })?;
    let users = app.tessera.list_users(actor).await?;
    users
        .into_iter()
        .find(|u| u.id.0 == id)
        .map(|u| u.email)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("id: no user with id {id}"),
            )
            .for_field(Field::Id.as_str())
        })
}

pub async fn deactivate(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let email = email_for(&app, &actor, &id).await?;
    let (user, revoked) = app
        .tessera
        .deactivate_user(&actor, &email)
        .await
        .map_err(as_id)?;
    Ok(Json(json!({"user": user, "tokens_revoked": revoked})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    pub role: String,
}

pub async fn set_role(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<SetRoleRequest>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let role: Role = b.role.parse()?;
    let email = email_for(&app, &actor, &id).await?;
    let (user, lost) = app
        .tessera
        .set_role(&actor, &email, role)
        .await
        .map_err(as_id)?;
    Ok(Json(json!({"user": user, "scopes_lost": lost})))
}

/// `POST /v1/users/{id}/reactivate`: a deactivated user may sign in again (their revoked
/// tokens stay revoked).
pub async fn reactivate(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let email = email_for(&app, &actor, &id).await?;
    let user = app
        .tessera
        .reactivate_user(&actor, &email)
        .await
        .map_err(as_id)?;
    Ok(Json(user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePreviewQuery {
    pub role: String,
}

/// `GET /v1/users/{id}/role-change?role=ROLE`: what the user's live tokens would lose under
/// that role, before changing it.
pub async fn role_preview(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<RolePreviewQuery>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let role: Role = q.role.parse()?;
    let email = email_for(&app, &actor, &id).await?;
    let lost = app
        .tessera
        .role_change_preview(&actor, &email, role)
        .await
        .map_err(as_id)?;
    Ok(Json(json!({"scopes_lost": lost})))
}

/// `GET /v1/users/{id}/deactivation`: how many tokens deactivating the user would revoke.
pub async fn deactivation_preview(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let email = email_for(&app, &actor, &id).await?;
    let n = app
        .tessera
        .deprovision_count(&actor, &email)
        .await
        .map_err(as_id)?;
    Ok(Json(json!({"tokens_to_revoke": n})))
}
