//! `installed-app --app PATH --cli PATH`: check an installed Tessera (from the `.deb`) the
//! way a new user meets it, with no `TESSERA_DATA_DIR` and the OS keyring (run it inside a
//! D-Bus session whose gnome-keyring is unlocked, on an X display; `.ci/package-test` does).
//!
//! 1. A fresh home: the installed app starts and shows its first-run screen.
//! 2. Another fresh home: `tessera init` creates a company; the installed app, started with
//!    nothing but the same home, shows the sign-in screen for it and signs its admin in. So
//!    the CLI and the app share one data dir, one key (from the keyring) and one database by
//!    default.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use tessera_e2e::{free_port, run, AppRun, Res, Window};

const PASSWORD: &str = "correct horse battery staple";

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: no async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(check()) {
        Ok(()) => {
            println!("the installed app and CLI work on the default data dir and keyring");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn arg(name: &str) -> Res<PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .ok_or_else(|| format!("usage: installed-app --app PATH --cli PATH ({name} missing)"))
}

/// A home of its own (the platform data dir is `$HOME/.local/share` here) and a free port for
/// the in-app API; no `TESSERA_DATA_DIR` and no `TESSERA_KEYSTORE`, so the defaults apply.
struct Home {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Home {
    fn new() -> Res<Self> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let env = vec![
            ("HOME".to_owned(), dir.path().display().to_string()),
            (
                "XDG_DATA_HOME".to_owned(),
                dir.path().join(".local/share").display().to_string(),
            ),
            (
                "TESSERA_API_LISTEN".to_owned(),
                format!("127.0.0.1:{}", free_port()?),
            ),
        ];
        Ok(Self { dir, env })
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join(".local/share/tessera")
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_remove("TESSERA_DATA_DIR")
            .env_remove("TESSERA_KEYSTORE")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }
}

/// The installed app, started under tauri-driver with nothing but `home`'s environment.
async fn launch(test: &str, home: &Home, app: &Path) -> Res<AppRun> {
    let marker = format!("HOME={}", home.dir.path().display());
    AppRun::launch(test, &home.env, &marker, app).await
}

async fn first_run_screen(w: &Window) -> Res<()> {
    w.require_bundled_ui().await?;
    w.find(
        "//h1[normalize-space()='Welcome to Tessera']",
        "the first-run screen of the installed app",
    )
    .await?;
    w.shot("first-run").await.map(|_| ())
}

async fn signs_in(w: &Window) -> Res<()> {
    w.sign_in("ada@example.com", PASSWORD, "Ada Lovelace")
        .await?;
    w.page("Dashboard").await?;
    w.shot("signed-in").await.map(|_| ())
}

async fn check() -> Res<()> {
    let app = arg("--app")?;
    let cli = arg("--cli")?;

    // 1. A fresh home: the first-run screen.
    let fresh = Home::new()?;
    let app_run = launch("installed-first-run", &fresh, &app).await?;
    let outcome = first_run_screen(&app_run.window).await;
    app_run.end(outcome).await?;
    if !fresh.data_dir().join("tessera.db").is_file() {
        return Err(format!(
            "the installed app did not create its database in the platform data dir {}",
            fresh.data_dir().display()
        ));
    }

    // 2. The CLI creates a company in its default data dir; the app finds it there.
    let shared = Home::new()?;
    let (ok, out, err) = run(
        shared
            .command(&cli)
            .args([
                "init",
                "--company",
                "Acme Installed",
                "--admin-email",
                "ada@example.com",
                "--admin-name",
                "Ada Lovelace",
            ])
            .env("TESSERA_PASSWORD", PASSWORD),
        "the installed tessera init",
        Duration::from_secs(60),
    )?;
    if !ok {
        return Err(format!("tessera init failed:\n{out}\n{err}"));
    }
    if err.contains("no OS keyring") {
        return Err(format!(
            "tessera init did not reach the OS keyring (is gnome-keyring unlocked?): {err}"
        ));
    }
    if shared.data_dir().join("token-hmac.key").exists() {
        return Err("the key went to a file, not the OS keyring".to_owned());
    }
    let app_run = launch("installed-shared-data-dir", &shared, &app).await?;
    let outcome = signs_in(&app_run.window).await;
    app_run.end(outcome).await
}
