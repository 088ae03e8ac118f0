//! Channel routes: `#[channel]` patterns with typed parameters and every kind of request
//! guard a Rocket handler takes, through the mounted auth route, single and batch; and the
//! channel names a route builds (`route::name(..)`), which it authorizes back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/rocket_app.rs"]
mod rocket_app;

use rocket::http::{ContentType, Cookie, CookieJar, Header, Status};
use rocket::local::asynchronous::Client;
use rocket::request::{self, FromRequest, Request};
use rocket::{Build, Config, Rocket, State};
use rocket_app::{MASTER_KEY, capture_logs, json_of, read, token};
use rocket_pusher::auth::IntoDecision;
use rocket_pusher::protocol::{MAX_CHANNEL_NAME_LEN, verify_channel_auth};
use rocket_pusher::{
    ChannelName, ChannelRequest, ChannelRoute, Decision, PresenceMember, PusherFairing, channel,
    channels,
};
use serde_json::{Value, json};

/// The app's user, from a cookie `user=<id>:<name>`.
struct User {
    id: u64,
    name: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let Some(cookie) = req.cookies().get("user") else {
            return request::Outcome::Error((Status::Unauthorized, "not signed in"));
        };
        match cookie.value().split_once(':') {
            Some((id, name)) if id.parse::<u64>().is_ok() => request::Outcome::Success(User {
                id: id.parse().unwrap_or_default(),
                name: name.to_owned(),
            }),
            _ => request::Outcome::Error((Status::BadRequest, "bad user cookie")),
        }
    }
}

/// Orders are visible to the user whose id is the order id's last two digits.
#[channel("private-orders.<id>")]
async fn orders(id: u64, user: User) -> bool {
    id % 100 == user.id
}

#[channel("presence-room.<name>")]
async fn room(name: &str, user: User) -> Option<PresenceMember> {
    (name != "closed").then(|| {
        PresenceMember::new(user.id.to_string())
            .with_info(json!({ "name": user.name, "room": name }))
    })
}

#[channel("private-encrypted-inbox.<user_id>")]
async fn inbox(user_id: u64, user: User, ch: ChannelRequest<'_>) -> Result<bool, String> {
    if ch.param("deny").is_some() {
        return Err("the client asked to be refused".into());
    }
    Ok(user_id == user.id)
}

/// Managed state: the orders anyone may watch.
struct OpenOrders(Vec<u64>);

#[channel("private-open.<id>")]
async fn open(id: u64, open: &State<OpenOrders>) -> bool {
    open.0.contains(&id)
}

#[channel("private-flavour.<flavour>")]
async fn flavour(flavour: &str, jar: &CookieJar<'_>) -> bool {
    jar.get("flavour").is_some_and(|c| c.value() == flavour)
}

#[channel("private-port.<port>")]
async fn port(port: u16, config: &Config) -> bool {
    port == config.port
}

/// Guests (no user) see order 0 only.
#[channel("private-guest.<id>")]
async fn guest(id: u64, user: Option<User>) -> bool {
    user.map_or(id == 0, |u| u.id == id)
}

#[channel("private-reason.<id>")]
async fn reason(id: u64, user: Result<User, &'static str>) -> Result<bool, String> {
    let user = user.map_err(|e| format!("who are you? {e}"))?;
    Ok(user.id == id)
}

/// The app's own guard, borrowing from the request: the `X-Team` header.
struct Team<'r>(&'r str);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Team<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match req.headers().get_one("X-Team") {
            Some(team) => request::Outcome::Success(Team(team)),
            None => request::Outcome::Forward(Status::Unauthorized),
        }
    }
}

#[channel("private-team.<name>")]
async fn team(name: &str, team: Team<'_>) -> bool {
    name == team.0
}

/// `ChannelRequest` and `&Request` are recognised by their type, not their name.
type Asking<'a> = ChannelRequest<'a>;

#[channel("private-echo.<word>")]
async fn echo(word: &str, ch: Asking<'_>, req: &Request<'_>) -> bool {
    ch.param("word") == Some(word) && req.headers().get_one("X-Echo") == Some(word)
}

