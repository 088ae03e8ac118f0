//! The embedded server's connections (docs/server-conformance.md, entries 1-12 and 60): the
//! first frame, socket ids, refusals with their codes, keepalive both ways, bad frames,
//! and Rocket's shutdown.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use std::collections::HashSet;

use rocket_pusher::protocol::validate_socket_id;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use ws::{Ws, data_of, start};

#[tokio::test]
async fn the_first_frame_is_connection_established_with_a_socket_id_and_timeout() {
    let app = start(json!({"activity_timeout": 45})).await;
    let mut ws = Ws::open(&app, "/app/KEY?protocol=7").await;
    let first = ws.next().await;
    assert_eq!(first["event"], "pusher:connection_established");
    assert!(first["data"].is_string(), "data is a JSON string: {first}");
    let data = data_of(&first);
    assert_eq!(data["activity_timeout"], 45);
    let id = data["socket_id"].as_str().unwrap();
    assert!(validate_socket_id(id).is_ok(), "{id}");
}

#[tokio::test]
async fn a_hundred_connections_get_a_hundred_socket_ids() {
    let app = start(json!({})).await;
    let mut ids = HashSet::new();
    let mut open = Vec::new();
    for _ in 0..100 {
        let ws = Ws::connect(&app).await;
        ids.insert(ws.socket_id.clone());
        open.push(ws);
    }
    assert_eq!(ids.len(), 100);
}

#[tokio::test]
async fn an_unknown_key_gets_4001_as_error_then_close() {
    let app = start(json!({})).await;
    let mut ws = Ws::open(&app, "/app/OTHER?protocol=7").await;
    let (frames, code) = ws.closed().await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["event"], "pusher:error");
    assert_eq!(frames[0]["data"]["code"], 4001);
    assert_eq!(code, Some(4001));
}

#[tokio::test]
async fn an_unsupported_protocol_gets_4007_and_extra_params_are_accepted() {
    let app = start(json!({})).await;
    let mut ws = Ws::open(&app, "/app/KEY?protocol=99").await;
    let (frames, code) = ws.closed().await;
    assert_eq!(frames[0]["data"]["code"], 4007);
    assert_eq!(code, Some(4007));
    // No protocol at all is taken as 7; unknown parameters are ignored.
    Ws::connect_to(&app, "/app/KEY").await;
    Ws::connect_to(&app, "/app/KEY?protocol=7&flash=false&foo=1").await;
}

#[tokio::test]
async fn over_the_connection_quota_gets_4004() {
    let app = start(json!({"max_connections": 2})).await;
    let _a = Ws::connect(&app).await;
    let _b = Ws::connect(&app).await;
    let mut c = Ws::open(&app, "/app/KEY?protocol=7").await;
    let (frames, code) = c.closed().await;
    assert_eq!(frames[0]["data"]["code"], 4004);
    assert_eq!(code, Some(4004));
}

#[tokio::test]
async fn origins_outside_allowed_origins_are_refused() {
    let app = start(json!({"allowed_origins": ["http://good.test"]})).await;
    // tungstenite's client sends no Origin: refused when a list is set.
    let mut ws = Ws::open(&app, "/app/KEY?protocol=7").await;
    let (_, code) = ws.closed().await;
    assert_eq!(code, Some(4004));
    let open = start(json!({})).await;
    Ws::connect(&open).await;
}

#[tokio::test]
async fn invalid_json_and_binary_frames_get_an_error_and_the_socket_stays_usable() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    for bad in [
        "{not json",
        "[1,2]",
        r#"{"event":1}"#,
        r#"{"event":"pusher:subscribe"}"#,
        r#"{"event":"pusher:subscribe","data":{"channel":5}}"#,
    ] {
        ws.send_text(bad).await;
        let err = ws.expect("pusher:error").await;
        assert!(err["data"]["message"].is_string(), "{err}");
    }
    ws.send_message(Message::Binary(vec![1, 2, 3])).await;
    ws.expect("pusher:error").await;
    // Unknown protocol events are ignored.
    ws.send(json!({"event": "pusher:whatever", "data": {}}))
        .await;
    ws.assert_quiet().await;
    ws.join_public("still-here").await;
}

