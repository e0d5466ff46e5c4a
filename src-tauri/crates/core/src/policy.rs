//! Installation-wide policy (lifetimes, rate limits, query-parameter tokens) and the expiry
//! rules that follow from it. Stored as one JSON row by [`crate::store::meta`]; this module
//! owns the defaults and the checks.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::error::{Error, Field, Result};
use crate::text::clip;

/// What administrators set for the whole installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Policy {
    /// The longest lifetime a new token may have, in days.
    pub max_lifetime_days: u32,
    /// When true, every token must expire ("no expiry" is refused).
    pub expiry_required: bool,
    /// Lifetime given to a token created without an expiry choice, in days.
    pub default_lifetime_days: u32,
    /// Suggested idle-expiry period for new tokens, in days.
    pub default_idle_days: u32,
    /// The API's maximum requests per minute for one token.
    pub max_rate_limit: u32,
    /// Requests per minute given to a token created without a choice (50% of the maximum).
    pub default_rate_limit: u32,
    /// Whether tokens presented in a URL query parameter are accepted (risky: URLs get logged).
    pub query_param_tokens: bool,
    /// How many live personal tokens one user may hold.
    pub max_personal_tokens: u32,
    /// Seconds before the app clears a copied token from the clipboard.
    pub clipboard_seconds: u32,
    /// Days usage events are kept.
    pub usage_retention_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_lifetime_days: 365,
            expiry_required: true,
            default_lifetime_days: 90,
            default_idle_days: 30,
            max_rate_limit: 1200,
            default_rate_limit: 600,
            query_param_tokens: false,
            max_personal_tokens: 100,
            clipboard_seconds: 30,
            usage_retention_days: 90,
        }
    }
}

impl Policy {
    /// Check that the values make sense together.
    pub fn validate(&self) -> Result<()> {
        let range = |field: Field, v: u32, lo: u32, hi: u32| {
            if v < lo || v > hi {
                Err(Error::invalid(
                    field,
                    format!("{v} is out of range; use {lo} to {hi}"),
                ))
            } else {
                Ok(())
            }
        };
        range(Field::MaxLifetimeDays, self.max_lifetime_days, 1, 3650)?;
        range(
            Field::DefaultLifetimeDays,
            self.default_lifetime_days,
            1,
            self.max_lifetime_days,
        )?;
        range(Field::DefaultIdleDays, self.default_idle_days, 1, 3650)?;
        range(Field::MaxRateLimit, self.max_rate_limit, 1, 1_000_000)?;
        range(
            Field::DefaultRateLimit,
            self.default_rate_limit,
            1,
            self.max_rate_limit,
        )?;
        range(
            Field::MaxPersonalTokens,
            self.max_personal_tokens,
            1,
            10_000,
        )?;
        range(Field::ClipboardSeconds, self.clipboard_seconds, 5, 600)?;
        range(
            Field::UsageRetentionDays,
            self.usage_retention_days,
            1,
            3650,
        )?;
        Ok(())
    }

    /// Resolve an expiry request against this policy at `now`.
    pub fn resolve_expiry(
        &self,
        req: &ExpiryRequest,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>> {
        let far = || {
            Error::invalid(
                Field::Expiry,
                format!(
                    "too far in the future; choose a lifetime of at most {} days",
                    self.max_lifetime_days
                ),
            )
        };
        let after = |d: Duration| now.checked_add(d).ok_or_else(far);
        let max = after(Duration::days(self.max_lifetime_days.into()))?;
        let at = match req {
            ExpiryRequest::Default => after(Duration::days(self.default_lifetime_days.into()))?,
            ExpiryRequest::In(d) if *d > MAX_LIFETIME => return Err(far()),
            ExpiryRequest::In(d) => after(*d)?,
            ExpiryRequest::At(t) if t.year() > 9999 => return Err(far()),
            ExpiryRequest::At(t) => *t,
            ExpiryRequest::Never => {
                if self.expiry_required {
                    return Err(Error::invalid(Field::Expiry, format!(
                        "policy requires every token to expire; choose a lifetime of at most {} days",
                        self.max_lifetime_days
                    )));
                }
                return Ok(None);
            }
        };
        if at <= now {
            return Err(Error::invalid(
                Field::Expiry,
                "the date is in the past; choose a future date or a lifetime like 30d",
            ));
        }
        // A minute of slack so "365d" at the limit is not refused by rounding.
        if at > max + Duration::minutes(1) {
            return Err(Error::invalid(
                Field::Expiry,
                format!(
                    "beyond the policy maximum of {} days; choose an earlier date",
                    self.max_lifetime_days
                ),
            ));
        }
        Ok(Some(at))
    }

    pub fn check_rate_limit(&self, per_minute: u32) -> Result<u32> {
        if per_minute == 0 || per_minute > self.max_rate_limit {
            return Err(Error::invalid(
                Field::RateLimit,
                format!(
                    "{per_minute} requests per minute is not allowed; use 1 to {}",
                    self.max_rate_limit
                ),
            ));
        }
        Ok(per_minute)
    }

    pub fn check_idle_days(&self, days: u32) -> Result<u32> {
        if days == 0 || days > 3650 {
            return Err(Error::invalid(
                Field::IdleDays,
                format!("{days} is not allowed; use 1 to 3650 days"),
            ));
        }
        Ok(days)
    }
}

/// The longest lifetime anything may ask for (100 years), whatever the policy says: larger
/// values are refused before any date arithmetic.
pub const MAX_LIFETIME: Duration = Duration::days(36_500);

/// How the creator asked a token to expire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpiryRequest {
    /// No choice made: the policy's default lifetime.
    Default,
    /// A lifetime from now.
    In(Duration),
    /// An exact date and time.
    At(OffsetDateTime),
    /// Never (only where policy allows).
    Never,
}

