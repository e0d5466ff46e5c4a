//! Authority only narrows. Whatever acts through a presented token can create or change only
//! what both its owner's current role and the token's own limits allow: a new token's scopes
//! are held by the presenting token, it expires no later, its networks lie inside the
//! presenting token's, its rate limit and idle period are no looser. A company token acts
//! with at most a VRM admin's rights. The checks live here so every front end (API, app, CLI)
//! gets the same answer from [`crate::service::Tessera`].

use ipnet::IpNet;
use time::OffsetDateTime;

use crate::error::{Error, Field, Result};
use crate::model::{builtin_scope, Networks, Role, Scope, Scopes, TokenId};
use crate::token::TokenKind;
use crate::verify::VerifiedToken;

/// The limits of the token a request was made with, as verified for that request.
#[derive(Debug, Clone)]
pub struct TokenLimits {
    pub id: TokenId,
    pub kind: TokenKind,
    pub name: String,
    pub hint: String,
    /// Effective scopes: the token's own, intersected with its owner's current role (a VRM
    /// admin's for company tokens).
    pub scopes: Scopes,
    pub expires_at: Option<OffsetDateTime>,
    /// Empty: any address.
    pub networks: Networks,
    pub rate_limit: u32,
    pub idle_days: Option<u32>,
}

impl TokenLimits {
    pub fn of(t: &VerifiedToken) -> Self {
        Self {
            id: t.id,
            kind: t.kind,
            name: t.name.clone(),
            hint: t.hint.clone(),
            scopes: t.scopes.clone(),
            expires_at: t.expires_at,
            networks: t.networks.clone(),
            rate_limit: t.rate_limit,
            idle_days: t.idle_days,
        }
    }

    /// How the audit log names the token: `company token NAME (HINT)`, `access token of OAuth
    /// client NAME (HINT)`, or `token NAME (HINT)`.
    pub fn label(&self) -> String {
        let what = match self.kind {
            TokenKind::Company => "company token",
            TokenKind::Access => "access token of OAuth client",
            TokenKind::User | TokenKind::Personal => "token",
        };
        format!("{what} {} ({})", self.name, self.hint)
    }

    /// The scopes in `wanted` this token does not hold, in order.
    pub fn missing<'a>(&self, wanted: impl IntoIterator<Item = &'a Scope>) -> Vec<&'a Scope> {
        wanted
            .into_iter()
            .filter(|s| !self.scopes.contains(*s))
            .collect()
    }

    /// Refuse unless the token holds every scope in `wanted`; `doing` completes "a token
    /// without X cannot ...".
    pub fn require_scopes<'a>(
        &self,
        wanted: impl IntoIterator<Item = &'a Scope>,
        doing: &str,
    ) -> Result<()> {
        let missing = self.missing(wanted);
        if missing.is_empty() {
            return Ok(());
        }
        let list = missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Err(Error::forbidden(Field::Scopes, format!(
            "the token this request was made with does not hold {list}, so it cannot {doing}; a token can only pass on authority it holds itself"
        )))
    }

    /// Whether every network in `inner` lies inside one of this token's (always, when this
    /// token may be used from anywhere).
    pub fn covers_networks(&self, inner: &Networks) -> bool {
        if self.networks.is_empty() {
            return true;
        }
        !inner.is_empty()
            && inner
                .as_slice()
                .iter()
                .all(|n| self.networks.as_slice().iter().any(|o| net_within(n, o)))
    }
}

/// Whether `inner` lies inside `outer` (IPv4-mapped IPv6 ranges count as IPv4).
fn net_within(inner: &IpNet, outer: &IpNet) -> bool {
    let canon = |n: &IpNet| -> IpNet {
        match n {
            IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
                Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                    .map(IpNet::V4)
                    .unwrap_or(*n),
                None => *n,
            },
            _ => *n,
        }
    };
    canon(outer).contains(&canon(inner))
}

/// What a new token asks for, after defaults, for [`narrow_new_token`].
#[derive(Debug, Clone)]
pub struct Requested {
    pub scopes: Scopes,
    pub expires_at: Option<OffsetDateTime>,
    /// Whether the expiry was the policy default (then it is shortened to fit, not refused).
    pub expiry_defaulted: bool,
    pub networks: Networks,
    pub rate_limit: Option<u32>,
    pub idle_days: Option<u32>,
}

