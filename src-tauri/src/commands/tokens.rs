//! The signed-in person's tokens (user API token, personal tokens) and company tokens.

use tauri::State;
use tessera_core::model::{Networks, Scope, TokenId};
use tessera_core::policy::{ExpiryRequest, Policy};
use tessera_core::service::RotateRequest;
use tessera_core::store::tokens::TokenFilter;
use tessera_core::token::TokenKind;
use tessera_core::{NewToken, StatusAction, TokenInfo};

use crate::dto::{CreateTokenRequest, ExpiryChoice, Revealed, ScopeView, TokenDetail};
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;
use crate::store::Made;

fn revealed(state: &AppState, c: Made) -> Revealed {
    Revealed {
        token: c.info,
        secret: c.secret,
        base_url: state.api_status().base_url,
    }
}

fn new_token(kind: TokenKind, req: CreateTokenRequest) -> CmdResult<NewToken> {
    let expiry = match req.expiry {
        ExpiryChoice::Days { days } => ExpiryRequest::in_days(days)?,
        ExpiryChoice::At { at } => ExpiryRequest::parse_at(&at)?,
        ExpiryChoice::Never => ExpiryRequest::Never,
    };
    let scopes = req
        .scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NewToken {
        description: Some(req.description),
        scopes,
        expiry,
        idle_days: req.idle_days,
        networks: networks(&req.networks)?,
        rate_limit: req.rate_limit,
        honeytoken: req.honeytoken.unwrap_or(false),
        alert_new_sources: req.alert_new_sources,
        ..NewToken::named(kind, req.name)
    })
}

/// The allowed networks as typed, one per line: blank lines are left out.
pub(crate) fn networks(lines: &[String]) -> CmdResult<Networks> {
    let given: Vec<&str> = lines
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    Ok(Networks::parse(&given)?)
}

#[tauri::command]
pub async fn get_user_token(state: State<'_, AppState>) -> CmdResult<Option<TokenInfo>> {
    state.store().await?.user_token().await
}

/// A new user API token (see [`tessera_core::Tessera::regenerate_user_token`] for the overlap).
#[tauri::command]
pub async fn regenerate_user_token(
    state: State<'_, AppState>,
    overlap_seconds: Option<u32>,
) -> CmdResult<Revealed> {
    let c = state
        .store()
        .await?
        .regenerate_user_token(overlap_seconds)
        .await?;
    Ok(revealed(&state, c))
}

/// Rotate a token: its successor, revealed once; the old token overlaps as asked (zero
/// seconds revokes it now).
#[tauri::command]
pub async fn rotate_token(
    state: State<'_, AppState>,
    id: i32,
    overlap_seconds: u32,
    grace_seconds: u32,
) -> CmdResult<Revealed> {
    let store = state.store().await?;
    let req = RotateRequest::from_seconds(overlap_seconds, grace_seconds)?;
    let c = store.rotate_token(TokenId(i64::from(id)), req).await?;
    Ok(revealed(&state, c))
}

/// End a rotation now: the old token is revoked (reason: rotated).
#[tauri::command]
pub async fn finish_rotation(state: State<'_, AppState>, id: i32) -> CmdResult<TokenInfo> {
    state
        .store()
        .await?
        .finish_rotation(TokenId(i64::from(id)))
        .await
}

#[tauri::command]
pub async fn list_my_tokens(state: State<'_, AppState>) -> CmdResult<Vec<TokenInfo>> {
    let store = state.store().await?;
    let filter = TokenFilter {
        owner: Some(store.user.id),
        kind: Some(TokenKind::Personal),
        limit: 100_000,
        ..Default::default()
    };
    let me = store.user.email.to_string();
    store.list_tokens(&filter, Some(&me)).await
}

#[tauri::command]
pub async fn list_company_tokens(state: State<'_, AppState>) -> CmdResult<Vec<TokenInfo>> {
    let store = state.store().await?;
    if !store.user.role.manages_company_tokens() {
        return Err(IpcError::forbidden(
            "only admins and VRM admins may see company tokens",
        ));
    }
    let filter = TokenFilter {
        kind: Some(TokenKind::Company),
        limit: 100_000,
        ..Default::default()
    };
    store.list_tokens(&filter, None).await
}

