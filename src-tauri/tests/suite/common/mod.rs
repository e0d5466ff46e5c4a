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
            for (email, role) in [("user@acme.test", "user"), ("vrm@acme.test", "vrm_admin")] {
                core.add_user(
                    &admin,
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
        });
        a.ok("sign_out", json!({}));
        a
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
