//! [`PusherFairing`]: reads the `pusher` config on ignite, manages [`Pusher`], mounts the
//! auth, sign-in and webhook routes.

use std::sync::{Arc, Mutex, PoisonError};

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::figment::Figment;
use rocket::figment::providers::Serialized;
use rocket::figment::value::{Dict, Value};
use rocket::futures::future::BoxFuture;
use rocket::{Build, Orbit, Request, Rocket};

use crate::Pusher;
use crate::client::QueueFailure;
use crate::client::queue::FailureCallback;
use crate::integration::channel_routes::ChannelRoute;
use crate::integration::config::FairingConfig;
use crate::integration::handlers::{ChannelRequest, Handlers};
use crate::protocol::{
    ChannelExistenceEvent, ClientEvent, PresenceEvent, PresenceMember, SocketId, UserData, Webhook,
};

mod messages;
mod prepare;

use messages::{kind_of, source_of, where_to_set_credentials};

/// The rank of the mounted routes: above Rocket's defaults, so an app's own route at the
/// same path wins without a collision (what `FileServer` does).
pub const ROUTE_RANK: isize = 10;

/// The Rocket fairing: attach it, and routes can take `&State<Pusher>`.
///
/// On ignite it reads the `pusher` table of Rocket's configuration (see
/// [`FairingConfig`](crate::config::FairingConfig) for every key), builds and manages a
/// [`Pusher`] and a [`ClientConfig`](crate::ClientConfig), and mounts, under `mount` (default `/pusher`):
///
/// | route | answers |
/// | --- | --- |
/// | `POST /pusher/auth` | channel authorization, single or batch, decided by [`channels`](Self::channels) routes, else [`authorize`](Self::authorize) |
/// | `POST /pusher/user-auth` | user sign-in, by [`user_signin`](Self::user_signin) |
/// | `POST /pusher/events/channel_existence`, `/presence`, `/client` | verified webhooks, to [`on_channel_existence`](Self::on_channel_existence) and the others |
/// | `GET /pusher/config` | only with `client_config_path = "/config"`: the page's [`ClientConfig`](crate::ClientConfig) as JSON |
/// | `GET /app/<key>` (WebSocket), `GET`/`POST /apps/<app_id>/…` | only with `transport = "embedded"` (feature `server`), at the root: the embedded server's endpoints (module `server`), which the client then reaches in process |
///
/// A missing or invalid configuration fails ignite with a message that names the key.
///
/// It also runs the [queue](crate::client) of [`Trigger::queue`](crate::client::Trigger::queue):
/// its dispatcher starts at liftoff, and Rocket's shutdown drains it
/// ([`Pusher::shutdown`] within `pusher.queue.drain_timeout`, 5 s by default), logging and
/// counting what could not be delivered by then. Rocket runs shutdown fairings while its
/// grace period lets running requests finish; a request that queues after the drain began
/// gets [`QueueError::Closed`](crate::error::QueueError::Closed).
///
/// ```
/// use rocket_pusher::{PresenceMember, PusherFairing};
///
/// let fairing = PusherFairing::new()
///     .authorize(|req, ch| Box::pin(async move {
///         // Any request guard of the app can run here.
///         req.cookies().get("user").is_some() && !ch.channel.as_str().contains("admin")
///     }))
///     .presence_member(|req, _ch| Box::pin(async move {
///         let name = req.cookies().get("user")?.value().to_owned();
///         Some(PresenceMember::new(name.clone()).with_info(serde_json::json!({ "name": name })))
///     }))
///     .on_presence(|_req, hook| Box::pin(async move {
///         for event in hook.events {
///             println!("{event:?}");
///         }
///     }));
/// # let _ = fairing;
/// ```
#[derive(Default)]
pub struct PusherFairing {
    defaults: Dict,
    handlers: Handlers,
    on_queue_failure: Option<FailureCallback>,
    summary: Mutex<Option<String>>,
}

impl std::fmt::Debug for PusherFairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PusherFairing")
            .field("defaults", &self.defaults.keys().collect::<Vec<_>>())
            .field("handlers", &self.handlers)
            .field("on_queue_failure", &self.on_queue_failure.is_some())
            .finish()
    }
}

