//! Property tests (proptest):
//!
//! * any method, path, headers and body sent to the mounted routes get a 2xx or a 4xx,
//!   never a 5xx or a panic; bodies range from random bytes to well-formed pusher-js forms
//!   and correctly signed webhooks, so every stage of every route is reached;
//! * flipping any byte of a signed webhook body, or of its signature, is refused (the one
//!   exception: a hex digit changed only in case is the same signature);
//! * a presence `channel_data` the crate returns always verifies, and says what the app
//!   said, whatever the member's id and info;
//! * an auth form encoded as pusher-js encodes it parses back to what was encoded.
//!
//! Case counts are kept moderate (64 to 256 each) so `cargo test` stays fast; set
//! `PROPTEST_CASES` to run more.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rocket::figment::Figment;
use rocket::http::{Header, Method, Status};
use rocket::local::blocking::Client;
use rocket_pusher::protocol::{
    FormChannels, PresenceMember, Token, authorize_presence, parse_auth_form, sign_webhook,
    verify_channel_auth, verify_webhook,
};
use rocket_pusher::{PusherFairing, UserData};
use serde_json::{Value, json};

const APP_ID: &str = "4321";
const KEY: &str = "prop-key";
const SECRET: &str = "prop-secret";
const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn token() -> Token {
    Token::new(KEY, SECRET)
}

/// `cases` unless `PROPTEST_CASES` asks for another number.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

// ---- an app with every route mounted -----------------------------------------------------

/// Allows channels whose name contains `ok`; presence members and signed-in users come
/// from the `user` form field when it is a usable id, else `anon`.
fn fairing() -> PusherFairing {
    fn user(params: &[(String, String)]) -> String {
        params
            .iter()
            .find(|(k, _)| k == "user")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .unwrap_or_else(|| "anon".to_owned())
    }
    PusherFairing::new()
        .authorize(|_, ch| Box::pin(async move { ch.channel.as_str().contains("ok") }))
        .presence_member(|_, ch| {
            Box::pin(async move {
                Some(
                    PresenceMember::new(user(ch.params)).with_info(json!({ "p": ch.params.len() })),
                )
            })
        })
        .user_signin(|_, socket| {
            Box::pin(async move { Some(UserData::new(format!("u{}", socket.as_str().len()))) })
        })
        .on_channel_existence(|_, _| Box::pin(async {}))
        .on_presence(|_, _| Box::pin(async {}))
        .on_client_event(|_, _| Box::pin(async {}))
}

/// The app, ignited once per test (the blocking client is not `Sync`).
fn client() -> Client {
    {
        let figment = Figment::from(rocket::Config::debug_default())
            .merge(("log_level", "off"))
            .merge((
                "pusher",
                json!({
                    "app_id": APP_ID, "key": KEY, "secret": SECRET,
                    "encryption_master_key_base64": MASTER_KEY,
                    "jsonp": true, "max_batch_channels": 5,
                    "webhook_body_limit": 4096, "webhook_max_age": 600,
                    "webhook_tokens": [{ "key": "old-key", "secret": "old-secret" }],
                }),
            ))
            .merge(("limits", json!({ "form": 2048 })));
        Client::untracked(rocket::custom(figment).attach(fairing())).expect("the app ignites")
    }
}

const PATHS: &[&str] = &[
    "/pusher/auth",
    "/pusher/user-auth",
    "/pusher/events/channel_existence",
    "/pusher/events/presence",
    "/pusher/events/client",
    "/pusher",
    "/pusher/events",
    "/",
];

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Patch,
        Method::Head,
        Method::Options,
    ])
}

/// A piece of a form value: names that matter, and hostile text.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("private-ok".to_owned()),
        1 => Just("private-no".to_owned()),
        3 => Just("presence-ok".to_owned()),
        2 => Just("private-encrypted-ok".to_owned()),
        1 => Just("public".to_owned()),
        1 => Just("#server-to-user-1".to_owned()),
        1 => Just("1.2".to_owned()),
        1 => "[0-9]{1,12}\\.[0-9]{1,12}",
        2 => "(private-|presence-|private-encrypted-)?[a-zA-Z0-9_=@,.;-]{0,40}",
        1 => "\\PC{0,20}",
        1 => Just("%".to_owned()),
        1 => Just("%zz".to_owned()),
        1 => Just("%E2%98%83".to_owned()),
        1 => Just("%ff".to_owned()),
        1 => Just("+".to_owned()),
    ]
}

