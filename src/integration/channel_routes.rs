//! Channel routes: authorize channels the way Rocket routes requests.
//!
//! A pattern names a family of channels with typed parameters, `private-orders.<id>`;
//! segments are separated by `.` (as Laravel's `orders.{id}`), and a parameter is a whole
//! segment, parsed with Rocket's [`FromParam`] like a path segment. Each route's handler
//! decides with the parameters and the app's own request guards. Write them with the
//! [`channel`](crate::channel) attribute and collect them with [`channels!`](crate::channels):
//!
//! ```
//! use std::collections::HashMap;
//!
//! use rocket::State;
//! use rocket::request::{self, FromRequest, Request};
//! use rocket_pusher::{channel, channels, PresenceMember, PusherFairing};
//!
//! struct User { id: u64, name: String }
//!
//! #[rocket::async_trait]
//! impl<'r> FromRequest<'r> for User {
//!     type Error = ();
//!     async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
//!         // The app's session lookup.
//! #       let _ = req;
//!         request::Outcome::Success(User { id: 7, name: "Ann".into() })
//!     }
//! }
//!
//! /// Who placed each order: managed state, or the app's database pool.
//! struct Owners(HashMap<u64, u64>);
//!
//! /// A user sees the orders they placed.
//! #[channel("private-orders.<id>")]
//! async fn orders(id: u64, user: User, owners: &State<Owners>) -> bool {
//!     owners.0.get(&id) == Some(&user.id)
//! }
//!
//! /// Anyone signed in joins a room, shown by name.
//! #[channel("presence-room.<name>")]
//! async fn room(name: &str, user: User) -> Option<PresenceMember> {
//!     let info = serde_json::json!({ "name": user.name, "room": name });
//!     Some(PresenceMember::new(user.id.to_string()).with_info(info))
//! }
//!
//! let rocket = rocket::build()
//!     .manage(Owners(HashMap::from([(1042, 7)])))
//!     .attach(PusherFairing::new().channels(channels![orders, room]));
//! # let _ = rocket;
//!
//! // The same routes name the channels the app sends on.
//! assert_eq!(orders::name(1042).unwrap(), "private-orders.1042");
//! assert_eq!(room::name("lobby").unwrap(), "presence-room.lobby");
//! assert!(room::name("a.b").is_err());
//! ```
//!
//! One declaration serves both directions: it authorizes the subscription, and its
//! `name` addresses the trigger or the [`Broadcast`](crate::Broadcast) event, so the
//! pattern is written once. `route::name(..)` takes the pattern's parameters in pattern
//! order, with the types the function declares (`&str` stays `&str`); each value is
//! formatted with `Display`, the counterpart of the `FromStr` that Rocket's `FromParam`
//! parses numbers with (an app's own parameter type implements both), and must be one
//! segment: not empty, only `A-Z a-z 0-9 - _ = @ , ;`. So the route parses the name back
//! to the same value; a value it would not (`"a.b"`, `""`, the `0.5` of an `f64`, whose
//! point splits the segment) is a
//! [`ValidationError::ParamSegment`](crate::error::ValidationError::ParamSegment) naming
//! the parameter, and a name over 200 characters is
//! [`ChannelNameTooLong`](crate::error::ValidationError::ChannelNameTooLong). A route
//! whose parameter type has no `Display` (`Option<u64>`) compiles as before; only a call
//! of its `name` does not. `route::PATTERN` is the pattern.
//!
//! Every argument not named in the pattern is taken by its type, as a Rocket handler takes
//! its arguments: any request guard (`&State<T>`, `&CookieJar<'_>`, `&Config`, `Option<G>`,
//! `Result<G, G::Error>`, the app's own guards, with lifetimes or not), the
//! [`ChannelRequest`] asked for, or the `&Request` itself.
//!
//! The attribute checks its pattern at compile time: it must name a private, presence or
//! encrypted channel that can exist, and each parameter must be a whole segment naming one
//! of the function's arguments. Ignite checks the patterns of routes built at run time
//! ([`ChannelRoute::new`]) by the same rules, and that no two routes match the same channel
//! (ignite fails naming both). A channel that no route matches is refused with 403, as is
//! a parameter that does not parse (`private-orders.abc` for a `u64`) or a guard that
//! fails; the reason is logged, never a 500.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use rocket::Request;
use rocket::request::FromParam;

