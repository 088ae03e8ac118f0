//! [`ServerConfig`]: the embedded server's keys, the `server` table inside `pusher`.

use serde::Deserialize;

/// The embedded server's options: the `server` table of the `pusher` table, read when
/// `transport = "embedded"` (feature `server`).
///
/// ```toml
/// [default.pusher]
/// app_id = "1234"
/// key = "KEY"
/// secret = "SUPERSECRET"
/// transport = "embedded"
///
/// [default.pusher.server]
/// activity_timeout = 60
/// client_events = true
/// allowed_origins = ["https://chat.example.com"]
/// ```
///
/// Every key is optional; the defaults are the hosted service's limits. Unknown keys fail
/// ignite.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The `activity_timeout` sent to clients, in whole seconds: a client that hears nothing
    /// for this long pings, and the server pings a client silent for this long.
    /// _Default:_ `120`, the service's value (30 to 60 behind proxies that cut idle
    /// connections after 60 s).
    pub activity_timeout: u64,
    /// How long a pinged client has to answer before it is closed with 4201, in seconds.
    /// _Default:_ `30`.
    pub pong_timeout: f64,
    /// Whether clients may send `client-` events on private and presence channels.
    /// _Default:_ `false`, as on a new app of the service.
    pub client_events: bool,
    /// The most client events a connection may send per second; more get `pusher:error`
    /// 4301. _Default:_ `10`.
    pub client_event_rate: u32,
    /// Origins (`scheme://host[:port]`) allowed to connect; empty allows any (and clients
    /// that send no `Origin`, like pusher-js in Node). _Default:_ empty.
    pub allowed_origins: Vec<String>,
    /// The most open connections; more are refused with 4004. _Default:_ none.
    pub max_connections: Option<usize>,
    /// The most channels one connection may be subscribed to at once. A subscription
    /// beyond it is refused with `pusher:error` 4100 (as for a full presence channel), the
    /// connection stays open, and an unsubscription frees a place. A re-subscription to
    /// a channel it is already in, and a signed-in user's `#server-to-user-` channel, do
    /// not count. _Default:_ none, as on the service, sockudo and soketi.
    pub max_channels_per_connection: Option<usize>,
    /// Authorized connections, in seconds: a connection that neither signs in
    /// (`pusher:signin`) nor subscribes to a `private-` or `presence-` channel within this
    /// time of connecting gets `pusher:error` 4009 and is closed with 4009 (pusher-js then
    /// stays disconnected). _Default:_ none (every connection may stay anonymous), as a
    /// new app of the service.
    pub authorized_connections_timeout: Option<f64>,
    /// Whether subscribers of a public, private, encrypted or cache channel are told how
    /// many connections are subscribed to it (`pusher_internal:subscription_count`, which
    /// pusher-js emits as `pusher:subscription_count` on the channel) after each
    /// subscription or unsubscription, and the `subscription_count` webhook is sent.
    /// Presence channels have members instead. Past 100 subscribers a channel's count goes
    /// out at most once per `subscription_count_interval`, with the latest value. _Default:_
    /// `false`, as on the service.
    pub subscription_count: bool,
    /// The least time between two `subscription_count`s of a channel with more than 100
    /// subscribers, in seconds. _Default:_ `5`, the service's.
    pub subscription_count_interval: f64,
    /// The most distinct users in one presence channel (a known user's further sockets are
    /// still admitted). _Default:_ `100`.
    pub max_presence_members: usize,
    /// The largest presence `user_info`, in bytes of JSON. _Default:_ `1024`.
    pub max_user_info_bytes: usize,
    /// The longest channel name. _Default:_ `164`, the service's limit.
    pub max_channel_name_len: usize,
    /// The largest event `data`, from the HTTP API (413) or a client event. _Default:_
    /// `10240`.
    pub max_payload_bytes: usize,
    /// The largest WebSocket message a client may send, in bytes. _Default:_ `65536`.
    pub max_message_bytes: usize,
    /// The most frames waiting for one slow client; when full, the client is closed with
    /// 4100 (reconnect after a second) so it never holds up the others. _Default:_ `1000`.
    pub send_buffer: usize,
    /// How long a cache channel keeps its last event, in seconds. _Default:_ `1800`.
    pub cache_ttl: u64,
    /// Where webhooks go (see [`WebhookTarget`]). _Default:_ none.
    pub webhooks: Vec<WebhookTarget>,
    /// How long `channel_vacated` and `member_removed` wait, in seconds, and are dropped
    /// if the channel or member is back by then. _Default:_ `3`, as the service.
    pub webhook_delay: f64,
    /// How a webhook the receiver could not take (see [`WebhookRetry`]) is sent again.
    pub webhook_retry: WebhookRetry,
}

