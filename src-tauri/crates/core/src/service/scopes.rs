//! Scopes: the built-in ones and the custom scopes admins add, with the roles that may hold
//! each.

use serde::Serialize;
use serde_json::json;

use super::{check_text, now_ts, Actor, Tessera, MAX_DESCRIPTION};
use crate::error::{Error, Field, Result};
use crate::model::{builtin_scope, Role, Scope, BUILTIN_SCOPES};
use crate::store;

/// A scope with its description, for pickers and listings.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScopeInfo {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    /// Roles that may hold it.
    pub roles: Vec<Role>,
}

impl Tessera {
    /// Add a custom scope (admin).
    pub async fn add_scope(
        &self,
        actor: &Actor,
        name: &Scope,
        description: &str,
    ) -> Result<ScopeInfo> {
        actor.require_admin("add scopes")?;
        check_text(Field::Description, description.trim(), 0, MAX_DESCRIPTION)?;
        let now = now_ts();
        let mut tx = self.store.begin().await?;
        let exists = store::scopes::exists(&mut tx, name.as_str()).await?;
        if exists || builtin_scope(name.as_str()).is_some() {
            return Err(Error::conflict(
                Field::Name,
                format!("the scope {name} already exists"),
            ));
        }
        store::scopes::insert(&mut tx, name.as_str(), description.trim(), now).await?;
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
        let rows = store::scopes::list(&mut self.reader().await?).await?;
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

    pub(super) async fn check_scopes_exist(&self, scopes: &[Scope]) -> Result<()> {
        let known = self.list_scopes().await?;
        for s in scopes {
            if !known.iter().any(|k| k.name == s.as_str()) {
                return Err(Error::invalid(
                    Field::Scopes,
                    format!("unknown scope '{s}'; use a listed scope, or ask an admin to add it"),
                ));
            }
        }
        Ok(())
    }
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
