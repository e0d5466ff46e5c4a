//! The `tokens` table: rows hold the keyed hash and metadata, never the token.

use sqlx::SqliteConnection;

use crate::error::Result;
use crate::keys::TokenHash;
use crate::model::{TokenId, UserId};

/// A token row as stored, joined with its owner's and creator's e-mail.
#[derive(Debug, Clone, sqlx::FromRow)]
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
}

pub const SELECT: &str = "SELECT t.id, t.kind, t.owner_id, o.email AS owner_email, o.name AS owner_name, \
    o.role AS owner_role, o.active AS owner_active, t.created_by, c.email AS creator_email, t.created_by_label, t.deleted_at, t.name, \
    t.description, t.hint, t.scopes, t.status, t.created_at, t.expires_at, t.idle_days, t.idle_anchor_at, \
    t.allowed_networks, t.rate_limit, t.status_changed_at, t.last_used_at, t.last_used_ip, \
    t.last_used_agent, t.use_count, t.refused_count \
    FROM tokens t LEFT JOIN users o ON o.id = t.owner_id LEFT JOIN users c ON c.id = t.created_by";

pub async fn find(conn: &mut SqliteConnection, id: TokenId) -> Result<Option<TokenRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE t.id = ?"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?)
}

/// The verification look-up: one indexed read by hash.
pub async fn find_by_hash(
    conn: &mut SqliteConnection,
    hash: &TokenHash,
) -> Result<Option<TokenRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE t.hash = ?"))
        .bind(&hash.0[..])
        .fetch_optional(conn)
        .await?)
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
}

pub async fn insert(conn: &mut SqliteConnection, t: NewTokenRow<'_>) -> Result<TokenId> {
    let id = sqlx::query(
        "INSERT INTO tokens (kind, owner_id, created_by, created_by_label, name, description, hash, hint, \
         scopes, status, created_at, expires_at, idle_days, idle_anchor_at, allowed_networks, rate_limit) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.kind)
    .bind(t.owner_id.map(|u| u.0))
    .bind(t.created_by.map(|u| u.0))
    .bind(t.created_by_label)
    .bind(t.name)
    .bind(t.description)
    .bind(&t.hash.0[..])
    .bind(t.hint)
    .bind(t.scopes)
    .bind(t.now)
    .bind(t.expires_at)
    .bind(t.idle_days)
    .bind(t.now)
    .bind(t.allowed_networks)
    .bind(t.rate_limit)
    .execute(conn)
    .await?
    .last_insert_rowid();
    Ok(TokenId(id))
}

/// A name already used by a live token of the same owner (or of the company)?
pub async fn live_name_taken(
    conn: &mut SqliteConnection,
    company: bool,
    owner: Option<UserId>,
    name: &str,
) -> Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM tokens WHERE (kind = 'company') = ? AND IFNULL(owner_id, 0) = ? AND name = ? AND status <> 'revoked'",
    )
    .bind(company)
    .bind(owner.map(|u| u.0).unwrap_or(0))
    .bind(name)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

pub async fn count_live_personal(conn: &mut SqliteConnection, owner: UserId) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM tokens WHERE owner_id = ? AND kind = 'personal' AND status <> 'revoked'",
    )
    .bind(owner.0)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Revoke every live token of these kinds for an owner; returns their ids.
pub async fn revoke_owned(
    conn: &mut SqliteConnection,
    owner: UserId,
    kinds: &[&str],
    now: i64,
) -> Result<Vec<TokenId>> {
    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "UPDATE tokens SET status = 'revoked', status_changed_at = ",
    );
    qb.push_bind(now)
        .push(" WHERE owner_id = ")
        .push_bind(owner.0)
        .push(" AND status <> 'revoked' AND kind IN (");
    let mut sep = qb.separated(", ");
    for k in kinds {
        sep.push_bind(*k);
    }
    qb.push(") RETURNING id");
    let rows: Vec<(i64,)> = qb.build_query_as().fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| TokenId(r.0)).collect())
}

