//! Every kind of argument a channel route takes, by its type: pattern parameters, the
//! guards a Rocket handler takes (borrowed, optional, fallible, with lifetimes),
//! `ChannelRequest` under any name, `&Request`; and `channels!` naming routes by path.

use rocket::http::CookieJar;
use rocket::request::{self, FromRequest, Request};
use rocket::{Config, State};
use rocket_pusher::{ChannelRoute, PresenceMember, channel, channels};

struct User {
    id: u64,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = &'static str;

    async fn from_request(_: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        request::Outcome::Success(User { id: 7 })
    }
}

/// A guard borrowing from the request.
struct Session<'r>(&'r str);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Session<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        request::Outcome::Success(Session(req.uri().path().as_str()))
    }
}

/// The app's own types that share a name with the crate's: guards like any other.
mod app {
    use rocket::request::{self, FromRequest, Request as RocketRequest};

    pub struct ChannelRequest;

    #[rocket::async_trait]
    impl<'r> FromRequest<'r> for ChannelRequest {
        type Error = ();

        async fn from_request(_: &'r RocketRequest<'_>) -> request::Outcome<Self, ()> {
            request::Outcome::Success(ChannelRequest)
        }
    }

    pub struct Request;

    #[rocket::async_trait]
    impl<'r> FromRequest<'r> for &'r Request {
        type Error = ();

        async fn from_request(_: &'r RocketRequest<'_>) -> request::Outcome<Self, ()> {
            request::Outcome::Success(&Request)
        }
    }
}

type Asking<'a> = rocket_pusher::ChannelRequest<'a>;

struct Db(Vec<u64>);

mod routes {
    use super::*;

    #[channel("private-orders.<id>")]
    pub async fn orders(
        id: u64,
        user: User,
        db: &State<Db>,
        jar: &CookieJar<'_>,
        config: &Config,
    ) -> bool {
        db.0.contains(&id) && user.id == id && jar.get("x").is_none() && config.port > 0
    }
}

#[channel("presence-room.<name>")]
async fn room(
    name: &str,
    user: Option<User>,
    session: Result<Session<'_>, ()>,
    asking: Asking<'_>,
    req: &Request<'_>,
    mine: app::ChannelRequest,
    also_mine: &app::Request,
) -> Option<PresenceMember> {
    let _ = (mine, also_mine, req.method());
    let member = PresenceMember::new(user?.id.to_string());
    (session.is_ok() && asking.param("room") == Some(name)).then_some(member)
}

#[channel("private-encrypted-inbox.<user_id>.<mut_box>")]
async fn inbox(user_id: u64, mut mut_box: String) -> Result<bool, String> {
    mut_box.push('!');
    Ok(user_id > 0 && mut_box.len() > 1)
}

fn main() {
    let routes: Vec<ChannelRoute> = channels![routes::orders, room, inbox];
    let names: Vec<_> = routes.iter().map(|r| (r.name(), r.pattern())).collect();
    assert_eq!(
        names,
        [
            ("orders", "private-orders.<id>"),
            ("room", "presence-room.<name>"),
            ("inbox", "private-encrypted-inbox.<user_id>.<mut_box>"),
        ]
    );
}
