//! Limits at their exact boundaries, and the ones only a real server shows.
//!
//! Through Rocket's local client: the auth form body (`form` / `form/pusher` limit, for
//! the auth and sign-in routes), the batch cap, the webhook body (413), the JSONP callback
//! name. Then the app launched on 127.0.0.1 and spoken to over raw TCP: the header count
//! and header-section size and the URI length that Rocket's HTTP server (hyper) enforces,
//! a webhook or form body sent chunked past its limit, a declared `Content-Length` past it.
//! (`tests/auth_routes.rs` and `tests/webhooks.rs` check the same limits' messages.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use rocket::figment::Figment;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;
use rocket::{Build, Rocket};
use rocket_pusher::PusherFairing;
use serde_json::{Value, json};
use support::rocket_app::{KEY, client_of, launch, sign};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn fairing() -> PusherFairing {
    PusherFairing::new()
        .authorize(|_, _| Box::pin(async { true }))
        .user_signin(|_, _| Box::pin(async { Some(rocket_pusher::UserData::new("u")) }))
        .on_channel_existence(|_, _| Box::pin(async {}))
}

/// The shared test app's figment with JSONP on, `pusher` keys over it and Rocket `limits`;
/// quiet, since the servers below log every request.
fn figment(pusher: Value, limits: Value) -> Figment {
    support::rocket_app::figment(json!({ "jsonp": true }))
        .merge(("pusher", pusher))
        .merge(("limits", limits))
        .merge(("log_level", "off"))
}

fn rocket(pusher: Value, limits: Value) -> Rocket<Build> {
    rocket::custom(figment(pusher, limits)).attach(fairing())
}

async fn app_client(pusher: Value, limits: Value) -> Client {
    client_of(rocket(pusher, limits)).await
}

async fn post(client: &Client, uri: &str, body: &[u8], headers: &[(&str, &str)]) -> Status {
    support::rocket_app::post(client, uri, ContentType::Form, headers, body)
        .await
        .0
}

/// `socket_id=1.2&channel_name=private-a&pad=xxx…`, exactly `len` bytes long.
fn form_of_len(len: usize) -> Vec<u8> {
    let mut body = b"socket_id=1.2&channel_name=private-a&pad=".to_vec();
    assert!(len >= body.len());
    body.resize(len, b'x');
    body
}

/// A signed webhook body, padded with spaces to exactly `len` bytes.
fn webhook_of_len(len: usize) -> (Vec<u8>, String) {
    let mut body =
        br#"{"time_ms":1,"events":[{"name":"channel_occupied","channel":"a"}]}"#.to_vec();
    assert!(len >= body.len());
    body.resize(len, b' ');
    let sig = sign(&body);
    (body, sig)
}

// ---- through the local client: exact boundaries ------------------------------------------

#[rocket::async_test]
async fn the_form_limit_is_exact_for_auth_and_sign_in() {
    for (limits, limit) in [
        (json!({}), 32 * 1024),
        (json!({ "form": 1000 }), 1000),
        (json!({ "form": 100_000, "form/pusher": 300 }), 300),
    ] {
        let client = app_client(json!({}), limits.clone()).await;
        for uri in ["/pusher/auth", "/pusher/user-auth"] {
            assert_eq!(
                post(&client, uri, &form_of_len(limit), &[]).await,
                Status::Ok,
                "{uri} {limits}"
            );
            assert_eq!(
                post(&client, uri, &form_of_len(limit + 1), &[]).await,
                Status::PayloadTooLarge,
                "{uri} {limits}"
            );
        }
    }
}

#[rocket::async_test]
async fn the_batch_cap_is_exact() {
    let client = app_client(json!({ "max_batch_channels": 7 }), json!({})).await;
    let batch = |n: usize| {
        let mut body = "socket_id=1.2".to_owned();
        for i in 0..n {
            body.push_str(&format!("&channel_name[{i}]=private-{i}"));
        }
        // Repeats do not count against the cap.
        body.push_str("&channel_name[99]=private-0");
        body.into_bytes()
    };
    assert_eq!(
        post(&client, "/pusher/auth", &batch(7), &[]).await,
        Status::Ok
    );
    assert_eq!(
        post(&client, "/pusher/auth", &batch(8), &[]).await,
        Status::BadRequest
    );
    // A refused batch is refused before any channel is signed, and quickly, however long.
    let huge: Vec<u8> = batch(2000);
    let roomy = app_client(
        json!({ "max_batch_channels": 7 }),
        json!({ "form": 1_000_000 }),
    )
    .await;
    assert_eq!(
        post(&roomy, "/pusher/auth", &huge, &[]).await,
        Status::BadRequest
    );
}

#[rocket::async_test]
async fn the_webhook_limit_is_exact() {
    let client = app_client(json!({ "webhook_body_limit": 500 }), json!({})).await;
    let uri = "/pusher/events/channel_existence";
    for (len, status) in [(500, Status::Ok), (501, Status::PayloadTooLarge)] {
        let (body, sig) = webhook_of_len(len);
        let headers = [("X-Pusher-Key", KEY), ("X-Pusher-Signature", sig.as_str())];
        assert_eq!(post(&client, uri, &body, &headers).await, status, "{len}");
    }
    // In the unit form too: "1 KiB".
    let kib = app_client(json!({ "webhook_body_limit": "1 KiB" }), json!({})).await;
    for (len, status) in [(1024, Status::Ok), (1025, Status::PayloadTooLarge)] {
        let (body, sig) = webhook_of_len(len);
        let headers = [("X-Pusher-Key", KEY), ("X-Pusher-Signature", sig.as_str())];
        assert_eq!(post(&kib, uri, &body, &headers).await, status, "{len}");
    }
}

