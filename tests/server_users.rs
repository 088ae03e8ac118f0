//! Users on the embedded server (docs/server-conformance.md, entries 34-39): sign-in,
//! forged sign-in, `send_to_user` to every socket of the user, terminating a user's
//! signed-in sockets, watchlists.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use rocket_pusher::protocol::{UserData, authenticate_user};
use serde_json::json;
use ws::{Ws, data_of, start, token};

#[tokio::test]
async fn signin_answers_signin_success_with_the_user_data() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    let ok = ws.sign_in("u1").await;
    assert!(ok["data"].is_object(), "{ok}");
    let user: serde_json::Value =
        serde_json::from_str(ok["data"]["user_data"].as_str().unwrap()).unwrap();
    assert_eq!(user["id"], "u1");
}

#[tokio::test]
async fn a_forged_or_foreign_signin_is_refused_and_the_socket_stays() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    let other = Ws::connect(&app).await;
    let foreign = authenticate_user(&token(), &other.socket_id, &UserData::new("u1")).unwrap();
    ws.send(json!({"event": "pusher:signin", "data": {"auth": foreign.auth, "user_data": foreign.user_data}})).await;
    assert_eq!(ws.expect("pusher:error").await["data"]["code"], 4009);
    let mine = authenticate_user(&token(), &ws.socket_id, &UserData::new("u1")).unwrap();
    let tampered = mine.user_data.replace("u1", "u2");
    ws.send(json!({"event": "pusher:signin", "data": {"auth": mine.auth, "user_data": tampered}}))
        .await;
    assert_eq!(ws.expect("pusher:error").await["data"]["code"], 4009);
    ws.sign_in("u1").await;
    // Another id on the same socket is refused.
    let again = authenticate_user(&token(), &ws.socket_id, &UserData::new("u2")).unwrap();
    ws.send(json!({"event": "pusher:signin", "data": {"auth": again.auth, "user_data": again.user_data}})).await;
    ws.expect("pusher:error").await;
}

#[tokio::test]
async fn send_to_user_reaches_every_socket_of_the_user_and_no_other() {
    let app = start(json!({})).await;
    let mut a1 = Ws::connect(&app).await;
    let mut a2 = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    a1.sign_in("u1").await;
    a2.sign_in("u1").await;
    b.sign_in("u2").await;
    app.pusher
        .send_to_user("u1", "direct", &json!({"text": "hi"}))
        .await
        .unwrap();
    for ws in [&mut a1, &mut a2] {
        let got = ws.expect("direct").await;
        assert_eq!(got["channel"], "#server-to-user-u1");
        assert_eq!(data_of(&got), json!({"text": "hi"}));
    }
    b.assert_quiet().await;
}

#[tokio::test]
async fn terminate_closes_the_users_signed_in_sockets_with_4009_only() {
    let app = start(json!({})).await;
    let mut signed = Ws::connect(&app).await;
    signed.sign_in("u1").await;
    let mut presence_only = Ws::connect(&app).await;
    presence_only
        .join_presence("presence-t", "u1", json!(null))
        .await;
    let mut other = Ws::connect(&app).await;
    other.sign_in("u2").await;
    app.pusher.terminate_user_connections("u1").await.unwrap();
    let (frames, code) = signed.closed().await;
    assert_eq!(code, Some(4009));
    assert_eq!(frames.last().unwrap()["data"]["code"], 4009);
    presence_only.assert_quiet().await;
    other.assert_quiet().await;
}

async fn sign_in_watching(ws: &mut Ws, user: &str, watchlist: Vec<String>) -> serde_json::Value {
    let data = UserData::new(user).with_watchlist(watchlist);
    let auth = authenticate_user(&token(), &ws.socket_id, &data).unwrap();
    ws.send(
        json!({"event": "pusher:signin", "data": {"auth": auth.auth, "user_data": auth.user_data}}),
    )
    .await;
    ws.expect("pusher:signin_success").await
}

#[tokio::test]
async fn a_watchlist_hears_its_users_come_online_and_go_offline() {
    let app = start(json!({})).await;
    let mut u1 = Ws::connect(&app).await;
    sign_in_watching(&mut u1, "u1", vec!["u2".into()]).await;
    let now = u1.expect("pusher_internal:watchlist_events").await;
    assert_eq!(
        data_of(&now),
        json!({"events": [{"name": "offline", "user_ids": ["u2"]}]})
    );
    let mut u2 = Ws::connect(&app).await;
    u2.sign_in("u2").await;
    let online = u1.expect("pusher_internal:watchlist_events").await;
    assert_eq!(
        data_of(&online),
        json!({"events": [{"name": "online", "user_ids": ["u2"]}]})
    );
    // A second socket of u2 changes nothing; its last one leaving is `offline`.
    let mut u2b = Ws::connect(&app).await;
    u2b.sign_in("u2").await;
    u1.assert_quiet().await;
    drop(u2);
    u1.assert_quiet().await;
    drop(u2b);
    let offline = u1.expect("pusher_internal:watchlist_events").await;
    assert_eq!(
        data_of(&offline),
        json!({"events": [{"name": "offline", "user_ids": ["u2"]}]})
    );
}

#[tokio::test]
async fn a_watchlist_over_a_hundred_is_signed_in_with_error_4302() {
    let app = start(json!({})).await;
    let mut ws = Ws::connect(&app).await;
    sign_in_watching(&mut ws, "u1", (0..101).map(|i| format!("w{i}")).collect()).await;
    assert_eq!(ws.expect("pusher:error").await["data"]["code"], 4302);
    let state = ws.expect("pusher_internal:watchlist_events").await;
    assert_eq!(
        data_of(&state)["events"][0]["user_ids"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
}
