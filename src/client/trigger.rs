//! Triggering events: one event to 1..=100 channels, and batches of events.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use super::queue::Queued;
use super::transport::decode;
use super::{Pusher, RetryPolicy};
use crate::error::{Error, ValidationError};
use crate::protocol::{
    ChannelKind, ChannelName, EventName, SocketId, UserId, encrypt_payload, random_nonce,
};

/// The most channels one trigger may name.
pub const MAX_TRIGGER_CHANNELS: usize = 100;

/// Channel arguments of [`Pusher::trigger`]: a name, or a list of names.
///
/// A name is a string (`&str`, `String`), checked here, or a [`ChannelName`] (or the
/// `Result` a [`channel`](crate::channel) route's `name` returns), checked already and
/// taken as it is: a user's `#server-to-user-` channel, which no string may name, too. A
/// list (`Vec`, array, slice) holds any one kind of them.
///
/// ```
/// use rocket_pusher::ChannelName;
/// use rocket_pusher::client::IntoChannels;
/// use rocket_pusher::protocol::UserId;
///
/// let alice = ChannelName::server_to_user(&UserId::new("alice")?);
/// let names = vec![alice.clone(), ChannelName::new("presence-lobby")?].into_channels()?;
/// assert_eq!(names, ["#server-to-user-alice", "presence-lobby"]);
/// assert!(vec![alice.as_str()].into_channels().is_err(), "a string is checked");
/// # Ok::<(), rocket_pusher::error::ValidationError>(())
/// ```
pub trait IntoChannels {
    /// Validate and collect the channel names.
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError>;
}

impl IntoChannels for &str {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        Ok(vec![ChannelName::new(self)?])
    }
}

impl IntoChannels for String {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        Ok(vec![ChannelName::new(self)?])
    }
}

impl IntoChannels for &String {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        self.as_str().into_channels()
    }
}

impl IntoChannels for ChannelName {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        Ok(vec![self])
    }
}

impl IntoChannels for &ChannelName {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        Ok(vec![self.clone()])
    }
}

/// A name built by a [`channel`](crate::channel) route (`orders::name(42)`); a name that
/// could not be built is the trigger's error.
impl IntoChannels for Result<ChannelName, ValidationError> {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        self.map(|c| vec![c])
    }
}

/// Names already checked, such as [`Broadcast::channels`](crate::Broadcast::channels)
/// returns.
impl IntoChannels for Result<Vec<ChannelName>, ValidationError> {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        self
    }
}

/// Each item as the trigger takes it alone, so that names already checked pass as they are.
fn collect<T: IntoChannels>(
    items: impl IntoIterator<Item = T>,
) -> Result<Vec<ChannelName>, ValidationError> {
    let mut out = Vec::new();
    for item in items {
        out.append(&mut item.into_channels()?);
    }
    Ok(out)
}

impl<T: IntoChannels + Clone> IntoChannels for &[T] {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        collect(self.iter().cloned())
    }
}

impl<T: IntoChannels> IntoChannels for Vec<T> {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        collect(self)
    }
}

impl<T: IntoChannels + Clone> IntoChannels for &Vec<T> {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        self.as_slice().into_channels()
    }
}

impl<T: IntoChannels, const N: usize> IntoChannels for [T; N] {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        collect(self)
    }
}

/// Serialize event data: a string is sent verbatim (as the official libraries do),
/// anything else as its JSON.
pub(crate) fn encode_data<D: Serialize + ?Sized>(data: &D) -> Result<String, ValidationError> {
    let json =
        serde_json::to_string(data).map_err(|e| ValidationError::Serialize(e.to_string()))?;
    if json.starts_with('"') {
        serde_json::from_str(&json).map_err(|e| ValidationError::Serialize(e.to_string()))
    } else {
        Ok(json)
    }
}

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

/// The reply to a batch trigger: attributes per event, in request order, when any event
/// asked for `info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BatchResponse {
    /// One entry per event, aligned with the request; empty unless `info` was asked for.
    #[serde(default)]
    pub batch: Vec<ChannelAttributes>,
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
pub(super) struct TriggerBody<'a> {
    pub(super) name: &'a str,
    pub(super) data: &'a str,
    pub(super) channels: &'a [ChannelName],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) socket_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) info: Option<&'static str>,
}

/// One entry of the batch endpoint's JSON body, for `trigger_batch` and the queue.
#[derive(Serialize)]
pub(super) struct BatchItem<'a> {
    pub(super) channel: &'a ChannelName,
    pub(super) name: &'a str,
    pub(super) data: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) socket_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) info: Option<&'static str>,
}

