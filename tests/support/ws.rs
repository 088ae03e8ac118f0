//! The embedded server's test kit: an app with `transport = "embedded"` launched on
//! 127.0.0.1, raw WebSocket clients speaking the Pusher protocol to it, and signed HTTP API
//! requests.
//!
//! Absence is checked by order, not by waiting: [`Ws::sync`] sends `pusher:ping` and
//! returns what came before the `pusher:pong`, and the server answers a connection's
//! frames in order, after everything queued for it earlier.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rocket::fairing::AdHoc;
use rocket::futures::{SinkExt, StreamExt};
use rocket::{Build, Rocket, Shutdown};
use rocket_pusher::protocol::{
    ChannelAuth, PresenceMember, Token, UserData, authenticate_user, authorize_presence,
    sign_request,
};
use rocket_pusher::server::Server;
use rocket_pusher::{Pusher, PusherFairing};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) const APP_ID: &str = "1234";
pub(crate) const KEY: &str = "KEY";
pub(crate) const SECRET: &str = "SUPERSECRET";

/// How long a test waits for a frame it expects before failing (a safety net, never a
/// measured time).
const PATIENCE: Duration = Duration::from_secs(10);

pub(crate) fn token() -> Token {
    Token::new(KEY, SECRET)
}

/// A running app: its port, its shutdown handle, its managed client and, with
/// `transport = "embedded"`, its server.
pub(crate) struct App {
    pub(crate) port: u16,
    pub(crate) shutdown: Shutdown,
    pub(crate) pusher: Pusher,
    pub(crate) server: Option<Server>,
}

/// The app's figment: the credentials, `transport = "embedded"`, and `server` options.
pub(crate) fn rocket(server: Value) -> Rocket<Build> {
    rocket_with(PusherFairing::new(), server)
}

pub(crate) fn rocket_with(fairing: PusherFairing, server: Value) -> Rocket<Build> {
    // Not `Config::figment()`: the repository's Rocket.toml must not reach the tests.
    let figment = rocket::figment::Figment::from(rocket::Config::debug_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", 0))
        .merge(("log_level", "off"))
        .merge(("shutdown.ctrlc", false))
        .merge((
            "pusher",
            json!({"app_id": APP_ID, "key": KEY, "secret": SECRET,
                   "transport": "embedded", "server": server}),
        ));
    rocket::custom(figment).attach(fairing)
}

/// Launch an app with these `server` options.
pub(crate) async fn start(server: Value) -> App {
    launch(rocket(server)).await
}

pub(crate) async fn launch(rocket: Rocket<Build>) -> App {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let rocket = rocket.attach(AdHoc::on_liftoff("port", move |r| {
        let app = App {
            port: r.config().port,
            shutdown: r.shutdown(),
            pusher: r
                .state::<Pusher>()
                .expect("the fairing manages Pusher")
                .clone(),
            server: r.state::<Server>().cloned(),
        };
        if let Some(tx) = tx.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = tx.send(app);
        }
        Box::pin(async {})
    }));
    tokio::spawn(async move {
        let _ = rocket.launch().await;
    });
    tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .expect("the app lifts off")
        .expect("the app is sent")
}

/// One raw client connection.
pub(crate) struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub(crate) socket_id: String,
    pub(crate) activity_timeout: u64,
}

/// How a connection ended: the close code, or `None` for a drop without a close frame.
pub(crate) type Closed = Option<u16>;

impl Ws {
    /// Connect to `/app/KEY?protocol=7…` and read `connection_established`.
    pub(crate) async fn connect(app: &App) -> Ws {
        Self::connect_to(
            app,
            &format!("/app/{KEY}?protocol=7&client=js&version=8.6.0&flash=false"),
        )
        .await
    }

    /// Connect to `path_and_query` and read the first frame, which must be
    /// `connection_established`.
    pub(crate) async fn connect_to(app: &App, path_and_query: &str) -> Ws {
        let mut ws = Self::open(app, path_and_query).await;
        let first = ws.next().await;
        assert_eq!(first["event"], "pusher:connection_established", "{first}");
        let data: Value = serde_json::from_str(first["data"].as_str().expect("data is a string"))
            .expect("data is JSON");
        ws.socket_id = data["socket_id"].as_str().expect("socket_id").to_owned();
        ws.activity_timeout = data["activity_timeout"].as_u64().expect("activity_timeout");
        ws
    }

    /// Connect without reading anything.
    pub(crate) async fn open(app: &App, path_and_query: &str) -> Ws {
        let url = format!("ws://127.0.0.1:{}{path_and_query}", app.port);
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the upgrade succeeds");
        Ws {
            stream,
            socket_id: String::new(),
            activity_timeout: 0,
        }
    }

