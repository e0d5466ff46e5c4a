//! The store: opening the database (an embedded SQLite file, or a PostgreSQL database a
//! team shares), applying migrations, and one module per table.
//!
//! Both engines run the same SQL. Each table module's functions take any [`Db`] (a
//! transaction, a pooled read connection, or a bare connection) and write their body once
//! inside [`on!`], which compiles it for each engine; the SQL is the dialect both accept
//! (`$N` parameters, `COALESCE`, `ON CONFLICT`, `RETURNING`, `CASE` instead of two-argument
//! `MAX`, `TRUE`/`FALSE`). The schemas agree column by column: integers are 64-bit and times
//! are Unix seconds on both (`migrations/sqlite`, `migrations/postgres`).
//!
//! SQLite: writes go through a pool of one connection (SQLite has one writer) and start with
//! `BEGIN IMMEDIATE`, so a read-then-write never fails half-way with "database is locked";
//! reads use a small pool of their own. PostgreSQL: every write transaction first takes one
//! transaction-level advisory lock, so writes from every instance and the CLI are serialized
//! as SQLite's one writer serializes them (a read-then-write rule cannot interleave with
//! another, and concurrent usage flushes cannot deadlock); reads never wait for it.
//! Business rules live in [`crate::service`]; these modules only read and write rows.

pub mod audit;
pub mod clients;
pub mod company;
pub mod instances;
pub mod meta;
pub mod scopes;
pub mod sessions;
pub mod sources;
pub mod token_keys;
pub mod tokens;
pub mod usage;
pub mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::error::{Error, Result};

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The database file's name inside the data dir.
pub const DB_FILE: &str = "tessera.db";

/// The PostgreSQL channel on which committed changes are announced.
pub const CHANGES_CHANNEL: &str = "tessera_changes";

/// The advisory lock every PostgreSQL write transaction holds (an arbitrary constant:
/// "tessera" in ASCII).
const WRITE_LOCK: i64 = 0x0074_6573_7365_7261;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Where the store is: the SQLite file in a data dir, or a PostgreSQL database.
#[derive(Debug, Clone)]
pub enum Location {
    SqliteIn(PathBuf),
    Postgres(String),
}

impl Location {
    /// `postgres://...` (or `postgresql://`) selects PostgreSQL; None keeps the SQLite file
    /// in `data_dir`. Anything else is refused with what to write instead.
    pub fn choose(data_dir: &Path, database_url: Option<&str>) -> Result<Self> {
        match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Self::SqliteIn(data_dir.to_owned())),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Self::Postgres(u.to_owned()))
            }
            Some(_) => Err(Error::state(
                "the database URL must be a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE); \
                 leave it unset to use the embedded SQLite file in the data dir",
            )),
        }
    }
}

/// Open pools on one database.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Inner,
}

#[derive(Clone, Debug)]
enum Inner {
    Lite {
        write: SqlitePool,
        read: SqlitePool,
        path: PathBuf,
    },
    Pg {
        /// Reads, the change listener and the heartbeat.
        pool: PgPool,
        /// Write transactions, apart: a writer waiting for the advisory lock holds one of
        /// these, never a connection reads need.
        write: PgPool,
        /// The URL without its password, for messages.
        shown: String,
    },
}

/// A write transaction on either engine.
pub enum Tx {
    Lite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

/// A pooled connection for reads on either engine.
pub enum Reader {
    Lite(PoolConnection<Sqlite>),
    Pg(PoolConnection<Postgres>),
}

/// A borrowed connection of either engine: what [`on!`] matches on.
pub enum Conn<'c> {
    Lite(&'c mut SqliteConnection),
    Pg(&'c mut PgConnection),
}

/// Anything the table modules can run statements on.
pub trait Db: Send {
    fn conn(&mut self) -> Conn<'_>;
}

impl Db for Tx {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Lite(t) => Conn::Lite(t),
            Self::Pg(t) => Conn::Pg(t),
        }
    }
}

