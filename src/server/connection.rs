//! One WebSocket connection: the checks after the upgrade, `connection_established`, the
//! read/write loop, keepalive (pings both ways, 4201 for a silent client) and the close.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rocket::futures::{SinkExt, StreamExt};
use rocket_ws::frame::{CloseCode, CloseFrame};
use rocket_ws::stream::DuplexStream;
use rocket_ws::{Message, result::Error as WsError};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::{Closer, Conn, ConnId, Outbox, Server, close_code, limits};
use crate::protocol::frames::{ClientFrame, ServerFrame, connection_established};

/// Why a connection is refused right after the upgrade: the code, and the message of the
/// `pusher:error` sent before the close.
type Refusal = (u16, String);

/// The WebSocket close code for a message over `max_message_bytes`.
const MESSAGE_TOO_BIG: u16 = 1009;

/// A registered connection: its id, socket id, outbox receiver and closer.
type Admitted = (ConnId, String, mpsc::Receiver<Arc<str>>, Arc<Closer>);

impl Server {
    /// Run one client's connection to its end. `key` is the path's app key, `protocol` the
    /// query's version, `origin` the request's `Origin` header.
    ///
    /// A refused connection still gets the upgrade, then `pusher:error` and a close with
    /// the same code: browsers cannot see an HTTP status, and pusher-js retries forever
    /// on a socket closed without a 4xxx code.
    pub async fn serve(
        &self,
        key: &str,
        protocol: Option<&str>,
        origin: Option<&str>,
        mut stream: DuplexStream,
    ) -> Result<(), WsError> {
        let (id, socket_id, mut rx, closer) = match self.admit(key, protocol, origin) {
            Ok(admitted) => admitted,
            Err((code, message)) => {
                let error = ServerFrame::error(Some(code), &message).to_json();
                stream.send(Message::Text(error)).await?;
                return close(&mut stream, code, &message).await;
            }
        };
        let result = self
            .run(id, &socket_id, &mut stream, &mut rx, &closer)
            .await;
        self.disconnect(id);
        result
    }

