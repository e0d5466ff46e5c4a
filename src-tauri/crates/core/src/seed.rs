//! `tessera dev seed`: fill a data dir with realistic rows for scale testing. Seeded tokens
//! get random hashes, so no plaintext exists for them at all; they list, filter and chart
//! like real ones but can never be presented.

use rand::Rng;
use serde_json::json;

use crate::error::Result;
use crate::service::{now_ts, Actor, Tessera};
use crate::store;

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
                "only the local operator may seed data",
            ));
        }
        self.company()
            .await?
            .ok_or_else(|| crate::Error::state("run `tessera init` before seeding"))?;
        let now = now_ts();
        let mut rng = rand::rng();
        let users = i64::from(tokens / 50 + 1);
        let mut tx = self.store.begin().await?;
        let (first_user,): (i64,) = sqlx::query_as("SELECT IFNULL(MAX(id), 0) + 1 FROM users")
            .fetch_one(&mut *tx)
            .await?;
        // Seeded people cannot sign in: their password hash is not a valid PHC string.
        for i in 0..users {
            let role = match i % 20 {
                0 => "admin",
                1 | 2 => "vrm_admin",
                _ => "user",
            };
            sqlx::query("INSERT INTO users (email, name, role, password_hash, active, created_at) VALUES (?, ?, ?, '!seeded', ?, ?)")
                .bind(format!("seed{}@seed.example", first_user + i))
                .bind(format!("Seed User {}", first_user + i))
                .bind(role)
                .bind(i % 25 != 24)
                .bind(now - 400 * 86_400)
                .execute(&mut *tx)
                .await?;
        }
        let (first_token,): (i64,) = sqlx::query_as("SELECT IFNULL(MAX(id), 0) + 1 FROM tokens")
            .fetch_one(&mut *tx)
            .await?;
        let mut left = tokens;
        let mut n = 0i64;
        while left > 0 {
            let batch = left.min(500);
            left -= batch;
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO tokens (kind, owner_id, created_by, name, description, hash, hint, scopes, status, created_at, \
                 expires_at, idle_days, idle_anchor_at, allowed_networks, rate_limit, last_used_at, last_used_ip, last_used_agent, \
                 use_count, refused_count) ",
            );
            let rows: Vec<_> = (0..batch)
                .map(|_| {
                    n += 1;
                    n
                })
                .collect();
            qb.push_values(rows, |mut b, k| {
                let owner = first_user + (k % users);
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
                let hint: String = format!("tsr_{}_…{:04}", &kind[..1], k % 10_000);
                b.push_bind(kind)
                    .push_bind(if kind == "company" { None } else { Some(owner) })
                    .push_bind(owner)
                    .push_bind(format!(
                        "{} token {}",
                        ["deploy", "ci", "billing", "reporting", "backup", "postman"]
                            [(k % 6) as usize],
                        first_token + k
                    ))
                    .push_bind(if kind == "company" {
                        "seeded service account"
                    } else {
                        ""
                    })
                    .push_bind(hash.to_vec())
                    .push_bind(hint)
                    .push_bind(
                        [
                            "me:read",
                            "me:read tokens:read",
                            "tokens:read tokens:write",
                            "usage:read",
                            "tokens:verify",
                        ][(k % 5) as usize],
                    )
                    .push_bind(status)
                    .push_bind(created)
                    .push_bind(expires)
                    .push_bind(if k % 7 == 0 { Some(30) } else { None })
                    .push_bind(used.unwrap_or(created))
                    .push_bind(if k % 11 == 0 { "10.0.0.0/8" } else { "" })
                    .push_bind(600)
                    .push_bind(used)
                    .push_bind(
                        used.map(|_| format!("10.{}.{}.{}", k % 250, (k / 7) % 250, (k / 3) % 250)),
                    )
                    .push_bind(used.map(|_| AGENTS[(k % 6) as usize]))
                    .push_bind(if used.is_some() {
                        rng.random_range(1..5000)
                    } else {
                        0
                    })
                    .push_bind(rng.random_range(0..20));
            });
            qb.build().execute(&mut *tx).await?;
        }
        let token_count = i64::from(tokens).max(1);
        let mut left = events;
        while left > 0 && tokens > 0 {
            let batch = left.min(2000);
            left -= batch;
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO usage_events (token_id, at, ip, user_agent, method, path, status, outcome, via) ",
            );
            qb.push_values(0..batch, |mut b, _| {
                let t = first_token + rng.random_range(0..token_count);
                let refused = rng.random_range(0..10) == 0;
                b.push_bind(t)
                    .push_bind(now - rng.random_range(0..90 * 86_400))
                    .push_bind(format!(
                        "10.{}.{}.{}",
                        t % 250,
                        rng.random_range(0..4),
                        rng.random_range(1..250)
                    ))
                    .push_bind(AGENTS[(t % 6) as usize])
                    .push_bind(if t % 3 == 0 { "POST" } else { "GET" })
                    .push_bind(PATHS[(t % 5) as usize])
                    .push_bind(if refused { 403 } else { 200 })
                    .push_bind(if refused {
                        OUTCOMES[rng.random_range(0..OUTCOMES.len())]
                    } else {
                        "accepted"
                    })
                    // Mostly headers; now and then a risky query-parameter presentation.
                    .push_bind(if rng.random_range(0..200) == 0 {
                        "query"
                    } else {
                        VIAS[(t % 5) as usize]
                    });
            });
            qb.build().execute(&mut *tx).await?;
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
