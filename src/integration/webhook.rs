//! Webhooks in Rocket: the [`VerifiedWebhook`] data guard, and the mounted webhook routes
//! that hand typed events to the handlers registered on the fairing.

use std::ops::Deref;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rocket::data::{self, ByteUnit, Data, FromData};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::response::{self, Responder};
use rocket::route::{self, Handler};
use rocket::{Ignite, Request, Rocket, Sentinel};

use super::body::{BodyError, read_capped};
use super::handlers::{Handlers, HookFn};
use super::response::ApiError;
use crate::Pusher;
use crate::protocol::{
    ChannelExistenceEvent, ClientEvent, Event, PresenceEvent, Webhook, WebhookError, WebhookEvent,
    check_freshness, narrow_events, verify_webhook,
};

/// Why the [`VerifiedWebhook`] guard or a mounted webhook route refused a request: the
/// webhook itself is bad ([`WebhookError`]: key, signature, JSON, age), or the request could
/// not be checked (too large, unreadable, no credentials on this server).
///
/// It responds with [`status`](Self::status) and `{"error": "<reason>"}`, so a route taking
/// `Result<VerifiedWebhook<T>, WebhookRejection>` can return it as is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// The webhook failed verification or parsing.
    Invalid(WebhookError),
    /// The body is larger than `webhook_body_limit`.
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The body could not be read.
    Io,
    /// No [`Pusher`] is managed, so there are no credentials to verify with.
    NotConfigured,
}

impl std::fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(e) => e.fmt(f),
            Self::TooLarge { limit } => {
                write!(f, "webhook body exceeds the limit of {limit} bytes")
            }
            Self::Io => f.write_str("webhook body could not be read"),
            Self::NotConfigured => f.write_str("webhooks are not configured on this server"),
        }
    }
}

impl std::error::Error for WebhookRejection {}

impl From<WebhookError> for WebhookRejection {
    fn from(e: WebhookError) -> Self {
        Self::Invalid(e)
    }
}

impl WebhookRejection {
    /// The status answered: 403 for a missing, unknown or wrong key or signature and for a
    /// stale webhook (as Flask-Pusher), 413 for a body over the limit, and for a signed body
    /// that is not a Pusher webhook what Rocket's `Json` guard answers: 400 for bad JSON
    /// syntax, 422 for well-formed JSON of another shape.
    pub fn status(&self) -> Status {
        match self {
            Self::Invalid(e) => match e {
                WebhookError::MissingKey
                | WebhookError::UnknownKey
                | WebhookError::MissingSignature
                | WebhookError::BadSignature
                | WebhookError::Stale { .. } => Status::Forbidden,
                WebhookError::Syntax(_) => Status::BadRequest,
                WebhookError::Shape(_) => Status::UnprocessableEntity,
            },
            Self::TooLarge { .. } => Status::PayloadTooLarge,
            Self::Io => Status::BadRequest,
            Self::NotConfigured => Status::InternalServerError,
        }
    }
}

impl From<WebhookRejection> for ApiError {
    fn from(e: WebhookRejection) -> Self {
        Self::new(e.status(), e.to_string())
    }
}

impl<'r> Responder<'r, 'static> for WebhookRejection {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        ApiError::from(self).respond_to(req)
    }
}

/// Webhook settings the fairing manages beside [`Pusher`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct WebhookSettings {
    pub(crate) body_limit: ByteUnit,
    pub(crate) max_age_ms: Option<u64>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            body_limit: ByteUnit::Mebibyte(1),
            max_age_ms: None,
        }
    }
}

