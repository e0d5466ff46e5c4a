//! tessera-core: Tessera's domain and store.
//!
//! It owns users, roles, scopes, tokens (format, keyed hashing, status), policy, the audit
//! log, usage events and the verification decision, and the SQLite store under them. It knows
//! nothing of terminals, HTTP or windows: the CLI, the HTTPS API and the desktop app are thin
//! front ends over [`service::Tessera`].

pub mod authority;
mod cache;
pub mod error;
pub mod keys;
pub mod model;
pub mod password;
pub mod policy;
pub mod scan;
#[cfg(feature = "schema")]
pub mod schema;
pub mod secret_file;
pub mod seed;
pub mod service;
pub mod store;
pub mod text;
pub mod token;
pub mod verify;

pub use error::{Error, Result};
pub use service::{
    Actor, CreatedToken, NewSourceAlert, NewToken, NewUser, OpenOptions, StatusAction, Tessera,
    TokenInfo,
};
pub use store::audit::{AuditCheck, AuditProblem};

/// The read-only views for review (the dashboard, usage over time, the clients that presented
/// a token), reported by [`service::Tessera`].
pub mod reports {
    pub use crate::service::{ClientSeen, Dashboard, DayCount, UsageReport};
}
