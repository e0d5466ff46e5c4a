//! The HMAC key that turns tokens into the hashes we store, and where that key lives.
//!
//! The key is 256 random bits kept in the OS keyring (Secret Service, macOS Keychain, Windows
//! Credential Manager) under an entry named after this installation. Where no keyring answers,
//! it falls back to a 0600 file beside the database and says so on every start. A check value
//! stored in the database catches a missing or different key before it silently breaks every
//! token. This module owns none of the store's tables; it is handed the check value.

use std::fmt;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::token::TokenSecret;

type HmacSha256 = Hmac<Sha256>;

const KEYRING_SERVICE: &str = "tessera";
const KEY_FILE: &str = "token-hmac.key";
const CHECK_INPUT: &[u8] = b"tessera key check v1";

/// A keyed hash of a token: what the database stores and looks up.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", hex::encode(&self.0[..4]))
    }
}

/// Hashes tokens with the installation's key. Cheap to clone; the key never leaves it.
#[derive(Clone)]
pub struct TokenHasher {
    mac: HmacSha256,
}

impl fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHasher(..)")
    }
}

impl TokenHasher {
    pub fn new(key: &[u8; 32]) -> Self {
        // HMAC takes keys of any length; 32 bytes cannot fail.
        let mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        Self { mac }
    }

    pub fn hash(&self, token: &TokenSecret) -> TokenHash {
        self.hash_bytes(token.expose().as_bytes())
    }

    /// Hash a string already checked by [`crate::token::validate`].
    pub(crate) fn hash_validated(&self, token: &str) -> TokenHash {
        self.hash_bytes(token.as_bytes())
    }

    fn hash_bytes(&self, b: &[u8]) -> TokenHash {
        let mut m = self.mac.clone();
        m.update(b);
        TokenHash(m.finalize().into_bytes().into())
    }

    /// A value that identifies the key without revealing it, stored in the database.
    pub fn check_value(&self) -> String {
        hex::encode(self.hash_bytes(CHECK_INPUT).0)
    }
}

/// Where the key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStoreChoice {
    /// The OS keyring, falling back to a file where none answers.
    Auto,
    /// The OS keyring only; fail if it does not answer.
    Keyring,
    /// The 0600 file beside the database only.
    File,
}

impl std::str::FromStr for KeyStoreChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" | "" => Ok(Self::Auto),
            "keyring" => Ok(Self::Keyring),
            "file" => Ok(Self::File),
            _ => Err(Error::invalid(
                None,
                "TESSERA_KEYSTORE: use auto, keyring or file",
            )),
        }
    }
}

/// Where the key was found, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    Keyring,
    /// The fallback file; front ends must warn about it on every start.
    File(PathBuf),
}