/// A webhook whose `X-Pusher-Key` and `X-Pusher-Signature` were checked against the raw
/// body, then parsed; `T` is the event family the route handles: [`PresenceEvent`],
/// [`ChannelExistenceEvent`], [`ClientEvent`], or [`Event`] for all of them.
///
/// The body is read once, up to `webhook_body_limit` (413 past it, never truncated), and
/// verified with every configured key (key rotation) in constant time before parsing.
/// Failures: 403 for a missing, unknown or wrong key or signature (and a stale `time_ms`
/// when `webhook_max_age` is set), 413 for a body over the limit, 400 for a signed body
/// that is not JSON, 422 for signed JSON that is not a Pusher webhook (see
/// [`WebhookRejection::status`]). Take `Result<VerifiedWebhook<T>, WebhookRejection>` to
/// answer with the rejection's JSON reason.
///
/// Events of another family in the same body are not an error: the webhook is accepted
/// (200 from the route) with only the events of `T` in [`events`](Webhook::events), the
/// rest kept in [`others`](Self::others), and their count and names logged (`info`). So
/// a `VerifiedWebhook<PresenceEvent>` route that Pusher posts channel existence webhooks
/// to (a webhook URL set up for more event types than the route handles) sees no events:
/// give each kind its own URL in the dashboard, or take `VerifiedWebhook<Event>` (the
/// default) for all of them.
///
/// ```
/// use rocket::{post, routes};
/// use rocket_pusher::{PresenceEvent, VerifiedWebhook};
///
/// #[post("/hooks/presence", data = "<hook>")]
/// fn presence(hook: VerifiedWebhook<PresenceEvent>) {
///     for event in &hook.events {
///         match event {
///             PresenceEvent::MemberAdded { channel, user_id } => println!("{user_id} joined {channel}"),
///             PresenceEvent::MemberRemoved { channel, user_id } => println!("{user_id} left {channel}"),
///             _ => {}
///         }
///     }
/// }
/// # let _ = routes![presence];
/// ```
///
/// # Duplicates and gaps
///
/// A webhook may come twice: a retried delivery, or, from a cluster of servers (a sockudo
/// cluster over Redis), two nodes that saw the same change at the same moment each send
/// it. Two nodes can also both miss a `channel_occupied` when the first two subscribers
/// join through different nodes at once. Nothing in a webhook numbers it: a duplicate is
/// the same event (`name`, `channel`, and `user_id` for presence) while the state it
/// reports already holds. So handle a webhook as news of a state with its `time_ms`, not as
/// a step to count: record the state unless newer news is already in, act only when it
/// changed, and ask the server ([`Pusher::channel`], [`Pusher::users`]) when it matters.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// use rocket::local::blocking::Client;
/// use rocket::{State, post, routes};
/// use rocket_pusher::testing::{self, LocalClientExt};
/// use rocket_pusher::{ChannelExistenceEvent, PusherFairing, VerifiedWebhook};
///
/// /// Whether each channel is occupied, as of which webhook's `time_ms`. With several app
/// /// instances this belongs in their shared database, updated in one statement.
/// #[derive(Default)]
/// struct Occupancy(Mutex<HashMap<String, (bool, u64)>>);
///
/// impl Occupancy {
///     /// Records the news unless it repeats the state or is older than it; true if the
///     /// state changed.
///     fn apply(&self, channel: &str, occupied: bool, time_ms: u64) -> bool {
///         let mut states = self.0.lock().unwrap();
///         match states.get(channel) {
///             Some(&(now, since)) if now == occupied || since > time_ms => false,
///             _ => {
///                 states.insert(channel.to_owned(), (occupied, time_ms));
///                 true
///             }
///         }
///     }
/// }
///
/// #[post("/hooks/channels", data = "<hook>")]
/// fn channels(hook: VerifiedWebhook<ChannelExistenceEvent>, rooms: &State<Occupancy>) -> String {
///     let mut changed = Vec::new();
///     for event in &hook.events {
///         let occupied = matches!(event, ChannelExistenceEvent::Occupied { .. });
///         if rooms.apply(event.channel(), occupied, hook.time_ms) {
///             changed.push(event.name()); // act here: once per change
///         }
///     }
///     changed.join(",")
/// }
///
/// let app = rocket::build()
///     .attach(PusherFairing::new())
///     .manage(Occupancy::default())
///     .mount("/", routes![channels]);
/// let client = Client::tracked(testing::recording(app)).unwrap();
/// let vacated = ChannelExistenceEvent::Vacated { channel: "room".into() };
/// let post = || client.signed_webhook("/hooks/channels", [&vacated]).dispatch();
/// // Both nodes of a cluster announce the end of the room: the app acts once.
/// assert_eq!(post().into_string().unwrap(), "channel_vacated");
/// assert_eq!(post().into_string().unwrap(), "");
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedWebhook<T = Event> {
    webhook: Webhook<T>,
    others: Vec<Event>,
    key: String,
}

impl<T> VerifiedWebhook<T> {
    /// The webhook: `time_ms` and the events of family `T`.
    pub fn into_inner(self) -> Webhook<T> {
        self.webhook
    }

    /// Events in the body that are not of family `T`.
    pub fn others(&self) -> &[Event] {
        &self.others
    }

    /// The key whose secret signed the webhook.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl<T> Deref for VerifiedWebhook<T> {
    type Target = Webhook<T>;

    fn deref(&self) -> &Webhook<T> {
        &self.webhook
    }
}

