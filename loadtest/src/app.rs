//! The benchmark app, shared by `bench_app` (the release server that `wrk` loads) and the
//! crate's `benches/routes.rs` (the same routes in process, through Rocket's local client).
//!
//! * The fairing's routes, with handlers that do what a small app does (and what the
//!   Flask-Pusher peer in `loadtest/peers/flask_pusher_app.py` does): allow every channel,
//!   announce a fixed presence member, sign in a fixed user, count webhook events.
//! * `POST /hooks/presence`: an app's own route taking `VerifiedWebhook<PresenceEvent>`.
//! * `POST /floor`: a bare Rocket route that reads the body the same way (one capped
//!   buffer) and answers a fixed string. It is the floor: what any Rocket POST route costs
//!   on this machine, so each route above is reported as a ratio to it.
//! * Channel routes: `private-orders.target.<id>` (the `#[channel]` attribute, a typed
//!   `u64` parameter) behind `n - 1` decoy routes that share its first segment, so with
//!   100 routes a lookup scans the longest list the router can hold for one prefix.

// `bench_app` and `benches/routes.rs` each use their own part of this module.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use rocket::data::{Data, ToByteUnit};
use rocket::figment::Figment;
use rocket::figment::util::map;
use rocket::http::Status;
use rocket::tokio::io::AsyncReadExt;
use rocket::{Build, Rocket, post, routes};
use rocket_pusher::{
    ChannelRoute, Decision, PresenceEvent, PresenceMember, PusherFairing, UserData,
    VerifiedWebhook, channel, channels,
};
use serde_json::json;

/// The app's credentials (the Pusher docs' example pair); the wrk scripts' webhook
/// signatures are computed with this secret.
pub(crate) const APP_ID: &str = "1234";
/// The app key.
pub(crate) const KEY: &str = "278d425bdf160c739803";
/// The app secret.
pub(crate) const SECRET: &str = "7ad3773142a6692b25b8";

/// Webhook events the handlers saw: the work stays observable, so nothing is optimized
/// away, and costs what a real handler's bookkeeping costs.
static EVENTS: AtomicU64 = AtomicU64::new(0);

fn count(events: usize) {
    EVENTS.fetch_add(events as u64, Ordering::Relaxed);
}

/// The floor: read the body into one buffer under a limit the way the auth and webhook
/// routes do (one byte past the limit means too large; Rocket's `into_bytes` would copy
/// through a zeroed 8 KiB buffer), and answer a fixed string.
#[post("/floor", data = "<body>")]
async fn floor(body: Data<'_>) -> Result<&'static str, Status> {
    let limit = 64.kibibytes();
    let mut stream = body.open(limit + 1);
    let mut bytes = Vec::with_capacity(stream.hint().max(512));
    match stream.read_to_end(&mut bytes).await {
        Ok(_) if bytes.len() as u64 <= limit.as_u64() => Ok("OK"),
        Ok(_) => Err(Status::PayloadTooLarge),
        Err(_) => Err(Status::BadRequest),
    }
}

/// An app's own webhook route: key and signature checked on the raw body, then parsed and
/// narrowed to presence events, by the guard.
#[post("/hooks/presence", data = "<hook>")]
fn presence_hook(hook: VerifiedWebhook<PresenceEvent>) -> &'static str {
    count(hook.events.len());
    "{}"
}

/// The channel route the `auth_route` wrk script hits: `private-orders.target.42`.
#[channel("private-orders.target.<id>")]
async fn target(id: u64) -> bool {
    id != 0
}

/// `n` channel routes: `n - 1` decoys with the target's first segment, then the target.
pub(crate) fn channel_routes(n: usize) -> Vec<ChannelRoute> {
    let mut routes: Vec<ChannelRoute> = (1..n)
        .map(|i| {
            ChannelRoute::new(format!("private-orders.d{i}.<id>"), |_, _, _| {
                Box::pin(async { Ok(Decision::Deny) })
            })
            .named(format!("decoy{i}"))
        })
        .collect();
    routes.extend(channels![target]);
    routes
}

/// The fairing with the bench handlers and `n` channel routes.
pub(crate) fn fairing(n_channel_routes: usize) -> PusherFairing {
    PusherFairing::new()
        .authorize(|_req, _ch| Box::pin(async { true }))
        .presence_member(|_req, _ch| {
            Box::pin(async {
                Some(PresenceMember::new("alice").with_info(json!({ "name": "Alice" })))
            })
        })
        .user_signin(|_req, _socket| {
            Box::pin(async { Some(UserData::new("alice").with_info(json!({ "name": "Alice" }))) })
        })
        .on_channel_existence(|_req, hook| Box::pin(async move { count(hook.events.len()) }))
        .on_presence(|_req, hook| Box::pin(async move { count(hook.events.len()) }))
        .on_client_event(|_req, hook| Box::pin(async move { count(hook.events.len()) }))
        .channels(channel_routes(n_channel_routes))
}

/// Rocket's release defaults on 127.0.0.1:`port`, logging off (a log line per request
/// would be measured too), and the app's credentials. `Rocket.toml` is not read.
pub(crate) fn figment(port: u16) -> Figment {
    Figment::from(rocket::Config::release_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge((
            "pusher",
            map! { "app_id" => APP_ID, "key" => KEY, "secret" => SECRET },
        ))
}

/// The app.
pub(crate) fn rocket(figment: Figment, n_channel_routes: usize) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(fairing(n_channel_routes))
        .mount("/", routes![floor, presence_hook])
}
