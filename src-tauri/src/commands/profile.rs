//! The signed-in person's profile and password.

use tauri::State;

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
    let u = state
        .store()
        .await?
        .update_profile(&req.name, &req.source_group)
        .await?;
    state.refresh_team_user(u.clone());
    state.me(&u).await
}

#[tauri::command]
pub async fn change_password(state: State<'_, AppState>, req: PasswordChange) -> CmdResult<()> {
    state
        .store()
        .await?
        .change_password(req.current, req.next)
        .await
}
