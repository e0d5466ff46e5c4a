//! What the app holds while it runs: its store (the core on this computer, or a team server),
//! the signed-in session, the clipboard and the in-app API's status. Commands reach it
//! through `tauri::State<AppState>`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tessera_core::model::UserId;
use tessera_core::store::users::User;
use tessera_core::{Actor, Tessera};

use crate::clipboard::SecretClipboard;
use crate::dto::{ApiStatus, Me};
use crate::error::{CmdResult, IpcError};
use crate::store::{Store, Via};
use crate::team::TeamServer;

/// Where this window's tokens live.
pub enum Backend {
    /// This computer: the embedded store, opened here.
    Local(Tessera),
    /// A team's `tessera serve`, over HTTPS with its pinned certificate.
    Team(TeamServer),
    /// The team server chosen (`TESSERA_SERVER_URL`, or in the window) could not be trusted
    /// or reached as Tessera started: first contact with no fingerprint confirmed yet, another
    /// certificate than the one given, an unreachable address. The window says why and asks
    /// the person to confirm the server's certificate; nothing else works until it is.
    Unconnected { url: String, problem: String },
}

/// Minutes without any command before the session locks (the same as a team server's).
pub const LOCK_AFTER_MINUTES: u32 = tessera_core::service::SESSION_IDLE_MINUTES;

struct Session {
    user: UserId,
    last_seen: Instant,
    /// On a team server: the person as the server last said (it checks every request).
    team_user: Option<User>,
}

pub struct AppState {
    backend: Backend,
    /// The team server an unconnected window got connected to once its certificate was
    /// confirmed (in place of `backend` from then on).
    connected: std::sync::OnceLock<Backend>,
    session: Mutex<Option<Session>>,
    pub clipboard: SecretClipboard,
    pub api: Mutex<ApiStatus>,
    pub key_warning: Option<String>,
    audit_problem: std::sync::OnceLock<Option<String>>,
    lock_after: Duration,
    /// On a team server: the company's name, as the sign-in answered.
    pub team_company: Mutex<Option<String>>,
    /// Where the app keeps its own files (the connection choice, a pinned certificate).
    config_dir: Option<std::path::PathBuf>,
}

impl AppState {
    pub fn new(core: Tessera, api: ApiStatus, key_warning: Option<String>) -> Self {
        Self::with_backend(Backend::Local(core), api, key_warning)
    }

    pub fn with_backend(backend: Backend, api: ApiStatus, key_warning: Option<String>) -> Self {
        Self {
            backend,
            connected: std::sync::OnceLock::new(),
            session: Mutex::new(None),
            clipboard: SecretClipboard::default(),
            api: Mutex::new(api),
            key_warning,
            audit_problem: std::sync::OnceLock::new(),
            lock_after: Duration::from_secs(u64::from(LOCK_AFTER_MINUTES) * 60),
            team_company: Mutex::new(None),
            config_dir: None,
        }
    }

    /// A window on the team server `team` is a client of, keeping its own files in `dir`.
    pub fn on_team(team: TeamServer, dir: std::path::PathBuf) -> Self {
        let api = ApiStatus::of_team(&team);
        Self::with_backend(Backend::Team(team), api, None).with_config_dir(dir)
    }

    /// A window to work on the team server at `url`, which it could not connect to as it
    /// started because of `problem`; it keeps its own files in `dir`.
    pub fn unconnected_to(url: String, problem: String, dir: std::path::PathBuf) -> Self {
        let api = ApiStatus {
            listen: String::new(),
            running: false,
            error: Some(problem.clone()),
            fingerprint: None,
            base_url: url.clone(),
        };
        Self::with_backend(Backend::Unconnected { url, problem }, api, None).with_config_dir(dir)
    }

    /// Keep the app's own files in `dir` (a team server's window has no store to keep them by).
    pub fn with_config_dir(mut self, dir: std::path::PathBuf) -> Self {
        self.config_dir = Some(dir);
        self
    }

    /// The store this window works on.
    pub fn backend(&self) -> &Backend {
        self.connected.get().unwrap_or(&self.backend)
    }

    /// The team server an unconnected window chose, and why it is not connected.
    pub fn unconnected(&self) -> Option<(&str, &str)> {
        match self.backend() {
            Backend::Unconnected { url, problem } => Some((url, problem)),
            _ => None,
        }
    }

    /// Connect an unconnected window to `team` (its certificate now confirmed). Refused once
    /// the window works on a store.
    pub fn connect(&self, team: TeamServer) -> CmdResult<()> {
        if self.unconnected().is_none() {
            return Err(IpcError::invalid(
                None,
                "this window already works on a store; restart Tessera to switch",
            ));
        }
        let api = ApiStatus::of_team(&team);
        if self.connected.set(Backend::Team(team)).is_err() {
            return Err(IpcError::invalid(None, "this window is already connected"));
        }
        if let Ok(mut a) = self.api.lock() {
            *a = api;
        }
        Ok(())
    }