/// The longest pattern: its shortest match is exactly the longest channel name.
#[channel(
    "private-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.<id>"
)]
async fn longest(id: u8) -> bool {
    id == 1
}

/// Every app of this binary: the capturing logger is installed before the first is built.
fn rocket(fairing: PusherFairing) -> Rocket<Build> {
    capture_logs();
    rocket_app::rocket_with(
        fairing,
        json!({ "encryption_master_key_base64": MASTER_KEY, "transport": "recording" }),
    )
}

async fn client(fairing: PusherFairing) -> Client {
    rocket_app::client_of(rocket(fairing)).await
}

async fn app() -> Client {
    let fairing = PusherFairing::new().channels(channels![
        orders, room, inbox, open, flavour, port, guest, reason, team, echo
    ]);
    rocket_app::client_of(rocket(fairing).manage(OpenOrders(vec![7, 9]))).await
}

/// POST an auth form with optional cookies and headers; the status and the JSON body.
async fn auth_with(
    client: &Client,
    cookies: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: &str,
) -> (Status, Value) {
    let mut req = client
        .post("/pusher/auth")
        .header(ContentType::Form)
        .body(body);
    for (name, value) in cookies {
        req = req.cookie(Cookie::new(name.to_string(), value.to_string()));
    }
    for (name, value) in headers {
        req = req.header(Header::new(name.to_string(), value.to_string()));
    }
    let (status, _, body) = read(req.dispatch().await).await;
    let body = if body.is_empty() {
        Value::Null
    } else {
        json_of(&body)
    };
    (status, body)
}

/// POST an auth form, signed in as `user` (`<id>:<name>`) when given.
async fn auth(client: &Client, user: Option<&str>, body: &str) -> (Status, Value) {
    let cookies: &[(&str, &str)] = match &user {
        Some(u) => &[("user", u)],
        None => &[],
    };
    auth_with(client, cookies, &[], body).await
}

/// The status of a single authorization for `channel`.
async fn status(client: &Client, cookies: &[(&str, &str)], channel: &str) -> Status {
    let body = format!("socket_id=1.2&channel_name={channel}");
    auth_with(client, cookies, &[], &body).await.0
}

fn verifies(socket: &str, channel: &str, body: &Value) -> bool {
    let auth: rocket_pusher::protocol::ChannelAuth = serde_json::from_value(body.clone()).unwrap();
    verify_channel_auth(&token(), socket, channel, &auth)
}

/// Whether a logged line contains `needle`.
fn logged(needle: &str) -> bool {
    capture_logs().lines().iter().any(|l| l.contains(needle))
}

/// The last logged line refusing `channel`.
fn refusal(channel: &str) -> String {
    let needle = format!("refused {channel} ");
    capture_logs()
        .lines()
        .into_iter()
        .rev()
        .find(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("no refusal of {channel} logged"))
}

#[rocket::async_test]
async fn typed_parameter_and_guard_decide() {
    let c = app().await;
    let (s, b) = auth(
        &c,
        Some("42:Ann"),
        "socket_id=1.2&channel_name=private-orders.1042",
    )
    .await;
    assert_eq!(s, Status::Ok);
    assert!(verifies("1.2", "private-orders.1042", &b));

    let (s, b) = auth(
        &c,
        Some("41:Bob"),
        "socket_id=1.2&channel_name=private-orders.1042",
    )
    .await;
    assert_eq!(s, Status::Forbidden);
    assert_eq!(b["error"], "channel refused");

    // The guard fails: refused, not a 500, and the log says which guard and why.
    let (s, _) = auth(&c, None, "socket_id=1.2&channel_name=private-orders.2042").await;
    assert_eq!(s, Status::Forbidden);
    let line = refusal("private-orders.2042");
    assert!(
        line.contains("orders: guard user")
            && line.contains("401")
            && line.contains("not signed in"),
        "{line}"
    );
}

#[rocket::async_test]
async fn a_parameter_that_does_not_parse_is_refused_not_an_error() {
    let c = app().await;
    for channel in [
        "private-orders.abc",
        "private-orders.-1",
        "private-orders.99999999999999999999999",
    ] {
        let (s, b) = auth(
            &c,
            Some("42:Ann"),
            &format!("socket_id=1.2&channel_name={channel}"),
        )
        .await;
        assert_eq!(s, Status::Forbidden, "{channel}");
        assert_eq!(b["error"], "channel refused");
    }
    assert!(refusal("private-orders.abc").contains("parameter <id> = \"abc\" did not parse"));
}

