//! The `meta` table: installation id, key check value, policy, sign-in failure counts,
//! notices given. The company's name has a table of its own ([`super::company`]).

use crate::error::Result;
use crate::store::{on, Db};

/// The company's name and its first record, under the names they had here.
pub use super::company::{insert as insert_company, name as company_name};

pub async fn get(db: &mut impl Db, key: &str) -> Result<Option<String>> {
    let row: Option<(String,)> = on!(db, c => sqlx::query_as("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(c)
        .await?);
    Ok(row.map(|r| r.0))
}

/// Set a value only if the key has none yet; returns the value now stored.
pub async fn get_or_insert(db: &mut impl Db, key: &str, value: &str) -> Result<String> {
    on!(&mut *db, c => sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(value)
        .execute(c)
        .await?
        .rows_affected());
    Ok(get(db, key).await?.unwrap_or_else(|| value.to_owned()))
}

pub async fn set(db: &mut impl Db, key: &str, value: &str) -> Result<()> {
    on!(db, c => sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}
