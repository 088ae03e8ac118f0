//! HMAC-SHA256 helpers shared by every signature in the protocol.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A MAC keyed with `secret`, ready for `update`.
pub(crate) fn mac(secret: &str) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// Lowercase hex of the HMAC-SHA256 of the concatenated `parts`.
pub(crate) fn sign_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut m = mac(secret);
    for part in parts {
        m.update(part);
    }
    hex::encode(m.finalize().into_bytes())
}

/// `key:hexsig`, the `auth` value of channel and user authorizations, in one allocation.
pub(crate) fn auth_value(key: &str, secret: &str, parts: &[&[u8]]) -> String {
    let mut m = mac(secret);
    for part in parts {
        m.update(part);
    }
    let digest = m.finalize().into_bytes();
    let mut out = String::with_capacity(key.len() + 1 + 64);
    out.push_str(key);
    out.push(':');
    let mut buf = [0u8; 64];
    // 32 bytes always fit in 64 hex characters.
    if hex::encode_to_slice(digest, &mut buf).is_ok() {
        out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
    }
    out
}

/// Constant-time check of a hex signature over the concatenated `parts`.
///
/// Upper- or lowercase hex is accepted; anything that is not 64 hex digits fails.
pub(crate) fn verify_hex(secret: &str, parts: &[&[u8]], signature_hex: &str) -> bool {
    let mut expected = [0u8; 32];
    if hex::decode_to_slice(signature_hex, &mut expected).is_err() {
        return false;
    }
    let mut m = mac(secret);
    for part in parts {
        m.update(part);
    }
    m.verify_slice(&expected).is_ok()
}
