//! OAuth 2.0 clients (RFC 6749's client credentials grant): registering, listing, secret
//! rotation with overlap, disabling and deleting them; issuing their short-lived access
//! tokens; introspecting (RFC 7662) and revoking (RFC 7009) those tokens.
//!
//! A client is company-owned, like a company token: only admins and VRM admins manage it,
//! its scopes are at most a VRM admin's, and it survives its creator. Its access tokens are
//! ordinary token rows of kind `access`, so every route, `/v1/verify`, the cache, usage and
//! revocation treat them like any token; they carry the client's scopes (or fewer), networks
//! and rate limit, and the rate limit is counted per client, not per token.

use serde::Serialize;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::{check_text, now_ts, Actor, Tessera, MAX_DESCRIPTION, MAX_NAME};
use crate::authority::{self, TokenLimits};
use crate::error::{Error, Field, Result};
use crate::model::{scopes_from_text, scopes_to_text, Networks, Scope, Scopes, TokenId};
use crate::store::clients::{ClientRow, SecretRow};
use crate::store::{self, from_ts};
use crate::text::clip;
use crate::token::{ClientSecret, TokenKind, TokenSecret};

/// How long access tokens live unless the client says otherwise.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::hours(1);
/// The shortest and longest access-token lifetimes a client may have.
pub const MIN_TOKEN_TTL: Duration = Duration::seconds(1);
pub const MAX_TOKEN_TTL: Duration = Duration::hours(24);
/// Valid secrets a client may have at once: the current one and the one it replaces.
pub const MAX_SECRETS: usize = 2;

/// A client's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ClientStatus {
    /// Gets tokens; its tokens work.
    Active,
    /// Gets no tokens; the tokens it had were revoked when it was disabled.
    Disabled,
}

/// One of a client's valid secrets (never the secret itself).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClientSecretInfo {
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub id: i64,
    pub hint: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "bindings", ts(type = "string | null"))]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::date_time_or_null")
    )]
    pub last_used_at: Option<OffsetDateTime>,
}

/// Everything about a client except its secrets' plaintext.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClientInfo {
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub id: i64,
    /// The public identifier the client authenticates with.
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub allowed_networks: Vec<String>,
    /// Requests per minute, for the client's token requests and its tokens together.
    pub rate_limit: u32,
    /// Lifetime of the access tokens it gets, in seconds.
    pub token_ttl_seconds: u32,
    /// Set when it was registered through an expiring token: it gets no tokens after this.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "bindings", ts(type = "string | null"))]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::date_time_or_null")
    )]
    pub expires_at: Option<OffsetDateTime>,
    pub status: ClientStatus,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub created_at: OffsetDateTime,
    /// Its valid secrets, newest first (two while a rotation overlaps).
    pub secrets: Vec<ClientSecretInfo>,
    /// Access tokens issued in the last 24 hours.
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub tokens_issued_24h: i64,
    /// Accepted uses of all its access tokens (each is also in the usage log under its token,
    /// which is named after the client).
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub uses: i64,
    /// The last accepted use of any of its access tokens.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "bindings", ts(type = "string | null"))]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::date_time_or_null")
    )]
    pub last_used_at: Option<OffsetDateTime>,
}

impl ClientInfo {
    fn from_rows(r: ClientRow, secrets: Vec<SecretRow>) -> Self {
        Self {
            id: r.id,
            client_id: r.client_id,
            name: r.name,
            description: r.description,
            scopes: scopes_from_text(&r.scopes)
                .into_iter()
                .map(|s| s.to_string())
                .collect(),
            allowed_networks: Networks::from_text(&r.allowed_networks)
                .as_slice()
                .iter()
                .map(ToString::to_string)
                .collect(),
            rate_limit: u32::try_from(r.rate_limit).unwrap_or(1),
            token_ttl_seconds: u32::try_from(r.token_ttl).unwrap_or(0),
            expires_at: r.expires_at.map(from_ts),
            status: if r.status == "active" {
                ClientStatus::Active
            } else {
                ClientStatus::Disabled
            },
            created_by: r.created_by_label,
            created_at: from_ts(r.created_at),
            secrets: secrets
                .into_iter()
                .map(|s| ClientSecretInfo {
                    id: s.id,
                    hint: s.hint,
                    created_at: from_ts(s.created_at),
                    last_used_at: s.last_used_at.map(from_ts),
                })
                .collect(),
            tokens_issued_24h: r.issued_recently,
            uses: r.uses,
            last_used_at: r.last_used_at.map(from_ts),
        }
    }
}

