//! How requests leave the client: over HTTP, or into a [`Recorder`] for tests.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde::de::{DeserializeOwned, IntoDeserializer};

use crate::error::Error;

/// The most bytes read from a response body; Pusher's replies are small, and a runaway or
/// hostile server must not make the client buffer without bound.
pub(crate) const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// How much of an error body is kept in an [`Error`] message.
pub(crate) const MAX_ERROR_BODY_CHARS: usize = 2048;

#[derive(Clone)]
pub(crate) enum Transport {
    Http(reqwest::Client),
    Recording(Recorder),
    /// A server in this process (the embedded server), reached without an HTTP hop.
    #[cfg(feature = "server")]
    InProcess(Arc<dyn InProcess>),
}

/// A Pusher HTTP API answered in this process: the request exactly as it would be sent
/// (signed), the status and body it answers. The integration layer implements it for the
/// embedded server, so the client never imports the server.
#[cfg(feature = "server")]
pub(crate) trait InProcess: Send + Sync {
    fn request(&self, method: &str, path: &str, query: &str, body: &[u8]) -> (u16, Vec<u8>);
}

pub(crate) struct Outgoing<'a> {
    pub(crate) method: &'static str,
    /// The whole URL: endpoint, path, `?`, query.
    pub(crate) url: &'a str,
    /// The path, within `url`.
    pub(crate) path: &'a str,
    /// The signed, percent-encoded query string.
    pub(crate) query: &'a str,
    pub(crate) body: Option<bytes::Bytes>,
}

impl Transport {
    pub(crate) async fn send(
        &self,
        timeout: Duration,
        req: Outgoing<'_>,
    ) -> Result<Vec<u8>, Error> {
        match self {
            Self::Http(client) => http_send(client, timeout, req).await,
            Self::Recording(rec) => Ok(rec.record(req)),
            // Through the same status handling as HTTP, so results and errors match.
            #[cfg(feature = "server")]
            Self::InProcess(server) => {
                let body = req.body.as_deref().unwrap_or_default();
                let (status, body) = server.request(req.method, req.path, req.query, body);
                finish_response(status, None, body, false)
            }
        }
    }
}

async fn http_send(
    client: &reqwest::Client,
    timeout: Duration,
    req: Outgoing<'_>,
) -> Result<Vec<u8>, Error> {
    let method = if req.method == "GET" {
        reqwest::Method::GET
    } else {
        reqwest::Method::POST
    };
    let mut builder = client.request(method, req.url).header(
        "X-Pusher-Library",
        concat!("rocket_pusher ", env!("CARGO_PKG_VERSION")),
    );
    if let Some(body) = req.body {
        builder = builder
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
    }
    let mut resp = builder
        .send()
        .await
        .map_err(|e| transport_error(e, timeout))?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| transport_error(e, timeout))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    finish_response(status, retry_after, body, truncated)
}

/// Turn a response read in full (or up to [`MAX_RESPONSE_BYTES`], `truncated`) into the
/// body of a success or the typed error of a failure.
pub(crate) fn finish_response(
    status: u16,
    retry_after: Option<Duration>,
    body: Vec<u8>,
    truncated: bool,
) -> Result<Vec<u8>, Error> {
    if (200..300).contains(&status) {
        if truncated {
            return Err(Error::Decode(serde::de::Error::custom(format_args!(
                "response body exceeds {MAX_RESPONSE_BYTES} bytes"
            ))));
        }
        return Ok(body);
    }
    let text = String::from_utf8_lossy(&body);
    let mut message: String = text.chars().take(MAX_ERROR_BODY_CHARS).collect();
    let shortened = truncated || message.len() < text.len();
    message.truncate(message.trim_end().len());
    if shortened {
        message.push_str(" …");
    }
    Err(Error::from_status(
        status,
        message.trim_start().to_owned(),
        retry_after,
    ))
}

/// A `Retry-After` value: delay-seconds, or an HTTP date (a date already past is no
/// wait at all). `None` for anything else.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is still "a long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Map a reqwest error without its URL: the query holds the key and the signature.
fn transport_error(e: reqwest::Error, timeout: Duration) -> Error {
    if e.is_timeout() {
        Error::timeout(timeout)
    } else if e.is_connect() {
        Error::Connect(e.without_url())
    } else {
        Error::Transport(e.without_url())
    }
}

/// Decode a success body, tolerating fields we do not know.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(Error::Decode)
}

