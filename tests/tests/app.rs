//! The real Tessera app under Xvfb, driven through tauri-driver + WebKitWebDriver.
//! Run it with `.ci/e2e` (it builds the UI, the app and the CLI, and starts Xvfb and a
//! session bus). Screenshots of every step land in `target/e2e-artifacts/<test>/`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use tessera_e2e::{
    app_binary, artifacts_dir, button, cli_binary, curl_bearer, dialog, free_port, input_labelled,
    read_clipboard, run, Res, TauriDriver, Window, TIMEOUT,
};

const COMPANY: &str = "Acme E2E";
const NAME: &str = "Ada Lovelace";
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery staple";
const TOKEN_NAME: &str = "postman";
/// The shortest countdown the policy allows; set through the CLI before the copy.
const CLIPBOARD_SECONDS: u64 = 5;

struct Setup {
    data_dir: PathBuf,
    env: Vec<(String, String)>,
    cli: PathBuf,
    api_base: String,
    work: PathBuf,
}

impl Setup {
    /// `tessera <args>` against the app's data dir (the CLI and the app share the SQLite file).
    fn cli(&self, args: &[&str]) -> Res<String> {
        let what = format!("tessera {}", args.join(" "));
        let (ok, out, err) = run(
            Command::new(&self.cli)
                .args(args)
                .envs(self.env.iter().map(|(k, v)| (k, v))),
            &what,
            Duration::from_secs(30),
        )?;
        if ok {
            Ok(out)
        } else {
            Err(format!("{what} failed: {}{}", err.trim(), out.trim()))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_then_a_personal_token_is_copied_used_cleared_from_the_clipboard_and_revoked() {
    let started = Instant::now();
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no X display: run this test through .ci/e2e, which starts Xvfb and a session bus"
    );
    let shots = artifacts_dir("personal-token-lifecycle").expect("artifacts dir");
    let app = app_binary().expect("app binary");
    let cli = cli_binary().expect("CLI binary");
    let work = tempfile::tempdir().expect("temp dir");
    let data_dir = work.path().join("data");
    let api_port = free_port().expect("a free port for the API");
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
    let setup = Setup {
        data_dir: data_dir.clone(),
        cli,
        api_base: format!("https://127.0.0.1:{api_port}"),
        work: work.path().to_owned(),
        env: env.clone(),
    };

    // The marker finds this run's processes (and only them) if something is left behind.
    let marker = format!("TESSERA_DATA_DIR={}", data_dir.display());
    let driver =
        TauriDriver::start(&env, &marker, &shots.join("tauri-driver.log")).expect("tauri-driver");
    let client = driver.session(&app).await.expect("WebDriver session");
    let window = Window::new(client, shots.clone());

    let outcome = scenario(&window, &setup).await;
    if outcome.is_err() {
        window.record_failure().await;
    }
    // Ending the session closes the app; then the guard stops tauri-driver with SIGTERM.
    if let Err(e) = window.client.clone().close().await {
        eprintln!("closing the WebDriver session: {e}");
    }
    drop(driver);
    if let Err(e) = outcome {
        panic!(
            "{e}\n(screenshots, page source and tauri-driver's log are in {})",
            shots.display()
        );
    }
    eprintln!(
        "e2e passed in {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
}

async fn scenario(w: &Window, s: &Setup) -> Res<()> {
    // A build without `--features custom-protocol` loads devUrl (http://localhost:...) and
    // shows "Connection refused"; say so instead of timing out on a missing heading.
    let url = w
        .client
        .current_url()
        .await
        .map_err(|e| format!("cannot read the window's URL: {e}"))?;
    if url.scheme() == "http" || url.scheme() == "https" {
        return Err(format!(
            "the app loads {url}, so it is a dev build: build it with `cargo build -p tessera-app --features custom-protocol` (.ci/e2e does)"
        ));
    }
    // First run: create the company and its first admin.
    w.find(
        "//h1[normalize-space()='Welcome to Tessera']",
        "the first-run screen",
    )
    .await?;
    w.shot("first-run").await?;
    w.type_into(&input_labelled("", "Company"), "Company", COMPANY)
        .await?;
    w.type_into(&input_labelled("", "Your name"), "Your name", NAME)
        .await?;
    w.type_into(&input_labelled("", "E-mail"), "E-mail", EMAIL)
        .await?;
    w.type_into(&input_labelled("", "Password"), "Password", PASSWORD)
        .await?;
    w.type_into(
        &input_labelled("", "Repeat password"),
        "Repeat password",
        PASSWORD,
    )
    .await?;
    w.shot("first-run-filled").await?;
    w.click(
        &button("", "Create company and sign in"),
        "Create company and sign in",
    )
    .await?;

    // Signed in: My tokens is empty and the header says the in-app API runs.
    w.find("//h1[normalize-space()='My tokens']", "the My tokens page")
        .await?;
    w.find(
        "//h2[normalize-space()='No personal tokens yet']",
        "the empty state",
    )
    .await?;
    let api = w
        .wait_text(
            "//header//button[contains(normalize-space(.), 'API ')]",
            "the header's API status saying it runs",
            |t| t.contains("API running"),
        )
        .await
        .map_err(|e| format!("the in-app HTTPS API is not shown as running: {e}"))?;
    if !api.contains(&s.api_base) {
        return Err(format!(
            "the header shows {api:?}, not the API at {}",
            s.api_base
        ));
    }
    w.shot("my-tokens-empty").await?;

    // The CLI shares the database: shorten the clipboard countdown, export the API's CA.
    s.cli(&[
        "policy",
        "set",
        "clipboard_seconds",
        &CLIPBOARD_SECONDS.to_string(),
    ])?;
    let ca = s.work.join("tessera-ca.pem");
    s.cli(&["cert", "export", "--out", &ca.display().to_string()])?;
    if !ca.is_file() {
        return Err(format!(
            "tessera cert export wrote no {} (data dir {})",
            ca.display(),
            s.data_dir.display()
        ));
    }

    // Create a personal token with the 30-day preset.
    w.click(&button("", "Create token"), "Create token").await?;
    let create = dialog("dialog", "Create personal token");
    w.find(&create, "the Create personal token dialog").await?;
    w.type_into(
        &input_labelled(&create, "Name"),
        "the token's Name",
        TOKEN_NAME,
    )
    .await?;
    let me_read = format!(
        "{create}//fieldset[legend[normalize-space()='Scopes']]//label[.//*[normalize-space()='me:read']]//input[@type='checkbox']"
    );
    let scope = w.click(&me_read, "the me:read scope's checkbox").await?;
    if !scope.is_selected().await.map_err(|e| e.to_string())? {
        return Err("the me:read scope did not get checked".into());
    }
    let preset = format!("{create}//fieldset[legend[normalize-space()='Expires']]//label[normalize-space()='30 days']");
    w.click(&preset, "the 30 days expiry preset").await?;
    // The radio itself may be visually hidden inside its label: look it up, not for display.
    let radio = w
        .client
        .find(fantoccini::Locator::XPath(&format!(
            "{preset}/input[@type='radio']"
        )))
        .await
        .map_err(|e| format!("the 30 days radio button: {e}"))?;
    if !radio.is_selected().await.map_err(|e| e.to_string())? {
        return Err("the 30 days preset did not get selected".into());
    }
    w.wait_text(
        &format!("{create}//fieldset[legend[normalize-space()='Expires']]//*[contains(@class,'expiry-result')]"),
        "the resulting expiry date",
        |t| t.starts_with("Expires") && t.contains("30 days"),
    )
    .await?;
    w.shot("create-token").await?;
    w.click(
        &format!("{create}//button[@type='submit' and normalize-space()='Create token']"),
        "the dialog's Create token button",
    )
    .await?;

    // The one-time reveal: read the token from its field, Copy, and paste it with xclip.
    let reveal = dialog("dialog", "Your new token");
    w.find(&reveal, "the one-time reveal dialog").await?;
    let field = w
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
    w.shot("reveal").await?;
    w.click(&button(&reveal, "Copy"), "Copy").await?;
    let copied_at = Instant::now();
    let status = w
        .wait_text(
            &format!("{reveal}//*[@role='status']"),
            "the copy status",
            |t| t.starts_with("Copied token.") || t.starts_with("Copy failed"),
        )
        .await?;
    if status.starts_with("Copy failed") {
        return Err(format!("the app could not copy: {status}"));
    }
    if !status.contains(&format!("clears in {CLIPBOARD_SECONDS} s"))
        && !status.contains(&format!("clears in {} s", CLIPBOARD_SECONDS - 1))
    {
        return Err(format!(
            "the countdown does not follow the policy set through the CLI ({CLIPBOARD_SECONDS} s): {status:?}"
        ));
    }
    w.shot("copied").await?;
    match read_clipboard()? {
        Some(pasted) if pasted == token => {}
        Some(pasted) => {
            return Err(format!(
                "xclip reads {} characters that are not the token shown in the dialog",
                pasted.len()
            ))
        }
        None => return Err("xclip finds nothing on the clipboard after Copy".into()),
    }

    // The token works against the app's own HTTPS API, trusting only the exported CA.
    let me_url = format!("{}/v1/me", s.api_base);
    let (code, body) = curl_bearer(&ca, &token, &me_url)?;
    if code != 200 {
        return Err(format!(
            "GET /v1/me with the new token answered {code}: {body}"
        ));
    }
    let me: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| format!("GET /v1/me did not answer JSON ({e}): {body}"))?;
    if !body.contains(EMAIL) {
        return Err(format!("GET /v1/me does not name the token's owner: {me}"));
    }

    // Confirm it is stored; only then does the dialog close.
    let done = button(&reveal, "Done");
    let done_el = w.find(&done, "Done").await?;
    if done_el.is_enabled().await.map_err(|e| e.to_string())? {
        return Err("Done is enabled before confirming the token is stored".into());
    }
    w.click(
        &format!("{reveal}//label[normalize-space()='I have stored this token']"),
        "I have stored this token",
    )
    .await?;
    w.click(&done, "Done").await?;
    w.wait_gone(&reveal, "the reveal dialog").await?;

    // The list shows the use: leave the page and come back, as a person would.
    let row = format!("//table//tr[.//button[normalize-space()='{TOKEN_NAME}']]");
    let last_used = format!(
        "{row}/td[count(//table//th[normalize-space()='Last used']/preceding-sibling::th) + 1]"
    );
    let deadline = Instant::now() + TIMEOUT + Duration::from_secs(10);
    let shown = loop {
        w.click(&button("//nav", "Profile"), "the Profile navigation item")
            .await?;
        w.find("//h1[normalize-space()='Profile']", "the Profile page")
            .await?;
        w.click(
            &button("//nav", "My tokens"),
            "the My tokens navigation item",
        )
        .await?;
        let cell = w.find(&last_used, "the token's Last used cell").await?;
        let text = w.text(&cell, "the Last used cell").await?;
        if text != "Never used" && !text.is_empty() {
            break text;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "after the API call, My tokens still shows Last used {text:?}"
            ));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    w.find(
        &format!("{last_used}//time"),
        "a time in the Last used cell",
    )
    .await
    .map_err(|e| format!("Last used shows {shown:?} but no time: {e}"))?;
    w.shot("last-used").await?;

    // After the countdown the clipboard no longer holds the token.
    let limit = Duration::from_secs(CLIPBOARD_SECONDS + 10);
    loop {
        let now = read_clipboard()?;
        if now.as_deref() != Some(token.as_str()) {
            eprintln!(
                "clipboard cleared about {:.1} s after Copy",
                copied_at.elapsed().as_secs_f64()
            );
            break;
        }
        if copied_at.elapsed() > limit {
            return Err(format!(
                "the clipboard still holds the token {:.0} s after Copy (countdown {CLIPBOARD_SECONDS} s)",
                copied_at.elapsed().as_secs_f64()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Revoke it from the details panel; the API refuses it from then on.
    w.click(
        &format!("{row}//button[normalize-space()='{TOKEN_NAME}']"),
        "the token's name in the list",
    )
    .await?;
    let details = dialog("dialog", TOKEN_NAME);
    w.find(
        &format!("{details}//*[contains(@class,'badge')][normalize-space()='Active']"),
        "the details panel showing the token as Active",
    )
    .await?;
    w.shot("details").await?;
    w.click(&button(&details, "Revoke"), "the details panel's Revoke")
        .await?;
    let confirm = "//*[@role='alertdialog']";
    w.find(confirm, "the revoke confirmation").await?;
    w.shot("revoke-confirm").await?;
    w.click(&button(confirm, "Revoke"), "the confirmation's Revoke")
        .await?;
    w.wait_gone(confirm, "the revoke confirmation").await?;
    w.find(
        &format!("{details}//*[contains(@class,'badge')][normalize-space()='Revoked']"),
        "the details panel showing the token as Revoked",
    )
    .await?;
    w.shot("revoked").await?;

    let (code, body) = curl_bearer(&ca, &token, &me_url)?;
    if code != 401 {
        return Err(format!(
            "GET /v1/me with the revoked token answered {code}, not 401: {body}"
        ));
    }

    w.click(&format!("{details}//button[@aria-label='Close']"), "Close")
        .await?;
    w.wait_gone(&details, "the details panel").await?;
    w.find(
        &format!("{row}//*[contains(@class,'badge')][normalize-space()='Revoked']"),
        "the list showing the token as Revoked",
    )
    .await?;
    w.shot("list-revoked").await?;
    Ok(())
}
