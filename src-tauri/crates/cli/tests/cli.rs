//! The `tessera` command line, run as a user would: the real binary, a real SQLite file in a
//! temp dir, the key in a 0600 file (TESSERA_KEYSTORE=file) unless a test says otherwise.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

#[path = "cli/clients.rs"]
mod clients;
#[path = "cli/explain.rs"]
mod explain;
#[path = "cli/honeytokens.rs"]
mod honeytokens;
#[path = "cli/keys.rs"]
mod keys;
#[path = "cli/new_sources.rs"]
mod new_sources;
#[path = "cli/rotation.rs"]
mod rotation;
#[path = "cli/team.rs"]
mod team;

const PW: &str = "correct horse battery staple";

struct Env {
    dir: tempfile::TempDir,
    /// A PostgreSQL server of the test's own instead of `TESSERA_TEST_POSTGRES`.
    pg_server: Option<String>,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
    /// The one `error:` line.
    fn error(&self) -> &str {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one error line, stderr: {}",
            self.stderr
        );
        lines[0]
    }
}

/// Unix seconds now.
fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tessera")
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
            pg_server: None,
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .env("TESSERA_DATA_DIR", self.data())
            .env("TESSERA_KEYSTORE", "file")
            .env("TESSERA_PASSWORD", PW)
            .env_remove("TESSERA_LOG")
            .env_remove("TESSERA_DATABASE_URL")
            .env_remove("TESSERA_KEY_FILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.engine_env(&mut c);
        c
    }

    /// With `TESSERA_TEST_POSTGRES` set (`.ci/test`'s second pass), this installation's store
    /// is a database of that server named after the temp dir: its URL.
    fn pg_url(&self) -> Option<String> {
        tessera_core::store::test_database_url(
            self.pg_server.as_deref(),
            "tessera_cli",
            self.dir.path(),
        )
    }

    /// Point a command at the PostgreSQL store (and its shared key file) when there is one.
    fn engine_env(&self, c: &mut Command) {
        if let Some(url) = self.pg_url() {
            c.env("TESSERA_DATABASE_URL", url)
                .env("TESSERA_KEY_FILE", self.dir.path().join("shared.key"));
        }
    }

    fn run_with(&self, mut c: Command, stdin: &str) -> Run {
        let mut child = c.spawn().expect("spawn tessera");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        let out: Output = child.wait_with_output().expect("wait");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.cmd(args), "")
    }

    fn stdin(&self, args: &[&str], input: &str) -> Run {
        self.run_with(self.cmd(args), input)
    }

    /// An installation with an admin, a vrm_admin and a user.
    fn setup() -> Self {
        Self::setup_in(Self::new())
    }

    /// [`Env::setup`] on an environment prepared by the caller.
    fn setup_in(e: Self) -> Self {
        e.run(&[
            "init",
            "--company",
            "Acme",
            "--admin-email",
            "admin@acme.test",
            "--admin-name",
            "Ada Admin",
        ])
        .ok();
        e.run(&[
            "user",
            "add",
            "--email",
            "vrm@acme.test",
            "--name",
            "Vera",
            "--role",
            "vrm_admin",
        ])
        .ok();
        e.run(&[
            "user",
            "add",
            "--email",
            "user@acme.test",
            "--name",
            "Uli",
            "--role",
            "user",
        ])
        .ok();
        e
    }

    /// Create a token; returns (id, plaintext).
    fn create(&self, args: &[&str]) -> (i64, String) {
        let mut all = vec!["token", "create", "--json"];
        all.extend_from_slice(args);
        let v = self.run(&all).ok().json();
        (
            v["id"].as_i64().expect("id"),
            v["token"].as_str().expect("token").to_owned(),
        )
    }

    fn verify(&self, token: &str, extra: &[&str]) -> Run {
        let mut all = vec!["token", "verify"];
        all.extend_from_slice(extra);
        self.stdin(&all, token)
    }

    /// Run one statement on the store behind Tessera's back (SQLite file or PostgreSQL).
    fn sql(&self, statement: &str) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async {
            use sqlx::Connection;
            if let Some(url) = self.pg_url() {
                let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
                sqlx::query(statement).execute(&mut c).await.expect("sql");
                c.close().await.expect("close");
                return;
            }
            let path = self.data().join("tessera.db");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .expect("connect");
            sqlx::query(statement).execute(&mut c).await.expect("sql");
            c.close().await.expect("close");
        });
    }

    /// Drop one of the audit log's triggers, as someone with the database's password could.
    fn drop_audit_trigger(&self, name: &str) {
        if self.pg_url().is_some() {
            self.sql(&format!("DROP TRIGGER {name} ON audit"));
        } else {
            self.sql(&format!("DROP TRIGGER {name}"));
        }
    }

    /// A fingerprint of every table's content, to prove a failed command changed nothing.
    fn snapshot(&self) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async {
            use sqlx::{Connection, Row};
            let tables = [
                "company",
                "users",
                "scopes",
                "tokens",
                "usage_events",
                "audit",
                "meta",
            ];
            let mut out = String::new();
            // Every row in its first column's order, every value as bytes.
            macro_rules! dump {
                ($c:expr) => {
                    for table in tables {
                        let rows = sqlx::query(&format!("SELECT * FROM {table} ORDER BY 1"))
                            .fetch_all(&mut $c)
                            .await
                            .expect("select");
                        out.push_str(&format!("{table}:{}\n", rows.len()));
                        for r in rows {
                            for i in 0..r.len() {
                                let v: Option<Vec<u8>> = r.try_get_unchecked(i).ok();
                                out.push_str(&format!("{:?}|", v));
                            }
                            out.push('\n');
                        }
                    }
                };
            }
            if let Some(url) = self.pg_url() {
                let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
                dump!(c);
                c.close().await.expect("close");
            } else {
                let path = self.data().join("tessera.db");
                let mut c =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .expect("connect");
                dump!(c);
                c.close().await.expect("close");
            }
            out
        })
    }
}

fn reason(r: &Run) -> &str {
    r.stdout.lines().next().unwrap_or("")
}

