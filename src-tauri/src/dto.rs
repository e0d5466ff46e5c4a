//! The types that cross IPC. TypeScript bindings are generated from these by ts-rs
//! (`cargo test -p tessera-app` writes `ui/src/bindings/`); CI fails if they drift.
//! Dates cross as RFC 3339 strings in UTC; ids as numbers (they stay far below 2^53).

use serde::{Deserialize, Serialize};
use tessera_core::policy::Policy;
use tessera_core::store::usage::UsageEntry;
use tessera_core::store::users::User;
use tessera_core::TokenInfo;
use time::OffsetDateTime;
use ts_rs::TS;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Role {
    Admin,
    VrmAdmin,
    User,
}

impl From<tessera_core::model::Role> for Role {
    fn from(r: tessera_core::model::Role) -> Self {
        use tessera_core::model::Role as R;
        match r {
            R::Admin => Self::Admin,
            R::VrmAdmin => Self::VrmAdmin,
            R::User => Self::User,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TokenKind {
    User,
    Personal,
    Company,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TokenStatus {
    Active,
    Deactivated,
    Revoked,
    Expired,
}

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
            role: u.role.into(),
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

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppStatus {
    pub initialised: bool,
    pub company: Option<String>,
    pub me: Option<Me>,
    pub api: ApiStatus,
    /// Set when the token-hashing key lives in a file because no OS keyring answered.
    pub key_warning: Option<String>,
    /// Set when the audit log's hash chain or its triggers are broken (checked once per start).
    pub audit_problem: Option<String>,
    pub lock_after_minutes: u32,
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

/// A token's metadata; never its secret.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenView {
    pub id: i32,
    pub kind: TokenKind,
    pub name: String,
    pub description: String,
    pub hint: String,
    pub owner_email: Option<String>,
    pub owner_name: Option<String>,
    pub created_by: String,
    pub scopes: Vec<String>,
    pub status: TokenStatus,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub idle_days: Option<u32>,
    pub idle_expires_at: Option<String>,
    pub allowed_networks: Vec<String>,
    pub rate_limit: u32,
    pub status_changed_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_used_ip: Option<String>,
    pub last_used_agent: Option<String>,
    pub use_count: i32,
    pub refused_count: i32,
}

impl From<TokenInfo> for TokenView {
    fn from(t: TokenInfo) -> Self {
        use tessera_core::model::TokenStatus as S;
        use tessera_core::token::TokenKind as K;
        Self {
            id: i32::try_from(t.id.0).unwrap_or(i32::MAX),
            kind: match t.kind {
                K::User => TokenKind::User,
                K::Personal => TokenKind::Personal,
                K::Company => TokenKind::Company,
            },
            name: t.name,
            description: t.description,
            hint: t.hint,
            owner_email: t.owner.as_ref().map(|o| o.email.clone()),
            owner_name: t.owner.map(|o| o.name),
            created_by: t.created_by,
            scopes: t.scopes,
            status: match t.status {
                S::Active => TokenStatus::Active,
                S::Deactivated => TokenStatus::Deactivated,
                S::Revoked => TokenStatus::Revoked,
                S::Expired => TokenStatus::Expired,
            },
            created_at: rfc3339(t.created_at),
            expires_at: t.expires_at.map(rfc3339),
            idle_days: t.idle_days,
            idle_expires_at: t.idle_expires_at.map(rfc3339),
            allowed_networks: t.allowed_networks,
            rate_limit: t.rate_limit,
            status_changed_at: t.status_changed_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
            last_used_ip: t.last_used_ip,
            last_used_agent: t.last_used_agent,
            use_count: i32::try_from(t.use_count).unwrap_or(i32::MAX),
            refused_count: i32::try_from(t.refused_count).unwrap_or(i32::MAX),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UsageView {
    pub at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub outcome: String,
    pub via: String,
    /// Identical presentations in the same second that this row stands for (usually 1).
    pub uses: i32,
}

impl From<UsageEntry> for UsageView {
    fn from(u: UsageEntry) -> Self {
        Self {
            at: rfc3339(u.at),
            ip: u.ip,
            user_agent: u.user_agent,
            method: u.method,
            path: u.path,
            status: i32::try_from(u.status).unwrap_or(0),
            outcome: u.outcome,
            via: u.via,
            uses: i32::try_from(u.uses).unwrap_or(i32::MAX),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenDetail {
    pub token: TokenView,
    pub recent_uses: Vec<UsageView>,
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
}

/// The one reply that carries a token's plaintext.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Revealed {
    pub token: TokenView,
    pub secret: String,
    pub base_url: String,
}

#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StatusAction {
    Revoke,
    Deactivate,
    Activate,
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
pub struct PolicyView {
    pub max_lifetime_days: u32,
    pub expiry_required: bool,
    pub default_lifetime_days: u32,
    pub default_idle_days: u32,
    pub max_rate_limit: u32,
    pub default_rate_limit: u32,
    pub query_param_tokens: bool,
    pub clipboard_seconds: u32,
}

impl From<Policy> for PolicyView {
    fn from(p: Policy) -> Self {
        Self {
            max_lifetime_days: p.max_lifetime_days,
            expiry_required: p.expiry_required,
            default_lifetime_days: p.default_lifetime_days,
            default_idle_days: p.default_idle_days,
            max_rate_limit: p.max_rate_limit,
            default_rate_limit: p.default_rate_limit,
            query_param_tokens: p.query_param_tokens,
            clipboard_seconds: p.clipboard_seconds,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CopyReceipt {
    pub clears_in_seconds: u32,
}

// ---- Administration, company tokens and usage review ----

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UserView {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub source_group: String,
    pub created_at: String,
    pub deactivated_at: Option<String>,
    /// User and personal tokens not yet revoked.
    pub live_tokens: i32,
}

impl UserView {
    pub fn new(u: &User, live_tokens: i64) -> Self {
        Self {
            id: i32::try_from(u.id.0).unwrap_or(i32::MAX),
            email: u.email.to_string(),
            name: u.name.clone(),
            role: u.role.into(),
            active: u.active,
            source_group: u.source_group.clone(),
            created_at: rfc3339(u.created_at),
            deactivated_at: u.deactivated_at.map(rfc3339),
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

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum TokenSortKey {
    #[default]
    Id,
    Name,
    Kind,
    Owner,
    Status,
    Created,
    Expires,
    LastUsed,
    Uses,
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
    pub sort: TokenSortKey,
    pub descending: bool,
    pub offset: u32,
    /// Rows per page (1 to 1000; default 100).
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenPage {
    pub items: Vec<TokenView>,
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

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DayCountView {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub accepted: i32,
    pub refused: i32,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ClientView {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub uses: i32,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UsageReport {
    pub token: TokenView,
    /// One entry per day, oldest first, zero days included.
    pub series: Vec<DayCountView>,
    pub recent: Vec<UsageView>,
    pub clients: Vec<ClientView>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DashboardView {
    pub expiring_in_7_days: i32,
    pub expiring_in_30_days: i32,
    pub never_used: i32,
    pub unused_for_30_days: i32,
    pub refused_last_24_hours: i32,
    pub presented_in_query: i32,
    pub active: i32,
    /// Usage events the API could not record (its queue was full), since installation.
    pub usage_dropped: i32,
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

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditView {
    pub id: i32,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// JSON text.
    pub details: String,
}

/// Every policy value an admin can set.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PolicySettings {
    pub max_lifetime_days: u32,
    pub expiry_required: bool,
    pub default_lifetime_days: u32,
    pub default_idle_days: u32,
    pub max_rate_limit: u32,
    pub default_rate_limit: u32,
    pub query_param_tokens: bool,
    pub max_personal_tokens: u32,
    pub clipboard_seconds: u32,
    pub usage_retention_days: u32,
}

impl From<Policy> for PolicySettings {
    fn from(p: Policy) -> Self {
        Self {
            max_lifetime_days: p.max_lifetime_days,
            expiry_required: p.expiry_required,
            default_lifetime_days: p.default_lifetime_days,
            default_idle_days: p.default_idle_days,
            max_rate_limit: p.max_rate_limit,
            default_rate_limit: p.default_rate_limit,
            query_param_tokens: p.query_param_tokens,
            max_personal_tokens: p.max_personal_tokens,
            clipboard_seconds: p.clipboard_seconds,
            usage_retention_days: p.usage_retention_days,
        }
    }
}

impl From<PolicySettings> for Policy {
    fn from(p: PolicySettings) -> Self {
        Self {
            max_lifetime_days: p.max_lifetime_days,
            expiry_required: p.expiry_required,
            default_lifetime_days: p.default_lifetime_days,
            default_idle_days: p.default_idle_days,
            max_rate_limit: p.max_rate_limit,
            default_rate_limit: p.default_rate_limit,
            query_param_tokens: p.query_param_tokens,
            max_personal_tokens: p.max_personal_tokens,
            clipboard_seconds: p.clipboard_seconds,
            usage_retention_days: p.usage_retention_days,
        }
    }
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
