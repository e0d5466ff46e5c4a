//! Printing: JSON for scripts, aligned tables for people. Dates are UTC RFC 3339 here.

use serde::Serialize;
use tessera_core::error::Field;
use tessera_core::policy::Policy;
use tessera_core::service::{Explanation, KeyInfo, ScopeInfo};
use tessera_core::store::audit::AuditEntry;
use tessera_core::store::usage::UsageEntry;
use tessera_core::store::users::User;
use tessera_core::verify::{Decision, Reason};
use tessera_core::{Error, Result, TokenInfo};
use time::OffsetDateTime;

/// How the CLI names a core field: the flag (or argument) it is given with.
pub fn flag(f: Field) -> &'static str {
    match f {
        Field::Id => "ID",
        Field::TokenTtl => "--token-ttl",
        Field::Secret => "SECRET_ID",
        Field::Client => "ID",
        Field::Kind => "--kind",
        Field::Name => "--name",
        Field::Description => "--description",
        Field::Owner => "--owner",
        Field::Scopes => "--scope",
        Field::Expiry => "expiry",
        Field::ExpiresIn => "--expires-in",
        Field::ExpiresAt => "--expires-at",
        Field::IdleDays => "--idle-days",
        Field::AllowedNetworks => "--allow",
        Field::RateLimit => "--rate-limit",
        Field::Status => "--status",
        Field::Note => "TEXT",
        Field::AlertNewSources => "--alert-new-sources",
        Field::Overlap => "--overlap",
        Field::Grace => "--grace",
        Field::Token => "TOKEN",
        Field::Ip => "--ip",
        Field::Email => "e-mail",
        Field::Role => "--role",
        Field::Password => "password",
        Field::CurrentPassword => "current password",
        Field::SourceGroup => "--source-group",
        Field::Company => "--company",
        Field::Since => "--since",
        Field::Until => "--until",
        Field::At => "--at",
        // Policy values are set with `tessera policy set KEY VALUE`; the key is the name.
        other => other.as_str(),
    }
}

/// The CLI's own hint for an error: which command shows what was not found.
fn hint(e: &Error) -> Option<&'static str> {
    match (e, e.field()) {
        (Error::NotSetUp, _) => Some(
            "run `tessera init --company NAME --admin-email EMAIL --admin-name NAME` first",
        ),
        (Error::AlreadySetUp, _) => {
            Some("act as one of its users with --as EMAIL, or give another --data-dir to set up a new one")
        }
        (Error::NotFound(_) | Error::Invalid(_), Some(Field::Id)) => {
            Some("see `tessera token list`")
        }
        (Error::NotFound(_), Some(Field::Email)) => Some("see `tessera user list`"),
        (Error::Invalid(_) | Error::Forbidden(_), Some(Field::Scopes)) => {
            Some("see `tessera scope list` (an admin adds scopes with `tessera scope add`)")
        }
        _ => None,
    }
}

/// `LABEL: message; hint`, the line an error prints as.
fn line(label: Option<&str>, e: &Error) -> String {
    let mut text = match label {
        Some(l) => format!("{l}: {}", e.message()),
        None => e.message(),
    };
    if let Some(h) = hint(e) {
        text.push_str("; ");
        text.push_str(h);
    }
    text
}

/// An error as the CLI prints it: the field as its flag, then what to do, then a hint.
pub fn error_text(e: &Error) -> String {
    line(e.field().map(flag), e)
}

/// The same error with some fields named by other flags (a command whose flags differ).
pub fn relabel(e: Error, flags: &[(Field, &str)]) -> Error {
    let Some((_, label)) = flags.iter().find(|(f, _)| Some(*f) == e.field()) else {
        return e;
    };
    let text = line(Some(label), &e);
    match e {
        Error::NotFound(_) => Error::not_found(None, text),
        Error::Forbidden(_) => Error::forbidden(None, text),
        Error::Conflict(_) => Error::conflict(None, text),
        _ => Error::invalid(None, text),
    }
}

pub fn json<T: Serialize + ?Sized>(v: &T) -> Result<()> {
    let s =
        serde_json::to_string_pretty(v).map_err(|e| Error::internal("cannot encode JSON", e))?;
    println!("{s}");
    Ok(())
}

