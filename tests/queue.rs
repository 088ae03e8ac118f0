//! Queued delivery (`Trigger::queue`) against the mock API on 127.0.0.1: batching while a
//! request is in flight, order per channel under random delays and random transient
//! failures over several lanes, the bounded queue, retries, permanent failures reaching
//! the callback and the counters, flush and shutdown (drained, or dropped after the
//! deadline; twice at once; while requests keep queueing; with a callback that blocks),
//! the runtime ending, the client being dropped, queueing off tokio threads, what logs and
//! Debug forms may show, and the fairing (liftoff, routes, `terminate()`).
//!
//! No test sleeps to let things happen: each waits on what the mock observed, or on
//! `flush()` / `shutdown()`. Every test whose client outlives it ends by checking that the
//! counts add up.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mock_api.rs"]
mod mock_api;
#[path = "support/queue_kit.rs"]
mod queue_kit;
#[path = "support/rocket_app.rs"]
mod rocket_app;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mock_api::{Event, MockApi, Reply, Rng};
use queue_kit::{APP_ID, KEY, SECRET, builder, hold_event_0_in_flight, queue_n};
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use rocket::{State, post, routes};
use rocket_pusher::client::{QueueStats, RetryPolicy};
use rocket_pusher::config::QueueConfig;
use rocket_pusher::error::{QueueError, ValidationError};
use rocket_pusher::protocol::{Credentials, MasterKey, decrypt_payload};
use rocket_pusher::testing::{self, LocalClientExt};
use rocket_pusher::{Error, Pusher, PusherFairing, SocketId};
use serde_json::json;

/// 32 bytes 0x00..0x1f.
const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The counts of a drained queue add up: nothing in flight, every queued event sent,
/// failed or dropped.
fn assert_drained(pusher: &Pusher) -> QueueStats {
    let stats = pusher.queue_stats();
    assert_eq!(stats.in_flight, 0, "{stats}");
    assert_eq!(stats.pending(), 0, "{stats}");
    assert_eq!(
        stats.queued,
        stats.sent + stats.failed + stats.dropped,
        "{stats}"
    );
    stats
}

/// The `n` field of each event's JSON data.
fn numbers(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .map(|e| {
            let data: serde_json::Value = serde_json::from_str(&e.data).unwrap();
            data["n"].as_u64().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn events_queued_during_a_request_go_out_in_batches_after_it() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default().lanes(1))
        .build()
        .unwrap();
    hold_event_0_in_flight(&api, &pusher, "orders").await;
    assert_eq!(pusher.queue_stats().in_flight, 1);

    const N: u64 = 25;
    for n in 1..=N {
        queue_n(&pusher, "orders", n);
    }
    assert_eq!(pusher.queue_stats().pending(), N + 1);
    api.release();
    pusher.flush().await;

    let requests = api.requests();
    let batch = 10; // max_batch_events' default
    assert_eq!(
        requests.len(),
        1 + N.div_ceil(batch) as usize,
        "{requests:#?}"
    );
    assert!(
        requests[0].path.ends_with("/events"),
        "{}",
        requests[0].path
    );
    let sizes: Vec<usize> = requests[1..].iter().map(|r| r.events().len()).collect();
    assert_eq!(sizes, [10, 10, 5]);
    for r in &requests {
        assert!(r.auth.is_ok(), "{r:#?}");
    }
    for r in &requests[1..] {
        assert_eq!(r.path, format!("/apps/{APP_ID}/batch_events"));
    }
    assert_eq!(numbers(&api.delivered()), (0..=N).collect::<Vec<_>>());
    let stats = assert_drained(&pusher);
    assert_eq!((stats.queued, stats.sent, stats.retried), (N + 1, N + 1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_per_channel_holds_under_random_delays_and_several_lanes() {
    let api = MockApi::start(KEY, SECRET).await;
    api.random_delays(7, Duration::from_millis(2));
    let pusher = builder(&api, QueueConfig::default().lanes(4))
        .build()
        .unwrap();
    const EVENTS: usize = 4000;
    let queued = queue_numbered(&pusher, 42, 40, EVENTS);
    pusher.flush().await;

    let delivered = api.delivered();
    assert_eq!(delivered.len(), EVENTS);
    assert_in_order(delivered, &queued);
    // Batched: far fewer requests than events.
    assert!(
        api.requests().len() < EVENTS / 2,
        "{}",
        api.requests().len()
    );
    let stats = assert_drained(&pusher);
    assert_eq!(stats.sent, EVENTS as u64);
}

#[tokio::test]
async fn a_full_queue_refuses_with_the_error_and_loses_nothing() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default().lanes(1).capacity(5))
        .build()
        .unwrap();
    hold_event_0_in_flight(&api, &pusher, "orders").await;
    for n in 1..5 {
        queue_n(&pusher, "orders", n);
    }
    // In flight counts too: 1 + 4 = 5.
    let full = pusher
        .trigger("orders", "numbered", &json!({ "n": 5 }))
        .queue();
    assert!(
        matches!(full, Err(Error::Queue(QueueError::Full { capacity: 5 }))),
        "{full:?}"
    );
    assert_eq!(
        full.unwrap_err().to_string(),
        "the queue is full: 5 events are waiting or in flight"
    );
    let stats = pusher.queue_stats();
    assert_eq!((stats.queued, stats.pending()), (5, 5));

    api.release();
    pusher.flush().await;
    // Room again; a trigger naming two channels needs two places, and takes them.
    pusher
        .trigger(["orders", "audit"], "numbered", &json!({ "n": 5 }))
        .queue()
        .unwrap();
    pusher.flush().await;
    let delivered = api.delivered();
    assert_eq!(numbers(&delivered), [0, 1, 2, 3, 4, 5, 5]);
    let stats = assert_drained(&pusher);
    assert_eq!((stats.queued, stats.sent), (7, 7));
}

#[tokio::test]
async fn a_trigger_naming_several_channels_is_taken_whole_or_not_at_all() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default().lanes(1).capacity(3))
        .build()
        .unwrap();
    hold_event_0_in_flight(&api, &pusher, "a").await;
    let three = pusher
        .trigger(["a", "b", "c"], "numbered", &json!({ "n": 1 }))
        .queue();
    assert!(
        matches!(three, Err(Error::Queue(QueueError::Full { capacity: 3 }))),
        "{three:?}"
    );
    assert_eq!(pusher.queue_stats().queued, 1, "nothing of it was queued");
    api.release();
    pusher.flush().await;
    assert_eq!(api.delivered().len(), 1);
    assert_drained(&pusher);
}

