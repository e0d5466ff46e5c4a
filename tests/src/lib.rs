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

/// `cli <args>` (the `tessera` CLI) with `env` and `extra` in its environment; its output,
/// or an error with what it printed.
pub fn run_cli(
    cli: &Path,
    env: &[(String, String)],
    args: &[&str],
    extra: &[(&str, &str)],
) -> Res<String> {
    let what = format!("tessera {}", args.join(" "));
    let (ok, out, err) = run(
        Command::new(cli)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra.iter().copied()),
        &what,
        Duration::from_secs(60),
    )?;
    if ok {
        Ok(out)
    } else {
        Err(format!("{what} failed: {}{}", err.trim(), out.trim()))
    }
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

/// The formats (X selection targets) the CLIPBOARD's owner offers, as a clipboard manager
/// sees them.
pub fn clipboard_targets() -> Res<Vec<String>> {
    let (ok, out, err) = run(
        Command::new("xclip").args(["-o", "-selection", "clipboard", "-t", "TARGETS"]),
        "xclip -o -selection clipboard -t TARGETS",
        Duration::from_secs(5),
    )?;
    if !ok {
        return Err(format!(
            "xclip cannot list the clipboard's targets: {}",
            err.trim()
        ));
    }
    Ok(out.lines().map(|l| l.trim().to_owned()).collect())
}

/// The CLIPBOARD's content in one `target` format (e.g. `x-kde-passwordManagerHint`).
pub fn read_clipboard_as(target: &str) -> Res<String> {
    let (ok, out, err) = run(
        Command::new("xclip").args(["-o", "-selection", "clipboard", "-t", target]),
        &format!("xclip -o -selection clipboard -t {target}"),
        Duration::from_secs(5),
    )?;
    if ok {
        Ok(out)
    } else {
        Err(format!(
            "xclip cannot read the clipboard as {target}: {}",
            err.trim()
        ))
    }
}

/// Copy `text` as another program would: xclip takes the CLIPBOARD selection and keeps
/// serving it from the background until something else takes it.
pub fn write_clipboard(text: &str) -> Res<()> {
    let mut child = Command::new("xclip")
        .args(["-i", "-selection", "clipboard"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start xclip -i: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("xclip -i has no stdin")?
        .write_all(text.as_bytes())
        .map_err(|e| format!("writing to xclip -i: {e}"))?;
    let status = child.wait().map_err(|e| format!("xclip -i: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("xclip -i failed: {status}"))
    }
}

/// `GET url` with `Authorization: Bearer <token>` through curl, trusting only `ca`.
/// The header goes through a file so the token is not on a command line. Returns
/// (HTTP status, body).
pub fn curl_bearer(ca: &Path, token: &str, url: &str) -> Res<(u16, String)> {
    curl_bearer_as(ca, token, url, None)
}

/// `POST` the client credentials grant to `url` (`/oauth/token`) with HTTP Basic through
/// curl, trusting only `ca`. Returns (HTTP status, body).
pub fn curl_client_token(
    ca: &Path,
    client_id: &str,
    secret: &str,
    url: &str,
) -> Res<(u16, String)> {
    curl(
        ca,
        url,
        &format!("user = \"{client_id}:{secret}\"\n"),
        &["-d", "grant_type=client_credentials"],
    )
}

/// [`curl_bearer`] sending this `User-Agent` instead of curl's own.
pub fn curl_bearer_as(
    ca: &Path,
    token: &str,
    url: &str,
    agent: Option<&str>,
) -> Res<(u16, String)> {
    let mut config = format!("header = \"Authorization: Bearer {token}\"\n");
    if let Some(a) = agent {
        config.push_str(&format!("user-agent = \"{a}\"\n"));
    }
    curl(ca, url, &config, &[])
}

/// curl `url` trusting only `ca`, with `config` (curl's `-K` file, which holds the secret so
/// it is not on a command line) and `extra` arguments. Returns (HTTP status, body).
fn curl(ca: &Path, url: &str, config: &str, extra: &[&str]) -> Res<(u16, String)> {
    let dir = tempfile::tempdir().map_err(|e| format!("curl: temp dir: {e}"))?;
    let config_file = dir.path().join("curlrc");
    let body = dir.path().join("body");
    fs::write(&config_file, config)
        .map_err(|e| format!("curl: cannot write the config file: {e}"))?;
    let (ok, out, err) = run(
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "10", "--cacert"])
            .arg(ca)
            .arg("-K")
            .arg(&config_file)
            .args(extra)
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

/// The running app processes (not WebKit's helpers or the drivers) whose environment holds
/// `marker`.
pub fn app_processes(marker: &str) -> Vec<u32> {
    processes_with_env(marker)
        .into_iter()
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "tessera-app")
        })
        .filter(|&pid| alive(pid))
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

/// The whole X screen (`$DISPLAY`, Xvfb here) as 8-bit RGB rows: what a person would see.
pub struct Screen {
    pub width: u16,
    pub height: u16,
    pub rgb: Vec<u8>,
}

/// Read the whole X screen once.
pub fn grab_screen() -> Res<Screen> {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, ImageFormat};

    let (conn, n) = x11rb::connect(None).map_err(|e| format!("cannot reach the X display: {e}"))?;
    let screen = &conn.setup().roots[n];
    let (w, h) = (screen.width_in_pixels, screen.height_in_pixels);
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, screen.root, 0, 0, w, h, !0)
        .map_err(|e| format!("X GetImage: {e}"))?
        .reply()
        .map_err(|e| format!("X GetImage: {e}"))?;
    if image.depth != 24 && image.depth != 32 {
        return Err(format!(
            "X screen depth {} is not 24 or 32 bits",
            image.depth
        ));
    }
    // 24-bit Z pixmaps come as 32 bits a pixel, blue-green-red-unused, rows unpadded.
    let px = usize::from(w) * usize::from(h);
    if image.data.len() < px * 4 {
        return Err(format!(
            "X returned {} bytes for {w}x{h} pixels",
            image.data.len()
        ));
    }
    let mut rgb = Vec::with_capacity(px * 3);
    for p in image.data.chunks_exact(4).take(px) {
        rgb.extend_from_slice(&[p[2], p[1], p[0]]);
    }
    Ok(Screen {
        width: w,
        height: h,
        rgb,
    })
}

