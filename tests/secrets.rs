//! No secret ever leaks: every error path (bad configuration, failed ignite, bad webhook
//! signatures and every other webhook failure, transport errors, the API's own 401, refused
//! channel authorizations) runs with an app secret, an extra webhook secret and an
//! encryption master key that hold a marker string, while a `log` logger captures every
//! record of every crate at trace level. The marker must appear in no log line, no error
//! text (`Display` and `Debug`) and no response body.
//!
//! Also: verification accepts exactly the right signature (in either hex case) and nothing
//! near it, and hostile signature values (not hex, short, long, not ASCII) are refused
//! without a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;
use rocket::{Build, Rocket, State, post, routes};
use rocket_pusher::client::RetryPolicy;
use rocket_pusher::config::PusherConfig;
use rocket_pusher::protocol::{
    ChannelAuth, Credentials, MasterKey, Secret, Token, UserAuth, sign_webhook,
    verify_channel_auth, verify_user_auth, verify_webhook,
};
use rocket_pusher::{Error, PresenceMember, Pusher, PusherFairing, VerifiedWebhook};
use serde_json::{Value, json};
use sha2::Sha256;
use support::mock_api::{MockApi, Reply, closed_port};
use support::rocket_app::{
    capture_logs, client_of, failed_in_fairing, figment_with_table, ignite_error, now_ms, post,
};

/// In every secret below; must never be seen.
const MARKER: &str = "MARKER-c0ffee";
const APP_ID: &str = "4321";
const KEY: &str = "leak-key";
const SECRET: &str = "MARKER-c0ffee-app-secret";
const OLD_KEY: &str = "old-key";
const OLD_SECRET: &str = "MARKER-c0ffee-old-secret";
/// 32 bytes that spell the marker; the configured value is their base64.
const MASTER_BYTES: &[u8; 32] = b"MARKER-c0ffee-master-key-32bytes";

fn master_b64() -> String {
    base64::engine::general_purpose::STANDARD.encode(MASTER_BYTES)
}

/// Every form a secret could be shown in.
fn forbidden() -> Vec<String> {
    vec![
        MARKER.to_owned(),
        SECRET.to_owned(),
        OLD_SECRET.to_owned(),
        master_b64(),
        // The master key's hex, in case something printed the bytes.
        MASTER_BYTES.iter().map(|b| format!("{b:02x}")).collect(),
        // Or its `Debug` as a byte array.
        format!("{:?}", &MASTER_BYTES[..8])
            .trim_end_matches(']')
            .to_owned(),
    ]
}

fn assert_clean(what: &str, text: &str) {
    for secret in forbidden() {
        assert!(!text.contains(&secret), "{what} shows a secret: {text}");
    }
}

fn assert_error_clean<E: std::fmt::Display + std::fmt::Debug>(e: &E) {
    assert_clean("an error", &format!("{e} | {e:?} | {e:#?}"));
}

/// No line logged so far, by any test of this binary, shows a secret; `needle`, if given,
/// was logged.
fn assert_logs_clean(needle: Option<&str>) {
    let lines = capture_logs().lines();
    for line in &lines {
        assert_clean("a log line", line);
    }
    if let Some(needle) = needle {
        assert!(
            lines.iter().any(|l| l.contains(needle)),
            "nothing logged {needle:?}: {lines:#?}"
        );
    }
}

// ---- apps --------------------------------------------------------------------------------

/// The `pusher` table with every secret set.
fn table(extra: Value) -> Value {
    let mut t = json!({
        "app_id": APP_ID,
        "key": KEY,
        "secret": SECRET,
        "encryption_master_key_base64": master_b64(),
        "webhook_tokens": [{ "key": OLD_KEY, "secret": OLD_SECRET }],
    });
    if let (Some(t), Value::Object(extra)) = (t.as_object_mut(), extra) {
        t.extend(extra);
    }
    t
}

/// The app, with the capturing logger installed first.
fn rocket_with(fairing: PusherFairing, table: Value) -> Rocket<Build> {
    capture_logs();
    rocket::custom(figment_with_table(table)).attach(fairing)
}

