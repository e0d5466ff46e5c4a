//! Tokens: creating (and regenerating a user API token, which replaces the previous one),
//! listing, reading, changing status and deleting, with who may see and manage which.

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::{check_text, now_ts, Actor, Tessera, MAX_DESCRIPTION, MAX_NAME, MAX_NOTE};
use crate::authority::{self, TokenLimits};
use crate::error::{Error, Field, Result};
use crate::model::{
    scopes_from_text, scopes_to_text, Email, Networks, Role, Scope, Scopes, TokenId, TokenStatus,
    UserId,
};
use crate::policy::ExpiryRequest;
use crate::store::tokens::{TokenFilter, TokenRow, Visibility};
use crate::store::users::User;
use crate::store::{self, from_ts, ts};
use crate::text::clip;
use crate::token::{TokenKind, TokenSecret};
use crate::verify;

/// The owner of a token, for display.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OwnerRef {
    pub id: UserId,
    pub email: String,
    pub name: String,
}

/// Everything about a token except its secret.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenInfo {
    pub id: TokenId,
    pub kind: TokenKind,
    pub name: String,
    pub description: String,
    /// Free text whoever manages the token can change after creation.
    pub note: String,
    pub hint: String,
    pub owner: Option<OwnerRef>,
    /// The creator's e-mail, `operator`, or how the audit log names a token that created it.
    pub created_by: String,
    pub scopes: Vec<String>,
    pub status: TokenStatus,
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
    pub expires_at: Option<OffsetDateTime>,
    pub idle_days: Option<u32>,
    /// When idle expiry will strike if the token stays unused.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "bindings", ts(type = "string | null"))]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::date_time_or_null")
    )]
    pub idle_expires_at: Option<OffsetDateTime>,
    pub allowed_networks: Vec<String>,
    pub rate_limit: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "bindings", ts(type = "string | null"))]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::date_time_or_null")
    )]
    pub status_changed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "bindings", ts(type = "string | null"))]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::date_time_or_null")
    )]
    pub last_used_at: Option<OffsetDateTime>,
    pub last_used_ip: Option<String>,
    pub last_used_agent: Option<String>,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub use_count: i64,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub refused_count: i64,
    /// Set while the token is rotating: its successor and when it stops working.
    pub rotation: Option<Rotation>,
    /// Never grants anything; alerts on every presentation (shown to admins only).
    pub honeytoken: bool,
    /// Alert (audit `token.new_source`, a notice to its owner, or to admins for a company
    /// token) when it is accepted from a network or client it was never used from.
    pub alert_new_sources: bool,
}

/// A rotating token's overlap with its successor.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rotation {
    pub successor: TokenId,
    pub successor_hint: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub rotated_at: OffsetDateTime,
    /// When the token stops working: the overlap's end, or the successor's first accepted
    /// use plus the grace, whichever comes first.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub ends_at: OffsetDateTime,
    /// The overlap's end as chosen.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub overlap_ends_at: OffsetDateTime,
    pub grace_seconds: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "bindings", ts(type = "string | null"))]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::schema::date_time_or_null")
    )]
    pub successor_first_used_at: Option<OffsetDateTime>,
}

