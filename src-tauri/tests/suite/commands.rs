//! The app's commands through Tauri's IPC (mock runtime), against a real SQLite file: the
//! rights rules hold whatever the window sends, because the backend checks them.

use crate::common;

use common::{app, company, personal, user_req, App, PW};
use serde_json::{json, Value};
use tauri::Manager;
use tessera_app::state::AppState;

#[test]
fn first_run_creates_the_company_and_signs_the_admin_in() {
    let a = app();
    let s = a.ok("app_status", json!({}));
    assert_eq!(s["initialised"], false);
    assert!(s["me"].is_null());
    let me = a.ok("setup_company", json!({"req": {"company": "Acme", "name": "Ada", "email": "admin@acme.test", "password": PW}}));
    assert_eq!(me["role"], "admin");
    assert_eq!(me["company"], "Acme");
    let s = a.ok("app_status", json!({}));
    assert_eq!(s["initialised"], true);
    assert_eq!(s["me"]["email"], "admin@acme.test");
    let e = a.err(
        "setup_company",
        json!({"req": {"company": "Evil", "name": "E", "email": "e@acme.test", "password": PW}}),
    );
    assert_eq!(e["type"], "Invalid");
}

#[test]
fn every_token_command_needs_a_signed_in_user() {
    let a = App::with_admin_and_user();
    for (cmd, body) in [
        ("list_my_tokens", json!({})),
        ("create_personal_token", personal("x")),
        ("create_company_token", company("x")),
        ("regenerate_user_token", json!({})),
        ("get_token", json!({"id": 1})),
        ("set_token_status", json!({"id": 1, "action": "revoke"})),
        ("delete_token", json!({"id": 1})),
        ("copy_secret", json!({"text": "x"})),
        ("get_profile", json!({})),
    ] {
        let e = a.err(cmd, body);
        assert_eq!(e["type"], "Unauthenticated", "{cmd}: {e}");
    }
}

#[test]
fn a_wrong_password_is_refused_without_saying_which_part_was_wrong() {
    let a = App::with_admin_and_user();
    let e = a.err(
        "sign_in",
        json!({"req": {"email": "user@acme.test", "password": "wrong password here"}}),
    );
    let wrong = json!({"type": "Forbidden", "field": null, "message": "wrong e-mail or password"});
    assert_eq!(e, wrong);
    let e = a.err(
        "sign_in",
        json!({"req": {"email": "ghost@acme.test", "password": PW}}),
    );
    assert_eq!(e, wrong);
    // Too short to be anyone's password: the same answer.
    let e = a.err(
        "sign_in",
        json!({"req": {"email": "user@acme.test", "password": "short"}}),
    );
    assert_eq!(e, wrong);
}

#[test]
fn a_user_cannot_create_company_tokens_through_any_command() {
    let a = App::with_admin_and_user();
    a.sign_in("user@acme.test");
    let e = a.err("create_company_token", company("svc"));
    assert_eq!(e["type"], "Forbidden", "{e}");
    let e = a.err("list_company_tokens", json!({}));
    assert_eq!(e["type"], "Forbidden", "{e}");
    a.ok("sign_out", json!({}));
    a.sign_in("vrm@acme.test");
    let r = a.ok("create_company_token", company("svc"));
    assert!(r["secret"].as_str().expect("secret").starts_with("tsr_c_"));
}

#[test]
fn a_user_cannot_see_or_change_another_users_tokens() {
    let a = App::with_admin_and_user();
    a.sign_in("admin@acme.test");
    let admin_token = a.ok("create_personal_token", personal("admin-ci"));
    let id = admin_token["token"]["id"].clone();
    a.ok("sign_out", json!({}));
    a.sign_in("user@acme.test");
    let mine = a.ok("list_my_tokens", json!({}));
    assert!(mine.as_array().expect("array").is_empty());
    for (cmd, body) in [
        ("get_token", json!({"id": id})),
        ("set_token_status", json!({"id": id, "action": "revoke"})),
        (
            "set_token_status",
            json!({"id": id, "action": "deactivate"}),
        ),
        ("set_token_note", json!({"id": id, "note": "mine now"})),
        ("delete_token", json!({"id": id})),
    ] {
        let e = a.err(cmd, body);
        assert_eq!(e["type"], "NotFound", "{cmd}: {e}");
    }
    a.ok("sign_out", json!({}));
    a.sign_in("admin@acme.test");
    let detail = a.ok("get_token", json!({"id": id}));
    assert_eq!(detail["token"]["status"], "active");
}

