//! Two admins' windows on one team server (issue 13): the real app twice at once under Xvfb,
//! each signed in to the same `tessera serve`, whose store is PostgreSQL (B first confirms
//! the server's certificate in the window, as on a first contact). Admin A creates a
//! user and admin B sees it appear without a refresh; B creates a company token that the
//! server accepts; A sees it appear and revokes it; the server refuses it (curl, 401); both
//! audit screens show each step. Then the server stops: A's window says so and keeps its
//! page read-only; the server starts again and the window carries on by itself. And a first
//! start that chooses the team server in the window and restarts on it with one click.
//!
//! Run it with `.ci/e2e`, which starts Xvfb, a session bus and a throwaway PostgreSQL cluster
//! (`TESSERA_TEST_POSTGRES`). Screenshots in `target/e2e-artifacts/team-admin-a/` and
//! `team-admin-b/`.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tessera_e2e::{
    app_binary, app_processes, artifacts_dir, audit_row, button, cli_binary, create_user,
    curl_bearer, dialog, free_port, input_labelled, require_display, run_cli, screen_png, AppEnv,
    AppRun, NewUser, Res, Window, TIMEOUT,
};

const COMPANY: &str = "Acme Team E2E";
const PASSWORD: &str = "correct horse battery staple";
const ADA: (&str, &str) = ("ada@example.com", "Ada Lovelace");
const BOB: (&str, &str) = ("bob@example.com", "Bob Kahn");
const GRACE: (&str, &str) = ("grace@example.com", "Grace Hopper");
const TOKEN: &str = "billing-sync";

/// The Connection panel (Settings, the first-run screen, the sign-in screen, or the
/// screen of a window not connected yet).
const PANEL: &str = "//section[.//h2[normalize-space()='Connection']]";

/// In the Connection panel, its address filled in: show the server's certificate, check that
/// the fingerprint shown is the one `tessera serve` printed, tick that it is the same
/// (screenshot `shot`), and trust it.
async fn trust_certificate(w: &Window, team: &Team, shot: &str) -> Res<()> {
    w.click(
        &button(PANEL, "Show its certificate"),
        "Show its certificate",
    )
    .await?;
    w.wait_text(
        &format!("{PANEL}//*[contains(@class,'fingerprint')]"),
        "the fingerprint the window shows",
        |t| t == team.fingerprint,
    )
    .await?;
    let same = w
        .click(
            &format!("{PANEL}//label[contains(., 'It is the same as the fingerprint')]//input[@type='checkbox']"),
            "It is the same as the fingerprint tessera serve printed",
        )
        .await?;
    if !same.is_selected().await.map_err(|e| e.to_string())? {
        return Err("the fingerprint confirmation did not get ticked".into());
    }
    w.shot(shot).await?;
    w.click(
        &button(PANEL, "Trust it and use this server"),
        "Trust it and use this server",
    )
    .await
    .map(|_| ())
}

/// The team's side: a PostgreSQL database, its key file, and one `tessera serve` on a fixed
/// loopback port (so it can stop and start again at the same address).
struct Team {
    work: tempfile::TempDir,
    cli: PathBuf,
    env: Vec<(String, String)>,
    port: u16,
    serve: Option<Child>,
    fingerprint: String,
}

impl Team {
    /// A new database on the PostgreSQL server `TESSERA_TEST_POSTGRES` names, set up with
    /// `tessera init` (the company and Ada) and `tessera user add` (Bob, a second admin).
    fn new() -> Res<Self> {
        let pg = std::env::var("TESSERA_TEST_POSTGRES").map_err(|_| {
            "TESSERA_TEST_POSTGRES is not set: run this test through .ci/e2e, which starts a throwaway PostgreSQL server".to_owned()
        })?;
        let work = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let database = format!("tessera_e2e_team_{}_{n}", std::process::id());
        let env = vec![
            (
                "TESSERA_DATABASE_URL".to_owned(),
                format!("{}/{database}", pg.trim_end_matches('/')),
            ),
            (
                "TESSERA_KEY_FILE".to_owned(),
                work.path().join("token-hmac.key").display().to_string(),
            ),
            (
                "TESSERA_DATA_DIR".to_owned(),
                work.path().join("server").display().to_string(),
            ),
            ("TESSERA_KEYSTORE".to_owned(), "file".to_owned()),
        ];
        let team = Self {
            work,
            cli: cli_binary()?,
            env,
            port: free_port()?,
            serve: None,
            fingerprint: String::new(),
        };
        team.cli(
            &[
                "init",
                "--company",
                COMPANY,
                "--admin-email",
                ADA.0,
                "--admin-name",
                ADA.1,
            ],
            &[("TESSERA_PASSWORD", PASSWORD)],
        )?;
        team.cli(
            &[
                "user", "add", "--email", BOB.0, "--name", BOB.1, "--role", "admin",
            ],
            &[("TESSERA_PASSWORD", PASSWORD)],
        )?;
        Ok(team)
    }

