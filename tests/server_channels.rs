//! The embedded server's channels (docs/server-conformance.md, entries 13-23 and 41-44):
//! public, private, encrypted, the names' rules, `#server-to-user-`, duplicates,
//! unsubscribing, cache channels.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use rocket_pusher::protocol::{
    ChannelAuth, PresenceMember, Token, authorize_presence, authorize_private,
};
use serde_json::json;
use ws::{Ws, api, data_of, start, token};

#[tokio::test]
async fn a_public_subscription_is_acknowledged_with_data_as_the_string_of_an_empty_object() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    let ack = ws.join_public("my-channel").await;
    assert_eq!(ack["channel"], "my-channel");
    assert_eq!(ack["data"], "{}");
}

#[tokio::test]
async fn a_private_subscription_with_a_valid_signature_succeeds() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    let ack = ws.join_private("private-a").await;
    assert_eq!(ack["data"], "{}");
}

/// Each refusal is a `pusher:error`, and the socket still answers a ping.
async fn assert_refused(ws: &mut Ws, channel: &str, auth: Option<ChannelAuth>, code: u64) {
    ws.subscribe(channel, auth).await;
    let frames = ws.sync().await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["event"], "pusher:error", "{frames:?}");
    assert_eq!(frames[0]["data"]["code"], code, "{frames:?}");
}

#[tokio::test]
async fn forged_wrong_key_missing_and_other_sockets_auths_are_refused() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    let other = Ws::connect(&app).await;
    let good = authorize_private(&token(), &ws.socket_id, "private-a").unwrap();
    let forged = ChannelAuth {
        auth: format!("KEY:{}", "0".repeat(64)),
        ..good.clone()
    };
    assert_refused(&mut ws, "private-a", Some(forged), 4009).await;
    let wrong_key = ChannelAuth {
        auth: good.auth.replacen("KEY", "OTHER", 1),
        ..good.clone()
    };
    assert_refused(&mut ws, "private-a", Some(wrong_key), 4009).await;
    assert_refused(&mut ws, "private-a", None, 4009).await;
    let others = authorize_private(&token(), &other.socket_id, "private-a").unwrap();
    assert_refused(&mut ws, "private-a", Some(others), 4009).await;
    let other_secret =
        authorize_private(&Token::new("KEY", "x"), &ws.socket_id, "private-a").unwrap();
    assert_refused(&mut ws, "private-a", Some(other_secret), 4009).await;
    // The good one still works on the same socket.
    ws.subscribe("private-a", Some(good)).await;
    ws.expect("pusher_internal:subscription_succeeded").await;
}

#[tokio::test]
async fn presence_channel_data_altered_after_signing_is_refused() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    let member = PresenceMember::new("u1");
    let mut auth = authorize_presence(&token(), &ws.socket_id, "presence-a", &member).unwrap();
    auth.channel_data = Some(r#"{"user_id":"admin"}"#.into());
    assert_refused(&mut ws, "presence-a", Some(auth), 4009).await;
}

#[tokio::test]
async fn encrypted_channels_are_private_for_the_server() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    let ack = ws.join_private("private-encrypted-notes").await;
    assert_eq!(ack["data"], "{}");
    assert_refused(&mut ws, "private-encrypted-other", None, 4009).await;
}

#[tokio::test]
async fn names_follow_the_alphabet_and_the_length_limit() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    for bad in ["with space", "caf\u{e9}", "#foo", ""] {
        assert_refused(&mut ws, bad, None, 4300).await;
    }
    ws.join_public(&"a".repeat(164)).await;
    assert_refused(&mut ws, &"a".repeat(165), None, 4300).await;
    let longer = start(json!({"max_channel_name_len": 200})).await;
    let mut ws = Ws::connect(&longer).await;
    ws.join_public(&"b".repeat(200)).await;
}

#[tokio::test]
async fn server_to_user_channels_are_only_for_the_signed_in_user() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    assert_refused(&mut ws, "#server-to-user-u1", None, 4009).await;
    ws.sign_in("u2").await;
    assert_refused(&mut ws, "#server-to-user-u1", None, 4009).await;
    let mut u1 = Ws::connect(&app).await;
    u1.sign_in("u1").await;
    u1.join_public("#server-to-user-u1").await;
}

#[tokio::test]
async fn a_duplicate_subscribe_is_acknowledged_again() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_private("private-a").await;
    ws.join_private("private-a").await;
    let (_, body) = api(
        &app,
        "GET",
        "/apps/1234/channels/private-a",
        &[("info", "subscription_count")],
        None,
    )
    .await;
    assert_eq!(body["subscription_count"], 1);
}

#[tokio::test]
async fn after_unsubscribe_nothing_is_delivered_and_unknown_channels_are_ignored() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_public("news").await;
    app.pusher.trigger("news", "one", &1).await.unwrap();
    let got = ws.expect("one").await;
    assert_eq!(got["data"], "1");
    ws.send(json!({"event": "pusher:unsubscribe", "data": {"channel": "news"}}))
        .await;
    ws.send(json!({"event": "pusher:unsubscribe", "data": {"channel": "never"}}))
        .await;
    ws.assert_quiet().await;
    app.pusher.trigger("news", "two", &2).await.unwrap();
    ws.assert_quiet().await;
}

#[tokio::test]
async fn an_empty_cache_channel_answers_cache_miss_and_a_trigger_fills_it() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    ws.join_public("cache-x").await;
    let miss = ws.next().await;
    assert_eq!(
        miss,
        json!({"event": "pusher:cache_miss", "channel": "cache-x"})
    );
    // Triggered with nobody on the channel, then replaced by a newer one.
    app.pusher.trigger("cache-y", "first", &"a").await.unwrap();
    app.pusher.trigger("cache-y", "second", &"b").await.unwrap();
    let mut late = Ws::connect(&app).await;
    late.join_public("cache-y").await;
    let cached = late.next().await;
    assert_eq!(cached["event"], "second");
    assert_eq!(cached["data"], "b");
    let (status, body) = api(
        &app,
        "GET",
        "/apps/1234/channels/cache-y",
        &[("info", "cache")],
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["cache"]["data"], "b");
    assert!(
        body["cache"]["ttl"]
            .as_u64()
            .is_some_and(|t| t > 0 && t <= 1800),
        "{body}"
    );
}

#[tokio::test]
async fn client_events_are_not_cached() {
    let app = start(json!({"client_events": true})).await;
    let mut a = Ws::connect(&app).await;
    a.join_private("private-cache-c").await;
    a.expect("pusher:cache_miss").await;
    a.send(json!({"event": "client-x", "channel": "private-cache-c", "data": {}}))
        .await;
    a.assert_quiet().await;
    let mut b = Ws::connect(&app).await;
    b.join_private("private-cache-c").await;
    b.expect("pusher:cache_miss").await;
    let _ = data_of;
}
