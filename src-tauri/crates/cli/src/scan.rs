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

/// The files to scan, in order, with what was skipped said on standard error. Files are
/// read one at a time by the caller, so memory holds one file, not all of them.
fn files(args: &ScanArgs) -> Result<Vec<std::path::PathBuf>> {
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
            match entry {
                Ok(e) if e.file_type().is_file() => out.push(e.into_path()),
                Ok(_) => {}
                Err(e) => eprintln!("skipped: {e}"),
            }
        }
    }
    Ok(out)
}

/// One file's text, or None (said on standard error) when it is too large, unreadable or
/// binary (binary files are skipped silently, as git grep does).
fn read_text(path: &Path) -> Option<String> {
    let name = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE => {
            eprintln!("skipped: {name} is larger than 64 MiB");
            return None;
        }
        Err(e) => {
            eprintln!("skipped: {name} ({e})");
            return None;
        }
        Ok(_) => {}
    }
    match std::fs::read(path) {
        Ok(bytes) if is_text(&bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Ok(_) => None,
        Err(e) => {
            eprintln!("skipped: {name} ({e})");
            None
        }
    }
}

/// Standard input, at most [`MAX_FILE`] bytes (more is refused, not cut).
fn read_stdin() -> Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::invalid(None, format!("cannot read standard input ({e})")))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(Error::invalid(
            None,
            "--stdin: more than 64 MiB; scan the files themselves instead",
        ));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Where a token was found, as the audit log may hold it: no control characters.
fn place(file: &str, line: usize) -> String {
    let clean: String = file
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("{clean}:{line}")
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
    let mut known: HashMap<String, Finding> = HashMap::new();
    let mut hits = Vec::new();
    let mut scanned = 0usize;
    let mut scan_text = async |file: String, text: String| -> Result<()> {
        scanned += 1;
        for (line, found) in shapes_with_lines(&text) {
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
        Ok(())
    };
    if args.stdin {
        scan_text("-".into(), read_stdin()?).await?;
    } else {
        for path in files(&args)? {
            if let Some(text) = read_text(&path) {
                scan_text(path.display().to_string(), text).await?;
            }
        }
    }
    let live = hits.iter().any(|h| h.finding.status == FoundStatus::Live);

    let mut failures = 0usize;
    if args.revoke {
        // Each live or deactivated token (which could be activated again) once, at the
        // first place it was found.
        let mut targets: Vec<(usize, tessera_core::model::TokenId)> = Vec::new();
        for (i, h) in hits.iter().enumerate() {
            let revocable = matches!(
                h.finding.status,
                FoundStatus::Live | FoundStatus::Deactivated
            );
            if let (true, Some(tok)) = (revocable, &h.finding.token) {
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
            // One failure does not stop the others; each is said, and the run fails after.
            for (i, id) in targets {
                let at = place(&hits[i].file, hits[i].line);
                match t.revoke_leaked(actor, id, &at).await {
                    Ok(_) => {
                        for h in hits.iter_mut() {
                            if h.finding.token.as_ref().is_some_and(|x| x.id == id) {
                                h.revoked = true;
                            }
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        eprintln!(
                            "error: could not revoke token {id} found at {at}: {}",
                            output::error_text(&e)
                        );
                    }
                }
            }
        }
    }

    if args.json {
        output::json(&hits)?;
    } else if hits.is_empty() {
        println!("No Tessera tokens found in {scanned} file(s).");
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
    Ok(if live || failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
