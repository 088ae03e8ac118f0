//! Webhooks through Rocket's local client: the three mounted routes and their handlers,
//! the `VerifiedWebhook<T>` guard in an app's own routes, the real signed bodies of the
//! Python and Node libraries (vectors), and every refusal: key, signature, size, shape,
//! freshness.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/rocket_app.rs"]
mod rocket_app;

use std::sync::{Arc, Mutex};

use rocket::http::{ContentType, Header, Status};
use rocket::{State, post, routes};
use rocket_app::{
    KEY, SECRET, VECTOR_KEY, VECTOR_SECRET, assert_json_error, client, client_of, json_of, now_ms,
    post_signed, post_webhook, read, rocket_with, sign, vector,
};
use rocket_pusher::error::WebhookRejection;
use rocket_pusher::protocol::{Token, WebhookEvent, narrow_events, sign_webhook};
use rocket_pusher::{
    ChannelExistenceEvent, ClientEvent, Event, PresenceEvent, PusherFairing, VerifiedWebhook,
    Webhook,
};
use serde_json::{Value, json};

const EXISTENCE: &str = "/pusher/events/channel_existence";
const PRESENCE: &str = "/pusher/events/presence";
const CLIENT: &str = "/pusher/events/client";

/// What the registered handlers received.
#[derive(Default)]
struct Received {
    existence: Mutex<Vec<Webhook<ChannelExistenceEvent>>>,
    presence: Mutex<Vec<Webhook<PresenceEvent>>>,
    client: Mutex<Vec<Webhook<ClientEvent>>>,
}

impl Received {
    fn total(&self) -> usize {
        self.existence.lock().unwrap().len()
            + self.presence.lock().unwrap().len()
            + self.client.lock().unwrap().len()
    }
}

/// A fairing with all three webhook handlers, recording into the returned `Received`.
fn recording_fairing() -> (PusherFairing, Arc<Received>) {
    let received = Arc::new(Received::default());
    let (a, b, c) = (received.clone(), received.clone(), received.clone());
    let fairing = PusherFairing::new()
        .on_channel_existence(move |_, hook| {
            a.existence.lock().unwrap().push(hook);
            Box::pin(async {})
        })
        .on_presence(move |_, hook| {
            b.presence.lock().unwrap().push(hook);
            Box::pin(async {})
        })
        .on_client_event(move |_, hook| {
            c.client.lock().unwrap().push(hook);
            Box::pin(async {})
        });
    (fairing, received)
}

/// The `pusher` table with the vectors' `simple` credentials.
fn vector_credentials() -> Value {
    json!({ "key": VECTOR_KEY, "secret": VECTOR_SECRET })
}

/// A webhook vector: body, key and signature as the official library produced them.
fn signed_vector(library: &str, label: &str) -> (String, String, String) {
    let v = vector(library, "webhooks", "simple", label);
    (
        v["body"].as_str().unwrap().to_owned(),
        v["x_pusher_key"].as_str().unwrap().to_owned(),
        v["x_pusher_signature"].as_str().unwrap().to_owned(),
    )
}

fn assert_ok_empty(got: &(Status, Option<ContentType>, String)) {
    assert_eq!(got.0, Status::Ok, "body: {}", got.2);
    assert_eq!(got.1, Some(ContentType::JSON));
    assert_eq!(json_of(&got.2), json!({}));
}

// ---------------------------------------------------------------- the mounted routes

