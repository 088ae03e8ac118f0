//! Triggering events: one event to 1..=100 channels, and batches of events.

mod batch;
mod channels;
mod data;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use super::queue::{QueuedEvent, Room};
use super::transport::decode;
use super::{Pusher, RetryPolicy};
use crate::error::{Error, ValidationError};
use crate::protocol::{ChannelName, EventName, SocketId, UserId};

pub(crate) use batch::{BatchBody, BatchItem};
pub use batch::{BatchEvent, BatchResponse};
pub use channels::IntoChannels;
use data::Data;
pub(crate) use data::encode_data;

/// The most channels one trigger may name.
pub const MAX_TRIGGER_CHANNELS: usize = 100;
/// Attributes of a channel returned by a trigger or a query that asked for `info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ChannelAttributes {
    /// Distinct users on a presence channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_count: Option<u64>,
    /// Connections subscribed (needs to be enabled for the app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_count: Option<u64>,
}

/// The reply to a trigger: per-channel attributes when `info` was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TriggerResponse {
    /// Attributes per channel; empty unless `info` was asked for.
    #[serde(default)]
    pub channels: HashMap<String, ChannelAttributes>,
}

/// Build the `info` parameter from the flags.
fn info_param(user_count: bool, subscription_count: bool) -> Option<&'static str> {
    match (user_count, subscription_count) {
        (true, true) => Some("user_count,subscription_count"),
        (true, false) => Some("user_count"),
        (false, true) => Some("subscription_count"),
        (false, false) => None,
    }
}

/// The events endpoint's JSON body, for an awaited trigger and the queue.
#[derive(Serialize)]
pub(crate) struct TriggerBody<'a> {
    pub(crate) name: &'a str,
    pub(crate) data: &'a str,
    pub(crate) channels: &'a [ChannelName],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) socket_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) info: Option<&'static str>,
}

/// A trigger being built: await it to send, or [`queue`](Self::queue) it.
///
/// ```no_run
/// # async fn run(pusher: &rocket_pusher::Pusher, sender: Option<rocket_pusher::SocketId>)
/// # -> Result<(), rocket_pusher::Error> {
/// let reply = pusher
///     .trigger(["presence-room", "private-log"], "message", &serde_json::json!({"text": "hi"}))
///     .exclude(sender)          // not back to the connection that sent it
///     .with_subscription_count() // ask for attributes
///     .await?;
/// println!("{:?}", reply.channels);
/// # Ok(()) }
/// ```
///
/// `D` is the type of the data, which it borrows until it is sent or queued, and
/// serializes then.
#[must_use = "a trigger does nothing until it is awaited or queued"]
pub struct Trigger<'a, D: ?Sized = str> {
    pusher: &'a Pusher,
    channels: Result<Vec<ChannelName>, ValidationError>,
    event: Result<EventName, ValidationError>,
    data: Data<'a, D>,
    socket_id: Option<SocketId>,
    user_count: bool,
    subscription_count: bool,
    retry: Option<RetryPolicy>,
}

impl Pusher {
    /// Trigger `event` with `data` on one or more channels (1 to 100).
    ///
    /// `data` is any `Serialize` value, sent as its JSON; a string (`&str`, `String`) is
    /// sent verbatim, so an already-encoded JSON string passes through as is. On a
    /// `private-encrypted-` channel (which must then be the only one) the data is
    /// encrypted. Await the returned [`Trigger`] to send it, or queue it; `data` is
    /// serialized then.
    pub fn trigger<'a, C, D>(&'a self, channels: C, event: &str, data: &'a D) -> Trigger<'a, D>
    where
        C: IntoChannels,
        D: Serialize + ?Sized,
    {
        Trigger {
            pusher: self,
            channels: channels.into_channels(),
            event: EventName::new(event),
            data: Data::Value(data),
            socket_id: None,
            user_count: false,
            subscription_count: false,
            retry: None,
        }
    }
}

impl<'a> Trigger<'a> {
    pub(crate) fn to_user(
        pusher: &'a Pusher,
        user_id: &str,
        event: &str,
        data: Result<String, ValidationError>,
    ) -> Self {
        Self {
            pusher,
            channels: UserId::new(user_id).map(|u| vec![ChannelName::server_to_user(&u)]),
            event: EventName::new(event),
            data: Data::Encoded(data),
            socket_id: None,
            user_count: false,
            subscription_count: false,
            retry: None,
        }
    }
}

