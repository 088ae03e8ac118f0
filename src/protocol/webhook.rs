//! Webhooks: signature verification over the raw body, and the typed events.
//!
//! Pusher signs the exact body bytes with HMAC-SHA256 and sends the key in `X-Pusher-Key`
//! and the lowercase hex signature in `X-Pusher-Signature`. Verification must run on the
//! raw bytes, before any parsing: a re-serialized body never matches.
//!
//! Every event type serializes to the JSON object Pusher sends, so an app can log or
//! forward what it received as is.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::credentials::Token;
use super::hmac::verify_hex;

/// Why a webhook was refused: its key or signature, its JSON, or its age. No variant carries
/// a secret or the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// No `X-Pusher-Key` header.
    #[error("missing X-Pusher-Key header")]
    MissingKey,
    /// The key is not one of the configured tokens.
    #[error("unknown X-Pusher-Key")]
    UnknownKey,
    /// No `X-Pusher-Signature` header.
    #[error("missing X-Pusher-Signature header")]
    MissingSignature,
    /// The signature is not the HMAC of the body under the key's secret (or not hex).
    #[error("invalid X-Pusher-Signature")]
    BadSignature,
    /// Signed correctly, but not JSON.
    #[error("webhook body is not JSON: {0}")]
    Syntax(String),
    /// Signed JSON, but not a Pusher webhook (`time_ms` and `events` missing or mistyped).
    #[error("webhook body is not a Pusher webhook: {0}")]
    Shape(String),
    /// `time_ms` is outside the configured freshness window.
    #[error("webhook time_ms is {age_ms} ms away from now, outside the {window_ms} ms window")]
    Stale {
        /// How far `time_ms` is from the local clock.
        age_ms: u64,
        /// The window.
        window_ms: u64,
    },
}

/// Check a webhook's key and signature against the raw `body` bytes.
///
/// `tokens` are every key/secret pair the app accepts (more than one while a key is
/// rotated); the one whose key matches `X-Pusher-Key` must have signed the body. The MAC
/// is compared in constant time. Returns the token that signed.
///
/// ```
/// use rocket_pusher::protocol::{verify_webhook, Token};
///
/// let tokens = [Token::new("key", "secret")];
/// let body = br#"{"time_ms":1327078148132,"events":[{"name":"event_name","some":"data"}]}"#;
/// let sig = "05a115b7898e4956cf46df2dd2822b3b913a4255343acd82d31609f222765c6a";
/// assert!(verify_webhook(&tokens, Some("key"), Some(sig), body).is_ok());
/// assert!(verify_webhook(&tokens, Some("key"), Some(sig), b"{}").is_err());
/// ```
pub fn verify_webhook<'t>(
    tokens: &'t [Token],
    key: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<&'t Token, WebhookError> {
    let key = key.ok_or(WebhookError::MissingKey)?;
    let token = tokens
        .iter()
        .find(|t| t.key == key)
        .ok_or(WebhookError::UnknownKey)?;
    let signature = signature.ok_or(WebhookError::MissingSignature)?;
    if verify_hex(&token.secret, &[body], signature.trim()) {
        Ok(token)
    } else {
        Err(WebhookError::BadSignature)
    }
}

/// Lowercase hex signature of a webhook body, as Pusher computes it. For tests and for
/// forwarding webhooks between services.
pub fn sign_webhook(token: &Token, body: &[u8]) -> String {
    super::hmac::sign_hex(&token.secret, &[body])
}

/// Refuse a webhook whose `time_ms` is more than `window_ms` away from `now_ms`.
///
/// Pusher's webhooks carry no signed nonce, so a captured one can be replayed; a window
/// (Python's library uses 300 s) bounds that. Webhooks retried by Pusher for up to five
/// minutes keep their original `time_ms`, so a window shorter than that refuses retries.
pub fn check_freshness(time_ms: u64, now_ms: u64, window_ms: u64) -> Result<(), WebhookError> {
    let age_ms = now_ms.abs_diff(time_ms);
    if age_ms > window_ms {
        Err(WebhookError::Stale { age_ms, window_ms })
    } else {
        Ok(())
    }
}

/// A webhook body: `{"time_ms", "events": [..]}`, with events of type `E`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook<E = Event> {
    /// When Pusher created the webhook, Unix milliseconds.
    pub time_ms: u64,
    /// The events; more than one when batch webhooks are enabled.
    pub events: Vec<E>,
}

impl Webhook<Event> {
    /// Parse a (verified) body, telling a JSON syntax error from a wrong shape.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        // One UTF-8 check of the whole body (a word at a time while it is ASCII) instead of
        // one per string as `from_slice` does: a webhook is mostly short strings.
        let text = std::str::from_utf8(body)
            .map_err(|e| WebhookError::Syntax(format!("body is not UTF-8: {e}")))?;
        serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => WebhookError::Shape(e.to_string()),
            _ => WebhookError::Syntax(e.to_string()),
        })
    }
}

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
    fn verify_cases() {
        let tokens = [Token::new("old", "s1"), Token::new("new", "s2")];
        let body = b"{\"time_ms\":1,\"events\":[]}";
        let sig_new = sign_webhook(&tokens[1], body);
        assert_eq!(
            verify_webhook(&tokens, Some("new"), Some(&sig_new), body).map(|t| t.key.as_str()),
            Ok("new")
        );
        assert_eq!(
            verify_webhook(&tokens, Some("new"), Some(&sig_new.to_uppercase()), body)
                .map(|t| t.key.as_str()),
            Ok("new")
        );
        assert_eq!(
            verify_webhook(&tokens, Some("old"), Some(&sig_new), body),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_webhook(&tokens, None, Some(&sig_new), body),
            Err(WebhookError::MissingKey)
        );
        assert_eq!(
            verify_webhook(&tokens, Some("x"), Some(&sig_new), body),
            Err(WebhookError::UnknownKey)
        );
        assert_eq!(
            verify_webhook(&tokens, Some("new"), None, body),
            Err(WebhookError::MissingSignature)
        );
        for bad in ["", "zz", "abc", &sig_new[..62]] {
            assert_eq!(
                verify_webhook(&tokens, Some("new"), Some(bad), body),
                Err(WebhookError::BadSignature)
            );
        }
    }

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

    #[test]
    fn parse_errors() {
        assert!(matches!(
            Webhook::parse(b"nope"),
            Err(WebhookError::Syntax(_))
        ));
        assert!(matches!(
            Webhook::parse(b"{\"events\":[]}"),
            Err(WebhookError::Shape(_))
        ));
        assert!(matches!(
            Webhook::parse(br#"{"time_ms":1,"events":[{"name":"member_added","channel":"a"}]}"#),
            Err(WebhookError::Shape(_))
        ));
        assert!(matches!(
            Webhook::parse(br#"{"time_ms":1,"events":[{"channel":"a"}]}"#),
            Err(WebhookError::Shape(_))
        ));
    }

    #[test]
    fn freshness() {
        assert!(check_freshness(1_000, 2_000, 1_000).is_ok());
        assert_eq!(
            check_freshness(1_000, 2_001, 1_000),
            Err(WebhookError::Stale {
                age_ms: 1001,
                window_ms: 1000
            })
        );
        assert!(check_freshness(3_000, 2_000, 1_000).is_ok());
    }
}
