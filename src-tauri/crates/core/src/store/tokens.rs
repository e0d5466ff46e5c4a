//! The `tokens` table: rows hold the keyed hash and metadata, never the token.

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::error::Result;
use crate::keys::TokenHash;
use crate::model::{Scope, TokenId, TokenStatus, UserId};
use crate::store::{on, Db};
use crate::token::TokenKind;

/// A token row as stored, joined with its owner's and creator's e-mail.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub kind: String,
    pub owner_id: Option<i64>,
    pub owner_email: Option<String>,
    pub owner_name: Option<String>,
    pub owner_role: Option<String>,
    pub owner_active: Option<bool>,
    pub created_by: Option<i64>,
    pub creator_email: Option<String>,
    /// How the audit log named the creator when it acted through a token.
    pub created_by_label: Option<String>,
    /// Set when the token was deleted: the row stays as a tombstone.
    pub deleted_at: Option<i64>,
    pub name: String,
    pub description: String,
    pub note: String,
    pub hint: String,
    pub scopes: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub idle_days: Option<i64>,
    pub idle_anchor_at: i64,
    pub allowed_networks: String,
    pub rate_limit: i64,
    pub status_changed_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
    pub last_used_agent: Option<String>,
    pub use_count: i64,
    pub refused_count: i64,
    /// Set while rotating (and kept after): the successor.
    pub rotated_to: Option<i64>,
    pub rotated_at: Option<i64>,
    /// Set while the token is rotating: the end of the overlap.
    pub rotation_ends_at: Option<i64>,
    /// Seconds the token keeps working after its successor's first accepted use.
    pub rotation_grace: Option<i64>,
    /// The successor's first accepted use.
    pub successor_first_used_at: Option<i64>,
    pub successor_hint: Option<String>,
    /// Never grants anything; every presentation answers like an unknown token and alerts.
    pub honeytoken: bool,
    /// Alert (audit `token.new_source`) when it is accepted from a new network or client.
    pub alert_new_sources: bool,
    /// An access token's OAuth client: its number and public `client_id`.
    #[sqlx(default)]
    pub oauth_client: Option<i64>,
    #[sqlx(default)]
    pub oauth_client_id: Option<String>,
}

impl TokenRow {
    /// When a rotating token stops working: the end of its overlap, or its successor's first
    /// accepted use plus the grace, whichever comes first. None when it is not rotating.
    pub fn rotation_until(&self) -> Option<i64> {
        let ends = self.rotation_ends_at?;
        Some(match self.successor_first_used_at {
            Some(first) => ends.min(first.saturating_add(self.rotation_grace.unwrap_or(0))),
            None => ends,
        })
    }
}

pub const SELECT: &str = "SELECT t.id, t.kind, t.owner_id, o.email AS owner_email, o.name AS owner_name, \
    o.role AS owner_role, o.active AS owner_active, t.created_by, c.email AS creator_email, t.created_by_label, t.deleted_at, t.name, \
    t.description, t.note, t.hint, t.scopes, t.status, t.created_at, t.expires_at, t.idle_days, t.idle_anchor_at, \
    t.allowed_networks, t.rate_limit, t.status_changed_at, t.last_used_at, t.last_used_ip, \
    t.last_used_agent, t.use_count, t.refused_count, t.rotated_to, t.rotated_at, t.rotation_ends_at, \
    t.rotation_grace, s.first_used_at AS successor_first_used_at, s.hint AS successor_hint, t.honeytoken, \
    t.alert_new_sources, t.oauth_client, k.client_id AS oauth_client_id \
    FROM tokens t LEFT JOIN users o ON o.id = t.owner_id LEFT JOIN users c ON c.id = t.created_by \
    LEFT JOIN tokens s ON s.id = t.rotated_to LEFT JOIN oauth_clients k ON k.id = t.oauth_client";

pub async fn find(db: &mut impl Db, id: TokenId) -> Result<Option<TokenRow>> {
    let sql = format!("{SELECT} WHERE t.id = $1");
    Ok(on!(db, c => sqlx::query_as(&sql).bind(id.0).fetch_optional(c).await?))
}

