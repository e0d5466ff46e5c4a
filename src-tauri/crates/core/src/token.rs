//! The token format: `tsr_<kind>_` + a base62 body of 30 characters from the OS CSPRNG
//! (about 178 bits) + a 6-character base62 CRC32 of everything before it.
//!
//! This module owns generation, parsing and the display hint. It never touches the store:
//! a mistyped or truncated token is refused here without a database look-up. Hashing lives
//! in [`crate::keys`].

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Field, Result};

/// The fixed product prefix every Tessera token starts with.
pub const PREFIX: &str = "tsr_";
const BODY_LEN: usize = 30;
const CHECK_LEN: usize = 6;
/// Total length of a token string: prefix, kind letter, underscore, body, checksum.
pub const TOKEN_LEN: usize = PREFIX.len() + 2 + BODY_LEN + CHECK_LEN;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum TokenKind {
    /// One per user; a new one revokes the old.
    User,
    /// Named tokens a user makes for themselves.
    Personal,
    /// Owned by the company (a service account), not a person.
    Company,
    /// A short-lived OAuth 2.0 access token issued to a registered client
    /// ([`crate::service::Tessera::issue_access_token`]); company-owned.
    Access,
}

impl TokenKind {
    pub const ALL: [TokenKind; 4] = [
        TokenKind::User,
        TokenKind::Personal,
        TokenKind::Company,
        TokenKind::Access,
    ];

    /// Whether the company owns it (a company token, or an OAuth client's access token):
    /// no person's role bounds it; it acts with at most a VRM admin's rights.
    pub fn company_owned(self) -> bool {
        matches!(self, Self::Company | Self::Access)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Personal => "personal",
            Self::Company => "company",
            Self::Access => "access",
        }
    }
    fn letter(self) -> u8 {
        match self {
            Self::User => b'u',
            Self::Personal => b'p',
            Self::Company => b'c',
            Self::Access => b'a',
        }
    }
    fn from_letter(c: u8) -> Option<Self> {
        match c {
            b'u' => Some(Self::User),
            b'p' => Some(Self::Personal),
            b'c' => Some(Self::Company),
            b'a' => Some(Self::Access),
            _ => None,
        }
    }
}

impl std::str::FromStr for TokenKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "user" => Ok(Self::User),
            "personal" => Ok(Self::Personal),
            "company" => Ok(Self::Company),
            "access" => Ok(Self::Access),
            _ => Err(Error::invalid(
                Field::Kind,
                format!(
                    "unknown token kind '{}'; use user, personal, company or access",
                    crate::text::clip(s)
                ),
            )),
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token's plaintext. Its `Debug` and `Display` never show it; read it with
/// [`TokenSecret::expose`] only to hand it to the person who created it, once.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(Zeroizing<String>);

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenSecret({}…)", self.hint())
    }
}

impl TokenSecret {
    /// A new random token of this kind.
    pub fn generate(kind: TokenKind) -> Self {
        Self(generate_with(kind.letter()))
    }

    /// Parse a presented string: right length, prefix, kind, alphabet and checksum.
    /// Surrounding whitespace (a pasted newline) is ignored. Never echoes the input.
    pub fn parse(input: &str) -> Result<Self, Malformed> {
        validate(input).map(|s| Self(Zeroizing::new(s.to_owned())))
    }

    pub fn kind(&self) -> TokenKind {
        // Checked in `parse` and `generate`.
        TokenKind::from_letter(self.0.as_bytes()[PREFIX.len()]).unwrap_or(TokenKind::Personal)
    }

    /// The plaintext. Only for the one reply to create, and for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short display hint: the prefix with kind and the last 4 characters.
    pub fn hint(&self) -> String {
        let s: &str = &self.0;
        format!("{}…{}", &s[..PREFIX.len() + 2], &s[s.len() - 4..])
    }
}

