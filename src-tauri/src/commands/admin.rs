//! Administration: users, all tokens (filtered, sorted, paged), bulk status changes.

use tauri::State;
use tessera_core::model::{Email, TokenId};
use tessera_core::password::Password;
use tessera_core::store::tokens::TokenFilter;
use tessera_core::{NewUser, StatusAction};

use crate::dto::{
    BulkFailure, BulkResult, Deactivation, NewUserRequest, RoleChange, TokenPage, TokenQuery,
    UserView,
};
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

fn email(s: &str) -> CmdResult<Email> {
    Ok(s.parse::<Email>()?)
}

async fn user_view(
    state: &AppState,
    actor: &tessera_core::Actor,
    u: tessera_core::store::users::User,
) -> CmdResult<UserView> {
    let counts = state.core.live_token_counts(actor).await?;
    let live = counts.get(&u.id).copied().unwrap_or(0);
    Ok(UserView::new(u, live))
}

#[tauri::command]
pub async fn list_users(state: State<'_, AppState>) -> CmdResult<Vec<UserView>> {
    let (actor, _) = state.actor().await?;
    let users = state.core.list_users(&actor).await?;
    let counts = state.core.live_token_counts(&actor).await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let live = counts.get(&u.id).copied().unwrap_or(0);
            UserView::new(u, live)
        })
        .collect())
}

#[tauri::command]
pub async fn create_user(state: State<'_, AppState>, req: NewUserRequest) -> CmdResult<UserView> {
    let (actor, _) = state.actor().await?;
    let new = NewUser {
        email: email(&req.email)?,
        name: req.name,
        role: req.role,
        password: Password::new(req.password)?,
        source_group: req.source_group,
    };
    let u = state.core.add_user(&actor, new).await?;
    user_view(&state, &actor, u).await
}

/// What the user's tokens would lose under another role, before changing it.
#[tauri::command]
pub async fn preview_role_change(
    state: State<'_, AppState>,
    email: String,
    role: tessera_core::model::Role,
) -> CmdResult<Vec<String>> {
    let (actor, _) = state.actor().await?;
    Ok(state
        .core
        .role_change_preview(&actor, &self::email(&email)?, role)
        .await?)
}

#[tauri::command]
pub async fn set_user_role(
    state: State<'_, AppState>,
    email: String,
    role: tessera_core::model::Role,
) -> CmdResult<RoleChange> {
    let (actor, _) = state.actor().await?;
    let (u, lost) = state
        .core
        .set_role(&actor, &self::email(&email)?, role)
        .await?;
    Ok(RoleChange {
        user: user_view(&state, &actor, u).await?,
        scopes_lost: lost,
    })
}

/// How many tokens deactivating the user will revoke.
#[tauri::command]
pub async fn preview_deactivate_user(state: State<'_, AppState>, email: String) -> CmdResult<i32> {
    let (actor, _) = state.actor().await?;
    let n = state
        .core
        .deprovision_count(&actor, &self::email(&email)?)
        .await?;
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

#[tauri::command]
pub async fn deactivate_user(state: State<'_, AppState>, email: String) -> CmdResult<Deactivation> {
    let (actor, _) = state.actor().await?;
    let (u, n) = state
        .core
        .deactivate_user(&actor, &self::email(&email)?)
        .await?;
    Ok(Deactivation {
        user: user_view(&state, &actor, u).await?,
        revoked: i32::try_from(n).unwrap_or(i32::MAX),
    })
}

#[tauri::command]
pub async fn reactivate_user(state: State<'_, AppState>, email: String) -> CmdResult<UserView> {
    let (actor, _) = state.actor().await?;
    let u = state
        .core
        .reactivate_user(&actor, &self::email(&email)?)
        .await?;
    user_view(&state, &actor, u).await
}

/// Every token the signed-in person may see (all for admins; company and own for VRM
/// admins; own for users), filtered, sorted and paged on the server.
#[tauri::command]
pub async fn list_all_tokens(
    state: State<'_, AppState>,
    query: TokenQuery,
) -> CmdResult<TokenPage> {
    let (actor, _) = state.actor().await?;
    let owner = match query
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(e) => match state.core.find_user(&email(e)?).await {
            Ok(u) => Some(u.id),
            Err(tessera_core::Error::NotFound(_)) => {
                return Ok(TokenPage {
                    items: vec![],
                    total: 0,
                })
            }
            Err(e) => return Err(e.into()),
        },
    };
    let scope = match query
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => Some(s.parse::<tessera_core::model::Scope>()?),
        None => None,
    };
    let filter = TokenFilter {
        owner,
        kind: query.kind,
        status: query.status,
        scope,
        text: query
            .text
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().chars().take(200).collect()),
        expiring_within_days: query.expiring_within_days.map(i64::from),
        unused_for_days: query.unused_for_days.map(i64::from),
        never_used: query.never_used,
        presented_in_query: query.presented_in_query,
        after_id: None,
        sort: query.sort,
        descending: query.descending,
        offset: query.offset,
        limit: if query.limit == 0 {
            100
        } else {
            query.limit.min(1000)
        },
    };
    let total = state.core.count_tokens(&actor, &filter).await?;
    let items = state.core.list_tokens(&actor, &filter).await?;
    Ok(TokenPage {
        items,
        total: i32::try_from(total).unwrap_or(i32::MAX),
    })
}

/// Change the status of many tokens; each is checked on its own, so one the actor may not
/// touch fails alone. The UI sends chunks to show progress.
#[tauri::command]
pub async fn bulk_set_token_status(
    state: State<'_, AppState>,
    ids: Vec<i32>,
    action: StatusAction,
) -> CmdResult<BulkResult> {
    let (actor, _) = state.actor().await?;
    let ids: Vec<TokenId> = ids.into_iter().map(|i| TokenId(i64::from(i))).collect();
    let (done, failed) = state
        .core
        .set_token_status_bulk(&actor, &ids, action)
        .await?;
    let short = |id: TokenId| i32::try_from(id.0).unwrap_or(i32::MAX);
    Ok(BulkResult {
        done: done.into_iter().map(short).collect(),
        failed: failed
            .into_iter()
            .map(|(id, e)| BulkFailure {
                id: short(id),
                message: IpcError::from(e).to_string(),
            })
            .collect(),
    })
}
