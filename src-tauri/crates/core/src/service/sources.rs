//! New-source alerts: a token accepted from a network (an IPv4 /24, an IPv6 /48) or a client
//! (a user agent family) it was never used from gets a `token.new_source` audit entry, a
//! notice to its owner (and to those who manage company tokens, for a company token), and a
//! line on the Dashboard, when its "alert on new sources" setting is on.
//!
//! Nothing of this is on the request's path: the usage writer hands every flush to
//! [`Tessera::record_use_counts`], which looks each accepted event's (token, network, client)
//! up in one in-memory set. Only a combination not in the set reaches the database, where
//! `token_sources` decides, across every instance on the same database, whether the network
//! or the client is new (one insert wins). A token's first network and first client are its
//! baseline, not news.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::{now_ts, Actor, Tessera};
use crate::error::Result;
use crate::model::{Role, TokenId};
use crate::store::audit::AuditFilter;
use crate::store::usage::UseEvent;
use crate::store::{self, Tx};
use crate::token::TokenKind;

pub const NETWORK: &str = "network";
pub const CLIENT: &str = "client";
/// The audit action of an alert.
pub const ACTION: &str = "token.new_source";
/// Most alerts written per token in an hour: a client that changes its user agent on every
/// request cannot flood the audit log; its sources are still recorded.
const ALERTS_PER_HOUR: u32 = 20;
/// How far back the Dashboard and notices look.
const WINDOW_SECS: i64 = 86_400;

/// The network an address belongs to for these alerts: its /24 (IPv4) or /48 (IPv6), so a
/// client moving within its provider's block is not news.
pub fn network_of(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{net}/48")
        }
    }
}

/// The client family of a user agent: the browser for a browser's `Mozilla/...` string,
/// otherwise its first product name (`curl/8.5.0` → `curl`, `PostmanRuntime/7.39.0` →
/// `PostmanRuntime`, `python-requests/2.32` → `python-requests`), so a client's upgrade is not
/// news but another program is. No user agent is a family of its own.
pub fn client_family(user_agent: Option<&str>) -> String {
    let ua = user_agent.map(str::trim).unwrap_or("");
    if ua.is_empty() {
        return "(no user agent)".into();
    }
    if ua.starts_with("Mozilla/") {
        // Order matters: Edge and Opera also say Chrome and Safari, Chrome also says Safari.
        for (marker, family) in [
            ("Edg/", "Edge"),
            ("OPR/", "Opera"),
            ("Firefox/", "Firefox"),
            ("Chrome/", "Chrome"),
            ("Chromium/", "Chrome"),
            ("Safari/", "Safari"),
        ] {
            if ua.contains(marker) {
                return family.into();
            }
        }
        return "Mozilla-compatible".into();
    }
    let name: String = ua
        .split(|c: char| c == '/' || c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    if name.is_empty() {
        "(unnamed client)".into()
    } else {
        name
    }
}

/// (token, network, client family) combinations known to be recorded in `token_sources`.
#[derive(Default, Debug)]
pub(crate) struct KnownSources {
    known: Mutex<HashSet<Combo>>,
    /// Set only by [`Tessera::set_source_tracking_for_benchmark`].
    off: AtomicBool,
}

type Combo = (i64, Option<String>, String);

impl KnownSources {
    /// Far more than a server sees in practice; past it the set starts afresh (the database
    /// still knows every source, so nothing is announced twice).
    const MAX: usize = 100_000;

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<Combo>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The accepted events whose combination is not known: one set look-up each.
    fn unknown<'a>(&self, rows: &[(&'a UseEvent, i64)]) -> Vec<(Combo, &'a UseEvent)> {
        if self.off.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let known = self.lock();
        let mut out: Vec<(Combo, &UseEvent)> = Vec::new();
        let mut taken: HashSet<Combo> = HashSet::new();
        for (e, _) in rows {
            if !e.accepted() || (e.ip.is_none() && e.user_agent.is_none()) {
                continue;
            }
            let combo = (
                e.token_id.0,
                e.ip.map(network_of),
                client_family(e.user_agent.as_deref()),
            );
            if !known.contains(&combo) && taken.insert(combo.clone()) {
                out.push((combo, e));
            }
        }
        out
    }

    fn remember(&self, combos: impl IntoIterator<Item = Combo>) {
        let mut known = self.lock();
        for c in combos {
            if known.len() >= Self::MAX {
                known.clear();
            }
            known.insert(c);
        }
    }
}

/// A network or client a token was accepted from.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenSource {
    /// `network` (an IPv4 /24 or IPv6 /48) or `client` (a user agent family).
    pub kind: String,
    /// `203.0.113.0/24`, `2001:db8:7::/48`, `curl`, `Chrome`...
    pub source: String,
    /// Its first accepted use.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub first_seen: OffsetDateTime,
}

