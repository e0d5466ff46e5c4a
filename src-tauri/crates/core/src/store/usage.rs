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
use crate::store::{from_ts, on, Conn, Db};

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
    if matches!(db.conn(), Conn::Pg(_)) {
        // One statement for the whole batch.
        insert(&mut *db, rows).await?;
        rest = &[];
    }
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

/// PostgreSQL: make the day partitions the events fall in, then write every event in one
/// statement whatever the batch's size (arrays of each column, unnested).
async fn insert_pg(c: &mut sqlx::PgConnection, rows: &[(&UseEvent, i64)]) -> Result<()> {
    let mut days: Vec<i64> = rows
        .iter()
        .map(|(e, _)| e.at.unix_timestamp().div_euclid(86_400) * 86_400)
        .collect();
    days.sort_unstable();
    days.dedup();
    sqlx::query("SELECT tessera_usage_day(d) FROM UNNEST($1::BIGINT[]) AS d")
        .bind(&days)
        .execute(&mut *c)
        .await?;
    let n = rows.len();
    let (mut token, mut at, mut ip, mut agent) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut method, mut path, mut status, mut outcome, mut via, mut uses) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (e, u) in rows {
        token.push(e.token_id.0);
        at.push(e.at.unix_timestamp());
        ip.push(e.ip.map(|i| i.to_string()));
        agent.push(e.user_agent.as_deref().map(|s| clean(s, 256).into_owned()));
        method.push(clean(&e.method, 16).into_owned());
        path.push(clean(&e.path, 512).into_owned());
        status.push(i64::from(e.status));
        outcome.push(e.outcome);
        via.push(e.via);
        uses.push(*u);
    }
    // Events of a token deleted meanwhile are dropped rather than failing the batch.
    sqlx::query(
        "INSERT INTO usage_events (token_id, at, ip, user_agent, method, path, status, outcome, via, uses) \
         SELECT v.* FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], \
                                $7::BIGINT[], $8::TEXT[], $9::TEXT[], $10::BIGINT[]) \
              AS v (token_id, at, ip, user_agent, method, path, status, outcome, via, uses) \
         WHERE EXISTS (SELECT 1 FROM tokens t WHERE t.id = v.token_id)",
    )
    .bind(&token)
    .bind(&at)
    .bind(&ip)
    .bind(&agent)
    .bind(&method)
    .bind(&path)
    .bind(&status)
    .bind(&outcome)
    .bind(&via)
    .bind(&uses)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Write events in one statement, each with the number of presentations it stands for,
/// leaving the tokens' counters, last-used fields and idle anchors as they are ([`record`]
/// moves them too). SQLite takes 32,766 values a statement: at most 3,000 rows a call;
/// PostgreSQL any number.
pub async fn insert(db: &mut impl Db, chunk: &[(&UseEvent, i64)]) -> Result<()> {
    if let Conn::Pg(c) = db.conn() {
        return insert_pg(c, chunk).await;
    }
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
        first_accepted_at: Option<i64>,
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
            first_accepted_at: None,
        });
        if at >= a.last_at {
            a.last_at = at;
            a.last_ip = e.ip;
            a.last_agent = e.user_agent.as_deref();
        }
        if e.accepted() {
            a.accepted += uses;
            a.last_accepted_at = Some(a.last_accepted_at.map_or(at, |x| x.max(at)));
            a.first_accepted_at = Some(a.first_accepted_at.map_or(at, |x| x.min(at)));
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
               idle_anchor_at = CASE WHEN $6 IS NOT NULL AND $6 > idle_anchor_at THEN $6 ELSE idle_anchor_at END, \
               first_used_at = CASE WHEN first_used_at IS NULL OR $8 < first_used_at THEN $8 ELSE first_used_at END \
             WHERE id = $7 RETURNING idle_days",
        )
        .bind(a.last_at)
        .bind(a.last_ip.map(|i| i.to_string()))
        .bind(a.last_agent.map(|s| clean(s, 256)))
        .bind(a.accepted)
        .bind(a.refused)
        .bind(a.last_accepted_at)
        .bind(id)
        .bind(a.first_accepted_at)
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
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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

/// How many accepted uses of a token were recorded in `(after, until]`.
pub async fn accepted_between(
    db: &mut impl Db,
    token: TokenId,
    after: i64,
    until: i64,
) -> Result<i64> {
    let (n,): (i64,) = on!(db, c => sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(uses), 0) AS BIGINT) FROM usage_events \
         WHERE token_id = $1 AND at > $2 AND at <= $3 AND outcome = 'accepted'",
    )
    .bind(token.0)
    .bind(after)
    .bind(until)
    .fetch_one(c)
    .await?);
    Ok(n)
}

/// Where a token was used from since `since`: accepted uses by address and client, most
/// recent first (at most `limit`). A rotating token's list says who still uses it.
pub async fn sources_since(
    db: &mut impl Db,
    token: TokenId,
    since: i64,
    limit: u32,
) -> Result<Vec<Source>> {
    let rows: Vec<(Option<String>, Option<String>, i64, i64)> = on!(db, c => sqlx::query_as(
        "SELECT ip, user_agent, CAST(SUM(uses) AS BIGINT), MAX(at) FROM usage_events \
         WHERE token_id = $1 AND at >= $2 AND outcome = 'accepted' \
         GROUP BY ip, user_agent ORDER BY MAX(at) DESC, ip LIMIT $3",
    )
    .bind(token.0)
    .bind(since)
    .bind(i64::from(limit))
    .fetch_all(c)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(ip, user_agent, uses, last)| Source {
            ip,
            user_agent,
            uses,
            last_at: crate::store::from_ts(last),
        })
        .collect())
}