#[tokio::test]
async fn transient_failures_are_retried_and_every_event_arrives_in_order() {
    let api = MockApi::start(KEY, SECRET).await;
    api.reply_once(Reply::new(503, "down"));
    api.reply_once(Reply::new(429, "slow down").retry_after("0"));
    api.reply_once(Reply::Reset {
        status: 200,
        sent: 0,
        len: 10,
    });
    api.reply_once(Reply::new(502, "bad gateway"));
    let pusher = builder(&api, QueueConfig::default().lanes(1))
        .build()
        .unwrap();
    for n in 0..12 {
        queue_n(&pusher, "orders", n);
    }
    pusher.flush().await;

    assert_eq!(numbers(&api.delivered()), (0..12).collect::<Vec<_>>());
    let requests = api.requests();
    // The first request was tried five times (four failures), the same body each time.
    let first = requests[0].events();
    for r in &requests[1..5] {
        assert_eq!(r.events(), first);
    }
    let stats = assert_drained(&pusher);
    assert_eq!(stats.retried, 4 * first.len() as u64, "{stats}");
    assert_eq!((stats.sent, stats.failed), (12, 0));
}

/// What the failure callback was given: the error's status and the lost events.
type Failures = Arc<Mutex<Vec<(Option<u16>, Vec<(String, String)>)>>>;

fn recording_failures() -> (Failures, impl Fn(&rocket_pusher::client::QueueFailure)) {
    let seen: Failures = Arc::default();
    let sink = Arc::clone(&seen);
    let callback = move |f: &rocket_pusher::client::QueueFailure| {
        let events = f
            .events()
            .iter()
            .map(|q| (q.channel().to_string(), q.name().to_string()))
            .collect();
        sink.lock().unwrap().push((f.error().status(), events));
    };
    (seen, callback)
}

#[tokio::test]
async fn a_4xx_reaches_the_callback_the_counters_and_the_log() {
    let logs = rocket_app::capture_logs();
    let api = MockApi::start(KEY, SECRET).await;
    api.reply_once(Reply::new(400, r#"{"error":"nope"}"#));
    let (failures, callback) = recording_failures();
    let pusher = builder(&api, QueueConfig::default().lanes(1))
        .on_queue_failure(callback)
        .build()
        .unwrap();
    pusher
        .trigger("private-orders.17", "shipped", "MARKER-DATA-of-the-event")
        .queue()
        .unwrap();
    pusher.flush().await;
    queue_n(&pusher, "private-orders.17", 1);
    pusher.flush().await;

    assert_eq!(
        *failures.lock().unwrap(),
        [(
            Some(400),
            vec![("private-orders.17".to_owned(), "shipped".to_owned())]
        )]
    );
    let stats = assert_drained(&pusher);
    assert_eq!((stats.failed, stats.sent, stats.retried), (1, 1, 0));
    assert_eq!(numbers(&api.delivered()), [1]);
    let lines = logs.lines();
    let line = lines
        .iter()
        .find(|l| l.contains("shipped on private-orders.17"))
        .unwrap_or_else(|| panic!("no failure logged: {lines:#?}"));
    assert!(line.contains("400 Bad Request"), "{line}");
    for l in &lines {
        assert!(!l.contains("MARKER-DATA"), "data was logged: {l}");
        assert!(!l.contains(SECRET), "the secret was logged: {l}");
    }
}

#[tokio::test]
async fn retries_exhausted_is_a_failure_and_the_lane_moves_on() {
    let api = MockApi::start(KEY, SECRET).await;
    for _ in 0..5 {
        api.reply_once(Reply::new(503, "down"));
    }
    let (failures, callback) = recording_failures();
    let pusher = builder(&api, QueueConfig::default().lanes(1))
        .on_queue_failure(callback)
        .build()
        .unwrap();
    queue_n(&pusher, "orders", 0);
    pusher.flush().await;
    queue_n(&pusher, "orders", 1);
    pusher.flush().await;

    assert_eq!(
        *failures.lock().unwrap(),
        [(
            Some(503),
            vec![("orders".to_owned(), "numbered".to_owned())]
        )]
    );
    assert_eq!(api.requests().len(), 6);
    let stats = assert_drained(&pusher);
    assert_eq!((stats.failed, stats.sent, stats.retried), (1, 1, 4));
}

#[tokio::test]
async fn a_panicking_callback_is_logged_and_the_lane_goes_on() {
    let api = MockApi::start(KEY, SECRET).await;
    api.reply_once(Reply::new(404, "no such app"));
    let pusher = builder(&api, QueueConfig::default().lanes(1))
        .on_queue_failure(|_| panic!("the app's callback fails"))
        .build()
        .unwrap();
    queue_n(&pusher, "orders", 0);
    queue_n(&pusher, "orders", 1);
    pusher.flush().await;
    queue_n(&pusher, "orders", 2);
    pusher.flush().await;
    assert!(!api.delivered().is_empty());
    assert_eq!(numbers(&api.delivered()).last(), Some(&2));
    let stats = assert_drained(&pusher);
    assert_eq!(stats.sent + stats.failed, 3);
}

#[tokio::test]
async fn shutdown_drains_then_refuses() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default().lanes(2))
        .build()
        .unwrap();
    for n in 0..50 {
        queue_n(&pusher, &format!("room-{}", n % 5), n);
    }
    let stats = pusher.shutdown(Duration::from_secs(30)).await;
    assert_eq!((stats.queued, stats.sent, stats.dropped), (50, 50, 0));
    assert_eq!(api.delivered().len(), 50);
    assert_eq!(stats, assert_drained(&pusher));

    let late = pusher.trigger("room-0", "late", "x").queue();
    assert!(
        matches!(late, Err(Error::Queue(QueueError::Closed))),
        "{late:?}"
    );
    // A clone shares the queue, closed too; flush and shutdown have nothing left to do.
    let clone = pusher.clone();
    assert!(clone.trigger("room-0", "late", "x").queue().is_err());
    clone.flush().await;
    assert_eq!(clone.shutdown(Duration::ZERO).await, stats);
    // Awaited triggers still work.
    clone.trigger("room-0", "awaited", "x").await.unwrap();
}

