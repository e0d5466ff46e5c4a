//! The `token_sources` table: the networks and clients each token was accepted from
//! ([`crate::service::sources`]).

use crate::error::Result;
use crate::model::TokenId;
use crate::store::{on, Db};

/// Most sources of one kind kept per token: a client that changes its user agent on every
/// request cannot grow the table without bound (and its first ones were alerted already).
pub const MAX_PER_KIND: i64 = 1_000;

/// Record a source of a token; true when it was not known before (on every engine and
/// across instances only one writer gets true for a source). False too when the token has
/// [`MAX_PER_KIND`] sources of this kind already.
pub async fn add(
    db: &mut impl Db,
    token: TokenId,
    kind: &str,
    source: &str,
    now: i64,
) -> Result<bool> {
    let n = on!(db, c => sqlx::query(
        "INSERT INTO token_sources (token_id, kind, source, first_at) \
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM tokens WHERE id = $1) \
           AND (SELECT COUNT(*) FROM token_sources WHERE token_id = $1 AND kind = $2) < $5 \
         ON CONFLICT (token_id, kind, source) DO NOTHING",
    )
    .bind(token.0)
    .bind(kind)
    .bind(source)
    .bind(now)
    .bind(MAX_PER_KIND)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Whether the token has a source of this kind other than `source` (if not, `source` is its
/// baseline, not news).
pub async fn has_other(db: &mut impl Db, token: TokenId, kind: &str, source: &str) -> Result<bool> {
    let row: Option<(i64,)> = on!(db, c => sqlx::query_as(
        "SELECT token_id FROM token_sources WHERE token_id = $1 AND kind = $2 AND source <> $3 LIMIT 1",
    )
    .bind(token.0)
    .bind(kind)
    .bind(source)
    .fetch_optional(c)
    .await?);
    Ok(row.is_some())
}

/// Give a rotated token's successor the sources the old one had, so the successor used from
/// where the old one was is not news, and used from anywhere else is.
pub async fn copy(db: &mut impl Db, from: TokenId, to: TokenId) -> Result<()> {
    on!(db, c => sqlx::query(
        "INSERT INTO token_sources (token_id, kind, source, first_at) \
         SELECT $1, kind, source, first_at FROM token_sources WHERE token_id = $2 \
         ON CONFLICT (token_id, kind, source) DO NOTHING",
    )
    .bind(to.0)
    .bind(from.0)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// A token's known sources, oldest first: (kind, source, first seen).
pub async fn list(db: &mut impl Db, token: TokenId) -> Result<Vec<(String, String, i64)>> {
    Ok(on!(db, c => sqlx::query_as(
        "SELECT kind, source, first_at FROM token_sources WHERE token_id = $1 ORDER BY first_at, kind, source",
    )
    .bind(token.0)
    .fetch_all(c)
    .await?))
}