/// The verification look-up: one indexed read by hash.
pub async fn find_by_hash(db: &mut impl Db, hash: &TokenHash) -> Result<Option<TokenRow>> {
    let sql = format!("{SELECT} WHERE t.hash = $1");
    Ok(on!(db, c => sqlx::query_as(&sql)
        .bind(&hash.0[..])
        .fetch_optional(c)
        .await?))
}

pub struct NewTokenRow<'a> {
    pub kind: &'a str,
    pub owner_id: Option<UserId>,
    pub created_by: Option<UserId>,
    pub created_by_label: Option<String>,
    pub name: &'a str,
    pub description: &'a str,
    pub hash: &'a TokenHash,
    pub hint: &'a str,
    pub scopes: &'a str,
    pub now: i64,
    pub expires_at: Option<i64>,
    pub idle_days: Option<i64>,
    pub allowed_networks: &'a str,
    pub rate_limit: i64,
    /// The key that hashed it ([`crate::keys::TokenHasher::id`]).
    pub key_id: i64,
    /// A past to start from instead of a fresh, active, unused token: only `tessera dev
    /// seed` gives one.
    pub history: Option<TokenHistory<'a>>,
}

/// A made-up past for a seeded token: its status, idle anchor, last use and counters.
pub struct TokenHistory<'a> {
    pub status: &'a str,
    pub idle_anchor_at: i64,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<&'a str>,
    pub last_used_agent: Option<&'a str>,
    pub use_count: i64,
    pub refused_count: i64,
}

/// Insert one token; returns its id (one past the largest, on both engines).
pub async fn insert(db: &mut impl Db, t: NewTokenRow<'_>) -> Result<TokenId> {
    let first = next_id(&mut *db).await?;
    let (id,): (i64,) = on!(db, c, DB => {
        let mut qb = insert_query::<DB>(first, [t]);
        qb.push(" RETURNING id").build_query_as().fetch_one(c).await?
    });
    Ok(TokenId(id))
}

/// Insert many tokens in one statement (`tessera dev seed`), numbered from one past the
/// largest id. SQLite takes at most 32,766 values a statement: keep to 1,500 rows a call.
pub async fn insert_many(db: &mut impl Db, rows: Vec<NewTokenRow<'_>>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let first = next_id(&mut *db).await?;
    on!(db, c, DB => insert_query::<DB>(first, rows).build().execute(c).await?.rows_affected());
    Ok(())
}

fn insert_query<'a, DB>(
    first_id: i64,
    rows: impl IntoIterator<Item = NewTokenRow<'a>>,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    Option<i64>: Encode<'a, DB> + Type<DB>,
    Option<String>: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    &'a [u8]: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(
        "INSERT INTO tokens (id, kind, owner_id, created_by, created_by_label, name, description, hash, hint, \
         scopes, status, created_at, expires_at, idle_days, idle_anchor_at, allowed_networks, rate_limit, \
         last_used_at, last_used_ip, last_used_agent, use_count, refused_count, key_id) ",
    );
    let mut id = first_id;
    qb.push_values(rows, |mut b, t| {
        let h = t.history.unwrap_or(TokenHistory {
            status: "active",
            idle_anchor_at: t.now,
            last_used_at: None,
            last_used_ip: None,
            last_used_agent: None,
            use_count: 0,
            refused_count: 0,
        });
        b.push_bind(id)
            .push_bind(t.kind)
            .push_bind(t.owner_id.map(|u| u.0))
            .push_bind(t.created_by.map(|u| u.0))
            .push_bind(t.created_by_label)
            .push_bind(t.name)
            .push_bind(t.description)
            .push_bind(&t.hash.0[..])
            .push_bind(t.hint)
            .push_bind(t.scopes)
            .push_bind(h.status)
            .push_bind(t.now)
            .push_bind(t.expires_at)
            .push_bind(t.idle_days)
            .push_bind(h.idle_anchor_at)
            .push_bind(t.allowed_networks)
            .push_bind(t.rate_limit)
            .push_bind(h.last_used_at)
            .push_bind(h.last_used_ip)
            .push_bind(h.last_used_agent)
            .push_bind(h.use_count)
            .push_bind(h.refused_count)
            .push_bind(t.key_id);
        id += 1;
    });
    qb
}

