//! Finding the token in a request, in every form PRODUCT.md lists: `Authorization` with the
//! schemes Bearer, Basic (token as user name, empty password), `Token token=...`, `Token ...`,
//! `Api-Token`, `apiToken` and `SSWS`; the `X-API-Key` header; and, only when policy allows,
//! the query parameters `api_token` and `key`. Deciding whether the token is acceptable is the
//! core's ([`tessera_core::Tessera::verify`]); this module only finds it and says how it came.

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderName};
use base64::Engine;
use zeroize::Zeroizing;

/// How a token was presented; recorded with each use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    Bearer,
    Basic,
    Token,
    ApiToken,
    Ssws,
    XApiKey,
    Query,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::Basic => "basic",
            Self::Token => "token",
            Self::ApiToken => "api-token",
            Self::Ssws => "ssws",
            Self::XApiKey => "x-api-key",
            Self::Query => "query",
        }
    }
}

/// A token found in a request. `Debug` does not show it.
pub struct Presented {
    pub secret: Zeroizing<String>,
    pub via: Via,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Presented({})", self.via.as_str())
    }
}

/// Why no single token could be taken from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractError {
    /// No token anywhere we look.
    Missing,
    /// Two different tokens in one request (400).
    Conflict,
    /// An Authorization or X-API-Key header we cannot read (bad Basic encoding, not ASCII).
    Unreadable,
    /// Only a query-parameter token, and policy turns those off.
    QueryOff,
}

impl ExtractError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => "no token; send it as Authorization: Bearer <token> (or X-API-Key: <token>)",
            Self::Conflict => "the request carries two different tokens; send exactly one",
            Self::Unreadable => {
                "the Authorization or X-API-Key header cannot be read; send Authorization: Bearer <token>"
            }
            Self::QueryOff => {
                "tokens in the URL are turned off by policy (URLs end up in logs); send Authorization: Bearer <token>"
            }
        }
    }
}

/// Does the query string carry a token parameter? Cheap; used to read the policy only then.
pub fn query_has_token(query: Option<&str>) -> bool {
    query_tokens(query).next().is_some()
}

fn query_tokens(query: Option<&str>) -> impl Iterator<Item = Zeroizing<String>> + '_ {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == "api_token" || k == "key").then(|| Zeroizing::new(percent_decode(v)))
        })
        .filter(|v| !v.trim().is_empty())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One `Authorization` value: the token it carries, if its scheme is one we accept.
fn from_authorization(value: &str) -> Result<Option<(Zeroizing<String>, Via)>, ExtractError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    let is = |name: &str| scheme.eq_ignore_ascii_case(name);
    let via = if is("bearer") {
        Via::Bearer
    } else if is("token") {
        Via::Token
    } else if is("api-token") || is("apitoken") {
        Via::ApiToken
    } else if is("ssws") {
        Via::Ssws
    } else if is("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| ExtractError::Unreadable)?;
        let raw = Zeroizing::new(raw);
        let text = std::str::from_utf8(&raw).map_err(|_| ExtractError::Unreadable)?;
        // The token is the user name; the password must be empty.
        let (user, password) = text.split_once(':').unwrap_or((text, ""));
        if !password.is_empty() || user.trim().is_empty() {
            return Err(ExtractError::Unreadable);
        }
        return Ok(Some((Zeroizing::new(user.trim().to_owned()), Via::Basic)));
    } else {
        // Another scheme (Digest, Negotiate...) carries no Tessera token.
        return Ok(None);
    };
    let token = match via {
        // `Token token=abc` or `Token token="abc"` (Rails style), else `Token abc`.
        Via::Token => match rest.strip_prefix("token=") {
            Some(t) => t.trim_matches('"'),
            None => rest,
        },
        _ => rest,
    };
    if token.is_empty() {
        return Err(ExtractError::Unreadable);
    }
    Ok(Some((Zeroizing::new(token.to_owned()), via)))
}

