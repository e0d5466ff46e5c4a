//! The real backend's answers that the UI's browser tests (ui/e2e, Playwright with mocked IPC)
//! build their fake backends from: scope catalogue, what each role may grant, policy
//! defaults, the audit action names, the errors a person meets, what each status change
//! answers, and the shape of a secret.
//! Recorded here through the app's real commands on a real SQLite file and written to
//! `ui/e2e/contract.json`; `.ci/test` fails when the file in git differs, exactly like the
//! generated TypeScript bindings. So a fake cannot invent a scope, an action or a message
//! the real backend does not have, and a change of the real answers reaches the fakes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::common::{app, personal, user_req, App, PW};

const ADMIN: &str = "admin@acme.test";

/// `{"type", "field", "message"}` of a failed command, with the given literals of its message
/// replaced by placeholders such as `{id}` (the fakes put their own values there).
fn recorded(e: Value, placeholders: &[(&str, &str)]) -> Value {
    let mut message = e["message"].as_str().unwrap_or_default().to_owned();
    for (literal, placeholder) in placeholders {
        assert!(
            message.contains(literal),
            "{literal:?} is not in {message:?}"
        );
        message = message.replace(literal, placeholder);
    }
    json!({"type": e["type"], "field": e["field"], "message": message})
}

fn id_of(v: &Value) -> i64 {
    v["token"]["id"]
        .as_i64()
        .or_else(|| v["id"].as_i64())
        .unwrap_or_else(|| panic!("no id in {v}"))
}

/// The shape of a secret: its prefix up to the second underscore and its length.
fn shape(secret: &str) -> Value {
    let prefix: String = secret.split_inclusive('_').take(2).collect();
    assert!(prefix.starts_with("tsr_"), "{prefix}");
    json!({"prefix": prefix, "length": secret.len()})
}

/// Push a token's expiry into the past, as time would.
fn expire(a: &App, id: i64) {
    let core = a.core();
    let db = core.data_dir().join("tessera.db");
    tauri::async_runtime::block_on(async {
        use sqlx::ConnectOptions;
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .connect()
            .await
            .expect("open the database");
        sqlx::query("UPDATE tokens SET expires_at = 1000 WHERE id = ?")
            .bind(id)
            .execute(&mut c)
            .await
            .expect("expire");
    });
}