    fn admit(
        &self,
        key: &str,
        protocol: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Admitted, Refusal> {
        let config = &self.shared.config;
        if key != self.shared.token.key {
            return Err((
                close_code::UNKNOWN_APP,
                format!("App key {key} does not exist"),
            ));
        }
        // 5 to 7 speak the same frames; an absent version is taken as 7, as the service does.
        if let Some(p) = protocol
            && !matches!(p, "5" | "6" | "7")
        {
            return Err((
                close_code::UNSUPPORTED_PROTOCOL,
                format!("Unsupported protocol version {p}"),
            ));
        }
        if !config.allowed_origins.is_empty()
            && !origin.is_some_and(|o| config.allowed_origins.iter().any(|a| a == o))
        {
            return Err((close_code::OVER_QUOTA, "Origin not allowed".into()));
        }
        if self.shared.closing.load(Ordering::Acquire) {
            return Err((close_code::RECONNECT, "Server is shutting down".into()));
        }
        let mut state = self.state();
        if config
            .max_connections
            .is_some_and(|max| state.conns.len() >= max)
        {
            return Err((
                close_code::OVER_QUOTA,
                "Application is over connection quota".into(),
            ));
        }
        let id = self.shared.next_conn.fetch_add(1, Ordering::Relaxed);
        // The counter makes it unique among live connections, the random part makes it
        // unguessable; both are digits, as every library checks.
        let socket_id = format!("{id}.{}", random_digits());
        let (tx, rx) = mpsc::channel(config.send_buffer);
        let closer = Arc::new(Closer::default());
        state.conns.insert(
            id,
            Conn {
                socket_id: socket_id.clone(),
                outbox: Outbox {
                    tx,
                    closer: closer.clone(),
                },
                user: None,
                channels: HashSet::new(),
                rate: limits::RateWindow::default(),
                authorized: false,
                watchlist: Vec::new(),
            },
        );
        Ok((id, socket_id, rx, closer))
    }

    async fn run(
        &self,
        id: ConnId,
        socket_id: &str,
        stream: &mut DuplexStream,
        rx: &mut mpsc::Receiver<Arc<str>>,
        closer: &Closer,
    ) -> Result<(), WsError> {
        let config = &self.shared.config;
        let activity = Duration::from_secs(config.activity_timeout);
        let pong_wait = Duration::from_secs_f64(config.pong_timeout);
        let established = connection_established(socket_id, config.activity_timeout);
        stream.send(Message::Text(established)).await?;
        let mut last_seen = Instant::now();
        let mut pinged: Option<Instant> = None;
        let mut authorize_by = self.authorize_by();
        loop {
            let deadline = match pinged {
                None => last_seen + activity,
                Some(at) => at + pong_wait,
            };
            tokio::select! {
                message = stream.next() => {
                    let Some(message) = message else { return Ok(()) };
                    last_seen = Instant::now();
                    pinged = None;
                    let message = match message {
                        Err(WsError::Capacity(_)) => {
                            return close(stream, MESSAGE_TOO_BIG, "Message too big").await;
                        }
                        other => other?,
                    };
                    match message {
                        Message::Text(text) => self.handle_text(id, &text),
                        Message::Binary(_) => self.reply_error(id, None, "Binary frames are not supported"),
                        Message::Close(_) => return Ok(()),
                        // tungstenite answers pings itself.
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    }
                }
                frame = rx.recv() => {
                    // The server never drops the sender while the connection is registered.
                    let Some(frame) = frame else { return Ok(()) };
                    stream.send(Message::Text(frame.to_string())).await?;
                }
                () = closer.notify.notified() => {
                    let code = closer.code.load(Ordering::Acquire);
                    // What was queued before the close (a terminate's `pusher:error`) goes
                    // first, unless the queue is what overflowed.
                    if code != close_code::OVER_CAPACITY {
                        while let Ok(frame) = rx.try_recv() {
                            stream.feed(Message::Text(frame.to_string())).await?;
                        }
                    }
                    return close(stream, code, reason(code)).await;
                }
                () = limits::until(authorize_by) => {
                    authorize_by = None;
                    if !self.is_authorized(id) {
                        while let Ok(frame) = rx.try_recv() {
                            stream.feed(Message::Text(frame.to_string())).await?;
                        }
                        let why = "Connection not authorized in time: sign in or subscribe to a private or presence channel";
                        let error = ServerFrame::error(Some(close_code::UNAUTHORIZED), why).to_json();
                        stream.feed(Message::Text(error)).await?;
                        return close(stream, close_code::UNAUTHORIZED, "Connection not authorized in time").await;
                    }
                }
                () = sleep_until(deadline) => {
                    if pinged.is_some() {
                        return close(stream, close_code::PONG_TIMEOUT, "Pong reply not received").await;
                    }
                    // Both kinds: a protocol ping for clients without access to control
                    // frames, a WebSocket ping for the rest.
                    let ping = ServerFrame::plain("pusher:ping", "{}").to_json();
                    stream.feed(Message::Text(ping)).await?;
                    stream.send(Message::Ping(Vec::new())).await?;
                    pinged = Some(Instant::now());
                }
            }
        }
    }

    /// Dispatch one text frame; every refusal is a `pusher:error`, never a close.
    fn handle_text(&self, id: ConnId, text: &str) {
        let frame = match ClientFrame::parse(text) {
            Ok(frame) => frame,
            Err(e) => return self.reply_error(id, None, &e.to_string()),
        };
        match frame.event.as_str() {
            "pusher:ping" => self.reply(id, &ServerFrame::plain("pusher:pong", "{}")),
            "pusher:pong" => {}
            "pusher:subscribe" => match frame.subscribe() {
                Ok(sub) => self.subscribe(id, sub),
                Err(e) => self.reply_error(id, None, &e.to_string()),
            },
            "pusher:unsubscribe" => match frame.unsubscribe() {
                Ok(unsub) => self.unsubscribe(id, &unsub.channel),
                Err(e) => self.reply_error(id, None, &e.to_string()),
            },
            "pusher:signin" => match frame.signin() {
                Ok(signin) => self.signin(id, signin),
                Err(e) => self.reply_error(id, None, &e.to_string()),
            },
            // Other protocol events from a client are ignored, as other servers do.
            e if e.starts_with("pusher:") || e.starts_with("pusher_internal:") => {}
            _ => self.client_event(id, frame),
        }
    }

    fn reply(&self, id: ConnId, frame: &ServerFrame<'_>) {
        if let Some(conn) = self.state().conns.get(&id) {
            conn.outbox.frame(frame);
        }
    }

    fn reply_error(&self, id: ConnId, code: Option<u16>, message: &str) {
        self.reply(id, &ServerFrame::error(code, message));
    }
}

#[doc(hidden)]
impl Server {
    /// For the fuzz target: one connection, without a socket, handles `frames` in turn;
    /// returns every frame it would have been sent, then leaves.
    pub fn __feed(&self, frames: &[&str]) -> Vec<String> {
        let Ok((id, _, mut rx, _)) = self.admit(self.key(), None, None) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for frame in frames {
            self.handle_text(id, frame);
            while let Ok(sent) = rx.try_recv() {
                out.push(sent.to_string());
            }
        }
        self.disconnect(id);
        out
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        close_code::UNAUTHORIZED => "You got disconnected by the app",
        close_code::OVER_CAPACITY => "Too slow: the send buffer is full",
        close_code::RECONNECT => "Server is shutting down",
        _ => "Closed",
    }
}

async fn close(stream: &mut DuplexStream, code: u16, reason: &str) -> Result<(), WsError> {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_owned().into(),
    };
    // The peer may be gone already; either way this connection is over.
    match stream.close(Some(frame)).await {
        Ok(()) | Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Ten random digits (no leading zero trimmed away: any digits are valid).
fn random_digits() -> u64 {
    let mut bytes = [0u8; 8];
    // Without an OS random source the counter alone still keeps ids unique.
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes) % 10_000_000_000
}