use super::auth::Decision;
use super::handlers::ChannelRequest;
use crate::client::BoxFuture;
use crate::error::ValidationError;
use crate::protocol::{ChannelKind, ChannelName, MAX_CHANNEL_NAME_LEN, PresenceMember};

/// The most parameters one pattern may have.
pub const MAX_PARAMS: usize = 8;

/// What a channel route's handler may return: `bool`, [`Decision`], a
/// [`PresenceMember`] or `Option<PresenceMember>` (presence channels), or a `Result` of
/// one of these whose error (any `Display`) is logged as the reason for refusing.
pub trait IntoDecision {
    /// The decision, or the reason for refusing.
    fn into_decision(self) -> Result<Decision, String>;
}

impl IntoDecision for bool {
    fn into_decision(self) -> Result<Decision, String> {
        Ok(Decision::from(self))
    }
}

impl IntoDecision for Decision {
    fn into_decision(self) -> Result<Decision, String> {
        Ok(self)
    }
}

impl IntoDecision for PresenceMember {
    fn into_decision(self) -> Result<Decision, String> {
        Ok(Decision::AllowAs(self))
    }
}

impl IntoDecision for Option<PresenceMember> {
    fn into_decision(self) -> Result<Decision, String> {
        Ok(self.map_or(Decision::Deny, Decision::AllowAs))
    }
}

impl<T: IntoDecision, E: fmt::Display> IntoDecision for Result<T, E> {
    fn into_decision(self) -> Result<Decision, String> {
        self.map_err(|e| e.to_string())?.into_decision()
    }
}

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

type RouteFn = dyn for<'a> Fn(
        &'a Request<'_>,
        ChannelRequest<'a>,
        Captures<'a>,
    ) -> BoxFuture<'a, Result<Decision, String>>
    + Send
    + Sync;

/// One channel route: a pattern and the handler that decides for the channels it matches.
///
/// A pattern is segments separated by `.`. The first is literal text starting with
/// `private-`, `presence-` or `private-encrypted-` (other channels need no authorization);
/// a parameter `<name>` is a whole segment, at most eight, each name once; literal text
/// uses the channel-name alphabet (letters, digits, `-_=@,;`), and the shortest channel a
/// pattern matches must fit in a channel name
/// ([`MAX_CHANNEL_NAME_LEN`](crate::protocol::MAX_CHANNEL_NAME_LEN)). The
/// [`channel`](crate::channel) attribute checks its pattern at compile time; ignite checks
/// the patterns of routes [`ChannelRoute::new`] builds from a closure:
///
/// ```
/// use rocket_pusher::ChannelRoute;
/// use rocket_pusher::auth::IntoDecision;
///
/// let route = ChannelRoute::new("private-orders.<id>", |req, _ch, caps| Box::pin(async move {
///     let id: u64 = caps.param("id")?;
///     let signed_in = req.cookies().get("user").is_some();
///     (signed_in && id < 1000).into_decision()
/// }));
/// # let _ = route;
/// ```
#[derive(Clone)]
pub struct ChannelRoute {
    source: Cow<'static, str>,
    name: Cow<'static, str>,
    handler: Arc<RouteFn>,
}

impl fmt::Debug for ChannelRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelRoute")
            .field("pattern", &self.source)
            .field("name", &self.name)
            .finish()
    }
}

impl ChannelRoute {
    /// A route for `pattern` deciding with `handler`. The pattern is checked at ignite.
    pub fn new<F>(pattern: impl Into<Cow<'static, str>>, handler: F) -> Self
    where
        F: for<'a> Fn(
                &'a Request<'_>,
                ChannelRequest<'a>,
                Captures<'a>,
            ) -> BoxFuture<'a, Result<Decision, String>>
            + Send
            + Sync
            + 'static,
    {
        let source = pattern.into();
        Self {
            name: source.clone(),
            source,
            handler: Arc::new(handler),
        }
    }