fn fairing() -> PusherFairing {
    PusherFairing::new()
        .authorize(|_, ch| Box::pin(async move { !ch.channel.as_str().contains("deny") }))
        .presence_member(|_, ch| {
            Box::pin(async move {
                // An invalid member (empty id) for one channel: a 500 that is logged.
                let id = if ch.channel.as_str().contains("broken") {
                    ""
                } else {
                    "u1"
                };
                Some(PresenceMember::new(id))
            })
        })
        .on_presence(|_, _| Box::pin(async {}))
        .on_channel_existence(|_, _| Box::pin(async {}))
}

async fn app(table: Value) -> Client {
    client_of(rocket_with(fairing(), table)).await
}

/// POST `body` (as a form) with `headers`; the answer must show no secret.
async fn send(
    client: &Client,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (Status, String) {
    let (status, _, body) = post(client, uri, ContentType::Form, headers, body).await;
    assert_clean(&format!("the {status} answer of {uri}"), &body);
    (status, body)
}

// ---- configuration and ignite ------------------------------------------------------------

#[test]
fn bad_configurations_never_show_a_secret() {
    capture_logs();
    let base = || {
        let mut c = PusherConfig::new(APP_ID, KEY, SECRET);
        c.encryption_master_key_base64 = Some(Secret::new(master_b64()));
        c.webhook_tokens = vec![Token::new(OLD_KEY, OLD_SECRET)];
        c
    };
    let with = |f: &dyn Fn(&mut PusherConfig)| {
        let mut c = base();
        f(&mut c);
        c
    };
    let url = format!("https://{KEY}:{SECRET}@api-eu.pusher.com/apps/{APP_ID}");
    let mut bad: Vec<PusherConfig> = vec![
        with(&|c| c.app_id = None),
        with(&|c| c.app_id = Some("bad id".into())),
        with(&|c| c.key = Some("bad key".into())),
        with(&|c| c.host = Some("http://evil host/".into())),
        with(&|c| c.cluster = Some("eu west".into())),
        with(&|c| c.timeout = -1.0),
        with(&|c| {
            c.encryption_master_key_base64 = Some(Secret::new(format!("{MARKER}-not-base64!")));
        }),
        // Valid base64 of the wrong length.
        with(&|c| {
            c.encryption_master_key_base64 = Some(Secret::new(
                base64::engine::general_purpose::STANDARD.encode(&MASTER_BYTES[..20]),
            ));
        }),
        with(&|c| c.webhook_tokens = vec![Token::new("", OLD_SECRET)]),
        with(&|c| c.max_payload_bytes = 0),
        with(&|c| c.retry = RetryPolicy::new(0)),
        // `url` together with the three credentials.
        with(&|c| c.url = Some(Secret::new(url.clone()))),
    ];
    for broken_url in [
        format!("https://{KEY}:{SECRET}@host/app/{APP_ID}"),
        format!("ftp://{KEY}:{SECRET}@host/apps/{APP_ID}"),
        format!("https://{KEY}:{SECRET}@/apps/{APP_ID}"),
        format!("https://:{SECRET}@host/apps/{APP_ID}"),
        SECRET.to_owned(),
        format!("https://{KEY}:{SECRET}%ZZ@host/apps/{APP_ID}"),
    ] {
        let mut c = PusherConfig::default();
        c.url = Some(Secret::new(broken_url));
        bad.push(c);
    }
    for config in &bad {
        assert_clean("a config's Debug", &format!("{config:?}"));
        let err = Pusher::from_config(config).expect_err("refused");
        assert_error_clean(&err);
    }
    for url in [url.replace("/apps/", "/nope/"), format!("{SECRET}:://")] {
        assert_error_clean(&Pusher::from_url(&url).expect_err("refused"));
    }
    // What is accepted shows nothing either.
    let pusher = Pusher::from_config(&base()).unwrap();
    assert_clean("a client's Debug", &format!("{pusher:?}"));
    assert_clean("a config's Debug", &format!("{:?}", base()));
    let creds = Credentials::new(APP_ID, KEY, SECRET);
    assert_clean(
        "credentials",
        &format!("{creds:?} {:?} {:?}", creds.token, creds.secret()),
    );
    let master = MasterKey::from_base64(&master_b64()).unwrap();
    assert_clean("a master key", &format!("{master:?}"));
    assert_logs_clean(None);
}

#[rocket::async_test]
async fn failed_ignites_never_show_a_secret() {
    let bad_tables = [
        table(json!({ "key": "" })),
        table(json!({ "encryption_master_key_base64": format!("{MARKER}-not-base64") })),
        table(json!({ "webhook_tokens": [{ "key": OLD_KEY, "secret": OLD_SECRET, "x": SECRET }] })),
        table(json!({ "webhook_tokens": [{ "key": OLD_KEY, "secret": [SECRET] }] })),
        table(json!({ "secret": { "nested": SECRET } })),
        table(json!({ "secret": [SECRET, SECRET] })),
        table(json!({ "url": format!("https://{KEY}:{SECRET}@h/apps/1") })),
        table(json!({ "url": { "value": SECRET } })),
        table(json!({ "encryption_master_key_base64": [master_b64()] })),
        table(json!({ "retry": { "attempts": 0 } })),
        table(json!({ "retry": { "attempts": 3, "unknown": 1 } })),
        table(json!({ "mount": "no-slash" })),
        table(json!({ "unknown_key": 1 })),
    ];
    for table in bad_tables {
        let err = ignite_error(rocket_with(fairing(), table.clone())).await;
        assert!(failed_in_fairing(&err), "{table}");
        assert_error_clean(&err);
    }
    assert_logs_clean(Some(
        "pusher: invalid `pusher.encryption_master_key_base64`",
    ));
}

#[rocket::async_test]
async fn liftoff_and_working_routes_never_show_a_secret() {
    let client = app(table(json!({ "jsonp": true }))).await;
    for body in [
        "socket_id=1.2&channel_name=private-a",
        "socket_id=1.2&channel_name=presence-a",
        "socket_id=1.2&channel_name=private-encrypted-a",
        "socket_id=1.2&channel_name[0]=private-a&channel_name[1]=private-encrypted-b",
    ] {
        let (status, _) = send(&client, "/pusher/auth", &[], body.as_bytes()).await;
        assert_eq!(status, Status::Ok, "{body}");
    }
    let resp = client
        .get("/pusher/auth?callback=cb&socket_id=1.2&channel_name=private-encrypted-a")
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);
    assert_clean("a JSONP answer", &resp.into_string().await.unwrap());
    assert_logs_clean(Some("pusher: app 4321 (key leak-key)"));
}