/// `tsr_`, the letter, `_`, 30 random base62 characters and the checksum.
fn generate_with(letter: u8) -> Zeroizing<String> {
    let mut s = String::with_capacity(TOKEN_LEN);
    s.push_str(PREFIX);
    s.push(char::from(letter));
    s.push('_');
    // Rejection sampling over bytes keeps every character uniform (248 = 4 * 62).
    let mut buf = [0u8; 64];
    let mut filled = 0;
    while filled < BODY_LEN {
        rand::fill(&mut buf[..]);
        for &b in buf.iter() {
            if filled == BODY_LEN {
                break;
            }
            if b < 248 {
                s.push(ALPHABET[(b % 62) as usize] as char);
                filled += 1;
            }
        }
    }
    buf.fill(0);
    let check = checksum(s.as_bytes());
    s.extend(check.iter().map(|&c| c as char));
    Zeroizing::new(s)
}

/// The letter of an OAuth client secret: `tsr_s_`. The same shape and checksum as a token,
/// so secret scanners and the fields that refuse tokens catch a pasted secret too; it is
/// never accepted as a bearer token.
const SECRET_LETTER: u8 = b's';

/// An OAuth client's secret. Like [`TokenSecret`], its `Debug` never shows it and only its
/// keyed hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(Zeroizing<String>);

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientSecret({}…)", self.hint())
    }
}

impl ClientSecret {
    pub fn generate() -> Self {
        Self(generate_with(SECRET_LETTER))
    }

    /// Parse a presented secret: length, `tsr_s_`, alphabet and checksum.
    pub fn parse(input: &str) -> Result<Self, Malformed> {
        let s = shaped(input, |c| c == SECRET_LETTER)?;
        if !checksum_ok(s) {
            return Err(Malformed);
        }
        Ok(Self(Zeroizing::new(s.to_owned())))
    }

    /// The plaintext, for the one reply to create or rotate, and for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `tsr_s_…` and the last 4 characters.
    pub fn hint(&self) -> String {
        let s: &str = &self.0;
        format!("{}…{}", &s[..PREFIX.len() + 2], &s[s.len() - 4..])
    }
}

/// The letter of a signed-in session's credential: `tsr_w_` (the window's). The same shape
/// and checksum as a token, so log scrubbing and secret scanners catch one too; it is only
/// ever accepted as a session, never as an API token.
const SESSION_LETTER: u8 = b'w';

/// A session credential ([`crate::service::session`]): short-lived, handed to the person who
/// signed in, stored only as its keyed hash. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionSecret(Zeroizing<String>);

impl fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSecret(…)")
    }
}

impl SessionSecret {
    pub fn generate() -> Self {
        Self(generate_with(SESSION_LETTER))
    }

    /// Parse a presented credential: length, `tsr_w_`, alphabet and checksum.
    pub fn parse(input: &str) -> Result<Self, Malformed> {
        let s = shaped(input, |c| c == SESSION_LETTER)?;
        if !checksum_ok(s) {
            return Err(Malformed);
        }
        Ok(Self(Zeroizing::new(s.to_owned())))
    }

    /// Whether a presented string is meant as a session credential (its prefix), so the
    /// API can tell a session from a token before checking either.
    pub fn is_session_shaped(input: &str) -> bool {
        input.trim().as_bytes().get(..PREFIX.len() + 2)
            == Some(&[b't', b's', b'r', b'_', SESSION_LETTER, b'_'][..])
    }

    /// The plaintext, for the one reply to the sign-in, and for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Check a presented string without copying it: the trimmed token when well-formed
/// (shape and checksum).
pub fn validate(input: &str) -> Result<&str, Malformed> {
    let s = well_shaped(input)?;
    if !checksum_ok(s) {
        return Err(Malformed);
    }
    Ok(s)
}

/// Which bytes may appear in a token body: the base62 alphabet.
const IN_ALPHABET: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        t[ALPHABET[i] as usize] = true;
        i += 1;
    }
    t
};

