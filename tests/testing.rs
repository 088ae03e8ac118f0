//! The test kit (`rocket_pusher::testing`) against real routes, through both local clients:
//! a route's triggers read back filtered, typed and decrypted; signed webhooks accepted by
//! the mounted routes and by `VerifiedWebhook<T>`; wrongly signed ones refused; and
//! `testing::recording` over every configuration source.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/rocket_app.rs"]
mod rocket_app;

use std::sync::{Arc, Mutex};

use rocket::figment::Figment;
use rocket::figment::providers::{Format, Toml};
use rocket::http::{ContentType, Header, Status};
use rocket::http::{Cookie, CookieJar};
use rocket::local::{asynchronous, blocking};
use rocket::request::{FromRequest, Outcome};
use rocket::serde::json::Json;
use rocket::{Build, Request, Rocket, State, post, routes};
use rocket_app::{APP_ID, KEY, MASTER_KEY, SECRET, figment, figment_with_table, json_of};
use rocket_pusher::client::BatchEvent;
use rocket_pusher::error::ValidationError;
use rocket_pusher::error::WebhookRejection;
use rocket_pusher::protocol::verify_channel_auth;
use rocket_pusher::testing::ChannelAuthAnswer;
use rocket_pusher::testing::{self, LocalClientExt};
use rocket_pusher::{
    ChannelExistenceEvent, ChannelName, ClientEvent, Event, PresenceEvent, PresenceMember, Pusher,
    PusherFairing, SocketId, VerifiedWebhook, Webhook, channel, channels,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    item: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Message {
    text: String,
}

type Result<T, E = rocket_pusher::Error> = std::result::Result<T, E>;

/// Tells the order's channel, and an audit trail on two channels as a plain string.
#[post("/orders", data = "<order>")]
async fn create_order(
    order: Json<Order>,
    pusher: &State<Pusher>,
    sender: Option<SocketId>,
) -> Result<Status> {
    pusher
        .trigger("orders", "created", &order.0)
        .exclude(sender)
        .await?;
    pusher
        .trigger(["orders", "audit"], "logged", "order created")
        .await?;
    Ok(Status::Created)
}

/// A message on an end-to-end encrypted channel.
#[post("/rooms/<room>", data = "<text>")]
async fn post_message(room: &str, text: String, pusher: &State<Pusher>) -> Result<Status> {
    pusher
        .trigger(
            format!("private-encrypted-{room}"),
            "message",
            &Message { text },
        )
        .await?;
    Ok(Status::Accepted)
}

/// One batch: a plain channel and an encrypted one.
#[post("/batch")]
async fn batch(pusher: &State<Pusher>) -> Result<Status> {
    pusher
        .trigger_batch([
            BatchEvent::new("stock", "changed", &json!({ "left": 3 })),
            BatchEvent::new(
                "private-encrypted-staff",
                "changed",
                &Message {
                    text: "restock".into(),
                },
            ),
        ])
        .await?;
    Ok(Status::Accepted)
}

/// Who joined and left, as the app's own webhook route.
#[post("/hooks/presence", data = "<hook>")]
fn presence_hook(hook: VerifiedWebhook<PresenceEvent>) -> String {
    hook.events
        .iter()
        .map(|e| format!("{}:{}@{}", e.name(), e.user_id(), e.channel()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Client events, answering the rejection's JSON reason on failure.
#[post("/hooks/client", data = "<hook>")]
fn client_hook(
    hook: std::result::Result<VerifiedWebhook<ClientEvent>, WebhookRejection>,
) -> std::result::Result<String, WebhookRejection> {
    let hook = hook?;
    let e = &hook.events[0];
    Ok(format!(
        "{} {} from {} ({:?}): {}",
        e.channel, e.event, e.socket_id, e.user_id, e.data
    ))
}

/// Every event, forwarded as JSON.
#[post("/hooks/all", data = "<hook>")]
fn all_hook(hook: VerifiedWebhook<Event>) -> Json<Webhook<Event>> {
    Json(hook.into_inner())
}

/// The Pusher headers of a request.
struct PusherHeaders {
    key: Option<String>,
    signature: Option<String>,
    content_type: Option<ContentType>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for PusherHeaders {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let header = |name| req.headers().get_one(name).map(str::to_owned);
        Outcome::Success(Self {
            key: header("X-Pusher-Key"),
            signature: header("X-Pusher-Signature"),
            content_type: req.content_type().cloned(),
        })
    }
}

/// What arrived, unverified: the headers and the raw body.
#[post("/echo", data = "<body>")]
fn echo(headers: PusherHeaders, body: String) -> Json<Value> {
    Json(json!({
        "key": headers.key,
        "signature": headers.signature,
        "content_type": headers.content_type.map(|c| c.to_string()),
        "body": body,
    }))
}

/// What the fairing's webhook handlers received.
#[derive(Default)]
struct Received {
    existence: Mutex<Vec<ChannelExistenceEvent>>,
    presence: Mutex<Vec<PresenceEvent>>,
}

/// The app's encrypted rooms: a user (the `user` cookie) sees the rooms named after them.
#[channel("private-encrypted-inbox.<room>")]
fn inbox(room: &str, jar: &CookieJar<'_>) -> bool {
    jar.get("user").is_some_and(|u| u.value() == room)
}

/// Anyone with a `user` cookie joins, as that user.
#[channel("presence-room.<name>")]
async fn room(name: &str, jar: &CookieJar<'_>) -> Option<PresenceMember> {
    let user = jar.get("user")?.value().to_owned();
    Some(PresenceMember::new(user).with_info(json!({ "room": name })))
}

/// The app: the routes above, the fairing with two webhook handlers, from `figment`.
fn app(figment: Figment) -> (Rocket<Build>, Arc<Received>) {
    // Installed before any Rocket is built in this binary, so its logger is not Rocket's.
    rocket_app::capture_logs();
    let received = Arc::new(Received::default());
    let (a, b) = (received.clone(), received.clone());
    let fairing = PusherFairing::new()
        .channels(channels![inbox, room])
        .on_channel_existence(move |_, hook| {
            a.existence.lock().unwrap().extend(hook.events);
            Box::pin(async {})
        })
        .on_presence(move |_, hook| {
            b.presence.lock().unwrap().extend(hook.events);
            Box::pin(async {})
        });
    let rocket = rocket::custom(figment).attach(fairing).mount(
        "/",
        routes![
            create_order,
            post_message,
            batch,
            presence_hook,
            client_hook,
            all_hook,
            echo
        ],
    );
    (rocket, received)
}

/// The app with the tests' credentials and master key, made recording by the kit.
fn recording_app() -> (Rocket<Build>, Arc<Received>) {
    let (rocket, received) = app(figment(json!({
        "encryption_master_key_base64": MASTER_KEY
    })));
    (testing::recording(rocket), received)
}

fn blocking_client() -> (blocking::Client, Arc<Received>) {
    let (rocket, received) = recording_app();
    (blocking::Client::tracked(rocket).unwrap(), received)
}

async fn async_client() -> (asynchronous::Client, Arc<Received>) {
    let (rocket, received) = recording_app();
    (
        asynchronous::Client::tracked(rocket).await.unwrap(),
        received,
    )
}

fn order(id: u64) -> Order {
    Order {
        id,
        item: format!("item {id}"),
    }
}

fn joined(user_id: &str) -> PresenceEvent {
    PresenceEvent::MemberAdded {
        channel: "presence-room".into(),
        user_id: user_id.into(),
    }
}

// ---------------------------------------------------------------- recording

#[test]
fn recording_keeps_the_apps_credentials_and_fills_in_none() {
    let client = blocking::Client::tracked(recording_app().0).unwrap();
    assert_eq!(client.pusher().app_id(), APP_ID);
    assert_eq!(client.pusher().key(), KEY);
    assert!(client.pusher().master_key().is_some());
    assert!(client.recorder().requests().is_empty());
}

#[test]
fn recording_fills_in_test_credentials_when_there_are_none() {
    let rocket = app(Figment::from(rocket::Config::debug_default())).0;
    let client = blocking::Client::tracked(testing::recording(rocket)).unwrap();
    assert_eq!(client.pusher().app_id(), "test-app");
    assert_eq!(client.pusher().key(), "test-key");
    assert!(client.pusher().recorder().is_some());
}

#[test]
fn recording_fills_in_each_missing_credential_and_keeps_the_others() {
    // The usual CI setup: app_id and key in Rocket.toml, no secret in the environment.
    let rocket = app(figment_with_table(json!({ "app_id": APP_ID, "key": KEY }))).0;
    let client = blocking::Client::tracked(testing::recording(rocket)).unwrap();
    assert_eq!(client.pusher().app_id(), APP_ID);
    assert_eq!(client.pusher().key(), KEY);
    assert_eq!(client.pusher().token().secret.expose(), "test-secret");
    // Only the secret: the app's own secret signs, with a test app id and key.
    let rocket = app(figment_with_table(json!({ "secret": SECRET }))).0;
    let client = blocking::Client::tracked(testing::recording(rocket)).unwrap();
    assert_eq!(client.pusher().app_id(), "test-app");
    assert_eq!(client.pusher().key(), "test-key");
    assert_eq!(client.pusher().token().secret.expose(), SECRET);
}

#[test]
fn recording_wins_over_the_selected_profile_and_keeps_a_url() {
    // As a `Rocket.toml` whose `[debug.pusher]` says `http`, with the credentials as a URL.
    let toml = format!(
        "[default.pusher]\nurl = \"https://{KEY}:{SECRET}@api-eu.pusher.com/apps/{APP_ID}\"\n\
         [debug.pusher]\ntransport = \"http\"\n"
    );
    let figment = Figment::from(rocket::Config::debug_default())
        .merge(Toml::string(&toml).nested())
        .select("debug");
    let (rocket, _) = app(figment.clone());
    let plain = blocking::Client::tracked(rocket).unwrap();
    assert!(plain.pusher().recorder().is_none());

    let (rocket, _) = app(figment);
    let client = blocking::Client::tracked(testing::recording(rocket)).unwrap();
    assert!(client.pusher().recorder().is_some());
    assert_eq!(client.pusher().key(), KEY);
    assert_eq!(client.pusher().app_id(), APP_ID);
}

#[test]
#[should_panic(expected = "sends over HTTP, so nothing is recorded")]
fn the_recorder_of_an_http_app_is_a_clear_panic() {
    let (rocket, _) = app(figment(json!({})));
    let client = blocking::Client::tracked(rocket).unwrap();
    let _ = client.recorder();
}

#[test]
#[should_panic(expected = "the app manages no Pusher: attach `PusherFairing::new()`")]
fn an_app_without_the_fairing_is_a_clear_panic() {
    let rocket = rocket::custom(figment_with_table(json!({})));
    let client = blocking::Client::tracked(rocket).unwrap();
    let _ = client.pusher();
}

// ---------------------------------------------------------------- what the app sent

#[test]
fn sent_reads_a_routes_events_by_channel_and_name() {
    let (client, _) = blocking_client();
    for id in [1, 2] {
        let res = client.post("/orders").json(&order(id)).dispatch();
        assert_eq!(res.status(), Status::Created);
    }
    assert_eq!(
        client.sent::<Order>("orders", "created"),
        [order(1), order(2)]
    );
    // The other event's name, another channel, a name never sent: none of these orders.
    assert_eq!(
        client.sent::<String>("orders", "logged"),
        ["order created", "order created"]
    );
    assert_eq!(
        client.sent::<String>("audit", "logged"),
        ["order created", "order created"]
    );
    assert!(client.sent::<Order>("audit", "created").is_empty());
    assert!(client.sent::<Order>("orders", "deleted").is_empty());
    assert!(client.sent::<Order>("order", "created").is_empty());

    let all = client.sent_events();
    assert_eq!(all.len(), 4);
    assert_eq!(all[1].channels, ["orders", "audit"]);
    assert_eq!(all[1].name, "logged");

    client.recorder().clear();
    assert!(client.sent::<Order>("orders", "created").is_empty());
}

#[test]
fn sent_keeps_the_excluded_socket() {
    let (client, _) = blocking_client();
    client
        .post("/orders")
        .header(Header::new("X-Socket-ID", "123.456"))
        .json(&order(3))
        .dispatch();
    let created = &client.sent_events()[0];
    assert_eq!(created.socket_id.as_deref(), Some("123.456"));
    assert_eq!(created.data_as::<Order>().unwrap(), order(3));
}

#[test]
fn encrypted_events_read_back_as_they_were_sent() {
    let (client, _) = blocking_client();
    let text = "héllo ☃, \"quoted\"";
    let res = client.post("/rooms/lobby").body(text).dispatch();
    assert_eq!(res.status(), Status::Accepted);

    let sent = client.sent::<Message>("private-encrypted-lobby", "message");
    assert_eq!(sent, [Message { text: text.into() }]);
    assert_eq!(
        client.sent_events()[0].data,
        serde_json::to_string(&Message { text: text.into() }).unwrap()
    );
    // The recorder holds what would have gone out: ciphertext only, which the kit opened.
    let raw = &client.recorder().events()[0];
    assert!(!raw.data.contains("llo"), "{}", raw.data);
    let sealed = json_of(&raw.data);
    assert!(sealed["nonce"].is_string() && sealed["ciphertext"].is_string());
    let pusher = client.pusher();
    let opened = rocket_pusher::protocol::decrypt_payload(
        pusher.master_key().unwrap(),
        "private-encrypted-lobby",
        &raw.data,
    )
    .unwrap();
    assert_eq!(
        serde_json::from_slice::<Message>(&opened).unwrap().text,
        text
    );
}

#[test]
fn batches_read_back_item_by_item_and_decrypted() {
    let (client, _) = blocking_client();
    assert_eq!(client.post("/batch").dispatch().status(), Status::Accepted);
    assert_eq!(
        client.sent::<Value>("stock", "changed"),
        [json!({ "left": 3 })]
    );
    assert_eq!(
        client.sent::<Message>("private-encrypted-staff", "changed"),
        [Message {
            text: "restock".into()
        }]
    );
}

#[test]
#[should_panic(expected = "`created` on `orders` is not a")]
fn data_of_another_type_is_a_clear_panic() {
    let (client, _) = blocking_client();
    client.post("/orders").json(&order(1)).dispatch();
    let _ = client.sent::<Message>("orders", "created");
}

#[rocket::async_test]
async fn the_async_client_reads_the_same() {
    let (client, _) = async_client().await;
    let res = client.post("/orders").json(&order(9)).dispatch().await;
    assert_eq!(res.status(), Status::Created);
    let res = client.post("/rooms/a").body("psst").dispatch().await;
    assert_eq!(res.status(), Status::Accepted);
    assert_eq!(client.sent::<Order>("orders", "created"), [order(9)]);
    assert_eq!(
        client.sent::<Message>("private-encrypted-a", "message"),
        [Message {
            text: "psst".into()
        }]
    );
    assert_eq!(client.sent_events().len(), 3);
    assert_eq!(client.recorder().requests().len(), 3);
}

// ---------------------------------------------------------------- signed webhooks

#[test]
fn a_signed_webhook_reaches_the_mounted_routes_handlers() {
    let (client, received) = blocking_client();
    let occupied = ChannelExistenceEvent::Occupied {
        channel: "orders".into(),
    };
    let res = client
        .signed_webhook("/pusher/events/channel_existence", [&occupied])
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        *received.existence.lock().unwrap(),
        std::slice::from_ref(&occupied)
    );

    let res = client
        .signed_webhook("/pusher/events/presence", vec![joined("7")])
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(*received.presence.lock().unwrap(), [joined("7")]);

    // Wrongly signed: refused by each route, and no handler runs.
    for uri in [
        "/pusher/events/channel_existence",
        "/pusher/events/presence",
    ] {
        let res = client.wrongly_signed_webhook(uri, [&occupied]).dispatch();
        assert_eq!(res.status(), Status::Forbidden);
        assert_eq!(
            json_of(&res.into_string().unwrap()),
            json!({ "error": "invalid X-Pusher-Signature" })
        );
    }
    assert_eq!(received.existence.lock().unwrap().len(), 1);
    assert_eq!(received.presence.lock().unwrap().len(), 1);
}

#[test]
fn a_signed_webhook_passes_verified_webhook_and_a_wrong_one_gets_403() {
    let (client, _) = blocking_client();
    let left = PresenceEvent::MemberRemoved {
        channel: "presence-room".into(),
        user_id: "8".into(),
    };
    let res = client
        .signed_webhook("/hooks/presence", [joined("7"), left.clone()])
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        res.into_string().unwrap(),
        "member_added:7@presence-room,member_removed:8@presence-room"
    );
    let res = client
        .wrongly_signed_webhook("/hooks/presence", [left])
        .dispatch();
    assert_eq!(res.status(), Status::Forbidden);

    // A typed client event, and the same as any `Serialize` JSON object.
    let typed = ClientEvent::new("presence-chat", "client-typing", r#"{"on":true}"#, "1.2")
        .with_user_id("7");
    let untyped = json!({
        "name": "client_event", "channel": "presence-chat", "event": "client-typing",
        "data": "{\"on\":true}", "socket_id": "1.2", "user_id": "7"
    });
    let want = r#"presence-chat client-typing from 1.2 (Some("7")): {"on":true}"#;
    let res = client
        .signed_webhook("/hooks/client", [Event::ClientEvent(typed.clone())])
        .dispatch();
    assert_eq!(res.into_string().unwrap(), want);
    let res = client
        .signed_webhook("/hooks/client", [&untyped])
        .dispatch();
    assert_eq!(res.into_string().unwrap(), want);
    let res = client.signed_webhook("/hooks/client", [&typed]).dispatch();
    assert_eq!(res.into_string().unwrap(), want);

    let res = client
        .wrongly_signed_webhook("/hooks/client", [&typed])
        .dispatch();
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(
        json_of(&res.into_string().unwrap()),
        json!({ "error": "invalid X-Pusher-Signature" })
    );
}

#[test]
fn a_signed_webhook_is_what_pusher_sends() {
    let (client, _) = blocking_client();
    let events = [
        Event::ChannelOccupied {
            channel: "a".into(),
        },
        Event::SubscriptionCount {
            channel: "a".into(),
            subscription_count: 2,
        },
    ];
    let before = rocket_app::now_ms();
    let echoed = |res: blocking::LocalResponse<'_>| {
        let got: Value = res.into_json().unwrap();
        assert_eq!(got["content_type"], "application/json");
        assert_eq!(got["key"], KEY);
        let signature = got["signature"].as_str().unwrap().to_owned();
        (signature, got["body"].as_str().unwrap().to_owned())
    };
    // The headers carry the app's key and the HMAC of the exact body under its secret.
    let (signature, body) = echoed(client.signed_webhook("/echo", &events).dispatch());
    let verify = |signature: &str, body: &str| {
        client
            .pusher()
            .verify_webhook(Some(KEY), Some(signature), body.as_bytes())
    };
    assert!(verify(&signature, &body).is_ok());
    // The wrong one is hex of the right length, and verifies nothing.
    let (wrong, wrong_body) = echoed(client.wrongly_signed_webhook("/echo", &events).dispatch());
    assert_eq!(wrong.len(), 64);
    assert!(wrong.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(wrong, signature);
    assert!(verify(&wrong, &wrong_body).is_err());
    assert!(verify(&wrong, &body).is_err());
    let sent: Value = serde_json::from_str(&body).unwrap();
    let time_ms = sent["time_ms"].as_u64().unwrap();
    assert!(before <= time_ms && time_ms <= rocket_app::now_ms() + 1);
    assert_eq!(
        sent["events"],
        json!([
            { "name": "channel_occupied", "channel": "a" },
            { "name": "subscription_count", "channel": "a", "subscription_count": 2 },
        ])
    );

    let res = client.signed_webhook("/hooks/all", &events).dispatch();
    let forwarded: Webhook<Event> = res.into_json().unwrap();
    assert_eq!(forwarded.events, events);
}

#[rocket::async_test]
async fn the_async_client_signs_the_same() {
    let (client, received) = async_client().await;
    let res = client
        .signed_webhook("/pusher/events/presence", [joined("1")])
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(*received.presence.lock().unwrap(), [joined("1")]);
    let res = client
        .signed_webhook("/hooks/presence", [joined("2")])
        .dispatch()
        .await;
    assert_eq!(
        res.into_string().await.unwrap(),
        "member_added:2@presence-room"
    );
    for uri in ["/pusher/events/presence", "/hooks/presence"] {
        let res = client
            .wrongly_signed_webhook(uri, [joined("3")])
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden);
    }
    assert_eq!(received.presence.lock().unwrap().len(), 1);
}

// ---------------------------------------------------------------- queries take channel names

#[test]
fn sent_takes_a_channel_as_trigger_takes_it() {
    let (client, _) = blocking_client();
    let res = client
        .post("/orders")
        .header(ContentType::JSON)
        .body(serde_json::to_string(&order(1)).unwrap())
        .dispatch();
    assert_eq!(res.status(), Status::Created);
    let name = ChannelName::new("orders").unwrap();
    assert_eq!(client.sent::<Order>(&name, "created"), [order(1)]);
    assert_eq!(client.sent::<Order>(name.clone(), "created"), [order(1)]);
    let built: std::result::Result<ChannelName, ValidationError> = Ok(name);
    assert_eq!(client.sent::<Order>(built, "created"), [order(1)]);
    assert_eq!(
        client.sent::<Order>(String::from("orders"), "created"),
        [order(1)]
    );
    // A route's `name(..)`, as a trigger takes it.
    client.post("/rooms/inbox.lobby").body("hi").dispatch();
    assert_eq!(
        client.sent::<Message>(inbox::name("lobby"), "message"),
        [Message { text: "hi".into() }]
    );
}

#[test]
#[should_panic(expected = "not a channel name")]
fn sent_of_a_name_a_route_could_not_build_is_a_clear_panic() {
    let (client, _) = blocking_client();
    let _ = client.sent::<Message>(inbox::name("a.b"), "message");
}

// ---------------------------------------------------------------- channel auth

#[test]
fn channel_auth_decodes_the_routes_answer() {
    let (client, _) = blocking_client();
    // Refused: no user cookie, so the guard's cookie is missing.
    let refused = client.channel_auth("1.2", room::name("lobby"));
    assert_eq!(refused.status, Status::Forbidden);
    assert_eq!(refused.error.as_deref(), Some("channel refused"));
    assert!(refused.auth.is_none() && refused.member.is_none());

    // With the cookie the guard reads: the member, decoded, and a signature that verifies.
    let request = client
        .channel_auth_request("1.2", room::name("lobby"))
        .cookie(Cookie::new("user", "ann"));
    let allowed = client.channel_auth_with(request);
    assert_eq!(allowed.status, Status::Ok);
    let member = allowed.member.clone().unwrap();
    assert_eq!(member.user_id, "ann");
    assert_eq!(member.user_info, Some(json!({ "room": "lobby" })));
    let auth = allowed.auth.unwrap();
    assert!(verify_channel_auth(
        client.pusher().token(),
        "1.2",
        "presence-room.lobby",
        &auth
    ));

    // An encrypted channel: its shared secret, no member.
    let request = client
        .channel_auth_request("1.2", "private-encrypted-inbox.ann")
        .cookie(Cookie::new("user", "ann"));
    let answer = client.channel_auth_with(request);
    assert_eq!(answer.status, Status::Ok);
    assert!(answer.member.is_none());
    assert!(answer.auth.unwrap().shared_secret.is_some());

    // A channel no route matches.
    let none = client.channel_auth("1.2", "private-nothing");
    assert_eq!(none.status, Status::Forbidden);
    assert_eq!(
        none.error.as_deref(),
        Some("no channel route matches this channel")
    );
}

#[rocket::async_test]
async fn the_async_client_asks_the_same() {
    let (client, _) = async_client().await;
    let answer: ChannelAuthAnswer = client.channel_auth("1.2", "presence-room.lobby").await;
    assert_eq!(answer.status, Status::Forbidden);
    let request = client
        .channel_auth_request("1.2", "presence-room.lobby")
        .cookie(Cookie::new("user", "bob"));
    let answer = client.channel_auth_with(request).await;
    assert_eq!(answer.member.unwrap().user_id, "bob");
}

// ---------------------------------------------------------------- logs

#[rocket::async_test]
async fn recording_logs_each_event_and_its_summary_says_recorded() {
    let (client, _) = async_client().await;
    client
        .pusher()
        .trigger("rec-orders", "queued", "1")
        .queue()
        .unwrap();
    client
        .pusher()
        .trigger(["rec-a", "rec-b"], "awaited", "2")
        .await
        .unwrap();
    let lines = rocket_app::capture_logs().lines();
    for needle in [
        "pusher: recorded `queued` on rec-orders (transport = \"recording\": not sent)",
        "pusher: recorded `awaited` on rec-a, rec-b (transport = \"recording\": not sent)",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(needle)),
            "{needle}: {lines:#?}"
        );
    }
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("\"2\"") && l.contains("recorded")),
        "no data logged"
    );
    let before = rocket_app::capture_logs().lines().len();
    client.terminate().await;
    let lines = rocket_app::capture_logs().lines().split_off(before);
    let summary = lines
        .iter()
        .find(|l| l.contains("pusher: queue shut down"))
        .unwrap_or_else(|| panic!("no summary: {lines:#?}"));
    assert!(
        summary.contains("1 recorded (transport = \"recording\": nothing sent)"),
        "{summary}"
    );
    assert!(!summary.contains(" sent,"), "{summary}");
}

#[test]
fn a_webhook_of_other_kinds_is_accepted_empty_and_the_skipped_are_logged() {
    let (client, _) = blocking_client();
    let occupied = ChannelExistenceEvent::Occupied {
        channel: "skipped-room".into(),
    };
    let res = client
        .signed_webhook("/hooks/presence", [&occupied])
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.into_string().unwrap(), "");
    let lines = rocket_app::capture_logs().lines();
    assert!(
        lines.iter().any(|l| l.contains(
            "pusher: /hooks/presence skipped 1 event(s) of other kinds, kept in others(): [\"channel_occupied\"]"
        )),
        "{lines:#?}"
    );
}
