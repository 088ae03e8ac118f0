//! Validated names: channels, events, socket ids and user ids.
//!
//! Every constructor checks the rule Pusher's servers and official libraries enforce and
//! names the rule that failed, so a bad name is caught before a request is signed.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ValidationError;

/// The longest channel name accepted (200 characters, prefix included): what the official
/// libraries, Flask-Pusher and self-hosted servers such as sockudo accept.
///
/// Pusher's hosted service documents 164 ([`HOSTED_MAX_CHANNEL_NAME_LEN`]); the
/// `max_channel_name_len` key of the `pusher` configuration lowers the limit the client
/// and the routes apply.
pub const MAX_CHANNEL_NAME_LEN: usize = 200;
/// The longest channel name Pusher's hosted service accepts: a client whose API host is
/// `*.pusher.com` applies it to the channels its triggers name, whatever
/// `max_channel_name_len` says, so that a name the service would refuse is refused at the
/// trigger, before it is queued.
pub const HOSTED_MAX_CHANNEL_NAME_LEN: usize = 164;
/// The longest event name the official libraries accept.
pub const MAX_EVENT_NAME_LEN: usize = 200;
/// The longest user id accepted for user sign-in and `send_to_user` (Python's limit).
pub const MAX_USER_ID_LEN: usize = 200;
/// The longest presence `user_id` Pusher documents.
pub const MAX_PRESENCE_USER_ID_LEN: usize = 128;
/// The longest socket id accepted; real ones are two integers of about ten digits each.
pub const MAX_SOCKET_ID_LEN: usize = 64;

const SERVER_TO_USER_PREFIX: &str = "#server-to-user-";

/// Is `b` in the channel-name alphabet `A-Z a-z 0-9 - _ = @ , . ;`?
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'@' | b',' | b'.' | b';')
}

/// The first character of `s` outside the channel-name alphabet, if any.
fn first_illegal_char(s: &str) -> Option<char> {
    // Every byte before the first illegal one is ASCII, so it starts a character.
    let i = s.bytes().position(|b| !is_name_byte(b))?;
    s.get(i..)?.chars().next()
}

/// What a channel's name makes it: the prefix decides authorization and encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelKind {
    /// No prefix: anyone may subscribe, no authorization.
    Public,
    /// `private-`: needs a signed authorization.
    Private,
    /// `private-encrypted-`: private, and payloads are end-to-end encrypted.
    PrivateEncrypted,
    /// `presence-`: private, and members are announced with their `user_info`.
    Presence,
    /// `#server-to-user-<id>`: a signed-in user's own channel, only the server sends on it.
    ServerToUser,
}

impl ChannelKind {
    /// The kind of the channel called `name` (the name is not validated here).
    pub fn of(name: &str) -> Self {
        if name.starts_with("private-encrypted-") {
            Self::PrivateEncrypted
        } else if name.starts_with("private-") {
            Self::Private
        } else if name.starts_with("presence-") {
            Self::Presence
        } else if name.starts_with(SERVER_TO_USER_PREFIX) {
            Self::ServerToUser
        } else {
            Self::Public
        }
    }

    /// Whether subscribing needs an authorization from the app's auth endpoint.
    pub fn needs_authorization(self) -> bool {
        matches!(
            self,
            Self::Private | Self::PrivateEncrypted | Self::Presence
        )
    }
}

/// Check `name` against the channel-name rules without allocating.
///
/// Returns the channel's kind. `#server-to-user-` channels are refused here: they are
/// reserved and built only from a [`UserId`].
pub fn validate_channel_name(name: &str) -> Result<ChannelKind, ValidationError> {
    if name.is_empty() {
        return Err(ValidationError::EmptyChannelName);
    }
    if name.len() > MAX_CHANNEL_NAME_LEN {
        return Err(ValidationError::ChannelNameTooLong {
            len: name.len(),
            max: MAX_CHANNEL_NAME_LEN,
        });
    }
    if let Some(ch) = first_illegal_char(name) {
        return Err(ValidationError::ChannelNameCharacter { ch });
    }
    Ok(ChannelKind::of(name))
}

