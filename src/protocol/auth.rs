//! Channel authorization (user sign-in, signed the same way, is in `user_auth.rs`).
//!
//! * private: sign `socket_id:channel_name`;
//! * presence: sign `socket_id:channel_name:channel_data` and return that exact
//!   `channel_data` string (it is never re-serialized between signing and sending);
//! * private-encrypted: a private authorization plus the channel's `shared_secret`;
//!
//! Signatures are the lowercase hex HMAC-SHA256 of the message under the app secret, sent
//! as `key:signature`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::credentials::Token;
use super::encryption::MasterKey;
use super::hmac::{auth_value, verify_hex};
use super::names::{
    ChannelKind, ChannelName, MAX_PRESENCE_USER_ID_LEN, SocketId, validate_channel_name,
    validate_socket_id,
};
use crate::error::ValidationError;

/// The largest integer a JavaScript number holds exactly (2^53 - 1): the limit of a
/// numeric presence `user_id`.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// What the auth endpoint returns for one channel: `{"auth", "channel_data"?, "shared_secret"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelAuth {
    /// `key:signature`.
    pub auth: String,
    /// The presence member's JSON, exactly the string that was signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<String>,
    /// Base64 of the channel's key, for `private-encrypted-` channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_secret: Option<String>,
}

/// A presence channel member: `user_id` and optional `user_info`, shown to the other
/// members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceMember {
    /// The member's id, unique per user (Pusher allows at most 128 characters).
    pub user_id: String,
    /// Anything the other members should see (a name, an avatar URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_info: Option<Value>,
}

impl PresenceMember {
    /// A member with only an id.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            user_info: None,
        }
    }

    /// Attach `user_info`.
    ///
    /// Any `Serialize` value: a struct of the app's, or `json!({…})`. It is held as a JSON
    /// value (objects keep their keys in order). A value serde cannot turn into JSON (a map
    /// with non-string keys) is left out, with an error logged.
    pub fn with_info(mut self, info: impl Serialize) -> Self {
        self.user_info = info_value(info, "presence member");
        self
    }

    /// The `channel_data` string: compact JSON, `user_id` first.
    pub fn to_channel_data(&self) -> Result<String, ValidationError> {
        check_presence_user_id(&self.user_id)?;
        to_json(self)
    }
}

/// Compact JSON of `value`.
pub(super) fn to_json<T: Serialize>(value: &T) -> Result<String, ValidationError> {
    serde_json::to_string(value).map_err(|e| ValidationError::Serialize(e.to_string()))
}

/// A presence `user_id` string: non-empty, at most 128 bytes.
fn check_presence_user_id(id: &str) -> Result<(), ValidationError> {
    if id.is_empty() {
        return Err(ValidationError::EmptyUserId);
    }
    if id.len() > MAX_PRESENCE_USER_ID_LEN {
        return Err(ValidationError::UserIdTooLong {
            len: id.len(),
            max: MAX_PRESENCE_USER_ID_LEN,
        });
    }
    Ok(())
}

/// Authorize `socket_id` on a `private-` channel. `channel` must be one.
pub fn authorize_private(
    token: &Token,
    socket_id: &str,
    channel: &str,
) -> Result<ChannelAuth, ValidationError> {
    check(socket_id, channel, ChannelKind::Private)?;
    Ok(channel_auth(token, socket_id, channel, None, None))
}

/// Authorize `socket_id` on a `presence-` channel as `member`.
pub fn authorize_presence(
    token: &Token,
    socket_id: &str,
    channel: &str,
    member: &PresenceMember,
) -> Result<ChannelAuth, ValidationError> {
    check(socket_id, channel, ChannelKind::Presence)?;
    let data = member.to_channel_data()?;
    Ok(channel_auth(token, socket_id, channel, Some(data), None))
}