/// A request to register a client.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub name: String,
    /// What the client is and who runs it.
    pub description: String,
    /// Empty means `me:read`.
    pub scopes: Vec<Scope>,
    pub networks: Networks,
    /// None: the policy's default (at most the presenting token's).
    pub rate_limit: Option<u32>,
    /// None: [`DEFAULT_TOKEN_TTL`].
    pub token_ttl: Option<Duration>,
}

/// A client and, this once, a secret's plaintext (registration and secret rotation).
#[derive(Debug)]
pub struct ClientWithSecret {
    pub client: ClientInfo,
    pub client_secret: ClientSecret,
}

/// What [`Tessera::set_client_status`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ClientAction {
    /// Stop issuing tokens and revoke every token it holds, at once.
    Disable,
    Enable,
}

/// An access token, as the token endpoint answers it.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: TokenSecret,
    pub id: TokenId,
    pub expires_in: u32,
    /// The granted scopes, space-separated (RFC 6749's `scope`).
    pub scope: String,
}

/// Why the token endpoint refuses: RFC 6749 section 5.2's error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantRefused {
    /// Unknown client, wrong or retired secret: one answer for all, so it tells nothing.
    InvalidClient,
    /// The client authenticated but may not get a token (disabled, or not from here).
    UnauthorizedClient(String),
    /// A scope asked for that the client does not hold.
    InvalidScope(String),
}

/// The answer to an introspection (RFC 7662): `active` and, when active, the token's facts.
#[derive(Debug, Clone, Serialize, serde::Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Introspected {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
}

/// Who asks to introspect: an authenticated client sees only its own tokens; a caller with
/// `tokens:verify` (which may already verify any token) sees any.
#[derive(Debug, Clone)]
pub enum Introspector {
    Client(String),
    Verifier,
}

impl Tessera {
    fn require_client_manager(actor: &Actor, doing: &str) -> Result<()> {
        if actor.manages_company_tokens() {
            Ok(())
        } else {
            Err(Error::forbidden(
                None,
                format!(
                    "only admins and VRM admins may {doing}; OAuth clients belong to the company"
                ),
            ))
        }
    }

    /// Through a token, a client may be registered (or brought back, or given a new secret)
    /// only within that token's authority: scopes it holds, networks inside its own, a rate
    /// limit no higher, and no tokens after the token's own expiry (`expires_at`, the
    /// client's end; None for none).
    fn check_client_within(
        by: &TokenLimits,
        scopes: &Scopes,
        networks: &Networks,
        rate: u32,
        expires_at: Option<i64>,
        doing: &str,
    ) -> Result<()> {
        if let Some(limit) = by.expires_at {
            if expires_at.is_none_or(|e| e > limit.unix_timestamp()) {
                return Err(Error::forbidden(
                    Field::Client,
                    format!(
                        "the client would get tokens after {}, when the token this request was made with expires; {doing} in the app or the CLI",
                        crate::text::date(limit)
                    ),
                ));
            }
        }
        by.require_scopes(scopes, doing)?;
        if !by.covers_networks(networks) {
            return Err(Error::forbidden(Field::AllowedNetworks, format!(
                "the token this request was made with may only be used from {}; a client it registers must be limited to those networks or narrower ones",
                by.networks.to_text().replace(' ', ", ")
            )));
        }
        if rate > by.rate_limit {
            return Err(Error::forbidden(Field::RateLimit, format!(
                "{rate} requests per minute is more than the {} of the token this request was made with; choose at most {}",
                by.rate_limit, by.rate_limit
            )));
        }
        Ok(())
    }

