//! Configuration: the `pusher` table of Rocket's configuration. [`PusherConfig`] holds
//! the client's keys and builds a [`Pusher`](crate::Pusher) on its own; [`FairingConfig`]
//! adds the keys of the routes the fairing mounts.

mod queue;
mod resolve;
mod values;

use serde::Deserialize;

use crate::client::RetryPolicy;
use crate::error::ConfigError;
use crate::protocol::{MAX_CHANNEL_NAME_LEN, Secret, Token};

pub use crate::integration::{FairingConfig, ROUTE_RANK};
pub use queue::QueueConfig;

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
    /// The app id, a string or the whole number the dashboard shows (`app_id = 4242`).
    /// Required unless `url` is set.
    #[serde(deserialize_with = "values::app_id")]
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
    #[serde(deserialize_with = "values::seconds")]
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
}

fn invalid(key: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.to_owned(),
    }
}
