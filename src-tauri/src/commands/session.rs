//! First run, sign-in, sign-out and the app's status.

use std::time::Duration;

use tauri::State;
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
        IpcError::Invalid("email: enter the e-mail address you sign in with".into())
    })?;
    // Wrong passwords slow down: 0.5 s, 1 s, 2 s ... up to 8 s before answering again.
    let failures = state.failed_sign_ins.lock().map(|n| *n).unwrap_or(0);
    if failures > 0 {
        let wait = 250u64 << failures.min(5);
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    let password = Password::new(req.password)
        .map_err(|_| IpcError::Forbidden("sign-in: wrong e-mail or password".into()));
    let result = match password {
        Ok(p) => state.core.sign_in(&email, p).await.map_err(IpcError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(u) => {
            if let Ok(mut n) = state.failed_sign_ins.lock() {
                *n = 0;
            }
            state.start_session(u.id);
            state.me(&u).await
        }
        Err(e) => {
            if let Ok(mut n) = state.failed_sign_ins.lock() {
                *n = n.saturating_add(1);
            }
            Err(e)
        }
    }
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> CmdResult<()> {
    state.end_session();
    let _ = state.clipboard.clear();
    Ok(())
}