    fn within_row(by: &TokenLimits, row: &ClientRow, doing: &str) -> Result<()> {
        Self::check_client_within(
            by,
            &scopes_from_text(&row.scopes),
            &Networks::from_text(&row.allowed_networks),
            u32::try_from(row.rate_limit).unwrap_or(u32::MAX),
            row.expires_at,
            doing,
        )
    }

    /// Register a client. Its first secret is returned once.
    pub async fn create_client(&self, actor: &Actor, req: NewClient) -> Result<ClientWithSecret> {
        self.require_init().await?;
        Self::require_client_manager(actor, "register OAuth clients")?;
        let policy = self.policy().await?;
        let name = req.name.trim().to_owned();
        check_text(Field::Name, &name, 1, MAX_NAME)?;
        let description = req.description.trim().to_owned();
        check_text(Field::Description, &description, 0, MAX_DESCRIPTION)?;
        let scopes: Vec<Scope> = if req.scopes.is_empty() {
            vec!["me:read".parse()?]
        } else {
            req.scopes.clone()
        };
        self.check_scopes_exist(&scopes).await?;
        if let Some(s) = scopes.iter().find(|s| !authority::company_may_hold(s)) {
            return Err(Error::forbidden(Field::Scopes, format!(
                "OAuth clients act with at most a VRM admin's rights and cannot carry {s}; give that access to a person's token instead"
            )));
        }
        if let Some(role) = actor.role() {
            if let Some(s) = scopes.iter().find(|s| !role.allows(s)) {
                return Err(Error::forbidden(
                    Field::Scopes,
                    format!("the role {role} may not grant {s}; choose scopes the role allows"),
                ));
            }
        }
        let scopes: Scopes = scopes.into_iter().collect();
        let ttl = req.token_ttl.unwrap_or(DEFAULT_TOKEN_TTL);
        if ttl < MIN_TOKEN_TTL || ttl > MAX_TOKEN_TTL {
            return Err(Error::invalid(
                Field::TokenTtl,
                format!(
                    "{} seconds is not an access-token lifetime Tessera gives; choose 1s to 24h (default 1h)",
                    ttl.whole_seconds()
                ),
            ));
        }
        let mut networks = req.networks.clone();
        let mut rate = req.rate_limit;
        if let Some(by) = actor.through() {
            if networks.is_empty() {
                networks = by.networks.clone();
            }
            rate = Some(rate.unwrap_or(policy.default_rate_limit.min(by.rate_limit)));
        }
        let rate = policy.check_rate_limit(rate.unwrap_or(policy.default_rate_limit))?;
        // Registered through an expiring token, the client ends with it.
        let expires_at = actor
            .through()
            .and_then(|by| by.expires_at)
            .map(|e| e.unix_timestamp());
        if let Some(by) = actor.through() {
            Self::check_client_within(
                by,
                &scopes,
                &networks,
                rate,
                expires_at,
                "register an OAuth client",
            )?;
        }

        let client_id = new_client_id();
        let key = self.key_for_new_tokens().await?;
        let secret = ClientSecret::generate();
        let hash = key.hash_validated(secret.expose());
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        if store::clients::name_taken(&mut tx, &name).await? {
            return Err(Error::conflict(
                Field::Name,
                format!(
                    "an OAuth client named '{}' already exists; choose another name",
                    clip(&name)
                ),
            ));
        }
        let id = store::clients::insert(
            &mut tx,
            store::clients::NewClientRow {
                client_id: &client_id,
                name: &name,
                description: &description,
                scopes: &scopes_to_text(&scopes),
                allowed_networks: &networks.to_text(),
                rate_limit: i64::from(rate),
                token_ttl: ttl.whole_seconds(),
                expires_at,
                created_by: actor.person().map(|u| u.id),
                created_by_label: &actor.label(),
                now,
            },
        )
        .await?;
        store::clients::insert_secret(&mut tx, id, &hash, &secret.hint(), i64::from(key.id()), now)
            .await?;
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "client.create",
            &format!("client:{id}"),
            &json!({
                "client_id": client_id,
                "name": name,
                "scopes": scopes_to_text(&scopes),
                "allowed_networks": networks.to_text(),
                "rate_limit": rate,
                "token_ttl": ttl.whole_seconds(),
                "secret_hint": secret.hint(),
            }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(ClientWithSecret {
            client: self.get_client(actor, id).await?,
            client_secret: secret,
        })
    }

    /// Clients not deleted, by name.
    pub async fn list_clients(&self, actor: &Actor) -> Result<Vec<ClientInfo>> {
        Self::require_client_manager(actor, "see OAuth clients")?;
        let mut r = self.reader().await?;
        let since = now_ts() - 86_400;
        let rows = store::clients::list(&mut r, since).await?;
        let mut secrets = store::clients::all_valid_secrets(&mut r).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let (mine, rest) = secrets.drain(..).partition(|s| s.client == row.id);
                secrets = rest;
                ClientInfo::from_rows(row, mine)
            })
            .collect())
    }

    pub async fn get_client(&self, actor: &Actor, id: i64) -> Result<ClientInfo> {
        Self::require_client_manager(actor, "see OAuth clients")?;
        let mut r = self.reader().await?;
        let row = self.client_row(&mut r, id).await?;
        let secrets = store::clients::secrets(&mut r, id).await?;
        Ok(ClientInfo::from_rows(row, secrets))
    }

    async fn client_row(&self, db: &mut impl store::Db, id: i64) -> Result<ClientRow> {
        store::clients::find(db, id, now_ts() - 86_400)
            .await?
            .ok_or_else(|| {
                Error::not_found(
                    Field::Client,
                    format!("no OAuth client {id}; see the list of clients"),
                )
            })
    }

    /// A new secret, returned once. The previous one keeps working beside it until it is
    /// retired ([`Tessera::retire_client_secret`]), so the service can switch without a gap.
    pub async fn rotate_client_secret(&self, actor: &Actor, id: i64) -> Result<ClientWithSecret> {
        Self::require_client_manager(actor, "rotate OAuth client secrets")?;
        let key = self.key_for_new_tokens().await?;
        let secret = ClientSecret::generate();
        let hash = key.hash_validated(secret.expose());
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let row = self.client_row(&mut tx, id).await?;
        if let Some(by) = actor.through() {
            Self::within_row(by, &row, "give an OAuth client a new secret")?;
        }
        let valid = store::clients::secrets(&mut tx, id).await?;
        if valid.len() >= MAX_SECRETS {
            return Err(Error::conflict(Field::Secret, format!(
                "client '{}' has {} valid secrets already (the newest, {}, and the one it replaced, {}); retire the older one first",
                row.name, valid.len(), valid[0].hint, valid[valid.len() - 1].hint
            )));
        }
        store::clients::insert_secret(&mut tx, id, &hash, &secret.hint(), i64::from(key.id()), now)
            .await?;
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "client.secret_rotate",
            &format!("client:{id}"),
            &json!({"client_id": row.client_id, "secret_hint": secret.hint(), "still_valid": valid.iter().map(|s| s.hint.clone()).collect::<Vec<_>>()}),
        )
        .await?;
        self.commit(tx).await?;
        Ok(ClientWithSecret {
            client: self.get_client(actor, id).await?,
            client_secret: secret,
        })
    }

    /// Retire one of a client's secrets: it stops authenticating at once. The last valid
    /// secret cannot be retired (disable the client instead).
    pub async fn retire_client_secret(
        &self,
        actor: &Actor,
        id: i64,
        secret: i64,
    ) -> Result<ClientInfo> {
        Self::require_client_manager(actor, "retire OAuth client secrets")?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let row = self.client_row(&mut tx, id).await?;
        let valid = store::clients::secrets(&mut tx, id).await?;
        let Some(s) = valid.iter().find(|s| s.id == secret) else {
            return Err(Error::not_found(
                Field::Secret,
                format!(
                    "client '{}' has no valid secret {secret}; its valid secrets are {}",
                    row.name,
                    valid
                        .iter()
                        .map(|s| format!("{} ({})", s.id, s.hint))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        if valid.len() == 1 {
            return Err(Error::invalid(Field::Secret, format!(
                "{} is the only valid secret of client '{}'; rotate first (the new secret works beside it), or disable the client",
                s.hint, row.name
            )));
        }
        store::clients::retire_secret(&mut tx, id, secret, now).await?;
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "client.secret_retire",
            &format!("client:{id}"),
            &json!({"client_id": row.client_id, "secret_hint": s.hint}),
        )
        .await?;
        self.commit(tx).await?;
        self.get_client(actor, id).await
    }

    /// Disable (no more tokens, and every token it holds revoked at once) or enable again.
    pub async fn set_client_status(
        &self,
        actor: &Actor,
        id: i64,
        action: ClientAction,
    ) -> Result<ClientInfo> {
        Self::require_client_manager(actor, "disable or enable OAuth clients")?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let row = self.client_row(&mut tx, id).await?;
        let (to, verb) = match action {
            ClientAction::Disable => ("disabled", "client.disable"),
            ClientAction::Enable => ("active", "client.enable"),
        };
        if action == ClientAction::Enable {
            if let Some(by) = actor.through() {
                Self::within_row(by, &row, "enable an OAuth client")?;
            }
        }
        if !store::clients::set_status(&mut tx, id, to, now).await? {
            return Err(Error::invalid(
                Field::Status,
                format!(
                    "client '{}' is {} already",
                    row.name,
                    if to == "active" {
                        "enabled"
                    } else {
                        "disabled"
                    }
                ),
            ));
        }
        let revoked = if action == ClientAction::Disable {
            store::clients::revoke_tokens(&mut tx, id, now).await?
        } else {
            Vec::new()
        };
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            verb,
            &format!("client:{id}"),
            &json!({"client_id": row.client_id, "tokens_revoked": revoked.len()}),
        )
        .await?;
        self.commit(tx).await?;
        self.get_client(actor, id).await
    }

    /// Delete a client: its secrets stop working and its tokens are revoked at once. Its
    /// access tokens and their usage stay, for the record.
    pub async fn delete_client(&self, actor: &Actor, id: i64) -> Result<()> {
        Self::require_client_manager(actor, "delete OAuth clients")?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let row = self.client_row(&mut tx, id).await?;
        store::clients::set_status(&mut tx, id, "deleted", now).await?;
        store::clients::retire_all_secrets(&mut tx, id, now).await?;
        let revoked = store::clients::revoke_tokens(&mut tx, id, now).await?;
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "client.delete",
            &format!("client:{id}"),
            &json!({"client_id": row.client_id, "name": row.name, "tokens_revoked": revoked.len()}),
        )
        .await?;
        self.commit(tx).await
    }

    /// Authenticate a client by `client_id` and secret: the client when both are right. The
    /// secret is compared in constant time with each valid secret of that client.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<std::result::Result<ClientRow, GrantRefused>> {
        let Ok(secret) = ClientSecret::parse(secret) else {
            return Ok(Err(GrantRefused::InvalidClient));
        };
        let mut r = self.reader().await?;
        let Some(row) = store::clients::find_by_client_id(&mut r, client_id.trim()).await? else {
            return Ok(Err(GrantRefused::InvalidClient));
        };
        let keys = self.keys.current();
        let stored = store::clients::secret_hashes(&mut r, row.id).await?;
        let mut matched = None;
        for (secret_id, key_id, hash, last_used) in &stored {
            if let Some(h) = keys.all().iter().find(|h| i64::from(h.id()) == *key_id) {
                let mine = h.hash_validated(secret.expose());
                if bool::from(subtle::ConstantTimeEq::ct_eq(&mine.0[..], &hash[..])) {
                    matched = Some((*secret_id, *last_used));
                }
            }
        }
        let Some((secret_id, last_used)) = matched else {
            return Ok(Err(GrantRefused::InvalidClient));
        };
        drop(r);
        // A secret's last use is kept to the minute: a client asking often costs no extra
        // write per request.
        let now = now_ts();
        if last_used.is_none_or(|at| now - at >= 60) {
            let mut tx = self.store.begin().await?;
            store::clients::touch_secret(&mut tx, secret_id, now).await?;
            // Marking a secret used changes no verification decision.
            tx.commit().await?;
        }
        Ok(Ok(row))
    }

    /// Issue an access token to an authenticated client (the client credentials grant).
    /// `scope`: RFC 6749's space-separated list; absent or empty means all the client holds.
    pub async fn issue_access_token(
        &self,
        client: &ClientRow,
        scope: Option<&str>,
        ip: Option<std::net::IpAddr>,
    ) -> Result<std::result::Result<IssuedToken, GrantRefused>> {
        if client.status != "active" {
            return Ok(Err(GrantRefused::UnauthorizedClient(format!(
                "client '{}' is disabled; an admin can enable it again",
                client.name
            ))));
        }
        let now = now_ts();
        if let Some(end) = client.expires_at.filter(|e| *e <= now) {
            return Ok(Err(GrantRefused::UnauthorizedClient(format!(
                "client '{}' expired {} with the token it was registered through; register it again",
                client.name,
                crate::text::date(from_ts(end))
            ))));
        }
        let networks = Networks::from_text(&client.allowed_networks);
        if !networks.is_empty() && !ip.is_some_and(|a| networks.allows(a)) {
            return Ok(Err(GrantRefused::UnauthorizedClient(
                "this client may not get tokens from this address".to_owned(),
            )));
        }
        let held: Scopes = scopes_from_text(&client.scopes)
            .into_iter()
            .filter(authority::company_may_hold)
            .collect();
        let granted: Scopes = match scope.map(str::trim).filter(|s| !s.is_empty()) {
            None => held.clone(),
            Some(list) => {
                let mut out = Scopes::new();
                for word in list.split(' ').filter(|w| !w.is_empty()) {
                    match word.parse::<Scope>() {
                        Ok(s) if held.contains(&s) => {
                            out.insert(s);
                        }
                        _ => {
                            return Ok(Err(GrantRefused::InvalidScope(format!(
                                "'{}' is not a scope this client holds; it holds {}",
                                clip(word),
                                scopes_to_text(&held)
                            ))))
                        }
                    }
                }
                out
            }
        };
        let key = self.key_for_new_tokens().await?;
        let token = TokenSecret::generate(TokenKind::Access);
        let hash = key.hash(&token);
        let hint = token.hint();
        let mut ttl = client
            .token_ttl
            .clamp(MIN_TOKEN_TTL.whole_seconds(), MAX_TOKEN_TTL.whole_seconds());
        if let Some(end) = client.expires_at {
            ttl = ttl.min(end - now);
        }
        let label = format!("OAuth client {} ({})", client.name, client.client_id);
        let mut tx = self.store.begin().await?;
        let id = store::tokens::insert(
            &mut tx,
            store::tokens::NewTokenRow {
                kind: TokenKind::Access.as_str(),
                owner_id: None,
                created_by: None,
                created_by_label: Some(label.clone()),
                name: &client.name,
                description: "",
                hash: &hash,
                hint: &hint,
                scopes: &scopes_to_text(&granted),
                now,
                expires_at: Some(now + ttl),
                idle_days: None,
                allowed_networks: &client.allowed_networks,
                rate_limit: client.rate_limit,
                key_id: i64::from(key.id()),
                history: None,
            },
        )
        .await?;
        store::clients::set_token_client(&mut tx, id, client.id).await?;
        store::audit::append(
            &mut tx,
            now,
            &label,
            "client.token",
            &format!("token:{id}"),
            &json!({"client_id": client.client_id, "hint": hint, "scopes": scopes_to_text(&granted), "expires_at": now + ttl}),
        )
        .await?;
        self.commit(tx).await?;
        Ok(Ok(IssuedToken {
            token,
            id,
            expires_in: u32::try_from(ttl).unwrap_or(u32::MAX),
            scope: scopes_to_text(&granted),
        }))
    }

    /// RFC 7662 introspection: `active` and the token's facts when it is active and the
    /// caller may know of it; `{"active": false}` alone otherwise.
    pub async fn introspect(&self, by: &Introspector, presented: &str) -> Result<Introspected> {
        let d = self
            .verify_at(presented, &[], None, crate::verify::unix_now())
            .await?;
        let (true, Some(t)) = (d.accepted(), d.token.as_ref()) else {
            return Ok(Introspected::default());
        };
        if let Introspector::Client(me) = by {
            if t.client.as_deref() != Some(me.as_str()) {
                return Ok(Introspected::default());
            }
        }
        let row = store::tokens::find(&mut self.reader().await?, t.id).await?;
        let sub = match (&t.client, &t.owner) {
            (Some(c), _) => c.clone(),
            (None, Some(o)) => o.email.clone(),
            (None, None) => format!("company:{}", t.name),
        };
        Ok(Introspected {
            active: true,
            scope: Some(scopes_to_text(&t.scopes)),
            client_id: t.client.clone(),
            exp: t.expires_at.map(|e| e.unix_timestamp()),
            iat: row.map(|r| r.created_at),
            sub: Some(sub),
            token_type: Some("Bearer".to_owned()),
        })
    }

    /// RFC 7009 revocation by a client of one of its own access tokens. Anything else (an
    /// unknown token, another's) is left alone without saying so.
    pub async fn revoke_by_client(&self, client: &ClientRow, presented: &str) -> Result<()> {
        let Ok(valid) = crate::token::validate(presented) else {
            return Ok(());
        };
        let keys = self.keys.current();
        let Some(row) = self
            .find_presented(valid, &keys, keys.newest().hash_validated(valid))
            .await?
        else {
            return Ok(());
        };
        if row.oauth_client != Some(client.id) || row.status == "revoked" {
            return Ok(());
        }
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        store::tokens::update_status(&mut tx, TokenId(row.id), "revoked", now).await?;
        store::audit::append(
            &mut tx,
            now,
            &format!("OAuth client {} ({})", client.name, client.client_id),
            "token.revoke",
            &format!("token:{}", row.id),
            &json!({"from": row.status, "to": "revoked", "reason": "oauth_revoke"}),
        )
        .await?;
        self.commit(tx).await
    }
}

