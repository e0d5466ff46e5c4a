//! The one interface the commands use to reach the store: the core on this computer, or a
//! team server over HTTPS ([`crate::team`]). Each method is one question or change, with the
//! same answer either way; the signed-in person's rights are checked by the core in both
//! cases (here directly, there by the server's).

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tessera_core::model::{Email, Role, Scope, TokenId};
use tessera_core::policy::Policy;
use tessera_core::reports::{Dashboard, UsageReport};
use tessera_core::service::{
    ClientAction, ClientInfo, Explanation, HoneytokenAlert, RotateRequest, RotationReport,
    ScanReport, ScopeInfo,
};
use tessera_core::store::audit::{AuditEntry, AuditFilter};
use tessera_core::store::tokens::{TokenFilter, TokenSort};
use tessera_core::store::usage::UsageEntry;
use tessera_core::store::users::User;
use tessera_core::token::TokenKind;
use tessera_core::{Actor, NewSourceAlert, NewToken, StatusAction, Tessera, TokenInfo};

use crate::error::{CmdResult, IpcError};
use crate::team::TeamServer;

/// Where the commands' store is.
pub enum Via<'a> {
    Local(&'a Tessera, Actor),
    Team(&'a TeamServer),
}

/// The signed-in person and their store.
pub struct Store<'a> {
    pub user: User,
    pub via: Via<'a>,
}

/// A token just made: its details and, this once, its plaintext.
pub struct Made {
    pub info: TokenInfo,
    pub secret: String,
}

/// A client just registered or given a secret: the client and, this once, the secret.
pub struct MadeClient {
    pub client: ClientInfo,
    pub secret: String,
}

#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct CreatedJson {
    token: String,
    #[serde(flatten)]
    info: TokenInfo,
}

#[derive(Deserialize)]
struct CreatedClientJson {
    client_secret: String,
    #[serde(flatten)]
    client: ClientInfo,
}

/// A query string from pairs whose value is set.
fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut enc = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            enc.append_pair(k, v);
        }
    }
    let q = enc.finish();
    if q.is_empty() {
        q
    } else {
        format!("?{q}")
    }
}

fn sort_name(s: TokenSort) -> &'static str {
    match s {
        TokenSort::Id => "id",
        TokenSort::Name => "name",
        TokenSort::Kind => "kind",
        TokenSort::Owner => "owner",
        TokenSort::Status => "status",
        TokenSort::Created => "created",
        TokenSort::Expires => "expires",
        TokenSort::LastUsed => "last_used",
        TokenSort::Uses => "uses",
    }
}

fn rfc3339(ts: Option<i64>) -> Option<String> {
    ts.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
}

fn path_email(e: &Email) -> String {
    form_urlencoded::byte_serialize(e.as_str().as_bytes()).collect()
}

