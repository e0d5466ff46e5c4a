//! The operations people and programs perform, with their rights checks and audit entries.
//! Every front end (CLI, HTTPS API, desktop app) calls these and nothing below them, so a
//! rule enforced here is enforced everywhere. Rows are read and written through
//! [`crate::store`]; each multi-row rule runs in one `BEGIN IMMEDIATE` transaction.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::authority::{self, TokenLimits};
use crate::error::{Error, Result};
use crate::keys::{self, KeyLocation, KeyStoreChoice, TokenHasher};
use crate::model::{
    builtin_scope, scopes_from_text, scopes_to_text, Email, Networks, Role, Scope, Scopes, TokenId,
    TokenStatus, UserId, BUILTIN_SCOPES,
};
use crate::password::{self, Password};
use crate::policy::{ExpiryRequest, Policy};
use crate::store::audit::{AuditEntry, AuditFilter};
use crate::store::tokens::{TokenFilter, TokenRow, Visibility};
use crate::store::usage::{UsageEntry, UseEvent};
use crate::store::users::User;
use crate::store::{self, from_ts, meta, ts, Store};
use crate::text::clip;
use crate::token::{TokenKind, TokenSecret};
use crate::verify::{self, Decision, Reason};

const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 1000;

/// Who is acting.
#[derive(Debug, Clone)]
pub enum Actor {
    /// The local operator: the `tessera` CLI without `--as`. Full rights; audited as such.
    Operator,
    /// A signed-in person (the app, or the CLI's `--as`).
    User(User),
    /// Whatever acts through a presented token: its owner's current rights (a VRM admin's
    /// for a company token), narrowed to the token's own limits ([`crate::authority`]).
    Token(Box<ViaToken>),
}

/// An actor acting through a token.
#[derive(Debug, Clone)]
pub struct ViaToken {
    /// The owner of a user or personal token, as of this request; None for company tokens.
    pub owner: Option<User>,
    pub limits: TokenLimits,
}

impl Actor {
    /// Acting through a verified token; `owner` is its owner as read for this request.
    pub fn via_token(token: &crate::verify::VerifiedToken, owner: Option<User>) -> Self {
        Self::Token(Box::new(ViaToken {
            owner,
            limits: TokenLimits::of(token),
        }))
    }

    /// How the audit log names this actor: an e-mail, `operator`, `company token NAME (HINT)`,
    /// or `EMAIL via token NAME (HINT)`.
    pub fn label(&self) -> String {
        match self {
            Self::Operator => "operator".to_owned(),
            Self::User(u) => u.email.to_string(),
            Self::Token(t) => match &t.owner {
                Some(u) => format!("{} via {}", u.email, t.limits.label()),
                None => t.limits.label(),
            },
        }
    }

    /// The person acting, directly or through their token.
    pub fn person(&self) -> Option<&User> {
        match self {
            Self::User(u) => Some(u),
            Self::Token(t) => t.owner.as_ref(),
            Self::Operator => None,
        }
    }

    fn user_id(&self) -> Option<UserId> {
        self.person().map(|u| u.id)
    }

    /// The role whose rights apply: a company token's is a VRM admin's; None for the operator.
    pub fn role(&self) -> Option<Role> {
        match self {
            Self::Operator => None,
            Self::User(u) => Some(u.role),
            Self::Token(t) => Some(t.owner.as_ref().map_or(Role::VrmAdmin, |u| u.role)),
        }
    }

    /// The limits of the token acting, if any.
    pub fn through(&self) -> Option<&TokenLimits> {
        match self {
            Self::Token(t) => Some(&t.limits),
            _ => None,
        }
    }

    fn is_admin(&self) -> bool {
        self.role().is_none_or(|r| r == Role::Admin)
    }

    fn manages_company_tokens(&self) -> bool {
        self.role().is_none_or(Role::manages_company_tokens)
    }

    pub(crate) fn require_admin(&self, what: &str) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::forbidden(format!("only an admin may {what}")))
        }
    }

    /// Refuse giving a person `role` (or bringing back a person who has it) unless acting
    /// with every privileged scope that role allows: a token cannot make someone an admin
    /// without holding an admin's scopes itself.
    fn require_role_grantable(&self, role: Role, doing: &str) -> Result<()> {
        match self.through() {
            Some(t) => t.require_scopes(&authority::privileged_scopes(role), doing),
            None => Ok(()),
        }
    }
}

/// How to open Tessera.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub data_dir: PathBuf,
    pub keystore: KeyStoreChoice,
}

/// The owner of a token, for display.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerRef {
    pub id: UserId,
    pub email: String,
    pub name: String,
}

/// Everything about a token except its secret.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: TokenId,
    pub kind: TokenKind,
    pub name: String,
    pub description: String,
    pub hint: String,
    pub owner: Option<OwnerRef>,
    /// The creator's e-mail, `operator`, or how the audit log names a token that created it.
    pub created_by: String,
    pub scopes: Vec<String>,
    pub status: TokenStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub idle_days: Option<u32>,
    /// When idle expiry will strike if the token stays unused.
    #[serde(with = "time::serde::rfc3339::option")]
    pub idle_expires_at: Option<OffsetDateTime>,
    pub allowed_networks: Vec<String>,
    pub rate_limit: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub status_changed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    pub last_used_ip: Option<String>,
    pub last_used_agent: Option<String>,
    pub use_count: i64,
    pub refused_count: i64,
}

