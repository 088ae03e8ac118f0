//! The mounted channel authorization and user sign-in routes, through Rocket's local
//! client: the exact bodies pusher-js and pusher-js-auth send (recorded in the vectors),
//! every success shape (private, presence, encrypted, batch, JSONP, sign-in) checked with
//! `verify_channel_auth` / `verify_user_auth`, and every refusal with its status and JSON
//! reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/rocket_app.rs"]
mod rocket_app;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rocket::http::{ContentType, Cookie, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest};
use rocket::{Request, post, routes};
use rocket_app::{
    KEY, MASTER_KEY, SECRET, VECTOR_KEY, VECTOR_SECRET, assert_json_error, client, client_of,
    json_of, post_form, read, recorded_body, rocket_with, token,
};
use rocket_pusher::protocol::{
    ChannelAuth, Token, UserAuth, verify_channel_auth, verify_user_auth,
};
use rocket_pusher::{PresenceMember, PusherFairing, UserData};
use serde_json::json;

const AUTH: &str = "/pusher/auth";
const USER_AUTH: &str = "/pusher/user-auth";

/// A fairing whose authorizer allows every channel.
fn allow_all() -> PusherFairing {
    PusherFairing::new().authorize(|_, _| Box::pin(async { true }))
}

/// A single-channel answer, parsed; asserts 200 JSON with only the expected fields.
fn channel_auth(got: &(Status, Option<ContentType>, String)) -> ChannelAuth {
    let (status, ct, body) = got;
    assert_eq!(*status, Status::Ok, "body: {body}");
    assert_eq!(ct.as_ref(), Some(&ContentType::JSON));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn field_names(body: &str) -> Vec<String> {
    let mut keys: Vec<String> = json_of(body).as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

fn vector_token() -> Token {
    Token::new(VECTOR_KEY, VECTOR_SECRET)
}

/// What an authorizer saw, shared with the test.
type Log<T> = Arc<Mutex<Vec<T>>>;
/// The extra form fields, as pusher-js `params`.
type Params = Vec<(String, String)>;

// ---------------------------------------------------------------- single channel

#[rocket::async_test]
async fn private_channel_with_the_recorded_pusher_js_body() {
    let seen: Log<(String, String, Params)> = Arc::default();
    let log = seen.clone();
    let fairing = PusherFairing::new().authorize(move |_, ch| {
        log.lock().unwrap().push((
            ch.socket_id.to_string(),
            ch.channel.to_string(),
            ch.params.to_vec(),
        ));
        Box::pin(async { true })
    });
    let client = client(fairing, json!({})).await;
    let body = recorded_body("channel authorization (channelAuthorization, ajax)");
    assert!(body.starts_with("socket_id=123.456&channel_name=private-user-42%40example.com"));

    let got = post_form(&client, AUTH, &body).await;
    let auth = channel_auth(&got);
    assert_eq!(field_names(&got.2), ["auth"]);
    assert!(auth.auth.starts_with(&format!("{KEY}:")));
    assert!(verify_channel_auth(
        &token(),
        "123.456",
        "private-user-42@example.com",
        &auth
    ));
    assert!(!verify_channel_auth(
        &token(),
        "123.457",
        "private-user-42@example.com",
        &auth
    ));

    // The authorizer saw the decoded channel, the socket id and pusher-js `params`.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "123.456");
    assert_eq!(seen[0].1, "private-user-42@example.com");
    let params: Vec<(&str, &str)> = seen[0]
        .2
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(params, [("foo", "bar baz"), ("a&b", "c=d"), ("dyn", "1")]);
}

#[rocket::async_test]
async fn private_and_encrypted_auth_equal_the_official_libraries() {
    let client = client(
        allow_all(),
        json!({ "key": VECTOR_KEY, "secret": VECTOR_SECRET,
                "encryption_master_key_base64": MASTER_KEY }),
    )
    .await;
    let sections = [
        ("python", "private_channel_auth"),
        ("node", "private_channel_auth"),
        ("python", "encrypted_channel_auth"),
        ("node", "encrypted_channel_auth"),
    ];
    let mut checked = 0;
    for (library, section) in sections {
        for v in rocket_app::vectors()[library]["vectors"][section]
            .as_array()
            .unwrap()
        {
            if v["credentials"] != "simple"
                || v.get("master_key_base64")
                    .is_some_and(|mk| mk.as_str() != Some(MASTER_KEY))
            {
                continue;
            }
            let socket = v["socket_id"].as_str().unwrap();
            let channel = v["channel"].as_str().unwrap();
            let body = format!(
                "socket_id={socket}&channel_name={}",
                channel.replace('@', "%40")
            );
            let got = post_form(&client, AUTH, &body).await;
            let auth = channel_auth(&got);
            let expected = &v["output"];
            assert_eq!(auth.auth, expected["auth"], "{library} {section} {channel}");
            assert_eq!(
                auth.shared_secret.as_deref(),
                expected["shared_secret"].as_str(),
                "{library} {section} {channel}"
            );
            assert!(verify_channel_auth(&vector_token(), socket, channel, &auth));
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} vectors checked");
}

#[rocket::async_test]
async fn presence_channel_with_the_member_handler() {
    let fairing = allow_all().presence_member(|_, ch| {
        Box::pin(async move {
            Some(
                PresenceMember::new(format!("user-of-{}", ch.socket_id))
                    .with_info(json!({ "name": "Zoë 😀" })),
            )
        })
    });
    let client = client(fairing, json!({})).await;
    let got = post_form(
        &client,
        AUTH,
        "socket_id=555.666&channel_name=presence-room-1",
    )
    .await;
    let auth = channel_auth(&got);
    assert_eq!(field_names(&got.2), ["auth", "channel_data"]);
    let data = auth.channel_data.clone().unwrap();
    assert_eq!(
        json_of(&data),
        json!({ "user_id": "user-of-555.666", "user_info": { "name": "Zoë 😀" } })
    );
    assert!(verify_channel_auth(
        &token(),
        "555.666",
        "presence-room-1",
        &auth
    ));
    // The signature covers channel_data: another member does not verify.
    let forged = ChannelAuth {
        channel_data: Some(r#"{"user_id":"admin"}"#.into()),
        ..auth
    };
    assert!(!verify_channel_auth(
        &token(),
        "555.666",
        "presence-room-1",
        &forged
    ));
}

#[rocket::async_test]
async fn presence_member_handler_returning_none_refuses() {
    let fairing = allow_all().presence_member(|_, _| Box::pin(async { None }));
    let client = client(fairing, json!({})).await;
    let got = post_form(&client, AUTH, "socket_id=1.2&channel_name=presence-room").await;
    assert_json_error(&got, Status::Forbidden, "refused");
}

#[rocket::async_test]
async fn presence_channel_defaults_to_the_socket_id_member() {
    // The deprecated `authEndpoint` body pusher-js sends, on a presence channel.
    let body = recorded_body("channel authorization via deprecated authEndpoint/auth options");
    assert_eq!(body, "socket_id=1.2&channel_name=presence-room&x=1");
    let client = client(allow_all(), json!({})).await;
    let got = post_form(&client, AUTH, &body).await;
    let auth = channel_auth(&got);
    assert_eq!(auth.channel_data.as_deref(), Some(r#"{"user_id":"1.2"}"#));
    assert!(verify_channel_auth(&token(), "1.2", "presence-room", &auth));
}

#[rocket::async_test]
async fn encrypted_channel_gets_the_shared_secret() {
    let client = client(
        allow_all(),
        json!({ "encryption_master_key_base64": MASTER_KEY }),
    )
    .await;
    let got = post_form(
        &client,
        AUTH,
        "socket_id=123.456&channel_name=private-encrypted-chat-room%401",
    )
    .await;
    let auth = channel_auth(&got);
    assert_eq!(field_names(&got.2), ["auth", "shared_secret"]);
    assert!(verify_channel_auth(
        &token(),
        "123.456",
        "private-encrypted-chat-room@1",
        &auth
    ));
    // The shared secret depends only on channel and master key: the Python library's.
    let v = rocket_app::vectors()["python"]["vectors"]["encrypted_channel_auth"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["channel"] == "private-encrypted-chat-room@1")
        .unwrap();
    assert_eq!(
        auth.shared_secret.as_deref(),
        v["output"]["shared_secret"].as_str()
    );
}

#[rocket::async_test]
async fn encrypted_channel_without_a_master_key_is_refused() {
    let client = client(allow_all(), json!({})).await;
    let got = post_form(
        &client,
        AUTH,
        "socket_id=1.2&channel_name=private-encrypted-room",
    )
    .await;
    assert_json_error(
        &got,
        Status::Forbidden,
        "encrypted channels are not enabled",
    );
}

// ---------------------------------------------------------------- batch (pusher-js-auth)

#[rocket::async_test]
async fn batch_with_the_recorded_pusher_js_auth_body() {
    let seen: Log<(String, Option<String>)> = Arc::default();
    let log = seen.clone();
    let fairing = PusherFairing::new()
        .authorize(move |_, ch| {
            log.lock()
                .unwrap()
                .push((ch.channel.to_string(), ch.param("extra").map(str::to_owned)));
            let ok = ch.channel.as_str() != "private-missing";
            Box::pin(async move { ok })
        })
        .presence_member(|_, _| Box::pin(async { Some(PresenceMember::new("1")) }));
    let client = client(fairing, json!({})).await;
    let body = recorded_body("pusher-js-auth batched channel authorization");
    assert!(
        body.starts_with("&socket_id=123.456&channel_name[0]="),
        "{body}"
    );

    let (status, ct, text) = post_form(&client, AUTH, &body).await;
    assert_eq!(status, Status::Ok, "{text}");
    assert_eq!(ct, Some(ContentType::JSON));
    let v = json_of(&text);
    assert_eq!(
        field_names(&text),
        ["presence-b@x", "private-a", "private-missing"]
    );

    assert_eq!(v["private-a"]["status"], 200);
    let a: ChannelAuth = serde_json::from_value(v["private-a"]["data"].clone()).unwrap();
    assert_eq!(a.channel_data, None);
    assert!(verify_channel_auth(&token(), "123.456", "private-a", &a));

    assert_eq!(v["presence-b@x"]["status"], 200);
    let b: ChannelAuth = serde_json::from_value(v["presence-b@x"]["data"].clone()).unwrap();
    // What the plugin's callback expects, as recorded: `{"user_id":"1"}` as channel_data.
    assert_eq!(b.channel_data.as_deref(), Some(r#"{"user_id":"1"}"#));
    assert!(verify_channel_auth(&token(), "123.456", "presence-b@x", &b));

    assert_eq!(v["private-missing"]["status"], 403);
    assert!(v["private-missing"].get("data").is_none());

    // Every channel was asked once, in order, with the plugin's extra param decoded.
    let seen = seen.lock().unwrap();
    let extra = Some("p q".to_owned());
    assert_eq!(
        *seen,
        [
            ("private-a".to_owned(), extra.clone()),
            ("presence-b@x".to_owned(), extra.clone()),
            ("private-missing".to_owned(), extra),
        ]
    );
}

#[rocket::async_test]
async fn batch_with_encoded_brackets_and_mixed_outcomes() {
    let client = client(allow_all(), json!({})).await;
    let long = format!("private-{}", "x".repeat(200));
    let body = format!(
        "socket_id=1.2&channel_name%5B0%5D=private-ok&channel_name%5B1%5D=public-news\
         &channel_name%5B2%5D=private-bad%20name&channel_name%5B3%5D={long}\
         &channel_name%5B4%5D=private-encrypted-x"
    );
    let (status, _, text) = post_form(&client, AUTH, &body).await;
    assert_eq!(status, Status::Ok, "{text}");
    let v = json_of(&text);
    assert_eq!(v.as_object().unwrap().len(), 5, "{text}");
    assert_eq!(v["private-ok"]["status"], 200);
    let ok: ChannelAuth = serde_json::from_value(v["private-ok"]["data"].clone()).unwrap();
    assert!(verify_channel_auth(&token(), "1.2", "private-ok", &ok));
    assert_eq!(v["public-news"]["status"], 404);
    assert_eq!(v["private-bad name"]["status"], 400);
    assert_eq!(v[long.as_str()]["status"], 400);
    assert_eq!(v["private-encrypted-x"]["status"], 403);
}

#[rocket::async_test]
async fn a_repeated_channel_in_a_batch_is_answered_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let fairing = PusherFairing::new().authorize(move |_, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { true })
    });
    let client = client(fairing, json!({})).await;
    let body = "&socket_id=1.2&channel_name[0]=private-a&channel_name[1]=private-a\
                &channel_name[2]=private-b&channel_name[3]=private-a";
    let (status, _, text) = post_form(&client, AUTH, body).await;
    assert_eq!(status, Status::Ok, "{text}");
    assert_eq!(field_names(&text), ["private-a", "private-b"]);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let v = json_of(&text);
    for ch in ["private-a", "private-b"] {
        let a: ChannelAuth = serde_json::from_value(v[ch]["data"].clone()).unwrap();
        assert!(verify_channel_auth(&token(), "1.2", ch, &a));
    }
}

#[rocket::async_test]
async fn a_batch_over_max_batch_channels_is_refused() {
    let client = client(allow_all(), json!({ "max_batch_channels": 2 })).await;
    let two = "socket_id=1.2&channel_name[0]=private-a&channel_name[1]=private-b";
    let (status, _, text) = post_form(&client, AUTH, two).await;
    assert_eq!(status, Status::Ok, "{text}");
    assert_eq!(field_names(&text), ["private-a", "private-b"]);

    let three = format!("{two}&channel_name[2]=private-c");
    let got = post_form(&client, AUTH, &three).await;
    assert_json_error(&got, Status::BadRequest, "more than 2 channels");
}

#[rocket::async_test]
async fn the_default_batch_cap_is_100() {
    let client = client(allow_all(), json!({})).await;
    let batch = |n: usize| {
        let mut body = "socket_id=1.2".to_owned();
        for i in 0..n {
            body.push_str(&format!("&channel_name[{i}]=private-{i}"));
        }
        body
    };
    let (status, _, text) = post_form(&client, AUTH, &batch(100)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(json_of(&text).as_object().unwrap().len(), 100);
    let got = post_form(&client, AUTH, &batch(101)).await;
    assert_json_error(&got, Status::BadRequest, "more than 100 channels");
}

// ---------------------------------------------------------------- refusals

#[rocket::async_test]
async fn without_an_authorizer_every_channel_is_refused() {
    let client = client(PusherFairing::new(), json!({})).await;
    let got = post_form(&client, AUTH, "socket_id=1.2&channel_name=private-a").await;
    assert_json_error(&got, Status::Forbidden, "no channel authorizer");
    let got = post_form(&client, AUTH, "socket_id=1.2&channel_name=presence-a").await;
    assert_json_error(&got, Status::Forbidden, "no channel authorizer");

    let (status, _, text) = post_form(
        &client,
        AUTH,
        "socket_id=1.2&channel_name[0]=private-a&channel_name[1]=presence-b",
    )
    .await;
    assert_eq!(status, Status::Ok);
    let v = json_of(&text);
    assert_eq!(v["private-a"]["status"], 403);
    assert_eq!(v["presence-b"]["status"], 403);
}

#[rocket::async_test]
async fn a_refused_channel_gets_403() {
    let fairing = PusherFairing::new().authorize(|_, ch| {
        let ok = ch.channel.as_str().starts_with("private-open-");
        Box::pin(async move { ok })
    });
    let client = client(fairing, json!({})).await;
    let got = post_form(&client, AUTH, "socket_id=1.2&channel_name=private-closed").await;
    assert_json_error(&got, Status::Forbidden, "channel refused");
    let got = post_form(&client, AUTH, "socket_id=1.2&channel_name=private-open-1").await;
    assert!(verify_channel_auth(
        &token(),
        "1.2",
        "private-open-1",
        &channel_auth(&got)
    ));
}

#[rocket::async_test]
async fn a_public_channel_gets_404() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let fairing = PusherFairing::new().authorize(move |_, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { true })
    });
    let client = client(fairing, json!({})).await;
    let got = post_form(&client, AUTH, "socket_id=1.2&channel_name=news").await;
    assert_json_error(
        &got,
        Status::NotFound,
        "public channels need no authorization",
    );
    // `#server-to-user-` channels are not authorized through this route either.
    let got = post_form(
        &client,
        AUTH,
        "socket_id=1.2&channel_name=%23server-to-user-42",
    )
    .await;
    assert_eq!(got.0, Status::BadRequest, "{}", got.2);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[rocket::async_test]
async fn missing_fields_get_400() {
    let client = client(allow_all(), json!({})).await;
    for (body, reason) in [
        ("channel_name=private-a", "missing socket_id"),
        ("socket_id=1.2", "missing channel_name"),
        ("socket_id=1.2&foo=bar", "missing channel_name"),
        ("", "missing socket_id"),
        (
            "socket_id=1.2&channel_name=private-a&channel_name=private-b",
            "channel_name given more than once",
        ),
        (
            "socket_id=1.2&channel_name=private-a&channel_name[0]=private-b",
            "cannot be mixed",
        ),
    ] {
        let got = post_form(&client, AUTH, body).await;
        assert_json_error(&got, Status::BadRequest, reason);
    }
}

#[rocket::async_test]
async fn malformed_socket_ids_get_400_with_a_reason() {
    let client = client(allow_all(), json!({})).await;
    for socket in [
        "abc", "1.2%3Ax", "1", ".2", "1.", "1.2.3", "-1.2", "1.2%0A", "%20",
    ] {
        let body = format!("socket_id={socket}&channel_name=private-a");
        let got = post_form(&client, AUTH, &body).await;
        assert_json_error(&got, Status::BadRequest, "malformed socket_id");
    }
    let got = post_form(&client, AUTH, "socket_id=1.2%ZZ&channel_name=private-a").await;
    assert_json_error(&got, Status::BadRequest, "malformed form encoding");
}

#[rocket::async_test]
async fn illegal_and_too_long_channel_names_get_400_with_a_reason() {
    let client = client(allow_all(), json!({})).await;
    for (channel, reason) in [
        ("private-a%20b", "contains ' '"),
        ("private-a%2Fb", "contains '/'"),
        ("private-%C3%A9", "contains 'é'"),
        ("", "channel name is empty"),
    ] {
        let body = format!("socket_id=1.2&channel_name={channel}");
        let got = post_form(&client, AUTH, &body).await;
        assert_json_error(&got, Status::BadRequest, "invalid channel_name");
        assert_json_error(&got, Status::BadRequest, reason);
    }
    // 200 characters is the limit; 201 is refused.
    let max = format!("private-{}", "x".repeat(200 - 8));
    let got = post_form(&client, AUTH, &format!("socket_id=1.2&channel_name={max}")).await;
    assert!(verify_channel_auth(
        &token(),
        "1.2",
        &max,
        &channel_auth(&got)
    ));
    let long = format!("{max}x");
    let got = post_form(&client, AUTH, &format!("socket_id=1.2&channel_name={long}")).await;
    assert_json_error(&got, Status::BadRequest, "201 bytes long, the limit is 200");
}

#[rocket::async_test]
async fn a_body_that_is_not_a_form_gets_415() {
    let client = client(allow_all(), json!({})).await;
    for ct in [ContentType::JSON, ContentType::Plain, ContentType::FormData] {
        let got = read(
            client
                .post(AUTH)
                .header(ct)
                .body(r#"{"socket_id":"1.2","channel_name":"private-a"}"#)
                .dispatch()
                .await,
        )
        .await;
        assert_json_error(&got, Status::UnsupportedMediaType, "x-www-form-urlencoded");
    }
    // A charset parameter is still a form; no Content-Type at all is read as a form.
    let got = read(
        client
            .post(AUTH)
            .header(
                ContentType::new("application", "x-www-form-urlencoded")
                    .with_params(("charset", "UTF-8")),
            )
            .body("socket_id=1.2&channel_name=private-a")
            .dispatch()
            .await,
    )
    .await;
    assert!(verify_channel_auth(
        &token(),
        "1.2",
        "private-a",
        &channel_auth(&got)
    ));
    let got = read(
        client
            .post(AUTH)
            .body("socket_id=1.2&channel_name=private-a")
            .dispatch()
            .await,
    )
    .await;
    assert!(verify_channel_auth(
        &token(),
        "1.2",
        "private-a",
        &channel_auth(&got)
    ));
}

#[rocket::async_test]
async fn a_body_over_the_form_limit_gets_413() {
    // Rocket's default `form` limit: 32 KiB.
    let client = client(allow_all(), json!({})).await;
    let body = format!(
        "socket_id=1.2&channel_name=private-a&pad={}",
        "x".repeat(33 * 1024)
    );
    let got = post_form(&client, AUTH, &body).await;
    assert_json_error(&got, Status::PayloadTooLarge, "exceeds the limit");

    // `form/pusher` narrows it for the crate's routes only.
    let figment = rocket_app::figment(json!({})).merge(("limits", json!({ "form/pusher": 64 })));
    let rocket = rocket::custom(figment).attach(allow_all());
    let client = client_of(rocket).await;
    let short = "socket_id=1.2&channel_name=private-a";
    let got = post_form(&client, AUTH, short).await;
    assert!(verify_channel_auth(
        &token(),
        "1.2",
        "private-a",
        &channel_auth(&got)
    ));
    let got = post_form(&client, AUTH, &format!("{short}&pad={}", "x".repeat(64))).await;
    assert_json_error(&got, Status::PayloadTooLarge, "exceeds the limit of 64");
}

// ---------------------------------------------------------------- JSONP

#[rocket::async_test]
async fn jsonp_is_off_by_default() {
    let client = client(allow_all(), json!({})).await;
    let resp = client
        .get("/pusher/auth?callback=cb&socket_id=1.2&channel_name=private-a")
        .dispatch()
        .await;
    let (status, _, body) = read(resp).await;
    assert_eq!(status, Status::NotFound);
    assert!(!body.contains("cb("), "{body}");
    assert!(!body.contains(KEY), "{body}");
}

#[rocket::async_test]
async fn jsonp_answers_with_the_callback_when_enabled() {
    let client = client(allow_all(), json!({ "jsonp": true })).await;
    // What pusher-js's JSONP transport requests: the callback name URI-encoded.
    let resp = client
        .get(
            "/pusher/auth?callback=Pusher.auth_callbacks%5B'1'%5D\
             &socket_id=123.456&channel_name=private-a",
        )
        .dispatch()
        .await;
    let (status, ct, body) = read(resp).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(ct, Some(ContentType::JavaScript));
    let inner = body
        .strip_prefix("Pusher.auth_callbacks['1'](")
        .and_then(|b| b.strip_suffix(");"))
        .unwrap_or_else(|| panic!("not a JSONP call: {body}"));
    let auth: ChannelAuth = serde_json::from_str(inner).unwrap();
    assert!(verify_channel_auth(&token(), "123.456", "private-a", &auth));

    // POST still works beside it.
    let got = post_form(&client, AUTH, "socket_id=1.2&channel_name=private-a").await;
    assert!(verify_channel_auth(
        &token(),
        "1.2",
        "private-a",
        &channel_auth(&got)
    ));
}

#[rocket::async_test]
async fn jsonp_refusals_keep_their_status() {
    let fairing = PusherFairing::new().authorize(|_, _| Box::pin(async { false }));
    let client = client(fairing, json!({ "jsonp": true })).await;
    let resp = client
        .get("/pusher/auth?callback=cb&socket_id=1.2&channel_name=private-a")
        .dispatch()
        .await;
    let (status, ct, body) = read(resp).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(ct, Some(ContentType::JavaScript));
    assert_eq!(body, r#"cb({"error":"channel refused"});"#);
}

#[rocket::async_test]
async fn invalid_jsonp_callbacks_get_400() {
    let client = client(allow_all(), json!({ "jsonp": true })).await;
    for callback in [
        "alert(1)//",
        "alert%281%29%2F%2F",
        "cb%3Balert(1)",
        "%3Cscript%3E",
        "1cb",
        "cb%20x",
        "",
    ] {
        let uri = format!("/pusher/auth?callback={callback}&socket_id=1.2&channel_name=private-a");
        let got = read(client.get(uri).dispatch().await).await;
        assert_json_error(&got, Status::BadRequest, "invalid JSONP callback");
        assert!(!got.2.contains("alert"), "{}", got.2);
    }
    let got = read(
        client
            .get("/pusher/auth?socket_id=1.2&channel_name=private-a")
            .dispatch()
            .await,
    )
    .await;
    assert_json_error(
        &got,
        Status::BadRequest,
        "missing or invalid JSONP callback",
    );
    let long = "c".repeat(129);
    let uri = format!("/pusher/auth?callback={long}&socket_id=1.2&channel_name=private-a");
    let got = read(client.get(uri).dispatch().await).await;
    assert_json_error(&got, Status::BadRequest, "invalid JSONP callback");
}

// ---------------------------------------------------------------- user sign-in

#[rocket::async_test]
async fn user_signin_with_the_recorded_pusher_js_body() {
    let fairing = PusherFairing::new().user_signin(|_, socket| {
        Box::pin(async move {
            Some(
                UserData::new(format!("user-{}", socket.as_str().replace('.', "-")))
                    .with_info(json!({ "name": "Jürgen ☃" }))
                    .with_watchlist(["user-2", "user-3"]),
            )
        })
    });
    let client = client(fairing, json!({})).await;
    let body = recorded_body("user authentication (userAuthentication, ajax)");
    assert_eq!(body, "socket_id=123.456&u=v");
    let (status, ct, text) = post_form(&client, USER_AUTH, &body).await;
    assert_eq!(status, Status::Ok, "{text}");
    assert_eq!(ct, Some(ContentType::JSON));
    assert_eq!(field_names(&text), ["auth", "user_data"]);
    let auth: UserAuth = serde_json::from_str(&text).unwrap();
    assert!(verify_user_auth(&token(), "123.456", &auth));
    assert!(!verify_user_auth(&token(), "123.457", &auth));
    assert_eq!(
        json_of(&auth.user_data),
        json!({ "id": "user-123-456", "user_info": { "name": "Jürgen ☃" },
                "watchlist": ["user-2", "user-3"] })
    );
}

#[rocket::async_test]
async fn user_signin_without_a_handler_gets_403() {
    let client = client(allow_all(), json!({})).await;
    let got = post_form(&client, USER_AUTH, "socket_id=123.456").await;
    assert_json_error(&got, Status::Forbidden, "user sign-in is not configured");
}

#[rocket::async_test]
async fn user_signin_refused_by_the_handler_gets_403() {
    let fairing = PusherFairing::new().user_signin(|req, _| {
        Box::pin(async move {
            let name = req.cookies().get("user")?.value().to_owned();
            Some(UserData::new(name))
        })
    });
    let client = client(fairing, json!({})).await;
    let got = post_form(&client, USER_AUTH, "socket_id=123.456").await;
    assert_json_error(&got, Status::Forbidden, "sign-in refused");

    let resp = client
        .post(USER_AUTH)
        .header(ContentType::Form)
        .cookie(Cookie::new("user", "alice"))
        .body("socket_id=123.456")
        .dispatch()
        .await;
    let (status, _, text) = read(resp).await;
    assert_eq!(status, Status::Ok, "{text}");
    let auth: UserAuth = serde_json::from_str(&text).unwrap();
    assert_eq!(auth.user_data, r#"{"id":"alice"}"#);
    assert!(verify_user_auth(&token(), "123.456", &auth));
}

#[rocket::async_test]
async fn user_signin_checks_its_input() {
    let fairing =
        PusherFairing::new().user_signin(|_, _| Box::pin(async { Some(UserData::new("u")) }));
    let client = client(fairing, json!({})).await;
    let got = post_form(&client, USER_AUTH, "u=v").await;
    assert_json_error(&got, Status::BadRequest, "missing socket_id");
    let got = post_form(&client, USER_AUTH, "socket_id=1.2x").await;
    assert_json_error(&got, Status::BadRequest, "malformed socket_id");
    let got = read(
        client
            .post(USER_AUTH)
            .header(ContentType::JSON)
            .body(r#"{"socket_id":"1.2"}"#)
            .dispatch()
            .await,
    )
    .await;
    assert_json_error(&got, Status::UnsupportedMediaType, "x-www-form-urlencoded");
}

#[rocket::async_test]
async fn user_signin_with_invalid_user_data_is_a_server_error() {
    let fairing = PusherFairing::new()
        .user_signin(|_, _| Box::pin(async { Some(UserData::new("has space")) }));
    let client = client(fairing, json!({})).await;
    let got = post_form(&client, USER_AUTH, "socket_id=1.2").await;
    assert_json_error(&got, Status::InternalServerError, "user data is invalid");
    assert!(!got.2.contains(SECRET));
}

// ---------------------------------------------------------------- the app's own guards

/// The app's logged-in user, from a cookie: what an authorizer asks Rocket for.
struct User(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match req.cookies().get("user") {
            Some(c) => Outcome::Success(User(c.value().to_owned())),
            None => Outcome::Error((Status::Unauthorized, ())),
        }
    }
}

#[rocket::async_test]
async fn an_authorizer_closure_can_use_the_apps_request_guards() {
    let fairing = PusherFairing::new()
        .authorize(|req, ch| {
            Box::pin(async move {
                match req.guard::<User>().await {
                    Outcome::Success(user) => {
                        ch.channel.as_str() == format!("private-user-{}", user.0)
                            || ch.channel.as_str().starts_with("presence-")
                    }
                    _ => false,
                }
            })
        })
        .presence_member(|req, _| {
            Box::pin(async move {
                let user = req.guard::<User>().await.succeeded()?;
                Some(PresenceMember::new(user.0.clone()).with_info(json!({ "name": user.0 })))
            })
        });
    let client = client(fairing, json!({})).await;
    let post = |channel: &str, user: Option<&str>| {
        let mut req = client
            .post(AUTH)
            .header(ContentType::Form)
            .body(format!("socket_id=1.2&channel_name={channel}"));
        if let Some(u) = user {
            req = req.cookie(Cookie::new("user", u.to_owned()));
        }
        req
    };

    let got = read(post("private-user-alice", Some("alice")).dispatch().await).await;
    assert!(verify_channel_auth(
        &token(),
        "1.2",
        "private-user-alice",
        &channel_auth(&got)
    ));
    let got = read(post("private-user-alice", Some("bob")).dispatch().await).await;
    assert_json_error(&got, Status::Forbidden, "channel refused");
    let got = read(post("private-user-alice", None).dispatch().await).await;
    assert_json_error(&got, Status::Forbidden, "channel refused");

    let got = read(post("presence-lobby", Some("carol")).dispatch().await).await;
    let auth = channel_auth(&got);
    assert_eq!(
        auth.channel_data.as_deref(),
        Some(r#"{"user_id":"carol","user_info":{"name":"carol"}}"#)
    );
    assert!(verify_channel_auth(
        &token(),
        "1.2",
        "presence-lobby",
        &auth
    ));
}

// ---------------------------------------------------------------- the app's own route wins

#[post("/pusher/auth")]
fn my_auth() -> &'static str {
    "the app's own auth route"
}

#[rocket::async_test]
async fn an_apps_own_route_at_the_same_path_overrides_ours() {
    let rocket = rocket_with(allow_all(), json!({})).mount("/", routes![my_auth]);
    // No collision at launch: our route has rank 10.
    let client = client_of(rocket).await;
    let (status, _, body) = post_form(&client, AUTH, "socket_id=1.2&channel_name=private-a").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, "the app's own auth route");

    let ours: Vec<_> = client
        .rocket()
        .routes()
        .filter(|r| r.uri.path() == AUTH)
        .map(|r| (r.rank, r.name.as_deref().map(str::to_owned)))
        .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(
        ours.contains(&(10, Some("pusher: channel auth".to_owned()))),
        "{ours:?}"
    );
}
