//! Channel authorization (protocol §5) and user sign-in (§6).
//!
//! * private: sign `socket_id:channel_name`;
//! * presence: sign `socket_id:channel_name:channel_data` and return that exact
//!   `channel_data` string (it is never re-serialized between signing and sending);
//! * private-encrypted: a private authorization plus the channel's `shared_secret`;
//! * user sign-in: sign `socket_id::user::user_data`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::credentials::Token;
use super::encryption::MasterKey;
use super::hmac::{auth_value, push_sign_hex, verify_hex};
use super::json;
use super::names::{
    ChannelKind, ChannelName, MAX_PRESENCE_USER_ID_LEN, SocketId, validate_channel_name,
    validate_socket_id, validate_user_id,
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
    pub fn with_info(mut self, info: impl Into<Value>) -> Self {
        self.user_info = Some(info.into());
        self
    }

    /// The `channel_data` string: compact JSON, `user_id` first.
    pub fn to_channel_data(&self) -> Result<String, ValidationError> {
        check_presence_user_id(&self.user_id)?;
        let mut out = String::with_capacity(self.channel_data_len());
        self.write_channel_data(&mut out);
        Ok(out)
    }

    /// Room for [`write_channel_data`](Self::write_channel_data): exact unless a string
    /// needs escaping.
    fn channel_data_len(&self) -> usize {
        const FIXED: usize = r#"{"user_id":""}"#.len();
        const INFO: usize = r#","user_info":"#.len();
        FIXED
            + self.user_id.len()
            + self
                .user_info
                .as_ref()
                .map_or(0, |v| INFO + json::value_len(v))
    }

    /// Append what `serde_json::to_string(self)` writes.
    fn write_channel_data(&self, out: &mut String) {
        out.push_str(r#"{"user_id":""#);
        json::push_str_body(out, &self.user_id);
        match &self.user_info {
            Some(info) => {
                out.push_str(r#"","user_info":"#);
                json::push_value(out, info);
                out.push('}');
            }
            None => out.push_str("\"}"),
        }
    }
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
    presence_auth(token, socket_id, channel, member)
}

/// [`authorize_presence`] once the socket id and channel are known to be valid.
// Inlined into both callers: a call would cost `authorize_presence` a copy of the result.
#[inline(always)]
fn presence_auth(
    token: &Token,
    socket_id: &str,
    channel: &str,
    member: &PresenceMember,
) -> Result<ChannelAuth, ValidationError> {
    check_presence_user_id(&member.user_id)?;
    // The signed message `socket_id:channel:channel_data` is written whole and hashed in
    // one piece, then its prefix is dropped (moving the JSON down in place; the prefix's
    // room stays as spare capacity) to leave the `channel_data` string.
    let prefix = socket_id.len() + 1 + channel.len() + 1;
    let mut data = String::with_capacity(prefix + member.channel_data_len());
    data.push_str(socket_id);
    data.push(':');
    data.push_str(channel);
    data.push(':');
    member.write_channel_data(&mut data);
    let auth = auth_value(&token.key, &token.secret, &[data.as_bytes()]);
    data.drain(..prefix);
    Ok(ChannelAuth {
        auth,
        channel_data: Some(data),
        shared_secret: None,
    })
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
    Ok(encrypted_auth(token, master, socket_id, channel))
}

/// [`authorize_encrypted`] once the socket id and channel are known to be valid.
fn encrypted_auth(
    token: &Token,
    master: &MasterKey,
    socket_id: &str,
    channel: &str,
) -> ChannelAuth {
    let shared_secret = master.shared_secret_base64(channel);
    channel_auth(token, socket_id, channel, None, Some(shared_secret))
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
    // The channel is validated once, here; the socket id after the kind's own checks, in
    // the order the `authorize_*` functions report errors.
    let kind = validate_channel_name(channel)?;
    authorize_kind(token, master, socket_id, channel, kind, member, || {
        validate_socket_id(socket_id)
    })
}

/// The one dispatch on a channel's kind, for [`authorize_channel`] and
/// [`authorize_checked`]: `check_socket` runs after the kind's own requirements.
fn authorize_kind(
    token: &Token,
    master: Option<&MasterKey>,
    socket_id: &str,
    channel: &str,
    kind: ChannelKind,
    member: Option<&PresenceMember>,
    check_socket: impl FnOnce() -> Result<(), ValidationError>,
) -> Result<ChannelAuth, ValidationError> {
    match kind {
        ChannelKind::Private => {
            check_socket()?;
            Ok(channel_auth(token, socket_id, channel, None, None))
        }
        ChannelKind::Presence => {
            let member = member.ok_or(ValidationError::MissingPresenceMember)?;
            check_socket()?;
            presence_auth(token, socket_id, channel, member)
        }
        ChannelKind::PrivateEncrypted => {
            let master = master.ok_or(ValidationError::NoMasterKey)?;
            check_socket()?;
            Ok(encrypted_auth(token, master, socket_id, channel))
        }
        _ => Err(ValidationError::PublicChannel),
    }
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
    let Some(sig) = auth
        .auth
        .strip_prefix(token.key.as_str())
        .and_then(|s| s.strip_prefix(':'))
    else {
        return false;
    };
    let mut parts: Vec<&[u8]> = vec![socket_id.as_bytes(), b":", channel.as_bytes()];
    if let Some(data) = &auth.channel_data {
        parts.push(b":");
        parts.push(data.as_bytes());
    }
    verify_hex(&token.secret, &parts, sig)
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

/// Authorize a channel whose name and socket id were validated when they were parsed
/// (the auth routes check each once, not again here). The channel's kind picks the form;
/// `member` is the presence member, `master` the key of encrypted channels.
pub(crate) fn authorize_checked(
    token: &Token,
    master: Option<&MasterKey>,
    socket_id: &SocketId,
    channel: &ChannelName,
    member: Option<&PresenceMember>,
) -> Result<ChannelAuth, ValidationError> {
    authorize_kind(
        token,
        master,
        socket_id.as_str(),
        channel.as_str(),
        channel.kind(),
        member,
        || Ok(()),
    )
}

/// [`authorize_checked`], appending the authorization's JSON (what
/// [`ChannelAuth::write_json`] writes) to `out`; nothing is written on an error.
///
/// A private channel's `{"auth": "key:signature"}` is written in place: a batch answer
/// signs many, and building each as a [`ChannelAuth`] first cost a string apiece.
pub(crate) fn write_authorized_json(
    token: &Token,
    master: Option<&MasterKey>,
    socket_id: &SocketId,
    channel: &ChannelName,
    member: Option<&PresenceMember>,
    out: &mut String,
) -> Result<(), ValidationError> {
    if channel.kind() != ChannelKind::Private {
        authorize_checked(token, master, socket_id, channel, member)?.write_json(out);
        return Ok(());
    }
    out.push_str(r#"{"auth":""#);
    // The key is the app's own, so it is escaped as `write_json` would; hex needs none.
    json::push_str_body(out, &token.key);
    out.push(':');
    push_sign_hex(
        out,
        &token.secret,
        &[
            socket_id.as_str().as_bytes(),
            b":",
            channel.as_str().as_bytes(),
        ],
    );
    out.push_str("\"}");
    Ok(())
}

/// Sign and assemble a channel authorization; `channel_data` is signed as given.
fn channel_auth(
    token: &Token,
    socket_id: &str,
    channel: &str,
    channel_data: Option<String>,
    shared_secret: Option<String>,
) -> ChannelAuth {
    ChannelAuth {
        auth: sign_channel(token, socket_id, channel, channel_data.as_deref()),
        channel_data,
        shared_secret,
    }
}

fn sign_channel(token: &Token, socket_id: &str, channel: &str, data: Option<&str>) -> String {
    let secret = &token.secret;
    match data {
        None => auth_value(
            &token.key,
            secret,
            &[socket_id.as_bytes(), b":", channel.as_bytes()],
        ),
        Some(d) => auth_value(
            &token.key,
            secret,
            &[
                socket_id.as_bytes(),
                b":",
                channel.as_bytes(),
                b":",
                d.as_bytes(),
            ],
        ),
    }
}

/// The user a connection signs in as (pusher-js `signin()`): `id` is required, `user_info`
/// is shared with presence channels, `watchlist` names users whose online state to follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserData {
    /// The user's id (1 to 200 characters, channel-name alphabet).
    pub id: String,
    /// Information about the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_info: Option<Value>,
    /// Ids of users whose online/offline events this user receives (at most 100 are used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchlist: Option<Vec<String>>,
}

impl UserData {
    /// A user with only an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            user_info: None,
            watchlist: None,
        }
    }

    /// Attach `user_info`.
    pub fn with_info(mut self, info: impl Into<Value>) -> Self {
        self.user_info = Some(info.into());
        self
    }

    /// Attach a watchlist.
    pub fn with_watchlist<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.watchlist = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Room for [`write_user_data`](Self::write_user_data): exact unless a string needs
    /// escaping.
    fn user_data_len(&self) -> usize {
        const FIXED: usize = r#"{"id":""}"#.len();
        const INFO: usize = r#","user_info":"#.len();
        const WATCHLIST: usize = r#","watchlist":[]"#.len();
        FIXED
            + self.id.len()
            + self
                .user_info
                .as_ref()
                .map_or(0, |v| INFO + json::value_len(v))
            + self.watchlist.as_ref().map_or(0, |ids| {
                WATCHLIST + ids.iter().map(|id| json::str_len(id) + 1).sum::<usize>()
                    - usize::from(!ids.is_empty())
            })
    }

    /// Append what `serde_json::to_string(self)` writes.
    fn write_user_data(&self, out: &mut String) {
        out.push_str(r#"{"id":"#);
        json::push_str(out, &self.id);
        if let Some(info) = &self.user_info {
            out.push_str(r#","user_info":"#);
            json::push_value(out, info);
        }
        if let Some(ids) = &self.watchlist {
            out.push_str(r#","watchlist":["#);
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::push_str(out, id);
            }
            out.push(']');
        }
        out.push('}');
    }
}

/// What the user-auth endpoint returns: `{"auth", "user_data"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAuth {
    /// `key:signature`.
    pub auth: String,
    /// The user's JSON, exactly the string that was signed.
    pub user_data: String,
}

/// Sign in `socket_id` as `user`.
pub fn authenticate_user(
    token: &Token,
    socket_id: &str,
    user: &UserData,
) -> Result<UserAuth, ValidationError> {
    validate_socket_id(socket_id)?;
    validate_user_id(&user.id)?;
    // `socket_id::user::user_data` is written whole and hashed in one piece, then the
    // prefix is dropped (in place) to leave the `user_data` string.
    const USER: &str = "::user::";
    let prefix = socket_id.len() + USER.len();
    let mut user_data = String::with_capacity(prefix + user.user_data_len());
    user_data.push_str(socket_id);
    user_data.push_str(USER);
    user.write_user_data(&mut user_data);
    let auth = auth_value(&token.key, &token.secret, &[user_data.as_bytes()]);
    user_data.drain(..prefix);
    Ok(UserAuth { auth, user_data })
}

/// Check that a user authentication was signed by `token` (constant time).
pub fn verify_user_auth(token: &Token, socket_id: &str, auth: &UserAuth) -> bool {
    let Some(sig) = auth
        .auth
        .strip_prefix(token.key.as_str())
        .and_then(|s| s.strip_prefix(':'))
    else {
        return false;
    };
    verify_hex(
        &token.secret,
        &[socket_id.as_bytes(), b"::user::", auth.user_data.as_bytes()],
        sig,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs() -> Token {
        Token::new("278d425bdf160c739803", "7ad3773142a6692b25b8")
    }

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
    fn user_signin_docs_vector() {
        let a = authenticate_user(&docs(), "1234.1234", &UserData::new("12345")).unwrap();
        assert_eq!(a.user_data, r#"{"id":"12345"}"#);
        assert_eq!(
            a.auth,
            "278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"
        );
        assert!(verify_user_auth(&docs(), "1234.1234", &a));
        assert_eq!(
            authenticate_user(&docs(), "1.1", &UserData::new("")),
            Err(ValidationError::EmptyUserId)
        );
    }

    #[test]
    fn member_json_is_what_serde_json_writes() {
        for id in [
            "alice",
            "10",
            "say \"hi\"",
            "back\\slash",
            "line\nbreak\ttab\u{0}\u{1f}\u{7f}",
            "caf\u{e9} \u{1f600} \u{2028}",
            "</script>",
        ] {
            for info in [
                None,
                Some(Value::Null),
                Some(serde_json::json!({"name": id, "n": [1, -2, 3.5, true, null], "o": {}})),
                Some(serde_json::json!("just a string")),
                Some(serde_json::json!([])),
            ] {
                let member = PresenceMember {
                    user_id: id.to_owned(),
                    user_info: info,
                };
                let want = serde_json::to_string(&member).unwrap();
                let got = member.to_channel_data().unwrap();
                assert_eq!(got, want);
                // Sized up front: no regrowth when nothing needs escaping.
                if !want.contains('\\') && !want.contains(|c: char| c.is_ascii_digit()) {
                    assert_eq!(got.capacity(), got.len(), "{got}");
                }
                let a = authorize_presence(&docs(), "1.1", "presence-x", &member).unwrap();
                assert_eq!(a.channel_data.as_deref(), Some(want.as_str()));
                assert!(verify_channel_auth(&docs(), "1.1", "presence-x", &a));
                let mut fresh =
                    <crate::protocol::hmac::HmacSha256 as hmac::KeyInit>::new_from_slice(
                        b"7ad3773142a6692b25b8",
                    )
                    .unwrap();
                hmac::Mac::update(&mut fresh, format!("1.1:presence-x:{want}").as_bytes());
                let sig = hex::encode(hmac::Mac::finalize(fresh).into_bytes());
                assert_eq!(a.auth, format!("278d425bdf160c739803:{sig}"));
            }
        }
        assert_eq!(
            PresenceMember::new("").to_channel_data(),
            Err(ValidationError::EmptyUserId)
        );
    }

    #[test]
    fn user_json_is_what_serde_json_writes() {
        let infos = [
            None,
            Some(Value::Null),
            Some(serde_json::json!({"name": "Zo\u{eb} \"Z\"", "age": 7})),
        ];
        let watchlists = [
            None,
            Some(vec![]),
            Some(vec!["bob".to_owned()]),
            Some(vec![
                "bob".to_owned(),
                "car\nol".to_owned(),
                "d\u{e9}".to_owned(),
            ]),
        ];
        for info in &infos {
            for watchlist in &watchlists {
                let user = UserData {
                    id: "alice@example.com".to_owned(),
                    user_info: info.clone(),
                    watchlist: watchlist.clone(),
                };
                let want = serde_json::to_string(&user).unwrap();
                let got = authenticate_user(&docs(), "1.1", &user).unwrap();
                assert_eq!(got.user_data, want);
                assert!(verify_user_auth(&docs(), "1.1", &got));
                // Sized up front (the signed prefix's room stays): no regrowth.
                if !want.contains('\\') && !want.contains("\"age\"") {
                    assert_eq!(
                        got.user_data.capacity(),
                        "1.1::user::".len() + want.len(),
                        "{want}"
                    );
                }
                let mut fresh =
                    <crate::protocol::hmac::HmacSha256 as hmac::KeyInit>::new_from_slice(
                        b"7ad3773142a6692b25b8",
                    )
                    .unwrap();
                hmac::Mac::update(&mut fresh, format!("1.1::user::{want}").as_bytes());
                let sig = hex::encode(hmac::Mac::finalize(fresh).into_bytes());
                assert_eq!(got.auth, format!("278d425bdf160c739803:{sig}"));
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

    proptest::proptest! {
        #[test]
        fn any_member_or_user_json_is_what_serde_json_writes(
            id in proptest::prelude::any::<String>(),
            name in proptest::prelude::any::<String>(),
            n in proptest::prelude::any::<i64>(),
            info in proptest::prelude::any::<bool>(),
            watchlist in proptest::option::of(proptest::collection::vec(".{0,8}", 0..4)),
        ) {
            let user_info = info.then(|| serde_json::json!({"name": name, "n": n, "list": [n, name]}));
            let member = PresenceMember { user_id: id.clone(), user_info: user_info.clone() };
            let mut out = String::with_capacity(member.channel_data_len());
            member.write_channel_data(&mut out);
            proptest::prop_assert_eq!(out, serde_json::to_string(&member).unwrap());
            let user = UserData { id, user_info, watchlist };
            let mut out = String::with_capacity(user.user_data_len());
            user.write_user_data(&mut out);
            proptest::prop_assert_eq!(out, serde_json::to_string(&user).unwrap());
        }
    }

    #[test]
    fn written_authorization_is_the_channel_auths_json() {
        let master = MasterKey::from_bytes([7; 32]);
        let member = PresenceMember::new("u\"1").with_info(serde_json::json!({"n": 1}));
        let socket = SocketId::new("123.456").unwrap();
        // A key that needs escaping, and one that does not.
        for token in [docs(), Token::new("k\"e\\y", "secret")] {
            for channel in ["private-a", "presence-b", "private-encrypted-c", "public-d"] {
                let channel = ChannelName::new(channel).unwrap();
                for (master, member) in [(None, None), (Some(&master), Some(&member))] {
                    let mut out = String::from("[");
                    let written =
                        write_authorized_json(&token, master, &socket, &channel, member, &mut out);
                    match authorize_checked(&token, master, &socket, &channel, member) {
                        Ok(auth) => {
                            assert_eq!(written, Ok(()));
                            assert_eq!(out, format!("[{}", serde_json::to_string(&auth).unwrap()));
                        }
                        Err(e) => {
                            assert_eq!(written, Err(e));
                            assert_eq!(out, "[");
                        }
                    }
                }
            }
        }
    }
}
