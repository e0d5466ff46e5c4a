//! The signed-in person's tokens (user API token, personal tokens) and company tokens.

use tauri::State;
use tessera_core::model::{Networks, Scope, TokenId};
use tessera_core::policy::{ExpiryRequest, Policy};
use tessera_core::service::RotateRequest;
use tessera_core::store::tokens::TokenFilter;
use tessera_core::token::TokenKind;
use tessera_core::{CreatedToken, NewToken, StatusAction, TokenInfo};

use crate::dto::{CreateTokenRequest, ExpiryChoice, Revealed, ScopeView, TokenDetail};
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

fn revealed(state: &AppState, c: CreatedToken) -> Revealed {
    Revealed {
        token: c.info,
        secret: c.token.expose().to_owned(),
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
    let (actor, _) = state.actor().await?;
    Ok(state.core.user_token(&actor).await?)
}

/// A new user API token (see [`tessera_core::Tessera::regenerate_user_token`] for the overlap).
#[tauri::command]
pub async fn regenerate_user_token(
    state: State<'_, AppState>,
    overlap_seconds: Option<u32>,
) -> CmdResult<Revealed> {
    let (actor, _) = state.actor().await?;
    let c = state
        .core
        .regenerate_user_token(&actor, overlap_seconds)
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
    let (actor, _) = state.actor().await?;
    let req = RotateRequest::from_seconds(overlap_seconds, grace_seconds)?;
    let c = state
        .core
        .rotate_token(&actor, TokenId(i64::from(id)), req)
        .await?;
    Ok(revealed(&state, c))
}

/// End a rotation now: the old token is revoked (reason: rotated).
#[tauri::command]
pub async fn finish_rotation(state: State<'_, AppState>, id: i32) -> CmdResult<TokenInfo> {
    let (actor, _) = state.actor().await?;
    Ok(state
        .core
        .finish_rotation(&actor, TokenId(i64::from(id)))
        .await?)
}

#[tauri::command]
pub async fn list_my_tokens(state: State<'_, AppState>) -> CmdResult<Vec<TokenInfo>> {
    let (actor, u) = state.actor().await?;
    let filter = TokenFilter {
        owner: Some(u.id),
        kind: Some(TokenKind::Personal),
        limit: 100_000,
        ..Default::default()
    };
    Ok(state.core.list_tokens(&actor, &filter).await?)
}

#[tauri::command]
pub async fn list_company_tokens(state: State<'_, AppState>) -> CmdResult<Vec<TokenInfo>> {
    let (actor, u) = state.actor().await?;
    if !u.role.manages_company_tokens() {
        return Err(IpcError::forbidden(
            "only admins and VRM admins may see company tokens",
        ));
    }
    let filter = TokenFilter {
        kind: Some(TokenKind::Company),
        limit: 100_000,
        ..Default::default()
    };
    Ok(state.core.list_tokens(&actor, &filter).await?)
}

#[tauri::command]
pub async fn get_token(state: State<'_, AppState>, id: i32) -> CmdResult<TokenDetail> {
    let (actor, _) = state.actor().await?;
    let id = TokenId(i64::from(id));
    let token = state.core.get_token(&actor, id).await?;
    let uses = state.core.token_usage(&actor, id, 50).await?;
    let rotation_sources = match token.rotation {
        Some(_) => state.core.rotation_report(&actor, id).await?.sources,
        None => Vec::new(),
    };
    Ok(TokenDetail {
        token,
        recent_uses: uses,
        rotation_sources,
    })
}

/// Create a personal or company token as the signed-in person; the core checks who may.
async fn create(state: &AppState, kind: TokenKind, req: CreateTokenRequest) -> CmdResult<Revealed> {
    let (actor, _) = state.actor().await?;
    let req = new_token(kind, req)?;
    let c = state.core.create_token(&actor, req).await?;
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
    let (actor, _) = state.actor().await?;
    Ok(state
        .core
        .set_token_status(&actor, TokenId(i64::from(id)), action)
        .await?)
}

/// Change a token's note; whoever may manage the token may.
#[tauri::command]
pub async fn set_token_note(
    state: State<'_, AppState>,
    id: i32,
    note: String,
) -> CmdResult<TokenInfo> {
    let (actor, _) = state.actor().await?;
    Ok(state
        .core
        .set_token_note(&actor, TokenId(i64::from(id)), &note)
        .await?)
}

/// Turn a token's new-source alerts on or off; whoever may manage the token may.
#[tauri::command]
pub async fn set_token_alerts(
    state: State<'_, AppState>,
    id: i32,
    alert_new_sources: bool,
) -> CmdResult<TokenInfo> {
    let (actor, _) = state.actor().await?;
    Ok(state
        .core
        .set_token_alerts(&actor, TokenId(i64::from(id)), alert_new_sources)
        .await?)
}

#[tauri::command]
pub async fn delete_token(state: State<'_, AppState>, id: i32) -> CmdResult<()> {
    let (actor, _) = state.actor().await?;
    Ok(state
        .core
        .delete_token(&actor, TokenId(i64::from(id)))
        .await?)
}

/// Scopes the signed-in person's role may grant.
#[tauri::command]
pub async fn list_grantable_scopes(state: State<'_, AppState>) -> CmdResult<Vec<ScopeView>> {
    let u = state.user().await?;
    let scopes = state.core.list_scopes().await?;
    let role = u.role;
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
    state.user().await?;
    Ok(state.core.policy().await?)
}