#[rocket::async_trait]
impl<'r, T: WebhookEvent> FromData<'r> for VerifiedWebhook<T> {
    type Error = WebhookRejection;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match read_webhook(req, data).await {
            Ok((webhook, key)) => {
                let (events, others) = narrow_events::<T>(webhook.events);
                if !others.is_empty() {
                    let names: Vec<&str> = others.iter().map(Event::name).collect();
                    log::info!(
                        "pusher: {} skipped {} event(s) of other kinds, kept in others(): \
                         {names:?}",
                        req.uri().path(),
                        others.len()
                    );
                }
                Outcome::Success(Self {
                    webhook: Webhook {
                        time_ms: webhook.time_ms,
                        events,
                    },
                    others,
                    key,
                })
            }
            Err(e) => Outcome::Error((e.status(), e)),
        }
    }
}

impl<T> Sentinel for VerifiedWebhook<T> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if rocket.state::<Pusher>().is_none() {
            log::error!(
                "VerifiedWebhook needs the Pusher credentials: attach `PusherFairing::new()` \
                 (or manage a `Pusher`)"
            );
            return true;
        }
        false
    }
}

/// Check key and signature on the raw body, then parse it. Cheap header checks run
/// before the body is read.
pub(crate) async fn read_webhook(
    req: &Request<'_>,
    data: Data<'_>,
) -> Result<(Webhook<Event>, String), WebhookRejection> {
    let Some(pusher) = req.rocket().state::<Pusher>() else {
        log::error!("a Pusher webhook arrived but no Pusher is managed: attach PusherFairing");
        return Err(WebhookRejection::NotConfigured);
    };
    let settings = req
        .rocket()
        .state::<WebhookSettings>()
        .copied()
        .unwrap_or_default();
    let key = req
        .headers()
        .get_one("X-Pusher-Key")
        .ok_or(WebhookError::MissingKey)?;
    if !pusher.webhook_tokens().iter().any(|t| t.key == key) {
        return Err(WebhookError::UnknownKey.into());
    }
    let signature = req
        .headers()
        .get_one("X-Pusher-Signature")
        .ok_or(WebhookError::MissingSignature)?;

    let body = read_capped(data, settings.body_limit)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => WebhookRejection::TooLarge {
                limit: settings.body_limit.as_u64(),
            },
            BodyError::Io => WebhookRejection::Io,
        })?;
    let token = verify_webhook(pusher.webhook_tokens(), Some(key), Some(signature), &body)?;
    let webhook = Webhook::parse(&body)?;
    if let Some(window) = settings.max_age_ms {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        check_freshness(webhook.time_ms, now, window)?;
    }
    Ok((webhook, token.key.clone()))
}

/// Which of the three mounted webhook routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookKind {
    ChannelExistence,
    Presence,
    Client,
}

impl HookKind {
    pub(crate) const ALL: [Self; 3] = [Self::ChannelExistence, Self::Presence, Self::Client];

    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::ChannelExistence => "channel_existence",
            Self::Presence => "presence",
            Self::Client => "client",
        }
    }
}

/// A mounted webhook route: verify, narrow to the route's family, call its handler.
#[derive(Clone)]
pub(crate) struct WebhookRoute {
    pub(crate) kind: HookKind,
    pub(crate) handlers: Arc<Handlers>,
}

#[rocket::async_trait]
impl Handler for WebhookRoute {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        let result = match read_webhook(req, data).await {
            Err(e) => Err(ApiError::from(e)),
            Ok((webhook, _)) => match self.kind {
                HookKind::ChannelExistence => {
                    dispatch::<ChannelExistenceEvent>(
                        req,
                        &self.handlers.channel_existence,
                        webhook,
                    )
                    .await
                }
                HookKind::Presence => {
                    dispatch::<PresenceEvent>(req, &self.handlers.presence, webhook).await
                }
                HookKind::Client => {
                    dispatch::<ClientEvent>(req, &self.handlers.client_event, webhook).await
                }
            },
        };
        match result {
            Ok(()) => route::Outcome::from(req, super::response::Ok200),
            Err(e) => route::Outcome::from(req, e),
        }
    }
}

async fn dispatch<T: WebhookEvent>(
    req: &Request<'_>,
    handler: &Option<Arc<HookFn<T>>>,
    webhook: Webhook<Event>,
) -> Result<(), ApiError> {
    let Some(handler) = handler else {
        return Err(ApiError::new(
            Status::NotFound,
            "no handler is registered for these webhooks",
        ));
    };
    let (events, others) = narrow_events::<T>(webhook.events);
    if !others.is_empty() {
        let names: Vec<&str> = others.iter().map(Event::name).collect();
        log::warn!(
            "pusher: webhook route {} ignored events of other kinds: {names:?}",
            req.uri().path()
        );
    }
    handler(
        req,
        Webhook {
            time_ms: webhook.time_ms,
            events,
        },
    )
    .await;
    Ok(())
}