impl TokenInfo {
    pub(crate) fn from_row(r: TokenRow, now: OffsetDateTime) -> Self {
        let idle_expires_at = r
            .idle_days
            .map(|d| from_ts(r.idle_anchor_at.saturating_add(d.saturating_mul(86_400))));
        let expired = r.expires_at.is_some_and(|e| e <= now.unix_timestamp())
            || idle_expires_at.is_some_and(|t| t <= now);
        let status = match r.status.as_str() {
            "revoked" => TokenStatus::Revoked,
            "deactivated" => TokenStatus::Deactivated,
            _ if expired => TokenStatus::Expired,
            _ => TokenStatus::Active,
        };
        Self {
            id: TokenId(r.id),
            kind: r.kind.parse().unwrap_or(TokenKind::Personal),
            name: r.name,
            description: r.description,
            hint: r.hint,
            owner: match (r.owner_id, r.owner_email, r.owner_name) {
                (Some(id), Some(email), Some(name)) => Some(OwnerRef {
                    id: UserId(id),
                    email,
                    name,
                }),
                _ => None,
            },
            created_by: r
                .created_by_label
                .or(r.creator_email)
                .unwrap_or_else(|| "operator".to_owned()),
            scopes: scopes_from_text(&r.scopes)
                .into_iter()
                .map(|s| s.to_string())
                .collect(),
            status,
            created_at: from_ts(r.created_at),
            expires_at: r.expires_at.map(from_ts),
            idle_days: r.idle_days.and_then(|d| u32::try_from(d).ok()),
            idle_expires_at,
            allowed_networks: Networks::from_text(&r.allowed_networks)
                .as_slice()
                .iter()
                .map(ToString::to_string)
                .collect(),
            rate_limit: u32::try_from(r.rate_limit).unwrap_or(1),
            status_changed_at: r.status_changed_at.map(from_ts),
            last_used_at: r.last_used_at.map(from_ts),
            last_used_ip: r.last_used_ip,
            last_used_agent: r.last_used_agent,
            use_count: r.use_count,
            refused_count: r.refused_count,
        }
    }
}

/// The reply to "create": the metadata and, this once, the plaintext.
#[derive(Debug)]
pub struct CreatedToken {
    pub info: TokenInfo,
    pub token: TokenSecret,
    /// Set when this replaced (revoked) a previous user API token.
    pub replaced: Option<TokenId>,
}

/// A request to create a token.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub kind: TokenKind,
    /// Owner e-mail for user and personal tokens; None means the actor.
    pub owner: Option<Email>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Empty means `me:read`.
    pub scopes: Vec<Scope>,
    pub expiry: ExpiryRequest,
    pub idle_days: Option<u32>,
    pub networks: Networks,
    pub rate_limit: Option<u32>,
}

/// A request to add a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password: Password,
    pub source_group: String,
}

/// A scope with its description, for pickers and listings.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeInfo {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    /// Roles that may hold it.
    pub roles: Vec<Role>,
}

/// What can be done to a token's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    Revoke,
    Deactivate,
    Activate,
}

impl StatusAction {
    fn word(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::Deactivate => "deactivate",
            Self::Activate => "activate",
        }
    }
}

/// The Tessera core, opened on one data dir.
#[derive(Clone, Debug)]
pub struct Tessera {
    pub(crate) store: Store,
    cache: std::sync::Arc<crate::cache::VerifyCache>,
    hasher: TokenHasher,
    key_location: KeyLocation,
    data_dir: PathBuf,
}

impl Tessera {
    /// Open the data dir: database, migrations, and the token-hashing key.
    pub async fn open(opts: OpenOptions) -> Result<Self> {
        let store = Store::open(&opts.data_dir).await?;
        let (install_id, check) = {
            let mut tx = store.begin().await?;
            let mut id = [0u8; 16];
            rand::fill(&mut id);
            let install_id = meta::get_or_insert(&mut tx, "install_id", &hex::encode(id)).await?;
            let check = meta::get(&mut tx, "key_check").await?;
            tx.commit().await?;
            (install_id, check)
        };
        let dir = opts.data_dir.clone();
        let choice = opts.keystore;
        let expected = check.clone();
        let (hasher, key_location) = tokio::task::spawn_blocking(move || {
            keys::load_or_create(choice, &dir, &install_id, expected.as_deref())
        })
        .await
        .map_err(|e| Error::internal("loading the key stopped", e))??;
        if check.is_none() {
            let mut tx = store.begin().await?;
            meta::set(&mut tx, "key_check", &hasher.check_value()).await?;
            tx.commit().await?;
        }
        Ok(Self {
            store,
            cache: Default::default(),
            hasher,
            key_location,
            data_dir: opts.data_dir,
        })
    }

    /// Commit a write transaction and invalidate cached verification rows.
    pub(crate) async fn commit(&self, tx: sqlx::Transaction<'static, sqlx::Sqlite>) -> Result<()> {
        tx.commit().await?;
        self.cache.bump();
        Ok(())
    }

    /// Cache verification results in memory (for servers). In-process writes invalidate the
    /// cache at once; writes by other processes within `external_poll` (SQLite's
    /// `data_version`, polled on a connection of its own).
    pub fn enable_verify_cache(&self, external_poll: std::time::Duration) {
        if self.cache.enable() {
            crate::cache::watch(
                self.cache.clone(),
                self.store.path().to_owned(),
                external_poll,
            );
        }
    }

    /// How many verifications the cache answered since this store was opened.
    pub fn verify_cache_hits(&self) -> u64 {
        self.cache.hits()
    }