impl Screen {
    /// How many different colours the screen shows, counting up to `limit + 1` (a bare
    /// window background is one). Cheap enough to call every few milliseconds.
    pub fn colours_up_to(&self, limit: usize) -> usize {
        let mut seen: Vec<[u8; 3]> = Vec::with_capacity(limit + 1);
        for p in self.rgb.chunks_exact(3) {
            let c = [p[0], p[1], p[2]];
            if !seen.contains(&c) {
                seen.push(c);
                if seen.len() > limit {
                    break;
                }
            }
        }
        seen.len()
    }

    pub fn png(&self) -> Res<Vec<u8>> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, u32::from(self.width), u32::from(self.height));
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| format!("PNG: {e}"))?;
        writer
            .write_image_data(&self.rgb)
            .map_err(|e| format!("PNG: {e}"))?;
        writer.finish().map_err(|e| format!("PNG: {e}"))?;
        Ok(out)
    }
}

/// The whole X screen as a PNG.
pub fn screen_png() -> Res<Vec<u8>> {
    grab_screen()?.png()
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
        // The page can change under the search (a dialog opening over another), which the
        // driver reports as a stale element: search again, a few times.
        let mut tries = 0;
        let found = loop {
            match self.client.find_all(Locator::XPath(xpath)).await {
                Ok(found) => break found,
                Err(e) if e.is_stale_element_reference() && tries < 5 => {
                    tries += 1;
                    tokio::time::sleep(POLL).await;
                }
                Err(e) => return Err(format!("find {xpath}: {e}")),
            }
        };
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

    /// Make the field at `xpath` hold `text`: left as it is when it already does (a form
    /// filled before, e.g. the e-mail kept after a failed sign-in), else emptied and typed.
    pub async fn fill(&self, xpath: &str, what: &str, text: &str) -> Res<()> {
        let el = self.find(xpath, what).await?;
        let now = el
            .prop("value")
            .await
            .map_err(|e| format!("cannot read {what}: {e}"))?
            .unwrap_or_default();
        if now == text {
            return Ok(());
        }
        if !now.is_empty() {
            el.clear()
                .await
                .map_err(|e| format!("cannot empty {what}: {e}"))?;
        }
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
        let n = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        let path = self.shots.join(format!("{n:02}-{name}.png"));
        let png = screen_png().map_err(|e| format!("screenshot {name}: {e}"))?;
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

/// XPath for the `<select>` labelled `label` (a `<label for>`), optionally inside `scope`.
pub fn select_labelled(scope: &str, label: &str) -> String {
    format!("{scope}//select[@id = {scope}//label[normalize-space(.)='{label}']/@for]")
}

/// One run's world: a fresh temp data dir, the file keystore, a free port for the in-app
/// HTTPS API, and the app and CLI binaries. The temp dir goes away when this is dropped.
pub struct AppEnv {
    pub app: PathBuf,
    pub cli: PathBuf,
    pub data_dir: PathBuf,
    pub env: Vec<(String, String)>,
    /// `https://127.0.0.1:<port>`
    pub api_base: String,
    /// One `KEY=value` of `env` unique to this run (finds its processes).
    pub marker: String,
    work: tempfile::TempDir,
}

impl AppEnv {
    pub fn new() -> Res<Self> {
        let app = app_binary()?;
        let cli = cli_binary()?;
        let work = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let data_dir = work.path().join("data");
        let api_port = free_port()?;
        let env = vec![
            (
                "TESSERA_DATA_DIR".to_owned(),
                data_dir.display().to_string(),
            ),
            ("TESSERA_KEYSTORE".to_owned(), "file".to_owned()),
            (
                "TESSERA_API_LISTEN".to_owned(),
                format!("127.0.0.1:{api_port}"),
            ),
        ];
        Ok(Self {
            app,
            cli,
            marker: format!("TESSERA_DATA_DIR={}", data_dir.display()),
            data_dir,
            env,
            api_base: format!("https://127.0.0.1:{api_port}"),
            work,
        })
    }

    /// A scratch folder next to the data dir (for the exported CA and such).
    pub fn work_dir(&self) -> &Path {
        self.work.path()
    }

    /// `https://127.0.0.1:<port>/v1/me`
    pub fn me_url(&self) -> String {
        format!("{}/v1/me", self.api_base)
    }

    /// `tessera <args>` against the app's data dir (the CLI and the app share the SQLite file).
    pub fn cli(&self, args: &[&str]) -> Res<String> {
        self.cli_with(args, &[])
    }

    /// [`Self::cli`] with extra environment, e.g. `TESSERA_PASSWORD` for `tessera init`.
    pub fn cli_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Res<String> {
        run_cli(&self.cli, &self.env, args, extra)
    }

    /// `tessera cert export`: the API's CA certificate, for curl's `--cacert`.
    pub fn export_ca(&self) -> Res<PathBuf> {
        let ca = self.work_dir().join("tessera-ca.pem");
        self.cli(&["cert", "export", "--out", &ca.display().to_string()])?;
        if ca.is_file() {
            Ok(ca)
        } else {
            Err(format!(
                "tessera cert export wrote no {} (data dir {})",
                ca.display(),
                self.data_dir.display()
            ))
        }
    }
}

/// Fail at once, saying how to run it, when the test has no X display for the app.
pub fn require_display() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no X display: run this test through .ci/e2e, which starts Xvfb and a session bus"
    );
}

