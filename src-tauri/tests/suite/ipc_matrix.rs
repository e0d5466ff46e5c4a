//! The authority matrix of the app's IPC: every command registered in `build_app`, called
//! through Tauri's IPC (mock runtime) by every kind of caller (signed out, a user, a VRM
//! admin, an admin) with a valid argument payload, each outcome asserted from the table
//! below. The table is written out by hand, cell by cell; nothing in it is derived from the
//! code under test. Objects a cell changes are made fresh for that cell, so the order of
//! the cells does not matter.

use crate::common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use common::{company, personal, user_req, App, PW};
use serde_json::{json, Value};
use tessera_core::model::{Email, Role, TokenId, TokenStatus};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    SignedOut,
    User,
    VrmAdmin,
    Admin,
}

/// The matrix's columns, in the table's order.
const CALLERS: [Caller; 4] = [
    Caller::SignedOut,
    Caller::User,
    Caller::VrmAdmin,
    Caller::Admin,
];

impl Caller {
    fn email(self) -> Option<&'static str> {
        match self {
            Caller::SignedOut => None,
            Caller::User => Some("user@acme.test"),
            Caller::VrmAdmin => Some("vrm@acme.test"),
            Caller::Admin => Some("admin@acme.test"),
        }
    }
}

/// One cell's expected outcome: one specific class each, never "anything but Forbidden".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Ok,
    /// `Unauthenticated`: not signed in.
    Unauth,
    /// `Forbidden`: signed in, but the role may not.
    Forbidden,
    /// `NotFound`: someone else's token answers like a missing one.
    NotFound,
    /// `Invalid` from `setup_company` on an installation that is already set up.
    AlreadySetUp,
    /// `Internal` "no clipboard is available": the test runs without a display (DISPLAY and
    /// WAYLAND_DISPLAY are removed below), so a caller the command lets through reaches
    /// arboard, which cannot open a clipboard. This is not a rights answer.
    NoClipboard,
    /// `bulk_set_token_status` answers Ok and reports per token: the token is in `done`.
    BulkDone,
    /// ... or in `failed`, with the same "no token you may see" as a missing one.
    BulkRefused,
    /// `Unavailable` "cannot be reached": the caller may, and the command went for the team
    /// server the payload names, a closed port here. This is not a rights answer.
    Unreachable,
    /// `Invalid` "this is done on the server": a team server's window has no store of its
    /// own to set up.
    OnServer,
    /// `Invalid` "nothing to switch to" from `restart_app`: the caller may, and no other
    /// store or certificate is chosen (so the test process is never restarted).
    NothingToSwitch,
}

use Want::{
    AlreadySetUp, BulkDone, BulkRefused, Forbidden, NoClipboard, NotFound, NothingToSwitch,
    Ok as Yes, OnServer, Unauth, Unreachable,
};

