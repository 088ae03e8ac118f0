//! The event families a route narrows a webhook to ([`PresenceEvent`],
//! [`ChannelExistenceEvent`], [`ClientEvent`]), and [`narrow_events`].

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};

use super::Event;

/// A `client_event`: a `client-` event a connection sent on a private or presence channel.
///
/// Its JSON is Pusher's, `name` included:
/// `{"name":"client_event","channel":"…","event":"client-…","data":"…","socket_id":"…"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "name", rename = "client_event")]
#[non_exhaustive]
pub struct ClientEvent {
    /// The channel it was sent on.
    pub channel: String,
    /// The event name (`client-…`).
    pub event: String,
    /// The data as the client sent it: Pusher delivers a JSON string; a server that sends
    /// a JSON value instead (sockudo does) has it re-encoded here, so this is always the
    /// JSON text.
    pub data: String,
    /// The sending connection.
    pub socket_id: String,
    /// The sender's `user_id`, on presence channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl ClientEvent {
    /// A client event as a webhook carries it: sent on `channel` as `event` by the
    /// connection `socket_id`, with `data` the JSON text the client sent. For an app's tests
    /// of its webhook routes; add the sender's presence `user_id` with
    /// [`with_user_id`](Self::with_user_id).
    pub fn new(
        channel: impl Into<String>,
        event: impl Into<String>,
        data: impl Into<String>,
        socket_id: impl Into<String>,
    ) -> Self {
        Self {
            channel: channel.into(),
            event: event.into(),
            data: data.into(),
            socket_id: socket_id.into(),
            user_id: None,
        }
    }

    /// The sender's `user_id`, as on presence channels.
    #[must_use]
    pub fn with_user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Parse [`data`](Self::data) as JSON into `T`.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.data)
    }
}

/// A presence webhook event, for `VerifiedWebhook<PresenceEvent>`.
///
/// Its JSON is Pusher's: `{"name":"member_added","channel":"presence-…","user_id":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PresenceEvent {
    /// `member_added`.
    MemberAdded {
        /// The presence channel.
        channel: String,
        /// The member's `user_id`.
        user_id: String,
    },
    /// `member_removed`.
    MemberRemoved {
        /// The presence channel.
        channel: String,
        /// The member's `user_id`.
        user_id: String,
    },
}

impl PresenceEvent {
    /// The event's `name`: `member_added` or `member_removed`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MemberAdded { .. } => "member_added",
            Self::MemberRemoved { .. } => "member_removed",
        }
    }

    /// The presence channel.
    pub fn channel(&self) -> &str {
        match self {
            Self::MemberAdded { channel, .. } | Self::MemberRemoved { channel, .. } => channel,
        }
    }

    /// The member's `user_id`.
    pub fn user_id(&self) -> &str {
        match self {
            Self::MemberAdded { user_id, .. } | Self::MemberRemoved { user_id, .. } => user_id,
        }
    }
}

/// A channel existence webhook event, for `VerifiedWebhook<ChannelExistenceEvent>`.
///
/// Its JSON is Pusher's: `{"name":"channel_occupied","channel":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "name")]
#[non_exhaustive]
pub enum ChannelExistenceEvent {
    /// `channel_occupied`.
    #[serde(rename = "channel_occupied")]
    Occupied {
        /// The channel.
        channel: String,
    },
    /// `channel_vacated`.
    #[serde(rename = "channel_vacated")]
    Vacated {
        /// The channel.
        channel: String,
    },
}

impl ChannelExistenceEvent {
    /// The event's `name`: `channel_occupied` or `channel_vacated`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Occupied { .. } => "channel_occupied",
            Self::Vacated { .. } => "channel_vacated",
        }
    }

    /// The channel.
    pub fn channel(&self) -> &str {
        match self {
            Self::Occupied { channel } | Self::Vacated { channel } => channel,
        }
    }
}