impl Db for Reader {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Lite(c) => Conn::Lite(c),
            Self::Pg(c) => Conn::Pg(c),
        }
    }
}

impl Db for Conn<'_> {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Lite(c) => Conn::Lite(c),
            Self::Pg(c) => Conn::Pg(c),
        }
    }
}

impl Db for SqliteConnection {
    fn conn(&mut self) -> Conn<'_> {
        Conn::Lite(self)
    }
}

impl Db for PgConnection {
    fn conn(&mut self) -> Conn<'_> {
        Conn::Pg(self)
    }
}

/// Run `$body` on the connection of `$db`, compiled once per engine: inside it `$c` is that
/// engine's `&mut Connection` and `$DB` names the engine's `sqlx::Database` type.
macro_rules! on {
    ($db:expr, $c:ident, $DB:ident => $body:expr) => {
        match $crate::store::Db::conn($db) {
            $crate::store::Conn::Lite($c) => {
                #[allow(dead_code)]
                type $DB = ::sqlx::Sqlite;
                $body
            }
            $crate::store::Conn::Pg($c) => {
                #[allow(dead_code)]
                type $DB = ::sqlx::Postgres;
                $body
            }
        }
    };
    ($db:expr, $c:ident => $body:expr) => {
        on!($db, $c, __Db => $body)
    };
}
pub(crate) use on;

impl Tx {
    pub fn engine(&self) -> Engine {
        match self {
            Self::Lite(_) => Engine::Sqlite,
            Self::Pg(_) => Engine::Postgres,
        }
    }

