//! `tessera dev seed`: fill a data dir with realistic rows for scale testing. Seeded tokens
//! get random hashes, so no plaintext exists for them at all; they list, filter and chart
//! like real ones but can never be presented.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use rand::Rng;
use serde_json::json;

use crate::error::Result;
use crate::keys::TokenHash;
use crate::model::{Email, Role, TokenId, UserId};
use crate::service::{now_ts, Actor, Tessera};
use crate::store::usage::UseEvent;
use crate::store::{self, from_ts};

/// What a seed run added.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Seeded {
    pub users: i64,
    pub tokens: i64,
    pub events: i64,
}

const AGENTS: &[&str] = &[
    "PostmanRuntime/7.39.0",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "HTTPie/3.2.2",
    "billing-sync/1.4",
    "Go-http-client/2.0",
];
const PATHS: &[&str] = &[
    "/v1/me",
    "/v1/verify",
    "/v1/tokens",
    "/v1/users",
    "/v1/audit",
];
const OUTCOMES: &[&str] = &["scope", "network", "expired", "revoked", "deactivated"];
const VIAS: &[&str] = &["bearer", "basic", "x-api-key", "token", "ssws", "query"];

impl Tessera {
    /// Add `tokens` tokens (over one user per 50 tokens) and `events` usage events spread
    /// over the last 90 days. Operator or admin only.
    pub async fn dev_seed(&self, actor: &Actor, tokens: u32, events: u32) -> Result<Seeded> {
        if !matches!(actor, Actor::Operator) {
            return Err(crate::Error::forbidden(
                None,
                "only the local operator may seed data",
            ));
        }
        self.company().await?.ok_or(crate::Error::NotSetUp)?;
        let now = now_ts();
        let mut rng = rand::rng();
        let users = i64::from(tokens / 50 + 1);
        let mut tx = self.store.begin().await?;
        let first_user = store::users::next_id(&mut tx).await?;
        // Seeded people cannot sign in: their password hash is not a valid PHC string.
        for i in 0..users {
            let role = match i % 20 {
                0 => Role::Admin,
                1 | 2 => Role::VrmAdmin,
                _ => Role::User,
            };
            let email: Email = format!("seed{}@seed.example", first_user + i).parse()?;
            store::users::insert(
                &mut tx,
                store::users::NewUserRow {
                    email: &email,
                    name: &format!("Seed User {}", first_user + i),
                    role,
                    password_hash: "!seeded",
                    source_group: "",
                    now: now - 400 * 86_400,
                    active: i % 25 != 24,
                },
            )
            .await?;
        }
        let first_token = store::tokens::next_id(&mut tx).await?;
        let mut left = tokens;
        let mut n = 0i64;
        while left > 0 {
            let batch = left.min(500);
            left -= batch;
            let made: Vec<SeedToken> = (0..batch)
                .map(|_| {
                    n += 1;
                    SeedToken::make(n, first_user + (n % users), first_token, now, &mut rng)
                })
                .collect();
            store::tokens::insert_many(&mut tx, made.iter().map(SeedToken::row).collect()).await?;
        }
        // As creating them would: company tokens alert on new sources.
        store::tokens::alert_company_tokens_from(&mut tx, first_token).await?;
        let token_count = i64::from(tokens).max(1);
        let agents: Vec<Arc<str>> = AGENTS.iter().map(|a| Arc::from(*a)).collect();
        let mut left = events;
        while left > 0 && tokens > 0 {
            let batch = left.min(2000);
            left -= batch;
            let events: Vec<UseEvent> = (0..batch)
                .map(|_| {
                    let t = first_token + rng.random_range(0..token_count);
                    let refused = rng.random_range(0..10) == 0;
                    UseEvent {
                        token_id: TokenId(t),
                        at: from_ts(now - rng.random_range(0..90 * 86_400)),
                        ip: Some(IpAddr::from([
                            10,
                            (t % 250) as u8,
                            rng.random_range(0..4),
                            rng.random_range(1..250),
                        ])),
                        user_agent: Some(agents[(t % 6) as usize].clone()),
                        method: Cow::Borrowed(if t % 3 == 0 { "POST" } else { "GET" }),
                        path: Cow::Borrowed(PATHS[(t % 5) as usize]),
                        status: if refused { 403 } else { 200 },
                        outcome: if refused {
                            OUTCOMES[rng.random_range(0..OUTCOMES.len())]
                        } else {
                            "accepted"
                        },
                        // Mostly headers; now and then a risky query-parameter presentation.
                        via: if rng.random_range(0..200) == 0 {
                            "query"
                        } else {
                            VIAS[(t % 5) as usize]
                        },
                    }
                })
                .collect();
            let rows: Vec<(&UseEvent, i64)> = events.iter().map(|e| (e, 1)).collect();
            store::usage::insert(&mut tx, &rows).await?;
        }
        store::audit::append(
            &mut tx,
            now,
            &actor.label(),
            "dev.seed",
            "database",
            &json!({"users": users, "tokens": tokens, "events": events}),
        )
        .await?;
        self.commit(tx).await?;
        Ok(Seeded {
            users,
            tokens: i64::from(tokens),
            events: i64::from(events),
        })
    }
}