pub async fn update_status(
    conn: &mut SqliteConnection,
    id: TokenId,
    status: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE tokens SET status = ?, status_changed_at = ? WHERE id = ?")
        .bind(status)
        .bind(now)
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Delete a token as a tombstone: revoked, out of every list, its usage kept.
pub async fn tombstone(conn: &mut SqliteConnection, id: TokenId, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE tokens SET deleted_at = ?, status = 'revoked', \
         status_changed_at = CASE WHEN status = 'revoked' THEN status_changed_at ELSE ? END WHERE id = ?",
    )
    .bind(now)
    .bind(now)
    .bind(id.0)
    .execute(conn)
    .await?;
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
    pub kind: Option<String>,
    /// `active`, `deactivated`, `revoked` or `expired` (derived from dates at `now`).
    pub status: Option<String>,
    pub scope: Option<String>,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
            Self::Owner => "IFNULL(o.email, '')",
            Self::Status => "t.status",
            Self::Created => "t.created_at",
            Self::Expires => "IFNULL(t.expires_at, 9223372036854775807)",
            Self::LastUsed => "IFNULL(t.last_used_at, 0)",
            Self::Uses => "t.use_count",
        }
    }
}

fn push_where(
    qb: &mut sqlx::QueryBuilder<'_, sqlx::Sqlite>,
    vis: &Visibility,
    f: &TokenFilter,
    now: i64,
) {
    qb.push(" WHERE t.deleted_at IS NULL");
    if !vis.all {
        qb.push(" AND (t.owner_id = ")
            .push_bind(vis.owner.map(|u| u.0).unwrap_or(-1));
        if vis.company {
            qb.push(" OR t.kind = 'company'");
        }
        qb.push(")");
    }
    if let Some(o) = f.owner {
        qb.push(" AND t.owner_id = ").push_bind(o.0);
    }
    if let Some(k) = &f.kind {
        qb.push(" AND t.kind = ").push_bind(k.clone());
    }
    let expired = "(t.expires_at IS NOT NULL AND t.expires_at <= {now}) OR (t.idle_days IS NOT NULL AND t.idle_anchor_at + t.idle_days * 86400 <= {now})"
        .replace("{now}", &now.to_string());
    match f.status.as_deref() {
        Some("expired") => {
            qb.push(format!(" AND t.status = 'active' AND ({expired})"));
        }
        Some("active") => {
            qb.push(format!(" AND t.status = 'active' AND NOT ({expired})"));
        }
        Some(s) => {
            qb.push(" AND t.status = ").push_bind(s.to_owned());
        }
        None => {}
    }
    if let Some(s) = &f.scope {
        qb.push(" AND (' ' || t.scopes || ' ') LIKE ")
            .push_bind(format!("% {s} %"));
    }
    if let Some(text) = &f.text {
        let pat = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        qb.push(" AND (t.name LIKE ")
            .push_bind(pat.clone())
            .push(" ESCAPE '\\' OR t.description LIKE ")
            .push_bind(pat.clone())
            .push(" ESCAPE '\\' OR t.hint LIKE ")
            .push_bind(pat.clone())
            .push(" ESCAPE '\\' OR o.email LIKE ")
            .push_bind(pat)
            .push(" ESCAPE '\\')");
    }
    if let Some(d) = f.expiring_within_days {
        qb.push(" AND t.status = 'active' AND t.expires_at > ")
            .push_bind(now)
            .push(" AND t.expires_at <= ")
            .push_bind(now + d * 86400);
    }
    if let Some(d) = f.unused_for_days {
        qb.push(" AND IFNULL(t.last_used_at, t.created_at) <= ")
            .push_bind(now - d * 86400);
    }
    if f.never_used {
        qb.push(" AND t.last_used_at IS NULL");
    }
    if f.presented_in_query {
        qb.push(" AND t.id IN (SELECT token_id FROM usage_events WHERE via = 'query')");
    }
}

pub async fn list(
    conn: &mut SqliteConnection,
    vis: &Visibility,
    f: &TokenFilter,
    now: i64,
) -> Result<Vec<TokenRow>> {
    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(SELECT);
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
    Ok(qb.build_query_as().fetch_all(conn).await?)
}

/// How many tokens match (ignoring paging).
pub async fn count(
    conn: &mut SqliteConnection,
    vis: &Visibility,
    f: &TokenFilter,
    now: i64,
) -> Result<i64> {
    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "SELECT COUNT(*) FROM tokens t LEFT JOIN users o ON o.id = t.owner_id",
    );
    push_where(&mut qb, vis, f, now);
    let (n,): (i64,) = qb.build_query_as().fetch_one(conn).await?;
    Ok(n)
}
