//! The `instances` table: the servers sharing one PostgreSQL database, each renewing its row
//! every second (see [`crate::Tessera::join_instances`]).

use crate::error::Result;
use crate::store::{on, Db, Dialect, Engine};

/// The database's clock in Unix seconds: instances on machines whose clocks differ still
/// agree on who renewed when.
pub async fn db_now(db: &mut impl Db) -> Result<i64> {
    let (now,): (i64,) = on!(db, c, DB => {
        let sql = match <DB as Dialect>::ENGINE {
            Engine::Sqlite => "SELECT CAST(strftime('%s', 'now') AS INTEGER)",
            Engine::Postgres => "SELECT CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)",
        };
        sqlx::query_as(sql).fetch_one(c).await?
    });
    Ok(now)
}

/// Renew this instance's row, forget instances silent for a minute, and count those seen at
/// or after `live_since` (this one included).
pub async fn beat(db: &mut impl Db, id: &str, now: i64, live_since: i64) -> Result<i64> {
    on!(&mut *db, c => sqlx::query(
        "INSERT INTO instances (id, seen_at) VALUES ($1, $2) \
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(id)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    on!(&mut *db, c => sqlx::query("DELETE FROM instances WHERE seen_at < $1")
        .bind(now - 60)
        .execute(c)
        .await?
        .rows_affected());
    let (n,): (i64,) = on!(db, c => sqlx::query_as(
        "SELECT COUNT(*) FROM instances WHERE seen_at >= $1",
    )
    .bind(live_since)
    .fetch_one(c)
    .await?);
    Ok(n)
}

/// Remove this instance's row (it is shutting down).
pub async fn leave(db: &mut impl Db, id: &str) -> Result<()> {
    on!(db, c => sqlx::query("DELETE FROM instances WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn instances_are_counted_while_they_renew_and_forgotten_when_they_leave() {
        let dir = tempfile::tempdir().expect("dir");
        let store = crate::store::test_store(dir.path()).await;
        let mut tx = store.begin().await.expect("tx");
        assert_eq!(beat(&mut tx, "a", 1_000, 997).await.expect("beat"), 1);
        assert_eq!(beat(&mut tx, "b", 1_001, 998).await.expect("beat"), 2);
        // Four seconds later only b renews: a no longer counts.
        assert_eq!(beat(&mut tx, "b", 1_005, 1_002).await.expect("beat"), 1);
        assert_eq!(beat(&mut tx, "a", 1_005, 1_002).await.expect("beat"), 2);
        leave(&mut tx, "a").await.expect("leave");
        assert_eq!(beat(&mut tx, "b", 1_006, 1_003).await.expect("beat"), 1);
        let now = db_now(&mut tx).await.expect("now");
        assert!((now - time::OffsetDateTime::now_utc().unix_timestamp()).abs() <= 2);
    }
}