/// A new token's limits within the presenting token's: defaults are narrowed to fit (no
/// networks given means the presenting token's networks; no rate limit or idle period means
/// at most the presenting token's), explicit wider values are refused with the field named.
pub fn narrow_new_token(
    by: &TokenLimits,
    mut req: Requested,
    default_rate_limit: u32,
) -> Result<Requested> {
    by.require_scopes(&req.scopes, "create a token with it")?;
    if let Some(limit) = by.expires_at {
        match req.expires_at {
            None => {
                return Err(Error::forbidden(Field::Expiry, format!(
                    "the token this request was made with expires {}, so a token made with it must expire too; choose a lifetime",
                    crate::text::date(limit)
                )))
            }
            Some(at) if at > limit => {
                if req.expiry_defaulted {
                    req.expires_at = Some(limit);
                } else {
                    return Err(Error::forbidden(Field::Expiry, format!(
                        "later than the token this request was made with, which expires {}; choose an expiry no later than that",
                        crate::text::date(limit)
                    )));
                }
            }
            Some(_) => {}
        }
    }
    if req.networks.is_empty() {
        req.networks = by.networks.clone();
    } else if !by.covers_networks(&req.networks) {
        return Err(Error::forbidden(Field::AllowedNetworks, format!(
            "the token this request was made with may only be used from {}; a token made with it must be limited to those networks or narrower ones",
            by.networks.to_text().replace(' ', ", ")
        )));
    }
    match req.rate_limit {
        None => req.rate_limit = Some(default_rate_limit.min(by.rate_limit)),
        Some(r) if r > by.rate_limit => {
            return Err(Error::forbidden(Field::RateLimit, format!(
                "{r} requests per minute is more than the {} of the token this request was made with; choose at most {}",
                by.rate_limit, by.rate_limit
            )))
        }
        Some(_) => {}
    }
    if let Some(limit) = by.idle_days {
        match req.idle_days {
            None => req.idle_days = Some(limit),
            Some(d) if d > limit => {
                return Err(Error::forbidden(Field::IdleDays, format!(
                    "{d} days is longer than the {limit} of the token this request was made with; choose at most {limit}"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(req)
}

/// Refuse to bring back (activate) a token whose authority reaches past the presenting
/// token's: scopes, expiry, networks, rate limit.
pub fn check_within(by: &TokenLimits, target: &TokenLimits) -> Result<()> {
    by.require_scopes(&target.scopes, "activate a token that holds it")?;
    let later = match (by.expires_at, target.expires_at) {
        (Some(_), None) => true,
        (Some(b), Some(t)) => t > b,
        (None, _) => false,
    };
    if later {
        return Err(Error::forbidden(
            Field::Expiry,
            "the token to activate lives longer than the token this request was made with; activate it in the app or with a longer-lived token",
        ));
    }
    if !by.covers_networks(&target.networks) {
        return Err(Error::forbidden(
            Field::AllowedNetworks,
            "the token to activate may be used from networks the token this request was made with may not; activate it in the app",
        ));
    }
    if target.rate_limit > by.rate_limit {
        return Err(Error::forbidden(
            Field::RateLimit,
            "the token to activate has a higher rate limit than the token this request was made with; activate it in the app",
        ));
    }
    Ok(())
}

/// The built-in scopes `role` allows beyond an ordinary user's: what giving someone that
/// role grants on top of what every person has.
pub fn privileged_scopes(role: Role) -> Scopes {
    crate::model::BUILTIN_SCOPES
        .iter()
        .filter_map(|b| b.name.parse::<Scope>().ok())
        .filter(|s| role.allows(s) && !Role::User.allows(s))
        .collect()
}

/// Whether a company token may carry this scope: company tokens act with at most a VRM
/// admin's rights.
pub fn company_may_hold(s: &Scope) -> bool {
    builtin_scope(s.as_str()).is_none_or(|b| b.vrm_admin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn limits(scopes: &[&str], nets: &[&str]) -> TokenLimits {
        TokenLimits {
            id: TokenId(1),
            kind: TokenKind::Personal,
            name: "ci".into(),
            hint: "tsr_p_…abcd".into(),
            scopes: scopes.iter().map(|s| s.parse().expect("scope")).collect(),
            expires_at: Some(datetime!(2027-01-01 0:00 UTC)),
            networks: Networks::parse(nets).expect("nets"),
            rate_limit: 60,
            idle_days: Some(10),
        }
    }

    fn req(scopes: &[&str]) -> Requested {
        Requested {
            scopes: scopes.iter().map(|s| s.parse().expect("scope")).collect(),
            expires_at: Some(datetime!(2026-12-31 0:00 UTC)),
            expiry_defaulted: false,
            networks: Networks::default(),
            rate_limit: None,
            idle_days: None,
        }
    }

    #[test]
    fn defaults_narrow_to_the_presenting_token() {
        let by = limits(&["tokens:write", "me:read"], &["127.0.0.1", "10.0.0.0/8"]);
        let got = narrow_new_token(&by, req(&["me:read"]), 600).expect("narrower");
        assert_eq!(got.networks, by.networks);
        assert_eq!(got.rate_limit, Some(60));
        assert_eq!(got.idle_days, Some(10));
        let mut r = req(&["me:read"]);
        r.expires_at = Some(datetime!(2028-01-01 0:00 UTC));
        r.expiry_defaulted = true;
        let got = narrow_new_token(&by, r, 600).expect("defaulted expiry shortened");
        assert_eq!(got.expires_at, by.expires_at);
    }

    #[test]
    fn anything_wider_is_refused_with_its_field() {
        let by = limits(&["tokens:write"], &["10.0.0.0/8"]);
        let cases: Vec<(Requested, Field)> = vec![
            (req(&["tokens:write", "audit:read"]), Field::Scopes),
            (
                Requested {
                    expires_at: Some(datetime!(2028-01-01 0:00 UTC)),
                    ..req(&["tokens:write"])
                },
                Field::Expiry,
            ),
            (
                Requested {
                    expires_at: None,
                    ..req(&["tokens:write"])
                },
                Field::Expiry,
            ),
            (
                Requested {
                    networks: Networks::parse(&["0.0.0.0/0"]).expect("net"),
                    ..req(&["tokens:write"])
                },
                Field::AllowedNetworks,
            ),
            (
                Requested {
                    rate_limit: Some(61),
                    ..req(&["tokens:write"])
                },
                Field::RateLimit,
            ),
            (
                Requested {
                    idle_days: Some(11),
                    ..req(&["tokens:write"])
                },
                Field::IdleDays,
            ),
        ];
        for (r, field) in cases {
            let e = narrow_new_token(&by, r, 600).expect_err(field.as_str());
            assert!(matches!(e, Error::Forbidden(_)), "{e}");
            assert_eq!(e.field(), Some(field), "{e}");
            // The message does not name the field again, under any spelling ("allow:",
            // "rate-limit:", "rate_limit:"): no one-word label before a colon.
            let head = e
                .message()
                .split(": ")
                .next()
                .unwrap_or_default()
                .to_owned();
            assert!(
                head.contains(' ') || head == e.message(),
                "a field label leads the message: {e}"
            );
        }
        let inside = Requested {
            networks: Networks::parse(&["10.1.0.0/16", "::ffff:10.2.3.4"]).expect("net"),
            ..req(&["tokens:write"])
        };
        assert!(narrow_new_token(&by, inside, 600).is_ok());
    }

    #[test]
    fn privileged_scopes_are_what_a_role_adds_to_a_user() {
        let names = |r: Role| {
            privileged_scopes(r)
                .into_iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(Role::Admin),
            ["audit:read", "users:read", "users:write"]
        );
        assert!(names(Role::VrmAdmin).is_empty());
        assert!(names(Role::User).is_empty());
        assert!(!company_may_hold(&"users:write".parse().expect("s")));
        assert!(company_may_hold(&"billing:read".parse().expect("s")));
    }
}