/// Header names and values of a request.
type Headers<'a> = Vec<(&'a str, String)>;

// ---- refused requests to the routes ------------------------------------------------------

#[rocket::async_test]
async fn every_webhook_failure_never_shows_a_secret() {
    let client = app(table(
        json!({ "webhook_max_age": 60, "webhook_body_limit": 512 }),
    ))
    .await;
    let body = format!(
        r#"{{"time_ms":{},"events":[{{"name":"member_added","channel":"presence-a","user_id":"u"}}]}}"#,
        now_ms()
    );
    let body = body.as_bytes();
    let token = Token::new(KEY, SECRET);
    let old = Token::new(OLD_KEY, OLD_SECRET);
    let good = sign_webhook(&token, body);
    let stale = br#"{"time_ms":1,"events":[]}"#;
    let large = vec![b' '; 1024];
    let not_json = b"not json";
    let not_webhook = br#"{"events":7}"#;
    let uri = "/pusher/events/presence";
    let cases: Vec<(Headers<'_>, &[u8], Status)> = vec![
        (
            vec![("X-Pusher-Signature", good.clone())],
            body,
            Status::Forbidden,
        ),
        (
            vec![
                ("X-Pusher-Key", "who".into()),
                ("X-Pusher-Signature", good.clone()),
            ],
            body,
            Status::Forbidden,
        ),
        (vec![("X-Pusher-Key", KEY.into())], body, Status::Forbidden),
        (
            vec![
                ("X-Pusher-Key", KEY.into()),
                ("X-Pusher-Signature", sign_webhook(&old, body)),
            ],
            body,
            Status::Forbidden,
        ),
        (
            vec![
                ("X-Pusher-Key", OLD_KEY.into()),
                ("X-Pusher-Signature", good.clone()),
            ],
            body,
            Status::Forbidden,
        ),
        (
            vec![
                ("X-Pusher-Key", KEY.into()),
                ("X-Pusher-Signature", SECRET.into()),
            ],
            body,
            Status::Forbidden,
        ),
        (
            vec![
                ("X-Pusher-Key", KEY.into()),
                ("X-Pusher-Signature", sign_webhook(&token, stale)),
            ],
            stale,
            Status::Forbidden,
        ),
        (
            vec![
                ("X-Pusher-Key", KEY.into()),
                ("X-Pusher-Signature", sign_webhook(&token, &large)),
            ],
            &large,
            Status::PayloadTooLarge,
        ),
        (
            vec![
                ("X-Pusher-Key", KEY.into()),
                ("X-Pusher-Signature", sign_webhook(&token, not_json)),
            ],
            not_json,
            Status::BadRequest,
        ),
        (
            vec![
                ("X-Pusher-Key", KEY.into()),
                ("X-Pusher-Signature", sign_webhook(&token, not_webhook)),
            ],
            not_webhook,
            Status::UnprocessableEntity,
        ),
        // The secret itself as the key: unknown.
        (
            vec![
                ("X-Pusher-Key", SECRET.into()),
                ("X-Pusher-Signature", good.clone()),
            ],
            body,
            Status::Forbidden,
        ),
    ];
    for (headers, body, status) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let got = send(&client, uri, &headers, body).await;
        assert_eq!(got.0, status, "{headers:?}: {}", got.1);
    }
    // The good one passes, under both keys.
    let headers = [("X-Pusher-Key", KEY), ("X-Pusher-Signature", good.as_str())];
    assert_eq!(send(&client, uri, &headers, body).await.0, Status::Ok);
    let old_sig = sign_webhook(&old, body);
    let headers = [
        ("X-Pusher-Key", OLD_KEY),
        ("X-Pusher-Signature", old_sig.as_str()),
    ];
    assert_eq!(send(&client, uri, &headers, body).await.0, Status::Ok);

    // The protocol's errors themselves.
    let tokens = [token, old];
    for (key, sig, body) in [
        (None, Some(good.as_str()), body),
        (Some("x"), Some(good.as_str()), body),
        (Some(KEY), None, body),
        (Some(KEY), Some(SECRET), body),
        (Some(OLD_KEY), Some(good.as_str()), body),
    ] {
        assert_error_clean(&verify_webhook(&tokens, key, sig, body).unwrap_err());
    }
    assert_logs_clean(None);
}