/// The `X-API-Key` header.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// Find the one token a request presents.
pub fn extract(
    headers: &HeaderMap,
    query: Option<&str>,
    query_allowed: bool,
) -> Result<Presented, ExtractError> {
    let mut first: Option<(Zeroizing<String>, Via)> = None;
    // The same token sent twice (say Bearer and X-API-Key) is one presentation; two
    // different ones are refused.
    let mut add = |token: Zeroizing<String>, via: Via| match &first {
        None => {
            first = Some((token, via));
            Ok(())
        }
        Some((t, _)) if t.trim() == token.trim() => Ok(()),
        Some(_) => Err(ExtractError::Conflict),
    };
    for v in headers.get_all(AUTHORIZATION) {
        let v = v.to_str().map_err(|_| ExtractError::Unreadable)?;
        if let Some((token, via)) = from_authorization(v)? {
            add(token, via)?;
        }
    }
    for v in headers.get_all(X_API_KEY) {
        let v = v.to_str().map_err(|_| ExtractError::Unreadable)?.trim();
        if v.is_empty() {
            return Err(ExtractError::Unreadable);
        }
        add(Zeroizing::new(v.to_owned()), Via::XApiKey)?;
    }
    let mut in_query = query_tokens(query).peekable();
    if query_allowed {
        for token in in_query {
            add(token, Via::Query)?;
        }
    } else if first.is_none() && in_query.peek().is_some() {
        return Err(ExtractError::QueryOff);
    }
    let (secret, via) = first.ok_or(ExtractError::Missing)?;
    Ok(Presented { secret, via })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn basic(s: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }

    /// Logs and panics print a `Presented` with `{:?}`: they see how the token came, never
    /// the token.
    #[test]
    fn debug_shows_the_way_a_token_came_and_not_the_token() {
        let p = Presented {
            secret: Zeroizing::new("tsr_p_secret_body_0000000000000000000000".to_owned()),
            via: Via::XApiKey,
        };
        let shown = format!("{p:?}");
        assert_eq!(shown, format!("Presented({})", Via::XApiKey.as_str()));
        assert!(!shown.contains("secret_body"));
    }

    /// Each `%XX` is one byte, wherever it stands (also first), and `+` is a space.
    #[test]
    fn percent_decoding_reads_each_escape_once() {
        assert_eq!(percent_decode("%74sr_p_x"), "tsr_p_x");
        assert_eq!(percent_decode("a%2Bb+c%zz"), "a+b c%zz");
        assert_eq!(percent_decode("%41%42%43"), "ABC");
    }

    #[test]
    fn every_header_form_yields_the_token_and_its_way() {
        let t = "tsr_p_abc";
        let cases = [
            (
                headers(&[("authorization", &format!("Bearer {t}"))]),
                Via::Bearer,
            ),
            (
                headers(&[("authorization", &format!("bearer  {t} "))]),
                Via::Bearer,
            ),
            (
                headers(&[("authorization", &basic(&format!("{t}:")))]),
                Via::Basic,
            ),
            (headers(&[("authorization", &basic(t))]), Via::Basic),
            (
                headers(&[("authorization", &format!("Token token={t}"))]),
                Via::Token,
            ),
            (
                headers(&[("authorization", &format!("Token token=\"{t}\""))]),
                Via::Token,
            ),
            (
                headers(&[("authorization", &format!("Token {t}"))]),
                Via::Token,
            ),
            (
                headers(&[("authorization", &format!("Api-Token {t}"))]),
                Via::ApiToken,
            ),
            (
                headers(&[("authorization", &format!("apiToken {t}"))]),
                Via::ApiToken,
            ),
            (
                headers(&[("authorization", &format!("SSWS {t}"))]),
                Via::Ssws,
            ),
            (headers(&[("x-api-key", t)]), Via::XApiKey),
        ];
        for (h, via) in cases {
            let p = extract(&h, None, false).expect("found");
            assert_eq!(p.secret.as_str(), t);
            assert_eq!(p.via, via);
        }
    }

    #[test]
    fn query_tokens_need_the_policy() {
        let h = HeaderMap::new();
        assert_eq!(
            extract(&h, Some("api_token=abc"), false).err(),
            Some(ExtractError::QueryOff)
        );
        let p = extract(&h, Some("x=1&key=a%62c"), true).expect("found");
        assert_eq!((p.secret.as_str(), p.via), ("abc", Via::Query));
        assert!(query_has_token(Some("a=1&api_token=x")));
        assert!(!query_has_token(Some("a=1&api_token=")));
    }

    #[test]
    fn two_different_tokens_conflict_and_the_same_twice_does_not() {
        let h = headers(&[("authorization", "Bearer aaa"), ("x-api-key", "bbb")]);
        assert_eq!(extract(&h, None, false).err(), Some(ExtractError::Conflict));
        let h = headers(&[("authorization", "Bearer aaa"), ("x-api-key", "aaa")]);
        assert_eq!(extract(&h, None, false).expect("one").via, Via::Bearer);
        let h = headers(&[("authorization", "Bearer aaa")]);
        assert_eq!(
            extract(&h, Some("key=bbb"), true).err(),
            Some(ExtractError::Conflict)
        );
    }

    #[test]
    fn unreadable_and_missing_are_told_apart() {
        assert_eq!(
            extract(&HeaderMap::new(), None, false).err(),
            Some(ExtractError::Missing)
        );
        let h = headers(&[("authorization", "Digest abc")]);
        assert_eq!(extract(&h, None, false).err(), Some(ExtractError::Missing));
        for bad in [
            "Basic !!!",
            &basic("tok:password"),
            &basic(":tok"),
            "Bearer ",
        ] {
            let h = headers(&[("authorization", bad)]);
            assert_eq!(
                extract(&h, None, false).err(),
                Some(ExtractError::Unreadable),
                "{bad}"
            );
        }
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