impl Store<'_> {
    async fn get<T: DeserializeOwned>(t: &TeamServer, path: &str) -> CmdResult<T> {
        t.request(Method::GET, path, None, false).await
    }

    async fn send<T: DeserializeOwned>(
        t: &TeamServer,
        method: Method,
        path: &str,
        body: Value,
    ) -> CmdResult<T> {
        t.request(method, path, Some(&body), false).await
    }

    // Tokens.

    /// Tokens as `filter` selects them (the owner filter is the person's e-mail here).
    pub async fn list_tokens(
        &self,
        filter: &TokenFilter,
        owner_email: Option<&str>,
    ) -> CmdResult<Vec<TokenInfo>> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.list_tokens(actor, filter).await?),
            Via::Team(t) => {
                // A page holds at most 500: follow the cursor for longer lists.
                #[derive(Deserialize)]
                struct Page {
                    items: Vec<TokenInfo>,
                    next_cursor: Option<i64>,
                }
                let mut all = Vec::new();
                let mut cursor: Option<i64> = None;
                loop {
                    let mut q = token_query(filter, owner_email, false);
                    if let Some(c) = cursor {
                        q.push_str(&format!("&cursor={c}"));
                    }
                    let p: Page = Self::get(t, &format!("/v1/tokens{q}")).await?;
                    all.extend(p.items);
                    match p.next_cursor {
                        Some(c) if all.len() < filter.limit as usize => cursor = Some(c),
                        _ => break,
                    }
                }
                all.truncate(filter.limit as usize);
                Ok(all)
            }
        }
    }

    /// A page of tokens and how many the filters match in all.
    pub async fn token_page(
        &self,
        filter: &TokenFilter,
        owner_email: Option<&str>,
    ) -> CmdResult<(Vec<TokenInfo>, i64)> {
        match &self.via {
            Via::Local(core, actor) => {
                let total = core.count_tokens(actor, filter).await?;
                Ok((core.list_tokens(actor, filter).await?, total))
            }
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Page {
                    items: Vec<TokenInfo>,
                    total: i64,
                }
                let p: Page = Self::get(
                    t,
                    &format!("/v1/tokens{}", token_query(filter, owner_email, true)),
                )
                .await?;
                Ok((p.items, p.total))
            }
        }
    }

    pub async fn get_token(&self, id: TokenId) -> CmdResult<TokenInfo> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.get_token(actor, id).await?),
            Via::Team(t) => Self::get(t, &format!("/v1/tokens/{id}")).await,
        }
    }

    pub async fn token_usage(&self, id: TokenId, limit: u32) -> CmdResult<Vec<UsageEntry>> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.token_usage(actor, id, limit).await?),
            Via::Team(t) => {
                let page: Items<UsageEntry> =
                    Self::get(t, &format!("/v1/tokens/{id}/usage?limit={limit}")).await?;
                Ok(page.items)
            }
        }
    }

    pub async fn rotation_report(&self, id: TokenId) -> CmdResult<RotationReport> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.rotation_report(actor, id).await?),
            Via::Team(t) => Self::get(t, &format!("/v1/tokens/{id}/rotation")).await,
        }
    }

    /// Create a token as the person: `req` as the core takes it, `body` as the API does.
    pub async fn create_token(&self, req: NewToken, body: Value) -> CmdResult<Made> {
        match &self.via {
            Via::Local(core, actor) => {
                let c = core.create_token(actor, req).await?;
                Ok(Made {
                    secret: c.token.expose().to_owned(),
                    info: c.info,
                })
            }
            Via::Team(t) => {
                let c: CreatedJson = Self::send(t, Method::POST, "/v1/tokens", body).await?;
                Ok(Made {
                    info: c.info,
                    secret: c.token,
                })
            }
        }
    }

    pub async fn set_token_status(
        &self,
        id: TokenId,
        action: StatusAction,
    ) -> CmdResult<TokenInfo> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.set_token_status(actor, id, action).await?),
            Via::Team(t) => {
                let verb = status_verb(action);
                Self::send(
                    t,
                    Method::POST,
                    &format!("/v1/tokens/{id}/{verb}"),
                    json!({}),
                )
                .await
            }
        }
    }

    pub async fn set_token_note(&self, id: TokenId, note: &str) -> CmdResult<TokenInfo> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.set_token_note(actor, id, note).await?),
            Via::Team(t) => {
                Self::send(
                    t,
                    Method::PATCH,
                    &format!("/v1/tokens/{id}"),
                    json!({"note": note}),
                )
                .await
            }
        }
    }

    pub async fn set_token_alerts(&self, id: TokenId, on: bool) -> CmdResult<TokenInfo> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.set_token_alerts(actor, id, on).await?),
            Via::Team(t) => {
                Self::send(
                    t,
                    Method::PATCH,
                    &format!("/v1/tokens/{id}"),
                    json!({"alert_new_sources": on}),
                )
                .await
            }
        }
    }

    pub async fn rotate_token(&self, id: TokenId, req: RotateRequest) -> CmdResult<Made> {
        match &self.via {
            Via::Local(core, actor) => {
                let c = core.rotate_token(actor, id, req).await?;
                Ok(Made {
                    secret: c.token.expose().to_owned(),
                    info: c.info,
                })
            }
            Via::Team(t) => {
                let body = json!({
                    "overlap": format!("{}s", req.overlap.whole_seconds()),
                    "grace": format!("{}s", req.grace.whole_seconds()),
                });
                let c: CreatedJson =
                    Self::send(t, Method::POST, &format!("/v1/tokens/{id}/rotate"), body).await?;
                Ok(Made {
                    info: c.info,
                    secret: c.token,
                })
            }
        }
    }

    pub async fn finish_rotation(&self, id: TokenId) -> CmdResult<TokenInfo> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.finish_rotation(actor, id).await?),
            Via::Team(t) => {
                Self::send(
                    t,
                    Method::POST,
                    &format!("/v1/tokens/{id}/rotation/finish"),
                    json!({}),
                )
                .await
            }
        }
    }

    pub async fn delete_token(&self, id: TokenId) -> CmdResult<()> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.delete_token(actor, id).await?),
            Via::Team(t) => {
                let _: Value = t
                    .request(Method::DELETE, &format!("/v1/tokens/{id}"), None, false)
                    .await?;
                Ok(())
            }
        }
    }

    /// Many tokens at once: the ids done, and each failure with its message.
    pub async fn bulk_status(
        &self,
        ids: &[TokenId],
        action: StatusAction,
    ) -> CmdResult<(Vec<TokenId>, Vec<(TokenId, String)>)> {
        match &self.via {
            Via::Local(core, actor) => {
                let (done, failed) = core.set_token_status_bulk(actor, ids, action).await?;
                Ok((
                    done,
                    failed
                        .into_iter()
                        .map(|(id, e)| (id, IpcError::from(e).to_string()))
                        .collect(),
                ))
            }
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Failed {
                    id: TokenId,
                    message: String,
                }
                #[derive(Deserialize)]
                struct Answer {
                    done: Vec<TokenId>,
                    failed: Vec<Failed>,
                }
                let verb = status_verb(action);
                let a: Answer = Self::send(
                    t,
                    Method::POST,
                    "/v1/tokens/bulk",
                    json!({"ids": ids, "action": verb}),
                )
                .await?;
                Ok((
                    a.done,
                    a.failed.into_iter().map(|f| (f.id, f.message)).collect(),
                ))
            }
        }
    }

    pub async fn user_token(&self) -> CmdResult<Option<TokenInfo>> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.user_token(actor).await?),
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Answer {
                    token: Option<TokenInfo>,
                }
                let a: Answer = Self::get(t, "/v1/profile/token").await?;
                Ok(a.token)
            }
        }
    }

    pub async fn regenerate_user_token(&self, overlap_seconds: Option<u32>) -> CmdResult<Made> {
        match &self.via {
            Via::Local(core, actor) => {
                let c = core.regenerate_user_token(actor, overlap_seconds).await?;
                Ok(Made {
                    secret: c.token.expose().to_owned(),
                    info: c.info,
                })
            }
            Via::Team(t) => {
                let c: CreatedJson = Self::send(
                    t,
                    Method::POST,
                    "/v1/profile/token",
                    json!({"overlap_seconds": overlap_seconds}),
                )
                .await?;
                Ok(Made {
                    info: c.info,
                    secret: c.token,
                })
            }
        }
    }

    // Settings.

    pub async fn policy(&self) -> CmdResult<Policy> {
        match &self.via {
            Via::Local(core, _) => Ok(core.policy().await?),
            Via::Team(t) => Self::get(t, "/v1/policy").await,
        }
    }

    pub async fn set_policy(&self, p: Policy) -> CmdResult<Policy> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.set_policy(actor, p).await?),
            Via::Team(t) => {
                let body =
                    serde_json::to_value(&p).map_err(|e| IpcError::internal(e.to_string()))?;
                Self::send(t, Method::PUT, "/v1/policy", body).await
            }
        }
    }

    pub async fn list_scopes(&self) -> CmdResult<Vec<ScopeInfo>> {
        match &self.via {
            Via::Local(core, _) => Ok(core.list_scopes().await?),
            Via::Team(t) => Ok(Self::get::<Items<ScopeInfo>>(t, "/v1/scopes").await?.items),
        }
    }

    pub async fn add_scope(&self, name: &Scope, description: &str) -> CmdResult<ScopeInfo> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.add_scope(actor, name, description).await?),
            Via::Team(t) => {
                Self::send(
                    t,
                    Method::POST,
                    "/v1/scopes",
                    json!({"name": name.as_str(), "description": description}),
                )
                .await
            }
        }
    }

    // The person.

    pub async fn update_profile(&self, name: &str, source_group: &str) -> CmdResult<User> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.update_profile(actor, name, source_group).await?),
            Via::Team(t) => {
                Self::send(
                    t,
                    Method::PATCH,
                    "/v1/profile",
                    json!({"name": name, "source_group": source_group}),
                )
                .await
            }
        }
    }

    /// Change the person's password (the plaintexts are only passed on).
    pub async fn change_password(&self, current: String, next: String) -> CmdResult<()> {
        match &self.via {
            Via::Local(core, actor) => {
                use tessera_core::error::Field;
                use tessera_core::password::Password;
                // Too short to be anyone's password: wrong, as the core would say.
                let current = Password::new(current).map_err(|_| {
                    IpcError::invalid(Field::CurrentPassword, "the current password is wrong")
                })?;
                let next = Password::new(next)?;
                Ok(core.change_password(actor, current, next).await?)
            }
            Via::Team(t) => {
                let _: Value = Self::send(
                    t,
                    Method::POST,
                    "/v1/profile/password",
                    json!({"current_password": current, "new_password": next}),
                )
                .await?;
                Ok(())
            }
        }
    }

    // Users.

    /// Every user with their live token count.
    pub async fn list_users(&self) -> CmdResult<Vec<(User, i64)>> {
        match &self.via {
            Via::Local(core, actor) => {
                let users = core.list_users(actor).await?;
                let counts = core.live_token_counts(actor).await?;
                Ok(users
                    .into_iter()
                    .map(|u| {
                        let n = counts.get(&u.id).copied().unwrap_or(0);
                        (u, n)
                    })
                    .collect())
            }
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Row {
                    #[serde(flatten)]
                    user: User,
                    live_tokens: i64,
                }
                let page: Items<Row> = Self::get(t, "/v1/users").await?;
                Ok(page
                    .items
                    .into_iter()
                    .map(|r| (r.user, r.live_tokens))
                    .collect())
            }
        }
    }

    /// One user's live token count (after a change to them).
    pub async fn live_tokens_of(&self, u: &User) -> CmdResult<i64> {
        let listed = match &self.via {
            Via::Local(core, actor) => {
                let counts = core.live_token_counts(actor).await?;
                return Ok(counts.get(&u.id).copied().unwrap_or(0));
            }
            // The server answers the counts with the users.
            Via::Team(_) => self.list_users().await?,
        };
        Ok(listed
            .into_iter()
            .find(|(x, _)| x.id == u.id)
            .map_or(0, |(_, n)| n))
    }

    pub async fn add_user(&self, new: tessera_core::NewUser, password: &str) -> CmdResult<User> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.add_user(actor, new).await?),
            Via::Team(t) => {
                Self::send(
                    t,
                    Method::POST,
                    "/v1/users",
                    json!({
                        "email": new.email.as_str(), "name": new.name, "role": new.role.as_str(),
                        "password": password, "source_group": new.source_group,
                    }),
                )
                .await
            }
        }
    }

    pub async fn role_change_preview(&self, email: &Email, role: Role) -> CmdResult<Vec<String>> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.role_change_preview(actor, email, role).await?),
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Answer {
                    scopes_lost: Vec<String>,
                }
                let a: Answer = Self::get(
                    t,
                    &format!(
                        "/v1/users/{}/role-change?role={}",
                        path_email(email),
                        role.as_str()
                    ),
                )
                .await?;
                Ok(a.scopes_lost)
            }
        }
    }

    pub async fn set_role(&self, email: &Email, role: Role) -> CmdResult<(User, Vec<String>)> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.set_role(actor, email, role).await?),
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Answer {
                    user: User,
                    scopes_lost: Vec<String>,
                }
                let a: Answer = Self::send(
                    t,
                    Method::PUT,
                    &format!("/v1/users/{}/role", path_email(email)),
                    json!({"role": role.as_str()}),
                )
                .await?;
                Ok((a.user, a.scopes_lost))
            }
        }
    }

    pub async fn deprovision_count(&self, email: &Email) -> CmdResult<i64> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.deprovision_count(actor, email).await? as i64),
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Answer {
                    tokens_to_revoke: i64,
                }
                let a: Answer =
                    Self::get(t, &format!("/v1/users/{}/deactivation", path_email(email))).await?;
                Ok(a.tokens_to_revoke)
            }
        }
    }

    pub async fn deactivate_user(&self, email: &Email) -> CmdResult<(User, i64)> {
        match &self.via {
            Via::Local(core, actor) => {
                let (u, n) = core.deactivate_user(actor, email).await?;
                Ok((u, n as i64))
            }
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Answer {
                    user: User,
                    tokens_revoked: i64,
                }
                let a: Answer = Self::send(
                    t,
                    Method::POST,
                    &format!("/v1/users/{}/deactivate", path_email(email)),
                    json!({}),
                )
                .await?;
                Ok((a.user, a.tokens_revoked))
            }
        }
    }

    pub async fn reactivate_user(&self, email: &Email) -> CmdResult<User> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.reactivate_user(actor, email).await?),
            Via::Team(t) => {
                Self::send(
                    t,
                    Method::POST,
                    &format!("/v1/users/{}/reactivate", path_email(email)),
                    json!({}),
                )
                .await
            }
        }
    }

    // OAuth clients.

    pub async fn list_clients(&self) -> CmdResult<Vec<ClientInfo>> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.list_clients(actor).await?),
            Via::Team(t) => Ok(Self::get::<Items<ClientInfo>>(t, "/v1/clients")
                .await?
                .items),
        }
    }

    pub async fn create_client(
        &self,
        new: tessera_core::service::NewClient,
    ) -> CmdResult<MadeClient> {
        match &self.via {
            Via::Local(core, actor) => {
                let c = core.create_client(actor, new).await?;
                Ok(MadeClient {
                    secret: c.client_secret.expose().to_owned(),
                    client: c.client,
                })
            }
            Via::Team(t) => {
                let scopes: Vec<&str> = new.scopes.iter().map(Scope::as_str).collect();
                let mut body = json!({
                    "name": new.name, "description": new.description, "scopes": scopes,
                    "allowed_networks": new.networks.to_text().split_whitespace().collect::<Vec<_>>(),
                });
                if let Some(r) = new.rate_limit {
                    body["rate_limit"] = json!(r);
                }
                if let Some(ttl) = new.token_ttl {
                    body["token_ttl"] = json!(format!("{}s", ttl.whole_seconds()));
                }
                let c: CreatedClientJson = Self::send(t, Method::POST, "/v1/clients", body).await?;
                Ok(MadeClient {
                    client: c.client,
                    secret: c.client_secret,
                })
            }
        }
    }

    pub async fn rotate_client_secret(&self, id: i64) -> CmdResult<MadeClient> {
        match &self.via {
            Via::Local(core, actor) => {
                let c = core.rotate_client_secret(actor, id).await?;
                Ok(MadeClient {
                    secret: c.client_secret.expose().to_owned(),
                    client: c.client,
                })
            }
            Via::Team(t) => {
                let c: CreatedClientJson = Self::send(
                    t,
                    Method::POST,
                    &format!("/v1/clients/{id}/secrets"),
                    json!({}),
                )
                .await?;
                Ok(MadeClient {
                    client: c.client,
                    secret: c.client_secret,
                })
            }
        }
    }

    pub async fn retire_client_secret(&self, id: i64, secret: i64) -> CmdResult<ClientInfo> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.retire_client_secret(actor, id, secret).await?),
            Via::Team(t) => {
                t.request(
                    Method::DELETE,
                    &format!("/v1/clients/{id}/secrets/{secret}"),
                    None,
                    false,
                )
                .await
            }
        }
    }

    pub async fn set_client_status(&self, id: i64, action: ClientAction) -> CmdResult<ClientInfo> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.set_client_status(actor, id, action).await?),
            Via::Team(t) => {
                let verb = match action {
                    ClientAction::Disable => "disable",
                    ClientAction::Enable => "enable",
                };
                Self::send(
                    t,
                    Method::POST,
                    &format!("/v1/clients/{id}/{verb}"),
                    json!({}),
                )
                .await
            }
        }
    }

    pub async fn delete_client(&self, id: i64) -> CmdResult<()> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.delete_client(actor, id).await?),
            Via::Team(t) => {
                let _: Value = t
                    .request(Method::DELETE, &format!("/v1/clients/{id}"), None, false)
                    .await?;
                Ok(())
            }
        }
    }

    // Review.

    pub async fn usage_report(&self, id: TokenId, days: u32) -> CmdResult<UsageReport> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.usage_report(actor, id, days).await?),
            Via::Team(t) => {
                Self::get(
                    t,
                    &format!("/v1/tokens/{id}/report?days={}", days.clamp(1, 366)),
                )
                .await
            }
        }
    }

    /// Explain a pasted token or one the person manages (`id`).
    pub async fn explain(
        &self,
        token: Option<&str>,
        id: Option<TokenId>,
        scopes: &[Scope],
        ip: Option<std::net::IpAddr>,
        at: time::OffsetDateTime,
    ) -> CmdResult<Explanation> {
        use tessera_core::service::Presented;
        match &self.via {
            Via::Local(core, actor) => {
                let what = match (id, token) {
                    (Some(id), _) => Presented::Id(id),
                    (None, Some(t)) => Presented::Token(t),
                    (None, None) => {
                        return Err(IpcError::invalid(
                            tessera_core::error::Field::Token,
                            "paste a token, or pick one you manage",
                        ))
                    }
                };
                Ok(core
                    .explain(actor, what, scopes, ip, at.unix_timestamp())
                    .await?)
            }
            Via::Team(t) => {
                let scopes: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
                let mut body = json!({"scopes": scopes, "at": rfc3339(Some(at.unix_timestamp()))});
                match (id, token) {
                    (Some(id), _) => body["id"] = json!(id),
                    (None, Some(tok)) => body["token"] = json!(tok),
                    (None, None) => {
                        return Err(IpcError::invalid(
                            tessera_core::error::Field::Token,
                            "paste a token, or pick one you manage",
                        ))
                    }
                }
                if let Some(ip) = ip {
                    body["ip"] = json!(ip.to_string());
                }
                Self::send(t, Method::POST, "/v1/explain", body).await
            }
        }
    }

    /// What moves whenever anyone changes anything ([`Tessera::change_marker`]); asked in the
    /// background, so it keeps no session open.
    pub async fn change_marker(&self) -> CmdResult<i64> {
        match &self.via {
            Via::Local(core, _) => Ok(core.change_marker().await?),
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Answer {
                    version: i64,
                }
                let a: Answer = t.request(Method::GET, "/v1/changes", None, true).await?;
                Ok(a.version)
            }
        }
    }

    pub async fn dashboard(&self) -> CmdResult<Dashboard> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.dashboard(actor).await?),
            Via::Team(t) => Self::get(t, "/v1/dashboard").await,
        }
    }

    pub async fn acknowledge_honeytokens(&self, up_to: i64) -> CmdResult<()> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.acknowledge_honeytoken_alerts(actor, up_to).await?),
            Via::Team(t) => {
                let _: Value = Self::send(
                    t,
                    Method::POST,
                    "/v1/dashboard/honeytoken-alerts/acknowledge",
                    json!({"up_to": up_to}),
                )
                .await?;
                Ok(())
            }
        }
    }

    /// Scan files on this computer; what each token found is, the store says.
    pub async fn scan(&self, roots: &[std::path::PathBuf]) -> CmdResult<ScanReport> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.scan_paths(actor, roots).await?),
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Answer {
                    findings: Vec<tessera_core::service::Finding>,
                }
                let found = tessera_core::service::find_in_paths(roots).await?;
                let mut known = std::collections::HashMap::new();
                let distinct: Vec<String> =
                    found.distinct().into_iter().map(str::to_owned).collect();
                for chunk in distinct.chunks(1000) {
                    let a: Answer = Self::send(
                        t,
                        Method::POST,
                        "/v1/leaks/identify",
                        json!({"tokens": chunk}),
                    )
                    .await?;
                    for (s, f) in chunk.iter().zip(a.findings) {
                        known.insert(s.clone(), f);
                    }
                }
                Ok(found.report(|s| known.get(s).cloned()))
            }
        }
    }

    pub async fn revoke_leaked(&self, id: TokenId, place: &str) -> CmdResult<TokenInfo> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.revoke_leaked(actor, id, place).await?),
            Via::Team(t) => {
                Self::send(
                    t,
                    Method::POST,
                    "/v1/leaks/revoke",
                    json!({"id": id, "place": place}),
                )
                .await
            }
        }
    }

    pub async fn audit(&self, f: &AuditFilter) -> CmdResult<Vec<AuditEntry>> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.audit(actor, f).await?),
            Via::Team(t) => {
                let q = query(&[
                    ("limit", Some(f.limit.clamp(1, 500).to_string())),
                    ("cursor", f.before_id.map(|c| c.to_string())),
                    ("actor", f.actor.clone()),
                    ("action", f.action.clone()),
                    ("target", f.target.clone()),
                    ("since", rfc3339(f.since)),
                    ("until", rfc3339(f.until)),
                ]);
                Ok(Self::get::<Items<AuditEntry>>(t, &format!("/v1/audit{q}"))
                    .await?
                    .items)
            }
        }
    }

    /// The audit entries `f` matches as CSV, and how many.
    pub async fn audit_csv(&self, f: &AuditFilter) -> CmdResult<(Vec<u8>, usize)> {
        match &self.via {
            Via::Local(core, actor) => Ok(core.audit_csv(actor, f).await?),
            Via::Team(t) => {
                let q = query(&[
                    ("actor", f.actor.clone()),
                    ("action", f.action.clone()),
                    ("target", f.target.clone()),
                    ("since", rfc3339(f.since)),
                    ("until", rfc3339(f.until)),
                ]);
                let csv = t.request_text(&format!("/v1/audit/export{q}")).await?;
                // Lines after the header; a quoted field may hold a line break, so this is
                // what the file holds, not a parse.
                let rows = csv.lines().count().saturating_sub(1);
                Ok((csv.into_bytes(), rows))
            }
        }
    }

    /// Announcements due to the person: expiring tokens (with 7 or 1 days), honeytoken alerts
    /// and new-source alerts, now marked announced.
    pub async fn take_notices(
        &self,
    ) -> CmdResult<(
        Vec<(TokenInfo, u32)>,
        Vec<HoneytokenAlert>,
        Vec<NewSourceAlert>,
    )> {
        match &self.via {
            Via::Local(core, actor) => {
                let expiring = core.take_expiry_notices(actor).await?;
                let honey = match core.take_honeytoken_notices(actor).await {
                    Ok(a) => a,
                    Err(tessera_core::Error::Forbidden(_)) => Vec::new(),
                    Err(e) => return Err(e.into()),
                };
                let sources = core.take_new_source_notices(actor).await?;
                Ok((expiring, honey, sources))
            }
            Via::Team(t) => {
                #[derive(Deserialize)]
                struct Expiring {
                    token: TokenInfo,
                    days: u32,
                }
                #[derive(Deserialize)]
                struct Answer {
                    expiring: Vec<Expiring>,
                    honeytokens: Vec<HoneytokenAlert>,
                    new_sources: Vec<NewSourceAlert>,
                }
                let a: Answer = t
                    .request(Method::POST, "/v1/notices/take", Some(&json!({})), true)
                    .await?;
                Ok((
                    a.expiring.into_iter().map(|e| (e.token, e.days)).collect(),
                    a.honeytokens,
                    a.new_sources,
                ))
            }
        }
    }
}

