//! A stand-in for the Pusher HTTP API on 127.0.0.1, for the client's integration tests.
//!
//! A tiny HTTP/1.1 server (keep-alive, `Content-Length` bodies) that records every request
//! and checks its signature with its own code, as Pusher does: a known
//! `auth_key`, `auth_version=1.0`, a timestamp within 600 s, `body_md5` equal to the MD5 of
//! the body on POST and absent on GET, and `auth_signature` equal to the HMAC-SHA256 of
//! `METHOD\nPATH\nQUERY`, where QUERY is every other parameter sorted by key with its
//! value percent-DECODED. A request that fails gets 401 with Pusher's kind of message;
//! the others get the programmed [`Reply`] (200 `{}` unless told otherwise).
//!
//! ```ignore
//! #[path = "support/mock_api.rs"]
//! mod mock_api;
//!
//! let api = mock_api::MockApi::start("key", "secret").await;
//! api.reply(mock_api::Reply::new(503, "down").retry_after("2"));
//! // ... point a client at 127.0.0.1:api.port() ...
//! let req = api.only_request();
//! ```
//!
//! For the queue's tests it can also hold every reply until released ([`MockApi::hold`]),
//! delay replies by seeded random amounts ([`MockApi::random_delays`]), fail a seeded
//! random share of them ([`MockApi::random_failures`]), refuse every request carrying an
//! event on a channel ([`MockApi::refuse_channel`]), and let a test wait
//! for what it observed ([`MockApi::wait_for_requests`], [`MockApi::wait_for_events`],
//! [`MockApi::wait_until_connections_closed`]) instead of sleeping.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use md5::{Digest as _, Md5};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// What the server answers to a request whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Answer with this status and body (sent as `application/json`, whatever it holds).
    Respond {
        status: u16,
        body: String,
        /// The raw `Retry-After` header value, if any.
        retry_after: Option<String>,
    },
    /// Read the request, then never answer (and never close the connection).
    Stall,
    /// Read the request, then reset the connection (TCP RST) without a byte of answer.
    Hangup,
    /// Send the head (announcing a `len`-byte body) and `sent` bytes of body in one write,
    /// then reset the connection (TCP RST).
    Reset {
        status: u16,
        sent: usize,
        len: usize,
    },
    /// Send the head (announcing a `len`-byte body) and `sent` bytes of body in one write,
    /// then say nothing more and keep the connection open.
    StallBody {
        status: u16,
        sent: usize,
        len: usize,
    },
    /// A `len`-byte body of `x` written in 64 KiB pieces until the client stops reading;
    /// [`MockApi::huge_bytes_written`] tells how much got out.
    Huge { status: u16, len: usize },
}

impl Reply {
    /// Answer `status` with `body`.
    pub(crate) fn new(status: u16, body: impl Into<String>) -> Self {
        Self::Respond {
            status,
            body: body.into(),
            retry_after: None,
        }
    }

    /// Add a `Retry-After` header (no effect on [`Reply::Stall`]).
    pub(crate) fn retry_after(mut self, value: impl Into<String>) -> Self {
        if let Self::Respond { retry_after, .. } = &mut self {
            *retry_after = Some(value.into());
        }
        self
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// The path as sent, without the query.
    pub(crate) path: String,
    /// The query string as sent (still percent-encoded).
    pub(crate) raw_query: String,
    /// The query parameters, percent-decoded.
    pub(crate) query: BTreeMap<String, String>,
    /// Header names lower-cased.
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: Vec<u8>,
    /// `Ok` when the signature verified, else why not (also the 401 body).
    pub(crate) auth: Result<(), String>,
    /// What the server answered (or began to answer) to it.
    pub(crate) reply: Reply,
}

impl Request {
    /// The body as UTF-8.
    pub(crate) fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("<not UTF-8>")
    }