/// A form body: mostly what pusher-js and pusher-js-auth send (a socket id, then one
/// channel or a batch, then params), with fields dropped, repeated, mixed and garbled.
fn form_body() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        6 => Just("socket_id".to_owned()),
        4 => Just("channel_name".to_owned()),
        4 => (0u16..8).prop_map(|i| format!("channel_name[{i}]")),
        2 => (0u16..8).prop_map(|i| format!("channel_name%5B{i}%5D")),
        1 => Just("callback".to_owned()),
        2 => Just("user".to_owned()),
        1 => "[a-z\\[\\]%]{0,10}",
    ];
    let socket = prop_oneof![
        8 => "[0-9]{1,12}\\.[0-9]{1,12}",
        1 => fragment(),
    ];
    let batch = prop::collection::vec(fragment(), 1..8).prop_map(|channels| {
        channels
            .iter()
            .enumerate()
            .map(|(i, c)| format!("channel_name[{i}]={c}"))
            .collect::<Vec<_>>()
    });
    let channels = prop_oneof![
        3 => fragment().prop_map(|c| vec![format!("channel_name={c}")]),
        2 => batch,
        1 => Just(Vec::new()),
    ];
    let extra = prop::collection::vec(
        (name, fragment()).prop_map(|(k, v)| format!("{k}={v}")),
        0..3,
    );
    (
        prop::option::weighted(0.85, socket),
        channels,
        extra,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(socket, channels, extra, lead, shuffle)| {
            let mut fields: Vec<String> = socket
                .map(|s| format!("socket_id={s}"))
                .into_iter()
                .collect();
            fields.extend(channels);
            fields.extend(extra);
            if shuffle {
                fields.reverse();
            }
            let body = fields.join("&");
            if lead { format!("&{body}") } else { body }.into_bytes()
        })
}