#[tokio::test]
async fn shutdown_with_a_sink_that_never_answers_drops_and_says_so() {
    let logs = rocket_app::capture_logs();
    let api = MockApi::start(KEY, SECRET).await;
    api.reply(Reply::Stall);
    let pusher = builder(&api, QueueConfig::default().lanes(2))
        .build()
        .unwrap();
    for n in 0..30 {
        queue_n(&pusher, &format!("stalled-{}", n % 3), n);
    }
    // Both lanes' first requests are stuck.
    api.wait_for_requests(2).await;
    let stats = pusher.shutdown(Duration::from_millis(100)).await;
    assert_eq!((stats.queued, stats.sent, stats.dropped), (30, 0, 30));
    assert_eq!(stats, assert_drained(&pusher));
    let lines = logs.lines();
    assert!(
        lines.iter().any(|l| l.contains("ERROR")
            && l.contains("30 event(s) not delivered within 100ms were dropped")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("dropped undelivered") && l.contains("numbered on stalled-")),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_queued() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default()).build().unwrap();
    let attribute = |r: Result<(), Error>| {
        assert!(
            matches!(r, Err(Error::Validation(ValidationError::Attribute(_)))),
            "{r:?}"
        );
    };
    attribute(pusher.trigger("a", "e", "x").with_user_count().queue());
    attribute(
        pusher
            .trigger("a", "e", "x")
            .with_subscription_count()
            .queue(),
    );
    attribute(
        pusher
            .trigger("a", "e", "x")
            .retry(RetryPolicy::new(2))
            .queue(),
    );
    let cases: [(Result<(), Error>, ValidationError); 4] = [
        (
            pusher.trigger("bad name", "e", "x").queue(),
            ValidationError::ChannelNameCharacter { ch: ' ' },
        ),
        (
            pusher.trigger("a", "", "x").queue(),
            ValidationError::EmptyEventName,
        ),
        (
            pusher.trigger("private-encrypted-a", "e", "x").queue(),
            ValidationError::NoMasterKey,
        ),
        (
            pusher.trigger("a", "e", &"x".repeat(10 * 1024 + 1)).queue(),
            ValidationError::DataTooLarge {
                len: 10 * 1024 + 1,
                max: 10 * 1024,
            },
        ),
    ];
    for (got, want) in cases {
        match got {
            Err(Error::Validation(v)) => assert_eq!(v, want),
            other => panic!("expected {want:?}, got {other:?}"),
        }
    }
    let empty: [&str; 0] = [];
    assert!(matches!(
        pusher.trigger(empty, "e", "x").queue(),
        Err(Error::Validation(ValidationError::NoChannels))
    ));
    pusher.flush().await;
    assert_eq!(pusher.queue_stats(), QueueStats::default());
    assert!(api.requests().is_empty());
}

#[tokio::test]
async fn an_encrypted_channel_among_others_is_sealed_for_itself() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default())
        .encryption_master_key_base64(MASTER_KEY)
        .build()
        .unwrap();
    let sender = SocketId::new("123.456").unwrap();
    pusher
        .trigger(
            ["private-encrypted-inbox", "orders"],
            "note",
            &json!({"text": "the plans"}),
        )
        .exclude(sender)
        .queue()
        .unwrap();
    pusher.flush().await;
    let delivered = api.delivered();
    assert_eq!(delivered.len(), 2);
    let by: BTreeMap<&str, &Event> = delivered.iter().map(|e| (e.channel.as_str(), e)).collect();
    assert_eq!(by["orders"].data, r#"{"text":"the plans"}"#);
    let sealed = &by["private-encrypted-inbox"].data;
    assert!(!sealed.contains("the plans"), "{sealed}");
    let master = MasterKey::from_base64(MASTER_KEY).unwrap();
    let plain = decrypt_payload(&master, "private-encrypted-inbox", sealed).unwrap();
    assert_eq!(plain, br#"{"text":"the plans"}"#);
    for e in &delivered {
        assert_eq!(e.name, "note");
        assert_eq!(e.socket_id.as_deref(), Some("123.456"));
    }
    assert_drained(&pusher);
}

#[derive(serde::Serialize, rocket_pusher::Broadcast)]
#[broadcast(
    event = "note.added",
    channel = "private-encrypted-inbox",
    channel = format!("notes-{}", self.board),
)]
struct NoteAdded {
    board: u32,
    text: String,
}

