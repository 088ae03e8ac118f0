//! The mounted routes in process, through Rocket's local client: no sockets, so what is
//! left is Rocket's request handling plus ours. Each route is measured next to the bare
//! floor route with the same body, and the channel auth route with 1 and with 100
//! channel routes. The same app as the load tests' `bench_app` (`loadtest/src/app.rs`).
//!
//! `cargo bench --bench routes` (about a minute); never run by `cargo test`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::Client;

#[path = "../loadtest/src/app.rs"]
mod app;

const AUTH: &str = "socket_id=123.456&channel_name=private-bench";
const PRESENCE: &str = "socket_id=123.456&channel_name=presence-room";
const ROUTED: &str = "socket_id=123.456&channel_name=private-orders.target.42";

fn client(channel_routes: usize) -> Client {
    match Client::untracked(app::rocket(app::figment(0), channel_routes)) {
        Ok(client) => client,
        Err(e) => panic!("the bench app ignites: {e}"),
    }
}

fn post_form(client: &Client, path: &'static str, body: &'static str) -> Status {
    client
        .post(path)
        .header(ContentType::Form)
        .body(body)
        .dispatch()
        .status()
}

fn post_hook(client: &Client, path: &'static str, body: &[u8], sig: &str) -> Status {
    client
        .post(path)
        .header(ContentType::JSON)
        .header(Header::new("X-Pusher-Key", app::KEY))
        .header(Header::new("X-Pusher-Signature", sig.to_owned()))
        .body(body)
        .dispatch()
        .status()
}

fn routes(c: &mut Criterion) {
    let one = client(1);
    let hundred = client(100);
    let token = rocket_pusher::protocol::Token::new(app::KEY, app::SECRET);
    let hook = br#"{"time_ms":1700000000000,"events":[{"name":"member_added","channel":"presence-room","user_id":"alice"},{"name":"member_removed","channel":"presence-room","user_id":"bob"}]}"#;
    let sig = rocket_pusher::protocol::sign_webhook(&token, hook);

    let mut g = c.benchmark_group("route");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    for (name, path, body) in [
        ("floor_form", "/floor", AUTH),
        ("auth", "/pusher/auth", AUTH),
        ("presence_auth", "/pusher/auth", PRESENCE),
        ("user_auth", "/pusher/user-auth", "socket_id=123.456"),
    ] {
        assert_eq!(post_form(&one, path, body), Status::Ok, "{name}");
        g.bench_function(name, |b| b.iter(|| post_form(&one, path, body)));
    }
    for (name, path) in [
        ("floor_hook", "/floor"),
        ("hook_presence", "/pusher/events/presence"),
        ("verified_webhook", "/hooks/presence"),
    ] {
        assert_eq!(post_hook(&one, path, hook, &sig), Status::Ok, "{name}");
        g.bench_function(name, |b| b.iter(|| post_hook(&one, path, hook, &sig)));
    }
    for (name, client) in [("channel_routes_1", &one), ("channel_routes_100", &hundred)] {
        assert_eq!(post_form(client, "/pusher/auth", ROUTED), Status::Ok);
        g.bench_function(name, |b| {
            b.iter(|| post_form(client, "/pusher/auth", ROUTED))
        });
    }
    g.finish();
}

criterion_group!(benches, routes);
criterion_main!(benches);
