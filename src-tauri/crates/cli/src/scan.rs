//! `tessera scan`: find Tessera tokens in files, folders or a pipe, say what each is here,
//! and revoke the live ones on request. The full token is never printed.

use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;
use tessera_core::service::{Finding, FoundStatus};
use tessera_core::token::token_shapes;
use tessera_core::{Actor, Error, Result, Tessera};
use walkdir::WalkDir;

use crate::args::ScanArgs;
use crate::output;

/// Files larger than this are skipped (and said so): a secret scanner reads source and logs.
const MAX_FILE: u64 = 64 * 1024 * 1024;

/// One place a token was found.
#[derive(Debug, Serialize)]
struct Hit {
    /// The file (or `-` for standard input) and the 1-based line.
    file: String,
    line: usize,
    #[serde(flatten)]
    finding: Finding,
    /// Set when `--revoke` revoked it.
    revoked: bool,
}

/// Whether the bytes look like text: no NUL in the first 8 KiB (what git and grep use).
fn is_text(bytes: &[u8]) -> bool {
    !bytes[..bytes.len().min(8192)].contains(&0)
}

/// Every token shape in `text`, with its 1-based line.
fn shapes_with_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut line, mut counted) = (1usize, 0usize);
    for (at, found) in token_shapes(text) {
        line += text.as_bytes()[counted..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = at;
        out.push((line, found));
    }
    out
}

/// The texts to scan: (name, contents), with what was skipped said on standard error.
fn sources(args: &ScanArgs) -> Result<Vec<(String, String)>> {
    if args.stdin {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::invalid(None, format!("cannot read standard input ({e})")))?;
        return Ok(vec![(
            "-".into(),
            String::from_utf8_lossy(&bytes).into_owned(),
        )]);
    }
    let mut out = Vec::new();
    for root in &args.paths {
        if !root.exists() {
            return Err(Error::invalid(
                None,
                format!(
                    "PATH: {} does not exist; give files or folders to scan",
                    root.display()
                ),
            ));
        }
        let walk = WalkDir::new(root)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || e.file_name() != ".git");
        for entry in walk {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("skipped: {e}");
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            read_one(entry.path(), &mut out);
        }
    }
    Ok(out)
}

fn read_one(path: &Path, out: &mut Vec<(String, String)>) {
    let name = path.display().to_string();
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE => {
            eprintln!("skipped: {name} is larger than 64 MiB");
            return;
        }
        Err(e) => {
            eprintln!("skipped: {name} ({e})");
            return;
        }
        Ok(_) => {}
    }
    match std::fs::read(path) {
        Ok(bytes) if is_text(&bytes) => {
            out.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
        Ok(_) => {} // binary: skipped silently, as git grep does
        Err(e) => eprintln!("skipped: {name} ({e})"),
    }
}

fn describe(f: &Finding) -> String {
    let about = |t: &tessera_core::TokenInfo| {
        let owner = t
            .owner
            .as_ref()
            .map_or_else(|| "the company".to_owned(), |o| o.email.clone());
        let used = t.last_used_at.map_or_else(
            || "never used".to_owned(),
            |d| format!("last used {}", tessera_core::text::date(d)),
        );
        format!("token {} \"{}\" of {owner}, {used}", t.id, t.name)
    };
    match (f.status, &f.token) {
        (FoundStatus::Unknown, _) => "a valid token this installation never issued".into(),
        (FoundStatus::Malformed, _) => "token-shaped, but the checksum is wrong".into(),
        (_, Some(t)) => about(t),
        (_, None) => "issued here, to a token you may not manage".into(),
    }
}

fn word(s: FoundStatus) -> &'static str {
    match s {
        FoundStatus::Live => "LIVE",
        FoundStatus::Deactivated => "deactivated",
        FoundStatus::Revoked => "revoked",
        FoundStatus::Expired => "expired",
        FoundStatus::Unknown => "unknown",
        FoundStatus::Malformed => "malformed",
    }
}

fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::invalid(
            None,
            "--revoke: no terminal to ask on; add --yes to revoke without asking",
        ));
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::invalid(None, format!("cannot read the answer ({e})")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub async fn run(t: &Tessera, actor: &Actor, args: ScanArgs) -> Result<ExitCode> {
    if args.revoke && args.stdin && !args.yes {
        return Err(Error::invalid(
            None,
            "--revoke: standard input holds the text to scan, so there is no way to ask; add --yes",
        ));
    }
    let texts = sources(&args)?;
    let mut known: HashMap<String, Finding> = HashMap::new();
    let mut hits = Vec::new();
    for (file, text) in &texts {
        for (line, found) in shapes_with_lines(text) {
            let finding = match known.get(found) {
                Some(f) => f.clone(),
                None => {
                    let f = t.identify(actor, found).await?;
                    known.insert(found.to_owned(), f.clone());
                    f
                }
            };
            hits.push(Hit {
                file: file.clone(),
                line,
                finding,
                revoked: false,
            });
        }
    }
    let live = hits.iter().any(|h| h.finding.status == FoundStatus::Live);

    if args.revoke {
        // Each live token once, at the first place it was found.
        let mut targets: Vec<(usize, tessera_core::model::TokenId)> = Vec::new();
        for (i, h) in hits.iter().enumerate() {
            if let (FoundStatus::Live, Some(tok)) = (h.finding.status, &h.finding.token) {
                if !targets.iter().any(|(_, id)| *id == tok.id) {
                    targets.push((i, tok.id));
                }
            }
        }
        if !targets.is_empty()
            && (args.yes
                || confirm(&format!(
                    "Revoke {} live token{} found?",
                    targets.len(),
                    if targets.len() == 1 { "" } else { "s" }
                ))?)
        {
            for (i, id) in targets {
                let place = format!("{}:{}", hits[i].file, hits[i].line);
                t.revoke_leaked(actor, id, &place).await?;
                for h in hits.iter_mut() {
                    if h.finding.token.as_ref().is_some_and(|x| x.id == id) {
                        h.revoked = true;
                    }
                }
            }
        }
    }

    if args.json {
        output::json(&hits)?;
    } else if hits.is_empty() {
        println!("No Tessera tokens found in {} file(s).", texts.len());
    } else {
        for h in &hits {
            println!(
                "{}:{}  {}  {}{}  {}",
                h.file,
                h.line,
                h.finding.hint,
                word(h.finding.status),
                if h.revoked { " (now revoked)" } else { "" },
                describe(&h.finding)
            );
        }
    }
    Ok(if live {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
