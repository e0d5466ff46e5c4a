//! The append-only `audit` table. Triggers in the schema refuse updates and deletes, and a
//! hash chain makes edits behind their back evident: each entry stores the previous entry's
//! hash (`prev_hash`) and a SHA-256 over that and its own content (`hash`), and the newest
//! entry's id and hash are recorded in `meta` ([`HEAD_KEY`]). [`check`] walks the chain.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::QueryBuilder;

use crate::error::Result;
use crate::store::{from_ts, meta, on, Db, Dialect, Engine, Store};

/// A SHA-256 value in the chain.
pub type Hash = [u8; 32];

/// The `prev_hash` of the first entry.
pub const GENESIS: Hash = [0; 32];

/// The `meta` key holding the newest entry as `ID:HEX-HASH`.
pub const HEAD_KEY: &str = "audit_head";

/// Prefixed to every hashed entry, so the encoding can change without ambiguity.
const HASH_TAG: &[u8] = b"tessera-audit-v1\0";

/// Rows read per query while walking or chaining the log.
const PAGE: i64 = 5000;

/// The triggers that keep the log append-only, as the migrations create them.
const TRIGGERS: [(&str, &str, &str); 2] = [
    (
        "audit_no_update",
        "changes to the audit log",
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
         WHEN OLD.hash IS NOT NULL
             OR NEW.id IS NOT OLD.id
             OR NEW.at IS NOT OLD.at
             OR NEW.actor IS NOT OLD.actor
             OR NEW.action IS NOT OLD.action
             OR NEW.target IS NOT OLD.target
             OR NEW.details IS NOT OLD.details
         BEGIN
             SELECT RAISE(ABORT, 'the audit log is append-only');
         END",
    ),
    (
        "audit_no_delete",
        "deletions from the audit log",
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
         BEGIN
             SELECT RAISE(ABORT, 'the audit log is append-only');
         END",
    ),
];

/// One audit entry.
#[derive(Debug, Clone, Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    #[sqlx(rename = "at")]
    #[serde(skip)]
    pub at_ts: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
}

/// An audit entry for display.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct AuditEntry {
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    pub at: time::OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// What the action changed, an object whose fields depend on the action; null when the
    /// stored text is not JSON.
    #[cfg_attr(feature = "bindings", ts(type = "Record<string, unknown> | null"))]
    pub details: serde_json::Value,
}

impl AuditEntry {
    /// The token an entry is about (its target `token:ID`), if it is about one.
    pub fn target_token(&self) -> Option<crate::model::TokenId> {
        self.target
            .strip_prefix("token:")
            .and_then(|t| t.parse().ok())
            .map(crate::model::TokenId)
    }
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id,
            at: from_ts(r.at_ts),
            actor: r.actor,
            action: r.action,
            target: r.target,
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
        }
    }
}

pub async fn append(
    db: &mut impl Db,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    details: &serde_json::Value,
) -> Result<()> {
    // Writers hold the write lock (`BEGIN IMMEDIATE`, or the advisory lock on PostgreSQL),
    // so nothing appends between this read and the insert. The new entry follows the
    // recorded head when there is one, so entries deleted from the end stay evident after
    // later appends.
    let last: Option<(i64, Option<Vec<u8>>)> = on!(&mut *db, c => sqlx::query_as(
        "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(c)
    .await?);
    let recorded = meta::get(&mut *db, HEAD_KEY)
        .await?
        .and_then(|v| parse_head(&v));
    let last_id = last.as_ref().map_or(0, |l| l.0);
    let (prev, prev_id) = match recorded {
        Some((id, hash)) => (hash, id),
        None => (
            last.and_then(|l| l.1)
                .and_then(|h| Hash::try_from(h.as_slice()).ok())
                .unwrap_or(GENESIS),
            last_id,
        ),
    };
    let id = last_id.max(prev_id) + 1;
    let details = details.to_string();
    // The log is kept for ever: nothing shaped like a token may enter it, whatever the caller
    // checked before.
    if [actor, action, target, details.as_str()]
        .iter()
        .any(|t| crate::token::contains_token_pattern(t))
    {
        return Err(crate::error::Error::invalid(
            None,
            "the audit entry would contain something shaped like a token, which is never written to the audit log; remove the token from the input (and revoke it if it was real)",
        ));
    }
    let hash = entry_hash(&prev, id, at, actor, action, target, &details);
    on!(&mut *db, c => sqlx::query(
        "INSERT INTO audit (id, at, actor, action, target, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(&details)
    .bind(&prev[..])
    .bind(&hash[..])
    .execute(c)
    .await?
    .rows_affected());
    meta::set(db, HEAD_KEY, &format_head(id, &hash)).await
}

/// The chain's hash of one entry: SHA-256 over a version tag, the previous entry's hash, the
/// id and time (8 bytes each, big-endian), and actor, action, target and details, each as an
/// 8-byte big-endian length followed by its UTF-8 bytes.
pub fn entry_hash(
    prev: &Hash,
    id: i64,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    details: &str,
) -> Hash {
    let mut h = Sha256::new();
    h.update(HASH_TAG);
    h.update(prev);
    h.update(id.to_be_bytes());
    h.update(at.to_be_bytes());
    for field in [actor, action, target, details] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().into()
}

fn format_head(id: i64, hash: &Hash) -> String {
    format!("{id}:{}", hex::encode(hash))
}

fn parse_head(v: &str) -> Option<(i64, Hash)> {
    let (id, hash) = v.split_once(':')?;
    let hash = hex::decode(hash).ok()?;
    Some((id.parse().ok()?, Hash::try_from(hash.as_slice()).ok()?))
}

/// One row as the chain sees it.
#[derive(sqlx::FromRow)]
struct ChainRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: String,
    details: String,
    prev_hash: Option<Vec<u8>>,
    hash: Option<Vec<u8>>,
}

impl ChainRow {
    fn hash_after(&self, prev: &Hash) -> Hash {
        entry_hash(
            prev,
            self.id,
            self.at,
            &self.actor,
            &self.action,
            &self.target,
            &self.details,
        )
    }
}

async fn page_after(db: &mut impl Db, after: i64) -> Result<Vec<ChainRow>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT id, at, actor, action, target, details, prev_hash, hash FROM audit \
         WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(PAGE)
    .fetch_all(c)
    .await?))
}