/// One request the recording transport captured.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path, `/apps/<id>/…`.
    pub path: String,
    /// The signed query string as it would have been sent.
    pub query: String,
    /// The JSON body, for POST.
    pub body: Option<String>,
}

/// One event the recording transport captured, from a trigger or a batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub struct RecordedEvent {
    /// The channels it was sent to.
    pub channels: Vec<String>,
    /// The event name.
    pub name: String,
    /// The `data` string as sent (ciphertext JSON for encrypted channels; the
    /// [`testing`](crate::testing) kit decrypts it).
    pub data: String,
    /// The excluded connection, if any.
    pub socket_id: Option<String>,
    /// The `info` attributes asked for, if any.
    pub info: Option<String>,
}

impl RecordedEvent {
    /// Parse [`data`](Self::data) as JSON into `T`; data that is not JSON of that type is
    /// tried as a string, since a string is sent verbatim (`trigger(.., "hello")` sends
    /// `hello`, which a `String` reads back).
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.data).or_else(|e| {
            T::deserialize(self.data.as_str().into_deserializer())
                .map_err(|_: serde::de::value::Error| e)
        })
    }
}

/// Captures what a client would have sent, for an app's own tests.
///
/// Choose it with `transport = "recording"` in the `pusher` table, or
/// [`Pusher::recording`](crate::Pusher::recording) in code, then read it back with
/// [`Pusher::recorder`](crate::Pusher::recorder). Triggers answer `{}`, queries answer as
/// an empty app would (no channels, no users). Under Rocket, the [`testing`](crate::testing)
/// kit reads it from the local client, decrypting what was sent on encrypted channels.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), rocket_pusher::Error> {
/// use rocket_pusher::Pusher;
/// use rocket_pusher::protocol::Credentials;
///
/// let pusher = Pusher::recording(Credentials::new("1", "key", "secret"));
/// pusher.trigger("orders", "created", &serde_json::json!({"id": 7})).await?;
///
/// let sent = pusher.recorder().unwrap().events();
/// assert_eq!(sent[0].channels, ["orders"]);
/// assert_eq!(sent[0].name, "created");
/// assert_eq!(sent[0].data, r#"{"id":7}"#);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl Recorder {
    pub(crate) fn record(&self, req: Outgoing<'_>) -> Vec<u8> {
        let reply: &[u8] = if req.path.ends_with("/channels") {
            br#"{"channels":{}}"#
        } else if req.path.ends_with("/users") {
            br#"{"users":[]}"#
        } else if req.method == "GET" {
            br#"{"occupied":false}"#
        } else {
            b"{}"
        };
        let recorded = RecordedRequest {
            method: req.method,
            path: req.path.to_owned(),
            query: req.query.to_owned(),
            body: req.body.map(|b| String::from_utf8_lossy(&b).into_owned()),
        };
        // What a running app would otherwise send unseen; never the data.
        let events = events_of(&recorded);
        if events.is_empty() {
            log::debug!(
                "pusher: recorded {} {} (transport = \"recording\": not sent)",
                recorded.method,
                recorded.path
            );
        }
        for e in events {
            log::debug!(
                "pusher: recorded `{}` on {} (transport = \"recording\": not sent)",
                e.name,
                e.channels.join(", ")
            );
        }
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(recorded);
        reply.to_vec()
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every event triggered so far, oldest first; a batch contributes one per item.
    pub fn events(&self) -> Vec<RecordedEvent> {
        self.requests().iter().flat_map(events_of).collect()
    }

    /// Forget everything recorded so far.
    pub fn clear(&self) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// The events one recorded request triggers: one, or a batch's items.
fn events_of(r: &RecordedRequest) -> Vec<RecordedEvent> {
    #[derive(serde::Deserialize)]
    struct Item {
        channel: String,
        name: String,
        data: String,
        socket_id: Option<String>,
        info: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Batch {
        batch: Vec<Item>,
    }
    let Some(body) = r.body.as_deref() else {
        return Vec::new();
    };
    if r.path.ends_with("/batch_events") {
        serde_json::from_str::<Batch>(body).map_or_else(
            |_| Vec::new(),
            |b| {
                b.batch
                    .into_iter()
                    .map(|i| RecordedEvent {
                        channels: vec![i.channel],
                        name: i.name,
                        data: i.data,
                        socket_id: i.socket_id,
                        info: i.info,
                    })
                    .collect()
            },
        )
    } else if r.path.ends_with("/events") {
        serde_json::from_str::<RecordedEvent>(body).map_or_else(|_| Vec::new(), |e| vec![e])
    } else {
        Vec::new()
    }
}
