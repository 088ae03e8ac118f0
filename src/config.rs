//! Configuration: the `pusher` table of Rocket's configuration. [`PusherConfig`] holds
//! the client's keys and builds a [`Pusher`](crate::Pusher) on its own; [`FairingConfig`]
//! adds the keys of the routes the fairing mounts.

use std::borrow::Cow;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use serde::Deserialize;

use crate::client::RetryPolicy;
use crate::error::ConfigError;
use crate::protocol::{MAX_CHANNEL_NAME_LEN, MasterKey, Secret, Token};

pub use crate::integration::{FairingConfig, ROUTE_RANK};

/// Which transport a [`Pusher`](crate::Pusher) uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// Send requests to the Pusher HTTP API (the default).
    #[default]
    Http,
    /// Send nothing: record every request so an app's tests can read them back (see
    /// [`Recorder`](crate::client::Recorder)). The role of Flask-Pusher's `PUSHER_BACKEND`.
    Recording,
    /// Deliver to the server embedded in the app (feature `server`): `PusherFairing`
    /// mounts `/app/<key>` and the HTTP API on the app, and the client calls it in process.
    /// Its options are the `server` table ([`ServerConfig`](crate::server::ServerConfig)).
    #[cfg(feature = "server")]
    Embedded,
}

/// The client's keys of the `pusher` table: credentials, host, timeout, limits, retries,
/// the queue.
///
/// Filled in code for [`Pusher::from_config`](crate::Pusher::from_config), or read from any
/// serde source (a TOML file, the environment). Under Rocket the fairing reads it from the
/// `pusher` table as part of [`FairingConfig`], which adds the routes' keys. Unknown keys are
/// an error, so a typo fails loudly. `Debug` never shows the secret, the URL or the master
/// key.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PusherConfig {
    /// The app id. Required unless `url` is set.
    pub app_id: Option<String>,
    /// The app key. Required unless `url` is set.
    pub key: Option<String>,
    /// The app secret. Required unless `url` is set.
    pub secret: Option<Secret>,
    /// All three credentials and the host in one: `https://KEY:SECRET@HOST[:PORT]/apps/APP_ID`
    /// (the `PUSHER_URL` form). Exclusive with `app_id`, `key` and `secret`.
    pub url: Option<Secret>,
    /// The cluster: the API host becomes `api-<cluster>.pusher.com`. _Default:_ `mt1`.
    pub cluster: Option<String>,
    /// The API host, for a self-hosted server (`127.0.0.1`); may carry `:port` and an
    /// `http://` or `https://` prefix. Overrides `cluster`.
    pub host: Option<String>,
    /// The API port. _Default:_ 443, or 80 when `use_tls` is false.
    pub port: Option<u16>,
    /// Whether to use HTTPS. _Default:_ `true`.
    pub use_tls: bool,
    /// The total time a request may take, in seconds. _Default:_ `5`.
    pub timeout: f64,
    /// The base64 of the 32-byte master key for `private-encrypted-` channels.
    /// _Default:_ none (encrypted channels are refused).
    pub encryption_master_key_base64: Option<Secret>,
    /// More key/secret pairs whose signatures webhooks may carry, while a key is rotated:
    /// `[{key = "…", secret = "…"}]`. _Default:_ none.
    pub webhook_tokens: Vec<Token>,
    /// The largest event `data` in bytes (after encryption). _Default:_ `10240`, Pusher's
    /// limit; dedicated clusters allow more.
    pub max_payload_bytes: usize,
    /// The most events in one batch trigger. _Default:_ `10`, Pusher's limit.
    pub max_batch_events: usize,
    /// The longest channel name triggers and channel authorization accept, 1 to 200.
    /// _Default:_ `200`, what the official libraries and self-hosted servers accept;
    /// Pusher's hosted service documents `164`.
    pub max_channel_name_len: usize,
    /// `http`, `recording` to send nothing and record requests for tests, or `embedded`
    /// (feature `server`) to run the Pusher-protocol server in the app itself.
    /// _Default:_ `http`.
    pub transport: TransportKind,
    /// When failed requests are tried again: a table with `attempts`, `initial_delay`,
    /// `max_delay` and `retry_writes` (see [`RetryPolicy`]). _Default:_ 3 attempts for
    /// reads (0.2 s then 0.4 s apart, with jitter, `Retry-After` honoured up to 5 s); writes
    /// are not retried, since a retried trigger may be delivered twice. Queued events are
    /// retried whatever `retry_writes` says.
    pub retry: RetryPolicy,
    /// How queued events are delivered: a table with `capacity`, `lanes` and
    /// `drain_timeout` (see [`QueueConfig`]). _Default:_ 10 000 events, 4 lanes, 5 s.
    pub queue: QueueConfig,
}

impl Default for PusherConfig {
    fn default() -> Self {
        Self {
            app_id: None,
            key: None,
            secret: None,
            url: None,
            cluster: None,
            host: None,
            port: None,
            use_tls: true,
            timeout: 5.0,
            encryption_master_key_base64: None,
            webhook_tokens: Vec::new(),
            max_payload_bytes: 10 * 1024,
            max_batch_events: 10,
            max_channel_name_len: MAX_CHANNEL_NAME_LEN,
            transport: TransportKind::Http,
            retry: RetryPolicy::default(),
            queue: QueueConfig::default(),
        }
    }
}