#[tokio::test]
async fn pusher_ping_gets_pong_and_a_websocket_ping_its_pong() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    ws.send(json!({"event": "pusher:ping", "data": {}})).await;
    let pong = ws.expect("pusher:pong").await;
    assert_eq!(pong["data"], "{}");
    ws.send_message(Message::Ping(b"abc".to_vec())).await;
    loop {
        match ws.next_message().await {
            Message::Pong(p) => break assert_eq!(p, b"abc"),
            Message::Text(t) => panic!("unexpected {t}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_silent_client_is_pinged_then_closed_with_4201() {
    let app = start(json!({"activity_timeout": 1, "pong_timeout": 0.5})).await;
    let mut ws = Ws::connect(&app).await;
    // Not reading is being silent: tungstenite answers a WebSocket ping only when read
    // from. The wait leaves the server's 1.5 s (ping, then pong timeout) a wide margin.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let (frames, code) = ws.closed().await;
    assert_eq!(
        frames.first().map(|f| f["event"].clone()),
        Some(json!("pusher:ping"))
    );
    assert_eq!(frames[0]["data"], "{}");
    assert_eq!(code, Some(4201));
}

#[tokio::test]
async fn a_client_that_answers_pings_stays() {
    let app = start(json!({"activity_timeout": 1, "pong_timeout": 1})).await;
    let mut ws = Ws::connect(&app).await;
    // Five rounds: at least five activity timeouts on one connection.
    for _ in 0..5 {
        ws.expect("pusher:ping").await;
        ws.send(json!({"event": "pusher:pong", "data": {}})).await;
    }
    ws.join_public("alive").await;
}

#[tokio::test]
async fn rocket_shutdown_closes_every_socket_with_4200() {
    let app = start(json!({})).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_public("news").await;
    app.shutdown.clone().notify();
    for ws in [&mut a, &mut b] {
        let (frames, code) = ws.closed().await;
        assert_eq!(code, Some(4200));
        assert_eq!(
            frames.last().map(|f| f["data"]["code"].clone()),
            Some(json!(4200))
        );
    }
}

#[tokio::test]
async fn on_shutdown_the_queue_drains_into_the_server_before_clients_are_closed() {
    let app = start(json!({"send_buffer": 5000})).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_public("queued").await;
    for i in 0..2000 {
        app.pusher.trigger("queued", "n", &i).queue().unwrap();
    }
    app.shutdown.clone().notify();
    let (frames, code) = ws.closed().await;
    assert_eq!(code, Some(4200));
    let numbers: Vec<String> = frames
        .iter()
        .filter(|f| f["event"] == "n")
        .map(|f| f["data"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers.len(), 2000, "every queued event before the close");
    let want: Vec<String> = (0..2000).map(|i: i32| i.to_string()).collect();
    assert!(numbers == want, "in order");
}

#[tokio::test]
async fn with_authorized_connections_an_anonymous_socket_is_closed_with_4009_and_the_others_stay() {
    let app = start(json!({"authorized_connections_timeout": 1.0})).await;
    let mut signed_in = Ws::connect(&app).await;
    signed_in.sign_in("u1").await;
    let mut private = Ws::connect(&app).await;
    private.join_private("private-p").await;
    let mut presence = Ws::connect(&app).await;
    presence
        .join_presence("presence-p", "u2", json!(null))
        .await;
    // A public channel is not an authorization; connected later than the others, so its
    // deadline is well past theirs by the time it is closed.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut anonymous = Ws::connect(&app).await;
    anonymous.join_public("lobby").await;
    let (frames, code) = anonymous.closed().await;
    assert_eq!(code, Some(4009));
    let error = frames.last().expect("a pusher:error before the close");
    assert_eq!(error["event"], "pusher:error", "{frames:?}");
    assert_eq!(error["data"]["code"], 4009);
    for ws in [&mut signed_in, &mut private, &mut presence] {
        ws.assert_quiet().await;
    }
    app.pusher
        .trigger("private-p", "still", "{}")
        .await
        .unwrap();
    private.expect("still").await;
}

#[tokio::test]
async fn without_authorized_connections_an_anonymous_socket_stays() {
    let app = start(json!({"activity_timeout": 1, "pong_timeout": 5.0})).await;
    let mut anonymous = Ws::connect(&app).await;
    anonymous.join_public("lobby").await;
    // Past the activity timeout: the server's ping is what it sends, nothing else.
    let ping = anonymous.next().await;
    assert_eq!(ping["event"], "pusher:ping", "{ping}");
    anonymous.assert_quiet().await;
}
