//! The requests and app-only shapes that cross IPC. The read models (a token, a usage entry,
//! a user, the policy, the role, kind and status enums, the dashboard, a day's usage count, a
//! client seen and an audit entry) are tessera-core's own types, sent as they are, the same JSON
//! the HTTPS API answers. TypeScript bindings are generated from all of
//! them by ts-rs (`cargo test -p tessera-app` writes `ui/src/bindings/`); CI fails if they drift.
//! Dates cross as RFC 3339 strings in UTC; ids as numbers (they stay far below 2^53).

use serde::{Deserialize, Serialize};
use tessera_core::model::{Role, TokenStatus};
use tessera_core::store::tokens::TokenSort;
use tessera_core::store::usage::UsageEntry;
use tessera_core::store::users::User;
use tessera_core::token::TokenKind;
use tessera_core::TokenInfo;
use ts_rs::TS;

/// The signed-in person.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Me {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub source_group: String,
    pub company: String,
}

impl Me {
    pub fn new(u: &User, company: String) -> Self {
        Self {
            id: i32::try_from(u.id.0).unwrap_or(i32::MAX),
            email: u.email.to_string(),
            name: u.name.clone(),
            role: u.role,
            source_group: u.source_group.clone(),
            company,
        }
    }
}

/// The in-app HTTPS API.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ApiStatus {
    pub listen: String,
    pub running: bool,
    /// Why it is not running (port taken...), for the UI to show.
    pub error: Option<String>,
    /// SHA-256 of the CA certificate Postman and curl must trust.
    pub fingerprint: Option<String>,
    pub base_url: String,
}

impl ApiStatus {
    /// A team server's window uses the server's API, not one of its own.
    pub fn of_team(team: &crate::team::TeamServer) -> Self {
        Self {
            listen: String::new(),
            running: true,
            error: None,
            fingerprint: Some(team.fingerprint().to_owned()),
            base_url: team.base().to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppStatus {
    pub initialised: bool,
    pub company: Option<String>,
    pub me: Option<Me>,
    pub api: ApiStatus,
    /// Set when the window works on a team server instead of this computer.
    pub team: Option<TeamStatus>,
    /// Set when the window is to work on a team server it could not connect to as it
    /// started (its certificate not confirmed yet, or not reachable): nothing else works
    /// until the person confirms the server's certificate.
    pub unconnected: Option<Unconnected>,
    /// Set when the token-hashing key lives in a file because no OS keyring answered.
    pub key_warning: Option<String>,
    /// Set when the audit log's hash chain or its triggers are broken (checked once per start).
    pub audit_problem: Option<String>,
    pub lock_after_minutes: u32,
}

/// The team server a window could not connect to, and why.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Unconnected {
    pub url: String,
    pub problem: String,
}

/// Which store the window works on now, and from the next start.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Connection {
    /// The team server this window works on now (None: this computer).
    pub team_url: Option<String>,
    /// The team server chosen for the next start (None: this computer).
    pub next_team_url: Option<String>,
    /// `TESSERA_SERVER_URL` decides the next start, whatever is chosen in the window.
    pub set_by_environment: bool,
    /// What the next start works on differs from now (another store, or a newly trusted
    /// certificate of this server): restarting Tessera switches.
    pub restart_needed: bool,
}

/// A team server's certificate as it presents it, to compare before trusting it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ServerCertificate {
    pub url: String,
    /// SHA-256 of its certificate authority, as `tessera serve` prints it.
    pub fingerprint: String,
}