/// A type a webhook's events can be narrowed to: the whole [`Event`] enum, or one family.
pub trait WebhookEvent: Sized + Send + 'static {
    /// The event as `Self`, or back as it was when it belongs to another family.
    fn from_event(event: Event) -> Result<Self, Event>;
}

impl WebhookEvent for Event {
    fn from_event(event: Event) -> Result<Self, Event> {
        Ok(event)
    }
}

impl WebhookEvent for PresenceEvent {
    fn from_event(event: Event) -> Result<Self, Event> {
        match event {
            Event::MemberAdded { channel, user_id } => Ok(Self::MemberAdded { channel, user_id }),
            Event::MemberRemoved { channel, user_id } => {
                Ok(Self::MemberRemoved { channel, user_id })
            }
            other => Err(other),
        }
    }
}

impl WebhookEvent for ChannelExistenceEvent {
    fn from_event(event: Event) -> Result<Self, Event> {
        match event {
            Event::ChannelOccupied { channel } => Ok(Self::Occupied { channel }),
            Event::ChannelVacated { channel } => Ok(Self::Vacated { channel }),
            other => Err(other),
        }
    }
}

impl WebhookEvent for ClientEvent {
    fn from_event(event: Event) -> Result<Self, Event> {
        match event {
            Event::ClientEvent(e) => Ok(e),
            other => Err(other),
        }
    }
}

/// Split a webhook's events into those of family `T` and the rest, keeping order.
pub fn narrow_events<T: WebhookEvent>(events: Vec<Event>) -> (Vec<T>, Vec<Event>) {
    let mut wanted = Vec::with_capacity(events.len());
    let mut others = Vec::new();
    for e in events {
        match T::from_event(e) {
            Ok(t) => wanted.push(t),
            Err(e) => others.push(e),
        }
    }
    (wanted, others)
}
/// A family reads an event as [`Event`] does, and refuses the names of other families.
fn deserialize_family<'de, T: WebhookEvent, D: Deserializer<'de>>(
    deserializer: D,
    family: &'static str,
) -> Result<T, D::Error> {
    T::from_event(Event::deserialize(deserializer)?).map_err(|other| {
        de::Error::custom(format_args!("`{}` is not {family} event", other.name()))
    })
}

impl<'de> Deserialize<'de> for PresenceEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_family(deserializer, "a presence")
    }
}

impl<'de> Deserialize<'de> for ChannelExistenceEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_family(deserializer, "a channel existence")
    }
}

impl<'de> Deserialize<'de> for ClientEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_family(deserializer, "a client")
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_writes_its_name() {
        let client = ClientEvent::new("private-a", "client-x", "{}", "1.2");
        let want = serde_json::json!({
            "name": "client_event", "channel": "private-a", "event": "client-x",
            "data": "{}", "socket_id": "1.2"
        });
        assert_eq!(serde_json::to_value(&client).unwrap(), want);
        assert_eq!(
            serde_json::to_value(Event::ClientEvent(client.clone())).unwrap(),
            want
        );
        assert_eq!(serde_json::from_value::<ClientEvent>(want).unwrap(), client);
        let presence = PresenceEvent::MemberRemoved {
            channel: "presence-a".into(),
            user_id: "u".into(),
        };
        assert_eq!(
            serde_json::to_string(&presence).unwrap(),
            r#"{"name":"member_removed","channel":"presence-a","user_id":"u"}"#
        );
        let vacated = ChannelExistenceEvent::Vacated {
            channel: "a".into(),
        };
        assert_eq!(
            serde_json::to_string(&vacated).unwrap(),
            r#"{"name":"channel_vacated","channel":"a"}"#
        );
        // Each family reads only its own names.
        assert!(
            serde_json::from_str::<PresenceEvent>(r#"{"name":"channel_vacated","channel":"a"}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<ChannelExistenceEvent>(
                r#"{"name":"member_removed","channel":"a","user_id":"u"}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<ClientEvent>(
                r#"{"name":"member_added","channel":"a","event":"e","data":"","socket_id":"1.2"}"#
            )
            .is_err()
        );
    }
}