/// Authorize `socket_id` on a `presence-` channel with a `channel_data` string the caller
/// serialized; it is signed and returned byte for byte.
///
/// `channel_data` must be a JSON object whose `user_id` is a non-empty string of at most
/// 128 characters, or an integer of magnitude below 2^53 (the docs' example uses `10`).
pub fn authorize_presence_raw(
    token: &Token,
    socket_id: &str,
    channel: &str,
    channel_data: String,
) -> Result<ChannelAuth, ValidationError> {
    check(socket_id, channel, ChannelKind::Presence)?;
    #[derive(Deserialize)]
    struct RawMember {
        user_id: Value,
    }
    let parsed: RawMember = serde_json::from_str(&channel_data)
        .map_err(|_| ValidationError::UserData("channel_data must be an object with user_id"))?;
    match parsed.user_id {
        Value::String(id) => check_presence_user_id(&id)?,
        // The docs' own example and the official libraries accept a numeric id; pusher-js
        // reads it as a JS number, so it must be an integer JS represents exactly.
        Value::Number(n)
            if n.as_i64()
                .is_some_and(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER) => {}
        _ => {
            return Err(ValidationError::UserData(
                "channel_data user_id must be a string or an integer below 2^53",
            ));
        }
    }
    Ok(channel_auth(
        token,
        socket_id,
        channel,
        Some(channel_data),
        None,
    ))
}

/// Authorize `socket_id` on a `private-encrypted-` channel: a private authorization plus
/// the channel's shared secret derived from `master`.
pub fn authorize_encrypted(
    token: &Token,
    master: &MasterKey,
    socket_id: &str,
    channel: &str,
) -> Result<ChannelAuth, ValidationError> {
    check(socket_id, channel, ChannelKind::PrivateEncrypted)?;
    let shared_secret = master.shared_secret_base64(channel);
    Ok(channel_auth(
        token,
        socket_id,
        channel,
        None,
        Some(shared_secret),
    ))
}

/// Authorize any channel that needs it, choosing the form from its prefix.
///
/// `member` is required for presence channels and ignored otherwise; `master` is required
/// for encrypted channels. A public channel is an error: it needs no authorization.
pub fn authorize_channel(
    token: &Token,
    master: Option<&MasterKey>,
    socket_id: &str,
    channel: &str,
    member: Option<&PresenceMember>,
) -> Result<ChannelAuth, ValidationError> {
    // A bad channel is reported first, then what the kind needs, then a bad socket id.
    match validate_channel_name(channel)? {
        ChannelKind::Private => authorize_private(token, socket_id, channel),
        ChannelKind::Presence => {
            let member = member.ok_or(ValidationError::MissingPresenceMember)?;
            authorize_presence(token, socket_id, channel, member)
        }
        ChannelKind::PrivateEncrypted => {
            let master = master.ok_or(ValidationError::NoMasterKey)?;
            authorize_encrypted(token, master, socket_id, channel)
        }
        _ => Err(ValidationError::PublicChannel),
    }
}

/// [`authorize_channel`] for a socket id and channel their types already validated (the
/// auth routes check each once, when the form is parsed).
pub(crate) fn authorize_checked(
    token: &Token,
    master: Option<&MasterKey>,
    socket_id: &SocketId,
    channel: &ChannelName,
    member: Option<&PresenceMember>,
) -> Result<ChannelAuth, ValidationError> {
    let name = channel.as_str();
    let (data, shared_secret) = match channel.kind() {
        ChannelKind::Private => (None, None),
        ChannelKind::Presence => {
            let member = member.ok_or(ValidationError::MissingPresenceMember)?;
            (Some(member.to_channel_data()?), None)
        }
        ChannelKind::PrivateEncrypted => {
            let master = master.ok_or(ValidationError::NoMasterKey)?;
            (None, Some(master.shared_secret_base64(name)))
        }
        _ => return Err(ValidationError::PublicChannel),
    };
    Ok(channel_auth(
        token,
        socket_id.as_str(),
        name,
        data,
        shared_secret,
    ))
}

/// Check that a channel authorization was signed by `token` (constant time).
///
/// Useful in tests, and to check what another library produced.
pub fn verify_channel_auth(
    token: &Token,
    socket_id: &str,
    channel: &str,
    auth: &ChannelAuth,
) -> bool {
    signature_of(token, &auth.auth).is_some_and(|sig| {
        let message = channel_message(socket_id, channel, auth.channel_data.as_deref());
        verify_hex(&token.secret, &message, sig)
    })
}