#[rocket::async_test]
async fn presence_route_returns_the_member() {
    let c = app().await;
    let (s, b) = auth(
        &c,
        Some("7:Ann"),
        "socket_id=3.4&channel_name=presence-room.lobby",
    )
    .await;
    assert_eq!(s, Status::Ok);
    let data: Value = serde_json::from_str(b["channel_data"].as_str().unwrap()).unwrap();
    assert_eq!(
        data,
        json!({ "user_id": "7", "user_info": { "name": "Ann", "room": "lobby" } })
    );
    assert!(verifies("3.4", "presence-room.lobby", &b));

    let (s, _) = auth(
        &c,
        Some("7:Ann"),
        "socket_id=3.4&channel_name=presence-room.closed",
    )
    .await;
    assert_eq!(s, Status::Forbidden);
}

#[rocket::async_test]
async fn encrypted_route_gets_a_shared_secret() {
    let c = app().await;
    let (s, b) = auth(
        &c,
        Some("5:Eve"),
        "socket_id=1.1&channel_name=private-encrypted-inbox.5",
    )
    .await;
    assert_eq!(s, Status::Ok);
    let master = rocket_pusher::protocol::MasterKey::from_base64(MASTER_KEY).unwrap();
    assert_eq!(
        b["shared_secret"].as_str(),
        Some(
            master
                .shared_secret_base64("private-encrypted-inbox.5")
                .as_str()
        )
    );
    let (s, _) = auth(
        &c,
        Some("6:Eve"),
        "socket_id=1.1&channel_name=private-encrypted-inbox.5",
    )
    .await;
    assert_eq!(s, Status::Forbidden);
    // A route's own error (extra form fields are visible through ChannelRequest).
    let (s, _) = auth(
        &c,
        Some("5:Eve"),
        "socket_id=1.1&channel_name=private-encrypted-inbox.5&deny=1",
    )
    .await;
    assert_eq!(s, Status::Forbidden);
    assert!(refusal("private-encrypted-inbox.5").contains("inbox: the client asked to be refused"));
}

#[rocket::async_test]
async fn state_guard_decides() {
    let c = app().await;
    assert_eq!(status(&c, &[], "private-open.7").await, Status::Ok);
    assert_eq!(status(&c, &[], "private-open.9").await, Status::Ok);
    assert_eq!(status(&c, &[], "private-open.8").await, Status::Forbidden);
}