#[test]
fn init_sets_up_once_and_a_second_init_is_refused() {
    let e = Env::setup();
    let r = e.run(&[
        "init",
        "--company",
        "Other",
        "--admin-email",
        "x@acme.test",
        "--admin-name",
        "X",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("already set up"), "{}", r.stderr);
    let users = e.run(&["user", "list", "--json"]).ok().json();
    assert_eq!(users.as_array().expect("array").len(), 3);
}

#[test]
fn commands_before_init_say_to_run_init() {
    let e = Env::new();
    let r = e.run(&["token", "list"]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("tessera init"), "{}", r.stderr);
}

#[test]
fn a_created_token_verifies_and_reports_its_owner_and_scopes() {
    let e = Env::setup();
    let v = e
        .run(&[
            "token",
            "create",
            "--json",
            "--kind",
            "personal",
            "--as",
            "user@acme.test",
            "--name",
            "ci",
            "--scope",
            "tokens:read",
            "--scope",
            "me:read",
            "--expires-in",
            "30d",
        ])
        .ok()
        .json();
    for field in [
        "id",
        "token",
        "hint",
        "kind",
        "owner",
        "scopes",
        "expires_at",
        "status",
        "rate_limit",
    ] {
        assert!(!v[field].is_null(), "missing {field}: {v}");
    }
    assert_eq!(v["kind"], "personal");
    assert_eq!(v["owner"]["email"], "user@acme.test");
    let token = v["token"].as_str().expect("token");
    assert!(token.starts_with("tsr_p_"));
    let r = e.verify(token, &["--scope", "tokens:read", "--json"]).ok();
    let d = r.json();
    assert_eq!(d["active"], true);
    assert_eq!(d["token"]["owner"]["email"], "user@acme.test");
    // Plain output: the token alone on stdout.
    let r = e
        .run(&[
            "token",
            "create",
            "--kind",
            "personal",
            "--as",
            "user@acme.test",
            "--name",
            "plain",
        ])
        .ok();
    assert_eq!(r.stdout.trim().len(), 42);
    assert_eq!(r.stdout.lines().count(), 1);
}

#[test]
fn malformed_and_unknown_tokens_are_refused_with_their_reason() {
    let e = Env::setup();
    let (_, token) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "a",
    ]);
    let r = e.verify("not-a-token", &[]);
    assert_eq!((r.code, reason(&r)), (1, "malformed"));
    // One changed character: the checksum fails before any look-up.
    let mut typo = token.clone().into_bytes();
    typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
    let r = e.verify(&String::from_utf8(typo).expect("ascii"), &[]);
    assert_eq!((r.code, reason(&r)), (1, "malformed"));
    // Well-formed but never issued here.
    let other = Env::setup();
    let (_, foreign) = other.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "a",
    ]);
    let r = e.verify(&foreign, &[]);
    assert_eq!((r.code, reason(&r)), (1, "unknown"));
}

#[test]
fn regenerating_a_user_token_revokes_the_old_one() {
    let e = Env::setup();
    let (old_id, old) = e.create(&["--kind", "user", "--as", "user@acme.test"]);
    e.verify(&old, &[]).ok();
    let v = e
        .run(&[
            "token",
            "create",
            "--json",
            "--kind",
            "user",
            "--as",
            "user@acme.test",
        ])
        .ok()
        .json();
    assert_eq!(v["replaced"], old_id);
    let new = v["token"].as_str().expect("token");
    let r = e.verify(&old, &[]);
    assert_eq!((r.code, reason(&r)), (1, "revoked"));
    e.verify(new, &[]).ok();
    let live: Vec<Value> = e
        .run(&[
            "token",
            "list",
            "--json",
            "--kind",
            "user",
            "--status",
            "active",
            "--as",
            "user@acme.test",
        ])
        .ok()
        .json()
        .as_array()
        .expect("array")
        .clone();
    assert_eq!(live.len(), 1);
    let audit = e
        .run(&["audit", "--json", "--action", "token.regenerate"])
        .ok()
        .json();
    assert_eq!(audit.as_array().expect("array").len(), 1);
}

