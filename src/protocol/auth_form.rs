//! The form bodies pusher-js and the pusher-js-auth batch plugin post to auth endpoints
//! (protocol §8).
//!
//! * pusher-js: `socket_id=123.456&channel_name=private-a` then the app's own params;
//! * pusher-js-auth: `&socket_id=123.456&channel_name[0]=private-a&channel_name[1]=…`
//!   (a leading `&`, brackets unencoded; other clients may encode them as `%5B0%5D`);
//! * user sign-in: `socket_id=123.456` then params.
//!
//! Values are `application/x-www-form-urlencoded`: `%XX` escapes and `+` for space.

use std::borrow::Cow;

use super::names::SocketId;

/// Why an auth form was refused; each maps to a 400 with this text as the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFormError {
    /// No `socket_id` field.
    #[error("missing socket_id")]
    MissingSocketId,
    /// `socket_id` is not `digits.digits`.
    #[error("malformed socket_id")]
    BadSocketId,
    /// No `channel_name` field (channel authorization only).
    #[error("missing channel_name")]
    MissingChannel,
    /// A field that must appear once appeared twice.
    #[error("{0} given more than once")]
    Repeated(&'static str),
    /// Both `channel_name` and `channel_name[i]` fields.
    #[error("channel_name and channel_name[i] cannot be mixed")]
    MixedSingleAndBatch,
    /// More channels in one batch than allowed.
    #[error("more than {max} channels in one batch")]
    TooManyChannels {
        /// The limit.
        max: usize,
    },
    /// A bad `%` escape, or text that is not UTF-8.
    #[error("malformed form encoding")]
    Encoding,
}

/// The channels a form names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormChannels {
    /// No channel field (a user sign-in form).
    None,
    /// One `channel_name`.
    Single(String),
    /// `channel_name[i]` fields, in arrival order, repeats removed.
    Batch(Vec<String>),
}

/// A parsed auth form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthForm {
    /// The connection asking.
    pub socket_id: SocketId,
    /// The channel or channels named.
    pub channels: FormChannels,
    /// Every other field, decoded, in order (pusher-js `params`).
    pub params: Vec<(String, String)>,
}

impl AuthForm {
    /// The value of the first extra field called `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name)
    }
}

/// The value of the first field called `name` among `params`.
fn find_param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Parse an auth form body. `max_channels` caps a batch.
///
/// ```
/// use rocket_pusher::protocol::{parse_auth_form, FormChannels};
///
/// let form = parse_auth_form(b"&socket_id=1.2&channel_name[0]=private-a&channel_name[1]=presence-b%40x", 10)?;
/// assert_eq!(form.socket_id, "1.2");
/// assert_eq!(form.channels, FormChannels::Batch(vec!["private-a".into(), "presence-b@x".into()]));
/// # Ok::<(), rocket_pusher::protocol::AuthFormError>(())
/// ```
pub fn parse_auth_form(body: &[u8], max_channels: usize) -> Result<AuthForm, AuthFormError> {
    parse_auth_form_ref(body, max_channels).map(AuthFormRef::into_owned)
}

/// An [`AuthForm`] whose channel names still point into the body where they need no
/// decoding: the auth route signs them from there, instead of copying each one out.
#[derive(Debug)]
pub(crate) struct AuthFormRef<'a> {
    pub(crate) socket_id: SocketId,
    pub(crate) channels: FormChannelsRef<'a>,
    pub(crate) params: Vec<(String, String)>,
}

/// [`FormChannels`] of an [`AuthFormRef`].
#[derive(Debug)]
pub(crate) enum FormChannelsRef<'a> {
    None,
    Single(Cow<'a, str>),
    Batch(Vec<Cow<'a, str>>),
}

impl AuthFormRef<'_> {
    /// The value of the first extra field called `name`.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name)
    }

    pub(crate) fn into_owned(self) -> AuthForm {
        AuthForm {
            socket_id: self.socket_id,
            channels: match self.channels {
                FormChannelsRef::None => FormChannels::None,
                FormChannelsRef::Single(c) => FormChannels::Single(c.into_owned()),
                FormChannelsRef::Batch(list) => {
                    FormChannels::Batch(list.into_iter().map(Cow::into_owned).collect())
                }
            },
            params: self.params,
        }
    }
}

