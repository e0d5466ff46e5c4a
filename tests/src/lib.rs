//! Harness for driving the real Tessera app: tauri-driver (which runs Debian's
//! WebKitWebDriver, which starts the app) plus small helpers that wait for elements by
//! role, label or text, take screenshots, and run the CLI, xclip and curl.
//!
//! Run it through `.ci/e2e`: the app needs an X display (Xvfb) and a session bus, and the
//! app and CLI binaries must be built first (`TESSERA_APP_BIN` / `TESSERA_CLI_BIN` point at
//! them, else `$CARGO_TARGET_DIR/debug/` or `target/debug/`).

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long to wait for an element or a state before failing.
pub const TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);

pub type Res<T> = Result<T, String>;

/// The workspace root (this crate lives in `<root>/tests`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(d) => workspace_root().join(d),
        None => workspace_root().join("target"),
    }
}

fn existing(path: PathBuf, what: &str, build: &str) -> Res<PathBuf> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{what} not found at {}: build it with `{build}` (or run .ci/e2e), or set its path in the environment",
            path.display()
        ))
    }
}

/// The app built with `--features custom-protocol` (a plain dev build loads devUrl).
pub fn app_binary() -> Res<PathBuf> {
    let path = std::env::var_os("TESSERA_APP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug").join("tessera-app"));
    existing(
        path,
        "the app (TESSERA_APP_BIN)",
        "cargo build -p tessera-app --features custom-protocol",
    )
}

/// The `tessera` CLI from the same target dir as the app.
pub fn cli_binary() -> Res<PathBuf> {
    let path = match std::env::var_os("TESSERA_CLI_BIN") {
        Some(p) => PathBuf::from(p),
        None => app_binary()?.with_file_name("tessera"),
    };
    existing(
        path,
        "the CLI (TESSERA_CLI_BIN)",
        "cargo build -p tessera-cli",
    )
}

/// A fresh folder for this test's screenshots and logs (gitignored: under `target/`).
pub fn artifacts_dir(test: &str) -> Res<PathBuf> {
    let base = std::env::var_os("TESSERA_E2E_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target").join("e2e-artifacts"));
    let dir = base.join(test);
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| format!("cannot empty {}: {e}", dir.display()))?;
    }
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Res<u16> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// Run a command to completion within `limit`, returning (success, stdout, stderr).
/// Output goes to files, not pipes, so a child that hangs cannot block us on a full pipe.
pub fn run(cmd: &mut Command, what: &str, limit: Duration) -> Res<(bool, String, String)> {
    let out = tempfile::NamedTempFile::new().map_err(|e| format!("{what}: temp file: {e}"))?;
    let err = tempfile::NamedTempFile::new().map_err(|e| format!("{what}: temp file: {e}"))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out.reopen().map_err(|e| e.to_string())?)
        .stderr(err.reopen().map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
                let _ = child.wait();
                return Err(format!("{what}: still running after {limit:?}; stopped it"));
            }
            Err(e) => return Err(format!("{what}: {e}")),
        }
    };
    let read = |f: &tempfile::NamedTempFile| fs::read_to_string(f.path()).unwrap_or_default();
    Ok((status.success(), read(&out), read(&err)))
}

/// Read the CLIPBOARD selection the way a user's paste would (xclip asks its owner, the app).
/// `Ok(None)` when nothing is on the clipboard.
pub fn read_clipboard() -> Res<Option<String>> {
    let (ok, out, err) = run(
        Command::new("xclip").args(["-o", "-selection", "clipboard"]),
        "xclip -o -selection clipboard",
        Duration::from_secs(5),
    )?;
    if ok {
        Ok(Some(out))
    } else if err.contains("not available") || err.trim().is_empty() {
        Ok(None)
    } else {
        Err(format!("xclip failed: {}", err.trim()))
    }
}

