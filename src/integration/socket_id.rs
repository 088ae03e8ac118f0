//! [`SocketId`] as a request guard: the sender's connection, from `X-Socket-ID`.

use rocket::Request;
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest};

use crate::error::ValidationError;
use crate::protocol::SocketId;

/// The sender's socket id from the `X-Socket-ID` header, to exclude the sender when
/// triggering (what Laravel's `toOthers()` does). pusher-js exposes it as
/// `pusher.connection.socket_id`; the page sends it with its own requests.
///
/// A missing or malformed header fails with 400; take `Option<SocketId>` to make it
/// optional.
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
#[rocket::async_trait]
impl<'r> FromRequest<'r> for SocketId {
    type Error = ValidationError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        match req.headers().get_one("X-Socket-ID") {
            None => Outcome::Forward(Status::BadRequest),
            Some(v) => match SocketId::new(v.trim()) {
                Ok(id) => Outcome::Success(id),
                Err(e) => Outcome::Error((Status::BadRequest, e)),
            },
        }
    }
}