impl PusherFairing {
    /// A fairing with no handlers: channel auth and sign-in answer 403, webhook routes 404,
    /// until handlers are registered.
    pub fn new() -> Self {
        Self::default()
    }

    /// One rule for every private, presence and encrypted channel no channel route
    /// matches; rules per family of channels are [`channels`](Self::channels) routes.
    /// Without either every channel is refused (403).
    #[must_use]
    pub fn authorize<F>(mut self, f: F) -> Self
    where
        F: for<'a> Fn(&'a Request<'_>, ChannelRequest<'a>) -> BoxFuture<'a, bool>
            + Send
            + Sync
            + 'static,
    {
        self.handlers.authorizer = Some(Arc::new(f));
        self
    }

    /// Add channel routes: a pattern per channel family, with typed parameters and the
    /// app's guards (see [`channel`](crate::channel) and [`channels!`](crate::channels)).
    /// They decide first; the [`authorize`](Self::authorize) callback, if any, decides for
    /// channels no route matches, and without one those are refused (403).
    #[must_use]
    pub fn channels(mut self, routes: impl IntoIterator<Item = ChannelRoute>) -> Self {
        self.handlers.channel_routes.extend(routes);
        self
    }

    /// The member a presence channel announces when [`authorize`](Self::authorize)
    /// allowed it (`user_id` and `user_info`; a channel route returns its member itself);
    /// `None` refuses. Without it the socket id is the `user_id`, as in Flask-Pusher.
    #[must_use]
    pub fn presence_member<F>(mut self, f: F) -> Self
    where
        F: for<'a> Fn(&'a Request<'_>, ChannelRequest<'a>) -> BoxFuture<'a, Option<PresenceMember>>
            + Send
            + Sync
            + 'static,
    {
        self.handlers.member = Some(Arc::new(f));
        self
    }

    /// Who a connection signs in as (pusher-js `signin()`); `None` refuses (403).
    #[must_use]
    pub fn user_signin<F>(mut self, f: F) -> Self
    where
        F: for<'a> Fn(&'a Request<'_>, &'a SocketId) -> BoxFuture<'a, Option<UserData>>
            + Send
            + Sync
            + 'static,
    {
        self.handlers.user = Some(Arc::new(f));
        self
    }

    /// Handle `channel_occupied` / `channel_vacated` webhooks posted to
    /// `{mount}{webhook_path}/channel_existence`. Answer fast: Pusher retries slow or
    /// failed deliveries; spawn heavy work.
    #[must_use]
    pub fn on_channel_existence<F>(mut self, f: F) -> Self
    where
        F: for<'a> Fn(&'a Request<'_>, Webhook<ChannelExistenceEvent>) -> BoxFuture<'a, ()>
            + Send
            + Sync
            + 'static,
    {
        self.handlers.channel_existence = Some(Arc::new(f));
        self
    }

    /// Handle `member_added` / `member_removed` webhooks posted to
    /// `{mount}{webhook_path}/presence`.
    #[must_use]
    pub fn on_presence<F>(mut self, f: F) -> Self
    where
        F: for<'a> Fn(&'a Request<'_>, Webhook<PresenceEvent>) -> BoxFuture<'a, ()>
            + Send
            + Sync
            + 'static,
    {
        self.handlers.presence = Some(Arc::new(f));
        self
    }

    /// Handle `client_event` webhooks posted to `{mount}{webhook_path}/client`.
    #[must_use]
    pub fn on_client_event<F>(mut self, f: F) -> Self
    where
        F: for<'a> Fn(&'a Request<'_>, Webhook<ClientEvent>) -> BoxFuture<'a, ()>
            + Send
            + Sync
            + 'static,
    {
        self.handlers.client_event = Some(Arc::new(f));
        self
    }

    /// Call `f` when queued events could not be delivered (a 4xx answer, or retries
    /// exhausted), with the error and each lost event's channel and name; see
    /// [`PusherBuilder::on_queue_failure`](crate::client::PusherBuilder::on_queue_failure).
    ///
    /// ```
    /// let fairing = rocket_pusher::PusherFairing::new().on_queue_failure(|failure| {
    ///     eprintln!("{} events lost: {}", failure.events().len(), failure.error());
    /// });
    /// # let _ = fairing;
    /// ```
    #[must_use]
    pub fn on_queue_failure<F>(mut self, f: F) -> Self
    where
        F: Fn(&QueueFailure) + Send + Sync + 'static,
    {
        self.on_queue_failure = Some(FailureCallback::new(f));
        self
    }

    /// A default for a `pusher` config key; `Rocket.toml` and `ROCKET_PUSHER` override it.
    ///
    /// ```
    /// let fairing = rocket_pusher::PusherFairing::new()
    ///     .config_default("mount", "/api/pusher")
    ///     .config_default("cluster", "eu");
    /// # let _ = fairing;
    /// ```
    #[must_use]
    pub fn config_default(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.defaults.insert(key.to_owned(), value.into());
        self
    }

    /// Mount the routes under `path` by default (`mount`).
    #[must_use]
    pub fn mount_at(self, path: &str) -> Self {
        self.config_default("mount", path)
    }

    /// Mount no route, for apps that write their own with the guards (`mount_routes`).
    #[must_use]
    pub fn without_routes(self) -> Self {
        self.config_default("mount_routes", false)
    }

    /// The `pusher` table, the builder's defaults under it.
    fn figment(&self, rocket: &Rocket<Build>) -> Figment {
        rocket
            .figment()
            .focus("pusher")
            .join(Serialized::defaults(self.defaults.clone()))
    }

    fn load_config(&self, rocket: &Rocket<Build>) -> Result<FairingConfig, Vec<String>> {
        let all = rocket.figment();
        match all.find_value("pusher") {
            Err(_) if self.defaults.is_empty() => {
                return Err(vec![format!(
                    "no `pusher` table in the configuration (profile `{}`){}",
                    all.profile(),
                    where_to_set_credentials(all, &["app_id", "key", "secret"])
                )]);
            }
            // A malformed `ROCKET_PUSHER='{…'` is read as a string: say so, not that
            // every key is missing. The value is not shown: it may hold the secret.
            Ok(value) if value.as_dict().is_none() => {
                return Err(vec![format!(
                    "`pusher` (from {}) is {}, not a table: write \
                     ROCKET_PUSHER='{{app_id=\"…\",key=\"…\",secret=\"…\"}}' with balanced \
                     braces and quotes, or a [default.pusher] table in Rocket.toml",
                    source_of(all, "pusher"),
                    kind_of(&value),
                )]);
            }
            _ => {}
        }
        FairingConfig::extract(&self.figment(rocket))
    }
}
#[rocket::async_trait]
impl Fairing for PusherFairing {
    fn info(&self) -> Info {
        Info {
            name: "Pusher",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Shutdown | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let ready = match self.prepare(&rocket) {
            Ok(ready) => ready,
            Err(messages) => {
                for m in messages {
                    log::error!("pusher: {m}");
                }
                return Err(rocket);
            }
        };
        let rocket = rocket
            .manage(ready.pusher)
            .manage(ready.client)
            .manage(ready.webhook)
            .manage(ready.auth);
        let rocket = if ready.routes.is_empty() {
            rocket
        } else {
            rocket.mount(ready.mount.as_str(), ready.routes)
        };
        Ok(match ready.server {
            #[cfg(feature = "server")]
            Some(server) => {
                let routes = crate::integration::server::routes(&server);
                rocket.manage(server).mount("/", routes)
            }
            _ => rocket,
        })
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        if let Some(s) = self
            .summary
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_deref()
        {
            log::info!("pusher: {s}");
        }
        if let Some(pusher) = rocket.state::<Pusher>()
            && let Err(e) = pusher.start_queue()
        {
            // Cannot happen on Rocket's runtime; the first `queue()` would try again.
            log::error!("pusher: the queue's dispatcher did not start: {e}");
        }
    }

    async fn on_shutdown(&self, rocket: &Rocket<Orbit>) {
        if let Some(pusher) = rocket.state::<Pusher>() {
            // Logs what it delivered, and what it dropped after the deadline.
            pusher
                .shutdown(pusher.queue_config().drain_deadline())
                .await;
        }
        // The queue drained into the embedded server first; now its clients are told to
        // reconnect (4200), inside Rocket's grace period.
        #[cfg(feature = "server")]
        if let Some(server) = rocket.state::<crate::server::Server>() {
            server.shutdown();
        }
    }
}
