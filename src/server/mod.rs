//! The embedded server (feature `server`): a Pusher-protocol 7 WebSocket server and the
//! Pusher HTTP API, run inside the Rocket app, for one machine.
//!
//! [`Server`] holds the app's state: connections, channels, presence members, signed-in
//! users and cached events, behind one lock that is never held across an await. Each
//! connection has a bounded outbox, so a slow reader never holds up delivery to others:
//! when its outbox is full it is closed with 4100 (pusher-js reconnects after a second).
//!
//! The Rocket integration mounts it (`transport = "embedded"`): `/app/<key>` runs
//! [`Server::serve`] per WebSocket, `/apps/<app_id>/…` calls [`Server::api`], and the
//! crate's [`Pusher`](crate::Pusher) client calls [`Server::api`] in process. Files by
//! concern: [`connection`](self) (the socket loop), `channels`, `presence`,
//! `client_events`, `users` (sign-in, server-to-user, terminate), `api`, `limits`
//! (caps, authorized connections), `counts` (opt-in subscription counts), `webhooks`.
//!
//! In `Rocket.toml`:
//!
//! ```toml
//! [default.pusher]
//! app_id = "1234"
//! key = "KEY"
//! secret = "SUPERSECRET"
//! transport = "embedded"   # instead of `cluster` or `host`
//!
//! [default.pusher.server]  # every key optional, see ServerConfig
//! client_events = true
//! ```
//!
//! pusher-js then connects to the app's own host and port (`wsHost`, `wsPort`: the
//! [`ClientConfig`](crate::ClientConfig) the fairing manages says so), and the official
//! server libraries can use the app as their Pusher host. The server answers the HTTP API
//! as the service does:
//!
//! ```
//! use rocket_pusher::protocol::{Token, sign_request};
//! use rocket_pusher::server::{Server, ServerConfig};
//!
//! let server = Server::new("1234", Token::new("KEY", "SUPERSECRET"), ServerConfig::default());
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
//! let signed = sign_request(&Token::new("KEY", "SUPERSECRET"), "GET", "/apps/1234/channels", &[], None, now);
//! let answer = server.api("GET", "/apps/1234/channels", &signed.query, b"");
//! assert_eq!((answer.status, answer.body.as_str()), (200, r#"{"channels":{}}"#));
//!
//! // A wrong signature is a 401 with a JSON reason.
//! let forged = signed.query.replace(&signed.signature, &"0".repeat(64));
//! assert_eq!(server.api("GET", "/apps/1234/channels", &forged, b"").status, 401);
//! ```
//!
//! ## Where servers differ
//!
//! It does what Pusher's service does, where that is known:
//!
//! * a refused subscription is a `pusher:error` (4009 for authorization, with the string
//!   that should have been signed; 4300 for a bad name or member; 4100 for a full presence
//!   channel or a connection at `max_channels_per_connection`), and the connection stays
//!   open; client events are refused on public and
//!   encrypted channels, rate-limited with 4301 and never closed for it;
//! * presence `user_id`s may be numbers (sent back as strings), a signed-in user may join
//!   presence with an authorization without `channel_data`, a user's second socket is
//!   admitted to a full channel;
//! * an unknown key, a refused origin or the connection cap are a `pusher:error` and a close
//!   with 4001 / 4004 (sockudo drops the socket and pusher-js retries forever);
//! * `channel_vacated` and `member_removed` wait `webhook_delay` (3 s) and are dropped with
//!   their counterpart when the channel or user is back (sockudo and soketi send both);
//!   webhooks are batched (what is waiting goes in one POST) and sent again, after
//!   doubling delays, while the receiver fails (`webhook_retry`); several subscribers
//!   finding a cache channel empty cause one `cache_miss` webhook (sockudo and soketi send
//!   one each);
//! * opt-in, as on the service: authorized connections (`authorized_connections_timeout`,
//!   4009) and subscription counts (`subscription_count`, throttled past 100 subscribers);
//! * channel names up to 164 characters and client events off unless `client_events` is
//!   set, as on a new app of the service (sockudo: 200, per-app flag).
//!
//! One machine only: beyond it, use Pusher or a sockudo cluster (`transport = "http"`,
//! the default, with `cluster` or `host`), with no change to the app's code.

mod api;
mod channels;
mod client_events;
mod config;
mod connection;
mod counts;
mod limits;
mod presence;
mod users;
mod webhooks;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tokio::sync::{Notify, mpsc};

use crate::protocol::Token;
use crate::protocol::frames::ServerFrame;

pub use api::ApiResponse;
pub use config::{ServerConfig, WebhookRetry, WebhookTarget};

