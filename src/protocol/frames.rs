//! The frames of the Pusher WebSocket protocol (version 7) as serde types: what a client
//! sends ([`ClientFrame`] and the `data` of each event) and what a server answers
//! ([`ServerFrame`] and its builders). Pure: no I/O, no sockets.
//!
//! ```
//! use rocket_pusher::protocol::frames::{ClientFrame, ServerFrame};
//!
//! let frame = ClientFrame::parse(r#"{"event":"pusher:subscribe","data":{"channel":"news","auth":""}}"#)?;
//! let sub = frame.subscribe()?;
//! assert_eq!(sub.channel, "news");
//! assert_eq!(
//!     ServerFrame::subscription_succeeded("news", "{}").to_json(),
//!     r#"{"event":"pusher_internal:subscription_succeeded","channel":"news","data":"{}"}"#,
//! );
//! # Ok::<(), rocket_pusher::protocol::frames::FrameError>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why an incoming frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// Not a JSON object with a string `event`.
    Malformed(String),
    /// The event's `data` lacks a field it needs, or has the wrong type.
    BadData {
        /// The event whose data is wrong.
        event: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(v0) => write!(f, "invalid message format: {v0}"),
            Self::BadData { event, reason } => write!(f, "invalid data for {event}: {reason}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// One frame a client sent: `{"event", "channel"?, "data"?}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ClientFrame {
    /// `pusher:subscribe`, `pusher:ping`, `client-…`
    pub event: String,
    /// The channel, for client events.
    #[serde(default)]
    pub channel: Option<String>,
    /// The event's data: an object for `pusher:*` events from pusher-js, anything for client
    /// events (or absent).
    #[serde(default)]
    pub data: Option<Value>,
}

/// The data of `pusher:subscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Subscribe {
    /// The channel.
    pub channel: String,
    /// `key:signature`, empty or absent for public channels.
    #[serde(default)]
    pub auth: Option<String>,
    /// A presence member's JSON, exactly as signed.
    #[serde(default)]
    pub channel_data: Option<String>,
}

/// The data of `pusher:unsubscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Unsubscribe {
    /// The channel.
    pub channel: String,
}

/// The data of `pusher:signin`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Signin {
    /// `key:signature` over `socket_id::user::user_data`.
    pub auth: String,
    /// The user's JSON, exactly as signed.
    pub user_data: String,
}

impl ClientFrame {
    /// Read one text frame.
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        serde_json::from_str(text).map_err(|e| FrameError::Malformed(e.to_string()))
    }

    /// The data of a `pusher:subscribe`.
    pub fn subscribe(&self) -> Result<Subscribe, FrameError> {
        self.data_as("pusher:subscribe")
    }

    /// The data of a `pusher:unsubscribe`.
    pub fn unsubscribe(&self) -> Result<Unsubscribe, FrameError> {
        self.data_as("pusher:unsubscribe")
    }

    /// The data of a `pusher:signin`.
    pub fn signin(&self) -> Result<Signin, FrameError> {
        self.data_as("pusher:signin")
    }

    /// A client event's data as the string subscribers receive: a string is kept as is,
    /// anything else is JSON-encoded once, absent data stays absent.
    pub fn data_string(&self) -> Option<String> {
        match &self.data {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        }
    }

    /// `data` as `T`: an object, or a JSON string holding one (some clients double-encode).
    fn data_as<T: for<'de> Deserialize<'de>>(&self, event: &'static str) -> Result<T, FrameError> {
        let bad = |reason: String| FrameError::BadData { event, reason };
        match &self.data {
            Some(Value::String(s)) => serde_json::from_str(s).map_err(|e| bad(e.to_string())),
            Some(v) => T::deserialize(v).map_err(|e| bad(e.to_string())),
            None => Err(bad("missing data".into())),
        }
    }
}

/// A frame's `data`: a string (most server frames), or a JSON object (`pusher:error`,
/// `pusher:signin_success`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FrameData<'a> {
    /// Sent as a JSON string.
    Text(&'a str),
    /// Sent as JSON.
    Json(Value),
}