#[tauri::command]
pub async fn get_token(state: State<'_, AppState>, id: i32) -> CmdResult<TokenDetail> {
    let store = state.store().await?;
    let id = TokenId(i64::from(id));
    let token = store.get_token(id).await?;
    let uses = store.token_usage(id, 50).await?;
    let rotation_sources = match token.rotation {
        Some(_) => store.rotation_report(id).await?.sources,
        None => Vec::new(),
    };
    Ok(TokenDetail {
        token,
        recent_uses: uses,
        rotation_sources,
    })
}

/// A create request as the API takes it (`POST /v1/tokens`), for a team server.
fn api_body(kind: TokenKind, req: &CreateTokenRequest) -> serde_json::Value {
    let mut body = serde_json::json!({
        "kind": kind.as_str(),
        "name": req.name,
        "description": req.description,
        "scopes": req.scopes,
        "allowed_networks": req
            .networks
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>(),
        "honeytoken": req.honeytoken.unwrap_or(false),
    });
    match &req.expiry {
        ExpiryChoice::Days { days } => body["expires_in"] = format!("{days}d").into(),
        ExpiryChoice::At { at } => body["expires_at"] = at.clone().into(),
        ExpiryChoice::Never => body["never_expires"] = true.into(),
    }
    if let Some(d) = req.idle_days {
        body["idle_days"] = d.into();
    }
    if let Some(r) = req.rate_limit {
        body["rate_limit"] = r.into();
    }
    if let Some(a) = req.alert_new_sources {
        body["alert_new_sources"] = a.into();
    }
    body
}

/// Create a personal or company token as the signed-in person; the core checks who may.
async fn create(state: &AppState, kind: TokenKind, req: CreateTokenRequest) -> CmdResult<Revealed> {
    let store = state.store().await?;
    let body = api_body(kind, &req);
    let req = new_token(kind, req)?;
    let c = store.create_token(req, body).await?;
    Ok(revealed(state, c))
}

#[tauri::command]
pub async fn create_personal_token(
    state: State<'_, AppState>,
    req: CreateTokenRequest,
) -> CmdResult<Revealed> {
    create(&state, TokenKind::Personal, req).await
}

#[tauri::command]
pub async fn create_company_token(
    state: State<'_, AppState>,
    req: CreateTokenRequest,
) -> CmdResult<Revealed> {
    create(&state, TokenKind::Company, req).await
}

#[tauri::command]
pub async fn set_token_status(
    state: State<'_, AppState>,
    id: i32,
    action: StatusAction,
) -> CmdResult<TokenInfo> {
    state
        .store()
        .await?
        .set_token_status(TokenId(i64::from(id)), action)
        .await
}

/// Change a token's note; whoever may manage the token may.
#[tauri::command]
pub async fn set_token_note(
    state: State<'_, AppState>,
    id: i32,
    note: String,
) -> CmdResult<TokenInfo> {
    state
        .store()
        .await?
        .set_token_note(TokenId(i64::from(id)), &note)
        .await
}

/// Turn a token's new-source alerts on or off; whoever may manage the token may.
#[tauri::command]
pub async fn set_token_alerts(
    state: State<'_, AppState>,
    id: i32,
    alert_new_sources: bool,
) -> CmdResult<TokenInfo> {
    state
        .store()
        .await?
        .set_token_alerts(TokenId(i64::from(id)), alert_new_sources)
        .await
}

#[tauri::command]
pub async fn delete_token(state: State<'_, AppState>, id: i32) -> CmdResult<()> {
    state
        .store()
        .await?
        .delete_token(TokenId(i64::from(id)))
        .await
}

/// Scopes the signed-in person's role may grant.
#[tauri::command]
pub async fn list_grantable_scopes(state: State<'_, AppState>) -> CmdResult<Vec<ScopeView>> {
    let store = state.store().await?;
    let scopes = store.list_scopes().await?;
    let role = store.user.role;
    Ok(scopes
        .into_iter()
        .filter(|s| s.roles.contains(&role))
        .map(|s| ScopeView {
            company: s.roles.contains(&tessera_core::model::Role::VrmAdmin),
            name: s.name,
            description: s.description,
            builtin: s.builtin,
        })
        .collect())
}

#[tauri::command]
pub async fn get_policy(state: State<'_, AppState>) -> CmdResult<Policy> {
    state.store().await?.policy().await
}
