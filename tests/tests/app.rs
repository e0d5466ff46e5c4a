//! The real Tessera app under Xvfb, driven through tauri-driver + WebKitWebDriver.
//! Run it with `.ci/e2e` (it builds the UI, the app and the CLI, and starts Xvfb and a
//! session bus). Screenshots of every step land in `target/e2e-artifacts/<test>/`.

use std::time::{Duration, Instant};

use tessera_e2e::{
    button, clipboard_targets, curl_bearer, dialog, input_labelled, read_clipboard,
    read_clipboard_as, write_clipboard, AppEnv, AppRun, Res, Window, TIMEOUT,
};

const COMPANY: &str = "Acme E2E";
const NAME: &str = "Ada Lovelace";
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery staple";
const TOKEN_NAME: &str = "postman";
/// The shortest countdown the policy allows; set through the CLI before the copy.
const CLIPBOARD_SECONDS: u64 = 5;
/// What the person copies from elsewhere after copying a token: Tessera must leave it alone.
const OWN_TEXT: &str = "meeting notes, copied after the token";
/// KDE's clipboard-manager convention (Klipper, and others that honour it): "secret" means
/// "do not keep this in the history". arboard's `exclude_from_history` offers it on X11.
const SECRET_HINT: &str = "x-kde-passwordManagerHint";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_then_a_personal_token_is_copied_used_cleared_from_the_clipboard_and_revoked() {
    let env = AppEnv::new().expect("the app's environment");
    let run = AppRun::start("personal-token-lifecycle", &env).await;
    let outcome = scenario(&run.window, &env).await;
    run.finish(outcome).await;
    // The app has exited (closing it clears what it copied last, if still there): the text
    // the person copied afterwards is still on the clipboard.
    match read_clipboard() {
        Ok(Some(t)) if t == OWN_TEXT => {}
        other => panic!(
            "after the app closed, the clipboard no longer holds what the person copied after the token: {other:?}"
        ),
    }
}