/// One frame a server sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ServerFrame<'a> {
    /// The event name.
    pub event: &'a str,
    /// The channel, for channel events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<&'a str>,
    /// The data; absent for `pusher:cache_miss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<FrameData<'a>>,
    /// The sender's user id, on client events in presence channels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<&'a str>,
}

impl<'a> ServerFrame<'a> {
    /// A channel event: `data` is sent as a string, byte for byte.
    pub fn event(channel: &'a str, event: &'a str, data: Option<&'a str>) -> Self {
        Self {
            event,
            channel: Some(channel),
            data: data.map(FrameData::Text),
            user_id: None,
        }
    }

    /// `pusher_internal:subscription_succeeded`, with `data` `"{}"` or the presence state.
    pub fn subscription_succeeded(channel: &'a str, data: &'a str) -> Self {
        Self::event(
            channel,
            "pusher_internal:subscription_succeeded",
            Some(data),
        )
    }

    /// `pusher:cache_miss` for an empty cache channel.
    pub fn cache_miss(channel: &'a str) -> Self {
        Self::event(channel, "pusher:cache_miss", None)
    }

    /// `pusher:error`, with its code (`None` is sent as `null`, as the service does for
    /// refused subscriptions) and a message.
    pub fn error(code: Option<u16>, message: &str) -> Self {
        Self {
            event: "pusher:error",
            channel: None,
            data: Some(FrameData::Json(
                serde_json::json!({ "code": code, "message": message }),
            )),
            user_id: None,
        }
    }

    /// `pusher:signin_success`, echoing the user data string.
    pub fn signin_success(user_data: &str) -> Self {
        Self {
            event: "pusher:signin_success",
            channel: None,
            data: Some(FrameData::Json(
                serde_json::json!({ "user_data": user_data }),
            )),
            user_id: None,
        }
    }

    /// A frame without a channel and with string data (`pusher:pong`, `pusher:ping`).
    pub fn plain(event: &'a str, data: &'a str) -> Self {
        Self {
            event,
            channel: None,
            data: Some(FrameData::Text(data)),
            user_id: None,
        }
    }

    /// The frame as JSON text.
    pub fn to_json(&self) -> String {
        // A struct of strings and `Value`s always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The text of `pusher:connection_established`.
pub fn connection_established(socket_id: &str, activity_timeout: u64) -> String {
    let data = serde_json::json!({ "socket_id": socket_id, "activity_timeout": activity_timeout })
        .to_string();
    ServerFrame::plain("pusher:connection_established", &data).to_json()
}

/// A presence channel's state, the `data` of its `subscription_succeeded`:
/// `{"presence":{"ids":[…],"hash":{id: user_info},"count":n}}`. A member without
/// `user_info` gets `{}`.
pub fn presence_data<'m>(
    members: impl IntoIterator<Item = (&'m str, Option<&'m Value>)>,
) -> String {
    let mut ids = Vec::new();
    let mut hash = serde_json::Map::new();
    for (id, info) in members {
        ids.push(Value::String(id.to_owned()));
        hash.insert(
            id.to_owned(),
            info.cloned()
                .unwrap_or_else(|| Value::Object(Default::default())),
        );
    }
    let count = ids.len();
    serde_json::json!({ "presence": { "ids": ids, "hash": hash, "count": count } }).to_string()
}

/// The `data` of `pusher_internal:member_added`.
pub fn member_added_data(user_id: &str, user_info: Option<&Value>) -> String {
    match user_info {
        Some(info) => serde_json::json!({ "user_id": user_id, "user_info": info }),
        None => serde_json::json!({ "user_id": user_id }),
    }
    .to_string()
}

/// The `data` of `pusher_internal:member_removed`.
pub fn member_removed_data(user_id: &str) -> String {
    serde_json::json!({ "user_id": user_id }).to_string()
}

/// A presence member's `channel_data` (or a signed-in user's `user_data`): `user_id` (or
/// `id`), a string or a number (stringified, as the service accepts), and `user_info`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MemberData {
    /// The user id, as a string.
    pub user_id: String,
    /// The user's info, if any.
    pub user_info: Option<Value>,
}

