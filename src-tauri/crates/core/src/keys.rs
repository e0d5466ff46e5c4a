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

/// Hashes tokens with one of the installation's keys. Cheap to clone; the key never leaves it.
#[derive(Clone)]
pub struct TokenHasher {
    id: u32,
    mac: HmacSha256,
}

impl fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHasher(key {})", self.id)
    }
}

impl TokenHasher {
    /// Key 1, the first key of an installation.
    pub fn new(key: &[u8; 32]) -> Self {
        Self::with_id(1, key)
    }

    pub fn with_id(id: u32, key: &[u8; 32]) -> Self {
        // HMAC takes keys of any length; 32 bytes cannot fail.
        let mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        Self { id, mac }
    }

    /// The key's number: 1 for an installation's first key, one more at each rotation.
    pub fn id(&self) -> u32 {
        self.id
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

    /// Is this the key whose check value the database recorded? (constant time)
    pub fn matches(&self, check: &str) -> bool {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            self.check_value().as_bytes(),
            check.as_bytes(),
        ))
    }
}

/// The keys an installation verifies with, newest first. The newest hashes new tokens; every
/// one verifies the tokens it hashed. Never empty.
#[derive(Clone, Debug)]
pub struct KeySet {
    hashers: Vec<TokenHasher>,
}

impl KeySet {
    /// None when `hashers` is empty.
    pub fn new(mut hashers: Vec<TokenHasher>) -> Option<Self> {
        hashers.sort_by_key(|h| std::cmp::Reverse(h.id));
        hashers.dedup_by_key(|h| h.id);
        (!hashers.is_empty()).then_some(Self { hashers })
    }

    /// The key that hashes new tokens.
    pub fn newest(&self) -> &TokenHasher {
        // Never empty (see `new`).
        &self.hashers[0]
    }

    /// Every key, newest first.
    pub fn all(&self) -> &[TokenHasher] {
        &self.hashers
    }