impl<'a, D: Serialize + ?Sized> Trigger<'a, D> {
    /// Do not deliver to this connection (usually the sender's, from the
    /// [`SocketId`] request guard). `None` excludes nobody.
    pub fn exclude(mut self, socket_id: impl Into<Option<SocketId>>) -> Self {
        self.socket_id = socket_id.into();
        self
    }

    /// Ask for each presence channel's `user_count` in the reply.
    pub fn with_user_count(mut self) -> Self {
        self.user_count = true;
        self
    }

    /// Ask for each channel's `subscription_count` in the reply.
    pub fn with_subscription_count(mut self) -> Self {
        self.subscription_count = true;
        self
    }

    /// Retry this trigger with `policy` when it fails for a transient reason, whatever the
    /// client's `retry_writes` says. The event is then delivered **at least once**: a try
    /// whose reply was lost may have reached Pusher, and the retry sends it again.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The checks an awaited and a queued trigger share: names, channel count, lengths.
    fn check(self) -> Result<Checked<'a, Data<'a, D>>, Error> {
        let channels = self.channels?;
        let event = self.event?;
        // Data already encoded (and failed) fails here; a value is serialized later.
        let data = match self.data {
            Data::Encoded(Err(e)) => return Err(e.into()),
            data => data,
        };
        if channels.is_empty() {
            return Err(ValidationError::NoChannels.into());
        }
        if channels.len() > MAX_TRIGGER_CHANNELS {
            return Err(ValidationError::TooManyChannels {
                count: channels.len(),
                max: MAX_TRIGGER_CHANNELS,
            }
            .into());
        }
        for channel in &channels {
            self.pusher.check_trigger_channel(channel)?;
        }
        Ok(Checked {
            pusher: self.pusher,
            channels,
            event,
            data,
            socket_id: self.socket_id,
            info: info_param(self.user_count, self.subscription_count),
            retry: self.retry,
        })
    }

    /// Send the event (what awaiting the trigger does): the checks and the serialization
    /// are done here, and the future owns what it sends.
    pub fn send(self) -> impl Future<Output = Result<TriggerResponse, Error>> + Send + 'a {
        let checked = self.check().and_then(Checked::encoded);
        async move { checked?.send().await }
    }

    /// Queue the event instead of waiting for Pusher: it is checked as for an awaited
    /// trigger (names, sizes, encryption, done here), then handed to the client's
    /// dispatcher, and the call returns at once. See the [module docs](crate::client) for
    /// what the dispatcher guarantees: order per channel, batching, retries (at least
    /// once), a bounded queue, draining on shutdown.
    ///
    /// A trigger naming several channels becomes one event per channel, each in its
    /// channel's order; a `private-encrypted-` channel may be among them (each is sealed
    /// for its own channel). Nothing is queued unless all of them fit.
    ///
    /// Errors: a [`ValidationError`] for bad input, including the options that need the
    /// awaited form ([`with_user_count`](Self::with_user_count),
    /// [`with_subscription_count`](Self::with_subscription_count): nobody reads the reply;
    /// [`retry`](Self::retry): the queue retries with the client's policy); a
    /// [`QueueError`](crate::error::QueueError) when the queue is full, closed, or cannot start.
    ///
    /// ```
    /// use rocket::{State, post};
    /// use rocket::http::Status;
    /// use rocket_pusher::{Pusher, SocketId};
    ///
    /// #[post("/orders/<id>/ship")]
    /// fn ship(id: u64, pusher: &State<Pusher>, sender: Option<SocketId>)
    ///     -> Result<Status, rocket_pusher::Error>
    /// {
    ///     // Answers at once; the event follows, in order with the order's other events.
    ///     pusher
    ///         .trigger(format!("private-orders.{id}"), "shipped", &serde_json::json!({ "id": id }))
    ///         .exclude(sender)
    ///         .queue()?;
    ///     Ok(Status::Accepted)
    /// }
    /// ```
    pub fn queue(self) -> Result<(), Error> {
        let checked = self.check_queued()?;
        // Room first: a full queue refuses before the data is serialized and the events
        // built (copies, sealing).
        let room = checked.pusher.queue_room(checked.channels.len())?;
        checked.encoded()?.enqueue(room)
    }

    /// [`queue`](Self::queue), waiting for room while the queue is full instead of
    /// refusing with [`QueueError::Full`](crate::error::QueueError::Full): a producer
    /// awaits it to go as fast as Pusher takes events, without a loop of its own. It is
    /// refused when the queue is closed or cannot start, or names more channels than the
    /// queue's whole capacity. Waiters are woken as events finish, not in a fair order.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), rocket_pusher::Error> {
    /// # let pusher = rocket_pusher::Pusher::recording(rocket_pusher::protocol::Credentials::new("1", "k", "s"));
    /// for id in 0..100_000 {
    ///     // Never `Full`: waits while `capacity` events wait or fly.
    ///     pusher.trigger("prices", "tick", &id).queue_wait().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn queue_wait(self) -> Result<(), Error> {
        // Serialized before it waits, so that the future holds no borrow of the data.
        let checked = self.check_queued()?.encoded()?;
        let room = checked
            .pusher
            .queue_room_wait(checked.channels.len())
            .await?;
        checked.enqueue(room)
    }

    /// The checks of a queued trigger: those of an awaited one, and the options it cannot
    /// take. Nothing is allocated.
    fn check_queued(self) -> Result<Checked<'a, Data<'a, D>>, Error> {
        if self.user_count || self.subscription_count {
            return Err(ValidationError::Attribute(
                "a queued trigger has no reply to carry channel attributes: await the trigger \
                 to read user_count or subscription_count",
            )
            .into());
        }
        if self.retry.is_some() {
            return Err(ValidationError::Attribute(
                "a queued trigger is retried by the client's retry policy ([pusher.retry]); \
                 retry(..) applies to an awaited trigger",
            )
            .into());
        }
        self.check()
    }
}

