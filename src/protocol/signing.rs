//! REST request signing, `auth_version` 1.0 (protocol §2).
//!
//! The string to sign is `METHOD\nPATH\nQUERY`, where QUERY holds every parameter but
//! `auth_signature`, sorted by key, with values **raw** (not percent-encoded). On the wire
//! the values are percent-encoded, so a value with a space or `&` still verifies.

use md5::{Digest, Md5};

use super::credentials::Token;
use super::hmac::{digest, encode_hex, push_hex32};

/// The MD5 of an empty body, which a POST without content still has to carry.
pub const EMPTY_BODY_MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

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
    md5_hex(body).iter().map(|&b| char::from(b)).collect()
}

fn md5_hex(body: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    encode_hex(&Md5::digest(body), &mut out);
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
    let mut string_to_sign = String::new();
    let mut query = String::new();
    let req = Request {
        method,
        path,
        params,
        body,
        timestamp,
    };
    sign_into(&mut query, Some(&mut string_to_sign), token, req);
    // The query ends with the 64 hex digits of the signature.
    let signature = query
        .get(query.len().saturating_sub(64)..)
        .unwrap_or_default()
        .to_owned();
    SignedRequest {
        string_to_sign,
        signature,
        query,
    }
}

/// Append the signed query of a request to `out`, as [`sign_request`] returns it in
/// `query`, without keeping the string to sign: the client writes the whole URL into one
/// buffer and hashes the query in place.
pub(crate) fn push_signed_query(
    out: &mut String,
    token: &Token,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: Option<&[u8]>,
    timestamp: u64,
) {
    let req = Request {
        method,
        path,
        params,
        body,
        timestamp,
    };
    sign_into(out, None, token, req);
}

/// What [`sign_into`] signs.
struct Request<'a> {
    method: &'a str,
    path: &'a str,
    params: &'a [(&'a str, &'a str)],
    body: Option<&'a [u8]>,
    timestamp: u64,
}

/// Append the signed query to `out`, and the string to sign to `string_to_sign` if asked.
fn sign_into(
    out: &mut String,
    string_to_sign: Option<&mut String>,
    token: &Token,
    req: Request<'_>,
) {
    let Request {
        method,
        path,
        params,
        body,
        timestamp,
    } = req;
    // The timestamp's digits and the body's MD5 in hex, side by side: one UTF-8 check
    // makes both strings.
    let mut ascii = [0u8; 20 + 32];
    let digits = write_decimal(timestamp, &mut ascii);
    let md5_len = match body {
        Some(body) => {
            encode_hex(&Md5::digest(body), &mut ascii[digits..digits + 32]);
            32
        }
        None => 0,
    };
    let ascii = std::str::from_utf8(&ascii[..digits + md5_len]).unwrap_or_default();
    let (timestamp, md5) = ascii.split_at(digits);
    let md5 = body.map(|_| md5);
    // The `auth_*` parameters and `body_md5`, already in key order.
    let fixed = [
        ("auth_key", token.key.as_str()),
        ("auth_timestamp", timestamp),
        ("auth_version", "1.0"),
        ("body_md5", md5.unwrap_or_default()),
    ];
    let fixed = &fixed[..if md5.is_some() { 4 } else { 3 }];
    // The endpoint's parameters are usually none, or already sorted; otherwise a sorted
    // copy. Ties keep `fixed` first, then the caller's order: a stable sort of the lot.
    let mut sorted_params = Vec::new();
    let params = if params.is_sorted_by(|a, b| a.0 <= b.0) {
        params
    } else {
        sorted_params.extend_from_slice(params);
        sorted_params.sort_by(|a, b| a.0.cmp(b.0));
        &sorted_params
    };
    let pairs = Merged {
        fixed,
        extra: params,
    };

    // `METHOD\nPATH\nQUERY` is signed with raw values. The `auth_*` keys and the
    // timestamp, version and MD5 are unreserved characters, so only the app key and the
    // endpoint's parameters can need percent-encoding on the wire; without any, the
    // query on the wire is the signed string's third line, and is hashed where it lies.
    let raw_len = pairs.map(|(k, v)| k.len() + v.len() + 2).sum::<usize>() - 1;
    let escapes = percent_extra(&token.key)
        + params
            .iter()
            .map(|(k, v)| percent_extra(k) + percent_extra(v))
            .sum::<usize>();
    const SIGNATURE: &str = "&auth_signature=";
    let query_len = raw_len + escapes + SIGNATURE.len() + 64;
    let head = method.len() + path.len() + 2;
    // The string to sign, written out only when it is kept or differs from the query.
    let write_signed = |signed: &mut String| {
        signed.reserve(head + raw_len);
        signed.push_str(method);
        signed.push('\n');
        signed.push_str(path);
        signed.push('\n');
        push_pairs(signed, pairs, false);
    };
    let signature = match string_to_sign {
        Some(signed) => {
            write_signed(signed);
            out.reserve(query_len);
            match signed.get(head..) {
                Some(query) if escapes == 0 => out.push_str(query),
                _ => push_pairs(out, pairs, true),
            }
            digest(&token.secret, &[signed.as_bytes()])
        }
        None => {
            out.reserve(query_len);
            let query_at = out.len();
            push_pairs(out, pairs, escapes != 0);
            if escapes == 0 {
                let query = out.get(query_at..).unwrap_or_default().as_bytes();
                digest(
                    &token.secret,
                    &[method.as_bytes(), b"\n", path.as_bytes(), b"\n", query],
                )
            } else {
                let mut signed = String::new();
                write_signed(&mut signed);
                digest(&token.secret, &[signed.as_bytes()])
            }
        }
    };
    out.push_str(SIGNATURE);
    push_hex32(out, &signature);
}

