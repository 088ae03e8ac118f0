//! Shared pieces of the Rocket integration tests: an app built from a figment holding a
//! `pusher` table, the local client or a real server on 127.0.0.1, form and webhook
//! requests, ignite failures, a capturing logger, and the fixture vectors.
//!
//! ```ignore
//! mod support;
//! use support::rocket_app;
//!
//! let client = rocket_app::client(PusherFairing::new(), json!({"jsonp": true})).await;
//! let (status, _, body) = rocket_app::post_form(&client, "/pusher/auth", "socket_id=1.2").await;
//! ```

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rocket::error::ErrorKind;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalRequest, LocalResponse};
use rocket::{Build, Rocket, Shutdown};
use rocket_pusher::PusherFairing;
use rocket_pusher::protocol::{Token, sign_webhook};
use serde_json::{Value, json};

pub(crate) const APP_ID: &str = "4321";
pub(crate) const KEY: &str = "test-key";
/// Searched for in every log line and error string: it must never appear.
pub(crate) const SECRET: &str = "MARKER-SECRET-rocket";
/// 32 bytes 0x00..0x1f (`mk_sequential` in the vectors).
pub(crate) const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The `simple` credentials of the vectors (`inputs.credentials.simple`).
pub(crate) const VECTOR_KEY: &str = "KEY";
pub(crate) const VECTOR_SECRET: &str = "SUPERSECRET";

/// The app's own token.
pub(crate) fn token() -> Token {
    Token::new(KEY, SECRET)
}

/// The `pusher` table every test starts from: the three credentials.
pub(crate) fn base_table() -> Value {
    json!({ "app_id": APP_ID, "key": KEY, "secret": SECRET })
}

/// A figment from Rocket's debug defaults (no `Rocket.toml`, no environment: tests in one
/// binary run in parallel, and `figment::Jail` changes both) with `table` as `pusher`.
pub(crate) fn figment_with_table(table: Value) -> Figment {
    Figment::from(rocket::Config::debug_default()).merge(("pusher", table))
}

/// [`base_table`] with `extra` merged over it.
pub(crate) fn figment(extra: Value) -> Figment {
    figment_with_table(base_table()).merge(("pusher", extra))
}

/// An app with `fairing` attached and `extra` keys over the base `pusher` table.
pub(crate) fn rocket_with(fairing: PusherFairing, extra: Value) -> Rocket<Build> {
    rocket::custom(figment(extra)).attach(fairing)
}

/// The local client of [`rocket_with`]; panics if ignite fails.
pub(crate) async fn client(fairing: PusherFairing, extra: Value) -> Client {
    Client::tracked(rocket_with(fairing, extra))
        .await
        .expect("the app ignites")
}

/// The local client of any app; panics if ignite fails.
pub(crate) async fn client_of(rocket: Rocket<Build>) -> Client {
    Client::tracked(rocket).await.expect("the app ignites")
}

/// The error of an ignite that must fail; panics if it succeeds.
pub(crate) async fn ignite_error(rocket: Rocket<Build>) -> rocket::Error {
    match Client::tracked(rocket).await {
        Ok(_) => panic!("ignite must fail"),
        Err(e) => e,
    }
}

/// Whether ignite failed in the fairing (named `Pusher`), not elsewhere.
pub(crate) fn failed_in_fairing(e: &rocket::Error) -> bool {
    matches!(e.kind(), ErrorKind::FailedFairings(f) if f.first().is_some_and(|f| f.name == "Pusher"))
}

/// Launch `rocket` as a real server on an ephemeral port of 127.0.0.1 (Ctrl-C handling
/// off); returns the port and the handle that shuts it down.
pub(crate) async fn launch(rocket: Rocket<Build>) -> (u16, Shutdown) {
    let figment = rocket
        .figment()
        .clone()
        .merge(("address", "127.0.0.1"))
        .merge(("port", 0))
        .merge(("shutdown.ctrlc", false));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let rocket = rocket
        .configure(figment)
        .attach(AdHoc::on_liftoff("port", move |r| {
            let port = r.config().port;
            let shutdown = r.shutdown();
            if let Some(tx) = tx.lock().unwrap_or_else(PoisonError::into_inner).take() {
                let _ = tx.send((port, shutdown));
            }
            Box::pin(async {})
        }));
    tokio::spawn(async move {
        let _ = rocket.launch().await;
    });
    tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .expect("the server lifts off")
        .expect("the port is sent")
}

/// Status, content type and body of a response.
pub(crate) async fn read(resp: LocalResponse<'_>) -> (Status, Option<ContentType>, String) {
    let status = resp.status();
    let ct = resp.content_type();
    let body = resp.into_string().await.unwrap_or_default();
    (status, ct, body)
}

/// Parse a body as JSON, with the body in the panic message.
pub(crate) fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"))
}