#[rocket::async_test]
async fn mounted_routes_deliver_the_official_libraries_webhooks() {
    let (fairing, received) = recording_fairing();
    let client = client(fairing, vector_credentials()).await;

    for library in ["python", "node"] {
        let (body, key, sig) = signed_vector(library, "channel_occupied");
        let got = post_webhook(&client, EXISTENCE, Some(&key), Some(&sig), body.as_bytes()).await;
        assert_ok_empty(&got);

        let (body, key, sig) = signed_vector(library, "batch_presence");
        let got = post_webhook(&client, PRESENCE, Some(&key), Some(&sig), body.as_bytes()).await;
        assert_ok_empty(&got);

        let (body, key, sig) = signed_vector(library, "client_event_unicode");
        let got = post_webhook(&client, CLIENT, Some(&key), Some(&sig), body.as_bytes()).await;
        assert_ok_empty(&got);
    }

    let existence = received.existence.lock().unwrap();
    assert_eq!(existence.len(), 2);
    assert_eq!(existence[0].time_ms, 1_700_000_000_123);
    assert_eq!(
        existence[0].events,
        [ChannelExistenceEvent::Occupied {
            channel: "my-channel".into()
        }]
    );

    // The batch also holds a channel_vacated: the presence handler gets only its family.
    let presence = received.presence.lock().unwrap();
    assert_eq!(presence.len(), 2);
    assert_eq!(
        presence[1].events,
        [
            PresenceEvent::MemberAdded {
                channel: "presence-room".into(),
                user_id: "42".into()
            },
            PresenceEvent::MemberRemoved {
                channel: "presence-room".into(),
                user_id: "43".into()
            },
        ]
    );

    let client_events = received.client.lock().unwrap();
    assert_eq!(client_events.len(), 2);
    let e = &client_events[0].events[0];
    assert_eq!(e.channel, "presence-chat");
    assert_eq!(e.event, "client-msg");
    assert_eq!(e.socket_id, "123.456");
    assert_eq!(e.user_id.as_deref(), Some("42"));
    assert_eq!(
        e.data_as::<Value>().unwrap(),
        json!({ "text": "héllo ☃ 😀" })
    );
}

#[rocket::async_test]
async fn mixed_event_families_reach_each_handler_as_its_own_family() {
    let (fairing, received) = recording_fairing();
    let client = client(fairing, json!({})).await;
    let body = json!({
        "time_ms": now_ms(),
        "events": [
            { "name": "channel_occupied", "channel": "a" },
            { "name": "member_added", "channel": "presence-a", "user_id": "u1" },
            { "name": "client_event", "channel": "private-a", "event": "client-x",
              "data": "{}", "socket_id": "1.2" },
            { "name": "subscription_count", "channel": "a", "subscription_count": 3 },
            { "name": "member_updated", "channel": "presence-a", "user_id": "u1" },
            { "name": "channel_vacated", "channel": "b" },
        ]
    })
    .to_string();
    for uri in [EXISTENCE, PRESENCE, CLIENT] {
        assert_ok_empty(&post_signed(&client, uri, body.as_bytes()).await);
    }
    assert_eq!(
        received.existence.lock().unwrap()[0].events,
        [
            ChannelExistenceEvent::Occupied {
                channel: "a".into()
            },
            ChannelExistenceEvent::Vacated {
                channel: "b".into()
            },
        ]
    );
    assert_eq!(
        received.presence.lock().unwrap()[0].events,
        [PresenceEvent::MemberAdded {
            channel: "presence-a".into(),
            user_id: "u1".into()
        }]
    );
    let client_events = received.client.lock().unwrap();
    assert_eq!(client_events[0].events.len(), 1);
    assert_eq!(client_events[0].events[0].event, "client-x");
}

/// Key header, signature header, body, expected reason.
type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [u8], &'a str);

