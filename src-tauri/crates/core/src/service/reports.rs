//! Read-only views for review: the admin dashboard, a token's recent usage, its usage over
//! time and the addresses and clients that presented it, tokens due an expiry notice, and the
//! audit log (reading it and checking its hash chain). Rights are the same as for listing
//! tokens: an actor sees reports only for tokens they may see; the audit log is for admins.

use serde::Serialize;
use time::OffsetDateTime;

use super::{now_ts, Actor, Tessera, TokenInfo};
use crate::error::Result;
use crate::model::{TokenId, TokenStatus};
use crate::store::audit::{self, AuditCheck, AuditEntry, AuditFilter};
use crate::store::tokens::TokenFilter;
use crate::store::usage::UsageEntry;
use crate::store::{self, from_ts, meta};

/// Uses of one token on one UTC day.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub accepted: i64,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub refused: i64,
}

/// An address and client that presented a token.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClientSeen {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub last_seen: OffsetDateTime,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub uses: i64,
}

/// One token's usage for review: the token, uses per day, recent uses, the addresses and
/// clients that presented it, and the networks and client families it was accepted from.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UsageReport {
    pub token: TokenInfo,
    /// One entry per day, oldest first, zero days included.
    pub series: Vec<DayCount>,
    /// The most recent uses, newest first (at most 200).
    pub recent: Vec<UsageEntry>,
    pub clients: Vec<ClientSeen>,
    /// What new-source alerts compare against, oldest first.
    pub sources: Vec<super::TokenSource>,
}

/// The admin landing page's numbers.
#[derive(Debug, Clone, Serialize, serde::Deserialize, Default)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Dashboard {
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub expiring_7_days: i64,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub expiring_30_days: i64,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub never_used: i64,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub unused_30_days: i64,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub refused_24_hours: i64,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub presented_in_query: i64,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub active: i64,
    /// Usage events a server could not record (its queue was full), since installation.
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub usage_dropped: i64,
    /// Honeytoken presentations no admin has acknowledged, newest first (admins only).
    pub honeytoken_alerts: Vec<super::HoneytokenAlert>,
    /// Tokens the actor may see that were used from a new network or client in the last 24
    /// hours (with alerts on), and those alerts, newest first.
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub new_source_tokens: i64,
    pub new_sources: Vec<super::NewSourceAlert>,
}

/// Most audit entries one CSV export holds ([`Tessera::audit_csv`]).
pub const MAX_AUDIT_EXPORT: usize = 100_000;

/// Where the count of usage events servers had to drop is kept.
const USAGE_DROPPED: &str = "usage_dropped";

impl Tessera {
    /// Recent usage of a token the actor may see.
    pub async fn token_usage(
        &self,
        actor: &Actor,
        id: TokenId,
        limit: u32,
    ) -> Result<Vec<UsageEntry>> {
        self.managed_row(actor, id).await?;
        store::usage::list(&mut self.reader().await?, id, limit).await
    }

