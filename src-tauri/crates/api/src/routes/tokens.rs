//! `/v1/tokens`: list, create, read, change status, delete, usage.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tessera_core::error::Field;
use tessera_core::model::{Email, Networks, Scope, TokenId, TokenStatus};
use tessera_core::policy::ExpiryRequest;
use tessera_core::service::{RotateRequest, TokenUpdate};
use tessera_core::store::tokens::{TokenFilter, TokenSort};
use tessera_core::token::TokenKind;
use tessera_core::{NewToken, StatusAction, TokenInfo};

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryParams};
use crate::gate::Caller;
use crate::routes::page_size;
use crate::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub limit: Option<u32>,
    pub cursor: Option<i64>,
    pub owner: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub scope: Option<String>,
    pub q: Option<String>,
    /// Tokens that expire within this many days.
    pub expiring_within_days: Option<u32>,
    /// Tokens not used for this many days (never-used ones count from creation).
    pub unused_for_days: Option<u32>,
    #[serde(default)]
    pub never_used: bool,
    /// Only tokens ever presented in a URL query parameter.
    #[serde(default)]
    pub presented_in_query: bool,
    /// A column to sort by (with offset paging instead of the cursor).
    pub sort: Option<String>,
    #[serde(default)]
    pub descending: bool,
    pub offset: Option<u32>,
    /// Also answer how many tokens the filters match in all.
    #[serde(default)]
    pub total: bool,
}

/// A `sort` query value: the columns the app's token table sorts by.
fn sort_column(raw: &str) -> ApiResult<TokenSort> {
    Ok(match raw.trim() {
        "id" => TokenSort::Id,
        "name" => TokenSort::Name,
        "kind" => TokenSort::Kind,
        "owner" => TokenSort::Owner,
        "status" => TokenSort::Status,
        "created" => TokenSort::Created,
        "expires" => TokenSort::Expires,
        "last_used" => TokenSort::LastUsed,
        "uses" => TokenSort::Uses,
        _ => {
            return Err(ApiError::invalid_field(
                "sort",
                "use id, name, kind, owner, status, created, expires, last_used or uses",
            ))
        }
    })
}