#[rocket::async_test]
async fn refused_authorizations_never_show_a_secret() {
    let client = app(table(json!({}))).await;
    for body in [
        "socket_id=1.2&channel_name=private-deny",
        "socket_id=1.2&channel_name=presence-broken",
        "socket_id=1.2&channel_name=public",
        "socket_id=1.2&channel_name=private-a%20b",
        "socket_id=x&channel_name=private-a",
        "channel_name=private-a",
    ] {
        let (status, _) = send(&client, "/pusher/auth", &[], body.as_bytes()).await;
        assert_ne!(status, Status::Ok, "{body}");
    }
    // A batch answers 200 with a status per channel.
    let batch = b"socket_id=1.2&channel_name[0]=private-deny&channel_name[1]=presence-broken";
    let (_, body) = send(&client, "/pusher/auth", &[], batch).await;
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["private-deny"]["status"], 403, "{body}");
    assert_eq!(answer["presence-broken"]["status"], 500, "{body}");
    // Encrypted channels refused (and logged) where no master key is configured.
    let mut no_master = table(json!({}));
    no_master
        .as_object_mut()
        .unwrap()
        .remove("encryption_master_key_base64");
    let client = app(no_master).await;
    let body = b"socket_id=1.2&channel_name=private-encrypted-a";
    assert_eq!(
        send(&client, "/pusher/auth", &[], body).await.0,
        Status::Forbidden
    );
    assert_logs_clean(Some("presence member for presence-broken is invalid"));
}

