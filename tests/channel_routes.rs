//! Channel routes: `#[channel]` patterns with typed parameters and guards, through the
//! mounted auth route, single and batch.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rocket::figment::Figment;
use rocket::figment::util::map;
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::asynchronous::Client;
use rocket::request::{self, FromRequest, Request};
use rocket_pusher::protocol::{Token, verify_channel_auth};
use rocket_pusher::{
    ChannelRequest, ChannelRoute, Decision, IntoDecision, PresenceMember, PusherFairing, channel,
    channels,
};
use serde_json::{Value, json};

const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

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

fn figment() -> Figment {
    Figment::from(rocket::Config::debug_default())
        .merge(("log_level", "off"))
        .merge((
            "pusher",
            map! {
                "app_id" => "1234",
                "key" => "KEY",
                "secret" => "SUPERSECRET",
                "encryption_master_key_base64" => MASTER_KEY,
                "transport" => "recording",
            },
        ))
}

async fn client(fairing: PusherFairing) -> Client {
    Client::tracked(rocket::custom(figment()).attach(fairing))
        .await
        .expect("valid rocket")
}

async fn app() -> Client {
    client(PusherFairing::new().channels(channels![orders, room, inbox])).await
}

async fn auth(client: &Client, user: Option<&str>, body: &str) -> (Status, Value) {
    let mut req = client
        .post("/pusher/auth")
        .header(ContentType::Form)
        .body(body);
    if let Some(u) = user {
        req = req.cookie(Cookie::new("user", u.to_owned()));
    }
    let res = req.dispatch().await;
    let status = res.status();
    let body = res.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn token() -> Token {
    Token::new("KEY", "SUPERSECRET")
}

fn verifies(socket: &str, channel: &str, body: &Value) -> bool {
    let auth: rocket_pusher::ChannelAuth = serde_json::from_value(body.clone()).unwrap();
    verify_channel_auth(&token(), socket, channel, &auth)
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

    // The guard fails: refused, not a 500.
    let (s, _) = auth(&c, None, "socket_id=1.2&channel_name=private-orders.1042").await;
    assert_eq!(s, Status::Forbidden);
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
    let master = rocket_pusher::MasterKey::from_base64(MASTER_KEY).unwrap();
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
    let c = client(
        PusherFairing::new()
            .channels(channels![orders])
            .authorize(|_, ch| Box::pin(async move { ch.channel.as_str() == "private-legacy" })),
    )
    .await;
    let (s, _) = auth(&c, None, "socket_id=1.2&channel_name=private-legacy").await;
    assert_eq!(s, Status::Ok);
    let (s, _) = auth(&c, None, "socket_id=1.2&channel_name=private-other").await;
    assert_eq!(s, Status::Forbidden);
    // A route that matches still decides, whatever the authorizer would say.
    let (s, _) = auth(
        &c,
        Some("1:A"),
        "socket_id=1.2&channel_name=private-orders.2",
    )
    .await;
    assert_eq!(s, Status::Forbidden);
}

#[rocket::async_test]
async fn closures_build_routes_too() {
    let route = ChannelRoute::new("private-team.<team>.<role>", |_, _, caps| {
        Box::pin(async move {
            let team: u32 = caps.param("team")?;
            let role: &str = caps.param("role")?;
            Ok(if team == 1 && role == "admin" {
                Decision::Allow
            } else {
                Decision::Deny
            })
        })
    });
    let c = client(PusherFairing::new().channels([route])).await;
    assert_eq!(
        auth(&c, None, "socket_id=1.2&channel_name=private-team.1.admin")
            .await
            .0,
        Status::Ok
    );
    assert_eq!(
        auth(&c, None, "socket_id=1.2&channel_name=private-team.2.admin")
            .await
            .0,
        Status::Forbidden
    );
    assert_eq!(
        auth(&c, None, "socket_id=1.2&channel_name=private-team.x.admin")
            .await
            .0,
        Status::Forbidden
    );
    assert!(true.into_decision().is_ok());
}

async fn ignite_error(fairing: PusherFairing) -> rocket::Error {
    match Client::tracked(rocket::custom(figment()).attach(fairing)).await {
        Ok(_) => panic!("ignite must fail"),
        Err(e) => e,
    }
}

fn failed_fairing(e: &rocket::Error) -> bool {
    matches!(e.kind(), rocket::error::ErrorKind::FailedFairings(f) if f[0].name == "Pusher")
}

#[rocket::async_test]
async fn conflicting_and_invalid_patterns_fail_ignite() {
    #[channel("private-orders.<order>")]
    async fn orders_again(order: String) -> bool {
        !order.is_empty()
    }
    let e = ignite_error(PusherFairing::new().channels(channels![orders, orders_again])).await;
    assert!(failed_fairing(&e));

    for bad in [
        "orders.<id>",
        "private-a b.<id>",
        "private-x.pre<id>",
        "presence-<id>",
    ] {
        let route = ChannelRoute::new(bad, |_, _, _| Box::pin(async { Ok(Decision::Allow) }));
        let e = ignite_error(PusherFairing::new().channels([route])).await;
        assert!(failed_fairing(&e), "{bad}");
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
    assert_eq!(
        auth(&c, None, "socket_id=1.2&channel_name=private-r77.77")
            .await
            .0,
        Status::Ok
    );
    assert_eq!(
        auth(&c, None, "socket_id=1.2&channel_name=private-r77.76")
            .await
            .0,
        Status::Forbidden
    );
    assert_eq!(
        auth(&c, None, "socket_id=1.2&channel_name=private-r0.0")
            .await
            .0,
        Status::Ok
    );
}
