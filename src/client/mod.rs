//! [`Pusher`]: an async client of the Pusher Channels HTTP API.
//!
//! ## Queued delivery
//!
//! Awaiting a trigger waits for Pusher's answer, a round trip of tens of milliseconds.
//! [`Trigger::queue`] hands the event to a background dispatcher instead and returns at
//! once, after the same checks as an awaited trigger (names, sizes, encryption); it fails
//! only for bad input or when the queue cannot take the event
//! ([`QueueError`](crate::error::QueueError): full, closed, or no tokio runtime to start
//! the dispatcher in). [`Trigger::queue_wait`] waits for room instead of refusing a full
//! queue. What happens to a queued event:
//!
//! | when | what happens to the event | knobs |
//! |---|---|---|
//! | Pusher accepts it (2xx) | delivered **at least once**: a try whose answer was lost (timeout, reset) is retried, so it may arrive twice | [`RetryPolicy`] |
//! | order | **per channel**, first in first out: a channel always takes the same lane, a lane has one request in flight; different channels go out concurrently, in no set order | [`lanes`](crate::config::QueueConfig::lanes) (4) |
//! | batching | an idle lane sends it at once; events that waited meanwhile go together through the batch endpoint | `max_batch_events` (10) |
//! | the server refuses it (400, 413, 422) | a refused batch is split, halves down to single events, so **only the events the server refuses fail**; the others go once, in order. A channel refused alone is then sent alone until one of its events passes. Another 4xx (401, 403, 404: the app's credentials, quota or id) fails the whole request | |
//! | transient failure (timeout, connection, 429, 5xx) | retried with the client's [`RetryPolicy`] (honouring `Retry-After`), whatever its `retry_writes`; once it gives up, the event **fails** | [`RetryPolicy`] |
//! | it fails | logged with channel and name (never data), counted in [`QueueStats::failed`], given **whole** in a [`QueueFailure`] (with [`maybe_delivered`](QueueFailure::maybe_delivered)) to [`on_queue_failure`](PusherBuilder::on_queue_failure) and [`Pusher::queue_failures`] | |
//! | the queue is full | [`Trigger::queue`] refuses it with [`QueueError::Full`](crate::error::QueueError::Full) before anything is built; [`Trigger::queue_wait`] waits for room | [`capacity`](crate::config::QueueConfig::capacity) (10 000) |
//! | known to be refused | refused at the trigger with a [`ValidationError`]: bad names, data over `max_payload_bytes`, a channel name over `max_channel_name_len`, or over the hosted service's [164](crate::protocol::HOSTED_MAX_CHANNEL_NAME_LEN) when the host is `*.pusher.com` | `max_payload_bytes`, `max_channel_name_len` |
//! | shutdown | [`Pusher::shutdown`] (the fairing's, on Rocket's shutdown) refuses new events ([`QueueError::Closed`](crate::error::QueueError::Closed)), lets queued ones go out until its deadline, then drops the rest: logged, counted in [`QueueStats::dropped`], given to [`Pusher::queue_failures`] | [`drain_timeout`](crate::config::QueueConfig::drain_timeout) (5 s) |
//!
//! [`Pusher::flush`] and [`Pusher::flush_within`] wait for the events queued before them
//! and say what finished and what is left; [`Pusher::queue_stats`] counts queued, in
//! flight, sent, retried, failed and dropped events; [`Pusher::shutdown_stats`] keeps the
//! last shutdown's counts.
//!
//! Under Rocket the fairing starts the dispatcher at liftoff; elsewhere the first
//! `queue()` starts it on the current tokio runtime. With the recording transport a
//! queued event is recorded at once, so an app's tests read it right after the request
//! that queued it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), rocket_pusher::Error> {
//! use std::time::Duration;
//! use rocket_pusher::Pusher;
//! use rocket_pusher::protocol::Credentials;
//!
//! let pusher = Pusher::recording(Credentials::new("1", "key", "secret"));
//! for id in 0..3 {
//!     // Returns at once: the dispatcher sends it.
//!     pusher.trigger("orders", "created", &serde_json::json!({ "id": id })).queue()?;
//! }
//! pusher.flush().await;
//! assert_eq!(pusher.recorder().unwrap().events().len(), 3);
//!
//! let stats = pusher.shutdown(Duration::from_secs(5)).await;
//! assert_eq!((stats.queued, stats.sent, stats.dropped), (3, 3, 0));
//! // Closed now: nothing is accepted, and nothing is lost silently.
//! assert!(pusher.trigger("orders", "created", "late").queue().is_err());
//! # Ok(()) }
//! ```

