//! REST request signing, `auth_version` 1.0.
//!
//! The string to sign is `METHOD\nPATH\nQUERY`, where QUERY holds every parameter but
//! `auth_signature`, sorted by key, with values **raw** (not percent-encoded). On the wire
//! the values are percent-encoded, so a value with a space or `&` still verifies.

use md5::{Digest, Md5};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::credentials::Token;
use super::hmac::{push_hex, sign_hex};

/// The MD5 of an empty body, which a POST without content still has to carry.
pub const EMPTY_BODY_MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

/// Everything but RFC 3986's unreserved `A-Z a-z 0-9 - . _ ~` is escaped on the wire.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A signed REST request: what was signed and the query string to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The exact string that was signed; Pusher's 401 replies show the one they expected,
    /// so comparing the two finds a mismatch.
    pub string_to_sign: String,
    /// The signature, lowercase hex.
    pub signature: String,
    /// The query string to append after `?`: every parameter including `auth_signature`,
    /// values percent-encoded.
    pub query: String,
}

/// Lowercase hex MD5 of `body`, the `body_md5` parameter.
pub fn body_md5(body: &[u8]) -> String {
    let mut out = String::with_capacity(32);
    push_hex(&mut out, &Md5::digest(body));
    out
}

/// Sign a REST request.
///
/// * `method` is upper-case (`GET`, `POST`).
/// * `path` is the path exactly as sent, starting with `/apps/<app_id>`.
/// * `params` are the endpoint's own parameters (`info`, `filter_by_prefix`); their keys
///   must not repeat nor clash with the `auth_*` ones.
/// * `body` is `Some` for requests with a body (every POST, even an empty one, carries
///   `body_md5`), `None` for GET (which must not carry it).
/// * `timestamp` is Unix time in seconds; the service accepts 600 s of skew.
///
/// ```
/// use rocket_pusher::protocol::{sign_request, Token};
///
/// let token = Token::new("KEY", "SUPERSECRET");
/// let body = br#"{"name":"my-event","data":"{\"message\":\"hello world\"}","channels":["my-channel"]}"#;
/// let signed = sign_request(&token, "POST", "/apps/1234/events", &[], Some(body), 1700000000);
/// assert_eq!(
///     signed.string_to_sign,
///     "POST\n/apps/1234/events\nauth_key=KEY&auth_timestamp=1700000000&auth_version=1.0\
///      &body_md5=15d251b35306a6da7efa515a0e971f80"
/// );
/// assert_eq!(signed.signature, "bd4824fc8785776e27352f3372f36b739cc2b36bacd8af9a04bcaa2f5ceb4060");
/// ```
pub fn sign_request(
    token: &Token,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: Option<&[u8]>,
    timestamp: u64,
) -> SignedRequest {
    let timestamp = timestamp.to_string();
    let md5 = body.map(body_md5);
    let mut all = Vec::with_capacity(4 + params.len());
    all.extend([
        ("auth_key", token.key.as_str()),
        ("auth_timestamp", timestamp.as_str()),
        ("auth_version", "1.0"),
    ]);
    if let Some(md5) = &md5 {
        all.push(("body_md5", md5));
    }
    all.extend_from_slice(params);
    all.sort_by_key(|&(k, _)| k);

    // Signed with the values raw; sent percent-encoded.
    let raw_len: usize = all.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut string_to_sign = String::with_capacity(method.len() + path.len() + 2 + raw_len);
    string_to_sign.push_str(method);
    string_to_sign.push('\n');
    string_to_sign.push_str(path);
    string_to_sign.push('\n');
    let mut query = String::with_capacity(raw_len + 96);
    for (i, (k, v)) in all.iter().enumerate() {
        if i > 0 {
            string_to_sign.push('&');
            query.push('&');
        }
        string_to_sign.push_str(k);
        string_to_sign.push('=');
        string_to_sign.push_str(v);
        query.extend(utf8_percent_encode(k, QUERY_VALUE));
        query.push('=');
        query.extend(utf8_percent_encode(v, QUERY_VALUE));
    }
    let signature = sign_hex(&token.secret, &[string_to_sign.as_bytes()]);
    query.push_str("&auth_signature=");
    query.push_str(&signature);
    SignedRequest {
        string_to_sign,
        signature,
        query,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_worked_example() {
        let token = Token::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
        let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        let s = sign_request(
            &token,
            "POST",
            "/apps/3/events",
            &[],
            Some(body),
            1353088179,
        );
        assert!(
            s.string_to_sign
                .ends_with("body_md5=ec365a775a4cd0599faeb73354201b6f")
        );
        assert_eq!(
            s.signature,
            "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
        );
    }

    #[test]
    fn values_signed_raw_sent_encoded() {
        let token = Token::new("KEY", "SUPERSECRET");
        let s = sign_request(
            &token,
            "GET",
            "/apps/1234/channels",
            &[("info", "user_count"), ("filter_by_prefix", "a b&c")],
            None,
            1700000000,
        );
        assert_eq!(
            s.string_to_sign,
            "GET\n/apps/1234/channels\nauth_key=KEY&auth_timestamp=1700000000&auth_version=1.0\
             &filter_by_prefix=a b&c&info=user_count"
        );
        assert!(
            s.query
                .contains("filter_by_prefix=a%20b%26c&info=user_count&")
        );
        assert!(
            s.query
                .ends_with(&format!("auth_signature={}", s.signature))
        );
        assert!(!s.query.contains("body_md5"));
    }

    #[test]
    fn keys_and_values_are_percent_encoded_per_rfc_3986() {
        let token = Token::new("a key/é", "S");
        let s = sign_request(
            &token,
            "GET",
            "/apps/1/x",
            &[("zeta", "-._~09AZaz"), ("k y", "a b&c=é/ü€")],
            None,
            0,
        );
        assert_eq!(
            s.query,
            format!(
                "auth_key=a%20key%2F%C3%A9&auth_timestamp=0&auth_version=1.0\
                 &k%20y=a%20b%26c%3D%C3%A9%2F%C3%BC%E2%82%AC&zeta=-._~09AZaz\
                 &auth_signature={}",
                s.signature
            )
        );
        let mut mac =
            <crate::protocol::hmac::HmacSha256 as hmac::Mac>::new_from_slice(b"S").unwrap();
        hmac::Mac::update(&mut mac, s.string_to_sign.as_bytes());
        assert_eq!(
            s.signature,
            hex::encode(hmac::Mac::finalize(mac).into_bytes())
        );
    }

    proptest::proptest! {
        #[test]
        fn query_is_every_pair_percent_encoded(
            key in "\\PC{0,8}",
            params in proptest::collection::btree_map("[a-z_ ]{1,6}|\\PC{1,4}", "\\PC{0,6}", 0..3),
            body in proptest::option::of("\\PC{0,8}"),
            timestamp: u64,
        ) {
            // The plain form: the string to sign's pairs, each key and value encoded.
            let params: Vec<(&str, &str)> =
                params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let token = Token::new(key, "S");
            let body = body.as_deref().map(str::as_bytes);
            let s = sign_request(&token, "POST", "/apps/1/x", &params, body, timestamp);
            let pairs = s.string_to_sign.splitn(3, '\n').nth(2).unwrap();
            let mut all = vec![
                ("auth_key", token.key),
                ("auth_timestamp", timestamp.to_string()),
                ("auth_version", "1.0".to_owned()),
            ];
            if let Some(body) = body {
                all.push(("body_md5", body_md5(body)));
            }
            all.extend(params.iter().map(|&(k, v)| (k, v.to_owned())));
            all.sort_by_key(|&(k, _)| k);
            let raw: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
            proptest::prop_assert_eq!(pairs, raw.join("&"));
            let wire: Vec<String> = all
                .iter()
                .map(|(k, v)| {
                    let (k, v) = (utf8_percent_encode(k, QUERY_VALUE), utf8_percent_encode(v, QUERY_VALUE));
                    format!("{k}={v}")
                })
                .collect();
            proptest::prop_assert_eq!(
                s.query,
                format!("{}&auth_signature={}", wire.join("&"), s.signature)
            );
        }
    }

    #[test]
    fn empty_post_body_has_md5() {
        let token = Token::new("KEY", "S");
        let s = sign_request(&token, "POST", "/apps/1/x", &[], Some(b""), 1);
        assert!(
            s.string_to_sign
                .contains(&format!("body_md5={EMPTY_BODY_MD5}"))
        );
        assert_eq!(body_md5(b"{}"), "99914b932bd37a50b983c5e7c90ae93b");
    }
}
