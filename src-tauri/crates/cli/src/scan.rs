//! `tessera scan`: find Tessera tokens in files, folders or a pipe, say what each is here,
//! and revoke the live ones on request. The full token is never printed.

use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use serde::Serialize;
use tessera_core::scan::{files, read_bytes, shapes_with_lines_in, MAX_FILE};
use tessera_core::service::{Finding, FoundStatus};
use tessera_core::{Actor, Error, Result, Tessera};

use crate::args::ScanArgs;
use crate::output;

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

/// Standard input, at most [`MAX_FILE`] bytes (more is refused, not cut).
fn read_stdin() -> Result<Vec<u8>> {
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
    Ok(bytes)
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
    let mut scan_text = async |file: String, text: Vec<u8>| -> Result<()> {
        scanned += 1;
        for (line, found) in shapes_with_lines_in(&text) {
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
        let mut skipped = Vec::new();
        let paths = files(&args.paths, &mut skipped)
            .map_err(|e| Error::invalid(None, format!("PATH: {}", e.message())))?;
        for s in skipped {
            eprintln!("skipped: {s}");
        }
        for path in paths {
            match read_bytes(&path) {
                Ok(Some(text)) => scan_text(path.display().to_string(), text).await?,
                Ok(None) => {}
                Err(why) => eprintln!("skipped: {why}"),
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
                let at = format!("{}:{}", hits[i].file, hits[i].line);
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
