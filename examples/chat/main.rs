//! The demo: a chat room on Pusher Channels, served by Rocket.
//!
//! * sign in with a name (a cookie), see who is online (a presence channel with names),
//!   post messages to everyone else (the sender's socket is excluded), send a private
//!   note over an end-to-end encrypted channel, and a direct message to one signed-in
//!   user;
//! * Pusher's webhooks arrive at the app's own routes through `VerifiedWebhook<T>` and
//!   feed the live activity log on the page.
//!
//! What the server sends are typed events (`#[derive(Broadcast)]`): each type names its
//! event and its channel once, and the channel names come from the channel routes that
//! authorize them (`room::name("lobby")` is `presence-room.lobby`). Messages, notes,
//! notices and the activity log are queued (`.queue()`): the route answers at once, and
//! the fairing's dispatcher delivers them in order per channel, batched, and drains the
//! queue when Rocket shuts down. A direct message is awaited instead, so that the notice
//! saying it was delivered is true.
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
use rocket_pusher::protocol::{ChannelName, UserId};
use rocket_pusher::{
    Broadcast, ChannelExistenceEvent, ClientConfig, ClientEvent, PresenceEvent, PresenceMember,
    Pusher, PusherFairing, SocketId, UserData, VerifiedWebhook, channel, channels,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The room the page joins; any `presence-room.<name>` is a room (see `room` below).
const LOBBY: &str = "lobby";
/// Public channel on which the activity log (from webhooks) is broadcast. Public channels
/// need no channel route: anyone may listen.
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

/// What the page needs: pusher-js options, who is signed in, the channels to join.
#[get("/session")]
fn session(
    client: &State<ClientConfig>,
    user: Option<User>,
) -> Result<Json<serde_json::Value>, Refusal> {
    Ok(Json(json!({
        "key": client.key,
        "options": client.pusher_js_options(),
        "user": user.map(|u| u.0),
        "lobby": LOBBY,
        "room": room::name(LOBBY)?,
        "notes": notes::name()?,
        "activity": ACTIVITY,
    })))
}

#[derive(Deserialize)]
struct Text {
    text: String,
}

#[derive(Deserialize)]
struct ToUser {
    to: String,
    text: String,
}

/// Why a route refused, as a status and `{"error": reason}`: a bad request (400), or the
/// `Pusher` client's error (400 for a name the protocol refuses, 503 when the queue is
/// full, 502 when Pusher failed).
#[derive(rocket::Responder)]
enum Refusal {
    #[response(status = 400)]
    Bad(Json<serde_json::Value>),
    Pusher(rocket_pusher::Error),
}

impl Refusal {
    fn bad(reason: &str) -> Self {
        Self::Bad(Json(json!({ "error": reason })))
    }
}

impl From<rocket_pusher::Error> for Refusal {
    fn from(e: rocket_pusher::Error) -> Self {
        Self::Pusher(e)
    }
}

impl From<rocket_pusher::error::ValidationError> for Refusal {
    fn from(e: rocket_pusher::error::ValidationError) -> Self {
        Self::Pusher(e.into())
    }
}

fn check_text(text: &str) -> Result<(), Refusal> {
    if text.trim().is_empty() || text.len() > 2000 {
        Err(Refusal::bad("a message is 1 to 2000 bytes"))
    } else {
        Ok(())
    }
}

/// A message to a room, as its members receive it: `{from, text}` on the room's
/// presence channel, whose name the `room` channel route builds.
#[derive(Serialize, Broadcast)]
#[broadcast(event = "message", channel = room::name(&self.room))]
struct ChatMessage {
    #[serde(skip)]
    room: String,
    from: String,
    text: String,
}

/// A note, on the end-to-end encrypted channel: `Pusher` seals it with the channel's key
/// when it is queued.
#[derive(Serialize, Broadcast)]
#[broadcast(event = "note", channel = notes::name())]
struct Note {
    from: String,
    text: String,
}

/// A direct message, on the recipient's own `#server-to-user-` channel (what
/// `Pusher::send_to_user` sends to).
#[derive(Serialize, Broadcast)]
#[broadcast(
    event = "direct",
    channel = UserId::new(&*self.to).map(|to| ChannelName::server_to_user(&to)),
)]
struct DirectMessage {
    #[serde(skip)]
    to: String,
    from: String,
    text: String,
}

