//! Domain types: e-mails, roles, scopes, statuses, networks and the rules each carries.
//! Values are parsed once at the edge ("parse, don't validate"); the rest of the core
//! takes these types and can trust them.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Field, Result};
use crate::text::clip;

/// A user's numeric id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
// A newtype struct is its number in JSON (serde's newtype rule), so no `transparent` needed.
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserId(#[cfg_attr(feature = "bindings", ts(type = "number"))] pub i64);

/// A token's numeric id (public; it is not a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenId(#[cfg_attr(feature = "bindings", ts(type = "number"))] pub i64);

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for TokenId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        s.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(TokenId)
            .ok_or_else(|| {
                Error::invalid(
                    Field::Id,
                    format!("'{}' is not a token id; ids are positive numbers", clip(s)),
                )
            })
    }
}

/// A normalised (trimmed, lower-case) e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
// A newtype struct is its string in JSON (serde's newtype rule), so no `transparent` needed
// (ts-rs does not read serde's `transparent` and warns at every build if it is there).
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let e = s.trim().to_lowercase();
        let bad = || {
            Error::invalid(
                Field::Email,
                format!(
                    "'{}' is not an e-mail address; use the form name@example.com",
                    clip(s)
                ),
            )
        };
        if e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        if crate::token::contains_token_pattern(s) {
            return Err(Error::invalid(
                Field::Email,
                "looks like it contains a token; never paste a token into an e-mail field (if it was a real token, revoke it)",
            ));
        }
        let (local, domain) = e.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
            || !domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        {
            return Err(bad());
        }
        Ok(Self(e))
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's role. It bounds which scopes their tokens may carry, now and later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Role {
    Admin,
    VrmAdmin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::VrmAdmin => "vrm_admin",
            Self::User => "user",
        }
    }

    /// Whether this role may hold (or grant) the scope. Custom scopes are open to every role:
    /// they guard the company's own APIs, which decide for themselves.
    pub fn allows(self, scope: &Scope) -> bool {
        match builtin_scope(scope.as_str()) {
            None => true,
            Some(b) => match self {
                Self::Admin => true,
                Self::VrmAdmin => b.vrm_admin,
                Self::User => b.user,
            },
        }
    }

    /// May this role create and manage company tokens?
    pub fn manages_company_tokens(self) -> bool {
        matches!(self, Self::Admin | Self::VrmAdmin)
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "admin" => Ok(Self::Admin),
            "vrm_admin" => Ok(Self::VrmAdmin),
            "user" => Ok(Self::User),
            _ => Err(Error::invalid(
                Field::Role,
                format!("unknown role '{}'; use admin, vrm_admin or user", clip(s)),
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A built-in scope and which roles may hold it.
pub struct BuiltinScope {
    pub name: &'static str,
    pub description: &'static str,
    pub vrm_admin: bool,
    pub user: bool,
}

/// The scopes Tessera's own API understands.
pub const BUILTIN_SCOPES: &[BuiltinScope] = &[
    BuiltinScope {
        name: "me:read",
        description: "Read the owner's profile and this token's details",
        vrm_admin: true,
        user: true,
    },
    BuiltinScope {
        name: "tokens:read",
        description: "List and read tokens the owner may see",
        vrm_admin: true,
        user: true,
    },
    BuiltinScope {
        name: "tokens:write",
        description: "Create, revoke, deactivate, activate and delete tokens the owner manages",
        vrm_admin: true,
        user: true,
    },
    BuiltinScope {
        name: "users:read",
        description: "List users",
        vrm_admin: false,
        user: false,
    },
    BuiltinScope {
        name: "users:write",
        description: "Create users, change roles, deactivate users",
        vrm_admin: false,
        user: false,
    },
    BuiltinScope {
        name: "usage:read",
        description: "Read usage of tokens the owner may see",
        vrm_admin: true,
        user: true,
    },
    BuiltinScope {
        name: "audit:read",
        description: "Read the audit log",
        vrm_admin: false,
        user: false,
    },
    BuiltinScope {
        name: "tokens:verify",
        description: "Ask whether another token is valid (introspection)",
        vrm_admin: true,
        user: true,
    },
];

pub fn builtin_scope(name: &str) -> Option<&'static BuiltinScope> {
    BUILTIN_SCOPES.iter().find(|b| b.name == name)
}

/// A scope name: lower-case letters, digits, and `:._-`, 1 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        let ok = !t.is_empty()
            && t.len() <= 64
            && t.bytes().all(|c| {
                c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || matches!(c, b':' | b'.' | b'_' | b'-')
            })
            && t.as_bytes()[0].is_ascii_lowercase();
        if !ok {
            return Err(Error::invalid(Field::Scopes, format!(
                "'{}' is not a valid scope name; use 1-64 lower-case letters, digits and : . _ - (for example billing:read)",
                clip(s)
            )));
        }
        Ok(Self(t.to_owned()))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of scopes, stored space-separated.
pub type Scopes = BTreeSet<Scope>;

pub fn scopes_to_text(s: &Scopes) -> String {
    s.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
}

pub fn scopes_from_text(s: &str) -> Scopes {
    s.split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect()
}

/// The status of a token. `expired` and `rotating` are derived, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum TokenStatus {
    Active,
    // Replaced by a successor and still working until the overlap ends (stored as active,
    // with a rotation under way).
    Rotating,
    Deactivated,
    Revoked,
    Expired,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Rotating => "rotating",
            Self::Deactivated => "deactivated",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

impl FromStr for TokenStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "active" => Ok(Self::Active),
            "rotating" => Ok(Self::Rotating),
            "deactivated" => Ok(Self::Deactivated),
            "revoked" => Ok(Self::Revoked),
            "expired" => Ok(Self::Expired),
            _ => Err(Error::invalid(
                Field::Status,
                format!(
                    "unknown status '{}'; use active, rotating, deactivated, revoked or expired",
                    clip(s)
                ),
            )),
        }
    }
}

