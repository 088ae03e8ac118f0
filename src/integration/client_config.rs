//! [`ClientConfig`]: what a page needs to connect pusher-js to this app.

use rocket::http::ContentType;
use rocket::route::{self, Handler};
use rocket::{Data, Request};
use serde::Serialize;
use serde_json::{Value, json};

use super::config::FairingConfig;

/// What the page needs to connect: the public key, the cluster or the host of a
/// self-hosted server, and the auth endpoints. Never the secret.
///
/// The fairing manages it: take `&State<ClientConfig>` and put it in a template context
/// (as Flask-Pusher puts `PUSHER_KEY` in templates), or hand
/// [`pusher_js_options`](Self::pusher_js_options) to `new Pusher(key, options)`.
///
/// For a page that fetches it, set `client_config_path = "/config"` in the `pusher` table:
/// `GET /pusher/config` then answers these fields and `options`, the
/// [`pusher_js_options`](Self::pusher_js_options):
///
/// ```js
/// const config = await (await fetch("/pusher/config")).json();
/// const pusher = new Pusher(config.key, config.options);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The app key.
    pub key: String,
    /// The cluster (`mt1` unless configured).
    pub cluster: String,
    /// The WebSocket host of a self-hosted server; `None` for Pusher's service.
    pub ws_host: Option<String>,
    /// The WebSocket port of a self-hosted server.
    pub ws_port: Option<u16>,
    /// Whether to connect with TLS.
    pub force_tls: bool,
    /// The channel authorization endpoint (default `/pusher/auth`).
    pub auth_endpoint: String,
    /// The user sign-in endpoint (default `/pusher/user-auth`).
    pub user_auth_endpoint: String,
}

impl ClientConfig {
    pub(crate) fn from_config(config: &FairingConfig, key: &str, endpoint: &str) -> Self {
        let url = reqwest::Url::parse(endpoint).ok();
        let host = url.as_ref().and_then(|u| u.host_str()).unwrap_or_default();
        // Pusher's own API host names the cluster; pusher-js derives its hosts from that.
        let pusher_cluster = host
            .strip_prefix("api-")
            .and_then(|h| h.strip_suffix(".pusher.com"))
            .map(str::to_owned);
        let (cluster, ws_host, ws_port) = match pusher_cluster {
            Some(cluster) => (cluster, None, None),
            None => (
                config
                    .client
                    .cluster
                    .clone()
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| "mt1".to_owned()),
                Some(host.to_owned()).filter(|h| !h.is_empty()),
                url.as_ref().and_then(reqwest::Url::port_or_known_default),
            ),
        };
        let mount = config.mount.trim_end_matches('/');
        Self {
            key: key.to_owned(),
            cluster,
            ws_host,
            ws_port,
            force_tls: endpoint.starts_with("https://"),
            auth_endpoint: format!("{mount}{}", config.auth_path),
            user_auth_endpoint: format!("{mount}{}", config.user_auth_path),
        }
    }

    /// The options object for `new Pusher(key, options)` in pusher-js 8.
    pub fn pusher_js_options(&self) -> Value {
        let mut options = json!({
            "cluster": self.cluster,
            "forceTLS": self.force_tls,
            "channelAuthorization": { "endpoint": self.auth_endpoint, "transport": "ajax" },
            "userAuthentication": { "endpoint": self.user_auth_endpoint, "transport": "ajax" },
        });
        if let (Some(host), Value::Object(map)) = (&self.ws_host, &mut options) {
            map.insert("wsHost".into(), json!(host));
            if let Some(port) = self.ws_port {
                map.insert("wsPort".into(), json!(port));
                map.insert("wssPort".into(), json!(port));
            }
            map.insert("enabledTransports".into(), json!(["ws", "wss"]));
            map.insert("disableStats".into(), json!(true));
        }
        options
    }
}

/// `GET {mount}{client_config_path}`: the [`ClientConfig`] and its pusher-js options as
/// JSON, written once at ignite.
#[derive(Clone)]
pub(crate) struct ClientConfigRoute {
    json: String,
}

impl ClientConfigRoute {
    pub(crate) fn new(config: &ClientConfig) -> Self {
        #[derive(Serialize)]
        struct Answer<'a> {
            #[serde(flatten)]
            config: &'a ClientConfig,
            options: Value,
        }
        let answer = Answer {
            config,
            options: config.pusher_js_options(),
        };
        // Strings, numbers and booleans always serialize.
        Self {
            json: serde_json::to_string(&answer).unwrap_or_default(),
        }
    }
}

#[rocket::async_trait]
impl Handler for ClientConfigRoute {
    async fn handle<'r>(&self, req: &'r Request<'_>, _: Data<'r>) -> route::Outcome<'r> {
        route::Outcome::from(req, (ContentType::JSON, self.json.clone()))
    }
}
