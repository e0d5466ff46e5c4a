//! The operations people and programs perform, with their rights checks and audit entries.
//! Every front end (CLI, HTTPS API, desktop app) calls these and nothing below them, so a
//! rule enforced here is enforced everywhere. Rows are read and written through
//! [`crate::store`]; each multi-row rule runs in one `BEGIN IMMEDIATE` transaction.
//!
//! This module holds [`Tessera`] itself (opening, set-up, the policy), who acts ([`Actor`])
//! and the helpers every area shares. Each area is an `impl Tessera` block in a file of its
//! own, with its types beside it (and re-exported here): `session` (sign-in, profile,
//! password), `users` (users and roles), `scopes`, `tokens` (create, list, status, delete,
//! regenerate), `verification` (verifying presented tokens, recording and pruning usage) and
//! `reports` (dashboard, usage reports, expiry notices, the audit log).

mod clients;
mod explain;
mod hash_keys;
mod honeytokens;
mod leaks;
mod reports;
mod rotation;
mod scopes;
mod session;
pub mod sources;
mod tokens;
mod users;
mod verification;

pub use clients::{
    parse_token_ttl, ClientAction, ClientInfo, ClientSecretInfo, ClientStatus, ClientWithSecret,
    GrantRefused, Introspected, Introspector, IssuedToken, NewClient,
};
pub use explain::{Explanation, Presented};
pub use hash_keys::{KeyInfo, KeyRetired, KeyRotated};
pub use honeytokens::{HoneytokenAlert, HoneytokenUse};
pub use leaks::{find_in_paths, Finding, FoundAt, FoundShapes, FoundStatus, ScanReport};
pub use reports::{ClientSeen, Dashboard, DayCount, UsageReport};
pub use rotation::{RotateRequest, RotationReport};
pub use scopes::ScopeInfo;
pub use session::{
    OpenSession, OpenedSession, SessionRefused, SESSION_IDLE_MINUTES, SESSION_MAX_HOURS,
    WRONG_CREDENTIALS,
};
pub use sources::{NewSourceAlert, TokenSource};
pub use tokens::{CreatedToken, NewToken, OwnerRef, StatusAction, TokenInfo, TokenUpdate};
pub use users::NewUser;

use std::path::{Path, PathBuf};

use serde_json::json;
use time::OffsetDateTime;

use crate::authority::{self, TokenLimits};
use crate::error::{Error, Field, Result};
use crate::keys::{self, KeyLocation, KeySet, KeyStoreChoice};
use crate::model::{Email, Role, UserId, BUILTIN_SCOPES};
use crate::password;
use crate::policy::Policy;
use crate::store::users::User;
use crate::store::{self, meta, Store};

const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 1000;
const MAX_NOTE: usize = 2000;

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
            Err(Error::forbidden(None, format!("only an admin may {what}")))
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
    /// The SQLite database (unless `database_url` names another), the key file when kept
    /// beside it, and this instance's TLS certificates.
    pub data_dir: PathBuf,
    pub keystore: KeyStoreChoice,
    /// `postgres://...`: the team's PostgreSQL database instead of the SQLite file.
    pub database_url: Option<String>,
    /// The token-hashing key in this file (base64) instead of the keyring; required with
    /// PostgreSQL, where every instance must hash with the same key.
    pub key_file: Option<PathBuf>,
}

impl OpenOptions {
    /// The embedded SQLite store in `data_dir`, its key where `keystore` says.
    pub fn new(data_dir: impl Into<PathBuf>, keystore: KeyStoreChoice) -> Self {
        Self {
            data_dir: data_dir.into(),
            keystore,
            database_url: None,
            key_file: None,
        }
    }
}