/// A moment as RFC 3339.
pub fn when(t: OffsetDateTime) -> String {
    date(Some(t))
}

pub fn date(t: Option<OffsetDateTime>) -> String {
    t.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .unwrap_or_else(|| "-".to_owned())
}

pub fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let s: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        println!("{}", s.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r);
    }
}

pub fn users_table(users: &[User]) {
    table(
        &["ID", "EMAIL", "NAME", "ROLE", "STATUS", "CREATED"],
        users
            .iter()
            .map(|u| {
                vec![
                    u.id.to_string(),
                    u.email.to_string(),
                    u.name.clone(),
                    u.role.to_string(),
                    if u.active { "active" } else { "deactivated" }.to_owned(),
                    date(Some(u.created_at)),
                ]
            })
            .collect(),
    );
}

pub fn scopes_table(scopes: &[ScopeInfo]) {
    table(
        &["SCOPE", "ROLES", "DESCRIPTION"],
        scopes
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    s.description.clone(),
                ]
            })
            .collect(),
    );
}

pub fn tokens_table(tokens: &[TokenInfo]) {
    table(
        &[
            "ID",
            "KIND",
            "NAME",
            "OWNER",
            "HINT",
            "SCOPES",
            "STATUS",
            "EXPIRES",
            "LAST USED",
        ],
        tokens
            .iter()
            .map(|t| {
                vec![
                    t.id.to_string(),
                    t.kind.to_string(),
                    t.name.clone(),
                    t.owner
                        .as_ref()
                        .map(|o| o.email.clone())
                        .unwrap_or_else(|| "(company)".into()),
                    t.hint.clone(),
                    t.scopes.join(" "),
                    if t.honeytoken {
                        format!("{} (honeytoken)", t.status)
                    } else {
                        t.status.to_string()
                    },
                    date(t.expires_at),
                    date(t.last_used_at),
                ]
            })
            .collect(),
    );
}

pub fn token_details(t: &TokenInfo) {
    let rows: Vec<(&str, String)> = vec![
        ("id", t.id.to_string()),
        ("kind", t.kind.to_string()),
        ("name", t.name.clone()),
        ("description", t.description.clone()),
        ("note", t.note.clone()),
        ("hint", t.hint.clone()),
        (
            "owner",
            t.owner
                .as_ref()
                .map(|o| o.email.clone())
                .unwrap_or_else(|| "(company)".into()),
        ),
        ("created by", t.created_by.clone()),
        ("scopes", t.scopes.join(" ")),
        (
            "status",
            if t.honeytoken {
                format!(
                    "{} (honeytoken: never grants anything; every presentation alerts)",
                    t.status
                )
            } else {
                t.status.to_string()
            },
        ),
        (
            "new-source alerts",
            if t.alert_new_sources { "on" } else { "off" }.into(),
        ),
        ("created", date(Some(t.created_at))),
        ("expires", date(t.expires_at)),
        (
            "idle expiry",
            t.idle_days
                .map(|d| format!("{d} days (next: {})", date(t.idle_expires_at)))
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "networks",
            if t.allowed_networks.is_empty() {
                "any".into()
            } else {
                t.allowed_networks.join(" ")
            },
        ),
        ("rate limit", format!("{}/min", t.rate_limit)),
        ("last used", date(t.last_used_at)),
        (
            "last address",
            t.last_used_ip.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            "last client",
            t.last_used_agent.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            "uses",
            format!("{} accepted, {} refused", t.use_count, t.refused_count),
        ),
    ];
    for (k, v) in rows {
        println!("{k:<13} {v}");
    }
    if let Some(r) = &t.rotation {
        println!(
            "{:<13} replaced by token {} ({}) on {}; works until {} (overlap to {}, or {} min after the new token's first use{})",
            "rotation",
            r.successor,
            r.successor_hint,
            date(Some(r.rotated_at)),
            date(Some(r.ends_at)),
            date(Some(r.overlap_ends_at)),
            r.grace_seconds / 60,
            r.successor_first_used_at
                .map(|f| format!(", first used {}", date(Some(f))))
                .unwrap_or_default()
        );
    }
}