/// A name already used by a live token of the same owner (or of the company)?
pub async fn live_name_taken(
    db: &mut impl Db,
    company: bool,
    owner: Option<UserId>,
    name: &str,
) -> Result<bool> {
    let row: Option<(i64,)> = on!(db, c => sqlx::query_as(
        "SELECT id FROM tokens WHERE (kind = 'company') = $1 AND COALESCE(owner_id, 0) = $2 AND name = $3 AND status <> 'revoked' AND rotation_ends_at IS NULL",
    )
    .bind(company)
    .bind(owner.map(|u| u.0).unwrap_or(0))
    .bind(name)
    .fetch_optional(c)
    .await?);
    Ok(row.is_some())
}

/// How many live (not revoked) tokens of these kinds an owner has.
pub async fn count_live_owned(db: &mut impl Db, owner: UserId, kinds: &[&str]) -> Result<i64> {
    let (n,): (i64,) = on!(db, c, DB => {
        let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM tokens");
        push_live_owned(&mut qb, owner, kinds);
        qb.build_query_as().fetch_one(c).await?
    });
    Ok(n)
}

/// Live (not revoked) tokens per owner; owners without any are left out.
pub async fn count_live_by_owner(db: &mut impl Db) -> Result<Vec<(UserId, i64)>> {
    let rows: Vec<(i64, i64)> = on!(db, c => sqlx::query_as(
        "SELECT owner_id, COUNT(*) FROM tokens WHERE owner_id IS NOT NULL AND status <> 'revoked' GROUP BY owner_id ORDER BY owner_id",
    )
    .fetch_all(c)
    .await?);
    Ok(rows.into_iter().map(|(u, n)| (UserId(u), n)).collect())
}

/// The scopes text of each live (not revoked) token of one owner.
pub async fn live_scopes(db: &mut impl Db, owner: UserId) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = on!(db, c => sqlx::query_as(
        "SELECT scopes FROM tokens WHERE owner_id = $1 AND status <> 'revoked'",
    )
    .bind(owner.0)
    .fetch_all(c)
    .await?);
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

/// The id the next token inserted gets: one past the largest.
pub async fn next_id(db: &mut impl Db) -> Result<i64> {
    let (id,): (i64,) = on!(db, c => sqlx::query_as("SELECT COALESCE(MAX(id), 0) + 1 FROM tokens")
        .fetch_one(c)
        .await?);
    Ok(id)
}

/// Revoke every live token of these kinds for an owner; returns their ids.
pub async fn revoke_owned(
    db: &mut impl Db,
    owner: UserId,
    kinds: &[&str],
    now: i64,
) -> Result<Vec<TokenId>> {
    let rows: Vec<(i64,)> = on!(db, c, DB => {
        let mut qb =
            QueryBuilder::<DB>::new("UPDATE tokens SET status = 'revoked', status_changed_at = ");
        qb.push_bind(now);
        push_live_owned(&mut qb, owner, kinds);
        qb.push(" RETURNING id");
        qb.build_query_as().fetch_all(c).await?
    });
    let mut ids: Vec<TokenId> = rows.into_iter().map(|r| TokenId(r.0)).collect();
    ids.sort_by_key(|t| t.0);
    Ok(ids)
}

/// ` WHERE` the token is live, belongs to `owner` and is of one of these kinds.
fn push_live_owned<'a, DB>(qb: &mut QueryBuilder<'a, DB>, owner: UserId, kinds: &[&'a str])
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    qb.push(" WHERE owner_id = ")
        .push_bind(owner.0)
        .push(" AND status <> 'revoked' AND kind IN (");
    let mut sep = qb.separated(", ");
    for k in kinds {
        sep.push_bind(*k);
    }
    qb.push(")");
}

pub async fn update_status(db: &mut impl Db, id: TokenId, status: &str, now: i64) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE tokens SET status = $1, status_changed_at = $2 WHERE id = $3")
        .bind(status)
        .bind(now)
        .bind(id.0)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update_note(db: &mut impl Db, id: TokenId, note: &str) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE tokens SET note = $1 WHERE id = $2")
        .bind(note)
        .bind(id.0)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// Start rotating a token: it overlaps with its successor until `ends_at` (or the successor's