impl<'a, D: Serialize + ?Sized> Checked<'a, Data<'a, D>> {
    /// With the data serialized.
    fn encoded(self) -> Result<Checked<'a, String>, Error> {
        Ok(Checked {
            data: self.data.encode()?,
            pusher: self.pusher,
            channels: self.channels,
            event: self.event,
            socket_id: self.socket_id,
            info: self.info,
            retry: self.retry,
        })
    }
}

impl Checked<'_, String> {
    async fn send(self) -> Result<TriggerResponse, Error> {
        let pusher = self.pusher;
        let data = match self.channels.as_slice() {
            [one] => pusher.prepare_data(one, &self.data)?,
            many => {
                if many.iter().any(ChannelName::is_encrypted) {
                    return Err(ValidationError::EncryptedMultiChannel.into());
                }
                pusher.check_size(&self.data)?;
                Cow::Borrowed(self.data.as_str())
            }
        };
        let body = serde_json::to_vec(&TriggerBody {
            name: self.event.as_str(),
            data: &data,
            channels: &self.channels,
            socket_id: self.socket_id.as_ref().map(SocketId::as_str),
            info: self.info,
        })
        .map_err(|e| ValidationError::Serialize(e.to_string()))?;
        let path = pusher.events_path();
        let reply = pusher.post(path, body, self.retry.as_ref()).await?;
        decode(&reply)
    }

    /// One event per channel, each sealed for its channel, queued in `room`.
    fn enqueue(self, room: Room<'_>) -> Result<(), Error> {
        let Checked {
            pusher,
            channels,
            event,
            data,
            socket_id,
            ..
        } = self;
        let mut queued = Vec::with_capacity(channels.len());
        let mut channels = channels.into_iter();
        // Checked: at least one. The others get copies; the last takes the originals.
        let last = channels.next_back();
        for channel in channels {
            queued.push(QueuedEvent {
                data: pusher.seal(&channel, data.clone())?,
                event: event.clone(),
                socket_id: socket_id.clone(),
                channel,
            });
        }
        if let Some(channel) = last {
            queued.push(QueuedEvent {
                data: pusher.seal(&channel, data)?,
                event,
                socket_id,
                channel,
            });
        }
        pusher.enqueue(room, queued)
    }
}

impl<D: ?Sized> fmt::Debug for Trigger<'_, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trigger")
            .field("pusher", self.pusher)
            .field("channels", &self.channels)
            .field("event", &self.event)
            .field("data", &self.data)
            .field("socket_id", &self.socket_id)
            .field("user_count", &self.user_count)
            .field("subscription_count", &self.subscription_count)
            .field("retry", &self.retry)
            .finish()
    }
}
/// A trigger's parts, checked; its data a value still, or serialized.
struct Checked<'a, T> {
    pusher: &'a Pusher,
    channels: Vec<ChannelName>,
    event: EventName,
    data: T,
    socket_id: Option<SocketId>,
    info: Option<&'static str>,
    retry: Option<RetryPolicy>,
}

impl<'a, D: Serialize + ?Sized> IntoFuture for Trigger<'a, D> {
    type Output = Result<TriggerResponse, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