// ---- the client: transport errors and the API's 401 --------------------------------------

#[tokio::test]
async fn transport_errors_and_rejections_never_show_a_secret() {
    capture_logs();
    let api = MockApi::start(KEY, SECRET).await;
    let mut config = PusherConfig::new(APP_ID, KEY, SECRET);
    config.host = Some("127.0.0.1".into());
    config.port = Some(api.port());
    config.use_tls = false;
    config.timeout = 0.3;
    config.encryption_master_key_base64 = Some(Secret::new(master_b64()));
    config.webhook_tokens = vec![Token::new(OLD_KEY, OLD_SECRET)];
    config.retry = RetryPolicy::new(2).initial_delay(Duration::from_millis(5));
    let pusher = Pusher::from_config(&config).unwrap();
    let mut errors = Vec::new();
    for reply in [
        Reply::new(500, "boom"),
        Reply::new(429, "slow").retry_after("1"),
        Reply::new(200, "not json"),
        Reply::Stall,
        Reply::Reset {
            status: 200,
            sent: 3,
            len: 50,
        },
        Reply::StallBody {
            status: 200,
            sent: 3,
            len: 50,
        },
        Reply::Huge {
            status: 500,
            len: 2 * 1024 * 1024,
        },
    ] {
        api.reply(reply);
        // Reads retry (and log each retry at debug level); writes do not.
        errors.push(pusher.channels().await.unwrap_err());
        errors.push(
            pusher
                .trigger("private-encrypted-a", "e", "x")
                .await
                .unwrap_err(),
        );
    }
    // Pusher's own 401: a client signing with another secret. The mock's message shows
    // the string it expected to be signed, never a secret.
    let other = MockApi::start(KEY, "the-server-side-secret").await;
    let wrong = Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(other.port())
        .use_tls(false)
        .build()
        .unwrap();
    let unauthorized = wrong.trigger("c", "e", "x").await.unwrap_err();
    assert!(
        matches!(unauthorized, Error::Unauthorized { .. }),
        "{unauthorized:?}"
    );
    errors.push(unauthorized);
    // Nothing listening.
    let closed = Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(closed_port())
        .use_tls(false)
        .build()
        .unwrap();
    errors.push(closed.users("presence-a").await.unwrap_err());
    // Refused before sending.
    errors.push(pusher.trigger("a b", "e", "x").await.unwrap_err());

    let kinds: Vec<&str> = errors
        .iter()
        .map(|e| match e {
            Error::Server { .. } => "server",
            Error::RateLimited { .. } => "rate",
            Error::Decode(_) => "decode",
            Error::Timeout { .. } => "timeout",
            Error::Transport(_) => "transport",
            Error::Unauthorized { .. } => "401",
            Error::Connect(_) => "connect",
            Error::Validation(_) => "validation",
            _ => "other",
        })
        .collect();
    for kind in [
        "server",
        "rate",
        "decode",
        "timeout",
        "transport",
        "401",
        "connect",
        "validation",
    ] {
        assert!(kinds.contains(&kind), "no {kind} error in {kinds:?}");
    }
    for e in &errors {
        assert_error_clean(e);
    }
    assert_logs_clean(Some("try 2 of 2"));
}

#[post("/send")]
async fn send_route(pusher: &State<Pusher>) -> Result<&'static str, Error> {
    pusher.trigger("private-a", "e", "x").await?;
    Ok("sent")
}