impl TokenInfo {
    pub(crate) fn from_row(r: TokenRow, now: OffsetDateTime) -> Self {
        let idle_expires_at = r
            .idle_days
            .map(|d| from_ts(r.idle_anchor_at.saturating_add(d.saturating_mul(86_400))));
        let expired = r.expires_at.is_some_and(|e| e <= now.unix_timestamp())
            || idle_expires_at.is_some_and(|t| t <= now);
        let until = r.rotation_until();
        let rotation_over = until.is_some_and(|u| u <= now.unix_timestamp());
        let status = match r.status.as_str() {
            "revoked" => TokenStatus::Revoked,
            // Over but not yet swept ([`Tessera::finish_due_rotations`]): refused already.
            _ if rotation_over => TokenStatus::Revoked,
            "deactivated" => TokenStatus::Deactivated,
            _ if expired => TokenStatus::Expired,
            _ if until.is_some() => TokenStatus::Rotating,
            _ => TokenStatus::Active,
        };
        let rotation = match (r.rotated_to, r.rotated_at, r.rotation_ends_at, until) {
            (Some(next), Some(at), Some(overlap), Some(until)) if r.status != "revoked" => {
                Some(Rotation {
                    successor: TokenId(next),
                    successor_hint: r.successor_hint.clone().unwrap_or_default(),
                    rotated_at: from_ts(at),
                    ends_at: from_ts(until),
                    overlap_ends_at: from_ts(overlap),
                    grace_seconds: u32::try_from(r.rotation_grace.unwrap_or(0)).unwrap_or(0),
                    successor_first_used_at: r.successor_first_used_at.map(from_ts),
                })
            }
            _ => None,
        };
        Self {
            id: TokenId(r.id),
            kind: r.kind.parse().unwrap_or(TokenKind::Personal),
            name: r.name,
            description: r.description,
            note: r.note,
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
            rotation,
            honeytoken: r.honeytoken,
            alert_new_sources: r.alert_new_sources,
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
    /// Set when this is the successor of a rotated token.
    pub rotated: Option<TokenId>,
}

/// The token a new one succeeds ([`Tessera::rotate_token`]).
pub(crate) struct Rotates {
    pub id: TokenId,
    /// None: the old token is revoked at once.
    pub ends_at: Option<i64>,
    pub grace: i64,
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
    /// A honeytoken (admins only): never grants anything, alerts on every presentation.
    pub honeytoken: bool,
    /// Alert when it is used from a new network or client; None: on for company tokens,
    /// off for others (a regenerated user token keeps its predecessor's choice).
    pub alert_new_sources: Option<bool>,
}

/// Most tokens one bulk status change takes ([`Tessera::set_token_status_bulk`]).
pub const MAX_BULK: usize = 1000;

/// What [`Tessera::update_token`] changes: the fields given, the rest as they are.
#[derive(Debug, Clone, Default)]
pub struct TokenUpdate {
    /// Free text; empty clears it.
    pub note: Option<String>,
    pub alert_new_sources: Option<bool>,
}

impl NewToken {
    /// A token of `kind` with every choice left to its defaults: the actor's own (no owner),
    /// no name or description, `me:read`, the policy's lifetime and rate limit, no idle
    /// expiry, any network. Change what matters with struct update syntax:
    /// `NewToken { scopes, ..NewToken::named(TokenKind::Personal, "ci") }`.
    pub fn of(kind: TokenKind) -> Self {
        Self {
            kind,
            owner: None,
            name: None,
            description: None,
            scopes: Vec::new(),
            expiry: ExpiryRequest::Default,
            idle_days: None,
            networks: Networks::default(),
            rate_limit: None,
            honeytoken: false,
            alert_new_sources: None,
        }
    }

    /// The same, with a name (personal and company tokens need one).
    pub fn named(kind: TokenKind, name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::of(kind)
        }
    }
}

/// What can be done to a token's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
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

impl Tessera {
    /// Create a token. The plaintext is generated here, only its keyed hash is stored, and it
    /// is returned once, after the row is committed.
    pub async fn create_token(&self, actor: &Actor, req: NewToken) -> Result<CreatedToken> {
        self.create_inner(actor, req, None).await
    }

