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
use crate::error::CmdResult;
use crate::state::AppState;
use crate::store::{Store, Via};

fn email(s: &str) -> CmdResult<Email> {
    Ok(s.parse::<Email>()?)
}

async fn user_view(store: &Store<'_>, u: tessera_core::store::users::User) -> CmdResult<UserView> {
    let live = store.live_tokens_of(&u).await?;
    Ok(UserView::new(u, live))
}

#[tauri::command]
pub async fn list_users(state: State<'_, AppState>) -> CmdResult<Vec<UserView>> {
    let store = state.store().await?;
    Ok(store
        .list_users()
        .await?
        .into_iter()
        .map(|(u, live)| UserView::new(u, live))
        .collect())
}

#[tauri::command]
pub async fn create_user(state: State<'_, AppState>, req: NewUserRequest) -> CmdResult<UserView> {
    let store = state.store().await?;
    let new = NewUser {
        email: email(&req.email)?,
        name: req.name,
        role: req.role,
        password: Password::new(req.password.clone())?,
        source_group: req.source_group,
    };
    let u = store.add_user(new, &req.password).await?;
    user_view(&store, u).await
}

/// What the user's tokens would lose under another role, before changing it.
#[tauri::command]
pub async fn preview_role_change(
    state: State<'_, AppState>,
    email: String,
    role: tessera_core::model::Role,
) -> CmdResult<Vec<String>> {
    let store = state.store().await?;
    store.role_change_preview(&self::email(&email)?, role).await
}

#[tauri::command]
pub async fn set_user_role(
    state: State<'_, AppState>,
    email: String,
    role: tessera_core::model::Role,
) -> CmdResult<RoleChange> {
    let store = state.store().await?;
    let (u, lost) = store.set_role(&self::email(&email)?, role).await?;
    Ok(RoleChange {
        user: user_view(&store, u).await?,
        scopes_lost: lost,
    })
}

/// How many tokens deactivating the user will revoke.
#[tauri::command]
pub async fn preview_deactivate_user(state: State<'_, AppState>, email: String) -> CmdResult<i32> {
    let store = state.store().await?;
    let n = store.deprovision_count(&self::email(&email)?).await?;
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

#[tauri::command]
pub async fn deactivate_user(state: State<'_, AppState>, email: String) -> CmdResult<Deactivation> {
    let store = state.store().await?;
    let (u, n) = store.deactivate_user(&self::email(&email)?).await?;
    Ok(Deactivation {
        user: user_view(&store, u).await?,
        revoked: i32::try_from(n).unwrap_or(i32::MAX),
    })
}

#[tauri::command]
pub async fn reactivate_user(state: State<'_, AppState>, email: String) -> CmdResult<UserView> {
    let store = state.store().await?;
    let u = store.reactivate_user(&self::email(&email)?).await?;
    user_view(&store, u).await
}

/// Every token the signed-in person may see (all for admins; company and own for VRM
/// admins; own for users), filtered, sorted and paged on the server.
#[tauri::command]
pub async fn list_all_tokens(
    state: State<'_, AppState>,
    query: TokenQuery,
) -> CmdResult<TokenPage> {
    let store = state.store().await?;
    // The owner by e-mail: the core needs their id, the server takes the address.
    let owner_email = query
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(email)
        .transpose()?;
    let owner = match (&store.via, &owner_email) {
        (Via::Local(core, _), Some(e)) => match core.find_user(e).await {
            Ok(u) => Some(u.id),
            Err(tessera_core::Error::NotFound(_)) => {
                return Ok(TokenPage {
                    items: vec![],
                    total: 0,
                })
            }
            Err(e) => return Err(e.into()),
        },
        _ => None,
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
    let (items, total) = store
        .token_page(&filter, owner_email.as_ref().map(Email::as_str))
        .await?;
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
    let store = state.store().await?;
    let ids: Vec<TokenId> = ids.into_iter().map(|i| TokenId(i64::from(i))).collect();
    let (done, failed) = store.bulk_status(&ids, action).await?;
    let short = |id: TokenId| i32::try_from(id.0).unwrap_or(i32::MAX);
    Ok(BulkResult {
        done: done.into_iter().map(short).collect(),
        failed: failed
            .into_iter()
            .map(|(id, message)| BulkFailure {
                id: short(id),
                message,
            })
            .collect(),
    })
}