/// Columns: signed out, user, VRM admin, admin. Rows in `build_app`'s order.
///
/// Token commands (`get_token`, `set_token_status`, `set_token_note`, `set_token_alerts`,
/// `delete_token`, `bulk_set_token_status`, `token_usage_report`, `explain_token`,
/// `rotate_token`, `finish_rotation`) target a fresh personal token of a fourth person (a plain user,
/// `owner@acme.test`): only an admin may see or manage it. User commands target a fresh
/// person where the cell changes them.
#[rustfmt::skip]
const MATRIX: &[(&str, [Want; 4])] = &[
    // Session: open to everyone. setup_company is refused for everyone once set up.
    ("app_status",               [Yes,          Yes,          Yes,          Yes]),
    ("setup_company",            [AlreadySetUp, AlreadySetUp, AlreadySetUp, AlreadySetUp]),
    ("sign_in",                  [Yes,          Yes,          Yes,          Yes]),
    ("sign_out",                 [Yes,          Yes,          Yes,          Yes]),
    // One's own profile and password.
    ("get_profile",              [Unauth,       Yes,          Yes,          Yes]),
    ("update_profile",           [Unauth,       Yes,          Yes,          Yes]),
    ("change_password",          [Unauth,       Yes,          Yes,          Yes]),
    // Tokens.
    ("get_user_token",           [Unauth,       Yes,          Yes,          Yes]),
    ("regenerate_user_token",    [Unauth,       Yes,          Yes,          Yes]),
    ("list_my_tokens",           [Unauth,       Yes,          Yes,          Yes]),
    ("list_company_tokens",      [Unauth,       Forbidden,    Yes,          Yes]),
    ("get_token",                [Unauth,       NotFound,     NotFound,     Yes]),
    ("create_personal_token",    [Unauth,       Yes,          Yes,          Yes]),
    ("create_company_token",     [Unauth,       Forbidden,    Yes,          Yes]),
    ("set_token_status",         [Unauth,       NotFound,     NotFound,     Yes]),
    ("set_token_note",           [Unauth,       NotFound,     NotFound,     Yes]),
    ("set_token_alerts",         [Unauth,       NotFound,     NotFound,     Yes]),
    // An admin sees and manages another person's token but may not rotate it: the successor's
    // plaintext is shown only to the token's owner, so only the owner makes it.
    ("rotate_token",             [Unauth,       NotFound,     NotFound,     Forbidden]),
    ("finish_rotation",          [Unauth,       NotFound,     NotFound,     Yes]),
    ("delete_token",             [Unauth,       NotFound,     NotFound,     Yes]),
    ("list_grantable_scopes",    [Unauth,       Yes,          Yes,          Yes]),
    ("get_policy",               [Unauth,       Yes,          Yes,          Yes]),
    // OAuth clients are the company's: admins and VRM admins manage them. Saving a client's
    // Postman files writes only what the caller passes (as save_postman_environment does).
    ("list_clients",             [Unauth,       Forbidden,    Yes,          Yes]),
    ("create_client",            [Unauth,       Forbidden,    Yes,          Yes]),
    ("rotate_client_secret",     [Unauth,       Forbidden,    Yes,          Yes]),
    ("retire_client_secret",     [Unauth,       Forbidden,    Yes,          Yes]),
    ("set_client_status",        [Unauth,       Forbidden,    Yes,          Yes]),
    ("delete_client",            [Unauth,       Forbidden,    Yes,          Yes]),
    ("save_client_postman_environment", [Unauth, Yes,         Yes,          Yes]),
    ("save_client_postman_collection",  [Unauth, Yes,         Yes,          Yes]),
    // Clipboard and files. clear_clipboard checks no session: it only clears what Tessera
    // itself copied last (sign_out and closing the app call the same clear), and nothing was
    // copied here, so it answers Ok without opening a clipboard.
    ("copy_secret",              [Unauth,       NoClipboard,  NoClipboard,  NoClipboard]),
    ("get_connection",           [Yes,          Yes,          Yes,          Yes]),
    ("fetch_server_certificate", [Unauth,       Forbidden,    Forbidden,    Unreachable]),
    ("use_team_server",          [Unauth,       Forbidden,    Forbidden,    Unreachable]),
    ("use_this_computer",        [Yes,          Yes,          Yes,          Yes]),
    ("restart_app",              [Unauth,       Forbidden,    Forbidden,    NothingToSwitch]),
    ("clear_clipboard",          [Yes,          Yes,          Yes,          Yes]),
    ("save_postman_environment", [Unauth,       Yes,          Yes,          Yes]),
    // Administration.
    ("list_users",               [Unauth,       Forbidden,    Forbidden,    Yes]),
    ("create_user",              [Unauth,       Forbidden,    Forbidden,    Yes]),
    ("preview_role_change",      [Unauth,       Forbidden,    Forbidden,    Yes]),
    ("set_user_role",            [Unauth,       Forbidden,    Forbidden,    Yes]),
    ("preview_deactivate_user",  [Unauth,       Forbidden,    Forbidden,    Yes]),
    ("deactivate_user",          [Unauth,       Forbidden,    Forbidden,    Yes]),
    ("reactivate_user",          [Unauth,       Forbidden,    Forbidden,    Yes]),
    // Every role may list tokens; the list shows only what the role may see.
    ("list_all_tokens",          [Unauth,       Yes,          Yes,          Yes]),
    ("bulk_set_token_status",    [Unauth,       BulkRefused,  BulkRefused,  BulkDone]),
    // Review.
    ("token_usage_report",       [Unauth,       NotFound,     NotFound,     Yes]),
    ("explain_token",            [Unauth,       NotFound,     NotFound,     Yes]),
    ("get_dashboard",            [Unauth,       Yes,          Yes,          Yes]),
    ("store_version",            [Unauth,       Yes,          Yes,          Yes]),
    ("acknowledge_honeytoken_alerts", [Unauth,  Forbidden,    Forbidden,    Yes]),
    // Scanning reads the signed-in person's own files and says of each token found only what
    // they may know; revoking a found token follows the token rules.
    ("scan_for_leaks",           [Unauth,       Yes,          Yes,          Yes]),
    ("revoke_leaked_token",      [Unauth,       NotFound,     NotFound,     Yes]),
    ("list_audit",               [Unauth,       Forbidden,    Forbidden,    Yes]),
    ("export_audit_csv",         [Unauth,       Forbidden,    Forbidden,    Yes]),
    // Settings. Reading the policy and the scopes is open to every signed-in person (the
    // create dialog needs the limits); changing them is the admin's. The CA certificate is
    // public (everyone calling the API needs it to trust the server), so any signed-in
    // person may export it.
    ("get_policy_settings",      [Unauth,       Yes,          Yes,          Yes]),
    ("update_policy",            [Unauth,       Forbidden,    Forbidden,    Yes]),
    ("list_scopes",              [Unauth,       Yes,          Yes,          Yes]),
    ("add_scope",                [Unauth,       Forbidden,    Forbidden,    Yes]),
    ("export_ca_certificate",    [Unauth,       Yes,          Yes,          Yes]),
];

