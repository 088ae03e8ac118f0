//! Compact JSON written straight into a `String`, byte for byte what `serde_json` writes.
//!
//! Presence `channel_data` and sign-in `user_data` are small objects built on every
//! authorization. Writing them here skips `serde_json`'s generic serializer (the derived
//! struct and map serialization, an `io::Write` call per piece, a `Vec` that starts at
//! 128 bytes whatever the size): the pieces are appended to one buffer sized for them up
//! front. Tests compare every escape and random values with `serde_json::to_string`.
//!
//! The auth endpoints' answers (`ChannelAuth`, `UserAuth`, a batch) are written the same
//! way: they are mostly hex signatures, channel names and base64, and serde's serializer
//! escaped them a byte at a time, which made a batch answer cost more than its signatures.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

use super::auth::{ChannelAuth, UserAuth};

/// `serde_json`'s escape of each byte: 0 for none, `u` for `\u00XX`, else the letter
/// after the backslash. Only ASCII control characters, `"` and `\` are escaped.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Append `s` as a JSON string, quotes included.
#[inline]
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    push_str_body(out, s);
    out.push('"');
}

/// Append `s` escaped, without quotes.
#[inline]
pub(crate) fn push_str_body(out: &mut String, s: &str) {
    // A fold without an early exit: the usual string has nothing to escape, and this
    // checks it many bytes at a time.
    if s.bytes().fold(0, |found, b| found | ESCAPE[usize::from(b)]) != 0 {
        push_escaped(out, s);
    } else {
        out.push_str(s);
    }
}

/// The slow path of [`push_str`]: `s` has at least one byte to escape.
#[cold]
fn push_escaped(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = ESCAPE[usize::from(b)];
        if esc == 0 {
            continue;
        }
        // Escaped bytes are ASCII, so `start..i` lies on character boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        out.push('\\');
        out.push(char::from(esc));
        if esc == b'u' {
            out.push_str("00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
}

/// Append `value` as compact JSON, as `serde_json::to_string` writes it.
///
/// Scalars are written inline; only arrays and objects take a call, so the members of a
/// flat object cost no recursion.
#[inline]
pub(crate) fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => push_str(out, s),
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => push_number(out, n),
        Value::Array(items) => push_array(out, items),
        Value::Object(map) => push_object(out, map),
    }
}

/// `Number`'s `Display` is its serialization: itoa for integers, the same shortest-float
/// formatter for floats, the digits as given with `arbitrary_precision`.
fn push_number(out: &mut String, n: &Number) {
    // Writing to a `String` cannot fail.
    let _ = write!(out, "{n}");
}

fn push_array(out: &mut String, items: &[Value]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_value(out, item);
    }
    out.push(']');
}

fn push_object(out: &mut String, map: &Map<String, Value>) {
    // The map's own iteration order is the one `serde_json` serializes in.
    let mut sep = "{\"";
    for (k, v) in map {
        out.push_str(sep);
        sep = ",\"";
        push_str_body(out, k);
        out.push_str("\":");
        push_value(out, v);
    }
    if map.is_empty() {
        out.push('{');
    }
    out.push('}');
}

/// The length of `s` as a JSON string if nothing in it needs escaping.
pub(crate) fn str_len(s: &str) -> usize {
    s.len() + 2
}

/// The length of `value`'s compact JSON if no string in it needs escaping, counting
/// the longest form of each number: enough room to write it without growing.
#[inline]
pub(crate) fn value_len(value: &Value) -> usize {
    match value {
        Value::String(s) => str_len(s),
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        // `-9223372036854775808` is 20 bytes, the longest float 24 (`-1.2345678901234567e-308`).
        Value::Number(n) if n.is_f64() => 24,
        Value::Number(_) => 20,
        Value::Array(items) => array_len(items),
        Value::Object(map) => object_len(map),
    }
}

fn array_len(items: &[Value]) -> usize {
    1 + items.iter().map(|v| value_len(v) + 1).sum::<usize>().max(1)
}

fn object_len(map: &Map<String, Value>) -> usize {
    1 + map
        .iter()
        .map(|(k, v)| str_len(k) + 1 + value_len(v) + 1)
        .sum::<usize>()
        .max(1)
}

impl ChannelAuth {
    /// Append this authorization's JSON, `{"auth", "channel_data"?, "shared_secret"?}`,
    /// byte for byte what `serde_json::to_string` gives.
    pub fn write_json(&self, out: &mut String) {
        out.reserve(self.json_len_hint());
        out.push_str(r#"{"auth":"#);
        push_str(out, &self.auth);
        if let Some(data) = &self.channel_data {
            out.push_str(r#","channel_data":"#);
            push_str(out, data);
        }
        if let Some(secret) = &self.shared_secret {
            out.push_str(r#","shared_secret":"#);
            push_str(out, secret);
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
        push_str(&mut out, &self.auth);
        out.push_str(r#","user_data":"#);
        push_str(&mut out, &self.user_data);
        out.push('}');
        out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn written(v: &Value) -> String {
        let mut out = String::new();
        push_value(&mut out, v);
        out
    }

    #[test]
    fn every_ascii_byte_and_some_unicode_escape_like_serde_json() {
        for b in 0u8..=0x7f {
            let s = format!("a{}b", char::from(b));
            let mut out = String::new();
            push_str(&mut out, &s);
            assert_eq!(out, serde_json::to_string(&s).unwrap(), "byte {b:#04x}");
        }
        for s in [
            "",
            "é",
            "\u{2028}\u{2029}",
            "😀\"\\/\u{7f}\u{0}\u{1f}",
            "\n\r\t\u{8}\u{c}",
            "tab\tin the middle and at the end\n",
            "\u{10ffff}",
        ] {
            let mut out = String::new();
            push_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn values_like_serde_json() {
        for v in [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(0.1),
            json!(-0.0),
            json!(1e300),
            json!(5e-324),
            json!(f64::MAX),
            json!(1.0),
            json!([]),
            json!({}),
            json!([[], {}, [1, [2, [3]]]]),
            json!({"name": "Mr. \"Pusher\"", "a": {"b": [1, 2.5, null, true, "x\ny"]}, "": ""}),
        ] {
            let want = serde_json::to_string(&v).unwrap();
            assert_eq!(written(&v), want);
            assert!(value_len(&v) >= want.len(), "{want}");
        }
    }

    #[test]
    fn length_is_exact_without_escapes_or_numbers() {
        for v in [
            json!({"name": "Alice", "tags": ["a", "b"], "ok": true, "none": null, "f": false}),
            json!([]),
            json!({}),
            json!("plain"),
        ] {
            assert_eq!(value_len(&v), written(&v).len(), "{v}");
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x7f]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_value_like_serde_json(v in arb_value()) {
            let want = serde_json::to_string(&v).unwrap();
            prop_assert_eq!(written(&v), want);
        }

        #[test]
        fn any_string_like_serde_json(s in any::<String>()) {
            let mut out = String::new();
            push_str(&mut out, &s);
            prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
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
