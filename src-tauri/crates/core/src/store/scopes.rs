//! The `scopes` table: the built-in scopes recorded at set-up and the custom ones admins add.

use sqlx::SqliteConnection;

use crate::error::Result;

/// Is a scope of this name recorded?
pub async fn exists(conn: &mut SqliteConnection, name: &str) -> Result<bool> {
    let row: Option<(String,)> = sqlx::query_as("SELECT name FROM scopes WHERE name = ?")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Record a scope; a name already recorded is an error.
pub async fn insert(
    conn: &mut SqliteConnection,
    name: &str,
    description: &str,
    now: i64,
) -> Result<()> {
    write(conn, "INSERT", name, description, now).await
}

/// Record a scope unless one of this name is recorded already (the built-ins, at set-up).
pub async fn insert_or_ignore(
    conn: &mut SqliteConnection,
    name: &str,
    description: &str,
    now: i64,
) -> Result<()> {
    write(conn, "INSERT OR IGNORE", name, description, now).await
}

async fn write(
    conn: &mut SqliteConnection,
    verb: &str,
    name: &str,
    description: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(&format!(
        "{verb} INTO scopes (name, description, created_at) VALUES (?, ?, ?)"
    ))
    .bind(name)
    .bind(description)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every recorded scope as (name, description), in no particular order.
pub async fn list(conn: &mut SqliteConnection) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as("SELECT name, description FROM scopes")
        .fetch_all(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn a_recorded_scope_exists_and_lists_and_is_not_recorded_twice() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path()).await.expect("store");
        let mut tx = store.begin().await.expect("tx");
        assert!(!exists(&mut tx, "billing:read").await.expect("exists"));
        insert(&mut tx, "billing:read", "Read invoices", 1_000)
            .await
            .expect("insert");
        assert!(exists(&mut tx, "billing:read").await.expect("exists"));
        insert_or_ignore(&mut tx, "billing:read", "Other", 2_000)
            .await
            .expect("ignored");
        assert!(insert(&mut tx, "billing:read", "Other", 2_000)
            .await
            .is_err());
        assert_eq!(
            list(&mut tx).await.expect("list"),
            vec![("billing:read".to_owned(), "Read invoices".to_owned())]
        );
    }
}