/// What a cell acts on, checked after the call: a refused call left it as it was.
enum Target {
    None,
    /// A token; `changes` when the command revokes or deletes it on success.
    Token {
        id: i64,
        changes: bool,
    },
    /// A file the command writes on success only.
    File(PathBuf),
    /// A person whose role or active flag the command changes on success.
    Person(String),
    /// An OAuth client: its status and number of valid secrets as they were before the
    /// call, which a refused call leaves and a successful one changes.
    Client {
        id: i64,
        status: &'static str,
        secrets: usize,
    },
}

struct Fixtures {
    /// The store the window works on (this computer's, or the team server's), to set up
    /// each cell's objects and read its effects directly.
    store: tessera_core::Tessera,
    /// On a team server: the window's folder, its address and certificate fingerprint, to
    /// choose it again for `restart_app` (so that nothing is left to restart for).
    team_choice: Option<(PathBuf, String, String)>,
    /// A valid token secret (of the fourth person), for save_postman_environment.
    secret: String,
    /// The policy as it is, so update_policy's Ok changes nothing for the other cells.
    policy: Value,
    files: tempfile::TempDir,
    n: u32,
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tauri::async_runtime::block_on(f)
}

fn email(s: &str) -> Email {
    s.parse().expect("email")
}

impl Fixtures {
    fn next(&mut self) -> u32 {
        self.n += 1;
        self.n
    }

    /// A fresh personal token of owner@acme.test, made by the operator through the core.
    fn token(&mut self) -> (i64, String) {
        let n = self.next();
        let core = self.store.clone();
        block_on(async {
            let op = core.actor(None).await.expect("operator");
            let c = core
                .create_token(
                    &op,
                    tessera_core::NewToken {
                        owner: Some(email("owner@acme.test")),
                        ..tessera_core::NewToken::named(
                            tessera_core::token::TokenKind::Personal,
                            format!("owner-{n}"),
                        )
                    },
                )
                .await
                .expect("token");
            (c.info.id.0, c.token.expose().to_owned())
        })
    }

