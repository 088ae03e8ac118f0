//! The JSON answers of the auth endpoints, written directly into one buffer.
//!
//! Their values are mostly hex signatures, channel names and base64, which need no
//! escaping; serde's serializer escapes a byte at a time and makes a batch answer cost
//! more than its ten signatures. The bytes are the same as serde_json's compact output
//! (tests below compare them).

use super::auth::{ChannelAuth, UserAuth};

/// Append `s` as a JSON string literal, quoted and escaped exactly as serde_json does.
pub(crate) fn push_str_literal(out: &mut String, s: &str) {
    // A fold without an early exit, so the check runs many bytes at a time.
    let needs_escape = s.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if needs_escape {
        // Rare (a presence member's JSON, a reason with quotes): serde's own escaping,
        // which cannot fail for a string.
        if let Ok(quoted) = serde_json::to_string(s) {
            out.push_str(&quoted);
        }
    } else {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

impl ChannelAuth {
    /// Append this authorization's JSON, `{"auth", "channel_data"?, "shared_secret"?}`,
    /// byte for byte what `serde_json::to_string` gives.
    pub fn write_json(&self, out: &mut String) {
        out.reserve(self.json_len_hint());
        out.push_str(r#"{"auth":"#);
        push_str_literal(out, &self.auth);
        if let Some(data) = &self.channel_data {
            out.push_str(r#","channel_data":"#);
            push_str_literal(out, data);
        }
        if let Some(secret) = &self.shared_secret {
            out.push_str(r#","shared_secret":"#);
            push_str_literal(out, secret);
        }
        out.push('}');
    }

    /// This authorization's JSON in a new string.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.json_len_hint());
        self.write_json(&mut out);
        out
    }

    /// The length of the JSON when nothing needs escaping.
    fn json_len_hint(&self) -> usize {
        11 + self.auth.len()
            + self.channel_data.as_ref().map_or(0, |d| 18 + d.len())
            + self.shared_secret.as_ref().map_or(0, |s| 19 + s.len())
    }
}

impl UserAuth {
    /// This sign-in's JSON, `{"auth", "user_data"}`, byte for byte what
    /// `serde_json::to_string` gives.
    pub fn to_json(&self) -> String {
        // `user_data` is JSON, so its quotes are escaped: about one in six bytes.
        let mut out = String::with_capacity(28 + self.auth.len() + self.user_data.len() * 7 / 6);
        out.push_str(r#"{"auth":"#);
        push_str_literal(&mut out, &self.auth);
        out.push_str(r#","user_data":"#);
        push_str_literal(&mut out, &self.user_data);
        out.push('}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_match_serde() {
        for s in [
            "",
            "plain-channel.name_1",
            "key:0123abcdef",
            r#"{"user_id":"10","user_info":{"name":"Mr. \"P\""}}"#,
            "back\\slash",
            "ctrl\u{0}\u{1f}\n\t\r\u{8}\u{c}",
            "del\u{7f} and ünïcödé €",
            "</script>",
        ] {
            let mut out = String::from("x");
            push_str_literal(&mut out, s);
            assert_eq!(
                out,
                format!("x{}", serde_json::to_string(s).unwrap()),
                "{s:?}"
            );
        }
    }

    #[test]
    fn answers_match_serde() {
        let cases = [
            ChannelAuth {
                auth: "k:00ff".into(),
                channel_data: None,
                shared_secret: None,
            },
            ChannelAuth {
                auth: "k:00ff".into(),
                channel_data: Some(r#"{"user_id":"a\"b","user_info":{"n":"\u0001"}}"#.into()),
                shared_secret: None,
            },
            ChannelAuth {
                auth: "k\"ey:00ff".into(),
                channel_data: None,
                shared_secret: Some("E3I6KxLwqP1Rr/p1676Vpnrw23CkRdS5bkX5NazRkeY=".into()),
            },
            ChannelAuth {
                auth: "k:1".into(),
                channel_data: Some("{}".into()),
                shared_secret: Some("s".into()),
            },
        ];
        for a in &cases {
            assert_eq!(a.to_json(), serde_json::to_string(a).unwrap());
        }
        let u = UserAuth {
            auth: "k:ab".into(),
            user_data: r#"{"id":"12345","user_info":{"name":"Ann \\ \"Lee\""}}"#.into(),
        };
        assert_eq!(u.to_json(), serde_json::to_string(&u).unwrap());
    }
}