/// [`parse_auth_form`] leaving the channel names in `body`.
pub(crate) fn parse_auth_form_ref(
    body: &[u8],
    max_channels: usize,
) -> Result<AuthFormRef<'_>, AuthFormError> {
    let body = std::str::from_utf8(body).map_err(|_| AuthFormError::Encoding)?;
    let mut socket_id: Option<String> = None;
    let mut channels = FormChannelsRef::None;
    let mut params = Vec::new();
    for pair in Pairs(body) {
        let key = pair.key()?;
        let value = pair.value()?;
        match classify(&key) {
            Field::SocketId => {
                if socket_id.is_some() {
                    return Err(AuthFormError::Repeated("socket_id"));
                }
                socket_id = Some(value.into_owned());
            }
            Field::Channel => match channels {
                FormChannelsRef::None => channels = FormChannelsRef::Single(value),
                FormChannelsRef::Single(_) => {
                    return Err(AuthFormError::Repeated("channel_name"));
                }
                FormChannelsRef::Batch(_) => return Err(AuthFormError::MixedSingleAndBatch),
            },
            Field::BatchChannel => match &mut channels {
                FormChannelsRef::None => {
                    // Room for a usual batch at once, rather than growing through 1, 4, 8.
                    let mut list = Vec::with_capacity(max_channels.clamp(1, 16));
                    list.push(value);
                    channels = FormChannelsRef::Batch(list);
                }
                FormChannelsRef::Single(_) => return Err(AuthFormError::MixedSingleAndBatch),
                FormChannelsRef::Batch(list) => {
                    // A repeated channel is answered once (Flask-Pusher loops forever).
                    if !list.iter().any(|c| same(c, &value)) {
                        if list.len() >= max_channels {
                            return Err(AuthFormError::TooManyChannels { max: max_channels });
                        }
                        list.push(value);
                    }
                }
            },
            Field::Other => params.push((key.into_owned(), value.into_owned())),
        }
    }
    let socket_id = socket_id.ok_or(AuthFormError::MissingSocketId)?;
    Ok(AuthFormRef {
        socket_id: SocketId::new(socket_id).map_err(|_| AuthFormError::BadSocketId)?,
        channels,
        params,
    })
}

/// `a == b`, looking at the last bytes before calling `memcmp`: the channels of a batch
/// are often numbered alike (`private-room-1`, `private-room-2`), so most pairs differ
/// there, and this runs for every pair of channels in the batch.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().last() == b.as_bytes().last() && a == b
}

/// The `key=value` pairs of a form body, empty ones skipped. One pass over each pair's
/// bytes finds its `=` and whether either side has an escape to decode: the fields are
/// short, and a `char` pattern's searcher costs more to set up than to run on them.
struct Pairs<'a>(&'a str);

struct Pair<'a> {
    key: &'a str,
    value: &'a str,
    key_escaped: bool,
    value_escaped: bool,
}

/// The bytes [`Pairs`] stops at: a field's end, the `=` after its key, and the
/// escapes `%` and `+`; zero for every other byte, so the scan tests one table load.
const PAIR_BYTE: [u8; 256] = {
    let mut table = [0u8; 256];
    table[b'&' as usize] = AMP;
    table[b'=' as usize] = EQ;
    table[b'%' as usize] = ESC;
    table[b'+' as usize] = ESC;
    table
};
const AMP: u8 = 1;
const EQ: u8 = 2;
const ESC: u8 = 4;

