//! The harness shared by the app's IPC tests: the app built on Tauri's mock runtime over a
//! real SQLite file in a temp dir, and helpers to call its commands as the window does.
#![allow(dead_code)]

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::Manager;
use tauri::WebviewWindow;
use tessera_app::dto::ApiStatus;
use tessera_app::state::AppState;

pub const PW: &str = "correct horse battery staple";

pub struct App {
    pub _dir: tempfile::TempDir,
    pub _app: tauri::App<MockRuntime>,
    pub window: WebviewWindow<MockRuntime>,
}

pub fn app() -> App {
    app_locking_after(None)
}

/// [`app`] whose session locks after `lock_after` idle instead of the product's 15 minutes.
pub fn app_locking_after(lock_after: Option<std::time::Duration>) -> App {
    std::env::set_var("TESSERA_KEYSTORE", "file");
    let dir = tempfile::tempdir().expect("tempdir");
    let (core, warning) =
        tauri::async_runtime::block_on(tessera_app::open_core(dir.path().join("data")))
            .expect("open");
    let api = ApiStatus {
        listen: "127.0.0.1:0".into(),
        running: false,
        error: Some("not started in tests".into()),
        fingerprint: None,
        base_url: "https://127.0.0.1:8443".into(),
    };
    let mut state = AppState::new(core, api, warning);
    if let Some(d) = lock_after {
        state = state.locking_after(d);
    }
    app_with(dir, state)
}

/// The app on the mock runtime over `state`, keeping `dir` for as long as it runs.
pub fn app_with(dir: tempfile::TempDir, state: AppState) -> App {
    let app = tessera_app::build_app(mock_builder(), state)
        .build(tessera_app::context())
        .expect("build app");
    let window = match app.get_webview_window("main") {
        Some(w) => w,
        None => tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("window"),
    };
    App {
        _dir: dir,
        _app: app,
        window,
    }
}

impl App {
    pub fn call(&self, cmd: &str, body: Value) -> Result<Value, Value> {
        let url = self.window.url().expect("window url");
        self.call_from(url, cmd, body)
    }

    pub fn call_from(&self, url: tauri::Url, cmd: &str, body: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url,
                body: InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: tauri::test::INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().expect("json"))
    }

    pub fn ok(&self, cmd: &str, body: Value) -> Value {
        self.call(cmd, body)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    pub fn err(&self, cmd: &str, body: Value) -> Value {
        match self.call(cmd, body) {
            Ok(v) => panic!("{cmd} should fail but returned {v}"),
            Err(e) => e,
        }
    }

    pub fn sign_in(&self, email: &str) {
        self.ok("sign_in", json!({"req": {"email": email, "password": PW}}));
    }

    /// The core behind the app, to set up fixtures and check effects directly.
    pub fn core(&self) -> tessera_core::Tessera {
        self.window
            .state::<AppState>()
            .core()
            .expect("this computer's store")
            .clone()
    }

    /// First run as admin, plus a user added through the core.
    pub fn with_admin_and_user() -> Self {
        let a = app();
        a.ok("setup_company", json!({"req": {"company": "Acme", "name": "Ada", "email": "admin@acme.test", "password": PW}}));
        let core = a.core();
        tauri::async_runtime::block_on(async {
            let admin = core
                .actor(Some(&"admin@acme.test".parse().expect("email")))
                .await
                .expect("admin");
            add_user_and_vrm(&core, &admin).await;
        });
        a.ok("sign_out", json!({}));
        a
    }
}

/// A `tessera serve` of its own (SQLite in a temp dir, or PostgreSQL when
/// `TESSERA_TEST_POSTGRES` names a server; HTTPS on 127.0.0.1) with the company
/// Acme, the admin admin@acme.test and the users of [`App::with_admin_and_user`].
pub struct TeamServerFixture {
    pub _dir: tempfile::TempDir,
    pub core: tessera_core::Tessera,
    pub server: Option<tessera_api::RunningServer>,
    pub url: String,
}

