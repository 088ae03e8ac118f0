//! The demo: a chat room on Pusher Channels, served by Rocket.
//!
//! * sign in with a name (a cookie), see who is online (a presence channel with names),
//!   post messages to everyone else (the sender's socket is excluded), send a private
//!   note over an end-to-end encrypted channel, and a direct message to one signed-in
//!   user;
//! * Pusher's webhooks arrive at the app's own routes through `VerifiedWebhook<T>` and
//!   feed the live activity log on the page.
//!
//! Run it with `scripts/demo` (starts a local sockudo server too), or against Pusher's
//! service: `PUSHER_URL=https://KEY:SECRET@api-eu.pusher.com/apps/APP_ID cargo run --example chat`.

use std::sync::Mutex;

use rocket::fs::{FileServer, relative};
use rocket::http::{Cookie, CookieJar, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{Request, State, get, post, routes};
use rocket_pusher::protocol::UserId;
use rocket_pusher::{
    ChannelExistenceEvent, ClientConfig, ClientEvent, PresenceEvent, PresenceMember, Pusher,
    PusherFairing, SocketId, UserData, VerifiedWebhook, channel, channels,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The room the page joins; any `presence-room.<name>` is a room (see `room` below).
const ROOM: &str = "presence-room.lobby";
/// Notes sent here are encrypted end to end: the Pusher server only sees ciphertext.
const NOTES: &str = "private-encrypted-notes";
/// Public channel on which the activity log (from webhooks) is broadcast.
const ACTIVITY: &str = "activity";

/// The signed-in user: a name kept in a cookie by the page, or sent as
/// `Authorization: Bearer <name>` by clients without cookies (pusher-js in Node may not
/// set a Cookie header). A demo, not an auth system: use your real session guard here.
struct User(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let name = req
            .cookies()
            .get("user")
            .map(|c| c.value().to_owned())
            .or_else(|| {
                req.headers()
                    .get_one("Authorization")
                    .and_then(|h| h.strip_prefix("Bearer "))
                    .map(str::to_owned)
            });
        match name {
            Some(name) if valid_name(&name) => Outcome::Success(User(name)),
            _ => Outcome::Forward(Status::Unauthorized),
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 32 && UserId::new(name).is_ok()
}

#[derive(rocket::FromForm)]
struct Login {
    name: String,
}

#[post("/login", data = "<form>")]
fn login(
    form: rocket::form::Form<Login>,
    cookies: &CookieJar<'_>,
) -> Result<Redirect, (Status, &'static str)> {
    let name = form.name.trim();
    if !valid_name(name) {
        return Err((
            Status::BadRequest,
            "a name is 1 to 32 letters, digits, - _ . or @",
        ));
    }
    cookies.add(
        Cookie::build(("user", name.to_owned()))
            .path("/")
            .same_site(rocket::http::SameSite::Strict),
    );
    Ok(Redirect::to("/"))
}

#[post("/logout")]
fn logout(cookies: &CookieJar<'_>) -> Redirect {
    cookies.remove(Cookie::build("user").path("/"));
    Redirect::to("/")
}

/// What the page needs: pusher-js options and who is signed in.
#[get("/session")]
fn session(client: &State<ClientConfig>, user: Option<User>) -> Json<serde_json::Value> {
    Json(json!({
        "key": client.key,
        "options": client.pusher_js_options(),
        "user": user.map(|u| u.0),
        "room": ROOM,
        "notes": NOTES,
        "activity": ACTIVITY,
    }))
}

#[derive(Deserialize)]
struct Text {
    text: String,
}

#[derive(Deserialize)]
struct Direct {
    to: String,
    text: String,
}

fn check_text(text: &str) -> Result<(), (Status, &'static str)> {
    if text.trim().is_empty() || text.len() > 2000 {
        Err((Status::BadRequest, "a message is 1 to 2000 bytes"))
    } else {
        Ok(())
    }
}

type Reply = Result<Status, (Status, String)>;

fn upstream(e: rocket_pusher::Error) -> (Status, String) {
    match e {
        rocket_pusher::Error::Validation(v) => (Status::BadRequest, v.to_string()),
        other => (Status::BadGateway, other.to_string()),
    }
}

/// A message to the room; the sender's own connection is excluded (it shows the message
/// itself), so nobody sees it twice.
#[post("/messages", format = "json", data = "<msg>")]
async fn message(
    pusher: &State<Pusher>,
    user: User,
    sender: Option<SocketId>,
    msg: Json<Text>,
) -> Reply {
    check_text(&msg.text).map_err(|(s, m)| (s, m.to_owned()))?;
    pusher
        .trigger(
            ROOM,
            "message",
            &json!({ "from": user.0, "text": msg.text }),
        )
        .exclude(sender)
        .await
        .map_err(upstream)?;
    Ok(Status::Accepted)
}

/// A note on the encrypted channel: `Pusher` seals it with the channel's key.
#[post("/notes", format = "json", data = "<msg>")]
async fn note(pusher: &State<Pusher>, user: User, msg: Json<Text>) -> Reply {
    check_text(&msg.text).map_err(|(s, m)| (s, m.to_owned()))?;
    pusher
        .trigger(NOTES, "note", &json!({ "from": user.0, "text": msg.text }))
        .await
        .map_err(upstream)?;
    Ok(Status::Accepted)
}

/// A direct message to one signed-in user, and a delivery notice on the sender's own
/// private channel.
#[post("/direct", format = "json", data = "<msg>")]
async fn direct(pusher: &State<Pusher>, user: User, msg: Json<Direct>) -> Reply {
    check_text(&msg.text).map_err(|(s, m)| (s, m.to_owned()))?;
    pusher
        .send_to_user(
            &msg.to,
            "direct",
            &json!({ "from": user.0, "text": msg.text }),
        )
        .await
        .map_err(upstream)?;
    pusher
        .trigger(
            format!("private-user.{}", user.0),
            "delivered",
            &json!({ "to": msg.to }),
        )
        .await
        .map_err(upstream)?;
    Ok(Status::Accepted)
}

/// Who Pusher says is in the room right now (a REST query).
#[get("/online")]
async fn online(pusher: &State<Pusher>) -> Result<Json<Vec<String>>, (Status, String)> {
    let users = pusher.users(ROOM).await.map_err(upstream)?;
    Ok(Json(users.into_iter().map(|u| u.id).collect()))
}

/// One line of the activity log, from a webhook.
#[derive(Debug, Clone, Serialize)]
struct Entry {
    /// `app` for the app's own `VerifiedWebhook` routes, `fairing` for the mounted ones.
    via: &'static str,
    event: String,
    channel: String,
    user_id: Option<String>,
}

impl Entry {
    fn presence(e: &PresenceEvent) -> Self {
        Self::new(e.name(), e.channel(), Some(e.user_id()))
    }

    fn existence(e: &ChannelExistenceEvent) -> Self {
        Self::new(e.name(), e.channel(), None)
    }

    fn client(e: &ClientEvent) -> Self {
        Self::new(&e.event, &e.channel, e.user_id.as_deref())
    }

    fn new(event: &str, channel: &str, user_id: Option<&str>) -> Self {
        Self {
            via: "",
            event: event.into(),
            channel: channel.into(),
            user_id: user_id.map(Into::into),
        }
    }
}

/// An entry with its place in the log: the page subscribes to the live entries, then
/// fetches the log, and merges the two by `seq` without gaps or duplicates.
#[derive(Debug, Clone, Serialize)]
struct Logged {
    seq: u64,
    #[serde(flatten)]
    entry: Entry,
}

#[derive(Default)]
struct Activity(Mutex<Vec<Logged>>);

impl Activity {
    /// Log what one webhook brought; the entries of the app's own routes are also
    /// broadcast to the page.
    async fn record(
        &self,
        pusher: &Pusher,
        via: &'static str,
        entries: impl IntoIterator<Item = Entry>,
    ) {
        // The activity channel's own comings and goings would only echo the log.
        for entry in entries.into_iter().filter(|e| e.channel != ACTIVITY) {
            let logged = {
                let Ok(mut log) = self.0.lock() else { return };
                let logged = Logged {
                    seq: log.last().map_or(1, |l| l.seq + 1),
                    entry: Entry { via, ..entry },
                };
                log.push(logged.clone());
                let excess = log.len().saturating_sub(500);
                log.drain(..excess);
                logged
            };
            if via == "app"
                && let Err(e) = pusher.trigger(ACTIVITY, "entry", &logged).await
            {
                log::warn!("could not broadcast activity: {e}");
            }
        }
    }
}

/// The fairing's webhook handlers reach the log through the request.
async fn record_from_fairing(req: &Request<'_>, entries: Vec<Entry>) {
    if let (Some(pusher), Some(log)) = (
        req.rocket().state::<Pusher>(),
        req.rocket().state::<Activity>(),
    ) {
        log.record(pusher, "fairing", entries).await;
    }
}

#[get("/activity")]
fn activity(log: &State<Activity>) -> Json<Vec<Logged>> {
    Json(log.0.lock().map(|l| l.clone()).unwrap_or_default())
}

#[post("/hooks/presence", data = "<hook>")]
async fn presence_hook(
    hook: VerifiedWebhook<PresenceEvent>,
    pusher: &State<Pusher>,
    log: &State<Activity>,
) {
    log.record(pusher, "app", hook.events.iter().map(Entry::presence))
        .await;
}

#[post("/hooks/channels", data = "<hook>")]
async fn channel_hook(
    hook: VerifiedWebhook<ChannelExistenceEvent>,
    pusher: &State<Pusher>,
    log: &State<Activity>,
) {
    log.record(pusher, "app", hook.events.iter().map(Entry::existence))
        .await;
}

#[post("/hooks/client", data = "<hook>")]
async fn client_hook(
    hook: VerifiedWebhook<ClientEvent>,
    pusher: &State<Pusher>,
    log: &State<Activity>,
) {
    log.record(pusher, "app", hook.events.iter().map(Entry::client))
        .await;
}

/// Rooms: any signed-in user joins any `presence-room.<name>` and is shown by name.
#[channel("presence-room.<name>")]
async fn room(name: &str, user: User) -> Option<PresenceMember> {
    let valid = name.len() <= 32 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then(|| PresenceMember::new(user.0.clone()).with_info(json!({ "name": user.0 })))
}

/// The encrypted notes channel: every signed-in user.
#[channel("private-encrypted-notes")]
async fn notes(_user: User) -> bool {
    true
}

/// Each user's own private channel, where the app posts notices for them alone
/// (here: that a direct message was delivered). Only its owner may join it.
#[channel("private-user.<name>")]
async fn own_channel(name: &str, user: User) -> bool {
    name == user.0
}

fn fairing() -> PusherFairing {
    PusherFairing::new()
        // Who may join which channel: the channel routes below.
        .channels(channels![room, notes, own_channel])
        .user_signin(|req, _| {
            Box::pin(async move {
                let user = req.guard::<User>().await.succeeded()?;
                Some(UserData::new(user.0.clone()).with_info(json!({ "name": user.0 })))
            })
        })
        // The mounted webhook routes feed the same log, marked `fairing`; the page shows
        // the entries of the app's own routes.
        .on_presence(|req, hook| {
            Box::pin(record_from_fairing(
                req,
                hook.events.iter().map(Entry::presence).collect(),
            ))
        })
        .on_channel_existence(|req, hook| {
            Box::pin(record_from_fairing(
                req,
                hook.events.iter().map(Entry::existence).collect(),
            ))
        })
        .on_client_event(|req, hook| {
            Box::pin(record_from_fairing(
                req,
                hook.events.iter().map(Entry::client).collect(),
            ))
        })
}

#[rocket::launch]
fn rocket() -> _ {
    let mut figment = rocket::Config::figment();
    // The usual Pusher variable: credentials and host in one URL.
    if let Ok(url) = std::env::var("PUSHER_URL") {
        figment = figment.merge(("pusher", json!({ "url": url })));
    }
    rocket::custom(figment)
        .attach(fairing())
        .manage(Activity::default())
        .mount(
            "/",
            routes![
                login,
                logout,
                session,
                message,
                note,
                direct,
                online,
                activity,
                presence_hook,
                channel_hook,
                client_hook
            ],
        )
        .mount("/", FileServer::from(relative!("examples/chat/static")))
        // pusher-js from npm; ranked before the static files, which would only forward.
        .mount(
            "/vendor",
            FileServer::from(relative!("examples/chat/node_modules/pusher-js/dist/web")).rank(9),
        )
}
