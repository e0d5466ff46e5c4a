//! The audit log's hash chain: an untouched log verifies, and edits made behind Tessera's
//! back with a raw SQLite connection (the sqlite3 shell's powers: dropping triggers, deleting
//! and changing rows) are reported, naming the first bad entry. Entries written before the
//! chain existed are chained when the database is next opened.

use crate::common;

use std::path::Path;

use sqlx::{Connection, SqliteConnection};
use tessera_core::model::Role;
use tessera_core::token::TokenKind;
use tessera_core::{Actor, AuditCheck, StatusAction};

/// The trigger texts the migrations create, to put a dropped trigger back exactly.
const NO_DELETE: &str = "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END";
const NO_UPDATE_BEFORE_CHAIN: &str = "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END";

async fn raw(dir: &Path) -> SqliteConnection {
    let path = dir.join(tessera_core::store::DB_FILE);
    SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("raw connection")
}

async fn exec(c: &mut SqliteConnection, sql: &str) {
    sqlx::query(sql)
        .execute(&mut *c)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(c: &mut SqliteConnection) -> i64 {
    sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM audit")
        .fetch_one(&mut *c)
        .await
        .expect("count")
        .0
}

/// A company with a few people and tokens, so the log has a dozen or so entries. Closed, so
/// the raw connection that follows is the only one open.
async fn populated(dir: &Path) -> i64 {
    let (t, admin) = common::company(dir).await;
    common::person(&t, "uli@acme.test", Role::User).await;
    common::person(&t, "vera@acme.test", Role::VrmAdmin).await;
    let uli = t
        .actor(Some(&"uli@acme.test".parse().expect("email")))
        .await
        .expect("actor");
    let a = common::token(&t, &uli, TokenKind::Personal, "ci", "30d").await;
    common::token(&t, &admin, TokenKind::Company, "svc", "30d").await;
    t.set_token_status(&admin, a, StatusAction::Deactivate)
        .await
        .expect("deactivate");
    t.set_token_status(&admin, a, StatusAction::Revoke)
        .await
        .expect("revoke");
    t.deactivate_user(&admin, &"vera@acme.test".parse().expect("email"))
        .await
        .expect("deactivate user");
    let check = t.verify_audit().await.expect("verify");
    t.close().await;
    let n = count(&mut raw(dir).await).await;
    assert!(n >= 8, "only {n} entries");
    assert_eq!(check.entries, u64::try_from(n).expect("count"));
    n
}

/// Open the data dir afresh (as the next process would) and check the log.
async fn verify(dir: &Path) -> AuditCheck {
    let t = common::open(dir).await;
    let c = t.verify_audit().await.expect("verify");
    t.close().await;
    c
}

fn problem(c: &AuditCheck) -> (Option<i64>, &str) {
    let p = c
        .problem
        .as_ref()
        .unwrap_or_else(|| panic!("expected a problem, got {c:?}"));
    assert!(!c.intact);
    (p.entry, p.message.as_str())
}

#[tokio::test]
async fn an_untouched_log_is_intact_and_counts_every_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing written yet: intact, empty, the head is the chain's all-zero start.
    let empty = verify(dir.path()).await;
    assert!(empty.intact && empty.problem.is_none(), "{empty:?}");
    assert_eq!(empty.entries, 0);
    assert_eq!(empty.head, "0".repeat(64));
    assert_eq!(empty.head_id, None);

    let n = populated(dir.path()).await;
    let c = verify(dir.path()).await;
    assert!(c.intact, "{c:?}");
    assert_eq!(c.problem, None);
    assert_eq!(c.entries, u64::try_from(n).expect("count"));
    // The head is the newest entry's stored hash, and every entry links to the one before.
    let mut conn = raw(dir.path()).await;
    let rows: Vec<(i64, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT id, prev_hash, hash FROM audit ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .expect("rows");
    assert_eq!(rows[0].1, vec![0u8; 32]);
    for w in rows.windows(2) {
        assert_eq!(w[1].1, w[0].2, "entry {} does not link", w[1].0);
    }
    let last = rows.last().expect("rows");
    assert_eq!(c.head_id, Some(last.0));
    assert_eq!(c.head, hex_of(&last.2));
    let (head,): (String,) = sqlx::query_as("SELECT value FROM meta WHERE key = 'audit_head'")
        .fetch_one(&mut conn)
        .await
        .expect("head");
    assert_eq!(head, format!("{}:{}", last.0, hex_of(&last.2)));
}

async fn head(c: &mut SqliteConnection) -> String {
    sqlx::query_as::<_, (String,)>("SELECT value FROM meta WHERE key = 'audit_head'")
        .fetch_one(c)
        .await
        .expect("head")
        .0
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn the_triggers_still_refuse_changes_and_deletions_of_chained_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated(dir.path()).await;
    let mut c = raw(dir.path()).await;
    for sql in [
        "UPDATE audit SET details = '{}' WHERE id = 2",
        "UPDATE audit SET hash = NULL WHERE id = 2",
        "UPDATE audit SET prev_hash = zeroblob(32) WHERE id = 3",
        "DELETE FROM audit WHERE id = 2",
    ] {
        let e = sqlx::query(sql).execute(&mut c).await.expect_err("refused");
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert!(verify(dir.path()).await.intact);
}

#[tokio::test]
async fn deleting_a_middle_entry_is_reported_at_the_entry_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated(dir.path()).await;
    let mut c = raw(dir.path()).await;
    exec(&mut c, "DROP TRIGGER audit_no_delete").await;
    exec(&mut c, "DELETE FROM audit WHERE id = 5").await;
    exec(&mut c, NO_DELETE).await;
    c.close().await.expect("close");

    let check = verify(dir.path()).await;
    let (entry, msg) = problem(&check);
    assert_eq!(entry, Some(6));
    assert_eq!(
        msg,
        "entry 6: does not follow entry 4 (entries were deleted)"
    );
}

#[tokio::test]
async fn changing_an_entry_is_reported_as_a_hash_mismatch() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated(dir.path()).await;
    let mut c = raw(dir.path()).await;
    exec(&mut c, "DROP TRIGGER audit_no_update").await;
    exec(
        &mut c,
        "UPDATE audit SET details = '{\"role\":\"user\"}' WHERE id = 4",
    )
    .await;
    c.close().await.expect("close");

    let check = verify(dir.path()).await;
    let (entry, msg) = problem(&check);
    assert_eq!(entry, Some(4));
    assert_eq!(
        msg,
        "entry 4: its hash does not match its content (changed after it was written)"
    );
}