    /// The body parsed as JSON (panics if it is not: a test failure).
    pub(crate) fn json(&self) -> serde_json::Value {
        match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            Err(e) => panic!("request body is not JSON ({e}): {}", self.body_str()),
        }
    }

    /// A query parameter, decoded.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// Whether it was answered with a 2xx status in full: the events it carried arrived.
    pub(crate) fn accepted(&self) -> bool {
        matches!(&self.reply, Reply::Respond { status, .. } if (200..300).contains(status))
    }

    /// The events of a trigger (`/events`) or batch (`/batch_events`) request, in order.
    pub(crate) fn events(&self) -> Vec<Event> {
        if self.path.ends_with("/batch_events") {
            let body = self.json();
            let Some(batch) = body["batch"].as_array() else {
                panic!("a batch without `batch`: {}", self.body_str());
            };
            batch
                .iter()
                .map(|item| Event {
                    channel: string(&item["channel"]),
                    name: string(&item["name"]),
                    data: string(&item["data"]),
                    socket_id: item["socket_id"].as_str().map(str::to_owned),
                })
                .collect()
        } else if self.path.ends_with("/events") {
            let body = self.json();
            let Some(channels) = body["channels"].as_array() else {
                panic!("a trigger without `channels`: {}", self.body_str());
            };
            channels
                .iter()
                .map(|channel| Event {
                    channel: string(channel),
                    name: string(&body["name"]),
                    data: string(&body["data"]),
                    socket_id: body["socket_id"].as_str().map(str::to_owned),
                })
                .collect()
        } else {
            Vec::new()
        }
    }
}

/// One event of a trigger or batch request (one per channel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) channel: String,
    pub(crate) name: String,
    pub(crate) data: String,
    pub(crate) socket_id: Option<String>,
}

fn string(v: &serde_json::Value) -> String {
    match v.as_str() {
        Some(s) => s.to_owned(),
        None => panic!("expected a string, got {v}"),
    }
}

/// A seeded generator (xorshift64*): the same seed, the same numbers.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Shared {
    key: String,
    secret: String,
    requests: Vec<Request>,
    connections: usize,
    /// Used once each, before `default`.
    queued: VecDeque<Reply>,
    default: Reply,
    /// Body bytes written by [`Reply::Huge`] replies.
    huge_written: usize,
    /// Connections that ended (closed by the client, or by the server after a reply).
    closed: usize,
    /// Replies wait a random time below the bound, drawn from the generator.
    delays: Option<(Rng, Duration)>,
    /// Each verified request fails, with this chance in a thousand, with one of these
    /// replies (drawn from the generator).
    failures: Option<(Rng, u64, Vec<Reply>)>,
    /// A request carrying an event on one of these channels is refused with a 400, whole,
    /// as Pusher refuses a batch with one bad event.
    refused: Vec<String>,
}

/// What a test waits on, outside the lock.
struct Signals {
    /// `true` while replies are held.
    hold: watch::Sender<bool>,
    /// Woken at every request received and every connection closed.
    changed: Notify,
}

/// The running server; it stops with the test's runtime.
pub(crate) struct MockApi {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    signals: Arc<Signals>,
}