#[test]
fn users_may_grant_only_what_their_role_allows() {
    let e = Env::setup();
    let r = e.run(&[
        "token",
        "create",
        "--kind",
        "personal",
        "--as",
        "user@acme.test",
        "--name",
        "x",
        "--scope",
        "users:read",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.error().contains("may not grant users:read"),
        "{}",
        r.stderr
    );
    let r = e.run(&[
        "token",
        "create",
        "--kind",
        "personal",
        "--owner",
        "vrm@acme.test",
        "--name",
        "x",
        "--scope",
        "audit:read",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.error(),
        "error: --scope: the role vrm_admin may not grant audit:read; choose scopes the role allows; see `tessera scope list` (an admin adds scopes with `tessera scope add`)"
    );
    e.create(&[
        "--kind",
        "personal",
        "--as",
        "admin@acme.test",
        "--name",
        "x",
        "--scope",
        "audit:read",
    ]);
}

#[test]
fn only_admins_and_vrm_admins_create_company_tokens_and_they_outlive_their_creator() {
    let e = Env::setup();
    let r = e.run(&[
        "token",
        "create",
        "--kind",
        "company",
        "--as",
        "user@acme.test",
        "--name",
        "svc",
        "--description",
        "billing sync",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.error().contains("only admins and VRM admins"),
        "{}",
        r.stderr
    );
    let r = e.run(&[
        "token",
        "create",
        "--kind",
        "company",
        "--as",
        "vrm@acme.test",
        "--name",
        "svc",
    ]);
    assert!(r.error().contains("description: required"), "{}", r.stderr);
    let (id, token) = e.create(&[
        "--kind",
        "company",
        "--as",
        "vrm@acme.test",
        "--name",
        "svc",
        "--description",
        "billing sync",
        "--scope",
        "tokens:read",
    ]);
    assert!(token.starts_with("tsr_c_"));
    let shown = e
        .run(&["token", "show", &id.to_string(), "--json"])
        .ok()
        .json();
    assert_eq!(shown["created_by"], "vrm@acme.test");
    assert!(shown["owner"].is_null());
    // A plain user can neither see nor revoke it.
    let r = e.run(&["token", "revoke", &id.to_string(), "--as", "user@acme.test"]);
    assert_eq!(r.code, 1);
    let mine = e
        .run(&["token", "list", "--json", "--as", "user@acme.test"])
        .ok()
        .json();
    assert!(mine.as_array().expect("array").is_empty());
    e.run(&["user", "deactivate", "vrm@acme.test"]).ok();
    e.verify(&token, &["--scope", "tokens:read"]).ok();
}

#[test]
fn deactivating_a_user_deprovisions_their_tokens_and_says_how_many() {
    let e = Env::setup();
    let (_, u) = e.create(&["--kind", "user", "--as", "user@acme.test"]);
    let (_, p1) = e.create(&[
        "--kind",
        "personal",
        "--as",
        "user@acme.test",
        "--name",
        "one",
    ]);
    let (_, p2) = e.create(&[
        "--kind",
        "personal",
        "--as",
        "user@acme.test",
        "--name",
        "two",
    ]);
    let (_, other) = e.create(&[
        "--kind",
        "personal",
        "--as",
        "vrm@acme.test",
        "--name",
        "one",
    ]);
    let r = e.run(&["user", "deactivate", "user@acme.test"]).ok();
    assert!(r.stdout.contains("revoked 3 "), "{}", r.stdout);
    for t in [&u, &p1, &p2] {
        let r = e.verify(t, &[]);
        assert_eq!((r.code, reason(&r)), (1, "revoked"));
    }
    e.verify(&other, &[]).ok();
    let r = e.run(&["token", "list", "--as", "user@acme.test"]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("deactivated"), "{}", r.stderr);
}

#[test]
fn a_role_change_narrows_and_widens_rights_at_once() {
    let e = Env::setup();
    e.run(&[
        "user",
        "add",
        "--email",
        "boss@acme.test",
        "--name",
        "Boss",
        "--role",
        "admin",
    ])
    .ok();
    let (_, t) = e.create(&[
        "--kind",
        "personal",
        "--as",
        "boss@acme.test",
        "--name",
        "ops",
        "--scope",
        "users:read",
        "--scope",
        "me:read",
    ]);
    e.verify(&t, &["--scope", "users:read"]).ok();
    let r = e.run(&["user", "set-role", "boss@acme.test", "user"]).ok();
    assert!(r.stdout.contains("users:read"), "{}", r.stdout);
    let r = e.verify(&t, &["--scope", "users:read"]);
    assert_eq!((r.code, reason(&r)), (1, "scope"));
    e.verify(&t, &["--scope", "me:read"]).ok();
    e.run(&["user", "set-role", "boss@acme.test", "admin"]).ok();
    e.verify(&t, &["--scope", "users:read"]).ok();
}

#[test]
fn the_last_admin_cannot_be_demoted_or_deactivated() {
    let e = Env::setup();
    let r = e.run(&["user", "set-role", "admin@acme.test", "user"]);
    assert!(r.error().contains("last active admin"), "{}", r.stderr);
    let r = e.run(&["user", "deactivate", "admin@acme.test"]);
    assert!(r.error().contains("last active admin"), "{}", r.stderr);
}

#[test]
fn non_admins_cannot_manage_users_scopes_policy_or_audit() {
    let e = Env::setup();
    for args in [
        vec![
            "user",
            "add",
            "--email",
            "z@acme.test",
            "--name",
            "Z",
            "--role",
            "user",
            "--as",
            "vrm@acme.test",
        ],
        vec!["user", "list", "--as", "user@acme.test"],
        vec![
            "user",
            "set-role",
            "user@acme.test",
            "admin",
            "--as",
            "user@acme.test",
        ],
        vec![
            "user",
            "deactivate",
            "admin@acme.test",
            "--as",
            "vrm@acme.test",
        ],
        vec!["scope", "add", "billing:read", "--as", "vrm@acme.test"],
        vec![
            "policy",
            "set",
            "expiry_required",
            "false",
            "--as",
            "vrm@acme.test",
        ],
        vec!["audit", "--as", "user@acme.test"],
    ] {
        let before = e.snapshot();
        let r = e.run(&args);
        assert_eq!(r.code, 1, "{args:?}");
        assert!(
            r.error().contains("only an admin"),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(before, e.snapshot(), "{args:?} changed the database");
    }
}

#[test]
fn expired_tokens_are_refused() {
    let e = Env::setup();
    let (id, t) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "short",
        "--expires-in",
        "90s",
    ]);
    e.verify(&t, &[]).ok();
    e.sql(&format!(
        "UPDATE tokens SET expires_at = {} - 1 WHERE id = {id}",
        now()
    ));
    let r = e.verify(&t, &[]);
    assert_eq!((r.code, reason(&r)), (1, "expired"));
    let shown = e
        .run(&["token", "show", &id.to_string(), "--json"])
        .ok()
        .json();
    assert_eq!(shown["status"], "expired");
    let r = e.run(&["token", "activate", &id.to_string()]);
    assert_eq!(r.code, 1);
}

#[test]
fn idle_expiry_strikes_after_n_unused_days_and_each_use_renews_it() {
    let e = Env::setup();
    let (id, t) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "idle",
        "--idle-days",
        "2",
    ]);
    // Unused for a day and a half: still fine, and the use renews the clock.
    e.sql(&format!(
        "UPDATE tokens SET idle_anchor_at = {} - 129600 WHERE id = {id}",
        now()
    ));
    e.verify(&t, &[]).ok();
    let shown = e
        .run(&["token", "show", &id.to_string(), "--json"])
        .ok()
        .json();
    let next = shown["idle_expires_at"].as_str().expect("idle_expires_at");
    let next = time::OffsetDateTime::parse(next, &time::format_description::well_known::Rfc3339)
        .expect("date");
    assert!(
        next > time::OffsetDateTime::now_utc() + time::Duration::hours(47),
        "renewed to {next}"
    );
    // Unused for more than two days: idle-expired.
    e.sql(&format!(
        "UPDATE tokens SET idle_anchor_at = {} - 172801 WHERE id = {id}",
        now()
    ));
    let r = e.verify(&t, &[]);
    assert_eq!((r.code, reason(&r)), (1, "idle_expired"));
    // A refused use does not renew it.
    let r = e.verify(&t, &[]);
    assert_eq!(reason(&r), "idle_expired");
}

#[test]
fn network_restrictions_allow_only_listed_addresses_and_ranges() {
    let e = Env::setup();
    let (_, t) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "net",
        "--allow",
        "10.0.0.0/8",
        "--allow",
        "2001:db8::/32",
        "--allow",
        "192.0.2.7",
    ]);
    for ok in ["10.1.2.3", "2001:db8::42", "192.0.2.7"] {
        e.verify(&t, &["--ip", ok]).ok();
    }
    for bad in ["192.0.2.8", "11.0.0.1", "2001:db9::1"] {
        let r = e.verify(&t, &["--ip", bad]);
        assert_eq!((r.code, reason(&r)), (1, "network"), "{bad}");
    }
    let r = e.verify(&t, &[]);
    assert_eq!(reason(&r), "network");
}

#[test]
fn custom_scopes_can_be_added_listed_and_granted() {
    let e = Env::setup();
    e.run(&[
        "scope",
        "add",
        "billing:read",
        "--description",
        "Read invoices",
    ])
    .ok();
    let list = e.run(&["scope", "list", "--json"]).ok().json();
    assert!(list
        .as_array()
        .expect("array")
        .iter()
        .any(|s| s["name"] == "billing:read" && s["builtin"] == false));
    let (_, t) = e.create(&[
        "--kind",
        "personal",
        "--as",
        "user@acme.test",
        "--name",
        "b",
        "--scope",
        "billing:read",
    ]);
    e.verify(&t, &["--scope", "billing:read"]).ok();
    let r = e.verify(&t, &["--scope", "billing:write"]);
    assert_eq!(reason(&r), "scope");
}

#[test]
fn deactivate_activate_revoke_and_delete_follow_their_rules() {
    let e = Env::setup();
    let (id, t) = e.create(&[
        "--kind",
        "personal",
        "--as",
        "user@acme.test",
        "--name",
        "life",
    ]);
    let id = id.to_string();
    e.run(&["token", "deactivate", &id, "--as", "user@acme.test"])
        .ok();
    assert_eq!(reason(&e.verify(&t, &[])), "deactivated");
    e.run(&["token", "activate", &id, "--as", "user@acme.test"])
        .ok();
    e.verify(&t, &[]).ok();
    // Another user cannot touch it; it answers as if missing.
    let r = e.run(&["token", "revoke", &id, "--as", "vrm@acme.test"]);
    assert!(r.error().contains("no token"), "{}", r.stderr);
    e.run(&["token", "revoke", &id, "--as", "admin@acme.test"])
        .ok();
    assert_eq!(reason(&e.verify(&t, &[])), "revoked");
    let r = e.run(&["token", "activate", &id]);
    assert!(r.error().contains("final"), "{}", r.stderr);
    e.run(&["token", "delete", &id, "--as", "user@acme.test"])
        .ok();
    // The deleted token stays as a revoked tombstone, so its presentations are still recorded.
    assert_eq!(reason(&e.verify(&t, &[])), "revoked");
    let audit = e.run(&["audit", "--json"]).ok().json();
    let actions: Vec<&str> = audit
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    for a in [
        "token.deactivate",
        "token.activate",
        "token.revoke",
        "token.delete",
        "token.create",
        "user.create",
        "company.init",
    ] {
        assert!(actions.contains(&a), "audit lacks {a}: {actions:?}");
    }
}