#[test]
fn scopes_offered_and_granted_follow_the_role() {
    let a = App::with_admin_and_user();
    a.sign_in("user@acme.test");
    let scopes: Vec<String> = a
        .ok("list_grantable_scopes", json!({}))
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["name"].as_str().expect("name").to_owned())
        .collect();
    assert!(scopes.contains(&"tokens:read".to_owned()));
    assert!(!scopes.contains(&"users:write".to_owned()));
    let mut req = personal("sneaky");
    req["req"]["scopes"] = json!(["users:write"]);
    let e = a.err("create_personal_token", req);
    assert_eq!(e["type"], "Forbidden", "{e}");
}

#[test]
fn creating_and_regenerating_tokens_reveals_the_secret_once() {
    let a = App::with_admin_and_user();
    a.sign_in("user@acme.test");
    let r = a.ok("create_personal_token", personal("ci"));
    let secret = r["secret"].as_str().expect("secret");
    assert!(secret.starts_with("tsr_p_"));
    let list = a.ok("list_my_tokens", json!({}));
    assert!(!list.to_string().contains(secret));
    let detail = a.ok("get_token", json!({"id": r["token"]["id"]}));
    assert!(!detail.to_string().contains(secret));
    assert!(a.ok("get_user_token", json!({})).is_null());
    let first = a.ok("regenerate_user_token", json!({}));
    let second = a.ok("regenerate_user_token", json!({}));
    assert_ne!(first["secret"], second["secret"]);
    let current = a.ok("get_user_token", json!({}));
    assert_eq!(current["id"], second["token"]["id"]);
    let e = a.err("create_personal_token", personal(""));
    assert_eq!(e["type"], "Invalid");
    assert_eq!(e["field"], "name", "{e}");
    assert!(
        e["message"].as_str().expect("msg").starts_with("required"),
        "{e}"
    );
}

#[test]
fn a_deactivated_user_loses_the_session_at_once() {
    let a = App::with_admin_and_user();
    a.sign_in("user@acme.test");
    a.ok("list_my_tokens", json!({}));
    let state = a.window.state::<AppState>();
    let core = state.core().expect("local").clone();
    tauri::async_runtime::block_on(async {
        let op = core.actor(None).await.expect("operator");
        core.deactivate_user(&op, &"user@acme.test".parse().expect("email"))
            .await
            .expect("deactivate");
    });
    let e = a.err("list_my_tokens", json!({}));
    assert_eq!(e["type"], "Unauthenticated", "{e}");
}

#[test]
fn profile_and_password_changes_apply() {
    let a = App::with_admin_and_user();
    a.sign_in("user@acme.test");
    let me = a.ok(
        "update_profile",
        json!({"req": {"name": "Uli Renamed", "sourceGroup": "ops"}}),
    );
    assert_eq!(me["name"], "Uli Renamed");
    assert_eq!(me["sourceGroup"], "ops");
    let e = a.err(
        "change_password",
        json!({"req": {"current": "not the password", "next": "a brand new passphrase"}}),
    );
    let wrong_current = json!({"type": "Invalid", "field": "current_password", "message": "the current password is wrong"});
    assert_eq!(e, wrong_current);
    // Too short to be anyone's password: the same answer.
    let e = a.err(
        "change_password",
        json!({"req": {"current": "short", "next": "a brand new passphrase"}}),
    );
    assert_eq!(e, wrong_current);
    let e = a.err(
        "change_password",
        json!({"req": {"current": PW, "next": "short"}}),
    );
    assert_eq!(e["type"], "Invalid", "{e}");
    assert_eq!(e["field"], "password", "{e}");
    assert!(
        e["message"].as_str().expect("msg").starts_with("too short"),
        "{e}"
    );
    a.ok(
        "change_password",
        json!({"req": {"current": PW, "next": "a brand new passphrase"}}),
    );
    a.ok("sign_out", json!({}));
    let e = a.err(
        "sign_in",
        json!({"req": {"email": "user@acme.test", "password": PW}}),
    );
    assert_eq!(e["type"], "Forbidden");
    a.ok(
        "sign_in",
        json!({"req": {"email": "user@acme.test", "password": "a brand new passphrase"}}),
    );
}

