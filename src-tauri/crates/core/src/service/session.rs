//! Signing in, a team server's sessions, and a person's own profile, password and user API
//! token. Wrong passwords are counted per e-mail in the database and slow the next attempt
//! down.

use std::net::IpAddr;

use serde_json::json;
use time::OffsetDateTime;

use super::{check_text, now_ts, Actor, Tessera, MAX_NAME};
use crate::error::{Error, Field, Result};
use crate::model::{Email, TokenStatus, UserId};
use crate::password::{self, Password};
use crate::service::{CreatedToken, NewToken, RotateRequest, TokenInfo};
use crate::store::tokens::TokenFilter;
use crate::store::users::User;
use crate::store::{self, from_ts, meta};
use crate::token::{SessionSecret, TokenKind};

/// Minutes without a request before a signed-in session ends: the app's window locks, and a
/// team server's session credential stops working.
pub const SESSION_IDLE_MINUTES: u32 = 15;
/// Hours a team server's session lasts at most, however busy; then the person signs in again.
pub const SESSION_MAX_HOURS: u32 = 12;
/// A session's last use is written at most this often (seconds): its idle end is exact to
/// this much, and a busy window costs no write per request.
const TOUCH_EVERY: i64 = 15;

/// The one answer to a wrong e-mail or password (which of the two is never said).
pub const WRONG_CREDENTIALS: &str = "wrong e-mail or password";

const IDLE_SECS: i64 = SESSION_IDLE_MINUTES as i64 * 60;

/// A session just opened: its credential (in the reply to the sign-in, this once).
#[derive(Debug)]
pub struct OpenedSession {
    pub secret: SessionSecret,
    pub id: i64,
    pub user: User,
    pub expires_at: OffsetDateTime,
}

/// A session that is open, and its person as of now.
#[derive(Debug, Clone)]
pub struct OpenSession {
    pub id: i64,
    pub user: User,
    pub expires_at: OffsetDateTime,
}

/// Why a presented session credential was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefused {
    /// Not a session credential this server issued, or one that was signed out.
    Unknown,
    /// Unused for [`SESSION_IDLE_MINUTES`].
    Idle,
    /// Past [`SESSION_MAX_HOURS`].
    Ended,
    /// Its person was deactivated.
    Inactive,
}

impl SessionRefused {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown_session",
            Self::Idle => "session_idle",
            Self::Ended => "session_ended",
            Self::Inactive => "owner_inactive",
        }
    }

    pub fn message(self) -> String {
        match self {
            Self::Unknown => {
                "this session is not known (signed out, or from another server); sign in again"
                    .to_owned()
            }
            Self::Idle => format!(
                "the session ended after {SESSION_IDLE_MINUTES} minutes idle; sign in again"
            ),
            Self::Ended => {
                format!("the session ended after {SESSION_MAX_HOURS} hours; sign in again")
            }
            Self::Inactive => "your account was deactivated; ask an admin".to_owned(),
        }
    }
}

impl Tessera {
    /// Resolve `--as EMAIL` (None: the operator). A deactivated user cannot act.
    pub async fn actor(&self, as_email: Option<&Email>) -> Result<Actor> {
        self.require_init().await?;
        let Some(email) = as_email else {
            return Ok(Actor::Operator);
        };
        let u = self.find_user(email).await?;
        if !u.active {
            return Err(Error::forbidden(
                None,
                format!(
                    "{email} is deactivated and cannot act; an admin can reactivate the account"
                ),
            ));
        }
        Ok(Actor::User(u))
    }

    /// How long the next sign-in for this e-mail waits before its password is checked:
    /// nothing at first, then 0.5 s, 1 s, 2 s ... up to 8 s after consecutive wrong
    /// passwords. Counted per e-mail in the database, so restarting the app or signing in
    /// from another front end does not reset it.
    pub async fn sign_in_delay(&self, email: &Email) -> Result<std::time::Duration> {
        let failures = sign_in_failures(&mut self.reader().await?, email).await?;
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
        let failed = || Error::forbidden(None, WRONG_CREDENTIALS);
        let user = store::users::find_by_email(&mut self.reader().await?, email).await?;
        let phc = match &user {
            Some(u) => store::users::password_hash(&mut self.reader().await?, u.id).await?,
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
            Some(u) if ok => Err(Error::forbidden(
                None,
                format!("{} is deactivated; ask an admin", u.email),
            )),
            _ => Err(failed()),
        }
    }

