//! Finding token-shaped strings in files and folders: which files to read (folders walked,
//! `.git` skipped), reading one as text (binary and oversized files skipped), and where in the
//! text each token shape is. [`crate::Tessera::identify`] says what each one is here.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Files larger than this are skipped (and said so): a secret scanner reads source and logs.
pub const MAX_FILE: u64 = 64 * 1024 * 1024;

/// Whether the bytes look like text: no NUL in the first 8 KiB (what git and grep use).
pub fn is_text(bytes: &[u8]) -> bool {
    !bytes[..bytes.len().min(8192)].contains(&0)
}

/// Every token shape in the bytes of a file or a pipe, with its 1-based line (no UTF-8 check
/// or copy needed: shapes are ASCII). Lines are counted with a vectorised byte search.
pub fn shapes_with_lines_in(bytes: &[u8]) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut line, mut counted) = (1usize, 0usize);
    for (at, found) in crate::token::token_shapes_in(bytes) {
        line += memchr::memchr_iter(b'\n', &bytes[counted..at]).count();
        counted = at;
        out.push((line, found));
    }
    out
}

/// The files under `roots`, in order (folders recursively, `.git` folders skipped, links not
/// followed); what could not be walked is added to `skipped`. A root that does not exist is
/// an error naming it. Callers read the files one at a time, so memory holds one file.
pub fn files(roots: &[PathBuf], skipped: &mut Vec<String>) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for root in roots {
        if !root.exists() {
            return Err(Error::invalid(
                None,
                format!(
                    "{} does not exist; give files or folders to scan",
                    root.display()
                ),
            ));
        }
        let walk = walkdir::WalkDir::new(root)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || e.file_name() != ".git");
        for entry in walk {
            match entry {
                Ok(e) if e.file_type().is_file() => out.push(e.into_path()),
                Ok(_) => {}
                Err(e) => skipped.push(e.to_string()),
            }
        }
    }
    Ok(out)
}

/// One file's bytes when it is text; Err with why when it is too large or unreadable,
/// Ok(None) when it is binary (skipped silently, as git grep does).
pub fn read_bytes(path: &Path) -> std::result::Result<Option<Vec<u8>>, String> {
    let name = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE => return Err(format!("{name} is larger than 64 MiB")),
        Err(e) => return Err(format!("{name} ({e})")),
        Ok(_) => {}
    }
    match std::fs::read(path) {
        Ok(bytes) if is_text(&bytes) => Ok(Some(bytes)),
        Ok(_) => Ok(None),
        Err(e) => Err(format!("{name} ({e})")),
    }
}