#[test]
fn pages_from_anywhere_but_the_app_get_no_command() {
    let a = App::with_admin_and_user();
    for origin in [
        "https://evil.example",
        "http://127.0.0.1:8443/",
        "https://127.0.0.1:8443/",
    ] {
        let e = a.call_from(origin.parse().expect("url"), "app_status", json!({}));
        let e = e.expect_err("must be refused");
        assert!(e.to_string().contains("not allowed"), "{origin}: {e}");
    }
}

#[test]
fn a_tokens_note_is_changed_by_whoever_manages_it_and_shown_everywhere() {
    let a = App::with_admin_and_user();
    a.sign_in("user@acme.test");
    let r = a.ok("create_personal_token", personal("ci"));
    let id = r["token"]["id"].clone();
    assert_eq!(r["token"]["note"], "");
    let t = a.ok(
        "set_token_note",
        json!({"id": id, "note": "  nightly export; ask #data  "}),
    );
    assert_eq!(t["note"], "nightly export; ask #data");
    let listed = a.ok("list_my_tokens", json!({}));
    assert_eq!(listed[0]["note"], "nightly export; ask #data", "{listed}");
    let detail = a.ok("get_token", json!({"id": id}));
    assert_eq!(detail["token"]["note"], "nightly export; ask #data");
    // Too long, or holding a token: refused beside the note field, nothing changed.
    let e = a.err(
        "set_token_note",
        json!({"id": id, "note": "x".repeat(2001)}),
    );
    assert_eq!(
        (e["type"].as_str(), e["field"].as_str()),
        (Some("Invalid"), Some("note")),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .expect("msg")
            .starts_with("too long (2001 characters)"),
        "{e}"
    );
    let secret = r["secret"].as_str().expect("secret");
    let e = a.err(
        "set_token_note",
        json!({"id": id, "note": format!("key {secret}")}),
    );
    assert_eq!(e["field"], "note", "{e}");
    assert!(!e.to_string().contains(secret), "{e}");
    assert_eq!(
        a.ok("get_token", json!({"id": id}))["token"]["note"],
        "nightly export; ask #data"
    );
    // An admin manages every token, so may change its note too.
    a.ok("sign_out", json!({}));
    a.sign_in("admin@acme.test");
    let t = a.ok("set_token_note", json!({"id": id, "note": ""}));
    assert_eq!(t["note"], "");
    let audit = a.ok("list_audit", json!({"query": {"action": "token.note"}}));
    assert_eq!(audit.as_array().map(Vec::len), Some(2), "{audit}");
    // Newest first; the details cross as the JSON object the log holds.
    assert_eq!(audit[0]["details"]["note"], "", "{audit}");
    assert_eq!(
        audit[1]["details"]["note"], "nightly export; ask #data",
        "{audit}"
    );
}

#[test]
fn create_token_errors_name_the_dialog_field() {
    let a = App::with_admin_and_user();
    a.sign_in("user@acme.test");
    let mut req = personal("net");
    req["req"]["networks"] = json!(["10.0.0.0/33"]);
    let e = a.err("create_personal_token", req);
    assert_eq!(e["type"], "Invalid", "{e}");
    assert_eq!(e["field"], "allowed_networks", "{e}");
    assert!(
        e["message"]
            .as_str()
            .expect("msg")
            .starts_with("'10.0.0.0/33' is not an IP address"),
        "{e}"
    );
    let mut req = personal("rate");
    req["req"]["rateLimit"] = json!(0);
    let e = a.err("create_personal_token", req);
    assert_eq!(e["type"], "Invalid", "{e}");
    assert_eq!(e["field"], "rate_limit", "{e}");
    assert!(
        e["message"]
            .as_str()
            .expect("msg")
            .starts_with("0 requests per minute is not allowed"),
        "{e}"
    );
    // Huge lifetimes and far dates are refused with the field, never a panic.
    for expiry in [
        json!({"type": "days", "days": u32::MAX}),
        json!({"type": "days", "days": 0}),
        json!({"type": "at", "at": "9999-12-31T23:59:59Z"}),
    ] {
        let mut req = personal("long");
        req["req"]["expiry"] = expiry.clone();
        let e = a.err("create_personal_token", req);
        assert_eq!(e["type"], "Invalid", "{expiry}: {e}");
        assert_eq!(e["field"], "expiry", "{expiry}: {e}");
        assert!(
            !e["message"].as_str().expect("msg").is_empty(),
            "{expiry}: {e}"
        );
    }
    // The app still answers afterwards.
    a.ok("create_personal_token", personal("fine"));
}

