//! HMAC-SHA256 helpers shared by every signature in the protocol.

use hmac::block_api::HmacCore;
use hmac::digest::CtOutput;
use hmac::digest::array::Array;
use hmac::digest::block_api::{Buffer, CoreProxy, FixedOutputCore, UpdateCore};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::credentials::Secret;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The block-level HMAC-SHA256 state: the hashes of the two key blocks, nothing buffered.
pub(crate) type KeyedCore = HmacCore<Sha256>;

/// A MAC state keyed with `key`; [`Secret`] keeps one, so signing clones it instead of
/// hashing the key blocks again.
pub(crate) fn keyed(key: &[u8]) -> KeyedCore {
    // HMAC takes keys of any length, so this cannot fail.
    match KeyedCore::new_from_slice(key) {
        Ok(core) => core,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// A streaming MAC from a keyed state, with an empty buffer.
pub(crate) fn streaming(core: &KeyedCore) -> HmacSha256 {
    HmacSha256::compose(core.clone(), Buffer::<KeyedCore>::default())
}

/// The HMAC-SHA256 of one contiguous `msg` under `secret`.
///
/// The whole blocks go straight to the block function and only the tail is buffered:
/// the same `HmacCore` steps `Hmac::update` and `finalize` take, without copying the
/// message through the streaming buffer (or cloning one).
fn digest_one(secret: &Secret, msg: &[u8]) -> [u8; 32] {
    let mut core = secret.core().clone();
    let (blocks, tail) = Array::slice_as_chunks(msg);
    core.update_blocks(blocks);
    // The tail is shorter than a block, which an eager buffer holds.
    let mut buffer = Buffer::<KeyedCore>::new(tail);
    let mut out = Default::default();
    core.finalize_fixed_core(&mut buffer, &mut out);
    out.into()
}

/// The HMAC-SHA256 of the concatenated `parts` under `secret`.
pub(crate) fn digest(secret: &Secret, parts: &[&[u8]]) -> [u8; 32] {
    if let [msg] = parts {
        return digest_one(secret, msg);
    }
    let mut m = secret.mac();
    for part in parts {
        m.update(part);
    }
    m.finalize().into_bytes().into()
}

/// The two lowercase hex digits of every byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0xf]];
        i += 1;
    }
    table
};

/// Write the lowercase hex of `bytes` into `out` (twice as long).
pub(crate) fn encode_hex(bytes: &[u8], out: &mut [u8]) {
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
}

/// Append the lowercase hex HMAC-SHA256 of the concatenated `parts` to `out`.
pub(crate) fn push_sign_hex(out: &mut String, secret: &Secret, parts: &[&[u8]]) {
    push_hex32(out, &digest(secret, parts));
}

/// Append the lowercase hex of a 32-byte digest to `out`.
pub(crate) fn push_hex32(out: &mut String, digest: &[u8; 32]) {
    let mut hex = [0u8; 64];
    encode_hex(digest, &mut hex);
    // Hex digits are ASCII.
    out.push_str(std::str::from_utf8(&hex).unwrap_or_default());
}

/// Lowercase hex of the HMAC-SHA256 of the concatenated `parts`.
pub(crate) fn sign_hex(secret: &Secret, parts: &[&[u8]]) -> String {
    let mut out = String::with_capacity(64);
    push_sign_hex(&mut out, secret, parts);
    out
}

/// `key:hexsig`, the `auth` value of channel and user authorizations, in one allocation.
pub(crate) fn auth_value(key: &str, secret: &Secret, parts: &[&[u8]]) -> String {
    let mut out = String::with_capacity(key.len() + 1 + 64);
    out.push_str(key);
    out.push(':');
    push_sign_hex(&mut out, secret, parts);
    out
}

/// The value of each hex digit (either case), 0xff for any other byte.
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decode exactly 64 hex digits. The signature is public (it came with the request),
/// so this may stop at the first bad digit; the MAC itself is compared in constant time.
fn decode_hex32(hex: &[u8]) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (hi, lo) = (
            HEX_VALUES[usize::from(pair[0])],
            HEX_VALUES[usize::from(pair[1])],
        );
        // Both are 0xff for a bad digit, so one OR of all of them tells.
        bad |= hi | lo;
        *byte = (hi << 4) | (lo & 0xf);
    }
    (bad & 0xf0 == 0).then_some(out)
}

/// Constant-time check of a hex signature over the concatenated `parts`.
///
/// Upper- or lowercase hex is accepted; anything that is not 64 hex digits fails.
pub(crate) fn verify_hex(secret: &Secret, parts: &[&[u8]], signature_hex: &str) -> bool {
    let Some(expected) = decode_hex32(signature_hex.as_bytes()) else {
        return false;
    };
    // Compared in constant time, as `Mac::verify_slice` compares.
    CtOutput::<HmacSha256>::new(digest(secret, parts).into()) == CtOutput::new(expected.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex32_decodes_like_the_hex_crate() {
        let lower = "00ff7f80a5c30123456789abcdefABCDEF0123456789abcdef0123456789abcd";
        let mut want = [0u8; 32];
        hex::decode_to_slice(lower, &mut want).unwrap();
        assert_eq!(decode_hex32(lower.as_bytes()), Some(want));
        assert_eq!(
            decode_hex32(lower.to_uppercase().as_bytes()),
            Some(want),
            "either case"
        );
        for bad in [
            &lower[..63],
            "",
            &format!("{lower}0"),
            &format!("g{}", &lower[1..]),
            &format!("{} ", &lower[..63]),
            &format!("{}é", &lower[..62]),
        ] {
            assert_eq!(decode_hex32(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn keyed_state_matches_a_fresh_mac() {
        let secret = Secret::new("7ad3773142a6692b25b8");
        let mut fresh = HmacSha256::new_from_slice(b"7ad3773142a6692b25b8").unwrap();
        fresh.update(b"1234.1234:private-foobar");
        assert_eq!(
            sign_hex(&secret, &[b"1234.1234", b":private-foobar"]),
            hex::encode(fresh.finalize().into_bytes())
        );
        // A clone keyed with another value signs differently.
        assert_ne!(
            sign_hex(&Secret::new("other"), &[b"x"]),
            sign_hex(&secret, &[b"x"])
        );
    }

    #[test]
    fn one_piece_matches_the_streaming_mac_at_every_length() {
        // Keys shorter than, as long as and longer than a block (which is hashed first).
        for key in [
            "k",
            "7ad3773142a6692b25b8",
            &"x".repeat(64),
            &"y".repeat(65),
        ] {
            let secret = Secret::new(key);
            let msg: Vec<u8> = (0..=300u32).map(|i| (i * 7) as u8).collect();
            for len in 0..=msg.len() {
                let msg = &msg[..len];
                let mut fresh = HmacSha256::new_from_slice(key.as_bytes()).unwrap();
                fresh.update(msg);
                let want: [u8; 32] = fresh.finalize().into_bytes().into();
                assert_eq!(digest(&secret, &[msg]), want, "key {} len {len}", key.len());
                let (a, b) = msg.split_at(len / 3);
                assert_eq!(
                    digest(&secret, &[a, b]),
                    want,
                    "key {} len {len}",
                    key.len()
                );
                let hex = hex::encode(want);
                assert!(verify_hex(&secret, &[msg], &hex));
                assert!(verify_hex(&secret, &[a, b], &hex.to_uppercase()));
                let mut wrong = want;
                wrong[len % 32] ^= 1;
                assert!(!verify_hex(&secret, &[msg], &hex::encode(wrong)));
                assert!(!verify_hex(&secret, &[a, b], &hex[..62]));
            }
        }
    }
}