/// The app running for one test: tauri-driver, its WebDriver session and the window.
/// [`AppRun::finish`] records evidence on failure, ends the session (which closes the
/// app), stops tauri-driver and anything left behind, and then panics with the error.
pub struct AppRun {
    pub window: Window,
    driver: TauriDriver,
    shots: PathBuf,
    started: Instant,
}

impl AppRun {
    /// Start the app for `test` (its screenshots go to `target/e2e-artifacts/<test>/`).
    pub async fn start(test: &str, env: &AppEnv) -> Self {
        require_display();
        Self::launch(test, &env.env, &env.marker, &env.app)
            .await
            .expect("the app under tauri-driver")
    }

    /// Start `app` with `env` (`marker` is one `KEY=value` of it unique to this run) under
    /// tauri-driver, for `test`.
    pub async fn launch(
        test: &str,
        env: &[(String, String)],
        marker: &str,
        app: &Path,
    ) -> Res<Self> {
        let started = Instant::now();
        let shots = artifacts_dir(test)?;
        let driver = TauriDriver::start(env, marker, &shots.join("tauri-driver.log"))?;
        // Dropping the driver on a failed session start stops tauri-driver and the rest.
        let client = driver.session(app).await?;
        Ok(Self {
            window: Window::new(client, shots.clone()),
            driver,
            shots,
            started,
        })
    }

