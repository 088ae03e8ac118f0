//! Used by the code the `channel` attribute generates, through the crate's
//! `__private` module, so the paths it names are all there.
use std::future::{Ready, ready};
use std::marker::PhantomData;

use rocket::Request;
use rocket::outcome::Outcome;
use rocket::request::{FromParam, FromRequest};

pub use super::decision::{PresenceAnswer, PrivateAnswer};
use super::{Captures, ChannelRequest};
pub use super::{ChannelRoute, IntoDecision};
use crate::client::BoxFuture;
use crate::error::ValidationError;
use crate::protocol::ChannelName;
pub use rocket::sentinel::resolve as sentry;

/// `route::name(..)`: the channel `pattern` names with `values` (its parameters, in
/// pattern order) in place, each checked to be a segment the route captures again.
pub fn channel_name(
    pattern: &'static str,
    values: &[&dyn std::fmt::Display],
) -> Result<ChannelName, ValidationError> {
    super::pattern::fill_pattern(pattern, values)
}

/// A `presence-` route's answer, which must name the member.
pub fn presence_answer<T: PresenceAnswer>(answer: T) -> Result<super::Decision, String> {
    answer.into_decision()
}

/// A `private-` or `private-encrypted-` route's answer, which must not.
pub fn private_answer<T: PrivateAnswer>(answer: T) -> Result<super::Decision, String> {
    answer.into_decision()
}

/// The route with Rocket's sentinels of its request guards' types.
pub fn with_sentinels(
    mut route: ChannelRoute,
    sentinels: Vec<rocket::sentinel::Sentry>,
) -> ChannelRoute {
    route.sentinels = sentinels;
    route
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
            .field("routes", &self.0.len())
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