/// Who used a rotating token since its rotation, by address and client.
pub fn sources_table(rows: &[tessera_core::store::usage::Source]) {
    table(
        &["LAST USE", "USES", "ADDRESS", "CLIENT"],
        rows.iter()
            .map(|s| {
                vec![
                    date(Some(s.last_at)),
                    s.uses.to_string(),
                    s.ip.clone().unwrap_or_else(|| "-".into()),
                    s.user_agent.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect(),
    );
}

pub fn usage_table(rows: &[UsageEntry]) {
    table(
        &[
            "TIME", "USES", "OUTCOME", "ADDRESS", "METHOD", "PATH", "STATUS", "VIA", "CLIENT",
        ],
        rows.iter()
            .map(|u| {
                vec![
                    date(Some(u.at)),
                    u.uses.to_string(),
                    u.outcome.clone(),
                    u.ip.clone().unwrap_or_else(|| "-".into()),
                    u.method.clone(),
                    u.path.clone(),
                    u.status.to_string(),
                    u.via.clone(),
                    u.user_agent.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect(),
    );
}

pub fn keys_table(keys: &[KeyInfo]) {
    let at = |t: i64| date(OffsetDateTime::from_unix_timestamp(t).ok());
    table(
        &["ID", "CREATED", "RETIRED", "USE", "LIVE TOKENS", "HERE"],
        keys.iter()
            .map(|k| {
                vec![
                    k.id.to_string(),
                    at(k.created_at),
                    k.retired_at.map_or_else(|| "-".to_owned(), at),
                    if k.newest {
                        "hashes new tokens"
                    } else if k.retired_at.is_some() {
                        "retired"
                    } else {
                        "verifies"
                    }
                    .to_owned(),
                    k.live_tokens.to_string(),
                    if k.retired_at.is_some() {
                        "-"
                    } else if k.held {
                        "yes"
                    } else {
                        "MISSING"
                    }
                    .to_owned(),
                ]
            })
            .collect(),
    );
}

pub fn explanation(e: &Explanation) {
    match (&e.token_id, &e.hint) {
        (Some(id), Some(hint)) => println!("token {id} ({hint}): {}", e.outcome),
        _ => println!("{}", e.outcome),
    }
    table(
        &["RULE", "RESULT", "WHAT WAS COMPARED"],
        e.checks
            .iter()
            .map(|c| {
                vec![
                    c.rule.clone(),
                    if c.passed { "pass" } else { "FAIL" }.to_owned(),
                    c.detail.clone(),
                ]
            })
            .collect(),
    );
}

pub fn audit_table(rows: &[AuditEntry]) {
    table(
        &["ID", "TIME", "ACTOR", "ACTION", "TARGET", "DETAILS"],
        rows.iter()
            .map(|a| {
                vec![
                    a.id.to_string(),
                    date(Some(a.at)),
                    a.actor.clone(),
                    a.action.clone(),
                    a.target.clone(),
                    a.details.to_string(),
                ]
            })
            .collect(),
    );
}

pub fn policy(p: &Policy) -> Result<()> {
    let v = serde_json::to_value(p).map_err(|e| Error::internal("cannot encode policy", e))?;
    if let Some(o) = v.as_object() {
        for (k, v) in o {
            println!("{k:<24} {v}");
        }
    }
    Ok(())
}

/// The decision as printed by `token verify --json`.
#[derive(Serialize)]
pub struct DecisionOut<'a> {
    pub active: bool,
    pub reason: &'static str,
    pub message: Option<&'static str>,
    pub token: Option<&'a tessera_core::verify::VerifiedToken>,
}

impl<'a> From<&'a Decision> for DecisionOut<'a> {
    fn from(d: &'a Decision) -> Self {
        Self {
            active: d.accepted(),
            reason: d.outcome(),
            message: d.refused.map(Reason::message),
            token: d.token.as_deref(),
        }
    }
}

pub fn decision(d: &Decision) {
    println!("{}", d.outcome());
    match (&d.token, d.refused) {
        (Some(t), None) => {
            let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
            println!(
                "token {} ({}, {}) owner {} scopes {}",
                t.id,
                t.kind,
                t.hint,
                t.owner
                    .as_ref()
                    .map(|o| o.email.as_str())
                    .unwrap_or("(company)"),
                scopes.join(" ")
            );
        }
        (_, Some(r)) => println!("{}", r.message()),
        _ => {}
    }
}
