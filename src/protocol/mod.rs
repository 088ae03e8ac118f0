//! The Pusher Channels protocol: pure functions and plain types, no I/O, no Rocket.
//!
//! Everything the client and the Rocket integration sign or check is computed here, so
//! it can be tested against the official libraries' vectors, and used as is from axum,
//! actix or a plain binary.

mod auth;
mod auth_form;
mod credentials;
mod encryption;
#[cfg(feature = "server")]
pub mod frames;
mod hmac;
mod names;
mod signing;
#[cfg(test)]
mod test_support;
mod user_auth;
#[cfg(feature = "server")]
mod verify_request;
mod webhook;

pub(crate) use auth::authorize_checked;
pub use auth::{
    ChannelAuth, PresenceMember, authorize_channel, authorize_encrypted, authorize_presence,
    authorize_presence_raw, authorize_private, verify_channel_auth,
};
pub(crate) use auth_form::find_param;
pub use auth_form::{AuthForm, AuthFormError, FormChannels, parse_auth_form};
pub use credentials::{Credentials, Secret, Token};
pub use encryption::{
    EncryptedData, MasterKey, NONCE_LEN, decrypt_payload, encrypt_payload, random_nonce,
};
pub use names::{
    ChannelKind, ChannelName, EventName, HOSTED_MAX_CHANNEL_NAME_LEN, MAX_CHANNEL_NAME_LEN,
    MAX_EVENT_NAME_LEN, MAX_PRESENCE_USER_ID_LEN, MAX_SOCKET_ID_LEN, MAX_USER_ID_LEN, SocketId,
    UserId, validate_channel_name, validate_event_name, validate_socket_id, validate_user_id,
};
pub use signing::{EMPTY_BODY_MD5, SignedRequest, body_md5, sign_request};
pub use user_auth::{UserAuth, UserData, authenticate_user, verify_user_auth};
#[cfg(feature = "server")]
pub use verify_request::{RequestError, TIMESTAMP_WINDOW_SECS, decode_query, verify_request};
pub use webhook::{
    ChannelExistenceEvent, ClientEvent, Event, PresenceEvent, Webhook, WebhookError, WebhookEvent,
    check_freshness, narrow_events, sign_webhook, verify_webhook,
};
