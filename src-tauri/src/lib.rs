//! The Tessera desktop app: a Tauri shell over tessera-core. It opens the same data dir as
//! the CLI, runs the HTTPS API in-process, and exposes thin commands to the window.

mod clipboard;
#[macro_use]
mod command_list {
    include!("commands/list.rs");
}
pub mod commands;
pub mod dto;
pub mod error;
pub mod notices;
pub mod state;
pub mod store;
pub mod team;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;

use tauri::{Builder, Manager, Runtime};
use tessera_core::keys::{KeyLocation, KeyStoreChoice};
use tessera_core::{OpenOptions, Tessera};

use crate::dto::ApiStatus;
use crate::state::AppState;

/// The running in-app API, kept so it can be stopped (and its usage flushed) on exit.
#[derive(Default)]
pub struct ApiHandle(pub Mutex<Option<tessera_api::RunningServer>>);

/// `generate_handler!` over every command of `commands/list.rs`.
macro_rules! register {
    ($($area:ident :: $command:ident),* $(,)?) => {
        tauri::generate_handler![$(commands::$area::$command),*]
    };
}

/// Register state and every command. Generic over the runtime so tests use the mock one.
pub fn build_app<R: Runtime>(builder: Builder<R>, state: AppState) -> Builder<R> {
    builder
        .manage(state)
        .manage(ApiHandle::default())
        .invoke_handler(for_each_command!(register))
}

/// The app's context: config, embedded UI, and the capabilities that grant window `main`
/// our commands. Generic so the mock runtime's tests run under the same ACL.
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

/// The data dir shared with the CLI.
pub fn data_dir() -> Result<PathBuf, String> {
    match std::env::var_os("TESSERA_DATA_DIR").filter(|v| !v.is_empty()) {
        Some(d) => Ok(PathBuf::from(d)),
        None => dirs::data_dir()
            .map(|d| d.join("tessera"))
            .ok_or_else(|| "no platform data dir is known here; set TESSERA_DATA_DIR".to_owned()),
    }
}

/// Open the core for the app, returning the key warning to show when no keyring is in use.
pub async fn open_core(dir: PathBuf) -> Result<(Tessera, Option<String>), String> {
    let keystore: KeyStoreChoice = std::env::var("TESSERA_KEYSTORE")
        .unwrap_or_default()
        .parse()
        .map_err(|e: tessera_core::Error| e.to_string())?;
    let core = Tessera::open(OpenOptions::new(dir, keystore))
        .await
        .map_err(|e| e.to_string())?;
    let warning = match core.key_location() {
        KeyLocation::File(p) => Some(format!(
            "No OS keyring is in use: the token-hashing key is kept in {} (mode 0600). Protect and back it up with the database.",
            p.display()
        )),
        KeyLocation::Keyring => None,
    };
    Ok((core, warning))
}

/// The app's state: on the team server `TESSERA_SERVER_URL` names (its certificate
/// confirmed, [`team::from_env`]), or on this computer's store.
async fn open_state(dir: PathBuf) -> Result<AppState, String> {
    // The environment wins; else the choice made in the window (Settings > Connection).
    let (url, _) = team::next(&dir);
    let confirmed = std::env::var("TESSERA_SERVER_FINGERPRINT").ok();
    match team::from_env(&dir, url.as_deref(), confirmed.as_deref()).await {
        Ok(Some(t)) => return Ok(AppState::on_team(t, dir)),
        Ok(None) => {}
        // The window opens anyway, says why, and asks to confirm the server's certificate
        // (it never falls back to this computer's store or starts the embedded API).
        Err(problem) => {
            eprintln!("warning: {problem}");
            return Ok(AppState::unconnected_to(
                url.unwrap_or_default(),
                problem,
                dir,
            ));
        }
    }
    let (core, key_warning) = open_core(dir).await?;
    let listen = listen_addr();
    let api = ApiStatus {
        listen: listen.clone(),
        running: false,
        error: Some("starting".into()),
        fingerprint: None,
        base_url: format!("https://{listen}"),
    };
    Ok(AppState::new(core, api, key_warning))
}

fn listen_addr() -> String {
    std::env::var("TESSERA_API_LISTEN").unwrap_or_else(|_| "127.0.0.1:8443".to_owned())
}

/// Start the API before the window asks for its status (binding and certificates take
/// milliseconds); its status lands in the app state either way.
fn start_api<R: Runtime>(app: &tauri::AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::block_on(async move {
        let state = app.state::<AppState>();
        // A team server's window starts no API of its own.
        let Ok(core) = state.core() else {
            return;
        };
        let listen = listen_addr();
        let result = match listen.parse::<SocketAddr>() {
            Ok(addr) => {
                let dir = core.data_dir().to_owned();
                tessera_api::start(
                    core.clone(),
                    tessera_api::ServerConfig {
                        listen: addr,
                        data_dir: dir,
                    },
                )
                .await
                .map_err(|e| e.to_string())
            }
            Err(_) => Err(format!(
                "TESSERA_API_LISTEN '{listen}' is not an address and port, like 127.0.0.1:8443"
            )),
        };
        let status = match result {
            Ok(server) => {
                let s = ApiStatus {
                    listen: server.addr.to_string(),
                    running: true,
                    error: None,
                    fingerprint: Some(server.fingerprint.clone()),
                    base_url: format!("https://{}", server.addr),
                };
                if let Ok(mut h) = app.state::<ApiHandle>().0.lock() {
                    *h = Some(server);
                }
                s
            }
            Err(e) => {
                tracing::error!(error = %e, "the API did not start");
                ApiStatus {
                    listen: listen.clone(),
                    running: false,
                    error: Some(format!("The HTTPS API is not running: {e}")),
                    fingerprint: None,
                    base_url: format!("https://{listen}"),
                }
            }
        };
        let saved = state.api.lock().map(|mut a| *a = status).is_ok();
        if !saved {
            tracing::error!("cannot record the API status");
        }
    });
}

pub fn run() {
    // WebKitGTK's accelerated compositing costs about 80 MB in the web process (a GL context
    // and tile buffers) and buys nothing for forms and tables; without it the DMA-BUF
    // renderer has nothing to carry (another 5 MB in this process). `.ci/bench-app` measures
    // both. Set before any thread starts; an explicit value in the environment wins.
    #[cfg(target_os = "linux")]
    for var in [
        "WEBKIT_DISABLE_COMPOSITING_MODE",
        "WEBKIT_DISABLE_DMABUF_RENDERER",
    ] {
        if std::env::var_os(var).is_none() {
            std::env::set_var(var, "1");
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let state = match data_dir().and_then(|dir| tauri::async_runtime::block_on(open_state(dir))) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let app = build_app(
        Builder::default()
            .plugin(tauri_plugin_dialog::init())
            .plugin(tauri_plugin_notification::init()),
        state,
    )
    .setup(|app| {
        start_api(app.handle());
        notices::start(app.handle().clone());
        Ok(())
    })
    .build(context());
    let app = match app {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: the window could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            let _ = handle.state::<AppState>().clipboard.clear();
            let server = handle
                .state::<ApiHandle>()
                .0
                .lock()
                .ok()
                .and_then(|mut h| h.take());
            if let Some(server) = server {
                tauri::async_runtime::block_on(server.shutdown());
            }
            if let Ok(core) = handle.state::<AppState>().core() {
                tauri::async_runtime::block_on(core.clone().close());
            }
        }
    });
}
