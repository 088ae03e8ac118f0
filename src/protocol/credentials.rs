//! App credentials and the redacted secret types that hold them.

use std::fmt;

use serde::{Deserialize, Deserializer};

use super::hmac::{HmacSha256, keyed};

/// A secret string (an app secret, or a URL carrying one). Its `Debug` and `Display`
/// never show the value, and it is deliberately not `Serialize`.
#[derive(Clone)]
pub struct Secret {
    value: String,
    /// HMAC-SHA256 keyed with the value: the two key blocks are hashed once here instead
    /// of on every signature (half the hashing of a short message). As secret as the value.
    mac: HmacSha256,
}

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        Self {
            mac: keyed(value.as_bytes()),
            value,
        }
    }

    /// The secret itself. Call this only to sign or verify.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// A MAC keyed with this secret, ready for `update`.
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

/// One key and its secret: what signs requests and what a webhook may be signed with.
///
/// An app can have several tokens while a key is being rotated; webhook verification
/// accepts any configured one.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// The public app key.
    pub key: String,
    /// The secret that goes with [`key`](Self::key).
    pub secret: Secret,
}

impl Token {
    /// A token from a key and its secret.
    pub fn new(key: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self {
            key: key.into(),
            secret: secret.into(),
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("key", &self.key)
            .field("secret", &self.secret)
            .finish()
    }
}

/// An app's id, key and secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The app id (digits for apps on Pusher's service).
    pub app_id: String,
    /// The key and secret that sign requests and authorizations.
    pub token: Token,
}

impl Credentials {
    /// Credentials from an app id, key and secret.
    pub fn new(
        app_id: impl Into<String>,
        key: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        Self {
            app_id: app_id.into(),
            token: Token::new(key, secret),
        }
    }

    /// The app key.
    pub fn key(&self) -> &str {
        &self.token.key
    }

    /// The app secret.
    pub fn secret(&self) -> &Secret {
        &self.token.secret
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("app_id", &self.app_id)
            .field("key", &self.token.key)
            .field("secret", &self.token.secret)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let c = Credentials::new("1", "KEY", "MARKER-SECRET");
        let shown = format!("{c:?} {:?} {:?}", c.token, c.secret());
        assert!(shown.contains("KEY"));
        assert!(!shown.contains("MARKER"), "{shown}");
    }
}