    /// [`Tessera::create_token`], or a rotated token's successor (same transaction).
    pub(crate) async fn create_inner(
        &self,
        actor: &Actor,
        req: NewToken,
        rotates: Option<Rotates>,
    ) -> Result<CreatedToken> {
        self.require_init().await?;
        if req.honeytoken {
            actor.require_admin("create honeytokens")?;
        }
        let policy = self.policy().await?;
        let now = OffsetDateTime::now_utc();
        let scopes: Vec<Scope> = if req.scopes.is_empty() {
            vec!["me:read".parse()?]
        } else {
            req.scopes.clone()
        };
        self.check_scopes_exist(&scopes).await?;
        let description = req.description.as_deref().unwrap_or("").trim().to_owned();
        check_text(Field::Description, &description, 0, MAX_DESCRIPTION)?;

        // Whose token, and may the actor make it?
        let owner: Option<User> = match req.kind {
            TokenKind::Access => {
                return Err(Error::invalid(
                    Field::Kind,
                    "access tokens are issued to registered OAuth clients by POST /oauth/token; register a client (tessera client create, or Company tokens > OAuth clients in the app)",
                ))
            }
            TokenKind::Company => {
                if req.owner.is_some() {
                    return Err(Error::invalid(
                        Field::Owner,
                        "company tokens belong to the company; give no owner",
                    ));
                }
                if !actor.manages_company_tokens() {
                    return Err(Error::forbidden(
                        None,
                        "only admins and VRM admins may create company tokens",
                    ));
                }
                if description.is_empty() {
                    return Err(Error::invalid(
                        Field::Description,
                        "required for company tokens; say what service uses it and why",
                    ));
                }
                None
            }
            TokenKind::User | TokenKind::Personal => {
                let u = match (&req.owner, actor.person()) {
                    (Some(email), _) => self.find_user(email).await?,
                    (None, Some(p)) => p.clone(),
                    (None, None) => {
                        return Err(Error::invalid(
                            Field::Owner,
                            format!("say whose {} token this is (the owner's e-mail)", req.kind),
                        ))
                    }
                };
                match actor {
                    Actor::Operator => {}
                    a if a.user_id() == Some(u.id) => {}
                    _ => {
                        return Err(Error::forbidden(
                            None,
                            "tokens of people are created by their owners; sign in as the owner (the plaintext is shown only to its creator)",
                        ))
                    }
                }
                if !u.active {
                    return Err(Error::invalid(
                        Field::Owner,
                        format!("{} is deactivated", u.email),
                    ));
                }
                Some(u)
            }
        };

        // Scopes the granting role allows; a company token acts as a VRM admin at most.
        if req.kind == TokenKind::Company {
            if let Some(s) = scopes.iter().find(|s| !authority::company_may_hold(s)) {
                return Err(Error::forbidden(Field::Scopes, format!(
                    "company tokens act with at most a VRM admin's rights and cannot carry {s}; give that access to a person's token instead"
                )));
            }
        }
        let granting_role = match &owner {
            Some(u) => Some(u.role),
            None => actor.role(),
        };
        if let Some(role) = granting_role {
            if let Some(s) = scopes.iter().find(|s| !role.allows(s)) {
                return Err(Error::forbidden(
                    Field::Scopes,
                    format!("the role {role} may not grant {s}; choose scopes the role allows"),
                ));
            }
        }

        let name = match (req.kind, req.name.as_deref().map(str::trim)) {
            (TokenKind::User, None) | (TokenKind::User, Some("")) => "User API token".to_owned(),
            (_, Some(n)) => n.to_owned(),
            (k, None) => {
                return Err(Error::invalid(
                    Field::Name,
                    format!(
                        "required for {k} tokens; give a name that says where the token is used"
                    ),
                ))
            }
        };
        check_text(Field::Name, &name, 1, MAX_NAME)?;
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

        let key = self.key_for_new_tokens().await?;
        let secret = TokenSecret::generate(req.kind);
        let hash = key.hash(&secret);
        let hint = secret.hint();
        let now_s = ts(now);

        let mut tx = self.store.begin().await?;
        let owner_id = owner.as_ref().map(|u| u.id);
        let mut replaced = None;
        if let Some(r) = &rotates {
            // The old token leaves the live names first, so its successor can take the name.
            let started = match r.ends_at {
                Some(ends) => {
                    store::tokens::start_rotation(&mut tx, r.id, now_s, ends, r.grace).await?
                }
                None => store::tokens::revoke_active(&mut tx, r.id, now_s).await?,
            };
            if !started {
                return Err(Error::conflict(
                    Field::Id,
                    format!(
                        "token {} changed while it was being rotated; look at it again and retry",
                        r.id
                    ),
                ));
            }
        }
        match req.kind {
            _ if rotates.is_some() => {}
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
                let n = store::tokens::count_live_owned(
                    &mut tx,
                    owner_id.unwrap_or(UserId(0)),
                    &["personal"],
                )
                .await?;
                if n >= i64::from(policy.max_personal_tokens) {
                    return Err(Error::invalid(Field::Name, format!(
                        "policy allows at most {} personal tokens per user; revoke or delete one first",
                        policy.max_personal_tokens
                    )));
                }
            }
            TokenKind::Company | TokenKind::Access => {}
        }
        if store::tokens::live_name_taken(&mut tx, req.kind == TokenKind::Company, owner_id, &name)
            .await?
        {
            return Err(Error::conflict(
                Field::Name,
                format!(
                    "a live token named '{}' already exists for this owner; choose another name",
                    clip(&name)
                ),
            ));
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
                key_id: i64::from(key.id()),
                history: None,
            },
        )
        .await?;
        if req.honeytoken {
            store::tokens::mark_honeytoken(&mut tx, id).await?;
        }
        // What it was used from before carries over to its successor or replacement.
        let predecessor = rotates.as_ref().map(|r| r.id).or(replaced);
        let inherited = match predecessor {
            Some(p) => {
                store::sources::copy(&mut tx, p, id).await?;
                store::tokens::find(&mut tx, p)
                    .await?
                    .map(|r| r.alert_new_sources)
            }
            None => None,
        };
        let alert_new_sources = !req.honeytoken
            && req
                .alert_new_sources
                .or(inherited)
                .unwrap_or(req.kind == TokenKind::Company);
        if alert_new_sources {
            store::tokens::set_alert_new_sources(&mut tx, id, true).await?;
        }
        if let Some(r) = &rotates {
            store::tokens::set_successor(&mut tx, r.id, id).await?;
            store::audit::append(
                &mut tx,
                now_s,
                &actor.label(),
                "token.rotate",
                &format!("token:{}", r.id),
                &json!({
                    "successor": id,
                    "successor_hint": hint,
                    "overlap_ends_at": r.ends_at,
                    "grace_seconds": r.grace,
                }),
            )
            .await?;
            if r.ends_at.is_none() {
                store::audit::append(
                    &mut tx,
                    now_s,
                    &actor.label(),
                    "token.revoke",
                    &format!("token:{}", r.id),
                    &json!({"from": "active", "to": "revoked", "reason": "rotated", "successor": id}),
                )
                .await?;
            }
        }
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
                "rotates": rotates.as_ref().map(|r| r.id),
                "honeytoken": req.honeytoken,
                "alert_new_sources": alert_new_sources,
            }),
        )
        .await?;
        self.commit(tx).await?;
        let row = store::tokens::find(&mut self.reader().await?, id)
            .await?
            .ok_or_else(|| Error::not_found(None, "the new token vanished"))?;
        Ok(CreatedToken {
            info: TokenInfo::from_row(row, now),
            token: secret,
            replaced,
            rotated: rotates.map(|r| r.id),
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
    pub(crate) fn may_manage(&self, actor: &Actor, row: &TokenRow) -> bool {
        match actor.role() {
            None | Some(Role::Admin) => true,
            // Honeytokens are the admins' alone, whoever they name as owner.
            Some(_) if row.honeytoken => false,
            Some(role) => {
                (row.owner_id.is_some() && row.owner_id == actor.user_id().map(|u| u.0))
                    || (row.owner_id.is_none()
                        && matches!(row.kind.as_str(), "company" | "access")
                        && role.manages_company_tokens())
            }
        }
    }

    /// How many tokens the actor may see match the filter (paging ignored).
    pub async fn count_tokens(&self, actor: &Actor, filter: &TokenFilter) -> Result<i64> {
        let now = now_ts();
        store::tokens::count(
            &mut self.reader().await?,
            &self.visibility(actor),
            filter,
            now,
        )
        .await
    }

    /// List the tokens the actor may see.
    pub async fn list_tokens(&self, actor: &Actor, filter: &TokenFilter) -> Result<Vec<TokenInfo>> {
        self.finish_due_rotations().await?;
        let now = OffsetDateTime::now_utc();
        let rows = store::tokens::list(
            &mut self.reader().await?,
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
        let row = store::tokens::find(&mut self.reader().await?, id).await?;
        match row {
            Some(r) if self.may_manage(actor, &r) => Ok(r),
            _ => Err(not_visible(id)),
        }
    }

    /// A token the actor may manage and that is not deleted, read in the caller's
    /// transaction before changing it.
    pub(super) async fn changeable_row(
        &self,
        conn: &mut impl store::Db,
        actor: &Actor,
        id: TokenId,
    ) -> Result<TokenRow> {
        match store::tokens::find(conn, id).await? {
            Some(r) if self.may_manage(actor, &r) && r.deleted_at.is_none() => Ok(r),
            _ => Err(not_visible(id)),
        }
    }

    pub async fn get_token(&self, actor: &Actor, id: TokenId) -> Result<TokenInfo> {
        self.finish_due_rotations().await?;
        let row = self.managed_row(actor, id).await?;
        if row.deleted_at.is_some() {
            return Err(Error::not_found(
                Field::Id,
                format!("token {id} was deleted; its usage history is kept and can still be read"),
            ));
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
        self.change_status(actor, id, action, None).await
    }

    /// [`Tessera::set_token_status`] on many tokens, each checked on its own, so one the actor
    /// may not touch fails alone: the ids done, and each failure with its error. At most
    /// [`MAX_BULK`] ids a call.
    pub async fn set_token_status_bulk(
        &self,
        actor: &Actor,
        ids: &[TokenId],
        action: StatusAction,
    ) -> Result<(Vec<TokenId>, Vec<(TokenId, Error)>)> {
        if ids.len() > MAX_BULK {
            return Err(Error::invalid(
                Field::Id,
                format!(
                    "{} tokens in one call; send at most {MAX_BULK} at a time",
                    ids.len()
                ),
            ));
        }
        let (mut done, mut failed) = (Vec::new(), Vec::new());
        for &id in ids {
            match self.set_token_status(actor, id, action).await {
                Ok(_) => done.push(id),
                Err(e) => failed.push((id, e)),
            }
        }
        Ok((done, failed))
    }

    /// [`Tessera::set_token_status`], with why in the audit entry (`{"reason": ...}`).
    pub(crate) async fn change_status(
        &self,
        actor: &Actor,
        id: TokenId,
        action: StatusAction,
        reason: Option<&str>,
    ) -> Result<TokenInfo> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let row = self.changeable_row(&mut tx, actor, id).await?;
        let info = TokenInfo::from_row(row.clone(), now);
        let new_status = match (action, info.status) {
            (_, TokenStatus::Revoked) => {
                return Err(Error::invalid(
                    None,
                    format!("token {id} is revoked, which is final; create a new token"),
                ))
            }
            (StatusAction::Revoke, _) => "revoked",
            (StatusAction::Deactivate, TokenStatus::Deactivated) => {
                return Err(Error::invalid(
                    None,
                    format!("token {id} is already deactivated"),
                ))
            }
            (StatusAction::Deactivate, _) => "deactivated",
            (StatusAction::Activate, TokenStatus::Active | TokenStatus::Rotating) => {
                return Err(Error::invalid(
                    None,
                    format!("token {id} is already active"),
                ))
            }
            (StatusAction::Activate, TokenStatus::Expired) => {
                return Err(Error::invalid(
                    None,
                    format!("token {id} has expired and cannot be activated; create a new token"),
                ))
            }
            (StatusAction::Activate, _) => {
                if row.owner_id.is_some() && row.owner_active != Some(true) {
                    return Err(Error::invalid(
                        None,
                        format!("the owner of token {id} is deactivated"),
                    ));
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
            &{
                let mut details = json!({"hint": row.hint, "from": info.status, "to": new_status});
                if let Some(why) = reason {
                    details["reason"] = json!(why);
                }
                details
            },
        )
        .await?;
        self.commit(tx).await?;
        self.get_token(actor, id).await
    }

    /// Change a token's note (empty clears it). Whoever may manage the token may.
    pub async fn set_token_note(
        &self,
        actor: &Actor,
        id: TokenId,
        note: &str,
    ) -> Result<TokenInfo> {
        let change = TokenUpdate {
            note: Some(note.to_owned()),
            ..Default::default()
        };
        self.update_token(actor, id, change).await
    }

    /// Turn new-source alerts on or off for a token. Whoever may manage the token may.
    pub async fn set_token_alerts(
        &self,
        actor: &Actor,
        id: TokenId,
        alert_new_sources: bool,
    ) -> Result<TokenInfo> {
        let change = TokenUpdate {
            alert_new_sources: Some(alert_new_sources),
            ..Default::default()
        };
        self.update_token(actor, id, change).await
    }

    /// Change what can change after creation, all or nothing: each field given is checked
    /// before any is written, and each change is audited (`token.note`, `token.alerts`).
    /// Whoever may manage the token may; a honeytoken alerts on every use already, so its
    /// alert setting stays off.
    pub async fn update_token(
        &self,
        actor: &Actor,
        id: TokenId,
        change: TokenUpdate,
    ) -> Result<TokenInfo> {
        let note = change.note.as_deref().map(str::trim);
        if let Some(note) = note {
            check_text(Field::Note, note, 0, MAX_NOTE)?;
        }
        let mut tx = self.store.begin().await?;
        let row = self.changeable_row(&mut tx, actor, id).await?;
        if row.honeytoken && change.alert_new_sources == Some(true) {
            return Err(Error::invalid(
                Field::AlertNewSources,
                format!("token {id} is a honeytoken: every use of it alerts already"),
            ));
        }
        let now = now_ts();
        if let Some(note) = note.filter(|n| *n != row.note) {
            store::tokens::update_note(&mut tx, id, note).await?;
            store::audit::append(
                &mut tx,
                now,
                &actor.label(),
                "token.note",
                &format!("token:{id}"),
                &json!({"hint": row.hint, "note": note}),
            )
            .await?;
        }
        if let Some(on) = change
            .alert_new_sources
            .filter(|on| *on != row.alert_new_sources)
        {
            store::tokens::set_alert_new_sources(&mut tx, id, on).await?;
            store::audit::append(
                &mut tx,
                now,
                &actor.label(),
                "token.alerts",
                &format!("token:{id}"),
                &json!({"hint": row.hint, "alert_new_sources": on}),
            )
            .await?;
        }
        self.commit(tx).await?;
        self.get_token(actor, id).await
    }

    /// Delete a token: it is revoked and leaves every list, but its row stays as a tombstone
    /// (hint, owner, counts) with its usage history, so the record of where it was used
    /// survives; only retention pruning removes usage. The audit log keeps a record.
    pub async fn delete_token(&self, actor: &Actor, id: TokenId) -> Result<()> {
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let row = self.changeable_row(&mut tx, actor, id).await?;
        store::tokens::tombstone(&mut tx, id, now).await?;
        store::audit::append(&mut tx, now, &actor.label(), "token.delete", &format!("token:{id}"),
            &json!({"hint": row.hint, "name": row.name, "kind": row.kind, "owner": row.owner_email})).await?;
        self.commit(tx).await?;
        Ok(())
    }
}

/// The answer for a token the actor may not see. Someone else's token answers like a
/// missing one, so ids reveal nothing.
fn not_visible(id: TokenId) -> Error {
    Error::not_found(Field::Id, format!("no token {id} that you may see"))
}