/// The notice that a direct message was delivered, on the sender's own private channel.
#[derive(Serialize, Broadcast)]
#[broadcast(event = "delivered", channel = own_channel::name(&self.sender))]
struct Delivered {
    #[serde(skip)]
    sender: String,
    to: String,
}

type Reply = Result<Status, Refusal>;

/// A message to a room; the sender's own connection is excluded (it shows the message
/// itself), so nobody sees it twice. Queued: the answer does not wait for Pusher.
#[post("/rooms/<room>/messages", format = "json", data = "<msg>")]
fn message(
    room: &str,
    pusher: &State<Pusher>,
    user: User,
    sender: Option<SocketId>,
    msg: Json<Text>,
) -> Reply {
    check_text(&msg.text)?;
    let message = ChatMessage {
        room: room.to_owned(),
        from: user.0,
        text: msg.into_inner().text,
    };
    pusher.broadcast(&message).exclude(sender).queue()?;
    Ok(Status::Accepted)
}

#[derive(Deserialize)]
struct Load {
    rooms: Vec<String>,
    count: usize,
}

/// Most messages one `/load` request queues.
const MAX_LOAD: usize = 5_000;

/// Load for the end-to-end test and the benchmarks of queued delivery, not for the page:
/// `count` messages (at most 5,000) from the signed-in user to `rooms` in turn, numbered
/// in each room (`#0`, `#1`, …) so that a listener can check it got them all, in order.
/// Answers how many it queued and how many were still waiting for delivery then; a full
/// queue stops it with 503 and the number it had queued.
#[post("/load", format = "json", data = "<load>")]
fn load(pusher: &State<Pusher>, user: User, load: Json<Load>) -> (Status, Json<serde_json::Value>) {
    let refuse = |status, reason: String| (status, Json(json!({ "error": reason })));
    if load.rooms.is_empty() || load.rooms.len() > 100 || load.count > MAX_LOAD {
        let reason = format!("1 to 100 rooms and at most {MAX_LOAD} messages");
        return refuse(Status::BadRequest, reason);
    }
    // Every room's name first: a bad one refuses the whole request before anything is queued.
    if let Some(e) = load.rooms.iter().find_map(|r| room::name(r).err()) {
        return refuse(Status::BadRequest, e.to_string());
    }
    for i in 0..load.count {
        let room = &load.rooms[i % load.rooms.len()];
        let message = ChatMessage {
            room: room.clone(),
            from: user.0.clone(),
            text: format!("#{}", i / load.rooms.len()),
        };
        if let Err(e) = pusher.broadcast(&message).queue() {
            let reply = json!({ "error": e.to_string(), "queued": i });
            return (Status::ServiceUnavailable, Json(reply));
        }
    }
    let pending = pusher.queue_stats().pending();
    let reply = json!({ "queued": load.count, "pending": pending });
    (Status::Accepted, Json(reply))
}

/// A note on the encrypted channel, queued.
#[post("/notes", format = "json", data = "<msg>")]
fn note(pusher: &State<Pusher>, user: User, msg: Json<Text>) -> Reply {
    check_text(&msg.text)?;
    let note = Note {
        from: user.0,
        text: msg.into_inner().text,
    };
    pusher.broadcast(&note).queue()?;
    Ok(Status::Accepted)
}

