//! The core's error type. Every message a person can see says what was wrong and what to do;
//! database and keyring detail stays in `Internal` and is logged, never shown as the reason.

/// The input a problem is about, named once here; each front end names it its own way (the
/// CLI as its flag, the API as its JSON member, the app as its form field) and adds its own
/// hints. The serde name (snake_case) is the canonical one; the API uses it as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
pub enum Field {
    // A token and what it is made with.
    /// A token's id (a path segment or argument).
    Id,
    Kind,
    Name,
    Description,
    Owner,
    Scopes,
    /// When a token expires, however it was asked for.
    Expiry,
    ExpiresIn,
    ExpiresAt,
    IdleDays,
    AllowedNetworks,
    RateLimit,
    Status,
    Note,
    AlertNewSources,
    /// How long a rotated token keeps working beside its successor.
    Overlap,
    /// How long a rotated token keeps working after its successor's first use.
    Grace,
    /// A token presented to be checked (verify, copy).
    Token,
    Ip,
    // OAuth clients.
    /// The lifetime of the access tokens a client gets.
    TokenTtl,
    /// One of a client's secrets.
    Secret,
    /// An OAuth client (its number or `client_id`).
    Client,
    // People.
    Email,
    Role,
    Password,
    CurrentPassword,
    SourceGroup,
    Company,
    // Policy.
    MaxLifetimeDays,
    DefaultLifetimeDays,
    DefaultIdleDays,
    MaxRateLimit,
    DefaultRateLimit,
    MaxPersonalTokens,
    ClipboardSeconds,
    UsageRetentionDays,
    // Filters.
    /// The start of a period (entries at or after).
    Since,
    /// The end of a period (entries before).
    Until,
    /// The moment a rule is judged at (`token explain --at`).
    At,
}