mod broadcast;
mod builder;
mod queries;
pub(crate) mod queue;
mod retry;
mod send;
mod tls;
mod transport;
mod trigger;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use broadcast::Broadcast;
pub use builder::PusherBuilder;
pub use queries::{
    CachedEvent, ChannelInfo, ChannelList, ChannelQuery, ChannelsQuery, PresenceUser,
};
pub use queue::{Flushed, QueueFailure, QueueStats, QueuedEvent};
pub use retry::RetryPolicy;
pub use tls::http_client_builder;
pub use transport::{RecordedEvent, RecordedRequest, Recorder};
pub use trigger::{
    BatchEvent, BatchResponse, ChannelAttributes, IntoChannels, MAX_TRIGGER_CHANNELS, Trigger,
    TriggerResponse,
};

use crate::config::{PusherConfig, TransportKind};
use crate::error::{ConfigError, Error, ValidationError};
use crate::protocol::{
    self, ChannelAuth, Credentials, MasterKey, PresenceMember, Secret, Token, UserAuth, UserData,
    UserId, Webhook, WebhookError,
};
use queue::{FailureCallback, Queue};
#[cfg(feature = "server")]
pub(crate) use transport::InProcess;
use transport::Transport;

/// The future the request builders turn into when awaited; the same type as Rocket's
/// `rocket::futures::future::BoxFuture`.
pub(crate) use futures_core::future::BoxFuture;

/// An async client of the Pusher Channels HTTP API, with the app's credentials.
///
/// Cheap to clone: clones share one connection pool. Under Rocket, attach
/// [`PusherFairing`](crate::PusherFairing) and take `&State<Pusher>`; elsewhere build one
/// with [`Pusher::builder`] or [`Pusher::from_config`].
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use rocket_pusher::Pusher;
///
/// let pusher = Pusher::builder("1234", "278d425bdf160c739803", "7ad3773142a6692b25b8")
///     .cluster("eu")
///     .build()?;
/// pusher.trigger("orders", "created", &serde_json::json!({"id": 7})).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Pusher {
    inner: Arc<Inner>,
    /// Apart from `inner`: the dispatcher's tasks hold `inner` and must not keep the
    /// queue's senders alive, or they would wait for events forever.
    queue: Arc<Queue>,
}

/// The credentials, settings and transport: everything a request needs.
pub(crate) struct Inner {
    app_id: String,
    /// `/apps/<app_id>/events`, the path of every trigger, written once.
    events_path: String,
    /// `/apps/<app_id>/batch_events`.
    batch_path: String,
    /// The signing token first, then extra tokens accepted on webhooks.
    tokens: Vec<Token>,
    endpoint: String,
    timeout: Duration,
    master_key: Option<MasterKey>,
    max_payload_bytes: usize,
    max_batch_events: usize,
    max_channel_name_len: usize,
    /// The longest channel name a trigger may name: `max_channel_name_len`, and no more
    /// than the hosted service accepts when the endpoint is the hosted service.
    max_trigger_channel_len: usize,
    retry: RetryPolicy,
    transport: Transport,
}

impl fmt::Debug for Pusher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.inner.tokens.iter().map(|t| t.key.as_str()).collect();
        f.debug_struct("Pusher")
            .field("app_id", &self.inner.app_id)
            .field("keys", &keys)
            .field("endpoint", &self.inner.endpoint)
            .field("timeout", &self.inner.timeout)
            .field("encryption", &self.inner.master_key.is_some())
            .field("retry", &self.inner.retry)
            .field("queue", self.queue.config())
            .field(
                "transport",
                &match self.inner.transport {
                    Transport::Http(_) => "http",
                    Transport::Recording(_) => "recording",
                    #[cfg(feature = "server")]
                    Transport::InProcess(_) => "in process",
                },
            )
            .finish()
    }
}

impl Pusher {
    /// A client from a configuration (the `pusher` table the fairing reads).
    pub fn from_config(config: &PusherConfig) -> Result<Self, ConfigError> {
        Self::with_http(config, None, None)
    }

