//! Batch triggers: several events, one channel each, in one request.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::data::{DataLen, encode_data};
use super::{ChannelAttributes, info_param};
use crate::client::Pusher;
use crate::client::transport::decode;
use crate::error::{Error, ValidationError};
use crate::protocol::{ChannelName, EventName, SocketId};

/// The reply to a batch trigger: attributes per event, in request order, when any event
/// asked for `info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BatchResponse {
    /// One entry per event, aligned with the request; empty unless `info` was asked for.
    #[serde(default)]
    pub batch: Vec<ChannelAttributes>,
}

/// One entry of the batch endpoint's JSON body, for `trigger_batch` and the queue.
#[derive(Serialize)]
pub(crate) struct BatchItem<'a> {
    pub(crate) channel: &'a ChannelName,
    pub(crate) name: &'a str,
    pub(crate) data: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) socket_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) info: Option<&'static str>,
}

/// The batch endpoint's JSON body.
#[derive(Serialize)]
pub(crate) struct BatchBody<'a> {
    pub(crate) batch: Vec<BatchItem<'a>>,
}

impl Pusher {
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
            self.check_trigger_channel(channel)?;
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
    /// An event for a batch; `data` is encoded as for [`Pusher::trigger`](crate::Pusher::trigger). Invalid names
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