    pub fn ids(&self) -> Vec<u32> {
        self.hashers.iter().map(TokenHasher::id).collect()
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

/// Where an installation's keys are kept: the location its first key was found in, where
/// later keys are added beside it.
#[derive(Debug, Clone)]
pub struct KeyPlace {
    location: KeyLocation,
    /// The keyring entry of key 1; key N is `{account}#N`.
    account: String,
}

impl KeyPlace {
    pub fn location(&self) -> &KeyLocation {
        &self.location
    }

    fn account_for(&self, id: u32) -> String {
        if id == 1 {
            self.account.clone()
        } else {
            format!("{}#{id}", self.account)
        }
    }

    /// Key `id` from this place, if it is there.
    pub fn load(&self, id: u32) -> Result<Option<TokenHasher>> {
        let key = match &self.location {
            KeyLocation::File(path) => take_key(read_keys(path)?, id),
            KeyLocation::Keyring => {
                keyring_get(&self.account_for(id)).map_err(KeyringProblem::into_error)?
            }
        };
        Ok(key.map(|k| TokenHasher::with_id(id, &k)))
    }

    /// Make a new random key `id` and keep it here; refused if a key `id` is here already.
    pub fn create(&self, id: u32) -> Result<TokenHasher> {
        if self.load(id)?.is_some() {
            return Err(Error::state(format!(
                "key {id} is already in {}; use it, or remove it by hand if it is a leftover",
                self.describe()
            )));
        }
        let k = new_key();
        match &self.location {
            KeyLocation::File(path) => {
                let mut keys = read_keys(path)?.unwrap_or_default();
                keys.push((id, k.clone()));
                write_keys(path, &keys)?;
            }
            KeyLocation::Keyring => {
                keyring_set(&self.account_for(id), &k).map_err(KeyringProblem::into_error)?
            }
        }
        Ok(TokenHasher::with_id(id, &k))
    }

    /// Forget key `id` (retired): the tokens it hashed can no longer be recognised.
    pub fn remove(&self, id: u32) -> Result<()> {
        match &self.location {
            KeyLocation::File(path) => {
                let keys = read_keys(path)?.unwrap_or_default();
                let kept: Vec<_> = keys.into_iter().filter(|(i, _)| *i != id).collect();
                if kept.is_empty() {
                    return Err(Error::state("the last key of a key file cannot be removed"));
                }
                write_keys(path, &kept)
            }
            KeyLocation::Keyring => {
                let entry = keyring::Entry::new(KEYRING_SERVICE, &self.account_for(id))
                    .map_err(|e| classify(e).into_error())?;
                match entry.delete_credential() {
                    Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                    Err(e) => Err(classify(e).into_error()),
                }
            }
        }
    }

    /// "the key file PATH" or "the OS keyring", for messages.
    pub fn describe(&self) -> String {
        match &self.location {
            KeyLocation::File(p) => format!("the key file {}", p.display()),
            KeyLocation::Keyring => {
                format!("the OS keyring ('{KEYRING_SERVICE}/{}')", self.account)
            }
        }
    }
}

/// Load the key that finds this installation's keys, or create key 1 when the database has
/// none yet.
///
/// `install_id` names the keyring entry; `first` is the id and check value of the oldest key
/// the database still uses (None on a fresh database).
pub fn load_or_create(
    choice: KeyStoreChoice,
    data_dir: &Path,
    install_id: &str,
    first: Option<(u32, &str)>,
) -> Result<(TokenHasher, KeyPlace)> {
    let file = data_dir.join(KEY_FILE);
    let account = format!("token-hmac-key/{install_id}");
    let id = first.map_or(1, |f| f.0);
    let in_file = KeyPlace {
        location: KeyLocation::File(file.clone()),
        account: account.clone(),
    };
    let in_keyring = KeyPlace {
        location: KeyLocation::Keyring,
        account: account.clone(),
    };

    let from_file = |create: bool| -> Result<Option<(TokenHasher, KeyPlace)>> {
        match in_file.load(id)? {
            Some(h) => Ok(Some((h, in_file.clone()))),
            None if create => {
                let k = new_key();
                write_key_file(&file, &k)?;
                Ok(Some((TokenHasher::new(&k), in_file.clone())))
            }
            None => Ok(None),
        }
    };
    let keyring_id = in_keyring.account_for(id);

    let fresh = first.is_none();
    let found = match choice {
        KeyStoreChoice::File => from_file(fresh)?,
        KeyStoreChoice::Keyring => match keyring_get(&keyring_id) {
            Ok(Some(k)) => Some((TokenHasher::with_id(id, &k), in_keyring.clone())),
            Ok(None) if fresh => {
                let k = new_key();
                keyring_set(&account, &k).map_err(KeyringProblem::into_error)?;
                Some((TokenHasher::new(&k), in_keyring.clone()))
            }
            Ok(None) => None,
            Err(e) => return Err(e.into_error()),
        },
        KeyStoreChoice::Auto => {
            if file.exists() {
                from_file(false)?
            } else {
                match keyring_get(&keyring_id) {
                    Ok(Some(k)) => Some((TokenHasher::with_id(id, &k), in_keyring.clone())),
                    Ok(None) if fresh => {
                        let k = new_key();
                        match keyring_set(&account, &k) {
                            Ok(()) => Some((TokenHasher::new(&k), in_keyring.clone())),
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

    let (hasher, place) = found.ok_or_else(|| {
        Error::state(format!(
            "the token-hashing key for this database is missing (key {id}: not in the OS keyring entry '{KEYRING_SERVICE}/{keyring_id}' nor in {}); \
             restore it from your backup, or start a new data dir. Without it no stored token can be verified",
            file.display()
        ))
    })?;
    if let Some((_, expected)) = first {
        if !hasher.matches(expected) {
            return Err(Error::state(format!(
                "the token-hashing key found ({}) does not belong to this database; restore the right key or start a new data dir",
                match &place.location {
                    KeyLocation::Keyring => "in the OS keyring".to_owned(),
                    KeyLocation::File(p) => p.display().to_string(),
                }
            )));
        }
    }
    Ok((hasher, place))
}

/// The keys in a file named by the administrator (`--key-file`, `TESSERA_KEY_FILE`): 32 random
/// bytes in base64 each, mode 0600. Every instance sharing one PostgreSQL database reads the
/// same file, so they all hash alike; a fresh database (`first` None) creates it when absent.
pub fn load_or_create_shared(
    path: &Path,
    first: Option<(u32, &str)>,
) -> Result<(TokenHasher, KeyPlace)> {
    let place = KeyPlace {
        location: KeyLocation::File(path.to_owned()),
        account: String::new(),
    };
    let id = first.map_or(1, |f| f.0);
    let hasher = match place.load(id)? {
        Some(h) => h,
        None if first.is_none() => {
            let k = new_key();
            write_key_file_as(path, &k, KeyText::Base64)?;
            TokenHasher::new(&k)
        }
        None if path.exists() => {
            return Err(Error::state(format!(
                "the key file {} does not hold key {id}, which this database's tokens were hashed with; \
                 copy the key file from the machine that rotated the keys last (the same file for every instance)",
                path.display()
            )))
        }
        None => {
            return Err(Error::state(format!(
                "the key file {} does not exist, and this database already has tokens hashed with a key; \
                 copy the key file from the machine that set the database up (the same file for every instance)",
                path.display()
            )))
        }
    };
    if let Some((_, expected)) = first {
        if !hasher.matches(expected) {
            return Err(Error::state(format!(
                "the key in {} is not the key this database's tokens were hashed with; \
                 use the key file the database was set up with (every instance must share it)",
                path.display()
            )));
        }
    }
    Ok((hasher, place))
}

fn new_key() -> Zeroizing<[u8; 32]> {
    let mut k = Zeroizing::new([0u8; 32]);
    rand::fill(&mut k[..]);
    k
}

type Keys = Vec<(u32, Zeroizing<[u8; 32]>)>;

fn take_key(keys: Option<Keys>, id: u32) -> Option<Zeroizing<[u8; 32]>> {
    keys?.into_iter().find(|(i, _)| *i == id).map(|(_, k)| k)
}

/// Every key in a key file, by id. A file holds either one bare key (as `tessera init` writes
/// it: key 1), or lines `ID KEY` (after a rotation); `#` starts a comment line. Keys are base64
/// or, in the data dir's own file, hex.
fn read_keys(path: &Path) -> Result<Option<Keys>> {
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
    let damaged = |why: &str| {
        Error::state(format!(
            "the key file {} is damaged ({why}): it must hold a key of 32 bytes in base64 (as `tessera init` writes it), \
             or lines `ID KEY` (as `tessera key rotate` writes them)",
            path.display()
        ))
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut keys = Keys::new();
    for line in &lines {
        let (id, key) = match line.split_once(char::is_whitespace) {
            Some((id, key)) => (
                id.parse::<u32>()
                    .ok()
                    .filter(|i| *i > 0)
                    .ok_or_else(|| damaged("a key number is not a positive whole number"))?,
                key.trim(),
            ),
            None if lines.len() == 1 => (1, *line),
            None => return Err(damaged("a line has no key number")),
        };
        if keys.iter().any(|(i, _)| *i == id) {
            return Err(damaged(&format!("key {id} is listed twice")));
        }
        keys.push((
            id,
            decode_key(key).ok_or_else(|| damaged("a key is not 32 bytes in base64"))?,
        ));
    }
    if keys.is_empty() {
        return Err(damaged("it holds no key"));
    }
    Ok(Some(keys))
}

fn decode_key(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    // The data dir's own file is hex; a shared key file is base64. Either is read.
    let bytes = Zeroizing::new(
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.decode(text).ok()
        }?,
    );
    let arr: [u8; 32] = bytes.as_slice().try_into().ok()?;
    Some(Zeroizing::new(arr))
}

/// Replace a key file with these keys, numbered: written beside it, then renamed over it, so a
/// crash leaves the old file or the new one, never half of one.
fn write_keys(path: &Path, keys: &[(u32, Zeroizing<[u8; 32]>)]) -> Result<()> {
    use base64::Engine as _;
    let mut text = Zeroizing::new(String::from(
        "# Tessera token-hashing keys: `ID KEY` (base64). The highest number hashes new tokens;\n\
         # every key listed verifies the tokens it hashed. Every instance needs this same file.\n",
    ));
    for (id, k) in keys {
        text.push_str(&format!(
            "{id} {}\n",
            base64::engine::general_purpose::STANDARD.encode(&k[..])
        ));
    }
    let tmp = path.with_extension("key-new");
    let _ = std::fs::remove_file(&tmp);
    let fail = |e: std::io::Error| {
        Error::internal(
            format!(
                "cannot write the key file {}: check that its directory is writable",
                path.display()
            ),
            e,
        )
    };
    crate::secret_file::write(&tmp, text.as_bytes()).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// How a new key file spells its one key.
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
        let (h, place) =
            load_or_create(KeyStoreChoice::File, dir.path(), "x", None).expect("create");
        let KeyLocation::File(path) = place.location().clone() else {
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
            load_or_create(KeyStoreChoice::File, dir.path(), "x", Some((1, &check))).expect("load");
        assert_eq!(h2.check_value(), check);
        let err = load_or_create(KeyStoreChoice::File, dir.path(), "x", Some((1, "00")))
            .expect_err("mismatch");
        assert!(err.to_string().contains("does not belong"));
        std::fs::remove_file(&path).expect("rm");
        let err = load_or_create(KeyStoreChoice::File, dir.path(), "x", Some((1, &check)))
            .expect_err("missing");
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn a_rotated_key_file_keeps_every_key_by_number_and_stays_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shared.key");
        let (one, place) = load_or_create_shared(&path, None).expect("create");
        assert_eq!(one.id(), 1);
        let two = place.create(2).expect("add key 2");
        assert!(place.create(2).is_err(), "key 2 exists already");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("\n1 ") && text.contains("\n2 "), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Both load by number, with the check values they had.
        let (again, place) =
            load_or_create_shared(&path, Some((1, &one.check_value()))).expect("reload");
        assert!(again.matches(&one.check_value()));
        let two_again = place.load(2).expect("load").expect("key 2");
        assert!(two_again.matches(&two.check_value()));
        assert!(!two_again.matches(&one.check_value()));
        // Retiring key 1 leaves key 2, which now opens the file on its own.
        place.remove(1).expect("remove 1");
        assert!(place.load(1).expect("load").is_none());
        let err = load_or_create_shared(&path, Some((1, &one.check_value()))).expect_err("gone");
        assert!(err.to_string().contains("does not hold key 1"), "{err}");
        let (h, _) = load_or_create_shared(&path, Some((2, &two.check_value()))).expect("key 2");
        assert_eq!(h.id(), 2);
        assert!(place.remove(2).is_err(), "the last key stays");
        // The set orders newest first.
        let set = KeySet::new(vec![one.clone(), two.clone()]).expect("set");
        assert_eq!(set.ids(), vec![2, 1]);
        assert_eq!(set.newest().id(), 2);
        assert!(KeySet::new(vec![]).is_none());
    }

    #[test]
    fn a_damaged_key_file_is_refused_with_what_it_must_hold() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k");
        for bad in [
            "1 AAAA\n2",
            "x AAAA",
            "1 a\n1 b",
            "# only a comment\n",
            "AAAA",
        ] {
            crate::secret_file::write(&path, bad.as_bytes()).expect("write");
            let err = load_or_create_shared(&path, Some((1, "00"))).expect_err(bad);
            assert!(err.to_string().contains("is damaged"), "{bad}: {err}");
        }
    }
}
