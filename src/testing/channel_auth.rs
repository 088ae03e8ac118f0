//! [`ChannelAuthAnswer`]: what the app's channel auth route answered for one channel,
//! decoded for a test (`LocalClientExt::channel_auth`).

use std::future::Future;
use std::pin::Pin;

use rocket::http::Status;
use rocket::local::{asynchronous, blocking};
use serde::Deserialize;

use crate::PresenceMember;
use crate::protocol::ChannelAuth;

/// What the app's channel auth route answered for one channel, as a page's pusher-js
/// would read it: the status, the signed answer, and the presence member the route named
/// (`channel_data`, JSON in the JSON, decoded).
///
/// ```
/// use rocket::http::Status;
/// use rocket::local::blocking::Client;
/// use rocket_pusher::testing::{self, LocalClientExt};
/// use rocket_pusher::{PresenceMember, PusherFairing, channel, channels};
///
/// #[channel("presence-room.<name>")]
/// fn room(name: &str) -> Option<PresenceMember> {
///     (name != "closed").then(|| PresenceMember::new("7"))
/// }
///
/// # let _ = rocket::build;
/// # let app = rocket::custom(rocket::Config::debug_default());
/// // `app` is the app under test (`rocket::build()` with its routes).
/// let app = app.attach(PusherFairing::new().channels(channels![room]));
/// let client = Client::tracked(testing::recording(app)).unwrap();
///
/// let answer = client.channel_auth("1.2", "presence-room.lobby");
/// assert_eq!(answer.status, Status::Ok);
/// assert_eq!(answer.member.unwrap().user_id, "7");
///
/// let answer = client.channel_auth("1.2", room::name("closed"));
/// assert_eq!(answer.status, Status::Forbidden);
/// assert_eq!(answer.error.as_deref(), Some("channel refused"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChannelAuthAnswer {
    /// `200 OK` when the channel is allowed; `403 Forbidden` when refused.
    pub status: Status,
    /// The signed answer when allowed: `auth` (`key:signature`), and `channel_data` and
    /// `shared_secret` as the channel's kind has them.
    pub auth: Option<ChannelAuth>,
    /// The presence member the route named (`channel_data` decoded), on presence channels.
    pub member: Option<PresenceMember>,
    /// The reason the route gave when it refused (`{"error": "…"}`).
    pub error: Option<String>,
}

impl ChannelAuthAnswer {
    /// Decode a response of the channel auth route: its status and body. Panics, saying
    /// what it got, on a body that is not an answer of that route.
    pub fn decode(status: Status, body: &str) -> Self {
        #[derive(Deserialize)]
        struct Refusal {
            error: String,
        }
        let fail = |what: &str| -> ! {
            panic!(
                "rocket_pusher::testing: the channel auth route answered {status} with {what}: {body}"
            )
        };
        if status != Status::Ok {
            let error = serde_json::from_str::<Refusal>(body).ok().map(|r| r.error);
            return Self {
                status,
                auth: None,
                member: None,
                error,
            };
        }
        let auth: ChannelAuth =
            serde_json::from_str(body).unwrap_or_else(|_| fail("no channel authorization"));
        let member = auth.channel_data.as_deref().map(|data| {
            serde_json::from_str(data).unwrap_or_else(|_| fail("a channel_data that is no member"))
        });
        Self {
            status,
            auth: Some(auth),
            member,
            error: None,
        }
    }
}

/// Dispatch a channel auth request of the blocking client and decode the answer.
pub(super) fn blocking(request: blocking::LocalRequest<'_>) -> ChannelAuthAnswer {
    let response = request.dispatch();
    let status = response.status();
    ChannelAuthAnswer::decode(status, &response.into_string().unwrap_or_default())
}

/// The answer of the asynchronous client, awaited.
pub type AnswerFuture<'c> = Pin<Box<dyn Future<Output = ChannelAuthAnswer> + Send + 'c>>;

/// Dispatch a channel auth request of the asynchronous client and decode the answer.
pub(super) fn asynchronous(request: asynchronous::LocalRequest<'_>) -> AnswerFuture<'_> {
    Box::pin(async move {
        let response = request.dispatch().await;
        let status = response.status();
        ChannelAuthAnswer::decode(status, &response.into_string().await.unwrap_or_default())
    })
}