    /// [`AppRun::end`], panicking with the error (for tests).
    pub async fn finish(self, outcome: Res<()>) {
        let (shots, started) = (self.shots.clone(), self.started);
        if let Err(e) = self.end(outcome).await {
            panic!("{e}");
        }
        eprintln!(
            "e2e passed in {:.1} s; screenshots in {}",
            started.elapsed().as_secs_f64(),
            shots.display()
        );
    }

    /// Record evidence if `outcome` failed, end the session (which closes the app), stop
    /// tauri-driver and anything left behind, and hand back `outcome` naming where the
    /// evidence is.
    pub async fn end(self, outcome: Res<()>) -> Res<()> {
        if outcome.is_err() {
            self.window.record_failure().await;
        }
        // Ending the session closes the app; then the guard stops tauri-driver with SIGTERM.
        if let Err(e) = self.window.client.clone().close().await {
            eprintln!("closing the WebDriver session: {e}");
        }
        drop(self.driver);
        outcome.map_err(|e| {
            format!(
                "{e}\n(screenshots, page source and tauri-driver's log are in {})",
                self.shots.display()
            )
        })
    }
}

/// The screen flows that several tests share.
impl Window {
    /// A build without `--features custom-protocol` loads devUrl (http://localhost:...) and
    /// shows "Connection refused"; say so instead of timing out on a missing heading.
    pub async fn require_bundled_ui(&self) -> Res<()> {
        let url = self
            .client
            .current_url()
            .await
            .map_err(|e| format!("cannot read the window's URL: {e}"))?;
        if url.scheme() == "http" || url.scheme() == "https" {
            return Err(format!(
                "the app loads {url}, so it is a dev build: build it with `cargo build -p tessera-app --features custom-protocol` (.ci/e2e does)"
            ));
        }
        Ok(())
    }

    /// Wait for the page whose `<h1>` is `title`.
    pub async fn page(&self, title: &str) -> Res<Element> {
        self.find(
            &format!("//main//h1[normalize-space()='{title}']"),
            &format!("the {title} page"),
        )
        .await
    }

    /// Click `label` in the side navigation and wait for its page.
    pub async fn go_to(&self, label: &str) -> Res<()> {
        self.click(
            &button("//nav", label),
            &format!("the {label} navigation item"),
        )
        .await?;
        self.page(label).await.map(|_| ())
    }

    /// Sign in on the sign-in screen; then the shell shows `name` in its header.
    pub async fn sign_in(&self, email: &str, password: &str, name: &str) -> Res<()> {
        self.find(
            "//h1[normalize-space()='Sign in to Tessera']",
            "the sign-in screen",
        )
        .await?;
        self.fill(&input_labelled("", "E-mail"), "E-mail", email)
            .await?;
        self.fill(&input_labelled("", "Password"), "Password", password)
            .await?;
        self.click(
            "//form//button[@type='submit' and normalize-space()='Sign in']",
            "Sign in",
        )
        .await?;
        self.wait_text(
            "//header//*[contains(@class,'who-name')]",
            &format!("the header naming {name} after signing in as {email}"),
            |t| t == name,
        )
        .await
        .map(|_| ())
    }

    /// Sign out from the header and wait for the sign-in screen.
    pub async fn sign_out(&self) -> Res<()> {
        self.click(&button("//header", "Sign out"), "Sign out")
            .await?;
        self.find(
            "//h1[normalize-space()='Sign in to Tessera']",
            "the sign-in screen after signing out",
        )
        .await
        .map(|_| ())
    }

    /// Pick the option shown as `option` in the `<select>` at `select`, the way a person
    /// would (click the option), and check that it took.
    pub async fn choose(&self, select: &str, what: &str, option: &str) -> Res<()> {
        let el = self.click(select, what).await?;
        self.click(
            &format!("{select}/option[normalize-space()='{option}']"),
            &format!("{what}: {option}"),
        )
        .await?;
        let shown: String = self
            .client
            .execute(
                "const s = arguments[0]; return s.options[s.selectedIndex].text;",
                vec![serde_json::to_value(&el).map_err(|e| e.to_string())?],
            )
            .await
            .map_err(|e| format!("cannot read {what}: {e}"))?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if shown.trim() != option {
            return Err(format!("{what} shows {shown:?}, not {option:?}"));
        }
        Ok(())
    }

