//! The guards for an app's own routes, through Rocket's local client: `SocketId` from
//! `X-Socket-ID`, and `ChannelAuthRequest` with `ChannelAuthResponse` for an auth route
//! written in a few lines with the app's own guards (single and batch, the exact bodies
//! pusher-js and pusher-js-auth send).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/rocket_app.rs"]
mod rocket_app;

use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest};
use rocket::{Request, State, get, post, routes};
use rocket_app::{
    MASTER_KEY, assert_json_error, capture_logs, client_of, json_of, post_form, read,
    recorded_body, token,
};
use rocket_pusher::error::{ApiError, ValidationError};
use rocket_pusher::protocol::{ChannelAuth, ChannelKind, verify_channel_auth};
use rocket_pusher::{
    ChannelAuthRequest, ChannelAuthResponse, Decision, PresenceMember, Pusher, PusherFairing,
    SocketId,
};
use serde_json::{Value, json};

/// Every app of this binary: the capturing logger is installed before the first is built.
fn rocket_with(fairing: PusherFairing, extra: Value) -> rocket::Rocket<rocket::Build> {
    capture_logs();
    rocket_app::rocket_with(fairing, extra)
}

// ---------------------------------------------------------------- SocketId

#[get("/required")]
fn required(sender: SocketId) -> String {
    sender.to_string()
}

#[get("/optional")]
fn optional(sender: Option<SocketId>) -> String {
    match sender {
        Some(id) => format!("exclude {id}"),
        None => "everyone".to_owned(),
    }
}

#[get("/checked")]
fn checked(sender: Result<SocketId, ValidationError>) -> String {
    match sender {
        Ok(id) => format!("ok {id}"),
        Err(e) => format!("err {e}"),
    }
}

async fn socket_client() -> rocket::local::asynchronous::Client {
    // `SocketId` needs no Pusher state: no fairing here.
    capture_logs();
    let figment = rocket_app::figment(json!({}));
    client_of(rocket::custom(figment).mount("/", routes![required, optional, checked])).await
}

async fn get_with(
    client: &rocket::local::asynchronous::Client,
    uri: &'static str,
    socket_id: Option<&str>,
) -> (Status, String) {
    let mut req = client.get(uri);
    if let Some(id) = socket_id {
        req = req.header(Header::new("X-Socket-ID", id.to_owned()));
    }
    let (status, _, body) = read(req.dispatch().await).await;
    (status, body)
}

#[rocket::async_test]
async fn socket_id_from_the_header() {
    let client = socket_client().await;
    for uri in ["/required", "/optional", "/checked"] {
        let (status, body) = get_with(&client, uri, Some("123.456")).await;
        assert_eq!(status, Status::Ok);
        assert!(body.ends_with("123.456"), "{uri}: {body}");
    }
    assert_eq!(
        get_with(&client, "/optional", Some("123.456")).await.1,
        "exclude 123.456"
    );
    // Surrounding whitespace is tolerated, and the header name is case-insensitive.
    let resp = client
        .get("/required")
        .header(Header::new("x-socket-id", " 98765.4321 "))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(resp.into_string().await.unwrap(), "98765.4321");
}

#[rocket::async_test]
async fn a_missing_socket_id_is_none_or_400() {
    let client = socket_client().await;
    assert_eq!(
        get_with(&client, "/optional", None).await,
        (Status::Ok, "everyone".to_owned())
    );
    // A required SocketId forwards, and with no other route the client gets 400.
    assert_eq!(
        get_with(&client, "/required", None).await.0,
        Status::BadRequest
    );
    assert_eq!(
        get_with(&client, "/checked", None).await.0,
        Status::BadRequest
    );
}

