//! People's passwords: Argon2id with OWASP's minimum parameters, stored as PHC strings.
//! Hashing runs on the blocking pool so it never stalls the async runtime.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::error::{Error, Field, Result};

pub const MIN_LEN: usize = 12;
const MAX_LEN: usize = 1024;

/// A password as typed. `Debug` never shows it.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    /// Check the length rule. Strength beyond length is advised by the front ends.
    pub fn new(s: String) -> Result<Self> {
        let s = Zeroizing::new(s);
        let n = s.chars().count();
        if n < MIN_LEN {
            return Err(Error::invalid(Field::Password, format!(
                "too short ({n} characters); use at least {MIN_LEN}, a passphrase of several words works well"
            )));
        }
        if n > MAX_LEN {
            return Err(Error::invalid(
                Field::Password,
                format!("too long; use at most {MAX_LEN} characters"),
            ));
        }
        Ok(Self(s))
    }
}

fn argon() -> Argon2<'static> {
    // OWASP: Argon2id, m = 19 MiB, t = 2, p = 1. These values are valid by construction.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash a password into a PHC string.
pub async fn hash(pw: Password) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::fill(&mut salt);
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| Error::internal("cannot make a password salt", e.to_string()))?;
        argon()
            .hash_password(pw.0.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::internal("cannot hash the password", e.to_string()))
    })
    .await
    .map_err(|e| Error::internal("password hashing stopped", e))?
}

/// Check a password against a stored PHC string.
pub async fn verify(pw: Password, phc: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&phc) else {
            // Seeded or damaged accounts cannot sign in; say no rather than fail.
            tracing::warn!("a stored password hash is not a PHC string; refusing sign-in");
            return Ok(false);
        };
        Ok(argon().verify_password(pw.0.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| Error::internal("password check stopped", e))?
}

/// Spend the time [`verify`] spends, for an e-mail that has no account (or no usable hash),
/// so a sign-in answer takes as long whether or not the e-mail exists. Always false.
static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[cfg(test)]
fn dummy_hash() -> String {
    DUMMY.get().cloned().unwrap_or_default()
}

pub async fn verify_nobody(pw: Password) -> Result<bool> {
    let phc = match DUMMY.get() {
        Some(p) => p.clone(),
        None => {
            let mut random = [0u8; 24];
            rand::fill(&mut random);
            let made = hash(Password(Zeroizing::new(hex::encode(random)))).await?;
            DUMMY.get_or_init(|| made).clone()
        }
    };
    verify(pw, phc).await?;
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_hash_to_argon2id_and_verify() {
        let pw = Password::new("correct horse battery".into()).expect("long enough");
        let phc = hash(pw.clone()).await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify(pw, phc.clone()).await.expect("verify"));
        let wrong = Password::new("incorrect horse battery".into()).expect("long");
        assert!(!verify(wrong, phc).await.expect("verify"));
    }

    #[tokio::test]
    async fn nobody_never_matches_but_costs_a_real_check() {
        let pw = Password::new("correct horse battery".into()).expect("long enough");
        assert!(!verify_nobody(pw.clone()).await.expect("dummy"));
        assert!(!verify_nobody(pw).await.expect("dummy again"));
        let dummy = dummy_hash();
        assert!(
            dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{dummy}"
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        let e = Password::new("short".into()).expect_err("too short");
        assert!(e.to_string().contains("at least 12"));
    }
}