macro_rules! name_type_common {
    ($ty:ident) => {
        impl $ty {
            /// The name as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The name as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl std::str::FromStr for $ty {
            type Err = ValidationError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = ValidationError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = ValidationError;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A valid channel name: 1 to 200 characters from `A-Z a-z 0-9 - _ = @ , . ;`.
///
/// ```
/// use rocket_pusher::protocol::{ChannelKind, ChannelName};
///
/// let room = ChannelName::new("presence-room.42")?;
/// assert_eq!(room.kind(), ChannelKind::Presence);
/// assert!(ChannelName::new("private-a b").is_err());
/// # Ok::<(), rocket_pusher::error::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelName(String);

impl ChannelName {
    /// Validate `name` as a channel name.
    pub fn new(name: impl Into<String>) -> Result<Self, ValidationError> {
        Self::from_string(name.into()).map_err(|(_, e)| e)
    }

    /// [`new`](Self::new) keeping the string: it becomes the name, or comes back with the
    /// error.
    pub(crate) fn from_string(name: String) -> Result<Self, (String, ValidationError)> {
        match validate_channel_name(&name) {
            Ok(_) => Ok(Self(name)),
            Err(e) => Err((name, e)),
        }
    }

    /// The reserved channel on which the server sends to one signed-in user.
    pub fn server_to_user(user: &UserId) -> Self {
        Self(format!("{SERVER_TO_USER_PREFIX}{user}"))
    }

    /// What the name's prefix makes this channel.
    pub fn kind(&self) -> ChannelKind {
        ChannelKind::of(&self.0)
    }

    /// Whether this is a `private-encrypted-` channel.
    pub fn is_encrypted(&self) -> bool {
        self.kind() == ChannelKind::PrivateEncrypted
    }
}

name_type_common!(ChannelName);

/// A valid event name: 1 to 200 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventName(String);

impl EventName {
    /// Validate `name` as an event name.
    pub fn new(name: impl Into<String>) -> Result<Self, ValidationError> {
        let name = name.into();
        validate_event_name(&name)?;
        Ok(Self(name))
    }
}

name_type_common!(EventName);

/// Check `name` against the event-name rules without allocating.
pub fn validate_event_name(name: &str) -> Result<(), ValidationError> {
    if name.is_empty() {
        return Err(ValidationError::EmptyEventName);
    }
    if name.len() > MAX_EVENT_NAME_LEN {
        return Err(ValidationError::EventNameTooLong {
            len: name.len(),
            max: MAX_EVENT_NAME_LEN,
        });
    }
    Ok(())
}

/// A connection's socket id, as pusher-js sends it: two runs of ASCII digits joined by a
/// dot (`123.456`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(String);

impl SocketId {
    /// Validate `id` as a socket id.
    pub fn new(id: impl Into<String>) -> Result<Self, ValidationError> {
        let id = id.into();
        validate_socket_id(&id)?;
        Ok(Self(id))
    }
}

name_type_common!(SocketId);

/// Check `id` against the socket-id rule (`^[0-9]+\.[0-9]+$`) without allocating.
pub fn validate_socket_id(id: &str) -> Result<(), ValidationError> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = id.len() <= MAX_SOCKET_ID_LEN
        && id
            .split_once('.')
            .is_some_and(|(a, b)| digits(a) && digits(b));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::SocketId)
    }
}

/// A user id for user sign-in, `send_to_user` and terminating connections: 1 to 200
/// characters from the channel-name alphabet (it becomes part of a channel name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// Validate `id` as a user id.
    pub fn new(id: impl Into<String>) -> Result<Self, ValidationError> {
        let id = id.into();
        validate_user_id(&id)?;
        Ok(Self(id))
    }
}

name_type_common!(UserId);

