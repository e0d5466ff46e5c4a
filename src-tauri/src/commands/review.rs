//! Usage review, the dashboard and the audit log.

use std::path::PathBuf;

use tauri::State;
use tessera_core::error::Field;
use tessera_core::model::TokenId;
use tessera_core::reports::Dashboard;
use tessera_core::store::audit::{AuditEntry, AuditFilter};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::dto::{AuditQuery, ExplainQuery};
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;
use tessera_core::reports::UsageReport;

#[tauri::command]
pub async fn token_usage_report(
    state: State<'_, AppState>,
    id: i32,
    days: u32,
) -> CmdResult<UsageReport> {
    state
        .store()
        .await?
        .usage_report(TokenId(i64::from(id)), days)
        .await
}

/// "Test a token": every verification rule applied to a pasted token or one the person
/// manages, with what each compared. Records no use; the token is neither kept nor logged.
#[tauri::command]
pub async fn explain_token(
    state: State<'_, AppState>,
    query: ExplainQuery,
) -> CmdResult<tessera_core::service::Explanation> {
    let store = state.store().await?;
    let scopes = query
        .scopes
        .iter()
        .flat_map(|s| s.split([' ', ',']))
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<tessera_core::model::Scope>().map_err(|_| {
                IpcError::invalid(
                    Field::Scopes,
                    format!(
                        "'{}' is not a scope name; use names like me:read",
                        s.chars().take(40).collect::<String>()
                    ),
                )
            })
        })
        .collect::<CmdResult<Vec<_>>>()?;
    let ip = match query.ip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse::<std::net::IpAddr>().map_err(|_| {
            IpcError::invalid(
                Field::Ip,
                "not an IP address; use a form like 203.0.113.7 or 2001:db8::1",
            )
        })?),
    };
    let at = match query.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => OffsetDateTime::now_utc(),
        Some(s) => OffsetDateTime::parse(s, &Rfc3339).map_err(|_| {
            IpcError::invalid(
                Field::At,
                "not a date and time; use RFC 3339 like 2026-11-23T09:00:00Z",
            )
        })?,
    };
    let token = zeroize::Zeroizing::new(query.token.unwrap_or_default());
    let token = Some(token.trim()).filter(|t| !t.is_empty());
    let id = query.id.map(|id| TokenId(i64::from(id)));
    store.explain(token, id, &scopes, ip, at).await
}

/// A number that moves whenever anyone changes anything in the store (another admin, the CLI,
/// another window): the window polls it and refreshes what it shows when it moves. Asking
/// keeps no session open; a locked session answers Unauthenticated.
#[tauri::command]
pub async fn store_version(state: State<'_, AppState>) -> CmdResult<i64> {
    match state.background_store().await {
        Some((store, false)) => store.change_marker().await,
        _ => Err(IpcError::unauthenticated("sign in first")),
    }
}

#[tauri::command]
pub async fn get_dashboard(state: State<'_, AppState>) -> CmdResult<Dashboard> {
    state.store().await?.dashboard().await
}

/// Scan files and folders for Tessera tokens: what each one found is here (never the token
/// itself). Nothing is recorded as a use.
#[tauri::command]
pub async fn scan_for_leaks(
    state: State<'_, AppState>,
    paths: Vec<String>,
) -> CmdResult<tessera_core::service::ScanReport> {
    let store = state.store().await?;
    let roots: Vec<PathBuf> = paths
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect();
    if roots.is_empty() {
        return Err(IpcError::invalid(None, "choose a folder or files to scan"));
    }
    store.scan(&roots).await
}

/// Revoke a token found leaked at `place` (`FILE:LINE`); the audit log says where.
#[tauri::command]
pub async fn revoke_leaked_token(
    state: State<'_, AppState>,
    id: i32,
    place: String,
) -> CmdResult<tessera_core::TokenInfo> {
    state
        .store()
        .await?
        .revoke_leaked(TokenId(i64::from(id)), &place)
        .await
}

/// Acknowledge the honeytoken alerts up to and including audit entry `up_to` (admins): they
/// leave the Dashboard.
#[tauri::command]
pub async fn acknowledge_honeytoken_alerts(
    state: State<'_, AppState>,
    up_to: i32,
) -> CmdResult<()> {
    state
        .store()
        .await?
        .acknowledge_honeytokens(i64::from(up_to))
        .await
}

fn audit_filter(q: AuditQuery) -> CmdResult<AuditFilter> {
    let when = |field: Field, v: Option<String>| -> CmdResult<Option<i64>> {
        match v.filter(|s| !s.trim().is_empty()) {
            None => Ok(None),
            Some(s) => OffsetDateTime::parse(s.trim(), &Rfc3339)
                .map(|t| Some(t.unix_timestamp()))
                .map_err(|_| {
                    IpcError::invalid(
                        field,
                        "not a date and time; use RFC 3339 like 2026-11-23T09:00:00Z",
                    )
                }),
        }
    };
    let text = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(AuditFilter {
        since: when(Field::Since, q.since)?,
        until: when(Field::Until, q.until)?,
        actor: text(q.actor),
        action: text(q.action),
        target: text(q.target),
        before_id: q.before_id.map(i64::from),
        limit: if q.limit == 0 {
            200
        } else {
            q.limit.min(10_000)
        },
    })
}

#[tauri::command]
pub async fn list_audit(
    state: State<'_, AppState>,
    query: AuditQuery,
) -> CmdResult<Vec<AuditEntry>> {
    let store = state.store().await?;
    store.audit(&audit_filter(query)?).await
}

/// Write the filtered audit log (up to 100,000 entries) as CSV; returns how many rows.
#[tauri::command]
pub async fn export_audit_csv(
    state: State<'_, AppState>,
    path: String,
    query: AuditQuery,
) -> CmdResult<i32> {
    let store = state.store().await?;
    let filter = audit_filter(query)?;
    let (csv, rows) = store.audit_csv(&filter).await?;
    let path = PathBuf::from(path);
    std::fs::write(&path, csv).map_err(|e| {
        IpcError::invalid(
            None,
            format!(
                "cannot write {} ({e}); choose another place",
                path.display()
            ),
        )
    })?;
    Ok(i32::try_from(rows).unwrap_or(i32::MAX))
}