/// The signature in a `key:signature` value, if the key is `token`'s.
pub(super) fn signature_of<'a>(token: &Token, auth: &'a str) -> Option<&'a str> {
    auth.strip_prefix(token.key.as_str())?.strip_prefix(':')
}

fn check(socket_id: &str, channel: &str, want: ChannelKind) -> Result<(), ValidationError> {
    validate_socket_id(socket_id)?;
    let kind = validate_channel_name(channel)?;
    if kind == want {
        Ok(())
    } else {
        Err(ValidationError::WrongChannelKind {
            expected: want,
            found: kind,
        })
    }
}

/// The signed message of a channel authorization, `socket_id:channel[:channel_data]`, in
/// pieces.
fn channel_message<'a>(
    socket_id: &'a str,
    channel: &'a str,
    data: Option<&'a str>,
) -> [&'a [u8]; 5] {
    let (colon, data): (&[u8], &str) = match data {
        Some(data) => (b":", data),
        None => (b"", ""),
    };
    [
        socket_id.as_bytes(),
        b":",
        channel.as_bytes(),
        colon,
        data.as_bytes(),
    ]
}

/// Sign and assemble a channel authorization; `channel_data` is signed as given.
fn channel_auth(
    token: &Token,
    socket_id: &str,
    channel: &str,
    channel_data: Option<String>,
    shared_secret: Option<String>,
) -> ChannelAuth {
    let message = channel_message(socket_id, channel, channel_data.as_deref());
    ChannelAuth {
        auth: auth_value(&token.key, &token.secret, &message),
        channel_data,
        shared_secret,
    }
}

