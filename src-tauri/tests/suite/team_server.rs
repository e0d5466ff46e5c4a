//! The app's client of a team server (`tessera_app::team`) against real `tessera serve`
//! instances over HTTPS on 127.0.0.1: the fingerprint it shows is the one the server prints,
//! the pinned connection signs in and acts, another server's certificate is refused with an
//! explanation, and a stopped server is reported as unreachable.

use serde_json::Value;
use tauri::Manager;
use tessera_app::error::IpcErrorKind;
use tessera_app::team::{fetch_ca, Pin, TeamServer};
use tessera_core::model::{Email, Role};
use tessera_core::password::Password;
use tessera_core::{NewUser, OpenOptions, Tessera};

const PW: &str = "correct horse battery staple";

struct Server {
    _dir: tempfile::TempDir,
    running: tessera_api::RunningServer,
    url: String,
}

async fn serve(company: &str) -> Server {
    serve_on(company, "127.0.0.1:0").await
}

async fn serve_on(company: &str, listen: &str) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = OpenOptions::new(dir.path().to_owned(), "file".parse().expect("keystore"));
    let tessera = Tessera::open(opts).await.expect("open");
    let email: Email = "ada@acme.test".parse().expect("email");
    tessera
        .init(
            company,
            NewUser {
                email,
                name: "Ada".into(),
                role: Role::Admin,
                password: Password::new(PW.into()).expect("pw"),
                source_group: String::new(),
            },
        )
        .await
        .expect("init");
    let running = tessera_api::start(
        tessera,
        tessera_api::ServerConfig {
            listen: listen.parse().expect("addr"),
            data_dir: dir.path().to_owned(),
        },
    )
    .await
    .expect("start");
    let url = format!("https://127.0.0.1:{}", running.addr.port());
    Server {
        _dir: dir,
        running,
        url,
    }
}

#[tokio::test]
async fn the_pinned_server_is_trusted_and_another_certificate_is_refused() {
    let a = serve("Acme").await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    // First contact: the CA the server presents is the one it printed.
    let presented = fetch_ca(&a.url).await.expect("fetch");
    assert_eq!(presented.fingerprint, a.running.fingerprint);
    let pin = Pin::of(&a.url, &presented).expect("pin");
    assert_eq!(pin.ca_der().expect("der"), presented.ca_der);

    let team = TeamServer::new(&pin.url, &pin.ca_der().expect("der")).expect("client");
    let e = team
        .sign_in("ada@acme.test", "not the passphrase")
        .await
        .expect_err("wrong password");
    assert_eq!(e.message, "wrong e-mail or password");
    assert_eq!(e.kind, IpcErrorKind::Forbidden);
    let signed = team.sign_in("ada@acme.test", PW).await.expect("sign in");
    assert_eq!(signed.company, "Acme");
    assert!(signed.session.starts_with("tsr_w_"));
    let current: Value = team
        .request(reqwest::Method::GET, "/v1/sessions/current", None, false)
        .await
        .expect("current");
    assert_eq!(current["user"]["email"], "ada@acme.test");

    // Another server (another CA) at the pinned address's place: refused, explained.
    let b = serve("Impostor").await;
    let wrong = TeamServer::new(&b.url, &pin.ca_der().expect("der")).expect("client");
    let e = wrong
        .sign_in("ada@acme.test", PW)
        .await
        .expect_err("another CA");
    assert_eq!(e.kind, IpcErrorKind::Forbidden, "{e:?}");
    assert!(
        e.message.contains("presented a different certificate")
            && e.message.contains(&b.running.fingerprint)
            && e.message.contains(&a.running.fingerprint),
        "{}",
        e.message
    );
    assert!(e.message.contains("nothing was sent"), "{}", e.message);

    // Signed out on the server: the credential stops working.
    team.sign_out().await.expect("sign out");
    assert!(!team.signed_in());

    // The server stopped: unreachable, nothing changed.
    let url = a.url.clone();
    a.running.shutdown().await;
    let e = team
        .sign_in("ada@acme.test", PW)
        .await
        .expect_err("stopped");
    assert_eq!(e.kind, IpcErrorKind::Unavailable, "{e:?}");
    assert!(
        e.message
            .contains(&format!("the team server at {url} cannot be reached")),
        "{}",
        e.message
    );
    b.running.shutdown().await;
}