/// Append `k=v&k=v…`, percent-encoded when `encode`.
fn push_pairs<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>, encode: bool) {
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            out.push('&');
        }
        if encode {
            percent_encode_into(k, out);
            out.push('=');
            percent_encode_into(v, out);
        } else {
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
    }
}

/// Two key-sorted parameter lists merged in key order, `fixed` first on equal keys.
#[derive(Clone, Copy)]
struct Merged<'a> {
    fixed: &'a [(&'a str, &'a str)],
    extra: &'a [(&'a str, &'a str)],
}

impl<'a> Iterator for Merged<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let take_extra = match (self.fixed.first(), self.extra.first()) {
            (Some(f), Some(e)) => e.0 < f.0,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        let list = if take_extra {
            &mut self.extra
        } else {
            &mut self.fixed
        };
        let (first, rest) = list.split_first()?;
        *list = rest;
        Some(*first)
    }
}

/// Write the decimal digits of `n` at the start of `buf` (20 bytes hold `u64::MAX`) and
/// return how many there are.
fn write_decimal(mut n: u64, buf: &mut [u8; 52]) -> usize {
    const PAIRS: &[u8; 200] = b"\
        0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let len = n.checked_ilog10().map_or(1, |l| l as usize + 1);
    let mut end = len;
    while n >= 100 {
        // Below 100, so the pair is in the table.
        let pair = (n % 100) as usize * 2;
        n /= 100;
        end -= 2;
        buf[end..end + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        buf[..2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        buf[0] = b'0' + n as u8;
    }
    len
}

/// `A-Z a-z 0-9 - . _ ~`, the bytes RFC 3986 leaves unescaped.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        i += 1;
    }
    table
};

/// How many bytes percent-encoding adds to `s` (two per escaped byte).
fn percent_extra(s: &str) -> usize {
    2 * s.bytes().filter(|&b| !UNRESERVED[usize::from(b)]).count()
}

