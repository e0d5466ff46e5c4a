//! The verification decision: is this presented string a token we accept, for these scopes,
//! from this address, now? Pure rules over one stored row; the look-up and usage recording
//! are the caller's ([`crate::service::Tessera::verify`]).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;

use crate::model::{Networks, Role, Scope, Scopes, TokenId, UserId};
use crate::store::{from_ts, tokens::TokenRow};
use crate::token::TokenKind;

/// Why a token was refused. The order here is the order rules are checked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Malformed,
    Unknown,
    Revoked,
    Deactivated,
    Expired,
    IdleExpired,
    OwnerInactive,
    Network,
    Scope,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Unknown => "unknown",
            Self::Revoked => "revoked",
            Self::Deactivated => "deactivated",
            Self::Expired => "expired",
            Self::IdleExpired => "idle_expired",
            Self::OwnerInactive => "owner_inactive",
            Self::Network => "network",
            Self::Scope => "scope",
        }
    }

    /// Whether the refusal is about identity (401) rather than rights or network (403).
    pub fn is_identity(self) -> bool {
        !matches!(self, Self::Network | Self::Scope)
    }

    /// A sentence for the person or program that presented the token. Never quotes it.
    pub fn message(self) -> &'static str {
        match self {
            Self::Malformed => "the token is not well-formed; check that it was copied whole",
            Self::Unknown => "the token is not known to this Tessera",
            Self::Revoked => "the token was revoked; create a new one",
            Self::Deactivated => {
                "the token is deactivated; ask its owner or an admin to activate it"
            }
            Self::Expired => "the token has expired; create a new one",
            Self::IdleExpired => "the token expired after going unused; create a new one",
            Self::OwnerInactive => "the token's owner is deactivated",
            Self::Network => "the token may not be used from this address",
            Self::Scope => "the token lacks a scope this request needs",
        }
    }
}

/// The owner of a verified token, as of this request.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Owner {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// What verification learned about a known token.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct VerifiedToken {
    pub id: TokenId,
    pub kind: TokenKind,
    pub name: String,
    pub hint: String,
    /// None for company tokens.
    pub owner: Option<Owner>,
    /// Token scopes intersected with the owner's current role.
    pub scopes: Scopes,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub rate_limit: u32,
    /// Where the token may be used from (empty: anywhere).
    #[serde(skip)]
    pub networks: Networks,
    #[serde(skip)]
    pub idle_days: Option<u32>,
    /// An access token's OAuth client (its public `client_id`).
    pub client: Option<String>,
    /// An access token's client's number: its rate limit is counted per client.
    #[serde(skip)]
    pub client_no: Option<i64>,
}

impl VerifiedToken {
    /// What the rate limit is counted against: the token, or an access token's client (all
    /// of a client's tokens share its limit). Tokens are positive, clients negative.
    pub fn rate_key(&self) -> i64 {
        self.client_no.map_or(self.id.0, |c| -c)
    }
}

/// The answer to one presentation.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Decision {
    /// None when accepted.
    pub refused: Option<Reason>,
    /// Present whenever the token was found, accepted or not. Shared: a cached token's
    /// facts are handed out without copying.
    pub token: Option<Arc<VerifiedToken>>,
    /// A honeytoken was presented: refused exactly like an unknown token (`token` is None),
    /// and the caller raises the alert ([`crate::Tessera::honeytoken_used`]).
    #[serde(skip)]
    pub honeytoken: Option<TokenId>,
}

impl Decision {
    pub fn accepted(&self) -> bool {
        self.refused.is_none()
    }

    pub fn refused(reason: Reason) -> Self {
        Self {
            refused: Some(reason),
            token: None,
            honeytoken: None,
        }
    }

    /// `accepted` or the reason word.
    pub fn outcome(&self) -> &'static str {
        self.refused.map(Reason::as_str).unwrap_or("accepted")
    }
}

