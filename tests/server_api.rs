//! The HTTP API on the embedded server (docs/server-conformance.md, entries 45-54), over
//! HTTP to the app and in process through the crate's own client, with the same answers.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use rocket_pusher::Error;
use rocket_pusher::protocol::{Token, sign_request};
use serde_json::{Value, json};
use ws::{APP_ID, Ws, api, data_of, now_secs, raw_api, start, token};

fn event(channels: Value, data: &str) -> Value {
    json!({"name": "my-event", "channels": channels, "data": data})
}

#[tokio::test]
async fn a_trigger_answers_empty_json_and_delivers_the_data_byte_for_byte() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_public("a").await;
    let data = r#"{"message":"h\u00e9llo", "n": 1.50}"#;
    let (status, body) = api(
        &app,
        "POST",
        "/apps/1234/events",
        &[],
        Some(event(json!(["a"]), data)),
    )
    .await;
    assert_eq!((status, body), (200, json!({})));
    let got = ws.expect("my-event").await;
    assert_eq!(got["data"], data);
    assert_eq!(got["channel"], "a");
}

#[tokio::test]
async fn socket_id_excludes_that_socket_on_every_channel() {
    let app = start(json!({})).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    for ws in [&mut a, &mut b] {
        ws.join_public("x").await;
        ws.join_public("y").await;
    }
    let mut e = event(json!(["x", "y"]), "d");
    e["socket_id"] = json!(a.socket_id);
    let (status, _) = api(&app, "POST", "/apps/1234/events", &[], Some(e)).await;
    assert_eq!(status, 200);
    a.assert_quiet().await;
    assert_eq!(b.sync().await.len(), 2);
}

