//! The `sessions` table ([`crate::service::session`]): a team server's signed-in windows.

use crate::error::Result;
use crate::keys::TokenHash;
use crate::model::UserId;
use crate::store::{on, Db};

/// A session as stored (its hash stays in the table).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// What a new session records besides its hash.
pub struct NewSession<'a> {
    pub user: UserId,
    pub key_id: i64,
    pub now: i64,
    pub expires_at: i64,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

pub async fn insert(db: &mut impl Db, hash: &TokenHash, s: &NewSession<'_>) -> Result<i64> {
    let (id,): (i64,) = on!(db, c => sqlx::query_as(
        "INSERT INTO sessions (user_id, hash, key_id, created_at, last_seen_at, expires_at, ip, user_agent) \
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING id",
    )
    .bind(s.user.0)
    .bind(&hash.0[..])
    .bind(s.key_id)
    .bind(s.now)
    .bind(s.expires_at)
    .bind(s.ip)
    .bind(s.user_agent)
    .fetch_one(c)
    .await?);
    Ok(id)
}

/// The session whose credential hashes to `hash` under key `key_id`.
pub async fn find(db: &mut impl Db, hash: &TokenHash, key_id: i64) -> Result<Option<SessionRow>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT id, user_id, created_at, last_seen_at, expires_at FROM sessions \
         WHERE hash = $1 AND key_id = $2",
    )
    .bind(&hash.0[..])
    .bind(key_id)
    .fetch_optional(c)
    .await?))
}

/// Mark a session used now (it stays open for another idle period).
pub async fn touch(db: &mut impl Db, id: i64, now: i64) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1")
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// End one session; false when it was already gone.
pub async fn delete(db: &mut impl Db, id: i64) -> Result<bool> {
    let done = on!(db, c => sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

/// End every session of a person but `keep`; how many ended.
pub async fn delete_for_user(db: &mut impl Db, user: UserId, keep: Option<i64>) -> Result<u64> {
    Ok(
        on!(db, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user.0)
        .bind(keep.unwrap_or(0))
        .execute(c)
        .await?
        .rows_affected()),
    )
}

/// Remove sessions that ended (idle since before `idle_cut`, or past their end).
pub async fn prune(db: &mut impl Db, now: i64, idle_cut: i64) -> Result<u64> {
    Ok(
        on!(db, c => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(idle_cut)
        .execute(c)
        .await?
        .rows_affected()),
    )
}