/// One seeded token's made-up values, held while its row borrows them.
struct SeedToken {
    k: i64,
    kind: &'static str,
    owner: i64,
    name: String,
    hint: String,
    hash: TokenHash,
    created: i64,
    expires: Option<i64>,
    used: Option<i64>,
    status: &'static str,
    ip: Option<String>,
    use_count: i64,
    refused_count: i64,
}

impl SeedToken {
    /// The `k`th seeded token (from 1), owned by user `owner`.
    fn make(k: i64, owner: i64, first_token: i64, now: i64, rng: &mut impl Rng) -> Self {
        let kind = match k % 10 {
            0 => "company",
            1 => "user",
            _ => "personal",
        };
        let created = now - rng.random_range(0..365 * 86_400);
        let expires = if k % 17 == 0 {
            None
        } else {
            Some(created + rng.random_range(7..400) * 86_400)
        };
        let used = if k % 5 == 0 {
            None
        } else {
            Some(created.max(now - rng.random_range(0..120 * 86_400)))
        };
        let status = match k % 23 {
            0 => "revoked",
            1 => "deactivated",
            _ => "active",
        };
        let mut hash = [0u8; 32];
        rand::fill(&mut hash);
        Self {
            k,
            kind,
            owner,
            name: format!(
                "{} token {}",
                ["deploy", "ci", "billing", "reporting", "backup", "postman"][(k % 6) as usize],
                first_token + k
            ),
            hint: format!("tsr_{}_…{:04}", &kind[..1], k % 10_000),
            hash: TokenHash(hash),
            created,
            expires,
            used,
            status,
            ip: used.map(|_| format!("10.{}.{}.{}", k % 250, (k / 7) % 250, (k / 3) % 250)),
            use_count: if used.is_some() {
                rng.random_range(1..5000)
            } else {
                0
            },
            refused_count: rng.random_range(0..20),
        }
    }

    fn row(&self) -> store::tokens::NewTokenRow<'_> {
        let k = self.k;
        store::tokens::NewTokenRow {
            kind: self.kind,
            owner_id: (self.kind != "company").then_some(UserId(self.owner)),
            created_by: Some(UserId(self.owner)),
            created_by_label: None,
            name: &self.name,
            description: if self.kind == "company" {
                "seeded service account"
            } else {
                ""
            },
            hash: &self.hash,
            hint: &self.hint,
            scopes: [
                "me:read",
                "me:read tokens:read",
                "tokens:read tokens:write",
                "usage:read",
                "tokens:verify",
            ][(k % 5) as usize],
            now: self.created,
            expires_at: self.expires,
            idle_days: (k % 7 == 0).then_some(30),
            allowed_networks: if k % 11 == 0 { "10.0.0.0/8" } else { "" },
            rate_limit: 600,
            // Random hashes: no key made them; counted under the first.
            key_id: 1,
            history: Some(store::tokens::TokenHistory {
                status: self.status,
                idle_anchor_at: self.used.unwrap_or(self.created),
                last_used_at: self.used,
                last_used_ip: self.ip.as_deref(),
                last_used_agent: self.used.map(|_| AGENTS[(k % 6) as usize]),
                use_count: self.use_count,
                refused_count: self.refused_count,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::keys::KeyStoreChoice;
    use crate::store::{self, tokens::TokenFilter};
    use crate::{Actor, OpenOptions, Tessera};

    #[tokio::test]
    async fn seeding_adds_people_tokens_and_usage_for_the_operator_only() {
        let dir = tempfile::tempdir().expect("dir");
        let t = Tessera::open(OpenOptions::new(
            dir.path().to_owned(),
            KeyStoreChoice::File,
        ))
        .await
        .expect("open");
        assert!(t.dev_seed(&Actor::Operator, 10, 10).await.is_err());
        let mut tx = t.store.begin().await.expect("tx");
        store::company::insert(&mut tx, "Acme", 0)
            .await
            .expect("company");
        tx.commit().await.expect("commit");

        let op = Actor::Operator;
        let seeded = t.dev_seed(&op, 1250, 3000).await.expect("seed");
        assert_eq!(
            (seeded.users, seeded.tokens, seeded.events),
            (26, 1250, 3000)
        );
        let people = t.list_users(&op).await.expect("users");
        assert_eq!(people.len(), 26);
        assert_eq!(people.iter().filter(|u| !u.active).count(), 1);
        let someone = Actor::User(people[0].clone());
        assert!(t.dev_seed(&someone, 10, 10).await.is_err());
        let all = TokenFilter {
            limit: 10_000,
            ..Default::default()
        };
        let tokens = t.list_tokens(&op, &all).await.expect("tokens");
        assert_eq!(tokens.len(), 1250);
        assert!(tokens
            .iter()
            .any(|k| k.last_used_ip.is_some() && k.use_count > 0));
        // As created ones: company tokens alert on new sources, the others do not.
        assert!(tokens
            .iter()
            .any(|k| k.kind == crate::token::TokenKind::Company));
        assert!(tokens
            .iter()
            .all(|k| k.alert_new_sources == (k.kind == crate::token::TokenKind::Company)));
        let mut events = 0;
        for k in &tokens {
            events += t.token_usage(&op, k.id, 10_000).await.expect("usage").len();
        }
        assert_eq!(events, 3000);
    }
}
