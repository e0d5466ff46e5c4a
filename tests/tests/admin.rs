//! Administration in the real app (issue 5): an admin creates a VRM admin and a user, the
//! user makes a token that the HTTPS API accepts, the admin deactivates the user (seeing
//! first that one token will be revoked), the API refuses the token, and the audit log
//! shows each step. Run it with `.ci/e2e`; screenshots in
//! `target/e2e-artifacts/admin-deactivation/`. Then honeytokens and new-source alerts, each
//! seen on the Dashboard.

use std::time::Duration;

use tessera_e2e::{
    audit_row, button, create_user, curl_bearer, curl_bearer_as, curl_client_token, dialog,
    input_labelled, AppEnv, AppRun, NewUser, Res, Window,
};

const COMPANY: &str = "Acme Admin E2E";
const ADMIN_NAME: &str = "Ada Lovelace";
const ADMIN_EMAIL: &str = "ada@example.com";
const ADMIN_PASSWORD: &str = "correct horse battery staple";
const VRM_NAME: &str = "Vera Rubin";
const VRM_EMAIL: &str = "vera@example.com";
const VRM_GROUP: &str = "vendor-management";
const USER_NAME: &str = "Grace Hopper";
const USER_EMAIL: &str = "grace@example.com";
const USER_PASSWORD: &str = "compilers all the way down";
const USER_GROUP: &str = "engineering";
const TOKEN_NAME: &str = "deploy-script";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_vrm_admin_and_a_user_whose_token_the_api_refuses_once_the_admin_deactivates_them(
) {
    let env = AppEnv::new().expect("the app's environment");
    // The company and its first admin come from the CLI: the first-run screen is covered by
    // the personal-token test, so this one signs in through the UI.
    env.cli_with(
        &[
            "init",
            "--company",
            COMPANY,
            "--admin-email",
            ADMIN_EMAIL,
            "--admin-name",
            ADMIN_NAME,
        ],
        &[("TESSERA_PASSWORD", ADMIN_PASSWORD)],
    )
    .expect("tessera init");
    let run = AppRun::start("admin-deactivation", &env).await;
    let outcome = scenario(&run.window, &env).await;
    run.finish(outcome).await;
}

