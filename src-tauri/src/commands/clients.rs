//! OAuth clients (Company tokens > OAuth clients): register, list, rotate and retire
//! secrets, disable, enable, delete; the secret revealed once, with its Postman files.

use std::path::PathBuf;

use tauri::State;
use tessera_core::error::Field;
use tessera_core::model::Scope;
use tessera_core::service::{ClientAction, ClientInfo, NewClient};

use crate::dto::{CreateClientRequest, RevealedClient};
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;
use crate::store::MadeClient;

fn revealed(state: &AppState, c: MadeClient) -> RevealedClient {
    RevealedClient {
        client: c.client,
        secret: c.secret,
        base_url: state.api_status().base_url,
    }
}

#[tauri::command]
pub async fn list_clients(state: State<'_, AppState>) -> CmdResult<Vec<ClientInfo>> {
    state.store().await?.list_clients().await
}

#[tauri::command]
pub async fn create_client(
    state: State<'_, AppState>,
    req: CreateClientRequest,
) -> CmdResult<RevealedClient> {
    let store = state.store().await?;
    let scopes = req
        .scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<Vec<_>, _>>()?;
    let ttl = time::Duration::seconds(i64::from(req.token_ttl_seconds));
    let made = store
        .create_client(NewClient {
            name: req.name,
            description: req.description,
            scopes,
            networks: super::tokens::networks(&req.networks)?,
            rate_limit: req.rate_limit,
            token_ttl: Some(ttl),
        })
        .await?;
    Ok(revealed(&state, made))
}

#[tauri::command]
pub async fn rotate_client_secret(
    state: State<'_, AppState>,
    id: i64,
) -> CmdResult<RevealedClient> {
    let made = state.store().await?.rotate_client_secret(id).await?;
    Ok(revealed(&state, made))
}

#[tauri::command]
pub async fn retire_client_secret(
    state: State<'_, AppState>,
    id: i64,
    secret_id: i64,
) -> CmdResult<ClientInfo> {
    state
        .store()
        .await?
        .retire_client_secret(id, secret_id)
        .await
}

#[tauri::command]
pub async fn set_client_status(
    state: State<'_, AppState>,
    id: i64,
    action: ClientAction,
) -> CmdResult<ClientInfo> {
    state.store().await?.set_client_status(id, action).await
}

#[tauri::command]
pub async fn delete_client(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    state.store().await?.delete_client(id).await
}

fn write_file(path: &str, text: &[u8], secret: bool) -> CmdResult<()> {
    let path = PathBuf::from(path);
    let written = if secret {
        tessera_core::secret_file::write(&path, text)
    } else {
        std::fs::write(&path, text)
    };
    written.map_err(|e| {
        IpcError::invalid(
            None,
            format!(
                "cannot write {} ({e}); choose another place",
                path.display()
            ),
        )
    })
}

/// A Postman environment for a client: baseUrl, clientId, and the secret as a secret
/// variable (file mode 0600).
#[tauri::command]
pub async fn save_client_postman_environment(
    state: State<'_, AppState>,
    path: String,
    client_id: String,
    secret: String,
    name: String,
) -> CmdResult<()> {
    state.user().await?;
    tessera_core::token::ClientSecret::parse(&secret)
        .map_err(|_| IpcError::invalid(Field::Secret, "that is not a Tessera client secret"))?;
    let base = state.api_status().base_url;
    let env = tessera_api::postman::client_environment(&base, &client_id, &secret, &name);
    let text = serde_json::to_string_pretty(&env).map_err(|e| IpcError::internal(e.to_string()))?;
    write_file(&path, text.as_bytes(), true)
}

/// The client's Postman collection: its pre-request script fetches and caches the token.
#[tauri::command]
pub async fn save_client_postman_collection(
    state: State<'_, AppState>,
    path: String,
    name: String,
) -> CmdResult<()> {
    state.user().await?;
    let c = tessera_api::postman::client_collection(&name);
    let text = serde_json::to_string_pretty(&c).map_err(|e| IpcError::internal(e.to_string()))?;
    write_file(&path, text.as_bytes(), false)
}