/// Load the key for this installation, or create it when the database has none yet.
///
/// `install_id` names the keyring entry; `expected_check` is the check value the database
/// holds (None on a fresh database).
pub fn load_or_create(
    choice: KeyStoreChoice,
    data_dir: &Path,
    install_id: &str,
    expected_check: Option<&str>,
) -> Result<(TokenHasher, KeyLocation)> {
    let file = data_dir.join(KEY_FILE);
    let account = format!("token-hmac-key/{install_id}");

    let from_file = |create: bool| -> Result<Option<(TokenHasher, KeyLocation)>> {
        match read_key_file(&file)? {
            Some(k) => Ok(Some((
                TokenHasher::new(&k),
                KeyLocation::File(file.clone()),
            ))),
            None if create => {
                let k = new_key();
                write_key_file(&file, &k)?;
                Ok(Some((
                    TokenHasher::new(&k),
                    KeyLocation::File(file.clone()),
                )))
            }
            None => Ok(None),
        }
    };

    let fresh = expected_check.is_none();
    let found = match choice {
        KeyStoreChoice::File => from_file(fresh)?,
        KeyStoreChoice::Keyring => match keyring_get(&account) {
            Ok(Some(k)) => Some((TokenHasher::new(&k), KeyLocation::Keyring)),
            Ok(None) if fresh => {
                let k = new_key();
                keyring_set(&account, &k).map_err(KeyringProblem::into_error)?;
                Some((TokenHasher::new(&k), KeyLocation::Keyring))
            }
            Ok(None) => None,
            Err(e) => return Err(e.into_error()),
        },
        KeyStoreChoice::Auto => {
            if file.exists() {
                from_file(false)?
            } else {
                match keyring_get(&account) {
                    Ok(Some(k)) => Some((TokenHasher::new(&k), KeyLocation::Keyring)),
                    Ok(None) if fresh => {
                        let k = new_key();
                        match keyring_set(&account, &k) {
                            Ok(()) => Some((TokenHasher::new(&k), KeyLocation::Keyring)),
                            Err(KeyringProblem::Unavailable(why)) => {
                                tracing::warn!(%why, "no usable OS keyring; using a key file");
                                from_file(true)?
                            }
                            Err(e) => return Err(e.into_error()),
                        }
                    }
                    Ok(None) => None,
                    Err(KeyringProblem::Unavailable(why)) => {
                        tracing::warn!(%why, "no usable OS keyring; using a key file");
                        from_file(fresh)?
                    }
                    Err(e) => return Err(e.into_error()),
                }
            }
        }
    };

    let (hasher, loc) = found.ok_or_else(|| {
        Error::state(format!(
            "the token-hashing key for this database is missing (not in the OS keyring entry '{KEYRING_SERVICE}/{account}' nor in {}); \
             restore it from your backup, or start a new data dir. Without it no stored token can be verified",
            file.display()
        ))
    })?;
    if let Some(expected) = expected_check {
        let actual = hasher.check_value();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            actual.as_bytes(),
            expected.as_bytes(),
        )) {
            return Err(Error::state(format!(
                "the token-hashing key found ({}) does not belong to this database; restore the right key or start a new data dir",
                match &loc {
                    KeyLocation::Keyring => "in the OS keyring".to_owned(),
                    KeyLocation::File(p) => p.display().to_string(),
                }
            )));
        }
    }
    Ok((hasher, loc))
}

/// The key in a file named by the administrator (`--key-file`, `TESSERA_KEY_FILE`): 32 random
/// bytes in base64, mode 0600. Every instance sharing one PostgreSQL database reads the same
/// file, so they all hash alike; a fresh database (no check value yet) creates it when absent.
pub fn load_or_create_shared(
    path: &Path,
    expected_check: Option<&str>,
) -> Result<(TokenHasher, KeyLocation)> {
    let loc = KeyLocation::File(path.to_owned());
    let key = match read_key_file(path)? {
        Some(k) => k,
        None if expected_check.is_none() => {
            let k = new_key();
            write_key_file_as(path, &k, KeyText::Base64)?;
            k
        }
        None => {
            return Err(Error::state(format!(
                "the key file {} does not exist, and this database already has tokens hashed with a key; \
                 copy the key file from the machine that set the database up (the same file for every instance)",
                path.display()
            )))
        }
    };
    let hasher = TokenHasher::new(&key);
    if let Some(expected) = expected_check {
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            hasher.check_value().as_bytes(),
            expected.as_bytes(),
        )) {
            return Err(Error::state(format!(
                "the key in {} is not the key this database's tokens were hashed with; \
                 use the key file the database was set up with (every instance must share it)",
                path.display()
            )));
        }
    }
    Ok((hasher, loc))
}

fn new_key() -> Zeroizing<[u8; 32]> {
    let mut k = Zeroizing::new([0u8; 32]);
    rand::fill(&mut k[..]);
    k
}

fn read_key_file(path: &Path) -> Result<Option<Zeroizing<[u8; 32]>>> {
    crate::secret_file::check_private(path)?;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::internal(
                format!(
                    "cannot read the key file {}: check its permissions",
                    path.display()
                ),
                e,
            ))
        }
    };
    // The data dir's own file is hex; a shared key file is base64. Either is read.
    let trimmed = text.trim();
    let decoded = if trimmed.len() == 64 && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(trimmed).ok()
    } else {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(trimmed)
            .ok()
    };
    let bytes = Zeroizing::new(decoded.ok_or_else(|| {
        Error::state(format!(
            "the key file {} is damaged: it must hold 32 bytes in base64 (as `tessera init` writes it)",
            path.display()
        ))
    })?);
    let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        Error::state(format!(
            "the key file {} does not hold a 256-bit key",
            path.display()
        ))
    })?;
    Ok(Some(Zeroizing::new(arr)))
}