    /// A fresh person with the role `user`, active or deactivated.
    fn person(&mut self, active: bool) -> String {
        let who = format!("person{}@acme.test", self.next());
        let core = self.store.clone();
        block_on(async {
            let op = core.actor(None).await.expect("operator");
            core.add_user(
                &op,
                tessera_core::NewUser {
                    email: email(&who),
                    name: "Fresh".into(),
                    role: "user".parse().expect("role"),
                    password: tessera_core::password::Password::new(PW.into()).expect("pw"),
                    source_group: String::new(),
                },
            )
            .await
            .expect("add person");
            if !active {
                core.deactivate_user(&op, &email(&who))
                    .await
                    .expect("deactivate");
            }
        });
        who
    }

    /// A fresh OAuth client made by the operator, with one or two valid secrets; its number
    /// and one secret's plaintext.
    fn client(&mut self, secrets: usize) -> (i64, String, i64) {
        let n = self.next();
        let core = self.store.clone();
        block_on(async {
            let op = core.actor(None).await.expect("operator");
            let c = core
                .create_client(
                    &op,
                    tessera_core::service::NewClient {
                        name: format!("cell-client-{n}"),
                        ..Default::default()
                    },
                )
                .await
                .expect("client");
            let mut older = c.client.secrets[0].id;
            if secrets == 2 {
                let r = core
                    .rotate_client_secret(&op, c.client.id)
                    .await
                    .expect("rotate");
                older = r.client.secrets[1].id;
            }
            (c.client.id, c.client_secret.expose().to_owned(), older)
        })
    }

    fn file(&mut self, ext: &str) -> PathBuf {
        let n = self.next();
        self.files.path().join(format!("cell-{n}.{ext}"))
    }

