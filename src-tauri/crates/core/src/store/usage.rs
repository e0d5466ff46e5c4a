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

/// Write a batch of events and update the tokens' counters, last-used fields and idle
/// anchors: one multi-row insert, then one update per distinct token. Returns whether any
/// accepted use moved the idle anchor of a token with idle expiry (cached decisions about
/// such a token are then stale).
pub async fn record(conn: &mut SqliteConnection, events: &[UseEvent]) -> Result<bool> {
    struct Agg<'a> {
        last_at: i64,
        last_ip: Option<&'a str>,
        last_agent: Option<&'a str>,
        accepted: i64,
        refused: i64,
        last_accepted_at: Option<i64>,
    }
    let mut per_token: std::collections::BTreeMap<i64, Agg<'_>> = std::collections::BTreeMap::new();
    for chunk in events.chunks(500) {
        // Events of a token deleted meanwhile are dropped rather than failing the batch.
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO usage_events (token_id, at, ip, user_agent, method, path, status, outcome, via) \
             SELECT * FROM (VALUES {rows}) AS v WHERE EXISTS (SELECT 1 FROM tokens t WHERE t.id = v.column1)"
        );
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(e.token_id.0)
                .bind(e.at.unix_timestamp())
                .bind(e.ip.as_deref())
                .bind(e.user_agent.as_deref().map(|s| truncate(s, 256)))
                .bind(truncate(&e.method, 16))
                .bind(truncate(&e.path, 512))
                .bind(i64::from(e.status))
                .bind(&e.outcome)
                .bind(&e.via);
        }
        q.execute(&mut *conn).await?;
    }
    for e in events {
        let at = e.at.unix_timestamp();
        let a = per_token.entry(e.token_id.0).or_insert(Agg {
            last_at: i64::MIN,
            last_ip: None,
            last_agent: None,
            accepted: 0,
            refused: 0,
            last_accepted_at: None,
        });
        if at >= a.last_at {
            a.last_at = at;
            a.last_ip = e.ip.as_deref();
            a.last_agent = e.user_agent.as_deref();
        }
        if e.accepted() {
            a.accepted += 1;
            a.last_accepted_at = Some(a.last_accepted_at.map_or(at, |x| x.max(at)));
        } else {
            a.refused += 1;
        }
    }
    let mut idle_moved = false;
    for (id, a) in per_token {
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "UPDATE tokens SET \
               last_used_ip = CASE WHEN IFNULL(last_used_at, 0) <= ? THEN ? ELSE last_used_ip END, \
               last_used_agent = CASE WHEN IFNULL(last_used_at, 0) <= ? THEN ? ELSE last_used_agent END, \
               last_used_at = MAX(IFNULL(last_used_at, 0), ?), \
               use_count = use_count + ?, refused_count = refused_count + ?, \
               idle_anchor_at = MAX(idle_anchor_at, IFNULL(?, idle_anchor_at)) \
             WHERE id = ? RETURNING idle_days",
        )
        .bind(a.last_at)
        .bind(a.last_ip)
        .bind(a.last_at)
        .bind(a.last_agent.map(|s| truncate(s, 256)))
        .bind(a.last_at)
        .bind(a.accepted)
        .bind(a.refused)
        .bind(a.last_accepted_at)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if a.last_accepted_at.is_some() && matches!(row, Some((Some(_),))) {
            idle_moved = true;
        }
    }
    Ok(idle_moved)
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
