//! The `scopes` table: the built-in scopes recorded at set-up and the custom ones admins add.

use crate::error::Result;
use crate::store::{on, Db};

/// Is a scope of this name recorded?
pub async fn exists(db: &mut impl Db, name: &str) -> Result<bool> {
    let row: Option<(String,)> = on!(db, c => sqlx::query_as("SELECT name FROM scopes WHERE name = $1")
        .bind(name)
        .fetch_optional(c)
        .await?);
    Ok(row.is_some())
}

/// Record a scope; a name already recorded is an error.
pub async fn insert(db: &mut impl Db, name: &str, description: &str, now: i64) -> Result<()> {
    write(db, "", name, description, now).await
}

/// Record a scope unless one of this name is recorded already (the built-ins, at set-up).
pub async fn insert_or_ignore(
    db: &mut impl Db,
    name: &str,
    description: &str,
    now: i64,
) -> Result<()> {
    write(db, " ON CONFLICT (name) DO NOTHING", name, description, now).await
}

async fn write(
    db: &mut impl Db,
    on_conflict: &str,
    name: &str,
    description: &str,
    now: i64,
) -> Result<()> {
    let sql = format!(
        "INSERT INTO scopes (name, description, created_at) VALUES ($1, $2, $3){on_conflict}"
    );
    on!(db, c => sqlx::query(&sql)
        .bind(name)
        .bind(description)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// Every recorded scope as (name, description), in no particular order.
pub async fn list(db: &mut impl Db) -> Result<Vec<(String, String)>> {
    Ok(
        on!(db, c => sqlx::query_as("SELECT name, description FROM scopes")
        .fetch_all(c)
        .await?),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_recorded_scope_exists_and_lists_and_is_not_recorded_twice() {
        let dir = tempfile::tempdir().expect("dir");
        let store = crate::store::test_store(dir.path()).await;
        let mut tx = store.begin().await.expect("tx");
        assert!(!exists(&mut tx, "billing:read").await.expect("exists"));
        insert(&mut tx, "billing:read", "Read invoices", 1_000)
            .await
            .expect("insert");
        assert!(exists(&mut tx, "billing:read").await.expect("exists"));
        insert_or_ignore(&mut tx, "billing:read", "Other", 2_000)
            .await
            .expect("ignored");
        assert_eq!(
            list(&mut tx).await.expect("list"),
            vec![("billing:read".to_owned(), "Read invoices".to_owned())]
        );
        // Last: on PostgreSQL a failed statement ends the transaction.
        assert!(insert(&mut tx, "billing:read", "Other", 2_000)
            .await
            .is_err());
    }
}
