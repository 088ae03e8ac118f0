//! Queued delivery when the server refuses events, and what the app learns of failures,
//! against the mock API on 127.0.0.1: a refused channel among many fails alone (from the
//! start or midway, over 1 and 8 lanes), every failure reaches `queue_failures()` whole
//! with whether it may have been delivered, `queue_wait()` waits for room under a stalled
//! sink, `flush_within()` says what is left, and `shutdown_stats()` keeps the drain's counts.
//!
//! No test sleeps to let things happen: each waits on what the mock observed, on the
//! queue's answers, or on `flush()` / `shutdown()`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mock_api.rs"]
mod mock_api;
#[path = "support/queue_kit.rs"]
mod queue_kit;

use std::collections::BTreeMap;
use std::time::Duration;

use mock_api::{Event, MockApi, Reply};
use queue_kit::{APP_ID, KEY, SECRET, builder, hold_event_0_in_flight, queue_n};
use rocket_pusher::client::{QueueFailure, RetryPolicy};
use rocket_pusher::config::QueueConfig;
use rocket_pusher::error::QueueError;
use rocket_pusher::{Error, Pusher, SocketId};
use serde_json::json;
use tokio::sync::{mpsc, watch};

/// A name of 180 characters: over the hosted service's 164, so a self-hosted client takes
/// it and the (mock) server refuses it, as the user saw.
fn long_channel() -> String {
    format!("refused-{}", "x".repeat(172))
}

/// The `n` of each event, per channel, in the order they arrived.
fn by_channel(events: &[Event]) -> BTreeMap<String, Vec<u64>> {
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for e in events {
        let data: serde_json::Value = serde_json::from_str(&e.data).unwrap();
        out.entry(e.channel.clone())
            .or_default()
            .push(data["n"].as_u64().unwrap());
    }
    out
}

/// Every failure the receiver holds now (the lanes report before they count, so after a
/// flush every failure of the flushed events is there).
fn received(rx: &mut mpsc::UnboundedReceiver<QueueFailure>) -> Vec<QueueFailure> {
    let mut out = Vec::new();
    while let Ok(f) = rx.try_recv() {
        out.push(f);
    }
    out
}

/// A client of the mock with one lane, and the receiver of its failures.
fn one_lane(api: &MockApi) -> (Pusher, mpsc::UnboundedReceiver<QueueFailure>) {
    let pusher = builder(api, QueueConfig::default().lanes(1))
        .build()
        .unwrap();
    let failures = pusher.queue_failures();
    (pusher, failures)
}

/// 49 good channels and one the server refuses (from the start, or once `refuse_after`
/// events have arrived), 40 events each, queued in turn: exactly the refused channel's
/// events sent after the refusal fail, and every other event arrives once, in order.
async fn one_refused_channel_among_50(lanes: usize, refuse_after: Option<usize>) {
    const PER_CHANNEL: u64 = 40;
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default().lanes(lanes))
        .build()
        .unwrap();
    let mut failures = pusher.queue_failures();
    let bad = long_channel();
    let mut channels: Vec<String> = (0..49).map(|i| format!("room-{i}")).collect();
    channels.insert(17, bad.clone());
    if refuse_after.is_none() {
        api.refuse_channel(&bad);
    }
    for n in 0..PER_CHANNEL {
        if let Some(after) = refuse_after
            && n == PER_CHANNEL / 2
        {
            // Midway: half queued, some of it delivered, the rest still going out.
            api.wait_for_events(after).await;
            api.refuse_channel(&bad);
        }
        for channel in &channels {
            queue_n(&pusher, channel, n);
        }
    }
    let flushed = pusher.flush().await;
    assert!(flushed.is_complete(), "{flushed}");

    let delivered = by_channel(&api.delivered());
    let all: Vec<u64> = (0..PER_CHANNEL).collect();
    for channel in channels.iter().filter(|c| **c != bad) {
        assert_eq!(delivered.get(channel), Some(&all), "{channel}");
    }
    // The refused channel: what arrived before the refusal, in order, then only failures,
    // in order, each event exactly once.
    let arrived = delivered.get(&bad).cloned().unwrap_or_default();
    let reports = received(&mut failures);
    let failed: Vec<u64> = reports
        .iter()
        .flat_map(|f| {
            assert_eq!(f.error().status(), Some(400), "{:?}", f.error());
            assert!(!f.maybe_delivered());
            f.events().iter()
        })
        .map(|e| {
            assert_eq!(e.channel().as_str(), bad);
            let data: serde_json::Value = serde_json::from_str(e.data()).unwrap();
            data["n"].as_u64().unwrap()
        })
        .collect();
    assert_eq!([arrived.clone(), failed.clone()].concat(), all);
    match refuse_after {
        None => assert!(arrived.is_empty(), "{arrived:?}"),
        Some(_) => assert!(!arrived.is_empty() && !failed.is_empty(), "{arrived:?}"),
    }
    let stats = pusher.queue_stats();
    assert_eq!(stats.failed, failed.len() as u64, "{stats}");
    assert_eq!(stats.sent, 50 * PER_CHANNEL - stats.failed, "{stats}");
    assert_eq!((stats.dropped, stats.pending()), (0, 0), "{stats}");
}