/// `TESSERA_SERVER_URL` and `TESSERA_SERVER_FINGERPRINT` as the app reads them at start:
/// the first connection needs the fingerprint confirmed, which pins the certificate; a new
/// certificate at that address is refused until its fingerprint is confirmed in turn.
#[tokio::test]
async fn a_team_server_is_trusted_only_once_its_fingerprint_is_confirmed() {
    use tessera_app::team::{from_env, PIN_FILE};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path();
    assert!(from_env(dir, None, None).await.expect("none").is_none());
    let e = from_env(dir, Some("http://example.com"), None)
        .await
        .err()
        .expect("not https");
    assert!(
        e.starts_with("TESSERA_SERVER_URL: enter the server's HTTPS address"),
        "{e}"
    );

    let a = serve("Acme").await;
    let fp = a.running.fingerprint.clone();
    // First contact: the fingerprint is shown, nothing is pinned.
    let e = from_env(dir, Some(&a.url), None)
        .await
        .err()
        .expect("unconfirmed");
    assert!(
        e.contains(&format!("TESSERA_SERVER_FINGERPRINT={fp}")),
        "{e}"
    );
    assert!(!dir.join(PIN_FILE).exists());
    let e = from_env(dir, Some(&a.url), Some("AB:CD"))
        .await
        .err()
        .expect("wrong fingerprint");
    assert!(e.contains("not the AB:CD you gave"), "{e}");
    // Confirmed as people type it (lower case, no colons): pinned, and it signs in.
    let typed = fp.replace(':', "").to_lowercase();
    let team = from_env(dir, Some(&a.url), Some(&typed))
        .await
        .expect("confirmed")
        .expect("team");
    team.sign_in("ada@acme.test", PW).await.expect("sign in");
    assert!(dir.join(PIN_FILE).exists());
    // Later starts need no fingerprint.
    let again = from_env(dir, Some(&a.url), None)
        .await
        .expect("pinned")
        .expect("team");
    again.sign_in("ada@acme.test", PW).await.expect("sign in");

    // The server replaced at the same address, with another certificate: refused, and
    // accepted only once its fingerprint is confirmed.
    let addr = a.running.addr.to_string();
    a.running.shutdown().await;
    let b = serve_on("Acme", &addr).await;
    assert_eq!(b.url, a.url);
    let pinned = from_env(dir, Some(&b.url), None)
        .await
        .expect("pinned")
        .expect("team");
    let e = pinned
        .sign_in("ada@acme.test", PW)
        .await
        .expect_err("changed");
    assert!(
        e.message.contains("presented a different certificate"),
        "{}",
        e.message
    );
    let repinned = from_env(dir, Some(&b.url), Some(&b.running.fingerprint))
        .await
        .expect("re-pinned")
        .expect("team");
    repinned
        .sign_in("ada@acme.test", PW)
        .await
        .expect("sign in");
    b.running.shutdown().await;
}

#[test]
fn a_server_address_must_be_https_without_a_path() {
    for bad in [
        "http://tessera.example.com",
        "tessera.example.com",
        "https://tessera.example.com/v1",
        "https://user:pw@tessera.example.com",
        "https://tessera.example.com?x=1",
        "",
    ] {
        let e = tessera_app::team::base_url(bad).expect_err(bad);
        assert!(e.message.contains("HTTPS address"), "{bad}: {}", e.message);
    }
    assert_eq!(
        tessera_app::team::base_url(" https://tessera.example.com:8443/ ").expect("ok"),
        "https://tessera.example.com:8443"
    );
}

