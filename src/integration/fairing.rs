//! [`PusherFairing`]: reads the `pusher` config on ignite, manages [`Pusher`], mounts the
//! auth, sign-in and webhook routes.

use std::sync::{Arc, Mutex, PoisonError};

use rocket::data::Limits;
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::figment::providers::Serialized;
use rocket::figment::value::{Dict, Value};
use rocket::figment::{Figment, Source};
use rocket::futures::future::BoxFuture;
use rocket::http::Method;
use rocket::http::uri::Origin;
use rocket::route::Route;
use rocket::{Build, Orbit, Request, Rocket};

use super::auth::{AuthRoute, AuthSettings, UserAuthRoute};
use super::channel_routes::{ChannelRoute, ChannelRouter};
use super::client_config::{ClientConfig, ClientConfigRoute};
use super::config::FairingConfig;
use super::handlers::{ChannelRequest, Handlers};
use super::webhook::{HookKind, WebhookRoute, WebhookSettings};
use crate::Pusher;
use crate::client::QueueFailure;
use crate::client::queue::FailureCallback;
use crate::error::ConfigError;
use crate::protocol::{
    ChannelExistenceEvent, ClientEvent, PresenceEvent, PresenceMember, SocketId, UserData, Webhook,
};

/// The rank of the mounted routes: above Rocket's defaults, so an app's own route at the
/// same path wins without a collision (what `FileServer` does).
pub const ROUTE_RANK: isize = 10;

/// The Rocket fairing: attach it, and routes can take `&State<Pusher>`.
///
/// On ignite it reads the `pusher` table of Rocket's configuration (see
/// [`FairingConfig`](crate::config::FairingConfig) for every key), builds and manages a
/// [`Pusher`] and a [`ClientConfig`], and mounts, under `mount` (default `/pusher`):
///
/// | route | answers |
/// | --- | --- |
/// | `POST /pusher/auth` | channel authorization, single or batch, decided by [`channels`](Self::channels) routes, else [`authorize`](Self::authorize) |
/// | `POST /pusher/user-auth` | user sign-in, by [`user_signin`](Self::user_signin) |
/// | `POST /pusher/events/channel_existence`, `/presence`, `/client` | verified webhooks, to [`on_channel_existence`](Self::on_channel_existence) and the others |
/// | `GET /pusher/config` | only with `client_config_path = "/config"`: the page's [`ClientConfig`] as JSON |
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
                    where_to_set_credentials(all)
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

/// A value's kind, for a message that must not show the value.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::String(..) => "a string",
        Value::Char(..) => "a character",
        Value::Bool(..) => "a boolean",
        Value::Num(..) => "a number",
        Value::Empty(..) => "empty",
        Value::Dict(..) => "a table",
        Value::Array(..) => "an array",
    }
}

/// Where the value of `key` in `figment` came from, in words a user finds it by.
fn source_of(figment: &Figment, key: &str) -> String {
    let Some(metadata) = figment.find_metadata(key) else {
        return "an unknown source".into();
    };
    if metadata.name.contains("environment") {
        // Rocket's provider reads `ROCKET_<KEY>`; the table is `ROCKET_PUSHER`.
        return "the `ROCKET_PUSHER` environment variable".into();
    }
    match &metadata.source {
        Some(file @ Source::File(_)) => format!("`{file}`"),
        _ => "code (`PusherFairing::config_default` or the app's figment)".into(),
    }
}

/// `ROCKET_PUSHER_SECRET=…` and its kin land at the top level (`pusher_secret`), not in
/// the `pusher` table: the variables or keys set that way, named as the user wrote them.
fn stray_keys(figment: &Figment) -> Vec<String> {
    let Ok(top) = figment.extract::<Dict>() else {
        return Vec::new();
    };
    top.keys()
        .filter(|k| k.starts_with("pusher_"))
        .map(|k| {
            let from_env = figment
                .find_metadata(k)
                .is_some_and(|m| m.name.contains("environment"));
            if from_env {
                format!("`ROCKET_{}`", k.to_ascii_uppercase())
            } else {
                format!("`{k}` (in {})", source_of(figment, k))
            }
        })
        .collect()
}

/// The end of a "credentials are missing" message: where they go, and why the
/// `ROCKET_PUSHER_*` variables the user may have set did not count.
fn where_to_set_credentials(figment: &Figment) -> String {
    const FORM: &str = r#"ROCKET_PUSHER='{app_id="…",key="…",secret="…"}'"#;
    let stray = stray_keys(figment);
    if stray.is_empty() {
        format!(": set [default.pusher] app_id, key and secret in Rocket.toml, or {FORM}")
    } else {
        format!(
            ": {} {} set, but Rocket does not read ROCKET_PUSHER_<KEY> variables into the \
             `pusher` table; set {FORM} (or [default.pusher] in Rocket.toml) instead",
            stray.join(", "),
            if stray.len() == 1 { "is" } else { "are" },
        )
    }
}

