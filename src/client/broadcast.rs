//! Typed broadcast events: an app's event type names its event and its channels once.

use serde::Serialize;

use super::{Pusher, Trigger};
use crate::error::ValidationError;
use crate::protocol::ChannelName;

/// An event type of the app, sent with [`Pusher::broadcast`]: the event name and the
/// channels are declared once, on the type, and the data is its serde form (so
/// `#[serde(skip)]`, `rename` and the like shape what clients receive).
///
/// Derive it next to `Serialize`. `#[broadcast(..)]` takes `channel = <expression>`, once
/// per channel (at least one): any channel argument [`Pusher::trigger`] takes (a string,
/// a [`ChannelName`], the `Result` a [`channel`](crate::channel) route's `name` returns, a
/// list of them), evaluated with `self` in scope. `event = "name"` is optional: the type's
/// name is the default. Both are checked where they are written: a missing channel, an
/// empty or overlong event name, an unknown key or a channel expression of the wrong type
/// does not compile.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), rocket_pusher::Error> {
/// use rocket::serde::Serialize;
/// use rocket_pusher::protocol::Credentials;
/// use rocket_pusher::{Broadcast, Pusher, channel};
/// # struct User { id: u64 }
/// # #[rocket::async_trait]
/// # impl<'r> rocket::request::FromRequest<'r> for User {
/// #     type Error = ();
/// #     async fn from_request(_: &'r rocket::Request<'_>) -> rocket::request::Outcome<Self, ()> {
/// #         rocket::request::Outcome::Success(User { id: 7 })
/// #     }
/// # }
///
/// /// Who may subscribe to an order's channel: the route that also names it.
/// #[channel("private-orders.<id>")]
/// async fn orders(id: u64, user: User) -> bool {
///     id == user.id
/// }
///
/// #[derive(Serialize, Broadcast)]
/// #[serde(crate = "rocket::serde")]
/// #[broadcast(
///     event = "order.shipped",
///     channel = orders::name(self.order_id),
///     channel = "private-audit",
/// )]
/// struct OrderShipped {
///     order_id: u64,
///     carrier: String,
///     #[serde(skip)]
///     warehouse_note: String,
/// }
///
/// let pusher = Pusher::recording(Credentials::new("1", "key", "secret"));
/// let shipped = OrderShipped { order_id: 7, carrier: "DHL".into(), warehouse_note: "".into() };
/// pusher.broadcast(&shipped).await?;
///
/// let sent = pusher.recorder().unwrap().events();
/// assert_eq!(sent[0].name, "order.shipped");
/// assert_eq!(sent[0].channels, ["private-orders.7", "private-audit"]);
/// assert_eq!(sent[0].data, r#"{"order_id":7,"carrier":"DHL"}"#);
/// # Ok(()) }
/// ```
///
/// Written by hand, it is a constant and a function:
///
/// ```
/// use rocket_pusher::Broadcast;
/// use rocket_pusher::error::ValidationError;
/// use rocket_pusher::protocol::{ChannelName, UserId};
///
/// #[derive(serde::Serialize)]
/// struct Kicked {
///     room: String,
///     #[serde(skip)]
///     user: String,
/// }
///
/// impl Broadcast for Kicked {
///     const EVENT: &'static str = "kicked";
///
///     /// The room, and the user's own channel (only the server sends on it).
///     fn channels(&self) -> Result<Vec<ChannelName>, ValidationError> {
///         Ok(vec![
///             ChannelName::new(format!("presence-room.{}", self.room))?,
///             ChannelName::server_to_user(&UserId::new(&*self.user)?),
///         ])
///     }
/// }
///
/// let kicked = Kicked { room: "lobby".into(), user: "alice".into() };
/// let channels = kicked.channels()?;
/// assert_eq!(channels, ["presence-room.lobby", "#server-to-user-alice"]);
/// # Ok::<(), ValidationError>(())
/// ```
pub trait Broadcast: Serialize {
    /// The event name clients bind to (derive default: the type's name, as written).
    const EVENT: &'static str;

    /// The channels it goes to (1 to 100).
    fn channels(&self) -> Result<Vec<ChannelName>, ValidationError>;
}

impl Pusher {
    /// Send a typed event: [`E::EVENT`](Broadcast::EVENT) with `event`'s serde form as its
    /// data, on [`event.channels()`](Broadcast::channels). The returned [`Trigger`] is the
    /// one [`trigger`](Self::trigger) returns: `.exclude(socket_id)`, then await it.
    ///
    /// Every kind of channel works: public, private, presence, a user's
    /// `#server-to-user-` channel, and a `private-encrypted-` channel, whose data is
    /// encrypted. As with `trigger`, an encrypted channel must be the only one: an event
    /// listing it with others fails with
    /// [`ValidationError::EncryptedMultiChannel`] when awaited, and so does a name that
    /// could not be built (the error its `channels` returned).
    ///
    /// ```no_run
    /// # use rocket_pusher::Broadcast;
    /// # #[derive(serde::Serialize, Broadcast)]
    /// # #[broadcast(channel = "presence-room.lobby")]
    /// # struct Message { text: String }
    /// # async fn run(pusher: &rocket_pusher::Pusher, sender: Option<rocket_pusher::SocketId>)
    /// # -> Result<(), rocket_pusher::Error> {
    /// // To everyone on the event's channels but the connection that sent it.
    /// pusher.broadcast(&Message { text: "hi".into() }).exclude(sender).await?;
    /// # Ok(()) }
    /// ```
    pub fn broadcast<'a, E: Broadcast + ?Sized>(&'a self, event: &'a E) -> Trigger<'a, E> {
        self.trigger(event.channels(), E::EVENT, event)
    }
}