#[tokio::test]
async fn a_typed_broadcast_queues_with_an_encrypted_channel_among_others() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default())
        .encryption_master_key_base64(MASTER_KEY)
        .build()
        .unwrap();
    let note = NoteAdded {
        board: 3,
        text: "the plans".into(),
    };
    // Awaited, an encrypted channel must be the only one; queued, each channel's event is
    // sealed for it.
    assert!(pusher.broadcast(&note).await.is_err());
    pusher.broadcast(&note).queue().unwrap();
    pusher.flush().await;
    let delivered = api.delivered();
    let by: BTreeMap<&str, &Event> = delivered.iter().map(|e| (e.channel.as_str(), e)).collect();
    assert_eq!(by.len(), 2);
    assert_eq!(by["notes-3"].data, r#"{"board":3,"text":"the plans"}"#);
    let master = MasterKey::from_base64(MASTER_KEY).unwrap();
    let plain = decrypt_payload(
        &master,
        "private-encrypted-inbox",
        &by["private-encrypted-inbox"].data,
    );
    assert_eq!(plain.unwrap(), br#"{"board":3,"text":"the plans"}"#);
    assert!(delivered.iter().all(|e| e.name == "note.added"));
    let stats = assert_drained(&pusher);
    assert_eq!((stats.queued, stats.sent), (2, 2));
}

#[test]
fn outside_a_runtime_the_dispatcher_cannot_start() {
    let pusher = Pusher::builder(APP_ID, KEY, SECRET).build().unwrap();
    let r = pusher.trigger("orders", "e", "x").queue();
    assert!(
        matches!(r, Err(Error::Queue(QueueError::NoRuntime))),
        "{r:?}"
    );
    // The same with the recording transport, so an app's tests see what production does.
    let recording = Pusher::recording(Credentials::new(APP_ID, KEY, SECRET));
    let r = recording.trigger("orders", "e", "x").queue();
    assert!(
        matches!(r, Err(Error::Queue(QueueError::NoRuntime))),
        "{r:?}"
    );
    assert_eq!(pusher.queue_stats(), QueueStats::default());
}

#[test]
fn when_the_runtime_ends_its_events_are_counted_dropped_and_the_queue_closes() {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let api = server.block_on(MockApi::start(KEY, SECRET));
    api.reply(Reply::Stall);
    let pusher = builder(&api, QueueConfig::default().lanes(1))
        .build()
        .unwrap();

    let app = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    app.block_on(async {
        for n in 0..8 {
            queue_n(&pusher, "orders", n);
        }
        api.wait_for_requests(1).await;
    });
    drop(app);

    let stats = assert_drained(&pusher);
    assert_eq!((stats.queued, stats.dropped), (8, 8));
    let again = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    again.block_on(async {
        let r = pusher.trigger("orders", "e", "x").queue();
        assert!(matches!(r, Err(Error::Queue(QueueError::Closed))), "{r:?}");
        pusher.flush().await;
    });
    assert_eq!(assert_drained(&pusher), stats);
}

#[tokio::test]
async fn a_dropped_client_delivers_what_it_queued_and_then_lets_go() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default().lanes(2))
        .build()
        .unwrap();
    for n in 0..20 {
        queue_n(&pusher, &format!("room-{}", n % 4), n);
    }
    drop(pusher);
    api.wait_for_events(20).await;
    // The lanes end once their senders are gone, and with them the last reference to the
    // HTTP client: its connections close. A cycle would keep them open forever.
    api.wait_until_connections_closed().await;
    let mut got = numbers(&api.delivered());
    got.sort_unstable();
    assert_eq!(got, (0..20).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_recording_transport_records_at_once() {
    let pusher = Pusher::recording(Credentials::new(APP_ID, KEY, SECRET));
    pusher
        .trigger(["a", "b"], "created", &json!({ "id": 1 }))
        .queue()
        .unwrap();
    // No flush needed: an app's test reads it right away.
    let events = pusher.recorder().unwrap().events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].channels, ["a"]);
    assert_eq!(events[1].channels, ["b"]);
    let stats = assert_drained(&pusher);
    assert_eq!((stats.queued, stats.sent), (2, 2));
    assert_eq!(
        pusher.shutdown(Duration::ZERO).await.sent,
        2,
        "shutdown reports the counts"
    );
    assert!(pusher.trigger("a", "e", "x").queue().is_err());
}

// ---- the fairing ------------------------------------------------------------------------

#[post("/orders/<id>")]
fn ship(id: u64, pusher: &State<Pusher>) -> Result<Status, Error> {
    pusher
        .trigger(
            format!("private-orders.{id}"),
            "shipped",
            &json!({ "n": id }),
        )
        .queue()?;
    Ok(Status::Accepted)
}