#[rocket::async_test]
async fn a_malformed_socket_id_is_400() {
    let client = socket_client().await;
    for bad in ["abc", "1.2.3", "1.", ".2", "1.2;drop", "", &"1".repeat(70)] {
        let (status, _) = get_with(&client, "/required", Some(bad)).await;
        assert_eq!(status, Status::BadRequest, "{bad:?}");
        assert_eq!(
            get_with(&client, "/checked", Some(bad)).await,
            (
                Status::Ok,
                "err socket id must be digits, a dot, digits (like 123.456)".to_owned()
            ),
            "{bad:?}"
        );
        // As with every Rocket guard, `Option` turns the failure into `None`; the guard
        // says why, or the sender would get its own event back without a word.
        let before = capture_logs().lines_here().len();
        assert_eq!(
            get_with(&client, "/optional", Some(bad)).await,
            (Status::Ok, "everyone".to_owned())
        );
        let lines = capture_logs().lines_here();
        let logged = &lines[before..];
        let shown: String = format!("{bad:?}").chars().take(30).collect();
        assert!(
            logged.iter().any(|l| l.starts_with("WARN ")
                && l.contains("malformed X-Socket-ID")
                && l.contains(shown.trim_end_matches('"'))
                && l.contains("GET /optional")
                && l.contains("socket id must be digits, a dot, digits")),
            "{bad:?}: {logged:#?}"
        );
    }
    // A well-formed id logs nothing.
    let before = capture_logs().lines_here().len();
    get_with(&client, "/optional", Some("1.2")).await;
    let lines = capture_logs().lines_here();
    assert!(
        !lines[before..].iter().any(|l| l.contains("X-Socket-ID")),
        "{lines:#?}"
    );
}

// ---------------------------------------------------------------- ChannelAuthRequest

/// The app's logged-in user, from a cookie.
struct User(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match req.cookies().get("user") {
            Some(c) => Outcome::Success(User(c.value().to_owned())),
            None => Outcome::Error((Status::Unauthorized, ())),
        }
    }
}

/// An auth route in a few lines, with the app's own guard.
#[post("/my/auth", data = "<auth>")]
fn my_auth(
    auth: ChannelAuthRequest,
    user: Option<User>,
    pusher: &State<Pusher>,
) -> ChannelAuthResponse {
    auth.respond(pusher, |ch| {
        let Some(user) = &user else {
            return Decision::Deny;
        };
        match ch.channel.kind() {
            ChannelKind::Presence => Decision::AllowAs(
                PresenceMember::new(user.0.clone()).with_info(json!({ "name": user.0 })),
            ),
            ChannelKind::PrivateEncrypted => Decision::Allow,
            _ if ch.channel.as_str() == format!("private-user-{}", user.0) => Decision::Allow,
            _ if ch.param("extra") == Some("p q") => Decision::Allow,
            _ => Decision::Deny,
        }
    })
}

/// The same, answering a malformed request with the guard's JSON reason.
#[post("/my/checked-auth", data = "<auth>")]
fn my_checked_auth(
    auth: Result<ChannelAuthRequest, ApiError>,
    pusher: &State<Pusher>,
) -> Result<ChannelAuthResponse, ApiError> {
    Ok(auth?.respond(pusher, |ch| match ch.channel.as_str() {
        "private-refused" => Decision::Deny,
        // Longer than the 128 characters Pusher allows for a presence user_id.
        "presence-bad-member" => Decision::AllowAs(PresenceMember::new("x".repeat(200))),
        _ => Decision::Allow,
    }))
}

/// Reports what the guard parsed.
#[post("/my/shape", data = "<auth>")]
fn my_shape(auth: ChannelAuthRequest) -> Value {
    json!({
        "socket_id": auth.socket_id().as_str(),
        "batch": auth.is_batch(),
        "channels": auth.channel_names(),
        "extra": auth.param("extra"),
    })
}

async fn auth_client(extra: Value) -> rocket::local::asynchronous::Client {
    let rocket = rocket_with(PusherFairing::new().without_routes(), extra)
        .mount("/", routes![my_auth, my_checked_auth, my_shape]);
    client_of(rocket).await
}

async fn post_as(
    client: &rocket::local::asynchronous::Client,
    uri: &'static str,
    user: Option<&str>,
    body: &str,
) -> (Status, Option<ContentType>, String) {
    let mut req = client.post(uri).header(ContentType::Form).body(body);
    if let Some(u) = user {
        req = req.cookie(Cookie::new("user", u.to_owned()));
    }
    read(req.dispatch().await).await
}

fn ok_auth(got: &(Status, Option<ContentType>, String)) -> ChannelAuth {
    assert_eq!(got.0, Status::Ok, "{}", got.2);
    assert_eq!(got.1, Some(ContentType::JSON));
    serde_json::from_str(&got.2).unwrap()
}