/// The position of the first byte from `from` on that [`PAIR_BYTE`] marks.
///
/// Eight bytes are tested at once (a byte equal to `c` is a zero byte of `word ^ c`,
/// and the lowest byte the zero-byte test flags is always a true zero); the few bytes
/// left over one at a time.
fn next_marked(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const fn repeat(b: u8) -> u64 {
        ONES * b as u64
    }
    fn zero_bytes(x: u64) -> u64 {
        x.wrapping_sub(ONES) & !x & HIGHS
    }
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let Ok(chunk) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let w = u64::from_le_bytes(chunk);
        let hits = zero_bytes(w ^ repeat(b'&'))
            | zero_bytes(w ^ repeat(b'='))
            | zero_bytes(w ^ repeat(b'%'))
            | zero_bytes(w ^ repeat(b'+'));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let tail = bytes.get(i..)?;
    tail.iter()
        .position(|&b| PAIR_BYTE[usize::from(b)] != 0)
        .map(|p| i + p)
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Pair<'a>> {
        loop {
            let rest = self.0;
            if rest.is_empty() {
                return None;
            }
            let bytes = rest.as_bytes();
            let mut eq = None;
            let (mut key_escaped, mut value_escaped) = (false, false);
            let mut end = bytes.len();
            // Ordinary bytes are skipped eight at a time; the loop body runs only at the
            // few bytes that matter.
            let mut from = 0;
            while let Some(i) = next_marked(bytes, from) {
                match PAIR_BYTE[usize::from(bytes[i])] {
                    AMP => {
                        end = i;
                        break;
                    }
                    EQ if eq.is_none() => eq = Some(i),
                    ESC if eq.is_none() => key_escaped = true,
                    ESC => value_escaped = true,
                    _ => {}
                }
                from = i + 1;
            }
            // `&` and `=` are ASCII, so these positions are character boundaries.
            self.0 = rest.get(end + 1..).unwrap_or_default();
            if end == 0 {
                continue;
            }
            let pair = &rest[..end];
            let (key, value) = match eq {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, ""),
            };
            return Some(Pair {
                key,
                value,
                key_escaped,
                value_escaped,
            });
        }
    }
}

impl<'a> Pair<'a> {
    fn key(&self) -> Result<Cow<'a, str>, AuthFormError> {
        if self.key_escaped {
            decode(self.key)
        } else {
            Ok(Cow::Borrowed(self.key))
        }
    }

    fn value(&self) -> Result<Cow<'a, str>, AuthFormError> {
        if self.value_escaped {
            decode(self.value)
        } else {
            Ok(Cow::Borrowed(self.value))
        }
    }
}

enum Field {
    SocketId,
    Channel,
    BatchChannel,
    Other,
}

fn classify(key: &str) -> Field {
    match key {
        "socket_id" => Field::SocketId,
        "channel_name" => Field::Channel,
        _ => match key
            .strip_prefix("channel_name[")
            .and_then(|r| r.strip_suffix(']'))
        {
            Some(index) if index.bytes().all(|b| b.is_ascii_digit()) => Field::BatchChannel,
            _ => Field::Other,
        },
    }
}