#[test]
fn every_admin_command_is_refused_to_users_and_vrm_admins() {
    let a = App::with_admin_and_user();
    let out = tempfile::tempdir().expect("tempdir");
    let never_written = out.path().join("never-written.csv");
    let admin_only: Vec<(&str, Value)> = vec![
        ("list_users", json!({})),
        ("create_user", user_req("x@acme.test", "user")),
        (
            "preview_role_change",
            json!({"email": "user@acme.test", "role": "admin"}),
        ),
        (
            "set_user_role",
            json!({"email": "user@acme.test", "role": "admin"}),
        ),
        (
            "preview_deactivate_user",
            json!({"email": "admin@acme.test"}),
        ),
        ("deactivate_user", json!({"email": "admin@acme.test"})),
        ("reactivate_user", json!({"email": "admin@acme.test"})),
        ("list_audit", json!({"query": {}})),
        (
            "export_audit_csv",
            json!({"path": never_written.to_str().expect("path"), "query": {}}),
        ),
        (
            "update_policy",
            json!({"policy": {"maxLifetimeDays": 3650, "expiryRequired": false, "defaultLifetimeDays": 90,
            "defaultIdleDays": 30, "maxRateLimit": 1200, "defaultRateLimit": 600, "queryParamTokens": true,
            "maxPersonalTokens": 100, "clipboardSeconds": 30, "usageRetentionDays": 90}}),
        ),
        ("add_scope", json!({"name": "evil:all", "description": ""})),
    ];
    for who in ["user@acme.test", "vrm@acme.test"] {
        a.sign_in(who);
        for (cmd, body) in &admin_only {
            let e = a.err(cmd, body.clone());
            assert_eq!(e["type"], "Forbidden", "{who} {cmd}: {e}");
        }
        a.ok("sign_out", json!({}));
    }
    assert!(!never_written.exists(), "a refused export wrote its file");
    a.sign_in("admin@acme.test");
    for (cmd, body) in &admin_only[..3] {
        a.ok(cmd, body.clone());
    }
    let lost = a.ok(
        "preview_role_change",
        json!({"email": "user@acme.test", "role": "vrm_admin"}),
    );
    assert!(lost.as_array().expect("array").is_empty());
    let n = a.ok(
        "preview_deactivate_user",
        json!({"email": "user@acme.test"}),
    );
    assert_eq!(n, 0);
    let scope = a.ok(
        "add_scope",
        json!({"name": "billing:read", "description": "Invoices"}),
    );
    assert_eq!(scope["builtin"], false);
    let audit = a.ok("list_audit", json!({"query": {"action": "scope.create"}}));
    assert_eq!(audit.as_array().expect("array").len(), 1);
}

