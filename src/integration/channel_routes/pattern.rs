//! A channel route's pattern: parsed and checked ([`Pattern`]), matched against a channel
//! name ([`Captures`]), and filled with values to name a channel (`route::name(..)`).

use std::fmt;

use rocket::request::FromParam;

use super::MAX_PARAMS;
use crate::error::ValidationError;
use crate::protocol::{ChannelKind, ChannelName, MAX_CHANNEL_NAME_LEN};

/// The parameters a pattern captured from a channel name.
#[derive(Debug, Clone, Copy)]
pub struct Captures<'a> {
    channel: &'a str,
    names: &'a [String],
    spans: [(usize, usize); MAX_PARAMS],
    len: usize,
}

impl<'a> Captures<'a> {
    /// The raw text of parameter `index` (in pattern order).
    pub fn get(&self, index: usize) -> Option<&'a str> {
        let &(start, end) = self.spans[..self.len].get(index)?;
        self.channel.get(start..end)
    }

    /// The raw text of the parameter called `name`.
    pub fn get_named(&self, name: &str) -> Option<&'a str> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.get(i))
    }

    /// Parse the parameter called `name` with [`FromParam`], as Rocket parses a path
    /// segment; the error says which parameter failed.
    pub fn param<T: FromParam<'a>>(&self, name: &str) -> Result<T, String> {
        let raw = self
            .get_named(name)
            .ok_or_else(|| format!("the pattern has no parameter <{name}>"))?;
        T::from_param(raw).map_err(|e| format!("parameter <{name}> = {raw:?} did not parse: {e:?}"))
    }
}
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Static(String),
    Param,
}

/// A parsed, checked pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    segments: Vec<Segment>,
    names: Vec<String>,
}

impl Pattern {
    /// The `channel` attribute checks the same rules at compile time, with the same
    /// messages (`codegen/src/pattern.rs`): a change here belongs there too.
    pub(crate) fn parse(source: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut min_len = 0;
        for (i, seg) in source.split('.').enumerate() {
            if i > 0 {
                min_len += 1;
            }
            if let Some(name) = seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                let ident = name
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !ident {
                    return Err(format!("<{name}> is not a parameter name"));
                }
                if names.iter().any(|n| n == name) {
                    return Err(format!("parameter <{name}> appears twice"));
                }
                if i == 0 {
                    return Err(
                        "the first segment must be literal text naming the channel type".into(),
                    );
                }
                names.push(name.to_owned());
                segments.push(Segment::Param);
                min_len += 1;
            } else {
                if seg.contains(['<', '>']) {
                    return Err(format!(
                        "{seg:?}: a parameter must be a whole segment between dots"
                    ));
                }
                if let Some(c) = seg.chars().find(|&c| !is_segment_char(c)) {
                    return Err(format!("{c:?} can never appear in a channel name"));
                }
                min_len += seg.len();
                segments.push(Segment::Static(seg.to_owned()));
            }
        }
        if names.len() > MAX_PARAMS {
            return Err(format!("at most {MAX_PARAMS} parameters"));
        }
        if min_len > MAX_CHANNEL_NAME_LEN {
            return Err(format!(
                "its shortest match is {min_len} characters, over the {MAX_CHANNEL_NAME_LEN} of a channel name"
            ));
        }
        match ChannelKind::of(source) {
            ChannelKind::Private | ChannelKind::Presence | ChannelKind::PrivateEncrypted => {}
            _ => {
                return Err(
                    "must start with private-, presence- or private-encrypted- (other channels need no authorization)"
                        .into(),
                );
            }
        }
        Ok(Self { segments, names })
    }

    /// The index key: the literal first two segments, or the first alone.
    pub(super) fn key(&self) -> String {
        match (self.segments.first(), self.segments.get(1)) {
            (Some(Segment::Static(a)), Some(Segment::Static(b))) => format!("{a}.{b}"),
            _ => self.first().to_owned(),
        }
    }

    fn first(&self) -> &str {
        match self.segments.first() {
            Some(Segment::Static(s)) => s,
            _ => "",
        }
    }

    pub(super) fn captures<'a>(&'a self, channel: &'a str) -> Option<Captures<'a>> {
        let mut parts = Vec::new();
        let mut start = 0;
        for part in channel.split('.') {
            parts.push((start, start + part.len()));
            start += part.len() + 1;
        }
        self.captures_in(channel, &parts)
    }

    /// Match against `channel` already split at its dots (`parts` are byte spans), so
    /// the many patterns sharing a first segment do not each split it again. Literal
    /// segments are compared before any parameter is recorded.
    pub(super) fn captures_in<'a>(
        &'a self,
        channel: &'a str,
        parts: &[(usize, usize)],
    ) -> Option<Captures<'a>> {
        if parts.len() != self.segments.len() {
            return None;
        }
        let bytes = channel.as_bytes();
        for (seg, &(start, end)) in self.segments.iter().zip(parts) {
            match seg {
                Segment::Static(s) if bytes.get(start..end) == Some(s.as_bytes()) => {}
                Segment::Static(_) => return None,
                Segment::Param if start == end => return None,
                Segment::Param => {}
            }
        }
        let mut spans = [(0, 0); MAX_PARAMS];
        let mut len = 0;
        for (seg, &span) in self.segments.iter().zip(parts) {
            if *seg == Segment::Param {
                spans[len] = span;
                len += 1;
            }
        }
        Some(Captures {
            channel,
            names: &self.names,
            spans,
            len,
        })
    }

    /// Can one channel name match both? (Rocket's rule for path segments.)
    pub(super) fn collides(&self, other: &Self) -> bool {
        self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|pair| match pair {
                    (Segment::Static(a), Segment::Static(b)) => a == b,
                    _ => true,
                })
    }
}