/// The shape half of [`validate`]: length, prefix, kind and alphabet, without the checksum.
/// The verification hot path hashes this directly and checks the checksum
/// ([`checksum_ok`]) only before a database look-up: a string whose hash is already cached
/// is a stored token, so its checksum was right.
pub(crate) fn well_shaped(input: &str) -> Result<&str, Malformed> {
    shaped(input, |c| TokenKind::from_letter(c).is_some())
}

/// [`well_shaped`] for any letter `letter_ok` accepts.
fn shaped(input: &str, letter_ok: impl Fn(u8) -> bool) -> Result<&str, Malformed> {
    // A string of exactly the right length cannot become a token by trimming.
    let s = if input.len() == TOKEN_LEN {
        input
    } else {
        input.trim()
    };
    let b = s.as_bytes();
    if b.len() != TOKEN_LEN || !s.starts_with(PREFIX) {
        return Err(Malformed);
    }
    if !letter_ok(b[PREFIX.len()]) || b[PREFIX.len() + 1] != b'_' {
        return Err(Malformed);
    }
    // No early exit: a fixed-length loop without branches is quicker than stopping early.
    let ok = b[PREFIX.len() + 2..]
        .iter()
        .fold(true, |ok, &c| ok & IN_ALPHABET[usize::from(c)]);
    if !ok {
        return Err(Malformed);
    }
    Ok(s)
}

/// The checksum half of [`validate`], for a string [`well_shaped`] accepted.
pub(crate) fn checksum_ok(s: &str) -> bool {
    let Some((payload, check)) = s.as_bytes().split_at_checked(TOKEN_LEN - CHECK_LEN) else {
        return false;
    };
    checksum(payload)[..] == *check
}

/// The presented string is not a well-formed Tessera token (wrong shape or checksum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a well-formed Tessera token (check that it was copied whole)")]
pub struct Malformed;