    /// On My tokens: Create token, name it, tick `scope`, pick the 30-day preset, create it,
    /// and read the secret from the one-time reveal dialog, which stays open. Returns the
    /// secret and the reveal dialog's XPath. Screenshots: `create-token`, `reveal`.
    pub async fn create_personal_token(&self, name: &str, scope: &str) -> Res<(String, String)> {
        self.create_token_as(name, scope, false).await
    }

    /// Revoke the token open in the details panel `details`: its Revoke, then the
    /// confirmation's (screenshot `shot` of the confirmation, if named), until the panel shows
    /// it as Revoked.
    pub async fn revoke_in_details(&self, details: &str, shot: Option<&str>) -> Res<()> {
        self.click(&button(details, "Revoke"), "the details panel's Revoke")
            .await?;
        let confirm = "//*[@role='alertdialog']";
        self.find(confirm, "the revoke confirmation").await?;
        if let Some(name) = shot {
            self.shot(name).await?;
        }
        self.click(&button(confirm, "Revoke"), "the confirmation's Revoke")
            .await?;
        self.wait_gone(confirm, "the revoke confirmation").await?;
        self.find(
            &format!("{details}//*[contains(@class,'badge')][normalize-space()='Revoked']"),
            "the details panel showing the token as Revoked",
        )
        .await?;
        Ok(())
    }

    /// [`Window::create_personal_token`], ticking "Honeytoken" first when `honeytoken`.
    pub async fn create_token_as(
        &self,
        name: &str,
        scope: &str,
        honeytoken: bool,
    ) -> Res<(String, String)> {
        self.click(&button("//main", "Create token"), "Create token")
            .await?;
        self.fill_token_dialog("Create personal token", name, None, scope, honeytoken)
            .await
    }

    /// On Company tokens: Create company token, with its required `description`; otherwise
    /// as [`Window::create_personal_token`].
    pub async fn create_company_token(
        &self,
        name: &str,
        description: &str,
        scope: &str,
    ) -> Res<(String, String)> {
        self.click(
            &button("//main", "Create company token"),
            "Create company token",
        )
        .await?;
        self.fill_token_dialog(
            "Create company token",
            name,
            Some(description),
            scope,
            false,
        )
        .await
    }

    /// The open create-token dialog titled `title`: fill it in, create the token, and read
    /// the secret from the one-time reveal dialog, which stays open.
    async fn fill_token_dialog(
        &self,
        title: &str,
        name: &str,
        description: Option<&str>,
        scope: &str,
        honeytoken: bool,
    ) -> Res<(String, String)> {
        let create = dialog("dialog", title);
        self.find(&create, &format!("the {title} dialog")).await?;
        self.type_into(&input_labelled(&create, "Name"), "the token's Name", name)
            .await?;
        if let Some(text) = description {
            self.type_into(
                &input_labelled(&create, "Description"),
                "the token's Description",
                text,
            )
            .await?;
        }
        let scope_box = format!(
            "{create}//fieldset[legend[normalize-space()='Scopes']]//label[.//*[normalize-space()='{scope}']]//input[@type='checkbox']"
        );
        let ticked = self
            .click(&scope_box, &format!("the {scope} scope's checkbox"))
            .await?;
        if !ticked.is_selected().await.map_err(|e| e.to_string())? {
            return Err(format!("the {scope} scope did not get checked"));
        }
        let preset = format!("{create}//fieldset[legend[normalize-space()='Expires']]//label[normalize-space()='30 days']");
        self.click(&preset, "the 30 days expiry preset").await?;
        // The radio itself may be visually hidden inside its label: look it up, not for display.
        let radio = self
            .client
            .find(Locator::XPath(&format!("{preset}/input[@type='radio']")))
            .await
            .map_err(|e| format!("the 30 days radio button: {e}"))?;
        if !radio.is_selected().await.map_err(|e| e.to_string())? {
            return Err("the 30 days preset did not get selected".into());
        }
        self.wait_text(
            &format!("{create}//fieldset[legend[normalize-space()='Expires']]//*[contains(@class,'expiry-result')]"),
            "the resulting expiry date",
            |t| t.starts_with("Expires") && t.contains("30 days"),
        )
        .await?;
        if honeytoken {
            let tick = self
                .click(
                    &format!("{create}//label[.//strong[starts-with(normalize-space(), 'Honeytoken')]]//input[@type='checkbox']"),
                    "the Honeytoken checkbox",
                )
                .await?;
            if !tick.is_selected().await.map_err(|e| e.to_string())? {
                return Err("the Honeytoken checkbox did not get checked".into());
            }
        }
        self.shot("create-token").await?;
        self.click(
            &format!("{create}//button[@type='submit' and normalize-space()='Create token']"),
            "the dialog's Create token button",
        )
        .await?;

        let reveal = dialog("dialog", "Your new token");
        self.find(&reveal, "the one-time reveal dialog").await?;
        let field = self
            .find(
                &input_labelled(&reveal, "Token"),
                "the revealed token's field",
            )
            .await?;
        let token = field
            .prop("value")
            .await
            .map_err(|e| format!("cannot read the token field: {e}"))?
            .unwrap_or_default();
        if token.len() < 20 || token.chars().any(char::is_whitespace) {
            return Err(format!(
                "the reveal dialog's field does not hold a token: {} characters",
                token.len()
            ));
        }
        self.shot("reveal").await?;
        Ok((token, reveal))
    }