#[rocket::async_test]
async fn cookie_jar_guard_decides() {
    let c = app().await;
    let mint = [("flavour", "mint")];
    assert_eq!(status(&c, &mint, "private-flavour.mint").await, Status::Ok);
    assert_eq!(
        status(&c, &mint, "private-flavour.lime").await,
        Status::Forbidden
    );
    assert_eq!(
        status(&c, &[], "private-flavour.mint").await,
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn config_guard_decides() {
    let c = app().await;
    let port = c.rocket().config().port;
    assert_eq!(
        status(&c, &[], &format!("private-port.{port}")).await,
        Status::Ok
    );
    let other = port.wrapping_add(1);
    assert_eq!(
        status(&c, &[], &format!("private-port.{other}")).await,
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn option_guard_gets_none_instead_of_failing() {
    let c = app().await;
    // No user: the handler runs with `None` and lets guests see order 0 only.
    assert_eq!(status(&c, &[], "private-guest.0").await, Status::Ok);
    assert_eq!(status(&c, &[], "private-guest.5").await, Status::Forbidden);
    assert_eq!(
        status(&c, &[("user", "5:Eve")], "private-guest.5").await,
        Status::Ok
    );
    assert_eq!(
        status(&c, &[("user", "5:Eve")], "private-guest.0").await,
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn result_guard_hands_the_error_to_the_handler() {
    let c = app().await;
    assert_eq!(
        status(&c, &[("user", "3:Al")], "private-reason.3").await,
        Status::Ok
    );
    assert_eq!(status(&c, &[], "private-reason.4").await, Status::Forbidden);
    assert!(refusal("private-reason.4").contains("reason: who are you? not signed in"));
    assert_eq!(
        status(&c, &[("user", "x")], "private-reason.6").await,
        Status::Forbidden
    );
    assert!(refusal("private-reason.6").contains("reason: who are you? bad user cookie"));
}

#[rocket::async_test]
async fn a_guard_borrowing_from_the_request_decides() {
    let c = app().await;
    let ask = |team: Option<&'static str>| {
        let headers: Vec<(&str, &str)> = team.map(|t| ("X-Team", t)).into_iter().collect();
        let c = &c;
        async move {
            auth_with(
                c,
                &[],
                &headers,
                "socket_id=1.2&channel_name=private-team.red",
            )
            .await
            .0
        }
    };
    assert_eq!(ask(Some("red")).await, Status::Ok);
    assert_eq!(ask(Some("blue")).await, Status::Forbidden);
    // A forwarding guard refuses too.
    assert_eq!(ask(None).await, Status::Forbidden);
    assert!(refusal("private-team.red").contains("forwarded with 401"));
}

#[rocket::async_test]
async fn channel_request_and_request_are_known_by_their_type() {
    let c = app().await;
    let ask = |header: &'static str, field: &'static str| {
        let c = &c;
        async move {
            let body = format!("socket_id=1.2&channel_name=private-echo.hi&word={field}");
            auth_with(c, &[], &[("X-Echo", header)], &body).await.0
        }
    };
    assert_eq!(ask("hi", "hi").await, Status::Ok);
    assert_eq!(ask("hi", "ho").await, Status::Forbidden);
    assert_eq!(ask("ho", "hi").await, Status::Forbidden);
}

#[rocket::async_test]
async fn longest_pattern_compiles_and_ignites() {
    // The attribute checks the same length as ignite: if this fails, the limit in
    // `codegen/src/pattern.rs` must follow `MAX_CHANNEL_NAME_LEN`.
    let route = ChannelRoute::from(longest {});
    assert_eq!(
        route.pattern().len() - "<id>".len() + 1,
        MAX_CHANNEL_NAME_LEN
    );
    let channel = route.pattern().replace("<id>", "1");
    let c = client(PusherFairing::new().channels(channels![longest])).await;
    assert_eq!(status(&c, &[], &channel).await, Status::Ok);
    assert_eq!(
        status(&c, &[], &route.pattern().replace("<id>", "2")).await,
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn unmatched_channels_are_refused() {
    let c = app().await;
    for channel in [
        "private-other",
        "private-orders",
        "private-orders.1.2",
        "presence-room",
    ] {
        let (s, b) = auth(
            &c,
            Some("1:A"),
            &format!("socket_id=1.2&channel_name={channel}"),
        )
        .await;
        assert_eq!(s, Status::Forbidden, "{channel}");
        assert_eq!(
            b["error"], "no channel route matches this channel",
            "{channel}"
        );
    }
}

#[rocket::async_test]
async fn the_same_rules_answer_a_batch() {
    let c = app().await;
    let (s, b) = auth(
        &c,
        Some("42:Ann"),
        "&socket_id=1.2&channel_name[0]=private-orders.142&channel_name[1]=private-orders.143\
         &channel_name[2]=presence-room.x&channel_name[3]=private-nothing&channel_name[4]=private-orders.abc",
    )
    .await;
    assert_eq!(s, Status::Ok);
    assert_eq!(b["private-orders.142"]["status"], 200);
    assert!(verifies(
        "1.2",
        "private-orders.142",
        &b["private-orders.142"]["data"]
    ));
    assert_eq!(b["private-orders.143"]["status"], 403);
    assert_eq!(b["presence-room.x"]["status"], 200);
    assert_eq!(b["private-nothing"]["status"], 403);
    assert_eq!(b["private-orders.abc"]["status"], 403);
}

#[rocket::async_test]
async fn the_single_authorizer_decides_for_channels_no_route_matches() {
    // The authorizer says yes to the orders too: the route must still decide for them.
    let c = client(
        PusherFairing::new()
            .channels(channels![orders])
            .authorize(|_, ch| {
                Box::pin(async move {
                    let name = ch.channel.as_str();
                    name == "private-legacy" || name.starts_with("private-orders.")
                })
            }),
    )
    .await;
    assert_eq!(status(&c, &[], "private-legacy").await, Status::Ok);
    assert_eq!(status(&c, &[], "private-other").await, Status::Forbidden);
    let user = [("user", "1:A")];
    assert_eq!(status(&c, &user, "private-orders.101").await, Status::Ok);
    assert_eq!(
        status(&c, &user, "private-orders.2").await,
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn closures_build_routes_too() {
    let route = ChannelRoute::new("private-team.<team>.<role>", |_, _, caps| {
        Box::pin(async move {
            let team: u32 = caps.param("team")?;
            let role: &str = caps.param("role")?;
            if role == "banned" {
                return Err::<Decision, _>(format!("team {team} banned this role")).into_decision();
            }
            (team == 1 && role == "admin").into_decision()
        })
    });
    let c = client(PusherFairing::new().channels([route])).await;
    assert_eq!(status(&c, &[], "private-team.1.admin").await, Status::Ok);
    assert_eq!(
        status(&c, &[], "private-team.2.admin").await,
        Status::Forbidden
    );
    assert_eq!(
        status(&c, &[], "private-team.x.admin").await,
        Status::Forbidden
    );
    assert_eq!(
        status(&c, &[], "private-team.1.banned").await,
        Status::Forbidden
    );
    assert!(refusal("private-team.1.banned").contains("team 1 banned this role"));
}

async fn ignite_error(fairing: PusherFairing) -> rocket::Error {
    match Client::tracked(rocket(fairing)).await {
        Ok(_) => panic!("ignite must fail"),
        Err(e) => e,
    }
}

fn failed_fairing(e: &rocket::Error) -> bool {
    matches!(e.kind(), rocket::error::ErrorKind::FailedFairings(f) if f[0].name == "Pusher")
}

/// State no app of these tests manages.
struct NeverManaged;

#[channel("private-unmanaged.<id>")]
async fn needs_state(id: u64, state: &State<NeverManaged>) -> bool {
    let _ = state;
    id > 0
}

#[channel("private-unmanaged-maybe.<id>")]
async fn maybe_state(id: u64, state: Option<&State<NeverManaged>>) -> bool {
    state.is_some() && id > 0
}

#[rocket::async_test]
async fn a_guard_for_state_never_managed_fails_launch_as_in_a_rocket_route() {
    // Rocket's own check: launch fails naming the type, as for a `#[get]` route.
    for routes in [channels![needs_state], channels![maybe_state]] {
        let e = ignite_error(PusherFairing::new().channels(routes)).await;
        let rocket::error::ErrorKind::SentinelAborts(sentries) = e.kind() else {
            panic!("launch must fail on the sentinel: {e:?}");
        };
        assert!(
            sentries
                .iter()
                .any(|s| s.type_name.contains("State<") && s.type_name.contains("NeverManaged")),
            "{sentries:?}"
        );
    }
    // Managed, the same routes launch and decide.
    let fairing = PusherFairing::new().channels(channels![needs_state, maybe_state]);
    let c = rocket_app::client_of(rocket(fairing).manage(NeverManaged)).await;
    assert_eq!(status(&c, &[], "private-unmanaged.1").await, Status::Ok);
    assert_eq!(
        status(&c, &[], "private-unmanaged-maybe.1").await,
        Status::Ok
    );
}

/// A sync `fn`, as Rocket takes sync handlers.
#[channel("private-sync.<id>")]
fn sync_orders(id: u64, user: User) -> bool {
    id == user.id
}

#[channel("presence-sync.<room>")]
fn sync_room(room: &str, user: Option<User>) -> Option<PresenceMember> {
    let user = user?;
    Some(PresenceMember::new(user.id.to_string()).with_info(json!({ "room": room })))
}

#[rocket::async_test]
async fn a_sync_fn_is_a_channel_route() {
    let c = client(PusherFairing::new().channels(channels![sync_orders, sync_room])).await;
    assert_eq!(
        status(&c, &[("user", "7:Ann")], "private-sync.7").await,
        Status::Ok
    );
    assert_eq!(
        status(&c, &[("user", "8:Bob")], "private-sync.7").await,
        Status::Forbidden
    );
    let (s, b) = auth(
        &c,
        Some("7:Ann"),
        "socket_id=1.2&channel_name=presence-sync.lobby",
    )
    .await;
    assert_eq!(s, Status::Ok);
    let data: Value = serde_json::from_str(b["channel_data"].as_str().unwrap()).unwrap();
    assert_eq!(
        data,
        json!({ "user_id": "7", "user_info": { "room": "lobby" } })
    );
    assert_eq!(
        status(&c, &[], "presence-sync.lobby").await,
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn a_route_answering_no_is_logged_as_every_refusal_is() {
    let c = app().await;
    // `orders` returns `false`, `room` returns `None`.
    assert_eq!(
        status(&c, &[("user", "41:Bob")], "private-orders.3042").await,
        Status::Forbidden
    );
    let line = refusal("private-orders.3042");
    assert!(line.contains("orders: the route refused"), "{line}");
    assert_eq!(
        status(&c, &[("user", "41:Bob")], "presence-room.closed").await,
        Status::Forbidden
    );
    let line = refusal("presence-room.closed");
    assert!(line.contains("room: the route refused"), "{line}");
}

#[rocket::async_test]
async fn conflicting_and_invalid_patterns_fail_ignite() {
    // Two routes that could match the same channel: only ignite sees both.
    #[channel("private-orders.<order>")]
    async fn orders_again(order: String) -> bool {
        !order.is_empty()
    }
    let e = ignite_error(PusherFairing::new().channels(channels![orders, orders_again])).await;
    assert!(failed_fairing(&e));
    assert!(logged(
        "channel routes orders (\"private-orders.<id>\") and orders_again"
    ));

    // Patterns built at run time are checked at ignite.
    for bad in [
        "orders.<id>",
        "private-a b.<id>",
        "private-x.pre<id>",
        "presence-<id>",
    ] {
        let route = ChannelRoute::new(bad, |_, _, _| Box::pin(async { Ok(Decision::Allow) }));
        let e = ignite_error(PusherFairing::new().channels([route])).await;
        assert!(failed_fairing(&e), "{bad}");
        assert!(logged(&format!("invalid pattern {bad:?}")), "{bad}");
    }
}

#[rocket::async_test]
async fn many_routes_still_route() {
    let routes: Vec<ChannelRoute> = (0..100)
        .map(|i| {
            ChannelRoute::new(format!("private-r{i}.<id>"), move |_, _, caps| {
                Box::pin(async move { Ok(Decision::from(caps.param::<u32>("id")? == i)) })
            })
        })
        .collect();
    let c = client(PusherFairing::new().channels(routes)).await;
    assert_eq!(status(&c, &[], "private-r77.77").await, Status::Ok);
    assert_eq!(status(&c, &[], "private-r77.76").await, Status::Forbidden);
    assert_eq!(status(&c, &[], "private-r0.0").await, Status::Ok);
}

/// What the round-trip routes received, as `Debug` text.
#[derive(Default)]
struct Received(std::sync::Mutex<Vec<String>>);

/// Note what a route received; it then allows the channel.
fn got(received: &Received, value: impl std::fmt::Debug) -> bool {
    received.0.lock().unwrap().push(format!("{value:?}"));
    true
}

// One route per `FromParam` type a channel route takes in the docs and tests (`u64` and
// `&str` in the crate docs and README; `String`, `u8`, `u16`, `u32` here and in tests/ui),
// and the other primitives Rocket parses with `FromStr`.
#[channel("private-rt-u8.<v>")]
async fn rt_u8(v: u8, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-u16.<v>")]
async fn rt_u16(v: u16, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-u32.<v>")]
async fn rt_u32(v: u32, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-u64.<v>")]
async fn rt_u64(v: u64, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-u128.<v>")]
async fn rt_u128(v: u128, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-usize.<v>")]
async fn rt_usize(v: usize, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-i8.<v>")]
async fn rt_i8(v: i8, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-i32.<v>")]
async fn rt_i32(v: i32, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-i64.<v>")]
async fn rt_i64(v: i64, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-i128.<v>")]
async fn rt_i128(v: i128, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-nonzero.<v>")]
async fn rt_nonzero(v: std::num::NonZeroU64, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-bool.<v>")]
async fn rt_bool(v: bool, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-f64.<v>")]
async fn rt_f64(v: f64, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("private-rt-str.<v>")]
async fn rt_str(v: &str, r: &State<Received>) -> bool {
    got(r, v)
}
#[channel("presence-rt-string.<v>")]
async fn rt_string(v: String, r: &State<Received>) -> PresenceMember {
    got(r, &v);
    PresenceMember::new(v)
}
#[channel("private-encrypted-rt-ip.<v>")]
async fn rt_ip(v: std::net::IpAddr, r: &State<Received>) -> bool {
    got(r, v)
}
/// Two parameters, declared in another order than the pattern's: `name` takes the
/// pattern's order, with each argument's own type.
#[channel("private-rt-pair.<room>.items.<id>")]
async fn rt_pair(id: u32, room: &str, r: &State<Received>) -> bool {
    got(r, (room, id))
}
#[channel("private-rt-none")]
async fn rt_none(r: &State<Received>) -> bool {
    got(r, ())
}

async fn round_trip_app() -> Client {
    let fairing = PusherFairing::new().channels(channels![
        rt_u8, rt_u16, rt_u32, rt_u64, rt_u128, rt_usize, rt_i8, rt_i32, rt_i64, rt_i128,
        rt_nonzero, rt_bool, rt_f64, rt_str, rt_string, rt_ip, rt_pair, rt_none
    ]);
    rocket_app::client_of(rocket(fairing).manage(Received::default())).await
}

/// Authorize `name` through the app's auth route; what the route that allowed it received.
async fn received_by(c: &Client, name: &rocket_pusher::ChannelName) -> String {
    let channel: String = form_urlencoded::byte_serialize(name.as_str().as_bytes()).collect();
    let body = format!("socket_id=1.2&channel_name={channel}");
    let (s, b) = auth_with(c, &[], &[], &body).await;
    assert_eq!(s, Status::Ok, "{name}: {b}");
    let received = c.rocket().state::<Received>().unwrap();
    let last = received.0.lock().unwrap().pop();
    last.unwrap_or_else(|| panic!("no route received {name}"))
}

#[rocket::async_test]
async fn names_a_route_builds_round_trip_through_it() {
    let c = round_trip_app().await;
    // Build the name with the route, authorize it through the same route, and check that
    // its handler received the very value.
    macro_rules! round_trip {
        ($route:ident: $($value:expr),+ $(,)?) => {$(
            let value = $value;
            let name = $route::name(value.clone()).unwrap();
            assert_eq!(received_by(&c, &name).await, format!("{value:?}"), "{name}");
        )+};
    }
    round_trip!(rt_u8: 0u8, 7, u8::MAX);
    round_trip!(rt_u16: 0u16, u16::MAX);
    round_trip!(rt_u32: 0u32, 42, u32::MAX);
    round_trip!(rt_u64: 0u64, 42, u64::MAX);
    round_trip!(rt_u128: 0u128, u128::MAX);
    round_trip!(rt_usize: 0usize, usize::MAX);
    round_trip!(rt_i8: i8::MIN, -1i8, 0, i8::MAX);
    round_trip!(rt_i32: i32::MIN, 0, i32::MAX);
    round_trip!(rt_i64: i64::MIN, -42i64, 0, i64::MAX);
    round_trip!(rt_i128: i128::MIN, i128::MAX);
    round_trip!(rt_nonzero: std::num::NonZeroU64::MIN, std::num::NonZeroU64::MAX);
    round_trip!(rt_bool: true, false);
    // Whole numbers are written without a point (`2`), which parses back to the same f64.
    round_trip!(rt_f64: 0.0f64, -0.0, 2.0, -7.0, 1e15, f64::INFINITY, f64::NEG_INFINITY);
    // Every character a segment may hold.
    round_trip!(rt_str: "x", "lobby", "a-B_9=c@d,e;f", "0");
    round_trip!(rt_string: "alice".to_owned(), "ann@example".to_owned());

    assert_eq!(
        rt_pair::name("lobby", 7).unwrap(),
        "private-rt-pair.lobby.items.7"
    );
    assert_eq!(
        received_by(&c, &rt_pair::name("hall", 0).unwrap()).await,
        format!("{:?}", ("hall", 0u32))
    );
    assert_eq!(rt_none::name().unwrap(), "private-rt-none");
    assert_eq!(received_by(&c, &rt_none::name().unwrap()).await, "()");
    assert_eq!(rt_u64::name(42).unwrap(), "private-rt-u64.42");
    assert_eq!(rt_i64::name(-42).unwrap(), "private-rt-i64.-42");
    assert_eq!(rt_f64::name(2.0).unwrap(), "private-rt-f64.2");
    assert_eq!(rt_pair::PATTERN, "private-rt-pair.<room>.items.<id>");
    assert_eq!(
        ChannelRoute::from(rt_pair {}).pattern(),
        rt_pair::PATTERN,
        "the route and its constructor share one pattern"
    );
}

#[test]
fn values_the_route_would_not_parse_back_are_refused_by_name() {
    use rocket_pusher::error::ValidationError;

    let segment = |param, ch| Err(ValidationError::ParamSegment { param, ch });
    // A dot splits the segment in two: the route would see more segments than it has.
    assert_eq!(rt_str::name("a.b"), segment("v", Some('.')));
    assert_eq!(rt_str::name(""), segment("v", None));
    assert_eq!(rt_string::name(String::new()), segment("v", None));
    assert_eq!(rt_str::name("a b"), segment("v", Some(' ')));
    assert_eq!(rt_str::name("caf\u{e9}"), segment("v", Some('\u{e9}')));
    assert_eq!(rt_str::name("#1"), segment("v", Some('#')));
    // Fractions are written with a point; so are IPv4 addresses, and IPv6 with colons.
    assert_eq!(rt_f64::name(0.5), segment("v", Some('.')));
    assert_eq!(
        rt_f64::name(f64::NAN),
        Ok(ChannelName::new("private-rt-f64.NaN").unwrap())
    );
    assert_eq!(rt_ip::name([127, 0, 0, 1].into()), segment("v", Some('.')));
    assert_eq!(
        rt_ip::name(std::net::Ipv6Addr::LOCALHOST.into()),
        segment("v", Some(':'))
    );
    // The parameter named is the one at fault, in pattern order.
    assert_eq!(rt_pair::name("a.b", 1), segment("room", Some('.')));

    // The whole name must fit.
    let long = "x".repeat(MAX_CHANNEL_NAME_LEN);
    assert_eq!(
        rt_str::name(&long),
        Err(ValidationError::ChannelNameTooLong {
            len: "private-rt-str.".len() + long.len(),
            max: MAX_CHANNEL_NAME_LEN
        })
    );
    let fits = "x".repeat(MAX_CHANNEL_NAME_LEN - "private-rt-str.".len());
    assert_eq!(
        rt_str::name(&fits).unwrap().as_str().len(),
        MAX_CHANNEL_NAME_LEN
    );
    // `f64::MAX` is written with all its 309 digits.
    assert!(matches!(
        rt_f64::name(f64::MAX),
        Err(ValidationError::ChannelNameTooLong { .. })
    ));

    let e = rt_pair::name("a.b", 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "channel route parameter <room> contains '.'; a segment allows A-Z a-z 0-9 and - _ = @ , ;"
    );
    assert_eq!(
        rt_str::name("").unwrap_err().to_string(),
        "channel route parameter <v> is empty"
    );
}

#[rocket::async_test]
async fn a_refused_value_is_not_what_the_route_would_have_received() {
    // The check is the route's own rule: the name built by hand from a refused value is
    // refused by the route too (or matched by no route), never taken for another value.
    let c = round_trip_app().await;
    for channel in [
        "private-rt-str.a.b",
        "private-rt-f64.0.5",
        "private-rt-str.",
    ] {
        assert_eq!(
            status(&c, &[], channel).await,
            Status::Forbidden,
            "{channel}"
        );
    }
    assert!(
        c.rocket()
            .state::<Received>()
            .unwrap()
            .0
            .lock()
            .unwrap()
            .is_empty()
    );
}