#[tokio::test]
async fn deleting_the_newest_entries_is_reported_through_the_recorded_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = populated(dir.path()).await;
    let mut c = raw(dir.path()).await;
    exec(&mut c, "DROP TRIGGER audit_no_delete").await;
    sqlx::query("DELETE FROM audit WHERE id > ?")
        .bind(n - 2)
        .execute(&mut c)
        .await
        .expect("delete");
    // Put the trigger back exactly, so only the chain can tell.
    exec(&mut c, NO_DELETE).await;
    c.close().await.expect("close");

    let check = verify(dir.path()).await;
    let (entry, msg) = problem(&check);
    assert_eq!(entry, Some(n - 1));
    assert_eq!(
        msg,
        format!(
            "entries {} to {n} are missing: the log ends at entry {} but entry {n} was \
             recorded as the newest (the newest entries were deleted)",
            n - 1,
            n - 2
        )
    );

    // Later entries follow the recorded head, so the gap stays evident after more writes.
    let t = common::open(dir.path()).await;
    common::person(&t, "new@acme.test", Role::User).await;
    let check = t.verify_audit().await.expect("verify");
    t.close().await;
    let (entry, msg) = problem(&check);
    assert_eq!(entry, Some(n + 1));
    assert_eq!(
        msg,
        format!(
            "entry {}: does not follow entry {} (entries were deleted)",
            n + 1,
            n - 2
        )
    );
}

#[tokio::test]
async fn a_dropped_or_weakened_trigger_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated(dir.path()).await;
    let mut c = raw(dir.path()).await;
    exec(&mut c, "DROP TRIGGER audit_no_delete").await;
    let check = verify(dir.path()).await;
    assert_eq!(
        problem(&check),
        (
            None,
            "the trigger audit_no_delete is missing: the audit log is no longer append-only"
        )
    );
    exec(&mut c, NO_DELETE).await;
    assert!(verify(dir.path()).await.intact);

    exec(&mut c, "DROP TRIGGER audit_no_update").await;
    let check = verify(dir.path()).await;
    assert_eq!(
        problem(&check),
        (
            None,
            "the trigger audit_no_update is missing: the audit log is no longer append-only"
        )
    );
    // A trigger of the same name that no longer guards chained rows.
    exec(
        &mut c,
        NO_UPDATE_BEFORE_CHAIN
            .replace("BEGIN", "WHEN 0 BEGIN")
            .as_str(),
    )
    .await;
    let check = verify(dir.path()).await;
    assert_eq!(
        problem(&check),
        (
            None,
            "the trigger audit_no_update was changed: it may no longer refuse changes to the audit log"
        )
    );
}

