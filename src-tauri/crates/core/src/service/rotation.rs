//! Rotation with overlap: a successor with the same name, scopes, networks, rate limit, idle
//! days and a fresh expiry of the same length; the old token keeps working until the overlap
//! ends or its successor's first accepted use plus a grace, whichever comes first, and is then
//! revoked with the reason `rotated`.

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::tokens::Rotates;
use super::{Actor, Tessera};
use crate::error::{Error, Field, Result};
use crate::model::{scopes_from_text, Networks, TokenId, TokenStatus};
use crate::policy::ExpiryRequest;
use crate::store::{self, ts, usage::Source};
use crate::text::clip;
use crate::token::TokenKind;
use crate::{CreatedToken, NewToken, StatusAction, TokenInfo};

/// How a rotation overlaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotateRequest {
    /// How long the old token keeps working beside its successor; zero revokes it at once.
    pub overlap: Duration,
    /// How long it keeps working after the successor's first accepted use.
    pub grace: Duration,
}

impl RotateRequest {
    pub const DEFAULT_OVERLAP: Duration = Duration::hours(24);
    pub const DEFAULT_GRACE: Duration = Duration::minutes(10);
    pub const MAX_OVERLAP: Duration = Duration::days(30);
    pub const MAX_GRACE: Duration = Duration::days(1);

    /// No overlap: the old token is revoked when its successor is made.
    pub const IMMEDIATE: Self = Self {
        overlap: Duration::ZERO,
        grace: Duration::ZERO,
    };

    /// From text like `24h`, `30m` or `none` (absent: 24 hours of overlap, 10 minutes' grace).
    pub fn parse(overlap: Option<&str>, grace: Option<&str>) -> Result<Self> {
        let overlap = match overlap {
            None => Self::DEFAULT_OVERLAP,
            Some(s) => parse_span(Field::Overlap, s, Self::MAX_OVERLAP, "30 days")?,
        };
        let grace = match grace {
            None => Self::DEFAULT_GRACE,
            Some(s) => parse_span(Field::Grace, s, Self::MAX_GRACE, "1 day")?,
        };
        Ok(Self { overlap, grace })
    }

    /// In whole seconds (the app's pickers), with the same bounds as [`RotateRequest::parse`].
    pub fn from_seconds(overlap: u32, grace: u32) -> Result<Self> {
        let secs = |n: u32| Some(Duration::seconds(i64::from(n)));
        Ok(Self {
            overlap: bounded(
                Field::Overlap,
                secs(overlap),
                Self::MAX_OVERLAP,
                "at most 30 days; a token meant to last longer should not be rotated",
            )?,
            grace: bounded(Field::Grace, secs(grace), Self::MAX_GRACE, "at most 1 day")?,
        })
    }
}

/// `none`, `0`, or a number and a unit (`s`, `m`, `h`, `d`, `w`), at most `max`.
fn parse_span(field: Field, s: &str, max: Duration, max_text: &str) -> Result<Duration> {
    let t = s.trim();
    if t == "none" || t == "0" {
        return Ok(Duration::ZERO);
    }
    let bad = || {
        Error::invalid(
            field,
            format!(
                "'{}' is not a length of time; use none or a number and a unit, like 90s, 30m, 24h or 7d",
                clip(s)
            ),
        )
    };
    let length = crate::policy::parse_length(t, false).ok_or_else(bad)?;
    bounded(
        field,
        length,
        max,
        &format!(
            "'{}' is longer than {max_text}; choose a shorter one",
            clip(s)
        ),
    )
}

/// `d` when it is at most `max`, else the error `too_long`.
fn bounded(field: Field, d: Option<Duration>, max: Duration, too_long: &str) -> Result<Duration> {
    match d {
        Some(d) if d <= max => Ok(d),
        _ => Err(Error::invalid(field, too_long)),
    }
}

/// A rotating token's overlap and who still uses it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RotationReport {
    pub token: TokenInfo,
    /// Accepted uses since the rotation began, by address and client, most recent first.
    pub sources: Vec<Source>,
}