/// The batch endpoint's JSON body.
#[derive(Serialize)]
pub(super) struct BatchBody<'a> {
    pub(super) batch: Vec<BatchItem<'a>>,
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
#[must_use = "a trigger does nothing until it is awaited or queued"]
pub struct Trigger<'a> {
    pusher: &'a Pusher,
    channels: Result<Vec<ChannelName>, ValidationError>,
    event: Result<EventName, ValidationError>,
    data: Result<String, ValidationError>,
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
    /// encrypted. Await the returned [`Trigger`] to send it.
    pub fn trigger<C, D>(&self, channels: C, event: &str, data: &D) -> Trigger<'_>
    where
        C: IntoChannels,
        D: Serialize + ?Sized,
    {
        Trigger {
            pusher: self,
            channels: channels.into_channels(),
            event: EventName::new(event),
            data: encode_data(data),
            socket_id: None,
            user_count: false,
            subscription_count: false,
            retry: None,
        }
    }

    /// Trigger a batch of events in one request (at most `max_batch_events`, 10 by
    /// default, Pusher's limit). Each event goes to one channel.
    pub async fn trigger_batch<I>(&self, events: I) -> Result<BatchResponse, Error>
    where
        I: IntoIterator<Item = BatchEvent>,
    {
        let events: Vec<BatchEvent> = events.into_iter().collect();
        if events.is_empty() {
            return Err(ValidationError::EmptyBatch.into());
        }
        let max = self.inner.max_batch_events;
        if events.len() > max {
            return Err(ValidationError::BatchTooLarge {
                count: events.len(),
                max,
            }
            .into());
        }
        let mut datas = Vec::with_capacity(events.len());
        for e in &events {
            let channel = e.channel.as_ref().map_err(Clone::clone)?;
            self.check_channel_len(channel)?;
            e.event.as_ref().map_err(Clone::clone)?;
            let data = e.data.as_ref().map_err(Clone::clone)?;
            datas.push(self.prepare_data(channel, data)?);
        }
        let mut batch = Vec::with_capacity(events.len());
        for (e, data) in events.iter().zip(&datas) {
            if let (Ok(channel), Ok(name)) = (&e.channel, &e.event) {
                batch.push(BatchItem {
                    channel,
                    name: name.as_str(),
                    data,
                    socket_id: e.socket_id.as_ref().map(SocketId::as_str),
                    info: info_param(e.user_count, e.subscription_count),
                });
            }
        }
        let body = serde_json::to_vec(&BatchBody { batch })
            .map_err(|e| ValidationError::Serialize(e.to_string()))?;
        let reply = self.post(&self.inner.batch_path, body, None).await?;
        decode(&reply)
    }

    /// The data to send on `channel`: encrypted for an encrypted channel (borrowed as is
    /// otherwise), size-checked.
    fn prepare_data<'d>(
        &self,
        channel: &ChannelName,
        data: &'d str,
    ) -> Result<Cow<'d, str>, Error> {
        let data = if channel.kind() == ChannelKind::PrivateEncrypted {
            let master = self.master_key().ok_or(ValidationError::NoMasterKey)?;
            let nonce = random_nonce().map_err(|_| Error::Random)?;
            Cow::Owned(encrypt_payload(
                master,
                channel.as_str(),
                data.as_bytes(),
                &nonce,
            ))
        } else {
            Cow::Borrowed(data)
        };
        self.check_size(&data)?;
        Ok(data)
    }

    /// `data` as sent on `channel`, owned: [`prepare_data`](Self::prepare_data) without a
    /// copy of plain data.
    fn seal(&self, channel: &ChannelName, data: String) -> Result<String, Error> {
        if channel.is_encrypted() {
            return Ok(self.prepare_data(channel, &data)?.into_owned());
        }
        self.check_size(&data)?;
        Ok(data)
    }

    /// Check `channel` against the configured `max_channel_name_len`. A user's own channel
    /// is exempt: its user id has a limit of its own.
    pub(crate) fn check_channel_len(&self, channel: &ChannelName) -> Result<(), ValidationError> {
        let (len, max) = (channel.as_str().len(), self.inner.max_channel_name_len);
        if len > max && channel.kind() != ChannelKind::ServerToUser {
            Err(ValidationError::ChannelNameOverLimit { len, max })
        } else {
            Ok(())
        }
    }

    fn check_size(&self, data: &str) -> Result<(), ValidationError> {
        let max = self.inner.max_payload_bytes;
        if data.len() > max {
            Err(ValidationError::DataTooLarge {
                len: data.len(),
                max,
            })
        } else {
            Ok(())
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
            data,
            socket_id: None,
            user_count: false,
            subscription_count: false,
            retry: None,
        }
    }

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
    fn check(self) -> Result<Checked<'a>, Error> {
        let channels = self.channels?;
        let event = self.event?;
        let data = self.data?;
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
            self.pusher.check_channel_len(channel)?;
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

    /// Send the event.
    pub async fn send(self) -> Result<TriggerResponse, Error> {
        let Checked {
            pusher,
            channels,
            event,
            data,
            socket_id,
            info,
            retry,
        } = self.check()?;
        let data = match channels.as_slice() {
            [one] => pusher.prepare_data(one, &data)?,
            many => {
                if many.iter().any(ChannelName::is_encrypted) {
                    return Err(ValidationError::EncryptedMultiChannel.into());
                }
                pusher.check_size(&data)?;
                Cow::Borrowed(data.as_str())
            }
        };
        let body = serde_json::to_vec(&TriggerBody {
            name: event.as_str(),
            data: &data,
            channels: &channels,
            socket_id: socket_id.as_ref().map(SocketId::as_str),
            info,
        })
        .map_err(|e| ValidationError::Serialize(e.to_string()))?;
        let path = pusher.events_path();
        let reply = pusher.post(path, body, retry.as_ref()).await?;
        decode(&reply)
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
        let Checked {
            pusher,
            channels,
            event,
            data,
            socket_id,
            ..
        } = self.check()?;
        let mut queued = Vec::with_capacity(channels.len());
        let mut channels = channels.into_iter();
        // Checked: at least one. The others get copies; the last takes the originals.
        let last = channels.next_back();
        for channel in channels {
            queued.push(Queued {
                data: pusher.seal(&channel, data.clone())?,
                event: event.clone(),
                socket_id: socket_id.clone(),
                channel,
            });
        }
        if let Some(channel) = last {
            queued.push(Queued {
                data: pusher.seal(&channel, data)?,
                event,
                socket_id,
                channel,
            });
        }
        pusher.enqueue(queued)
    }
}

