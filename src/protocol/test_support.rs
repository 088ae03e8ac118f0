//! The documentation's example credentials, for the protocol's unit tests.

use super::credentials::Token;

pub(crate) fn docs() -> Token {
    Token::new("278d425bdf160c739803", "7ad3773142a6692b25b8")
}

/// Lowercase hex HMAC-SHA256 under the docs' secret, computed without the crate.
pub(crate) fn docs_hmac(message: &str) -> String {
    let mut mac =
        <crate::protocol::hmac::HmacSha256 as hmac::Mac>::new_from_slice(b"7ad3773142a6692b25b8")
            .unwrap();
    hmac::Mac::update(&mut mac, message.as_bytes());
    hex::encode(hmac::Mac::finalize(mac).into_bytes())
}