/// Does any entry exist with (or without) a hash?
async fn any_hashed(db: &mut impl Db, hashed: bool) -> Result<bool> {
    let sql = if hashed {
        "SELECT EXISTS (SELECT 1 FROM audit WHERE hash IS NOT NULL)"
    } else {
        "SELECT EXISTS (SELECT 1 FROM audit WHERE hash IS NULL)"
    };
    let (b,): (bool,) = on!(db, c => sqlx::query_as(sql).fetch_one(c).await?);
    Ok(b)
}

/// Chain the entries written before the hash chain existed (a database from before migration
/// 20261202100000), in id order and in one transaction, and record the head. Runs on every
/// open and does nothing when there is nothing to chain. Entries without a hash that appear
/// once the chain has begun are not chained: they were added outside Tessera, and [`check`]
/// reports them. Returns how many entries were chained.
pub async fn chain_unchained(store: &Store) -> Result<u64> {
    // Once a head is recorded the chain has begun and nothing is chained on open again (a
    // row without a hash is then for `tessera audit verify` to report). One key look-up
    // instead of scanning the audit table on every open.
    if meta::get(&mut store.reader().await?, HEAD_KEY)
        .await?
        .is_some()
    {
        return Ok(0);
    }
    if !any_hashed(&mut store.reader().await?, false).await? {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    // Decide under the write lock: another process may have chained them meanwhile.
    if !any_hashed(&mut tx, false).await? {
        return Ok(0);
    }
    if any_hashed(&mut tx, true).await? || meta::get(&mut tx, HEAD_KEY).await?.is_some() {
        tracing::warn!(
            "the audit log has entries without a hash after its chain began; \
             `tessera audit verify` names them"
        );
        return Ok(0);
    }
    let mut prev = GENESIS;
    let mut last = i64::MIN;
    let mut n = 0u64;
    loop {
        let rows = page_after(&mut tx, last).await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            let hash = r.hash_after(&prev);
            on!(&mut tx, c => sqlx::query("UPDATE audit SET prev_hash = $1, hash = $2 WHERE id = $3")
                .bind(&prev[..])
                .bind(&hash[..])
                .bind(r.id)
                .execute(c)
                .await?
                .rows_affected());
            prev = hash;
            last = r.id;
            n += 1;
        }
    }
    meta::set(&mut tx, HEAD_KEY, &format_head(last, &prev)).await?;
    tx.commit().await?;
    tracing::info!(
        entries = n,
        "chained the audit entries written before the hash chain"
    );
    Ok(n)
}

/// The result of checking the audit log's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuditCheck {
    /// True when the chain, the recorded head and both triggers are as Tessera left them.
    pub intact: bool,
    /// How many entries the log holds.
    pub entries: u64,
    /// The newest entry's id (None for an empty log).
    pub head_id: Option<i64>,
    /// The newest entry's stored hash in hex (64 zeros for an empty log, empty when the newest
    /// entry has no hash).
    pub head: String,
    /// The first thing found wrong, if any.
    pub problem: Option<AuditProblem>,
}