/// CRC32 of the bytes, as 6 base62 characters (62^6 > 2^32).
fn checksum(bytes: &[u8]) -> [u8; CHECK_LEN] {
    let mut n = crc32fast::hash(bytes) as u64;
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Whether a string looks like a Tessera token, for secret scanners and log scrubbing.
pub fn looks_like_token(s: &str) -> bool {
    TokenSecret::parse(s).is_ok()
}

/// Whether the text holds anything of a token's shape anywhere in it (`tsr_`, a kind letter
/// `s` for a client secret or `w` for a session credential,
/// `_`, then 36 base62 characters), checksum or not: a mistyped copy of a token is still
/// mostly secret. Used to keep tokens out of names, descriptions and the audit log.
pub fn contains_token_pattern(text: &str) -> bool {
    token_shapes(text).next().is_some()
}

/// Every place in `text` holding something of a token's shape (as [`contains_token_pattern`]
/// finds it): the byte offset and the token-length string there, checksum or not.
pub fn token_shapes(text: &str) -> impl Iterator<Item = (usize, &str)> {
    token_shapes_in(text.as_bytes())
}

/// [`token_shapes`] in bytes that need not be UTF-8 (a file as read): the prefix is found
/// with a vectorised search (memchr's `memmem`), and a shape is ASCII, so it is a `&str`.
pub fn token_shapes_in(b: &[u8]) -> impl Iterator<Item = (usize, &str)> {
    let body = TOKEN_LEN - PREFIX.len() - 2;
    memchr::memmem::find_iter(b, PREFIX.as_bytes()).filter_map(move |i| {
        let rest = &b[i + PREFIX.len()..];
        let shaped = rest.len() >= body + 2
            && (TokenKind::from_letter(rest[0]).is_some()
                || rest[0] == SECRET_LETTER
                || rest[0] == SESSION_LETTER)
            && rest[1] == b'_'
            && rest[2..2 + body]
                .iter()
                .all(|&c| IN_ALPHABET[usize::from(c)]);
        // All ASCII, so the bytes are a string.
        shaped
            .then(|| std::str::from_utf8(&b[i..i + TOKEN_LEN]).ok())
            .flatten()
            .map(|s| (i, s))
    })
}

/// The regular expression other secret scanners (gitleaks, GitHub custom patterns) can use
/// for a Tessera token: the same shape [`token_shapes`] finds, wherever it stands (a token
/// glued to other text, `key%3Dtsr_...` or `"\ntsr_..."`, is still a token). The README
/// shows it; a test checks both find the same strings.
pub const TOKEN_REGEX: &str = r"tsr_[upcasw]_[0-9A-Za-z]{36}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_regex_finds_what_the_scanner_finds() {
        let re = regex::Regex::new(TOKEN_REGEX).expect("the regex compiles");
        let tokens: Vec<TokenSecret> = TokenKind::ALL
            .iter()
            .map(|k| TokenSecret::generate(*k))
            .collect();
        let tail = if tokens[0].expose().ends_with("Zz") {
            "Yy"
        } else {
            "Zz"
        };
        let broken = format!("{}{tail}", &tokens[0].expose()[..TOKEN_LEN - 2]);
        let text = format!(
            "export API_TOKEN={}\n  \"key\": \"{}\",\nAuthorization: Bearer {}\nbroken {broken}\nhint tsr_p_…abcd, tsr_x_{}\nglued x{}y, key%3D{}, \"\\n{}\"",
            tokens[0].expose(),
            tokens[1].expose(),
            tokens[2].expose(),
            &tokens[0].expose()[6..],
            tokens[1].expose(),
            tokens[2].expose(),
            tokens[0].expose(),
        );
        let by_regex: Vec<&str> = re.find_iter(&text).map(|m| m.as_str()).collect();
        let by_scanner: Vec<&str> = token_shapes(&text).map(|(_, s)| s).collect();
        assert_eq!(by_regex, by_scanner);
        assert_eq!(
            by_scanner,
            vec![
                tokens[0].expose(),
                tokens[1].expose(),
                tokens[2].expose(),
                broken.as_str(),
                tokens[1].expose(),
                tokens[2].expose(),
                tokens[0].expose(),
            ]
        );
        // The README publishes this very expression for gitleaks (a TOML literal string) and
        // GitHub secret scanning.
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../README.md"))
                .expect("README.md");
        assert!(
            readme.contains(&format!("regex = '''{TOKEN_REGEX}'''")),
            "README.md's gitleaks rule must be {TOKEN_REGEX}"
        );
    }

    #[test]
    fn token_patterns_are_found_anywhere_in_text() {
        let t = TokenSecret::generate(TokenKind::Company);
        let tok = t.expose();
        for text in [
            tok.to_owned(),
            format!("key={tok}"),
            format!("prefix{tok}suffix"),
            format!("a\n b {tok}"),
        ] {
            assert!(contains_token_pattern(&text), "{text}");
        }
        // A typo in the checksum is still a token's shape.
        let mut typo = tok.to_owned();
        typo.pop();
        typo.push(if tok.ends_with('A') { 'B' } else { 'A' });
        assert!(contains_token_pattern(&typo));
        for clean in [
            "tsr_",
            "tsr_p_short",
            "tsr_x_0123456789012345678901234567890123456",
            "plain name",
            "",
        ] {
            assert!(!contains_token_pattern(clean), "{clean}");
        }
        assert!(!contains_token_pattern(&tok[..tok.len() - 1]));
    }

    #[test]
    fn generated_tokens_parse_and_keep_their_kind() {
        for kind in TokenKind::ALL {
            let t = TokenSecret::generate(kind);
            assert_eq!(t.expose().len(), TOKEN_LEN);
            let parsed = TokenSecret::parse(t.expose()).expect("parses");
            assert_eq!(parsed.kind(), kind);
            assert!(t
                .expose()
                .starts_with(&format!("tsr_{}_", char::from(kind.letter()))));
        }
    }

    #[test]
    fn client_secrets_are_their_own_shape_and_never_tokens() {
        let c = ClientSecret::generate();
        assert!(c.expose().starts_with("tsr_s_"));
        assert_eq!(ClientSecret::parse(c.expose()), Ok(c.clone()));
        assert!(TokenSecret::parse(c.expose()).is_err());
        assert!(contains_token_pattern(&format!("secret={}", c.expose())));
        let t = TokenSecret::generate(TokenKind::Access);
        assert!(ClientSecret::parse(t.expose()).is_err());
        let mut typo = c.expose().to_owned();
        typo.pop();
        typo.push(if c.expose().ends_with('A') { 'B' } else { 'A' });
        assert!(ClientSecret::parse(&typo).is_err());
        assert!(!format!("{c:?}").contains(&c.expose()[6..30]));
    }

    #[test]
    fn session_credentials_are_their_own_shape_and_never_tokens() {
        let w = SessionSecret::generate();
        assert!(w.expose().starts_with("tsr_w_"));
        assert!(SessionSecret::is_session_shaped(w.expose()));
        assert_eq!(SessionSecret::parse(w.expose()), Ok(w.clone()));
        assert!(TokenSecret::parse(w.expose()).is_err());
        assert!(validate(w.expose()).is_err(), "never verified as a token");
        assert!(contains_token_pattern(&format!("session={}", w.expose())));
        let t = TokenSecret::generate(TokenKind::User);
        assert!(!SessionSecret::is_session_shaped(t.expose()));
        assert!(SessionSecret::parse(t.expose()).is_err());
        let mut typo = w.expose().to_owned();
        typo.pop();
        typo.push(if w.expose().ends_with('A') { 'B' } else { 'A' });
        assert!(SessionSecret::parse(&typo).is_err());
        assert!(!format!("{w:?}").contains(&w.expose()[6..30]));
    }

    #[test]
    fn every_single_character_typo_is_caught_by_the_checksum() {
        let t = TokenSecret::generate(TokenKind::Personal);
        let s = t.expose().to_owned();
        for i in 6..s.len() {
            let mut b = s.clone().into_bytes();
            b[i] = if b[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(b).expect("ascii");
            assert_eq!(TokenSecret::parse(&typo), Err(Malformed), "position {i}");
        }
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        let t = TokenSecret::generate(TokenKind::User);
        let s = t.expose();
        for bad in [
            "",
            "tsr_",
            &s[..s.len() - 1],
            &format!("{s}x"),
            &s.replace("tsr_", "tsx_"),
            &s.replacen("_u_", "_x_", 1),
            "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
        ] {
            assert!(TokenSecret::parse(bad).is_err(), "{bad}");
        }
        assert!(TokenSecret::parse(&format!(" {s}\n")).is_ok());
    }

    #[test]
    fn the_shape_and_checksum_halves_together_are_validate() {
        let t = TokenSecret::generate(TokenKind::Personal);
        let s = t.expose();
        let mut typo = s.as_bytes().to_vec();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).expect("ascii");
        assert_eq!(well_shaped(&typo), Ok(typo.as_str()));
        assert!(!checksum_ok(&typo));
        assert!(validate(&typo).is_err());
        assert_eq!(well_shaped(&format!("\t{s} ")), Ok(s));
        assert!(checksum_ok(s));
        for bad in [
            format!("{}-{}", &s[..9], &s[10..]),
            format!("{}é", &s[..s.len() - 2]),
        ] {
            assert!(well_shaped(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_and_hint_never_show_the_body() {
        let t = TokenSecret::generate(TokenKind::Company);
        let body = &t.expose()[6..30];
        assert!(!format!("{t:?}").contains(body));
        assert!(!t.hint().contains(body));
        assert!(t.hint().starts_with("tsr_c_"));
        assert_eq!(t.hint().chars().count(), 6 + 1 + 4);
    }

    #[test]
    fn bodies_are_spread_over_the_whole_alphabet() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let t = TokenSecret::generate(TokenKind::Personal);
            seen.extend(t.expose()[6..36].bytes());
        }
        assert_eq!(seen.len(), 62);
    }
}
