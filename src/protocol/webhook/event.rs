//! [`Event`]: one webhook event by its `name`, read in one pass over its object, with
//! the events this version does not model kept whole.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ClientEvent;

/// One webhook event, by its `name`. Events this crate does not know yet are kept whole
/// in [`Event::Unknown`] rather than failing the webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A channel got its first subscriber.
    ChannelOccupied {
        /// The channel.
        channel: String,
    },
    /// A channel lost its last subscriber.
    ChannelVacated {
        /// The channel.
        channel: String,
    },
    /// A user joined a presence channel.
    MemberAdded {
        /// The presence channel.
        channel: String,
        /// The member's `user_id`.
        user_id: String,
    },
    /// A user left a presence channel.
    MemberRemoved {
        /// The presence channel.
        channel: String,
        /// The member's `user_id`.
        user_id: String,
    },
    /// A client subscribed to a cache channel that had no cached event.
    CacheMiss {
        /// The cache channel.
        channel: String,
    },
    /// The number of subscriptions of a channel changed.
    SubscriptionCount {
        /// The channel.
        channel: String,
        /// Connections subscribed now.
        subscription_count: u64,
    },
    /// A client sent a `client-` event.
    // Untagged: a `ClientEvent` writes its own `name`.
    #[serde(untagged)]
    ClientEvent(ClientEvent),
    /// An event this version does not model; the whole JSON object, `name` included.
    #[serde(untagged)]
    Unknown(Value),
}

impl Event {
    /// The event's `name` field.
    pub fn name(&self) -> &str {
        match self {
            Self::ChannelOccupied { .. } => "channel_occupied",
            Self::ChannelVacated { .. } => "channel_vacated",
            Self::MemberAdded { .. } => "member_added",
            Self::MemberRemoved { .. } => "member_removed",
            Self::ClientEvent(_) => "client_event",
            Self::CacheMiss { .. } => "cache_miss",
            Self::SubscriptionCount { .. } => "subscription_count",
            Self::Unknown(v) => v.get("name").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The channel the event is about, if it names one.
    pub fn channel(&self) -> Option<&str> {
        match self {
            Self::ChannelOccupied { channel }
            | Self::ChannelVacated { channel }
            | Self::MemberAdded { channel, .. }
            | Self::MemberRemoved { channel, .. }
            | Self::CacheMiss { channel }
            | Self::SubscriptionCount { channel, .. } => Some(channel),
            Self::ClientEvent(e) => Some(&e.channel),
            Self::Unknown(v) => v.get("channel").and_then(Value::as_str),
        }
    }
}

/// The keys of an event object: those the modelled events read, and the rest.
enum Key {
    Name,
    Channel,
    UserId,
    Event,
    Data,
    SocketId,
    SubscriptionCount,
    Other(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "name" => Key::Name,
                    "channel" => Key::Channel,
                    "user_id" => Key::UserId,
                    "event" => Key::Event,
                    "data" => Key::Data,
                    "socket_id" => Key::SocketId,
                    "subscription_count" => Key::SubscriptionCount,
                    other => Key::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(V)
    }
}

/// An event object read in one pass: the modelled fields as JSON values (no key is
/// allocated for them), the others only in case the event is one this version does not
/// model. A repeated key keeps its last value, as a JSON object does.
#[derive(Default)]
struct Fields {
    name: Option<Value>,
    channel: Option<Value>,
    user_id: Option<Value>,
    event: Option<Value>,
    data: Option<Value>,
    socket_id: Option<Value>,
    subscription_count: Option<Value>,
    others: Vec<(String, Value)>,
}

impl Fields {
    fn string<E: de::Error>(value: Option<Value>, field: &'static str) -> Result<String, E> {
        match value {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(invalid_type(&other, "a string")),
            None => Err(E::missing_field(field)),
        }
    }

    fn optional_string<E: de::Error>(value: Option<Value>) -> Result<Option<String>, E> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(invalid_type(&other, "a string")),
        }
    }

    /// Everything, `name` included, as the JSON object it came from.
    fn into_value(self, name: String) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("name".into(), Value::String(name));
        for (key, value) in [
            ("channel", self.channel),
            ("user_id", self.user_id),
            ("event", self.event),
            ("data", self.data),
            ("socket_id", self.socket_id),
            ("subscription_count", self.subscription_count),
        ] {
            if let Some(value) = value {
                map.insert(key.into(), value);
            }
        }
        map.extend(self.others);
        Value::Object(map)
    }
}