/// What is wrong with the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuditProblem {
    /// The first bad (or first missing) entry, when the problem is about an entry.
    pub entry: Option<i64>,
    /// One sentence saying what is wrong, starting with the entry when there is one.
    pub message: String,
}

impl AuditProblem {
    fn entry(id: i64, what: impl std::fmt::Display) -> Self {
        Self {
            entry: Some(id),
            message: format!("entry {id}: {what}"),
        }
    }
}

/// Walk the whole log in id order, recomputing every hash and link, compare its end with the
/// recorded head, and check that both triggers are still there. Run it inside one read
/// transaction so concurrent appends cannot make it see half a change.
pub async fn check(db: &mut impl Db) -> Result<AuditCheck> {
    let (count,): (i64,) = on!(&mut *db, c => sqlx::query_as("SELECT COUNT(*) FROM audit")
        .fetch_one(c)
        .await?);
    let recorded = meta::get(&mut *db, HEAD_KEY).await?;
    let mut problem = None;
    // The previous entry's id and hash; None before the first entry.
    let mut prev: Option<(i64, Hash)> = None;
    let mut last: Option<(i64, Option<Vec<u8>>)> = None;
    loop {
        let rows = page_after(&mut *db, last.as_ref().map_or(i64::MIN, |l| l.0)).await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            last = Some((r.id, r.hash.clone()));
            if problem.is_some() {
                continue;
            }
            if let Some(p) = entry_problem(&r, prev.as_ref()) {
                // Keep reading, only to know the newest entry; nothing else is checked.
                problem = Some(p);
                continue;
            }
            if let Some(h) = r.hash.as_deref().and_then(|h| Hash::try_from(h).ok()) {
                prev = Some((r.id, h));
            }
        }
    }
    if problem.is_none() {
        problem = head_problem(recorded.as_deref(), count, prev.as_ref());
    }
    if problem.is_none() {
        problem = trigger_problem(db).await?;
    }
    let head = match &last {
        None => hex::encode(GENESIS),
        Some((_, h)) => h.as_deref().map(hex::encode).unwrap_or_default(),
    };
    Ok(AuditCheck {
        intact: problem.is_none(),
        entries: u64::try_from(count).unwrap_or(0),
        head_id: last.map(|l| l.0),
        head,
        problem,
    })
}

fn entry_problem(r: &ChainRow, prev: Option<&(i64, Hash)>) -> Option<AuditProblem> {
    let (Some(hash), Some(prev_hash)) = (r.hash.as_deref(), r.prev_hash.as_deref()) else {
        return Some(AuditProblem::entry(
            r.id,
            "has no hash (it was added outside Tessera, or its hash was removed)",
        ));
    };
    let (Ok(hash), Ok(prev_hash)) = (Hash::try_from(hash), Hash::try_from(prev_hash)) else {
        return Some(AuditProblem::entry(
            r.id,
            "its stored hash is malformed (changed after it was written)",
        ));
    };
    if r.hash_after(&prev_hash) != hash {
        return Some(AuditProblem::entry(
            r.id,
            "its hash does not match its content (changed after it was written)",
        ));
    }
    match prev {
        None if prev_hash != GENESIS => Some(AuditProblem::entry(
            r.id,
            "is the oldest entry left but does not start the chain (older entries were deleted)",
        )),
        Some((pid, phash)) if prev_hash != *phash => Some(AuditProblem::entry(
            r.id,
            if r.id - pid > 1 {
                format!("does not follow entry {pid} (entries were deleted)")
            } else {
                format!("does not follow entry {pid} (an entry was replaced or inserted)")
            },
        )),
        _ => None,
    }
}

/// Compare the log's end with the head recorded on each append. `newest` is the last entry
/// (the walk found no problem, so every entry has a good hash).
fn head_problem(
    recorded: Option<&str>,
    count: i64,
    newest: Option<&(i64, Hash)>,
) -> Option<AuditProblem> {
    let Some(recorded) = recorded else {
        return (count > 0).then(|| AuditProblem {
            entry: None,
            message: format!(
                "the record of the newest entry ({HEAD_KEY} in the meta table) is missing, \
                 so deleted newest entries would go unnoticed"
            ),
        });
    };
    let Some((rid, rhash)) = parse_head(recorded) else {
        return Some(AuditProblem {
            entry: None,
            message: format!(
                "the record of the newest entry ({HEAD_KEY} in the meta table) is unreadable \
                 (changed outside Tessera)"
            ),
        });
    };
    let (lid, lhash) = newest.map_or((0, GENESIS), |n| (n.0, n.1));
    if rid > lid {
        let first = lid + 1;
        let missing = if first == rid {
            format!("entry {rid} is missing")
        } else {
            format!("entries {first} to {rid} are missing")
        };
        let ends = if lid == 0 {
            "the log is empty".to_owned()
        } else {
            format!("the log ends at entry {lid}")
        };
        return Some(AuditProblem {
            entry: Some(first),
            message: format!(
                "{missing}: {ends} but entry {rid} was recorded as the newest \
                 (the newest entries were deleted)"
            ),
        });
    }
    if rid < lid {
        return Some(AuditProblem::entry(
            lid,
            format!("comes after entry {rid}, which was recorded as the newest (entries were added outside Tessera)"),
        ));
    }
    if rhash != lhash {
        return Some(AuditProblem::entry(
            lid,
            "is not the entry recorded as the newest (it was replaced)",
        ));
    }
    None
}

