//! End-to-end encrypted channels (`private-encrypted-`).
//!
//! Each channel's key is `SHA-256(channel_name || master_key)`. Payloads are sealed with
//! NaCl secretbox (XSalsa20-Poly1305) under a fresh random 24-byte nonce, and the event's
//! `data` becomes the JSON string `{"nonce":"<b64>","ciphertext":"<b64>"}`, which is what
//! pusher-js's encryption build opens.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ValidationError;

/// Length of a secretbox nonce.
pub const NONCE_LEN: usize = 24;

/// The app's 32-byte encryption master key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// A master key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Decode the configured base64 form (44 characters, standard alphabet, padded).
    ///
    /// The error says what is wrong without repeating the key.
    pub fn from_base64(encoded: &str) -> Result<Self, ValidationError> {
        let bytes = B64
            .decode(encoded.trim())
            .map_err(|_| ValidationError::MasterKeyNotBase64)?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| ValidationError::MasterKeyLength { len: b.len() })?;
        Ok(Self(key))
    }

    /// The channel's shared secret: `SHA-256(channel_name || master_key)`.
    pub fn shared_secret(&self, channel: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(channel.as_bytes());
        h.update(self.0);
        h.finalize().into()
    }

    /// The shared secret as the base64 string returned to pusher-js.
    pub fn shared_secret_base64(&self, channel: &str) -> String {
        B64.encode(self.shared_secret(channel))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// The JSON shape of an encrypted event's `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedData {
    /// Base64 of the 24-byte nonce.
    pub nonce: String,
    /// Base64 of the secretbox output (16-byte tag, then the ciphertext).
    pub ciphertext: String,
}

/// A fresh random nonce from the operating system's CSPRNG.
pub fn random_nonce() -> Result<[u8; NONCE_LEN], getrandom::Error> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce)?;
    Ok(nonce)
}

/// Encrypt `plaintext` for `channel` with the given nonce; returns the `data` string to
/// send. Use [`random_nonce`] for every event: a nonce must never repeat under a key.
pub fn encrypt_payload(
    master: &MasterKey,
    channel: &str,
    plaintext: &[u8],
    nonce: &[u8; NONCE_LEN],
) -> String {
    let key = master.shared_secret(channel);
    let cipher = XSalsa20Poly1305::new(Key::from_slice(&key));
    // Sealing into a Vec cannot fail for in-memory buffers.
    let sealed = cipher
        .encrypt(Nonce::from_slice(nonce), plaintext)
        .unwrap_or_default();
    let data = EncryptedData {
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(sealed),
    };
    // Two strings always serialize.
    serde_json::to_string(&data).unwrap_or_default()
}

/// Open an encrypted `data` string sent on `channel`; `None` if it is not one, or if it
/// was not sealed under this master key.
pub fn decrypt_payload(master: &MasterKey, channel: &str, data: &str) -> Option<Vec<u8>> {
    let parsed: EncryptedData = serde_json::from_str(data).ok()?;
    let nonce: [u8; NONCE_LEN] = B64.decode(parsed.nonce).ok()?.try_into().ok()?;
    let sealed = B64.decode(parsed.ciphertext).ok()?;
    let key = master.shared_secret(channel);
    XSalsa20Poly1305::new(Key::from_slice(&key))
        .decrypt(Nonce::from_slice(&nonce), sealed.as_slice())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequential_key() -> MasterKey {
        MasterKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap()
    }

    #[test]
    fn shared_secret_vectors() {
        assert_eq!(
            sequential_key().shared_secret_base64("private-encrypted-foo"),
            "E3I6KxLwqP1Rr/p1676Vpnrw23CkRdS5bkX5NazRkeY="
        );
        let node = MasterKey::from_base64("zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=").unwrap();
        assert_eq!(
            node.shared_secret_base64("private-encrypted-bla"),
            "nlr49ISQHz91yS3cy/yWmW8wFMNeTnNL5tNHnbPJcLQ="
        );
    }

    #[test]
    fn fixed_nonce_vector_and_roundtrip() {
        let nonce: [u8; 24] = std::array::from_fn(|i| i as u8 + 1);
        let data = encrypt_payload(
            &sequential_key(),
            "private-encrypted-foo",
            br#"{"message":"hello world"}"#,
            &nonce,
        );
        assert_eq!(
            data,
            r#"{"nonce":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcY","ciphertext":"oDIhh1V/8sWv0LD71rXU2W6pinLPl6GzF8pcg+k6LP2Ea3gZ2obCNZE="}"#
        );
        let parsed: EncryptedData = serde_json::from_str(&data).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), data);
        let plain = decrypt_payload(&sequential_key(), "private-encrypted-foo", &data).unwrap();
        assert_eq!(plain, br#"{"message":"hello world"}"#);
        assert!(decrypt_payload(&sequential_key(), "private-encrypted-bar", &data).is_none());
    }

    #[test]
    fn bad_master_keys() {
        assert_eq!(
            MasterKey::from_base64("not base64!"),
            Err(ValidationError::MasterKeyNotBase64)
        );
        assert_eq!(
            MasterKey::from_base64("AAEC"),
            Err(ValidationError::MasterKeyLength { len: 3 })
        );
        assert!(!format!("{:?}", sequential_key()).contains("AAEC"));
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(random_nonce().unwrap(), random_nonce().unwrap());
    }
}
