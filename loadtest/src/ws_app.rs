//! The embedded server under test in `scripts/bench --phases server`: a small Rocket app
//! whose `PusherFairing` has `transport = "embedded"`, so it serves `/app/<key>` and the
//! HTTP API itself, on 127.0.0.1 only. The generator (`ws_load`) triggers through that
//! HTTP API, or asks `POST /bench/fire` to trigger in process, through `&State<Pusher>`
//! with no HTTP hop, with the same loop it uses (`ws/fire.rs`).
//!
//! ```text
//! ws_app --port 7510
//! ```
//!
//! It runs until stopped (SIGTERM or Ctrl-C).

#[path = "ws/fire.rs"]
mod fire;

use rocket::figment::Figment;
use rocket::figment::providers::Serialized;
use rocket::{State, post, routes};
use rocket_pusher::{Pusher, PusherFairing};
use serde_json::json;

/// Triggers `events` events in process over `channels` channels (see `ws/fire.rs`) and
/// answers, once every trigger has returned, with the number that failed.
#[post("/bench/fire?<events>&<channels>&<rate>&<concurrency>")]
async fn bench_fire(
    pusher: &State<Pusher>,
    events: usize,
    channels: usize,
    rate: f64,
    concurrency: usize,
) -> String {
    let failed = fire::fire(pusher, events, channels, rate, concurrency).await;
    format!("{{\"failed\":{failed}}}")
}

/// Rocket's release defaults on 127.0.0.1:`port`, logging off, and the app's credentials
/// with the embedded server (its defaults otherwise, no webhooks).
fn figment(port: u16) -> Figment {
    let url = format!("http://KEY:SUPERSECRET@127.0.0.1:{port}/apps/1234");
    Figment::from(rocket::Config::release_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(Serialized::default(
            "pusher",
            json!({ "url": url, "transport": "embedded" }),
        ))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(7510), |v| v.parse::<u16>());
    let Ok(port) = port else {
        panic!("--port takes a port number")
    };
    let rocket = rocket::custom(figment(port))
        .attach(PusherFairing::new())
        .mount("/", routes![bench_fire]);
    if let Err(e) = rocket::execute(rocket.launch()) {
        eprintln!("ws_app: {e}");
        std::process::exit(1);
    }
}