    /// A valid payload for `cmd` called by `caller`, and what it acts on.
    fn args(&mut self, cmd: &str, caller: Caller) -> (Value, Target) {
        let n = self.next();
        let token = |f: &mut Self, changes: bool| {
            let (id, _) = f.token();
            (id, Target::Token { id, changes })
        };
        let path = |p: &PathBuf| p.to_str().expect("utf-8 path").to_owned();
        match cmd {
            "app_status"
            | "sign_out"
            | "get_profile"
            | "get_user_token"
            | "regenerate_user_token"
            | "list_my_tokens"
            | "list_company_tokens"
            | "list_grantable_scopes"
            | "get_policy"
            | "clear_clipboard"
            | "list_users"
            | "get_dashboard"
            | "store_version"
            | "get_connection"
            | "use_this_computer"
            | "get_policy_settings"
            | "list_scopes" => (json!({}), Target::None),
            // On a team server, chosen again (use_this_computer's cells unchose it), so
            // nothing is left to restart for and the test process is never restarted.
            "restart_app" => {
                if let Some((dir, url, fp)) = &self.team_choice {
                    block_on(tessera_app::team::choose(dir, url, fp)).expect("choose");
                }
                (json!({}), Target::None)
            }
            // Port 9 (discard) on this machine: nothing listens.
            "fetch_server_certificate" => (json!({"url": "https://127.0.0.1:9"}), Target::None),
            "use_team_server" => (
                json!({"url": "https://127.0.0.1:9", "fingerprint": "00".repeat(32)}),
                Target::None,
            ),
            "setup_company" => (
                json!({"req": {"company": "Evil", "name": "Eve", "email": format!("eve{n}@acme.test"), "password": PW}}),
                Target::None,
            ),
            // A right password: one's own, or the user's when signed out.
            "sign_in" => (
                json!({"req": {"email": caller.email().unwrap_or("user@acme.test"), "password": PW}}),
                Target::None,
            ),
            "update_profile" => (
                json!({"req": {"name": "Someone", "sourceGroup": ""}}),
                Target::None,
            ),
            // The same password again: a valid change that keeps every caller able to sign in.
            "change_password" => (json!({"req": {"current": PW, "next": PW}}), Target::None),
            "get_token" => {
                let (id, t) = token(self, false);
                (json!({"id": id}), t)
            }
            "create_personal_token" => (personal(&format!("cell-{n}")), Target::None),
            "create_company_token" => (company(&format!("cell-{n}")), Target::None),
            "set_token_status" => {
                let (id, t) = token(self, true);
                (json!({"id": id, "action": "revoke"}), t)
            }
            "set_token_note" => {
                let (id, t) = token(self, false);
                (json!({"id": id, "note": "checked by the matrix"}), t)
            }
            "set_token_alerts" => {
                let (id, t) = token(self, false);
                (json!({"id": id, "alertNewSources": true}), t)
            }
            "delete_token" => {
                let (id, t) = token(self, true);
                (json!({"id": id}), t)
            }
            "acknowledge_honeytoken_alerts" => (json!({"upTo": 0}), Target::None),
            "scan_for_leaks" => {
                let dir = self.files.path().join(format!("scan-{n}"));
                std::fs::create_dir_all(&dir).expect("scan dir");
                std::fs::write(dir.join("notes.txt"), "nothing secret here\n").expect("file");
                (json!({"paths": [path(&dir)]}), Target::None)
            }
            "revoke_leaked_token" => {
                let (id, t) = token(self, true);
                (json!({"id": id, "place": "notes.txt:3"}), t)
            }
            "rotate_token" => {
                let (id, t) = token(self, true);
                (
                    json!({"id": id, "overlapSeconds": 3600, "graceSeconds": 600}),
                    t,
                )
            }
            "finish_rotation" => {
                let (id, t) = token(self, true);
                let core = self.store.clone();
                block_on(async {
                    let op = core.actor(None).await.expect("operator");
                    core.rotate_token(
                        &op,
                        tessera_core::model::TokenId(id),
                        tessera_core::service::RotateRequest::parse(None, None).expect("req"),
                    )
                    .await
                    .expect("rotate");
                });
                (json!({"id": id}), t)
            }
            "copy_secret" => (json!({"text": "not a secret"}), Target::None),
            "save_postman_environment" => {
                let p = self.file("json");
                (
                    json!({"path": path(&p), "secret": self.secret, "name": "Tessera"}),
                    Target::File(p),
                )
            }
            "create_user" => (user_req(&format!("new{n}@acme.test"), "user"), Target::None),
            "preview_role_change" => (
                json!({"email": "user@acme.test", "role": "admin"}),
                Target::None,
            ),
            // Making a plain user admin: the escalation a non-admin must not manage.
            "set_user_role" => {
                let who = self.person(true);
                (json!({"email": who, "role": "admin"}), Target::Person(who))
            }
            "preview_deactivate_user" => (json!({"email": "user@acme.test"}), Target::None),
            "deactivate_user" => {
                let who = self.person(true);
                (json!({"email": who}), Target::Person(who))
            }
            "reactivate_user" => {
                let who = self.person(false);
                (json!({"email": who}), Target::Person(who))
            }
            "list_clients" => (json!({}), Target::None),
            "create_client" => (
                json!({"req": {"name": format!("cell-new-client-{n}"), "description": "", "scopes": ["me:read"], "networks": [], "rateLimit": null, "tokenTtlSeconds": 3600}}),
                Target::None,
            ),
            "rotate_client_secret" => {
                let (id, _, _) = self.client(1);
                (
                    json!({"id": id}),
                    Target::Client {
                        id,
                        status: "active",
                        secrets: 1,
                    },
                )
            }
            "retire_client_secret" => {
                let (id, _, older) = self.client(2);
                (
                    json!({"id": id, "secretId": older}),
                    Target::Client {
                        id,
                        status: "active",
                        secrets: 2,
                    },
                )
            }
            "set_client_status" => {
                let (id, _, _) = self.client(1);
                (
                    json!({"id": id, "action": "disable"}),
                    Target::Client {
                        id,
                        status: "active",
                        secrets: 1,
                    },
                )
            }
            "delete_client" => {
                let (id, _, _) = self.client(1);
                (
                    json!({"id": id}),
                    Target::Client {
                        id,
                        status: "active",
                        secrets: 1,
                    },
                )
            }
            "save_client_postman_environment" => {
                let (_, secret, _) = self.client(1);
                let p = self.file("json");
                (
                    json!({"path": path(&p), "clientId": "tsc_x", "secret": secret, "name": "Tessera"}),
                    Target::File(p),
                )
            }
            "save_client_postman_collection" => {
                let p = self.file("json");
                (
                    json!({"path": path(&p), "name": "Tessera"}),
                    Target::File(p),
                )
            }
            "list_all_tokens" => (json!({"query": {}}), Target::None),
            "bulk_set_token_status" => {
                let (id, t) = token(self, true);
                (json!({"ids": [id], "action": "revoke"}), t)
            }
            "token_usage_report" => {
                let (id, t) = token(self, false);
                (json!({"id": id, "days": 7}), t)
            }
            // By id: someone else's token is not found; explaining changes nothing.
            "explain_token" => {
                let (id, t) = token(self, false);
                (json!({"query": {"id": id, "scopes": ["me:read"]}}), t)
            }
            "list_audit" => (json!({"query": {}}), Target::None),
            "export_audit_csv" => {
                let p = self.file("csv");
                (json!({"path": path(&p), "query": {}}), Target::File(p))
            }
            "update_policy" => (json!({"policy": self.policy}), Target::None),
            "add_scope" => (
                json!({"name": format!("matrix{n}:read"), "description": "added by a cell"}),
                Target::None,
            ),
            "export_ca_certificate" => {
                let p = self.file("pem");
                (json!({"path": path(&p)}), Target::File(p))
            }
            other => panic!("no payload for command {other}; add it to the matrix"),
        }
    }
}

