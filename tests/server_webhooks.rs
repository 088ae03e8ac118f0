//! Webhooks from the embedded server (checklist §13, lines 55-58): signed so that the
//! crate's own `VerifiedWebhook` accepts them, occupied/vacated and member events with the
//! delay that swallows a quick rejoin, client events with their fields.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use std::sync::atomic::{AtomicUsize, Ordering};

use rocket::http::Status;
use rocket::{State, post, routes};
use rocket_pusher::protocol::Event;
use rocket_pusher::{PusherFairing, VerifiedWebhook};
use serde_json::json;
use tokio::sync::mpsc;
use ws::{Ws, start};

type Received = mpsc::UnboundedSender<Event>;

/// How many POSTs the receiver still answers with 500.
struct Failures(AtomicUsize);

#[post("/hooks", data = "<hook>")]
fn hooks(hook: VerifiedWebhook<Event>, tx: &State<Received>, failures: &State<Failures>) -> Status {
    let fail = failures
        .0
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok();
    if fail {
        return Status::InternalServerError;
    }
    for e in hook.into_inner().events {
        let _ = tx.send(e);
    }
    Status::Ok
}

/// A receiver app (another Rocket app with the same credentials) and the server app
/// whose webhooks go to it.
async fn apps(delay: f64) -> (ws::App, mpsc::UnboundedReceiver<Event>) {
    apps_failing(delay, 0).await
}

/// As [`apps`], the receiver answering its first `failures` POSTs with 500.
async fn apps_failing(delay: f64, failures: usize) -> (ws::App, mpsc::UnboundedReceiver<Event>) {
    apps_with(json!({"webhook_delay": delay}), json!({}), failures).await
}