/// Retrying a webhook: `{ first_delay = 1.0, give_up_after = 300.0 }`, in seconds.
///
/// A POST that fails to connect or times out, or is answered 5xx, 408 or 429, is sent again
/// (the same body and signature) after `first_delay`, then after twice as long each time
/// (at most a minute), until `give_up_after` seconds of waiting have passed; then it is
/// dropped and logged. Another 4xx is the receiver's refusal: dropped at once, logged.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookRetry {
    /// The wait before the first retry, in seconds. _Default:_ `1`.
    pub first_delay: f64,
    /// The total wait after which a failing webhook is dropped, in seconds. _Default:_
    /// `300`, the service's five minutes.
    pub give_up_after: f64,
}

impl Default for WebhookRetry {
    fn default() -> Self {
        Self {
            first_delay: 1.0,
            give_up_after: 300.0,
        }
    }
}

/// One webhook receiver: `{ url = "http://…", events = ["channel_occupied", …] }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookTarget {
    /// The URL POSTed to.
    pub url: String,
    /// The event names it receives (`channel_occupied`, `channel_vacated`, `member_added`,
    /// `member_removed`, `client_event`, `cache_miss`, and `subscription_count` when the
    /// server's `subscription_count` is on). _Default:_ all.
    ///
    /// `cache_miss` is sent once per channel while its cache stays empty: the first
    /// subscriber to find it empty causes it, the next one only after an event was cached
    /// in between (and has expired since) or the channel was vacated. Every subscriber still
    /// gets its own `pusher:cache_miss`.
    #[serde(default)]
    pub events: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            activity_timeout: 120,
            pong_timeout: 30.0,
            client_events: false,
            client_event_rate: 10,
            allowed_origins: Vec::new(),
            max_connections: None,
            max_channels_per_connection: None,
            authorized_connections_timeout: None,
            subscription_count: false,
            subscription_count_interval: 5.0,
            max_presence_members: 100,
            max_user_info_bytes: 1024,
            max_channel_name_len: 164,
            max_payload_bytes: 10 * 1024,
            max_message_bytes: 64 * 1024,
            send_buffer: 1000,
            cache_ttl: 1800,
            webhooks: Vec::new(),
            webhook_delay: 3.0,
            webhook_retry: WebhookRetry::default(),
        }
    }
}

/// The webhook event names a target may ask for.
pub(crate) const WEBHOOK_EVENTS: [&str; 7] = [
    "channel_occupied",
    "channel_vacated",
    "member_added",
    "member_removed",
    "client_event",
    "cache_miss",
    "subscription_count",
];

impl ServerConfig {
    /// Check the values; the error names the key (under `pusher.server`).
    pub fn check(&self) -> Result<(), String> {
        let bad = |key: &str, why: &str| Err(format!("invalid `pusher.server.{key}`: {why}"));
        if self.activity_timeout == 0 {
            return bad("activity_timeout", "must be at least 1 second");
        }
        if !(self.pong_timeout.is_finite() && self.pong_timeout > 0.0) {
            return bad("pong_timeout", "must be a number of seconds above 0");
        }
        if !(1..=200).contains(&self.max_channel_name_len) {
            return bad("max_channel_name_len", "must be 1 to 200");
        }
        if !(self.webhook_delay.is_finite() && self.webhook_delay >= 0.0) {
            return bad("webhook_delay", "must be a number of seconds, 0 or more");
        }
        let retry = self.webhook_retry;
        if !(retry.first_delay.is_finite() && retry.first_delay > 0.0) {
            return bad(
                "webhook_retry.first_delay",
                "must be a number of seconds above 0",
            );
        }
        if !(retry.give_up_after.is_finite() && (0.0..=86_400.0).contains(&retry.give_up_after)) {
            return bad("webhook_retry.give_up_after", "must be 0 to 86400 seconds");
        }
        if self
            .authorized_connections_timeout
            .is_some_and(|t| !(t.is_finite() && t > 0.0))
        {
            return bad(
                "authorized_connections_timeout",
                "must be a number of seconds above 0",
            );
        }
        if !(self.subscription_count_interval.is_finite()
            && self.subscription_count_interval >= 0.0)
        {
            return bad(
                "subscription_count_interval",
                "must be a number of seconds, 0 or more",
            );
        }
        if self.max_channels_per_connection == Some(0) {
            return bad("max_channels_per_connection", "must be above 0");
        }
        if self.send_buffer == 0 {
            return bad("send_buffer", "must be above 0");
        }
        if self.max_message_bytes < 1024 {
            return bad("max_message_bytes", "must be at least 1024");
        }
        for target in &self.webhooks {
            if !(target.url.starts_with("http://") || target.url.starts_with("https://")) {
                return bad("webhooks", "each `url` must start with http:// or https://");
            }
            if let Some(e) = target
                .events
                .iter()
                .find(|e| !WEBHOOK_EVENTS.contains(&e.as_str()))
            {
                return Err(format!(
                    "invalid `pusher.server.webhooks`: unknown event {e:?} (expected one of {WEBHOOK_EVENTS:?})"
                ));
            }
        }
        Ok(())
    }
}