/// Percent-encode what may not stand in a query string (keeps `%`, `&`, `=`, `+`).
fn query_safe(raw: &[u8]) -> String {
    let mut out = String::new();
    for &b in raw {
        if b.is_ascii_alphanumeric() || b"-_.~!$'()*,;=:@/?&%+[]".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A webhook body: well-formed events of every kind, or broken JSON.
fn webhook_body() -> impl Strategy<Value = Vec<u8>> {
    let event = prop_oneof![
        fragment().prop_map(|c| json!({ "name": "channel_occupied", "channel": c })),
        fragment().prop_map(|c| json!({ "name": "channel_vacated", "channel": c })),
        (fragment(), fragment())
            .prop_map(|(c, u)| json!({ "name": "member_added", "channel": c, "user_id": u })),
        (fragment(), fragment())
            .prop_map(|(c, u)| json!({ "name": "member_removed", "channel": c, "user_id": u })),
        (fragment(), any::<i64>()).prop_map(
            |(c, n)| json!({ "name": "subscription_count", "channel": c, "subscription_count": n })
        ),
        (fragment(), fragment()).prop_map(|(c, d)| json!({
            "name": "client_event", "channel": c, "event": "client-x", "data": d, "socket_id": "1.2"
        })),
        fragment().prop_map(|n| json!({ "name": n })),
        Just(json!({ "channel": "no-name" })),
        Just(json!(42)),
    ];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    prop_oneof![
        4 => (prop::collection::vec(event, 0..6), prop_oneof![4 => Just(now), 1 => any::<i64>()])
            .prop_map(|(events, t)| {
                json!({ "time_ms": t, "events": events }).to_string().into_bytes()
            }),
        1 => Just(b"{\"time_ms\":".to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(vec![b' '; 5000]),
    ]
}

#[derive(Debug, Clone)]
enum Signature {
    None,
    Good,
    Old,
    Garbage(String),
}

#[derive(Debug, Clone)]
struct Hostile {
    method: Method,
    path: String,
    query: String,
    content_type: Option<String>,
    key: Option<String>,
    signature: Signature,
    socket_header: Option<String>,
    extra: Vec<(String, String)>,
    body: Vec<u8>,
}

fn hostile() -> impl Strategy<Value = Hostile> {
    let any_path = prop_oneof![
        8 => prop::sample::select(PATHS).prop_map(str::to_owned),
        1 => (prop::sample::select(PATHS), "[a-z/%.]{0,8}").prop_map(|(p, s)| format!("{p}{s}")),
    ];
    let hook_path = prop::sample::select(vec![
        "/pusher/events/channel_existence",
        "/pusher/events/presence",
        "/pusher/events/client",
    ])
    .prop_map(str::to_owned);
    let form_ct = Just(Some("application/x-www-form-urlencoded".to_owned()));
    let any_ct = prop::option::of(prop::sample::select(vec![
        "application/x-www-form-urlencoded".to_owned(),
        "application/json".to_owned(),
        "text/plain".to_owned(),
        "multipart/form-data; boundary=x".to_owned(),
        "application/x-www-form-urlencoded; charset=latin1".to_owned(),
        "nonsense".to_owned(),
    ]));
    // (method, path, query, content type, body): aimed at each route, or anywhere.
    let target = prop_oneof![
        3 => (Just(Method::Post), Just("/pusher/auth".to_owned()), Just(String::new()),
              prop_oneof![3 => form_ct.clone(), 1 => any_ct.clone()], form_body()),
        2 => (Just(Method::Get), Just("/pusher/auth".to_owned()),
              (prop::option::weighted(0.8, prop_oneof![
                  3 => Just("Pusher.auth_callbacks%5B%271%27%5D".to_owned()),
                  1 => "[ -~]{0,20}".prop_map(|c| query_safe(c.as_bytes())),
              ]), form_body())
                  .prop_map(|(cb, q)| match cb {
                      Some(cb) => format!("callback={cb}&{}", query_safe(&q)),
                      None => query_safe(&q),
                  }),
              any_ct.clone(), Just(Vec::new())),
        1 => (Just(Method::Post), Just("/pusher/user-auth".to_owned()), Just(String::new()),
              form_ct, form_body()),
        3 => (Just(Method::Post), hook_path, Just(String::new()), any_ct.clone(), webhook_body()),
        2 => (method(), any_path, prop_oneof![Just(String::new()),
              form_body().prop_map(|q| String::from_utf8_lossy(&q).into_owned())],
              any_ct, prop_oneof![form_body(), webhook_body()]),
    ];
    let key = prop::option::weighted(
        0.9,
        prop_oneof![
            6 => Just(KEY.to_owned()),
            2 => Just("old-key".to_owned()),
            1 => "[ -~]{0,20}",
        ],
    );
    let signature = prop_oneof![
        1 => Just(Signature::None),
        6 => Just(Signature::Good),
        2 => Just(Signature::Old),
        1 => "[ -~]{0,80}".prop_map(Signature::Garbage),
    ];
    let extra = prop::collection::vec(("X-[A-Za-z-]{1,10}", "[ -~]{0,30}"), 0..3);
    (
        target,
        (key, signature, prop::option::of("[ -~]{0,20}"), extra),
    )
        .prop_map(
            |(
                (method, path, query, content_type, body),
                (key, signature, socket_header, extra),
            )| {
                Hostile {
                    method,
                    path,
                    query,
                    content_type,
                    key,
                    signature,
                    socket_header,
                    extra,
                    body,
                }
            },
        )
}

#[test]
fn the_routes_answer_any_request_with_2xx_or_4xx() {
    let client = &client();
    // What each (method, path) answered; shown with `--nocapture`.
    let seen = std::sync::Mutex::new(std::collections::BTreeMap::<_, usize>::new());
    run(256, hostile(), |h| {
        let uri = if h.query.is_empty() {
            h.path.clone()
        } else {
            format!("{}?{}", h.path, h.query)
        };
        let mut req = client.req(h.method, uri).body(&h.body);
        if let Some(ct) = &h.content_type {
            req = req.header(Header::new("Content-Type", ct.clone()));
        }
        if let Some(k) = &h.key {
            req = req.header(Header::new("X-Pusher-Key", k.clone()));
        }
        let sig = match &h.signature {
            Signature::None => None,
            Signature::Good => Some(sign_webhook(&token(), &h.body)),
            Signature::Old => Some(sign_webhook(&Token::new("old-key", "old-secret"), &h.body)),
            Signature::Garbage(s) => Some(s.clone()),
        };
        if let Some(s) = sig {
            req = req.header(Header::new("X-Pusher-Signature", s));
        }
        if let Some(s) = &h.socket_header {
            req = req.header(Header::new("X-Socket-ID", s.clone()));
        }
        for (k, v) in &h.extra {
            req = req.header(Header::new(k.clone(), v.clone()));
        }
        let resp = req.dispatch();
        let status = resp.status();
        let body = resp.into_string().unwrap_or_default();
        *seen
            .lock()
            .unwrap()
            .entry((h.method.as_str(), h.path.clone(), status.code))
            .or_default() += 1;
        prop_assert!(
            (200..500).contains(&status.code),
            "{} for {h:?}: {body}",
            status
        );
        Ok(())
    });
    for ((method, path, status), n) in seen.into_inner().unwrap() {
        if status != 404 {
            eprintln!("{n:5} {method} {path} {status}");
        }
    }
}

/// The JSON the auth route answered for a single channel, if it was a 200.
fn auth_answer(body: &str) -> Option<rocket_pusher::protocol::ChannelAuth> {
    serde_json::from_str(body).ok()
}

#[test]
fn every_auth_the_route_grants_verifies() {
    let client = &client();
    let strategy = (
        "[0-9]{1,10}\\.[0-9]{1,10}",
        prop::sample::select(vec!["private-ok", "presence-ok", "private-encrypted-ok"]),
        "[a-zA-Z0-9_=@,.;-]{0,20}",
        "\\PC{1,40}",
    );
    run(128, strategy, |(socket, prefix, suffix, user)| {
        let channel = format!("{prefix}{suffix}");
        let body = format!(
            "socket_id={socket}&channel_name={channel}&user={}",
            percent_encode(&user)
        );
        let resp = client
            .post("/pusher/auth")
            .header(rocket::http::ContentType::Form)
            .body(body)
            .dispatch();
        prop_assert_eq!(resp.status(), Status::Ok);
        let text = resp.into_string().unwrap();
        let auth = auth_answer(&text).expect("an auth answer");
        prop_assert!(
            verify_channel_auth(&token(), &socket, &channel, &auth),
            "{}",
            text
        );
        if prefix == "presence-ok" {
            let data: Value = serde_json::from_str(auth.channel_data.as_deref().unwrap()).unwrap();
            let expected = if user.len() <= 128 {
                user.as_str()
            } else {
                "anon"
            };
            prop_assert_eq!(data["user_id"].as_str(), Some(expected));
        }
        Ok(())
    });
}

// ---- webhook signatures ------------------------------------------------------------------

fn signed_webhook() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![webhook_body(), prop::collection::vec(any::<u8>(), 1..256),]
        .prop_filter("non-empty", |b| !b.is_empty())
}

#[test]
fn flipping_any_byte_of_a_signed_webhook_is_refused() {
    let tokens = [token(), Token::new("old-key", "old-secret")];
    run(
        256,
        (signed_webhook(), any::<prop::sample::Index>(), 1u8..=255),
        |(body, at, mask)| {
            let sig = sign_webhook(&tokens[0], &body);
            prop_assert!(verify_webhook(&tokens, Some(KEY), Some(&sig), &body).is_ok());

            let mut flipped = body.clone();
            let i = at.index(flipped.len());
            flipped[i] ^= mask;
            prop_assert!(verify_webhook(&tokens, Some(KEY), Some(&sig), &flipped).is_err());

            let mut bad = sig.clone().into_bytes();
            let j = at.index(bad.len());
            bad[j] ^= mask;
            let bad = String::from_utf8_lossy(&bad).into_owned();
            let same = bad.trim().eq_ignore_ascii_case(&sig);
            prop_assert_eq!(
                verify_webhook(&tokens, Some(KEY), Some(&bad), &body).is_ok(),
                same,
                "{:?}",
                bad
            );
            // Signed with the other token's secret under this key: refused.
            let other = sign_webhook(&tokens[1], &body);
            prop_assert!(verify_webhook(&tokens, Some(KEY), Some(&other), &body).is_err());
            Ok(())
        },
    );
}

#[test]
fn the_webhook_routes_refuse_every_flipped_byte() {
    let client = &client();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let body = format!(
        r#"{{"time_ms":{now},"events":[{{"name":"member_added","channel":"presence-a","user_id":"u"}}]}}"#
    )
    .into_bytes();
    let sig = sign_webhook(&token(), &body);
    let post = |body: &[u8], sig: &str| {
        client
            .post("/pusher/events/presence")
            .header(Header::new("X-Pusher-Key", KEY))
            .header(Header::new("X-Pusher-Signature", sig.to_owned()))
            .body(body)
            .dispatch()
            .status()
    };
    assert_eq!(post(&body, &sig), Status::Ok);
    run(
        128,
        (any::<prop::sample::Index>(), 1u8..=255, any::<bool>()),
        |(at, mask, in_signature)| {
            if in_signature {
                let mut bad = sig.clone().into_bytes();
                let j = at.index(bad.len());
                bad[j] ^= mask;
                let Ok(bad) = String::from_utf8(bad) else {
                    return Ok(());
                };
                // Header values are visible ASCII; a case change is the same signature.
                if bad.bytes().any(|b| !(b' '..=b'~').contains(&b))
                    || bad.trim().eq_ignore_ascii_case(&sig)
                {
                    return Ok(());
                }
                prop_assert_eq!(post(&body, &bad), Status::Forbidden);
            } else {
                let mut flipped = body.clone();
                let i = at.index(flipped.len());
                flipped[i] ^= mask;
                prop_assert_eq!(post(&flipped, &sig), Status::Forbidden);
            }
            Ok(())
        },
    );
}

// ---- presence channel_data ---------------------------------------------------------------

/// JSON without floats (a float's text may not parse back to the same bits).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        "\\PC{0,20}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn presence_channel_data_always_verifies() {
    let strategy = (
        "[0-9]{1,20}\\.[0-9]{1,20}",
        "presence-[a-zA-Z0-9_=@,.;-]{1,100}",
        prop_oneof![any::<String>(), "\\PC{1,128}", "[0-9]{1,16}"],
        prop::option::of(json_value()),
    );
    run(256, strategy, |(socket, channel, user_id, info)| {
        let mut member = PresenceMember::new(user_id.clone());
        if let Some(info) = &info {
            member = member.with_info(info.clone());
        }
        match authorize_presence(&token(), &socket, &channel, &member) {
            Ok(auth) => {
                prop_assert!(verify_channel_auth(&token(), &socket, &channel, &auth));
                let data = auth.channel_data.expect("presence auth has channel_data");
                let back: PresenceMember = serde_json::from_str(&data).unwrap();
                prop_assert_eq!(&back.user_id, &member.user_id);
                // (`"user_info": null` reads back as no info.)
                prop_assert_eq!(
                    back.user_info.unwrap_or(Value::Null),
                    member.user_info.clone().unwrap_or(Value::Null)
                );
                // Another socket, channel or secret does not verify.
                let other = Token::new(KEY, "another-secret");
                let auth = rocket_pusher::protocol::ChannelAuth {
                    auth: auth.auth,
                    channel_data: Some(data),
                    shared_secret: None,
                };
                prop_assert!(!verify_channel_auth(&other, &socket, &channel, &auth));
                let other_socket = format!("{socket}9");
                prop_assert!(!verify_channel_auth(
                    &token(),
                    &other_socket,
                    &channel,
                    &auth
                ));
                let other_channel = format!("{channel}-other");
                prop_assert!(!verify_channel_auth(
                    &token(),
                    &socket,
                    &other_channel,
                    &auth
                ));
            }
            Err(_) => prop_assert!(user_id.is_empty() || user_id.len() > 128),
        }
        Ok(())
    });
}

// ---- the auth form -----------------------------------------------------------------------

/// What pusher-js's `encodeURIComponent` leaves alone, then `%XX` for the rest.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[test]
fn an_encoded_auth_form_parses_back() {
    let strategy = (
        "[0-9]{1,10}\\.[0-9]{1,10}",
        prop::collection::vec(any::<String>(), 0..6),
        any::<bool>(),
        prop::collection::vec(("[a-z]{1,8}", any::<String>()), 0..4),
    );
    run(256, strategy, |(socket, channels, batch, params)| {
        let params: Vec<(String, String)> = params
            .into_iter()
            .filter(|(k, _)| k != "socket_id" && k != "channel_name")
            .collect();
        let mut fields = vec![format!("socket_id={socket}")];
        let expected = if batch && !channels.is_empty() {
            let mut unique: Vec<String> = Vec::new();
            for (i, c) in channels.iter().enumerate() {
                fields.push(format!("channel_name[{i}]={}", percent_encode(c)));
                if !unique.contains(c) {
                    unique.push(c.clone());
                }
            }
            FormChannels::Batch(unique)
        } else if let Some(c) = channels.first() {
            fields.push(format!("channel_name={}", percent_encode(c)));
            FormChannels::Single(c.clone())
        } else {
            FormChannels::None
        };
        for (k, v) in &params {
            fields.push(format!("{k}={}", percent_encode(v)));
        }
        let body = format!("&{}", fields.join("&"));
        let form = parse_auth_form(body.as_bytes(), 100).unwrap();
        prop_assert_eq!(form.socket_id.as_str(), socket.as_str());
        prop_assert_eq!(form.channels, expected);
        prop_assert_eq!(form.params, params);
        Ok(())
    });
}