pub async fn list(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let limit = page_size(q.limit)?;
    let owner = match q.owner.as_deref() {
        None => None,
        Some(e) => {
            let email: Email = e.parse()?;
            match app.tessera.find_user(&email).await {
                Ok(u) => Some(u.id),
                // Nobody by that address owns anything.
                Err(tessera_core::Error::NotFound(_)) => {
                    let mut empty = json!({"items": [], "next_cursor": null});
                    if q.total {
                        empty["total"] = json!(0);
                    }
                    return Ok(Json(empty));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let kind = q.kind.as_deref().map(str::parse::<TokenKind>).transpose()?;
    let status = q
        .status
        .as_deref()
        .map(str::parse::<TokenStatus>)
        .transpose()?;
    let scope = q.scope.as_deref().map(str::parse::<Scope>).transpose()?;
    let sort = q.sort.as_deref().map(sort_column).transpose()?;
    let ordered = sort.is_some_and(|s| s != TokenSort::Id) || q.descending;
    if q.cursor.is_some() && (ordered || q.offset.is_some()) {
        return Err(ApiError::invalid_field(
            "cursor",
            "the cursor pages in id order; with sort, descending or offset, page with offset",
        ));
    }
    let filter = TokenFilter {
        owner,
        kind,
        status,
        scope,
        text: q.q.filter(|t| !t.trim().is_empty()),
        expiring_within_days: q.expiring_within_days.map(i64::from),
        unused_for_days: q.unused_for_days.map(i64::from),
        never_used: q.never_used,
        presented_in_query: q.presented_in_query,
        after_id: q.cursor,
        sort: sort.unwrap_or_default(),
        descending: q.descending,
        offset: q.offset.unwrap_or(0),
        limit,
    };
    let items = app.tessera.list_tokens(&actor, &filter).await?;
    // The cursor goes on in id order; sorted or offset pages go on by offset.
    let next = (items.len() == limit as usize && !ordered && q.offset.is_none())
        .then(|| items.last().map(|t| t.id))
        .flatten();
    let mut page = json!({"items": items, "next_cursor": next});
    if q.total {
        page["total"] = json!(app.tessera.count_tokens(&actor, &filter).await?);
    }
    Ok(Json(page))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub kind: String,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Owner e-mail for user and personal tokens; defaults to the caller.
    pub owner: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// A lifetime like `30d`; or `expires_at`, or `never_expires` where policy allows.
    pub expires_in: Option<String>,
    pub expires_at: Option<String>,
    #[serde(default)]
    pub never_expires: bool,
    pub idle_days: Option<u32>,
    #[serde(default)]
    pub allowed_networks: Vec<String>,
    pub rate_limit: Option<u32>,
    /// A honeytoken (admins): never grants anything, alerts on every presentation.
    #[serde(default)]
    pub honeytoken: bool,
    /// Alert when used from a new network or client (default: on for company tokens).
    pub alert_new_sources: Option<bool>,
}

/// The reply to create: the token's metadata and, this once, its plaintext.
#[derive(Serialize)]
pub struct Created {
    /// The plaintext token, shown only in this reply.
    pub token: String,
    pub replaced: Option<TokenId>,
    pub rotated: Option<TokenId>,
    #[serde(flatten)]
    pub info: TokenInfo,
}

pub async fn create(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<CreateTokenRequest>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let kind: TokenKind = b.kind.parse()?;
    // The core names the expiry and the person; this route's members are these.
    let expiry_member = match (&b.expires_at, b.never_expires) {
        (Some(_), _) => Field::ExpiresAt.as_str(),
        (None, true) => "never_expires",
        (None, false) => Field::ExpiresIn.as_str(),
    };
    let named = |e: tessera_core::Error| {
        ApiError::from(e)
            .renamed(Field::Email, Field::Owner.as_str())
            .renamed(Field::Expiry, expiry_member)
    };
    let expiry = match (
        b.expires_in.as_deref(),
        b.expires_at.as_deref(),
        b.never_expires,
    ) {
        (None, None, false) => ExpiryRequest::Default,
        (Some(d), None, false) => ExpiryRequest::parse_in(d)?,
        (None, Some(t), false) => ExpiryRequest::parse_at(t)?,
        (None, None, true) => ExpiryRequest::Never,
        _ => {
            return Err(ApiError::invalid_field(
                Field::Expiry.as_str(),
                "give at most one of expires_in, expires_at and never_expires",
            ))
        }
    };
    let scopes = b
        .scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<Vec<_>, _>>()?;
    let req = NewToken {
        kind,
        owner: b
            .owner
            .as_deref()
            .map(str::parse::<Email>)
            .transpose()
            .map_err(named)?,
        name: b.name,
        description: b.description,
        scopes,
        expiry,
        idle_days: b.idle_days,
        networks: Networks::parse(&b.allowed_networks)?,
        rate_limit: b.rate_limit,
        honeytoken: b.honeytoken,
        alert_new_sources: b.alert_new_sources,
    };
    let created = app.tessera.create_token(&actor, req).await.map_err(named)?;
    Ok(reveal(created))
}

/// 201 with a new token's plaintext, this once, and its metadata.
pub(crate) fn reveal(created: tessera_core::CreatedToken) -> (StatusCode, Json<Created>) {
    let body = Created {
        token: created.token.expose().to_owned(),
        replaced: created.replaced,
        rotated: created.rotated,
        info: created.info,
    };
    (StatusCode::CREATED, Json(body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateTokenRequest {
    /// How long the old token keeps working beside the new one (`24h` default, `none`).
    pub overlap: Option<String>,
    /// How long it keeps working after the new one's first use (`10m` default, `none`).
    pub grace: Option<String>,
}

/// `POST /v1/tokens/{id}/rotate` (body `{}` for the defaults): the successor, its plaintext
/// this once.
pub async fn rotate(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<RotateTokenRequest>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let id = token_id(&id)?;
    let req = RotateRequest::parse(b.overlap.as_deref(), b.grace.as_deref())?;
    Ok(reveal(app.tessera.rotate_token(&actor, id, req).await?))
}

/// `GET /v1/tokens/{id}/rotation`: a rotating token's overlap and who still uses it.
pub async fn rotation(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(
        app.tessera.rotation_report(&actor, token_id(&id)?).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkStatusRequest {
    pub ids: Vec<i64>,
    pub action: StatusAction,
}

/// `POST /v1/tokens/bulk`: change many tokens' status; each id is done or fails with the
/// error the single route would have answered.
pub async fn bulk(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<BulkStatusRequest>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let ids: Vec<TokenId> = b.ids.into_iter().map(TokenId).collect();
    let (done, failed) = app
        .tessera
        .set_token_status_bulk(&actor, &ids, b.action)
        .await
        .map_err(|e| ApiError::from(e).renamed(Field::Id, "ids"))?;
    let failed: Vec<_> = failed
        .into_iter()
        .map(|(id, e)| {
            let e = ApiError::from(e);
            json!({"id": id, "error": e.code, "message": crate::error::scrub(&e.message)})
        })
        .collect();
    Ok(Json(json!({"done": done, "failed": failed})))
}

/// `GET /v1/tokens/{id}/sources`: the networks and clients the token was accepted from.
pub async fn sources(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let items = app.tessera.token_sources(&actor, token_id(&id)?).await?;
    Ok(Json(json!({"items": items})))
}

/// `POST /v1/tokens/{id}/rotation/finish`: revoke the rotating token now.
pub async fn finish_rotation(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenInfo>> {
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(
        app.tessera.finish_rotation(&actor, token_id(&id)?).await?,
    ))
}

fn token_id(raw: &str) -> ApiResult<TokenId> {
    Ok(raw.parse::<TokenId>()?)
}

pub async fn get(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenInfo>> {
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(app.tessera.get_token(&actor, token_id(&id)?).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTokenRequest {
    pub note: Option<String>,
    pub alert_new_sources: Option<bool>,
}

pub async fn update(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateTokenRequest>,
) -> ApiResult<Json<TokenInfo>> {
    let actor = c.actor(&app.tessera).await?;
    if b.note.is_none() && b.alert_new_sources.is_none() {
        return Err(ApiError::bad_request(
            "give what to change: note, alert_new_sources, or both",
        ));
    }
    let change = TokenUpdate {
        note: b.note,
        alert_new_sources: b.alert_new_sources,
    };
    Ok(Json(
        app.tessera
            .update_token(&actor, token_id(&id)?, change)
            .await?,
    ))
}

async fn set_status(
    app: AppState,
    c: Caller,
    id: String,
    action: StatusAction,
) -> ApiResult<Json<TokenInfo>> {
    let actor = c.actor(&app.tessera).await?;
    Ok(Json(
        app.tessera
            .set_token_status(&actor, token_id(&id)?, action)
            .await?,
    ))
}

pub async fn revoke(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenInfo>> {
    set_status(app, c, id, StatusAction::Revoke).await
}

pub async fn deactivate(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenInfo>> {
    set_status(app, c, id, StatusAction::Deactivate).await
}

pub async fn activate(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenInfo>> {
    set_status(app, c, id, StatusAction::Activate).await
}

pub async fn delete(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let id = token_id(&id)?;
    app.tessera.delete_token(&actor, id).await?;
    Ok(Json(json!({"deleted": id})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    pub limit: Option<u32>,
}

pub async fn usage(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<UsageQuery>,
) -> ApiResult<impl IntoResponse> {
    let actor = c.actor(&app.tessera).await?;
    let limit = match q.limit {
        None => 100,
        Some(n) if (1..=1000).contains(&n) => n,
        Some(_) => return Err(ApiError::invalid_field("limit", "use 1 to 1000")),
    };
    let items = app
        .tessera
        .token_usage(&actor, token_id(&id)?, limit)
        .await?;
    Ok(Json(json!({"items": items})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    pub days: Option<u32>,
}

/// `GET /v1/tokens/{id}/report`: the app's usage view of a token (uses per day over `days`,
/// default 30, recent uses, addresses and clients, sources).
pub async fn report(
    State(app): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<ReportQuery>,
) -> ApiResult<Json<tessera_core::reports::UsageReport>> {
    let actor = c.actor(&app.tessera).await?;
    let days = match q.days {
        None => 30,
        Some(n) if (1..=366).contains(&n) => n,
        Some(_) => return Err(ApiError::invalid_field("days", "use 1 to 366")),
    };
    Ok(Json(
        app.tessera
            .usage_report(&actor, token_id(&id)?, days)
            .await?,
    ))
}
