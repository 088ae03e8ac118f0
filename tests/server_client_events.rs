//! Client events on the embedded server (docs/server-conformance.md, entries 29-33):
//! delivered to the others, never echoed, `user_id` on presence, refused where the service
//! refuses them, rate-limited per connection, bounded in size.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use serde_json::{Value, json};
use ws::{Ws, start};

fn client_event(channel: &str, event: &str, data: Value) -> Value {
    json!({"event": event, "channel": channel, "data": data})
}

#[tokio::test]
async fn a_private_client_event_reaches_the_others_and_not_the_sender() {
    let app = start(json!({"client_events": true})).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_private("private-chat").await;
    b.join_private("private-chat").await;
    a.send(client_event(
        "private-chat",
        "client-typing",
        json!({"x": 1}),
    ))
    .await;
    a.assert_quiet().await;
    let got = b.expect("client-typing").await;
    assert_eq!(got["channel"], "private-chat");
    assert_eq!(got["data"], r#"{"x":1}"#);
    assert!(got.get("user_id").is_none(), "{got}");
}

#[tokio::test]
async fn a_presence_client_event_carries_the_senders_user_id() {
    let app = start(json!({"client_events": true})).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_presence("presence-room", "alice", json!(null)).await;
    b.join_presence("presence-room", "bob", json!(null)).await;
    a.expect("pusher_internal:member_added").await;
    a.send(client_event("presence-room", "client-hi", json!("text")))
        .await;
    a.assert_quiet().await;
    let got = b.expect("client-hi").await;
    assert_eq!(got["user_id"], "alice");
    assert_eq!(got["data"], "text");
}

#[tokio::test]
async fn client_events_are_refused_where_the_service_refuses_them() {
    let app = start(json!({"client_events": true})).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    for ws in [&mut a, &mut b] {
        ws.join_public("public").await;
        ws.join_private("private-encrypted-e").await;
        ws.join_private("private-p").await;
    }
    for frame in [
        client_event("public", "client-x", json!({})),
        client_event("private-encrypted-e", "client-x", json!({})),
        client_event("private-unsubscribed", "client-x", json!({})),
        client_event("private-p", "not-client", json!({})),
    ] {
        a.send(frame.clone()).await;
        let err = a.expect("pusher:error").await;
        assert!(err["data"]["message"].is_string(), "{frame}: {err}");
    }
    b.assert_quiet().await;

    let off = start(json!({})).await;
    let mut c = Ws::connect(&off).await;
    let mut d = Ws::connect(&off).await;
    c.join_private("private-p").await;
    d.join_private("private-p").await;
    c.send(client_event("private-p", "client-x", json!({})))
        .await;
    c.expect("pusher:error").await;
    d.assert_quiet().await;
}

#[tokio::test]
async fn over_ten_a_second_get_4301_and_the_socket_stays_open() {
    let app = start(json!({"client_events": true})).await;
    let mut a = Ws::connect(&app).await;
    a.join_private("private-fast").await;
    for i in 0..11 {
        a.send(client_event("private-fast", "client-n", json!(i)))
            .await;
    }
    let errors = a.sync().await;
    assert!(!errors.is_empty(), "the eleventh is refused");
    assert!(
        errors.iter().all(|e| e["data"]["code"] == 4301),
        "{errors:?}"
    );
    a.join_public("still-open").await;
}

#[tokio::test]
async fn data_over_the_limit_is_refused_and_absent_data_is_delivered() {
    let app = start(json!({"client_events": true})).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_private("private-d").await;
    b.join_private("private-d").await;
    a.send(client_event(
        "private-d",
        "client-big",
        json!("x".repeat(10 * 1024 + 1)),
    ))
    .await;
    assert_eq!(a.expect("pusher:error").await["data"]["code"], 4301);
    a.send(json!({"event": "client-bare", "channel": "private-d"}))
        .await;
    let got = b.expect("client-bare").await;
    assert!(got.get("data").is_none(), "{got}");
}
