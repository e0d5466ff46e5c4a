//! The `meta` and `company` tables: installation id, key check value, policy, company name.

use sqlx::SqliteConnection;

use crate::error::Result;

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

pub async fn company_name(conn: &mut SqliteConnection) -> Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT name FROM company WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.0))
}

pub async fn insert_company(conn: &mut SqliteConnection, name: &str, now: i64) -> Result<()> {
    sqlx::query("INSERT INTO company (id, name, created_at) VALUES (1, ?, ?)")
        .bind(name)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