#[rocket::async_test]
async fn own_route_single_private_and_presence() {
    let client = auth_client(json!({ "encryption_master_key_base64": MASTER_KEY })).await;

    let got = post_as(
        &client,
        "/my/auth",
        Some("alice"),
        "socket_id=1.2&channel_name=private-user-alice",
    )
    .await;
    let auth = ok_auth(&got);
    assert_eq!(json_of(&got.2).as_object().unwrap().len(), 1);
    assert!(verify_channel_auth(
        &token(),
        "1.2",
        "private-user-alice",
        &auth
    ));

    let got = post_as(
        &client,
        "/my/auth",
        Some("bob"),
        "socket_id=1.2&channel_name=private-user-alice",
    )
    .await;
    assert_json_error(&got, Status::Forbidden, "channel refused");
    let got = post_as(
        &client,
        "/my/auth",
        None,
        "socket_id=1.2&channel_name=presence-room",
    )
    .await;
    assert_json_error(&got, Status::Forbidden, "channel refused");

    // Decision::AllowAs announces the app's member on a presence channel.
    let got = post_as(
        &client,
        "/my/auth",
        Some("alice"),
        "socket_id=1.2&channel_name=presence-room",
    )
    .await;
    let auth = ok_auth(&got);
    assert_eq!(
        auth.channel_data.as_deref(),
        Some(r#"{"user_id":"alice","user_info":{"name":"alice"}}"#)
    );
    assert!(verify_channel_auth(&token(), "1.2", "presence-room", &auth));

    let got = post_as(
        &client,
        "/my/auth",
        Some("alice"),
        "socket_id=1.2&channel_name=private-encrypted-x",
    )
    .await;
    let auth = ok_auth(&got);
    assert!(auth.shared_secret.is_some());
    assert!(verify_channel_auth(
        &token(),
        "1.2",
        "private-encrypted-x",
        &auth
    ));

    let got = post_as(
        &client,
        "/my/auth",
        Some("alice"),
        "socket_id=1.2&channel_name=news",
    )
    .await;
    assert_json_error(
        &got,
        Status::NotFound,
        "public channels need no authorization",
    );
    let got = post_as(
        &client,
        "/my/auth",
        Some("alice"),
        "socket_id=1.2&channel_name=private-a%20b",
    )
    .await;
    assert_json_error(&got, Status::BadRequest, "invalid channel_name");
}

#[rocket::async_test]
async fn own_route_with_the_recorded_pusher_js_body() {
    let client = auth_client(json!({})).await;
    let body = recorded_body("channel authorization (channelAuthorization, ajax)");
    let got = post_as(&client, "/my/shape", None, &body).await;
    assert_eq!(got.0, Status::Ok);
    assert_eq!(
        json_of(&got.2),
        json!({ "socket_id": "123.456", "batch": false,
                "channels": ["private-user-42@example.com"], "extra": null })
    );
    let got = post_as(&client, "/my/checked-auth", None, &body).await;
    let auth = ok_auth(&got);
    assert!(verify_channel_auth(
        &token(),
        "123.456",
        "private-user-42@example.com",
        &auth
    ));
}

#[rocket::async_test]
async fn own_route_batch_with_the_recorded_pusher_js_auth_body() {
    let client = auth_client(json!({})).await;
    let body = recorded_body("pusher-js-auth batched channel authorization");
    let got = post_as(&client, "/my/shape", None, &body).await;
    assert_eq!(
        json_of(&got.2),
        json!({ "socket_id": "123.456", "batch": true,
                "channels": ["private-a", "presence-b@x", "private-missing"],
                "extra": "p q" })
    );

    let (status, ct, text) = post_as(&client, "/my/auth", Some("carol"), &body).await;
    assert_eq!(status, Status::Ok, "{text}");
    assert_eq!(ct, Some(ContentType::JSON));
    let v = json_of(&text);
    assert_eq!(v.as_object().unwrap().len(), 3, "{text}");
    for (channel, member) in [
        ("private-a", None),
        (
            "presence-b@x",
            Some(r#"{"user_id":"carol","user_info":{"name":"carol"}}"#),
        ),
    ] {
        assert_eq!(v[channel]["status"], 200, "{text}");
        let auth: ChannelAuth = serde_json::from_value(v[channel]["data"].clone()).unwrap();
        assert_eq!(auth.channel_data.as_deref(), member);
        assert!(verify_channel_auth(&token(), "123.456", channel, &auth));
    }
    // `extra=p q` allows private-missing too in this app's rule.
    assert_eq!(v["private-missing"]["status"], 200);

    // Without the user: every channel refused, still a 200 batch answer.
    let (status, _, text) = post_as(&client, "/my/auth", None, &body).await;
    assert_eq!(status, Status::Ok);
    let v = json_of(&text);
    for channel in ["private-a", "presence-b@x", "private-missing"] {
        assert_eq!(v[channel]["status"], 403, "{text}");
    }

    // A repeated channel is answered once.
    let got = post_as(
        &client,
        "/my/shape",
        None,
        "socket_id=1.2&channel_name[0]=private-a&channel_name[1]=private-a",
    )
    .await;
    assert_eq!(json_of(&got.2)["channels"], json!(["private-a"]));
}

#[rocket::async_test]
async fn own_route_batch_cap_follows_the_config() {
    let client = auth_client(json!({ "max_batch_channels": 2 })).await;
    let body = "socket_id=1.2&channel_name[0]=private-a&channel_name[1]=private-b&channel_name[2]=private-c";
    let got = post_as(&client, "/my/checked-auth", None, body).await;
    assert_json_error(&got, Status::BadRequest, "more than 2 channels");
}

#[rocket::async_test]
async fn own_route_refusals_as_json_through_result() {
    let client = auth_client(json!({})).await;
    for (body, status, reason) in [
        (
            "channel_name=private-a",
            Status::BadRequest,
            "missing socket_id",
        ),
        ("socket_id=1.2", Status::BadRequest, "missing channel_name"),
        (
            "socket_id=x&channel_name=private-a",
            Status::BadRequest,
            "malformed socket_id",
        ),
        (
            "socket_id=1.2&channel_name=private-refused",
            Status::Forbidden,
            "channel refused",
        ),
        (
            "socket_id=1.2&channel_name=presence-bad-member",
            Status::InternalServerError,
            "presence member data is invalid",
        ),
    ] {
        let got = post_as(&client, "/my/checked-auth", None, body).await;
        assert_json_error(&got, status, reason);
    }
    let got = read(
        client
            .post("/my/checked-auth")
            .header(ContentType::JSON)
            .body(r#"{"socket_id":"1.2"}"#)
            .dispatch()
            .await,
    )
    .await;
    assert_json_error(&got, Status::UnsupportedMediaType, "x-www-form-urlencoded");
    let big = format!(
        "socket_id=1.2&channel_name=private-a&pad={}",
        "x".repeat(40 * 1024)
    );
    let got = post_as(&client, "/my/checked-auth", None, &big).await;
    assert_json_error(&got, Status::PayloadTooLarge, "exceeds the limit");

    // Without `Result`, the guard's failure is the route's status.
    let (status, _, _) = post_as(
        &client,
        "/my/auth",
        Some("a"),
        "socket_id=x&channel_name=private-a",
    )
    .await;
    assert_eq!(status, Status::BadRequest);
    let (status, _, _) = post_as(&client, "/my/auth", Some("a"), "socket_id=1.2").await;
    assert_eq!(status, Status::BadRequest);
}

#[rocket::async_test]
async fn decision_allow_on_presence_uses_the_socket_id() {
    #[post("/allow", data = "<auth>")]
    fn allow(auth: ChannelAuthRequest, pusher: &State<Pusher>) -> ChannelAuthResponse {
        auth.respond(pusher, |_| Decision::from(true))
    }
    let rocket = rocket_with(PusherFairing::new(), json!({})).mount("/", routes![allow]);
    let client = client_of(rocket).await;
    let got = post_form(&client, "/allow", "socket_id=5.6&channel_name=presence-x").await;
    let auth = ok_auth(&got);
    assert_eq!(auth.channel_data.as_deref(), Some(r#"{"user_id":"5.6"}"#));
    assert!(verify_channel_auth(&token(), "5.6", "presence-x", &auth));
    let got = post_form(
        &client,
        "/allow",
        "socket_id=5.6&channel_name=private-encrypted-x",
    )
    .await;
    assert_json_error(
        &got,
        Status::Forbidden,
        "encrypted channels are not enabled",
    );
}
