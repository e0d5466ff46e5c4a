//! Users and roles (admin): adding people, changing their role, deactivating them (which
//! revokes their tokens) and bringing them back.

use serde_json::json;

use super::{check_text, now_ts, user_by_email, Actor, Tessera, MAX_NAME};
use crate::error::{Error, Field, Result};
use crate::model::{scopes_from_text, Email, Role, Scopes, UserId};
use crate::password::{self, Password};
use crate::store;
use crate::store::users::{NewUserRow, User};

/// A request to add a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password: Password,
    pub source_group: String,
}

impl NewUser {
    /// The row that records this person, with their password already hashed.
    pub(super) fn row<'a>(&'a self, password_hash: &'a str, now: i64) -> NewUserRow<'a> {
        NewUserRow {
            email: &self.email,
            name: self.name.trim(),
            role: self.role,
            password_hash,
            source_group: self.source_group.trim(),
            now,
            active: true,
        }
    }
}

impl Tessera {
    /// Add a user (admin).
    pub async fn add_user(&self, actor: &Actor, u: NewUser) -> Result<User> {
        actor.require_admin("add users")?;
        actor.require_role_grantable(u.role, &format!("add a user with the role {}", u.role))?;
        let name = u.name.trim();
        check_text(Field::Name, name, 1, MAX_NAME)?;
        check_text(Field::SourceGroup, u.source_group.trim(), 0, MAX_NAME)?;
        let phc = password::hash(u.password.clone()).await?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        if store::users::find_by_email(&mut tx, &u.email)
            .await?
            .is_some()
        {
            return Err(Error::conflict(
                Field::Email,
                format!("a user with e-mail {} already exists", u.email),
            ));
        }
        let id = store::users::insert(&mut tx, u.row(&phc, now)).await?;
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
        store::users::list(&mut self.reader().await?).await
    }

    /// The scopes a user's live tokens would lose if their role became `role` (admin).
    pub async fn role_change_preview(
        &self,
        actor: &Actor,
        email: &Email,
        role: Role,
    ) -> Result<Vec<String>> {
        actor.require_admin("change roles")?;
        let u = self.find_user(email).await?;
        let lost = scopes_lost(&mut self.reader().await?, &u, role).await?;
        Ok(lost.into_iter().map(|s| s.to_string()).collect())
    }

    /// Live (not revoked) user and personal tokens per user id (admin).
    pub async fn live_token_counts(
        &self,
        actor: &Actor,
    ) -> Result<std::collections::HashMap<UserId, i64>> {
        actor.require_admin("list users")?;
        let counts = store::tokens::count_live_by_owner(&mut self.reader().await?).await?;
        Ok(counts.into_iter().collect())
    }

    /// Change a user's role (admin). Their tokens follow at once: verification intersects
    /// token scopes with the role current at each request. Returns the user and the scopes
    /// their live tokens lose.
    pub async fn set_role(
        &self,
        actor: &Actor,
        email: &Email,
        role: Role,
    ) -> Result<(User, Vec<String>)> {
        actor.require_admin("change roles")?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let u = user_by_email(&mut tx, email).await?;
        if u.role == role {
            return Ok((u, vec![]));
        }
        actor.require_role_grantable(role, &format!("give the role {role}"))?;
        if u.role == Role::Admin && u.active && store::users::count_admins(&mut tx).await? <= 1 {
            return Err(Error::invalid(
                Field::Role,
                "this is the last active admin; make another user admin first",
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
        store::tokens::count_live_owned(&mut self.reader().await?, u.id, &["user", "personal"])
            .await
    }

    /// Deactivate a user (admin) and revoke their user and personal tokens in the same
    /// transaction. Company tokens they created stay. Returns how many were revoked.
    pub async fn deactivate_user(&self, actor: &Actor, email: &Email) -> Result<(User, usize)> {
        actor.require_admin("deactivate users")?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let u = user_by_email(&mut tx, email).await?;
        if !u.active {
            return Err(Error::invalid(
                None,
                format!("{email} is already deactivated"),
            ));
        }
        if actor.user_id() == Some(u.id) {
            return Err(Error::invalid(
                None,
                "you cannot deactivate yourself; ask another admin",
            ));
        }
        if u.role == Role::Admin && store::users::count_admins(&mut tx).await? <= 1 {
            return Err(Error::invalid(
                None,
                "this is the last active admin; make another user admin first",
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
        let u = user_by_email(&mut tx, email).await?;
        if u.active {
            return Err(Error::invalid(None, format!("{email} is already active")));
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
}

/// Scopes the user's live tokens grant under their current role but would not under `role`.
async fn scopes_lost(conn: &mut impl store::Db, u: &User, role: Role) -> Result<Scopes> {
    let rows = store::tokens::live_scopes(conn, u.id).await?;
    Ok(rows
        .iter()
        .flat_map(|s| scopes_from_text(s))
        .filter(|s| u.role.allows(s) && !role.allows(s))
        .collect())
}
