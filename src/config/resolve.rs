//! [`PusherConfig::resolve`]: every client key checked, the credentials taken from the
//! separate keys or from `url`, and the API endpoint built.

use std::borrow::Cow;
use std::time::Duration;

use percent_encoding::percent_decode_str;

use super::{PusherConfig, invalid};
use crate::error::ConfigError;
use crate::protocol::{MAX_CHANNEL_NAME_LEN, MasterKey, Secret, Token};

impl PusherConfig {
    /// Check every client key and resolve credentials, endpoint and limits.
    pub(crate) fn resolve(&self) -> Result<Resolved, ConfigError> {
        let (app_id, key, secret, url_endpoint) = match &self.url {
            Some(url) => {
                if self.app_id.is_some() || self.key.is_some() || self.secret.is_some() {
                    return Err(ConfigError::Invalid {
                        key: "url",
                        reason: "set either `url` or `app_id`, `key` and `secret`, not both".into(),
                    });
                }
                let parsed = parse_url(url.expose())?;
                (
                    parsed.app_id,
                    parsed.key,
                    parsed.secret,
                    Some(parsed.endpoint),
                )
            }
            None => (
                self.app_id.clone().ok_or(ConfigError::Missing("app_id"))?,
                self.key.clone().ok_or(ConfigError::Missing("key"))?,
                self.secret.clone().ok_or(ConfigError::Missing("secret"))?,
                None,
            ),
        };
        if app_id.is_empty()
            || !app_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "app_id",
                "must be non-empty letters, digits, - or _",
            ));
        }
        if key.is_empty() || key.contains(':') || key.chars().any(char::is_whitespace) {
            return Err(invalid("key", "must be non-empty, without ':' or spaces"));
        }
        if secret.expose().is_empty() {
            return Err(invalid("secret", "must not be empty"));
        }

        let endpoint = match url_endpoint {
            Some(e) => e,
            None => self.endpoint()?,
        };

        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            return Err(invalid(
                "timeout",
                "must be a number of seconds above 0 (at most 3600)",
            ));
        }
        let master_key = self
            .encryption_master_key_base64
            .as_ref()
            .map(|k| MasterKey::from_base64(k.expose()))
            .transpose()
            .map_err(|e| invalid("encryption_master_key_base64", &e.to_string()))?;
        if self.max_payload_bytes == 0 {
            return Err(invalid("max_payload_bytes", "must be above 0"));
        }
        if self.max_batch_events == 0 {
            return Err(invalid("max_batch_events", "must be above 0"));
        }
        if !(1..=MAX_CHANNEL_NAME_LEN).contains(&self.max_channel_name_len) {
            return Err(invalid(
                "max_channel_name_len",
                "must be between 1 and 200 (Pusher's hosted service documents 164)",
            ));
        }
        self.retry.check()?;
        self.queue.check()?;
        for t in &self.webhook_tokens {
            if t.key.is_empty() || t.secret.expose().is_empty() {
                return Err(invalid(
                    "webhook_tokens",
                    "every token needs a key and a secret",
                ));
            }
        }
        let mut tokens = vec![Token::new(key, secret)];
        tokens.extend(self.webhook_tokens.iter().cloned());
        Ok(Resolved {
            app_id,
            tokens,
            endpoint,
            timeout: Duration::from_secs_f64(self.timeout),
            master_key,
        })
    }

    fn endpoint(&self) -> Result<String, ConfigError> {
        let mut tls = self.use_tls;
        let host = match self
            .host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            Some(h) => {
                let h = if let Some(rest) = h.strip_prefix("https://") {
                    tls = true;
                    rest
                } else if let Some(rest) = h.strip_prefix("http://") {
                    tls = false;
                    rest
                } else {
                    h
                };
                let h = h.trim_end_matches('/');
                if h.is_empty() || h.contains(['/', '?', '#', '@', ' ']) {
                    return Err(invalid(
                        "host",
                        "must be a host name or address, with an optional :port",
                    ));
                }
                h.to_owned()
            }
            None => match self
                .cluster
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
            {
                Some(c) => {
                    if !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                        return Err(invalid("cluster", "must be letters, digits and -"));
                    }
                    format!("api-{c}.pusher.com")
                }
                None => "api-mt1.pusher.com".to_owned(),
            },
        };
        let scheme = if tls { "https" } else { "http" };
        let endpoint = match self.port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        };
        reqwest::Url::parse(&endpoint)
            .map_err(|e| invalid("host", &format!("does not form a valid URL: {e}")))?;
        Ok(endpoint)
    }
}
/// The client settings, checked.
pub(crate) struct Resolved {
    pub(crate) app_id: String,
    /// The signing token first, then the extra webhook tokens.
    pub(crate) tokens: Vec<Token>,
    /// `scheme://host[:port]`.
    pub(crate) endpoint: String,
    pub(crate) timeout: Duration,
    pub(crate) master_key: Option<MasterKey>,
}

struct ParsedUrl {
    app_id: String,
    key: String,
    secret: Secret,
    endpoint: String,
}

