//! [`SocketId`] as a request guard: the sender's connection, from `X-Socket-ID`.

use rocket::Request;
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest};

use crate::error::ValidationError;
use crate::protocol::SocketId;

/// The most characters of a refused header value a log line repeats.
const LOGGED_CHARS: usize = 40;

/// The sender's socket id from the `X-Socket-ID` header, to exclude the sender when
/// triggering (what Laravel's `toOthers()` does). pusher-js exposes it as
/// `pusher.connection.socket_id`; the page sends it with its own requests.
///
/// How a route takes it decides what a missing or malformed header does:
///
/// | argument | no header | malformed (`garbage`) |
/// | --- | --- | --- |
/// | `SocketId` | forwards (400 if no other route matches) | 400 |
/// | `Option<SocketId>` | `None` | `None`, logged at warn level with the reason |
/// | `Result<SocketId, ValidationError>` | forwards (400) | `Err(reason)`, for the route to answer |
///
/// A malformed header is logged at warn level whichever the argument: with
/// `Option<SocketId>` the trigger then excludes nobody, and the sender gets its own event
/// back.
///
/// ```
/// use rocket::{post, routes, State};
/// use rocket_pusher::{Pusher, SocketId};
///
/// #[post("/messages", data = "<text>")]
/// async fn send(pusher: &State<Pusher>, sender: Option<SocketId>, text: String)
///     -> Result<(), rocket_pusher::Error>
/// {
///     pusher.trigger("private-room", "message", &text).exclude(sender).await?;
///     Ok(())
/// }
/// # let _ = routes![send];
/// ```
///
/// A route that refuses a malformed id with its own answer:
///
/// ```
/// use rocket::http::Status;
/// use rocket::{post, routes, State};
/// use rocket_pusher::error::ValidationError;
/// use rocket_pusher::{Pusher, SocketId};
///
/// #[post("/messages", data = "<text>")]
/// async fn send(
///     pusher: &State<Pusher>,
///     sender: Result<SocketId, ValidationError>,
///     text: String,
/// ) -> Result<(), (Status, String)> {
///     let sender = sender.map_err(|e| (Status::BadRequest, e.to_string()))?;
///     pusher
///         .trigger("private-room", "message", &text)
///         .exclude(sender)
///         .await
///         .map_err(|e| (Status::BadGateway, e.to_string()))?;
///     Ok(())
/// }
/// # let _ = routes![send];
/// ```
#[rocket::async_trait]
impl<'r> FromRequest<'r> for SocketId {
    type Error = ValidationError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match req.headers().get_one("X-Socket-ID") {
            None => Outcome::Forward(Status::BadRequest),
            Some(v) => match SocketId::new(v.trim()) {
                Ok(id) => Outcome::Success(id),
                Err(e) => {
                    // `Option<SocketId>` turns this into `None` without a word; the sender
                    // would then get its own event back, so say why here.
                    let shown: String = v.chars().take(LOGGED_CHARS).collect();
                    log::warn!(
                        "pusher: malformed X-Socket-ID {shown:?} on {} {}: {e}",
                        req.method(),
                        req.uri().path()
                    );
                    Outcome::Error((Status::BadRequest, e))
                }
            },
        }
    }
}
