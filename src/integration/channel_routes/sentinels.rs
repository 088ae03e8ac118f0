//! Rocket's sentinels for channel routes: Rocket checks those of the mounted routes at
//! launch (a `&State<T>` of state never managed aborts it), so the channel routes' are
//! carried by the auth route that runs them.

use rocket::http::{Method, Status};
use rocket::route::{Outcome, Route, StaticInfo};
use rocket::sentinel::Sentry;

/// `route` carrying `sentinels`. A `Route`'s sentinels can only be set through the
/// `StaticInfo` Rocket's own `#[get]` builds (public, but hidden from its docs); every other
/// field of `route` is public, so it is moved over whole.
pub(crate) fn carrying_sentinels(route: Route, sentinels: Vec<Sentry>) -> Route {
    if sentinels.is_empty() {
        return route;
    }
    let mut carrier = Route::from(StaticInfo {
        name: "",
        method: Method::Get,
        uri: "/",
        format: None,
        // Replaced below by `route`'s.
        handler: |_, _| Box::pin(async { Outcome::error(Status::NotFound) }),
        rank: None,
        sentinels,
    });
    carrier.name = route.name;
    carrier.method = route.method;
    carrier.handler = route.handler;
    carrier.uri = route.uri;
    carrier.rank = route.rank;
    carrier.format = route.format;
    carrier
}