#[test]
fn all_tokens_shows_each_role_only_what_it_may_see() {
    let a = App::with_admin_and_user();
    a.sign_in("user@acme.test");
    a.ok("create_personal_token", personal("user-token"));
    a.ok("sign_out", json!({}));
    a.sign_in("vrm@acme.test");
    a.ok("create_company_token", company("svc"));
    a.ok("create_personal_token", personal("vrm-token"));
    let names = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| t["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let page = a.ok("list_all_tokens", json!({"query": {}}));
    let mut seen = names(page.clone());
    seen.sort();
    assert_eq!(seen, vec!["svc", "vrm-token"]);
    assert_eq!(page["total"], 2);
    a.ok("sign_out", json!({}));
    a.sign_in("user@acme.test");
    assert_eq!(
        names(a.ok("list_all_tokens", json!({"query": {}}))),
        vec!["user-token"]
    );
    a.ok("sign_out", json!({}));
    a.sign_in("admin@acme.test");
    let page = a.ok(
        "list_all_tokens",
        json!({"query": {"sort": "name", "descending": true, "limit": 2}}),
    );
    assert_eq!(page["total"], 3);
    assert_eq!(names(page), vec!["vrm-token", "user-token"]);
    let page = a.ok("list_all_tokens", json!({"query": {"kind": "company"}}));
    assert_eq!(names(page), vec!["svc"]);
    let page = a.ok(
        "list_all_tokens",
        json!({"query": {"text": "user-", "owner": "user@acme.test"}}),
    );
    assert_eq!(names(page), vec!["user-token"]);
}

#[test]
fn bulk_actions_change_only_tokens_the_actor_may_manage() {
    let a = App::with_admin_and_user();
    a.sign_in("admin@acme.test");
    let admin_token = a.ok("create_personal_token", personal("admin-1"))["token"]["id"].clone();
    a.ok("sign_out", json!({}));
    a.sign_in("user@acme.test");
    let t1 = a.ok("create_personal_token", personal("u1"))["token"]["id"].clone();
    let t2 = a.ok("create_personal_token", personal("u2"))["token"]["id"].clone();
    let r = a.ok(
        "bulk_set_token_status",
        json!({"ids": [t1, t2, admin_token], "action": "revoke"}),
    );
    assert_eq!(r["done"], json!([t1, t2]));
    assert_eq!(r["failed"][0]["id"], admin_token);
    a.ok("sign_out", json!({}));
    a.sign_in("admin@acme.test");
    let detail = a.ok("get_token", json!({"id": admin_token}));
    assert_eq!(detail["token"]["status"], "active");
    let e = a.err(
        "bulk_set_token_status",
        json!({"ids": (0..1001).collect::<Vec<i32>>(), "action": "revoke"}),
    );
    assert_eq!(e["type"], "Invalid");
}

#[test]
fn usage_reports_and_the_dashboard_follow_visibility() {
    let a = App::with_admin_and_user();
    a.sign_in("admin@acme.test");
    let admin_token = a.ok("create_personal_token", personal("admin-1"))["token"]["id"].clone();
    let report = a.ok("token_usage_report", json!({"id": admin_token, "days": 7}));
    assert_eq!(report["series"].as_array().expect("series").len(), 7);
    let d = a.ok("get_dashboard", json!({}));
    assert_eq!(d["never_used"], 1);
    assert_eq!(d["expiring_30_days"], 1);
    a.ok("sign_out", json!({}));
    a.sign_in("user@acme.test");
    let e = a.err("token_usage_report", json!({"id": admin_token, "days": 7}));
    assert_eq!(e["type"], "NotFound");
    let d = a.ok("get_dashboard", json!({}));
    assert_eq!(d["never_used"], 0);
}

#[test]
fn role_change_and_deactivation_report_what_users_lose() {
    let a = App::with_admin_and_user();
    a.sign_in("admin@acme.test");
    a.ok("create_user", user_req("ops@acme.test", "admin"));
    a.ok("sign_out", json!({}));
    a.sign_in("ops@acme.test");
    let mut req = personal("ops");
    req["req"]["scopes"] = json!(["users:read", "me:read"]);
    a.ok("create_personal_token", req);
    a.ok("regenerate_user_token", json!({}));
    a.ok("sign_out", json!({}));
    a.sign_in("admin@acme.test");
    let lost = a.ok(
        "preview_role_change",
        json!({"email": "ops@acme.test", "role": "user"}),
    );
    assert_eq!(lost, json!(["users:read"]));
    let change = a.ok(
        "set_user_role",
        json!({"email": "ops@acme.test", "role": "user"}),
    );
    assert_eq!(change["scopesLost"], json!(["users:read"]));
    assert_eq!(change["user"]["role"], "user");
    assert_eq!(
        a.ok("preview_deactivate_user", json!({"email": "ops@acme.test"})),
        2
    );
    let d = a.ok("deactivate_user", json!({"email": "ops@acme.test"}));
    assert_eq!(d["revoked"], 2);
    assert_eq!(d["user"]["active"], false);
    let users = a.ok("list_users", json!({}));
    let ops = users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["email"] == "ops@acme.test")
        .expect("ops")
        .clone();
    assert_eq!(ops["live_tokens"], 0);
    let back = a.ok("reactivate_user", json!({"email": "ops@acme.test"}));
    assert_eq!(back["active"], true);
}