#[tokio::test]
async fn one_refused_channel_among_50_fails_alone_over_one_lane() {
    one_refused_channel_among_50(1, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_channel_among_50_fails_alone_over_eight_lanes() {
    one_refused_channel_among_50(8, None).await;
}

#[tokio::test]
async fn a_channel_refused_midway_fails_alone_from_then_on_over_one_lane() {
    one_refused_channel_among_50(1, Some(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_refused_midway_fails_alone_from_then_on_over_eight_lanes() {
    one_refused_channel_among_50(8, Some(300)).await;
}

#[tokio::test]
async fn a_refused_batch_is_split_and_its_other_events_go_once_in_order() {
    let api = MockApi::start(KEY, SECRET).await;
    let (pusher, mut failures) = one_lane(&api);
    // Event 0 in flight behind a held reply: the next ten wait, and go as one batch.
    hold_event_0_in_flight(&api, &pusher, "first").await;
    for n in 0..10 {
        let channel = if n == 6 { "bad" } else { "good" };
        queue_n(&pusher, channel, n);
    }
    api.refuse_channel("bad");
    api.release();
    pusher.flush().await;

    let requests = api.requests();
    assert_eq!(requests[1].events().len(), 10, "one batch, refused whole");
    let delivered = by_channel(&api.delivered());
    assert_eq!(delivered["good"], [0, 1, 2, 3, 4, 5, 7, 8, 9]);
    assert!(!delivered.contains_key("bad"));
    let reports = received(&mut failures);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].events().len(), 1);
    assert_eq!(reports[0].events()[0].channel().as_str(), "bad");
    // Halves down to the refused event: far fewer requests than one per event.
    assert!(requests.len() <= 2 + 2 * 4, "{} requests", requests.len());

    // The refused channel is now sent alone: a batch with it is not refused whole again.
    let before = api.requests().len();
    api.hold();
    queue_n(&pusher, "first", 1);
    api.wait_for_requests(before + 1).await;
    queue_n(&pusher, "good", 10);
    queue_n(&pusher, "bad", 11);
    queue_n(&pusher, "good", 12);
    api.release();
    pusher.flush().await;
    let after: Vec<usize> = api.requests()[before + 1..]
        .iter()
        .map(|r| r.events().len())
        .collect();
    assert_eq!(after, [2, 1], "the good ones together, the suspect alone");
    assert_eq!(by_channel(&api.delivered())["good"].len(), 11);
}

/// The one failure of one event queued against a server answering `reply` (one try).
async fn failure_of(reply: Option<Reply>) -> QueueFailure {
    let api = MockApi::start(KEY, SECRET).await;
    let port = match &reply {
        Some(reply) => {
            api.reply(reply.clone());
            api.port()
        }
        None => mock_api::closed_port(),
    };
    let pusher = Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(port)
        .use_tls(false)
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy::never())
        .queue(QueueConfig::default().lanes(1))
        .build()
        .unwrap();
    let mut failures = pusher.queue_failures();
    pusher
        .trigger("private-orders.7", "shipped", "MARKER-DATA-of-the-event")
        .exclude(SocketId::new("123.456").unwrap())
        .queue()
        .unwrap();
    let failure = failures.recv().await.unwrap();
    let event = &failure.events()[0];
    assert_eq!(failure.events().len(), 1);
    assert_eq!(event.channel().as_str(), "private-orders.7");
    assert_eq!(event.name().as_str(), "shipped");
    assert_eq!(event.data(), "MARKER-DATA-of-the-event");
    assert_eq!(event.socket_id().map(SocketId::as_str), Some("123.456"));
    let debug = format!("{failure:?}");
    assert!(!debug.contains("MARKER-DATA"), "{debug}");
    failure
}

#[tokio::test]
async fn failures_carry_the_event_and_whether_it_may_have_been_delivered() {
    let timeout = failure_of(Some(Reply::Stall)).await;
    assert!(matches!(timeout.error(), Error::Timeout { .. }));
    assert!(timeout.maybe_delivered());

    let reset = failure_of(Some(Reply::Hangup)).await;
    assert!(
        matches!(reset.error(), Error::Transport(_)),
        "{:?}",
        reset.error()
    );
    assert!(reset.maybe_delivered());

    let server = failure_of(Some(Reply::new(500, "oops"))).await;
    assert_eq!(server.error().status(), Some(500));
    assert!(!server.maybe_delivered());

    let gateway = failure_of(Some(Reply::new(504, "upstream timed out"))).await;
    assert!(gateway.maybe_delivered());

    let refused = failure_of(Some(Reply::new(400, "bad"))).await;
    assert_eq!(refused.error().status(), Some(400));
    assert!(!refused.maybe_delivered());

    let unreachable = failure_of(None).await;
    assert!(matches!(unreachable.error(), Error::Connect(_)));
    assert!(!unreachable.maybe_delivered());
}

#[tokio::test]
async fn a_timeout_on_an_earlier_try_marks_the_failure_maybe_delivered() {
    let api = MockApi::start(KEY, SECRET).await;
    api.reply_once(Reply::Stall);
    api.reply(Reply::new(500, "oops"));
    let pusher = Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(api.port())
        .use_tls(false)
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy::new(2).initial_delay(Duration::from_millis(1)))
        .queue(QueueConfig::default().lanes(1))
        .build()
        .unwrap();
    let mut failures = pusher.queue_failures();
    queue_n(&pusher, "orders", 0);
    let failure = failures.recv().await.unwrap();
    assert_eq!(failure.error().status(), Some(500));
    assert!(failure.maybe_delivered(), "the first try may have arrived");
}

#[tokio::test]
async fn failed_events_can_be_queued_again_as_they_were() {
    let api = MockApi::start(KEY, SECRET).await;
    api.reply_once(Reply::new(400, "not now"));
    let (pusher, mut failures) = one_lane(&api);
    queue_n(&pusher, "orders", 0);
    let failure = failures.recv().await.unwrap();
    pusher.requeue(failure.into_events()).unwrap();
    pusher.flush().await;
    assert_eq!(by_channel(&api.delivered())["orders"], [0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_room_under_a_stalled_then_recovering_sink_loses_nothing() {
    const CAPACITY: usize = 20;
    const EVENTS: u64 = 200;
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default().lanes(2).capacity(CAPACITY))
        .build()
        .unwrap();
    api.hold();
    let (progress, mut watched) = watch::channel(0u64);
    let producer = {
        let pusher = pusher.clone();
        tokio::spawn(async move {
            let mut most_pending = 0;
            for n in 0..EVENTS {
                let channel = format!("room-{}", n % 5);
                pusher
                    .trigger(channel.as_str(), "numbered", &json!({ "n": n / 5 }))
                    .queue_wait()
                    .await
                    .unwrap();
                most_pending = most_pending.max(pusher.queue_stats().pending());
                progress.send_replace(n + 1);
            }
            most_pending
        })
    };
    // The producer fills the queue, then waits: the queue is full, and refuses a `queue()`.
    watched.wait_for(|&n| n == CAPACITY as u64).await.unwrap();
    assert!(matches!(
        pusher.trigger("other", "e", "x").queue(),
        Err(Error::Queue(QueueError::Full { capacity: CAPACITY }))
    ));
    assert_eq!(*watched.borrow(), CAPACITY as u64, "it waited for room");
    api.release();
    let most_pending = producer.await.unwrap();
    pusher.flush().await;

    assert!(most_pending <= CAPACITY as u64, "{most_pending}");
    let delivered = by_channel(&api.delivered());
    for c in 0..5 {
        let all: Vec<u64> = (0..EVENTS / 5).collect();
        assert_eq!(delivered[&format!("room-{c}")], all);
    }
    let stats = pusher.queue_stats();
    assert_eq!((stats.sent, stats.failed, stats.dropped), (EVENTS, 0, 0));
}

#[tokio::test]
async fn waiting_for_room_ends_with_closed_when_the_queue_shuts_down() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api, QueueConfig::default().lanes(1).capacity(1))
        .build()
        .unwrap();
    api.reply(Reply::Stall);
    queue_n(&pusher, "orders", 0);
    let waiter = {
        let pusher = pusher.clone();
        tokio::spawn(async move { pusher.trigger("orders", "e", "1").queue_wait().await })
    };
    api.wait_for_requests(1).await;
    let stats = pusher.shutdown(Duration::from_millis(50)).await;
    assert_eq!((stats.queued, stats.dropped), (1, 1));
    assert!(matches!(
        waiter.await.unwrap(),
        Err(Error::Queue(QueueError::Closed))
    ));
    // More than the whole capacity can never fit: refused, not waited for.
    let fresh = builder(&api, QueueConfig::default().capacity(1))
        .build()
        .unwrap();
    assert!(matches!(
        fresh.trigger(["a", "b"], "e", "x").queue_wait().await,
        Err(Error::Queue(QueueError::Full { capacity: 1 }))
    ));
}

#[tokio::test]
async fn flush_within_says_what_is_left_and_shutdown_keeps_its_counts() {
    let api = MockApi::start(KEY, SECRET).await;
    let (pusher, mut failures) = one_lane(&api);
    api.hold();
    for n in 0..3 {
        queue_n(&pusher, "orders", n);
    }
    api.wait_for_requests(1).await;
    let flushed = pusher.flush_within(Duration::from_millis(20)).await;
    assert!(!flushed.is_complete());
    assert_eq!((flushed.sent, flushed.left), (0, 3), "{flushed}");
    api.release();
    let flushed = pusher.flush().await;
    assert_eq!((flushed.sent, flushed.left), (3, 0), "{flushed}");

    assert_eq!(pusher.shutdown_stats(), None);
    api.hold();
    queue_n(&pusher, "orders", 3);
    api.wait_for_requests(2).await;
    let stats = pusher.shutdown(Duration::from_millis(20)).await;
    assert_eq!((stats.sent, stats.dropped), (3, 1), "{stats}");
    assert_eq!(pusher.shutdown_stats(), Some(stats));
    // The dropped event reaches the receiver, which then ends.
    let dropped = failures.recv().await.unwrap();
    assert!(matches!(dropped.error(), Error::Queue(QueueError::Closed)));
    assert!(dropped.maybe_delivered(), "it was in flight");
    assert_eq!(dropped.events().len(), 1);
    assert!(failures.recv().await.is_none());
    api.release();
}

#[tokio::test]
async fn the_hosted_service_refuses_long_channel_names_at_the_trigger() {
    let hosted = Pusher::builder(APP_ID, KEY, SECRET)
        .cluster("eu")
        .build()
        .unwrap();
    let name = long_channel();
    let refused = hosted.trigger(name.as_str(), "e", "x").queue();
    assert!(
        matches!(
            refused,
            Err(Error::Validation(
                rocket_pusher::error::ValidationError::ChannelNameOverLimit { len: 180, max: 164 }
            ))
        ),
        "{refused:?}"
    );
    assert_eq!(hosted.queue_stats().queued, 0);
    // A self-hosted server takes up to 200: the same name is queued.
    let api = MockApi::start(KEY, SECRET).await;
    let own = builder(&api, QueueConfig::default()).build().unwrap();
    own.trigger(name.as_str(), "e", "x").queue().unwrap();
    own.flush().await;
    assert_eq!(api.delivered().len(), 1);
}

#[tokio::test]
async fn a_refusal_of_the_app_not_its_events_fails_the_batch_without_splitting_it() {
    let api = MockApi::start(KEY, SECRET).await;
    let (pusher, mut failures) = one_lane(&api);
    hold_event_0_in_flight(&api, &pusher, "first").await;
    for n in 0..5 {
        queue_n(&pusher, &format!("room-{n}"), n);
    }
    api.reply(Reply::new(403, "over quota"));
    api.release();
    pusher.flush().await;
    assert_eq!(api.requests().len(), 2, "one batch, not split");
    let reports = received(&mut failures);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].events().len(), 5);
    assert_eq!(reports[0].error().status(), Some(403));
}
