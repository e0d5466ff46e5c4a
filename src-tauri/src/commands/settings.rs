//! Settings (admin): policy, custom scopes, the API server's certificate.

use tauri::State;

use tessera_core::policy::Policy;

use crate::dto::ScopeDetail;
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

#[tauri::command]
pub async fn get_policy_settings(state: State<'_, AppState>) -> CmdResult<Policy> {
    // The same answer as the create dialog's `get_policy`: every signed-in person may read it.
    crate::commands::tokens::get_policy(state).await
}

#[tauri::command]
pub async fn update_policy(state: State<'_, AppState>, policy: Policy) -> CmdResult<Policy> {
    state.store().await?.set_policy(policy).await
}

#[tauri::command]
pub async fn list_scopes(state: State<'_, AppState>) -> CmdResult<Vec<ScopeDetail>> {
    Ok(state
        .store()
        .await?
        .list_scopes()
        .await?
        .into_iter()
        .map(|s| ScopeDetail {
            name: s.name,
            description: s.description,
            builtin: s.builtin,
            roles: s.roles,
        })
        .collect())
}

#[tauri::command]
pub async fn add_scope(
    state: State<'_, AppState>,
    name: String,
    description: String,
) -> CmdResult<ScopeDetail> {
    let s = state
        .store()
        .await?
        .add_scope(&name.parse()?, &description)
        .await?;
    Ok(ScopeDetail {
        name: s.name,
        description: s.description,
        builtin: s.builtin,
        roles: s.roles,
    })
}

/// Write the API's CA certificate (PEM) where the admin chose, for Postman and curl.
#[tauri::command]
pub async fn export_ca_certificate(state: State<'_, AppState>, path: String) -> CmdResult<()> {
    state.user().await?;
    let pem = match state.team() {
        // The certificate authority the person confirmed for the team server.
        Some(t) => t.ca_pem(),
        None => tessera_api::export_ca(state.core()?.data_dir())?,
    };
    std::fs::write(&path, pem).map_err(|e| {
        IpcError::invalid(
            None,
            format!("cannot write {path} ({e}); choose another place"),
        )
    })
}