/// A direct message to one signed-in user, awaited: the notice on the sender's own
/// private channel (queued) says it was delivered only once Pusher took it.
#[post("/direct", format = "json", data = "<msg>")]
async fn direct(pusher: &State<Pusher>, user: User, msg: Json<ToUser>) -> Reply {
    check_text(&msg.text)?;
    let ToUser { to, text } = msg.into_inner();
    let direct = DirectMessage {
        to,
        from: user.0.clone(),
        text,
    };
    pusher.broadcast(&direct).await?;
    let delivered = Delivered {
        sender: user.0,
        to: direct.to,
    };
    pusher.broadcast(&delivered).queue()?;
    Ok(Status::Accepted)
}

/// Who Pusher says is in the room right now (a REST query).
#[get("/online")]
async fn online(pusher: &State<Pusher>) -> Result<Json<Vec<String>>, Refusal> {
    let users = pusher.users(room::name(LOBBY)?.as_str()).await?;
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
#[derive(Debug, Clone, Serialize, Broadcast)]
#[broadcast(event = "entry", channel = ACTIVITY)]
struct Logged {
    seq: u64,
    #[serde(flatten)]
    entry: Entry,
}

#[derive(Default)]
struct Activity(Mutex<Vec<Logged>>);

impl Activity {
    /// Log what one webhook brought; the entries of the app's own routes are also
    /// broadcast to the page. Queued while the log is locked, so they go out in the order
    /// of their `seq`.
    fn record(&self, pusher: &Pusher, via: &'static str, entries: impl IntoIterator<Item = Entry>) {
        let Ok(mut log) = self.0.lock() else { return };
        // The activity channel's own comings and goings would only echo the log.
        for entry in entries.into_iter().filter(|e| e.channel != ACTIVITY) {
            let logged = Logged {
                seq: log.last().map_or(1, |l| l.seq + 1),
                entry: Entry { via, ..entry },
            };
            if via == "app"
                && let Err(e) = pusher.broadcast(&logged).queue()
            {
                log::warn!("could not broadcast activity: {e}");
            }
            log.push(logged);
            let excess = log.len().saturating_sub(500);
            log.drain(..excess);
        }
    }
}

/// The fairing's webhook handlers reach the log through the request.
fn record_from_fairing(req: &Request<'_>, entries: impl IntoIterator<Item = Entry>) {
    if let (Some(pusher), Some(log)) = (
        req.rocket().state::<Pusher>(),
        req.rocket().state::<Activity>(),
    ) {
        log.record(pusher, "fairing", entries);
    }
}

#[get("/activity")]
fn activity(log: &State<Activity>) -> Json<Vec<Logged>> {
    Json(log.0.lock().map(|l| l.clone()).unwrap_or_default())
}

#[post("/hooks/presence", data = "<hook>")]
fn presence_hook(
    hook: VerifiedWebhook<PresenceEvent>,
    pusher: &State<Pusher>,
    log: &State<Activity>,
) {
    log.record(pusher, "app", hook.events.iter().map(Entry::presence));
}

#[post("/hooks/channels", data = "<hook>")]
fn channel_hook(
    hook: VerifiedWebhook<ChannelExistenceEvent>,
    pusher: &State<Pusher>,
    log: &State<Activity>,
) {
    log.record(pusher, "app", hook.events.iter().map(Entry::existence));
}

#[post("/hooks/client", data = "<hook>")]
fn client_hook(hook: VerifiedWebhook<ClientEvent>, pusher: &State<Pusher>, log: &State<Activity>) {
    log.record(pusher, "app", hook.events.iter().map(Entry::client));
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
            record_from_fairing(req, hook.events.iter().map(Entry::presence));
            Box::pin(async {})
        })
        .on_channel_existence(|req, hook| {
            record_from_fairing(req, hook.events.iter().map(Entry::existence));
            Box::pin(async {})
        })
        .on_client_event(|req, hook| {
            record_from_fairing(req, hook.events.iter().map(Entry::client));
            Box::pin(async {})
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
                load,
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