impl fmt::Display for TokenStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The networks a token may be used from. Empty means anywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Networks(Vec<IpNet>);

impl Networks {
    /// Parse addresses and CIDR ranges (IPv4 and IPv6). A bare address means that host only.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let t = item.as_ref().trim();
            let net = if t.contains('/') {
                t.parse::<IpNet>().map(|n| n.trunc()).ok()
            } else {
                t.parse::<IpAddr>().map(IpNet::from).ok()
            }
            .ok_or_else(|| {
                Error::invalid(Field::AllowedNetworks, format!(
                    "'{}' is not an IP address or CIDR range; use forms like 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32",
                    clip(t)
                ))
            })?;
            if !out.contains(&net) {
                out.push(net);
            }
        }
        if out.len() > 100 {
            return Err(Error::invalid(
                Field::AllowedNetworks,
                "at most 100 addresses or ranges per token; use wider CIDR ranges",
            ));
        }
        Ok(Self(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether the address is allowed. IPv4-mapped IPv6 addresses count as IPv4.
    pub fn allows(&self, ip: IpAddr) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.0.iter().any(|n| n.contains(&ip))
    }

    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn from_text(s: &str) -> Self {
        Self(
            s.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_holding_a_token_is_refused() {
        let t = crate::token::TokenSecret::generate(crate::token::TokenKind::Personal);
        let e = format!("{}@example.com", t.expose())
            .parse::<Email>()
            .expect_err("token in an e-mail");
        assert_eq!(e.field(), Some(Field::Email));
        assert!(e.message().starts_with("looks like"), "{e}");
        assert!(!e.to_string().contains(t.expose()));
    }

    #[test]
    fn emails_are_normalised_and_bad_ones_refused() {
        let e: Email = "  Ada@Example.COM ".parse().expect("valid");
        assert_eq!(e.as_str(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@example..com",
        ] {
            assert!(bad.parse::<Email>().is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_bound_builtin_scopes_but_not_custom_ones() {
        let users_write: Scope = "users:write".parse().expect("scope");
        let tokens_read: Scope = "tokens:read".parse().expect("scope");
        let custom: Scope = "billing:read".parse().expect("scope");
        assert!(Role::Admin.allows(&users_write));
        assert!(!Role::VrmAdmin.allows(&users_write));
        assert!(!Role::User.allows(&users_write));
        assert!(Role::User.allows(&tokens_read));
        assert!(Role::User.allows(&custom));
        assert!("boss".parse::<Role>().is_err());
    }

    #[test]
    fn scope_names_are_checked() {
        assert!("billing:read".parse::<Scope>().is_ok());
        for bad in ["", "Billing", "a b", "x;drop", &"a".repeat(65), "1abc"] {
            assert!(bad.parse::<Scope>().is_err(), "{bad}");
        }
    }

    #[test]
    fn networks_accept_addresses_and_ranges_of_both_families() {
        let n = Networks::parse(&["10.1.0.0/16", "2001:db8::/32", "192.0.2.7"]).expect("valid");
        assert!(n.allows("10.1.200.3".parse().expect("ip")));
        assert!(!n.allows("10.2.0.1".parse().expect("ip")));
        assert!(n.allows("2001:db8::1".parse().expect("ip")));
        assert!(!n.allows("2001:db9::1".parse().expect("ip")));
        assert!(n.allows("192.0.2.7".parse().expect("ip")));
        assert!(!n.allows("192.0.2.8".parse().expect("ip")));
        assert!(n.allows("::ffff:10.1.0.9".parse().expect("ip")));
        assert_eq!(Networks::from_text(&n.to_text()), n);
        assert!(Networks::default().allows("8.8.8.8".parse().expect("ip")));
        for bad in ["10.0.0.0/33", "300.1.1.1", "example.com", "10.0.0.0/", ""] {
            assert!(Networks::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
