//! "Why was this refused?": every verification rule applied to a presented token (or one the
//! actor manages, picked by id), each with what it compared, not only the first that fails.
//! Nothing is recorded as a use.

use std::net::IpAddr;

use serde::Serialize;

use super::{Actor, Tessera};
use crate::error::Result;
use crate::model::{Scope, TokenId};
use crate::store;
use crate::verify::{self, Check, Prepared};

/// What to explain.
#[derive(Debug, Clone, Copy)]
pub enum Presented<'a> {
    /// A token as presented (pasted, read from stdin, sent to the API).
    Token(&'a str),
    /// A token the actor manages, by id (no plaintext at hand): the rules after the look-up.
    Id(TokenId),
}

/// Every rule's verdict on one presentation.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Explanation {
    pub accepted: bool,
    /// `accepted`, or what verification answers: the first failing rule's reason
    /// (`malformed`, `unknown`, `revoked`, ..., `scope`), or `rate_limited`.
    pub outcome: String,
    #[cfg_attr(feature = "schema", schemars(with = "Option<i64>"))]
    #[cfg_attr(feature = "bindings", ts(type = "number | null"))]
    pub token_id: Option<TokenId>,
    /// The token's hint (`tsr_p_…abcd`), never the token.
    pub hint: Option<String>,
    pub checks: Vec<Check>,
}

impl Explanation {
    fn refused_early(outcome: &str, checks: Vec<Check>) -> Self {
        Self {
            accepted: false,
            outcome: outcome.to_owned(),
            token_id: None,
            hint: None,
            checks,
        }
    }
}

impl Tessera {
    /// Apply every verification rule to `what` for these scopes, from `ip`, at `at` (Unix
    /// seconds), as [`Tessera::verify`] would, and say what each compared. The rate limit is
    /// judged by the uses recorded in the minute before `at`. A token picked by id must be
    /// one the actor manages.
    pub async fn explain(
        &self,
        actor: &Actor,
        what: Presented<'_>,
        required: &[Scope],
        ip: Option<IpAddr>,
        at: i64,
    ) -> Result<Explanation> {
        let mut checks = Vec::new();
        let row = match what {
            Presented::Id(id) => {
                let row = self.managed_row(actor, id).await?;
                checks.push(Check::new(
                    "known",
                    true,
                    format!("token {id} ({}), picked by id", row.hint),
                ));
                row
            }
            Presented::Token(presented) => {
                let Ok(shaped) = crate::token::well_shaped(presented) else {
                    checks.push(Check::new(
                        "format",
                        false,
                        format!(
                            "expected tsr_, a kind letter (u, p or c), _ and 36 letters and digits ({} characters); got {} characters",
                            crate::token::TOKEN_LEN,
                            presented.trim().chars().count()
                        ),
                    ));
                    return Ok(Explanation::refused_early("malformed", checks));
                };
                checks.push(Check::new(
                    "format",
                    true,
                    "tsr_, kind, 36 letters and digits",
                ));
                if !crate::token::checksum_ok(shaped) {
                    checks.push(Check::new(
                        "checksum",
                        false,
                        "the last 6 characters do not match the rest: a typo or a cut-off copy",
                    ));
                    return Ok(Explanation::refused_early("malformed", checks));
                }
                checks.push(Check::new("checksum", true, "matches"));
                let keys = self.keys.current();
                let found = self
                    .find_presented(shaped, &keys, keys.newest().hash_validated(shaped))
                    .await?;
                // A honeytoken answers exactly like an unknown token, and alerts.
                if let Some(h) = found.as_ref().filter(|r| r.honeytoken) {
                    let seen = super::HoneytokenUse {
                        ip,
                        user_agent: Some("tessera explain"),
                        method: "EXPLAIN",
                        path: "token",
                    };
                    self.honeytoken_used(TokenId(h.id), seen).await?;
                }
                let Some(row) = found.filter(|r| !r.honeytoken) else {
                    checks.push(Check::new(
                        "known",
                        false,
                        "no token with this hash here: never issued by this Tessera, or hashed with a retired key",
                    ));
                    return Ok(Explanation::refused_early("unknown", checks));
                };
                checks.push(Check::new(
                    "known",
                    true,
                    format!("token {} ({})", row.id, row.hint),
                ));
                row
            }
        };
        let p = Prepared::new(&row);
        if row.honeytoken {
            checks.push(Check::new(
                "honeytoken",
                false,
                "a honeytoken: never accepted, answered like an unknown token, and every presentation alerts",
            ));
        }
        checks.extend(p.explain(required, ip, at));
        let used =
            store::usage::accepted_between(&mut self.reader().await?, TokenId(row.id), at - 60, at)
                .await?;
        let limit = i64::from(p.token().rate_limit);
        checks.push(Check::new(
            "rate_limit",
            used < limit,
            format!("{used} of {limit} a minute used (uses recorded in the minute before)"),
        ));
        let d = p.decide_at(required, ip, at);
        let outcome = match d.refused {
            Some(r) => r.as_str(),
            None if used >= limit => "rate_limited",
            None => "accepted",
        };
        debug_assert_eq!(
            d.refused.map(verify::Reason::as_str),
            checks
                .iter()
                .find(|c| !c.passed && c.rule != "rate_limit")
                .map(|_| outcome)
        );
        Ok(Explanation {
            accepted: outcome == "accepted",
            outcome: outcome.to_owned(),
            token_id: Some(TokenId(row.id)),
            hint: Some(row.hint),
            checks,
        })
    }
}
