//! The `users` table.

use sqlx::SqliteConnection;

use crate::error::Result;
use crate::model::{Email, Role, UserId};
use crate::store::from_ts;

#[derive(Debug, Clone, sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    active: bool,
    source_group: String,
    created_at: i64,
    deactivated_at: Option<i64>,
}

/// A person who can sign in and own tokens.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub source_group: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "bindings", ts(type = "string | null"))]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::date_time_or_null")
    )]
    pub deactivated_at: Option<time::OffsetDateTime>,
}

impl TryFrom<UserRow> for User {
    type Error = crate::Error;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(Self {
            id: UserId(r.id),
            email: r.email.parse()?,
            name: r.name,
            role: r.role.parse()?,
            active: r.active,
            source_group: r.source_group,
            created_at: from_ts(r.created_at),
            deactivated_at: r.deactivated_at.map(from_ts),
        })
    }
}

const COLS: &str = "id, email, name, role, active, source_group, created_at, deactivated_at";

pub async fn find_by_email(conn: &mut SqliteConnection, email: &Email) -> Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {COLS} FROM users WHERE email = ?"))
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?;
    row.map(User::try_from).transpose()
}

pub async fn find(conn: &mut SqliteConnection, id: UserId) -> Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {COLS} FROM users WHERE id = ?"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?;
    row.map(User::try_from).transpose()
}

pub async fn password_hash(conn: &mut SqliteConnection, id: UserId) -> Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT password_hash FROM users WHERE id = ?")
        .bind(id.0)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.0))
}

pub async fn list(conn: &mut SqliteConnection) -> Result<Vec<User>> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!("SELECT {COLS} FROM users ORDER BY id"))
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(User::try_from).collect()
}

pub async fn count(conn: &mut SqliteConnection) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(conn)
        .await?;
    Ok(n)
}

/// The id SQLite gives the next user inserted: one past the largest (no AUTOINCREMENT).
pub async fn next_id(conn: &mut SqliteConnection) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as("SELECT IFNULL(MAX(id), 0) + 1 FROM users")
        .fetch_one(conn)
        .await?;
    Ok(id)
}

pub struct NewUserRow<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    pub source_group: &'a str,
    pub now: i64,
    /// False only for the deactivated people `tessera dev seed` makes.
    pub active: bool,
}

pub async fn insert(conn: &mut SqliteConnection, u: NewUserRow<'_>) -> Result<UserId> {
    let id = sqlx::query(
        "INSERT INTO users (email, name, role, password_hash, source_group, created_at, active) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(u.email.as_str())
    .bind(u.name)
    .bind(u.role.as_str())
    .bind(u.password_hash)
    .bind(u.source_group)
    .bind(u.now)
    .bind(u.active)
    .execute(conn)
    .await?
    .last_insert_rowid();
    Ok(UserId(id))
}

pub async fn update_role(conn: &mut SqliteConnection, id: UserId, role: Role) -> Result<()> {
    sqlx::query("UPDATE users SET role = ? WHERE id = ?")
        .bind(role.as_str())
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn update_active(
    conn: &mut SqliteConnection,
    id: UserId,
    active: bool,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE users SET active = ?, deactivated_at = CASE WHEN ? THEN NULL ELSE ? END WHERE id = ?")
        .bind(active)
        .bind(active)
        .bind(now)
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn update_password(conn: &mut SqliteConnection, id: UserId, phc: &str) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(phc)
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn update_profile(
    conn: &mut SqliteConnection,
    id: UserId,
    name: &str,
    source_group: &str,
) -> Result<()> {
    sqlx::query("UPDATE users SET name = ?, source_group = ? WHERE id = ?")
        .bind(name)
        .bind(source_group)
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn count_admins(conn: &mut SqliteConnection) -> Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")
            .fetch_one(conn)
            .await?;
    Ok(n)
}