    pub fn key_location(&self) -> &KeyLocation {
        &self.key_location
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn close(&self) {
        self.store.close().await;
    }

    pub(crate) async fn reader(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
        Ok(self.store.reader().acquire().await?)
    }

    /// The company name, or None before `init`.
    pub async fn company(&self) -> Result<Option<String>> {
        meta::company_name(&mut *self.reader().await?).await
    }

    async fn require_init(&self) -> Result<()> {
        if self.company().await?.is_none() {
            return Err(Error::state(
                "Tessera is not set up yet; run `tessera init --company NAME --admin-email EMAIL --admin-name NAME` first",
            ));
        }
        Ok(())
    }

    pub async fn policy(&self) -> Result<Policy> {
        let raw = meta::get(&mut *self.reader().await?, "policy").await?;
        Ok(raw
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default())
    }

    /// Replace the policy (admin).
    pub async fn set_policy(&self, actor: &Actor, p: Policy) -> Result<Policy> {
        actor.require_admin("change the policy")?;
        if actor.through().is_some() {
            return Err(Error::forbidden(
                "policy: the policy is changed by a signed-in admin in the app or with the CLI, not through a token",
            ));
        }
        p.validate()?;
        let old = self.policy().await?;
        let mut tx = self.store.begin().await?;
        let text =
            serde_json::to_string(&p).map_err(|e| Error::internal("cannot encode policy", e))?;
        meta::set(&mut tx, "policy", &text).await?;
        store::audit::append(
            &mut tx,
            now_ts(),
            &actor.label(),
            "policy.change",
            "policy",
            &json!({"from": old, "to": p}),
        )
        .await?;
        self.commit(tx).await?;
        Ok(p)
    }

    /// First run: create the company and its first admin.
    pub async fn init(&self, company: &str, admin: NewUser) -> Result<User> {
        let company = company.trim();
        check_text("company", company, 1, MAX_NAME)?;
        check_text("name", admin.name.trim(), 1, MAX_NAME)?;
        if admin.role != Role::Admin {
            return Err(Error::invalid("role: the first user must be an admin"));
        }
        let phc = password::hash(admin.password.clone()).await?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        if meta::company_name(&mut tx).await?.is_some() {
            return Err(Error::state(
                "Tessera is already set up in this data dir; sign in, or use another --data-dir",
            ));
        }
        meta::insert_company(&mut tx, company, now).await?;
        meta::set(
            &mut tx,
            "policy",
            &serde_json::to_string(&Policy::default()).unwrap_or_default(),
        )
        .await?;
        for b in BUILTIN_SCOPES {
            sqlx::query(
                "INSERT OR IGNORE INTO scopes (name, description, created_at) VALUES (?, ?, ?)",
            )
            .bind(b.name)
            .bind(b.description)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let id = store::users::insert(
            &mut tx,
            store::users::NewUserRow {
                email: &admin.email,
                name: admin.name.trim(),
                role: Role::Admin,
                password_hash: &phc,
                source_group: admin.source_group.trim(),
                now,
            },
        )
        .await?;
        store::audit::append(
            &mut tx,
            now,
            "operator",
            "company.init",
            &format!("company:{company}"),
            &json!({}),
        )
        .await?;
        store::audit::append(
            &mut tx,
            now,
            "operator",
            "user.create",
            &format!("user:{}", admin.email),
            &json!({"role": "admin"}),
        )
        .await?;
        self.commit(tx).await?;
        self.user(id).await
    }

    /// A user by id.
    pub async fn user(&self, id: UserId) -> Result<User> {
        store::users::find(&mut *self.reader().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("the user no longer exists"))
    }

    /// Find a user by e-mail.
    pub async fn find_user(&self, email: &Email) -> Result<User> {
        store::users::find_by_email(&mut *self.reader().await?, email)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "user: no user with e-mail {email}; see `tessera user list`"
                ))
            })
    }

    /// Resolve `--as EMAIL` (None: the operator). A deactivated user cannot act.
    pub async fn actor(&self, as_email: Option<&Email>) -> Result<Actor> {
        self.require_init().await?;
        let Some(email) = as_email else {
            return Ok(Actor::Operator);
        };
        let u = self.find_user(email).await?;
        if !u.active {
            return Err(Error::forbidden(format!(
                "as: {email} is deactivated and cannot act; an admin can reactivate the account"
            )));
        }
        Ok(Actor::User(u))
    }

    /// How long the next sign-in for this e-mail waits before its password is checked:
    /// nothing at first, then 0.5 s, 1 s, 2 s ... up to 8 s after consecutive wrong
    /// passwords. Counted per e-mail in the database, so restarting the app or signing in
    /// from another front end does not reset it.
    pub async fn sign_in_delay(&self, email: &Email) -> Result<std::time::Duration> {
        let failures = sign_in_failures(&mut *self.reader().await?, email).await?;
        Ok(match failures {
            0 => std::time::Duration::ZERO,
            n => std::time::Duration::from_millis(250u64 << n.min(5)),
        })
    }

    /// Check a person's password and record the sign-in (or the failed attempt). Waits
    /// [`Tessera::sign_in_delay`] first.
    pub async fn sign_in(&self, email: &Email, pw: Password) -> Result<User> {
        let wait = self.sign_in_delay(email).await?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let failed = || Error::forbidden("sign-in: wrong e-mail or password");
        let user = store::users::find_by_email(&mut *self.reader().await?, email).await?;
        let phc = match &user {
            Some(u) => store::users::password_hash(&mut *self.reader().await?, u.id).await?,
            None => None,
        };
        // An unknown e-mail costs the same Argon2 check, so timing does not tell who exists.
        let ok = match phc {
            Some(phc) => password::verify(pw, phc).await?,
            None => password::verify_nobody(pw).await?,
        };
        let mut tx = self.store.begin().await?;
        let action = if ok && user.as_ref().is_some_and(|u| u.active) {
            "user.sign_in"
        } else {
            "user.sign_in_failed"
        };
        let failures = if ok {
            0
        } else {
            sign_in_failures(&mut tx, email).await?.saturating_add(1)
        };
        meta::set(&mut tx, &failures_key(email), &failures.to_string()).await?;
        store::audit::append(
            &mut tx,
            now_ts(),
            &email.to_string(),
            action,
            &format!("user:{email}"),
            &json!({}),
        )
        .await?;
        self.commit(tx).await?;
        match user {
            Some(u) if ok && u.active => Ok(u),
            Some(u) if ok => Err(Error::forbidden(format!(
                "sign-in: {} is deactivated; ask an admin",
                u.email
            ))),
            _ => Err(failed()),
        }
    }

    /// Change one's own name and default source group.
    pub async fn update_profile(
        &self,
        actor: &Actor,
        name: &str,
        source_group: &str,
    ) -> Result<User> {
        let Actor::User(u) = actor else {
            return Err(Error::invalid(
                "profile: only a signed-in person has a profile",
            ));
        };
        let (name, group) = (name.trim(), source_group.trim());
        check_text("name", name, 1, MAX_NAME)?;
        check_text("source group", group, 0, MAX_NAME)?;
        let mut tx = self.store.begin().await?;
        store::users::update_profile(&mut tx, u.id, name, group).await?;
        store::audit::append(
            &mut tx,
            now_ts(),
            &actor.label(),
            "user.profile_change",
            &format!("user:{}", u.email),
            &json!({"name": name, "source_group": group}),
        )
        .await?;
        self.commit(tx).await?;
        self.user(u.id).await
    }

    /// Change one's own password, proving the current one.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: Password,
        next: Password,
    ) -> Result<()> {
        let Actor::User(u) = actor else {
            return Err(Error::invalid(
                "password: only a signed-in person has a password",
            ));
        };
        let phc = store::users::password_hash(&mut *self.reader().await?, u.id)
            .await?
            .ok_or_else(|| Error::not_found("the user no longer exists"))?;
        if !password::verify(current, phc).await? {
            return Err(Error::invalid("current: the current password is wrong"));
        }
        let new_phc = password::hash(next).await?;
        let mut tx = self.store.begin().await?;
        store::users::update_password(&mut tx, u.id, &new_phc).await?;
        store::audit::append(
            &mut tx,
            now_ts(),
            &actor.label(),
            "user.password_change",
            &format!("user:{}", u.email),
            &json!({}),
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Add a user (admin).
    pub async fn add_user(&self, actor: &Actor, u: NewUser) -> Result<User> {
        actor.require_admin("add users")?;
        actor.require_role_grantable(u.role, &format!("add a user with the role {}", u.role))?;
        let name = u.name.trim();
        check_text("name", name, 1, MAX_NAME)?;
        check_text("source group", u.source_group.trim(), 0, MAX_NAME)?;
        let phc = password::hash(u.password.clone()).await?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        if store::users::find_by_email(&mut tx, &u.email)
            .await?
            .is_some()
        {
            return Err(Error::conflict(format!(
                "email: a user with e-mail {} already exists",
                u.email
            )));
        }
        let id = store::users::insert(
            &mut tx,
            store::users::NewUserRow {
                email: &u.email,
                name,
                role: u.role,
                password_hash: &phc,
                source_group: u.source_group.trim(),
                now,
            },
        )
        .await?;
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "user.create",
            &format!("user:{}", u.email),
            &json!({"role": u.role}),
        )
        .await?;
        self.commit(tx).await?;
        self.user(id).await
    }

    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.require_admin("list users")?;
        store::users::list(&mut *self.reader().await?).await
    }

    /// Change a user's role (admin). Their tokens follow at once: verification intersects
    /// token scopes with the role current at each request. Returns the user and the scopes
    /// their live tokens lose.
    /// The scopes a user's live tokens would lose if their role became `role` (admin).
    pub async fn role_change_preview(
        &self,
        actor: &Actor,
        email: &Email,
        role: Role,
    ) -> Result<Vec<String>> {
        actor.require_admin("change roles")?;
        let u = self.find_user(email).await?;
        let lost = scopes_lost(&mut *self.reader().await?, &u, role).await?;
        Ok(lost.into_iter().map(|s| s.to_string()).collect())
    }

    /// Live (not revoked) user and personal tokens per user id (admin).
    pub async fn live_token_counts(
        &self,
        actor: &Actor,
    ) -> Result<std::collections::HashMap<UserId, i64>> {
        actor.require_admin("list users")?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT owner_id, COUNT(*) FROM tokens WHERE owner_id IS NOT NULL AND status <> 'revoked' GROUP BY owner_id",
        )
        .fetch_all(&mut *self.reader().await?)
        .await?;
        Ok(rows.into_iter().map(|(u, n)| (UserId(u), n)).collect())
    }

    pub async fn set_role(
        &self,
        actor: &Actor,
        email: &Email,
        role: Role,
    ) -> Result<(User, Vec<String>)> {
        actor.require_admin("change roles")?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let u = store::users::find_by_email(&mut tx, email)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "user: no user with e-mail {email}; see `tessera user list`"
                ))
            })?;
        if u.role == role {
            return Ok((u, vec![]));
        }
        actor.require_role_grantable(role, &format!("give the role {role}"))?;
        if u.role == Role::Admin && u.active && store::users::count_admins(&mut tx).await? <= 1 {
            return Err(Error::invalid(
                "role: this is the last active admin; make another user admin first",
            ));
        }
        let lost = scopes_lost(&mut tx, &u, role).await?;
        store::users::update_role(&mut tx, u.id, role).await?;
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "user.role_change",
            &format!("user:{email}"),
            &json!({"from": u.role, "to": role, "scopes_lost": lost}),
        )
        .await?;
        self.commit(tx).await?;
        Ok((
            self.user(u.id).await?,
            lost.into_iter().map(|s| s.to_string()).collect(),
        ))
    }

    /// How many tokens deactivating this user would revoke.
    pub async fn deprovision_count(&self, actor: &Actor, email: &Email) -> Result<i64> {
        actor.require_admin("deactivate users")?;
        let u = self.find_user(email).await?;
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM tokens WHERE owner_id = ? AND kind IN ('user', 'personal') AND status <> 'revoked'",
        )
        .bind(u.id.0)
        .fetch_one(&mut *self.reader().await?)
        .await?;
        Ok(n)
    }

    /// Deactivate a user (admin) and revoke their user and personal tokens in the same
    /// transaction. Company tokens they created stay. Returns how many were revoked.
    pub async fn deactivate_user(&self, actor: &Actor, email: &Email) -> Result<(User, usize)> {
        actor.require_admin("deactivate users")?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let u = store::users::find_by_email(&mut tx, email)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "user: no user with e-mail {email}; see `tessera user list`"
                ))
            })?;
        if !u.active {
            return Err(Error::invalid(format!(
                "user: {email} is already deactivated"
            )));
        }
        if actor.user_id() == Some(u.id) {
            return Err(Error::invalid(
                "user: you cannot deactivate yourself; ask another admin",
            ));
        }
        if u.role == Role::Admin && store::users::count_admins(&mut tx).await? <= 1 {
            return Err(Error::invalid(
                "user: this is the last active admin; make another user admin first",
            ));
        }
        store::users::update_active(&mut tx, u.id, false, now).await?;
        let revoked =
            store::tokens::revoke_owned(&mut tx, u.id, &["user", "personal"], now).await?;
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "user.deactivate",
            &format!("user:{email}"),
            &json!({"tokens_revoked": revoked}),
        )
        .await?;
        self.commit(tx).await?;
        Ok((self.user(u.id).await?, revoked.len()))
    }

    /// Reactivate a user (admin). Their revoked tokens stay revoked.
    pub async fn reactivate_user(&self, actor: &Actor, email: &Email) -> Result<User> {
        actor.require_admin("reactivate users")?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let u = store::users::find_by_email(&mut tx, email)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "user: no user with e-mail {email}; see `tessera user list`"
                ))
            })?;
        if u.active {
            return Err(Error::invalid(format!("user: {email} is already active")));
        }
        actor.require_role_grantable(u.role, &format!("reactivate a {}", u.role))?;
        store::users::update_active(&mut tx, u.id, true, now).await?;
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "user.reactivate",
            &format!("user:{email}"),
            &json!({}),
        )
        .await?;
        self.commit(tx).await?;
        self.user(u.id).await
    }

    /// Add a custom scope (admin).
    pub async fn add_scope(
        &self,
        actor: &Actor,
        name: &Scope,
        description: &str,
    ) -> Result<ScopeInfo> {
        actor.require_admin("add scopes")?;
        check_text("description", description.trim(), 0, MAX_DESCRIPTION)?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let exists: Option<(String,)> = sqlx::query_as("SELECT name FROM scopes WHERE name = ?")
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() || builtin_scope(name.as_str()).is_some() {
            return Err(Error::conflict(format!("scope: {name} already exists")));
        }
        sqlx::query("INSERT INTO scopes (name, description, created_at) VALUES (?, ?, ?)")
            .bind(name.as_str())
            .bind(description.trim())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "scope.create",
            &format!("scope:{name}"),
            &json!({}),
        )
        .await?;
        self.commit(tx).await?;
        Ok(scope_info(name.as_str(), description.trim()))
    }

    /// Every scope, built-in first.
    pub async fn list_scopes(&self) -> Result<Vec<ScopeInfo>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, description FROM scopes")
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let mut out: Vec<ScopeInfo> = BUILTIN_SCOPES
            .iter()
            .map(|b| scope_info(b.name, b.description))
            .collect();
        let mut custom: Vec<ScopeInfo> = rows
            .into_iter()
            .filter(|(n, _)| builtin_scope(n).is_none())
            .map(|(n, d)| scope_info(&n, &d))
            .collect();
        custom.sort_by(|a, b| a.name.cmp(&b.name));
        out.extend(custom);
        Ok(out)
    }

    async fn check_scopes_exist(&self, scopes: &[Scope]) -> Result<()> {
        let known = self.list_scopes().await?;
        for s in scopes {
            if !known.iter().any(|k| k.name == s.as_str()) {
                return Err(Error::invalid(format!(
                    "scope: unknown scope '{s}'; see `tessera scope list`, or an admin can add it with `tessera scope add`"
                )));
            }
        }
        Ok(())
    }

    /// Create a token. The plaintext is generated here, only its keyed hash is stored, and it
    /// is returned once, after the row is committed.
    pub async fn create_token(&self, actor: &Actor, req: NewToken) -> Result<CreatedToken> {
        self.require_init().await?;
        let policy = self.policy().await?;
        let now = OffsetDateTime::now_utc();
        let scopes: Vec<Scope> = if req.scopes.is_empty() {
            vec!["me:read".parse()?]
        } else {
            req.scopes.clone()
        };
        self.check_scopes_exist(&scopes).await?;
        let description = req.description.as_deref().unwrap_or("").trim().to_owned();
        check_text("description", &description, 0, MAX_DESCRIPTION)?;

        // Whose token, and may the actor make it?
        let owner: Option<User> = match req.kind {
            TokenKind::Company => {
                if req.owner.is_some() {
                    return Err(Error::invalid(
                        "owner: company tokens belong to the company; leave out --owner",
                    ));
                }
                if !actor.manages_company_tokens() {
                    return Err(Error::forbidden(
                        "only admins and VRM admins may create company tokens",
                    ));
                }
                if description.is_empty() {
                    return Err(Error::invalid("description: required for company tokens; say what service uses it and why"));
                }
                None
            }
            TokenKind::User | TokenKind::Personal => {
                let u = match (&req.owner, actor.person()) {
                    (Some(email), _) => self.find_user(email).await?,
                    (None, Some(p)) => p.clone(),
                    (None, None) => {
                        return Err(Error::invalid(format!(
                            "owner: say whose {} token this is with --owner EMAIL (or act as that user with --as EMAIL)",
                            req.kind
                        )))
                    }
                };
                match actor {
                    Actor::Operator => {}
                    a if a.user_id() == Some(u.id) => {}
                    _ => {
                        return Err(Error::forbidden(
                            "tokens of people are created by their owners; sign in as the owner (the plaintext is shown only to its creator)",
                        ))
                    }
                }
                if !u.active {
                    return Err(Error::invalid(format!("owner: {} is deactivated", u.email)));
                }
                Some(u)
            }
        };

        // Scopes the granting role allows; a company token acts as a VRM admin at most.
        if req.kind == TokenKind::Company {
            if let Some(s) = scopes.iter().find(|s| !authority::company_may_hold(s)) {
                return Err(Error::forbidden(format!(
                    "scope: company tokens act with at most a VRM admin's rights and cannot carry {s}; give that access to a person's token instead"
                )));
            }
        }
        let granting_role = match &owner {
            Some(u) => Some(u.role),
            None => actor.role(),
        };
        if let Some(role) = granting_role {
            if let Some(s) = scopes.iter().find(|s| !role.allows(s)) {
                return Err(Error::forbidden(format!(
                    "scope: the role {role} may not grant {s}; choose scopes the role allows (see `tessera scope list`)"
                )));
            }
        }

        let name = match (req.kind, req.name.as_deref().map(str::trim)) {
            (TokenKind::User, None) | (TokenKind::User, Some("")) => "User API token".to_owned(),
            (_, Some(n)) => n.to_owned(),
            (k, None) => {
                return Err(Error::invalid(format!(
                    "name: required for {k} tokens; give a name that says where the token is used"
                )))
            }
        };
        check_text("name", &name, 1, MAX_NAME)?;
        let mut want = authority::Requested {
            scopes: scopes.into_iter().collect(),
            expires_at: policy.resolve_expiry(&req.expiry, now)?,
            expiry_defaulted: req.expiry == ExpiryRequest::Default,
            networks: req.networks.clone(),
            rate_limit: req.rate_limit,
            idle_days: req.idle_days,
        };
        if let Some(by) = actor.through() {
            want = authority::narrow_new_token(by, want, policy.default_rate_limit)?;
        }
        let expires_at = want.expires_at;
        let idle_days = want
            .idle_days
            .map(|d| policy.check_idle_days(d))
            .transpose()?;
        let rate_limit =
            policy.check_rate_limit(want.rate_limit.unwrap_or(policy.default_rate_limit))?;
        let scope_set: Scopes = want.scopes;

        let secret = TokenSecret::generate(req.kind);
        let hash = self.hasher.hash(&secret);
        let hint = secret.hint();
        let now_s = ts(now);

        let mut tx = self.store.begin().await?;
        let owner_id = owner.as_ref().map(|u| u.id);
        let mut replaced = None;
        match req.kind {
            TokenKind::User => {
                let ids = store::tokens::revoke_owned(
                    &mut tx,
                    owner_id.unwrap_or(UserId(0)),
                    &["user"],
                    now_s,
                )
                .await?;
                replaced = ids.first().copied();
            }
            TokenKind::Personal => {
                let n = store::tokens::count_live_personal(&mut tx, owner_id.unwrap_or(UserId(0)))
                    .await?;
                if n >= i64::from(policy.max_personal_tokens) {
                    return Err(Error::invalid(format!(
                        "name: policy allows at most {} personal tokens per user; revoke or delete one first",
                        policy.max_personal_tokens
                    )));
                }
            }
            TokenKind::Company => {}
        }
        if store::tokens::live_name_taken(&mut tx, req.kind == TokenKind::Company, owner_id, &name)
            .await?
        {
            return Err(Error::conflict(format!(
                "name: a live token named '{}' already exists for this owner; choose another name",
                clip(&name)
            )));
        }
        let id = store::tokens::insert(
            &mut tx,
            store::tokens::NewTokenRow {
                kind: req.kind.as_str(),
                owner_id,
                created_by: actor.user_id(),
                created_by_label: actor.through().map(|_| actor.label()),
                name: &name,
                description: &description,
                hash: &hash,
                hint: &hint,
                scopes: &scopes_to_text(&scope_set),
                now: now_s,
                expires_at: expires_at.map(ts),
                idle_days: idle_days.map(i64::from),
                allowed_networks: &want.networks.to_text(),
                rate_limit: i64::from(rate_limit),
            },
        )
        .await?;
        let action = if replaced.is_some() {
            "token.regenerate"
        } else {
            "token.create"
        };
        store::audit::append(
            &mut tx,
            now_s,
            &actor.label(),
            action,
            &format!("token:{id}"),
            &json!({
                "kind": req.kind,
                "name": name,
                "hint": hint,
                "owner": owner.as_ref().map(|u| u.email.to_string()),
                "scopes": scope_set,
                "expires_at": expires_at.map(ts),
                "replaced": replaced,
            }),
        )
        .await?;
        self.commit(tx).await?;
        let row = store::tokens::find(&mut *self.reader().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("the new token vanished"))?;
        Ok(CreatedToken {
            info: TokenInfo::from_row(row, now),
            token: secret,
            replaced,
        })
    }

    pub(crate) fn visibility(&self, actor: &Actor) -> Visibility {
        match (actor.role(), actor.person()) {
            (None, _) | (Some(Role::Admin), _) => Visibility {
                all: true,
                ..Default::default()
            },
            (Some(role), person) => Visibility {
                all: false,
                owner: person.map(|u| u.id),
                company: role.manages_company_tokens(),
            },
        }
    }

    /// May the actor see and manage this token? A deleted token (a tombstone) stays visible
    /// to [`Tessera::get_token`] and its usage, but nothing changes it again.
    fn may_manage(&self, actor: &Actor, row: &TokenRow) -> bool {
        match actor.role() {
            None | Some(Role::Admin) => true,
            Some(role) => {
                (row.owner_id.is_some() && row.owner_id == actor.user_id().map(|u| u.0))
                    || (row.kind == "company" && role.manages_company_tokens())
            }
        }
    }

    /// How many tokens the actor may see match the filter (paging ignored).
    pub async fn count_tokens(&self, actor: &Actor, filter: &TokenFilter) -> Result<i64> {
        let now = now_ts();
        store::tokens::count(
            &mut *self.reader().await?,
            &self.visibility(actor),
            filter,
            now,
        )
        .await
    }

    /// List the tokens the actor may see.
    pub async fn list_tokens(&self, actor: &Actor, filter: &TokenFilter) -> Result<Vec<TokenInfo>> {
        let now = OffsetDateTime::now_utc();
        let rows = store::tokens::list(
            &mut *self.reader().await?,
            &self.visibility(actor),
            filter,
            ts(now),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| TokenInfo::from_row(r, now))
            .collect())
    }

    pub(crate) async fn managed_row(&self, actor: &Actor, id: TokenId) -> Result<TokenRow> {
        let row = store::tokens::find(&mut *self.reader().await?, id).await?;
        match row {
            Some(r) if self.may_manage(actor, &r) => Ok(r),
            // Someone else's token answers like a missing one, so ids reveal nothing.
            _ => Err(Error::not_found(format!(
                "token: no token {id} that you may see; see `tessera token list`"
            ))),
        }
    }

    pub async fn get_token(&self, actor: &Actor, id: TokenId) -> Result<TokenInfo> {
        let row = self.managed_row(actor, id).await?;
        if row.deleted_at.is_some() {
            return Err(Error::not_found(format!(
                "token: {id} was deleted; its usage history is kept and can still be read"
            )));
        }
        Ok(TokenInfo::from_row(row, OffsetDateTime::now_utc()))
    }

    /// Revoke (final), deactivate or activate a token.
    pub async fn set_token_status(
        &self,
        actor: &Actor,
        id: TokenId,
        action: StatusAction,
    ) -> Result<TokenInfo> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let row = match store::tokens::find(&mut tx, id).await? {
            Some(r) if self.may_manage(actor, &r) && r.deleted_at.is_none() => r,
            _ => {
                return Err(Error::not_found(format!(
                    "token: no token {id} that you may see; see `tessera token list`"
                )))
            }
        };
        let info = TokenInfo::from_row(row.clone(), now);
        let new_status = match (action, info.status) {
            (_, TokenStatus::Revoked) => {
                return Err(Error::invalid(format!(
                    "token: {id} is revoked, which is final; create a new token"
                )))
            }
            (StatusAction::Revoke, _) => "revoked",
            (StatusAction::Deactivate, TokenStatus::Deactivated) => {
                return Err(Error::invalid(format!(
                    "token: {id} is already deactivated"
                )))
            }
            (StatusAction::Deactivate, _) => "deactivated",
            (StatusAction::Activate, TokenStatus::Active) => {
                return Err(Error::invalid(format!("token: {id} is already active")))
            }
            (StatusAction::Activate, TokenStatus::Expired) => {
                return Err(Error::invalid(format!(
                    "token: {id} has expired and cannot be activated; create a new token"
                )))
            }
            (StatusAction::Activate, _) => {
                if row.kind != "company" && row.owner_active != Some(true) {
                    return Err(Error::invalid(format!(
                        "token: the owner of {id} is deactivated"
                    )));
                }
                if let Some(by) = actor.through() {
                    let target = verify::Prepared::new(&row);
                    authority::check_within(by, &TokenLimits::of(target.token()))?;
                }
                "active"
            }
        };
        store::tokens::update_status(&mut tx, id, new_status, ts(now)).await?;
        store::audit::append(
            &mut tx,
            ts(now),
            &actor.label(),
            &format!("token.{}", action.word()),
            &format!("token:{id}"),
            &json!({"hint": row.hint, "from": info.status, "to": new_status}),
        )
        .await?;
        self.commit(tx).await?;
        self.get_token(actor, id).await
    }

    /// Delete a token: it is revoked and leaves every list, but its row stays as a tombstone
    /// (hint, owner, counts) with its usage history, so the record of where it was used
    /// survives; only retention pruning removes usage. The audit log keeps a record.
    pub async fn delete_token(&self, actor: &Actor, id: TokenId) -> Result<()> {
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let row = match store::tokens::find(&mut tx, id).await? {
            Some(r) if self.may_manage(actor, &r) && r.deleted_at.is_none() => r,
            _ => {
                return Err(Error::not_found(format!(
                    "token: no token {id} that you may see; see `tessera token list`"
                )))
            }
        };
        store::tokens::tombstone(&mut tx, id, now).await?;
        store::audit::append(&mut tx, now, &actor.label(), "token.delete", &format!("token:{id}"),
            &json!({"hint": row.hint, "name": row.name, "kind": row.kind, "owner": row.owner_email})).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Recent usage of a token the actor may see.
    pub async fn token_usage(
        &self,
        actor: &Actor,
        id: TokenId,
        limit: u32,
    ) -> Result<Vec<UsageEntry>> {
        self.managed_row(actor, id).await?;
        store::usage::list(&mut *self.reader().await?, id, limit).await
    }

    /// Decide whether a presented string is an acceptable token. One keyed hash and one
    /// indexed read; no Argon2, no write. Record the use with [`Tessera::record_uses`].
    pub async fn verify(
        &self,
        presented: &str,
        required: &[Scope],
        ip: Option<IpAddr>,
        now: OffsetDateTime,
    ) -> Result<Decision> {
        self.verify_at(presented, required, ip, now.unix_timestamp())
            .await
    }

    /// [`Tessera::verify`] at `now` in Unix seconds ([`verify::unix_now`]), the servers' hot
    /// path: a cached row is decided without a look-up and without waiting on any lock a
    /// writer holds.
    pub async fn verify_at(
        &self,
        presented: &str,
        required: &[Scope],
        ip: Option<IpAddr>,
        now: i64,
    ) -> Result<Decision> {
        let Ok(presented) = crate::token::well_shaped(presented) else {
            return Ok(Decision::refused(Reason::Malformed));
        };
        let hash = self.hasher.hash_validated(presented);
        if let Some(p) = self.cache.get(&hash) {
            // Cached rows are stored tokens found by this very hash, so the presented
            // string is one of them and its checksum is right.
            return Ok(p.decide_at(required, ip, now));
        }
        // A typo is refused here, before any look-up.
        if !crate::token::checksum_ok(presented) {
            return Ok(Decision::refused(Reason::Malformed));
        }
        // Boxed so the hit path's future stays small.
        Box::pin(self.verify_uncached(hash, required, ip, now)).await
    }

    async fn verify_uncached(
        &self,
        hash: crate::keys::TokenHash,
        required: &[Scope],
        ip: Option<IpAddr>,
        now: i64,
    ) -> Result<Decision> {
        let read_in = self.cache.generation();
        let row = store::tokens::find_by_hash(&mut *self.reader().await?, &hash).await?;
        Ok(match row {
            None => Decision::refused(Reason::Unknown),
            Some(r) => {
                let p = std::sync::Arc::new(verify::Prepared::new(&r));
                self.cache.put(hash, p.clone(), read_in);
                p.decide_at(required, ip, now)
            }
        })
    }

    /// The hasher, for front ends that cache decisions by hash.
    pub fn hasher(&self) -> &TokenHasher {
        &self.hasher
    }

    /// Record uses: identical ones in the same second become one row with a count
    /// ([`store::usage::fold`]).
    pub async fn record_uses(&self, events: &[UseEvent]) -> Result<()> {
        self.record_rows(&store::usage::fold(events)).await
    }

    /// [`Tessera::record_uses`] for distinct events, each with how many identical
    /// presentations it stands for (the API counts them as they arrive).
    pub async fn record_use_counts(&self, counted: &[(UseEvent, i64)]) -> Result<()> {
        let rows: Vec<(&UseEvent, i64)> = counted.iter().map(|(e, n)| (e, *n)).collect();
        self.record_rows(&rows).await
    }

    /// One transaction. Only uses that move a token's idle-expiry clock invalidate cached
    /// decisions; counters and last-used fields are not part of them.
    async fn record_rows(&self, rows: &[(&UseEvent, i64)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        let idle_moved = store::usage::record(&mut tx, rows).await?;
        tx.commit().await?;
        if idle_moved {
            self.cache.bump();
        }
        Ok(())
    }

    /// Delete usage events older than the policy's retention.
    pub async fn prune_usage(&self) -> Result<u64> {
        let days = self.policy().await?.usage_retention_days;
        let cut = now_ts() - i64::from(days) * 86_400;
        let mut tx = self.store.begin().await?;
        let n = store::usage::prune(&mut tx, cut).await?;
        self.commit(tx).await?;
        Ok(n)
    }

    /// Read the audit log (admin).
    pub async fn audit(&self, actor: &Actor, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        actor.require_admin("read the audit log")?;
        store::audit::list(&mut *self.reader().await?, filter).await
    }
}

/// Scopes the user's live tokens grant under their current role but would not under `role`.
async fn scopes_lost(conn: &mut sqlx::SqliteConnection, u: &User, role: Role) -> Result<Scopes> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT scopes FROM tokens WHERE owner_id = ? AND status <> 'revoked'")
            .bind(u.id.0)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .iter()
        .flat_map(|(s,)| scopes_from_text(s))
        .filter(|s| u.role.allows(s) && !role.allows(s))
        .collect())
}

