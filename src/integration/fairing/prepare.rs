//! What ignite computes before it changes Rocket: the checked configuration, the client
//! (or the embedded server and its in-process client), the routes.

use std::sync::{Arc, PoisonError};

use rocket::data::Limits;
use rocket::http::Method;
use rocket::http::uri::Origin;
use rocket::route::Route;
use rocket::{Build, Rocket};

use crate::Pusher;
use crate::error::ConfigError;
use crate::integration::auth::{AuthRoute, AuthSettings, UserAuthRoute};
use crate::integration::channel_routes::{ChannelRouter, carrying_sentinels};
use crate::integration::client_config::{ClientConfig, ClientConfigRoute};
use crate::integration::config::FairingConfig;
use crate::integration::handlers::Handlers;
use crate::integration::webhook::{HookKind, WebhookRoute, WebhookSettings};

use super::messages::{missing_credentials, stray_keys, url_conflict, where_to_set_credentials};
use super::{PusherFairing, ROUTE_RANK};

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
    // The channel routes' guards are checked at launch as the auth route's own.
    let mut routes = vec![carrying_sentinels(
        named(
            Route::ranked(ROUTE_RANK, Method::Post, &config.auth_path, auth.clone()),
            "pusher: channel auth",
        ),
        router.sentinels(),
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
pub(super) struct Ready {
    pub(super) pusher: Pusher,
    pub(super) client: ClientConfig,
    pub(super) webhook: WebhookSettings,
    pub(super) auth: AuthSettings,
    pub(super) mount: String,
    pub(super) routes: Vec<Route>,
    /// The embedded server, with `transport = "embedded"`.
    pub(super) server: Option<Embedded>,
}

#[cfg(feature = "server")]
type Embedded = crate::server::Server;
/// Without feature `server` there is never an embedded server.
#[cfg(not(feature = "server"))]
type Embedded = std::convert::Infallible;

impl PusherFairing {
    /// Read and check the configuration and handlers; the errors name the key or route.
    pub(super) fn prepare(&self, rocket: &Rocket<Build>) -> Result<Ready, Vec<String>> {
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
        let embedded =
            crate::integration::server::embedded(&config, self.on_queue_failure.clone())?;
        #[cfg(not(feature = "server"))]
        let embedded: Option<(Pusher, Embedded)> = None;
        let (pusher, server) = match embedded {
            Some((pusher, server)) => (pusher, Some(server)),
            None => (
                Pusher::with_http(&config.client, None, self.on_queue_failure.clone()).map_err(
                    |e| match e {
                        ConfigError::Missing(_) => {
                            let missing = missing_credentials(&config);
                            let keys: Vec<String> =
                                missing.iter().map(|k| format!("`pusher.{k}`")).collect();
                            vec![format!(
                                "missing {}{}",
                                keys.join(", "),
                                where_to_set_credentials(rocket.figment(), &missing)
                            )]
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
            Some(_) => crate::integration::server::endpoint(rocket.figment()),
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