/// Make `caller` the signed-in person (or no one), signing out between callers. Checks the
/// session as it is rather than assuming what the previous cell left.
fn become_caller(a: &App, caller: Caller) {
    let status = a.ok("app_status", json!({}));
    let current = status["me"]["email"].as_str().map(str::to_owned);
    if current.as_deref() == caller.email() {
        return;
    }
    if current.is_some() {
        a.ok("sign_out", json!({}));
    }
    if let Some(e) = caller.email() {
        a.sign_in(e);
    }
    let status = a.ok("app_status", json!({}));
    assert_eq!(status["me"]["email"].as_str(), caller.email(), "{status}");
}

/// The commands `build_app` registers, from the one list it is built from
/// (`src/commands/list.rs`), so a new command that is not in the matrix fails this test.
pub(crate) fn registered_commands() -> BTreeSet<String> {
    // The one list (`src/commands/list.rs`): lines of the form `area::command,`.
    include_str!("../../src/commands/list.rs")
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .filter_map(|l| l.strip_suffix(','))
        .filter_map(|l| l.split_once("::").map(|(_, c)| c.trim().to_owned()))
        .collect()
}

fn check(cmd: &str, caller: Caller, want: Want, got: &Result<Value, Value>) {
    let cell = format!("{cmd} by {caller:?}");
    let class = |t: &str| match got {
        Err(e) => assert_eq!(e["type"], t, "{cell}: want {want:?}, got error {e}"),
        Ok(v) => panic!("{cell}: want {want:?}, got Ok {v}"),
    };
    match want {
        Want::Ok => {
            if let Err(e) = got {
                panic!("{cell}: want Ok, got error {e}");
            }
        }
        Want::Unauth => class("Unauthenticated"),
        Want::Forbidden => class("Forbidden"),
        Want::NotFound => class("NotFound"),
        Want::AlreadySetUp => {
            class("Invalid");
            let msg = got
                .as_ref()
                .err()
                .filter(|e| e["field"].is_null())
                .and_then(|e| e["message"].as_str());
            assert!(
                msg.is_some_and(|m| m.starts_with("Tessera is already set up")),
                "{cell}: {got:?}"
            );
        }
        Want::Unreachable => {
            class("Unavailable");
            let msg = got.as_ref().err().and_then(|e| e["message"].as_str());
            assert!(
                msg.is_some_and(|m| m.contains("cannot be reached")),
                "{cell}: {got:?}"
            );
        }
        Want::OnServer => {
            class("Invalid");
            let msg = got.as_ref().err().and_then(|e| e["message"].as_str());
            assert!(
                msg.is_some_and(|m| m.ends_with("this is done on the server")),
                "{cell}: {got:?}"
            );
        }
        Want::NothingToSwitch => {
            class("Invalid");
            let msg = got.as_ref().err().and_then(|e| e["message"].as_str());
            assert!(
                msg.is_some_and(|m| m.starts_with("nothing to switch to")),
                "{cell}: {got:?}"
            );
        }
        Want::NoClipboard => {
            class("Internal");
            let msg = got
                .as_ref()
                .err()
                .filter(|e| e["field"].is_null())
                .and_then(|e| e["message"].as_str());
            assert!(
                msg.is_some_and(|m| m.starts_with("no clipboard is available")),
                "{cell}: {got:?}"
            );
        }
        Want::BulkDone | Want::BulkRefused => {
            let r = match got {
                Ok(r) => r,
                Err(e) => panic!("{cell}: want {want:?}, got error {e}"),
            };
            let (done, failed) = (&r["done"], &r["failed"]);
            if want == Want::BulkDone {
                assert_eq!(done.as_array().map(Vec::len), Some(1), "{cell}: {r}");
                assert_eq!(failed, &json!([]), "{cell}: {r}");
            } else {
                assert_eq!(done, &json!([]), "{cell}: {r}");
                assert_eq!(failed.as_array().map(Vec::len), Some(1), "{cell}: {r}");
                let msg = failed[0]["message"].as_str().unwrap_or_default();
                assert!(msg.contains("that you may see"), "{cell}: {r}");
            }
        }
    }
}