async fn scenario(w: &Window, s: &AppEnv) -> Res<()> {
    w.require_bundled_ui().await?;

    // 1. The admin signs in and lands on the Dashboard.
    w.find(
        &format!("//h1[normalize-space()='Sign in to Tessera']/following-sibling::p[normalize-space()='{COMPANY}']"),
        "the sign-in screen naming the company made with `tessera init`",
    )
    .await?;
    w.shot("sign-in").await?;
    // A wrong password: the real backend's refusal, as the person reads it.
    w.type_into(&input_labelled("", "E-mail"), "E-mail", ADMIN_EMAIL)
        .await?;
    w.type_into(
        &input_labelled("", "Password"),
        "Password",
        "not the password",
    )
    .await?;
    w.click(
        "//form//button[@type='submit' and normalize-space()='Sign in']",
        "Sign in",
    )
    .await?;
    w.wait_text("//form//*[@role='alert']", "the sign-in error", |t| {
        t == "Wrong e-mail or password"
    })
    .await
    .map_err(|e| format!("a wrong password does not read \"Wrong e-mail or password\": {e}"))?;
    w.shot("wrong-password").await?;
    w.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_NAME).await?;
    w.page("Dashboard").await?;
    w.shot("admin-dashboard").await?;
    let ca = s.export_ca()?;

    // 2. Users: create a VRM admin and a user through the create-user dialog.
    w.go_to("Users").await?;
    for u in [
        NewUser {
            email: VRM_EMAIL,
            name: VRM_NAME,
            role: "VRM admin",
            password: ADMIN_PASSWORD,
            group: VRM_GROUP,
        },
        NewUser {
            email: USER_EMAIL,
            name: USER_NAME,
            role: "User",
            password: USER_PASSWORD,
            group: USER_GROUP,
        },
    ] {
        create_user(w, &u).await?;
    }
    w.shot("users-created").await?;

    // 3. The user signs in, creates a personal token, and the API accepts it.
    w.sign_out().await?;
    w.sign_in(USER_EMAIL, USER_PASSWORD, USER_NAME).await?;
    w.page("My tokens").await?;
    for admin_only in ["Users", "Audit log", "Dashboard"] {
        if w.client
            .find_all(fantoccini::Locator::XPath(&button("//nav", admin_only)))
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .is_some()
        {
            return Err(format!(
                "a user's navigation offers the admin screen {admin_only}"
            ));
        }
    }
    w.shot("user-my-tokens").await?;
    let (token, reveal) = w.create_personal_token(TOKEN_NAME, "me:read").await?;
    w.confirm_stored(&reveal).await?;
    w.find(
        &format!("//table//tr[.//button[normalize-space()='{TOKEN_NAME}']]"),
        "the new token in the user's list",
    )
    .await?;
    w.shot("user-token-created").await?;
    let (code, body) = curl_bearer(&ca, &token, &s.me_url())?;
    if code != 200 {
        return Err(format!(
            "GET /v1/me with the user's new token answered {code}: {body}"
        ));
    }
    if !body.contains(USER_EMAIL) {
        return Err(format!(
            "GET /v1/me with the user's token does not name {USER_EMAIL}: {body}"
        ));
    }

    // 4. The admin deactivates the user, told first that one token will be revoked.
    w.sign_out().await?;
    w.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_NAME).await?;
    w.page("Dashboard").await?;
    w.go_to("Users").await?;
    let row = format!("//table//tr[@data-user='{USER_EMAIL}']");
    w.wait_text(
        &format!("{row}/td[count(//table//th[normalize-space()='Live tokens']/preceding-sibling::th) + 1]"),
        "the user's Live tokens count",
        |t| t == "1",
    )
    .await?;
    w.click(
        &format!("{row}//button[@aria-label='Deactivate {USER_NAME}']"),
        &format!("Deactivate {USER_NAME}"),
    )
    .await?;
    let confirm = dialog("alertdialog", &format!("Deactivate {USER_NAME}?"));
    w.find(&confirm, "the deactivate confirmation").await?;
    w.wait_text(
        &format!("{confirm}//*[@role='status']"),
        "the count of tokens the deactivation revokes",
        |t| t == "1 token will be revoked.",
    )
    .await?;
    w.shot("deactivate-confirm").await?;
    w.click(
        &format!("{confirm}//button[normalize-space()='Deactivate']"),
        "the confirmation's Deactivate",
    )
    .await?;
    w.wait_gone(&confirm, "the deactivate confirmation").await?;
    w.find(
        &format!("{row}//*[contains(@class,'badge')][normalize-space()='Deactivated']"),
        "the user's row showing Deactivated",
    )
    .await?;
    w.find(
        &format!("{row}//button[@aria-label='Reactivate {USER_NAME}']"),
        "Reactivate in place of Deactivate",
    )
    .await?;
    w.shot("user-deactivated").await?;

    // 5. The API refuses the token now, saying why.
    let (code, body) = curl_bearer(&ca, &token, &s.me_url())?;
    if code != 401 {
        return Err(format!(
            "GET /v1/me with the deactivated user's token answered {code}, not 401: {body}"
        ));
    }
    let refusal: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("the 401 is not JSON ({e}): {body}"))?;
    let why = format!(
        "{} {}",
        refusal["error"].as_str().unwrap_or_default(),
        refusal["message"].as_str().unwrap_or_default()
    );
    // Deactivation revoked the token in the same transaction, and status is the first rule
    // checked: the answer is `revoked`, nothing else.
    if refusal["error"] != "revoked" {
        return Err(format!(
            "the 401 does not say the token was revoked by the deactivation: {body}"
        ));
    }
    eprintln!("the API refuses the token: {why}");

    // 5b. The admin asks the app why: Dashboard > Test a token, the token pasted. Every rule
    // is listed, both that refuse it: the status (revoked) and the owner (deactivated).
    w.go_to("Dashboard").await?;
    w.page("Dashboard").await?;
    w.click(&button("//main", "Test a token"), "Test a token")
        .await?;
    let test = dialog("dialog", "Test a token");
    w.find(&test, "the Test a token dialog").await?;
    w.type_into(&input_labelled(&test, "Token"), "the token to test", &token)
        .await?;
    w.type_into(
        &input_labelled(&test, "Scopes to ask about"),
        "the scopes to ask about",
        "me:read users:write",
    )
    .await?;
    w.click(&button(&test, "Test"), "Test").await?;
    w.wait_text(
        &format!("{test}//section[@aria-label='Result']//*[@role='status']"),
        "the verdict",
        |t| t.contains("Refused: revoked"),
    )
    .await?;
    for (rule, result, detail) in [
        ("status", "fail", "revoked".to_owned()),
        (
            "owner_active",
            "fail",
            format!("{USER_EMAIL} is deactivated"),
        ),
        ("scope:me:read", "pass", "held".to_owned()),
        (
            "scope:users:write",
            "fail",
            "not held (holds me:read)".to_owned(),
        ),
        ("network", "pass", "any address".to_owned()),
    ] {
        w.find(
            &format!(
                "{test}//tr[td[1][normalize-space()='{rule}']][td[2][contains(normalize-space(), '{result}')]][td[3][normalize-space()='{detail}']]"
            ),
            &format!("the {rule} rule: {result}, {detail}"),
        )
        .await?;
    }
    w.shot("test-a-token").await?;
    w.click(
        &format!("{test}//button[@aria-label='Close']"),
        "Close the Test a token dialog",
    )
    .await?;
    w.wait_gone(&test, "the Test a token dialog").await?;

    // 6. The audit log shows each step.
    w.go_to("Audit log").await?;
    let user_target = |email: &str| format!("user:{email}");
    let expected = [
        (ADMIN_EMAIL, "user.create", user_target(VRM_EMAIL)),
        (ADMIN_EMAIL, "user.create", user_target(USER_EMAIL)),
        (USER_EMAIL, "user.sign_in", user_target(USER_EMAIL)),
        (USER_EMAIL, "token.create", "token:".to_owned()),
        (ADMIN_EMAIL, "user.deactivate", user_target(USER_EMAIL)),
    ];
    for (actor, action, target) in &expected {
        w.find(
            &audit_row(actor, action, target),
            &format!("the audit entry {action} by {actor} on {target}"),
        )
        .await?;
    }
    // The entries say what was done: the roles given, the token's name and owner.
    for (email, role) in [(VRM_EMAIL, "vrm_admin"), (USER_EMAIL, "user")] {
        w.find(
            &format!(
                "{}/td[5][normalize-space()='role: {role}']",
                audit_row(ADMIN_EMAIL, "user.create", &user_target(email))
            ),
            &format!("the user.create entry for {email} giving the role {role}"),
        )
        .await?;
    }
    let token_entry = audit_row(USER_EMAIL, "token.create", "token:");
    w.find(
        &format!(
            "{token_entry}/td[5][contains(., 'name: {TOKEN_NAME}') and contains(., 'owner: {USER_EMAIL}')]"
        ),
        "the token.create entry's details naming the token and its owner",
    )
    .await?;
    let token_target = w
        .wait_text(
            &format!("{token_entry}/td[4]"),
            "the token.create entry's target",
            |t| t.starts_with("token:"),
        )
        .await?;
    let token_id = token_target.trim_start_matches("token:").trim().to_owned();
    w.shot("audit-log").await?;

    // Filtered to the deactivation: one entry, which lists the revoked token.
    let filters = "//form[@role='search']";
    w.type_into(
        &input_labelled(filters, "Action"),
        "the Action filter",
        "user.deactivate",
    )
    .await?;
    w.click(&button(filters, "Apply"), "Apply").await?;
    let deactivated = audit_row(ADMIN_EMAIL, "user.deactivate", &user_target(USER_EMAIL));
    w.wait_text(
        "//main//*[contains(@class,'load-more')]/span[1]",
        "the count of entries shown after filtering by user.deactivate",
        |t| t.starts_with("1 "),
    )
    .await?;
    let rows = w
        .client
        .find_all(fantoccini::Locator::XPath("//main//table/tbody/tr"))
        .await
        .map_err(|e| format!("the filtered audit rows: {e}"))?
        .len();
    if rows != 1 {
        return Err(format!(
            "filtering the audit log by user.deactivate shows {rows} rows, not 1"
        ));
    }
    w.find(
        &format!("{deactivated}/td[5][normalize-space()='tokens_revoked: {token_id}']"),
        &format!("the user.deactivate entry listing the revoked token {token_id}"),
    )
    .await?;
    w.shot("audit-log-deactivate").await?;

    // 7. The admin plants a honeytoken. Presented, it is refused exactly like a token nobody
    // issued, and the Dashboard shows who presented it until the admin acknowledges it.
    w.go_to("My tokens").await?;
    w.page("My tokens").await?;
    let (honey, reveal) = w.create_token_as("aws-prod-decoy", "me:read", true).await?;
    w.confirm_stored(&reveal).await?;
    w.find(
        "//table//tr[.//button[normalize-space()='aws-prod-decoy']]//*[contains(@class,'badge')][normalize-space()='Honeytoken']",
        "the Honeytoken badge in the list",
    )
    .await?;
    let (code, body) = curl_bearer(&ca, &honey, &s.me_url())?;
    if code != 401 || !body.contains("\"unknown\"") {
        return Err(format!("the honeytoken answered {code}: {body}"));
    }
    let (again, body_again) = curl_bearer(&ca, &honey, &s.me_url())?;
    if again != code || body_again != body {
        return Err(format!(
            "the honeytoken's second answer differs: {again} {body_again}"
        ));
    }
    w.go_to("Dashboard").await?;
    w.page("Dashboard").await?;
    let card = "//main//section[@role='alert'][.//h2[contains(normalize-space(), 'honeytoken')]]";
    w.find(
        &format!("{card}//tr[td[2][contains(., 'aws-prod-decoy')]][td[3][normalize-space()='127.0.0.1']][td[4][starts-with(normalize-space(), 'curl/')]]"),
        "the red honeytoken card naming the decoy, 127.0.0.1 and curl",
    )
    .await?;
    w.shot("honeytoken-alert").await?;
    w.click(&button(card, "Acknowledge"), "Acknowledge").await?;
    w.wait_gone(card, "the honeytoken card").await?;
    w.shot("honeytoken-acknowledged").await?;

    // 8. New-source alerts: the admin turns them on for a token in its details panel; the
    // token's first client is its baseline, and a request from another client shows on the
    // Dashboard as a token used from a new place.
    w.go_to("My tokens").await?;
    w.page("My tokens").await?;
    let (watched, reveal) = w.create_token_as("deploy-watch", "me:read", false).await?;
    w.confirm_stored(&reveal).await?;
    w.click(
        "//table//tr//button[normalize-space()='deploy-watch']",
        "the token's name in the list",
    )
    .await?;
    let details = dialog("dialog", "deploy-watch");
    let alerts_row =
        format!("{details}//dt[normalize-space()='New-source alerts']/following-sibling::dd[1]");
    w.click(
        &button(&alerts_row, "Turn on"),
        "New-source alerts: Turn on",
    )
    .await?;
    w.wait_text(
        &alerts_row,
        "the New-source alerts row after Turn on",
        |t| t.starts_with("On:"),
    )
    .await?;
    w.click(&format!("{details}//button[@aria-label='Close']"), "Close")
        .await?;
    w.wait_gone(&details, "the details panel").await?;
    for agent in [None, Some("sqlmap/1.8")] {
        let (code, body) = curl_bearer_as(&ca, &watched, &s.me_url(), agent)?;
        if code != 200 {
            return Err(format!("the watched token answered {code}: {body}"));
        }
        // The usage writer flushes every 200 ms; the first use must be the baseline.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    w.go_to("Dashboard").await?;
    w.page("Dashboard").await?;
    let section =
        "//main//section[.//h2[normalize-space()='1 token used from a new place in 24 h']]";
    w.find(
        &format!("{section}//tr[td[2][contains(., 'deploy-watch')]][td[3][normalize-space()='client sqlmap']][td[4][normalize-space()='127.0.0.1']][td[5][normalize-space()='sqlmap/1.8']]"),
        "the new-places card naming deploy-watch, client sqlmap, 127.0.0.1",
    )
    .await?;
    w.shot("new-source-alert").await?;
    // The admin does not recognise the client: the token's name opens its details, where it
    // is revoked, and the API refuses it from then on.
    w.click(
        &format!("{section}//tr[td[2][contains(., 'deploy-watch')]]//button[normalize-space()='deploy-watch']"),
        "deploy-watch in the new-places card",
    )
    .await?;
    let details = dialog("dialog", "deploy-watch");
    w.revoke_in_details(&details, None).await?;
    let (code, body) = curl_bearer_as(&ca, &watched, &s.me_url(), Some("sqlmap/1.8"))?;
    if code != 401 {
        return Err(format!(
            "the revoked watched token answered {code}, not 401: {body}"
        ));
    }

    w.click(&format!("{details}//button[@aria-label='Close']"), "Close")
        .await?;
    w.wait_gone(&details, "the details panel").await?;

    // 9. OAuth clients: the admin registers one under Company tokens, reads its client ID
    // and secret from the one-time reveal, and a service gets an access token with them
    // (curl, client_secret_basic) and calls the API; disabling the client in the window
    // stops that token at once.
    w.go_to("Company tokens").await?;
    w.page("Company tokens").await?;
    w.click(
        &button("//main", "Register OAuth client"),
        "Register OAuth client",
    )
    .await?;
    let register = dialog("dialog", "Register OAuth client");
    w.find(&register, "the Register OAuth client dialog")
        .await?;
    w.type_into(
        &input_labelled(&register, "Name"),
        "the client's Name",
        "ci-client",
    )
    .await?;
    let scope_box = format!(
        "{register}//fieldset[legend[normalize-space()='Scopes its tokens may carry']]//label[.//*[normalize-space()='me:read']]//input[@type='checkbox']"
    );
    w.click(&scope_box, "the me:read scope's checkbox").await?;
    w.shot("register-client").await?;
    w.click(
        &format!("{register}//button[@type='submit' and normalize-space()='Register client']"),
        "the dialog's Register client button",
    )
    .await?;
    let reveal = dialog("dialog", "Your new OAuth client");
    w.find(&reveal, "the client's one-time reveal").await?;
    let value_of = |label: &'static str| {
        let xpath = input_labelled(&reveal, label);
        async move {
            let el = w.find(&xpath, label).await?;
            el.prop("value")
                .await
                .map_err(|e| format!("cannot read {label}: {e}"))
                .map(Option::unwrap_or_default)
        }
    };
    let client_id = value_of("Client ID").await?;
    let secret = value_of("Client secret").await?;
    if !client_id.starts_with("tsc_") || !secret.starts_with("tsr_s_") {
        return Err(format!(
            "the reveal shows no client ID and secret: {client_id:?}, {} characters",
            secret.len()
        ));
    }
    w.shot("client-reveal").await?;
    w.click(
        &format!("{reveal}//label[normalize-space()='I have stored this secret']"),
        "I have stored this secret",
    )
    .await?;
    w.click(&button(&reveal, "Done"), "Done").await?;
    w.wait_gone(&reveal, "the client's reveal").await?;
    let token_url = s.me_url().replace("/v1/me", "/oauth/token");
    let (code, body) = curl_client_token(&ca, &client_id, &secret, &token_url)?;
    if code != 200 {
        return Err(format!("the token endpoint answered {code}: {body}"));
    }
    let grant: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("the token answer is not JSON ({e})"))?;
    let access = grant["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (code, body) = curl_bearer(&ca, &access, &s.me_url())?;
    if code != 200 || !body.contains("\"kind\":\"access\"") {
        return Err(format!("the access token answered {code}: {body}"));
    }
    let row = "//table//tr[@data-client-id][.//strong[normalize-space()='ci-client']]";
    w.wait_text(row, "ci-client's row", |t| t.contains("Active"))
        .await?;
    w.click(&button(row, "Disable"), "Disable ci-client")
        .await?;
    w.click(
        &button("//*[@role='alertdialog']", "Disable client"),
        "the confirmation's Disable client",
    )
    .await?;
    w.wait_text(row, "ci-client's row after Disable", |t| {
        t.contains("Disabled")
    })
    .await?;
    w.shot("client-disabled").await?;
    let (code, body) = curl_bearer(&ca, &access, &s.me_url())?;
    if code != 401 {
        return Err(format!(
            "the disabled client's access token answered {code}, not 401: {body}"
        ));
    }
    Ok(())
}