#[rocket::async_test]
async fn the_jsonp_callback_name_is_bounded() {
    let client = app_client(json!({}), json!({})).await;
    let get = |cb: String| {
        let client = &client;
        async move {
            let uri = format!("/pusher/auth?callback={cb}&socket_id=1.2&channel_name=private-a");
            let resp = client.get(uri).dispatch().await;
            let status = resp.status();
            (status, resp.into_string().await.unwrap_or_default())
        }
    };
    let (status, body) = get("c".repeat(128)).await;
    assert_eq!(status, Status::Ok);
    assert!(body.starts_with(&format!("{}(", "c".repeat(128))), "{body}");
    assert_eq!(get("c".repeat(129)).await.0, Status::BadRequest);
    // The characters pusher-js uses, and nothing that ends the call or starts another.
    assert_eq!(get("$a._b[0]['x']".into()).await.0, Status::Ok);
    for bad in [
        "a(", "a)", "a;b", "a,b", "a\"", "a%0Ab", "a%3Cb", "a-b", "a b", "a=b", "a/b",
    ] {
        assert_eq!(get(bad.into()).await.0, Status::BadRequest, "{bad}");
    }
}

// ---- a real server on 127.0.0.1 ----------------------------------------------------------

/// Send raw bytes, read until the server closes or 5 s pass; returns the status code (0 if
/// the connection closed without a response) and the response text.
async fn raw(port: u16, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // The server may answer (and close) before it has read everything: ignore write errors.
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn auth_request(extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /pusher/auth HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_server_bounds_headers_and_uris() {
    let (port, shutdown) = launch(rocket(json!({}), json!({}))).await;
    let body = "socket_id=1.2&channel_name=private-a";

    let (status, text) = raw(port, &auth_request("", body)).await;
    assert_eq!(status, 200, "{text}");

    // Up to 100 headers in all (hyper's default); more are refused with 431.
    let headers = |n: usize| (0..n).map(|i| format!("x-h{i}: v\r\n")).collect::<String>();
    let (status, text) = raw(port, &auth_request(&headers(100 - 4), body)).await;
    assert_eq!(status, 200, "{text}");
    let (status, _) = raw(port, &auth_request(&headers(100 - 3), body)).await;
    assert_eq!(status, 431);
    let (status, _) = raw(port, &auth_request(&headers(10_000), body)).await;
    assert_eq!(status, 431);

    // A header section past hyper's buffer (about 400 KiB) is refused with 431 too; a
    // large one below it passes.
    let big = |len: usize| format!("x-big: {}\r\n", "a".repeat(len));
    let (status, text) = raw(port, &auth_request(&big(64 * 1024), body)).await;
    assert_eq!(status, 200, "{text}");
    let (status, _) = raw(port, &auth_request(&big(512 * 1024), body)).await;
    assert_eq!(status, 431);

    // A URI past hyper's limit (65 534 bytes): 414.
    let uri = format!(
        "/pusher/auth?callback=cb&socket_id=1.2&channel_name=private-a&p={}",
        "a".repeat(70_000)
    );
    let request = format!("GET {uri} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    let (status, _) = raw(port, request.as_bytes()).await;
    assert_eq!(status, 414);

    shutdown.notify();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_past_their_limit_are_refused_over_the_wire() {
    let (port, shutdown) = launch(rocket(
        json!({ "webhook_body_limit": 1000 }),
        json!({ "form": 1000 }),
    ))
    .await;

    // Chunked bodies: no length announced, cut at the limit.
    let chunked = |path: &str, extra: &str, chunks: usize| {
        let mut r = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
             content-type: application/x-www-form-urlencoded\r\n{extra}transfer-encoding: chunked\r\n\r\n"
        );
        r.push_str("d\r\nsocket_id=1.2\r\n");
        for _ in 0..chunks {
            r.push_str("64\r\n");
            r.push_str(&"x".repeat(100));
            r.push_str("\r\n");
        }
        r.push_str("0\r\n\r\n");
        r.into_bytes()
    };
    let (status, _) = raw(port, &chunked("/pusher/auth", "", 50)).await;
    assert_eq!(status, 413);
    let sig = sign(b"whatever");
    let hook_headers = format!("x-pusher-key: {KEY}\r\nx-pusher-signature: {sig}\r\n");
    let (status, _) = raw(
        port,
        &chunked("/pusher/events/channel_existence", &hook_headers, 50),
    )
    .await;
    assert_eq!(status, 413);

    // A declared length past the limit, with the body sent: 413 once the limit is read.
    let long = "x".repeat(5000);
    let (status, _) = raw(port, &auth_request("", &format!("socket_id=1.2&p={long}"))).await;
    assert_eq!(status, 413);
    let (body, sig) = webhook_of_len(5000);
    let request = [
        format!(
            "POST /pusher/events/channel_existence HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
             x-pusher-key: {KEY}\r\nx-pusher-signature: {sig}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body,
    ]
    .concat();
    let (status, _) = raw(port, &request).await;
    assert_eq!(status, 413);

    // And the server still answers afterwards.
    let (status, _) = raw(
        port,
        &auth_request("", "socket_id=1.2&channel_name=private-a"),
    )
    .await;
    assert_eq!(status, 200);
    shutdown.notify();
}