#[test]
fn the_real_backend_answers_that_the_ui_tests_fakes_use_are_recorded() {
    let a = app();
    let mut errors = BTreeMap::new();

    // First run; the defaults before anyone changes them.
    a.ok(
        "setup_company",
        json!({"req": {"company": "Acme", "name": "Ada", "email": ADMIN, "password": PW}}),
    );
    let policy = a.ok("get_policy_settings", json!({}));
    errors.insert(
        "alreadySetUp",
        recorded(
            a.err(
                "setup_company",
                json!({"req": {"company": "B", "name": "B", "email": "b@acme.test", "password": PW}}),
            ),
            &[],
        ),
    );
    a.ok("sign_out", json!({}));
    errors.insert(
        "signedOut",
        recorded(a.err("list_my_tokens", json!({})), &[]),
    );
    errors.insert(
        "wrongPassword",
        recorded(
            a.err(
                "sign_in",
                json!({"req": {"email": ADMIN, "password": "not the password at all"}}),
            ),
            &[],
        ),
    );
    a.sign_in(ADMIN);

    // Secrets of each kind.
    let p1 = a.ok("create_personal_token", personal("p1"));
    let p1_id = id_of(&p1);
    let c1 = a.ok("create_company_token", crate::common::company("c1"));
    // The first call creates the user API token; the second replaces it.
    a.ok("regenerate_user_token", json!({}));
    let u1 = a.ok("regenerate_user_token", json!({}));
    let client = json!({"req": {"name": "contract-client", "description": "", "scopes": ["me:read"], "networks": [], "rateLimit": null, "tokenTtlSeconds": 3600}});
    let cl1 = a.ok("create_client", client.clone());
    let shapes = json!({
        "personal": shape(p1["secret"].as_str().expect("secret")),
        "company": shape(c1["secret"].as_str().expect("secret")),
        "user": shape(u1["secret"].as_str().expect("secret")),
        "client": shape(cl1["secret"].as_str().expect("secret")),
    });
    // OAuth client names are unique among clients not deleted.
    errors.insert(
        "duplicateClientName",
        recorded(
            a.err("create_client", client),
            &[("contract-client", "{name}")],
        ),
    );

    // Names are unique among live tokens.
    errors.insert(
        "duplicateTokenName",
        recorded(
            a.err("create_personal_token", personal("p1")),
            &[("p1", "{name}")],
        ),
    );

    let mut no_description = crate::common::company("c2");
    no_description["req"]["description"] = json!("");
    errors.insert(
        "companyDescriptionRequired",
        recorded(a.err("create_company_token", no_description), &[]),
    );
    let mut too_fast = personal("p9");
    too_fast["req"]["rateLimit"] = json!(999_999);
    errors.insert(
        "rateLimitTooHigh",
        recorded(
            a.err("create_personal_token", too_fast),
            &[("999999", "{value}"), ("1200", "{max}")],
        ),
    );

    // What `set_token_status` answers for each action on a token in each status: every pair
    // applied through the real command to a fresh token, recording the new status or the
    // refusal (its `{id}` a placeholder). The fakes look status changes up here.
    let mut transitions = BTreeMap::new();
    for (from, how_to_get_there) in [
        ("active", None),
        ("deactivated", Some("deactivate")),
        ("revoked", Some("revoke")),
        ("expired", None),
    ] {
        let mut answers = BTreeMap::new();
        for action in ["revoke", "deactivate", "activate"] {
            let id = id_of(&a.ok(
                "create_personal_token",
                personal(&format!("{from} then {action}")),
            ));
            if let Some(how) = how_to_get_there {
                a.ok("set_token_status", json!({"id": id, "action": how}));
            }
            if from == "expired" {
                expire(&a, id);
            }
            let before = a.ok("get_token", json!({"id": id}));
            assert_eq!(before["token"]["status"], from, "{before}");
            let answer = match a.call("set_token_status", json!({"id": id, "action": action})) {
                Ok(t) => {
                    assert!(t["status"].is_string(), "{t}");
                    json!({"status": t["status"]})
                }
                Err(e) => json!({"error": recorded(e, &[(&id.to_string(), "{id}")])}),
            };
            answers.insert(action, answer);
        }
        transitions.insert(from, answers);
    }
    a.ok("delete_token", json!({"id": p1_id}));
    errors.insert(
        "unknownToken",
        recorded(
            a.err("get_token", json!({"id": 987_654})),
            &[("987654", "{id}")],
        ),
    );

    // Users: each change the admin screens make.
    a.ok("create_user", user_req("grace@acme.test", "vrm_admin"));
    a.ok("create_user", user_req("alan@acme.test", "user"));
    errors.insert(
        "duplicateUser",
        recorded(
            a.err("create_user", user_req("grace@acme.test", "user")),
            &[("grace@acme.test", "{email}")],
        ),
    );
    errors.insert(
        "unknownUser",
        recorded(
            a.err(
                "set_user_role",
                json!({"email": "nobody@acme.test", "role": "user"}),
            ),
            &[("nobody@acme.test", "{email}")],
        ),
    );
    let too_many: Vec<i64> = (1..=1001).collect();
    errors.insert(
        "bulkTooMany",
        recorded(
            a.err(
                "bulk_set_token_status",
                json!({"ids": too_many, "action": "revoke"}),
            ),
            &[],
        ),
    );
    a.ok(
        "set_user_role",
        json!({"email": "alan@acme.test", "role": "vrm_admin"}),
    );
    a.ok(
        "set_user_role",
        json!({"email": "alan@acme.test", "role": "user"}),
    );
    a.ok("deactivate_user", json!({"email": "alan@acme.test"}));
    a.ok("reactivate_user", json!({"email": "alan@acme.test"}));
    errors.insert(
        "deactivateSelf",
        recorded(a.err("deactivate_user", json!({"email": ADMIN})), &[]),
    );
    a.ok(
        "update_profile",
        json!({"req": {"name": "Ada L.", "sourceGroup": "ops"}}),
    );
    errors.insert(
        "wrongCurrentPassword",
        recorded(
            a.err(
                "change_password",
                json!({"req": {"current": "not the password at all", "next": "another long password"}}),
            ),
            &[],
        ),
    );
    a.ok(
        "change_password",
        json!({"req": {"current": PW, "next": "another long password"}}),
    );
    a.ok(
        "change_password",
        json!({"req": {"current": "another long password", "next": PW}}),
    );

    // Scopes and the policy.
    a.ok(
        "add_scope",
        json!({"name": "billing:read", "description": "Read invoices"}),
    );
    errors.insert(
        "duplicateScope",
        recorded(
            a.err(
                "add_scope",
                json!({"name": "billing:read", "description": "again"}),
            ),
            &[("billing:read", "{name}")],
        ),
    );
    let mut upside_down = policy.clone();
    let max = policy["max_rate_limit"].as_u64().expect("max");
    upside_down["default_rate_limit"] = json!(max + 1);
    errors.insert(
        "policyDefaultAboveMax",
        recorded(
            a.err("update_policy", json!({"policy": upside_down})),
            &[
                (&(max + 1).to_string(), "{value}"),
                (&max.to_string(), "{max}"),
            ],
        ),
    );
    let mut changed = policy.clone();
    changed["clipboard_seconds"] = json!(20);
    a.ok("update_policy", json!({"policy": changed}));
    a.ok("update_policy", json!({"policy": policy}));
    let scopes = a.ok("list_scopes", json!({}));

    // What each role may grant on its own tokens.
    let mut grantable = BTreeMap::new();
    grantable.insert("admin", a.ok("list_grantable_scopes", json!({})));
    for (role, email) in [("vrm_admin", "grace@acme.test"), ("user", "alan@acme.test")] {
        a.ok("sign_out", json!({}));
        a.sign_in(email);
        grantable.insert(role, a.ok("list_grantable_scopes", json!({})));
    }
    errors.insert(
        "forbiddenForUser",
        recorded(a.err("list_users", json!({})), &[]),
    );
    a.ok("sign_out", json!({}));
    a.sign_in(ADMIN);

    // Every action name the steps above wrote to the audit log.
    let audit = a.ok("list_audit", json!({"query": {"limit": 1000}}));
    let actions: BTreeSet<String> = audit
        .as_array()
        .expect("audit entries")
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect();
    for must in [
        "company.init",
        "user.sign_in",
        "user.sign_in_failed",
        "token.create",
        "token.deactivate",
        "token.activate",
        "token.revoke",
        "token.delete",
        "token.regenerate",
        "user.create",
        "user.role_change",
        "user.deactivate",
        "user.reactivate",
        "user.profile_change",
        "user.password_change",
        "scope.create",
        "policy.change",
    ] {
        assert!(actions.contains(must), "{must} not in {actions:?}");
    }

    // A team server that stopped answering, as the window's live poll meets it. The reason
    // the network gives (connection refused, a timeout, ...) varies, so it is a placeholder.
    let mut team = crate::common::TeamServerFixture::start();
    let window = team.window();
    window.sign_in(ADMIN);
    team.stop();
    let away = window.err("store_version", json!({}));
    let message = away["message"].as_str().unwrap_or_default();
    let why = message
        .split_once("cannot be reached (")
        .and_then(|(_, rest)| rest.split_once("); nothing was changed"))
        .map(|(why, _)| why.to_owned())
        .unwrap_or_else(|| panic!("no reason in {away}"));
    errors.insert(
        "teamUnreachable",
        recorded(
            away,
            &[(team.url.as_str(), "{url}"), (why.as_str(), "{why}")],
        ),
    );

    let contract = json!({
        "_": "Recorded from the real backend by src-tauri/tests/suite/contract.rs; do not edit. The Playwright fakes (ui/e2e/fake-*.ts) answer from it and replay its refusals; they never decide one.",
        "commands": crate::ipc_matrix::registered_commands(),
        "scopes": scopes,
        "grantable": grantable,
        "policyDefaults": policy,
        "auditActions": actions,
        "rules": {
            "auditFiltersMatchExactly": audit_filters_match_exactly(&a),
        },
        "secretShapes": shapes,
        "statusTransitions": transitions,
        "errors": errors,
    });
    let text = serde_json::to_string_pretty(&contract).expect("json") + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/e2e/contract.json");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, text).expect("write ui/e2e/contract.json");
    }
}

/// The audit filters compare whole values: a part of an action name finds nothing.
fn audit_filters_match_exactly(a: &App) -> bool {
    let whole = a.ok(
        "list_audit",
        json!({"query": {"action": "token.create", "limit": 1000}}),
    );
    let part = a.ok(
        "list_audit",
        json!({"query": {"action": "token", "limit": 1000}}),
    );
    let actor_part = a.ok(
        "list_audit",
        json!({"query": {"actor": "admin", "limit": 1000}}),
    );
    let count = |v: &Value| v.as_array().map(Vec::len).unwrap_or(0);
    assert!(count(&whole) > 0, "no token.create entries: {whole}");
    count(&part) == 0 && count(&actor_part) == 0
}
