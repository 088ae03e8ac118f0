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
//! [`ChannelRequest`] asked for, or the `&Request` itself. The guards' types are Rocket
//! sentinels as in a `#[get]` route: a `&State<T>` of state never managed stops launch. The
//! function may be `async` or not; its return type must fit the pattern's kind (a
//! `presence-` route names the member, a `private-` one answers yes or no), else it does
//! not compile.
//!
//! The attribute checks its pattern at compile time: it must name a private, presence or
//! encrypted channel that can exist, and each parameter must be a whole segment naming one
//! of the function's arguments. Ignite checks the patterns of routes built at run time
//! ([`ChannelRoute::new`]) by the same rules, and that no two routes match the same channel
//! (ignite fails naming both). A channel that no route matches is refused with 403, as is
//! a parameter that does not parse (`private-orders.abc` for a `u64`), a guard that fails
//! or a route that answers no; the reason is logged, never a 500.

mod decision;
#[doc(hidden)]
pub(crate) mod generated;
mod pattern;
mod router;
mod sentinels;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use rocket::Request;
use rocket::sentinel::Sentry;

use super::auth::Decision;
use super::handlers::ChannelRequest;
use crate::client::BoxFuture;

pub use decision::IntoDecision;
pub(crate) use generated as __private;
pub use pattern::Captures;
pub(crate) use router::ChannelRouter;
pub(crate) use sentinels::carrying_sentinels;

/// The most parameters one pattern may have.
pub const MAX_PARAMS: usize = 8;
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
    pub(super) source: Cow<'static, str>,
    pub(super) name: Cow<'static, str>,
    pub(super) handler: Arc<RouteFn>,
    /// Rocket's sentinels of the route's request guards (from the attribute).
    pub(super) sentinels: Vec<Sentry>,
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
            sentinels: Vec::new(),
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
