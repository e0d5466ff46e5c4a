//! The SQLite store: opening the database, applying migrations, and one module per table.
//!
//! Writes go through a pool of one connection (SQLite has one writer) and start with
//! `BEGIN IMMEDIATE`, so a read-then-write never fails half-way with "database is locked";
//! reads use a small pool of their own. Business rules live in [`crate::service`]; these
//! modules only read and write rows.

pub mod audit;
pub mod company;
pub mod meta;
pub mod scopes;
pub mod tokens;
pub mod usage;
pub mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::error::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The database file's name inside the data dir.
pub const DB_FILE: &str = "tessera.db";

/// Open pools on one SQLite database.
#[derive(Clone, Debug)]
pub struct Store {
    write: SqlitePool,
    read: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Open (creating if needed) the database in `data_dir` and bring its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        prepare_dir(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let opts = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|e| Error::internal("bad database options", e))?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a committed revoke, deactivation, role or policy change survives power
            // loss (NORMAL in WAL mode may lose the last commits). Usage is written in
            // batches, so the extra sync costs little.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.clone())
            .await
            .map_err(|e| open_error(&path, e))?;
        check_schema_version(&write).await?;
        migrate(&write).await?;
        // Entries written before the audit log's hash chain existed are chained once.
        audit::chain_unchained(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.read_only(true))
            .await
            .map_err(|e| open_error(&path, e))?;
        Ok(Self { write, read, path })
    }

    /// The pool for reads.
    pub fn reader(&self) -> &SqlitePool {
        &self.read
    }

    /// Start a write transaction that holds the write lock from its first statement.
    pub async fn begin(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Close both pools, checkpointing the WAL.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

fn prepare_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::state(format!(
            "the data dir {} cannot be created ({e}); choose a writable one with --data-dir or TESSERA_DATA_DIR",
            dir.display()
        ))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Best effort: the directory holds the database and maybe the key file.
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    // A name of our own: concurrent processes must not remove each other's probe.
    let probe = dir.join(format!(
        ".write-test-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::write(&probe, b"")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| {
            Error::state(format!(
                "the data dir {} cannot be written ({e}); choose a writable one with --data-dir or TESSERA_DATA_DIR",
                dir.display()
            ))
        })
}

fn open_error(path: &Path, e: sqlx::Error) -> Error {
    tracing::error!(error = %e, "cannot open database");
    Error::state(format!(
        "cannot open the database {} ({e}); check that it is a Tessera database and that the data dir is writable",
        path.display()
    ))
}

/// Refuse a database that a newer Tessera wrote: its schema may mean things we do not know.
async fn check_schema_version(pool: &SqlitePool) -> Result<()> {
    let has_table: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(pool)
    .await?;
    if has_table.is_none() {
        return Ok(());
    }
    let (newest,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(pool)
            .await?;
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some(v) = newest {
        if v > known {
            return Err(Error::state(format!(
                "this database was written by a newer version of Tessera (schema {v}, this build knows up to {known}); \
                 upgrade Tessera to open it"
            )));
        }
    }
    Ok(())
}

async fn migrate(pool: &SqlitePool) -> Result<()> {
    // Two processes starting on a fresh data dir may race here; the loser retries once,
    // by which time the winner's migrations are recorded.
    for attempt in 0..3 {
        match MIGRATOR.run(pool).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 2 => {
                tracing::warn!(error = %e, "migration attempt failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                return Err(Error::internal(
                    "cannot bring the database schema up to date; see the log",
                    e,
                ))
            }
        }
    }
    Ok(())
}

/// SQLite's `data_version` on this connection: it changes when another connection commits.
pub(crate) async fn data_version(conn: &mut sqlx::SqliteConnection) -> sqlx::Result<i64> {
    let (v,): (i64,) = sqlx::query_as("PRAGMA data_version")
        .fetch_one(conn)
        .await?;
    Ok(v)
}

/// Unix seconds for a time.
pub fn ts(t: time::OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// A time from Unix seconds (out-of-range values clamp to the epoch).
pub fn from_ts(s: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(s).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}
