//! The embedded server's configuration: `transport = "embedded"` and the `server` table,
//! read by the fairing; bad values and unknown keys fail ignite with the key's name; the
//! page's pusher-js options point at the app itself.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use rocket::local::asynchronous::Client;
use rocket_pusher::ClientConfig;
use serde_json::json;

async fn ignite(server: serde_json::Value) -> Result<Client, rocket::Error> {
    Client::untracked(ws::rocket(server)).await
}

#[tokio::test]
async fn every_server_key_has_a_default_and_mounts_the_endpoints() {
    let client = ignite(json!({})).await.expect("ignites");
    let routes: Vec<String> = client
        .rocket()
        .routes()
        .map(|r| r.uri.to_string())
        .collect();
    assert!(routes.iter().any(|r| r == "/app/<key>"), "{routes:?}");
    assert!(routes.iter().any(|r| r == "/apps/<path..>"), "{routes:?}");
    assert!(
        client
            .rocket()
            .state::<rocket_pusher::server::Server>()
            .is_some()
    );
}

#[tokio::test]
async fn unknown_and_bad_server_keys_fail_ignite() {
    for bad in [
        json!({"activity_timout": 10}),
        json!({"activity_timeout": 0}),
        json!({"pong_timeout": -1.0}),
        json!({"max_channel_name_len": 201}),
        json!({"webhooks": [{"url": "ftp://x"}]}),
        json!({"webhooks": [{"url": "http://x", "events": ["channel_ocupied"]}]}),
        json!({"client_events": "yes"}),
        json!({"webhook_retry": {"first_delay": 0}}),
        json!({"webhook_retry": {"give_up_after": -1}}),
        json!({"webhook_retry": {"give_up": 10}}),
        json!({"max_channels_per_connection": 0}),
        json!({"authorized_connections_timeout": 0}),
        json!({"subscription_count_interval": -1.0}),
        json!({"webhooks": [{"url": "http://x", "events": ["subscription_counts"]}]}),
    ] {
        let Err(e) = ignite(bad.clone()).await else {
            panic!("{bad} ignites");
        };
        // Failed in the fairing, which names the key (and reading the kind handles it).
        assert!(
            matches!(e.kind(), rocket::error::ErrorKind::FailedFairings(f) if f[0].name == "Pusher"),
            "{bad}: {e}"
        );
    }
}

#[tokio::test]
async fn the_pages_options_point_at_the_app_itself() {
    let figment = ws::rocket(json!({}))
        .figment()
        .clone()
        .merge(("port", 7411));
    let client = Client::untracked(ws::rocket(json!({})).configure(figment))
        .await
        .expect("ignites");
    let config = client.rocket().state::<ClientConfig>().expect("managed");
    let options = config.pusher_js_options();
    assert_eq!(options["wsHost"], "127.0.0.1");
    assert_eq!(options["wsPort"], 7411);
    assert_eq!(options["forceTLS"], false);
}

#[tokio::test]
async fn without_the_fairing_the_client_refuses_embedded() {
    let mut config = rocket_pusher::config::PusherConfig::new("1", "k", "s");
    config.transport = rocket_pusher::config::TransportKind::Embedded;
    let err = rocket_pusher::Pusher::from_config(&config).unwrap_err();
    assert!(err.to_string().contains("PusherFairing"), "{err}");
}