/// The Tessera core, opened on one data dir.
#[derive(Clone, Debug)]
pub struct Tessera {
    pub(crate) store: Store,
    cache: std::sync::Arc<crate::cache::VerifyCache>,
    /// Live servers on this database, this one included (1 unless [`Tessera::join_instances`]
    /// counts them).
    instances: std::sync::Arc<std::sync::atomic::AtomicU32>,
    keys: std::sync::Arc<hash_keys::KeyRing>,
    data_dir: PathBuf,
    alerts: std::sync::Arc<honeytokens::AlertMemory>,
    sources: std::sync::Arc<sources::KnownSources>,
}

impl Tessera {
    /// Open the data dir: database, migrations, and the token-hashing key.
    pub async fn open(opts: OpenOptions) -> Result<Self> {
        let location = store::Location::choose(&opts.data_dir, opts.database_url.as_deref())?;
        if matches!(location, store::Location::Postgres(_)) {
            // TLS certificates and the like still live in the data dir.
            std::fs::create_dir_all(&opts.data_dir).map_err(|e| {
                Error::state(format!(
                    "the data dir {} cannot be created ({e}); choose a writable one with --data-dir or TESSERA_DATA_DIR",
                    opts.data_dir.display()
                ))
            })?;
            if opts.key_file.is_none() {
                return Err(Error::state(
                    "a PostgreSQL database is shared by several machines, so its token-hashing key cannot live in one \
                     machine's keyring: name the key file every instance shares (--key-file PATH or TESSERA_KEY_FILE)",
                ));
            }
        }
        let store = Store::open_at(&location).await?;
        let (install_id, recorded) = {
            let mut tx = store.begin().await?;
            let mut id = [0u8; 16];
            rand::fill(&mut id);
            let install_id = meta::get_or_insert(&mut tx, "install_id", &hex::encode(id)).await?;
            let recorded = store::token_keys::active(&mut tx).await?;
            tx.commit().await?;
            (install_id, recorded)
        };
        // The oldest key in use finds where the keys are kept; a fresh database gets key 1.
        let first = match recorded.first() {
            Some(k) => Some((
                u32::try_from(k.id)
                    .map_err(|_| Error::state(format!("key number {} is out of range", k.id)))?,
                k.check_value.clone(),
            )),
            None => None,
        };
        let dir = opts.data_dir.clone();
        let choice = opts.keystore;
        let key_file = opts.key_file.clone();
        let rows = recorded.clone();
        let (set, place) = tokio::task::spawn_blocking(move || {
            let first = first.as_ref().map(|(id, c)| (*id, c.as_str()));
            let (hasher, place) = match key_file {
                Some(path) => keys::load_or_create_shared(&path, first),
                None => keys::load_or_create(choice, &dir, &install_id, first),
            }?;
            let one = KeySet::new(vec![hasher]).ok_or_else(|| Error::state("no key"))?;
            let (found, problems) = hash_keys::load_listed(&place, &rows, &one);
            if !problems.is_empty() {
                return Err(Error::state(problems.join("; ")));
            }
            Ok::<_, Error>((KeySet::new(found).unwrap_or(one), place))
        })
        .await
        .map_err(|e| Error::internal("loading the key stopped", e))??;
        if recorded.is_empty() {
            // Another instance may have set up the same fresh database meanwhile: the first
            // key recorded wins, and a different one is refused here.
            let mine = set.newest();
            let mut tx = store.begin().await?;
            let kept = store::token_keys::insert(&mut tx, 1, &mine.check_value(), now_ts()).await?;
            tx.commit().await?;
            if !mine.matches(&kept) {
                return Err(Error::state(
                    "another instance set this new database up with a different token-hashing key at the same moment; \
                     use the key file it created (every instance must share one)",
                ));
            }
        }
        Ok(Self {
            store,
            cache: Default::default(),
            instances: std::sync::Arc::new(std::sync::atomic::AtomicU32::new(1)),
            keys: std::sync::Arc::new(hash_keys::KeyRing::new(set, place)),
            data_dir: opts.data_dir,
            alerts: Default::default(),
            sources: Default::default(),
        })
    }

