//! The signed-in person's profile and password.

use tauri::State;
use tessera_core::error::Field;
use tessera_core::password::Password;

use crate::dto::{Me, PasswordChange, ProfileUpdate};
use crate::error::CmdResult;
use crate::state::AppState;

#[tauri::command]
pub async fn get_profile(state: State<'_, AppState>) -> CmdResult<Me> {
    let u = state.user().await?;
    state.me(&u).await
}

#[tauri::command]
pub async fn update_profile(state: State<'_, AppState>, req: ProfileUpdate) -> CmdResult<Me> {
    let (actor, _) = state.actor().await?;
    let u = state
        .core
        .update_profile(&actor, &req.name, &req.source_group)
        .await?;
    state.me(&u).await
}

#[tauri::command]
pub async fn change_password(state: State<'_, AppState>, req: PasswordChange) -> CmdResult<()> {
    let (actor, _) = state.actor().await?;
    // Too short to be anyone's password: wrong, as the core would say after checking it.
    let current = Password::new(req.current).map_err(|_| {
        crate::error::IpcError::invalid(Field::CurrentPassword, "the current password is wrong")
    })?;
    let next = Password::new(req.next)?;
    Ok(state.core.change_password(&actor, current, next).await?)
}
