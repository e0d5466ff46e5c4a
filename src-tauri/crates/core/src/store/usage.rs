//! The `usage_events` table and the usage counters on `tokens`.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use sqlx::QueryBuilder;

use crate::error::Result;
use crate::model::TokenId;
use crate::store::tokens::{push_visible, Visibility};
use crate::store::{from_ts, on, Db};

/// One presentation of a known token, accepted or refused. Built on every API request, so
/// it allocates nothing there: the address is kept as an address, the user agent is shared
/// (see the API's interner), and the route, outcome and presentation are static text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UseEvent {
    pub token_id: TokenId,
    pub at: time::OffsetDateTime,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<Arc<str>>,
    pub method: Cow<'static, str>,
    pub path: Cow<'static, str>,
    pub status: u16,
    /// `accepted` or the refusal reason.
    pub outcome: &'static str,
    /// How the token was presented (`bearer`, `basic`, `query`, `cli`...).
    pub via: &'static str,
}

impl UseEvent {
    pub fn accepted(&self) -> bool {
        self.outcome == "accepted"
    }
}

/// Rows per multi-row insert, largest first: a batch is cut into these sizes only, so the
/// connection's statement cache holds four statements instead of one per batch length.
const INSERT_SIZES: [usize; 4] = [64, 16, 4, 1];

/// Events identical in every field, time included (whole seconds), folded into one row each
/// with how many there were, in the order first seen. They cannot be told apart, so nothing
/// is lost: a client calling in a loop costs a row a second, not one per request.
pub fn fold(events: &[UseEvent]) -> Vec<(&UseEvent, i64)> {
    let mut rows: Vec<(&UseEvent, i64)> = Vec::new();
    let mut seen: HashMap<&UseEvent, usize> = HashMap::with_capacity(events.len().min(1024));
    for e in events {
        match seen.entry(e) {
            Entry::Occupied(i) => rows[*i.get()].1 += 1,
            Entry::Vacant(v) => {
                v.insert(rows.len());
                rows.push((e, 1));
            }
        }
    }
    rows
}

/// Write distinct events, each with the number of identical presentations it stands for
/// (its `uses`), and update the tokens' counters, last-used fields and idle anchors: one
/// update per distinct token. Returns whether any accepted use moved the idle anchor of a
/// token with idle expiry (cached decisions about such a token are then stale).
pub async fn record(db: &mut impl Db, rows: &[(&UseEvent, i64)]) -> Result<bool> {
    let mut rest = rows;
    while !rest.is_empty() {
        let size = INSERT_SIZES
            .into_iter()
            .find(|n| *n <= rest.len())
            .unwrap_or(1);
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        insert(&mut *db, chunk).await?;
    }
    update_tokens(db, rows).await
}

/// Write events in one statement, each with the number of presentations it stands for,
/// leaving the tokens' counters, last-used fields and idle anchors as they are ([`record`]
/// moves them too). SQLite takes 32,766 values a statement: at most 3,000 rows a call.
pub async fn insert(db: &mut impl Db, chunk: &[(&UseEvent, i64)]) -> Result<()> {
    // Events of a token deleted meanwhile are dropped rather than failing the batch.
    let values: Vec<String> = (0..chunk.len())
        .map(|r| {
            let p: Vec<String> = (1..=10).map(|k| format!("${}", r * 10 + k)).collect();
            format!("({})", p.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO usage_events (token_id, at, ip, user_agent, method, path, status, outcome, via, uses) \
         SELECT * FROM (VALUES {}) AS v WHERE EXISTS (SELECT 1 FROM tokens t WHERE t.id = v.column1)",
        values.join(", ")
    );
    on!(db, c => {
        let mut q = sqlx::query(&sql);
        for (e, uses) in chunk {
            q = q
                .bind(e.token_id.0)
                .bind(e.at.unix_timestamp())
                .bind(e.ip.map(|i| i.to_string()))
                .bind(e.user_agent.as_deref().map(|s| clean(s, 256)))
                .bind(clean(&e.method, 16))
                .bind(clean(&e.path, 512))
                .bind(i64::from(e.status))
                .bind(e.outcome)
                .bind(e.via)
                .bind(*uses);
        }
        q.execute(c).await?.rows_affected()
    });
    Ok(())
}

async fn update_tokens(db: &mut impl Db, rows: &[(&UseEvent, i64)]) -> Result<bool> {
    struct Agg<'a> {
        last_at: i64,
        last_ip: Option<IpAddr>,
        last_agent: Option<&'a str>,
        accepted: i64,
        refused: i64,
        last_accepted_at: Option<i64>,
    }
    let mut per_token: BTreeMap<i64, Agg<'_>> = BTreeMap::new();
    for (e, uses) in rows {
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
            a.last_ip = e.ip;
            a.last_agent = e.user_agent.as_deref();
        }
        if e.accepted() {
            a.accepted += uses;
            a.last_accepted_at = Some(a.last_accepted_at.map_or(at, |x| x.max(at)));
        } else {
            a.refused += uses;
        }
    }
    let mut idle_moved = false;
    for (id, a) in per_token {
        // Tokens are updated in id order (a BTreeMap), so two flushes never wait on each
        // other's rows in opposite orders.
        let row: Option<(Option<i64>,)> = on!(&mut *db, c => sqlx::query_as(
            "UPDATE tokens SET \
               last_used_ip = CASE WHEN COALESCE(last_used_at, 0) <= $1 THEN $2 ELSE last_used_ip END, \
               last_used_agent = CASE WHEN COALESCE(last_used_at, 0) <= $1 THEN $3 ELSE last_used_agent END, \
               last_used_at = CASE WHEN COALESCE(last_used_at, 0) <= $1 THEN $1 ELSE last_used_at END, \
               use_count = use_count + $4, refused_count = refused_count + $5, \
               idle_anchor_at = CASE WHEN $6 IS NOT NULL AND $6 > idle_anchor_at THEN $6 ELSE idle_anchor_at END \
             WHERE id = $7 RETURNING idle_days",
        )
        .bind(a.last_at)
        .bind(a.last_ip.map(|i| i.to_string()))
        .bind(a.last_agent.map(|s| clean(s, 256)))
        .bind(a.accepted)
        .bind(a.refused)
        .bind(a.last_accepted_at)
        .bind(id)
        .fetch_optional(c)
        .await?);
        if a.last_accepted_at.is_some() && matches!(row, Some((Some(_),))) {
            idle_moved = true;
        }
    }
    Ok(idle_moved)
}

