//! Files that hold secrets (the key file, TLS private keys, Postman environments with a
//! token): written owner-only (0600) whether or not the file already existed, and a key file
//! that others can read is refused with the command that fixes it.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Write `contents` to `path`, creating or replacing it, readable and writable by the owner
/// only. An existing file's looser mode is tightened before anything is written to it.
pub fn write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(contents)?;
    f.sync_all()
}

/// Refuse a secret file that anyone but its owner may read or write.
pub fn check_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(m) => m.permissions().mode() & 0o777,
            Err(_) => return Ok(()),
        };
        if mode & 0o077 != 0 {
            return Err(Error::state(format!(
                "the key file {} can be read or written by others (mode {mode:o}); run `chmod 600 {}` and start again",
                path.display(),
                path.display()
            )));
        }
    }
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
    }

    #[test]
    fn an_existing_loose_file_is_tightened_before_it_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("env.json");
        std::fs::write(&p, "old").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write(&p, b"secret").expect("write secret");
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "secret");
    }

    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("key");
        write(&p, b"k").expect("write");
        assert!(check_private(&p).is_ok());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let e = check_private(&p).expect_err("loose");
        assert!(
            e.to_string()
                .contains(&format!("chmod 600 {}", p.display())),
            "{e}"
        );
    }
}