impl MockApi {
    /// Listen on an ephemeral port of 127.0.0.1, accepting requests signed with this key
    /// and secret.
    pub(crate) async fn start(key: &str, secret: &str) -> Self {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("mock API could not bind 127.0.0.1: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("mock API has no local address: {e}"),
        };
        let shared = Arc::new(Mutex::new(Shared {
            key: key.to_owned(),
            secret: secret.to_owned(),
            requests: Vec::new(),
            connections: 0,
            queued: VecDeque::new(),
            default: Reply::new(200, "{}"),
            huge_written: 0,
            closed: 0,
            delays: None,
            failures: None,
            refused: Vec::new(),
        }));
        let signals = Arc::new(Signals {
            hold: watch::Sender::new(false),
            changed: Notify::new(),
        });
        let state = Arc::clone(&shared);
        let signal = Arc::clone(&signals);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                lock(&state).connections += 1;
                let (state, signal) = (Arc::clone(&state), Arc::clone(&signal));
                tokio::spawn(async move {
                    serve(stream, &state, &signal).await;
                    lock(&state).closed += 1;
                    signal.changed.notify_waiters();
                });
            }
        });
        Self {
            addr,
            shared,
            signals,
        }
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answer every following (verified) request with `reply`.
    pub(crate) fn reply(&self, reply: Reply) {
        lock(&self.shared).default = reply;
    }

    /// Answer the next verified request with `reply`; later ones as before. Replies
    /// queued this way are used in order.
    pub(crate) fn reply_once(&self, reply: Reply) {
        lock(&self.shared).queued.push_back(reply);
    }

    /// Every request received so far, oldest first.
    pub(crate) fn requests(&self) -> Vec<Request> {
        lock(&self.shared).requests.clone()
    }

    /// The one request received so far, after checking that it is the only one and that
    /// its signature verified.
    pub(crate) fn only_request(&self) -> Request {
        let mut requests = self.requests();
        assert_eq!(
            requests.len(),
            1,
            "expected exactly one request: {requests:#?}"
        );
        let req = requests.remove(0);
        if let Err(why) = &req.auth {
            panic!("the request did not verify: {why}\n{req:#?}");
        }
        req
    }

    /// Body bytes the [`Reply::Huge`] replies managed to write before the client let go.
    pub(crate) fn huge_bytes_written(&self) -> usize {
        lock(&self.shared).huge_written
    }

    /// How many TCP connections were accepted so far.
    pub(crate) fn connections(&self) -> usize {
        lock(&self.shared).connections
    }

    /// Hold every reply (to requests already read and to later ones) until [`release`](Self::release).
    pub(crate) fn hold(&self) {
        self.signals.hold.send_replace(true);
    }

    /// Answer the held requests, and stop holding.
    pub(crate) fn release(&self) {
        self.signals.hold.send_replace(false);
    }

    /// Delay every following reply by a random time below `max`, from a generator seeded
    /// with `seed`.
    pub(crate) fn random_delays(&self, seed: u64, max: Duration) {
        lock(&self.shared).delays = Some((Rng::new(seed), max));
    }

    /// Answer each following verified request, with the chance of `per_mille` in a
    /// thousand, with one of `replies` instead (both drawn from a generator seeded with
    /// `seed`); [`reply_once`](Self::reply_once) replies still come first.
    pub(crate) fn random_failures(&self, seed: u64, per_mille: u64, replies: Vec<Reply>) {
        assert!(
            !replies.is_empty(),
            "random_failures needs replies to choose from"
        );
        lock(&self.shared).failures = Some((Rng::new(seed), per_mille, replies));
    }

    /// Refuse, from now on, every request that carries an event on `channel` (with a 400,
    /// before any other programmed reply).
    pub(crate) fn refuse_channel(&self, channel: &str) {
        lock(&self.shared).refused.push(channel.to_owned());
    }

    /// Wait (at most 30 s, then panic) until `done` holds of the server's state; checked
    /// at every request and every closed connection.
    async fn wait_until(&self, what: &str, done: impl Fn(&Shared) -> bool) {
        let wait = async {
            loop {
                let mut changed = pin!(self.signals.changed.notified());
                changed.as_mut().enable();
                if done(&lock(&self.shared)) {
                    return;
                }
                changed.await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .is_err()
        {
            panic!(
                "the mock API waited 30 s for {what}: {:#?}",
                self.requests()
            );
        }
    }

    /// Wait until at least `n` requests were received.
    pub(crate) async fn wait_for_requests(&self, n: usize) {
        self.wait_until(&format!("{n} requests"), |s| s.requests.len() >= n)
            .await;
    }

    /// Wait until the requests answered 2xx carried at least `n` events.
    pub(crate) async fn wait_for_events(&self, n: usize) {
        self.wait_until(&format!("{n} events"), |s| {
            s.requests
                .iter()
                .filter(|r| r.accepted())
                .map(|r| r.events().len())
                .sum::<usize>()
                >= n
        })
        .await;
    }

    /// Wait until every connection accepted so far has ended (and at least one was).
    pub(crate) async fn wait_until_connections_closed(&self) {
        self.wait_until("every connection to close", |s| {
            s.connections > 0 && s.closed == s.connections
        })
        .await;
    }

    /// The events of the requests answered 2xx, in the order the requests arrived.
    pub(crate) fn delivered(&self) -> Vec<Event> {
        self.requests()
            .iter()
            .filter(|r| r.accepted())
            .flat_map(Request::events)
            .collect()
    }
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub(crate) fn closed_port() -> u16 {
    let listener = match std::net::TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => panic!("could not bind 127.0.0.1: {e}"),
    };
    match listener.local_addr() {
        Ok(a) => a.port(),
        Err(e) => panic!("no local address: {e}"),
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serve one connection: requests one after another until the client closes it.
async fn serve(mut stream: TcpStream, shared: &Mutex<Shared>, signals: &Signals) {
    let mut buf = Vec::new();
    while let Some(mut req) = read_request(&mut stream, &mut buf).await {
        let close = req
            .headers
            .get("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let (reply, delay) = {
            let mut state = lock(shared);
            req.auth = check_signature(
                &state.key,
                &state.secret,
                &req.method,
                &req.path,
                &req.raw_query,
                &req.body,
            );
            let refused = !state.refused.is_empty()
                && req
                    .events()
                    .iter()
                    .any(|e| state.refused.contains(&e.channel));
            let reply = match &req.auth {
                Err(why) => Reply::new(401, why.clone()),
                Ok(()) if refused => Reply::new(400, r#"{"error":"channel refused"}"#),
                Ok(()) => match state.queued.pop_front() {
                    Some(r) => r,
                    None => {
                        let failure =
                            state
                                .failures
                                .as_mut()
                                .and_then(|(rng, per_mille, replies)| {
                                    (rng.below(1000) < *per_mille).then(|| {
                                        replies[rng.below(replies.len() as u64) as usize].clone()
                                    })
                                });
                        failure.unwrap_or_else(|| state.default.clone())
                    }
                },
            };
            let delay = state
                .delays
                .as_mut()
                .map(|(rng, max)| max.mul_f64(rng.below(1_000_000) as f64 / 1e6));
            req.reply = reply.clone();
            state.requests.push(req);
            (reply, delay)
        };
        signals.changed.notify_waiters();
        if *signals.hold.borrow() {
            let _ = signals.hold.subscribe().wait_for(|held| !held).await;
        }
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let (status, body, retry_after) = match reply {
            Reply::Respond {
                status,
                body,
                retry_after,
            } => (status, body, retry_after),
            Reply::Stall => {
                // Keep the connection open and say nothing, until the runtime shuts down.
                std::future::pending::<()>().await;
                return;
            }
            Reply::Hangup => {
                let _ = stream.set_zero_linger();
                return;
            }
            Reply::Reset { status, sent, len } => {
                let partial = [head(status, len, None).as_bytes(), &vec![b'x'; sent]].concat();
                let _ = stream.write_all(&partial).await;
                let _ = stream.flush().await;
                // An abortive close: the client reads a reset, not an end of stream.
                let _ = stream.set_zero_linger();
                return;
            }
            Reply::StallBody { status, sent, len } => {
                let partial = [head(status, len, None).as_bytes(), &vec![b'x'; sent]].concat();
                let _ = stream.write_all(&partial).await;
                std::future::pending::<()>().await;
                return;
            }
            Reply::Huge { status, len } => {
                if stream
                    .write_all(head(status, len, None).as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
                let piece = vec![b'x'; 64 * 1024];
                let mut left = len;
                while left > 0 {
                    let n = left.min(piece.len());
                    if stream.write_all(&piece[..n]).await.is_err() {
                        return;
                    }
                    lock(shared).huge_written += n;
                    left -= n;
                }
                continue;
            }
        };
        let head = head(status, body.len(), retry_after.as_deref());
        // One write: head and body in separate segments would wait on delayed ACKs.
        let response = [head.as_bytes(), body.as_bytes()].concat();
        if stream.write_all(&response).await.is_err() || close {
            return;
        }
    }
}

/// A response head announcing a `len`-byte JSON body.
fn head(status: u16, len: usize, retry_after: Option<&str>) -> String {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n",
        reason(status),
    );
    if let Some(v) = retry_after {
        head.push_str(&format!("retry-after: {v}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Read one request: the head up to `\r\n\r\n`, then `Content-Length` bytes of body
/// (its `auth` is left to the caller). `None` when the connection ends or the request is
/// unreadable; bytes after the request stay in `buf` for the next one.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_len = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if stream.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    };
    let head = std::str::from_utf8(&buf[..head_len]).ok()?.to_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?;
    let (path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let body_len: usize = match headers.get("content-length") {
        Some(v) => v.parse().ok()?,
        None => 0,
    };
    while buf.len() < head_len + body_len {
        if stream.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    }
    let body = buf[head_len..head_len + body_len].to_vec();
    buf.drain(..head_len + body_len);

    Some(Request {
        method,
        path: path.to_owned(),
        raw_query: raw_query.to_owned(),
        query: parse_query(raw_query).into_iter().collect(),
        headers,
        body,
        auth: Ok(()),
        reply: Reply::Stall,
    })
}

/// Split a query string into decoded `(key, value)` pairs, in order (`+` is a space, as
/// servers read form-style queries).
fn parse_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Check a request's signature as Pusher does; `Err` holds the 401 message.
///
/// `raw_query` is the query string as sent; values are decoded before signing.
pub(crate) fn check_signature(
    key: &str,
    secret: &str,
    method: &str,
    path: &str,
    raw_query: &str,
    body: &[u8],
) -> Result<(), String> {
    let params = parse_query(raw_query);
    let mut by_key: BTreeMap<&str, &str> = BTreeMap::new();
    for (k, v) in &params {
        if by_key.insert(k, v).is_some() {
            return Err(format!("Duplicate parameter {k}"));
        }
    }
    if by_key.get("auth_key") != Some(&key) {
        return Err("Unknown auth_key".to_owned());
    }
    if by_key.get("auth_version") != Some(&"1.0") {
        return Err("auth_version must be 1.0".to_owned());
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let ts: u64 = match by_key.get("auth_timestamp").map(|t| t.parse()) {
        Some(Ok(ts)) => ts,
        _ => return Err("Missing or malformed auth_timestamp".to_owned()),
    };
    if ts.abs_diff(now) > 600 {
        return Err(format!(
            "Timestamp expired: Given timestamp ({ts}) not within 600s of server time ({now})"
        ));
    }
    let md5 = hex::encode(Md5::digest(body));
    match (method, by_key.get("body_md5")) {
        ("GET", None) => {}
        ("GET", Some(_)) => return Err("A GET must not carry body_md5".to_owned()),
        (_, Some(sent)) if *sent == md5 => {}
        (_, Some(sent)) => {
            return Err(format!(
                "body_md5 {sent} does not match the body's MD5 {md5}"
            ));
        }
        (_, None) => return Err(format!("A {method} must carry body_md5")),
    }
    // BTreeMap iterates sorted by key.
    let canonical: Vec<String> = by_key
        .iter()
        .filter(|(k, _)| **k != "auth_signature")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let to_sign = format!("{method}\n{path}\n{}", canonical.join("&"));
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(e) => return Err(format!("HMAC key rejected: {e}")),
    };
    mac.update(to_sign.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    let sent = by_key.get("auth_signature").copied().unwrap_or("");
    if sent == expected {
        Ok(())
    } else {
        Err(format!(
            "Invalid signature: you should have sent HmacSHA256Hex({to_sign:?}, \
             your_secret_key), but you sent {sent:?}"
        ))
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