impl ExpiryRequest {
    /// A lifetime of whole days from now (the app's expiry picker), 1 to 36,500 days.
    pub fn in_days(days: u32) -> Result<Self> {
        let d = Duration::days(i64::from(days));
        if days == 0 || d > MAX_LIFETIME {
            return Err(Error::invalid(Field::Expiry, format!(
                "{days} days is not a lifetime Tessera accepts; choose 1 to 36500 days (and at most the policy's maximum)"
            )));
        }
        Ok(Self::In(d))
    }

    /// Parse a lifetime like `90s`, `45m`, `12h`, `30d`, `2w` or `1y` (365 days).
    pub fn parse_in(s: &str) -> Result<Self> {
        let t = s.trim();
        let bad = || {
            Error::invalid(Field::ExpiresIn, format!(
                "'{}' is not a lifetime; use a number and a unit, like 90s, 45m, 12h, 30d, 2w or 1y",
                clip(s)
            ))
        };
        let length = parse_length(t, true).ok_or_else(bad)?;
        if length.is_some_and(|d| d <= Duration::ZERO) {
            return Err(bad());
        }
        match length {
            Some(d) if d <= MAX_LIFETIME => Ok(Self::In(d)),
            _ => Err(Error::invalid(Field::ExpiresIn, format!(
                "'{}' is longer than 100 years; choose a lifetime within the policy's maximum, like 90d or 1y",
                clip(s)
            ))),
        }
    }

    /// Parse an RFC 3339 date and time, like `2027-01-31T17:00:00Z`.
    pub fn parse_at(s: &str) -> Result<Self> {
        OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
            .map(|t| Self::At(t.to_offset(time::UtcOffset::UTC)))
            .map_err(|_| {
                Error::invalid(
                    Field::ExpiresAt,
                    format!(
                    "'{}' is not an RFC 3339 date and time; use a form like 2027-01-31T17:00:00Z",
                    clip(s)
                ),
                )
            })
    }
}

