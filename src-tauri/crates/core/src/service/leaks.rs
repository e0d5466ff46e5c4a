//! Leaked tokens: what a token found in a file or a pipe is here (live, revoked, expired,
//! deactivated, issued elsewhere, or a broken copy), and revoking the live ones found.

use serde::Serialize;
use time::OffsetDateTime;

use super::{Actor, StatusAction, Tessera, TokenInfo};
use crate::error::Result;
use crate::model::{TokenId, TokenStatus};
use crate::token::{TokenSecret, PREFIX};

/// What a found token is here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum FoundStatus {
    /// Issued here and accepted right now: revoke it.
    Live,
    /// Issued here, deactivated: it could be activated again; revoke it.
    Deactivated,
    /// Issued here and revoked: nothing to do.
    Revoked,
    /// Issued here and past its expiry: nothing to do.
    Expired,
    /// A well-formed token (its checksum is right) that this installation never issued.
    Unknown,
    /// Token-shaped, but its checksum is wrong: a mistyped or edited copy.
    Malformed,
}

/// One found token: its hint (never the token), what it is, and, when the actor may manage
/// it, the token's details.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Finding {
    pub hint: String,
    pub status: FoundStatus,
    pub token: Option<TokenInfo>,
}

/// The hint of a token-shaped string that may not parse: kind prefix, `…`, last four.
fn hint_of(found: &str) -> String {
    let head = found.get(..PREFIX.len() + 2).unwrap_or(PREFIX);
    let tail = found
        .get(found.len().saturating_sub(4)..)
        .unwrap_or_default();
    format!("{head}…{tail}")
}

/// One place a token was found.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
pub struct FoundAt {
    pub file: String,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub line: usize,
    pub finding: Finding,
}

/// What a scan of files and folders found.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct ScanReport {
    /// How many files were read.
    pub files: u32,
    pub hits: Vec<FoundAt>,
    /// Files that could not be read, and why.
    pub skipped: Vec<String>,
}

/// The token-shaped strings in files and folders, before anyone says what they are (which
/// needs the store: [`Tessera::identify`]). Read one file at a time, on a blocking thread.
pub struct FoundShapes {
    /// How many files were read.
    pub files: u32,
    /// Each place: file, line, and the string found there (secret: never shown or logged).
    pub places: Vec<(String, usize, zeroize::Zeroizing<String>)>,
    /// Files that could not be read, and why.
    pub skipped: Vec<String>,
}

impl FoundShapes {
    /// The distinct strings found, in first-found order.
    pub fn distinct(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.places
            .iter()
            .map(|(_, _, s)| s.as_str())
            .filter(|s| seen.insert(*s))
            .collect()
    }

    /// The report, given what each distinct string is (`identify`, in any order).
    pub fn report(self, mut identify: impl FnMut(&str) -> Option<Finding>) -> ScanReport {
        let hits = self
            .places
            .iter()
            .filter_map(|(file, line, found)| {
                identify(found).map(|finding| FoundAt {
                    file: file.clone(),
                    line: *line,
                    finding,
                })
            })
            .collect();
        ScanReport {
            files: self.files,
            hits,
            skipped: self.skipped,
        }
    }
}

/// Walk `roots` and collect every token-shaped string with its place.
pub async fn find_in_paths(roots: &[std::path::PathBuf]) -> Result<FoundShapes> {
    let roots_owned = roots.to_vec();
    let (paths, mut skipped) = tokio::task::spawn_blocking(move || {
        let mut s = Vec::new();
        crate::scan::files(&roots_owned, &mut s).map(|p| (p, s))
    })
    .await
    .map_err(|e| crate::Error::internal("the scan stopped", e))??;
    let mut places = Vec::new();
    let mut files = 0u32;
    for path in paths {
        let p = path.clone();
        let text = tokio::task::spawn_blocking(move || crate::scan::read_bytes(&p))
            .await
            .map_err(|e| crate::Error::internal("the scan stopped", e))?;
        let text = match text {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(why) => {
                skipped.push(why);
                continue;
            }
        };
        files += 1;
        for (line, found) in crate::scan::shapes_with_lines_in(&text) {
            places.push((
                path.display().to_string(),
                line,
                zeroize::Zeroizing::new(found.to_owned()),
            ));
        }
    }
    Ok(FoundShapes {
        files,
        places,
        skipped,
    })
}

impl Tessera {
    /// Scan files and folders for tokens and say what each is here (as
    /// [`Tessera::identify`]); nothing is recorded as a use and no token is returned whole.
    pub async fn scan_paths(
        &self,
        actor: &Actor,
        roots: &[std::path::PathBuf],
    ) -> Result<ScanReport> {
        let found = find_in_paths(roots).await?;
        let mut known: std::collections::HashMap<String, Finding> = Default::default();
        for s in found.distinct() {
            let f = self.identify(actor, s).await?;
            known.insert(s.to_owned(), f);
        }
        Ok(found.report(|s| known.get(s).cloned()))
    }

    /// What the token-shaped string `found` is here. Nothing is recorded as a use.
    pub async fn identify(&self, actor: &Actor, found: &str) -> Result<Finding> {
        let Ok(secret) = TokenSecret::parse(found) else {
            return Ok(Finding {
                hint: hint_of(found),
                status: FoundStatus::Malformed,
                token: None,
            });
        };
        let hint = secret.hint();
        let keys = self.keys.current();
        let row = self
            .find_presented(secret.expose(), &keys, keys.newest().hash(&secret))
            .await?;
        // A honeytoken is reported as unknown: a scan shows nobody which tokens are traps.
        let Some(row) = row.filter(|r| !r.honeytoken) else {
            return Ok(Finding {
                hint,
                status: FoundStatus::Unknown,
                token: None,
            });
        };
        let mine = self.may_manage(actor, &row);
        let info = TokenInfo::from_row(row, OffsetDateTime::now_utc());
        let status = match info.status {
            TokenStatus::Active | TokenStatus::Rotating => FoundStatus::Live,
            TokenStatus::Deactivated => FoundStatus::Deactivated,
            TokenStatus::Revoked => FoundStatus::Revoked,
            TokenStatus::Expired => FoundStatus::Expired,
        };
        Ok(Finding {
            hint,
            status,
            token: mine.then_some(info),
        })
    }

    /// Revoke a token found where it should not be; the audit entry says where
    /// (`{"reason": "leaked in PLACE"}`, control characters shown as `?`, at most 1,000).
    pub async fn revoke_leaked(
        &self,
        actor: &Actor,
        id: TokenId,
        place: &str,
    ) -> Result<TokenInfo> {
        let place: String = place
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .take(1000)
            .collect();
        self.change_status(
            actor,
            id,
            StatusAction::Revoke,
            Some(&format!("leaked in {place}")),
        )
        .await
    }
}
