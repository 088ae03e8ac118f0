//! Opt-in subscription counts on the embedded server (`subscription_count = true`): every
//! subscription and unsubscription on a non-presence channel tells its subscribers the
//! count; past 100 subscribers at most one per interval, with the latest count.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use serde_json::{Value, json};
use ws::{Ws, data_of, start};

/// The count a `pusher_internal:subscription_count` frame on `channel` carries.
fn count_of(frame: &Value, channel: &str) -> u64 {
    assert_eq!(
        frame["event"], "pusher_internal:subscription_count",
        "{frame}"
    );
    assert_eq!(frame["channel"], channel, "{frame}");
    assert!(frame["data"].is_string(), "data is a JSON string: {frame}");
    data_of(frame)["subscription_count"]
        .as_u64()
        .expect("a count")
}

#[tokio::test]
async fn each_subscription_and_unsubscription_tells_the_subscribers_the_count() {
    let app = start(json!({"subscription_count": true})).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_public("room").await;
    assert_eq!(count_of(&a.next().await, "room"), 1);
    b.join_private("room-mate").await;
    assert_eq!(count_of(&b.next().await, "room-mate"), 1);
    b.join_public("room").await;
    assert_eq!(count_of(&b.next().await, "room"), 2);
    assert_eq!(count_of(&a.next().await, "room"), 2);
    b.send(json!({"event": "pusher:unsubscribe", "data": {"channel": "room"}}))
        .await;
    assert_eq!(count_of(&a.next().await, "room"), 1);
    drop(b);
    // Its other channel is vacated: nobody left to tell; "room" is untouched.
    a.assert_quiet().await;
    // Cache channels count too; presence channels have members instead.
    a.join_public("cache-c").await;
    a.expect("pusher:cache_miss").await;
    assert_eq!(count_of(&a.next().await, "cache-c"), 1);
    a.join_presence("presence-p", "u1", json!(null)).await;
    a.assert_quiet().await;
}

#[tokio::test]
async fn without_the_option_no_count_is_sent() {
    let app = start(json!({})).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_public("room").await;
    b.join_public("room").await;
    a.assert_quiet().await;
}

/// `n` connections, each subscribed to `channel`, the first one's frames unread.
async fn crowd(app: &ws::App, channel: &str, n: usize) -> Vec<Ws> {
    let mut all = Vec::new();
    for _ in 0..n {
        let mut ws = Ws::connect(app).await;
        ws.join_public(channel).await;
        all.push(ws);
    }
    all
}

#[tokio::test]
async fn past_100_subscribers_a_count_waits_for_the_interval() {
    // An interval no test outlives: whatever is held back never arrives here.
    let app = start(json!({"subscription_count": true, "subscription_count_interval": 3600})).await;
    let mut all = crowd(&app, "crowd", 110).await;
    let counts: Vec<u64> = all[0]
        .sync()
        .await
        .iter()
        .map(|f| count_of(f, "crowd"))
        .collect();
    assert_eq!(counts, (1..=100).collect::<Vec<_>>());
    // The 101st to 110th got their acknowledgement and no count.
    for ws in &mut all[100..] {
        ws.assert_quiet().await;
    }
}

#[tokio::test]
async fn a_held_back_count_arrives_after_the_interval_with_the_latest_value() {
    let app = start(json!({"subscription_count": true, "subscription_count_interval": 0.5})).await;
    let mut all = crowd(&app, "crowd", 110).await;
    let first = &mut all[0];
    for n in 1..=100 {
        assert_eq!(count_of(&first.next().await, "crowd"), n);
    }
    // Past 100: fewer frames than changes, rising, the last one 110.
    let mut later = Vec::new();
    while later.last() != Some(&110) {
        let n = count_of(&first.next().await, "crowd");
        assert!(
            n > 100 && later.last().is_none_or(|&l| n > l),
            "{later:?} then {n}"
        );
        later.push(n);
    }
    first.assert_quiet().await;
}
