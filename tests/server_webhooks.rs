//! Webhooks from the embedded server (docs/server-conformance.md, entries 22, 41 and
//! 55-59): signed so that the crate's own `VerifiedWebhook` accepts them, occupied/vacated
//! and member events with the delay that swallows a quick rejoin, client events with their
//! fields, one occupied per channel however often it is joined, and the same POST again
//! while the receiver fails (a 5xx, 408, 429), never after it refused (another 4xx), and
//! meanwhile the other receivers served.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use std::collections::VecDeque;
use std::sync::Mutex;
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

/// What the raw receiver answers next (200 once these are used up), and where it puts
/// each body it gets, as sent.
struct Script(Mutex<VecDeque<u16>>, mpsc::UnboundedSender<String>);

#[post("/raw", data = "<body>")]
fn raw(body: String, script: &State<Script>) -> Status {
    let _ = script.1.send(body);
    let code = script.0.lock().unwrap().pop_front().unwrap_or(200);
    Status::from_code(code).unwrap()
}

/// The receiver apps' configuration: loopback, any port, the same credentials.
fn receiver_figment() -> rocket::figment::Figment {
    rocket::figment::Figment::from(rocket::Config::debug_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", 0))
        .merge(("log_level", "off"))
        .merge(("pusher", json!({"app_id": ws::APP_ID, "key": ws::KEY, "secret": ws::SECRET, "transport": "recording"})))
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
    let receiver = ws::launch(
        rocket::custom(receiver_figment())
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

/// A server app whose webhooks go to a receiver answering `answers` first, retrying
/// after 0.05 s, then 0.1 s, 0.2 s… until `give_up_after` seconds of waiting; the bodies
/// as received.
async fn scripted(
    answers: &[u16],
    give_up_after: f64,
) -> (ws::App, mpsc::UnboundedReceiver<String>) {
    let (url, rx) = raw_receiver(answers).await;
    let retry = json!({"first_delay": 0.05, "give_up_after": give_up_after});
    let app =
        start(json!({"webhook_delay": 0.1, "webhook_retry": retry, "webhooks": [{"url": url}]}))
            .await;
    (app, rx)
}

/// A raw receiver answering `answers` first: its URL, and the bodies as received.
async fn raw_receiver(answers: &[u16]) -> (String, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let script = Script(Mutex::new(answers.iter().copied().collect()), tx);
    let receiver = ws::launch(
        rocket::custom(receiver_figment())
            .attach(PusherFairing::new())
            .manage(script)
            .mount("/", routes![raw]),
    )
    .await;
    (format!("http://127.0.0.1:{}/raw", receiver.port), rx)
}

/// The next body, with the one channel its one event is about.
async fn next_raw(rx: &mut mpsc::UnboundedReceiver<String>) -> (String, String) {
    let body = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("a webhook arrives")
        .expect("the receiver runs");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let channel = v["events"][0]["channel"].as_str().unwrap().to_owned();
    (body, channel)
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
async fn a_member_who_leaves_and_comes_back_within_the_delay_is_neither_removed_nor_added() {
    let (app, mut rx) = apps(1.0).await;
    let mut a = Ws::connect(&app).await;
    a.join_presence("presence-back", "alice", json!(null)).await;
    let mut b = Ws::connect(&app).await;
    b.join_presence("presence-back", "bob", json!(null)).await;
    assert_eq!(next(&mut rx).await, occupied("presence-back"));
    next(&mut rx).await;
    next(&mut rx).await;
    // Bob's page reloads: his socket goes, a new one joins at once.
    drop(b);
    let mut b = Ws::connect(&app).await;
    b.join_presence("presence-back", "bob", json!(null)).await;
    // Carol joins after, and her member_removed is the next webhook at all.
    let mut c = Ws::connect(&app).await;
    c.join_presence("presence-back", "carol", json!(null)).await;
    let carol = |name| {
        serde_json::from_value::<Event>(
            json!({"name": name, "channel": "presence-back", "user_id": "carol"}),
        )
        .unwrap()
    };
    assert_eq!(next(&mut rx).await, carol("member_added"));
    drop(c);
    assert_eq!(next(&mut rx).await, carol("member_removed"));
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

/// Joins a channel on a server whose receiver answers `answers` first: the receiver gets
/// the same body `tries` times in all, then the next event's, nothing more of the first.
async fn assert_tries(answers: &[u16], give_up_after: f64, tries: usize) {
    let (app, mut rx) = scripted(answers, give_up_after).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_public("tried").await;
    let (first, channel) = next_raw(&mut rx).await;
    assert_eq!(channel, "tried");
    for _ in 1..tries {
        // The same time_ms and events, so the same signature: the webhook, not a new one.
        assert_eq!(next_raw(&mut rx).await.0, first);
    }
    ws.join_public("after").await;
    assert_eq!(next_raw(&mut rx).await.1, "after");
}

#[tokio::test]
async fn a_failing_receiver_gets_the_same_body_again_and_nothing_more_once_it_takes_it() {
    assert_tries(&[500, 503, 408, 429], 60.0, 5).await;
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_is_given_up_after_doubling_delays() {
    // 0.05 + 0.1 + 0.2 s of waits pass the 0.3 s budget: four tries in all (evenly spaced
    // waits of 0.05 s would make seven).
    assert_tries(&[500; 4], 0.3, 4).await;
}

#[tokio::test]
async fn a_receiver_that_refuses_with_another_4xx_is_not_asked_again() {
    assert_tries(&[403], 60.0, 1).await;
}

#[tokio::test]
async fn a_failing_receiver_holds_up_only_its_own_webhooks() {
    let (failing, mut asked) = raw_receiver(&[500; 1000]).await;
    let (healthy, mut got) = raw_receiver(&[]).await;
    // A minute of retries for the failing one: the other must not wait for them.
    let retry = json!({"first_delay": 0.05, "give_up_after": 60.0});
    let app = start(json!({"webhook_delay": 0.1, "webhook_retry": retry,
        "webhooks": [{"url": failing}, {"url": healthy}]}))
    .await;
    let mut ws = Ws::connect(&app).await;
    ws.join_public("first").await;
    ws.join_public("second").await;
    // The failing receiver is asked for the first webhook again and again...
    let (body, channel) = next_raw(&mut asked).await;
    assert_eq!(channel, "first");
    assert_eq!(next_raw(&mut asked).await.0, body);
    // ...while the other gets both channels' webhooks, in order (in one POST or two).
    let mut channels = Vec::new();
    while channels.len() < 2 {
        let (body, _) = next_raw(&mut got).await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        for e in v["events"].as_array().unwrap() {
            channels.push(e["channel"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(channels, ["first", "second"]);
}

#[tokio::test]
async fn a_duplicate_subscribe_sends_no_second_occupied_or_member_added() {
    let (app, mut rx) = apps(0.1).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_presence("presence-twice", "alice", json!(null))
        .await;
    assert_eq!(next(&mut rx).await, occupied("presence-twice"));
    next(&mut rx).await;
    let again = ws
        .join_presence("presence-twice", "alice", json!(null))
        .await;
    assert_eq!(again["presence"]["count"], 1);
    ws.join_public("twice").await;
    ws.join_public("twice").await;
    // The next webhook is about the public channel, once: none for the repeats.
    assert_eq!(next(&mut rx).await, occupied("twice"));
    ws.join_public("marker").await;
    assert_eq!(next(&mut rx).await, occupied("marker"));
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