    /// A client from a `https://KEY:SECRET@HOST/apps/APP_ID` URL (the `PUSHER_URL` form).
    pub fn from_url(url: &str) -> Result<Self, ConfigError> {
        Self::from_config(&PusherConfig {
            url: Some(Secret::new(url)),
            ..PusherConfig::default()
        })
    }

    /// A client that sends nothing and records every request, for tests; read them back
    /// with [`recorder`](Self::recorder).
    pub fn recording(credentials: Credentials) -> Self {
        // Nothing is sent, so the credentials need no further checks.
        let defaults = PusherConfig::default();
        let queue = Queue::new(defaults.queue.clone(), defaults.max_batch_events, None);
        Self {
            queue: Arc::new(queue),
            inner: Arc::new(Inner {
                events_path: events_path(&credentials.app_id),
                batch_path: batch_path(&credentials.app_id),
                app_id: credentials.app_id,
                tokens: vec![credentials.token],
                endpoint: "recording:".to_owned(),
                timeout: Duration::from_secs_f64(defaults.timeout),
                master_key: None,
                max_payload_bytes: defaults.max_payload_bytes,
                max_batch_events: defaults.max_batch_events,
                max_channel_name_len: defaults.max_channel_name_len,
                max_trigger_channel_len: defaults.max_channel_name_len,
                retry: defaults.retry,
                transport: Transport::Recording(Recorder::default()),
            }),
        }
    }

    pub(crate) fn with_http(
        config: &PusherConfig,
        http: Option<reqwest::Client>,
        on_queue_failure: Option<FailureCallback>,
    ) -> Result<Self, ConfigError> {
        Self::with_transport(
            config,
            http,
            #[cfg(feature = "server")]
            None,
            on_queue_failure,
        )
    }

    /// A client whose requests `target` answers in this process (`transport = "embedded"`).
    #[cfg(feature = "server")]
    pub(crate) fn in_process(
        config: &PusherConfig,
        target: Arc<dyn transport::InProcess>,
        on_queue_failure: Option<FailureCallback>,
    ) -> Result<Self, ConfigError> {
        Self::with_transport(config, None, Some(target), on_queue_failure)
    }

    fn with_transport(
        config: &PusherConfig,
        http: Option<reqwest::Client>,
        #[cfg(feature = "server")] in_process: Option<Arc<dyn transport::InProcess>>,
        on_queue_failure: Option<FailureCallback>,
    ) -> Result<Self, ConfigError> {
        let resolved = config.resolve()?;
        let transport = match config.transport {
            #[cfg(feature = "server")]
            TransportKind::Embedded => {
                Transport::InProcess(in_process.ok_or_else(|| ConfigError::Invalid {
                    key: "transport",
                    reason: "\"embedded\" runs under PusherFairing, which starts the server".into(),
                })?)
            }
            TransportKind::Recording => Transport::Recording(Recorder::default()),
            // A client of the app's own may bring TLS through its own reqwest features.
            TransportKind::Http
                if http.is_none()
                    && !tls::SPEAKS_TLS
                    && resolved.endpoint.starts_with("https:") =>
            {
                return Err(ConfigError::Invalid {
                    key: "use_tls",
                    reason: "this build of rocket_pusher has no TLS: enable one of its features \
                             `rustls-ring`, `rustls-aws-lc` or `native-tls`, or set `use_tls = false`"
                        .to_owned(),
                });
            }
            TransportKind::Http => Transport::Http(match http {
                Some(client) => client,
                None => http_client_builder()?
                    .timeout(resolved.timeout)
                    .connect_timeout(resolved.timeout)
                    .build()
                    .map_err(|e| ConfigError::Invalid {
                        key: "transport",
                        reason: format!("HTTP client could not be built: {e}"),
                    })?,
            }),
        };
        let max_trigger_channel_len =
            channel_name_limit(&resolved.endpoint, config.max_channel_name_len);
        let queue = Queue::new(
            config.queue.clone(),
            config.max_batch_events,
            on_queue_failure,
        );
        Ok(Self {
            queue: Arc::new(queue),
            inner: Arc::new(Inner {
                events_path: events_path(&resolved.app_id),
                batch_path: batch_path(&resolved.app_id),
                app_id: resolved.app_id,
                tokens: resolved.tokens,
                endpoint: resolved.endpoint,
                timeout: resolved.timeout,
                master_key: resolved.master_key,
                max_payload_bytes: config.max_payload_bytes,
                max_batch_events: config.max_batch_events,
                max_channel_name_len: config.max_channel_name_len,
                max_trigger_channel_len,
                retry: config.retry.clone(),
                transport,
            }),
        })
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.inner.app_id
    }

