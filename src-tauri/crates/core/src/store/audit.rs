//! The append-only `audit` table. Triggers in the schema refuse updates and deletes.

use serde::Serialize;
use sqlx::SqliteConnection;

use crate::error::Result;
use crate::store::from_ts;

/// One audit entry.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
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
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
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
    conn: &mut SqliteConnection,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    details: &serde_json::Value,
) -> Result<()> {
    sqlx::query("INSERT INTO audit (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)")
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(details.to_string())
        .execute(conn)
        .await?;
    Ok(())
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

pub async fn list(conn: &mut SqliteConnection, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "SELECT id, at, actor, action, target, details FROM audit WHERE 1 = 1",
    );
    if let Some(a) = &f.actor {
        // A person also matches what they did through their tokens (`EMAIL via token ...`).
        let via = format!("{a} via ");
        qb.push(" AND (actor = ")
            .push_bind(a.clone())
            .push(" OR substr(actor, 1, ")
            .push_bind(via.chars().count() as i64)
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
    let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(conn).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