/// The triggers that keep the log append-only on PostgreSQL, as the migration creates them
/// (`pg_get_triggerdef` followed by the function's body).
const PG_TRIGGERS: [(&str, &str, &str); 3] = [
    (
        "audit_no_update",
        "changes to the audit log",
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON public.audit FOR EACH ROW EXECUTE FUNCTION audit_append_only() \
         BEGIN RAISE EXCEPTION 'the audit log is append-only'; END;",
    ),
    (
        "audit_no_delete",
        "deletions from the audit log",
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON public.audit FOR EACH ROW EXECUTE FUNCTION audit_append_only() \
         BEGIN RAISE EXCEPTION 'the audit log is append-only'; END;",
    ),
    (
        "audit_no_truncate",
        "emptying the audit log",
        "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON public.audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only() \
         BEGIN RAISE EXCEPTION 'the audit log is append-only'; END;",
    ),
];

/// Whitespace-free upper case, to compare SQL text.
fn squeeze(sql: &str) -> String {
    sql.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

async fn trigger_problem(db: &mut impl Db) -> Result<Option<AuditProblem>> {
    let engine = on!(&mut *db, _c, DB => <DB as Dialect>::ENGINE);
    let (triggers, read) = match engine {
        Engine::Sqlite => (
            &TRIGGERS[..],
            "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name = $1",
        ),
        // On PostgreSQL a trigger names a function: both the trigger (enabled, on `audit`) and
        // the function's body are compared.
        Engine::Postgres => (
            &PG_TRIGGERS[..],
            "SELECT c.relname::TEXT, CASE WHEN t.tgenabled = 'D' THEN 'DISABLED' ELSE \
               pg_get_triggerdef(t.oid) || ' ' || p.prosrc END \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid \
             WHERE t.tgname = $1 AND NOT t.tgisinternal",
        ),
    };
    for (name, refuses, expected) in triggers {
        let row: Option<(String, Option<String>)> = on!(&mut *db, c => sqlx::query_as(read)
            .bind(*name)
            .fetch_optional(c)
            .await?);
        let message = match row {
            None => {
                format!("the trigger {name} is missing: the audit log is no longer append-only")
            }
            Some((table, sql))
                if table != "audit" || sql.as_deref().map(squeeze) != Some(squeeze(expected)) =>
            {
                format!("the trigger {name} was changed: it may no longer refuse {refuses}")
            }
            Some(_) => continue,
        };
        return Ok(Some(AuditProblem {
            entry: None,
            message,
        }));
    }
    Ok(None)
}

/// Filters for the audit listing; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Entries with an id below this (paging backwards); None starts at the newest.
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// The newest entry's id (0 when there is none).
pub async fn newest_id(db: &mut impl Db) -> Result<i64> {
    let (id,): (i64,) = on!(db, c => sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM audit")
        .fetch_one(c)
        .await?);
    Ok(id)
}

pub async fn list(db: &mut impl Db, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let rows: Vec<AuditRow> = on!(db, c, DB => {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT id, at, actor, action, target, details FROM audit WHERE 1 = 1",
        );
        if let Some(a) = &f.actor {
            // A person also matches what they did through their tokens (`EMAIL via token ...`).
            let via = format!("{a} via ");
            qb.push(" AND (actor = ")
                .push_bind(a.clone())
                .push(" OR substr(actor, 1, ")
                .push_bind(i32::try_from(via.chars().count()).unwrap_or(i32::MAX))
                .push(") = ")
                .push_bind(via)
                .push(")");
        }
        if let Some(a) = &f.action {
            qb.push(" AND action = ").push_bind(a.clone());
        }
        if let Some(t) = &f.target {
            qb.push(" AND target = ").push_bind(t.clone());
        }
        if let Some(s) = f.since {
            qb.push(" AND at >= ").push_bind(s);
        }
        if let Some(u) = f.until {
            qb.push(" AND at < ").push_bind(u);
        }
        if let Some(b) = f.before_id {
            qb.push(" AND id < ").push_bind(b);
        }
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(f.limit.clamp(1, 10_000)));
        qb.build_query_as().fetch_all(c).await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}
