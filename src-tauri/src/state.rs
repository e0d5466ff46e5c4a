//! What the app holds while it runs: the core, the signed-in session, the clipboard and the
//! in-app API's status. Commands reach it through `tauri::State<AppState>`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tessera_core::model::UserId;
use tessera_core::store::users::User;
use tessera_core::{Actor, Tessera};

use crate::clipboard::SecretClipboard;
use crate::dto::{ApiStatus, Me};
use crate::error::{CmdResult, IpcError};

/// Minutes without any command before the session locks (the same as a team server's).
pub const LOCK_AFTER_MINUTES: u32 = tessera_core::service::SESSION_IDLE_MINUTES;

struct Session {
    user: UserId,
    last_seen: Instant,
}

pub struct AppState {
    pub core: Tessera,
    session: Mutex<Option<Session>>,
    pub clipboard: SecretClipboard,
    pub api: Mutex<ApiStatus>,
    pub key_warning: Option<String>,
    audit_problem: std::sync::OnceLock<Option<String>>,
    lock_after: Duration,
}

impl AppState {
    pub fn new(core: Tessera, api: ApiStatus, key_warning: Option<String>) -> Self {
        Self {
            core,
            session: Mutex::new(None),
            clipboard: SecretClipboard::default(),
            api: Mutex::new(api),
            key_warning,
            audit_problem: std::sync::OnceLock::new(),
            lock_after: Duration::from_secs(u64::from(LOCK_AFTER_MINUTES) * 60),
        }
    }

    /// Lock idle sessions after `d` instead of [`LOCK_AFTER_MINUTES`] (tests).
    pub fn locking_after(mut self, d: Duration) -> Self {
        self.lock_after = d;
        self
    }

    /// What is wrong with the audit log, checked once per start (the first status call).
    pub async fn audit_problem(&self) -> Option<String> {
        if let Some(p) = self.audit_problem.get() {
            return p.clone();
        }
        let found = match self.core.verify_audit().await {
            Ok(check) => check.problem.map(|p| {
                format!(
                    "The audit log has been tampered with: {}. Run `tessera audit verify` for details and restore the database from a backup.",
                    p.message
                )
            }),
            Err(e) => Some(format!("The audit log could not be checked: {e}")),
        };
        self.audit_problem.get_or_init(|| found).clone()
    }

    pub fn start_session(&self, user: UserId) {
        if let Ok(mut s) = self.session.lock() {
            *s = Some(Session {
                user,
                last_seen: Instant::now(),
            });
        }
    }

    pub fn end_session(&self) {
        if let Ok(mut s) = self.session.lock() {
            *s = None;
        }
    }

    /// The signed-in user, re-read from the store so role changes and deactivation apply
    /// at once. Locks the session after the idle limit.
    pub async fn user(&self) -> CmdResult<User> {
        let id = {
            let mut guard = self
                .session
                .lock()
                .map_err(|_| IpcError::internal("session state is damaged; restart Tessera"))?;
            let Some(s) = guard.as_mut() else {
                return Err(IpcError::unauthenticated("sign in first"));
            };
            if s.last_seen.elapsed() > self.lock_after {
                *guard = None;
                return Err(IpcError::unauthenticated(format!(
                    "the session locked after {LOCK_AFTER_MINUTES} minutes idle; sign in again"
                )));
            }
            s.last_seen = Instant::now();
            s.user
        };
        match self.core.user(id).await {
            Ok(u) if u.active => Ok(u),
            _ => {
                self.end_session();
                Err(IpcError::unauthenticated(
                    "your account was deactivated; ask an admin",
                ))
            }
        }
    }

    /// The signed-in person as an actor, without touching the idle clock (for background
    /// work such as notifications), and whether the session has gone past its idle limit
    /// (locked: nothing about tokens may be shown until the person signs in again).
    pub async fn signed_in_actor(&self) -> Option<(Actor, bool)> {
        let (id, locked) = self
            .session
            .lock()
            .ok()?
            .as_ref()
            .map(|s| (s.user, s.last_seen.elapsed() > self.lock_after))?;
        match self.core.user(id).await {
            Ok(u) if u.active => Some((Actor::User(u), locked)),
            _ => None,
        }
    }

    pub async fn actor(&self) -> CmdResult<(Actor, User)> {
        let u = self.user().await?;
        Ok((Actor::User(u.clone()), u))
    }

    pub async fn me(&self, u: &User) -> CmdResult<Me> {
        Ok(Me::new(u, self.core.company().await?.unwrap_or_default()))
    }

    pub fn api_status(&self) -> ApiStatus {
        self.api
            .lock()
            .map(|a| a.clone())
            .unwrap_or_else(|_| ApiStatus {
                listen: String::new(),
                running: false,
                error: Some("unknown".into()),
                fingerprint: None,
                base_url: String::new(),
            })
    }
}
