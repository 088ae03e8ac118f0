//! A test kit for an app's own tests: what the app sent to Pusher, and webhooks signed
//! as Pusher signs them, from Rocket's local [`Client`](rocket::local::blocking::Client).
//!
//! 1. [`recording`] turns the app under test into one that sends nothing to Pusher and
//!    records every request instead (`transport = "recording"`).
//! 2. [`LocalClientExt`], for the blocking and the asynchronous local client, reads it back:
//!    [`sent`](LocalClientExt::sent) gives the `data` of the events sent on a channel under
//!    a name, decrypted when the channel is `private-encrypted-` and deserialized into the
//!    test's type; [`signed_webhook`](LocalClientExt::signed_webhook) builds a request
//!    carrying webhook events signed with the app's own key and secret, and
//!    [`wrongly_signed_webhook`](LocalClientExt::wrongly_signed_webhook) one that must be
//!    refused.
//!
//! ```
//! use rocket::http::Status;
//! use rocket::local::blocking::Client;
//! use rocket::{State, post, routes};
//! use rocket_pusher::testing::{self, LocalClientExt};
//! use rocket_pusher::{PresenceEvent, Pusher, PusherFairing, VerifiedWebhook};
//!
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Order {
//!     id: u64,
//! }
//!
//! #[post("/orders/<id>")]
//! async fn create(id: u64, pusher: &State<Pusher>) -> Result<Status, rocket_pusher::Error> {
//!     pusher.trigger("orders", "created", &Order { id }).await?;
//!     Ok(Status::Created)
//! }
//!
//! #[post("/hooks/presence", data = "<hook>")]
//! fn presence(hook: VerifiedWebhook<PresenceEvent>) -> String {
//!     hook.events.iter().map(|e| e.user_id()).collect::<Vec<_>>().join(",")
//! }
//!
//! fn app() -> rocket::Rocket<rocket::Build> {
//!     rocket::build()
//!         .attach(PusherFairing::new())
//!         .mount("/", routes![create, presence])
//! }
//!
//! // In the app's tests:
//! let client = Client::tracked(testing::recording(app())).unwrap();
//!
//! // What a route sent.
//! assert_eq!(client.post("/orders/7").dispatch().status(), Status::Created);
//! assert_eq!(client.sent::<Order>("orders", "created"), [Order { id: 7 }]);
//!
//! // A webhook, as Pusher would post it.
//! let joined = PresenceEvent::MemberAdded {
//!     channel: "presence-room".into(),
//!     user_id: "alice".into(),
//! };
//! let res = client.signed_webhook("/hooks/presence", [&joined]).dispatch();
//! assert_eq!(res.into_string().unwrap(), "alice");
//! let res = client.wrongly_signed_webhook("/hooks/presence", [&joined]).dispatch();
//! assert_eq!(res.status(), Status::Forbidden);
//! ```

use std::any::type_name;
use std::fmt;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rocket::figment::providers::Serialized;
use rocket::http::ContentType;
use rocket::http::uri::Origin;
use rocket::local::{asynchronous, blocking};
use rocket::{Build, Orbit, Rocket};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Pusher;
use crate::client::{IntoChannels, RecordedEvent, Recorder};

/// The credentials [`recording`] fills in where the app's configuration has none.
const TEST_APP_ID: &str = "test-app";
const TEST_KEY: &str = "test-key";
const TEST_SECRET: &str = "test-secret";

/// The app under test, sending nothing to Pusher: `transport = "recording"` is set over
/// every other source of its configuration (`Rocket.toml`, the environment), so a test
/// reads what the app sent with [`LocalClientExt`].
///
/// The rest of the `pusher` table is the app's own (its master key, its routes' keys).
/// Each credential it lacks (`app_id`, `key` or `secret`, unless `url` gives all three) is
/// filled with a test value: a CI machine without the secret (`app_id` and `key` in
/// `Rocket.toml`, the secret from the environment in production) tests as well.
/// [`LocalClientExt::pusher`] shows them.
///
/// ```
/// use rocket::local::blocking::Client;
/// use rocket_pusher::testing::{self, LocalClientExt};
/// # let app = rocket::custom(rocket::Config::debug_default())
/// #     .attach(rocket_pusher::PusherFairing::new());
///
/// // `app` is the app under test: `rocket::build()` with `PusherFairing` attached.
/// let client = Client::tracked(testing::recording(app)).unwrap();
/// assert!(client.pusher().recorder().is_some());
/// ```
pub fn recording(rocket: Rocket<Build>) -> Rocket<Build> {
    // The global profile wins over `default` and over the selected profile (`debug`...).
    let mut figment = rocket
        .figment()
        .clone()
        .merge(Serialized::global("pusher.transport", "recording"));
    // Each credential the app's configuration lacks gets a test value (a CI machine
    // without secrets, or only the secret missing); a `url` holds all three.
    if figment.find_value("pusher.url").is_err() {
        for (key, value) in [
            ("pusher.app_id", TEST_APP_ID),
            ("pusher.key", TEST_KEY),
            ("pusher.secret", TEST_SECRET),
        ] {
            if figment.find_value(key).is_err() {
                figment = figment.merge(Serialized::global(key, value));
            }
        }
    }
    rocket.configure(figment)
}

mod channel_auth;
mod recorded;
mod webhook;

pub use channel_auth::{AnswerFuture, ChannelAuthAnswer};
use recorded::{decrypted, one_channel};
use webhook::webhook;

mod sealed {
    pub trait Sealed {}
}

/// What an app's tests ask of Rocket's local `Client`: the [`Pusher`] the fairing manages,
/// what it sent, and signed webhooks. Implemented for [`blocking::Client`] and
/// [`asynchronous::Client`].
///
/// The methods panic, with a message that says what to change, when the app has no
/// [`PusherFairing`](crate::PusherFairing) attached, or (for the recorded events) when its
/// transport is not `recording` (see [`recording`]).
///
/// ```
/// # #[rocket::main] async fn main() {
/// use rocket::local::asynchronous::Client;
/// use rocket_pusher::testing::{self, LocalClientExt};
/// # let app = rocket::custom(rocket::Config::debug_default())
/// #     .attach(rocket_pusher::PusherFairing::new());
///
/// // `app` is the app under test, with `PusherFairing` attached.
/// let client = Client::tracked(testing::recording(app)).await.unwrap();
/// client.pusher().trigger("news", "posted", "hello").await.unwrap();
/// assert_eq!(client.sent::<String>("news", "posted"), ["hello"]);
/// # }
/// ```
pub trait LocalClientExt: sealed::Sealed {
    /// The client's local request type.
    type Request<'c>
    where
        Self: 'c;

    /// What [`channel_auth`](Self::channel_auth) gives: the [`ChannelAuthAnswer`] on the
    /// blocking client, a future of it ([`AnswerFuture`]) on the asynchronous one.
    type ChannelAuth<'c>
    where
        Self: 'c;

    /// The [`Pusher`] the app's fairing manages: its key, its tokens, its recorder.
    ///
    /// ```
    /// use rocket::local::blocking::Client;
    /// use rocket_pusher::testing::{self, LocalClientExt};
    /// # let app = rocket::custom(rocket::Config::debug_default())
    /// #     .attach(rocket_pusher::PusherFairing::new());
    ///
    /// // `app` is the app under test, with `PusherFairing` attached.
    /// let client = Client::tracked(testing::recording(app)).unwrap();
    /// assert_eq!(client.pusher().key(), "test-key");
    /// ```
    fn pusher(&self) -> &Pusher;

    /// The recorder of the app's [`Pusher`]: every request it would have sent.
    ///
    /// ```
    /// use rocket::local::blocking::Client;
    /// use rocket_pusher::testing::{self, LocalClientExt};
    /// # let app = rocket::custom(rocket::Config::debug_default())
    /// #     .attach(rocket_pusher::PusherFairing::new());
    ///
    /// // `app` is the app under test, with `PusherFairing` attached.
    /// let client = Client::tracked(testing::recording(app)).unwrap();
    /// assert!(client.recorder().requests().is_empty());
    /// ```
    fn recorder(&self) -> &Recorder {
        self.pusher().recorder().unwrap_or_else(|| {
            panic!(
                "rocket_pusher::testing: the app's Pusher sends over HTTP, so nothing is \
                 recorded: build the client from `testing::recording(app)`, or set \
                 `transport = \"recording\"` in the test's `pusher` table"
            )
        })
    }

    /// Every event the app sent, oldest first (a batch gives one per item), with the
    /// `data` of `private-encrypted-` channels decrypted with the app's master key.
    ///
    /// ```
    /// # #[rocket::main] async fn main() {
    /// use rocket::local::asynchronous::Client;
    /// use rocket_pusher::testing::{self, LocalClientExt};
    /// # let app = rocket::custom(rocket::Config::debug_default())
    /// #     .attach(rocket_pusher::PusherFairing::new());
    ///
    /// // `app` is the app under test, with `PusherFairing` attached.
    /// let client = Client::tracked(testing::recording(app)).await.unwrap();
    /// // What a route of the app (or a job of its own) would send:
    /// client.pusher().trigger(["a", "b"], "ping", "1").await.unwrap();
    ///
    /// let sent = client.sent_events();
    /// assert_eq!(sent[0].channels, ["a", "b"]);
    /// assert_eq!(sent[0].name, "ping");
    /// assert_eq!(sent[0].data, "1");
    /// # }
    /// ```
    fn sent_events(&self) -> Vec<RecordedEvent> {
        let pusher = self.pusher();
        self.recorder()
            .events()
            .into_iter()
            .map(|event| decrypted(pusher, event))
            .collect()
    }

    /// The `data` of every `event` the app sent on `channel`, oldest first, decrypted when
    /// the channel is `private-encrypted-`, and deserialized into `T` as JSON (a `String`
    /// also reads data sent as a plain string). Panics, naming the event, if it is not a
    /// `T`.
    ///
    /// `channel` is named as [`Pusher::trigger`] takes it: a `&str`, a
    /// [`ChannelName`](crate::ChannelName), or the `Result` of a channel route's
    /// `name(..)` (`orders::name(42)`); a name that is not valid panics with the reason.
    ///
    /// ```
    /// # #[rocket::main] async fn main() {
    /// use rocket::local::asynchronous::Client;
    /// use rocket_pusher::testing::{self, LocalClientExt};
    /// # let app = rocket::custom(rocket::Config::debug_default())
    /// #     .attach(rocket_pusher::PusherFairing::new().config_default(
    /// #         "encryption_master_key_base64", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
    ///
    /// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    /// struct Message {
    ///     text: String,
    /// }
    ///
    /// // `app` has an encryption master key configured.
    /// let client = Client::tracked(testing::recording(app)).await.unwrap();
    /// let hi = Message { text: "hi".into() };
    /// client.pusher().trigger("private-encrypted-chat", "message", &hi).await.unwrap();
    ///
    /// assert_eq!(
    ///     client.sent::<Message>("private-encrypted-chat", "message"),
    ///     [Message { text: "hi".into() }]
    /// );
    /// // What went over the wire was sealed (random base64 may well contain `hi`; the
    /// // plaintext's JSON never survives sealing).
    /// assert!(!client.recorder().events()[0].data.contains(r#""text":"hi""#));
    /// # }
    /// ```
    fn sent<T: DeserializeOwned>(&self, channel: impl IntoChannels, event: &str) -> Vec<T> {
        let channel = one_channel(channel);
        self.sent_events()
            .into_iter()
            .filter(|e| e.name == event && e.channels.iter().any(|c| c == channel.as_str()))
            .map(|e| {
                e.data_as().unwrap_or_else(|err| {
                    panic!(
                        "rocket_pusher::testing: `{event}` on `{channel}` is not a {}: {err}; \
                         its data: {}",
                        type_name::<T>(),
                        e.data
                    )
                })
            })
            .collect()
    }

    /// A `POST` to the app's channel auth route (`{mount}{auth_path}`, `/pusher/auth` by
    /// default) as pusher-js sends it when a page subscribes to `channel` from the
    /// connection `socket_id`. Add the cookies or headers the app's guards read, then
    /// dispatch it with [`channel_auth_with`](Self::channel_auth_with). `channel` is named
    /// as [`Pusher::trigger`] takes it.
    ///
    /// ```
    /// use rocket::http::{Cookie, Status};
    /// use rocket::local::blocking::Client;
    /// use rocket_pusher::testing::{self, LocalClientExt};
    /// use rocket_pusher::{PusherFairing, channel, channels};
    /// use rocket::http::CookieJar;
    ///
    /// #[channel("private-orders.<id>")]
    /// fn orders(id: u64, jar: &CookieJar<'_>) -> bool {
    ///     jar.get("user").is_some_and(|user| user.value() == id.to_string())
    /// }
    ///
    /// # let _ = rocket::build;
    /// # let app = rocket::custom(rocket::Config::debug_default());
    /// // `app` is the app under test (`rocket::build()` with its routes).
    /// let app = app.attach(PusherFairing::new().channels(channels![orders]));
    /// let client = Client::tracked(testing::recording(app)).unwrap();
    ///
    /// let as_7 = client.channel_auth_request("1.2", orders::name(7)).cookie(Cookie::new("user", "7"));
    /// assert_eq!(client.channel_auth_with(as_7).status, Status::Ok);
    /// assert_eq!(client.channel_auth("1.2", orders::name(7)).status, Status::Forbidden);
    /// ```
    fn channel_auth_request<'c>(
        &'c self,
        socket_id: &str,
        channel: impl IntoChannels,
    ) -> Self::Request<'c> {
        let channel = one_channel(channel);
        let uri = self
            .rocket()
            .state::<crate::ClientConfig>()
            .map(|c| c.auth_endpoint.clone())
            .unwrap_or_else(|| no_fairing());
        let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let body = format!(
            "socket_id={}&channel_name={}",
            encode(socket_id),
            encode(channel.as_str())
        );
        self.post_form(uri, body)
    }

    /// Dispatch a request built by [`channel_auth_request`](Self::channel_auth_request)
    /// and decode the answer.
    fn channel_auth_with<'c>(&'c self, request: Self::Request<'c>) -> Self::ChannelAuth<'c>;

    /// Ask the app's channel auth route for `channel` (named as [`Pusher::trigger`] takes
    /// it) from the connection `socket_id`, with the cookies the client keeps: the status,
    /// the signed answer and the presence member, decoded ([`ChannelAuthAnswer`]).
    fn channel_auth<'c>(
        &'c self,
        socket_id: &str,
        channel: impl IntoChannels,
    ) -> Self::ChannelAuth<'c> {
        self.channel_auth_with(self.channel_auth_request(socket_id, channel))
    }

    #[doc(hidden)]
    fn rocket(&self) -> &Rocket<Orbit>;

    #[doc(hidden)]
    fn post_form<'c>(&'c self, uri: String, body: String) -> Self::Request<'c>;

    /// A `POST` to `uri` carrying a webhook as Pusher sends it: `events` (typed events
    /// such as [`PresenceEvent`](crate::PresenceEvent), or any `Serialize` value giving
    /// an event's JSON object) with `time_ms` now, signed with the app's own key and
    /// secret in `X-Pusher-Key` and `X-Pusher-Signature`. Dispatch it to a mounted webhook
    /// route or to a route taking [`VerifiedWebhook`](crate::VerifiedWebhook).
    ///
    /// ```
    /// use rocket::http::Status;
    /// use rocket::local::blocking::Client;
    /// use rocket_pusher::testing::{self, LocalClientExt};
    /// use rocket_pusher::{ChannelExistenceEvent, PusherFairing};
    ///
    /// # let _ = rocket::build;
    /// # let app = rocket::custom(rocket::Config::debug_default());
    /// // The mounted route `POST /pusher/events/channel_existence` calls the handler.
    /// let app = app.attach(PusherFairing::new().on_channel_existence(|_, hook| {
    ///     Box::pin(async move { assert_eq!(hook.events[0].channel(), "orders") })
    /// }));
    /// let client = Client::tracked(testing::recording(app)).unwrap();
    /// let occupied = ChannelExistenceEvent::Occupied { channel: "orders".into() };
    /// let res = client
    ///     .signed_webhook("/pusher/events/channel_existence", [occupied])
    ///     .dispatch();
    /// assert_eq!(res.status(), Status::Ok);
    /// ```
    fn signed_webhook<'c, 'u: 'c, U, I>(&'c self, uri: U, events: I) -> Self::Request<'c>
    where
        U: TryInto<Origin<'u>> + fmt::Display,
        I: IntoIterator,
        I::Item: Serialize;

    /// As [`signed_webhook`](Self::signed_webhook) with the app's key, but a signature
    /// that is not the body's: every verified route must refuse it with 403.
    ///
    /// ```
    /// use rocket::http::Status;
    /// use rocket::local::blocking::Client;
    /// use rocket_pusher::testing::{self, LocalClientExt};
    /// # let app = rocket::custom(rocket::Config::debug_default())
    /// #     .attach(rocket_pusher::PusherFairing::new().on_presence(|_, _| Box::pin(async {})));
    ///
    /// // `app` is the app under test, with `PusherFairing` attached.
    /// let client = Client::tracked(testing::recording(app)).unwrap();
    /// let event = serde_json::json!({ "name": "member_added", "channel": "presence-a", "user_id": "1" });
    /// let res = client.wrongly_signed_webhook("/pusher/events/presence", [event]).dispatch();
    /// assert_eq!(res.status(), Status::Forbidden);
    /// ```
    fn wrongly_signed_webhook<'c, 'u: 'c, U, I>(&'c self, uri: U, events: I) -> Self::Request<'c>
    where
        U: TryInto<Origin<'u>> + fmt::Display,
        I: IntoIterator,
        I::Item: Serialize;
}