/// A stored row turned into what the rules need, computed once and cacheable.
#[derive(Debug, Clone)]
pub struct Prepared {
    token: Arc<VerifiedToken>,
    status: StoredStatus,
    expires_at: Option<i64>,
    /// When idle expiry strikes if the token stays unused.
    idle_until: Option<i64>,
    owner_active: bool,
    /// While rotating: when it stops working, and its successor.
    rotation: Option<(i64, i64)>,
    honeytoken: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoredStatus {
    Active,
    Deactivated,
    Revoked,
}

impl Prepared {
    pub fn new(row: &TokenRow) -> Self {
        let kind: TokenKind = row.kind.parse().unwrap_or(TokenKind::Personal);
        let owner_role: Option<Role> = row.owner_role.as_deref().and_then(|r| r.parse().ok());
        let stored: Scopes = crate::model::scopes_from_text(&row.scopes);
        let scopes: Scopes = match (kind, owner_role) {
            // A company-owned token acts with at most a VRM admin's rights, whatever it holds.
            (TokenKind::Company | TokenKind::Access, _) => stored
                .into_iter()
                .filter(crate::authority::company_may_hold)
                .collect(),
            (_, Some(role)) => stored.into_iter().filter(|s| role.allows(s)).collect(),
            (_, None) => BTreeSet::new(),
        };
        let owner = match (row.owner_id, &row.owner_email, &row.owner_name, owner_role) {
            (Some(id), Some(email), Some(name), Some(role)) => Some(Owner {
                id: UserId(id),
                email: email.clone(),
                name: name.clone(),
                role,
            }),
            _ => None,
        };
        let token = VerifiedToken {
            id: TokenId(row.id),
            kind,
            name: row.name.clone(),
            hint: row.hint.clone(),
            owner,
            scopes,
            expires_at: row.expires_at.map(from_ts),
            rate_limit: u32::try_from(row.rate_limit).unwrap_or(1),
            networks: Networks::from_text(&row.allowed_networks),
            idle_days: row.idle_days.and_then(|d| u32::try_from(d).ok()),
            client: row.oauth_client_id.clone(),
            client_no: row.oauth_client,
        };
        Self {
            token: Arc::new(token),
            status: match row.status.as_str() {
                "active" => StoredStatus::Active,
                "deactivated" => StoredStatus::Deactivated,
                _ => StoredStatus::Revoked,
            },
            expires_at: row.expires_at,
            idle_until: row
                .idle_days
                .map(|d| row.idle_anchor_at.saturating_add(d.saturating_mul(86_400))),
            owner_active: kind.company_owned() || row.owner_active == Some(true),
            rotation: row
                .rotation_until()
                .map(|until| (until, row.rotated_to.unwrap_or(0))),
            honeytoken: row.honeytoken,
        }
    }

    /// Whether this may be kept in the verify cache. A rotating token's end moves earlier
    /// when its successor is first used (on any instance, without an announcement), so it is
    /// read again on every presentation.
    ///
    /// A honeytoken is never cached either, so its presentations take the look-ups an
    /// unknown token's take.
    pub fn cacheable(&self) -> bool {
        self.rotation.is_none() && !self.honeytoken
    }

    /// The token's facts as verified.
    pub fn token(&self) -> &VerifiedToken {
        &self.token
    }

    /// Apply every rule, in the order of [`Reason`].
    pub fn decide(&self, required: &[Scope], ip: Option<IpAddr>, now: OffsetDateTime) -> Decision {
        self.decide_at(required, ip, now.unix_timestamp())
    }

    /// [`Prepared::decide`] at `now` in Unix seconds (see [`unix_now`]).
    pub fn decide_at(&self, required: &[Scope], ip: Option<IpAddr>, now: i64) -> Decision {
        if self.honeytoken {
            return Decision {
                refused: Some(Reason::Unknown),
                token: None,
                honeytoken: Some(self.token.id),
            };
        }
        Decision {
            refused: self.refusal(required, ip, now),
            token: Some(Arc::clone(&self.token)),
            honeytoken: None,
        }
    }

    fn refusal(&self, required: &[Scope], ip: Option<IpAddr>, now: i64) -> Option<Reason> {
        match self.status {
            StoredStatus::Active => {}
            StoredStatus::Deactivated => return Some(Reason::Deactivated),
            StoredStatus::Revoked => return Some(Reason::Revoked),
        }
        if self.rotation.is_some_and(|(until, _)| until <= now) {
            return Some(Reason::Revoked);
        }
        if self.expires_at.is_some_and(|e| e <= now) {
            return Some(Reason::Expired);
        }
        if self.idle_until.is_some_and(|t| t <= now) {
            return Some(Reason::IdleExpired);
        }
        if !self.owner_active {
            return Some(Reason::OwnerInactive);
        }
        let networks = &self.token.networks;
        if !networks.is_empty() {
            match ip {
                Some(ip) if networks.allows(ip) => {}
                _ => return Some(Reason::Network),
            }
        }
        if !required.iter().all(|s| self.token.scopes.contains(s)) {
            return Some(Reason::Scope);
        }
        None
    }
}

/// One rule applied to a presented token, for "why was this refused?" ([`Prepared::explain`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Check {
    /// `format`, `checksum`, `known`, `status`, `expiry`, `idle_expiry`, `owner_active`,
    /// `network`, `rate_limit`, or `scope:NAME` for each scope asked about.
    pub rule: String,
    pub passed: bool,
    /// What was compared, e.g. `10.0.0.7 not in 192.168.0.0/24, 2001:db8::/32`.
    pub detail: String,
}