/// The same window flow, command by command, on this computer and on a team server: the
/// answers match, and on the team server every change is the server's (its own core sees it).
fn window_flow(a: &crate::common::App, server: &Tessera, base_url: &str) {
    use crate::common::{company, user_req};
    use serde_json::json;
    let status = a.ok("app_status", json!({}));
    assert_eq!(status["initialised"], true);
    assert!(status["me"].is_null(), "{status}");
    if base_url.starts_with("https://127.0.0.1:8443") {
        assert!(status["team"].is_null(), "{status}");
    } else {
        assert_eq!(status["team"]["url"], base_url);
        assert_eq!(status["team"]["reachable"], true);
    }
    let e = a.err(
        "sign_in",
        json!({"req": {"email": "admin@acme.test", "password": "wrong password here"}}),
    );
    assert_eq!(e["type"], "Forbidden");
    assert_eq!(e["message"], "wrong e-mail or password");
    let me = a.ok(
        "sign_in",
        json!({"req": {"email": "admin@acme.test", "password": crate::common::PW}}),
    );
    assert_eq!(
        (me["role"].as_str(), me["company"].as_str()),
        (Some("admin"), Some("Acme"))
    );
    assert_eq!(a.ok("get_profile", json!({}))["email"], "admin@acme.test");
    let me = a.ok(
        "update_profile",
        json!({"req": {"name": "Ada L.", "sourceGroup": "ops"}}),
    );
    assert_eq!(me["name"], "Ada L.");

    // The version the window polls moves when anyone changes anything; here, a user made
    // outside this window (the server's own core, as the CLI or another admin would).
    let before = a.ok("store_version", json!({})).as_i64().expect("version");
    assert_eq!(
        a.ok("store_version", json!({})).as_i64(),
        Some(before),
        "steady"
    );
    let elsewhere = server.clone();
    tauri::async_runtime::block_on(async move {
        let admin = elsewhere
            .actor(Some(&"admin@acme.test".parse().expect("email")))
            .await
            .expect("admin");
        elsewhere
            .add_user(
                &admin,
                tessera_core::NewUser {
                    email: "elsewhere@acme.test".parse().expect("email"),
                    name: "Made elsewhere".into(),
                    role: tessera_core::model::Role::User,
                    password: Password::new(PW.into()).expect("pw"),
                    source_group: String::new(),
                },
            )
            .await
            .expect("add");
    });
    let after = a.ok("store_version", json!({})).as_i64().expect("version");
    assert!(after > before, "{before} -> {after}");

    // Users.
    let made = a.ok("create_user", user_req("new@acme.test", "user"));
    assert_eq!(
        (made["email"].as_str(), made["live_tokens"].as_i64()),
        (Some("new@acme.test"), Some(0))
    );
    let users = a.ok("list_users", json!({}));
    assert!(users.as_array().is_some_and(|u| u.len() == 5), "{users}");
    let lost = a.ok(
        "preview_role_change",
        json!({"email": "vrm@acme.test", "role": "user"}),
    );
    assert!(lost.is_array(), "{lost}");
    assert_eq!(
        a.ok("preview_deactivate_user", json!({"email": "new@acme.test"})),
        0
    );
    let gone = a.ok("deactivate_user", json!({"email": "new@acme.test"}));
    assert_eq!(gone["user"]["active"], false);
    let back = a.ok("reactivate_user", json!({"email": "new@acme.test"}));
    assert_eq!(back["active"], true);

    // A company token: revealed once with the store's API address, then revoked.
    let shown = a.ok("create_company_token", company("billing"));
    let secret = shown["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("tsr_c_"));
    assert_eq!(shown["baseUrl"], base_url);
    let id = shown["token"]["id"].as_i64().expect("id");
    let listed = a.ok("list_company_tokens", json!({}));
    assert!(
        listed
            .as_array()
            .is_some_and(|l| l.iter().any(|t| t["id"] == id)),
        "{listed}"
    );
    let detail = a.ok("get_token", json!({"id": id}));
    assert_eq!(detail["token"]["name"], "billing");
    let accepted = |s: &str| {
        let s = s.to_owned();
        let server = server.clone();
        tauri::async_runtime::block_on(async move {
            server
                .verify(&s, &[], None, time::OffsetDateTime::now_utc())
                .await
                .expect("verify")
                .refused
                .is_none()
        })
    };
    assert!(accepted(&secret), "the store holds it");
    let noted = a.ok("set_token_note", json!({"id": id, "note": "ask billing"}));
    assert_eq!(noted["note"], "ask billing");
    let page = a.ok(
        "list_all_tokens",
        json!({"query": {"kind": "company", "sort": "name", "descending": true, "offset": 0, "limit": 10}}),
    );
    assert!(page["total"].as_i64().is_some_and(|n| n >= 1), "{page}");
    let report = a.ok("token_usage_report", json!({"id": id, "days": 7}));
    assert_eq!(report["series"].as_array().map(Vec::len), Some(7));
    let why = a.ok(
        "explain_token",
        json!({"query": {"id": id, "scopes": ["tokens:read"]}}),
    );
    assert_eq!(why["outcome"], "accepted", "{why}");
    let revoked = a.ok("set_token_status", json!({"id": id, "action": "revoke"}));
    assert_eq!(revoked["status"], "revoked");
    assert!(!accepted(&secret), "revoked in the store");

    // A leaked copy in a file on this computer: found and named, never shown whole.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(".env"), format!("TOKEN={secret}\n")).expect("write");
    let scan = a.ok(
        "scan_for_leaks",
        json!({"paths": [dir.path().display().to_string()]}),
    );
    assert_eq!(scan["hits"][0]["finding"]["status"], "revoked", "{scan}");
    assert!(!scan.to_string().contains(&secret));

    // OAuth clients.
    let client = a.ok(
        "create_client",
        json!({"req": {"name": "ci", "description": "the CI", "scopes": ["me:read"], "networks": [], "rateLimit": null, "tokenTtlSeconds": 3600}}),
    );
    assert!(client["secret"]
        .as_str()
        .is_some_and(|s| s.starts_with("tsr_s_")));
    let cid = client["client"]["id"].as_i64().expect("client id");
    let off = a.ok("set_client_status", json!({"id": cid, "action": "disable"}));
    assert_eq!(off["status"], "disabled");
    assert!(a
        .ok("list_clients", json!({}))
        .as_array()
        .is_some_and(|c| c.len() == 1));

    // The user API token, the dashboard, settings, the audit log.
    let mine = a.ok("regenerate_user_token", json!({}));
    assert!(mine["secret"]
        .as_str()
        .is_some_and(|s| s.starts_with("tsr_u_")));
    assert_eq!(a.ok("get_user_token", json!({}))["id"], mine["token"]["id"]);
    assert!(a.ok("get_dashboard", json!({}))["active"].is_number());
    let policy = a.ok("get_policy_settings", json!({}));
    let same = a.ok("update_policy", json!({"policy": policy}));
    assert_eq!(same, policy);
    let scope = a.ok(
        "add_scope",
        json!({"name": "reports:read", "description": "Reports"}),
    );
    assert_eq!(scope["name"], "reports:read");
    let audit = a.ok("list_audit", json!({"query": {"actor": "admin@acme.test"}}));
    let actions: Vec<&str> = audit
        .as_array()
        .map(|l| l.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for want in [
        "token.create",
        "token.revoke",
        "user.create",
        "client.create",
    ] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    let csv = dir.path().join("audit.csv");
    let rows = a.ok(
        "export_audit_csv",
        json!({"path": csv.display().to_string(), "query": {"action": "token.revoke"}}),
    );
    assert_eq!(rows, 1);
    assert!(std::fs::read_to_string(&csv)
        .expect("csv")
        .contains(",token.revoke,"));

    // Signed out: nothing more.
    a.ok("sign_out", json!({}));
    assert_eq!(
        a.err("list_my_tokens", json!({}))["type"],
        "Unauthenticated"
    );

    // An ordinary user's rights are the store's to check.
    a.ok(
        "sign_in",
        json!({"req": {"email": "user@acme.test", "password": crate::common::PW}}),
    );
    assert_eq!(a.err("list_users", json!({}))["type"], "Forbidden");
    assert_eq!(
        a.err("create_company_token", company("nope"))["type"],
        "Forbidden"
    );
    let mine = a.ok("create_personal_token", crate::common::personal("laptop"));
    assert!(mine["secret"]
        .as_str()
        .is_some_and(|s| s.starts_with("tsr_p_")));
    assert!(a
        .ok("list_my_tokens", json!({}))
        .as_array()
        .is_some_and(|l| l.len() == 1));
}

#[test]
fn the_window_works_the_same_on_this_computer() {
    let a = crate::common::App::with_admin_and_user();
    let core = a.core();
    window_flow(&a, &core, "https://127.0.0.1:8443");
}

#[test]
fn the_window_works_the_same_on_a_team_server() {
    let mut server = crate::common::TeamServerFixture::start();
    let a = server.window();
    window_flow(&a, &server.core, &server.url);
    // The server goes away: the window says so, and a change says it was not made.
    server.stop();
    let status = a.ok("app_status", serde_json::json!({}));
    assert_eq!(status["team"]["reachable"], false, "{status}");
    assert_eq!(
        status["me"]["email"], "user@acme.test",
        "still signed in here"
    );
    let e = a.err("create_personal_token", crate::common::personal("offline"));
    assert_eq!(e["type"], "Unavailable", "{e}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot be reached") && m.contains("nothing was changed")),
        "{e}"
    );
}