    /// In the reveal dialog: Done is disabled until "I have stored this token" is ticked;
    /// tick it, press Done, and wait for the dialog to close.
    pub async fn confirm_stored(&self, reveal: &str) -> Res<()> {
        let done = button(reveal, "Done");
        let done_el = self.find(&done, "Done").await?;
        if done_el.is_enabled().await.map_err(|e| e.to_string())? {
            return Err("Done is enabled before confirming the token is stored".into());
        }
        self.click(
            &format!("{reveal}//label[normalize-space()='I have stored this token']"),
            "I have stored this token",
        )
        .await?;
        self.click(&done, "Done").await?;
        self.wait_gone(reveal, "the reveal dialog").await
    }
}

/// A user to create through Users → Create user.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub password: &'a str,
    pub group: &'a str,
}

/// Users → Create user: fill the dialog, create, and wait for the row.
pub async fn create_user(w: &Window, u: &NewUser<'_>) -> Res<()> {
    w.click(&button("//main", "Create user"), "Create user")
        .await?;
    let form = dialog("dialog", "Create user");
    w.find(&form, "the Create user dialog").await?;
    w.type_into(&input_labelled(&form, "E-mail"), "E-mail", u.email)
        .await?;
    w.type_into(&input_labelled(&form, "Name"), "Name", u.name)
        .await?;
    w.choose(&select_labelled(&form, "Role"), "Role", u.role)
        .await?;
    w.type_into(
        &input_labelled(&form, "Initial password"),
        "Initial password",
        u.password,
    )
    .await?;
    w.type_into(
        &input_labelled(&form, "Source group"),
        "Source group",
        u.group,
    )
    .await?;
    w.shot(&format!(
        "create-{}",
        u.role.to_lowercase().replace(' ', "-")
    ))
    .await?;
    w.click(
        &format!("{form}//button[@type='submit' and normalize-space()='Create user']"),
        "the dialog's Create user button",
    )
    .await?;
    w.wait_gone(&form, "the Create user dialog").await?;
    let row = format!("//table//tr[@data-user='{}']", u.email);
    w.find(
        &format!(
            "{row}[.//*[normalize-space()='{}']][.//td[normalize-space()='{}']][.//*[contains(@class,'badge')][normalize-space()='Active']]",
            u.name, u.group
        ),
        &format!("{}'s row with name, source group and Active", u.email),
    )
    .await?;
    // The role shows as the row's role picker's current choice.
    let picker = w
        .find(
            &format!("{row}//select[@aria-label='Role of {}']", u.name),
            &format!("{}'s role", u.email),
        )
        .await?;
    let role = w
        .client
        .execute(
            "const s = arguments[0]; return s.options[s.selectedIndex].text;",
            vec![serde_json::to_value(&picker).map_err(|e| e.to_string())?],
        )
        .await
        .map_err(|e| format!("cannot read {}'s role: {e}", u.email))?;
    if role.as_str() != Some(u.role) {
        return Err(format!("{} shows role {role}, not {}", u.email, u.role));
    }
    Ok(())
}

/// XPath for the audit log row with this actor, action and target (a prefix).
pub fn audit_row(actor: &str, action: &str, target: &str) -> String {
    format!(
        "//table//tbody/tr[td[2][normalize-space()='{actor}']][td[3][normalize-space()='{action}']][td[4][starts-with(normalize-space(), '{target}')]]"
    )
}
