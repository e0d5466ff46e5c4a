//! The error every command returns. It reaches the UI as a tagged union
//! (`{"type": "Invalid", "data": "name: required..."}`); database and keyring detail is
//! logged here and the UI gets a generic `Internal` message.

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, thiserror::Error, Serialize, TS)]
#[serde(tag = "type", content = "data")]
#[ts(export)]
pub enum IpcError {
    /// Not signed in, or the session locked.
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Internal(String),
}

impl From<tessera_core::Error> for IpcError {
    fn from(e: tessera_core::Error) -> Self {
        use tessera_core::Error as E;
        match e {
            E::Invalid(m) => Self::Invalid(m),
            E::NotFound(m) => Self::NotFound(m),
            E::Forbidden(m) => Self::Forbidden(m),
            E::Conflict(m) => Self::Conflict(m),
            E::State(m) => Self::Invalid(m),
            E::Internal { message, source } => {
                tracing::error!(%message, error = %source, "internal error");
                Self::Internal(message)
            }
        }
    }
}

pub type CmdResult<T> = Result<T, IpcError>;
