//! A channel route has no generic parameters: its guards borrow for `'_`.

use rocket::request::{self, FromRequest, Request};
use rocket_pusher::channel;

struct Team<'r>(&'r str);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Team<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        request::Outcome::Success(Team(req.uri().path().as_str()))
    }
}

#[channel("private-team.<name>")]
async fn team<'r>(name: &str, team: Team<'r>) -> bool {
    name == team.0
}

fn main() {}
