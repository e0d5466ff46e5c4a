//! The `token_keys` table: which token-hashing keys this database knows, by id and check value
//! (never the keys themselves), and which are retired. See [`crate::keys`].

use crate::error::Result;
use crate::model::TokenId;
use crate::store::{on, Db};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyRow {
    pub id: i64,
    pub check_value: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// Every key, oldest first.
pub async fn list(db: &mut impl Db) -> Result<Vec<KeyRow>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT id, check_value, created_at, retired_at FROM token_keys ORDER BY id",
    )
    .fetch_all(c)
    .await?))
}

/// The keys not retired, oldest first.
pub async fn active(db: &mut impl Db) -> Result<Vec<KeyRow>> {
    Ok(list(db)
        .await?
        .into_iter()
        .filter(|k| k.retired_at.is_none())
        .collect())
}

/// Record a key unless one with this id exists; returns the check value now recorded for it
/// (another instance may have recorded its own first).
pub async fn insert(db: &mut impl Db, id: i64, check: &str, now: i64) -> Result<String> {
    on!(&mut *db, c => sqlx::query(
        "INSERT INTO token_keys (id, check_value, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(check)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    let (kept,): (String,) = on!(db, c => sqlx::query_as("SELECT check_value FROM token_keys WHERE id = $1")
        .bind(id)
        .fetch_one(c)
        .await?);
    Ok(kept)
}

pub async fn retire(db: &mut impl Db, id: i64, now: i64) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE token_keys SET retired_at = $1 WHERE id = $2 AND retired_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// The tokens a key still verifies: hashed with it, not revoked (nor deleted), not expired.
pub async fn live_tokens(db: &mut impl Db, key: i64, now: i64) -> Result<Vec<TokenId>> {
    let rows: Vec<(i64,)> = on!(db, c => sqlx::query_as(
        "SELECT id FROM tokens WHERE key_id = $1 AND status <> 'revoked' \
         AND (expires_at IS NULL OR expires_at > $2) ORDER BY id",
    )
    .bind(key)
    .bind(now)
    .fetch_all(c)
    .await?);
    Ok(rows.into_iter().map(|r| TokenId(r.0)).collect())
}

/// How many tokens each key still verifies, by key id.
pub async fn live_counts(db: &mut impl Db, now: i64) -> Result<Vec<(i64, i64)>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT key_id, COUNT(*) FROM tokens WHERE status <> 'revoked' \
         AND (expires_at IS NULL OR expires_at > $1) GROUP BY key_id ORDER BY key_id",
    )
    .bind(now)
    .fetch_all(c)
    .await?))
}