fn app(
    api: &MockApi,
    fairing: PusherFairing,
    queue: serde_json::Value,
) -> rocket::Rocket<rocket::Build> {
    rocket_app::capture_logs();
    rocket_app::rocket_with(
        fairing,
        json!({
            "key": KEY, "secret": SECRET, "app_id": APP_ID,
            "host": "127.0.0.1", "port": api.port(), "use_tls": false,
            "retry": { "attempts": 3, "initial_delay": 0.001, "max_delay": 0.01 },
            "queue": queue,
        }),
    )
    .mount("/", routes![ship])
}

#[rocket::async_test]
async fn the_fairing_starts_the_queue_and_terminate_drains_it() {
    let api = MockApi::start(KEY, SECRET).await;
    let client = Client::tracked(app(&api, PusherFairing::new(), json!({ "lanes": 2 })))
        .await
        .unwrap();
    api.hold();
    for id in 0..30 {
        let res = client.post(format!("/orders/{}", id % 3)).dispatch().await;
        assert_eq!(res.status(), Status::Accepted);
    }
    api.wait_for_requests(1).await;
    let pusher = client.rocket().state::<Pusher>().unwrap().clone();
    assert_eq!(pusher.queue_stats().sent, 0, "held: nothing delivered yet");

    // Shutdown fairings run on terminate(); the release lets the drain proceed.
    let (rocket, ()) = tokio::join!(client.terminate(), async { api.release() });
    let stats = rocket.state::<Pusher>().unwrap().queue_stats();
    assert_eq!((stats.queued, stats.sent, stats.dropped), (30, 30, 0));
    assert_eq!(stats, assert_drained(&pusher));
    // The drain's counts, for the app to read once Rocket has stopped.
    assert_eq!(
        rocket.state::<Pusher>().and_then(Pusher::shutdown_stats),
        Some(stats)
    );
    assert_eq!(api.delivered().len(), 30);
    // Per channel, in the order the requests queued them.
    for id in 0..3u64 {
        let on: Vec<Event> = api
            .delivered()
            .into_iter()
            .filter(|e| e.channel == format!("private-orders.{id}"))
            .collect();
        assert_eq!(numbers(&on), vec![id; 10]);
    }
    let closed = pusher.trigger("a", "e", "x").queue();
    assert!(
        matches!(closed, Err(Error::Queue(QueueError::Closed))),
        "{closed:?}"
    );
}

#[rocket::async_test]
async fn the_fairing_drops_after_drain_timeout_and_reports_failures() {
    let api = MockApi::start(KEY, SECRET).await;
    api.reply_once(Reply::new(403, "over quota"));
    let (failures, callback) = recording_failures();
    let client = Client::tracked(app(
        &api,
        PusherFairing::new().on_queue_failure(callback),
        json!({ "lanes": 1, "drain_timeout": 0.05 }),
    ))
    .await
    .unwrap();
    let status = client.post("/orders/1").dispatch().await.status();
    assert_eq!(status, Status::Accepted);
    let pusher = client.rocket().state::<Pusher>().unwrap().clone();
    pusher.flush().await;
    assert_eq!(
        *failures.lock().unwrap(),
        [(
            Some(403),
            vec![("private-orders.1".to_owned(), "shipped".to_owned())]
        )]
    );

    api.reply(Reply::Stall);
    let status = client.post("/orders/2").dispatch().await.status();
    assert_eq!(status, Status::Accepted);
    api.wait_for_requests(2).await;
    let rocket = client.terminate().await;
    let stats = rocket.state::<Pusher>().unwrap().queue_stats();
    assert_eq!(
        (stats.queued, stats.sent, stats.failed, stats.dropped),
        (2, 0, 1, 1)
    );
    assert_drained(&pusher);
}

#[rocket::async_test]
async fn a_full_queue_answers_503_from_a_route() {
    let api = MockApi::start(KEY, SECRET).await;
    let client = Client::tracked(app(
        &api,
        PusherFairing::new(),
        json!({ "lanes": 1, "capacity": 1, "drain_timeout": 0 }),
    ))
    .await
    .unwrap();
    api.hold();
    assert_eq!(
        client.post("/orders/1").dispatch().await.status(),
        Status::Accepted
    );
    api.wait_for_requests(1).await;
    let res = client.post("/orders/2").dispatch().await;
    assert_eq!(res.status(), Status::ServiceUnavailable);
    assert_eq!(
        res.into_string().await.unwrap(),
        r#"{"error":"the event queue cannot take the event"}"#
    );
    api.release();
    let pusher = client.rocket().state::<Pusher>().unwrap().clone();
    pusher.flush().await;
    let stats = assert_drained(&pusher);
    assert_eq!((stats.queued, stats.sent), (1, 1));
}

/// Queues from a thread of its own, as production allows once the fairing started the
/// dispatcher.
#[post("/orders/<id>/later")]
fn ship_later(id: u64, pusher: &State<Pusher>) -> Result<Status, Error> {
    let pusher = pusher.inner().clone();
    std::thread::spawn(move || {
        pusher
            .trigger(
                format!("private-orders.{id}"),
                "shipped",
                &json!({ "n": id }),
            )
            .queue()
    })
    .join()
    .unwrap()?;
    Ok(Status::Accepted)
}