fn parse_url(raw: &str) -> Result<ParsedUrl, ConfigError> {
    // The message never includes the URL: it holds the secret.
    let bad = |reason: &str| invalid("url", reason);
    let url = reqwest::Url::parse(raw)
        .map_err(|_| bad("expected https://KEY:SECRET@HOST/apps/APP_ID"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("scheme must be http or https"));
    }
    let key = decode_userinfo(url.username())
        .ok_or_else(|| bad("key has a bad %-escape or is not UTF-8"))?;
    let secret = url
        .password()
        .ok_or_else(|| bad("missing the secret (https://KEY:SECRET@HOST/apps/APP_ID)"))?;
    let secret =
        decode_userinfo(secret).ok_or_else(|| bad("secret has a bad %-escape or is not UTF-8"))?;
    if key.is_empty() {
        return Err(bad("missing the key (https://KEY:SECRET@HOST/apps/APP_ID)"));
    }
    let app_id = url
        .path()
        .trim_end_matches('/')
        .strip_prefix("/apps/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| bad("path must be /apps/APP_ID"))?
        .to_owned();
    let host = url.host_str().ok_or_else(|| bad("missing the host"))?;
    let endpoint = match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    Ok(ParsedUrl {
        app_id,
        key,
        secret: Secret::new(secret),
        endpoint,
    })
}

/// A `url`'s user or password, `%XX` escapes decoded. `percent_decode_str` keeps a
/// malformed escape (`%+1`) as it is; in a credential that is a typo, so it is refused.
fn decode_userinfo(s: &str) -> Option<String> {
    let escapes_ok = s.split('%').skip(1).all(|rest| {
        rest.as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok {
        return None;
    }
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(Cow::into_owned)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let c = PusherConfig::new("1", "k", "s");
        assert_eq!(c.resolve().unwrap().endpoint, "https://api-mt1.pusher.com");
        let c = PusherConfig {
            cluster: Some("eu".into()),
            ..PusherConfig::new("1", "k", "s")
        };
        assert_eq!(c.resolve().unwrap().endpoint, "https://api-eu.pusher.com");
        let c = PusherConfig {
            cluster: Some("".into()),
            ..PusherConfig::new("1", "k", "s")
        };
        assert_eq!(c.resolve().unwrap().endpoint, "https://api-mt1.pusher.com");
        let c = PusherConfig {
            host: Some("127.0.0.1".into()),
            port: Some(6001),
            use_tls: false,
            cluster: Some("eu".into()),
            ..PusherConfig::new("1", "k", "s")
        };
        assert_eq!(c.resolve().unwrap().endpoint, "http://127.0.0.1:6001");
        let c = PusherConfig {
            host: Some("http://localhost:6001/".into()),
            ..PusherConfig::new("1", "k", "s")
        };
        assert_eq!(c.resolve().unwrap().endpoint, "http://localhost:6001");
    }

    #[test]
    fn url_form() {
        let c = PusherConfig {
            url: Some(Secret::new(
                "http://KEY:SUPER%2FSECRET@127.0.0.1:6001/apps/1234",
            )),
            ..PusherConfig::default()
        };
        let r = c.resolve().unwrap();
        assert_eq!(r.app_id, "1234");
        assert_eq!(r.tokens[0].key, "KEY");
        assert_eq!(r.tokens[0].secret.expose(), "SUPER/SECRET");
        assert_eq!(r.endpoint, "http://127.0.0.1:6001");
        for bad in [
            "http://KEY:S%+1@h/apps/1",
            "http://KEY:S%-1@h/apps/1",
            "http://KEY%+4:S@h/apps/1",
            "http://KEY:S%4@h/apps/1",
            "http://KEY:S%@h/apps/1",
            "http://KEY@h/apps/1",
            "http://KEY:S@h/app/1",
            "ftp://KEY:S@h/apps/1",
            "nonsense",
        ] {
            let c = PusherConfig {
                url: Some(Secret::new(bad)),
                ..PusherConfig::default()
            };
            let e = c.resolve().err().unwrap();
            assert!(
                matches!(e, ConfigError::Invalid { key: "url", .. }),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn errors_name_the_key_not_the_secret() {
        let missing = PusherConfig {
            secret: None,
            ..PusherConfig::new("1", "k", "s")
        };
        assert_eq!(
            missing.resolve().err(),
            Some(ConfigError::Missing("secret"))
        );
        let bad_mk = PusherConfig {
            encryption_master_key_base64: Some(Secret::new("MARKER-not-base64")),
            ..PusherConfig::new("1", "k", "MARKER")
        };
        let e = bad_mk.resolve().err().unwrap().to_string();
        assert!(e.contains("encryption_master_key_base64"), "{e}");
        assert!(!e.contains("MARKER"), "{e}");
        let shown = format!("{bad_mk:?}");
        assert!(!shown.contains("MARKER"), "{shown}");
        let zero = PusherConfig {
            timeout: 0.0,
            ..PusherConfig::new("1", "k", "s")
        };
        assert!(matches!(
            zero.resolve().err(),
            Some(ConfigError::Invalid { key: "timeout", .. })
        ));
    }
}
