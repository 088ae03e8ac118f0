//! The embedded server in Rocket (`transport = "embedded"`, feature `server`): its
//! WebSocket route `/app/<key>`, the HTTP API `/apps/<app_id>/…` at the root (where the
//! libraries sign their paths), and the client's in-process seam.

use std::sync::Arc;

use rocket::data::ToByteUnit;
use rocket::http::{ContentType, Method, Status};
use rocket::route::{self, Handler, Route};
use rocket::{Data, Request};
use rocket_ws::{Config, WebSocket};

use super::config::FairingConfig;
use super::fairing::ROUTE_RANK;
use crate::Pusher;
use crate::client::InProcess;
use crate::client::queue::FailureCallback;
use crate::config::TransportKind;
use crate::server::Server;

/// The server as the client's in-process transport.
struct Embedded(Server);

impl InProcess for Embedded {
    fn request(&self, method: &str, path: &str, query: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let answer = self.0.api(method, path, query, body);
        (answer.status, answer.body.into_bytes())
    }
}

/// The in-process target the client delivers to.
pub(crate) fn in_process(server: &Server) -> Arc<dyn InProcess> {
    Arc::new(Embedded(server.clone()))
}

/// The endpoints' rank: one before [`ROUTE_RANK`] (that of `FileServer` too), so they win
/// over a static file server mounted at `/`, while an app's own route at the same path
/// (Rocket's default ranks are below 0) still wins over them.
const SERVER_RANK: isize = ROUTE_RANK - 1;

/// The routes to mount at `/`: the WebSocket endpoint and the HTTP API.
pub(crate) fn routes(server: &Server) -> Vec<Route> {
    let socket = SocketRoute {
        server: server.clone(),
    };
    let api = ApiRoute {
        server: server.clone(),
    };
    let mut routes = vec![Route::ranked(
        SERVER_RANK,
        Method::Get,
        "/app/<key>",
        socket,
    )];
    for method in [Method::Get, Method::Post] {
        routes.push(Route::ranked(
            SERVER_RANK,
            method,
            "/apps/<path..>",
            api.clone(),
        ));
    }
    for r in &mut routes {
        r.name = Some("pusher: embedded server".into());
    }
    routes
}

#[derive(Clone)]
struct SocketRoute {
    server: Server,
}

#[rocket::async_trait]
impl Handler for SocketRoute {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        // Not an upgrade request: forwarded, as rocket_ws's guard does.
        let rocket::outcome::Outcome::Success(ws) = req.guard::<WebSocket>().await else {
            return route::Outcome::forward(data, Status::BadRequest);
        };
        let key = req.routed_segment(1).map(str::to_owned).unwrap_or_default();
        let protocol = req
            .query_value::<&str>("protocol")
            .and_then(Result::ok)
            .map(str::to_owned);
        let origin = req.headers().get_one("Origin").map(str::to_owned);
        let server = self.server.clone();
        let max = server.config().max_message_bytes;
        let config = Config {
            max_message_size: Some(max),
            max_frame_size: Some(max),
            ..Config::default()
        };
        let channel = ws.config(config).channel(move |stream| {
            Box::pin(async move {
                server
                    .serve(&key, protocol.as_deref(), origin.as_deref(), stream)
                    .await
            })
        });
        route::Outcome::from(req, channel)
    }
}

#[derive(Clone)]
struct ApiRoute {
    server: Server,
}

#[rocket::async_trait]
impl Handler for ApiRoute {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        // Room for a full batch of the largest events, their names and JSON.
        let limit = (self.server.config().max_payload_bytes * 12 + 64 * 1024).bytes();
        let body = match data.open(limit).into_bytes().await {
            Ok(body) if body.is_complete() => body.into_inner(),
            Ok(_) => return answer(req, 413, r#"{"error":"Request body too large"}"#.into()),
            Err(_) => return answer(req, 400, r#"{"error":"Request body unreadable"}"#.into()),
        };
        let query = req.uri().query().map_or("", |q| q.as_str());
        let res = self.server.api(
            req.method().as_str(),
            req.uri().path().as_str(),
            query,
            &body,
        );
        answer(req, res.status, res.body)
    }
}

fn answer<'r>(req: &'r Request<'_>, status: u16, body: String) -> route::Outcome<'r> {
    let status = Status::from_code(status).unwrap_or(Status::InternalServerError);
    route::Outcome::from(req, (status, (ContentType::JSON, body)))
}

/// With `transport = "embedded"`: the server, from the credentials and the `server` table,
/// and the client that delivers to it in process. `None` for the other transports.
pub(crate) fn embedded(
    config: &FairingConfig,
    on_queue_failure: Option<FailureCallback>,
) -> Result<Option<(Pusher, Server)>, Vec<String>> {
    if config.client.transport != TransportKind::Embedded {
        return Ok(None);
    }
    config.server.check().map_err(|m| vec![m])?;
    let resolved = config.client.resolve().map_err(|e| vec![e.to_string()])?;
    let Some(token) = resolved.tokens.into_iter().next() else {
        return Err(vec!["missing `pusher.key`".into()]);
    };
    let server = Server::new(resolved.app_id, token, config.server.clone());
    let pusher = Pusher::in_process(&config.client, in_process(&server), on_queue_failure)
        .map_err(|e| vec![e.to_string()])?;
    Ok(Some((pusher, server)))
}

/// Where pages reach the embedded server: Rocket's own address and port (an unspecified
/// address is reached on loopback), as an endpoint for [`ClientConfig`](super::ClientConfig).
pub(crate) fn endpoint(figment: &rocket::figment::Figment) -> String {
    // Rocket extracts its config after the ignite fairings; a malformed one fails there.
    let config: rocket::Config = figment.extract().unwrap_or_default();
    let host = match config.address {
        a if a.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(a) => format!("[{a}]"),
        a => a.to_string(),
    };
    format!("http://{host}:{}", config.port)
}