/// Settings > Connection, as the window drives it: on a first start (nothing set up here) the
/// person fetches the server's certificate, confirms its fingerprint, and the app works on that
/// server from the next start; or goes back to this computer.
#[test]
fn the_window_chooses_a_team_server_by_its_confirmed_fingerprint() {
    use serde_json::json;
    let server = crate::common::TeamServerFixture::start();
    let fp = server
        .server
        .as_ref()
        .map(|s| s.fingerprint.clone())
        .expect("running");
    let a = crate::common::app();
    let c = a.ok("get_connection", json!({}));
    assert_eq!(
        c,
        json!({"teamUrl": null, "nextTeamUrl": null, "setByEnvironment": false, "restartNeeded": false})
    );
    let cert = a.ok(
        "fetch_server_certificate",
        json!({"url": format!("{}/", server.url)}),
    );
    assert_eq!(cert, json!({"url": server.url, "fingerprint": fp}));
    let e = a.err(
        "use_team_server",
        json!({"url": server.url, "fingerprint": "00".repeat(32)}),
    );
    assert_eq!(e["type"], "Invalid");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("not the one you confirmed")),
        "{e}"
    );
    let c = a.ok(
        "use_team_server",
        json!({"url": server.url, "fingerprint": fp}),
    );
    assert_eq!(c["nextTeamUrl"], server.url.as_str());
    assert_eq!(c["restartNeeded"], true, "{c}");
    // The next start works on it, trusting the pinned certificate with no fingerprint given.
    let dir = a
        .window
        .state::<tessera_app::state::AppState>()
        .config_dir()
        .expect("dir");
    let url = tessera_app::team::chosen(&dir).expect("chosen");
    let team = tauri::async_runtime::block_on(tessera_app::team::from_env(&dir, Some(&url), None))
        .expect("pinned")
        .expect("team");
    tauri::async_runtime::block_on(team.sign_in("admin@acme.test", PW)).expect("sign in");
    // Back to this computer.
    let c = a.ok("use_this_computer", json!({}));
    assert!(c["nextTeamUrl"].is_null(), "{c}");
    assert_eq!(c["restartNeeded"], false, "{c}");
    assert!(tessera_app::team::chosen(&dir).is_none());
}

