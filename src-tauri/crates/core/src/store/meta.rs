//! The `meta` table: installation id, key check value, policy, sign-in failure counts,
//! notices given. The company's name has a table of its own ([`super::company`]).

use sqlx::SqliteConnection;

use crate::error::Result;

/// The company's name and its first record, under the names they had here.
pub use super::company::{insert as insert_company, name as company_name};

pub async fn get(conn: &mut SqliteConnection, key: &str) -> Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT value FROM meta WHERE key = ?")
        .bind(key)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.0))
}

/// Set a value only if the key has none yet; returns the value now stored.
pub async fn get_or_insert(conn: &mut SqliteConnection, key: &str, value: &str) -> Result<String> {
    sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)")
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    Ok(get(conn, key).await?.unwrap_or_else(|| value.to_owned()))
}

pub async fn set(conn: &mut SqliteConnection, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}