/// A receiver and a server app with these `server` options (beside `client_events`), its
/// webhook target `target` (beside the `url`).
async fn apps_with(
    options: serde_json::Value,
    target: serde_json::Value,
    failures: usize,
) -> (ws::App, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let figment = rocket::figment::Figment::from(rocket::Config::debug_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", 0))
        .merge(("log_level", "off"))
        .merge(("pusher", json!({"app_id": ws::APP_ID, "key": ws::KEY, "secret": ws::SECRET, "transport": "recording"})));
    let receiver = ws::launch(
        rocket::custom(figment)
            .attach(PusherFairing::new())
            .manage(tx)
            .manage(Failures(AtomicUsize::new(failures)))
            .mount("/", routes![hooks]),
    )
    .await;
    let mut target = target;
    target["url"] = json!(format!("http://127.0.0.1:{}/hooks", receiver.port));
    let mut options = options;
    options["client_events"] = json!(true);
    options["webhooks"] = json!([target]);
    (start(options).await, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("a webhook arrives")
        .expect("the receiver runs")
}

fn occupied(c: &str) -> Event {
    serde_json::from_value(json!({"name": "channel_occupied", "channel": c})).unwrap()
}

fn vacated(c: &str) -> Event {
    serde_json::from_value(json!({"name": "channel_vacated", "channel": c})).unwrap()
}

#[tokio::test]
async fn occupied_then_vacated_after_the_delay_signed_for_verified_webhook() {
    let (app, mut rx) = apps(0.1).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_public("room").await;
    assert_eq!(next(&mut rx).await, occupied("room"));
    drop(ws);
    assert_eq!(next(&mut rx).await, vacated("room"));
}

#[tokio::test]
async fn a_quick_rejoin_sends_neither_vacated_nor_a_second_occupied() {
    let (app, mut rx) = apps(1.0).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_public("room").await;
    assert_eq!(next(&mut rx).await, occupied("room"));
    ws.send(json!({"event": "pusher:unsubscribe", "data": {"channel": "room"}}))
        .await;
    ws.join_public("room").await;
    // A later departure elsewhere: its vacated comes after the cancelled one would have.
    ws.join_public("marker").await;
    ws.send(json!({"event": "pusher:unsubscribe", "data": {"channel": "marker"}}))
        .await;
    ws.assert_quiet().await;
    assert_eq!(next(&mut rx).await, occupied("marker"));
    assert_eq!(next(&mut rx).await, vacated("marker"));
}

#[tokio::test]
async fn member_events_and_client_events_carry_their_fields() {
    let (app, mut rx) = apps(0.1).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_presence("presence-w", "alice", json!(null)).await;
    assert_eq!(next(&mut rx).await, occupied("presence-w"));
    let added = next(&mut rx).await;
    assert_eq!(
        added,
        serde_json::from_value(
            json!({"name": "member_added", "channel": "presence-w", "user_id": "alice"})
        )
        .unwrap()
    );
    b.join_presence("presence-w", "bob", json!(null)).await;
    next(&mut rx).await;
    a.send(json!({"event": "client-note", "channel": "presence-w", "data": {"t": 1}}))
        .await;
    let Event::ClientEvent(e) = next(&mut rx).await else {
        panic!("a client event")
    };
    assert_eq!(e.channel, "presence-w");
    assert_eq!(e.event, "client-note");
    assert_eq!(e.data, r#"{"t":1}"#);
    assert_eq!(e.socket_id, a.socket_id);
    assert_eq!(e.user_id.as_deref(), Some("alice"));
    drop(b);
    let removed = next(&mut rx).await;
    assert_eq!(
        removed,
        serde_json::from_value(
            json!({"name": "member_removed", "channel": "presence-w", "user_id": "bob"})
        )
        .unwrap()
    );
}

#[tokio::test]
async fn a_receiver_that_fails_gets_the_webhook_again_until_it_answers_2xx() {
    let (app, mut rx) = apps_failing(0.1, 1).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_public("retried").await;
    assert_eq!(next(&mut rx).await, occupied("retried"));
}

fn cache_miss(c: &str) -> Event {
    serde_json::from_value(json!({"name": "cache_miss", "channel": c})).unwrap()
}

#[tokio::test]
async fn subscribers_of_an_empty_cache_channel_cause_one_cache_miss_webhook_each_get_the_frame() {
    let (app, mut rx) = apps(0.1).await;
    let mut first = Ws::connect(&app).await;
    let mut second = Ws::connect(&app).await;
    for ws in [&mut first, &mut second] {
        ws.join_public("cache-hook").await;
        ws.expect("pusher:cache_miss").await;
    }
    // A later channel's hooks come after any second cache_miss would have.
    first.join_public("cache-marker").await;
    assert_eq!(next(&mut rx).await, occupied("cache-hook"));
    assert_eq!(next(&mut rx).await, cache_miss("cache-hook"));
    assert_eq!(next(&mut rx).await, occupied("cache-marker"));
    assert_eq!(next(&mut rx).await, cache_miss("cache-marker"));
}

#[tokio::test]
async fn the_next_cache_miss_webhook_waits_for_a_cached_event_or_a_vacated_channel() {
    // A TTL of 0: every cached event has expired by the next subscription.
    let (app, mut rx) = apps_with(
        json!({"webhook_delay": 0.1, "cache_ttl": 0}),
        json!({"events": ["cache_miss", "channel_vacated"]}),
        0,
    )
    .await;
    let mut stays = Ws::connect(&app).await;
    stays.join_public("cache-a").await;
    stays.expect("pusher:cache_miss").await;
    assert_eq!(next(&mut rx).await, cache_miss("cache-a"));
    app.pusher.trigger("cache-a", "e", "{}").await.unwrap();
    stays.expect("e").await;
    let mut later = Ws::connect(&app).await;
    later.join_public("cache-a").await;
    later.expect("pusher:cache_miss").await;
    assert_eq!(next(&mut rx).await, cache_miss("cache-a"));
    drop((stays, later));
    assert_eq!(next(&mut rx).await, vacated("cache-a"));
    Ws::connect(&app).await.join_public("cache-a").await;
    assert_eq!(next(&mut rx).await, cache_miss("cache-a"));
}

#[tokio::test]
async fn subscription_count_webhooks_follow_each_change_when_asked_for() {
    let (app, mut rx) = apps_with(
        json!({"subscription_count": true}),
        json!({"events": ["subscription_count"]}),
        0,
    )
    .await;
    let count = |n: u64| -> Event {
        serde_json::from_value(
            json!({"name": "subscription_count", "channel": "room", "subscription_count": n}),
        )
        .unwrap()
    };
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_public("room").await;
    assert_eq!(next(&mut rx).await, count(1));
    b.join_public("room").await;
    assert_eq!(next(&mut rx).await, count(2));
    drop(b);
    assert_eq!(next(&mut rx).await, count(1));
    drop(a);
    assert_eq!(next(&mut rx).await, count(0));
}