/// Close codes the server sends (Pusher protocol §9).
pub mod close_code {
    /// The app key is unknown: clients stay disconnected.
    pub const UNKNOWN_APP: u16 = 4001;
    /// Over the app's connection quota, or an origin not allowed.
    pub const OVER_QUOTA: u16 = 4004;
    /// The `protocol` query parameter names a version the server does not speak.
    pub const UNSUPPORTED_PROTOCOL: u16 = 4007;
    /// Terminated by the app (`terminate_connections`), or not authorized in time
    /// (`authorized_connections_timeout`).
    pub const UNAUTHORIZED: u16 = 4009;
    /// Over capacity, or a send buffer full: reconnect after a second.
    pub const OVER_CAPACITY: u16 = 4100;
    /// Shutting down: reconnect at once.
    pub const RECONNECT: u16 = 4200;
    /// No answer to a ping: reconnect at once.
    pub const PONG_TIMEOUT: u16 = 4201;
}

/// The embedded Pusher-protocol server of one app. Cheap to clone.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("app_id", &self.shared.app_id)
            .field("key", &self.shared.token.key)
            .field("connections", &self.state().conns.len())
            .finish_non_exhaustive()
    }
}

struct Shared {
    app_id: String,
    token: Token,
    config: ServerConfig,
    state: Mutex<State>,
    next_conn: AtomicU64,
    closing: AtomicBool,
    webhooks: webhooks::Webhooks,
}

type ConnId = u64;

/// Everything behind the lock.
#[derive(Default)]
struct State {
    conns: HashMap<ConnId, Conn>,
    channels: HashMap<String, channels::Channel>,
    /// Signed-in users' connections.
    users: HashMap<String, HashSet<ConnId>>,
    /// Who watches a user: the signed-in connections with that id in their watchlist.
    watchers: HashMap<String, HashSet<ConnId>>,
    cache: HashMap<String, channels::Cached>,
}

/// One open connection.
struct Conn {
    socket_id: String,
    outbox: Outbox,
    /// The user it signed in as, with their info.
    user: Option<presence::Member>,
    channels: HashSet<String>,
    rate: limits::RateWindow,
    /// Signed in, or joined a private or presence channel, once (authorized connections).
    authorized: bool,
    /// The users whose online state it follows (sign-in's `watchlist`).
    watchlist: Vec<String>,
}

/// Where a connection's frames go: a bounded queue its task writes out, and a way to ask
/// the task to close.
#[derive(Clone)]
struct Outbox {
    tx: mpsc::Sender<Arc<str>>,
    closer: Arc<Closer>,
}

/// A close request for one connection's task: the first code asked for wins.
#[derive(Default)]
struct Closer {
    code: AtomicU16,
    notify: Notify,
}

impl Closer {
    fn close(&self, code: u16) {
        if self
            .code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.notify.notify_one();
        }
    }
}

impl Outbox {
    /// Queue a frame; a full queue closes the connection with 4100 rather than wait.
    fn send(&self, frame: Arc<str>) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(frame) {
            self.closer.close(close_code::OVER_CAPACITY);
        }
    }

    fn frame(&self, frame: &ServerFrame<'_>) {
        self.send(frame.to_json().into());
    }

    fn error(&self, code: Option<u16>, message: &str) {
        self.frame(&ServerFrame::error(code, message));
    }
}

impl Server {
    /// A server for the app with these credentials. Webhooks, if configured, are sent by
    /// a task started on the current Tokio runtime at the first one.
    pub fn new(app_id: impl Into<String>, token: Token, config: ServerConfig) -> Self {
        let webhooks = webhooks::Webhooks::new(&token, &config);
        Self {
            shared: Arc::new(Shared {
                app_id: app_id.into(),
                token,
                config,
                state: Mutex::new(State::default()),
                next_conn: AtomicU64::new(1),
                closing: AtomicBool::new(false),
                webhooks,
            }),
        }
    }

    /// The app key clients connect with.
    pub fn key(&self) -> &str {
        &self.shared.token.key
    }

    /// The app id of the HTTP API's paths.
    pub fn app_id(&self) -> &str {
        &self.shared.app_id
    }

    /// The options it runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }

    /// How many connections are open.
    pub fn connections(&self) -> usize {
        self.state().conns.len()
    }

    /// Close every connection with 4200 (clients reconnect at once) and refuse new ones
    /// with the same code; the integration calls it on Rocket's shutdown, after the
    /// client's queue drained into the server.
    pub fn shutdown(&self) {
        self.shared.closing.store(true, Ordering::Release);
        for conn in self.state().conns.values() {
            conn.outbox
                .error(Some(close_code::RECONNECT), "Server is shutting down");
            conn.outbox.closer.close(close_code::RECONNECT);
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way
        // that matters more than refusing every connection forever.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A frame for many recipients, serialized once.
fn shared_frame(frame: &ServerFrame<'_>) -> Arc<str> {
    frame.to_json().into()
}

/// The JSON size of a `user_info`, for the limit.
fn json_len(value: Option<&Value>) -> usize {
    value.map_or(0, |v| v.to_string().len())
}
