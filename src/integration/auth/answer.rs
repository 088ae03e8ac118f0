//! The JSON of a channel auth answer: one [`ChannelAuth`], or a batch's map of channel to
//! entry, byte for byte what `serde_json` writes for them.
//!
//! Written here rather than by serde: serde_json checks every byte of every string for an
//! escape one at a time, and an answer is mostly hex signatures and channel names that
//! need none. A batch of 10 costs 15k instructions less this way (7.5 % of the batch
//! route; a single answer, which shares the writer, 0.7k). A string that does need an
//! escape is still escaped by serde_json. The tests compare both shapes with serde's own
//! output.

use std::io::Write as _;

use crate::integration::response::ApiError;
use crate::protocol::ChannelAuth;

/// `{"auth", "channel_data"?, "shared_secret"?}`, as serde writes a [`ChannelAuth`].
pub(super) fn single(auth: &ChannelAuth) -> Vec<u8> {
    let mut out = Vec::with_capacity(auth_len(auth));
    push_auth(&mut out, auth);
    out
}

/// A batch answer, `{channel: {"data": {…}, "status": 200} | {"error": "…", "status":
/// 4xx}}`, sorted by channel name, as serde writes a `BTreeMap` of them: of repeated
/// names the last answer stands.
pub(super) fn batch<N: AsRef<str>>(answers: &mut [(N, Result<ChannelAuth, ApiError>)]) -> Vec<u8> {
    // Stable, so of equal names the last stays last.
    answers.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    let len: usize = answers
        .iter()
        .map(|(name, answer)| entry_len(name.as_ref(), answer))
        .sum();
    let mut out = Vec::with_capacity(len + 2);
    out.push(b'{');
    let mut first = true;
    for (i, (name, answer)) in answers.iter().enumerate() {
        let name = name.as_ref();
        if answers
            .get(i + 1)
            .is_some_and(|next| next.0.as_ref() == name)
        {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        push_str(&mut out, name);
        match answer {
            Ok(auth) => {
                out.extend_from_slice(br#":{"data":"#);
                push_auth(&mut out, auth);
                out.extend_from_slice(br#","status":200}"#);
            }
            Err(e) => {
                out.extend_from_slice(br#":{"error":"#);
                push_str(&mut out, e.reason());
                // Writing to a `Vec` cannot fail.
                let _ = write!(out, r#","status":{}}}"#, e.status().code);
            }
        }
    }
    out.push(b'}');
    out
}

fn push_auth(out: &mut Vec<u8>, auth: &ChannelAuth) {
    out.extend_from_slice(br#"{"auth":"#);
    push_str(out, &auth.auth);
    if let Some(data) = &auth.channel_data {
        out.extend_from_slice(br#","channel_data":"#);
        push_str(out, data);
    }
    if let Some(secret) = &auth.shared_secret {
        out.extend_from_slice(br#","shared_secret":"#);
        push_str(out, secret);
    }
    out.push(b'}');
}

/// Room for an authorization's JSON when nothing in it needs an escape.
fn auth_len(auth: &ChannelAuth) -> usize {
    let field = |s: &Option<String>| s.as_ref().map_or(0, |s| s.len() + 20);
    auth.auth.len() + 12 + field(&auth.channel_data) + field(&auth.shared_secret)
}

/// Room for one batch entry when nothing in it needs an escape.
fn entry_len(name: &str, answer: &Result<ChannelAuth, ApiError>) -> usize {
    name.len()
        + 28
        + match answer {
            Ok(auth) => auth_len(auth),
            Err(e) => e.reason().len(),
        }
}

/// Append `s` as a JSON string: copied between quotes when serde would escape nothing
/// in it (no control character, `"` or `\`), else as serde_json writes it.
fn push_str(out: &mut Vec<u8>, s: &str) {
    // A fold rather than `any`: without an early exit it checks many bytes at a time.
    let plain = s.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    });
    if plain {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // A string always serializes, and writing to a `Vec` cannot fail.
        let _ = serde_json::to_writer(out, s);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use rocket::http::Status;
    use serde::Serialize;

    use super::*;

    /// The plain form: serde's map of one entry per channel.
    fn serde_batch(answers: Vec<(&str, Result<ChannelAuth, ApiError>)>) -> String {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Entry {
            Granted { data: ChannelAuth, status: u16 },
            Refused { error: String, status: u16 },
        }
        let map: BTreeMap<&str, Entry> = answers
            .into_iter()
            .map(|(name, answer)| {
                let entry = match answer {
                    Ok(data) => Entry::Granted { data, status: 200 },
                    Err(e) => Entry::Refused {
                        status: e.status().code,
                        error: e.reason().to_owned(),
                    },
                };
                (name, entry)
            })
            .collect();
        serde_json::to_string(&map).unwrap()
    }

    fn text_of(json: Vec<u8>) -> String {
        String::from_utf8(json).unwrap()
    }

    /// Strings with and without what JSON escapes, ASCII or not.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9.:;=@,_-]{0,12}",
            "[ -~]{0,12}",
            "\\PC{0,8}",
            proptest::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter),
        ]
    }

    fn auth() -> impl Strategy<Value = ChannelAuth> {
        (
            text(),
            proptest::option::of(text()),
            proptest::option::of(text()),
        )
            .prop_map(|(auth, channel_data, shared_secret)| ChannelAuth {
                auth,
                channel_data,
                shared_secret,
            })
    }

    fn answer() -> impl Strategy<Value = Result<ChannelAuth, ApiError>> {
        prop_oneof![
            auth().prop_map(Ok),
            (
                text(),
                prop_oneof![Just(400u16), Just(403), Just(404), Just(500)]
            )
                .prop_map(|(reason, code)| Err(ApiError::new(Status::new(code), reason))),
        ]
    }

    proptest! {
        #[test]
        fn single_is_serdes(auth in auth()) {
            prop_assert_eq!(text_of(single(&auth)), serde_json::to_string(&auth).unwrap());
        }

        #[test]
        fn batch_is_serdes_map(
            answers in proptest::collection::vec(
                (prop_oneof!["private-[a-c]", text()], answer()),
                0..6,
            ),
        ) {
            let mut ours: Vec<(&str, _)> =
                answers.iter().map(|(n, a)| (n.as_str(), a.clone())).collect();
            let theirs = serde_batch(ours.clone());
            prop_assert_eq!(text_of(batch(&mut ours)), theirs);
        }
    }

    #[test]
    fn every_escape_is_serdes() {
        let all: String = (0u8..=0x7f)
            .map(char::from)
            .chain(['é', '\u{2028}', '😀'])
            .collect();
        let auth = ChannelAuth {
            auth: all.clone(),
            channel_data: Some(r#"{"user_id":"a\"b"}"#.into()),
            shared_secret: Some(all),
        };
        assert_eq!(
            text_of(single(&auth)),
            serde_json::to_string(&auth).unwrap()
        );
    }
}