#[tokio::test]
async fn the_services_limits_are_400_and_413() {
    let app = start(json!({})).await;
    let hundred: Vec<String> = (0..100).map(|i| format!("c{i}")).collect();
    let (ok, _) = api(
        &app,
        "POST",
        "/apps/1234/events",
        &[],
        Some(event(json!(hundred), "d")),
    )
    .await;
    assert_eq!(ok, 200);
    let many: Vec<String> = (0..101).map(|i| format!("c{i}")).collect();
    let (status, body) = api(
        &app,
        "POST",
        "/apps/1234/events",
        &[],
        Some(event(json!(many), "d")),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"].is_string());
    let (ok, _) = api(
        &app,
        "POST",
        "/apps/1234/events",
        &[],
        Some(event(json!(["a"]), &"x".repeat(10_240))),
    )
    .await;
    assert_eq!(ok, 200);
    let (big, _) = api(
        &app,
        "POST",
        "/apps/1234/events",
        &[],
        Some(event(json!(["a"]), &"x".repeat(10_241))),
    )
    .await;
    assert_eq!(big, 413);
    for bad in [
        json!({"channels": ["a"], "data": "d"}),
        json!({"name": "e", "channels": ["a"]}),
        json!({"name": "e", "data": "d"}),
        json!({"name": "e", "data": "d", "channels": ["bad name"]}),
        json!({"name": "e", "data": "d", "channels": ["a"], "socket_id": "nope"}),
        json!({"name": "e", "data": "d", "channels": ["a"], "info": "colour"}),
    ] {
        let (status, body) = api(&app, "POST", "/apps/1234/events", &[], Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[tokio::test]
async fn batches_take_ten_items_with_their_own_socket_id() {
    let app = start(json!({})).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_public("b").await;
    b.join_public("b").await;
    let mut items: Vec<Value> = (0..10)
        .map(|i| json!({"channel": "b", "name": format!("e{i}"), "data": "d"}))
        .collect();
    items[0]["socket_id"] = json!(a.socket_id);
    let (status, body) = api(
        &app,
        "POST",
        "/apps/1234/batch_events",
        &[],
        Some(json!({"batch": items.clone()})),
    )
    .await;
    assert_eq!((status, body), (200, json!({})));
    assert_eq!(a.sync().await.len(), 9);
    assert_eq!(b.sync().await.len(), 10);
    items.push(json!({"channel": "b", "name": "e10", "data": "d"}));
    let (status, _) = api(
        &app,
        "POST",
        "/apps/1234/batch_events",
        &[],
        Some(json!({"batch": items})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn info_on_triggers_and_queries_counts_users_and_subscriptions() {
    let app = start(json!({})).await;
    let mut a = Ws::connect(&app).await;
    let mut a2 = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_presence("presence-i", "u1", json!(null)).await;
    a2.join_presence("presence-i", "u1", json!(null)).await;
    b.join_public("pub").await;
    let mut e = event(json!(["presence-i", "pub"]), "d");
    e["info"] = json!("subscription_count");
    let (_, body) = api(&app, "POST", "/apps/1234/events", &[], Some(e)).await;
    assert_eq!(
        body,
        json!({"channels": {"presence-i": {"subscription_count": 2}, "pub": {"subscription_count": 1}}})
    );
    let mut e = event(json!(["presence-i"]), "d");
    e["info"] = json!("user_count,subscription_count");
    let (_, body) = api(&app, "POST", "/apps/1234/events", &[], Some(e)).await;
    assert_eq!(
        body["channels"]["presence-i"],
        json!({"user_count": 1, "subscription_count": 2})
    );

    let (_, list) = api(
        &app,
        "GET",
        "/apps/1234/channels",
        &[("filter_by_prefix", "presence-"), ("info", "user_count")],
        None,
    )
    .await;
    assert_eq!(list, json!({"channels": {"presence-i": {"user_count": 1}}}));
    let (status, _) = api(
        &app,
        "GET",
        "/apps/1234/channels",
        &[("info", "user_count")],
        None,
    )
    .await;
    assert_eq!(status, 400);
    let (_, all) = api(&app, "GET", "/apps/1234/channels", &[], None).await;
    assert_eq!(all["channels"].as_object().unwrap().len(), 2);
    let (status, _) = api(
        &app,
        "GET",
        "/apps/1234/channels/pub",
        &[("info", "user_count")],
        None,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = api(&app, "GET", "/apps/1234/channels/pub/users", &[], None).await;
    assert_eq!(status, 400);
    let (_, empty) = api(&app, "GET", "/apps/1234/channels/nobody", &[], None).await;
    assert_eq!(empty, json!({"occupied": false}));
}

#[tokio::test]
async fn wrong_secret_old_timestamp_changed_body_unknown_app_are_refused() {
    let app = start(json!({})).await;
    let body = event(json!(["a"]), "d").to_string();
    let send = |token: Token, path: &'static str, ts: u64, sent: String| {
        let signed = sign_request(&token, "POST", path, &[], Some(body.as_bytes()), ts);
        let app = &app;
        async move { raw_api(app, "POST", &format!("{path}?{}", signed.query), Some(sent)).await }
    };
    let (s, b) = send(
        Token::new("KEY", "wrong"),
        "/apps/1234/events",
        now_secs(),
        body.clone(),
    )
    .await;
    assert_eq!(s, 401, "{b}");
    let (s, b) = send(token(), "/apps/1234/events", now_secs() - 601, body.clone()).await;
    assert_eq!(s, 401);
    assert!(
        b["error"].as_str().unwrap().contains("Timestamp expired"),
        "{b}"
    );
    let (s, _) = send(
        token(),
        "/apps/1234/events",
        now_secs(),
        body.replace("\"d\"", "\"e\""),
    )
    .await;
    assert_eq!(s, 401);
    let (s, _) = send(token(), "/apps/9999/events", now_secs(), body.clone()).await;
    assert_eq!(s, 404);
    let (s, _) = send(
        Token::new("OTHER", "SUPERSECRET"),
        "/apps/1234/events",
        now_secs(),
        body.clone(),
    )
    .await;
    assert_eq!(s, 401);
    let (s, _) = raw_api(&app, "POST", "/apps/1234/events", Some(body.clone())).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn a_get_with_the_empty_body_md5_is_accepted() {
    let app = start(json!({})).await;
    // Python's library sends body_md5 on every GET.
    let signed = sign_request(
        &token(),
        "GET",
        "/apps/1234/channels",
        &[],
        Some(b""),
        now_secs(),
    );
    let (status, body) = raw_api(
        &app,
        "GET",
        &format!("/apps/1234/channels?{}", signed.query),
        None,
    )
    .await;
    assert_eq!((status, body), (200, json!({"channels": {}})));
}

#[tokio::test]
async fn the_in_process_client_gets_the_same_answers_and_errors_as_over_http() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_presence("presence-p", "u1", json!({"n": 1})).await;
    let users = app.pusher.users("presence-p").await.unwrap();
    assert_eq!(users.len(), 1);
    let info = app
        .pusher
        .channel("presence-p")
        .with_user_count()
        .send()
        .await
        .unwrap();
    assert!(info.occupied);
    assert_eq!(info.user_count, Some(1));
    let list = app
        .pusher
        .channels()
        .prefix("presence-")
        .with_user_count()
        .send()
        .await
        .unwrap();
    assert_eq!(list.channels.len(), 1);
    app.pusher
        .trigger("presence-p", "e", &json!({"k": 1}))
        .await
        .unwrap();
    assert_eq!(data_of(&ws.expect("e").await), json!({"k": 1}));
    // The server's refusal is the typed error an HTTP 413 gives.
    let small = start(json!({"max_payload_bytes": 100})).await;
    let err = small.pusher.trigger("a", "e", &"x".repeat(200)).await;
    assert!(matches!(err, Err(Error::PayloadTooLarge { .. })), "{err:?}");
    let (status, _) = api(
        &small,
        "POST",
        &format!("/apps/{APP_ID}/events"),
        &[],
        Some(event(json!(["a"]), &"x".repeat(200))),
    )
    .await;
    assert_eq!(status, 413);
}