/// A new-source alert, for the Dashboard and notices.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NewSourceAlert {
    /// The audit entry's id.
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub at: OffsetDateTime,
    pub token: TokenId,
    pub name: String,
    pub hint: String,
    /// The new network (`203.0.113.0/24`), when the network was new.
    pub network: Option<String>,
    /// The new client family (`curl`), when the client was new.
    pub client: Option<String>,
    /// The address and user agent of the request that was new.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl NewSourceAlert {
    fn from_entry(e: store::audit::AuditEntry) -> Self {
        let text = |k: &str| e.details[k].as_str().map(str::to_owned);
        Self {
            id: e.id,
            at: e.at,
            token: e.target_token().unwrap_or(TokenId(0)),
            name: text("name").unwrap_or_default(),
            hint: text("hint").unwrap_or_default(),
            network: text("network"),
            client: text("client"),
            ip: text("ip"),
            user_agent: text("user_agent"),
        }
    }
}

/// Who an alert concerns: the token's owner, and for a company token those who manage them.
fn concerns(entry: &store::audit::AuditEntry, actor: &Actor, everything: bool) -> bool {
    let company = entry.details["token_kind"]
        .as_str()
        .and_then(|k| k.parse::<TokenKind>().ok())
        .is_some_and(TokenKind::company_owned);
    let owner = entry.details["owner_id"].as_i64();
    let me = actor.person().map(|u| u.id.0);
    if owner.is_some() && owner == me {
        return true;
    }
    match actor.role() {
        None => true,
        Some(Role::Admin) if everything => true,
        Some(role) => company && role.manages_company_tokens(),
    }
}

impl Tessera {
    /// Look the accepted events of a flush up in the known set and, for combinations not in
    /// it, record their sources in `tx` and write an alert for each token with alerts on
    /// that is used from a new network or client. Returns the combinations to remember once
    /// `tx` is committed.
    pub(super) async fn note_sources(
        &self,
        tx: &mut Tx,
        rows: &[(&UseEvent, i64)],
    ) -> Result<Vec<Combo>> {
        let mut unknown = self.sources.unknown(rows);
        if unknown.is_empty() {
            return Ok(Vec::new());
        }
        // Every source is written in one order (token, kind, source), after the token
        // counters and before the audit log, as every writer does: two servers flushing at
        // once wait for each other rather than deadlock.
        unknown.sort_by(|a, b| a.0.cmp(&b.0));
        let mut keys: BTreeMap<(i64, &str, &str), i64> = BTreeMap::new();
        for ((token, network, client), e) in &unknown {
            let at = e.at.unix_timestamp();
            for key in [
                network.as_deref().map(|n| (*token, NETWORK, n)),
                Some((*token, CLIENT, client.as_str())),
            ]
            .into_iter()
            .flatten()
            {
                keys.entry(key)
                    .and_modify(|t| *t = (*t).min(at))
                    .or_insert(at);
            }
        }
        // The sources that are news: new, and not the token's first of their kind.
        let mut news: BTreeSet<(i64, &str, &str)> = BTreeSet::new();
        for (&(token, kind, source), &at) in &keys {
            let id = TokenId(token);
            if store::sources::add(&mut *tx, id, kind, source, at).await?
                && store::sources::has_other(&mut *tx, id, kind, source).await?
            {
                news.insert((token, kind, source));
            }
        }
        for ((token, network, client), e) in &unknown {
            // Each piece of news is told once, with the first request that brought it.
            let network = network
                .as_deref()
                .filter(|n| news.remove(&(*token, NETWORK, *n)));
            let client = Some(client.as_str()).filter(|c| news.remove(&(*token, CLIENT, *c)));
            if network.is_none() && client.is_none() {
                continue;
            }
            let id = TokenId(*token);
            let Some(row) = store::tokens::find(&mut *tx, id).await? else {
                continue;
            };
            if !row.alert_new_sources || row.honeytoken {
                continue;
            }
            let recent = store::audit::list(
                &mut *tx,
                &AuditFilter {
                    action: Some(ACTION.into()),
                    target: Some(format!("token:{id}")),
                    since: Some(now_ts() - 3_600),
                    limit: ALERTS_PER_HOUR,
                    ..Default::default()
                },
            )
            .await?;
            if recent.len() >= ALERTS_PER_HOUR as usize {
                // Recorded, not alerted: the hour's alerts already say this token wanders.
                continue;
            }
            store::audit::append(
                &mut *tx,
                now_ts(),
                "tessera",
                ACTION,
                &format!("token:{id}"),
                &json!({
                    "name": row.name,
                    "hint": row.hint,
                    "token_kind": row.kind,
                    "owner_id": row.owner_id,
                    "owner": row.owner_email,
                    "network": network,
                    "client": client,
                    "ip": e.ip.map(|i| i.to_string()),
                    "user_agent": e.user_agent.as_deref().map(crate::text::clip),
                }),
            )
            .await?;
        }
        Ok(unknown.into_iter().map(|(c, _)| c).collect())
    }