/// Append `s` percent-encoded per RFC 3986: everything but `A-Z a-z 0-9 - . _ ~` escaped.
pub fn percent_encode_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(s.len());
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if UNRESERVED[usize::from(b)] {
            continue;
        }
        // Runs of unreserved bytes are ASCII, so they are copied whole; a run is empty
        // right after a multi-byte character's first byte (`get` gives `None` there).
        out.push_str(s.get(start..i).unwrap_or_default());
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client's in-place signing appends exactly the query `sign_request` returns,
    /// and that query's signature is the HMAC of the string to sign.
    #[test]
    fn signed_query_in_place_matches_sign_request() {
        let plain = Token::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
        let odd_key = Token::new("key with space&more", "secret");
        let params: [&[(&str, &str)]; 4] = [
            &[],
            &[("filter_by_prefix", "presence-"), ("info", "user_count")],
            &[("info", "user_count"), ("filter_by_prefix", "presence-")],
            &[("info", "a b&c=d/é")],
        ];
        for token in [&plain, &odd_key] {
            for params in params {
                for body in [
                    None,
                    Some(&b"{}"[..]),
                    Some("{\"a\":\"\u{e9}\"}".as_bytes()),
                ] {
                    let method = if body.is_some() { "POST" } else { "GET" };
                    let signed =
                        sign_request(token, method, "/apps/1/x", params, body, 1_700_000_000);
                    let mut url = String::from("http://127.0.0.1:1/apps/1/x?");
                    push_signed_query(
                        &mut url,
                        token,
                        method,
                        "/apps/1/x",
                        params,
                        body,
                        1_700_000_000,
                    );
                    assert_eq!(url, format!("http://127.0.0.1:1/apps/1/x?{}", signed.query));
                    let want = digest(&token.secret, &[signed.string_to_sign.as_bytes()]);
                    let mut hex = [0u8; 64];
                    encode_hex(&want, &mut hex);
                    assert_eq!(signed.signature.as_bytes(), hex);
                    assert!(
                        signed
                            .query
                            .ends_with(&format!("&auth_signature={}", signed.signature))
                    );
                }
            }
        }
    }

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
    fn empty_post_body_has_md5() {
        let token = Token::new("KEY", "S");
        let s = sign_request(&token, "POST", "/apps/1/x", &[], Some(b""), 1);
        assert!(
            s.string_to_sign
                .contains(&format!("body_md5={EMPTY_BODY_MD5}"))
        );
        assert_eq!(body_md5(b"{}"), "99914b932bd37a50b983c5e7c90ae93b");
    }

    #[test]
    fn percent_encoding() {
        let mut out = String::new();
        percent_encode_into("plain-._~09AZaz", &mut out);
        assert_eq!(out, "plain-._~09AZaz");
        out.clear();
        percent_encode_into("a b&c=é/ü€", &mut out);
        assert_eq!(out, "a%20b%26c%3D%C3%A9%2F%C3%BC%E2%82%AC");
        out.clear();
        percent_encode_into("", &mut out);
        assert_eq!(out, "");
    }

    /// RFC 3986 percent-encoding, byte by byte.
    fn encode_reference(s: &str, out: &mut String) {
        for byte in s.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }

    #[test]
    fn percent_encoding_table_matches_the_rule() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é€😀\u{7ff}\u{800}");
        for s in [all.as_str(), "a b", "~~", "%", "\u{0}"] {
            let (mut got, mut want) = (String::new(), String::new());
            percent_encode_into(s, &mut got);
            encode_reference(s, &mut want);
            assert_eq!(got, want);
            assert_eq!(s.len() + percent_extra(s), want.len(), "{s:?}");
        }
    }

    /// `sign_request` as it was first written (a sorted `Vec` of every parameter, two
    /// strings built side by side), to check the fast paths against. Its sort is stable:
    /// the first version's unstable sort could only differ on repeated keys, which the
    /// API rules out.
    fn reference(
        token: &Token,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: Option<&[u8]>,
        timestamp: u64,
    ) -> SignedRequest {
        let timestamp = timestamp.to_string();
        let md5 = body.map(body_md5);
        let mut all: Vec<(&str, &str)> = vec![
            ("auth_key", &token.key),
            ("auth_timestamp", &timestamp),
            ("auth_version", "1.0"),
        ];
        if let Some(md5) = &md5 {
            all.push(("body_md5", md5));
        }
        all.extend_from_slice(params);
        all.sort_by(|a, b| a.0.cmp(b.0));
        let mut string_to_sign = format!("{method}\n{path}\n");
        let mut query = String::new();
        for (i, (k, v)) in all.iter().enumerate() {
            if i > 0 {
                string_to_sign.push('&');
                query.push('&');
            }
            string_to_sign.push_str(&format!("{k}={v}"));
            encode_reference(k, &mut query);
            query.push('=');
            encode_reference(v, &mut query);
        }
        let mut mac = <crate::protocol::hmac::HmacSha256 as hmac::KeyInit>::new_from_slice(
            token.secret.expose().as_bytes(),
        )
        .unwrap();
        hmac::Mac::update(&mut mac, string_to_sign.as_bytes());
        let signature = hex::encode(hmac::Mac::finalize(mac).into_bytes());
        query.push_str(&format!("&auth_signature={signature}"));
        SignedRequest {
            string_to_sign,
            signature,
            query,
        }
    }

    #[test]
    fn timestamps_format_like_to_string() {
        let check = |n: u64| {
            let mut buf = [0u8; 52];
            let len = write_decimal(n, &mut buf);
            assert_eq!(std::str::from_utf8(&buf[..len]), Ok(n.to_string().as_str()));
        };
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            101,
            1_700_000_000,
            u64::MAX / 10,
            u64::MAX - 1,
            u64::MAX,
        ] {
            check(n);
        }
        for p in 0..20 {
            check(10u64.pow(p));
            check(10u64.pow(p) - 1);
            check(10u64.pow(p) + 1);
        }
        let token = Token::new("KEY", "S");
        for ts in [0, u64::MAX] {
            let s = sign_request(&token, "GET", "/apps/1/x", &[], None, ts);
            assert_eq!(
                s.string_to_sign,
                format!("GET\n/apps/1/x\nauth_key=KEY&auth_timestamp={ts}&auth_version=1.0")
            );
        }
    }

    #[test]
    fn fast_paths_match_the_reference() {
        let plain = Token::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
        let odd_key = Token::new("a key/with+reserved&bytes=é", "S");
        let params: &[&[(&str, &str)]] = &[
            &[],
            &[("info", "user_count")],
            // Before, between and after the `auth_*` keys, sorted or not.
            &[("zeta", "1"), ("alpha", "2")],
            &[
                ("auth_a", "x"),
                ("auth_l", "y"),
                ("auth_u", "z"),
                ("c", "w"),
            ],
            &[
                ("c", "w"),
                ("auth_u", "z"),
                ("auth_l", "y"),
                ("auth_a", "x"),
                ("b", ""),
            ],
            &[
                ("filter_by_prefix", "a b&c=d/é"),
                ("info", "user_count,subscription_count"),
            ],
            &[("k y", "v"), ("Z", "upper sorts first"), ("~", "last")],
        ];
        for token in [&plain, &odd_key] {
            for &params in params {
                for body in [None, Some(&b""[..]), Some(&br#"{"name":"x"}"#[..])] {
                    for timestamp in [0, 1_353_088_179, u64::MAX] {
                        let want =
                            reference(token, "POST", "/apps/3/events", params, body, timestamp);
                        let got =
                            sign_request(token, "POST", "/apps/3/events", params, body, timestamp);
                        assert_eq!(got, want, "{params:?} {body:?} {timestamp}");
                        // Sized up front: nothing grew.
                        assert_eq!(got.string_to_sign.capacity(), got.string_to_sign.len());
                        assert_eq!(got.query.capacity(), got.query.len());
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_params_match_the_reference(
            params in proptest::collection::btree_map("[a-z_]{1,12}|.{1,6}", ".{0,12}", 0..6),
            reverse: bool,
            timestamp: u64,
        ) {
            let token = Token::new("KEY", "SUPERSECRET");
            // Distinct keys, none an `auth_*` or `body_md5` one, as documented.
            let mut params: Vec<(&str, &str)> = params
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "auth_key" | "auth_timestamp" | "auth_version" | "auth_signature" | "body_md5"))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            if reverse {
                params.reverse();
            }
            let want = reference(&token, "GET", "/apps/1/channels", &params, None, timestamp);
            proptest::prop_assert_eq!(sign_request(&token, "GET", "/apps/1/channels", &params, None, timestamp), want);
        }
    }
}