/// `url` and the separate credentials both set, perhaps by different sources: the message
/// says which source set which, and how to override one with the other.
fn url_conflict(figment: &Figment, config: &FairingConfig) -> Option<String> {
    let c = &config.client;
    c.url.as_ref()?;
    let others: Vec<&str> = [
        ("app_id", c.app_id.is_some()),
        ("key", c.key.is_some()),
        ("secret", c.secret.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if others.is_empty() {
        return None;
    }
    let url_from = source_of(figment, "url");
    let mut from: Vec<String> = others.iter().map(|k| source_of(figment, k)).collect();
    from.sort();
    from.dedup();
    let keys = others
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message = format!(
        "invalid `pusher.url`: set either `url` or `app_id`, `key` and `secret`, not both; \
         `url` comes from {url_from}, {keys} from {}",
        from.join(" and ")
    );
    if from.iter().any(|f| *f != url_from) {
        message.push_str(&format!(
            ". One source overrides another key by key but cannot remove a key: use one form \
             in both (e.g. app_id, key and secret instead of url in {url_from}), or remove \
             one form"
        ));
    }
    Some(message)
}

/// Check a configured path: absolute, static (no `<param>`), no query.
fn check_path(key: &'static str, path: &str) -> Result<(), String> {
    let ok = path.starts_with('/')
        && !path.contains(['<', '>', '?', '#'])
        && Origin::parse(path).is_ok();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid `pusher.{key}`: {path:?} must be an absolute path like \"/pusher\""
        ))
    }
}

fn routes(
    config: &FairingConfig,
    settings: AuthSettings,
    handlers: &Arc<Handlers>,
    router: &Arc<ChannelRouter>,
    client: &ClientConfig,
) -> Result<Vec<Route>, String> {
    check_path("mount", &config.mount)?;
    check_path("auth_path", &config.auth_path)?;
    check_path("user_auth_path", &config.user_auth_path)?;
    check_path("webhook_path", &config.webhook_path)?;
    if let Some(path) = &config.client_config_path {
        check_path("client_config_path", path)?;
    }
    let auth = AuthRoute {
        handlers: handlers.clone(),
        router: router.clone(),
        settings,
        jsonp: config.jsonp,
    };
    let mut routes = vec![named(
        Route::ranked(ROUTE_RANK, Method::Post, &config.auth_path, auth.clone()),
        "pusher: channel auth",
    )];
    if config.jsonp {
        routes.push(named(
            Route::ranked(ROUTE_RANK, Method::Get, &config.auth_path, auth),
            "pusher: channel auth (JSONP)",
        ));
    }
    routes.push(named(
        Route::ranked(
            ROUTE_RANK,
            Method::Post,
            &config.user_auth_path,
            UserAuthRoute {
                handlers: handlers.clone(),
                settings,
            },
        ),
        "pusher: user sign-in",
    ));
    let hooks = config.webhook_path.trim_end_matches('/');
    for kind in HookKind::ALL {
        routes.push(named(
            Route::ranked(
                ROUTE_RANK,
                Method::Post,
                &format!("{hooks}/{}", kind.path()),
                WebhookRoute {
                    kind,
                    handlers: handlers.clone(),
                },
            ),
            "pusher: webhook",
        ));
    }
    if let Some(path) = &config.client_config_path {
        routes.push(named(
            Route::ranked(
                ROUTE_RANK,
                Method::Get,
                path,
                ClientConfigRoute::new(client),
            ),
            "pusher: client config",
        ));
    }
    Ok(routes)
}

fn named(mut route: Route, name: &'static str) -> Route {
    route.name = Some(name.into());
    route
}

/// Everything ignite adds to Rocket, computed before anything is added.
struct Ready {
    pusher: Pusher,
    client: ClientConfig,
    webhook: WebhookSettings,
    auth: AuthSettings,
    mount: String,
    routes: Vec<Route>,
    /// The embedded server, with `transport = "embedded"`.
    server: Option<Embedded>,
}

#[cfg(feature = "server")]
type Embedded = crate::server::Server;
/// Without feature `server` there is never an embedded server.
#[cfg(not(feature = "server"))]
type Embedded = std::convert::Infallible;

