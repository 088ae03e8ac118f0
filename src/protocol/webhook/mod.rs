//! Webhooks: signature verification over the raw body, and the typed events.
//!
//! Pusher signs the exact body bytes with HMAC-SHA256 and sends the key in `X-Pusher-Key`
//! and the lowercase hex signature in `X-Pusher-Signature`. Verification must run on the
//! raw bytes, before any parsing: a re-serialized body never matches.
//!
//! Every event type serializes to the JSON object Pusher sends, so an app can log or
//! forward what it received as is.

mod event;
mod families;

use serde::{Deserialize, Serialize};

use super::credentials::Token;
use super::hmac::verify_hex;

pub use event::Event;
pub use families::{
    ChannelExistenceEvent, ClientEvent, PresenceEvent, WebhookEvent, narrow_events,
};

/// Why a webhook was refused: its key or signature, its JSON, or its age. No variant carries
/// a secret or the body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// No `X-Pusher-Key` header.
    MissingKey,
    /// The key is not one of the configured tokens.
    UnknownKey,
    /// No `X-Pusher-Signature` header.
    MissingSignature,
    /// The signature is not the HMAC of the body under the key's secret (or not hex).
    BadSignature,
    /// Signed correctly, but not JSON.
    Syntax(String),
    /// Signed JSON, but not a Pusher webhook (`time_ms` and `events` missing or mistyped).
    Shape(String),
    /// `time_ms` is outside the configured freshness window.
    Stale {
        /// How far `time_ms` is from the local clock.
        age_ms: u64,
        /// The window.
        window_ms: u64,
    },
}

impl std::fmt::Display for WebhookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingKey => f.write_str("missing X-Pusher-Key header"),
            Self::UnknownKey => f.write_str("unknown X-Pusher-Key"),
            Self::MissingSignature => f.write_str("missing X-Pusher-Signature header"),
            Self::BadSignature => f.write_str("invalid X-Pusher-Signature"),
            Self::Syntax(v0) => write!(f, "webhook body is not JSON: {v0}"),
            Self::Shape(v0) => write!(f, "webhook body is not a Pusher webhook: {v0}"),
            Self::Stale { age_ms, window_ms } => write!(
                f,
                "webhook time_ms is {age_ms} ms away from now, outside the {window_ms} ms window"
            ),
        }
    }
}

impl std::error::Error for WebhookError {}

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
