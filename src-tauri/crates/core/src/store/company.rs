//! The `company` table: the one company a data dir belongs to, recorded by `init`.

use crate::error::Result;
use crate::store::{on, Db};

/// The company's name, or None before `init`.
pub async fn name(db: &mut impl Db) -> Result<Option<String>> {
    let row: Option<(String,)> = on!(db, c => sqlx::query_as("SELECT name FROM company WHERE id = 1")
        .fetch_optional(c)
        .await?);
    Ok(row.map(|r| r.0))
}

pub async fn insert(db: &mut impl Db, name: &str, now: i64) -> Result<()> {
    on!(db, c => sqlx::query("INSERT INTO company (id, name, created_at) VALUES (1, $1, $2)")
        .bind(name)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_company_is_recorded_once() {
        let dir = tempfile::tempdir().expect("dir");
        let store = crate::store::test_store(dir.path()).await;
        let mut tx = store.begin().await.expect("tx");
        assert_eq!(name(&mut tx).await.expect("name"), None);
        insert(&mut tx, "Acme", 1_000).await.expect("insert");
        assert_eq!(name(&mut tx).await.expect("name").as_deref(), Some("Acme"));
        assert!(insert(&mut tx, "Other", 2_000).await.is_err());
    }
}
