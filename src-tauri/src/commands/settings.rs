//! Settings (admin): policy, custom scopes, the API server's certificate.

use tauri::State;

use crate::dto::{PolicySettings, ScopeDetail};
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

#[tauri::command]
pub async fn get_policy_settings(state: State<'_, AppState>) -> CmdResult<PolicySettings> {
    state.user().await?;
    Ok(state.core.policy().await?.into())
}

#[tauri::command]
pub async fn update_policy(
    state: State<'_, AppState>,
    policy: PolicySettings,
) -> CmdResult<PolicySettings> {
    let (actor, _) = state.actor().await?;
    Ok(state.core.set_policy(&actor, policy.into()).await?.into())
}

#[tauri::command]
pub async fn list_scopes(state: State<'_, AppState>) -> CmdResult<Vec<ScopeDetail>> {
    state.user().await?;
    Ok(state
        .core
        .list_scopes()
        .await?
        .into_iter()
        .map(|s| ScopeDetail {
            name: s.name,
            description: s.description,
            builtin: s.builtin,
            roles: s.roles.into_iter().map(Into::into).collect(),
        })
        .collect())
}

#[tauri::command]
pub async fn add_scope(
    state: State<'_, AppState>,
    name: String,
    description: String,
) -> CmdResult<ScopeDetail> {
    let (actor, _) = state.actor().await?;
    let s = state
        .core
        .add_scope(&actor, &name.parse()?, &description)
        .await?;
    Ok(ScopeDetail {
        name: s.name,
        description: s.description,
        builtin: s.builtin,
        roles: s.roles.into_iter().map(Into::into).collect(),
    })
}

/// Write the API's CA certificate (PEM) where the admin chose, for Postman and curl.
#[tauri::command]
pub async fn export_ca_certificate(state: State<'_, AppState>, path: String) -> CmdResult<()> {
    state.user().await?;
    let pem = tessera_api::export_ca(state.core.data_dir())?;
    std::fs::write(&path, pem).map_err(|e| {
        IpcError::Invalid(format!(
            "path: cannot write {path} ({e}); choose another place"
        ))
    })
}
