//! [`Pusher`]: an async client of the Pusher Channels HTTP API.
//!
//! ## Queued delivery
//!
//! Awaiting a trigger waits for Pusher's answer, a round trip of tens of milliseconds.
//! [`Trigger::queue`] hands the event to a background dispatcher instead and returns at
//! once, after the same checks as an awaited trigger (names, sizes, encryption); it fails
//! only for bad input or when the queue cannot take the event ([`QueueError`](crate::error::QueueError): full,
//! closed, or no tokio runtime to start the dispatcher in). The dispatcher delivers:
//!
//! * **in order per channel**: a channel always takes the same of
//!   [`lanes`](crate::config::QueueConfig::lanes) lanes (4 by default), and a lane has at most
//!   one request in flight, first in first out. Different channels go out concurrently.
//!   A trigger naming several channels becomes one event per channel;
//! * **batched**: a lane sends everything that waited while its request was in flight,
//!   up to `max_batch_events` (10) per request, through the batch endpoint; an idle lane
//!   sends an event at once, so batching adds no latency under low load;
//! * **bounded**: at most [`capacity`](crate::config::QueueConfig::capacity) events (10 000)
//!   wait or fly; one more is refused with
//!   [`QueueError::Full`](crate::error::QueueError::Full), never dropped silently;
//! * **retried**: timeouts, connection failures, 429 (honouring `Retry-After`) and 5xx
//!   are retried with the client's [`RetryPolicy`], whatever its `retry_writes`, before the
//!   lane moves on. Delivery is therefore **at least once**: a request whose reply was
//!   lost may have reached Pusher, and its events arrive twice. A permanent failure (4xx,
//!   or retries exhausted) is logged with the events' channels and names (never their
//!   data), counted, and passed to the
//!   [`on_queue_failure`](PusherBuilder::on_queue_failure) callback;
//! * **drained on shutdown**: [`Pusher::flush`] waits until every event queued before it
//!   has been sent or has failed; [`Pusher::shutdown`] closes the queue, drains it within a
//!   deadline, then drops what is left, logging and counting it (under Rocket the fairing
//!   does this on shutdown, within [`drain_timeout`](crate::config::QueueConfig::drain_timeout));
//! * **observable**: [`Pusher::queue_stats`] counts queued, in flight, sent, retried,
//!   failed and dropped events.
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
mod queries;
pub(crate) mod queue;
mod retry;
mod tls;
mod transport;
mod trigger;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use broadcast::Broadcast;
pub use queries::{
    CachedEvent, ChannelInfo, ChannelList, ChannelQuery, ChannelsQuery, PresenceUser,
};
pub use queue::{QueueFailure, QueueStats};
pub use retry::RetryPolicy;
pub use tls::http_client_builder;
pub use transport::{RecordedEvent, RecordedRequest, Recorder};
pub use trigger::{
    BatchEvent, BatchResponse, ChannelAttributes, IntoChannels, MAX_TRIGGER_CHANNELS, Trigger,
    TriggerResponse,
};

use crate::config::{PusherConfig, QueueConfig, TransportKind};
use crate::error::{ConfigError, Error, ValidationError};
use crate::protocol::{
    self, ChannelAuth, Credentials, MasterKey, PresenceMember, Secret, Token, UserAuth, UserData,
    UserId, Webhook, WebhookError,
};
use queue::{FailureCallback, Queue};
#[cfg(feature = "server")]
pub(crate) use transport::InProcess;
use transport::{Outgoing, Transport, decode};

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
    /// Start building a client for the app with these credentials.
    pub fn builder(
        app_id: impl Into<String>,
        key: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> PusherBuilder {
        PusherBuilder {
            config: PusherConfig::new(app_id, key, secret),
            http: None,
            on_queue_failure: None,
        }
    }

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

    /// A signed GET, retried by the client's policy.
    pub(crate) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<T, Error> {
        let body = self
            .inner
            .send("GET", path, params, None, &self.inner.retry, || {})
            .await?;
        decode(&body)
    }

    /// A signed POST, retried only by `retry` (a per-call policy) or by the client's policy
    /// when that allows writes.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: Vec<u8>,
        retry: Option<&RetryPolicy>,
    ) -> Result<Vec<u8>, Error> {
        let never = RetryPolicy::never();
        let policy = match retry {
            Some(p) => p,
            None if self.inner.retry.retry_writes => &self.inner.retry,
            None => &never,
        };
        // Shared, not copied, by every try; the last try takes it.
        let body = bytes::Bytes::from(body);
        self.inner
            .send("POST", path, &[], Some(body), policy, || {})
            .await
    }
}