#[test]
fn verify_records_last_use_and_usage_lists_it() {
    let e = Env::setup();
    let (id, t) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "u",
    ]);
    e.verify(&t, &["--ip", "203.0.113.9"]).ok();
    let r = e.verify(&t, &["--scope", "audit:read"]);
    assert_eq!(r.code, 1);
    let shown = e
        .run(&["token", "show", &id.to_string(), "--json"])
        .ok()
        .json();
    assert_eq!(shown["use_count"], 1);
    assert_eq!(shown["refused_count"], 1);
    assert!(shown["last_used_at"].is_string());
    let usage = e
        .run(&["token", "usage", &id.to_string(), "--json"])
        .ok()
        .json();
    let rows = usage.as_array().expect("array");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().any(|u| u["outcome"] == "scope"));
    assert!(rows
        .iter()
        .any(|u| u["ip"] == "203.0.113.9" && u["outcome"] == "accepted"));
}

#[test]
fn policy_can_allow_tokens_without_expiry() {
    let e = Env::setup();
    let r = e.run(&[
        "token",
        "create",
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "forever",
        "--no-expiry",
    ]);
    assert!(r.error().contains("policy requires"), "{}", r.stderr);
    e.run(&["policy", "set", "expiry_required", "false"]).ok();
    let v = e
        .run(&[
            "token",
            "create",
            "--json",
            "--kind",
            "personal",
            "--owner",
            "user@acme.test",
            "--name",
            "forever",
            "--no-expiry",
        ])
        .ok()
        .json();
    assert!(v["expires_at"].is_null());
    let r = e.run(&["policy", "set", "max_rate_limit", "zero"]);
    assert_eq!(r.code, 1);
    let audit = e
        .run(&["audit", "--json", "--action", "policy.change"])
        .ok()
        .json();
    assert_eq!(audit.as_array().expect("array").len(), 1);
}

#[test]
fn bad_input_gets_one_clear_error_and_changes_nothing() {
    let e = Env::setup();
    e.create(&[
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "taken",
    ]);
    let long = "x".repeat(101);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "user",
                "add",
                "--email",
                "not-an-email",
                "--name",
                "N",
                "--role",
                "user",
            ],
            "error: e-mail: 'not-an-email' is not an e-mail address",
        ),
        (
            vec![
                "user",
                "add",
                "--email",
                "user@acme.test",
                "--name",
                "N",
                "--role",
                "user",
            ],
            "error: e-mail: a user with e-mail user@acme.test already exists",
        ),
        (
            vec![
                "user",
                "add",
                "--email",
                "new@acme.test",
                "--name",
                "N",
                "--role",
                "boss",
            ],
            "error: --role: unknown role",
        ),
        (
            vec!["user", "set-role", "user@acme.test", "root"],
            "error: --role: unknown role",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "n",
                "--scope",
                "nope:read",
            ],
            "error: --scope: unknown scope 'nope:read'",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "n",
                "--scope",
                "Bad Scope",
            ],
            "error: --scope: 'Bad Scope' is not a valid scope name",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "",
            ],
            "error: --name: required",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
            ],
            "error: --name: required",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                &long,
            ],
            "error: --name: too long",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "taken",
            ],
            "error: --name: a live token named",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "n",
                "--expires-at",
                "2001-01-01T00:00:00Z",
            ],
            "error: expiry: the date is in the past",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "n",
                "--expires-in",
                "400d",
            ],
            "error: expiry: beyond the policy maximum",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "n",
                "--expires-in",
                "soon",
            ],
            "error: --expires-in: 'soon' is not a lifetime",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "n",
                "--expires-at",
                "31/12/2030",
            ],
            "error: --expires-at: '31/12/2030' is not an RFC 3339 date",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "n",
                "--allow",
                "10.0.0.0/33",
            ],
            "error: --allow: ",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "n",
                "--allow",
                "example.com",
            ],
            "error: --allow: ",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "n",
                "--rate-limit",
                "0",
            ],
            "error: --rate-limit: ",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                "n",
                "--rate-limit",
                "100000",
            ],
            "error: --rate-limit: ",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "ghost@acme.test",
                "--name",
                "n",
            ],
            "error: --owner: no user with e-mail ghost@acme.test; see `tessera user list`",
        ),
        (
            vec![
                "token",
                "create",
                "--kind",
                "personal",
                "--as",
                "ghost@acme.test",
                "--name",
                "n",
            ],
            "error: --as: no user with e-mail ghost@acme.test; see `tessera user list`",
        ),
        (
            vec!["token", "show", "999"],
            "error: ID: no token 999 that you may see; see `tessera token list`",
        ),
        (
            vec!["token", "revoke", "abc"],
            "error: ID: 'abc' is not a token id",
        ),
        (
            vec!["user", "deactivate", "ghost@acme.test"],
            "error: e-mail: no user with e-mail ghost@acme.test; see `tessera user list`",
        ),
        (
            vec!["token", "list", "--status", "weird"],
            "error: --status: unknown status 'weird'",
        ),
    ];
    for (args, expect) in cases {
        let before = e.snapshot();
        let r = e.run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        let line = r.error();
        assert!(
            line.contains(expect),
            "{args:?}: expected '{expect}' in '{line}'"
        );
        assert!(
            !line.contains("panicked") && !r.stderr.contains("panicked"),
            "{}",
            r.stderr
        );
        assert_eq!(before, e.snapshot(), "{args:?} changed the database");
    }
}

