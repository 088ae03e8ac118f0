//! Your own routes with the guards, and no mounted route: channel auth decided with your
//! own request guards, a webhook route with `VerifiedWebhook<T>`, and the sender excluded
//! with `SocketId`.
//!
//! ```sh
//! cargo run --example own_routes
//! curl -X POST -d 'socket_id=1.2&channel_name=private-user-alice' -b user=alice http://127.0.0.1:5000/auth
//! ```
//!
//! Its tests, at the end, are an app's tests written with `rocket_pusher::testing`:
//! `cargo test --example own_routes`.

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

#[cfg(test)]
mod tests {
    use rocket::http::{Cookie, Header, Status};
    use rocket::local::blocking::Client;
    use rocket_pusher::PresenceEvent;
    use rocket_pusher::testing::{self, LocalClientExt};

    /// The app as `main` builds it, sending nothing to Pusher.
    fn client() -> Client {
        Client::tracked(testing::recording(super::rocket())).expect("the app ignites")
    }

    #[test]
    fn ping_pongs_on_the_users_channel_except_to_the_sender() {
        let client = client();
        let res = client
            .post("/ping")
            .cookie(Cookie::new("user", "alice"))
            .header(Header::new("X-Socket-ID", "123.456"))
            .dispatch();
        assert_eq!(res.status(), Status::Accepted);
        assert_eq!(
            client.sent::<String>("private-user-alice", "pong"),
            ["pong"]
        );
        assert_eq!(
            client.sent_events()[0].socket_id.as_deref(),
            Some("123.456")
        );
    }

    #[test]
    fn webhooks_are_verified() {
        let client = client();
        let joined = PresenceEvent::MemberAdded {
            channel: "presence-lobby".into(),
            user_id: "alice".into(),
        };
        let res = client.signed_webhook("/webhooks", [&joined]).dispatch();
        assert_eq!(res.status(), Status::Ok);
        let res = client
            .wrongly_signed_webhook("/webhooks", [&joined])
            .dispatch();
        assert_eq!(res.status(), Status::Forbidden);
    }

    #[test]
    fn users_join_only_their_own_channel() {
        let client = client();
        let auth = |channel: &str| {
            client
                .post("/auth")
                .header(rocket::http::ContentType::Form)
                .cookie(Cookie::new("user", "alice"))
                .body(format!("socket_id=1.2&channel_name={channel}"))
                .dispatch()
                .status()
        };
        assert_eq!(auth("private-user-alice"), Status::Ok);
        assert_eq!(auth("private-user-bob"), Status::Forbidden);
    }
}