    /// Commit a write transaction and invalidate cached verification rows.
    /// The newest audit entry of this kind (`honeytoken`, `new_source`) already announced to
    /// this person on the desktop; 0 when none was.
    pub(crate) async fn announced_up_to(&self, actor: &Actor, what: &str) -> Result<i64> {
        let key = format!("notice:{}:{what}", actor.label());
        Ok(meta::get(&mut self.reader().await?, &key)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Mark this person's notices of this kind announced up to audit entry `newest`.
    pub(crate) async fn mark_announced(
        &self,
        actor: &Actor,
        what: &str,
        newest: i64,
    ) -> Result<()> {
        let key = format!("notice:{}:{what}", actor.label());
        let mut tx = self.store.begin().await?;
        meta::set(&mut tx, &key, &newest.to_string()).await?;
        // A notice mark changes no verification decision: the cache stays.
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn commit(&self, tx: store::Tx) -> Result<()> {
        tx.commit().await?;
        self.cache.bump();
        Ok(())
    }

    /// Cache verification results in memory (for servers). In-process writes invalidate the
    /// cache at once. Writes by other processes: on SQLite within `external_poll` (its
    /// `data_version`, polled on a connection of its own); on PostgreSQL as soon as their
    /// notification arrives, with the change counter polled every second as the backstop,
    /// and no caching at all while the listener is down.
    pub fn enable_verify_cache(&self, external_poll: std::time::Duration) {
        if self.cache.enable() {
            match (self.store.path(), self.store.pg_pool()) {
                (Some(path), _) => {
                    crate::cache::watch(self.cache.clone(), path.to_owned(), external_poll)
                }
                (None, Some(pool)) => crate::cache::listen(self.cache.clone(), pool.clone()),
                (None, None) => {}
            }
        }
    }

    /// Wait (at most `within`) until the verify cache is in use: at once on SQLite; on
    /// PostgreSQL once the change listener has connected. Returns whether it is.
    pub async fn verify_cache_ready(&self, within: std::time::Duration) -> bool {
        let until = tokio::time::Instant::now() + within;
        while self.cache.listener_down() {
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        true
    }

    /// Take part in counting the servers on this database (PostgreSQL; nothing on SQLite):
    /// renew this instance's row every second and keep [`Tessera::instances`] current, so a
    /// server can enforce its share of each rate limit. Stops when `stop` fires, leaving the
    /// count behind.
    pub fn join_instances(&self, stop: tokio::sync::watch::Receiver<bool>) {
        if self.store.engine() != store::Engine::Postgres {
            return;
        }
        let mut id = [0u8; 12];
        rand::fill(&mut id);
        let id = hex::encode(id);
        let (store, count) = (self.store.clone(), self.instances.clone());
        let me = self.clone();
        let mut stop = stop;
        tokio::spawn(async move {
            use std::sync::atomic::Ordering;
            loop {
                // A rotation or retirement elsewhere: load the keys the database now lists.
                me.refresh_keys_soon().await;
                let beat = async {
                    let mut c = store.reader().await?;
                    let now = store::instances::db_now(&mut c).await?;
                    store::instances::beat(&mut c, &id, now, now - 3).await
                };
                match beat.await {
                    Ok(n) => {
                        let n = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
                        if count.swap(n, Ordering::Relaxed) != n {
                            tracing::info!(instances = n, "servers sharing this database");
                        }
                    }
                    // Alone until the database answers again: the whole limit, not less.
                    Err(_) => count.store(1, Ordering::Relaxed),
                }
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    _ = stop.changed() => break,
                }
                if *stop.borrow() {
                    break;
                }
            }
            if let Ok(mut c) = store.reader().await {
                let _ = store::instances::leave(&mut c, &id).await;
            }
        });
    }

    /// How many servers share this database, this one included (at least 1).
    pub fn instances(&self) -> u32 {
        self.instances
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(1)
    }

    /// Is this instance fit to answer: the database reachable and, on PostgreSQL with the
    /// verify cache on, the change listener connected? Returns what is wrong otherwise.
    pub async fn health(&self) -> std::result::Result<(), String> {
        if !self.store.ping(std::time::Duration::from_secs(2)).await {
            return Err("the database is not answering".to_owned());
        }
        if self.cache.listener_down() {
            return Err("the change listener is reconnecting to the database".to_owned());
        }
        if let Some(why) = self.keys.missing() {
            return Err(why);
        }
        Ok(())
    }

    /// How many verifications the cache answered since this store was opened.
    pub fn verify_cache_hits(&self) -> u64 {
        self.cache.hits()
    }

    pub fn key_location(&self) -> &KeyLocation {
        self.keys.place().location()
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

    pub(crate) async fn reader(&self) -> Result<store::Reader> {
        self.store.reader().await
    }

    /// The company name, or None before `init`.
    pub async fn company(&self) -> Result<Option<String>> {
        store::company::name(&mut self.reader().await?).await
    }

    async fn require_init(&self) -> Result<()> {
        if self.company().await?.is_none() {
            return Err(Error::NotSetUp);
        }
        Ok(())
    }

    pub async fn policy(&self) -> Result<Policy> {
        let raw = meta::get(&mut self.reader().await?, "policy").await?;
        Ok(raw
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default())
    }

    /// Replace the policy (admin).
    pub async fn set_policy(&self, actor: &Actor, p: Policy) -> Result<Policy> {
        actor.require_admin("change the policy")?;
        if actor.through().is_some() {
            return Err(Error::forbidden(
                None,
                "the policy is changed by a signed-in admin in the app or with the CLI, not through a token",
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
        check_text(Field::Company, company, 1, MAX_NAME)?;
        check_text(Field::Name, admin.name.trim(), 1, MAX_NAME)?;
        if admin.role != Role::Admin {
            return Err(Error::invalid(
                Field::Role,
                "the first user must be an admin",
            ));
        }
        let phc = password::hash(admin.password.clone()).await?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        if store::company::name(&mut tx).await?.is_some() {
            return Err(Error::AlreadySetUp);
        }
        store::company::insert(&mut tx, company, now).await?;
        meta::set(
            &mut tx,
            "policy",
            &serde_json::to_string(&Policy::default()).unwrap_or_default(),
        )
        .await?;
        for b in BUILTIN_SCOPES {
            store::scopes::insert_or_ignore(&mut tx, b.name, b.description, now).await?;
        }
        // The role was checked above: the first user is an admin.
        let id = store::users::insert(&mut tx, admin.row(&phc, now)).await?;
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
        store::users::find(&mut self.reader().await?, id)
            .await?
            .ok_or_else(|| Error::not_found(None, "the user no longer exists"))
    }

    /// Find a user by e-mail.
    pub async fn find_user(&self, email: &Email) -> Result<User> {
        user_by_email(&mut self.reader().await?, email).await
    }
}

/// The user with this e-mail, or NotFound saying where to find the right one.
async fn user_by_email(conn: &mut impl store::Db, email: &Email) -> Result<User> {
    store::users::find_by_email(conn, email)
        .await?
        .ok_or_else(|| Error::not_found(Field::Email, format!("no user with e-mail {email}")))
}

fn check_text(field: Field, s: &str, min: usize, max: usize) -> Result<()> {
    let n = s.chars().count();
    if n < min {
        return Err(Error::invalid(field, "required; it cannot be empty"));
    }
    if n > max {
        return Err(Error::invalid(
            field,
            format!("too long ({n} characters); use at most {max}"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "contains control characters; use plain text",
        ));
    }
    if crate::token::contains_token_pattern(s) {
        return Err(Error::invalid(field, "looks like it contains a token; never paste a token into a text field (if it was a real token, revoke it)"));
    }
    Ok(())
}

pub(crate) fn now_ts() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}