    pub(super) fn remember_sources(&self, combos: Vec<Combo>) {
        self.sources.remember(combos);
    }

    /// The load benchmark's baseline (`benches/load.rs --sources-baseline`): with `on` false
    /// this instance records no sources and raises no new-source alerts until it is switched
    /// on again. Nothing in the product calls it.
    #[doc(hidden)]
    pub fn set_source_tracking_for_benchmark(&self, on: bool) {
        self.sources.off.store(!on, Ordering::Relaxed);
    }

    /// New-source alerts of the last 24 hours on tokens the actor may see, newest first.
    pub async fn new_source_alerts(&self, actor: &Actor) -> Result<Vec<NewSourceAlert>> {
        let entries = self.recent_new_sources().await?;
        Ok(entries
            .into_iter()
            .filter(|e| concerns(e, actor, true))
            .map(NewSourceAlert::from_entry)
            .collect())
    }

    async fn recent_new_sources(&self) -> Result<Vec<store::audit::AuditEntry>> {
        store::audit::list(
            &mut self.reader().await?,
            &AuditFilter {
                action: Some(ACTION.into()),
                since: Some(now_ts() - WINDOW_SECS),
                limit: 500,
                ..Default::default()
            },
        )
        .await
    }

    /// Alerts of the last 24 hours not yet announced to this person on the desktop: on the
    /// tokens they own, and on company tokens for those who manage them. Marks them announced
    /// (one mark per person: the newest entry announced).
    pub async fn take_new_source_notices(&self, actor: &Actor) -> Result<Vec<NewSourceAlert>> {
        let seen = self.announced_up_to(actor, "new_source").await?;
        let entries = self.recent_new_sources().await?;
        let Some(newest) = entries.iter().map(|e| e.id).max().filter(|n| *n > seen) else {
            return Ok(Vec::new());
        };
        let out: Vec<NewSourceAlert> = entries
            .into_iter()
            .filter(|e| e.id > seen && concerns(e, actor, false))
            .map(NewSourceAlert::from_entry)
            .collect();
        self.mark_announced(actor, "new_source", newest).await?;
        Ok(out)
    }

    /// A token's known networks and clients, oldest first.
    pub async fn token_sources(&self, actor: &Actor, id: TokenId) -> Result<Vec<TokenSource>> {
        self.managed_row(actor, id).await?;
        let rows = store::sources::list(&mut self.reader().await?, id).await?;
        Ok(rows
            .into_iter()
            .map(|(kind, source, at)| TokenSource {
                kind,
                source,
                first_seen: store::from_ts(at),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_ipv4_slash_24_and_ipv6_slash_48() {
        let net = |s: &str| network_of(s.parse().expect("ip"));
        assert_eq!(net("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(net("203.0.113.1"), net("203.0.113.254"));
        assert_ne!(net("203.0.113.1"), net("203.0.114.1"));
        assert_eq!(net("2001:db8:1:2::5"), "2001:db8:1::/48");
        assert_eq!(net("2001:db8:1:ffff::1"), net("2001:db8:1::9"));
        assert_ne!(net("2001:db8:1::1"), net("2001:db8:2::1"));
        // An IPv4 client reaching an IPv6 socket is its IPv4 network.
        assert_eq!(net("::ffff:198.51.100.9"), "198.51.100.0/24");
    }

    #[test]
    fn client_families_ignore_versions_and_tell_programs_apart() {
        let fam = |s: &str| client_family(Some(s));
        assert_eq!(fam("curl/8.5.0"), "curl");
        assert_eq!(fam("curl/7.88.1"), fam("curl/8.5.0"));
        assert_eq!(fam("PostmanRuntime/7.39.0"), "PostmanRuntime");
        assert_eq!(fam("python-requests/2.32.3"), "python-requests");
        assert_eq!(fam("Go-http-client/1.1"), "Go-http-client");
        assert_eq!(fam("Wget"), "Wget");
        assert_eq!(
            fam("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
            "Chrome"
        );
        assert_eq!(
            fam("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"),
            "Edge"
        );
        assert_eq!(
            fam("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
            "Firefox"
        );
        assert_eq!(
            fam("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"),
            "Safari"
        );
        assert_eq!(client_family(None), "(no user agent)");
        assert_eq!(client_family(Some("  ")), "(no user agent)");
        assert_eq!(fam("(compatible)"), "(unnamed client)");
        assert_eq!(fam(&"x".repeat(500)).len(), 64);
    }
}