impl Inner {
    fn token(&self) -> &Token {
        &self.tokens[0]
    }

    /// Sign and send, trying again while `policy` says so (calling `on_retry` before each
    /// new try); each try is signed anew.
    pub(crate) async fn send(
        &self,
        method: &'static str,
        path: &str,
        params: &[(&str, &str)],
        mut body: Option<bytes::Bytes>,
        policy: &RetryPolicy,
        mut on_retry: impl FnMut() + Send,
    ) -> Result<Vec<u8>, Error> {
        let mut attempt = 1;
        let started = std::time::Instant::now();
        loop {
            let signed = self.sign(method, path, params, body.as_deref());
            let url = [self.endpoint.as_str(), path, "?", &signed.query].concat();
            // No try follows the last one, so it sends the body itself, not a clone.
            let this_body = if attempt >= policy.attempts {
                body.take()
            } else {
                body.clone()
            };
            let result = self
                .transport
                .send(
                    self.timeout,
                    Outgoing {
                        method,
                        url: &url,
                        path,
                        query: &signed.query,
                        body: this_body,
                    },
                )
                .await;
            let error = match result {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            let Some(delay) = policy.delay_after(attempt, &error) else {
                return Err(error.after_tries(attempt, started.elapsed()));
            };
            log::debug!(
                "pusher: {method} {path} failed ({error}); try {} of {} in {delay:?}",
                attempt + 1,
                policy.attempts
            );
            on_retry();
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn sign(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> protocol::SignedRequest {
        protocol::sign_request(self.token(), method, path, params, body, now_secs())
    }

    /// The recorder, when this client uses the recording transport.
    pub(crate) fn recorder(&self) -> Option<&Recorder> {
        match &self.transport {
            Transport::Recording(r) => Some(r),
            Transport::Http(_) => None,
            #[cfg(feature = "server")]
            Transport::InProcess(_) => None,
        }
    }

    /// Record a POST at once, signed as it would have been sent.
    pub(crate) fn record_post(&self, recorder: &Recorder, path: &str, body: Vec<u8>) {
        let signed = self.sign("POST", path, &[], Some(&body));
        let url = [self.endpoint.as_str(), path, "?", &signed.query].concat();
        recorder.record(Outgoing {
            method: "POST",
            url: &url,
            path,
            query: &signed.query,
            body: Some(body.into()),
        });
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
pub mod __fuzz {
    use std::time::{Duration, SystemTime};

    use super::{
        BatchResponse, ChannelInfo, ChannelList, PresenceUser, RetryPolicy, TriggerResponse,
        transport,
    };
    use crate::error::Error;

    /// Handle a server reply as the client does: the `Retry-After` header, the status and
    /// the (possibly `truncated`) body, then decode a success body as each endpoint's
    /// reply. Returns the error for a failure status, and asks the default policy for a
    /// delay, which must never panic either.
    pub fn handle_response(
        status: u16,
        retry_after: Option<&str>,
        body: Vec<u8>,
        truncated: bool,
    ) -> Result<(), Error> {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let retry_after = retry_after.and_then(|v| transport::parse_retry_after(v, now));
        match transport::finish_response(status, retry_after, body, truncated) {
            Ok(body) => {
                #[derive(serde::Deserialize)]
                struct Users {
                    #[allow(dead_code)]
                    users: Vec<PresenceUser>,
                }
                let _ = transport::decode::<TriggerResponse>(&body);
                let _ = transport::decode::<BatchResponse>(&body);
                let _ = transport::decode::<ChannelList>(&body);
                let _ = transport::decode::<ChannelInfo>(&body);
                let _ = transport::decode::<Users>(&body);
                Ok(())
            }
            Err(e) => {
                let _ = RetryPolicy::default().delay_after(1, &e);
                Err(e)
            }
        }
    }

    /// The largest error message kept from a reply body, in characters (plus ` …`).
    pub const MAX_ERROR_MESSAGE_CHARS: usize = super::transport::MAX_ERROR_BODY_CHARS;
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Builds a [`Pusher`]; every setting has the default of [`PusherConfig`].
#[derive(Debug)]
#[must_use]
pub struct PusherBuilder {
    config: PusherConfig,
    http: Option<reqwest::Client>,
    on_queue_failure: Option<FailureCallback>,
}

impl PusherBuilder {
    /// Use the cluster's host, `api-<cluster>.pusher.com`.
    pub fn cluster(mut self, cluster: impl Into<String>) -> Self {
        self.config.cluster = Some(cluster.into());
        self
    }

    /// Use this host (a self-hosted server); it may carry `:port`.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.config.host = Some(host.into());
        self
    }

    /// Use this port.
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = Some(port);
        self
    }

    /// Use HTTPS (the default) or plain HTTP.
    pub fn use_tls(mut self, tls: bool) -> Self {
        self.config.use_tls = tls;
        self
    }

    /// The total time a request may take. Default: 5 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout.as_secs_f64();
        self
    }

    /// The base64 master key for encrypted channels.
    pub fn encryption_master_key_base64(mut self, key: impl Into<Secret>) -> Self {
        self.config.encryption_master_key_base64 = Some(key.into());
        self
    }

    /// Accept webhooks signed with this token too (key rotation).
    pub fn webhook_token(mut self, token: Token) -> Self {
        self.config.webhook_tokens.push(token);
        self
    }

    /// The largest event `data` in bytes. Default: 10 240.
    pub fn max_payload_bytes(mut self, bytes: usize) -> Self {
        self.config.max_payload_bytes = bytes;
        self
    }

    /// The most events in one batch. Default: 10.
    pub fn max_batch_events(mut self, events: usize) -> Self {
        self.config.max_batch_events = events;
        self
    }

    /// Retry transient failures with this policy: reads always, writes only if the policy
    /// says [`retry_writes`](RetryPolicy::retry_writes). Default: 3 attempts for reads,
    /// none for writes; [`RetryPolicy::never`] turns retries off.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Send with this `reqwest::Client` (proxies, TLS roots, pool settings). Its own
    /// timeout applies; the configured one is still reported by [`Error::Timeout`].
    /// Build it from [`http_client_builder`] to keep the TLS stack the crate's features
    /// chose (with the default `rustls-ring`, a bare `reqwest::Client::builder()` has no
    /// crypto provider unless the app installed one).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Record requests instead of sending them.
    pub fn recording(mut self) -> Self {
        self.config.transport = TransportKind::Recording;
        self
    }

    /// How queued events are delivered: capacity, lanes, shutdown's deadline. Default:
    /// 10 000 events, 4 lanes, 5 s.
    pub fn queue(mut self, config: QueueConfig) -> Self {
        self.config.queue = config;
        self
    }

    /// Call `f` when queued events could not be delivered: a 4xx answer, or a transient
    /// failure that outlasted the retry policy. It receives the error and the channel and
    /// name of each event lost (the failure is also logged and counted in
    /// [`QueueStats::failed`]). It runs on the dispatcher's lane, which waits for it: keep
    /// it short, spawn slow work.
    ///
    /// ```
    /// use rocket_pusher::Pusher;
    ///
    /// let pusher = Pusher::builder("1234", "key", "secret")
    ///     .on_queue_failure(|failure| {
    ///         for (channel, event) in failure.events() {
    ///             eprintln!("lost {event} on {channel}: {}", failure.error());
    ///         }
    ///     })
    ///     .build()?;
    /// # let _ = pusher;
    /// # Ok::<(), rocket_pusher::error::ConfigError>(())
    /// ```
    pub fn on_queue_failure<F>(mut self, f: F) -> Self
    where
        F: Fn(&QueueFailure) + Send + Sync + 'static,
    {
        self.on_queue_failure = Some(FailureCallback::new(f));
        self
    }

    /// Check the settings and build the client.
    pub fn build(self) -> Result<Pusher, ConfigError> {
        Pusher::with_http(&self.config, self.http, self.on_queue_failure)
    }
}