/// `GET url` with `Authorization: Bearer <token>` through curl, trusting only `ca`.
/// The header goes through a file so the token is not on a command line. Returns
/// (HTTP status, body).
pub fn curl_bearer(ca: &Path, token: &str, url: &str) -> Res<(u16, String)> {
    let dir = tempfile::tempdir().map_err(|e| format!("curl: temp dir: {e}"))?;
    let header = dir.path().join("auth-header");
    let body = dir.path().join("body");
    fs::write(&header, format!("Authorization: Bearer {token}\n"))
        .map_err(|e| format!("curl: cannot write the header file: {e}"))?;
    let (ok, out, err) = run(
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "10", "--cacert"])
            .arg(ca)
            .arg("-H")
            .arg(format!("@{}", header.display()))
            .arg("-o")
            .arg(&body)
            .args(["-w", "%{http_code}", url]),
        "curl",
        Duration::from_secs(15),
    )?;
    if !ok {
        return Err(format!("curl {url} failed: {}", err.trim()));
    }
    let code = out
        .trim()
        .parse::<u16>()
        .map_err(|_| format!("curl {url}: no HTTP status in {out:?}"))?;
    Ok((code, fs::read_to_string(&body).unwrap_or_default()))
}

/// A plain HTTP `GET /status` against tauri-driver; true once it answers 200.
fn driver_ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req =
        format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200")
}

fn signal(pid: u32, sig: Signal) -> bool {
    i32::try_from(pid)
        .map(|p| kill(Pid::from_raw(p), sig).is_ok())
        .unwrap_or(false)
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                !s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false)
}

/// Our processes whose environment holds `marker` exactly (e.g. `TESSERA_DATA_DIR=/tmp/x`):
/// the app, WebKit's helpers and WebKitWebDriver started for this test, and nothing else.
fn processes_with_env(marker: &str) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|kv| kv == marker.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// tauri-driver on its own port; stopped with SIGTERM (never SIGKILL, which would orphan
/// WebKitWebDriver) when dropped, including when the test fails or panics. Anything it
/// started that is still running afterwards (found by this run's unique environment
/// marker) gets a SIGTERM too.
pub struct TauriDriver {
    child: Child,
    pub port: u16,
    marker: String,
}