/// Decode one form-urlencoded component that holds a `%` escape or a `+`.
fn decode(s: &str) -> Result<Cow<'_, str>, AuthFormError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16));
                let lo = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16));
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => return Err(AuthFormError::Encoding),
                }
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| AuthFormError::Encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pusher_js_single() {
        let f = parse_auth_form(
            b"socket_id=123.456&channel_name=private-user-42%40example.com&foo=bar%20baz&a%26b=c%3Dd&dyn=1",
            10,
        )
        .unwrap();
        assert_eq!(f.socket_id, "123.456");
        assert_eq!(
            f.channels,
            FormChannels::Single("private-user-42@example.com".into())
        );
        assert_eq!(f.param("foo"), Some("bar baz"));
        assert_eq!(f.param("a&b"), Some("c=d"));
        assert_eq!(f.param("dyn"), Some("1"));
    }

    #[test]
    fn batch_forms() {
        let f = parse_auth_form(
            b"&socket_id=1.2&channel_name%5B0%5D=private-a&channel_name[1]=private-a&channel_name[2]=private-b",
            10,
        )
        .unwrap();
        assert_eq!(
            f.channels,
            FormChannels::Batch(vec!["private-a".into(), "private-b".into()])
        );
        // Same length and last byte, yet different channels.
        let f = parse_auth_form(
            b"socket_id=1.2&channel_name[0]=private-a1&channel_name[1]=private-b1&channel_name[2]=private-a1",
            2,
        )
        .unwrap();
        assert_eq!(
            f.channels,
            FormChannels::Batch(vec!["private-a1".into(), "private-b1".into()])
        );
        assert_eq!(
            parse_auth_form(
                b"socket_id=1.2&channel_name[0]=a&channel_name[1]=b&channel_name[2]=c",
                2
            ),
            Err(AuthFormError::TooManyChannels { max: 2 })
        );
        assert_eq!(
            parse_auth_form(b"socket_id=1.2&channel_name=a&channel_name[0]=b", 2),
            Err(AuthFormError::MixedSingleAndBatch)
        );
    }

    #[test]
    fn pairs_split_on_the_first_equals_and_skip_empty_ones() {
        let f = parse_auth_form(
            b"&&socket_id=1.2&&a=b=c&flag&e=&=v&plus+key=x+y&k=%3D%26&channel_name=private-x&",
            1,
        )
        .unwrap();
        assert_eq!(f.socket_id, "1.2");
        assert_eq!(f.channels, FormChannels::Single("private-x".into()));
        let params: Vec<(&str, &str)> = f
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            params,
            [
                ("a", "b=c"),
                ("flag", ""),
                ("e", ""),
                ("", "v"),
                ("plus key", "x y"),
                ("k", "=&")
            ]
        );
        // Multi-byte text around the separators.
        let f = parse_auth_form("socket_id=1.2&é=ü€&ß".as_bytes(), 1).unwrap();
        assert_eq!(f.param("é"), Some("ü€"));
        assert_eq!(f.param("ß"), Some(""));
    }

    #[test]
    fn marked_bytes_are_found_at_every_offset() {
        for len in 0..40 {
            for at in 0..len {
                for mark in [b'&', b'=', b'%', b'+'] {
                    // Multi-byte text and bytes next to the marks around it.
                    let mut bytes: Vec<u8> = "aé%".bytes().cycle().take(len).collect();
                    bytes.iter_mut().for_each(|b| {
                        if *b == b'%' {
                            *b = b'\'';
                        }
                    });
                    bytes[at] = mark;
                    for from in 0..=at {
                        assert_eq!(next_marked(&bytes, from), Some(at), "{len} {at} {from}");
                    }
                    assert_eq!(next_marked(&bytes, at + 1), None);
                }
            }
        }
    }

    #[test]
    fn bad_forms() {
        assert_eq!(
            parse_auth_form(b"channel_name=a", 1),
            Err(AuthFormError::MissingSocketId)
        );
        assert_eq!(
            parse_auth_form(b"socket_id=1.2:x&channel_name=a", 1),
            Err(AuthFormError::BadSocketId)
        );
        assert_eq!(
            parse_auth_form(b"socket_id=1.2&socket_id=1.3", 1),
            Err(AuthFormError::Repeated("socket_id"))
        );
        assert_eq!(
            parse_auth_form(b"socket_id=1.2%", 1),
            Err(AuthFormError::Encoding)
        );
        assert_eq!(
            parse_auth_form(b"socket_id=%ff", 1),
            Err(AuthFormError::Encoding)
        );
        assert_eq!(parse_auth_form(&[0xff], 1), Err(AuthFormError::Encoding));
        let f = parse_auth_form(b"socket_id=1.2", 1).unwrap();
        assert_eq!(f.channels, FormChannels::None);
    }
}