/// Can `c` be part of one segment of a channel name (the channel-name alphabet but `.`)?
fn is_segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=' | '@' | ',' | ';')
}

/// The channel `pattern` (checked by the `channel` attribute) names with `values`, its
/// parameters in order, in place: each must be a segment the route captures again.
pub(super) fn fill_pattern(
    pattern: &'static str,
    values: &[&dyn fmt::Display],
) -> Result<ChannelName, ValidationError> {
    use std::fmt::Write as _;

    let mut name = String::with_capacity(pattern.len() + 8 * values.len());
    let mut values = values.iter();
    for (i, seg) in pattern.split('.').enumerate() {
        if i > 0 {
            name.push('.');
        }
        let Some(param) = seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')) else {
            name.push_str(seg);
            continue;
        };
        let start = name.len();
        if let Some(value) = values.next() {
            // A `Display` that fails leaves what it wrote, checked as any value is.
            let _ = write!(name, "{value}");
        }
        let written = &name[start..];
        if written.is_empty() {
            return Err(ValidationError::ParamSegment { param, ch: None });
        }
        if let Some(ch) = written.chars().find(|&c| !is_segment_char(c)) {
            return Err(ValidationError::ParamSegment {
                param,
                ch: Some(ch),
            });
        }
    }
    ChannelName::new(name)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_match() {
        let p = Pattern::parse("private-orders.<id>.items.<item>").unwrap();
        let c = p.captures("private-orders.42.items.x=1").unwrap();
        assert_eq!(c.get(0), Some("42"));
        assert_eq!(c.get_named("item"), Some("x=1"));
        assert_eq!(c.param::<u64>("id"), Ok(42));
        assert!(c.param::<u64>("item").unwrap_err().contains("<item>"));
        assert!(p.captures("private-orders.42.items").is_none());
        assert!(p.captures("private-orders.42.items.x.y").is_none());
        assert!(p.captures("private-orders..items.x").is_none());
        assert!(p.captures("private-order.42.items.x").is_none());
    }

    #[test]
    fn invalid_patterns() {
        for (bad, why) in [
            ("orders.<id>", "must start with"),
            ("private-orders.<i d>", "not a parameter name"),
            ("private-orders.<id>.<id>", "appears twice"),
            ("private-orders.x<id>", "whole segment"),
            ("private-orders.a b", "can never appear"),
            ("<kind>.x", "first segment"),
            ("private-p.<a>.<b>.<c>.<d>.<e>.<f>.<g>.<h>.<i>", "at most 8"),
            ("#server-to-user-<id>", "whole segment"),
            ("#server-to-user.<id>", "can never appear"),
        ] {
            let e = Pattern::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = format!("private-{}.<id>", "a".repeat(196));
        assert!(Pattern::parse(&long).unwrap_err().contains("200"));
    }
}