/// A length of time written as a number and a unit: `s`, `m`, `h`, `d`, `w`, and `y` (365
/// days) when `years`. None when `t` is not one; Some(None) when it is too long to count.
pub(crate) fn parse_length(t: &str, years: bool) -> Option<Option<Duration>> {
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = t.split_at(split);
    let secs_per_unit: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        "y" if years => 365 * 86_400,
        _ => return None,
    };
    let n: i64 = num.parse().ok()?;
    Some(n.checked_mul(secs_per_unit).map(Duration::seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-11-23 12:00 UTC)
    }

    #[test]
    fn lifetimes_parse_in_every_unit() {
        for (s, secs) in [
            ("90s", 90),
            ("45m", 2700),
            ("12h", 43200),
            ("30d", 2_592_000),
            ("2w", 1_209_600),
            ("1y", 31_536_000),
        ] {
            assert_eq!(
                ExpiryRequest::parse_in(s).expect(s),
                ExpiryRequest::In(Duration::seconds(secs))
            );
        }
        for bad in [
            "",
            "30",
            "d",
            "-1d",
            "0d",
            "3 days",
            "1.5d",
            "30x",
            "101y",
            "10000y",
            "99999999999999999999d",
            "9223372036854775807s",
        ] {
            let e = ExpiryRequest::parse_in(bad).expect_err(bad);
            assert_eq!(e.field(), Some(Field::ExpiresIn), "{e}");
        }
        assert!(ExpiryRequest::parse_in("100y").is_ok());
    }

    #[test]
    fn expiry_is_bounded_by_policy() {
        let p = Policy::default();
        let at = p
            .resolve_expiry(&ExpiryRequest::Default, now())
            .expect("default");
        assert_eq!(at, Some(now() + Duration::days(90)));
        assert!(p
            .resolve_expiry(&ExpiryRequest::parse_in("1y").expect("1y"), now())
            .is_ok());
        let e = p
            .resolve_expiry(&ExpiryRequest::parse_in("366d").expect("366d"), now())
            .expect_err("too long");
        assert!(e.to_string().contains("maximum of 365"));
        let e = p
            .resolve_expiry(&ExpiryRequest::At(now() - Duration::hours(1)), now())
            .expect_err("past");
        assert!(e.to_string().contains("past"));
        let e = p
            .resolve_expiry(&ExpiryRequest::Never, now())
            .expect_err("required");
        assert!(e.to_string().contains("requires"));
        let open = Policy {
            expiry_required: false,
            ..Policy::default()
        };
        assert_eq!(
            open.resolve_expiry(&ExpiryRequest::Never, now())
                .expect("never"),
            None
        );
    }

    #[test]
    fn huge_lifetimes_and_far_dates_are_refused_not_panicked_on() {
        let p = Policy {
            expiry_required: false,
            ..Policy::default()
        };
        for req in [
            ExpiryRequest::In(Duration::MAX),
            ExpiryRequest::In(Duration::days(36_501)),
            ExpiryRequest::At(OffsetDateTime::new_utc(
                time::Date::MAX,
                time::Time::MIDNIGHT,
            )),
        ] {
            let e = p.resolve_expiry(&req, now()).expect_err("too far");
            assert_eq!(e.field(), Some(Field::Expiry), "{e}");
        }
        let late = now().replace_year(9999).expect("9999");
        assert!(p.resolve_expiry(&ExpiryRequest::At(late), now()).is_err());
        for days in [0, 36_501, u32::MAX] {
            assert!(ExpiryRequest::in_days(days).is_err(), "{days}");
        }
        assert!(ExpiryRequest::in_days(30).is_ok());
    }

    #[test]
    fn rfc3339_dates_parse_and_others_do_not() {
        assert!(ExpiryRequest::parse_at("2027-01-31T17:00:00Z").is_ok());
        assert!(ExpiryRequest::parse_at("2027-01-31T17:00:00+02:00").is_ok());
        for bad in ["2027-01-31", "tomorrow", "31/01/2027"] {
            assert!(ExpiryRequest::parse_at(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_policy_range_is_enforced_at_both_ends() {
        type Set = fn(&mut Policy, u32);
        let fields: [(Field, Set, u32, u32); 8] = [
            // The maxima carry their default along, which must stay within them.
            (
                Field::MaxLifetimeDays,
                |p, v| {
                    p.max_lifetime_days = v;
                    p.default_lifetime_days = v.max(1);
                },
                1,
                3650,
            ),
            (
                Field::DefaultLifetimeDays,
                |p, v| p.default_lifetime_days = v,
                1,
                365,
            ),
            (
                Field::DefaultIdleDays,
                |p, v| p.default_idle_days = v,
                1,
                3650,
            ),
            (
                Field::MaxRateLimit,
                |p, v| {
                    p.max_rate_limit = v;
                    p.default_rate_limit = v.max(1);
                },
                1,
                1_000_000,
            ),
            (
                Field::DefaultRateLimit,
                |p, v| p.default_rate_limit = v,
                1,
                1200,
            ),
            (
                Field::MaxPersonalTokens,
                |p, v| p.max_personal_tokens = v,
                1,
                10_000,
            ),
            (
                Field::ClipboardSeconds,
                |p, v| p.clipboard_seconds = v,
                5,
                600,
            ),
            (
                Field::UsageRetentionDays,
                |p, v| p.usage_retention_days = v,
                1,
                3650,
            ),
        ];
        assert!(Policy::default().validate().is_ok());
        for (name, set, lo, hi) in fields {
            for ok in [lo, hi] {
                let mut p = Policy::default();
                set(&mut p, ok);
                assert!(p.validate().is_ok(), "{name} = {ok}");
            }
            for bad in [lo - 1, hi + 1] {
                let mut p = Policy::default();
                set(&mut p, bad);
                let e = p.validate().expect_err(name.as_str());
                assert_eq!(e.field(), Some(name), "{e}");
            }
        }
    }

    #[test]
    fn rate_limits_are_bounded() {
        let p = Policy::default();
        assert!(p.check_rate_limit(0).is_err());
        assert!(p.check_rate_limit(1201).is_err());
        assert_eq!(p.check_rate_limit(60).expect("ok"), 60);
        assert!(Policy {
            default_rate_limit: 2000,
            ..Policy::default()
        }
        .validate()
        .is_err());
    }
}