/// The API's word for a status change (its route, and the bulk route's `action`).
fn status_verb(action: StatusAction) -> &'static str {
    match action {
        StatusAction::Revoke => "revoke",
        StatusAction::Deactivate => "deactivate",
        StatusAction::Activate => "activate",
    }
}

/// `GET /v1/tokens`'s query for a filter (the owner by e-mail).
fn token_query(f: &TokenFilter, owner_email: Option<&str>, total: bool) -> String {
    let kind = f.kind.map(|k| match k {
        TokenKind::User => "user",
        TokenKind::Personal => "personal",
        TokenKind::Company => "company",
        TokenKind::Access => "access",
    });
    let ordered = f.sort != TokenSort::Id || f.descending || f.offset > 0;
    query(&[
        ("limit", Some(f.limit.clamp(1, 500).to_string())),
        ("owner", owner_email.map(str::to_owned)),
        ("kind", kind.map(str::to_owned)),
        (
            "status",
            f.status
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(str::to_owned)),
        ),
        ("scope", f.scope.as_ref().map(|s| s.as_str().to_owned())),
        ("q", f.text.clone()),
        (
            "expiring_within_days",
            f.expiring_within_days.map(|d| d.to_string()),
        ),
        ("unused_for_days", f.unused_for_days.map(|d| d.to_string())),
        ("never_used", f.never_used.then(|| "true".to_owned())),
        (
            "presented_in_query",
            f.presented_in_query.then(|| "true".to_owned()),
        ),
        ("sort", ordered.then(|| sort_name(f.sort).to_owned())),
        ("descending", f.descending.then(|| "true".to_owned())),
        ("offset", ordered.then(|| f.offset.to_string())),
        ("total", total.then(|| "true".to_owned())),
    ])
}
