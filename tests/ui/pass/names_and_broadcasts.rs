//! Route-built names with every kind of parameter type (borrowed, with a lifetime, an
//! app's own `FromParam` type, one without `Display` that is never named), used from
//! another module; and broadcast events of every shape the derive takes.

use std::fmt;

use rocket::request::FromParam;
use rocket_pusher::{Broadcast, ChannelName, Pusher, channel, channels};

/// An app's own parameter type, borrowing from the channel name.
pub struct Slug<'a>(&'a str);

impl<'a> FromParam<'a> for Slug<'a> {
    type Error = ();

    fn from_param(param: &'a str) -> Result<Self, ()> {
        Ok(Slug(param))
    }
}

impl fmt::Display for Slug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

mod routes {
    use super::*;

    #[channel("private-shop.<shop>.orders.<id>")]
    pub async fn orders(id: u64, shop: Slug<'_>) -> bool {
        id > 0 && !shop.0.is_empty()
    }

    #[channel("presence-room.<name>")]
    pub(crate) async fn room(name: &str) -> Option<rocket_pusher::PresenceMember> {
        (!name.is_empty()).then(|| rocket_pusher::PresenceMember::new("1"))
    }

    /// No `Display` for `Option<u64>`: the route works, `name` is not called.
    #[channel("private-maybe.<id>")]
    pub async fn maybe(id: Option<u64>) -> bool {
        id.is_some()
    }

    #[channel("private-all")]
    pub async fn all() -> bool {
        true
    }
}

#[derive(serde::Serialize, Broadcast)]
#[broadcast(event = "order.placed", channel = routes::orders::name(Slug(&self.shop), self.id))]
struct Placed {
    shop: String,
    id: u64,
}

/// Enums, tuple structs, unit structs, lifetimes and generics: whatever serde serializes.
#[derive(serde::Serialize, Broadcast)]
#[serde(tag = "type")]
#[broadcast(channel = routes::room::name(self.room()), channel = routes::all::name())]
enum RoomEvent<'a> {
    Opened { room: &'a str },
    Closed { room: &'a str, reason: String },
}

impl RoomEvent<'_> {
    fn room(&self) -> &str {
        match self {
            Self::Opened { room } | Self::Closed { room, .. } => room,
        }
    }
}

#[derive(serde::Serialize, Broadcast)]
#[broadcast(event = "tick", channel = "clock")]
struct Tick(u64);

#[derive(serde::Serialize, Broadcast)]
#[broadcast(channel = vec!["a", "b"])]
#[broadcast(channel = ChannelName::new("c"))]
struct Unit;

#[derive(serde::Serialize, Broadcast)]
#[broadcast(event = "wrapped", channel = &self.channel)]
struct Wrapped<T: serde::Serialize> {
    #[serde(skip)]
    channel: ChannelName,
    inner: T,
}

fn send(pusher: &Pusher) {
    let _ = pusher.broadcast(&Tick(1));
    let _ = pusher.broadcast(&Unit);
}

fn main() {
    let name = routes::orders::name(Slug("corner"), 7).unwrap();
    assert_eq!(name, "private-shop.corner.orders.7");
    assert_eq!(routes::room::name("hall").unwrap(), "presence-room.hall");
    assert_eq!(routes::maybe::PATTERN, "private-maybe.<id>");
    let _ = channels![routes::orders, routes::room, routes::maybe, routes::all];

    let placed = Placed { shop: "corner".into(), id: 7 };
    assert_eq!(placed.channels().unwrap(), [name]);
    assert_eq!(Placed::EVENT, "order.placed");
    let opened = RoomEvent::Opened { room: "hall" };
    assert_eq!(opened.channels().unwrap(), ["presence-room.hall", "private-all"]);
    assert_eq!(RoomEvent::EVENT, "RoomEvent");
    let closed = RoomEvent::Closed { room: "x", reason: "late".into() };
    assert_eq!(closed.channels().unwrap()[0], "presence-room.x");
    assert_eq!(Unit.channels().unwrap(), ["a", "b", "c"]);
    let wrapped = Wrapped { channel: ChannelName::new("w").unwrap(), inner: 1u8 };
    assert_eq!(wrapped.channels().unwrap(), ["w"]);
    let _ = send;
}