    pub(crate) async fn send(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub(crate) async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.to_owned()))
            .await
            .expect("the frame is sent");
    }

    pub(crate) async fn send_message(&mut self, message: Message) {
        self.stream
            .send(message)
            .await
            .expect("the message is sent");
    }

    /// The next text frame as JSON.
    pub(crate) async fn next(&mut self) -> Value {
        loop {
            match self.next_message().await {
                Message::Text(t) => return serde_json::from_str(&t).expect("frames are JSON"),
                Message::Close(c) => panic!("closed: {c:?}"),
                _ => {}
            }
        }
    }

    /// The next message of any kind.
    pub(crate) async fn next_message(&mut self) -> Message {
        tokio::time::timeout(PATIENCE, self.stream.next())
            .await
            .expect("a frame arrives")
            .expect("the stream is open")
            .expect("the frame is valid")
    }

    /// The next text frame, which must be `event`.
    pub(crate) async fn expect(&mut self, event: &str) -> Value {
        let frame = self.next().await;
        assert_eq!(frame["event"], event, "{frame}");
        frame
    }

    /// Send `pusher:ping` and return every text frame received before its `pusher:pong`.
    pub(crate) async fn sync(&mut self) -> Vec<Value> {
        self.send(json!({"event": "pusher:ping", "data": {}})).await;
        let mut before = Vec::new();
        loop {
            let frame = self.next().await;
            if frame["event"] == "pusher:pong" {
                return before;
            }
            before.push(frame);
        }
    }

    /// Assert nothing but the pong comes back to a ping.
    pub(crate) async fn assert_quiet(&mut self) {
        let before = self.sync().await;
        assert!(before.is_empty(), "unexpected frames: {before:?}");
    }

    /// Read until the connection closes; text frames on the way are returned with the code.
    pub(crate) async fn closed(&mut self) -> (Vec<Value>, Closed) {
        let mut frames = Vec::new();
        loop {
            let next = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("the connection closes");
            match next {
                Some(Ok(Message::Text(t))) => frames.push(serde_json::from_str(&t).expect("JSON")),
                Some(Ok(Message::Close(frame))) => {
                    return (frames, frame.map(|f: CloseFrame<'_>| u16::from(f.code)));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (frames, None),
            }
        }
    }

    pub(crate) async fn subscribe(&mut self, channel: &str, auth: Option<ChannelAuth>) {
        let mut data = json!({"channel": channel, "auth": ""});
        if let Some(a) = auth {
            data["auth"] = json!(a.auth);
            if let Some(cd) = a.channel_data {
                data["channel_data"] = json!(cd);
            }
        }
        self.send(json!({"event": "pusher:subscribe", "data": data}))
            .await;
    }

    /// Subscribe to a public channel and read the acknowledgement.
    pub(crate) async fn join_public(&mut self, channel: &str) -> Value {
        self.subscribe(channel, None).await;
        self.expect("pusher_internal:subscription_succeeded").await
    }

    /// Subscribe to a private (or encrypted) channel with a valid signature and read the
    /// acknowledgement.
    pub(crate) async fn join_private(&mut self, channel: &str) -> Value {
        self.subscribe(channel, Some(sign_channel(&self.socket_id, channel)))
            .await;
        self.expect("pusher_internal:subscription_succeeded").await
    }

    /// Join a presence channel as `user` and return the acknowledgement's presence data.
    pub(crate) async fn join_presence(&mut self, channel: &str, user: &str, info: Value) -> Value {
        let member = PresenceMember::new(user).with_info(info);
        let auth = authorize_presence(&token(), &self.socket_id, channel, &member).expect("valid");
        self.subscribe(channel, Some(auth)).await;
        let ack = self.expect("pusher_internal:subscription_succeeded").await;
        data_of(&ack)
    }

    /// Sign in as `user` and read `pusher:signin_success`.
    pub(crate) async fn sign_in(&mut self, user: &str) -> Value {
        let auth =
            authenticate_user(&token(), &self.socket_id, &UserData::new(user)).expect("valid");
        self.send(json!({"event": "pusher:signin",
                         "data": {"auth": auth.auth, "user_data": auth.user_data}}))
            .await;
        self.expect("pusher:signin_success").await
    }
}

/// A signature over `socket_id:channel`, computed here with the HMAC crate rather than the
/// crate's own signing (which also checks the channel's kind).
pub(crate) fn sign_channel(socket_id: &str, channel: &str) -> ChannelAuth {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key");
    mac.update(format!("{socket_id}:{channel}").as_bytes());
    ChannelAuth {
        auth: format!("{KEY}:{}", hex::encode(mac.finalize().into_bytes())),
        channel_data: None,
        shared_secret: None,
    }
}

/// A frame's `data`, parsed when it is a JSON string.
pub(crate) fn data_of(frame: &Value) -> Value {
    match &frame["data"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
        other => other.clone(),
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// A signed HTTP API request over real HTTP: status and JSON body.
pub(crate) async fn api(
    app: &App,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let body = body.map(|b| b.to_string());
    let signed = sign_request(
        &token(),
        method,
        path,
        params,
        body.as_deref().map(str::as_bytes),
        now_secs(),
    );
    raw_api(app, method, &format!("{path}?{}", signed.query), body).await
}

/// An HTTP API request sent as given (no signing).
pub(crate) async fn raw_api(
    app: &App,
    method: &str,
    path_and_query: &str,
    body: Option<String>,
) -> (u16, Value) {
    let url = format!("http://127.0.0.1:{}{path_and_query}", app.port);
    // The crate's TLS stack: reqwest's own default has no crypto provider in this build.
    let http = rocket_pusher::client::http_client_builder()
        .expect("a TLS stack")
        .build()
        .expect("a client");
    let req = if method == "GET" {
        http.get(url)
    } else {
        http.post(url)
    };
    let req = match body {
        Some(b) => req.header("Content-Type", "application/json").body(b),
        None => req,
    };
    let resp = req.send().await.expect("the app answers");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    (status, json)
}