#[test]
fn errors_name_the_flag_and_the_command_that_helps() {
    let e = Env::setup();
    let r = e.run(&[
        "token",
        "create",
        "--kind",
        "personal",
        "--owner",
        "user@acme.test",
        "--name",
        "n",
        "--rate-limit",
        "0",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.error();
    assert!(line.starts_with("error: --rate-limit: "), "{line}");
    assert!(!line.contains("rate_limit"), "{line}");
    let r = e.run(&["token", "show", "999999"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.error();
    assert!(line.starts_with("error: ID: "), "{line}");
    assert!(line.ends_with("; see `tessera token list`"), "{line}");
    // A command whose input is an argument names the argument.
    e.run(&["scope", "add", "billing:read"]).ok();
    let r = e.run(&["scope", "add", "billing:read"]);
    assert_eq!(
        r.error(),
        "error: NAME: the scope billing:read already exists"
    );
}

#[test]
fn a_note_is_set_shown_and_cleared_from_the_command_line() {
    let e = Env::setup();
    let v = e
        .run(&[
            "token",
            "create",
            "--json",
            "--kind",
            "personal",
            "--owner",
            "user@acme.test",
            "--name",
            "noted",
        ])
        .ok()
        .json();
    let id = v["id"].to_string();
    assert_eq!(v["note"], "", "{v}");
    let r = e
        .run(&["token", "note", &id, "nightly export; ask #data"])
        .ok();
    assert_eq!(
        r.stdout.trim(),
        format!("Token {id} note: nightly export; ask #data")
    );
    let shown = e.run(&["token", "show", &id]).ok();
    assert!(
        shown
            .stdout
            .lines()
            .any(|l| l.starts_with("note") && l.ends_with("nightly export; ask #data")),
        "{}",
        shown.stdout
    );
    let json = e.run(&["token", "show", &id, "--json"]).ok().json();
    assert_eq!(json["note"], "nightly export; ask #data");
    let before = e.snapshot();
    let r = e.run(&["token", "note", &id, &"x".repeat(2001)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.error()
            .starts_with("error: TEXT: too long (2001 characters)"),
        "{}",
        r.stderr
    );
    assert_eq!(e.snapshot(), before, "a refused note changes nothing");
    let r = e.run(&["token", "note", &id, ""]).ok();
    assert_eq!(r.stdout.trim(), format!("Cleared the note of token {id}."));
    let audit = e
        .run(&["audit", "--action", "token.note", "--json"])
        .ok()
        .json();
    assert_eq!(audit.as_array().map(Vec::len), Some(2), "{audit}");
}

#[test]
fn passwords_under_twelve_characters_are_refused() {
    let e = Env::setup();
    let mut c = e.cmd(&[
        "user",
        "add",
        "--email",
        "p@acme.test",
        "--name",
        "P",
        "--role",
        "user",
    ]);
    c.env("TESSERA_PASSWORD", "short");
    let before = e.snapshot();
    let r = e.run_with(c, "");
    assert_eq!(r.code, 1);
    assert!(r.error().contains("password: too short"), "{}", r.stderr);
    assert_eq!(before, e.snapshot());
    // No TESSERA_PASSWORD and no terminal: say how to give one.
    let mut c = e.cmd(&[
        "user",
        "add",
        "--email",
        "p@acme.test",
        "--name",
        "P",
        "--role",
        "user",
    ]);
    c.env_remove("TESSERA_PASSWORD");
    let r = e.run_with(c, "");
    assert!(r.error().contains("TESSERA_PASSWORD"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let e = Env::setup();
    for args in [
        vec!["frobnicate"],
        vec!["token", "create"],
        vec!["token", "create", "--kind", "bogus"],
        vec![
            "token",
            "create",
            "--kind",
            "personal",
            "--expires-in",
            "1d",
            "--no-expiry",
        ],
    ] {
        let r = e.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
}

#[test]
fn acting_as_a_deactivated_user_is_refused() {
    let e = Env::setup();
    e.run(&["user", "deactivate", "user@acme.test"]).ok();
    let r = e.run(&[
        "token",
        "create",
        "--kind",
        "personal",
        "--as",
        "user@acme.test",
        "--name",
        "x",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.error(),
        "error: user@acme.test is deactivated and cannot act; an admin can reactivate the account"
    );
    e.run(&["user", "reactivate", "user@acme.test"]).ok();
    e.create(&[
        "--kind",
        "personal",
        "--as",
        "user@acme.test",
        "--name",
        "x",
    ]);
}

#[test]
fn a_data_dir_that_cannot_be_written_is_reported() {
    let e = Env::new();
    let file = e.dir.path().join("plain-file");
    std::fs::write(&file, b"not a dir").expect("write");
    let mut c = e.cmd(&["token", "list"]);
    c.env("TESSERA_DATA_DIR", file.join("sub"));
    let r = e.run_with(c, "");
    assert_eq!(r.code, 1);
    assert!(r.error().contains("data dir"), "{}", r.stderr);
    assert!(r.error().contains("--data-dir"), "{}", r.stderr);
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let e = Env::setup();
    e.sql(if e.pg_url().is_some() {
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99991231235959, 'future', TRUE, '\\x00'::bytea, 0)"
    } else {
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99991231235959, 'future', 1, x'00', 0)"
    });
    let r = e.run(&["token", "list"]);
    assert_eq!(r.code, 1);
    assert!(
        r.error().contains("newer version of Tessera"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_missing_key_is_reported_instead_of_breaking_tokens() {
    let e = Env::setup();
    std::fs::remove_file(e.data().join("token-hmac.key")).expect("rm key");
    let r = e.run(&["token", "list"]);
    assert_eq!(r.code, 1);
    assert!(
        r.error().contains("key for this database is missing"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_key_file_fallback_is_0600_and_warned_about_on_every_start() {
    let e = Env::setup();
    let r = e.run(&["token", "list"]).ok();
    assert!(r.stderr.contains("warning: no OS keyring"), "{}", r.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(e.data().join("token-hmac.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn auto_keystore_without_a_session_bus_falls_back_to_the_key_file() {
    let e = Env::new();
    let mut c = e.cmd(&[
        "init",
        "--company",
        "Acme",
        "--admin-email",
        "a@acme.test",
        "--admin-name",
        "A",
    ]);
    c.env("TESSERA_KEYSTORE", "auto")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env("XDG_RUNTIME_DIR", e.dir.path());
    let r = e.run_with(c, "").ok();
    assert!(r.stderr.contains("warning: no OS keyring"), "{}", r.stderr);
    assert!(e.data().join("token-hmac.key").exists());
}

/// The real OS keyring: a private D-Bus session with gnome-keyring's Secret Service.
#[test]
fn the_key_lives_in_the_os_keyring_when_one_answers() {
    let have = |p: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {p}"))
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !(have("dbus-run-session") && have("gnome-keyring-daemon")) {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install dbus and gnome-keyring for this test"
        );
        eprintln!("skipping: dbus-run-session or gnome-keyring-daemon missing");
        return;
    }
    let e = Env::new();
    let data = e.data();
    let home = e.dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let script = format!(
        r#"set -e
export HOME={home} XDG_DATA_HOME={home}/.local/share XDG_RUNTIME_DIR={home}
echo -n unlock-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
T={bin}
$T init --company Acme --admin-email a@acme.test --admin-name A
TOKEN=$($T token create --kind personal --owner a@acme.test --name k)
echo "$TOKEN" | $T token verify
# A rotation keeps key 2 in the keyring beside key 1; retiring key 1 removes it from there.
$T key rotate
TOKEN2=$($T token create --kind personal --owner a@acme.test --name k2)
echo "$TOKEN" | $T token verify
echo "$TOKEN2" | $T token verify
$T key retire 1 --revoke-them
echo "$TOKEN2" | $T token verify
if echo "$TOKEN" | $T token verify; then exit 9; fi
"#,
        home = home.display(),
        bin = bin()
    );
    let out = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .env("TESSERA_DATA_DIR", &data)
        .env("TESSERA_KEYSTORE", "keyring")
        .env("TESSERA_PASSWORD", PW)
        .output()
        .expect("dbus-run-session");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(stdout.matches("accepted").count(), 4, "{stdout}");
    assert!(stdout.contains("kept in the OS keyring"), "{stdout}");
    assert!(stdout.contains("Retired key 1."), "{stdout}");
    assert!(stdout.contains("unknown"), "{stdout}");
    assert!(
        !data.join("token-hmac.key").exists(),
        "the key must not be written to a file"
    );
    assert!(!stderr.contains("warning: no OS keyring"), "{stderr}");
}

#[test]
fn concurrent_cli_processes_never_see_a_locked_database() {
    let e = Env::setup();
    let children: Vec<_> = (0..12)
        .map(|i| {
            let name = format!("parallel-{i}");
            e.cmd(&[
                "token",
                "create",
                "--kind",
                "personal",
                "--owner",
                "user@acme.test",
                "--name",
                &name,
            ])
            .spawn()
            .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("locked"), "{stderr}");
    }
    let list = e
        .run(&["token", "list", "--json", "--owner", "user@acme.test"])
        .ok()
        .json();
    assert_eq!(list.as_array().expect("array").len(), 12);
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect()
}

#[test]
fn a_thousand_issued_tokens_appear_nowhere_at_rest() {
    let e = Env::setup();
    e.run(&["policy", "set", "max_personal_tokens", "1000"])
        .ok();
    // Hold a connection open for the whole test: SQLite removes the WAL when the last
    // connection closes (each CLI process closes its own), and the WAL must really exist
    // while it is searched.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let holder = rt.block_on(async {
        use sqlx::Connection;
        let path = e.data().join("tessera.db");
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connect");
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut c)
            .await
            .expect("journal mode");
        assert_eq!(mode, "wal");
        c
    });
    let mut tokens = Vec::with_capacity(1000);
    let mut stderr = String::new();
    let mut i = 0;
    while tokens.len() < 1000 {
        // A few processes at a time, so this takes seconds rather than minutes.
        let batch: Vec<_> = (0..8)
            .map(|_| {
                i += 1;
                let name = format!("t{i}");
                let kind = ["personal", "company", "user"][i % 3];
                let mut args = vec!["token", "create", "--kind", kind];
                match kind {
                    "company" => args.extend(["--description", "scan test"]),
                    _ => args.extend(["--owner", "user@acme.test"]),
                }
                args.extend(["--name", &name]);
                e.cmd(&args).spawn().expect("spawn")
            })
            .collect();
        for c in batch {
            let out = c.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            stderr.push_str(&String::from_utf8_lossy(&out.stderr));
            tokens.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
        }
    }
    // Verify a few, so usage rows exist too.
    for t in tokens.iter().step_by(97) {
        let r = e.verify(t, &["--ip", "127.0.0.1"]);
        stderr.push_str(&r.stderr);
    }
    // Hold the database open in another process state: read everything at rest.
    let mut blobs: Vec<(PathBuf, Vec<u8>)> = files_in(&e.data())
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).expect("read");
            (p, b)
        })
        .collect();
    let audit = e.run(&["audit", "--json", "--limit", "10000"]).ok();
    blobs.push((PathBuf::from("audit output"), audit.stdout.into_bytes()));
    let listing = e.run(&["token", "list", "--json"]).ok();
    blobs.push((
        PathBuf::from("token list output"),
        listing.stdout.into_bytes(),
    ));
    blobs.push((PathBuf::from("CLI stderr"), stderr.into_bytes()));
    assert!(blobs.iter().any(|(p, _)| p.ends_with("tessera.db")));
    assert!(
        blobs
            .iter()
            .any(|(p, b)| p.ends_with("tessera.db-wal") && !b.is_empty()),
        "the WAL was not there to search: {:?}",
        blobs.iter().map(|(p, b)| (p, b.len())).collect::<Vec<_>>()
    );
    assert_eq!(tokens.len(), 1000);
    // The body without prefix and checksum is what must never be stored. Every 30-byte
    // window of every file is looked up among the thousand bodies: one pass per file
    // instead of one per token and file.
    let bodies: std::collections::HashSet<&[u8]> = tokens
        .iter()
        .map(|t| {
            assert_eq!(t.len(), 42);
            &t.as_bytes()[6..36]
        })
        .collect();
    assert_eq!(bodies.len(), 1000, "the thousand tokens are all different");
    for (p, b) in &blobs {
        assert!(
            !b.windows(30).any(|w| bodies.contains(w)),
            "a token body was found in {}",
            p.display()
        );
    }
    // The search finds a body where there is one (so a silent miss cannot pass).
    let planted = [
        b"padding ".as_slice(),
        bodies.iter().next().expect("a body"),
        b" end",
    ]
    .concat();
    assert!(planted.windows(30).any(|w| bodies.contains(w)));
    rt.block_on(async {
        use sqlx::Connection;
        holder.close().await.expect("close");
    });
}

/// Tamper with the audit log as someone with the sqlite3 shell could: drop the delete trigger
/// and delete entry 2.
fn delete_audit_entry_2(e: &Env) {
    e.drop_audit_trigger("audit_no_delete");
    e.sql("DELETE FROM audit WHERE id = 2");
}

#[test]
fn audit_verify_passes_an_untouched_log_and_names_the_first_bad_entry_after_tampering() {
    let e = Env::setup();
    let r = e.run(&["audit", "verify"]).ok();
    let line = r.stdout.trim();
    assert!(
        line.starts_with("audit log intact: 4 entries, head "),
        "{line}"
    );
    let head = line.rsplit(' ').next().expect("head");
    assert_eq!(head.len(), 16, "{line}");
    assert!(head.chars().all(|c| c.is_ascii_hexdigit()), "{line}");
    let v = e.run(&["audit", "verify", "--json"]).ok().json();
    assert_eq!(v["intact"], true);
    assert_eq!(v["entries"], 4);
    assert_eq!(v["problem"], Value::Null);
    assert!(v["head"].as_str().expect("head").starts_with(head));
    // The operator and admins may check; other users may not.
    e.run(&["audit", "verify", "--as", "admin@acme.test"]).ok();
    let r = e.run(&["audit", "verify", "--as", "user@acme.test"]);
    assert_eq!(r.code, 1);
    assert!(r.error().contains("only an admin"), "{}", r.stderr);
    // The listing is unchanged, and its filters do not mix with `verify`.
    let rows = e
        .run(&["audit", "--json", "--actor", "operator"])
        .ok()
        .json();
    assert_eq!(rows.as_array().expect("array").len(), 4);
    assert_eq!(e.run(&["audit", "--actor", "operator", "verify"]).code, 2);

    delete_audit_entry_2(&e);
    let r = e.run(&["audit", "verify"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        r.error(),
        "error: audit: entry 3: does not follow entry 1 (entries were deleted)"
    );
    assert!(!r.stdout.contains("intact"), "{}", r.stdout);
    let r = e.run(&["audit", "verify", "--json"]);
    assert_eq!(r.code, 1);
    let v = r.json();
    assert_eq!(v["intact"], false);
    assert_eq!(v["entries"], 3);
    assert_eq!(v["problem"]["entry"], 3);
    // Putting the trigger back does not hide the deletion; the chain still shows it.
    e.sql(if e.pg_url().is_some() {
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
    } else {
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN \
         SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    });
    assert!(e.run(&["audit", "verify"]).error().contains("entry 3"));
}

#[test]
fn audit_verify_reports_a_changed_entry_and_a_dropped_trigger() {
    let e = Env::setup();
    e.drop_audit_trigger("audit_no_update");
    let r = e.run(&["audit", "verify"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.error(),
        "error: audit: the trigger audit_no_update is missing: the audit log is no longer append-only"
    );
    e.sql("UPDATE audit SET actor = 'someone-else' WHERE id = 3");
    let r = e.run(&["audit", "verify"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.error(),
        "error: audit: entry 3: its hash does not match its content (changed after it was written)"
    );
}

/// A running `tessera serve`.
struct Server {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Env {
    /// Spawn `tessera serve` on a free loopback port with `extra` arguments.
    fn spawn_serve(&self, extra: &[&str]) -> Server {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        self.spawn_serve_cmd(self.cmd(&args))
    }

    /// Spawn a `tessera serve` command made by [`Env::cmd`] and adjusted by the caller.
    fn spawn_serve_cmd(&self, mut c: Command) -> Server {
        let mut child = c.spawn().expect("spawn tessera serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server { child, lines }
    }
}

impl Server {
    /// Wait for the "listening" line; None if the process ends (or stays silent) first.
    fn listening(&self) -> Option<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with("Tessera API listening on https://127.0.0.1:") => {
                    return Some(l)
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// Wait for it to listen and return its `https://ADDRESS:PORT`.
    fn base(&self) -> Option<String> {
        let line = self.listening()?;
        Some(
            line.trim_start_matches("Tessera API listening on ")
                .split_whitespace()
                .next()?
                .trim_end_matches(['.', ','])
                .to_owned(),
        )
    }

    /// Stop it as an operator would (SIGTERM) and collect its exit code and stderr.
    fn stop(mut self) -> Run {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        if !sent {
            let _ = self.child.kill();
        }
        self.finish()
    }

    /// Wait (at most a minute) for it to exit by itself.
    fn finish(mut self) -> Run {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(_status) = self.child.try_wait().expect("try_wait") {
                break;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("tessera serve did not exit within a minute");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let out = self.child.wait_with_output().expect("wait");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: self.lines.try_iter().collect::<Vec<_>>().join("\n"),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[test]
fn serve_refuses_to_start_on_a_broken_audit_log_unless_told_to_accept_it() {
    let e = Env::setup();
    // An intact log: it starts without a word about the audit log.
    let s = e.spawn_serve(&[]);
    assert!(s.listening().is_some(), "serve did not start");
    let r = s.stop();
    assert!(!r.stderr.contains("audit"), "{}", r.stderr);

    delete_audit_entry_2(&e);
    let s = e.spawn_serve(&[]);
    if s.listening().is_some() {
        let _ = s.stop();
        panic!("serve started on a broken audit log");
    }
    let r = s.finish();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let err = r.error();
    assert!(
        err.starts_with("error: audit: entry 3: does not follow entry 1 (entries were deleted)"),
        "{err}"
    );
    assert!(err.contains("--accept-broken-audit"), "{err}");

    let s = e.spawn_serve(&["--accept-broken-audit"]);
    assert!(s.listening().is_some(), "serve did not start");
    let r = s.stop();
    assert!(
        r.stderr.contains(
            "warning: audit: entry 3: does not follow entry 1 (entries were deleted); \
             starting anyway because of --accept-broken-audit."
        ),
        "{}",
        r.stderr
    );
}

/// `tessera serve` under load (accepted and refused requests from several clients) killed
/// with SIGKILL again and again: after every kill the database passes `PRAGMA
/// integrity_check`, every revocation the API acknowledged before the kill is in force, and
/// at the end `tessera audit verify` passes. Prints the most usage events one kill lost
/// (what was still in the writer's queue: its flush interval's worth). `TESSERA_KILLS`
/// overrides the 20 rounds.
#[test]
fn serve_killed_under_load_keeps_the_database_and_every_acknowledged_revocation() {
    let e = Env::setup();
    let rounds: usize = std::env::var("TESSERA_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    e.run(&["policy", "set", "max_rate_limit", "1000000"]).ok();
    let (live_id, live) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "admin@acme.test",
        "--name",
        "live",
        "--scope",
        "me:read",
        "--rate-limit",
        "1000000",
    ]);
    let (_, admin) = e.create(&[
        "--kind",
        "personal",
        "--owner",
        "admin@acme.test",
        "--name",
        "revoker",
        "--scope",
        "tokens:write",
        "--rate-limit",
        "1000000",
    ]);
    let ca = e.run(&["cert", "export"]).ok().stdout;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).expect("ca")])
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("client");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let uses = |e: &Env| -> i64 {
        let v = e
            .run(&["token", "show", &live_id.to_string(), "--json"])
            .ok()
            .json();
        v["use_count"].as_i64().expect("use_count")
    };
    let mut revoked = Vec::new();
    let mut worst_loss = 0i64;
    for round in 0..rounds {
        let (victim_id, victim) = e.create(&[
            "--kind",
            "personal",
            "--owner",
            "admin@acme.test",
            "--name",
            &format!("victim-{round}"),
            "--scope",
            "me:read",
        ]);
        let before = uses(&e);
        let s = e.spawn_serve(&[]);
        let base = s.base().expect("serve started");
        let accepted = rt.block_on(async {
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let mut load = Vec::new();
            for w in 0..4 {
                let (client, url, stop) = (client.clone(), format!("{base}/v1/me"), stop.clone());
                let token = if w == 3 { victim.clone() } else { live.clone() };
                let counts = w != 3;
                load.push(tokio::spawn(async move {
                    let mut ok = 0i64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        match client.get(&url).bearer_auth(&token).send().await {
                            Ok(r) if counts && r.status() == 200 => ok += 1,
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                    ok
                }));
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            // The revocation the API acknowledges must survive the kill that follows.
            let res = client
                .post(format!("{base}/v1/tokens/{victim_id}/revoke"))
                .bearer_auth(&admin)
                .json(&serde_json::json!({}))
                .send()
                .await
                .expect("revoke");
            assert_eq!(res.status(), 200, "revoke was not acknowledged");
            revoked.push((victim_id, victim.clone()));
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            let pid = s.child.id().to_string();
            let killed = Command::new("kill")
                .args(["-KILL", &pid])
                .status()
                .expect("kill");
            assert!(killed.success());
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let mut ok = 0;
            for l in load {
                ok += l.await.expect("load task");
            }
            ok
        });
        let r = s.finish();
        assert_ne!(r.code, 0, "serve was not killed");
        // The database is whole, and every acknowledged revocation holds.
        // (A SQLite file is checked here; a PostgreSQL server keeps its own data whole.)
        let check = rt.block_on(async {
            use sqlx::Connection;
            if e.pg_url().is_some() {
                return "ok".to_owned();
            }
            let path = e.data().join("tessera.db");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .expect("connect");
            let (v,): (String,) = sqlx::query_as("PRAGMA integrity_check")
                .fetch_one(&mut c)
                .await
                .expect("integrity_check");
            c.close().await.expect("close");
            v
        });
        assert_eq!(check, "ok", "round {round}");
        for (_, t) in &revoked {
            let r = e.verify(t, &[]);
            assert_eq!(
                r.code, 1,
                "a revocation acknowledged before a kill was lost: {}",
                r.stdout
            );
        }
        let recorded = uses(&e) - before;
        assert!(
            recorded <= accepted,
            "round {round}: {recorded} recorded for {accepted} answered"
        );
        worst_loss = worst_loss.max(accepted - recorded);
    }
    e.run(&["audit", "verify"]).ok();
    println!("crash: {rounds} kills under load; every acknowledged revocation held; the most accepted uses one kill lost: {worst_loss}");
}

#[test]
fn scan_reports_what_each_found_token_is_and_revokes_the_live_ones() {
    let e = Env::setup();
    let own = ["--owner", "user@acme.test"];
    let (live_id, live) = e.create(&["--kind", "personal", "--name", "leaky", own[0], own[1]]);
    let (gone_id, gone) = e.create(&["--kind", "personal", "--name", "old", own[0], own[1]]);
    e.run(&["token", "revoke", &gone_id.to_string()]).ok();
    let elsewhere =
        tessera_core::token::TokenSecret::generate(tessera_core::token::TokenKind::Company);
    // The same token with its last two characters changed: its checksum no longer holds.
    let tail = if live.ends_with("zz") { "yy" } else { "zz" };
    let broken = format!("{}{tail}", &live[..live.len() - 2]);
    let repo = e.dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("dirs");
    std::fs::create_dir_all(repo.join("src")).expect("dirs");
    std::fs::write(
        repo.join("src/config.env"),
        format!("# settings\nAPI_TOKEN={live}\nOLD={gone}\n"),
    )
    .expect("write");
    std::fs::write(
        repo.join("notes.md"),
        format!("other: {}\ntypo: {broken}\n", elsewhere.expose()),
    )
    .expect("write");
    // Skipped: git's own folder and binary files.
    std::fs::write(repo.join(".git/COMMIT_EDITMSG"), &live).expect("write");
    std::fs::write(repo.join("blob.bin"), format!("\0{live}")).expect("write");
    let path = repo.to_str().expect("utf-8");

    let r = e.run(&["scan", path, "--json"]);
    assert_eq!(r.code, 1, "a live token was found: {}", r.stderr);
    assert!(
        !r.stdout.contains(&live) && !r.stdout.contains(&gone),
        "{}",
        r.stdout
    );
    let hits = r.json();
    let got: Vec<(String, u64, String)> = hits
        .as_array()
        .expect("array")
        .iter()
        .map(|h| {
            let file = h["file"].as_str().expect("file");
            let name = Path::new(file).file_name().expect("name").to_string_lossy();
            (
                name.into_owned(),
                h["line"].as_u64().expect("line"),
                h["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let want: Vec<(String, u64, String)> = [
        ("config.env", 2, "live"),
        ("config.env", 3, "revoked"),
        ("notes.md", 1, "unknown"),
        ("notes.md", 2, "malformed"),
    ]
    .iter()
    .map(|(f, l, s)| ((*f).to_owned(), *l, (*s).to_owned()))
    .collect();
    assert_eq!(got, want);
    let live_hit = hits
        .as_array()
        .expect("array")
        .iter()
        .find(|h| h["status"] == "live")
        .expect("the live one");
    assert_eq!(live_hit["token"]["id"], live_id);
    assert_eq!(live_hit["token"]["name"], "leaky");

    // Asking needs a terminal; without one and without --yes nothing is revoked.
    let r = e.run(&["scan", path, "--revoke"]);
    assert!(
        r.error()
            .starts_with("error: --revoke: no terminal to ask on"),
        "{}",
        r.stderr
    );
    e.verify(&live, &[]).ok();

    let r = e.run(&["scan", path, "--revoke", "--yes"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("LIVE (now revoked)"), "{}", r.stdout);
    assert_eq!(
        e.verify(&live, &[]).code,
        1,
        "the leaked token no longer works"
    );
    let audit = e
        .run(&["audit", "--json", "--action", "token.revoke"])
        .ok()
        .json();
    let reasons: Vec<&str> = audit
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["details"]["reason"].as_str())
        .collect();
    assert_eq!(reasons.len(), 1, "{audit}");
    assert!(
        reasons[0].starts_with("leaked in ") && reasons[0].ends_with("config.env:2"),
        "{reasons:?}"
    );

    // Nothing live any more: exit 0. A pipe is scanned the same way.
    assert_eq!(e.run(&["scan", path]).code, 0);
    let r = e.stdin(&["scan", "--stdin"], &format!("diff\n+TOKEN={live}\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("-:2  tsr_p_…"), "{}", r.stdout);
    assert!(r.stdout.contains("revoked"), "{}", r.stdout);
    let r = e.run(&["scan", "/no/such/place"]);
    assert!(
        r.error()
            .starts_with("error: PATH: /no/such/place does not exist"),
        "{}",
        r.stderr
    );
}

#[test]
fn scan_revokes_only_what_the_actor_may_manage_and_deactivated_ones_too() {
    let e = Env::setup();
    let (_, admins) = e.create(&[
        "--kind",
        "personal",
        "--name",
        "admin-ci",
        "--owner",
        "admin@acme.test",
    ]);
    let (paused_id, paused) = e.create(&[
        "--kind",
        "personal",
        "--name",
        "paused",
        "--owner",
        "user@acme.test",
    ]);
    e.run(&["token", "deactivate", &paused_id.to_string()]).ok();
    let file = e.dir.path().join("leak.txt");
    std::fs::write(&file, format!("{admins}\n{paused}\n")).expect("write");
    let path = file.to_str().expect("utf-8");

    let r = e.run(&["scan", path, "--revoke", "--yes", "--as", "user@acme.test"]);
    assert_eq!(r.code, 1, "the admin's token is live: {}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(
        lines[0].contains("LIVE  issued here, to a token you may not manage"),
        "{}",
        r.stdout
    );
    // A deactivated token could be activated again, so --revoke revokes it too.
    assert!(
        lines[1].contains("deactivated (now revoked)"),
        "{}",
        r.stdout
    );
    let admin_view = e.run(&["scan", path, "--json"]).json();
    assert_eq!(admin_view[0]["status"], "live", "{admin_view}");
    assert_eq!(admin_view[1]["status"], "revoked", "{admin_view}");
    e.verify(&admins, &[]).ok();
}