impl TeamServerFixture {
    pub fn start() -> Self {
        std::env::set_var("TESSERA_KEYSTORE", "file");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_owned();
        let (core, server) = tauri::async_runtime::block_on(async move {
            // PostgreSQL when `.ci/test`'s second pass names a server, as a team runs it.
            let mut opts =
                tessera_core::OpenOptions::new(path.clone(), "file".parse().expect("keystore"));
            if let Some(url) = tessera_core::store::test_database_url(None, "tessera_app", &path) {
                opts.database_url = Some(url);
                opts.key_file = Some(path.join("shared.key"));
            }
            let core = tessera_core::Tessera::open(opts).await.expect("open");
            let admin = core
                .init(
                    "Acme",
                    tessera_core::NewUser {
                        email: "admin@acme.test".parse().expect("email"),
                        name: "Ada".into(),
                        role: tessera_core::model::Role::Admin,
                        password: tessera_core::password::Password::new(PW.into()).expect("pw"),
                        source_group: String::new(),
                    },
                )
                .await
                .expect("init");
            let admin = tessera_core::Actor::User(admin);
            add_user_and_vrm(&core, &admin).await;
            let server = tessera_api::start(
                core.clone(),
                tessera_api::ServerConfig {
                    listen: "127.0.0.1:0".parse().expect("addr"),
                    data_dir: path,
                },
            )
            .await
            .expect("serve");
            (core, server)
        });
        let url = format!("https://127.0.0.1:{}", server.addr.port());
        Self {
            _dir: dir,
            core,
            server: Some(server),
            url,
        }
    }

    /// Stop the server: its address and the windows' pinned certificate stay, and nothing
    /// answers there any more.
    pub fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            tauri::async_runtime::block_on(s.shutdown());
        }
    }

    /// [`Self::window`] keeping its own files (the pinned certificate, the connection
    /// chosen) in `dir`, as the app does in its data folder.
    pub fn window_in(&self, dir: &std::path::Path) -> App {
        team_window(self.client(), Some(dir.to_owned()))
    }

    /// The app's window on this server, its certificate confirmed (pinned).
    pub fn window(&self) -> App {
        team_window(self.client(), None)
    }

    /// A client of this server trusting the certificate it presents.
    fn client(&self) -> tessera_app::team::TeamServer {
        let url = self.url.clone();
        tauri::async_runtime::block_on(async move {
            let presented = tessera_app::team::fetch_ca(&url).await.expect("fetch");
            tessera_app::team::TeamServer::new(&url, &presented.ca_der).expect("client")
        })
    }
}

/// The app's window on the team server `team` is a client of, as the app starts it; its own
/// files (the pinned certificate, the connection chosen) in `config_dir` when given.
pub fn team_window(
    team: tessera_app::team::TeamServer,
    config_dir: Option<std::path::PathBuf>,
) -> App {
    let state = match config_dir {
        Some(dir) => AppState::on_team(team, dir),
        None => {
            let api = ApiStatus::of_team(&team);
            AppState::with_backend(tessera_app::state::Backend::Team(team), api, None)
        }
    };
    app_with(tempfile::tempdir().expect("tempdir"), state)
}

impl Drop for TeamServerFixture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// user@acme.test (a user) and vrm@acme.test (a VRM admin), both with [`PW`], added by `admin`.
pub async fn add_user_and_vrm(core: &tessera_core::Tessera, admin: &tessera_core::Actor) {
    for (email, role) in [("user@acme.test", "user"), ("vrm@acme.test", "vrm_admin")] {
        core.add_user(
            admin,
            tessera_core::NewUser {
                email: email.parse().expect("email"),
                name: "Someone".into(),
                role: role.parse().expect("role"),
                password: tessera_core::password::Password::new(PW.into()).expect("pw"),
                source_group: String::new(),
            },
        )
        .await
        .expect("add user");
    }
}

pub fn personal(name: &str) -> Value {
    json!({"req": {"name": name, "description": "", "scopes": ["me:read"], "expiry": {"type": "days", "days": 30},
                   "idleDays": null, "networks": [], "rateLimit": null}})
}

pub fn company(name: &str) -> Value {
    json!({"req": {"name": name, "description": "billing sync", "scopes": ["tokens:read"], "expiry": {"type": "days", "days": 30},
                   "idleDays": null, "networks": [], "rateLimit": null}})
}

pub fn user_req(email: &str, role: &str) -> Value {
    json!({"req": {"email": email, "name": "New", "role": role, "password": PW, "sourceGroup": ""}})
}