    /// Sign in and open a session: a short-lived credential that acts with the person's role,
    /// for a team server's window. Waits and counts wrong passwords as [`Tessera::sign_in`].
    pub async fn open_session(
        &self,
        email: &Email,
        pw: Password,
        ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Result<OpenedSession> {
        let user = self.sign_in(email, pw).await?;
        let secret = SessionSecret::generate();
        let keys = self.keys.current();
        let hasher = keys.newest();
        let now = now_ts();
        let expires_at = now + i64::from(SESSION_MAX_HOURS) * 3600;
        let ip = ip.map(|a| a.to_string());
        // Kept for the person's own record; never anything token-shaped.
        let agent: Option<String> = user_agent
            .filter(|a| !crate::token::contains_token_pattern(a))
            .map(|a| a.chars().filter(|c| !c.is_control()).take(200).collect());
        let mut tx = self.store.begin().await?;
        store::sessions::prune(&mut tx, now, now - IDLE_SECS).await?;
        let id = store::sessions::insert(
            &mut tx,
            &hasher.hash_validated(secret.expose()),
            &store::sessions::NewSession {
                user: user.id,
                key_id: i64::from(hasher.id()),
                now,
                expires_at,
                ip: ip.as_deref(),
                user_agent: agent.as_deref(),
            },
        )
        .await?;
        // Sessions change no token's verification: no cache to refresh.
        tx.commit().await?;
        Ok(OpenedSession {
            secret,
            id,
            user,
            expires_at: from_ts(expires_at),
        })
    }

    /// The open session a presented credential names, and its person read afresh (a role
    /// change applies at once). `active`: the request is the person's doing, so the session
    /// stays open another idle period; a window's background refresh passes false.
    pub async fn session(
        &self,
        presented: &str,
        active: bool,
    ) -> Result<std::result::Result<OpenSession, SessionRefused>> {
        let Ok(secret) = SessionSecret::parse(presented) else {
            return Ok(Err(SessionRefused::Unknown));
        };
        let keys = self.keys.current();
        let mut found = None;
        {
            let mut r = self.reader().await?;
            for h in keys.all() {
                let hash = h.hash_validated(secret.expose());
                if let Some(row) = store::sessions::find(&mut r, &hash, i64::from(h.id())).await? {
                    found = Some(row);
                    break;
                }
            }
        }
        let Some(row) = found else {
            return Ok(Err(SessionRefused::Unknown));
        };
        let now = now_ts();
        let refused = if row.expires_at <= now {
            Some(SessionRefused::Ended)
        } else if now - row.last_seen_at > IDLE_SECS {
            Some(SessionRefused::Idle)
        } else {
            None
        };
        let user = match refused {
            Some(_) => None,
            None => store::users::find(&mut self.reader().await?, UserId(row.user_id)).await?,
        };
        let refused = refused.or(match &user {
            Some(u) if u.active => None,
            _ => Some(SessionRefused::Inactive),
        });
        if let Some(why) = refused {
            let mut tx = self.store.begin().await?;
            store::sessions::delete(&mut tx, row.id).await?;
            tx.commit().await?;
            return Ok(Err(why));
        }
        if active && now - row.last_seen_at >= TOUCH_EVERY {
            let mut tx = self.store.begin().await?;
            store::sessions::touch(&mut tx, row.id, now).await?;
            tx.commit().await?;
        }
        Ok(Ok(OpenSession {
            id: row.id,
            user: user.ok_or_else(|| Error::not_found(None, "the user no longer exists"))?,
            expires_at: from_ts(row.expires_at),
        }))
    }

    /// Sign out: end the session. Recorded in the audit log.
    pub async fn close_session(&self, session: &OpenSession) -> Result<()> {
        let mut tx = self.store.begin().await?;
        store::sessions::delete(&mut tx, session.id).await?;
        let email = session.user.email.to_string();
        store::audit::append(
            &mut tx,
            now_ts(),
            &email,
            "user.sign_out",
            &format!("user:{email}"),
            &json!({}),
        )
        .await?;
        self.commit(tx).await
    }

    /// The person's user API token, unless revoked (at most one is live).
    pub async fn user_token(&self, actor: &Actor) -> Result<Option<TokenInfo>> {
        let u = signed_in(actor, "has a user API token")?;
        let filter = TokenFilter {
            owner: Some(u.id),
            kind: Some(TokenKind::User),
            limit: 10,
            ..Default::default()
        };
        let mut tokens = self.list_tokens(actor, &filter).await?;
        tokens.retain(|t| t.status != TokenStatus::Revoked);
        Ok(tokens.pop())
    }

    /// A new user API token for the signed-in person. Without an overlap the previous one
    /// stops working at once; with one (seconds), the previous one is rotated: it keeps
    /// working until the overlap ends or the new one's first use plus the default grace.
    pub async fn regenerate_user_token(
        &self,
        actor: &Actor,
        overlap_seconds: Option<u32>,
    ) -> Result<CreatedToken> {
        let u = signed_in(actor, "has a user API token")?;
        if let Some(overlap) = overlap_seconds.filter(|s| *s > 0) {
            let filter = TokenFilter {
                owner: Some(u.id),
                kind: Some(TokenKind::User),
                status: Some(TokenStatus::Active),
                limit: 10,
                ..Default::default()
            };
            if let Some(current) = self.list_tokens(actor, &filter).await?.pop() {
                let grace = RotateRequest::DEFAULT_GRACE.whole_seconds() as u32;
                let req = RotateRequest::from_seconds(overlap, grace)?;
                return self.rotate_token(actor, current.id, req).await;
            }
        }
        self.create_token(actor, NewToken::of(TokenKind::User))
            .await
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
                None,
                "only a signed-in person has a profile",
            ));
        };
        let (name, group) = (name.trim(), source_group.trim());
        check_text(Field::Name, name, 1, MAX_NAME)?;
        check_text(Field::SourceGroup, group, 0, MAX_NAME)?;
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

    /// Change one's own password, proving the current one. Every team server session of the
    /// person ends.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: Password,
        next: Password,
    ) -> Result<()> {
        self.change_password_keeping(actor, current, next, None)
            .await
    }

    /// [`Tessera::change_password`] from a team server's session `keep`, which stays open;
    /// the person's other sessions end.
    pub async fn change_password_keeping(
        &self,
        actor: &Actor,
        current: Password,
        next: Password,
        keep: Option<i64>,
    ) -> Result<()> {
        let Actor::User(u) = actor else {
            return Err(Error::invalid(
                None,
                "only a signed-in person has a password",
            ));
        };
        let phc = store::users::password_hash(&mut self.reader().await?, u.id)
            .await?
            .ok_or_else(|| Error::not_found(None, "the user no longer exists"))?;
        if !password::verify(current, phc).await? {
            return Err(Error::invalid(
                Field::CurrentPassword,
                "the current password is wrong",
            ));
        }
        let new_phc = password::hash(next).await?;
        let mut tx = self.store.begin().await?;
        store::users::update_password(&mut tx, u.id, &new_phc).await?;
        let ended = store::sessions::delete_for_user(&mut tx, u.id, keep).await?;
        store::audit::append(
            &mut tx,
            now_ts(),
            &actor.label(),
            "user.password_change",
            &format!("user:{}", u.email),
            &json!({"sessions_ended": ended}),
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }
}

/// The signed-in person behind `actor`, who alone `what` (a user API token, a profile).
fn signed_in<'a>(actor: &'a Actor, what: &str) -> Result<&'a User> {
    match actor {
        Actor::User(u) => Ok(u),
        _ => Err(Error::forbidden(
            None,
            format!("only a signed-in person {what}; sign in to the app or a team server"),
        )),
    }
}

/// Where consecutive wrong passwords for an e-mail are counted.
fn failures_key(email: &Email) -> String {
    format!("sign_in_failures:{email}")
}

/// Consecutive wrong passwords counted for an e-mail.
async fn sign_in_failures(conn: &mut impl store::Db, email: &Email) -> Result<u32> {
    Ok(meta::get(conn, &failures_key(email))
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}
