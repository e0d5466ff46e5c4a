//! Copying a newly revealed token (or a snippet holding it) and saving it for Postman.

use std::path::PathBuf;

use tauri::State;
use tessera_core::error::Field;
use tessera_core::token::TokenSecret;

use crate::dto::CopyReceipt;
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

/// Write a secret to the clipboard, marked for clipboard managers as not to be kept, and
/// clear it after the policy's countdown if it is still there.
#[tauri::command]
pub async fn copy_secret(state: State<'_, AppState>, text: String) -> CmdResult<CopyReceipt> {
    let seconds = state.store().await?.policy().await?.clipboard_seconds;
    state.clipboard.copy_secret(text, seconds)?;
    Ok(CopyReceipt {
        clears_in_seconds: seconds,
    })
}

#[tauri::command]
pub async fn clear_clipboard(state: State<'_, AppState>) -> CmdResult<()> {
    state.clipboard.clear()
}

/// Write a Postman environment holding the token as a secret variable (file mode 0600).
#[tauri::command]
pub async fn save_postman_environment(
    state: State<'_, AppState>,
    path: String,
    secret: String,
    name: String,
) -> CmdResult<()> {
    state.user().await?;
    let token = TokenSecret::parse(&secret)
        .map_err(|_| IpcError::invalid(Field::Token, "that is not a Tessera token"))?;
    let base = state.api_status().base_url;
    let env = tessera_api::postman::environment(&base, &token, &name);
    let text = serde_json::to_string_pretty(&env).map_err(|e| IpcError::internal(e.to_string()))?;
    let path = PathBuf::from(path);
    tessera_core::secret_file::write(&path, text.as_bytes()).map_err(|e| {
        IpcError::invalid(
            None,
            format!(
                "cannot write {} ({e}); choose another place",
                path.display()
            ),
        )
    })
}
