//! Signing in, and a person's own profile and password. Wrong passwords are counted per
//! e-mail in the database and slow the next attempt down.

use serde_json::json;

use super::{check_text, now_ts, Actor, Tessera, MAX_NAME};
use crate::error::{Error, Field, Result};
use crate::model::Email;
use crate::password::{self, Password};
use crate::store::users::User;
use crate::store::{self, meta};

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
        let failed = || Error::forbidden(None, "wrong e-mail or password");
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

    /// Change one's own password, proving the current one.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: Password,
        next: Password,
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
