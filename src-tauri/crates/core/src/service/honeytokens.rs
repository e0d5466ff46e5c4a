//! Honeytokens: tokens that look exactly like real ones, never grant anything, and raise an
//! alert whenever they are presented: a `honeytoken.used` audit entry with the address and
//! client, a desktop notification to admins, and an alert on the Dashboard until an admin
//! acknowledges it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::json;

use super::{now_ts, Actor, Tessera};
use crate::error::Result;
use crate::model::TokenId;
use crate::store::{self, audit::AuditFilter, meta};

/// The same source presenting the same honeytoken is recorded once a minute, so a flood of
/// presentations cannot flood the audit log.
const ALERT_EVERY_SECS: i64 = 60;
/// Where the last acknowledged alert's audit id is kept.
const ACKNOWLEDGED: &str = "honeytoken_acknowledged";

/// How a honeytoken was presented, as the server saw it.
#[derive(Debug, Clone)]
pub struct HoneytokenUse<'a> {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
}

/// A honeytoken alert not yet acknowledged, for the Dashboard and notifications.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HoneytokenAlert {
    /// The audit entry's id.
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "bindings", ts(type = "string"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::date_time"))]
    pub at: time::OffsetDateTime,
    pub token: TokenId,
    pub name: String,
    pub hint: String,
    pub ip: Option<String>,
    pub client: Option<String>,
    pub request: String,
}

/// Recently recorded (token, address, client) and when, for [`ALERT_EVERY_SECS`].
#[derive(Default, Debug)]
pub(crate) struct AlertMemory(Mutex<HashMap<Source, i64>>);

/// A honeytoken and who presented it: token id, address, client.
type Source = (i64, Option<IpAddr>, String);

impl AlertMemory {
    /// Whether this source's presentation is to be recorded now (at most once a minute each).
    fn fresh(&self, key: Source, now: i64) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 10_000 {
            m.retain(|_, at| now - *at < ALERT_EVERY_SECS);
        }
        match m.get(&key) {
            Some(at) if now - *at < ALERT_EVERY_SECS => false,
            _ => {
                m.insert(key, now);
                true
            }
        }
    }
}

impl Tessera {
    /// A honeytoken was presented: write the alert to the audit log (once a minute per
    /// address and client). Servers call this off the request's path, so the answer's time
    /// does not depend on it.
    pub async fn honeytoken_used(&self, id: TokenId, seen: HoneytokenUse<'_>) -> Result<bool> {
        let now = now_ts();
        let client: String = seen
            .user_agent
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(256)
            .collect();
        if !self.alerts.fresh((id.0, seen.ip, client.clone()), now) {
            return Ok(false);
        }
        let mut tx = self.store.begin().await?;
        let Some(row) = store::tokens::find(&mut tx, id).await? else {
            return Ok(false);
        };
        store::audit::append(
            &mut tx,
            now,
            "tessera",
            "honeytoken.used",
            &format!("token:{id}"),
            &json!({
                "name": row.name,
                "hint": row.hint,
                "ip": seen.ip.map(|i| i.to_string()),
                "client": (!client.is_empty()).then_some(client),
                "request": format!("{} {}", seen.method, crate::text::clip(seen.path)),
            }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(true)
    }

    /// Honeytoken alerts no admin has acknowledged yet, newest first (admins only; others
    /// get none).
    pub async fn honeytoken_alerts(&self, actor: &Actor) -> Result<Vec<HoneytokenAlert>> {
        if !actor.is_admin() {
            return Ok(Vec::new());
        }
        let mut r = self.reader().await?;
        let acked: i64 = meta::get(&mut r, ACKNOWLEDGED)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let entries = store::audit::list(
            &mut r,
            &AuditFilter {
                action: Some("honeytoken.used".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await?;
        Ok(entries
            .into_iter()
            .filter(|e| e.id > acked)
            .map(|e| {
                let text = |k: &str| e.details[k].as_str().map(str::to_owned);
                HoneytokenAlert {
                    id: e.id,
                    at: e.at,
                    token: e.target_token().unwrap_or(TokenId(0)),
                    name: text("name").unwrap_or_default(),
                    hint: text("hint").unwrap_or_default(),
                    ip: text("ip"),
                    client: text("client"),
                    request: text("request").unwrap_or_default(),
                }
            })
            .collect())
    }

    /// Acknowledge every alert up to and including audit entry `up_to` (admin).
    pub async fn acknowledge_honeytoken_alerts(&self, actor: &Actor, up_to: i64) -> Result<()> {
        actor.require_admin("acknowledge honeytoken alerts")?;
        let mut tx = self.store.begin().await?;
        let before: i64 = meta::get(&mut tx, ACKNOWLEDGED)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if up_to > before {
            meta::set(&mut tx, ACKNOWLEDGED, &up_to.to_string()).await?;
            store::audit::append(
                &mut tx,
                now_ts(),
                &actor.label(),
                "honeytoken.acknowledge",
                "alerts",
                &json!({"up_to": up_to}),
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    /// Alerts not yet announced to this person on the desktop; marks them announced (one mark
    /// per person: the newest alert announced), writing only when there is something new.
    pub async fn take_honeytoken_notices(&self, actor: &Actor) -> Result<Vec<HoneytokenAlert>> {
        let alerts = self.honeytoken_alerts(actor).await?;
        let seen = self.announced_up_to(actor, "honeytoken").await?;
        let fresh: Vec<HoneytokenAlert> = alerts.into_iter().filter(|a| a.id > seen).collect();
        if let Some(newest) = fresh.iter().map(|a| a.id).max() {
            self.mark_announced(actor, "honeytoken", newest).await?;
        }
        Ok(fresh)
    }
}