/// The team server a window works on.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TeamStatus {
    /// Its address, like `https://tessera.example.com:8443`.
    pub url: String,
    /// The SHA-256 fingerprint of the certificate authority the person confirmed.
    pub fingerprint: String,
    /// Whether it answered just now; when not, nothing can be changed until it is back.
    pub reachable: bool,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SetupRequest {
    pub company: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProfileUpdate {
    pub name: String,
    pub source_group: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PasswordChange {
    pub current: String,
    pub next: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenDetail {
    pub token: TokenInfo,
    pub recent_uses: Vec<UsageEntry>,
    /// While the token is rotating: accepted uses since the rotation, by address and client.
    pub rotation_sources: Vec<tessera_core::store::usage::Source>,
}

/// The expiry picker's answer.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
#[ts(export)]
pub enum ExpiryChoice {
    Days {
        days: u32,
    },
    /// RFC 3339.
    At {
        at: String,
    },
    Never,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CreateTokenRequest {
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub expiry: ExpiryChoice,
    pub idle_days: Option<u32>,
    pub networks: Vec<String>,
    pub rate_limit: Option<u32>,
    /// Admins: a honeytoken (never grants anything, alerts on any use).
    #[serde(default)]
    #[ts(optional)]
    pub honeytoken: Option<bool>,
    /// Alert when used from a new network or client; left out: on for company tokens only.
    #[serde(default)]
    #[ts(optional)]
    pub alert_new_sources: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CreateClientRequest {
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub networks: Vec<String>,
    pub rate_limit: Option<u32>,
    /// The access tokens' lifetime (1 s to 24 h).
    pub token_ttl_seconds: u32,
}

/// The one reply that carries a client secret's plaintext.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RevealedClient {
    pub client: tessera_core::service::ClientInfo,
    pub secret: String,
    pub base_url: String,
}

/// The one reply that carries a token's plaintext.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Revealed {
    pub token: TokenInfo,
    pub secret: String,
    pub base_url: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ScopeView {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    /// Whether a company token may carry it (company tokens act as a VRM admin at most).
    pub company: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CopyReceipt {
    pub clears_in_seconds: u32,
}

// ---- Administration, company tokens and usage review ----

/// A user as tessera-core answers it, plus how many live tokens they hold.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct UserView {
    #[serde(flatten)]
    #[ts(flatten)]
    pub user: User,
    /// User and personal tokens not yet revoked.
    pub live_tokens: i32,
}

impl UserView {
    pub fn new(user: User, live_tokens: i64) -> Self {
        Self {
            user,
            live_tokens: i32::try_from(live_tokens).unwrap_or(i32::MAX),
        }
    }
}

#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NewUserRequest {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    pub source_group: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RoleChange {
    pub user: UserView,
    /// Scopes the user's tokens no longer grant.
    pub scopes_lost: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Deactivation {
    pub user: UserView,
    /// How many user and personal tokens were revoked.
    pub revoked: i32,
}

/// Server-side filters, sort and page for the all-tokens table.
#[derive(Debug, Clone, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct TokenQuery {
    /// Owner e-mail.
    pub owner: Option<String>,
    pub kind: Option<TokenKind>,
    pub status: Option<TokenStatus>,
    pub scope: Option<String>,
    /// Free text over name, description, hint and owner.
    pub text: Option<String>,
    pub expiring_within_days: Option<u32>,
    pub unused_for_days: Option<u32>,
    pub never_used: bool,
    pub presented_in_query: bool,
    pub sort: TokenSort,
    pub descending: bool,
    pub offset: u32,
    /// Rows per page (1 to 1000; default 100).
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenPage {
    pub items: Vec<TokenInfo>,
    /// Matching tokens in all pages.
    pub total: i32,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BulkFailure {
    pub id: i32,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BulkResult {
    pub done: Vec<i32>,
    pub failed: Vec<BulkFailure>,
}

#[derive(Debug, Clone, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// RFC 3339; entries at or after.
    pub since: Option<String>,
    /// RFC 3339; entries before.
    pub until: Option<String>,
    /// Entries with a smaller id (paging back).
    pub before_id: Option<i32>,
    /// 1 to 10000; default 200.
    pub limit: u32,
}

/// What to explain ("Test a token"): a pasted token, or one the person manages by id; the
/// scopes to ask about, the address and the moment (RFC 3339), each optional.
#[derive(Debug, Clone, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct ExplainQuery {
    pub token: Option<String>,
    pub id: Option<i32>,
    pub scopes: Vec<String>,
    pub ip: Option<String>,
    pub at: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ScopeDetail {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub roles: Vec<Role>,
}
