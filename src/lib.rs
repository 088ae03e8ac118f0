//! # rocket_pusher
//!
//! [Pusher Channels](https://pusher.com/channels) for [Rocket](https://rocket.rs) 0.5:
//! a fairing that mounts the channel auth, user sign-in and webhook routes, guards for
//! an app's own routes, and an async client of the Pusher HTTP API.
//!
//! ## Quickstart
//!
//! 1. Put the app's credentials in `Rocket.toml`:
//!
//!    ```toml
//!    [default.pusher]
//!    app_id = "1234"
//!    key = "278d425bdf160c739803"
//!    secret = "7ad3773142a6692b25b8"
//!    cluster = "eu"
//!    ```
//!
//! 2. Attach [`PusherFairing`] with the app's channel routes: a [`channel`] pattern per
//!    family of channels, deciding with its typed parameters and the app's own request
//!    guards. Take `&State<Pusher>` where events are sent:
//!
//! ```
//! use rocket::http::{Cookie, Status};
//! use rocket::local::blocking::Client;
//! use rocket::{post, routes, Request, State};
//! use rocket_pusher::testing::{self, LocalClientExt};
//! use rocket_pusher::{channel, channels, PresenceMember, Pusher, PusherFairing, SocketId};
//!
//! #[post("/messages", data = "<text>")]
//! async fn send(pusher: &State<Pusher>, sender: Option<SocketId>, text: String)
//!     -> Result<Status, rocket_pusher::Error>
//! {
//!     // To everyone on the channel except the connection that sent it.
//!     pusher.trigger("presence-room.lobby", "message", &text).exclude(sender).await?;
//!     Ok(Status::Accepted)
//! }
//!
//! /// Who may join `presence-room.<name>`, and what the other members see of them. Every
//! /// argument but the pattern's parameters is a request guard (the signed-in user...),
//! /// or the `&Request` itself.
//! #[channel("presence-room.<name>")]
//! async fn room(name: &str, req: &Request<'_>) -> Option<PresenceMember> {
//!     let user = req.cookies().get("user")?.value().to_owned();
//!     let info = serde_json::json!({ "name": user, "room": name });
//!     Some(PresenceMember::new(user).with_info(info))
//! }
//!
//! fn app() -> rocket::Rocket<rocket::Build> {
//!     rocket::build()
//!         .attach(PusherFairing::new().channels(channels![room]))
//!         .mount("/", routes![send])
//! }
//!
//! // In the app's tests, nothing is sent to Pusher (see `testing`): pusher-js posts here
//! // when the page subscribes to `presence-room.lobby`.
//! let client = Client::tracked(testing::recording(app())).unwrap();
//! let request = client
//!     .channel_auth_request("123.456", "presence-room.lobby")
//!     .cookie(Cookie::new("user", "alice"));
//! let answer = client.channel_auth_with(request);
//! assert_eq!(answer.status, Status::Ok);
//! assert_eq!(answer.member.unwrap().user_id, "alice");
//! ```
//!
//! For one rule over every channel instead, [`PusherFairing::authorize`] takes a closure.
//!
//! 3. Receive webhooks in a route of the app, verified before they are parsed:
//!
//! ```
//! use rocket::post;
//! use rocket_pusher::{PresenceEvent, VerifiedWebhook};
//!
//! #[post("/hooks/presence", data = "<hook>")]
//! fn presence(hook: VerifiedWebhook<PresenceEvent>) {
//!     for event in &hook.events {
//!         println!("{} on {}", event.user_id(), event.channel());
//!     }
//! }
//! ```
//!
//! ## The three layers
//!
//! * [`protocol`]: the Pusher protocol as pure functions and plain types: validated
//!   names, REST request signing, channel authorization, user sign-in, webhook
//!   verification and typed events, end-to-end encryption. No I/O, no Rocket: it serves
//!   axum or actix apps as well.
//! * [`client`]: [`Pusher`], the async client of the HTTP API: [`trigger`](Pusher::trigger)
//!   (1 to 100 channels, excluding a socket, with channel attributes),
//!   [`trigger_batch`](Pusher::trigger_batch), [`channels`](Pusher::channels),
//!   [`channel`](Pusher::channel), [`users`](Pusher::users),
//!   [`terminate_user_connections`](Pusher::terminate_user_connections),
//!   [`send_to_user`](Pusher::send_to_user), and [`broadcast`](Pusher::broadcast) of the
//!   app's typed events ([`Broadcast`](trait@Broadcast): event name and channels declared
//!   once on the type, with channel names built by the [`channel`] routes that authorize
//!   them); encrypted channels are sealed transparently. Any trigger or broadcast can be
//!   [`queue`](client::Trigger::queue)d instead of awaited: it returns at once and a
//!   background dispatcher delivers it, batched, in order per channel, bounded, retried and
//!   drained on shutdown (see [`client`]'s docs).
//!   Errors are one typed [`Error`]; reads that fail for a transient reason are retried,
//!   writes only when asked ([`RetryPolicy`](client::RetryPolicy)). With
//!   `transport = "recording"` it sends nothing and records what it would have sent, for the
//!   app's tests ([`Recorder`](client::Recorder)). No Rocket either.
//! * The Rocket integration, at the root: [`PusherFairing`], its routes, and the guards
//!   [`VerifiedWebhook`], [`SocketId`] and [`ChannelAuthRequest`].
//!
//! The root holds what an app writes every day; the rest is in modules named for their
//! concern: [`client`], [`config`], [`error`], [`auth`] and [`protocol`]; an app's tests use
//! [`testing`] (what the app sent to Pusher, signed webhooks to post to it).
//!
//! ## Configuration
//!
//! Every key of the `pusher` table, with its default, is documented on
//! [`FairingConfig`](config::FairingConfig) (the routes' keys) and
//! [`PusherConfig`](config::PusherConfig) (the client's).
//! The environment form is `ROCKET_PUSHER='{app_id="1234",key="…",secret="…"}'`, merged
//! over `Rocket.toml` key by key: keep `app_id` and `key` in the file and set only the
//! secret where the app runs, `ROCKET_PUSHER='{secret="…"}'` (never in a committed file).
//! `ROCKET_PUSHER_SECRET` does **not** set `pusher.secret` (Rocket does not split
//! variable names on `_`).
//!
//! ## Features
//!
//! The client's TLS stack: `rustls-ring` (default: rustls with ring, the lightest build),
//! `rustls-aws-lc` (rustls with aws-lc-rs) or `native-tls` (the platform's library); with
//! none, plain HTTP only. [`client::http_client_builder`] says which wins when several are
//! on, and starts a `reqwest` client of the app's own on the same stack.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
mod integration;
pub mod protocol;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
pub mod testing;