/// Assert a JSON error answer: `status`, `application/json`, `{"error": "<…needle…>"}`.
pub(crate) fn assert_json_error(
    got: &(Status, Option<ContentType>, String),
    status: Status,
    needle: &str,
) {
    let (s, ct, body) = got;
    assert_eq!(*s, status, "body: {body}");
    assert_eq!(ct.as_ref(), Some(&ContentType::JSON), "body: {body}");
    let v = json_of(body);
    let reason = v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error reason in {body}"));
    assert!(
        reason.contains(needle),
        "reason {reason:?} lacks {needle:?}"
    );
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "body: {body}");
}

/// POST `body` as `content_type` with extra `headers`.
pub(crate) async fn post(
    client: &Client,
    uri: &str,
    content_type: ContentType,
    headers: &[(&str, &str)],
    body: impl AsRef<[u8]>,
) -> (Status, Option<ContentType>, String) {
    let mut req = client.post(uri.to_owned()).header(content_type).body(body);
    for (name, value) in headers {
        req = req.header(Header::new(name.to_string(), value.to_string()));
    }
    read(req.dispatch().await).await
}

/// A form POST as pusher-js sends it (`application/x-www-form-urlencoded`), not yet
/// dispatched: add cookies or headers, then [`read`] what `dispatch()` answers.
pub(crate) fn form<'c>(client: &'c Client, uri: &str, body: &str) -> LocalRequest<'c> {
    client
        .post(uri.to_owned())
        .header(ContentType::Form)
        .body(body)
}

/// POST a form body (as pusher-js sends it: `application/x-www-form-urlencoded`).
pub(crate) async fn post_form(
    client: &Client,
    uri: &str,
    body: &str,
) -> (Status, Option<ContentType>, String) {
    read(form(client, uri, body).dispatch().await).await
}

/// Lowercase hex signature of `body` under the app's token.
pub(crate) fn sign(body: &[u8]) -> String {
    sign_webhook(&token(), body)
}

/// POST a webhook with optional `X-Pusher-Key` / `X-Pusher-Signature` headers.
pub(crate) async fn post_webhook(
    client: &Client,
    uri: &str,
    key: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> (Status, Option<ContentType>, String) {
    let headers: Vec<(&str, &str)> = [("X-Pusher-Key", key), ("X-Pusher-Signature", signature)]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect();
    post(client, uri, ContentType::JSON, &headers, body).await
}

/// POST `body` signed with the app's token.
pub(crate) async fn post_signed(
    client: &Client,
    uri: &str,
    body: &[u8],
) -> (Status, Option<ContentType>, String) {
    post_webhook(client, uri, Some(KEY), Some(&sign(body)), body).await
}

/// Unix time in milliseconds.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `tests/fixtures/vectors.json`.
pub(crate) fn vectors() -> &'static Value {
    static VECTORS: OnceLock<Value> = OnceLock::new();
    VECTORS.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors.json");
        let text = std::fs::read_to_string(path).expect("vectors.json is readable");
        serde_json::from_str(&text).expect("vectors.json is JSON")
    })
}

/// The body pusher-js (or pusher-js-auth) sent in the recorded request labelled `label`.
pub(crate) fn recorded_body(label: &str) -> String {
    vectors()["client_auth_requests"]["requests"]
        .as_array()
        .expect("client_auth_requests.requests")
        .iter()
        .find(|r| r["label"] == label)
        .and_then(|r| r["request"]["body"].as_str())
        .unwrap_or_else(|| panic!("no recorded request {label:?}"))
        .to_owned()
}

/// One entry of `vectors[library].vectors[section]` with this label and credentials.
pub(crate) fn vector(
    library: &str,
    section: &str,
    credentials: &str,
    label: &str,
) -> &'static Value {
    vectors()[library]["vectors"][section]
        .as_array()
        .unwrap_or_else(|| panic!("no {library}.{section}"))
        .iter()
        .find(|v| v["credentials"] == credentials && v["label"] == label)
        .unwrap_or_else(|| panic!("no {library}.{section} {credentials}/{label}"))
}

/// A logger that keeps every record of every crate at trace level, so tests can look for
/// secrets (or a message) in what was logged. Install it with [`capture_logs`] before the
/// first Rocket is built in the binary: Rocket then keeps it instead of its own.
pub(crate) struct Capture {
    /// Each line with the thread that logged it.
    lines: Mutex<Vec<(std::thread::ThreadId, String)>>,
}

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((
                std::thread::current().id(),
                format!("{} {}: {}", record.level(), record.target(), record.args()),
            ));
    }

    fn flush(&self) {}
}

impl Capture {
    /// Every line logged so far, by every test of the binary.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(_, line)| line.clone())
            .collect()
    }

    /// The lines logged so far on this thread: an `async_test`'s ignite, liftoff and local
    /// requests run on its own thread, so these are its lines, not its neighbours'.
    pub(crate) fn lines_here(&self) -> Vec<String> {
        let here = std::thread::current().id();
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(thread, _)| *thread == here)
            .map(|(_, line)| line.clone())
            .collect()
    }
}

/// Install (once) and return the capturing logger.
pub(crate) fn capture_logs() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture {
            lines: Mutex::new(Vec::new()),
        }));
        if log::set_logger(capture).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
        capture
    })
}