/// Text as stored: no control characters, at most `max` characters (borrowed when it
/// already is).
fn clean(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max && !s.chars().any(char::is_control) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|c| !c.is_control()).take(max).collect())
    }
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
    uses: i64,
}

/// A usage event for display.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UsageEntry {
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub at: time::OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub method: String,
    pub path: String,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub status: i64,
    pub outcome: String,
    pub via: String,
    /// How many identical presentations this row stands for (same second, client, route and
    /// answer); usually 1.
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub uses: i64,
}

pub async fn list(db: &mut impl Db, token: TokenId, limit: u32) -> Result<Vec<UsageEntry>> {
    let rows: Vec<EventRow> = on!(db, c => sqlx::query_as(
        "SELECT id, at, ip, user_agent, method, path, status, outcome, via, uses FROM usage_events \
         WHERE token_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(token.0)
    .bind(i64::from(limit.clamp(1, 10_000)))
    .fetch_all(c)
    .await?);
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
            uses: r.uses,
        })
        .collect())
}

/// Accepted and refused uses of one token per UTC day since `since`, as (start of the day,
/// accepted, refused), oldest first; days without uses are left out.
pub async fn per_day(db: &mut impl Db, token: TokenId, since: i64) -> Result<Vec<(i64, i64, i64)>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT (at / 86400) * 86400 AS day, \
         CAST(SUM(CASE WHEN outcome = 'accepted' THEN uses ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN outcome <> 'accepted' THEN uses ELSE 0 END) AS BIGINT) \
         FROM usage_events WHERE token_id = $1 AND at >= $2 GROUP BY day ORDER BY day",
    )
    .bind(token.0)
    .bind(since)
    .fetch_all(c)
    .await?))
}

/// An address and client that presented a token: (ip, user agent, first seen, last seen,
/// uses).
pub type ClientRow = (Option<String>, Option<String>, i64, i64, i64);

/// The addresses and clients that presented one token, most recent first (200 at most).
pub async fn clients(db: &mut impl Db, token: TokenId) -> Result<Vec<ClientRow>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT ip, user_agent, MIN(at), MAX(at), CAST(SUM(uses) AS BIGINT) FROM usage_events WHERE token_id = $1 \
         GROUP BY ip, user_agent ORDER BY MAX(at) DESC, ip NULLS FIRST, user_agent NULLS FIRST LIMIT 200",
    )
    .bind(token.0)
    .fetch_all(c)
    .await?))
}

/// Refused presentations since `since` of the tokens `vis` lets the actor see.
pub async fn refused_since(db: &mut impl Db, vis: &Visibility, since: i64) -> Result<i64> {
    let (n,): (i64,) = on!(db, c, DB => {
        let mut refused = QueryBuilder::<DB>::new(
            "SELECT CAST(COALESCE(SUM(e.uses), 0) AS BIGINT) FROM usage_events e JOIN tokens t ON t.id = e.token_id WHERE e.outcome <> 'accepted' AND e.at >= ",
        );
        refused.push_bind(since);
        push_visible(&mut refused, vis);
        refused.build_query_as().fetch_one(c).await?
    });
    Ok(n)
}

/// Delete events older than the cut-off; returns how many.
pub async fn prune(db: &mut impl Db, before: i64) -> Result<u64> {
    Ok(
        on!(db, c => sqlx::query("DELETE FROM usage_events WHERE at < $1")
        .bind(before)
        .execute(c)
        .await?
        .rows_affected()),
    )
}
