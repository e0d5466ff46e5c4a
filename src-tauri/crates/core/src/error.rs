//! The core's error type. Every message a person can see says what was wrong and what to do;
//! database and keyring detail stays in `Internal` and is logged, never shown as the reason.

/// What went wrong, in terms a front end (CLI, API, app) can map to its own answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong; the message names the field and what is allowed.
    #[error("{0}")]
    Invalid(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with what is stored (a duplicate name or e-mail).
    #[error("{0}")]
    Conflict(String),
    /// The installation is not in a state that allows this (not initialised, newer schema...).
    #[error("{0}")]
    State(String),
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

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::Forbidden(msg.into())
    }
    pub fn conflict(msg: impl Into<String>) -> Self {
        Self::Conflict(msg.into())
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
            Self::State(_) => "state",
            Self::Internal { .. } => "internal",
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
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