impl Check {
    pub fn new(rule: impl Into<String>, passed: bool, detail: impl Into<String>) -> Self {
        Self {
            rule: rule.into(),
            passed,
            detail: detail.into(),
        }
    }
}

fn when(t: i64) -> String {
    from_ts(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

impl Prepared {
    /// Apply every rule, not only up to the first refusal, and say what each compared. The
    /// first failing one (in the order of [`Reason`]) is what [`Prepared::decide_at`] refuses
    /// with. Owner and scopes are as of the row this was prepared from.
    pub fn explain(&self, required: &[Scope], ip: Option<IpAddr>, now: i64) -> Vec<Check> {
        let t = &self.token;
        let mut out = Vec::with_capacity(8 + required.len());
        out.push(match (self.status, self.rotation) {
            (StoredStatus::Active, Some((until, next))) if until <= now => Check::new(
                "status",
                false,
                format!(
                    "rotated: replaced by token {next}, overlap ended at {}",
                    when(until)
                ),
            ),
            (StoredStatus::Active, Some((until, next))) => Check::new(
                "status",
                true,
                format!(
                    "rotating: replaced by token {next}, works until {}",
                    when(until)
                ),
            ),
            (StoredStatus::Active, None) => Check::new("status", true, "active"),
            (StoredStatus::Deactivated, _) => Check::new("status", false, "deactivated"),
            (StoredStatus::Revoked, _) => Check::new("status", false, "revoked"),
        });
        out.push(match self.expires_at {
            None => Check::new("expiry", true, "never expires"),
            Some(e) if e <= now => Check::new("expiry", false, format!("expired at {}", when(e))),
            Some(e) => Check::new("expiry", true, format!("expires at {}", when(e))),
        });
        out.push(match (self.idle_until, t.idle_days) {
            (Some(u), Some(d)) if u <= now => Check::new(
                "idle_expiry",
                false,
                format!("unused for {d} days: expired at {}", when(u)),
            ),
            (Some(u), Some(d)) => Check::new(
                "idle_expiry",
                true,
                format!("expires at {} unless used ({d} idle days)", when(u)),
            ),
            _ => Check::new("idle_expiry", true, "no idle expiry"),
        });
        out.push(match (&t.owner, t.kind) {
            (_, k) if k.company_owned() => {
                Check::new("owner_active", true, "company-owned: no owner")
            }
            (Some(o), _) if self.owner_active => {
                Check::new("owner_active", true, format!("{} is active", o.email))
            }
            (Some(o), _) => {
                Check::new("owner_active", false, format!("{} is deactivated", o.email))
            }
            (None, _) => Check::new("owner_active", false, "the owner is gone"),
        });
        let nets = &t.networks;
        out.push(if nets.is_empty() {
            Check::new("network", true, "any address")
        } else {
            match ip {
                Some(ip) if nets.allows(ip) => Check::new(
                    "network",
                    true,
                    format!("{ip} in {}", nets.to_text().replace(' ', ", ")),
                ),
                Some(ip) => Check::new(
                    "network",
                    false,
                    format!("{ip} not in {}", nets.to_text().replace(' ', ", ")),
                ),
                None => Check::new(
                    "network",
                    false,
                    format!(
                        "no address given; allowed: {}",
                        nets.to_text().replace(' ', ", ")
                    ),
                ),
            }
        });
        let held: Vec<String> = t.scopes.iter().map(ToString::to_string).collect();
        for s in required {
            out.push(if t.scopes.contains(s) {
                Check::new(format!("scope:{s}"), true, "held")
            } else {
                Check::new(
                    format!("scope:{s}"),
                    false,
                    if held.is_empty() {
                        "not held (it holds no scope its owner's role allows)".to_owned()
                    } else {
                        format!("not held (holds {})", held.join(", "))
                    },
                )
            });
        }
        out
    }
}

/// The current time in whole seconds since the Unix epoch, the resolution every expiry rule
/// works in (the store keeps seconds). The verification hot path reads it on every request,
/// so on Linux it is the kernel's coarse wall clock (no system call, updated every tick, a
/// few milliseconds at most behind the precise one); elsewhere the system clock.
pub fn unix_now() -> i64 {
    #[cfg(target_os = "linux")]
    {
        rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse).tv_sec
    }
    #[cfg(not(target_os = "linux"))]
    {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            // A clock set before 1970: every expiry has passed, which is the safe answer.
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        }
    }
}