impl std::fmt::Debug for PusherConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PusherConfig")
            .field("app_id", &self.app_id)
            .field("key", &self.key)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("url", &self.url.as_ref().map(|_| "<redacted>"))
            .field("cluster", &self.cluster)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("use_tls", &self.use_tls)
            .field("timeout", &self.timeout)
            .field(
                "encryption_master_key_base64",
                &self
                    .encryption_master_key_base64
                    .as_ref()
                    .map(|_| "<redacted>"),
            )
            .field("webhook_tokens", &self.webhook_tokens)
            .field("max_payload_bytes", &self.max_payload_bytes)
            .field("max_batch_events", &self.max_batch_events)
            .field("max_channel_name_len", &self.max_channel_name_len)
            .field("transport", &self.transport)
            .field("retry", &self.retry)
            .field("queue", &self.queue)
            .finish()
    }
}

impl PusherConfig {
    /// A configuration with the three credentials and every default.
    pub fn new(
        app_id: impl Into<String>,
        key: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        Self {
            app_id: Some(app_id.into()),
            key: Some(key.into()),
            secret: Some(secret.into()),
            ..Self::default()
        }
    }

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

/// How queued events are delivered ([`Trigger::queue`](crate::client::Trigger::queue)): how
/// many may wait, over how many lanes, and how long shutdown waits for them.
///
/// In the `pusher` table:
///
/// ```toml
/// [default.pusher.queue]
/// capacity = 10000    # events waiting or in flight; queue() refuses more
/// lanes = 4           # requests in flight at once; a channel always takes the same lane
/// drain_timeout = 5   # seconds shutdown waits for queued events to go out
/// ```
///
/// In code:
///
/// ```
/// use std::time::Duration;
/// use rocket_pusher::Pusher;
/// use rocket_pusher::config::QueueConfig;
///
/// let pusher = Pusher::builder("1234", "key", "secret")
///     .queue(QueueConfig::default().capacity(50_000).lanes(8).drain_timeout(Duration::from_secs(10)))
///     .build()?;
/// assert_eq!(pusher.queue_config().lanes, 8);
/// # Ok::<(), rocket_pusher::error::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct QueueConfig {
    /// The most events waiting or in flight, over all lanes (a trigger naming several
    /// channels counts one per channel); `queue()` refuses more with
    /// [`QueueError::Full`](crate::error::QueueError::Full). At least 1.
    /// _Default:_ `10000`.
    pub capacity: usize,
    /// Lanes, each with at most one request in flight; a channel always takes the same
    /// lane, so its events arrive in order. 1 to 256. _Default:_ `4`.
    pub lanes: usize,
    /// How long shutdown waits, in seconds, for queued events to go out; those still
    /// waiting or in flight then are dropped, logged and counted. 0 to 3600.
    /// _Default:_ `5`.
    pub drain_timeout: f64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            lanes: 4,
            drain_timeout: 5.0,
        }
    }
}

/// The most lanes a queue may have.
const MAX_LANES: usize = 256;

impl QueueConfig {
    /// The most events waiting or in flight.
    #[must_use]
    pub fn capacity(mut self, events: usize) -> Self {
        self.capacity = events;
        self
    }

    /// How many lanes (requests in flight at once).
    #[must_use]
    pub fn lanes(mut self, lanes: usize) -> Self {
        self.lanes = lanes;
        self
    }

    /// How long shutdown waits for queued events to go out.
    #[must_use]
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout.as_secs_f64();
        self
    }

    /// `drain_timeout` as a `Duration` (a checked value always converts).
    pub(crate) fn drain_deadline(&self) -> Duration {
        Duration::try_from_secs_f64(self.drain_timeout).unwrap_or(Duration::ZERO)
    }

    /// Check the values; the error names the key under `queue`.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.capacity == 0 {
            return Err(invalid("queue.capacity", "must be at least 1 event"));
        }
        if !(1..=MAX_LANES).contains(&self.lanes) {
            return Err(invalid("queue.lanes", "must be between 1 and 256"));
        }
        if !(self.drain_timeout.is_finite() && (0.0..=3600.0).contains(&self.drain_timeout)) {
            return Err(invalid(
                "queue.drain_timeout",
                "must be a number of seconds from 0 to 3600",
            ));
        }
        Ok(())
    }
}

fn invalid(key: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.to_owned(),
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
    fn queue_values_are_checked_naming_the_key() {
        let ok = QueueConfig::default();
        assert!(ok.check().is_ok());
        assert_eq!(ok.drain_deadline(), Duration::from_secs(5));
        let zero = QueueConfig::default().drain_timeout(Duration::ZERO);
        assert!(zero.check().is_ok());
        for (bad, key) in [
            (QueueConfig::default().capacity(0), "queue.capacity"),
            (QueueConfig::default().lanes(0), "queue.lanes"),
            (QueueConfig::default().lanes(257), "queue.lanes"),
            (
                QueueConfig {
                    drain_timeout: -0.5,
                    ..QueueConfig::default()
                },
                "queue.drain_timeout",
            ),
            (
                QueueConfig {
                    drain_timeout: f64::NAN,
                    ..QueueConfig::default()
                },
                "queue.drain_timeout",
            ),
            (
                QueueConfig {
                    drain_timeout: 3601.0,
                    ..QueueConfig::default()
                },
                "queue.drain_timeout",
            ),
        ] {
            let e = bad.check().unwrap_err();
            assert!(
                matches!(e, ConfigError::Invalid { key: k, .. } if k == key),
                "{bad:?}: {e}"
            );
            // The client refuses it too.
            let config = PusherConfig {
                queue: bad,
                ..PusherConfig::new("1", "k", "s")
            };
            assert!(config.resolve().is_err());
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