    /// Where the app keeps its own files: the data folder.
    pub fn config_dir(&self) -> CmdResult<std::path::PathBuf> {
        match (&self.config_dir, self.backend()) {
            (Some(d), _) => Ok(d.clone()),
            (None, Backend::Local(core)) => Ok(core.data_dir().to_owned()),
            (None, _) => Err(IpcError::internal("the app's data folder is not known")),
        }
    }

    /// Lock idle sessions after `d` instead of [`LOCK_AFTER_MINUTES`] (tests).
    pub fn locking_after(mut self, d: Duration) -> Self {
        self.lock_after = d;
        self
    }

    /// The core on this computer; a team server's window has none.
    pub fn core(&self) -> CmdResult<&Tessera> {
        match self.backend() {
            Backend::Local(core) => Ok(core),
            Backend::Team(t) => Err(IpcError::invalid(
                None,
                format!(
                    "this window works on the team server at {}; this is done on the server",
                    t.base()
                ),
            )),
            Backend::Unconnected { url, .. } => Err(not_connected(url)),
        }
    }

    /// The team server, when the window works on one.
    pub fn team(&self) -> Option<&TeamServer> {
        match self.backend() {
            Backend::Team(t) => Some(t),
            _ => None,
        }
    }

    /// What is wrong with the audit log, checked once per start (the first status call).
    /// A team server checks its own.
    pub async fn audit_problem(&self) -> Option<String> {
        if let Some(p) = self.audit_problem.get() {
            return p.clone();
        }
        let Backend::Local(core) = self.backend() else {
            return None;
        };
        let found = match core.verify_audit().await {
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
        self.start(user, None);
    }

    /// A session signed in on the team server, as the person it answered with.
    pub fn start_team_session(&self, user: User) {
        self.start(user.id, Some(user));
    }

    fn start(&self, user: UserId, team_user: Option<User>) {
        if let Ok(mut s) = self.session.lock() {
            *s = Some(Session {
                user,
                last_seen: Instant::now(),
                team_user,
            });
        }
    }

    /// Keep what the team server says of the person now (after a profile or role change).
    pub fn refresh_team_user(&self, user: User) {
        if let Ok(mut s) = self.session.lock() {
            if let Some(s) = s.as_mut().filter(|s| s.user == user.id) {
                s.team_user = Some(user);
            }
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
        let (id, team_user) = {
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
            (s.user, s.team_user.clone())
        };
        let core = match self.backend() {
            Backend::Local(core) => core,
            Backend::Unconnected { url, .. } => return Err(not_connected(url)),
            Backend::Team(t) => {
                // The server checks the person on every request; a signed-out credential
                // means signing in again.
                return match team_user.filter(|_| t.signed_in()) {
                    Some(u) => Ok(u),
                    None => {
                        self.end_session();
                        Err(IpcError::unauthenticated(
                            "the team server ended the session; sign in again",
                        ))
                    }
                };
            }
        };
        match core.user(id).await {
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
        match self.core().ok()?.user(id).await {
            Ok(u) if u.active => Some((Actor::User(u), locked)),
            _ => None,
        }
    }

    /// The signed-in person's store, without touching the idle clock (for background work),
    /// and whether the session is past its idle limit.
    pub async fn background_store(&self) -> Option<(Store<'_>, bool)> {
        let (id, team_user, locked) = {
            let guard = self.session.lock().ok()?;
            let s = guard.as_ref()?;
            (
                s.user,
                s.team_user.clone(),
                s.last_seen.elapsed() > self.lock_after,
            )
        };
        match self.backend() {
            Backend::Team(t) if t.signed_in() => Some((
                Store {
                    user: team_user?,
                    via: Via::Team(t),
                },
                locked,
            )),
            Backend::Team(_) | Backend::Unconnected { .. } => None,
            Backend::Local(core) => match core.user(id).await {
                Ok(u) if u.active => Some((
                    Store {
                        via: Via::Local(core, Actor::User(u.clone())),
                        user: u,
                    },
                    locked,
                )),
                _ => None,
            },
        }
    }

    /// The signed-in person and the store their commands act on.
    pub async fn store(&self) -> CmdResult<Store<'_>> {
        let user = self.user().await?;
        let via = match self.backend() {
            Backend::Local(core) => Via::Local(core, Actor::User(user.clone())),
            Backend::Team(t) => Via::Team(t),
            Backend::Unconnected { url, .. } => return Err(not_connected(url)),
        };
        Ok(Store { user, via })
    }

    /// The company's name.
    pub async fn company(&self) -> CmdResult<Option<String>> {
        match self.backend() {
            Backend::Local(core) => Ok(core.company().await?),
            Backend::Team(_) => Ok(self.team_company.lock().ok().and_then(|c| c.clone())),
            Backend::Unconnected { .. } => Ok(None),
        }
    }

    pub async fn me(&self, u: &User) -> CmdResult<Me> {
        Ok(Me::new(u, self.company().await?.unwrap_or_default()))
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

fn not_connected(url: &str) -> IpcError {
    IpcError::unauthenticated(format!(
        "this window is not connected to the team server at {url} yet: confirm its certificate under Connection first"
    ))
}