#[rocket::async_test]
async fn a_missing_or_wrong_key_or_signature_gets_403() {
    let (fairing, received) = recording_fairing();
    let client = client(fairing, json!({})).await;
    let body = format!(
        r#"{{"time_ms":{},"events":[{{"name":"channel_occupied","channel":"a"}}]}}"#,
        now_ms()
    );
    let body = body.as_bytes();
    let good = sign(body);
    let other_secret = sign_webhook(&Token::new(KEY, "not-the-secret"), body);
    let tampered = body
        .iter()
        .map(|&b| if b == b'a' { b'b' } else { b })
        .collect::<Vec<u8>>();

    for uri in [EXISTENCE, PRESENCE, CLIENT] {
        let cases: [Case<'_>; 9] = [
            (None, Some(&good), body, "missing X-Pusher-Key"),
            (Some("other-key"), Some(&good), body, "unknown X-Pusher-Key"),
            (Some(""), Some(&good), body, "unknown X-Pusher-Key"),
            (Some(KEY), None, body, "missing X-Pusher-Signature"),
            (
                Some(KEY),
                Some(&other_secret),
                body,
                "invalid X-Pusher-Signature",
            ),
            (
                Some(KEY),
                Some(&good),
                &tampered,
                "invalid X-Pusher-Signature",
            ),
            (
                Some(KEY),
                Some("not hex at all"),
                body,
                "invalid X-Pusher-Signature",
            ),
            (
                Some(KEY),
                Some(&good[..good.len() - 1]),
                body,
                "invalid X-Pusher-Signature",
            ),
            (Some(KEY), Some(""), body, "invalid X-Pusher-Signature"),
        ];
        for (key, sig, b, reason) in cases {
            let got = post_webhook(&client, uri, key, sig, b).await;
            assert_json_error(&got, Status::Forbidden, reason);
            assert!(!got.2.contains(SECRET));
        }
    }
    assert_eq!(
        received.total(),
        0,
        "no handler may run on a refused webhook"
    );

    // Header names are case-insensitive, as HTTP says.
    let resp = client
        .post(EXISTENCE)
        .header(ContentType::JSON)
        .header(Header::new("x-pusher-key", KEY))
        .header(Header::new("x-pusher-signature", good.clone()))
        .body(body)
        .dispatch()
        .await;
    assert_ok_empty(&read(resp).await);
    assert_eq!(received.total(), 1);

    // A repeated header: the first value counts, as with a keyed lookup.
    let resp = client
        .post(EXISTENCE)
        .header(ContentType::JSON)
        .header(Header::new("X-Pusher-Key", KEY))
        .header(Header::new("X-Pusher-Key", "other-key"))
        .header(Header::new("X-Pusher-Signature", "00"))
        .header(Header::new("X-Pusher-Signature", good.clone()))
        .body(body)
        .dispatch()
        .await;
    assert_json_error(
        &read(resp).await,
        Status::Forbidden,
        "invalid X-Pusher-Signature",
    );
    assert_eq!(received.total(), 1);
}

#[rocket::async_test]
async fn a_route_without_a_handler_gets_404() {
    let fairing = PusherFairing::new().on_presence(|_, _| Box::pin(async {}));
    let client = client(fairing, json!({})).await;
    let body = br#"{"time_ms":1,"events":[{"name":"channel_occupied","channel":"a"}]}"#;
    for uri in [EXISTENCE, CLIENT] {
        let got = post_signed(&client, uri, body).await;
        assert_json_error(&got, Status::NotFound, "no handler is registered");
        // Unsigned requests learn nothing about which handlers exist.
        let got = post_webhook(&client, uri, Some(KEY), Some("00"), body).await;
        assert_json_error(&got, Status::Forbidden, "invalid X-Pusher-Signature");
    }
    assert_ok_empty(&post_signed(&client, PRESENCE, body).await);
}