impl Field {
    /// The canonical (snake_case) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Kind => "kind",
            Self::Name => "name",
            Self::Description => "description",
            Self::Owner => "owner",
            Self::Scopes => "scopes",
            Self::Expiry => "expiry",
            Self::ExpiresIn => "expires_in",
            Self::ExpiresAt => "expires_at",
            Self::IdleDays => "idle_days",
            Self::AllowedNetworks => "allowed_networks",
            Self::RateLimit => "rate_limit",
            Self::Status => "status",
            Self::Note => "note",
            Self::AlertNewSources => "alert_new_sources",
            Self::Overlap => "overlap",
            Self::Grace => "grace",
            Self::Token => "token",
            Self::Ip => "ip",
            Self::TokenTtl => "token_ttl",
            Self::Secret => "secret",
            Self::Client => "client",
            Self::Email => "email",
            Self::Role => "role",
            Self::Password => "password",
            Self::CurrentPassword => "current_password",
            Self::SourceGroup => "source_group",
            Self::Company => "company",
            Self::MaxLifetimeDays => "max_lifetime_days",
            Self::DefaultLifetimeDays => "default_lifetime_days",
            Self::DefaultIdleDays => "default_idle_days",
            Self::MaxRateLimit => "max_rate_limit",
            Self::DefaultRateLimit => "default_rate_limit",
            Self::MaxPersonalTokens => "max_personal_tokens",
            Self::ClipboardSeconds => "clipboard_seconds",
            Self::UsageRetentionDays => "usage_retention_days",
            Self::Since => "since",
            Self::Until => "until",
            Self::At => "at",
        }
    }

    /// Every field, for front ends' tests that each one has a name there.
    pub const ALL: &'static [Field] = &[
        Self::Id,
        Self::Kind,
        Self::Name,
        Self::Description,
        Self::Owner,
        Self::Scopes,
        Self::Expiry,
        Self::ExpiresIn,
        Self::ExpiresAt,
        Self::IdleDays,
        Self::AllowedNetworks,
        Self::RateLimit,
        Self::Status,
        Self::Note,
        Self::AlertNewSources,
        Self::Overlap,
        Self::Grace,
        Self::Token,
        Self::Ip,
        Self::TokenTtl,
        Self::Secret,
        Self::Client,
        Self::Email,
        Self::Role,
        Self::Password,
        Self::CurrentPassword,
        Self::SourceGroup,
        Self::Company,
        Self::MaxLifetimeDays,
        Self::DefaultLifetimeDays,
        Self::DefaultIdleDays,
        Self::MaxRateLimit,
        Self::DefaultRateLimit,
        Self::MaxPersonalTokens,
        Self::ClipboardSeconds,
        Self::UsageRetentionDays,
        Self::Since,
        Self::Until,
        Self::At,
    ];
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal a person can act on: what was wrong (and what to do), and the input it is about
/// when there is one. The message never names the field itself; front ends do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Option<Field>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What went wrong, in terms a front end (CLI, API, app) can map to its own answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong.
    #[error("{0}")]
    Invalid(Problem),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(Problem),
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(Problem),
    /// The request conflicts with what is stored (a duplicate name or e-mail).
    #[error("{0}")]
    Conflict(Problem),
    /// The installation is not in a state that allows this (newer schema, missing key...).
    #[error("{0}")]
    State(String),
    /// Nothing is set up in this store yet (front ends say how to set it up).
    #[error("Tessera is not set up yet")]
    NotSetUp,
    /// `init` on a store that already has a company (front ends say what to do instead).
    #[error("Tessera is already set up here")]
    AlreadySetUp,
    /// The database is not answering (a PostgreSQL server stopped or unreachable, no free
    /// connection in time): nothing was done, and trying again later may work.
    #[error("{0}")]
    Unavailable(String),
    /// Something broke underneath (database, keyring, file system). The message is generic;
    /// the detail is in `source` for logs.
    #[error("{message}")]
    Internal {
        message: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn problem(field: impl Into<Option<Field>>, message: impl Into<String>) -> Problem {
    Problem {
        field: field.into(),
        message: message.into(),
    }
}

impl Error {
    /// Wrong input: `Error::invalid(Field::RateLimit, "must be ...")`, or `None` when the
    /// problem is not about one input.
    pub fn invalid(field: impl Into<Option<Field>>, msg: impl Into<String>) -> Self {
        Self::Invalid(problem(field, msg))
    }
    pub fn not_found(field: impl Into<Option<Field>>, msg: impl Into<String>) -> Self {
        Self::NotFound(problem(field, msg))
    }
    pub fn forbidden(field: impl Into<Option<Field>>, msg: impl Into<String>) -> Self {
        Self::Forbidden(problem(field, msg))
    }
    pub fn conflict(field: impl Into<Option<Field>>, msg: impl Into<String>) -> Self {
        Self::Conflict(problem(field, msg))
    }
    pub fn state(msg: impl Into<String>) -> Self {
        Self::State(msg.into())
    }
    pub fn internal(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Internal {
            message: message.into(),
            source: source.into(),
        }
    }

    /// A short machine-readable code for APIs and JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid",
            Self::NotFound(_) => "not_found",
            Self::Forbidden(_) => "forbidden",
            Self::Conflict(_) => "conflict",
            Self::State(_) | Self::NotSetUp | Self::AlreadySetUp => "state",
            Self::Unavailable(_) => "unavailable",
            Self::Internal { .. } => "internal",
        }
    }

    /// The input this error is about, if any.
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::Invalid(p) | Self::NotFound(p) | Self::Forbidden(p) | Self::Conflict(p) => {
                p.field
            }
            _ => None,
        }
    }

    /// What to tell a person, without the field's name (front ends add their own).
    pub fn message(&self) -> String {
        match self {
            Self::Invalid(p) | Self::NotFound(p) | Self::Forbidden(p) | Self::Conflict(p) => {
                p.message.clone()
            }
            other => other.to_string(),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if unavailable(&e) {
            tracing::warn!(error = %e, "database unavailable");
            return Self::Unavailable(
                "the database is not answering (stopped, unreachable or overloaded); try again shortly, and check the result if you were changing something".to_owned(),
            );
        }
        let msg = match &e {
            sqlx::Error::Database(db)
                if db.message().contains("locked") || db.message().contains("busy") =>
            {
                "the database stayed busy (another Tessera process held it too long); try again"
            }
            _ => "the database failed; see the log for detail and try again",
        };
        tracing::error!(error = %e, "database error");
        Self::internal(msg, e)
    }
}

/// Errors that say the database server is away rather than that a statement was wrong: no
/// connection in time, a broken connection, or PostgreSQL's connection-exception (08...),
/// shutting-down (57P01-57P03), too-many-connections (53300) and read-only standby (25006)
/// states.
fn unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03" | "53300" | "25006")
        }),
        _ => false,
    }
}