/// first accepted use plus `grace` seconds). The successor is named by [`set_successor`].
/// False when the token is no longer active and unrotated.
pub async fn start_rotation(
    db: &mut impl Db,
    id: TokenId,
    now: i64,
    ends_at: i64,
    grace: i64,
) -> Result<bool> {
    let n = on!(db, c => sqlx::query(
        "UPDATE tokens SET rotated_at = $1, rotation_ends_at = $2, rotation_grace = $3 \
         WHERE id = $4 AND status = 'active' AND rotation_ends_at IS NULL",
    )
    .bind(now)
    .bind(ends_at)
    .bind(grace)
    .bind(id.0)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Revoke a token rotated without overlap. False when it is no longer active and unrotated.
pub async fn revoke_active(db: &mut impl Db, id: TokenId, now: i64) -> Result<bool> {
    let n = on!(db, c => sqlx::query(
        "UPDATE tokens SET status = 'revoked', status_changed_at = $1, rotated_at = $1 \
         WHERE id = $2 AND status = 'active' AND rotation_ends_at IS NULL",
    )
    .bind(now)
    .bind(id.0)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

pub async fn set_alert_new_sources(db: &mut impl Db, id: TokenId, enabled: bool) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE tokens SET alert_new_sources = $1 WHERE id = $2")
        .bind(enabled)
        .bind(id.0)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// Turn new-source alerts on for the company tokens numbered from `first` (`tessera dev
/// seed`, which inserts tokens without going through creation).
pub async fn alert_company_tokens_from(db: &mut impl Db, first: i64) -> Result<()> {
    on!(db, c => sqlx::query(
        "UPDATE tokens SET alert_new_sources = $1 WHERE kind = 'company' AND id >= $2 AND NOT honeytoken",
    )
    .bind(true)
    .bind(first)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn mark_honeytoken(db: &mut impl Db, id: TokenId) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE tokens SET honeytoken = $1 WHERE id = $2")
        .bind(true)
        .bind(id.0)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn set_successor(db: &mut impl Db, id: TokenId, successor: TokenId) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE tokens SET rotated_to = $1 WHERE id = $2")
        .bind(successor.0)
        .bind(id.0)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// Rotating tokens (not yet revoked) whose overlap is over at `now`.
pub async fn due_rotations(db: &mut impl Db, now: i64) -> Result<Vec<TokenRow>> {
    let sql = format!(
        "{SELECT} WHERE t.rotation_ends_at IS NOT NULL AND t.status <> 'revoked' \
         AND (t.rotation_ends_at <= $1 OR s.first_used_at + COALESCE(t.rotation_grace, 0) <= $1) ORDER BY t.id"
    );
    Ok(on!(db, c => sqlx::query_as(&sql).bind(now).fetch_all(c).await?))
}

/// Delete a token as a tombstone: revoked, out of every list, its usage kept.
pub async fn tombstone(db: &mut impl Db, id: TokenId, now: i64) -> Result<()> {
    on!(db, c => sqlx::query(
        "UPDATE tokens SET deleted_at = $1, status = 'revoked', \
         status_changed_at = CASE WHEN status = 'revoked' THEN status_changed_at ELSE $1 END WHERE id = $2",
    )
    .bind(now)
    .bind(id.0)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Which tokens a listing may include.
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    /// Every token (admin, operator).
    pub all: bool,
    /// Tokens owned by this user.
    pub owner: Option<UserId>,
    /// Company tokens too (vrm_admin).
    pub company: bool,
}

/// Filters for a token listing; all optional.
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    pub owner: Option<UserId>,
    pub kind: Option<TokenKind>,
    /// `Expired` is derived from the dates at `now`.
    pub status: Option<TokenStatus>,
    pub scope: Option<Scope>,
    pub text: Option<String>,
    pub expiring_within_days: Option<i64>,
    pub unused_for_days: Option<i64>,
    pub never_used: bool,
    /// Only tokens that were ever presented in a URL query parameter.
    pub presented_in_query: bool,
    /// Only tokens with an id greater than this (cursor paging, with the default sort).
    pub after_id: Option<i64>,
    pub sort: TokenSort,
    pub descending: bool,
    /// Rows to skip (offset paging for sorted tables).
    pub offset: u32,
    pub limit: u32,
}

/// Columns a listing can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
pub enum TokenSort {
    #[default]
    Id,
    Name,
    Kind,
    Owner,
    Status,
    Created,
    Expires,
    LastUsed,
    Uses,
}

impl TokenSort {
    fn column(self) -> &'static str {
        match self {
            Self::Id => "t.id",
            Self::Name => "t.name",
            Self::Kind => "t.kind",
            Self::Owner => "COALESCE(o.email, '')",
            Self::Status => "t.status",
            Self::Created => "t.created_at",
            Self::Expires => "COALESCE(t.expires_at, 9223372036854775807)",
            Self::LastUsed => "COALESCE(t.last_used_at, 0)",
            Self::Uses => "t.use_count",
        }
    }
}

/// Narrow a query over `tokens t`, after its `WHERE`, to the rows `vis` lets the actor see.
pub(crate) fn push_visible<'a, DB>(qb: &mut QueryBuilder<'a, DB>, vis: &Visibility)
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
    if !vis.all {
        // Honeytokens are shown to admins only.
        qb.push(" AND NOT t.honeytoken AND (t.owner_id = ")
            .push_bind(vis.owner.map(|u| u.0).unwrap_or(-1));
        if vis.company {
            qb.push(" OR t.owner_id IS NULL");
        }
        qb.push(")");
    }
}

fn push_where<'a, DB>(qb: &mut QueryBuilder<'a, DB>, vis: &Visibility, f: &TokenFilter, now: i64)
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'static str: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
{
    qb.push(" WHERE t.deleted_at IS NULL");
    push_visible(qb, vis);
    if let Some(o) = f.owner {
        qb.push(" AND t.owner_id = ").push_bind(o.0);
    }
    match &f.kind {
        Some(k) => {
            qb.push(" AND t.kind = ").push_bind(k.as_str());
        }
        // OAuth access tokens are many and short-lived: listed under their client, and here
        // only when asked for by kind.
        None => {
            qb.push(" AND t.kind <> 'access'");
        }
    }
    let expired = "(t.expires_at IS NOT NULL AND t.expires_at <= {now}) OR (t.idle_days IS NOT NULL AND t.idle_anchor_at + t.idle_days * 86400 <= {now})"
        .replace("{now}", &now.to_string());
    match f.status {
        Some(TokenStatus::Expired) => {
            qb.push(format!(" AND t.status = 'active' AND ({expired})"));
        }
        Some(TokenStatus::Active) => {
            qb.push(format!(
                " AND t.status = 'active' AND t.rotation_ends_at IS NULL AND NOT ({expired})"
            ));
        }
        Some(TokenStatus::Rotating) => {
            qb.push(format!(
                " AND t.status = 'active' AND t.rotation_ends_at IS NOT NULL AND NOT ({expired})"
            ));
        }
        Some(s) => {
            qb.push(" AND t.status = ").push_bind(s.as_str());
        }
        None => {}
    }
    if let Some(s) = &f.scope {
        qb.push(" AND (' ' || t.scopes || ' ') LIKE ")
            .push_bind(format!("% {s} %"));
    }
    if let Some(text) = &f.text {
        // Case-insensitive for ASCII letters on both engines, as SQLite's LIKE is (PostgreSQL's
        // is not, so both sides are lowered).
        let pat = format!(
            "%{}%",
            text.to_ascii_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        qb.push(" AND (LOWER(t.name) LIKE ")
            .push_bind(pat.clone())
            .push(" ESCAPE '\\' OR LOWER(t.description) LIKE ")
            .push_bind(pat.clone())
            .push(" ESCAPE '\\' OR LOWER(t.hint) LIKE ")
            .push_bind(pat.clone())
            .push(" ESCAPE '\\' OR LOWER(o.email) LIKE ")
            .push_bind(pat)
            .push(" ESCAPE '\\')");
    }
    if let Some(d) = f.expiring_within_days {
        qb.push(" AND t.status = 'active' AND t.expires_at > ")
            .push_bind(now)
            .push(" AND t.expires_at <= ")
            .push_bind(now + d * 86400);
    }
    // A honeytoken is meant to stay unused: it is not a forgotten token.
    if let Some(d) = f.unused_for_days {
        qb.push(" AND NOT t.honeytoken AND COALESCE(t.last_used_at, t.created_at) <= ")
            .push_bind(now - d * 86400);
    }
    if f.never_used {
        qb.push(" AND NOT t.honeytoken AND t.last_used_at IS NULL");
    }
    if f.presented_in_query {
        qb.push(" AND t.id IN (SELECT token_id FROM usage_events WHERE via = 'query')");
    }
}

pub async fn list(
    db: &mut impl Db,
    vis: &Visibility,
    f: &TokenFilter,
    now: i64,
) -> Result<Vec<TokenRow>> {
    Ok(on!(db, c, DB => {
        let mut qb = QueryBuilder::<DB>::new(SELECT);
        push_where(&mut qb, vis, f, now);
        if let Some(a) = f.after_id {
            qb.push(" AND t.id > ").push_bind(a);
        }
        let dir = if f.descending { "DESC" } else { "ASC" };
        qb.push(format!(
            " ORDER BY {} {dir}, t.id {dir} LIMIT ",
            f.sort.column()
        ))
        .push_bind(i64::from(f.limit.clamp(1, 100_000)))
        .push(" OFFSET ")
        .push_bind(i64::from(f.offset));
        qb.build_query_as().fetch_all(c).await?
    }))
}

/// How many tokens match (ignoring paging).
pub async fn count(db: &mut impl Db, vis: &Visibility, f: &TokenFilter, now: i64) -> Result<i64> {
    let (n,): (i64,) = on!(db, c, DB => {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT COUNT(*) FROM tokens t LEFT JOIN users o ON o.id = t.owner_id",
        );
        push_where(&mut qb, vis, f, now);
        qb.build_query_as().fetch_one(c).await?
    });
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::store::users;

    fn row<'a>(
        kind: &'a str,
        owner: Option<UserId>,
        name: &'a str,
        hash: &'a TokenHash,
    ) -> NewTokenRow<'a> {
        NewTokenRow {
            kind,
            owner_id: owner,
            created_by: owner,
            created_by_label: None,
            name,
            description: "",
            hash,
            hint: "tsr_p_…0000",
            scopes: "me:read",
            now: 1_000,
            expires_at: None,
            idle_days: None,
            allowed_networks: "",
            rate_limit: 60,
            key_id: 1,
            history: None,
        }
    }

    async fn person(conn: &mut impl Db, email: &str) -> UserId {
        users::insert(
            conn,
            users::NewUserRow {
                email: &email.parse().expect("email"),
                name: "Someone",
                role: Role::User,
                password_hash: "!",
                source_group: "",
                now: 1_000,
                active: true,
            },
        )
        .await
        .expect("user")
    }

    #[tokio::test]
    async fn live_counts_follow_owner_kind_and_revocation() {
        let dir = tempfile::tempdir().expect("dir");
        let store = crate::store::test_store(dir.path()).await;
        let mut tx = store.begin().await.expect("tx");
        let (a, b) = (
            person(&mut tx, "a@x.test").await,
            person(&mut tx, "b@x.test").await,
        );
        let hashes: Vec<TokenHash> = (0..5u8).map(|i| TokenHash([i; 32])).collect();
        insert(&mut tx, row("personal", Some(a), "one", &hashes[0]))
            .await
            .expect("insert");
        insert(&mut tx, row("personal", Some(a), "two", &hashes[1]))
            .await
            .expect("insert");
        insert(&mut tx, row("user", Some(a), "api", &hashes[2]))
            .await
            .expect("insert");
        insert(&mut tx, row("company", None, "svc", &hashes[3]))
            .await
            .expect("insert");
        let revoked = NewTokenRow {
            history: Some(TokenHistory {
                status: "revoked",
                idle_anchor_at: 1_000,
                last_used_at: None,
                last_used_ip: None,
                last_used_agent: None,
                use_count: 0,
                refused_count: 0,
            }),
            ..row("personal", Some(b), "old", &hashes[4])
        };
        insert(&mut tx, revoked).await.expect("insert");

        assert_eq!(
            count_live_owned(&mut tx, a, &["personal"])
                .await
                .expect("count"),
            2
        );
        assert_eq!(
            count_live_owned(&mut tx, a, &["user", "personal"])
                .await
                .expect("count"),
            3
        );
        assert_eq!(
            count_live_owned(&mut tx, b, &["personal"])
                .await
                .expect("count"),
            0
        );
        assert_eq!(
            count_live_by_owner(&mut tx).await.expect("counts"),
            vec![(a, 3)]
        );
        assert_eq!(live_scopes(&mut tx, a).await.expect("scopes").len(), 3);
        assert_eq!(next_id(&mut tx).await.expect("next"), 6);

        let gone = revoke_owned(&mut tx, a, &["user"], 2_000)
            .await
            .expect("revoke");
        assert_eq!(gone, vec![TokenId(3)]);
        assert_eq!(
            count_live_owned(&mut tx, a, &["user", "personal"])
                .await
                .expect("count"),
            2
        );
    }

    #[tokio::test]
    async fn a_note_starts_empty_and_is_stored_as_given() {
        let dir = tempfile::tempdir().expect("dir");
        let store = crate::store::test_store(dir.path()).await;
        let mut tx = store.begin().await.expect("tx");
        let a = person(&mut tx, "a@x.test").await;
        let id = insert(
            &mut tx,
            row("personal", Some(a), "one", &TokenHash([7; 32])),
        )
        .await
        .expect("insert");
        let read = |r: Option<TokenRow>| r.expect("row").note;
        assert_eq!(read(find(&mut tx, id).await.expect("find")), "");
        update_note(&mut tx, id, "ask #data").await.expect("note");
        assert_eq!(read(find(&mut tx, id).await.expect("find")), "ask #data");
        tx.commit().await.expect("commit");
        // The schema refuses what no front end may write (in a transaction of its own: on
        // PostgreSQL a failed statement ends the transaction).
        let mut tx = store.begin().await.expect("tx");
        assert!(update_note(&mut tx, id, &"x".repeat(4001)).await.is_err());
        drop(tx);
        let mut r = store.reader().await.expect("reader");
        assert_eq!(read(find(&mut r, id).await.expect("find")), "ask #data");
    }

    #[tokio::test]
    async fn a_token_inserted_with_a_history_keeps_it() {
        let dir = tempfile::tempdir().expect("dir");
        let store = crate::store::test_store(dir.path()).await;
        let mut tx = store.begin().await.expect("tx");
        let a = person(&mut tx, "a@x.test").await;
        let (h1, h2) = (TokenHash([1; 32]), TokenHash([2; 32]));
        let used = NewTokenRow {
            history: Some(TokenHistory {
                status: "deactivated",
                idle_anchor_at: 1_500,
                last_used_at: Some(1_500),
                last_used_ip: Some("10.0.0.1"),
                last_used_agent: Some("curl/8.5.0"),
                use_count: 7,
                refused_count: 2,
            }),
            ..row("personal", Some(a), "used", &h1)
        };
        insert_many(&mut tx, vec![used, row("personal", Some(a), "fresh", &h2)])
            .await
            .expect("insert");

        let used = find(&mut tx, TokenId(1)).await.expect("find").expect("row");
        assert_eq!(
            (used.status.as_str(), used.created_at, used.idle_anchor_at),
            ("deactivated", 1_000, 1_500)
        );
        assert_eq!(used.last_used_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(used.last_used_agent.as_deref(), Some("curl/8.5.0"));
        assert_eq!(
            (used.last_used_at, used.use_count, used.refused_count),
            (Some(1_500), 7, 2)
        );
        let fresh = find(&mut tx, TokenId(2)).await.expect("find").expect("row");
        assert_eq!(
            (fresh.status.as_str(), fresh.idle_anchor_at),
            ("active", 1_000)
        );
        assert_eq!(
            (fresh.last_used_at, fresh.use_count, fresh.refused_count),
            (None, 0, 0)
        );
    }
}
