//! The form bodies pusher-js and the pusher-js-auth batch plugin post to auth endpoints.
//!
//! * pusher-js: `socket_id=123.456&channel_name=private-a` then the app's own params;
//! * pusher-js-auth: `&socket_id=123.456&channel_name[0]=private-a&channel_name[1]=…`
//!   (a leading `&`, brackets unencoded; other clients may encode them as `%5B0%5D`);
//! * user sign-in: `socket_id=123.456` then params.
//!
//! Values are `application/x-www-form-urlencoded`: `%XX` escapes and `+` for space.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use super::names::SocketId;

/// Why an auth form was refused; each maps to a 400 with this text as the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFormError {
    /// No `socket_id` field.
    MissingSocketId,
    /// `socket_id` is not `digits.digits`.
    BadSocketId,
    /// No `channel_name` field (channel authorization only).
    MissingChannel,
    /// A field that must appear once appeared twice.
    Repeated(&'static str),
    /// Both `channel_name` and `channel_name[i]` fields.
    MixedSingleAndBatch,
    /// More channels in one batch than allowed.
    TooManyChannels {
        /// The limit.
        max: usize,
    },
    /// A bad `%` escape, or text that is not UTF-8.
    Encoding,
}

impl std::fmt::Display for AuthFormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingSocketId => f.write_str("missing socket_id"),
            Self::BadSocketId => f.write_str("malformed socket_id"),
            Self::MissingChannel => f.write_str("missing channel_name"),
            Self::Repeated(v0) => write!(f, "{v0} given more than once"),
            Self::MixedSingleAndBatch => {
                f.write_str("channel_name and channel_name[i] cannot be mixed")
            }
            Self::TooManyChannels { max } => write!(f, "more than {max} channels in one batch"),
            Self::Encoding => f.write_str("malformed form encoding"),
        }
    }
}

impl std::error::Error for AuthFormError {}

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

impl FormChannels {
    /// The channel names, as sent: none, one, or the batch's.
    pub fn names(&self) -> &[String] {
        match self {
            Self::None => &[],
            Self::Single(name) => std::slice::from_ref(name),
            Self::Batch(names) => names,
        }
    }
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
pub(crate) fn find_param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
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
    let body = std::str::from_utf8(body).map_err(|_| AuthFormError::Encoding)?;
    let mut socket_id = None;
    let mut channels = FormChannels::None;
    let mut params = Vec::new();
    for pair in pairs(body) {
        let (key, value) = pair?;
        match classify(&key) {
            Field::SocketId => {
                if socket_id.replace(value).is_some() {
                    return Err(AuthFormError::Repeated("socket_id"));
                }
            }
            Field::Channel => match channels {
                FormChannels::None => channels = FormChannels::Single(value.into_owned()),
                FormChannels::Single(_) => return Err(AuthFormError::Repeated("channel_name")),
                FormChannels::Batch(_) => return Err(AuthFormError::MixedSingleAndBatch),
            },
            Field::BatchChannel => match &mut channels {
                FormChannels::None => channels = FormChannels::Batch(vec![value.into_owned()]),
                FormChannels::Single(_) => return Err(AuthFormError::MixedSingleAndBatch),
                // A repeated channel is answered once (Flask-Pusher loops forever).
                FormChannels::Batch(list) if list.iter().any(|c| *c == value) => {}
                FormChannels::Batch(list) if list.len() >= max_channels => {
                    return Err(AuthFormError::TooManyChannels { max: max_channels });
                }
                FormChannels::Batch(list) => list.push(value.into_owned()),
            },
            Field::Other => params.push((key.into_owned(), value.into_owned())),
        }
    }
    let socket_id = socket_id.ok_or(AuthFormError::MissingSocketId)?;
    Ok(AuthForm {
        socket_id: SocketId::new(socket_id).map_err(|_| AuthFormError::BadSocketId)?,
        channels,
        params,
    })
}

/// The decoded `(name, value)` pairs of a form body, empty ones skipped: what
/// `form_urlencoded::parse` gives, but an error for a bad escape instead of U+FFFD.
// Not `form_urlencoded::parse`: it cost 1.0k instructions more per auth request (1.2 %)
// and 6.4k per batch of 10 (3.9 %). `pairs_are_form_urlencodeds` compares the two.
fn pairs(body: &str) -> impl Iterator<Item = Result<(Cow<'_, str>, Cow<'_, str>), AuthFormError>> {
    body.split('&').filter(|pair| !pair.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        Ok((decode(name)?, decode(value)?))
    })
}

/// One form-urlencoded name or value: `+` is a space, `%XX` a byte; the text must be
/// UTF-8 and every `%` an escape.
fn decode(s: &str) -> Result<Cow<'_, str>, AuthFormError> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(Cow::Borrowed(s));
    }
    let spaced = s.replace('+', " ");
    let escapes = spaced.split('%').skip(1).all(|after| {
        matches!(after.as_bytes(), [hi, lo, ..] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit())
    });
    match percent_decode_str(&spaced).decode_utf8() {
        Ok(text) if escapes => Ok(Cow::Owned(text.into_owned())),
        _ => Err(AuthFormError::Encoding),
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

    proptest::proptest! {
        #[test]
        fn pairs_are_form_urlencodeds(
            fields in proptest::collection::vec(("\\PC{0,6}", "\\PC{0,6}", 0..4u8), 0..6),
            noise in "[&=+a%]{0,4}",
        ) {
            // Names and values encoded every way a client may (escapes in either case,
            // `+` for space, raw text), with stray separators around them.
            let mut body = noise.replace('%', "%25");
            for (name, value, style) in &fields {
                let encode = |s: &str| match style {
                    0 => s.bytes().map(|b| format!("%{b:02X}")).collect::<String>(),
                    1 => s.bytes().map(|b| format!("%{b:02x}")).collect(),
                    2 => form_urlencoded::byte_serialize(s.as_bytes()).collect(),
                    _ => s.replace(['%', '&', '=', '+'], ""),
                };
                body.push_str(&format!("&{}={}", encode(name), encode(value)));
            }
            let ours: Vec<_> = pairs(&body).collect::<Result<_, _>>().unwrap();
            let theirs: Vec<_> = form_urlencoded::parse(body.as_bytes()).collect();
            proptest::prop_assert_eq!(ours, theirs);
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
        assert_eq!(
            parse_auth_form(b"socket_id=1.2&x=%zz", 1),
            Err(AuthFormError::Encoding)
        );
        assert_eq!(
            parse_auth_form(b"socket_id=1.2&x=%e2%98", 1),
            Err(AuthFormError::Encoding)
        );
        assert_eq!(parse_auth_form(&[0xff], 1), Err(AuthFormError::Encoding));
        // U+FFFD sent as such is text like any other.
        let f = parse_auth_form("socket_id=1.2&a=\u{fffd}&b=%EF%BF%BD".as_bytes(), 1).unwrap();
        assert_eq!(f.param("a"), Some("\u{fffd}"));
        assert_eq!(f.param("b"), Some("\u{fffd}"));
        let f = parse_auth_form(b"socket_id=1.2", 1).unwrap();
        assert_eq!(f.channels, FormChannels::None);
    }
}
