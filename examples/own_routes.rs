//! Your own routes with the guards, and no mounted route: channel auth decided with your
//! own request guards, a webhook route with `VerifiedWebhook<T>`, and the sender excluded
//! with `SocketId`.
//!
//! ```sh
//! cargo run --example own_routes
//! curl -X POST -d 'socket_id=1.2&channel_name=private-user-alice' -b user=alice http://127.0.0.1:5000/auth
//! ```

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};
use rocket::{Request, State, post, routes};
use rocket_pusher::error::WebhookRejection;
use rocket_pusher::{
    ChannelAuthRequest, ChannelAuthResponse, Decision, Event, PresenceMember, Pusher,
    PusherFairing, SocketId, VerifiedWebhook,
};

/// The app's user, from a cookie (use your real session guard here).
struct User(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match req.cookies().get("user") {
            Some(c) => Outcome::Success(User(c.value().to_owned())),
            None => Outcome::Error((Status::Forbidden, ())),
        }
    }
}

/// Each user may join only their own private channel and the lobby.
#[post("/auth", data = "<req>")]
fn auth(req: ChannelAuthRequest, user: User, pusher: &State<Pusher>) -> ChannelAuthResponse {
    req.respond(pusher, |ch| match ch.channel.as_str() {
        "presence-lobby" => Decision::AllowAs(PresenceMember::new(user.0.clone())),
        name if name == format!("private-user-{}", user.0) => Decision::Allow,
        _ => Decision::Deny,
    })
}

/// Every webhook Pusher sends, verified; a bad one is answered with its JSON reason.
#[post("/webhooks", data = "<hook>")]
fn webhooks(
    hook: Result<VerifiedWebhook<Event>, WebhookRejection>,
) -> Result<Status, WebhookRejection> {
    for event in &hook?.events {
        println!("{} on {:?}", event.name(), event.channel());
    }
    Ok(Status::Ok)
}

/// Posts to the user's own channel, not back to the connection that asked.
#[post("/ping")]
async fn ping(
    user: User,
    pusher: &State<Pusher>,
    sender: Option<SocketId>,
) -> Result<Status, rocket_pusher::Error> {
    pusher
        .trigger(format!("private-user-{}", user.0), "pong", "pong")
        .exclude(sender)
        .await?;
    Ok(Status::Accepted)
}

#[rocket::launch]
fn rocket() -> _ {
    rocket::build()
        .attach(PusherFairing::new().without_routes())
        .mount("/", routes![auth, webhooks, ping])
}