/// Event data in a Debug form: its length, never its content, which may be private
/// (plaintext meant for an encrypted channel, say).
struct DataLen<'a>(&'a Result<String, ValidationError>);

impl fmt::Debug for DataLen<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(data) => write!(f, "<{} bytes>", data.len()),
            Err(e) => f.debug_tuple("Err").field(e).finish(),
        }
    }
}

impl fmt::Debug for Trigger<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trigger")
            .field("pusher", self.pusher)
            .field("channels", &self.channels)
            .field("event", &self.event)
            .field("data", &DataLen(&self.data))
            .field("socket_id", &self.socket_id)
            .field("user_count", &self.user_count)
            .field("subscription_count", &self.subscription_count)
            .field("retry", &self.retry)
            .finish()
    }
}

impl fmt::Debug for BatchEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchEvent")
            .field("channel", &self.channel)
            .field("event", &self.event)
            .field("data", &DataLen(&self.data))
            .field("socket_id", &self.socket_id)
            .field("user_count", &self.user_count)
            .field("subscription_count", &self.subscription_count)
            .finish()
    }
}

/// A trigger's parts, checked.
struct Checked<'a> {
    pusher: &'a Pusher,
    channels: Vec<ChannelName>,
    event: EventName,
    data: String,
    socket_id: Option<SocketId>,
    info: Option<&'static str>,
    retry: Option<RetryPolicy>,
}

impl<'a> IntoFuture for Trigger<'a> {
    type Output = Result<TriggerResponse, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// One event of a batch trigger: one channel, one event name, its data.
#[derive(Clone)]
pub struct BatchEvent {
    channel: Result<ChannelName, ValidationError>,
    event: Result<EventName, ValidationError>,
    data: Result<String, ValidationError>,
    socket_id: Option<SocketId>,
    user_count: bool,
    subscription_count: bool,
}

impl BatchEvent {
    /// An event for a batch; `data` is encoded as for [`Pusher::trigger`]. Invalid names
    /// are reported when the batch is sent.
    pub fn new<D: Serialize + ?Sized>(channel: &str, event: &str, data: &D) -> Self {
        Self {
            channel: ChannelName::new(channel),
            event: EventName::new(event),
            data: encode_data(data),
            socket_id: None,
            user_count: false,
            subscription_count: false,
        }
    }

    /// Do not deliver this event to that connection.
    pub fn exclude(mut self, socket_id: impl Into<Option<SocketId>>) -> Self {
        self.socket_id = socket_id.into();
        self
    }

    /// Ask for the channel's `user_count` in the reply.
    pub fn with_user_count(mut self) -> Self {
        self.user_count = true;
        self
    }

    /// Ask for the channel's `subscription_count` in the reply.
    pub fn with_subscription_count(mut self) -> Self {
        self.subscription_count = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_pass_verbatim() {
        assert_eq!(encode_data("hello").unwrap(), "hello");
        assert_eq!(encode_data(&"{\"a\":1}".to_owned()).unwrap(), "{\"a\":1}");
        assert_eq!(
            encode_data(&serde_json::json!({"a": 1})).unwrap(),
            "{\"a\":1}"
        );
        assert_eq!(encode_data(&42).unwrap(), "42");
    }
}