/// Channel authorization beyond the root's [`ChannelRoute`] and [`Decision`]: what a
/// [`channel`] function may return, and the parameters its pattern captured.
pub mod auth {
    pub use crate::integration::{Captures, IntoDecision, MAX_PARAMS};
}

pub use client::{Broadcast, Pusher};
pub use error::Error;
pub use integration::{
    ChannelAuthRequest, ChannelAuthResponse, ChannelRequest, ChannelRoute, ClientConfig, Decision,
    PusherFairing, VerifiedWebhook,
};
pub use protocol::{
    ChannelExistenceEvent, ChannelName, ClientEvent, Event, PresenceEvent, PresenceMember,
    SocketId, UserData, Webhook,
};
pub use rocket;
pub use rocket::figment;

#[doc(hidden)]
pub use client::__fuzz;
/// What the code of the [`channel`] attribute and the [`Broadcast`] derive names, and only
/// through this module.
#[doc(hidden)]
pub mod __private {
    pub use crate::client::{Broadcast, IntoChannels};
    pub use crate::error::ValidationError;
    pub use crate::integration::__private::*;
    pub use crate::protocol::ChannelName;
    pub use serde::Serialize;
}

/// Declare a channel route: a function (`async fn` or plain `fn`, as a Rocket handler)
/// deciding who may join the channels matching a pattern, with the pattern's `<parameters>`
/// parsed by Rocket's `FromParam` and every other argument a request guard (or
/// `ChannelRequest<'_>`, or `&Request<'_>`). A `private-` or `private-encrypted-` route
/// returns a `bool` or a `Decision`; a `presence-` route returns who joins, a
/// `PresenceMember` / `Option<PresenceMember>` (or a `Decision`); either may return a
/// `Result` of those, whose error is logged as the reason. A return type of the other kind
/// fails to compile, with a hint. Register with [`channels!`]:
/// `PusherFairing::new().channels(channels![orders, room])`. See
/// [`ChannelRoute`] for the pattern rules.
///
/// The guards take part in Rocket's sentinels as a `#[get]` route's do: a `&State<T>` of
/// state the app never manages stops launch, naming the type.
///
/// The same declaration names the channels it matches, for sending on them:
/// `orders::name(42)` is the [`ChannelName`] `private-orders.42`, taking the pattern's
/// parameters in order with the types the function declares, formatted with `Display` and
/// checked to be one segment each so that the route parses them back (else a
/// [`ValidationError::ParamSegment`](error::ValidationError::ParamSegment) naming the
/// parameter). [`Pusher::trigger`] and a [`Broadcast`](trait@Broadcast) event's `channel`
/// take the `Result` it returns; `orders::PATTERN` is the pattern.
///
/// ```
/// use rocket_pusher::{Pusher, SocketId, channel};
///
/// #[channel("private-orders.<id>")]
/// async fn orders(id: u64, from: SocketId) -> bool {
///     // The app's own check of who is asking.
/// #   let _ = from;
///     id < 1000
/// }
///
/// assert_eq!(orders::name(42).unwrap(), "private-orders.42");
/// assert_eq!(orders::PATTERN, "private-orders.<id>");
///
/// async fn shipped(pusher: &Pusher, id: u64) -> Result<(), rocket_pusher::Error> {
///     pusher.trigger(orders::name(id), "shipped", &serde_json::json!({ "id": id })).await?;
///     Ok(())
/// }
/// ```
pub use rocket_pusher_codegen::channel;

/// Derive [`Broadcast`](trait@Broadcast) for an event type of the app, with
/// `#[broadcast(event = "name", channel = <expression>, ..)]`; see that trait.
pub use rocket_pusher_codegen::Broadcast;

/// Collect functions declared with [`channel`] into channel routes for
/// [`PusherFairing::channels`].
#[macro_export]
macro_rules! channels {
    ($($($segment:ident)::+),* $(,)?) => {
        ::std::vec![$($crate::ChannelRoute::from($($segment)::+ {})),*]
    };
}
