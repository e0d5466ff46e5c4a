//! The error every command returns. It reaches the UI as
//! `{"type": "Invalid", "field": "rate_limit", "message": "..."}`: the kind, the input it is
//! about (the core's [`Field`], or null) and what to do. The UI puts the message beside that
//! field. Database and keyring detail is logged here and the UI gets a generic `Internal` message.

use serde::Serialize;
use tessera_core::error::{Field, Problem};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub enum IpcErrorKind {
    /// Not signed in, or the session locked.
    Unauthenticated,
    NotFound,
    Forbidden,
    Invalid,
    Conflict,
    /// The team server cannot be reached (or its database is away): nothing was changed.
    Unavailable,
    Internal,
}

#[derive(Debug, thiserror::Error, Serialize, TS)]
#[error("{message}")]
#[ts(export)]
pub struct IpcError {
    #[serde(rename = "type")]
    pub kind: IpcErrorKind,
    pub field: Option<Field>,
    pub message: String,
}

impl IpcError {
    fn new(kind: IpcErrorKind, field: Option<Field>, message: impl Into<String>) -> Self {
        Self {
            kind,
            field,
            message: message.into(),
        }
    }
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(IpcErrorKind::Unauthenticated, None, message)
    }
    pub fn invalid(field: impl Into<Option<Field>>, message: impl Into<String>) -> Self {
        Self::new(IpcErrorKind::Invalid, field.into(), message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(IpcErrorKind::Forbidden, None, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(IpcErrorKind::Internal, None, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(IpcErrorKind::Unavailable, None, message)
    }
    pub fn new_kind(kind: IpcErrorKind, message: impl Into<String>) -> Self {
        Self::new(kind, None, message)
    }
}

impl From<tessera_core::Error> for IpcError {
    fn from(e: tessera_core::Error) -> Self {
        use tessera_core::Error as E;
        let with = |kind, p: Problem| Self::new(kind, p.field, p.message);
        match e {
            E::Invalid(p) => with(IpcErrorKind::Invalid, p),
            E::NotFound(p) => with(IpcErrorKind::NotFound, p),
            E::Forbidden(p) => with(IpcErrorKind::Forbidden, p),
            E::Conflict(p) => with(IpcErrorKind::Conflict, p),
            E::State(m) => Self::new(IpcErrorKind::Invalid, None, m),
            E::NotSetUp => Self::new(
                IpcErrorKind::Invalid,
                None,
                "Tessera is not set up yet; restart the app to set it up",
            ),
            E::AlreadySetUp => Self::new(
                IpcErrorKind::Invalid,
                None,
                "Tessera is already set up on this computer; sign in instead",
            ),
            E::Unavailable(m) => Self::internal(m),
            E::Internal { message, source } => {
                tracing::error!(%message, error = %source, "internal error");
                Self::internal(message)
            }
        }
    }
}

pub type CmdResult<T> = Result<T, IpcError>;