    pub(crate) fn events_path(&self) -> &str {
        &self.inner.events_path
    }

    /// The app key (public: pusher-js needs it).
    pub fn key(&self) -> &str {
        &self.token().key
    }

    /// The token that signs requests and authorizations.
    pub fn token(&self) -> &Token {
        self.inner.token()
    }

    /// Every token a webhook may be signed with: the app's own, then the extra ones.
    pub fn webhook_tokens(&self) -> &[Token] {
        &self.inner.tokens
    }

    /// The API endpoint, `scheme://host[:port]`.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The encryption master key, if configured.
    pub fn master_key(&self) -> Option<&MasterKey> {
        self.inner.master_key.as_ref()
    }

    /// The recorder, when this client uses the recording transport.
    pub fn recorder(&self) -> Option<&Recorder> {
        self.inner.recorder()
    }

    /// Authorize `socket_id` on `channel` (private, presence or encrypted).
    ///
    /// `member` is required for presence channels; encrypted channels need the master key.
    pub fn authorize_channel(
        &self,
        socket_id: &str,
        channel: &str,
        member: Option<&PresenceMember>,
    ) -> Result<ChannelAuth, ValidationError> {
        protocol::authorize_channel(self.token(), self.master_key(), socket_id, channel, member)
    }

    /// Sign in `socket_id` as `user` (pusher-js `signin()`).
    pub fn authenticate_user(
        &self,
        socket_id: &str,
        user: &UserData,
    ) -> Result<UserAuth, ValidationError> {
        protocol::authenticate_user(self.token(), socket_id, user)
    }

    /// Verify a webhook's key and signature over the raw `body`, then parse it.
    pub fn verify_webhook(
        &self,
        key: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Webhook, WebhookError> {
        protocol::verify_webhook(self.webhook_tokens(), key, signature, body)?;
        Webhook::parse(body)
    }

    /// Terminate every connection of a signed-in user
    /// (`POST /apps/{app_id}/users/{user_id}/terminate_connections`).
    pub async fn terminate_user_connections(&self, user_id: &str) -> Result<(), Error> {
        let user = UserId::new(user_id)?;
        let path = format!("/apps/{}/users/{user}/terminate_connections", self.app_id());
        self.post(&path, b"{}".to_vec(), None).await?;
        Ok(())
    }

    /// Send an event to one signed-in user, on their `#server-to-user-<id>` channel.
    pub fn send_to_user<D: serde::Serialize + ?Sized>(
        &self,
        user_id: &str,
        event: &str,
        data: &D,
    ) -> Trigger<'_> {
        Trigger::to_user(self, user_id, event, trigger::encode_data(data))
    }

    /// The retry policy for reads, and for writes when it says so.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }
}

/// The longest channel name to accept: the configured limit, and Pusher's hosted limit
/// when the endpoint is the hosted service (which refuses longer names with a 400).
fn channel_name_limit(endpoint: &str, configured: usize) -> usize {
    let host = endpoint.split("://").nth(1).unwrap_or(endpoint);
    let host = host.split(':').next().unwrap_or(host);
    if host.ends_with(".pusher.com") {
        configured.min(protocol::HOSTED_MAX_CHANNEL_NAME_LEN)
    } else {
        configured
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosted_service_gets_its_channel_name_limit_and_others_the_configured_one() {
        assert_eq!(channel_name_limit("https://api-eu.pusher.com", 200), 164);
        assert_eq!(
            channel_name_limit("https://api-eu.pusher.com:443", 100),
            100
        );
        assert_eq!(channel_name_limit("http://127.0.0.1:6001", 200), 200);
        assert_eq!(channel_name_limit("https://pusher.example.org", 200), 200);
    }
}

fn events_path(app_id: &str) -> String {
    format!("/apps/{app_id}/events")
}

fn batch_path(app_id: &str) -> String {
    format!("/apps/{app_id}/batch_events")
}

/// Entry points for the fuzz targets in `fuzz/`; not part of the API.
#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;