    /// [`Self::new`] with `tessera serve` started, for a test with an X display.
    fn running() -> Self {
        require_display();
        let mut team = Self::new().expect("the team's database");
        team.start().expect("tessera serve");
        team
    }

    fn cli(&self, args: &[&str], extra: &[(&str, &str)]) -> Res<String> {
        run_cli(&self.cli, &self.env, args, extra)
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Start `tessera serve` on the team's port and wait for it to print its certificate's
    /// fingerprint (the one an admin confirms in the window).
    fn start(&mut self) -> Res<()> {
        let log = self.work.path().join("serve.log");
        let out = fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let listen = format!("127.0.0.1:{}", self.port);
        let child = Command::new(&self.cli)
            .args(["serve", "--listen", &listen])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start tessera serve: {e}"))?;
        self.serve = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = fs::read_to_string(&log).unwrap_or_default();
            if let Some(fp) = text
                .lines()
                .find_map(|l| l.strip_prefix("CA SHA-256 fingerprint: "))
            {
                if !self.fingerprint.is_empty() && self.fingerprint != fp.trim() {
                    return Err(format!(
                        "tessera serve started again with another certificate: {fp}, before {}",
                        self.fingerprint
                    ));
                }
                self.fingerprint = fp.trim().to_owned();
                return Ok(());
            }
            if let Some(status) = self
                .serve
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!("tessera serve exited ({status}): {text}"));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "tessera serve printed no fingerprint within 30 s: {text}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop `tessera serve` as an administrator would (SIGTERM) and wait for it to exit.
    fn stop(&mut self) -> Res<()> {
        let Some(mut child) = self.serve.take() else {
            return Ok(());
        };
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err("tessera serve did not stop within 20 s of SIGTERM".into());
                }
            }
        }
    }

    /// The server's CA certificate, for curl's `--cacert`.
    fn export_ca(&self) -> Res<PathBuf> {
        let ca = self.work.path().join("tessera-ca.pem");
        self.cli(&["cert", "export", "--out", &ca.display().to_string()], &[])?;
        Ok(ca)
    }

    /// The environment of one admin's app: its own data folder and the team server
    /// (`TESSERA_SERVER_URL`), with its fingerprint confirmed beforehand
    /// (`TESSERA_SERVER_FINGERPRINT`) when `confirmed`, else to confirm in the window.
    fn app_env(&self, who: &str, confirmed: bool) -> (Vec<(String, String)>, String) {
        let data = self.work.path().join(format!("app-{who}"));
        let marker = format!("TESSERA_DATA_DIR={}", data.display());
        let mut env = vec![
            ("TESSERA_DATA_DIR".to_owned(), data.display().to_string()),
            ("TESSERA_KEYSTORE".to_owned(), "file".to_owned()),
            ("TESSERA_SERVER_URL".to_owned(), self.url()),
        ];
        if confirmed {
            env.push((
                "TESSERA_SERVER_FINGERPRINT".to_owned(),
                self.fingerprint.clone(),
            ));
        }
        (env, marker)
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admins_windows_on_one_team_server_see_and_change_the_same_store() {
    let mut team = Team::running();
    let app = app_binary().expect("the app");
    // A's fingerprint comes confirmed in the environment; B confirms it in the window.
    let (env_a, marker_a) = team.app_env("a", true);
    let (env_b, marker_b) = team.app_env("b", false);
    let a = AppRun::launch("team-admin-a", &env_a, &marker_a, &app)
        .await
        .expect("admin A's app");
    let b = match AppRun::launch("team-admin-b", &env_b, &marker_b, &app).await {
        Ok(b) => b,
        Err(e) => {
            let _ = a.end(Err(e.clone())).await;
            panic!("admin B's app: {e}");
        }
    };
    let outcome = scenario(&a.window, &b.window, &mut team).await;
    let ended_a = a.end(outcome.clone()).await;
    let ended_b = b.end(outcome).await;
    if let Err(e) = ended_a.and(ended_b) {
        panic!("{e}");
    }
}

async fn scenario(a: &Window, b: &Window, team: &mut Team) -> Res<()> {
    // Side by side on the screen, so each screenshot shows both windows.
    for (w, x) in [(a, 0), (b, 800)] {
        w.require_bundled_ui().await?;
        w.client
            .set_window_rect(x, 0, 800, 800)
            .await
            .map_err(|e| format!("cannot place the window: {e}"))?;
    }

    // 1. B's first contact: the window shows the server's certificate, whose fingerprint is
    // the one `tessera serve` printed, and connects once B confirms it.
    let url = team.url();
    b.find(
        "//h1[normalize-space()='Connect to your team server']",
        "B's window asking to confirm the server's certificate",
    )
    .await?;
    trust_certificate(b, team, "first-contact").await?;

    // 2. Both sign in to the team server, which the sign-in names.
    for (w, (email, name)) in [(a, ADA), (b, BOB)] {
        w.find(
            &format!("//p[normalize-space()='On the team server {url}']"),
            "the sign-in naming the team server",
        )
        .await?;
        w.sign_in(email, PASSWORD, name).await?;
        w.find(
            &format!("//header//button[contains(normalize-space(), 'Team server connected')][contains(., '{url}')]"),
            "the header showing the team server as connected",
        )
        .await?;
    }
    a.shot("signed-in").await?;

    // 3. A creates a user; B, already on Users, sees it appear without doing anything.
    b.go_to("Users").await?;
    a.go_to("Users").await?;
    create_user(
        a,
        &NewUser {
            email: GRACE.0,
            name: GRACE.1,
            role: "User",
            password: PASSWORD,
            group: "engineering",
        },
    )
    .await?;
    b.find(
        &format!(
            "//table//tr[@data-user='{}'][.//*[normalize-space()='{}']]",
            GRACE.0, GRACE.1
        ),
        "in B's window, the user A created (no refresh)",
    )
    .await?;
    b.shot("user-appeared").await?;

    // 4. B creates a company token; the server accepts it.
    b.go_to("Company tokens").await?;
    let (secret, reveal) = b
        .create_company_token(TOKEN, "Nightly billing export; ask Bob", "me:read")
        .await?;
    b.confirm_stored(&reveal).await?;
    let ca = team.export_ca()?;
    let me = format!("{url}/v1/me");
    let (code, body) = curl_bearer(&ca, &secret, &me)?;
    if code != 200 {
        return Err(format!(
            "the company token B created answered {code}, not 200: {body}"
        ));
    }

    // 5. A, on Company tokens, sees it appear, opens it and revokes it; the server refuses it.
    a.go_to("Company tokens").await?;
    let name = format!("//main//table//tr//button[normalize-space()='{TOKEN}']");
    a.click(&name, "in A's window, the token B created").await?;
    let details = dialog("dialog", TOKEN);
    a.revoke_in_details(&details, Some("revoke-confirmation"))
        .await?;
    let (code, body) = curl_bearer(&ca, &secret, &me)?;
    if code != 401 {
        return Err(format!(
            "the company token A revoked answered {code}, not 401: {body}"
        ));
    }
    a.click(&format!("{details}//button[@aria-label='Close']"), "Close")
        .await?;
    a.wait_gone(&details, "the details panel").await?;

    // 6. Both audit screens show each step, with who did it.
    for (w, who) in [(a, "A"), (b, "B")] {
        w.go_to("Audit log").await?;
        for (actor, action, target) in [
            (ADA.0, "user.create", format!("user:{}", GRACE.0)),
            (BOB.0, "token.create", "token:".to_owned()),
            (ADA.0, "token.revoke", "token:".to_owned()),
        ] {
            w.find(
                &audit_row(actor, action, &target),
                &format!("in {who}'s audit log, {action} by {actor} on {target}"),
            )
            .await?;
        }
    }
    b.shot("audit").await?;

    // 7. The server stops: A's window says so and keeps its page, read-only.
    team.stop()?;
    let pill = "//header//button[contains(normalize-space(), 'Team server unreachable')]";
    a.find(pill, "the header showing the team server as unreachable")
        .await?;
    a.find(
        "//*[@role='status'][contains(., 'does not answer')][contains(., 'read-only')]",
        "the banner saying the server does not answer",
    )
    .await?;
    let apply = button("//main", "Apply");
    let control = a.find(&apply, "the audit filters' Apply").await?;
    if control
        .is_enabled()
        .await
        .map_err(|e| format!("cannot read whether Apply is enabled: {e}"))?
    {
        return Err("the audit page's Apply stays enabled while the server is away".into());
    }
    a.find(
        &audit_row(ADA.0, "token.revoke", "token:"),
        "the audit entries still on screen",
    )
    .await?;
    a.shot("server-away").await?;

    // 8. The server starts again at the same address: the window carries on by itself.
    team.start()?;
    let back = "//header//button[contains(normalize-space(), 'Team server connected')]";
    let deadline = Instant::now() + TIMEOUT * 2;
    while a.find(back, "the header connected again").await.is_err() {
        if Instant::now() > deadline {
            return Err("A's window did not see the team server come back".into());
        }
    }
    a.wait_gone(
        "//*[@role='status'][contains(., 'does not answer')]",
        "the offline banner",
    )
    .await?;
    if !control.is_enabled().await.map_err(|e| e.to_string())? {
        return Err("the audit page's Apply stays disabled after the server is back".into());
    }
    a.go_to("Users").await?;
    a.find(
        &format!("//table//tr[@data-user='{}']", GRACE.0),
        "the users, read again from the server",
    )
    .await?;
    a.shot("server-back").await?;
    Ok(())
}

/// A first start on a new computer: the person chooses the team server under "Or work on your
/// team's server", confirms its certificate, and chooses Restart Tessera now. The app starts
/// again by itself, on the team server: a new process, and no embedded API any more (the
/// first one, on this computer's store, had one). What the restarted window shows is in
/// `target/e2e-artifacts/team-first-start-restarted/restarted.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_chooses_the_team_server_and_restarts_on_it() {
    let team = Team::running();
    // This computer's first start: its own data folder and embedded API, no team server.
    let env = AppEnv::new().expect("the app's environment");
    let run = AppRun::start("team-first-start", &env).await;
    let outcome = first_start(&run.window, &team, &env).await;
    let shots = artifacts_dir("team-first-start-restarted").expect("artifacts");
    if let Ok(png) = screen_png() {
        let _ = std::fs::write(shots.join("restarted.png"), png);
    }
    // The first process is gone, so closing its WebDriver session may fail; the driver's
    // guard stops the restarted app too.
    if let Err(e) = run.end(outcome).await {
        panic!("{e}");
    }
}

