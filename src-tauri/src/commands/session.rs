//! First run, sign-in, sign-out and the app's status.

use tauri::State;
use tessera_core::error::Field;
use tessera_core::model::{Email, Role};
use tessera_core::password::Password;
use tessera_core::NewUser;

use crate::dto::{AppStatus, Me, SetupRequest, SignInRequest};
use crate::error::{CmdResult, IpcError};
use crate::state::{AppState, LOCK_AFTER_MINUTES};

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    let company = state.core.company().await?;
    let me = match state.user().await {
        Ok(u) => Some(state.me(&u).await?),
        Err(_) => None,
    };
    Ok(AppStatus {
        initialised: company.is_some(),
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
    let email: Email = req.email.parse()?;
    let password = Password::new(req.password)?;
    let u = state
        .core
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
    // Wrong passwords slow down per e-mail, counted in the database (the core's sign_in).
    let password = match Password::new(req.password) {
        Ok(p) => p,
        Err(_) => {
            // Too short to be anyone's password: as slow as a real check, and the same answer.
            tokio::time::sleep(state.core.sign_in_delay(&email).await?).await;
            return Err(IpcError::forbidden(
                tessera_core::service::WRONG_CREDENTIALS,
            ));
        }
    };
    let u = state.core.sign_in(&email, password).await?;
    state.start_session(u.id);
    state.me(&u).await
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> CmdResult<()> {
    state.end_session();
    let _ = state.clipboard.clear();
    Ok(())
}