#[rocket::async_test]
async fn an_apps_tests_see_queued_events_right_after_the_request() {
    rocket_app::capture_logs();
    let app = rocket::custom(rocket_app::figment(json!({})))
        .attach(PusherFairing::new())
        .mount("/", routes![ship, ship_later]);
    let client = Client::tracked(testing::recording(app)).await.unwrap();
    client.post("/orders/9").dispatch().await;
    let later = client.post("/orders/10/later").dispatch().await;
    assert_eq!(later.status(), Status::Accepted);
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct N {
        n: u64,
    }
    assert_eq!(
        client.sent::<N>("private-orders.9", "shipped"),
        [N { n: 9 }]
    );
    assert_eq!(
        client.sent::<N>("private-orders.10", "shipped"),
        [N { n: 10 }]
    );
    let stats = assert_drained(client.rocket().state::<Pusher>().unwrap());
    assert_eq!((stats.queued, stats.sent), (2, 2));
}

// ---- review: races, limits, failure modes ------------------------------------------------

/// Two shutdowns at once (the fairing's and the app's, say) each return only once every
/// lane has counted what it dropped: neither reports counts that do not add up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_shutdowns_both_return_counts_that_add_up() {
    let api = MockApi::start(KEY, SECRET).await;
    api.reply(Reply::Stall);
    for round in 0..5 {
        let pusher = builder(&api, QueueConfig::default().lanes(8))
            .build()
            .unwrap();
        const EVENTS: u64 = 8000;
        for n in 0..EVENTS {
            queue_n(&pusher, &format!("room-{}", n % 64), n);
        }
        // Every lane's first request is stuck; the rest of its events wait behind it.
        api.wait_for_requests(8 * (round + 1)).await;
        let deadline = Duration::from_millis(20);
        let other = pusher.clone();
        let second = tokio::spawn(async move { other.shutdown(deadline).await });
        let first = pusher.shutdown(deadline).await;
        let second = second.await.unwrap();
        for stats in [first, second] {
            assert_eq!((stats.queued, stats.dropped), (EVENTS, EVENTS), "{stats}");
            assert_eq!(stats.in_flight, 0, "{stats}");
        }
        assert_drained(&pusher);
    }
}

/// `max_batch_events` bounds a request; it is not a size to allocate up front.
#[tokio::test]
async fn a_huge_max_batch_events_is_a_bound_not_an_allocation() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default().lanes(1))
        .max_batch_events(usize::MAX)
        .build()
        .unwrap();
    hold_event_0_in_flight(&api, &pusher, "orders").await;
    for n in 1..=30 {
        queue_n(&pusher, "orders", n);
    }
    api.release();
    pusher.flush().await;
    let sizes: Vec<usize> = api.requests().iter().map(|r| r.events().len()).collect();
    assert_eq!(sizes, [1, 30]);
    assert_eq!(numbers(&api.delivered()), (0..=30).collect::<Vec<_>>());
    let stats = assert_drained(&pusher);
    assert_eq!(stats.sent, 31);
}

/// Read at any moment, the counters never count an event as done (or in flight) before
/// counting it queued: `sent + failed + dropped + in_flight <= queued`.
#[test]
fn a_snapshot_of_the_counters_never_counts_more_done_than_queued() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let api = runtime.block_on(MockApi::start(KEY, SECRET));
    let pusher = builder(&api, QueueConfig::default().lanes(4).capacity(100_000))
        .build()
        .unwrap();
    const EVENTS: u64 = 2_000;
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _runtime = runtime.enter();
            // In small bursts, each flushed: the counts are often level, where a reading
            // that mixes moments shows most.
            for n in 0..EVENTS {
                queue_n(&pusher, &format!("room-{}", n % 16), n);
                if n % 8 == 7 {
                    runtime.block_on(pusher.flush());
                }
            }
            runtime.block_on(pusher.flush());
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let mut reads = 0u64;
        while !done.load(std::sync::atomic::Ordering::SeqCst) || reads < 1000 {
            let s = pusher.queue_stats();
            assert!(
                s.sent + s.failed + s.dropped + s.in_flight <= s.queued,
                "read {reads}: {s}"
            );
            reads += 1;
        }
    });
    let stats = assert_drained(&pusher);
    assert_eq!(stats.sent, EVENTS);
}

/// Transient failures of every kind, at random, over many channels and several lanes
/// with random delays: every event arrives once accepted, in order per channel, and the
/// counts add up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_transient_failures_over_many_channels_lose_nothing_and_keep_order() {
    let api = MockApi::start(KEY, SECRET).await;
    api.random_delays(11, Duration::from_millis(2));
    api.random_failures(
        5,
        250,
        vec![
            Reply::new(500, "oops"),
            Reply::new(503, "down"),
            Reply::new(429, "slow down").retry_after("0"),
            Reply::new(429, "slow down"),
            Reply::Hangup,
            Reply::Reset {
                status: 200,
                sent: 1,
                len: 2,
            },
        ],
    );
    // Enough tries that 30 failures in a row (a chance of 1 in 10^18) are not to be met.
    let pusher = builder(&api, QueueConfig::default().lanes(6))
        .retry(
            RetryPolicy::new(30)
                .initial_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    const EVENTS: usize = 3000;
    let queued = queue_numbered(&pusher, 3, 100, EVENTS);
    pusher.flush().await;

    assert_in_order(api.delivered(), &queued);
    let refused = api.requests().iter().filter(|r| !r.accepted()).count();
    assert!(refused > 0, "no failure was injected");
    let stats = assert_drained(&pusher);
    assert_eq!((stats.sent, stats.failed), (EVENTS as u64, 0), "{stats}");
    assert!(stats.retried > 0, "{stats}");
}