/// One address and client a token was used from, with how often and when last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Source {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub uses: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub last_at: time::OffsetDateTime,
}

/// Delete events older than `before`. On PostgreSQL whole days go by dropping their
/// partitions, and only the day `before` falls in is deleted from row by row.
pub async fn prune(db: &mut impl Db, before: i64) -> Result<u64> {
    if let Conn::Pg(c) = db.conn() {
        let (n,): (i64,) = sqlx::query_as("SELECT tessera_usage_prune($1)")
            .bind(before)
            .fetch_one(c)
            .await?;
        return Ok(u64::try_from(n).unwrap_or(0));
    }
    Ok(
        on!(db, c => sqlx::query("DELETE FROM usage_events WHERE at < $1")
        .bind(before)
        .execute(c)
        .await?
        .rows_affected()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::TokenHash;
    use crate::store::{test_store, tokens, Store};

    async fn company_token(store: &Store) -> TokenId {
        let mut tx = store.begin().await.expect("tx");
        let id = tokens::insert(
            &mut tx,
            tokens::NewTokenRow {
                kind: "company",
                owner_id: None,
                created_by: None,
                created_by_label: None,
                name: "svc",
                description: "d",
                hash: &TokenHash([9; 32]),
                hint: "tsr_c_…0000",
                scopes: "me:read",
                now: 1_000,
                expires_at: None,
                idle_days: None,
                allowed_networks: "",
                rate_limit: 60,
                key_id: 1,
                history: None,
            },
        )
        .await
        .expect("token");
        tx.commit().await.expect("commit");
        id
    }

    fn event(token: TokenId, at: i64, n: u16) -> UseEvent {
        UseEvent {
            token_id: token,
            at: from_ts(at),
            ip: Some(IpAddr::from([10, 0, 0, (n % 250) as u8])),
            user_agent: None,
            method: "GET".into(),
            path: format!("/v1/me?n={n}").into(),
            status: 200,
            outcome: "accepted",
            via: "bearer",
        }
    }

    async fn count(store: &Store) -> (i64, i64) {
        let mut r = store.reader().await.expect("reader");
        on!(&mut r, c => sqlx::query_as("SELECT COUNT(*), CAST(COALESCE(SUM(uses), 0) AS BIGINT) FROM usage_events")
            .fetch_one(c)
            .await
            .expect("count"))
    }

    /// The day partitions of usage_events (PostgreSQL; None on SQLite).
    async fn partitions(store: &Store) -> Option<i64> {
        let mut r = store.reader().await.expect("reader");
        match r.conn() {
            Conn::Pg(c) => Some(
                sqlx::query_as::<_, (i64,)>(
                    "SELECT COUNT(*) FROM pg_inherits WHERE inhparent = 'usage_events'::regclass",
                )
                .fetch_one(c)
                .await
                .expect("partitions")
                .0,
            ),
            Conn::Lite(_) => None,
        }
    }

    #[tokio::test]
    async fn a_large_batch_is_written_whole_and_old_days_are_pruned_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = test_store(dir.path()).await;
        let token = company_token(&store).await;
        let day = 1_767_225_600; // 2026-01-01T00:00:00Z
                                 // 4,000 distinct events over three days (more than one SQLite statement holds), and
                                 // one of them three times.
        let mut events: Vec<UseEvent> = (0..4_000u16)
            .map(|n| event(token, day + i64::from(n % 3) * 86_400 + 100, n))
            .collect();
        events.push(events[0].clone());
        events.push(events[0].clone());
        let mut tx = store.begin().await.expect("tx");
        record(&mut tx, &fold(&events)).await.expect("record");
        tx.commit().await.expect("commit");
        assert_eq!(count(&store).await, (4_000, 4_002));
        if let Some(p) = partitions(&store).await {
            assert_eq!(p, 3, "one partition per day");
        }
        // The first day ends before the cut: dropped whole (on PostgreSQL); nothing of the
        // second day is older than the cut.
        let mut tx = store.begin().await.expect("tx");
        let gone = prune(&mut tx, day + 86_400 + 50).await.expect("prune");
        tx.commit().await.expect("commit");
        assert_eq!(gone, 1_334, "day one's rows");
        assert_eq!(count(&store).await.0, 4_000 - 1_334);
        if let Some(p) = partitions(&store).await {
            assert_eq!(p, 2, "day one's partition dropped");
        }
        // A cut inside the third day: the second day goes whole, the third row by row.
        let mut tx = store.begin().await.expect("tx");
        let gone = prune(&mut tx, day + 2 * 86_400 + 150).await.expect("prune");
        tx.commit().await.expect("commit");
        assert_eq!(gone, 4_000 - 1_334);
        assert_eq!(count(&store).await, (0, 0));
        if let Some(p) = partitions(&store).await {
            assert_eq!(p, 1, "the third day's partition stays, empty");
        }
        // Writing into a pruned day makes its partition again.
        let mut tx = store.begin().await.expect("tx");
        record(&mut tx, &fold(&[event(token, day + 5, 1)]))
            .await
            .expect("record");
        tx.commit().await.expect("commit");
        assert_eq!(count(&store).await, (1, 1));
    }
}
