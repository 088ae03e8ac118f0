//! Checking a signed REST request, the server's side of [`sign_request`](super::sign_request):
//! key, version, timestamp window, `body_md5`, and the signature in constant time.

use percent_encoding::percent_decode_str;

use super::credentials::Token;
use super::hmac::verify_hex;
use super::signing::{EMPTY_BODY_MD5, body_md5};

/// How far a request's `auth_timestamp` may be from the server's clock, in seconds.
pub const TIMESTAMP_WINDOW_SECS: u64 = 600;

/// Why a signed request was refused. Every case is a 401, but a duplicate or undecodable
/// parameter, which is a 400.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// A query parameter is not valid percent-encoded UTF-8, or repeats.
    MalformedQuery(String),
    /// An `auth_*` parameter is missing.
    Missing(&'static str),
    /// `auth_key` is not the app's key.
    UnknownKey,
    /// `auth_version` is not `1.0`.
    Version,
    /// `auth_timestamp` is outside the window.
    Expired {
        /// The request's timestamp.
        given: String,
        /// The server's time.
        now: u64,
    },
    /// `body_md5` is missing for a body, or does not match it.
    BodyMd5,
    /// The signature does not match.
    Signature {
        /// The string the server signed (no secret in it).
        expected: String,
    },
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MalformedQuery(v0) => write!(f, "malformed query: {v0}"),
            Self::Missing(v0) => write!(f, "missing {v0}"),
            Self::UnknownKey => f.write_str("unknown auth_key"),
            Self::Version => f.write_str("unsupported auth_version"),
            Self::Expired { given, now } => write!(
                f,
                "Timestamp expired: Given timestamp ({given}) not within 600s of server time ({now})"
            ),
            Self::BodyMd5 => f.write_str("body_md5 does not match the body"),
            Self::Signature { expected } => write!(
                f,
                "Invalid signature: you should have sent HmacSHA256Hex({expected:?}, your_secret_key)"
            ),
        }
    }
}

impl std::error::Error for RequestError {}

impl RequestError {
    /// The HTTP status for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Self::MalformedQuery(_) => 400,
            _ => 401,
        }
    }
}

/// Split and percent-decode a query string (`+` is a space, as in forms). Duplicate keys
/// are an error: which one was signed would be ambiguous.
pub fn decode_query(query: &str) -> Result<Vec<(String, String)>, RequestError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| RequestError::MalformedQuery(format!("{k:?} is not UTF-8")))
        };
        let (k, v) = (decode(k)?, decode(v)?);
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(RequestError::MalformedQuery(format!("{k:?} is repeated")));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Check a request signed as [`sign_request`](super::sign_request) signs it: `params` are
/// the decoded query pairs ([`decode_query`]), `body` the raw body (empty for GET).
pub fn verify_request(
    token: &Token,
    method: &str,
    path: &str,
    params: &[(String, String)],
    body: &[u8],
    now: u64,
) -> Result<(), RequestError> {
    let get = |name: &'static str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or(RequestError::Missing(name))
    };
    let signature = get("auth_signature")?;
    if get("auth_key")? != token.key {
        return Err(RequestError::UnknownKey);
    }
    if get("auth_version")? != "1.0" {
        return Err(RequestError::Version);
    }
    let given = get("auth_timestamp")?;
    if given
        .parse::<u64>()
        .map_or(true, |t| t.abs_diff(now) > TIMESTAMP_WINDOW_SECS)
    {
        return Err(RequestError::Expired {
            given: given.to_owned(),
            now,
        });
    }
    match params.iter().find(|(k, _)| k == "body_md5") {
        Some((_, md5)) if *md5 == body_md5(body) => {}
        None if body.is_empty() => {}
        Some((_, md5)) if body.is_empty() && md5 == EMPTY_BODY_MD5 => {}
        _ => return Err(RequestError::BodyMd5),
    }
    let mut signed: Vec<(String, &str)> = params
        .iter()
        .filter(|(k, _)| k != "auth_signature")
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
        .collect();
    signed.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut string_to_sign = format!("{method}\n{path}\n");
    for (i, (k, v)) in signed.iter().enumerate() {
        if i > 0 {
            string_to_sign.push('&');
        }
        string_to_sign.push_str(k);
        string_to_sign.push('=');
        string_to_sign.push_str(v);
    }
    if verify_hex(&token.secret, &[string_to_sign.as_bytes()], signature) {
        Ok(())
    } else {
        Err(RequestError::Signature {
            expected: string_to_sign,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::sign_request;

    fn check(query: &str, method: &str, body: &[u8], now: u64) -> Result<(), RequestError> {
        let token = Token::new("KEY", "SUPERSECRET");
        verify_request(
            &token,
            method,
            "/apps/1/events",
            &decode_query(query)?,
            body,
            now,
        )
    }

    #[test]
    fn what_sign_request_signs_verifies() {
        let token = Token::new("KEY", "SUPERSECRET");
        let body = br#"{"name":"a"}"#;
        let s = sign_request(
            &token,
            "POST",
            "/apps/1/events",
            &[("info", "a b&c")],
            Some(body),
            1000,
        );
        assert_eq!(check(&s.query, "POST", body, 1000), Ok(()));
        assert_eq!(check(&s.query, "POST", body, 1600), Ok(()));
        assert!(matches!(
            check(&s.query, "POST", body, 1601),
            Err(RequestError::Expired { .. })
        ));
        assert_eq!(
            check(&s.query, "POST", b"{}", 1000),
            Err(RequestError::BodyMd5)
        );
        assert!(matches!(
            check(&s.query, "GET", body, 1000),
            Err(RequestError::Signature { .. })
        ));
        let other = sign_request(
            &Token::new("KEY", "other"),
            "POST",
            "/apps/1/events",
            &[],
            Some(body),
            1000,
        );
        assert!(matches!(
            check(&other.query, "POST", body, 1000),
            Err(RequestError::Signature { .. })
        ));
        let key = sign_request(
            &Token::new("KEY2", "SUPERSECRET"),
            "POST",
            "/apps/1/events",
            &[],
            Some(body),
            1000,
        );
        assert_eq!(
            check(&key.query, "POST", body, 1000),
            Err(RequestError::UnknownKey)
        );
    }

    #[test]
    fn get_may_carry_the_empty_md5_and_queries_refuse_repeats() {
        let token = Token::new("KEY", "SUPERSECRET");
        let s = sign_request(&token, "GET", "/apps/1/events", &[], None, 5);
        assert_eq!(check(&s.query, "GET", b"", 5), Ok(()));
        let md5 = sign_request(&token, "GET", "/apps/1/events", &[], Some(b""), 5);
        assert_eq!(check(&md5.query, "GET", b"", 5), Ok(()));
        assert!(matches!(
            check("a=1&a=2", "GET", b"", 5),
            Err(RequestError::MalformedQuery(_))
        ));
        assert_eq!(
            check("auth_key=KEY", "GET", b"", 5),
            Err(RequestError::Missing("auth_signature"))
        );
    }
}