/// Apply every rule to a stored row.
pub fn decide(
    row: &TokenRow,
    required: &[Scope],
    ip: Option<IpAddr>,
    now: OffsetDateTime,
) -> Decision {
    Prepared::new(row).decide(required, ip, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> TokenRow {
        TokenRow {
            id: 7,
            kind: "personal".into(),
            owner_id: Some(1),
            owner_email: Some("ada@example.com".into()),
            owner_name: Some("Ada".into()),
            owner_role: Some("user".into()),
            owner_active: Some(true),
            created_by: Some(1),
            creator_email: Some("ada@example.com".into()),
            name: "ci".into(),
            hint: "tsr_p_…abcd".into(),
            scopes: "me:read tokens:read users:read".into(),
            status: "active".into(),
            created_at: 1_000,
            expires_at: Some(10_000),
            idle_anchor_at: 1_000,
            rate_limit: 60,
            ..TokenRow::default()
        }
    }

    fn at(s: i64) -> OffsetDateTime {
        from_ts(s)
    }

    fn scope(s: &str) -> Scope {
        s.parse().expect("scope")
    }

    #[test]
    fn an_active_token_in_date_is_accepted_with_role_bounded_scopes() {
        let d = decide(&row(), &[scope("me:read")], None, at(2_000));
        assert!(d.accepted());
        let t = d.token.expect("token");
        // users:read is stored but the owner's role (user) does not allow it.
        assert!(!t.scopes.contains(&scope("users:read")));
        assert!(t.scopes.contains(&scope("tokens:read")));
    }

    #[test]
    fn each_rule_gives_its_own_reason() {
        type Change = Box<dyn Fn(&mut TokenRow)>;
        let cases: Vec<(Change, Reason)> = vec![
            (Box::new(|r| r.status = "revoked".into()), Reason::Revoked),
            (
                Box::new(|r| r.status = "deactivated".into()),
                Reason::Deactivated,
            ),
            (Box::new(|r| r.expires_at = Some(1_500)), Reason::Expired),
            (
                Box::new(|r| {
                    r.idle_days = Some(1);
                    r.idle_anchor_at = 2_000 - 86_400;
                }),
                Reason::IdleExpired,
            ),
            (
                Box::new(|r| r.owner_active = Some(false)),
                Reason::OwnerInactive,
            ),
            (
                Box::new(|r| r.allowed_networks = "10.0.0.0/8".into()),
                Reason::Network,
            ),
        ];
        for (change, reason) in cases {
            let mut r = row();
            change(&mut r);
            let d = decide(&r, &[], Some("192.0.2.1".parse().expect("ip")), at(2_000));
            assert_eq!(d.refused, Some(reason));
            assert!(d.token.is_some());
        }
        let d = decide(&row(), &[scope("users:read")], None, at(2_000));
        assert_eq!(d.refused, Some(Reason::Scope));
    }

    #[test]
    fn idle_expiry_counts_from_the_last_accepted_use() {
        let mut r = row();
        r.idle_days = Some(1);
        r.idle_anchor_at = 2_000;
        r.expires_at = None;
        assert!(decide(&r, &[], None, at(2_000 + 86_399)).accepted());
        assert_eq!(
            decide(&r, &[], None, at(2_000 + 86_400)).refused,
            Some(Reason::IdleExpired)
        );
    }

    #[test]
    fn a_network_restricted_token_needs_a_known_allowed_address() {
        let mut r = row();
        r.allowed_networks = "10.0.0.0/8 2001:db8::/32".into();
        assert!(decide(&r, &[], Some("10.9.9.9".parse().expect("ip")), at(2_000)).accepted());
        assert!(decide(&r, &[], Some("2001:db8::5".parse().expect("ip")), at(2_000)).accepted());
        assert_eq!(
            decide(&r, &[], None, at(2_000)).refused,
            Some(Reason::Network)
        );
    }

    #[test]
    fn the_coarse_clock_agrees_with_the_precise_one_to_the_second() {
        let precise = OffsetDateTime::now_utc().unix_timestamp();
        let coarse = unix_now();
        assert!((precise - coarse).abs() <= 1, "{precise} vs {coarse}");
    }

    #[test]
    fn company_tokens_keep_a_vrm_admins_scopes_without_an_owner() {
        let mut r = row();
        r.kind = "company".into();
        r.owner_id = None;
        r.owner_email = None;
        r.owner_name = None;
        r.owner_role = None;
        r.owner_active = None;
        r.scopes = "tokens:read users:read billing:read".into();
        for ok in ["tokens:read", "billing:read"] {
            assert!(decide(&r, &[scope(ok)], None, at(2_000)).accepted(), "{ok}");
        }
        // Whatever a company token holds, it acts with at most a VRM admin's rights.
        let d = decide(&r, &[scope("users:read")], None, at(2_000));
        assert_eq!(d.refused, Some(Reason::Scope));
    }
}
