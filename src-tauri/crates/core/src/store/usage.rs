//! The `usage_events` table and the usage counters on `tokens`.

use serde::Serialize;
use sqlx::SqliteConnection;

use crate::error::Result;
use crate::model::TokenId;
use crate::store::from_ts;

/// One presentation of a known token, accepted or refused.
#[derive(Debug, Clone)]
pub struct UseEvent {
    pub token_id: TokenId,
    pub at: time::OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `accepted` or the refusal reason.
    pub outcome: String,
    /// How the token was presented (`bearer`, `basic`, `query`, `cli`...).
    pub via: String,
}

impl UseEvent {
    pub fn accepted(&self) -> bool {
        self.outcome == "accepted"
    }
}

/// Write a batch of events and update the tokens' counters, last-used fields and idle anchors.
pub async fn record(conn: &mut SqliteConnection, events: &[UseEvent]) -> Result<()> {
    for e in events {
        let at = e.at.unix_timestamp();
        let ua = e.user_agent.as_deref().map(|s| truncate(s, 256));
        sqlx::query(
            "INSERT INTO usage_events (token_id, at, ip, user_agent, method, path, status, outcome, via) \
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM tokens WHERE id = ?)",
        )
        .bind(e.token_id.0)
        .bind(at)
        .bind(e.ip.as_deref())
        .bind(ua.as_deref())
        .bind(truncate(&e.method, 16))
        .bind(truncate(&e.path, 512))
        .bind(i64::from(e.status))
        .bind(&e.outcome)
        .bind(&e.via)
        .bind(e.token_id.0)
        .execute(&mut *conn)
        .await?;
        let accepted = e.accepted();
        sqlx::query(
            "UPDATE tokens SET \
               last_used_at = MAX(IFNULL(last_used_at, 0), ?), \
               last_used_ip = CASE WHEN IFNULL(last_used_at, 0) <= ? THEN ? ELSE last_used_ip END, \
               last_used_agent = CASE WHEN IFNULL(last_used_at, 0) <= ? THEN ? ELSE last_used_agent END, \
               use_count = use_count + ?, refused_count = refused_count + ?, \
               idle_anchor_at = CASE WHEN ? THEN MAX(idle_anchor_at, ?) ELSE idle_anchor_at END \
             WHERE id = ?",
        )
        .bind(at)
        .bind(at)
        .bind(e.ip.as_deref())
        .bind(at)
        .bind(ua.as_deref())
        .bind(i64::from(accepted))
        .bind(i64::from(!accepted))
        .bind(accepted)
        .bind(at)
        .bind(e.token_id.0)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct EventRow {
    id: i64,
    at: i64,
    ip: Option<String>,
    user_agent: Option<String>,
    method: String,
    path: String,
    status: i64,
    outcome: String,
    via: String,
}

/// A usage event for display.
#[derive(Debug, Clone, Serialize)]
pub struct UsageEntry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i64,
    pub outcome: String,
    pub via: String,
}

pub async fn list(
    conn: &mut SqliteConnection,
    token: TokenId,
    limit: u32,
) -> Result<Vec<UsageEntry>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT id, at, ip, user_agent, method, path, status, outcome, via FROM usage_events \
         WHERE token_id = ? ORDER BY at DESC, id DESC LIMIT ?",
    )
    .bind(token.0)
    .bind(i64::from(limit.clamp(1, 10_000)))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| UsageEntry {
            id: r.id,
            at: from_ts(r.at),
            ip: r.ip,
            user_agent: r.user_agent,
            method: r.method,
            path: r.path,
            status: r.status,
            outcome: r.outcome,
            via: r.via,
        })
        .collect())
}

/// Delete events older than the cut-off; returns how many.
pub async fn prune(conn: &mut SqliteConnection, before: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM usage_events WHERE at < ?")
        .bind(before)
        .execute(conn)
        .await?
        .rows_affected())
}