    /// Count usage events a server had to drop (its pending queue was full), so the
    /// dashboard can say so.
    pub async fn record_dropped_uses(&self, n: u64) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let total = meta::get(&mut tx, USAGE_DROPPED)
            .await?
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            .saturating_add(n);
        meta::set(&mut tx, USAGE_DROPPED, &total.to_string()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accepted and refused uses per UTC day over the last `days` days, oldest first, with
    /// zero days filled in.
    pub async fn usage_series(
        &self,
        actor: &Actor,
        id: TokenId,
        days: u32,
    ) -> Result<Vec<DayCount>> {
        self.managed_row(actor, id).await?;
        let days = days.clamp(1, 366);
        let now = now_ts();
        let today = now - now.rem_euclid(86_400);
        let since = today - i64::from(days - 1) * 86_400;
        let rows = store::usage::per_day(&mut self.reader().await?, id, since).await?;
        let mut out = Vec::with_capacity(days as usize);
        for i in 0..i64::from(days) {
            let day = since + i * 86_400;
            let (a, r) = rows
                .iter()
                .find(|(d, _, _)| *d == day)
                .map(|(_, a, r)| (*a, *r))
                .unwrap_or((0, 0));
            let date = from_ts(day).date();
            out.push(DayCount {
                day: date.to_string(),
                accepted: a,
                refused: r,
            });
        }
        Ok(out)
    }

    /// A number that moves whenever anyone changes anything (the newest audit entry: every
    /// change is audited), so a window can poll it cheaply and refresh what it shows when it
    /// moves. Sign-ins move it too.
    pub async fn change_marker(&self) -> Result<i64> {
        audit::newest_id(&mut self.reader().await?).await
    }

    /// A token's [`UsageReport`] over the last `days` days (1 to 366).
    pub async fn usage_report(&self, actor: &Actor, id: TokenId, days: u32) -> Result<UsageReport> {
        Ok(UsageReport {
            token: self.get_token(actor, id).await?,
            series: self.usage_series(actor, id, days).await?,
            recent: self.token_usage(actor, id, 200).await?,
            clients: self.usage_clients(actor, id).await?,
            sources: self.token_sources(actor, id).await?,
        })
    }

    /// Addresses and clients that presented the token, most recent first.
    pub async fn usage_clients(&self, actor: &Actor, id: TokenId) -> Result<Vec<ClientSeen>> {
        self.managed_row(actor, id).await?;
        let rows = store::usage::clients(&mut self.reader().await?, id).await?;
        Ok(rows
            .into_iter()
            .map(|(ip, user_agent, first, last, uses)| ClientSeen {
                ip,
                user_agent,
                first_seen: from_ts(first),
                last_seen: from_ts(last),
                uses,
            })
            .collect())
    }

    /// Counts for the dashboard over the tokens the actor may see.
    pub async fn dashboard(&self, actor: &Actor) -> Result<Dashboard> {
        let active = |f: TokenFilter| TokenFilter {
            status: Some(TokenStatus::Active),
            ..f
        };
        let count = |f: TokenFilter| async move { self.count_tokens(actor, &f).await };
        let vis = self.visibility(actor);
        let new_sources = self.new_source_alerts(actor).await?;
        let new_source_tokens = new_sources
            .iter()
            .map(|a| a.token)
            .collect::<std::collections::HashSet<_>>()
            .len() as i64;
        let refused_24_hours =
            store::usage::refused_since(&mut self.reader().await?, &vis, now_ts() - 86_400).await?;
        Ok(Dashboard {
            expiring_7_days: count(TokenFilter {
                expiring_within_days: Some(7),
                ..Default::default()
            })
            .await?,
            expiring_30_days: count(TokenFilter {
                expiring_within_days: Some(30),
                ..Default::default()
            })
            .await?,
            never_used: count(active(TokenFilter {
                never_used: true,
                ..Default::default()
            }))
            .await?,
            unused_30_days: count(active(TokenFilter {
                unused_for_days: Some(30),
                ..Default::default()
            }))
            .await?,
            refused_24_hours,
            usage_dropped: meta::get(&mut self.reader().await?, USAGE_DROPPED)
                .await?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            presented_in_query: count(TokenFilter {
                presented_in_query: true,
                ..Default::default()
            })
            .await?,
            active: count(active(TokenFilter::default())).await?,
            honeytoken_alerts: self.honeytoken_alerts(actor).await?,
            new_source_tokens,
            new_sources,
        })
    }

    /// Tokens the actor owns or manages that expire within 7 days (and again within 1 day)
    /// and were not yet announced at that threshold. Marks them announced, so each notice
    /// is given once. Returns (token, threshold in days).
    pub async fn take_expiry_notices(&self, actor: &Actor) -> Result<Vec<(TokenInfo, u32)>> {
        self.expiry_notices(actor, true).await
    }

    /// How many notices [`Tessera::take_expiry_notices`] would give now, without marking
    /// them announced (for a locked session, which must not show token names).
    pub async fn pending_expiry_notices(&self, actor: &Actor) -> Result<usize> {
        Ok(self.expiry_notices(actor, false).await?.len())
    }

    async fn expiry_notices(&self, actor: &Actor, mark: bool) -> Result<Vec<(TokenInfo, u32)>> {
        let mut due = Vec::new();
        for days in [1u32, 7] {
            let filter = TokenFilter {
                expiring_within_days: Some(i64::from(days)),
                limit: 1000,
                ..Default::default()
            };
            for t in self.list_tokens(actor, &filter).await? {
                let mine = match actor {
                    Actor::User(u) => {
                        t.owner.as_ref().map(|o| o.id) == Some(u.id) || t.kind.company_owned()
                    }
                    _ => true,
                };
                if mine && !due.iter().any(|(d, _): &(TokenInfo, u32)| d.id == t.id) {
                    due.push((t, days));
                }
            }
        }
        let mut out = Vec::new();
        let who = actor.label();
        let mut tx = self.store.begin().await?;
        for (t, days) in due {
            let key = format!("notice:{who}:{}:{days}", t.id);
            let fresh = meta::get(&mut tx, &key).await?.is_none();
            if fresh {
                if mark {
                    meta::set(&mut tx, &key, &now_ts().to_string()).await?;
                }
                out.push((t, days));
            }
        }
        if mark {
            self.commit(tx).await?;
        } else {
            tx.rollback().await?;
        }
        Ok(out)
    }

    /// Read the audit log (admin).
    pub async fn audit(&self, actor: &Actor, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        actor.require_admin("read the audit log")?;
        store::audit::list(&mut self.reader().await?, filter).await
    }

    /// The entries `filter` matches (its limit and cursor aside: newest first, up to
    /// [`MAX_AUDIT_EXPORT`]) as CSV: id, time (RFC 3339), actor, action, target, and the
    /// details as the JSON text the log holds. Returns the bytes and how many rows. Admins.
    pub async fn audit_csv(&self, actor: &Actor, filter: &AuditFilter) -> Result<(Vec<u8>, usize)> {
        let mut page = AuditFilter {
            limit: 10_000,
            before_id: None,
            ..filter.clone()
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        let failed =
            |e: csv::Error| crate::error::Error::internal("writing the audit CSV failed", e);
        w.write_record(["id", "time", "actor", "action", "target", "details"])
            .map_err(failed)?;
        let mut rows = 0;
        loop {
            let entries = self.audit(actor, &page).await?;
            let n = entries.len();
            for e in &entries {
                let at =
                    e.at.format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default();
                w.write_record([
                    e.id.to_string().as_str(),
                    &at,
                    &e.actor,
                    &e.action,
                    &e.target,
                    &e.details.to_string(),
                ])
                .map_err(failed)?;
            }
            rows += n;
            match entries.last() {
                Some(last) if n == page.limit as usize && rows < MAX_AUDIT_EXPORT => {
                    page.before_id = Some(last.id)
                }
                _ => break,
            }
        }
        let bytes = w.into_inner().map_err(|e| {
            crate::error::Error::internal("writing the audit CSV failed", e.into_error())
        })?;
        Ok((bytes, rows))
    }

    /// Check that the audit log is as Tessera wrote it: every entry's hash matches its content
    /// and follows the entry before it, the newest entry is the one recorded on the last
    /// append, and the triggers refusing updates and deletes exist. A broken log is an
    /// `Ok` answer with [`AuditCheck::problem`] set; `Err` means the check could not run.
    pub async fn verify_audit(&self) -> Result<AuditCheck> {
        // One read transaction: a consistent snapshot even while others append.
        let mut tx = self.store.read_tx().await?;
        let check = audit::check(&mut tx).await?;
        tx.rollback().await?;
        Ok(check)
    }

    /// [`Tessera::verify_audit`] for an actor: the local operator and admins only, like
    /// reading the audit log.
    pub async fn verify_audit_as(&self, actor: &Actor) -> Result<AuditCheck> {
        actor.require_admin("verify the audit log")?;
        self.verify_audit().await
    }
}
