//! [`PusherBuilder`]: a client's settings in code.

use std::time::Duration;

use super::queue::FailureCallback;
use super::{Pusher, QueueFailure, RetryPolicy};
use crate::config::{PusherConfig, QueueConfig, TransportKind};
use crate::error::ConfigError;
use crate::protocol::{Secret, Token};

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
    /// timeout applies; the configured one is still reported by [`Error::Timeout`](crate::Error::Timeout).
    /// Build it from [`http_client_builder`](crate::client::http_client_builder) to keep the
    /// TLS stack the crate's features chose (with the default `rustls-ring`, a bare
    /// `reqwest::Client::builder()` has no crypto provider unless the app installed one).
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

    /// Call `f` when queued events could not be delivered: a 4xx answer (for the events
    /// the server itself refuses: a refused batch is split to find them), or a transient
    /// failure that outlasted the retry policy. It receives the events whole, the error,
    /// and whether they may have been delivered all the same (the failure is also logged
    /// and counted in [`QueueStats::failed`](crate::client::QueueStats::failed)). It runs
    /// on the dispatcher's lane, which waits for it: keep it short, spawn slow work, or
    /// read failures from async code with
    /// [`Pusher::queue_failures`](crate::Pusher::queue_failures) instead.
    ///
    /// ```
    /// use rocket_pusher::Pusher;
    ///
    /// let pusher = Pusher::builder("1234", "key", "secret")
    ///     .on_queue_failure(|failure| {
    ///         for event in failure.events() {
    ///             eprintln!("lost {} on {}: {}", event.name(), event.channel(), failure.error());
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