/// What the cell acted on is changed exactly when the call succeeded.
fn check_target(
    core: &tessera_core::Tessera,
    cmd: &str,
    caller: Caller,
    want: Want,
    target: &Target,
) {
    let cell = format!("{cmd} by {caller:?}");
    let succeeded = matches!(want, Want::Ok | Want::BulkDone);
    match target {
        Target::None => {}
        Target::Token { id, changes } => {
            let info = block_on(async {
                let op = core.actor(None).await.expect("operator");
                // A deleted token answers NotFound even to the operator.
                core.get_token(&op, TokenId(*id)).await
            });
            let status = info.as_ref().map(|t| t.status);
            // The status it was given before the call: finish_rotation's target is rotating.
            let before = if cmd == "finish_rotation" {
                TokenStatus::Rotating
            } else {
                TokenStatus::Active
            };
            let active = matches!(status, Ok(s) if s == before);
            assert_eq!(
                active,
                !(succeeded && *changes),
                "{cell}: token {id} is {status:?} after the call"
            );
            if cmd == "set_token_note" {
                let note = info.map(|t| t.note).unwrap_or_default();
                assert_eq!(
                    note == "checked by the matrix",
                    succeeded,
                    "{cell}: token {id}'s note is {note:?} after the call"
                );
            }
        }
        Target::File(p) => assert_eq!(p.exists(), succeeded, "{cell}: {}", p.display()),
        Target::Client {
            id,
            status,
            secrets,
        } => {
            let now = block_on(async {
                let op = core.actor(None).await.expect("operator");
                core.get_client(&op, *id).await
            });
            // A deleted client is gone even for the operator.
            let as_before = now.as_ref().is_ok_and(|c| {
                serde_json::to_value(c.status).ok() == Some(json!(status))
                    && c.secrets.len() == *secrets
            });
            assert_eq!(as_before, !succeeded, "{cell}: client {id} is now {now:?}");
        }
        Target::Person(who) => {
            let u = block_on(core.find_user(&email(who))).expect("person");
            let as_before = u.role == Role::User && u.active == (cmd != "reactivate_user");
            assert_eq!(as_before, !succeeded, "{cell}: {who} is now {u:?}");
        }
    }
}

