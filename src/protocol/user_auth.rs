//! User sign-in (pusher-js `signin()`): sign `socket_id::user::user_data`, as the channel
//! authorizations of `auth.rs` sign theirs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(doc)]
use super::auth::PresenceMember;
use super::auth::{info_value, signature_of, to_json};
use super::credentials::Token;
use super::hmac::{auth_value, verify_hex};
use super::names::{validate_socket_id, validate_user_id};
use crate::error::ValidationError;

/// The user a connection signs in as (pusher-js `signin()`): `id` is required, `user_info`
/// is shared with presence channels, `watchlist` names users whose online state to follow.
///
/// Pusher's user object may carry more fields; they are kept in
/// [`other`](Self::other) and signed and sent with the rest (after `id`, `user_info` and
/// `watchlist`, in key order), so a user read from any JSON object loses nothing.
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
    /// Any other field of the user object.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

impl UserData {
    /// A user with only an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            user_info: None,
            watchlist: None,
            other: serde_json::Map::new(),
        }
    }

    /// Attach `user_info`: any `Serialize` value, as [`PresenceMember::with_info`] takes.
    pub fn with_info(mut self, info: impl Serialize) -> Self {
        self.user_info = info_value(info, "signed-in user");
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
    let user_data = to_json(user)?;
    let auth = auth_value(
        &token.key,
        &token.secret,
        &[socket_id.as_bytes(), b"::user::", user_data.as_bytes()],
    );
    Ok(UserAuth { auth, user_data })
}

/// Check that a user authentication was signed by `token` (constant time).
pub fn verify_user_auth(token: &Token, socket_id: &str, auth: &UserAuth) -> bool {
    signature_of(token, &auth.auth).is_some_and(|sig| {
        verify_hex(
            &token.secret,
            &[socket_id.as_bytes(), b"::user::", auth.user_data.as_bytes()],
            sig,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_support::{docs, docs_hmac};

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
    fn user_json_is_compact_in_field_order_and_signed_as_sent() {
        let user = UserData::new("alice@example.com")
            .with_info(serde_json::json!({"name": "Zo\u{eb} \"Z\""}))
            .with_watchlist(["bob", "d\u{e9}"]);
        let got = authenticate_user(&docs(), "1.1", &user).unwrap();
        assert_eq!(
            got.user_data,
            r#"{"id":"alice@example.com","user_info":{"name":"Zoë \"Z\""},"watchlist":["bob","dé"]}"#
        );
        assert_eq!(
            got.auth,
            format!(
                "278d425bdf160c739803:{}",
                docs_hmac(&format!("1.1::user::{}", got.user_data))
            )
        );
        assert!(verify_user_auth(&docs(), "1.1", &got));
        assert!(!verify_user_auth(&docs(), "1.2", &got));
    }

    #[test]
    fn user_data_keeps_and_signs_fields_beyond_the_known_ones() {
        let json = r#"{"id":"u1","email":"ann@example.com","user_info":{"n":1},"age":3}"#;
        let user: UserData = serde_json::from_str(json).unwrap();
        assert_eq!(
            user.other.get("email"),
            Some(&serde_json::json!("ann@example.com"))
        );
        let a = authenticate_user(&docs(), "1.1", &user).unwrap();
        // Every field is signed and sent: the known ones first, the others in key order.
        assert_eq!(
            a.user_data,
            r#"{"id":"u1","user_info":{"n":1},"age":3,"email":"ann@example.com"}"#
        );
        let sig = docs_hmac(&format!("1.1::user::{}", a.user_data));
        assert_eq!(a.auth, format!("278d425bdf160c739803:{sig}"));
        let back: serde_json::Value = serde_json::from_str(&a.user_data).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }
}