/// How a key file spells the key.
enum KeyText {
    Hex,
    Base64,
}

fn write_key_file(path: &Path, key: &[u8; 32]) -> Result<()> {
    write_key_file_as(path, key, KeyText::Hex)
}

fn write_key_file_as(path: &Path, key: &[u8; 32], as_text: KeyText) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let text = Zeroizing::new(match as_text {
        KeyText::Hex => hex::encode(key),
        KeyText::Base64 => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(key) + "\n"
        }
    });
    let mut f = opts.open(path).map_err(|e| {
        Error::internal(
            format!(
                "cannot create the key file {}: check that its directory exists and is writable",
                path.display()
            ),
            e,
        )
    })?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::internal(format!("cannot write the key file {}", path.display()), e))
}

enum KeyringProblem {
    /// No keyring here (no bus, locked, no store): the fallback applies.
    Unavailable(String),
    Other(keyring::Error),
}

impl KeyringProblem {
    fn into_error(self) -> Error {
        match self {
            Self::Unavailable(why) => Error::state(format!(
                "the OS keyring is not available ({why}); unlock it, or set TESSERA_KEYSTORE=file to keep the key in a 0600 file"
            )),
            Self::Other(e) => Error::internal("the OS keyring failed; see the log", e),
        }
    }
}

fn classify(e: keyring::Error) -> KeyringProblem {
    match e {
        keyring::Error::PlatformFailure(inner) => KeyringProblem::Unavailable(inner.to_string()),
        keyring::Error::NoStorageAccess(inner) => KeyringProblem::Unavailable(inner.to_string()),
        other => KeyringProblem::Other(other),
    }
}

fn keyring_get(account: &str) -> Result<Option<Zeroizing<[u8; 32]>>, KeyringProblem> {
    let entry = keyring::Entry::new(KEYRING_SERVICE, account).map_err(classify)?;
    match entry.get_secret() {
        Ok(v) => {
            let v = Zeroizing::new(v);
            let arr: [u8; 32] = v.as_slice().try_into().map_err(|_| {
                KeyringProblem::Other(keyring::Error::Invalid(
                    "secret".into(),
                    "not a 256-bit key".into(),
                ))
            })?;
            Ok(Some(Zeroizing::new(arr)))
        }
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(classify(e)),
    }
}

fn keyring_set(account: &str, key: &[u8; 32]) -> Result<(), KeyringProblem> {
    let entry = keyring::Entry::new(KEYRING_SERVICE, account).map_err(classify)?;
    entry.set_secret(key).map_err(classify)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenKind;

    #[test]
    fn the_same_token_hashes_the_same_and_keys_differ() {
        let a = TokenHasher::new(&[1; 32]);
        let b = TokenHasher::new(&[2; 32]);
        let t = TokenSecret::generate(TokenKind::Personal);
        assert_eq!(a.hash(&t), a.hash(&t));
        assert_ne!(a.hash(&t), b.hash(&t));
        assert_ne!(a.check_value(), b.check_value());
    }

    #[test]
    fn a_file_key_is_created_0600_and_must_match_the_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (h, loc) = load_or_create(KeyStoreChoice::File, dir.path(), "x", None).expect("create");
        let KeyLocation::File(path) = loc else {
            panic!("file expected")
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let check = h.check_value();
        let (h2, _) =
            load_or_create(KeyStoreChoice::File, dir.path(), "x", Some(&check)).expect("load");
        assert_eq!(h2.check_value(), check);
        let err = load_or_create(KeyStoreChoice::File, dir.path(), "x", Some("00"))
            .expect_err("mismatch");
        assert!(err.to_string().contains("does not belong"));
        std::fs::remove_file(&path).expect("rm");
        let err = load_or_create(KeyStoreChoice::File, dir.path(), "x", Some(&check))
            .expect_err("missing");
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