#[tokio::test]
async fn a_row_without_a_hash_added_after_the_chain_began_is_reported_not_chained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = populated(dir.path()).await;
    let mut c = raw(dir.path()).await;
    exec(
        &mut c,
        "INSERT INTO audit (at, actor, action, target, details) \
         VALUES (0, 'operator', 'user.add', 'user:99', '{}')",
    )
    .await;
    c.close().await.expect("close");

    let check = verify(dir.path()).await;
    let (entry, msg) = problem(&check);
    assert_eq!(entry, Some(n + 1));
    assert_eq!(
        msg,
        format!(
            "entry {}: has no hash (it was added outside Tessera, or its hash was removed)",
            n + 1
        )
    );
}

#[tokio::test]
async fn entries_written_before_the_chain_are_chained_on_the_next_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = populated(dir.path()).await;
    // Turn the database back into what a build before the chain wrote: no hash columns, the
    // original triggers, no head, and the chain's migration not yet applied. Then add entries
    // the way that build did.
    let mut c = raw(dir.path()).await;
    for sql in [
        "DROP TRIGGER audit_no_update",
        "DROP TRIGGER audit_no_delete",
        "ALTER TABLE audit DROP COLUMN hash",
        "ALTER TABLE audit DROP COLUMN prev_hash",
        NO_UPDATE_BEFORE_CHAIN,
        NO_DELETE,
        "DELETE FROM meta WHERE key = 'audit_head'",
        "DELETE FROM _sqlx_migrations WHERE version = 20261202100000",
        "INSERT INTO audit (at, actor, action, target, details) \
         VALUES (1700000000, 'operator', 'user.add', 'user:98', '{\"old\":true}')",
        "INSERT INTO audit (at, actor, action, target, details) \
         VALUES (1700000001, 'operator', 'user.add', 'user:99', '{\"old\":true}')",
    ] {
        exec(&mut c, sql).await;
    }
    c.close().await.expect("close");

    // Opening migrates and chains every entry, in id order.
    let check = verify(dir.path()).await;
    assert!(check.intact, "{check:?}");
    assert_eq!(check.entries, u64::try_from(n + 2).expect("count"));
    assert_eq!(check.head_id, Some(n + 2));
    let mut c = raw(dir.path()).await;
    let (unchained,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit WHERE hash IS NULL OR prev_hash IS NULL")
            .fetch_one(&mut c)
            .await
            .expect("unchained");
    assert_eq!(unchained, 0);
    // Chained, they are as immutable as new entries.
    let e = sqlx::query("UPDATE audit SET details = '{}' WHERE id = 1")
        .execute(&mut c)
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("append-only"), "{e}");
    let before = head(&mut c).await;

    // Opening again changes nothing; new entries continue the chain.
    let again = verify(dir.path()).await;
    assert_eq!(again, check);
    assert_eq!(head(&mut c).await, before);
    let t = common::open(dir.path()).await;
    common::person(&t, "new@acme.test", Role::User).await;
    let after = t.verify_audit().await.expect("verify");
    t.close().await;
    assert!(after.intact, "{after:?}");
    assert_eq!(after.entries, u64::try_from(n + 3).expect("count"));
}

#[tokio::test]
async fn only_the_operator_and_admins_may_verify_through_an_actor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, admin) = common::company(dir.path()).await;
    common::person(&t, "uli@acme.test", Role::User).await;
    let uli = t
        .actor(Some(&"uli@acme.test".parse().expect("email")))
        .await
        .expect("actor");
    assert!(t.verify_audit_as(&admin).await.expect("admin").intact);
    assert!(
        t.verify_audit_as(&Actor::Operator)
            .await
            .expect("operator")
            .intact
    );
    let e = t.verify_audit_as(&uli).await.expect_err("refused");
    assert_eq!(e.to_string(), "only an admin may verify the audit log");
}

#[tokio::test]
async fn nothing_shaped_like_a_token_enters_the_audit_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, _) = common::company(dir.path()).await;
    let secret =
        tessera_core::token::TokenSecret::generate(tessera_core::token::TokenKind::Personal);
    let db = dir.path().join("tessera.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("raw connection");
    let mut conn = pool.acquire().await.expect("conn");
    let before: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit")
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    for (actor, details) in [
        (format!("x{}", secret.expose()), serde_json::json!({})),
        (
            "operator".to_owned(),
            serde_json::json!({"name": format!("key={}", secret.expose())}),
        ),
    ] {
        let e = tessera_core::store::audit::append(
            &mut *conn,
            1,
            &actor,
            "token.create",
            "token:1",
            &details,
        )
        .await
        .expect_err("refused");
        assert!(matches!(e, tessera_core::Error::Invalid(_)), "{e}");
        assert_eq!(e.field(), None, "{e}");
        assert!(
            e.to_string()
                .starts_with("the audit entry would contain something shaped like a token"),
            "{e}"
        );
    }
    let after: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit")
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    assert_eq!(before, after);
    drop(conn);
    pool.close().await;
    assert!(t.verify_audit().await.expect("check").problem.is_none());
}