fn scope_info(name: &str, description: &str) -> ScopeInfo {
    let roles = match builtin_scope(name) {
        None => vec![Role::Admin, Role::VrmAdmin, Role::User],
        Some(b) => {
            let mut r = vec![Role::Admin];
            if b.vrm_admin {
                r.push(Role::VrmAdmin);
            }
            if b.user {
                r.push(Role::User);
            }
            r
        }
    };
    ScopeInfo {
        name: name.to_owned(),
        description: description.to_owned(),
        builtin: builtin_scope(name).is_some(),
        roles,
    }
}

fn check_text(field: &str, s: &str, min: usize, max: usize) -> Result<()> {
    let n = s.chars().count();
    if n < min {
        return Err(Error::invalid(format!(
            "{field}: required; it cannot be empty"
        )));
    }
    if n > max {
        return Err(Error::invalid(format!(
            "{field}: too long ({n} characters); use at most {max}"
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "{field}: contains control characters; use plain text"
        )));
    }
    if crate::token::contains_token_pattern(s) {
        return Err(Error::invalid(format!("{field}: looks like it contains a token; never paste a token into a name or description (if it was a real token, revoke it)")));
    }
    Ok(())
}

/// Where consecutive wrong passwords for an e-mail are counted.
fn failures_key(email: &Email) -> String {
    format!("sign_in_failures:{email}")
}

/// Consecutive wrong passwords counted for an e-mail.
async fn sign_in_failures(conn: &mut sqlx::SqliteConnection, email: &Email) -> Result<u32> {
    Ok(meta::get(conn, &failures_key(email))
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

pub(crate) fn now_ts() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}