impl Tessera {
    /// Rotate a token: its successor is made as the actor could make it (same rules and
    /// narrowing as [`Tessera::create_token`]), revealed once, and the old token overlaps with
    /// it as `req` says.
    pub async fn rotate_token(
        &self,
        actor: &Actor,
        id: TokenId,
        req: RotateRequest,
    ) -> Result<CreatedToken> {
        self.finish_due_rotations().await?;
        let row = self
            .changeable_row(&mut self.reader().await?, actor, id)
            .await?;
        if row.honeytoken {
            return Err(Error::invalid(
                Field::Id,
                format!(
                    "token {id} is a honeytoken; it is never used, so there is nothing to rotate"
                ),
            ));
        }
        if row.kind == TokenKind::Access.as_str() {
            return Err(Error::invalid(
                Field::Id,
                format!(
                    "token {id} is an OAuth access token; its client gets a new one from POST /oauth/token (rotate the client's secret instead)"
                ),
            ));
        }
        let info = TokenInfo::from_row(row.clone(), OffsetDateTime::now_utc());
        match info.status {
            TokenStatus::Active => {}
            TokenStatus::Rotating => {
                return Err(Error::invalid(
                    Field::Id,
                    format!(
                        "token {id} is already rotating; rotate its successor (token {}) or finish this rotation first",
                        row.rotated_to.unwrap_or(0)
                    ),
                ))
            }
            TokenStatus::Revoked => {
                return Err(Error::invalid(
                    Field::Id,
                    format!("token {id} is revoked; create a new token instead"),
                ))
            }
            TokenStatus::Expired => {
                return Err(Error::invalid(
                    Field::Id,
                    format!("token {id} has expired; create a new token instead"),
                ))
            }
            TokenStatus::Deactivated => {
                return Err(Error::invalid(
                    Field::Id,
                    format!("token {id} is deactivated; activate it first or create a new token"),
                ))
            }
        }
        let kind: TokenKind = row.kind.parse()?;
        let expiry = match row.expires_at {
            Some(e) => ExpiryRequest::In(Duration::seconds((e - row.created_at).max(1))),
            None => ExpiryRequest::Never,
        };
        let owner = match (kind, &row.owner_email) {
            (TokenKind::Company, _) | (_, None) => None,
            (_, Some(e)) => Some(e.parse()?),
        };
        let new = NewToken {
            kind,
            owner,
            name: Some(row.name.clone()),
            description: Some(row.description.clone()),
            scopes: scopes_from_text(&row.scopes).into_iter().collect(),
            expiry,
            idle_days: row.idle_days.and_then(|d| u32::try_from(d).ok()),
            networks: Networks::from_text(&row.allowed_networks),
            rate_limit: u32::try_from(row.rate_limit).ok(),
            honeytoken: false,
            alert_new_sources: Some(row.alert_new_sources),
        };
        let now = ts(OffsetDateTime::now_utc());
        let rotates = Rotates {
            id,
            ends_at: (!req.overlap.is_zero()).then(|| now + req.overlap.whole_seconds()),
            grace: req.grace.whole_seconds(),
        };
        self.create_inner(actor, new, Some(rotates)).await
    }

    /// End a rotation now: the old token is revoked with the reason `rotated`.
    pub async fn finish_rotation(&self, actor: &Actor, id: TokenId) -> Result<TokenInfo> {
        let row = self
            .changeable_row(&mut self.reader().await?, actor, id)
            .await?;
        let info = TokenInfo::from_row(row, OffsetDateTime::now_utc());
        if info.rotation.is_none() || info.status == TokenStatus::Revoked {
            return Err(Error::invalid(
                Field::Id,
                format!(
                    "token {id} is not rotating; only a rotating token's overlap can be finished"
                ),
            ));
        }
        self.change_status(actor, id, StatusAction::Revoke, Some("rotated"))
            .await
    }

    /// A rotating token's overlap and the addresses and clients that used it since the
    /// rotation began (the ones still to move to the successor).
    pub async fn rotation_report(&self, actor: &Actor, id: TokenId) -> Result<RotationReport> {
        let token = self.get_token(actor, id).await?;
        let Some(rot) = &token.rotation else {
            return Err(Error::invalid(
                Field::Id,
                format!("token {id} is not rotating"),
            ));
        };
        let sources =
            store::usage::sources_since(&mut self.reader().await?, id, ts(rot.rotated_at), 100)
                .await?;
        Ok(RotationReport { token, sources })
    }

    /// Revoke every rotating token whose overlap is over (reason `rotated`, audited as done by
    /// `tessera`). Verification refuses them already; this makes it final and visible. Runs
    /// with the servers' housekeeping and before token lists are read. Returns their ids.
    pub async fn finish_due_rotations(&self) -> Result<Vec<TokenId>> {
        let now = ts(OffsetDateTime::now_utc());
        if store::tokens::due_rotations(&mut self.reader().await?, now)
            .await?
            .is_empty()
        {
            return Ok(Vec::new());
        }
        let mut tx = self.store.begin().await?;
        let due = store::tokens::due_rotations(&mut tx, now).await?;
        for row in &due {
            let id = TokenId(row.id);
            store::tokens::update_status(&mut tx, id, "revoked", now).await?;
            store::audit::append(
                &mut tx,
                now,
                "tessera",
                "token.revoke",
                &format!("token:{id}"),
                &json!({
                    "hint": row.hint,
                    "from": if row.status == "active" { "rotating" } else { row.status.as_str() },
                    "to": "revoked",
                    "reason": "rotated",
                    "successor": row.rotated_to,
                }),
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(due.into_iter().map(|r| TokenId(r.id)).collect())
    }
}