#[rocket::async_test]
async fn an_api_error_answered_by_a_route_is_logged_without_a_secret() {
    let api = MockApi::start(KEY, "the-server-side-secret").await;
    let rocket = rocket_with(
        fairing(),
        table(json!({ "host": "127.0.0.1", "port": api.port(), "use_tls": false })),
    )
    .mount("/", routes![send_route]);
    let client = client_of(rocket).await;
    let (status, body) = send(&client, "/send", &[], b"").await;
    assert_eq!(status, Status::BadGateway, "{body}");
    assert_logs_clean(Some("401 Unauthorized: Invalid signature"));
}

#[post("/hook", data = "<hook>")]
fn hook_route(hook: Result<VerifiedWebhook, rocket_pusher::error::WebhookRejection>) -> String {
    match hook {
        Ok(h) => format!("{} events", h.events.len()),
        Err(e) => format!("{e} {e:?}"),
    }
}

#[rocket::async_test]
async fn the_webhook_guard_errors_never_show_a_secret() {
    let rocket = rocket_with(PusherFairing::new().without_routes(), table(json!({})))
        .mount("/", routes![hook_route]);
    let client = client_of(rocket).await;
    for sig in ["", "zz", SECRET, &"0".repeat(64)] {
        let (status, body) = send(
            &client,
            "/hook",
            &[("X-Pusher-Key", KEY), ("X-Pusher-Signature", sig)],
            br#"{"time_ms":1,"events":[]}"#,
        )
        .await;
        assert_eq!(status, Status::Ok);
        assert!(body.contains("BadSignature"), "{body}");
    }
    assert_logs_clean(None);
}

// ---- exactly the right signature, and hostile ones --------------------------------------