    /// Commit. (On PostgreSQL, the schema's triggers have already queued the notification
    /// of every change a verify cache may hold; it is delivered with the commit.)
    pub async fn commit(self) -> Result<()> {
        match self {
            Self::Lite(t) => t.commit().await?,
            Self::Pg(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Give up the transaction's changes (or end a read transaction).
    pub async fn rollback(self) -> Result<()> {
        match self {
            Self::Lite(t) => t.rollback().await?,
            Self::Pg(t) => t.rollback().await?,
        }
        Ok(())
    }
}

impl Store {
    /// Open (creating if needed) the database at `location` and bring its schema up to date.
    pub async fn open_at(location: &Location) -> Result<Self> {
        match location {
            Location::SqliteIn(dir) => Self::open(dir).await,
            Location::Postgres(url) => Self::open_pg(url).await,
        }
    }

    /// Open (creating if needed) the SQLite database in `data_dir` and bring its schema up to
    /// date.
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
        let shown = path.display().to_string();
        // Migrations run on a connection of their own with foreign keys off, as SQLite's
        // procedure for rebuilding a table (to change a CHECK) requires: dropping the old
        // table must not cascade to the rows that refer to it. They are checked afterwards.
        let migrating = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.clone().foreign_keys(false))
            .await
            .map_err(|e| open_error(&shown, e))?;
        {
            let mut c = migrating.acquire().await?;
            check_schema_version(&mut *c, &SQLITE_MIGRATOR).await?;
        }
        migrate(&SQLITE_MIGRATOR, &migrating).await?;
        let dangling = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&migrating)
            .await?;
        migrating.close().await;
        if !dangling.is_empty() {
            return Err(Error::state(format!(
                "the database at {shown} has {} rows that refer to rows that do not exist (PRAGMA foreign_key_check); restore it from a backup",
                dangling.len()
            )));
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.clone())
            .await
            .map_err(|e| open_error(&shown, e))?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.read_only(true))
            .await
            .map_err(|e| open_error(&shown, e))?;
        let store = Self {
            inner: Inner::Lite { write, read, path },
        };
        // Entries written before the audit log's hash chain existed are chained once.
        audit::chain_unchained(&store).await?;
        Ok(store)
    }

    async fn open_pg(url: &str) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url).map_err(|e| {
            Error::state(format!(
                "the database URL is not a PostgreSQL URL Tessera can use ({e}); write postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            ))
        })?;
        let shown = format!(
            "postgres://{}@{}:{}/{}",
            opts.get_username(),
            opts.get_host(),
            opts.get_port(),
            opts.get_database().unwrap_or("")
        );
        let pool_options = PgPoolOptions::new()
            .max_connections(16)
            .min_connections(1)
            // A request waits at most this long for a connection; then it fails with a clear
            // error (503 from the API) instead of hanging while the database is away.
            .acquire_timeout(Duration::from_secs(5));
        let pool = match pool_options.clone().connect_with(opts.clone()).await {
            Ok(p) => p,
            // The database does not exist yet: create it when this role may (`tessera init`
            // on a fresh server), then connect again.
            Err(e) if pg_code(&e).as_deref() == Some("3D000") => {
                create_pg_database(&opts)
                    .await
                    .map_err(|e| open_error(&shown, e))?;
                pool_options
                    .connect_with(opts.clone())
                    .await
                    .map_err(|e| open_error(&shown, e))?
            }
            Err(e) => return Err(open_error(&shown, e)),
        };
        {
            let mut c = pool.acquire().await?;
            check_schema_version(&mut *c, &PG_MIGRATOR).await?;
        }
        // Several instances may start at once: sqlx's PostgreSQL migrator takes an advisory
        // lock of its own, so one applies and the others wait.
        migrate(&PG_MIGRATOR, &pool).await?;
        // Writes are serialized anyway: two connections, and a writer may wait its turn.
        let write = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts)
            .await
            .map_err(|e| open_error(&shown, e))?;
        Ok(Self {
            inner: Inner::Pg { pool, write, shown },
        })
    }

    pub fn engine(&self) -> Engine {
        match &self.inner {
            Inner::Lite { .. } => Engine::Sqlite,
            Inner::Pg { .. } => Engine::Postgres,
        }
    }

    /// A connection for reads.
    pub async fn reader(&self) -> Result<Reader> {
        Ok(match &self.inner {
            Inner::Lite { read, .. } => Reader::Lite(read.acquire().await?),
            Inner::Pg { pool, .. } => Reader::Pg(pool.acquire().await?),
        })
    }

    /// A read-only transaction: one consistent view across several statements. Started in a
    /// task of its own, as [`Store::begin`] explains.
    pub async fn read_tx(&self) -> Result<Tx> {
        let started = match &self.inner {
            Inner::Lite { read, .. } => {
                let read = read.clone();
                tokio::spawn(async move { Ok::<_, sqlx::Error>(Tx::Lite(read.begin().await?)) })
            }
            Inner::Pg { pool, .. } => {
                let pool = pool.clone();
                tokio::spawn(async move {
                    Ok(Tx::Pg(
                        pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                            .await?,
                    ))
                })
            }
        };
        started_tx(started).await
    }

    /// Start a write transaction that holds the write lock from its first statement.
    ///
    /// The transaction is started in a task of its own: sqlx 0.8's `begin` is not safe to
    /// cancel, and a request is cancelled wherever it waits when its client goes away. Dropped
    /// while beginning, it left the pooled connection marked inside a transaction (on SQLite
    /// the one writer), and every later write failed until a restart. Now an abandoned
    /// begin completes in its task, and the transaction it made is rolled back as it drops.
    pub async fn begin(&self) -> Result<Tx> {
        let started = match &self.inner {
            Inner::Lite { write, .. } => {
                let write = write.clone();
                tokio::spawn(async move {
                    Ok::<_, sqlx::Error>(Tx::Lite(write.begin_with("BEGIN IMMEDIATE").await?))
                })
            }
            Inner::Pg { write, .. } => {
                let write = write.clone();
                tokio::spawn(async move {
                    let mut tx = write.begin().await?;
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(WRITE_LOCK)
                        .execute(&mut *tx)
                        .await?;
                    Ok(Tx::Pg(tx))
                })
            }
        };
        started_tx(started).await
    }

    /// The PostgreSQL pool (None on SQLite), for the change listener.
    pub(crate) fn pg_pool(&self) -> Option<&PgPool> {
        match &self.inner {
            Inner::Pg { pool, .. } => Some(pool),
            Inner::Lite { .. } => None,
        }
    }

    /// The SQLite file (None on PostgreSQL).
    pub fn path(&self) -> Option<&Path> {
        match &self.inner {
            Inner::Lite { path, .. } => Some(path),
            Inner::Pg { .. } => None,
        }
    }

    /// Where the data lives, for people: the SQLite file, or the PostgreSQL URL without its
    /// password.
    pub fn describe(&self) -> String {
        match &self.inner {
            Inner::Lite { path, .. } => path.display().to_string(),
            Inner::Pg { shown, .. } => shown.clone(),
        }
    }

    /// Is the database answering? (A trivial query, at most `within`.)
    pub async fn ping(&self, within: Duration) -> bool {
        let q = async {
            let mut r = self.reader().await?;
            on!(&mut r, c => sqlx::query("SELECT 1").execute(c).await?.rows_affected());
            Ok::<_, Error>(())
        };
        matches!(tokio::time::timeout(within, q).await, Ok(Ok(())))
    }

    /// Close the pools (checkpointing SQLite's WAL).
    pub async fn close(&self) {
        match &self.inner {
            Inner::Lite { write, read, .. } => {
                read.close().await;
                write.close().await;
            }
            Inner::Pg { pool, write, .. } => {
                pool.close().await;
                write.close().await;
            }
        }
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

/// The SQLSTATE of a database error, if it is one.
fn pg_code(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
}

/// Create the database `opts` names, through the server's `postgres` database. Another
/// process creating it at the same moment is not an error.
async fn create_pg_database(opts: &PgConnectOptions) -> sqlx::Result<()> {
    use sqlx::{ConnectOptions, Connection};
    let name = opts.get_database().unwrap_or_default().to_owned();
    let mut c = opts.clone().database("postgres").connect().await?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    let made = sqlx::query(&format!("CREATE DATABASE {quoted}"))
        .execute(&mut c)
        .await;
    let _ = c.close().await;
    match made {
        Ok(_) => {
            tracing::info!(database = %name, "created the PostgreSQL database");
            Ok(())
        }
        Err(e) if pg_code(&e).as_deref() == Some("42P04") => Ok(()),
        // Two creators at once can also collide on the catalog's unique index.
        Err(e) if pg_code(&e).as_deref() == Some("23505") => Ok(()),
        Err(e) => Err(e),
    }
}

fn open_error(shown: &str, e: sqlx::Error) -> Error {
    tracing::error!(error = %e, "cannot open database");
    Error::state(format!(
        "cannot open the database {shown} ({e}); check that it is a Tessera database, that it is reachable and that you may write it"
    ))
}

/// Refuse a database that a newer Tessera wrote: its schema may mean things we do not know.
async fn check_schema_version(c: &mut impl Db, migrator: &sqlx::migrate::Migrator) -> Result<()> {
    let has_table: bool = on!(c, c, DB => {
        let sql = match <DB as Dialect>::ENGINE {
            Engine::Sqlite => "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
            Engine::Postgres => "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
        };
        let (b,): (bool,) = sqlx::query_as(sql).fetch_one(&mut *c).await?;
        b
    });
    if !has_table {
        return Ok(());
    }
    let newest: Option<i64> = on!(c, c => {
        let (v,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&mut *c)
                .await?;
        v
    });
    let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
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

/// What differs between the engines, for the few statements that are not the same text.
pub(crate) trait Dialect {
    const ENGINE: Engine;
}
impl Dialect for Sqlite {
    const ENGINE: Engine = Engine::Sqlite;
}
impl Dialect for Postgres {
    const ENGINE: Engine = Engine::Postgres;
}

async fn migrate<DB>(migrator: &sqlx::migrate::Migrator, pool: &sqlx::Pool<DB>) -> Result<()>
where
    DB: sqlx::Database,
    <DB as sqlx::Database>::Connection: sqlx::migrate::Migrate,
{
    // Two processes starting on a fresh database may race here; the loser retries, by which
    // time the winner's migrations are recorded.
    for attempt in 0..3 {
        match migrator.run(pool).await {
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

/// For tests: the URL of a PostgreSQL database named `PREFIX_HASH` (the hash of `dir`, so
/// each test's temp dir has its own database and a second open of the same dir finds it) on
/// `server`, else on the server `TESSERA_TEST_POSTGRES` names (`.ci/test`'s second pass); None
/// when neither is set (the tests then use SQLite). Tessera creates the database on first open.
#[doc(hidden)]
pub fn test_database_url(server: Option<&str>, prefix: &str, dir: &Path) -> Option<String> {
    let server = match server {
        Some(s) => s.to_owned(),
        None => std::env::var("TESSERA_TEST_POSTGRES")
            .ok()
            .filter(|s| !s.is_empty())?,
    };
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut h);
    Some(format!(
        "{}/{prefix}_{:016x}",
        server.trim_end_matches('/'),
        h.finish()
    ))
}

/// The transaction a task of its own started ([`Store::begin`], [`Store::read_tx`]).
async fn started_tx(task: tokio::task::JoinHandle<sqlx::Result<Tx>>) -> Result<Tx> {
    Ok(task
        .await
        .map_err(|e| Error::internal("starting a transaction stopped", e))??)
}

/// The store the unit tests use: the SQLite file in `dir`, or a PostgreSQL database (see
/// [`test_database_url`]).
#[cfg(test)]
pub(crate) async fn test_store(dir: &Path) -> Store {
    let location = match test_database_url(None, "tessera_unit", dir) {
        Some(url) => Location::Postgres(url),
        None => Location::SqliteIn(dir.to_owned()),
    };
    Store::open_at(&location).await.expect("store")
}

/// PostgreSQL's change counter (the `change_version` row the schema's triggers bump).
pub(crate) async fn change_version(pool: &PgPool) -> sqlx::Result<i64> {
    let (v,): (i64,) = sqlx::query_as("SELECT version FROM change_version WHERE id = 1")
        .fetch_one(pool)
        .await?;
    Ok(v)
}

/// SQLite's `data_version` on this connection: it changes when another connection commits.
pub(crate) async fn data_version(conn: &mut SqliteConnection) -> sqlx::Result<i64> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A request whose client goes away is dropped wherever it waits, starting a write
    /// included: the writer must stay usable (it once stayed marked inside a transaction,
    /// and every later write failed until a restart).
    #[tokio::test]
    async fn a_read_cancelled_while_it_begins_leaves_the_readers_usable() {
        let dir = tempfile::tempdir().expect("dir");
        let store = test_store(dir.path()).await;
        for round in 0..40 {
            let _ = tokio::time::timeout(Duration::from_micros(round % 4), store.read_tx()).await;
            let mut tx = tokio::time::timeout(Duration::from_secs(10), store.read_tx())
                .await
                .unwrap_or_else(|_| panic!("round {round}: a read could not begin"))
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            meta::get(&mut tx, "probe").await.expect("read");
        }
    }

    #[tokio::test]
    async fn a_write_cancelled_while_it_begins_leaves_the_writer_usable() {
        let dir = tempfile::tempdir().expect("dir");
        let store = test_store(dir.path()).await;
        for round in 0..40 {
            // Dropped after zero, one or a few polls.
            let _ = tokio::time::timeout(Duration::from_micros(round % 4), store.begin()).await;
            let mut tx = tokio::time::timeout(Duration::from_secs(10), store.begin())
                .await
                .unwrap_or_else(|_| panic!("round {round}: a write could not begin"))
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            meta::set(&mut tx, "probe", &round.to_string())
                .await
                .expect("write");
            tx.commit().await.expect("commit");
        }
        let mut tx = store.begin().await.expect("begin");
        assert_eq!(
            meta::get(&mut tx, "probe").await.expect("read").as_deref(),
            Some("39")
        );
    }
}