/// The same methods on both clients: their request types differ, their builders' names
/// do not.
/// A local POST of `events` as a webhook, signed rightly or wrongly.
macro_rules! webhook_request {
    ($client:expr, $uri:expr, $events:expr, $signed:expr) => {{
        let (body, [content_type, key, signature]) = webhook($client.pusher(), $events, $signed);
        $client
            .post($uri)
            .header(content_type)
            .header(key)
            .header(signature)
            .body(body)
    }};
}

macro_rules! local_client_ext {
    ($local:ident, $answer:ty) => {
        impl sealed::Sealed for $local::Client {}

        impl LocalClientExt for $local::Client {
            type Request<'c> = $local::LocalRequest<'c>;
            type ChannelAuth<'c> = $answer;

            fn channel_auth_with<'c>(
                &'c self,
                request: Self::Request<'c>,
            ) -> Self::ChannelAuth<'c> {
                channel_auth::$local(request)
            }

            fn rocket(&self) -> &Rocket<Orbit> {
                $local::Client::rocket(self)
            }

            fn post_form<'c>(&'c self, uri: String, body: String) -> Self::Request<'c> {
                self.post(uri).header(ContentType::Form).body(body)
            }

            fn pusher(&self) -> &Pusher {
                pusher_of($local::Client::rocket(self))
            }

            fn signed_webhook<'c, 'u: 'c, U, I>(&'c self, uri: U, events: I) -> Self::Request<'c>
            where
                U: TryInto<Origin<'u>> + fmt::Display,
                I: IntoIterator,
                I::Item: Serialize,
            {
                webhook_request!(self, uri, events, true)
            }

            fn wrongly_signed_webhook<'c, 'u: 'c, U, I>(
                &'c self,
                uri: U,
                events: I,
            ) -> Self::Request<'c>
            where
                U: TryInto<Origin<'u>> + fmt::Display,
                I: IntoIterator,
                I::Item: Serialize,
            {
                webhook_request!(self, uri, events, false)
            }
        }
    };
}

local_client_ext!(blocking, ChannelAuthAnswer);
local_client_ext!(asynchronous, AnswerFuture<'c>);

fn no_fairing() -> ! {
    panic!(
        "rocket_pusher::testing: the app manages no Pusher: attach \
         `PusherFairing::new()` to the Rocket the client was built from"
    )
}

fn pusher_of(rocket: &Rocket<Orbit>) -> &Pusher {
    rocket.state::<Pusher>().unwrap_or_else(|| {
        panic!(
            "rocket_pusher::testing: the app manages no Pusher: attach \
             `PusherFairing::new()` to the Rocket the client was built from"
        )
    })
}