/// HMAC-SHA256 straight from the `hmac` crate: the reference the verifiers are checked against.
fn hmac_sha256(secret: &str, message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Every wrong signature next to `mac`'s hex: each of its 256 single-bit flips, each
/// truncation, and the right one with a digit or two more.
fn near_misses(mac: &[u8; 32]) -> Vec<String> {
    let good = hex::encode(mac);
    let mut out: Vec<String> = (0..256)
        .map(|bit| {
            let mut flipped = *mac;
            flipped[bit / 8] ^= 1 << (bit % 8);
            hex::encode(flipped)
        })
        .collect();
    out.extend((0..good.len()).map(|len| good[..len].to_owned()));
    out.push(format!("{good}0"));
    out.push(format!("{good}00"));
    out
}

/// `verify` accepts `mac`'s hex in either case and refuses every near miss.
fn accepts_only(verify: &dyn Fn(&str) -> bool, what: &str, mac: [u8; 32]) {
    let good = hex::encode(mac);
    assert!(verify(&good), "{what}: the right signature");
    assert!(verify(&good.to_uppercase()), "{what}: in uppercase");
    let misses = near_misses(&mac);
    assert_eq!(misses.len(), 256 + 64 + 2);
    for sig in misses {
        assert!(!verify(&sig), "{what}: {sig:?} accepted");
    }
}

/// Every verifier accepts the right signature, lowercase or uppercase, and refuses every
/// near miss. (How long a comparison takes cannot be asserted in a test: the crate compares
/// MAC bytes with the `hmac` crate's constant-time comparison, see SECURITY.md.)
#[test]
fn verification_accepts_exactly_the_right_signature() {
    let token = Token::new(KEY, SECRET);
    let tokens = [token.clone()];
    let body = br#"{"time_ms":1,"events":[{"name":"channel_occupied","channel":"a"}]}"#;
    let user_data = r#"{"id":"u"}"#;
    let webhook = |sig: &str| verify_webhook(&tokens, Some(KEY), Some(sig), body).is_ok();
    let channel = |sig: &str| {
        let auth = ChannelAuth {
            auth: format!("{KEY}:{sig}"),
            channel_data: None,
            shared_secret: None,
        };
        verify_channel_auth(&token, "1.2", "private-a", &auth)
    };
    let user = |sig: &str| {
        let auth = UserAuth {
            auth: format!("{KEY}:{sig}"),
            user_data: user_data.to_owned(),
        };
        verify_user_auth(&token, "1.2", &auth)
    };
    let user_message = format!("1.2::user::{user_data}");
    accepts_only(&webhook, "webhook", hmac_sha256(SECRET, body));
    accepts_only(&channel, "channel", hmac_sha256(SECRET, b"1.2:private-a"));
    accepts_only(&user, "user", hmac_sha256(SECRET, user_message.as_bytes()));
    // And the signature covers every bit of the body.
    let good = hex::encode(hmac_sha256(SECRET, body));
    for bit in 0..body.len() * 8 {
        let mut tampered = body.to_vec();
        tampered[bit / 8] ^= 1 << (bit % 8);
        assert!(
            verify_webhook(&tokens, Some(KEY), Some(&good), &tampered).is_err(),
            "bit {bit} of the body flipped"
        );
    }
}

fn hostile_signatures(good: &str) -> Vec<String> {
    vec![
        String::new(),
        " ".into(),
        "zz".into(),
        "0".into(),
        good[..63].to_owned(),
        good[..62].to_owned(),
        format!("{good}0"),
        format!("{good}00"),
        format!("{good}{good}"),
        format!("0x{}", &good[2..]),
        format!("{}g", &good[..63]),
        "é".repeat(32),
        "\u{0}".repeat(64),
        "ff".repeat(10_000),
        format!("{}\u{301}", &good[..63]),
        good.replace(|c: char| c.is_ascii_digit(), "a"),
    ]
}

#[test]
fn hostile_signature_values_are_refused_without_panic() {
    let token = Token::new(KEY, SECRET);
    let body = br#"{"time_ms":1,"events":[]}"#;
    let good = sign_webhook(&token, body);
    let tokens = [token.clone()];
    assert!(verify_webhook(&tokens, Some(KEY), Some(&good), body).is_ok());
    assert!(verify_webhook(&tokens, Some(KEY), Some(&good.to_uppercase()), body).is_ok());
    for sig in hostile_signatures(&good) {
        if sig == good {
            continue;
        }
        assert!(
            verify_webhook(&tokens, Some(KEY), Some(&sig), body).is_err(),
            "{sig:?}"
        );
        // The same values as channel and user authorizations.
        let auth = ChannelAuth {
            auth: format!("{KEY}:{sig}"),
            channel_data: None,
            shared_secret: None,
        };
        assert!(!verify_channel_auth(&token, "1.2", "private-a", &auth));
        let user = UserAuth {
            auth: format!("{KEY}:{sig}"),
            user_data: r#"{"id":"u"}"#.into(),
        };
        assert!(!verify_user_auth(&token, "1.2", &user));
    }
    for auth in ["", ":", KEY, &format!("{KEY}:"), &format!(":{good}"), "é:é"] {
        let auth = ChannelAuth {
            auth: auth.to_owned(),
            channel_data: None,
            shared_secret: None,
        };
        assert!(!verify_channel_auth(&token, "1.2", "private-a", &auth));
    }
}

#[rocket::async_test]
async fn hostile_signature_headers_get_403() {
    let client = app(table(json!({}))).await;
    let body = format!(r#"{{"time_ms":{},"events":[]}}"#, now_ms());
    let good = sign_webhook(&Token::new(KEY, SECRET), body.as_bytes());
    for sig in hostile_signatures(&good) {
        // Header values must be visible ASCII (or the local client drops them).
        if sig.chars().any(|c| !c.is_ascii() || c.is_ascii_control()) {
            continue;
        }
        let headers = [("X-Pusher-Key", KEY), ("X-Pusher-Signature", sig.as_str())];
        let (status, _) = send(
            &client,
            "/pusher/events/presence",
            &headers,
            body.as_bytes(),
        )
        .await;
        assert_eq!(status, Status::Forbidden, "{sig:?}");
    }
}