/// A 429's `Retry-After` within the policy's `max_delay` is honoured (`0`: at once); one
/// asking for longer is not waited for: a failure, reported and counted at once, and the
/// lane moves on.
#[tokio::test]
async fn retry_after_within_max_delay_is_honoured_and_beyond_it_fails() {
    let api = MockApi::start(KEY, SECRET).await;
    api.reply_once(Reply::new(429, "slow down").retry_after("0"));
    api.reply_once(Reply::new(429, "later").retry_after("3600"));
    let (failures, callback) = recording_failures();
    let pusher = builder(&api, QueueConfig::default().lanes(1))
        .on_queue_failure(callback)
        .build()
        .unwrap();
    queue_n(&pusher, "orders", 0);
    pusher.flush().await;
    queue_n(&pusher, "orders", 1);
    pusher.flush().await;
    // Event 0: tried, retried at once, then told to wait an hour.
    assert_eq!(numbers(&api.delivered()), [1]);
    assert_eq!(api.requests().len(), 3);
    assert_eq!(
        *failures.lock().unwrap(),
        [(
            Some(429),
            vec![("orders".to_owned(), "numbered".to_owned())]
        )]
    );
    let stats = assert_drained(&pusher);
    assert_eq!((stats.sent, stats.failed, stats.retried), (1, 1, 1));
}

/// `flush` waits for what was queued before it, not for what keeps coming after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_returns_while_others_keep_queueing() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default().lanes(2))
        .build()
        .unwrap();
    for n in 0..100 {
        queue_n(&pusher, "orders", n);
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let producer = {
        let (pusher, stop) = (pusher.clone(), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut n = 100;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                match pusher
                    .trigger("orders", "numbered", &json!({ "n": n }))
                    .queue()
                {
                    Ok(()) => n += 1,
                    Err(Error::Queue(QueueError::Full { .. })) => {}
                    Err(e) => panic!("{e}"),
                }
                tokio::task::yield_now().await;
            }
            n
        })
    };
    pusher.flush().await;
    let delivered = numbers(&api.delivered());
    assert_eq!(delivered[..100], (0..100).collect::<Vec<_>>());
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let queued = producer.await.unwrap();
    pusher.flush().await;
    assert_eq!(numbers(&api.delivered()), (0..queued).collect::<Vec<_>>());
    let stats = assert_drained(&pusher);
    assert_eq!(stats.sent, queued);
}