    /// Name the route in logs (the attribute uses the function's name).
    #[must_use]
    pub fn named(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The pattern.
    pub fn pattern(&self) -> &str {
        &self.source
    }

    /// The route's name.
    pub fn name(&self) -> &str {
        &self.name
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
    fn key(&self) -> String {
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

    fn captures<'a>(&'a self, channel: &'a str) -> Option<Captures<'a>> {
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
    fn captures_in<'a>(
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
    fn collides(&self, other: &Self) -> bool {
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
fn fill_pattern(
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

/// The checked routes, indexed by their literal first two segments (`private-orders.items`)
/// when the second is literal, else by the first alone: routes sharing a prefix such as
/// `private-app.<x>` variants stay one or two hash lookups away.
#[derive(Default)]
pub(crate) struct ChannelRouter {
    routes: Vec<(Pattern, ChannelRoute)>,
    by_key: HashMap<String, Vec<usize>, BuildHasherDefault<KeyHasher>>,
    /// Bit `len % 64` is set for the length of every key in `by_key`: most channels a
    /// route does not match are told apart by the length of their prefix, without
    /// hashing it.
    key_lens: u64,
}

/// FNV-1a over the key's bytes. The table is filled once at ignite from the app's own
/// patterns and only read after, so a client's channel name cannot grow a probe
/// sequence beyond the table; SipHash's flood resistance would buy nothing here and
/// costs several times more on these short keys.
struct KeyHasher(u64);

impl Default for KeyHasher {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl ChannelRouter {
    /// Check every pattern and every pair; the errors name the routes.
    pub(crate) fn new(routes: &[ChannelRoute]) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut router = Self::default();
        for route in routes {
            match Pattern::parse(&route.source) {
                Ok(p) => {
                    if let Some((_, other)) = router.routes.iter().find(|(q, _)| q.collides(&p)) {
                        errors.push(format!(
                            "channel routes {} ({:?}) and {} ({:?}) match the same channels",
                            other.name, other.source, route.name, route.source
                        ));
                        continue;
                    }
                    let index = router.routes.len();
                    let key = p.key();
                    router.key_lens |= 1 << (key.len() % 64);
                    router.by_key.entry(key).or_default().push(index);
                    router.routes.push((p, route.clone()));
                }
                Err(e) => errors.push(format!(
                    "channel route {} has an invalid pattern {:?}: {e}",
                    route.name, route.source
                )),
            }
        }
        if errors.is_empty() {
            Ok(router)
        } else {
            Err(errors)
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The route matching `channel` and its captures (at most one can match).
    fn find<'a>(&'a self, channel: &'a str) -> Option<(&'a ChannelRoute, Captures<'a>)> {
        /// Channels with more segments than this (rare: a name is at most 200
        /// characters) are split per pattern instead.
        const SPLIT: usize = 16;
        let mut dots = channel
            .bytes()
            .enumerate()
            .filter_map(|(i, b)| (b == b'.').then_some(i));
        let first_end = dots.next();
        let first = &channel[..first_end.unwrap_or(channel.len())];
        let first_two = first_end.map(|_| &channel[..dots.next().unwrap_or(channel.len())]);
        let lookup = |key: &str| {
            if self.key_lens & (1 << (key.len() % 64)) == 0 {
                return None;
            }
            self.by_key.get(key)
        };
        let by_two = first_two.and_then(lookup);
        let by_first = lookup(first);
        if by_two.is_none() && by_first.is_none() {
            return None;
        }
        let candidates = || by_two.into_iter().chain(by_first).flatten();
        // Split the channel once, on the stack; each candidate then compares segments.
        let mut parts = [(0, 0); SPLIT];
        let mut len = 0;
        let mut start = 0;
        for (i, b) in channel.bytes().enumerate().chain([(channel.len(), b'.')]) {
            if b == b'.' {
                if len == SPLIT {
                    return candidates().find_map(|&i| {
                        let (pattern, route) = &self.routes[i];
                        pattern.captures(channel).map(|c| (route, c))
                    });
                }
                parts[len] = (start, i);
                len += 1;
                start = i + 1;
            }
        }
        candidates().find_map(|&i| {
            let (pattern, route) = &self.routes[i];
            pattern
                .captures_in(channel, &parts[..len])
                .map(|c| (route, c))
        })
    }

    /// Decide for one channel; `None` when no route matches it.
    pub(crate) async fn decide(
        &self,
        req: &Request<'_>,
        channel: ChannelRequest<'_>,
    ) -> Option<Result<Decision, String>> {
        let (route, captures) = self.find(channel.channel.as_str())?;
        let decision = (route.handler)(req, channel, captures).await;
        Some(decision.map_err(|reason| format!("{}: {reason}", route.name)))
    }
}

#[doc(hidden)]
pub(crate) mod __private {
    //! Used by the code the `channel` attribute generates, through the crate's
    //! `__private` module, so the paths it names are all there.
    use std::future::{Ready, ready};
    use std::marker::PhantomData;

    use rocket::Request;
    use rocket::outcome::Outcome;
    use rocket::request::{FromParam, FromRequest};

    use super::{Captures, ChannelRequest};
    pub use super::{ChannelRoute, IntoDecision};
    use crate::client::BoxFuture;
    use crate::error::ValidationError;
    use crate::protocol::ChannelName;

    /// `route::name(..)`: the channel `pattern` names with `values` (its parameters, in
    /// pattern order) in place, each checked to be a segment the route captures again.
    pub fn channel_name(
        pattern: &'static str,
        values: &[&dyn std::fmt::Display],
    ) -> Result<ChannelName, ValidationError> {
        super::fill_pattern(pattern, values)
    }

    /// Parameter `index` of the pattern, parsed as the argument `name`'s type.
    pub fn param<'a, T: FromParam<'a>>(
        caps: Captures<'a>,
        index: usize,
        name: &str,
    ) -> Result<T, String> {
        let raw = caps.get(index).unwrap_or_default();
        T::from_param(raw).map_err(|e| format!("parameter <{name}> = {raw:?} did not parse: {e:?}"))
    }

    /// Resolves an argument that is not a pattern parameter, by its type: the generated
    /// code calls `<Arg<T>>::resolve(req, channel, name)` for the argument's type `T`.
    /// The inherent `resolve` of `Arg<ChannelRequest>` and `Arg<&Request>` hands over
    /// those values; for every other `T` no inherent method applies, so the call resolves
    /// to [`Guard::resolve`], which runs `T` as a request guard. The type itself decides,
    /// through an alias or a re-export alike; a `T` that is none of these fails to
    /// compile with "`T: FromRequest` is not satisfied".
    pub struct Arg<T>(PhantomData<T>);

    impl<T> std::fmt::Debug for Arg<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(std::any::type_name::<Self>())
        }
    }

    impl<'a> Arg<ChannelRequest<'a>> {
        pub fn resolve(
            _: &'a Request<'_>,
            channel: ChannelRequest<'a>,
            _: &str,
        ) -> Ready<Result<ChannelRequest<'a>, String>> {
            ready(Ok(channel))
        }
    }

    impl<'a, 'r> Arg<&'a Request<'r>> {
        pub fn resolve(
            req: &'a Request<'r>,
            _: ChannelRequest<'a>,
            _: &str,
        ) -> Ready<Result<&'a Request<'r>, String>> {
            ready(Ok(req))
        }
    }

    /// Any other argument: a request guard, as in a Rocket handler.
    pub trait Guard<'a, T> {
        fn resolve(
            req: &'a Request<'_>,
            channel: ChannelRequest<'a>,
            name: &'static str,
        ) -> BoxFuture<'a, Result<T, String>>
        where
            T: FromRequest<'a> + 'a;
    }

    // The bound is on the method, not the impl, so a type that is no guard is reported
    // as "`T: FromRequest` is not satisfied" on the argument's type.
    impl<'a, T> Guard<'a, T> for Arg<T> {
        // The future is boxed here, where `T: FromRequest<'a>` is known: an `async fn`
        // awaited in the generated route would have the compiler prove that bound for
        // every lifetime, which guards borrowing from the request (`&State<T>`,
        // `&CookieJar<'_>`) do not meet.
        fn resolve(
            req: &'a Request<'_>,
            _: ChannelRequest<'a>,
            name: &'static str,
        ) -> BoxFuture<'a, Result<T, String>>
        where
            T: FromRequest<'a> + 'a,
        {
            let guard = T::from_request(req);
            Box::pin(async move {
                let ty = std::any::type_name::<T>();
                match guard.await {
                    Outcome::Success(v) => Ok(v),
                    Outcome::Error((status, e)) => {
                        Err(format!("guard {name}: {ty} failed with {status}: {e:?}"))
                    }
                    Outcome::Forward(status) => {
                        Err(format!("guard {name}: {ty} forwarded with {status}"))
                    }
                }
            })
        }
    }

    /// The channel-route matcher alone, as the auth route runs it; for `benches/`.
    pub struct Matcher(super::ChannelRouter);

    impl std::fmt::Debug for Matcher {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Matcher")
                .field("routes", &self.0.routes.len())
                .finish()
        }
    }

    impl Matcher {
        /// Check the routes as ignite does.
        pub fn new(routes: &[super::ChannelRoute]) -> Result<Self, Vec<String>> {
            super::ChannelRouter::new(routes).map(Self)
        }

        /// The name of the route matching `channel`, and its first parameter.
        pub fn find<'a>(&'a self, channel: &'a str) -> Option<(&'a str, Option<&'a str>)> {
            self.0
                .find(channel)
                .map(|(route, captures)| (route.name(), captures.get(0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(p: &'static str) -> ChannelRoute {
        ChannelRoute::new(p, |_, _, _| Box::pin(async { Ok(Decision::Allow) }))
    }

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

    #[test]
    fn collisions() {
        let ok = ChannelRouter::new(&[
            route("private-orders.<id>"),
            route("private-orders.<id>.items"),
            route("presence-room.<name>"),
            route("private-orders"),
        ]);
        assert!(ok.is_ok());
        let e = ChannelRouter::new(&[route("private-a.<x>.b"), route("private-a.c.<y>")])
            .err()
            .unwrap();
        assert!(
            e[0].contains("private-a.<x>.b") && e[0].contains("private-a.c.<y>"),
            "{e:?}"
        );
        assert!(ChannelRouter::new(&[route("private-a.b"), route("private-a.b")]).is_err());
    }

    #[test]
    fn finds_by_literal_and_dynamic_second_segment() {
        let routes = [
            route("private-a.x.<id>").named("lit"),
            route("private-a.<y>.z.<k>").named("dyn"),
            route("private-a").named("one"),
            route("private-a.w").named("two"),
        ];
        let router = ChannelRouter::new(&routes).unwrap();
        let name = |c: &str| router.find(c).map(|(r, _)| r.name().to_owned());
        assert_eq!(name("private-a.x.1").as_deref(), Some("lit"));
        assert_eq!(name("private-a.q.z.1").as_deref(), Some("dyn"));
        assert_eq!(name("private-a.x.z.1").as_deref(), Some("dyn"));
        assert_eq!(name("private-a").as_deref(), Some("one"));
        assert_eq!(name("private-a.w").as_deref(), Some("two"));
        assert_eq!(name("private-a.q.q"), None);
        assert_eq!(name("private-b.x.1"), None);
    }

    #[test]
    fn finds_among_many() {
        let routes: Vec<_> = (0..100)
            .map(|i| {
                ChannelRoute::new(format!("private-r{i}.<id>"), |_, _, _| {
                    Box::pin(async { Ok(Decision::Allow) })
                })
                .named(format!("r{i}"))
            })
            .collect();
        let router = ChannelRouter::new(&routes).unwrap();
        let (r, c) = router.find("private-r57.9").unwrap();
        assert_eq!(r.name(), "r57");
        assert_eq!(c.get(0), Some("9"));
        assert!(router.find("private-r57").is_none());
        assert!(router.find("private-r57.9.x").is_none());
        assert!(router.find("private-r57.").is_none());
        let many = format!("private-r1{}", ".x".repeat(20));
        assert!(router.find(&many).is_none());
        let deep = ChannelRouter::new(&[route("private-d.<a>.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.<z>")])
            .unwrap();
        let (_, c) = deep
            .find("private-d.1.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.2")
            .unwrap();
        assert_eq!((c.get(0), c.get(1)), (Some("1"), Some("2")));
        assert!(router.find("private-zz.1").is_none());
    }
}