/// The team server's certificate replaced (a new server at the same address): the window's
/// sign-in is refused with both fingerprints, and from the sign-in screen's Connection the
/// person shows the new certificate, trusts it once confirmed, and the restart it asks for
/// works on the server again. Nothing is sent to a server presenting an unconfirmed one.
#[test]
fn a_replaced_certificate_is_refused_then_trusted_again_from_the_window() {
    use serde_json::json;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().to_owned();
    let first = tauri::async_runtime::block_on(serve("Acme"));
    let (url, old_fp) = (first.url.clone(), first.running.fingerprint.clone());
    let start = |dir: &std::path::Path| {
        let team =
            tauri::async_runtime::block_on(tessera_app::team::from_env(dir, Some(&url), None))
                .expect("pinned")
                .expect("team");
        crate::common::team_window(team, Some(dir.to_owned()))
    };
    // Chosen and confirmed in the window (Settings > Connection) earlier.
    tauri::async_runtime::block_on(tessera_app::team::choose(&dir, &url, &old_fp))
        .expect("first contact confirmed");
    let sign_in = json!({"req": {"email": "ada@acme.test", "password": PW}});
    let a = start(&dir);
    a.ok("sign_in", sign_in.clone());
    a.ok("sign_out", json!({}));

    let addr = first.running.addr.to_string();
    tauri::async_runtime::block_on(first.running.shutdown());
    let second = tauri::async_runtime::block_on(serve_on("Acme", &addr));
    let new_fp = second.running.fingerprint.clone();
    assert_ne!(new_fp, old_fp);
    let e = a.err("sign_in", sign_in.clone());
    assert_eq!(e["type"], "Forbidden", "{e}");
    let m = e["message"].as_str().unwrap_or_default();
    assert!(
        m.contains(&new_fp) && m.contains(&old_fp) && m.contains("on the sign-in screen"),
        "{e}"
    );
    // Nothing to restart for yet.
    let c = a.ok("get_connection", json!({}));
    assert_eq!(c["teamUrl"], url.as_str(), "{c}");
    assert_eq!(c["restartNeeded"], false, "{c}");
    let e = a.err("restart_app", json!({}));
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("nothing to switch to")),
        "{e}"
    );
    // Signed out, from the sign-in screen: show the certificate, confirm it, trust it.
    let cert = a.ok("fetch_server_certificate", json!({"url": url}));
    assert_eq!(cert["fingerprint"], new_fp.as_str());
    let c = a.ok(
        "use_team_server",
        json!({"url": url, "fingerprint": new_fp}),
    );
    assert_eq!(c["restartNeeded"], true, "{c}");
    // This window keeps refusing until it starts again on the new certificate.
    assert_eq!(a.err("sign_in", sign_in.clone())["type"], "Forbidden");
    let b = start(&dir);
    b.ok("sign_in", sign_in);
    let c = b.ok("get_connection", json!({}));
    assert_eq!(c["restartNeeded"], false, "{c}");
    tauri::async_runtime::block_on(second.running.shutdown());
}