#[test]
fn every_command_answers_every_kind_of_caller_as_the_table_says() {
    let a = App::with_admin_and_user();
    let store = a.core();
    run_matrix(&a, store, None, |_| None);
}

/// The same table on a team server (a live `tessera serve`, on PostgreSQL in `.ci/test`'s
/// second pass): the window answers every caller as on this computer, since the server
/// checks the same rights, except for what is about the window's own store, listed here.
#[test]
fn team_server_the_window_answers_every_kind_of_caller_as_the_table_says() {
    let server = crate::common::TeamServerFixture::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let fingerprint = server
        .server
        .as_ref()
        .map(|s| s.fingerprint.clone())
        .expect("running");
    // Chosen in the window, as a person would: the next start is on this server too.
    block_on(tessera_app::team::choose(
        dir.path(),
        &server.url,
        &fingerprint,
    ))
    .expect("choose");
    let a = server.window_in(dir.path());
    let choice = (dir.path().to_owned(), server.url.clone(), fingerprint);
    run_matrix(&a, server.core.clone(), Some(choice), |cmd| match cmd {
        // There is no store here to set up; it is done on the server.
        "setup_company" => Some([OnServer; 4]),
        // Anyone at a team server's window may connect it elsewhere: it holds no store of
        // its own (the payload names a closed port).
        "fetch_server_certificate" | "use_team_server" => Some([Unreachable; 4]),
        "restart_app" => Some([NothingToSwitch; 4]),
        _ => None,
    });
}

/// Every cell of [`MATRIX`] (with `differs`' rows instead where it gives one) on the window
/// `a`, whose store is `store`.
fn run_matrix(
    a: &App,
    store: tessera_core::Tessera,
    team_choice: Option<(PathBuf, String, String)>,
    differs: impl Fn(&str) -> Option<[Want; 4]>,
) {
    // No display: the clipboard cells answer the same everywhere, and a developer's
    // clipboard is left alone.
    std::env::remove_var("DISPLAY");
    std::env::remove_var("WAYLAND_DISPLAY");
    let started = Instant::now();

    let listed: BTreeSet<String> = MATRIX.iter().map(|(c, _)| (*c).to_owned()).collect();
    assert_eq!(listed.len(), MATRIX.len(), "a command is listed twice");
    assert_eq!(
        listed,
        registered_commands(),
        "the matrix must list exactly the registered commands"
    );

    a.sign_in("admin@acme.test");
    a.ok("create_user", user_req("owner@acme.test", "user"));
    let policy = a.ok("get_policy_settings", json!({}));
    a.ok("sign_out", json!({}));
    let mut f = Fixtures {
        store: store.clone(),
        team_choice,
        secret: String::new(),
        policy,
        files: tempfile::tempdir().expect("tempdir"),
        n: 0,
    };
    f.secret = f.token().1;

    let mut cells = 0usize;
    for (cmd, wants) in MATRIX {
        let wants = differs(cmd).unwrap_or(*wants);
        for (caller, want) in CALLERS.into_iter().zip(wants) {
            let (args, target) = f.args(cmd, caller);
            become_caller(a, caller);
            let got = a.call(cmd, args);
            check(cmd, caller, want, &got);
            check_target(&store, cmd, caller, want, &target);
            cells += 1;
        }
    }

    let total = MATRIX.len() * CALLERS.len();
    assert_eq!(cells, total);
    println!(
        "ipc authority matrix: {cells} of {total} cells ({} commands by {} callers) in {:.1?}",
        MATRIX.len(),
        CALLERS.len(),
        started.elapsed()
    );
}
