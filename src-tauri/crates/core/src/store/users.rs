//! The `users` table.

use crate::error::Result;
use crate::model::{Email, Role, UserId};
use crate::store::{from_ts, on, Db};

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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

pub async fn find_by_email(db: &mut impl Db, email: &Email) -> Result<Option<User>> {
    let sql = format!("SELECT {COLS} FROM users WHERE email = $1");
    let row: Option<UserRow> = on!(db, c => sqlx::query_as(&sql)
        .bind(email.as_str())
        .fetch_optional(c)
        .await?);
    row.map(User::try_from).transpose()
}

pub async fn find(db: &mut impl Db, id: UserId) -> Result<Option<User>> {
    let sql = format!("SELECT {COLS} FROM users WHERE id = $1");
    let row: Option<UserRow> =
        on!(db, c => sqlx::query_as(&sql).bind(id.0).fetch_optional(c).await?);
    row.map(User::try_from).transpose()
}

pub async fn password_hash(db: &mut impl Db, id: UserId) -> Result<Option<String>> {
    let row: Option<(String,)> = on!(db, c => sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
        .bind(id.0)
        .fetch_optional(c)
        .await?);
    Ok(row.map(|r| r.0))
}

pub async fn list(db: &mut impl Db) -> Result<Vec<User>> {
    let sql = format!("SELECT {COLS} FROM users ORDER BY id");
    let rows: Vec<UserRow> = on!(db, c => sqlx::query_as(&sql).fetch_all(c).await?);
    rows.into_iter().map(User::try_from).collect()
}

pub async fn count(db: &mut impl Db) -> Result<i64> {
    let (n,): (i64,) =
        on!(db, c => sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(c).await?);
    Ok(n)
}

/// The id the next user inserted gets: one past the largest (SQLite gives that; on
/// PostgreSQL `insert` keeps the identity sequence there).
pub async fn next_id(db: &mut impl Db) -> Result<i64> {
    let (id,): (i64,) = on!(db, c => sqlx::query_as("SELECT COALESCE(MAX(id), 0) + 1 FROM users")
        .fetch_one(c)
        .await?);
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

pub async fn insert(db: &mut impl Db, u: NewUserRow<'_>) -> Result<UserId> {
    // The id is given explicitly, one past the largest, as SQLite would choose it, so both
    // engines number users alike.
    let (id,): (i64,) = on!(db, c => sqlx::query_as(
        "INSERT INTO users (id, email, name, role, password_hash, source_group, created_at, active) \
         VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM users), $1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(u.email.as_str())
    .bind(u.name)
    .bind(u.role.as_str())
    .bind(u.password_hash)
    .bind(u.source_group)
    .bind(u.now)
    .bind(u.active)
    .fetch_one(c)
    .await?);
    Ok(UserId(id))
}

pub async fn update_role(db: &mut impl Db, id: UserId, role: Role) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(id.0)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update_active(db: &mut impl Db, id: UserId, active: bool, now: i64) -> Result<()> {
    on!(db, c => sqlx::query(
        "UPDATE users SET active = $1, deactivated_at = CASE WHEN $1 THEN NULL ELSE $2 END WHERE id = $3",
    )
    .bind(active)
    .bind(now)
    .bind(id.0)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn update_password(db: &mut impl Db, id: UserId, phc: &str) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(phc)
        .bind(id.0)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn update_profile(
    db: &mut impl Db,
    id: UserId,
    name: &str,
    source_group: &str,
) -> Result<()> {
    on!(db, c => sqlx::query("UPDATE users SET name = $1, source_group = $2 WHERE id = $3")
        .bind(name)
        .bind(source_group)
        .bind(id.0)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn count_admins(db: &mut impl Db) -> Result<i64> {
    let (n,): (i64,) = on!(db, c => sqlx::query_as(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = TRUE",
    )
    .fetch_one(c)
    .await?);
    Ok(n)
}