#[test]
fn audit_exports_as_csv_with_filters() {
    let a = App::with_admin_and_user();
    a.sign_in("admin@acme.test");
    let created = a.ok("create_personal_token", personal("one"));
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.csv");
    let n = a.ok(
        "export_audit_csv",
        json!({"path": path.to_str().expect("path"), "query": {"action": "token.create"}}),
    );
    assert_eq!(n, 1);
    let text = std::fs::read_to_string(&path).expect("csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,time,actor,action,target,details"));
    let row = lines.next().expect("row");
    assert!(row.contains("admin@acme.test,token.create,token:"), "{row}");
    let hint = created["token"]["hint"].as_str().expect("hint");
    assert!(
        text.contains(hint),
        "the entry names the token by its hint: {text}"
    );
    assert!(!text.contains(&secret), "the export holds the token itself");
    let e = a.err("list_audit", json!({"query": {"since": "yesterday"}}));
    assert_eq!(e["type"], "Invalid", "{e}");
    assert_eq!(e["field"], "since", "{e}");
    assert!(
        e["message"]
            .as_str()
            .expect("msg")
            .starts_with("not a date and time"),
        "{e}"
    );
}

#[test]
fn a_tampered_audit_log_is_reported_in_the_status() {
    let a = app();
    a.ok("setup_company", json!({"req": {"company": "Acme", "name": "Ada", "email": "admin@acme.test", "password": PW}}));
    let db = a._dir.path().join("data").join("tessera.db");
    tauri::async_runtime::block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("raw connection");
        sqlx::query("DROP TRIGGER audit_no_delete")
            .execute(&pool)
            .await
            .expect("drop trigger");
        pool.close().await;
    });
    let s = a.ok("app_status", json!({}));
    let problem = s["auditProblem"].as_str().unwrap_or_default();
    assert!(problem.contains("audit_no_delete"), "{s}");
}

#[test]
fn an_intact_audit_log_shows_no_banner() {
    let a = app();
    a.ok("setup_company", json!({"req": {"company": "Acme", "name": "Ada", "email": "admin@acme.test", "password": PW}}));
    let s = a.ok("app_status", json!({}));
    assert_eq!(s["auditProblem"], Value::Null, "{s}");
}

#[test]
fn a_locked_session_shows_no_token_names_in_expiry_notices() {
    let a = App::with_admin_and_user();
    let state = a.window.state::<AppState>();
    let core = state.core().expect("local").clone();
    tauri::async_runtime::block_on(async {
        let admin = core
            .actor(Some(&"admin@acme.test".parse().expect("email")))
            .await
            .expect("admin");
        let req = tessera_core::NewToken {
            expiry: tessera_core::policy::ExpiryRequest::parse_in("3d").expect("3d"),
            ..tessera_core::NewToken::named(tessera_core::token::TokenKind::Personal, "deploy-bot")
        };
        let t = core.create_token(&admin, req).await.expect("token");
        // Locked: a count, no name or hint, and nothing is marked announced.
        let n = core.pending_expiry_notices(&admin).await.expect("pending");
        assert_eq!(n, 1);
        let locked = tessera_app::notices::texts(&[], Some(n));
        assert_eq!(locked.len(), 1);
        assert!(
            !locked[0].contains("deploy-bot") && !locked[0].contains(&t.info.hint),
            "{locked:?}"
        );
        assert!(locked[0].contains("Sign in"), "{locked:?}");
        assert_eq!(
            core.pending_expiry_notices(&admin).await.expect("pending"),
            1
        );
        // Unlocked: named, once.
        let due = core.take_expiry_notices(&admin).await.expect("take");
        let named = tessera_app::notices::texts(&due, None);
        assert_eq!(named.len(), 1);
        assert!(
            named[0].contains("deploy-bot") && named[0].contains(&t.info.hint),
            "{named:?}"
        );
        assert_eq!(
            core.pending_expiry_notices(&admin).await.expect("pending"),
            0
        );
    });
}