/// `info` as JSON for a `user_info` field; `None`, logged, if serde cannot write it.
pub(super) fn info_value(info: impl Serialize, whose: &str) -> Option<Value> {
    serde_json::to_value(info)
        .inspect_err(|e| log::error!("pusher: the {whose}'s user_info is left out: {e}"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::UserData;
    use crate::protocol::test_support::{docs, docs_hmac};

    #[test]
    fn private_docs_vector() {
        let a = authorize_private(&docs(), "1234.1234", "private-foobar").unwrap();
        assert_eq!(
            a.auth,
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
        );
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            format!("{{\"auth\":\"{}\"}}", a.auth)
        );
        assert!(verify_channel_auth(
            &docs(),
            "1234.1234",
            "private-foobar",
            &a
        ));
        assert!(!verify_channel_auth(
            &docs(),
            "1234.1235",
            "private-foobar",
            &a
        ));
    }

    #[test]
    fn presence_signs_what_it_returns() {
        let m = PresenceMember::new("10").with_info(serde_json::json!({"name": "Mr. Pusher"}));
        let a = authorize_presence(&docs(), "1234.1234", "presence-foobar", &m).unwrap();
        assert_eq!(
            a.channel_data.as_deref(),
            Some(r#"{"user_id":"10","user_info":{"name":"Mr. Pusher"}}"#)
        );
        assert_eq!(
            a.auth,
            "278d425bdf160c739803:48dac51d2d7569e1e9c0f48c227d4b26f238fa68e5c0bb04222c966909c4f7c4"
        );
        assert!(verify_channel_auth(
            &docs(),
            "1234.1234",
            "presence-foobar",
            &a
        ));
    }

    #[test]
    fn kinds_are_checked() {
        let t = docs();
        assert!(matches!(
            authorize_private(&t, "1.1", "presence-x"),
            Err(ValidationError::WrongChannelKind { .. })
        ));
        assert_eq!(
            authorize_channel(&t, None, "1.1", "public", None),
            Err(ValidationError::PublicChannel)
        );
        assert_eq!(
            authorize_channel(&t, None, "1.1", "private-encrypted-x", None),
            Err(ValidationError::NoMasterKey)
        );
        assert_eq!(
            authorize_channel(&t, None, "1.1", "presence-x", None),
            Err(ValidationError::MissingPresenceMember)
        );
        assert_eq!(
            authorize_private(&t, "1.1:x", "private-x"),
            Err(ValidationError::SocketId)
        );
    }

    #[test]
    fn member_json_is_compact_with_user_id_first_and_signed_as_sent() {
        let cases = [
            (PresenceMember::new("alice"), r#"{"user_id":"alice"}"#),
            (
                PresenceMember::new("say \"hi\"\n")
                    .with_info(serde_json::json!({"b": 1, "a": [true, null]})),
                r#"{"user_id":"say \"hi\"\n","user_info":{"a":[true,null],"b":1}}"#,
            ),
        ];
        for (member, want) in cases {
            assert_eq!(member.to_channel_data().unwrap(), want);
            let a = authorize_presence(&docs(), "1.1", "presence-x", &member).unwrap();
            assert_eq!(a.channel_data.as_deref(), Some(want));
            assert_eq!(
                a.auth,
                format!(
                    "278d425bdf160c739803:{}",
                    docs_hmac(&format!("1.1:presence-x:{want}"))
                )
            );
        }
        assert_eq!(
            PresenceMember::new("").to_channel_data(),
            Err(ValidationError::EmptyUserId)
        );
        assert!(matches!(
            PresenceMember::new("x".repeat(129)).to_channel_data(),
            Err(ValidationError::UserIdTooLong { len: 129, max: 128 })
        ));
    }

    #[test]
    fn checked_types_authorize_as_their_strings_do() {
        let master = MasterKey::from_bytes([7; 32]);
        let member = PresenceMember::new("alice");
        let socket = SocketId::new("1.1").unwrap();
        for name in ["private-x", "presence-x", "private-encrypted-x", "public-x"] {
            let channel = ChannelName::new(name).unwrap();
            for (master, member) in [(None, None), (Some(&master), Some(&member))] {
                assert_eq!(
                    authorize_checked(&docs(), master, &socket, &channel, member),
                    authorize_channel(&docs(), master, "1.1", name, member),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn authorize_channel_matches_the_specific_functions() {
        let t = docs();
        let master = MasterKey::from_bytes([7; 32]);
        let m = PresenceMember::new("alice");
        for socket in ["1.1", "bad"] {
            assert_eq!(
                authorize_channel(&t, None, socket, "private-x", None),
                authorize_private(&t, socket, "private-x")
            );
            assert_eq!(
                authorize_channel(&t, None, socket, "presence-x", Some(&m)),
                authorize_presence(&t, socket, "presence-x", &m)
            );
            assert_eq!(
                authorize_channel(&t, Some(&master), socket, "private-encrypted-x", None),
                authorize_encrypted(&t, &master, socket, "private-encrypted-x")
            );
        }
        // A bad channel is reported before a bad socket id, a missing member or key before
        // a bad socket id, and a bad socket id before a bad member.
        assert_eq!(
            authorize_channel(&t, None, "bad", "private-a b", None),
            Err(ValidationError::ChannelNameCharacter { ch: ' ' })
        );
        assert_eq!(
            authorize_channel(&t, None, "bad", "presence-x", None),
            Err(ValidationError::MissingPresenceMember)
        );
        assert_eq!(
            authorize_channel(&t, None, "bad", "private-encrypted-x", None),
            Err(ValidationError::NoMasterKey)
        );
        assert_eq!(
            authorize_channel(
                &t,
                None,
                "bad",
                "presence-x",
                Some(&PresenceMember::new(""))
            ),
            Err(ValidationError::SocketId)
        );
    }

    #[test]
    fn info_takes_any_serialize() {
        #[derive(Serialize)]
        struct Profile {
            name: &'static str,
            admin: bool,
        }
        let profile = Profile {
            name: "Ann",
            admin: false,
        };
        let member = PresenceMember::new("7").with_info(&profile);
        // Held as a JSON value, whose objects keep their keys in order.
        assert_eq!(
            member.to_channel_data().unwrap(),
            r#"{"user_id":"7","user_info":{"admin":false,"name":"Ann"}}"#
        );
        let user = UserData::new("7").with_info(profile);
        assert_eq!(
            user.user_info,
            Some(serde_json::json!({"name": "Ann", "admin": false}))
        );
        // A value serde cannot write as JSON is left out rather than sent half-made.
        let bad: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert_eq!(PresenceMember::new("7").with_info(bad).user_info, None);
    }
}