impl PusherFairing {
    /// Read and check the configuration and handlers; the errors name the key or route.
    fn prepare(&self, rocket: &Rocket<Build>) -> Result<Ready, Vec<String>> {
        if rocket.state::<Pusher>().is_some() {
            return Err(vec![
                "a Pusher is already managed: attach PusherFairing or manage Pusher, not both"
                    .into(),
            ]);
        }
        let config = self.load_config(rocket)?;
        if let Some(conflict) = url_conflict(&self.figment(rocket), &config) {
            return Err(vec![conflict]);
        }
        #[cfg(feature = "server")]
        let embedded = super::server::embedded(&config, self.on_queue_failure.clone())?;
        #[cfg(not(feature = "server"))]
        let embedded: Option<(Pusher, Embedded)> = None;
        let (pusher, server) = match embedded {
            Some((pusher, server)) => (pusher, Some(server)),
            None => (
                Pusher::with_http(&config.client, None, self.on_queue_failure.clone()).map_err(
                    |e| match e {
                        ConfigError::Missing(_) => {
                            vec![format!("{e}{}", where_to_set_credentials(rocket.figment()))]
                        }
                        e => vec![e.to_string()],
                    },
                )?,
                None,
            ),
        };
        let stray = stray_keys(rocket.figment());
        if !stray.is_empty() {
            log::warn!(
                "pusher: {} ignored: Rocket does not read ROCKET_PUSHER_<KEY> variables into \
                 the `pusher` table; use ROCKET_PUSHER='{{key=\"…\",…}}'",
                stray.join(", ")
            );
        }
        let recording = pusher.recorder().is_some();
        if recording && *rocket.figment().profile() == rocket::Config::RELEASE_PROFILE {
            log::warn!(
                "pusher: transport = \"recording\" in the release profile: no event reaches \
                 Pusher; remove it (the default is \"http\") for production"
            );
        }
        if config
            .webhook_max_age
            .is_some_and(|age| !(age.is_finite() && age > 0.0))
        {
            return Err(vec![
                "invalid `pusher.webhook_max_age`: must be a number of seconds above 0".into(),
            ]);
        }
        if config.max_batch_channels == 0 {
            return Err(vec![
                "invalid `pusher.max_batch_channels`: must be above 0".into(),
            ]);
        }
        let router = Arc::new(ChannelRouter::new(&self.handlers.channel_routes)?);
        let handlers = Arc::new(self.handlers.clone());
        // Rocket extracts its own config after the ignite fairings; a malformed `limits`
        // fails ignite there, so its defaults are a safe stand-in here.
        let limits: Limits = rocket.figment().extract_inner("limits").unwrap_or_default();
        let auth = AuthSettings::from_limits(&limits, config.max_batch_channels);
        #[cfg(feature = "server")]
        let endpoint = match server {
            Some(_) => super::server::endpoint(rocket.figment()),
            None => pusher.endpoint().to_owned(),
        };
        #[cfg(not(feature = "server"))]
        let endpoint = pusher.endpoint().to_owned();
        let client = ClientConfig::from_config(&config, pusher.key(), &endpoint);
        let routes = if config.mount_routes {
            routes(&config, auth, &handlers, &router, &client).map_err(|m| vec![m])?
        } else {
            Vec::new()
        };

        let target = if recording {
            "records every request and sends nothing (transport = \"recording\")".to_owned()
        } else if server.is_some() {
            format!("on the embedded server: ws {endpoint}/app/<key>, API /apps/<id>/…")
        } else {
            format!("via {}", pusher.endpoint())
        };
        let mut summary = format!("app {} (key {}) {target}", pusher.app_id(), pusher.key());
        let mount = config.mount.trim_end_matches('/');
        for r in &routes {
            summary.push_str(&format!("; {} {mount}{}", r.method, r.uri));
        }
        if !self.handlers.channel_routes.is_empty() {
            let patterns: Vec<&str> = self
                .handlers
                .channel_routes
                .iter()
                .map(|r| r.pattern())
                .collect();
            summary.push_str(&format!("; channel routes {patterns:?}"));
        }
        *self.summary.lock().unwrap_or_else(PoisonError::into_inner) = Some(summary);

        Ok(Ready {
            client,
            webhook: WebhookSettings {
                body_limit: config.webhook_body_limit,
                max_age_ms: config.webhook_max_age.map(|s| (s * 1000.0) as u64),
            },
            auth,
            pusher,
            mount: config.mount,
            routes,
            server,
        })
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
                let routes = super::server::routes(&server);
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