async fn scenario(w: &Window, s: &AppEnv) -> Res<()> {
    w.require_bundled_ui().await?;
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

    // Signed in: an admin lands on the Dashboard; My tokens is empty and the header says
    // the in-app API runs.
    w.page("Dashboard").await?;
    w.shot("dashboard").await?;
    w.go_to("My tokens").await?;
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
    let ca = s.export_ca()?;

    // Create a personal token with the 30-day preset; the one-time reveal shows it.
    let (token, reveal) = w.create_personal_token(TOKEN_NAME, "me:read").await?;
    // Copy, and paste it with xclip.
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
    // Marked as a secret for clipboard managers, so they do not keep it in their history.
    let targets = clipboard_targets()?;
    if !targets.iter().any(|t| t == SECRET_HINT) {
        return Err(format!(
            "the copied token is not marked for clipboard managers: targets {targets:?} lack {SECRET_HINT}"
        ));
    }
    let hint = read_clipboard_as(SECRET_HINT)?;
    if hint.trim() != "secret" {
        return Err(format!("{SECRET_HINT} is {hint:?}, not \"secret\""));
    }

    // The token works against the app's own HTTPS API, trusting only the exported CA.
    let me_url = s.me_url();
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
    w.confirm_stored(&reveal).await?;

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
    w.revoke_in_details(&details, Some("revoke-confirm"))
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

    // The refused request is in the token's usage (once the API has written it), with Why?
    // beside it: the explanation for that request's token, address and moment.
    let why = format!(
        "{details}//tr[.//*[contains(@class,'outcome-refused')]]//button[normalize-space()='Why?']"
    );
    let started = Instant::now();
    loop {
        w.click(
            &format!("{row}//button[normalize-space()='{TOKEN_NAME}']"),
            "the token's name in the list",
        )
        .await?;
        w.find(&details, "the details panel").await?;
        w.click(
            &format!("{details}//*[@role='tab'][normalize-space()='Usage']"),
            "the details panel's Usage tab",
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let found = w
            .client
            .find_all(fantoccini::Locator::XPath(&why))
            .await
            .map_err(|e| e.to_string())?;
        if !found.is_empty() {
            break;
        }
        if started.elapsed() > TIMEOUT {
            return Err("the refused request never appeared in the token's usage with Why?".into());
        }
        w.click(&format!("{details}//button[@aria-label='Close']"), "Close")
            .await?;
        w.wait_gone(&details, "the details panel").await?;
    }
    w.click(&why, "Why? beside the refused request").await?;
    let test = dialog("dialog", "Test a token");
    w.find(&test, "the Test a token dialog").await?;
    w.click(&button(&test, "Test"), "Test").await?;
    w.wait_text(
        &format!("{test}//section[@aria-label='Result']//*[@role='status']"),
        "the verdict on the refused request",
        |t| t.contains("Refused: revoked"),
    )
    .await?;
    w.find(
        &format!("{test}//tr[td[1][normalize-space()='known']][td[3][starts-with(normalize-space(), 'token ')][contains(., 'picked by id')]]"),
        "the token picked by id",
    )
    .await?;
    w.shot("why-refused").await?;
    w.click(
        &format!("{test}//button[@aria-label='Close']"),
        "Close the Test a token dialog",
    )
    .await?;
    w.wait_gone(&test, "the Test a token dialog").await?;
    if !w
        .client
        .find_all(fantoccini::Locator::XPath(&details))
        .await
        .map_err(|e| e.to_string())?
        .is_empty()
    {
        w.click(&format!("{details}//button[@aria-label='Close']"), "Close")
            .await?;
        w.wait_gone(&details, "the details panel").await?;
    }

    // Copy a second token, then copy something else from another program: neither the
    // countdown, nor closing the dialog, nor signing out takes the person's own text away.
    let (second, reveal) = w.create_personal_token("later-copy", "me:read").await?;
    w.click(&button(&reveal, "Copy"), "Copy").await?;
    let copied_at = Instant::now();
    w.wait_text(
        &format!("{reveal}//*[@role='status']"),
        "the copy status",
        |t| t.starts_with("Copied token."),
    )
    .await?;
    write_clipboard(OWN_TEXT)?;
    w.confirm_stored(&reveal).await?;
    // A non-event can only be seen after its time: wait out the countdown (with margin).
    let after = Duration::from_secs(CLIPBOARD_SECONDS + 3);
    tokio::time::sleep(after.saturating_sub(copied_at.elapsed())).await;
    if read_clipboard()?.as_deref() != Some(OWN_TEXT) {
        return Err(format!(
            "{:.0} s after copying the token and then other text, the clipboard no longer holds the other text",
            copied_at.elapsed().as_secs_f64()
        ));
    }
    rotate(w, &ca, &me_url).await?;
    scan(w, &ca, &me_url, &second).await?;
    w.sign_out().await?;
    if read_clipboard()?.as_deref() != Some(OWN_TEXT) {
        return Err("signing out cleared text the person copied after the token".into());
    }
    Ok(())
}

/// Rotate a token from its details panel with an hour of overlap: the successor is revealed
/// once; both work; the panel shows the old token rotating, with the address that still uses
/// it; Finish now revokes it and the API refuses it, while the successor keeps working.
async fn rotate(w: &Window, ca: &std::path::Path, me_url: &str) -> Res<()> {
    const NAME: &str = "deploy-rotated";
    let (old, reveal) = w.create_personal_token(NAME, "me:read").await?;
    w.confirm_stored(&reveal).await?;
    let row = format!("//table//tr[.//button[normalize-space()='{NAME}']]");
    w.click(
        &format!("{row}//button[normalize-space()='{NAME}']"),
        "the token to rotate in the list",
    )
    .await?;
    let details = dialog("dialog", NAME);
    w.click(&button(&details, "Rotate…"), "the details panel's Rotate…")
        .await?;
    let ask = dialog("dialog", &format!("Rotate “{NAME}”"));
    w.find(&ask, "the Rotate dialog").await?;
    w.click(
        &format!("{ask}//select[@id='rotate-overlap']/option[normalize-space()='1 hour']"),
        "the 1 hour overlap",
    )
    .await?;
    w.shot("rotate-ask").await?;
    w.click(
        &format!("{ask}//button[@type='submit' and normalize-space()='Rotate']"),
        "Rotate",
    )
    .await?;
    let reveal = dialog("dialog", "The new token");
    let field = w
        .find(&input_labelled(&reveal, "Token"), "the successor's field")
        .await?;
    let new = field
        .prop("value")
        .await
        .map_err(|e| format!("cannot read the successor: {e}"))?
        .unwrap_or_default();
    if new.len() < 20 || new == old {
        return Err("the reveal dialog does not hold a new token".into());
    }
    w.shot("rotate-reveal").await?;
    w.confirm_stored(&reveal).await?;
    // The old token still works (its use is one to move), and so does the new one.
    for (what, t) in [("old", &old), ("new", &new)] {
        let (code, body) = curl_bearer(ca, t, me_url)?;
        if code != 200 {
            return Err(format!(
                "during the overlap the {what} token answered {code}: {body}"
            ));
        }
    }
    w.find(
        &format!("{details}//*[contains(@class,'badge')][normalize-space()='Rotating']"),
        "the old token shown as Rotating",
    )
    .await?;
    // Who still uses it: the panel refreshes itself while the token is rotating, and shows
    // the address once the API has written the use.
    let source = format!(
        "{details}//table[@aria-label='Used since the rotation']//td[normalize-space()='127.0.0.1']"
    );
    let deadline = Instant::now() + TIMEOUT + Duration::from_secs(15);
    while w
        .client
        .find_all(fantoccini::Locator::XPath(&source))
        .await
        .map_err(|e| e.to_string())?
        .is_empty()
    {
        if Instant::now() > deadline {
            return Err("the rotating token's panel never listed the address that used it".into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    w.shot("rotating").await?;
    w.click(&button(&details, "Finish now"), "Finish now")
        .await?;
    let confirm = "//*[@role='alertdialog']";
    w.click(
        &button(confirm, "Finish now"),
        "the confirmation's Finish now",
    )
    .await?;
    w.wait_gone(confirm, "the finish confirmation").await?;
    w.find(
        &format!("{details}//*[contains(@class,'badge')][normalize-space()='Revoked']"),
        "the old token shown as Revoked",
    )
    .await?;
    w.shot("rotation-finished").await?;
    let (code, body) = curl_bearer(ca, &old, me_url)?;
    if code != 401 {
        return Err(format!(
            "after Finish now the old token answered {code}, not 401: {body}"
        ));
    }
    let (code, body) = curl_bearer(ca, &new, me_url)?;
    if code != 200 {
        return Err(format!(
            "after Finish now the new token answered {code}: {body}"
        ));
    }
    w.click(&format!("{details}//button[@aria-label='Close']"), "Close")
        .await?;
    w.wait_gone(&details, "the details panel").await
}

/// A token pasted into a file is found by Dashboard > Scan for leaked tokens (path typed, as
/// the native folder picker cannot be driven), shown as LIVE at its file and line by hint only,
/// and revoked from its row; the API refuses it from then on.
async fn scan(w: &Window, ca: &std::path::Path, me_url: &str, leaked: &str) -> Res<()> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let file = dir.path().join("deploy.env");
    std::fs::write(
        &file,
        format!("# deploy settings\nAPI_URL=https://example.test\nAPI_TOKEN={leaked}\n"),
    )
    .map_err(|e| format!("writing {}: {e}", file.display()))?;
    w.go_to("Dashboard").await?;
    w.page("Dashboard").await?;
    w.click(
        &button("//main", "Scan for leaked tokens"),
        "Scan for leaked tokens",
    )
    .await?;
    let d = dialog("dialog", "Scan for leaked tokens");
    w.type_into(
        &input_labelled(&d, "Or type a path"),
        "the path to scan",
        &dir.path().display().to_string(),
    )
    .await?;
    w.click(
        &format!("{d}//button[@type='submit' and normalize-space()='Scan']"),
        "Scan",
    )
    .await?;
    let place = format!("{}:3", file.display());
    let row =
        format!("{d}//table[@aria-label='Tokens found']//tr[td[1][normalize-space()='{place}']]");
    w.find(
        &format!("{row}[td[3][normalize-space()='LIVE']][td[4][contains(., 'later-copy')]]"),
        "the leaked token, LIVE, at deploy.env:3",
    )
    .await?;
    let shown = w
        .text(&w.find(&d, "the scan dialog").await?, "the scan dialog")
        .await?;
    if shown.contains(leaked) {
        return Err("the scan dialog shows the whole token".into());
    }
    w.shot("scan-found").await?;
    w.click(&button(&row, "Revoke"), "the finding's Revoke")
        .await?;
    let confirm = "//*[@role='alertdialog']";
    w.click(&button(confirm, "Revoke"), "the confirmation's Revoke")
        .await?;
    w.wait_gone(confirm, "the revoke confirmation").await?;
    w.find(
        &format!("{row}[td[3][normalize-space()='Revoked']]"),
        "the finding shown as Revoked",
    )
    .await?;
    w.shot("scan-revoked").await?;
    let (code, body) = curl_bearer(ca, leaked, me_url)?;
    if code != 401 {
        return Err(format!(
            "the leaked token answered {code} after Revoke: {body}"
        ));
    }
    w.click(
        &format!("{d}//button[@aria-label='Close']"),
        "Close the scan dialog",
    )
    .await?;
    w.wait_gone(&d, "the scan dialog").await
}