/// Read a presence `channel_data` (`id_field` `user_id`) or a sign-in's `user_data` (`id`).
pub fn parse_member(json: &str, id_field: &str) -> Result<MemberData, String> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(mut map) = value else {
        return Err("not a JSON object".into());
    };
    let user_id = match map.remove(id_field) {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(format!("`{id_field}` must be a non-empty string")),
    };
    let user_info = map.remove("user_info").filter(|v| !v.is_null());
    Ok(MemberData { user_id, user_info })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_data_as_object_or_string() {
        let a =
            ClientFrame::parse(r#"{"event":"pusher:subscribe","data":{"channel":"a"}}"#).unwrap();
        let b = ClientFrame::parse(
            r#"{"event":"pusher:subscribe","data":"{\"channel\":\"a\",\"auth\":\"k:s\"}"}"#,
        )
        .unwrap();
        assert_eq!(a.subscribe().unwrap().channel, "a");
        assert_eq!(b.subscribe().unwrap().auth.as_deref(), Some("k:s"));
        let none = ClientFrame::parse(r#"{"event":"pusher:subscribe"}"#).unwrap();
        assert!(matches!(none.subscribe(), Err(FrameError::BadData { .. })));
        assert!(ClientFrame::parse("[1]").is_err());
        assert!(ClientFrame::parse(r#"{"data":1}"#).is_err());
    }

    #[test]
    fn server_frames_have_the_services_shapes() {
        assert_eq!(
            ServerFrame::error(None, "no").to_json(),
            r#"{"event":"pusher:error","data":{"code":null,"message":"no"}}"#
        );
        assert_eq!(
            ServerFrame::cache_miss("cache-a").to_json(),
            r#"{"event":"pusher:cache_miss","channel":"cache-a"}"#
        );
        let est: Value = serde_json::from_str(&connection_established("1.2", 120)).unwrap();
        let data: Value = serde_json::from_str(est["data"].as_str().unwrap()).unwrap();
        assert_eq!(data["activity_timeout"], 120);
        assert_eq!(data["socket_id"], "1.2");
        let mut f = ServerFrame::event("presence-a", "client-x", Some("{}"));
        f.user_id = Some("u1");
        assert_eq!(
            f.to_json(),
            r#"{"event":"client-x","channel":"presence-a","data":"{}","user_id":"u1"}"#
        );
    }

    #[test]
    fn members_take_numeric_ids_and_refuse_others() {
        assert_eq!(
            parse_member(r#"{"user_id":10}"#, "user_id")
                .unwrap()
                .user_id,
            "10"
        );
        let m = parse_member(r#"{"user_id":"u","user_info":{"n":1}}"#, "user_id").unwrap();
        assert_eq!(m.user_info, Some(serde_json::json!({"n":1})));
        for bad in [r#"{"user_id":""}"#, r#"{"user_id":[1]}"#, "[]", "x", "{}"] {
            assert!(parse_member(bad, "user_id").is_err(), "{bad}");
        }
        let p: Value = serde_json::from_str(&presence_data([("u1", None)])).unwrap();
        assert_eq!(p["presence"]["hash"]["u1"], serde_json::json!({}));
        assert_eq!(p["presence"]["count"], 1);
    }

    #[test]
    fn client_event_data_is_one_string() {
        let f = ClientFrame::parse(r#"{"event":"client-a","channel":"private-a","data":{"x":1}}"#)
            .unwrap();
        assert_eq!(f.data_string().as_deref(), Some(r#"{"x":1}"#));
        let f = ClientFrame::parse(r#"{"event":"client-a","data":"hi"}"#).unwrap();
        assert_eq!(f.data_string().as_deref(), Some("hi"));
        let f = ClientFrame::parse(r#"{"event":"client-a"}"#).unwrap();
        assert_eq!(f.data_string(), None);
    }
}
