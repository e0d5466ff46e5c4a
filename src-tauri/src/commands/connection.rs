//! Settings > Connection (and the first start): which store this window works on, this
//! computer's or a team server's. Choosing a team server shows its certificate's fingerprint
//! to compare with what `tessera serve` printed; once confirmed it is pinned, and the choice
//! takes effect when Tessera starts again (`restart_app`, one click in the window).

use tauri::{AppHandle, Runtime, State};

use crate::dto::{Connection, ServerCertificate};
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;
use crate::team;

fn connection(state: &AppState) -> CmdResult<Connection> {
    let dir = state.config_dir()?;
    let (next_team_url, set_by_environment) = team::next(&dir);
    let now = state.team();
    let restart_needed = match (now, next_team_url.as_deref()) {
        (Some(t), Some(next)) => {
            t.base() != next
                || team::pinned_fingerprint(&dir, next).is_some_and(|fp| fp != t.fingerprint())
        }
        // An unconnected window is not on the store chosen either.
        (None, None) => state.unconnected().is_some(),
        _ => true,
    };
    Ok(Connection {
        team_url: now.map(|t| t.base().to_owned()),
        next_team_url,
        set_by_environment,
        restart_needed,
    })
}

/// The store this window works on, and the one it will use from the next start.
#[tauri::command]
pub async fn get_connection(state: State<'_, AppState>) -> CmdResult<Connection> {
    connection(&state)
}

/// Changing the store of an installation that has one needs its admin signed in; a first
/// start (nothing set up here yet) or a team server's window does not.
async fn may_change(state: &AppState) -> CmdResult<()> {
    let Ok(core) = state.core() else {
        return Ok(());
    };
    if core.company().await?.is_none() {
        return Ok(());
    }
    let u = state.user().await?;
    if u.role != tessera_core::model::Role::Admin {
        return Err(IpcError::forbidden(
            "only an admin of this computer's store may connect this window to a team server",
        ));
    }
    Ok(())
}

/// Read the certificate a team server presents, for the person to compare. Sends nothing
/// but `GET /healthz`.
#[tauri::command]
pub async fn fetch_server_certificate(
    state: State<'_, AppState>,
    url: String,
) -> CmdResult<ServerCertificate> {
    may_change(&state).await?;
    let url = team::base_url(&url)?;
    let presented = team::fetch_ca(&url).await?;
    Ok(ServerCertificate {
        url,
        fingerprint: presented.fingerprint,
    })
}

/// Work on the team server at `url` from the next start, trusting the certificate whose
/// fingerprint the person confirmed (it is read again and must still be that one).
#[tauri::command]
pub async fn use_team_server(
    state: State<'_, AppState>,
    url: String,
    fingerprint: String,
) -> CmdResult<Connection> {
    may_change(&state).await?;
    let dir = state.config_dir()?;
    team::choose(&dir, &url, &fingerprint).await?;
    // A window that could not connect to this very server as it started connects now.
    if let Some((chosen, _)) = state.unconnected() {
        if team::base_url(chosen).ok() == team::base_url(&url).ok() {
            let pinned = team::from_env(&dir, Some(chosen), None)
                .await
                .map_err(IpcError::internal)?
                .ok_or_else(|| IpcError::internal("the server's address was lost"))?;
            state.connect(pinned)?;
        }
    }
    connection(&state)
}

/// Work on this computer's store from the next start.
#[tauri::command]
pub async fn use_this_computer(state: State<'_, AppState>) -> CmdResult<Connection> {
    let dir = state.config_dir()?;
    team::choose_this_computer(&dir)?;
    connection(&state)
}

/// Start Tessera again, so that the store or certificate chosen takes effect. Refused when
/// nothing changed. A window on a team server keeps nothing to lose; on this computer the
/// app closes its store as on any exit.
#[tauri::command]
pub async fn restart_app<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<()> {
    may_change(&state).await?;
    if !connection(&state)?.restart_needed {
        return Err(IpcError::invalid(
            None,
            "nothing to switch to: this window already works on the store chosen; choose a team server or this computer first",
        ));
    }
    app.request_restart();
    Ok(())
}