/// Check `id` against the user-id rules without allocating.
pub fn validate_user_id(id: &str) -> Result<(), ValidationError> {
    if id.is_empty() {
        return Err(ValidationError::EmptyUserId);
    }
    if id.len() > MAX_USER_ID_LEN {
        return Err(ValidationError::UserIdTooLong {
            len: id.len(),
            max: MAX_USER_ID_LEN,
        });
    }
    if let Some(ch) = first_illegal_char(id) {
        return Err(ValidationError::UserIdCharacter { ch });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names() {
        assert_eq!(validate_channel_name("my-channel"), Ok(ChannelKind::Public));
        assert_eq!(
            validate_channel_name("private-a=b@c,d.e;f_g"),
            Ok(ChannelKind::Private)
        );
        assert_eq!(
            validate_channel_name("private-encrypted-x"),
            Ok(ChannelKind::PrivateEncrypted)
        );
        assert_eq!(
            validate_channel_name("presence-x"),
            Ok(ChannelKind::Presence)
        );
        assert_eq!(
            validate_channel_name(""),
            Err(ValidationError::EmptyChannelName)
        );
        assert_eq!(
            validate_channel_name("a b"),
            Err(ValidationError::ChannelNameCharacter { ch: ' ' })
        );
        assert_eq!(
            validate_channel_name("#server-to-user-1"),
            Err(ValidationError::ChannelNameCharacter { ch: '#' })
        );
        assert_eq!(
            validate_channel_name("caf\u{e9}"),
            Err(ValidationError::ChannelNameCharacter { ch: '\u{e9}' })
        );
        let long = "a".repeat(MAX_CHANNEL_NAME_LEN);
        assert!(validate_channel_name(&long).is_ok());
        assert_eq!(
            validate_channel_name(&format!("{long}a")),
            Err(ValidationError::ChannelNameTooLong { len: 201, max: 200 })
        );
    }

    #[test]
    fn socket_ids() {
        for ok in ["1.1", "123.456", "0.0"] {
            assert!(validate_socket_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", ".", "1.", ".1", "1", "1.2.3", "a.1", "1.1\n", "١.١", " 1.1", "1:1",
        ] {
            assert_eq!(
                validate_socket_id(bad),
                Err(ValidationError::SocketId),
                "{bad:?}"
            );
        }
        assert!(validate_socket_id(&format!("1.{}", "1".repeat(70))).is_err());
        assert!(validate_socket_id(&format!("1.{}", "1".repeat(MAX_SOCKET_ID_LEN - 2))).is_ok());
        assert!(validate_socket_id(&format!("1.{}", "1".repeat(MAX_SOCKET_ID_LEN - 1))).is_err());
        for bad in ["..", "1..1", "1.1.", ".1.1", "+1.1", "1.-1", "1.1 ", "1,1"] {
            assert_eq!(
                validate_socket_id(bad),
                Err(ValidationError::SocketId),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn user_ids_and_server_to_user() {
        let id = UserId::new("alice@example.com").unwrap();
        let ch = ChannelName::server_to_user(&id);
        assert_eq!(ch.as_str(), "#server-to-user-alice@example.com");
        assert_eq!(ch.kind(), ChannelKind::ServerToUser);
        assert_eq!(UserId::new(""), Err(ValidationError::EmptyUserId));
        assert_eq!(
            UserId::new("a:b"),
            Err(ValidationError::UserIdCharacter { ch: ':' })
        );
        assert!(UserId::new("x".repeat(201)).is_err());
    }

    #[test]
    fn event_names() {
        assert!(EventName::new("client-typing").is_ok());
        assert_eq!(EventName::new(""), Err(ValidationError::EmptyEventName));
        assert!(EventName::new("e".repeat(201)).is_err());
    }

    #[test]
    fn serde_validates() {
        let c: ChannelName = serde_json::from_str("\"private-x\"").unwrap();
        assert_eq!(c, "private-x");
        assert!(serde_json::from_str::<ChannelName>("\"a b\"").is_err());
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"private-x\"");
    }
}
