//! Presence on the embedded server (docs/server-conformance.md, entries 16, 18, 22, 24-28
//! and 40): members counted once per user across sockets, `member_added` /
//! `member_removed` to the others, the member cap, `user_info` size, numeric ids,
//! signed-in members.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use serde_json::json;
use ws::{Ws, api, data_of, start, token};

#[tokio::test]
async fn the_ack_lists_ids_hash_and_count() {
    let app = start(json!({})).await;
    let mut a = Ws::connect(&app).await;
    let first = a
        .join_presence("presence-a", "u1", json!({"name": "A"}))
        .await;
    assert_eq!(
        first["presence"],
        json!({"ids": ["u1"], "hash": {"u1": {"name": "A"}}, "count": 1})
    );
    let mut b = Ws::connect(&app).await;
    let second = b
        .join_presence("presence-a", "u2", json!({"name": "B"}))
        .await;
    let mut ids: Vec<String> = serde_json::from_value(second["presence"]["ids"].clone()).unwrap();
    ids.sort();
    assert_eq!(ids, ["u1", "u2"]);
    assert_eq!(second["presence"]["hash"]["u2"], json!({"name": "B"}));
    assert_eq!(second["presence"]["count"], 2);
}

#[tokio::test]
async fn a_numeric_user_id_is_accepted_and_reported_as_a_string() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    let data = r#"{"user_id":10}"#;
    let auth = rocket_pusher::protocol::authorize_presence_raw(
        &token(),
        &ws.socket_id,
        "presence-n",
        data.to_owned(),
    )
    .unwrap();
    ws.subscribe("presence-n", Some(auth)).await;
    let ack = ws.expect("pusher_internal:subscription_succeeded").await;
    assert_eq!(data_of(&ack)["presence"]["ids"], json!(["10"]));
}

#[tokio::test]
async fn member_added_goes_to_the_others_once_per_user_and_removed_when_the_last_socket_leaves() {
    let app = start(json!({})).await;
    let mut a = Ws::connect(&app).await;
    a.join_presence("presence-r", "u1", json!(null)).await;
    let mut b = Ws::connect(&app).await;
    b.join_presence("presence-r", "u2", json!({"n": 2})).await;
    let added = a.expect("pusher_internal:member_added").await;
    assert_eq!(added["channel"], "presence-r");
    assert!(added["data"].is_string());
    assert_eq!(
        data_of(&added),
        json!({"user_id": "u2", "user_info": {"n": 2}})
    );
    b.assert_quiet().await;

    // u2's second socket: nobody is told, and the count stays 2.
    let mut b2 = Ws::connect(&app).await;
    let state = b2.join_presence("presence-r", "u2", json!({"n": 2})).await;
    assert_eq!(state["presence"]["count"], 2);
    a.assert_quiet().await;
    let mut c = Ws::connect(&app).await;
    assert_eq!(
        c.join_presence("presence-r", "u3", json!(null)).await["presence"]["count"],
        3
    );
    for ws in [&mut a, &mut b, &mut b2] {
        assert_eq!(
            data_of(&ws.expect("pusher_internal:member_added").await)["user_id"],
            "u3"
        );
    }

    // One u2 socket unsubscribes: no member_removed. The last one closes: member_removed.
    b2.send(json!({"event": "pusher:unsubscribe", "data": {"channel": "presence-r"}}))
        .await;
    b2.assert_quiet().await;
    a.assert_quiet().await;
    drop(b);
    let removed = a.expect("pusher_internal:member_removed").await;
    assert_eq!(data_of(&removed), json!({"user_id": "u2"}));
    let (_, users) = api(
        &app,
        "GET",
        "/apps/1234/channels/presence-r/users",
        &[],
        None,
    )
    .await;
    let mut ids: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["u1", "u3"]);
}

#[tokio::test]
async fn a_full_channel_refuses_new_users_but_admits_a_known_users_other_socket() {
    let app = start(json!({"max_presence_members": 2})).await;
    let mut a = Ws::connect(&app).await;
    a.join_presence("presence-full", "u1", json!(null)).await;
    let mut b = Ws::connect(&app).await;
    b.join_presence("presence-full", "u2", json!(null)).await;
    let mut c = Ws::connect(&app).await;
    let member = rocket_pusher::protocol::PresenceMember::new("u3");
    let auth = rocket_pusher::protocol::authorize_presence(
        &token(),
        &c.socket_id,
        "presence-full",
        &member,
    )
    .unwrap();
    c.subscribe("presence-full", Some(auth)).await;
    let refused = c.expect("pusher:error").await;
    assert_eq!(refused["data"]["code"], 4100);
    let mut a2 = Ws::connect(&app).await;
    a2.join_presence("presence-full", "u1", json!(null)).await;
}

#[tokio::test]
async fn user_info_over_the_limit_is_refused() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    let member = rocket_pusher::protocol::PresenceMember::new("u1")
        .with_info(json!({"bio": "x".repeat(1100)}));
    let auth = rocket_pusher::protocol::authorize_presence(
        &token(),
        &ws.socket_id,
        "presence-big",
        &member,
    )
    .unwrap();
    ws.subscribe("presence-big", Some(auth)).await;
    assert_eq!(ws.expect("pusher:error").await["data"]["code"], 4300);
}

#[tokio::test]
async fn a_signed_in_socket_joins_presence_with_an_auth_without_channel_data() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    // Without sign-in, an auth without channel_data is refused.
    let auth = ws::sign_channel(&ws.socket_id, "presence-s");
    ws.subscribe("presence-s", Some(auth)).await;
    ws.expect("pusher:error").await;
    ws.sign_in("alice").await;
    let auth = ws::sign_channel(&ws.socket_id, "presence-s");
    ws.subscribe("presence-s", Some(auth)).await;
    let ack = ws.expect("pusher_internal:subscription_succeeded").await;
    assert_eq!(data_of(&ack)["presence"]["ids"], json!(["alice"]));
}

#[tokio::test]
async fn a_duplicate_presence_subscribe_is_acked_with_the_members_and_announces_nothing() {
    let app = start(json!({})).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a.join_presence("presence-dup", "u1", json!(null)).await;
    b.join_presence("presence-dup", "u2", json!(null)).await;
    a.expect("pusher_internal:member_added").await;
    let again = b.join_presence("presence-dup", "u2", json!(null)).await;
    assert_eq!(again["presence"]["count"], 2);
    a.assert_quiet().await;
    let (_, info) = ws::api(
        &app,
        "GET",
        "/apps/1234/channels/presence-dup",
        &[("info", "user_count,subscription_count")],
        None,
    )
    .await;
    assert_eq!(
        info,
        json!({"occupied": true, "user_count": 2, "subscription_count": 2})
    );
}