/// `TESSERA_SERVER_URL` with no fingerprint confirmed yet: the app starts anyway, on neither
/// store, and says why; nothing works but the connection until the person confirms the
/// certificate in the window, which connects it in place (no restart), and then it signs in.
#[test]
fn a_window_that_starts_unconnected_connects_once_the_certificate_is_confirmed() {
    use serde_json::json;
    use tessera_app::state::AppState;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().to_owned();
    let server = tauri::async_runtime::block_on(serve("Acme"));
    let url = server.url.clone();
    let problem =
        tauri::async_runtime::block_on(tessera_app::team::from_env(&dir, Some(&url), None))
            .err()
            .expect("first contact needs the fingerprint confirmed");
    let state = AppState::unconnected_to(url.clone(), problem.clone(), dir.clone());
    let a = crate::common::app_with(tempfile::tempdir().expect("tempdir"), state);

    let status = a.ok("app_status", json!({}));
    assert_eq!(
        status["unconnected"],
        json!({"url": url, "problem": problem})
    );
    assert!(
        status["team"].is_null() && status["me"].is_null(),
        "{status}"
    );
    let sign_in = json!({"req": {"email": "ada@acme.test", "password": PW}});
    assert_eq!(
        a.err("list_my_tokens", json!({}))["type"],
        "Unauthenticated"
    );
    for (cmd, args) in [
        ("sign_in", sign_in.clone()),
        (
            "setup_company",
            json!({"req": {"company": "Local", "name": "Eve", "email": "eve@acme.test", "password": PW}}),
        ),
    ] {
        let e = a.err(cmd, args);
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("not connected to the team server")),
            "{cmd}: {e}"
        );
    }
    let c = a.ok("get_connection", json!({}));
    assert_eq!(c["teamUrl"], Value::Null, "{c}");
    assert_eq!(c["restartNeeded"], true, "{c}");

    // The certificate shown is the one the server printed; confirmed, the window connects.
    let cert = a.ok("fetch_server_certificate", json!({"url": url}));
    assert_eq!(cert["fingerprint"], server.running.fingerprint.as_str());
    let c = a.ok(
        "use_team_server",
        json!({"url": url, "fingerprint": server.running.fingerprint}),
    );
    assert_eq!(c["teamUrl"], url.as_str(), "{c}");
    assert_eq!(c["restartNeeded"], false, "{c}");
    let status = a.ok("app_status", json!({}));
    assert!(status["unconnected"].is_null(), "{status}");
    assert_eq!(status["team"]["url"], url.as_str(), "{status}");
    assert_eq!(status["team"]["reachable"], true, "{status}");
    a.ok("sign_in", sign_in);
    assert_eq!(a.ok("list_my_tokens", json!({})), json!([]));
    tauri::async_runtime::block_on(server.running.shutdown());
}
