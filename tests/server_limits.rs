//! Hostile and slow clients on the embedded server: a reader that never reads is closed
//! with 4100 while the others keep receiving; a message over the size limit closes that
//! connection with 1009 only; a flood of bad frames gets errors, never a panic. The
//! fuzz target `frames` replays its inputs here too (tests/fuzz_regressions.rs).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use serde_json::json;
use ws::{Ws, start};

#[tokio::test]
async fn a_reader_that_never_reads_is_closed_with_4100_and_the_others_get_everything() {
    let app = start(json!({"send_buffer": 8})).await;
    let mut stalled = Ws::connect(&app).await;
    let mut reader = Ws::connect(&app).await;
    stalled.join_public("firehose").await;
    reader.join_public("firehose").await;
    // 12 MB in rounds of 8 (the buffer's size), each read by the reader before the next:
    // more than the kernel's socket buffers hold for the stalled client.
    let data = "x".repeat(10_000);
    for _ in 0..150 {
        for _ in 0..8 {
            app.pusher.trigger("firehose", "tick", &data).await.unwrap();
        }
        for _ in 0..8 {
            let got = reader.expect("tick").await;
            assert_eq!(got["data"].as_str().map(str::len), Some(10_000));
        }
    }
    reader.assert_quiet().await;
    let (frames, code) = stalled.closed().await;
    assert_eq!(code, Some(4100));
    assert!(
        frames.len() < 1200,
        "the stalled client was cut off, not fed everything"
    );
}

#[tokio::test]
async fn a_message_over_the_limit_closes_only_that_connection_with_1009() {
    let app = start(json!({"max_message_bytes": 1024})).await;
    let mut big = Ws::connect(&app).await;
    let mut other = Ws::connect(&app).await;
    big.send_text(&format!(
        r#"{{"event":"client-x","data":"{}"}}"#,
        "y".repeat(2000)
    ))
    .await;
    let (_, code) = big.closed().await;
    assert_eq!(code, Some(1009));
    other.join_public("fine").await;
}

#[tokio::test]
async fn a_flood_of_bad_frames_gets_an_error_each_and_the_server_stays_up() {
    let app = start(json!({"client_events": true})).await;
    let mut ws = Ws::connect(&app).await;
    let bad = [
        "",
        "null",
        "{}",
        r#"{"event":null}"#,
        r#"{"event":"pusher:signin","data":7}"#,
        r#"{"event":"pusher:subscribe","data":"{"}"#,
        r#"{"event":"client-x","channel":7}"#,
        r#"{"event":"pusher:subscribe","data":{"channel":"presence-a","auth":"KEY:zz","channel_data":"[]"}}"#,
    ];
    for _ in 0..50 {
        for frame in bad {
            ws.send_text(frame).await;
        }
    }
    let answers = ws.sync().await;
    assert_eq!(answers.len(), 50 * bad.len());
    assert!(
        answers.iter().all(|a| a["event"] == "pusher:error"),
        "{answers:?}"
    );
    Ws::connect(&app).await.join_public("up").await;
}

#[tokio::test]
async fn a_subscription_past_the_channel_cap_is_refused_with_4100_and_an_unsubscription_frees_a_place()
 {
    let app = start(json!({"max_channels_per_connection": 2})).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_public("one").await;
    ws.join_private("private-two").await;
    // Again: a re-subscription is acknowledged, it takes no new place.
    ws.join_public("one").await;
    ws.subscribe("three", None).await;
    let refused = ws.expect("pusher:error").await;
    assert_eq!(refused["data"]["code"], 4100, "{refused}");
    let message = refused["data"]["message"].as_str().unwrap();
    assert!(
        message.contains("three") && message.contains('2'),
        "{message}"
    );
    // Not subscribed: a trigger to it reaches nobody, the socket still works.
    app.pusher.trigger("three", "e", "{}").await.unwrap();
    ws.assert_quiet().await;
    ws.send(json!({"event": "pusher:unsubscribe", "data": {"channel": "one"}}))
        .await;
    ws.join_public("three").await;
    app.pusher.trigger("three", "e", "{}").await.unwrap();
    ws.expect("e").await;
    // Another connection has its own places.
    let mut other = Ws::connect(&app).await;
    other.join_public("one").await;
    other.join_public("three").await;
}