/// As Rocket's own `Json` guard: 400 for a body that is not JSON, 422 for JSON that is not a
/// Pusher webhook.
#[rocket::async_test]
async fn a_signed_body_that_is_not_a_webhook_gets_400_or_422() {
    let (fairing, received) = recording_fairing();
    let client = client(fairing, json!({})).await;
    let syntax = Status::BadRequest;
    let shape = Status::UnprocessableEntity;
    for (body, status, reason) in [
        ("not json", syntax, "not JSON"),
        ("", syntax, "not JSON"),
        (r#"{"time_ms":1,"events":["#, syntax, "not JSON"),
        ("{}", shape, "not a Pusher webhook"),
        ("[]", shape, "not a Pusher webhook"),
        (r#"{"events":[]}"#, shape, "not a Pusher webhook"),
        (
            r#"{"time_ms":"soon","events":[]}"#,
            shape,
            "not a Pusher webhook",
        ),
        (
            r#"{"time_ms":1,"events":{}}"#,
            shape,
            "not a Pusher webhook",
        ),
        (
            r#"{"time_ms":1,"events":[{"channel":"no-name"}]}"#,
            shape,
            "not a Pusher webhook",
        ),
        (
            r#"{"time_ms":1,"events":[{"name":"member_added","channel":"presence-a"}]}"#,
            shape,
            "not a Pusher webhook",
        ),
    ] {
        let got = post_signed(&client, PRESENCE, body.as_bytes()).await;
        assert_json_error(&got, status, reason);
    }
    // Bytes that are not UTF-8, inside a string and outside one.
    for body in [
        &b"{\"time_ms\":1,\"events\":[{\"name\":\"\xff\",\"channel\":\"a\"}]}"[..],
        &b"{\"time_ms\":1,\"events\":[]}\xc3"[..],
    ] {
        let got = post_signed(&client, PRESENCE, body).await;
        assert_json_error(&got, syntax, "not JSON");
    }
    assert_eq!(received.total(), 0);
}

#[rocket::async_test]
async fn a_body_over_webhook_body_limit_gets_413_never_a_signature_failure() {
    let (fairing, received) = recording_fairing();
    let client = client(fairing, json!({ "webhook_body_limit": 128 })).await;
    let event = r#"{"name":"channel_occupied","channel":"a"}"#;
    let fits = format!(r#"{{"time_ms":1,"events":[{event},{event}]}}"#);
    assert!(fits.len() <= 128);
    assert_ok_empty(&post_signed(&client, EXISTENCE, fits.as_bytes()).await);

    let big = format!(r#"{{"time_ms":1,"events":[{}]}}"#, [event; 4].join(","));
    assert!(big.len() > 128);
    let got = post_signed(&client, EXISTENCE, big.as_bytes()).await;
    assert_json_error(
        &got,
        Status::PayloadTooLarge,
        "exceeds the limit of 128 bytes",
    );
    // Signed right or wrong, the size is what is reported.
    let got = post_webhook(&client, EXISTENCE, Some(KEY), Some("00"), big.as_bytes()).await;
    assert_json_error(
        &got,
        Status::PayloadTooLarge,
        "exceeds the limit of 128 bytes",
    );
    // The limit is exact: 128 bytes pass, 129 do not (JSON may end in whitespace).
    let exact = format!("{fits:<128}");
    assert_eq!(exact.len(), 128);
    assert_ok_empty(&post_signed(&client, EXISTENCE, exact.as_bytes()).await);
    let over = format!("{fits:<129}");
    let got = post_signed(&client, EXISTENCE, over.as_bytes()).await;
    assert_json_error(
        &got,
        Status::PayloadTooLarge,
        "exceeds the limit of 128 bytes",
    );
    assert_eq!(received.existence.lock().unwrap().len(), 2);
}

#[rocket::async_test]
async fn large_batches_are_read_whole_under_the_default_limit() {
    // Past Rocket's 8 KiB `string`/`bytes` limits and its 1 MiB `json` limit: the body is
    // read whole under `webhook_body_limit`, never truncated into a signature failure.
    let (fairing, received) = recording_fairing();
    let client = client(fairing, json!({ "webhook_body_limit": "4 MiB" })).await;
    let events: Vec<Value> = (0..40_000)
        .map(|i| json!({ "name": "member_added", "channel": "presence-big", "user_id": format!("u{i}") }))
        .collect();
    let body = json!({ "time_ms": 1, "events": events }).to_string();
    assert!(body.len() > 1024 * 1024, "{}", body.len());
    assert_ok_empty(&post_signed(&client, PRESENCE, body.as_bytes()).await);
    {
        let presence = received.presence.lock().unwrap();
        assert_eq!(presence[0].events.len(), 40_000);
        assert_eq!(presence[0].events[39_999].user_id(), "u39999");
    }

    // The default limit is 1 MiB.
    let (fairing, _) = recording_fairing();
    let client = rocket_app::client(fairing, json!({})).await;
    let got = post_signed(&client, PRESENCE, body.as_bytes()).await;
    assert_json_error(
        &got,
        Status::PayloadTooLarge,
        "exceeds the limit of 1048576 bytes",
    );
}

#[rocket::async_test]
async fn webhook_tokens_accept_a_rotated_key() {
    // The app's key is new; the vectors were signed with the old one (`KEY`).
    let (fairing, received) = recording_fairing();
    let client = client(
        fairing,
        json!({ "webhook_tokens": [{ "key": VECTOR_KEY, "secret": VECTOR_SECRET }] }),
    )
    .await;
    let (body, key, sig) = signed_vector("node", "channel_occupied");
    assert_eq!(key, VECTOR_KEY);
    assert_ok_empty(
        &post_webhook(&client, EXISTENCE, Some(&key), Some(&sig), body.as_bytes()).await,
    );
    // The app's own token still works.
    assert_ok_empty(&post_signed(&client, EXISTENCE, body.as_bytes()).await);
    // A signature is checked with the secret of the key it claims.
    let got = post_webhook(&client, EXISTENCE, Some(KEY), Some(&sig), body.as_bytes()).await;
    assert_json_error(&got, Status::Forbidden, "invalid X-Pusher-Signature");
    let got = post_webhook(
        &client,
        EXISTENCE,
        Some(VECTOR_KEY),
        Some(&sign(body.as_bytes())),
        body.as_bytes(),
    )
    .await;
    assert_json_error(&got, Status::Forbidden, "invalid X-Pusher-Signature");
    assert_eq!(received.existence.lock().unwrap().len(), 2);
}

#[rocket::async_test]
async fn webhook_max_age_refuses_stale_webhooks() {
    let (fairing, received) = recording_fairing();
    let client = client(fairing, json!({ "webhook_max_age": 300 })).await;
    let at = |time_ms: u64| {
        format!(r#"{{"time_ms":{time_ms},"events":[{{"name":"channel_occupied","channel":"a"}}]}}"#)
    };
    assert_ok_empty(&post_signed(&client, EXISTENCE, at(now_ms()).as_bytes()).await);
    assert_ok_empty(&post_signed(&client, EXISTENCE, at(now_ms() - 60_000).as_bytes()).await);
    for time_ms in [now_ms() - 600_000, now_ms() + 600_000, 1_327_078_148_132] {
        let got = post_signed(&client, EXISTENCE, at(time_ms).as_bytes()).await;
        assert_json_error(&got, Status::Forbidden, "outside the 300000 ms window");
    }
    assert_eq!(received.existence.lock().unwrap().len(), 2);
}

#[rocket::async_test]
async fn webhook_freshness_is_off_by_default() {
    let (fairing, received) = recording_fairing();
    let client = client(fairing, vector_credentials()).await;
    // The documentation's example, signed by both libraries: time_ms is January 2012, and
    // its one event (`event_name`) is of no family the routes handle.
    for library in ["python", "node"] {
        let (body, key, sig) = signed_vector(library, "doc_example");
        assert!(body.contains("1327078148132"));
        let got = post_webhook(&client, EXISTENCE, Some(&key), Some(&sig), body.as_bytes()).await;
        assert_ok_empty(&got);
    }
    let existence = received.existence.lock().unwrap();
    assert_eq!(existence.len(), 2);
    assert_eq!(existence[0].time_ms, 1_327_078_148_132);
    assert!(existence[0].events.is_empty());
}

// ---------------------------------------------------------------- VerifiedWebhook<T>

fn describe_presence(e: &PresenceEvent) -> String {
    match e {
        PresenceEvent::MemberAdded { channel, user_id } => format!("+{user_id}@{channel}"),
        PresenceEvent::MemberRemoved { channel, user_id } => format!("-{user_id}@{channel}"),
        other => format!("{other:?}"),
    }
}

#[post("/hooks/presence", data = "<hook>")]
fn presence_hook(hook: VerifiedWebhook<PresenceEvent>) -> String {
    let events: Vec<String> = hook.events.iter().map(describe_presence).collect();
    let others: Vec<&str> = hook.others().iter().map(Event::name).collect();
    format!(
        "{} {} by {} others={}",
        hook.time_ms,
        events.join(","),
        hook.key(),
        others.join(",")
    )
}

#[post("/hooks/existence", data = "<hook>")]
fn existence_hook(hook: VerifiedWebhook<ChannelExistenceEvent>) -> String {
    hook.into_inner()
        .events
        .iter()
        .map(|e| match e {
            ChannelExistenceEvent::Occupied { channel } => format!("occupied:{channel}"),
            ChannelExistenceEvent::Vacated { channel } => format!("vacated:{channel}"),
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[post("/hooks/client", data = "<hook>")]
fn client_hook(hook: VerifiedWebhook<ClientEvent>) -> String {
    let e = &hook.events[0];
    format!(
        "{} on {} from {} as {:?}: {}",
        e.event, e.channel, e.socket_id, e.user_id, e.data
    )
}

#[post("/hooks/all", data = "<hook>")]
fn all_hook(hook: VerifiedWebhook) -> String {
    hook.events
        .iter()
        .map(|e| match e {
            Event::SubscriptionCount {
                channel,
                subscription_count,
            } => format!("count:{channel}={subscription_count}"),
            Event::CacheMiss { channel } => format!("miss:{channel}"),
            Event::Unknown(v) => format!("unknown:{}", v["name"].as_str().unwrap_or("")),
            other => other.name().to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[post("/hooks/checked", data = "<hook>")]
fn checked_hook(
    hook: Result<VerifiedWebhook<PresenceEvent>, WebhookRejection>,
    seen: &State<Mutex<Vec<String>>>,
) -> Result<String, WebhookRejection> {
    let hook = hook?;
    let users: Vec<String> = hook.events.iter().map(|e| e.user_id().to_owned()).collect();
    seen.lock().unwrap().extend(users.iter().cloned());
    Ok(users.join(","))
}

async fn own_routes_client(extra: Value) -> rocket::local::asynchronous::Client {
    let rocket = rocket_with(PusherFairing::new().without_routes(), extra)
        .manage(Mutex::new(Vec::<String>::new()))
        .mount(
            "/",
            routes![
                presence_hook,
                existence_hook,
                client_hook,
                all_hook,
                checked_hook
            ],
        );
    client_of(rocket).await
}

#[rocket::async_test]
async fn verified_webhook_guards_type_the_official_libraries_webhooks() {
    let client = own_routes_client(vector_credentials()).await;
    let post = |uri: &'static str, library: &'static str, label: &'static str| {
        let client = &client;
        async move {
            let (body, key, sig) = signed_vector(library, label);
            let (status, _, text) =
                post_webhook(client, uri, Some(&key), Some(&sig), body.as_bytes()).await;
            assert_eq!(status, Status::Ok, "{uri} {library} {label}: {text}");
            text
        }
    };
    for library in ["python", "node"] {
        assert_eq!(
            post("/hooks/presence", library, "batch_presence").await,
            "1700000000123 +42@presence-room,-43@presence-room by KEY others=channel_vacated"
        );
        assert_eq!(
            post("/hooks/existence", library, "batch_presence").await,
            "vacated:my-channel"
        );
        assert_eq!(
            post("/hooks/existence", library, "channel_occupied").await,
            "occupied:my-channel"
        );
        assert_eq!(
            post("/hooks/client", library, "client_event_unicode").await,
            r#"client-msg on presence-chat from 123.456 as Some("42"): {"text":"héllo ☃ 😀"}"#
        );
        assert_eq!(
            post("/hooks/all", library, "subscription_count_and_cache_miss").await,
            "count:my-channel=3,miss:cache-news"
        );
        assert_eq!(
            post("/hooks/all", library, "doc_example").await,
            "unknown:event_name"
        );
        assert_eq!(
            post("/hooks/all", library, "batch_presence").await,
            "member_added,member_removed,channel_vacated"
        );
    }
    // without_routes(): nothing is mounted under /pusher.
    let got = post_signed(&client, PRESENCE, b"{}").await;
    assert_eq!(got.0, Status::NotFound);
}

#[rocket::async_test]
async fn verified_webhook_failures_fail_the_route() {
    let client = own_routes_client(json!({ "webhook_body_limit": 256 })).await;
    let body =
        br#"{"time_ms":1,"events":[{"name":"member_added","channel":"presence-a","user_id":"u"}]}"#;
    let (status, _, text) = post_signed(&client, "/hooks/presence", body).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(text, format!("1 +u@presence-a by {KEY} others="));
    for (key, sig, status) in [
        (None, Some(sign(body)), Status::Forbidden),
        (Some("nope"), Some(sign(body)), Status::Forbidden),
        (Some(KEY), None, Status::Forbidden),
        (Some(KEY), Some("ab".repeat(32)), Status::Forbidden),
    ] {
        let (got, _, text) =
            post_webhook(&client, "/hooks/presence", key, sig.as_deref(), body).await;
        assert_eq!(got, status, "{text}");
        assert!(!text.contains("presence-a"), "{text}");
    }
    let got = post_signed(&client, "/hooks/presence", b"nope").await;
    assert_eq!(got.0, Status::BadRequest);
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(300));
    let got = post_signed(&client, "/hooks/presence", big.as_bytes()).await;
    assert_eq!(got.0, Status::PayloadTooLarge);
}

#[rocket::async_test]
async fn result_of_verified_webhook_returns_the_error_as_json() {
    let client =
        own_routes_client(json!({ "webhook_body_limit": 256, "webhook_max_age": 60 })).await;
    let at = |time_ms: u64| {
        format!(
            r#"{{"time_ms":{time_ms},"events":[{{"name":"member_removed","channel":"presence-a","user_id":"u7"}}]}}"#
        )
    };
    let body = at(now_ms());
    let (status, _, text) = post_signed(&client, "/hooks/checked", body.as_bytes()).await;
    assert_eq!(status, Status::Ok, "{text}");
    assert_eq!(text, "u7");

    let got = post_webhook(
        &client,
        "/hooks/checked",
        Some(KEY),
        Some("zz"),
        body.as_bytes(),
    )
    .await;
    assert_json_error(&got, Status::Forbidden, "invalid X-Pusher-Signature");
    let got = post_webhook(&client, "/hooks/checked", None, None, body.as_bytes()).await;
    assert_json_error(&got, Status::Forbidden, "missing X-Pusher-Key");
    let got = post_signed(&client, "/hooks/checked", b"<xml/>").await;
    assert_json_error(&got, Status::BadRequest, "not JSON");
    let got = post_signed(&client, "/hooks/checked", br#"{"time_ms":1}"#).await;
    assert_json_error(&got, Status::UnprocessableEntity, "not a Pusher webhook");
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(300));
    let got = post_signed(&client, "/hooks/checked", big.as_bytes()).await;
    assert_json_error(
        &got,
        Status::PayloadTooLarge,
        "exceeds the limit of 256 bytes",
    );
    let stale = at(now_ms() - 61_000);
    let got = post_signed(&client, "/hooks/checked", stale.as_bytes()).await;
    assert_json_error(&got, Status::Forbidden, "outside the 60000 ms window");

    let seen = client.rocket().state::<Mutex<Vec<String>>>().unwrap();
    assert_eq!(*seen.lock().unwrap(), ["u7"]);
}

// ---------------------------------------------------------------- serialization

/// Every webhook body the official libraries signed: both libraries, both credentials.
fn vector_bodies() -> Vec<(&'static str, &'static str)> {
    ["python", "node"]
        .into_iter()
        .flat_map(|library| {
            rocket_app::vectors()[library]["vectors"]["webhooks"]
                .as_array()
                .unwrap()
        })
        .map(|v| (v["label"].as_str().unwrap(), v["body"].as_str().unwrap()))
        .collect()
}

/// `event` as family `T`, if it is one: serialized, it is the object it was read from, and
/// that object reads back as the same `T`.
fn assert_family_round_trip<T>(event: &Event, object: &Value, label: &str) -> bool
where
    T: WebhookEvent + serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let Ok(typed) = T::from_event(event.clone()) else {
        // Another family's event is refused by this one's `Deserialize` too.
        assert!(
            serde_json::from_value::<T>(object.clone()).is_err(),
            "{label}: {object}"
        );
        return false;
    };
    assert_eq!(serde_json::to_value(&typed).unwrap(), *object, "{label}");
    assert_eq!(
        serde_json::from_value::<T>(object.clone()).unwrap(),
        typed,
        "{label}"
    );
    true
}

#[test]
fn every_webhook_event_serializes_to_the_json_pusher_sent() {
    let bodies = vector_bodies();
    assert_eq!(bodies.len(), 20);
    let (mut presence, mut existence, mut client) = (0, 0, 0);
    for (label, body) in bodies {
        let webhook = Webhook::parse(body.as_bytes()).unwrap();
        // Byte for byte: Pusher's key order, compact JSON, raw UTF-8.
        let text = serde_json::to_string(&webhook).unwrap();
        assert_eq!(text, body, "{label}");
        assert_eq!(Webhook::parse(text.as_bytes()).unwrap(), webhook, "{label}");

        let original: Value = serde_json::from_str(body).unwrap();
        let objects = original["events"].as_array().unwrap();
        assert_eq!(objects.len(), webhook.events.len(), "{label}");
        for (event, object) in webhook.events.iter().zip(objects) {
            assert_eq!(serde_json::to_value(event).unwrap(), *object, "{label}");
            presence += usize::from(assert_family_round_trip::<PresenceEvent>(
                event, object, label,
            ));
            existence += usize::from(assert_family_round_trip::<ChannelExistenceEvent>(
                event, object, label,
            ));
            client += usize::from(assert_family_round_trip::<ClientEvent>(
                event, object, label,
            ));
        }

        // A webhook narrowed to one family serializes and parses back as that family.
        let (events, _) = narrow_events::<PresenceEvent>(webhook.events.clone());
        let narrowed = Webhook {
            time_ms: webhook.time_ms,
            events,
        };
        let text = serde_json::to_string(&narrowed).unwrap();
        assert_eq!(
            serde_json::from_str::<Webhook<PresenceEvent>>(&text).unwrap(),
            narrowed,
            "{label}"
        );
    }
    // Each family was met, in every vector that has it: 4 sources of each body.
    assert_eq!((presence, existence, client), (8, 8, 4));
}

#[post("/hooks/forward", data = "<hook>")]
fn forward_hook(
    hook: VerifiedWebhook<PresenceEvent>,
) -> rocket::serde::json::Json<Webhook<PresenceEvent>> {
    rocket::serde::json::Json(hook.into_inner())
}

#[rocket::async_test]
async fn a_verified_webhook_forwards_as_the_json_it_came_as() {
    let rocket = rocket_with(PusherFairing::new().without_routes(), vector_credentials())
        .mount("/", routes![forward_hook]);
    let client = client_of(rocket).await;
    let (body, key, sig) = signed_vector("node", "batch_presence");
    let (status, _, text) = post_webhook(
        &client,
        "/hooks/forward",
        Some(&key),
        Some(&sig),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, Status::Ok, "{text}");
    // The original, less its `channel_vacated`, which is not a presence event.
    let mut want: Value = serde_json::from_str(&body).unwrap();
    want["events"].as_array_mut().unwrap().pop();
    assert_eq!(json_of(&text), want);
}