impl TauriDriver {
    /// Start tauri-driver with `env` for the app and wait until `GET /status` answers.
    /// `marker` is one `KEY=value` of `env` unique to this run.
    pub fn start(env: &[(String, String)], marker: &str, log: &Path) -> Res<Self> {
        let port = free_port()?;
        let native_port = free_port()?;
        let log_file = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("tauri-driver")
            .arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start tauri-driver ({e}); install it with `cargo install tauri-driver --locked --version 2.1.0`"
                )
            })?;
        let mut driver = Self {
            child,
            port,
            marker: marker.to_owned(),
        };
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if driver_ready(port) {
                return Ok(driver);
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                return Err(format!(
                    "tauri-driver exited ({status}) before answering; see {}",
                    log.display()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "tauri-driver did not answer GET /status on port {port} within {TIMEOUT:?}; see {}",
                    log.display()
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A WebDriver session that starts `app`. No browserName: tauri-driver picks the native
    /// driver from `tauri:options`.
    pub async fn session(&self, app: &Path) -> Res<Client> {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url())
            .await
            .map_err(|e| {
                format!(
                    "cannot start a WebDriver session for {}: {e}",
                    app.display()
                )
            })
    }

    fn wait_exit(pids: &[u32], limit: Duration) -> Vec<u32> {
        let deadline = Instant::now() + limit;
        loop {
            let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
            if left.is_empty() || Instant::now() > deadline {
                return left;
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let pid = self.child.id();
        if matches!(self.child.try_wait(), Ok(None)) {
            signal(pid, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(POLL);
            }
            if matches!(self.child.try_wait(), Ok(None)) {
                eprintln!("warning: tauri-driver (pid {pid}) is still running 10 s after SIGTERM");
            }
        }
        let leftovers = processes_with_env(&self.marker);
        if !leftovers.is_empty() {
            eprintln!("stopping processes left by this run: {leftovers:?}");
            for &p in &leftovers {
                signal(p, Signal::SIGTERM);
            }
            let still = Self::wait_exit(&leftovers, Duration::from_secs(5));
            if !still.is_empty() {
                eprintln!("warning: still running 5 s after SIGTERM: {still:?}");
            }
        }
    }
}

/// The app window, driven as a person would: find things by role, label or text, wait for
/// them, and record each step as a screenshot.
pub struct Window {
    pub client: Client,
    shots: PathBuf,
    step: AtomicUsize,
}

/// XPath for the input labelled `label` (a `<label for>`), optionally inside `scope`.
pub fn input_labelled(scope: &str, label: &str) -> String {
    format!("{scope}//*[self::input or self::textarea][@id = {scope}//label[normalize-space(.)='{label}']/@for]")
}

/// XPath for a button whose visible text is `text`, optionally inside `scope`.
pub fn button(scope: &str, text: &str) -> String {
    format!("{scope}//button[normalize-space(.)='{text}']")
}

/// XPath for an open dialog (role `dialog` or `alertdialog`) titled `title`.
pub fn dialog(role: &str, title: &str) -> String {
    format!("//*[@role='{role}'][.//*[self::h1 or self::h2][normalize-space(.)='{title}']]")
}

impl Window {
    pub fn new(client: Client, shots: PathBuf) -> Self {
        Self {
            client,
            shots,
            step: AtomicUsize::new(0),
        }
    }

    async fn displayed(&self, xpath: &str) -> Res<Option<Element>> {
        let found = self
            .client
            .find_all(Locator::XPath(xpath))
            .await
            .map_err(|e| format!("find {xpath}: {e}"))?;
        for el in found {
            // An element can go away between the find and the check: try the next one.
            if el.is_displayed().await.unwrap_or(false) {
                return Ok(Some(el));
            }
        }
        Ok(None)
    }

    /// The first displayed element matching `xpath`, waiting up to [`TIMEOUT`].
    pub async fn find(&self, xpath: &str, what: &str) -> Res<Element> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(el) = self.displayed(xpath).await? {
                return Ok(el);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "timed out after {TIMEOUT:?} waiting for {what} (XPath {xpath})"
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Wait until nothing matching `xpath` is displayed.
    pub async fn wait_gone(&self, xpath: &str, what: &str) -> Res<()> {
        let deadline = Instant::now() + TIMEOUT;
        while self.displayed(xpath).await?.is_some() {
            if Instant::now() > deadline {
                return Err(format!(
                    "{what} is still shown after {TIMEOUT:?} (XPath {xpath})"
                ));
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    pub async fn click(&self, xpath: &str, what: &str) -> Res<Element> {
        let el = self.find(xpath, what).await?;
        // A control can be displayed but disabled or covered for a moment (dialog animation).
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match el.click().await {
                Ok(()) => return Ok(el),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("cannot click {what}: {e}"))
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    pub async fn type_into(&self, xpath: &str, what: &str, text: &str) -> Res<()> {
        let el = self.find(xpath, what).await?;
        el.send_keys(text)
            .await
            .map_err(|e| format!("cannot type into {what}: {e}"))
    }

    pub async fn text(&self, el: &Element, what: &str) -> Res<String> {
        el.text()
            .await
            .map(|t| t.trim().to_owned())
            .map_err(|e| format!("cannot read {what}: {e}"))
    }

    /// Wait for an element whose text satisfies `ok`; returns that text.
    pub async fn wait_text(
        &self,
        xpath: &str,
        what: &str,
        ok: impl Fn(&str) -> bool,
    ) -> Res<String> {
        let deadline = Instant::now() + TIMEOUT;
        let mut last = String::from("(not shown)");
        loop {
            if let Some(el) = self.displayed(xpath).await? {
                if let Ok(t) = el.text().await {
                    let t = t.trim().to_owned();
                    if ok(&t) {
                        return Ok(t);
                    }
                    last = t;
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "timed out after {TIMEOUT:?} waiting for {what}; last text: {last:?} (XPath {xpath})"
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Save a screenshot as `NN-name.png` once two animation frames have painted.
    pub async fn shot(&self, name: &str) -> Res<PathBuf> {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await
            .map_err(|e| format!("waiting for two animation frames: {e}"))?;
        let png = self
            .client
            .screenshot()
            .await
            .map_err(|e| format!("screenshot {name}: {e}"))?;
        let n = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        let path = self.shots.join(format!("{n:02}-{name}.png"));
        fs::write(&path, png).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    /// Best effort evidence after a failure: a screenshot and the page's HTML.
    pub async fn record_failure(&self) {
        if let Err(e) = self.shot("failure").await {
            eprintln!("no failure screenshot: {e}");
        }
        match self.client.source().await {
            Ok(html) => {
                let _ = fs::write(self.shots.join("failure.html"), html);
            }
            Err(e) => eprintln!("no page source: {e}"),
        }
    }
}