/// A new public client identifier: `tsc_` and 20 base62 characters.
fn new_client_id() -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::from("tsc_");
    let mut buf = [0u8; 64];
    while out.len() < 24 {
        rand::fill(&mut buf[..]);
        for &b in buf.iter().filter(|b| **b < 248) {
            if out.len() == 24 {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    out
}

/// Parse an access-token lifetime like `1h`, `30m` or `3600s`.
pub fn parse_token_ttl(s: &str) -> Result<Duration> {
    let bad = || {
        Error::invalid(
            Field::TokenTtl,
            format!(
                "'{}' is not an access-token lifetime; use a number and a unit from 1s to 24h, like 15m or 1h",
                clip(s)
            ),
        )
    };
    match crate::policy::parse_length(s.trim(), false) {
        Some(Some(d)) if (MIN_TOKEN_TTL..=MAX_TOKEN_TTL).contains(&d) => Ok(d),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_public_and_distinct() {
        let a = new_client_id();
        assert_eq!(a.len(), 24);
        assert!(a.starts_with("tsc_"));
        assert_ne!(a, new_client_id());
        assert!(!crate::token::contains_token_pattern(&a));
    }

    #[test]
    fn token_lifetimes_are_bounded() {
        assert_eq!(parse_token_ttl("1h").expect("1h"), Duration::hours(1));
        assert_eq!(parse_token_ttl("90s").expect("90s"), Duration::seconds(90));
        for bad in ["0s", "25h", "1y", "soon", ""] {
            let e = parse_token_ttl(bad).expect_err(bad);
            assert_eq!(e.field(), Some(Field::TokenTtl), "{bad}");
        }
    }
}