/// Events queued by requests still running while shutdown drains (Rocket's grace
/// period) are either refused or delivered: with time left, none is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queueing_while_shutdown_drains_is_refused_or_delivered() {
    let api = MockApi::start(KEY, SECRET).await;
    for _ in 0..10 {
        let before = api.requests().len();
        let pusher = builder(&api, QueueConfig::default().lanes(2).capacity(2000))
            .build()
            .unwrap();
        let accepted = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let (pusher, accepted) = (pusher.clone(), Arc::clone(&accepted));
                // A trigger naming many channels takes a while to enter them all: a
                // shutdown has every chance to begin in the middle of one.
                let channels: Vec<String> = (0..100).map(|c| format!("room-{p}-{c}")).collect();
                tokio::spawn(async move {
                    for n in 0.. {
                        match pusher
                            .trigger(&channels, "numbered", &json!({ "n": n }))
                            .queue()
                        {
                            Ok(()) => {
                                accepted.fetch_add(100, std::sync::atomic::Ordering::SeqCst);
                            }
                            Err(Error::Queue(QueueError::Closed)) => return,
                            Err(Error::Queue(QueueError::Full { .. })) => {}
                            Err(e) => panic!("{e}"),
                        }
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        api.wait_for_requests(before + 2).await;
        let stats = pusher.shutdown(Duration::from_secs(30)).await;
        for p in producers {
            p.await.unwrap();
        }
        let stats_after = assert_drained(&pusher);
        assert_eq!(
            stats, stats_after,
            "shutdown returned before the last count"
        );
        let accepted = accepted.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!((stats.queued, stats.dropped), (accepted, 0), "{stats}");
        assert_eq!(stats.sent, accepted, "{stats}");
    }
}

/// Once the dispatcher runs, `queue()` works from any thread, tokio's or not; the
/// recording transport behaves the same, so an app's tests see what production does.
#[test]
fn after_the_start_queue_works_from_any_thread_recording_or_not() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let api = runtime.block_on(MockApi::start(KEY, SECRET));
    let http = builder(&api, QueueConfig::default()).build().unwrap();
    let recording = Pusher::recording(Credentials::new(APP_ID, KEY, SECRET));
    for pusher in [&http, &recording] {
        runtime.block_on(async { queue_n(pusher, "orders", 0) });
        let from_a_plain_thread = std::thread::scope(|s| {
            s.spawn(|| {
                pusher
                    .trigger("orders", "numbered", &json!({ "n": 1 }))
                    .queue()
            })
            .join()
            .unwrap()
        });
        assert!(from_a_plain_thread.is_ok(), "{from_a_plain_thread:?}");
        runtime.block_on(pusher.flush());
        let stats = assert_drained(pusher);
        assert_eq!(stats.sent, 2, "{stats}");
    }
    assert_eq!(numbers(&api.delivered()), [0, 1]);
    let recorded: Vec<u64> = recording
        .recorder()
        .unwrap()
        .events()
        .iter()
        .map(|e| {
            e.data_as::<serde_json::Value>().unwrap()["n"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(recorded, [0, 1]);
}

/// A failure callback that blocks holds its lane, not shutdown: shutdown returns soon
/// after its deadline, saying what is still held; the counts add up once it lets go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_callback_does_not_hold_shutdown_past_its_deadline() {
    let logs = rocket_app::capture_logs();
    let api = MockApi::start(KEY, SECRET).await;
    api.reply_once(Reply::new(400, "no"));
    let (entered_tx, entered_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let pusher = builder(&api, QueueConfig::default().lanes(1))
        .on_queue_failure(move |_| {
            let _ = entered_tx.send(());
            let _ = release_rx.lock().unwrap().recv();
        })
        .build()
        .unwrap();
    queue_n(&pusher, "orders", 0);
    // Alone in its request; the next waits behind the callback.
    api.wait_for_requests(1).await;
    queue_n(&pusher, "orders", 1);
    tokio::task::spawn_blocking(move || entered_rx.recv().unwrap())
        .await
        .unwrap();
    let stats = tokio::time::timeout(
        Duration::from_secs(20),
        pusher.shutdown(Duration::from_millis(50)),
    )
    .await
    .expect("shutdown waited for the blocked callback");
    assert_eq!(stats.queued, 2, "{stats}");
    assert!(stats.pending() > 0, "{stats}");
    let lines = logs.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ERROR") && l.contains("did not stop")),
        "{lines:#?}"
    );
    release_tx.send(()).unwrap();
    pusher.flush().await;
    let stats = assert_drained(&pusher);
    assert_eq!(
        (stats.failed, stats.dropped, stats.sent),
        (1, 1, 0),
        "{stats}"
    );
}

/// Neither the queue's log lines (failures, retries, drops) nor the Debug forms of a
/// trigger, a batch event or a failure carry an event's data, the secret or a signature.
#[tokio::test]
async fn no_log_line_or_debug_form_carries_data_secrets_or_signatures() {
    let logs = rocket_app::capture_logs();
    let api = MockApi::start(KEY, SECRET).await;
    api.reply_once(Reply::new(503, "down"));
    api.reply_once(Reply::new(422, "unprocessable"));
    let debugged = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&debugged);
    let pusher = builder(&api, QueueConfig::default().lanes(1))
        .encryption_master_key_base64(MASTER_KEY)
        .on_queue_failure(move |f| sink.lock().unwrap().push(format!("{f:?} {f:#?}")))
        .build()
        .unwrap();
    let trigger = pusher.trigger("private-encrypted-inbox", "note", "MARKER-DATA-trigger");
    let batch = rocket_pusher::client::BatchEvent::new("orders", "note", "MARKER-DATA-batch");
    let mut texts = vec![
        format!("{trigger:?} {trigger:#?}"),
        format!("{batch:?} {batch:#?}"),
        format!("{pusher:?}"),
    ];
    drop(trigger);
    pusher
        .trigger("orders", "note", "MARKER-DATA-failed")
        .queue()
        .unwrap();
    pusher.flush().await;
    api.reply(Reply::Stall);
    pusher
        .trigger("private-encrypted-inbox", "note", "MARKER-DATA-dropped")
        .queue()
        .unwrap();
    pusher
        .trigger("orders", "note", "MARKER-DATA-waiting")
        .queue()
        .unwrap();
    api.wait_for_requests(3).await;
    let stats = pusher.shutdown(Duration::from_millis(20)).await;
    assert_eq!(
        (stats.failed, stats.dropped, stats.retried),
        (1, 2, 1),
        "{stats}"
    );
    texts.extend(debugged.lock().unwrap().iter().cloned());
    assert_eq!(texts.len(), 4, "the callback ran once: {texts:#?}");
    let lines = logs.lines();
    let signatures: Vec<String> = api
        .requests()
        .iter()
        .filter_map(|r| r.param("auth_signature").map(str::to_owned))
        .collect();
    assert_eq!(signatures.len(), 3);
    for text in texts.iter().chain(&lines) {
        assert!(!text.contains("MARKER-DATA"), "data: {text}");
        assert!(!text.contains(SECRET), "the secret: {text}");
        assert!(!text.contains(MASTER_KEY), "the master key: {text}");
        for signature in &signatures {
            assert!(!text.contains(signature.as_str()), "a signature: {text}");
        }
    }
    // What the lines do say: the events' names and channels.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("note on orders") && l.contains("422")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("dropped undelivered")
                && l.contains("note on private-encrypted-inbox")),
        "{lines:#?}"
    );
}

/// Queue `events` numbered events over `channels` channels (`room-0`…), each to a channel
/// drawn by a seeded generator; returns each channel's name and how many it was sent.
fn queue_numbered(
    pusher: &Pusher,
    seed: u64,
    channels: usize,
    events: usize,
) -> Vec<(String, u64)> {
    let mut rng = Rng::new(seed);
    let mut queued: Vec<(String, u64)> = (0..channels).map(|i| (format!("room-{i}"), 0)).collect();
    for _ in 0..events {
        let (name, next) = &mut queued[rng.below(channels as u64) as usize];
        queue_n(pusher, name, *next);
        *next += 1;
    }
    queued
}

/// Every channel received exactly its numbers 0..n, in order.
fn assert_in_order(delivered: Vec<Event>, queued: &[(String, u64)]) {
    let mut by_channel: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    for e in delivered {
        by_channel.entry(e.channel.clone()).or_default().push(e);
    }
    for (name, n) in queued {
        let got = by_channel.get(name).map_or_else(Vec::new, |e| numbers(e));
        assert_eq!(got, (0..*n).collect::<Vec<_>>(), "order on {name}");
    }
}