/// The error serde's derived code gives for a value of the wrong type.
fn invalid_type<E: de::Error>(value: &Value, expected: &'static str) -> E {
    let unexpected = match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => de::Unexpected::Unsigned(u),
            (_, Some(i), _) => de::Unexpected::Signed(i),
            (_, _, f) => de::Unexpected::Float(f.unwrap_or_default()),
        },
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    };
    E::invalid_type(unexpected, &expected)
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Event;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a webhook event object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
                let mut f = Fields::default();
                while let Some(key) = map.next_key::<Key>()? {
                    let value: Value = map.next_value()?;
                    match key {
                        Key::Name => f.name = Some(value),
                        Key::Channel => f.channel = Some(value),
                        Key::UserId => f.user_id = Some(value),
                        Key::Event => f.event = Some(value),
                        Key::Data => f.data = Some(value),
                        Key::SocketId => f.socket_id = Some(value),
                        Key::SubscriptionCount => f.subscription_count = Some(value),
                        Key::Other(key) => match f.others.iter_mut().find(|(k, _)| *k == key) {
                            Some(slot) => slot.1 = value,
                            None => f.others.push((key, value)),
                        },
                    }
                }
                let Some(Value::String(name)) = f.name.take() else {
                    return Err(de::Error::missing_field("name"));
                };
                let channel = |f: &mut Fields| Fields::string(f.channel.take(), "channel");
                Ok(match name.as_str() {
                    "channel_occupied" => Event::ChannelOccupied {
                        channel: channel(&mut f)?,
                    },
                    "channel_vacated" => Event::ChannelVacated {
                        channel: channel(&mut f)?,
                    },
                    "cache_miss" => Event::CacheMiss {
                        channel: channel(&mut f)?,
                    },
                    "member_added" | "member_removed" => {
                        let channel = channel(&mut f)?;
                        let user_id = Fields::string(f.user_id, "user_id")?;
                        if name == "member_added" {
                            Event::MemberAdded { channel, user_id }
                        } else {
                            Event::MemberRemoved { channel, user_id }
                        }
                    }
                    "subscription_count" => {
                        let channel = channel(&mut f)?;
                        let count = f
                            .subscription_count
                            .ok_or_else(|| de::Error::missing_field("subscription_count"))?;
                        Event::SubscriptionCount {
                            channel,
                            subscription_count: u64_or_string(count).map_err(de::Error::custom)?,
                        }
                    }
                    "client_event" => Event::ClientEvent(ClientEvent {
                        channel: channel(&mut f)?,
                        event: Fields::string(f.event, "event")?,
                        data: match f.data {
                            Some(Value::String(s)) => s,
                            Some(other) => other.to_string(),
                            None => return Err(de::Error::missing_field("data")),
                        },
                        socket_id: Fields::string(f.socket_id, "socket_id")?,
                        user_id: Fields::optional_string(f.user_id)?,
                    }),
                    _ => Event::Unknown(f.into_value(name)),
                })
            }
        }
        deserializer.deserialize_map(V)
    }
}
fn u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-negative integer or a string holding one")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom("negative count"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            if v >= 0.0 && v.fract() == 0.0 && v < 1.8e19 {
                Ok(v as u64)
            } else {
                Err(E::custom("count is not a whole number"))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom("count string is not a number"))
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::webhook::{PresenceEvent, Webhook, WebhookError, narrow_events};

    #[test]
    fn events_typed_with_fallback() {
        let body = br#"{"time_ms":5,"events":[
            {"name":"channel_occupied","channel":"a"},
            {"channel":"b","name":"member_added","user_id":"u"},
            {"name":"subscription_count","channel":"c","subscription_count":"7"},
            {"name":"subscription_count","channel":"c","subscription_count":8},
            {"name":"client_event","channel":"private-x","event":"client-hi","data":{"a":1},"socket_id":"1.2"},
            {"name":"client_event","channel":"presence-x","event":"client-hi","data":"{\"a\":1}","socket_id":"1.2","user_id":"u"},
            {"name":"member_updated","channel":"d","user_id":"u"}
        ]}"#;
        let w = Webhook::parse(body).unwrap();
        assert_eq!(w.time_ms, 5);
        assert_eq!(w.events.len(), 7);
        assert_eq!(
            w.events[0],
            Event::ChannelOccupied {
                channel: "a".into()
            }
        );
        assert!(matches!(
            &w.events[2],
            Event::SubscriptionCount {
                subscription_count: 7,
                ..
            }
        ));
        assert!(matches!(
            &w.events[3],
            Event::SubscriptionCount {
                subscription_count: 8,
                ..
            }
        ));
        let Event::ClientEvent(c) = &w.events[4] else {
            panic!()
        };
        assert_eq!(c.data, r#"{"a":1}"#);
        let Event::ClientEvent(c2) = &w.events[5] else {
            panic!()
        };
        assert_eq!(c2.data, c.data);
        assert_eq!(c2.user_id.as_deref(), Some("u"));
        assert_eq!(w.events[6].name(), "member_updated");
        assert_eq!(w.events[6].channel(), Some("d"));

        let (presence, others) = narrow_events::<PresenceEvent>(w.events);
        assert_eq!(presence.len(), 1);
        assert_eq!(presence[0].user_id(), "u");
        assert_eq!(presence[0].name(), "member_added");
        assert_eq!(others.len(), 6);
    }

    #[test]
    fn unknown_events_are_kept_whole() {
        let body = br#"{"time_ms":1,"events":[
            {"channel":"c","name":"new_kind","data":{"a":[1,2]},"extra":true,"extra":false,"user_id":7},
            {"name":"client_event","channel":"private-x","event":"client-a","data":null,"socket_id":"1.2","user_id":null}
        ]}"#;
        let w = Webhook::parse(body).unwrap();
        assert_eq!(
            w.events[0],
            Event::Unknown(serde_json::json!({
                "name": "new_kind", "channel": "c", "data": {"a": [1, 2]}, "extra": false, "user_id": 7
            }))
        );
        let Event::ClientEvent(c) = &w.events[1] else {
            panic!()
        };
        assert_eq!((c.data.as_str(), c.user_id.as_deref()), ("null", None));
        for bad in [
            &br#"{"time_ms":1,"events":[{"name":"channel_occupied","channel":1}]}"#[..],
            br#"{"time_ms":1,"events":[{"name":"client_event","channel":"c","event":"e","socket_id":"1.2"}]}"#,
            br#"{"time_ms":1,"events":[{"name":"subscription_count","channel":"c","subscription_count":-1}]}"#,
            br#"{"time_ms":1,"events":[["name"]]}"#,
            br#"{"time_ms":1,"events":[{"name":5,"channel":"c"}]}"#,
        ] {
            assert!(matches!(Webhook::parse(bad), Err(WebhookError::Shape(_))), "{bad:?}");
        }
    }
}
