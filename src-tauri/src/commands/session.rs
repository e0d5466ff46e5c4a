//! First run, sign-in, sign-out and the app's status.

use tauri::State;
use tessera_core::error::Field;
use tessera_core::model::{Email, Role};
use tessera_core::password::Password;
use tessera_core::NewUser;

use crate::dto::{AppStatus, Me, SetupRequest, SignInRequest, TeamStatus, Unconnected};
use crate::error::{CmdResult, IpcError};
use crate::state::{AppState, LOCK_AFTER_MINUTES};

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    let company = state.company().await?;
    let me = match state.user().await {
        Ok(u) => Some(state.me(&u).await?),
        Err(_) => None,
    };
    let team = match state.team() {
        Some(t) => Some(TeamStatus {
            url: t.base().to_owned(),
            fingerprint: t.fingerprint().to_owned(),
            reachable: t.reachable().await,
        }),
        None => None,
    };
    Ok(AppStatus {
        team,
        unconnected: state.unconnected().map(|(url, problem)| Unconnected {
            url: url.to_owned(),
            problem: problem.to_owned(),
        }),
        // A team server was set up on the server.
        initialised: company.is_some() || state.team().is_some() || state.unconnected().is_some(),
        company,
        me,
        api: state.api_status(),
        key_warning: state.key_warning.clone(),
        audit_problem: state.audit_problem().await,
        lock_after_minutes: LOCK_AFTER_MINUTES,
    })
}

#[tauri::command]
pub async fn setup_company(state: State<'_, AppState>, req: SetupRequest) -> CmdResult<Me> {
    let core = state.core()?;
    let email: Email = req.email.parse()?;
    let password = Password::new(req.password)?;
    let u = core
        .init(
            &req.company,
            NewUser {
                email,
                name: req.name,
                role: Role::Admin,
                password,
                source_group: String::new(),
            },
        )
        .await?;
    state.start_session(u.id);
    state.me(&u).await
}

#[tauri::command]
pub async fn sign_in(state: State<'_, AppState>, req: SignInRequest) -> CmdResult<Me> {
    let email: Email = req.email.parse().map_err(|_| {
        IpcError::invalid(Field::Email, "enter the e-mail address you sign in with")
    })?;
    if let Some(t) = state.team() {
        // The server counts wrong passwords and slows them down.
        let signed = t.sign_in(email.as_str(), &req.password).await?;
        if let Ok(mut c) = state.team_company.lock() {
            *c = Some(signed.company.clone());
        }
        state.start_team_session(signed.user.clone());
        return Ok(Me::new(&signed.user, signed.company));
    }
    let core = state.core()?;
    // Wrong passwords slow down per e-mail, counted in the database (the core's sign_in).
    let password = match Password::new(req.password) {
        Ok(p) => p,
        Err(_) => {
            // Too short to be anyone's password: as slow as a real check, and the same answer.
            tokio::time::sleep(core.sign_in_delay(&email).await?).await;
            return Err(IpcError::forbidden(
                tessera_core::service::WRONG_CREDENTIALS,
            ));
        }
    };
    let u = core.sign_in(&email, password).await?;
    state.start_session(u.id);
    state.me(&u).await
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> CmdResult<()> {
    if let Some(t) = state.team() {
        // Ended here whatever the server answers; a server away ends it by itself.
        if let Err(e) = t.sign_out().await {
            tracing::warn!(error = %e, "signing out on the team server failed");
        }
    }
    state.end_session();
    let _ = state.clipboard.clear();
    Ok(())
}