#[test]
fn an_idle_session_locks_in_rust_whatever_the_window_does() {
    let a = common::app_locking_after(Some(std::time::Duration::from_millis(1500)));
    a.ok("setup_company", json!({"req": {"company": "Acme", "name": "Ada", "email": "admin@acme.test", "password": PW}}));
    // Activity keeps it open.
    for _ in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(300));
        a.ok("get_profile", json!({}));
    }
    // Idle past the limit: the next command is refused, and the session is gone.
    std::thread::sleep(std::time::Duration::from_millis(1700));
    let e = a.err("list_my_tokens", json!({}));
    assert_eq!(e["type"], "Unauthenticated", "{e}");
    assert!(e["field"].is_null(), "{e}");
    assert!(
        e["message"].as_str().expect("msg").contains("locked"),
        "{e}"
    );
    let e = a.err("get_profile", json!({}));
    assert_eq!(e["type"], "Unauthenticated", "{e}");
    a.sign_in("admin@acme.test");
    a.ok("get_profile", json!({}));
}

#[test]
fn new_source_alerts_are_chosen_in_the_dialog_shown_on_the_dashboard_and_announced_once() {
    let a = App::with_admin_and_user();
    a.sign_in("user@acme.test");
    let mut req = personal("deploy");
    req["req"]["alertNewSources"] = json!(true);
    let r = a.ok("create_personal_token", req);
    let id = r["token"]["id"].as_i64().expect("id");
    assert_eq!(r["token"]["alert_new_sources"], true, "{r}");
    let plain = a.ok("create_personal_token", personal("plain"));
    assert_eq!(plain["token"]["alert_new_sources"], false, "off by default");

    let core = a.core();
    let used = |ip: &str| tessera_core::store::usage::UseEvent {
        token_id: tessera_core::model::TokenId(id),
        at: time::OffsetDateTime::now_utc(),
        ip: Some(ip.parse().expect("ip")),
        user_agent: Some("deploy-bot/3".into()),
        method: "GET".into(),
        path: "/v1/me".into(),
        status: 200,
        outcome: "accepted",
        via: "bearer",
    };
    tauri::async_runtime::block_on(async {
        core.record_uses(&[used("10.0.0.1")])
            .await
            .expect("baseline");
        core.record_uses(&[used("203.0.113.50")])
            .await
            .expect("new");
    });
    let d = a.ok("get_dashboard", json!({}));
    assert_eq!(d["new_source_tokens"], 1, "{d}");
    assert_eq!(d["new_sources"][0]["network"], "203.0.113.0/24", "{d}");
    assert_eq!(d["new_sources"][0]["ip"], "203.0.113.50", "{d}");

    let user =
        tauri::async_runtime::block_on(core.actor(Some(&"user@acme.test".parse().expect("email"))))
            .expect("actor");
    let notices =
        tauri::async_runtime::block_on(core.take_new_source_notices(&user)).expect("take");
    assert_eq!(notices.len(), 1);
    let text = tessera_app::notices::new_source_text(&notices[0]);
    assert!(
        text.contains("\"deploy\"")
            && text.contains("203.0.113.0/24")
            && text.contains("203.0.113.50"),
        "{text}"
    );
    assert!(
        tauri::async_runtime::block_on(core.take_new_source_notices(&user))
            .expect("take")
            .is_empty()
    );

    // The usage report lists what the alerts compare against.
    let report = a.ok("token_usage_report", json!({"id": id, "days": 7}));
    let sources: Vec<String> = report["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["kind"].as_str().unwrap_or(""),
                s["source"].as_str().unwrap_or("")
            )
        })
        .collect();
    for want in [
        "network 10.0.0.0/24",
        "network 203.0.113.0/24",
        "client deploy-bot",
    ] {
        assert!(sources.iter().any(|s| s == want), "{want} in {sources:?}");
    }
    let t = a.ok(
        "set_token_alerts",
        json!({"id": id, "alertNewSources": false}),
    );
    assert_eq!(t["alert_new_sources"], false);
    let detail = a.ok("get_token", json!({"id": id}));
    assert_eq!(detail["token"]["alert_new_sources"], false);
}