async fn first_start(w: &Window, team: &Team, env: &AppEnv) -> Res<()> {
    let marker = env.marker.as_str();
    let api = env.api_base.trim_start_matches("https://");
    w.require_bundled_ui().await?;
    w.find(
        "//h1[normalize-space()='Welcome to Tessera']",
        "the first-run screen",
    )
    .await?;
    let api_up = || std::net::TcpStream::connect(api).is_ok();
    if !api_up() {
        return Err("this computer's embedded API is not running before the switch".into());
    }
    w.click(
        "//summary[normalize-space()=\"Or work on your team's server\"]",
        "Or work on your team's server",
    )
    .await?;
    w.type_into(
        &input_labelled(PANEL, "Team server address"),
        "Team server address",
        &team.url(),
    )
    .await?;
    trust_certificate(w, team, "certificate").await?;
    w.find(
        &format!(
            "{PANEL}//p[contains(normalize-space(), 'From the next start it will work on the team server {}')]",
            team.url()
        ),
        "the panel saying the next start works on the team server",
    )
    .await?;
    w.shot("chosen").await?;
    let before = app_processes(marker);
    if before.len() != 1 {
        return Err(format!("expected one app process, found {before:?}"));
    }
    // The click's answer may never come: the app exits to start again.
    let _ = w
        .click(&button(PANEL, "Restart Tessera now"), "Restart Tessera now")
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = app_processes(marker);
        let restarted = !now.is_empty() && now.iter().all(|p| !before.contains(p));
        if restarted && !api_up() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the app did not start again on the team server within 30 s: app processes {now:?} (before {before:?}), embedded API {}",
                if api_up() { "still listening" } else { "gone" }
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
