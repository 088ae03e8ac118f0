//! The HTTP client against a real server on 127.0.0.1 that checks every signature with its
//! own code (`support/mock_api.rs`): each endpoint's exact request, the typed replies, the
//! checks made before sending, every error status, timeouts, and the recording transport.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mock_api.rs"]
mod mock_api;

use std::time::{Duration, Instant};

use mock_api::{MockApi, Reply, check_signature, closed_port};
use rocket_pusher::client::{
    BatchEvent, ChannelAttributes, PresenceUser, PusherBuilder, RetryPolicy,
};
use rocket_pusher::config::{PusherConfig, TransportKind};
use rocket_pusher::error::ValidationError;
use rocket_pusher::protocol::{Credentials, MasterKey, Token, decrypt_payload, sign_request};
use rocket_pusher::{Error, Pusher, SocketId};
use serde_json::{Value, json};

const APP_ID: &str = "4321";
const KEY: &str = "test-key";
const SECRET: &str = "MARKER-SECRET-123";
/// 32 bytes 0x00..0x1f.
const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn builder(api: &MockApi) -> PusherBuilder {
    Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(api.port())
        .use_tls(false)
        .timeout(Duration::from_secs(5))
}

async fn setup() -> (MockApi, Pusher) {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api).build().unwrap();
    (api, pusher)
}

fn events_path() -> String {
    format!("/apps/{APP_ID}/events")
}

fn attrs(user_count: Option<u64>, subscription_count: Option<u64>) -> ChannelAttributes {
    serde_json::from_value(json!({
        "user_count": user_count,
        "subscription_count": subscription_count,
    }))
    .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---- the server's own check -------------------------------------------------------------

/// The mock's signature check must refuse what Pusher refuses, or the other tests prove
/// nothing.
#[test]
fn mock_checks_signatures_like_pusher() {
    let token = Token::new(KEY, SECRET);
    let path = "/apps/1/events";
    let body = br#"{"name":"e"}"#;
    let post = sign_request(&token, "POST", path, &[], Some(body), now());
    let check = |method, path, query: &str, body: &[u8]| {
        check_signature(KEY, SECRET, method, path, query, body)
    };
    check("POST", path, &post.query, body).unwrap();
    // Another body, method, path, key, secret; an old timestamp.
    assert!(check("POST", path, &post.query, b"{}").is_err());
    assert!(check("PUT", path, &post.query, body).is_err());
    assert!(check("POST", "/apps/2/events", &post.query, body).is_err());
    assert!(check_signature("other", SECRET, "POST", path, &post.query, body).is_err());
    assert!(check_signature(KEY, "other", "POST", path, &post.query, body).is_err());
    let old = sign_request(&token, "POST", path, &[], Some(body), now() - 601);
    let e = check("POST", path, &old.query, body).unwrap_err();
    assert!(e.starts_with("Timestamp expired"), "{e}");
    // A POST without body_md5, a GET with one.
    let no_md5 = sign_request(&token, "POST", path, &[], None, now());
    assert!(check("POST", path, &no_md5.query, b"").is_err());
    let get_md5 = sign_request(&token, "GET", path, &[], Some(b""), now());
    assert!(check("GET", path, &get_md5.query, b"").is_err());

    // Values are signed decoded: an encoded `&` verifies, a raw one (Node's bug) does not.
    let params = [("filter_by_prefix", "a b&c")];
    let get = sign_request(&token, "GET", "/apps/1/channels", &params, None, now());
    check("GET", "/apps/1/channels", &get.query, b"").unwrap();
    let raw = get.query.replace("a%20b%26c", "a b&c");
    assert!(check("GET", "/apps/1/channels", &raw, b"").is_err());
}

// ---- triggers ---------------------------------------------------------------------------

#[tokio::test]
async fn trigger_one_channel() {
    let (api, pusher) = setup().await;
    let reply = pusher
        .trigger("orders", "created", &json!({"id": 7}))
        .await
        .unwrap();
    assert!(reply.channels.is_empty());

    let req = api.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, events_path());
    assert_eq!(
        req.json(),
        json!({"name": "created", "data": "{\"id\":7}", "channels": ["orders"]})
    );
    assert_eq!(req.param("auth_key"), Some(KEY));
    assert_eq!(req.param("auth_version"), Some("1.0"));
    assert_eq!(
        req.headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    assert!(
        req.headers
            .get("x-pusher-library")
            .is_some_and(|v| v.starts_with("rocket_pusher ")),
        "{:?}",
        req.headers
    );
}

#[tokio::test]
async fn trigger_several_channels_with_exclusion_and_info() {
    let (api, pusher) = setup().await;
    api.reply(Reply::new(
        200,
        r#"{"channels":{"presence-room":{"user_count":2,"subscription_count":3},"news":{}},
            "future_field":1}"#,
    ));
    let reply = pusher
        .trigger(["presence-room", "news"], "message", &json!({"text": "hi"}))
        .exclude(SocketId::new("123.456").unwrap())
        .with_user_count()
        .with_subscription_count()
        .await
        .unwrap();

    let req = api.only_request();
    assert_eq!(
        req.json(),
        json!({
            "name": "message",
            "data": "{\"text\":\"hi\"}",
            "channels": ["presence-room", "news"],
            "socket_id": "123.456",
            "info": "user_count,subscription_count",
        })
    );
    assert_eq!(reply.channels.len(), 2);
    assert_eq!(reply.channels["presence-room"], attrs(Some(2), Some(3)));
    assert_eq!(reply.channels["news"], ChannelAttributes::default());
}

#[tokio::test]
async fn trigger_info_flags_one_at_a_time_and_no_exclusion() {
    let (api, pusher) = setup().await;
    let list = vec!["a".to_owned(), "b".to_owned()];
    pusher
        .trigger(&list, "e", &1)
        .with_user_count()
        .exclude(None)
        .await
        .unwrap();
    pusher
        .trigger(list.as_slice(), "e", &2)
        .with_subscription_count()
        .await
        .unwrap();
    let reqs = api.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs.iter().all(|r| r.auth.is_ok()), "{reqs:#?}");
    assert_eq!(
        reqs[0].json(),
        json!({"name": "e", "data": "1", "channels": ["a", "b"], "info": "user_count"})
    );
    assert_eq!(
        reqs[1].json(),
        json!({"name": "e", "data": "2", "channels": ["a", "b"], "info": "subscription_count"})
    );
}

#[tokio::test]
async fn data_serialized_or_sent_verbatim() {
    #[derive(serde::Serialize)]
    struct Order {
        id: u32,
        note: &'static str,
    }
    let (api, pusher) = setup().await;
    pusher.trigger("c", "e", "hello").await.unwrap();
    pusher
        .trigger("c", "e", &r#"{"already":"json"}"#.to_owned())
        .await
        .unwrap();
    pusher
        .trigger(
            "c",
            "e",
            &Order {
                id: 3,
                note: "a\"b",
            },
        )
        .await
        .unwrap();
    pusher.trigger("c", "e", &json!([1, "two"])).await.unwrap();

    let datas: Vec<Value> = api
        .requests()
        .iter()
        .map(|r| {
            assert!(r.auth.is_ok(), "{r:#?}");
            r.json()["data"].clone()
        })
        .collect();
    assert_eq!(
        datas,
        [
            json!("hello"),
            json!(r#"{"already":"json"}"#),
            json!(r#"{"id":3,"note":"a\"b"}"#),
            json!(r#"[1,"two"]"#),
        ]
    );
}

#[tokio::test]
async fn invalid_triggers_are_not_sent() {
    let (api, pusher) = setup().await;
    let too_many: Vec<String> = (0..101).map(|i| format!("c{i}")).collect();
    let cases = [
        pusher.trigger("bad channel", "e", "x").await,
        pusher.trigger("c", "", "x").await,
        pusher.trigger(Vec::<String>::new(), "e", "x").await,
        pusher.trigger(&too_many, "e", "x").await,
    ];
    assert!(matches!(
        &cases[0],
        Err(Error::Validation(ValidationError::ChannelNameCharacter {
            ch: ' '
        }))
    ));
    assert!(matches!(
        &cases[1],
        Err(Error::Validation(ValidationError::EmptyEventName))
    ));
    assert!(matches!(
        &cases[2],
        Err(Error::Validation(ValidationError::NoChannels))
    ));
    assert!(matches!(
        &cases[3],
        Err(Error::Validation(ValidationError::TooManyChannels {
            count: 101,
            max: 100
        }))
    ));
    assert!(SocketId::new("12.x").is_err());
    assert!(api.requests().is_empty());
}

#[tokio::test]
async fn data_size_limit_is_configurable() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .max_payload_bytes(10)
        .encryption_master_key_base64(MASTER_KEY)
        .build()
        .unwrap();

    // At the limit: sent.
    pusher.trigger("c", "e", "0123456789").await.unwrap();
    assert_eq!(api.only_request().json()["data"], "0123456789");

    // Over it, on one channel, several, in a batch, and (after encryption) encrypted.
    let one = pusher.trigger("c", "e", "01234567890").await;
    let many = pusher.trigger(["a", "b"], "e", "01234567890").await;
    let batch = pusher
        .trigger_batch([BatchEvent::new("c", "e", "01234567890")])
        .await;
    let encrypted = pusher.trigger("private-encrypted-c", "e", "x").await;
    for r in [one, many] {
        assert!(
            matches!(
                r,
                Err(Error::Validation(ValidationError::DataTooLarge {
                    len: 11,
                    max: 10
                }))
            ),
            "{r:?}"
        );
    }
    assert!(
        matches!(
            batch,
            Err(Error::Validation(ValidationError::DataTooLarge {
                len: 11,
                max: 10
            }))
        ),
        "{batch:?}"
    );
    assert!(
        matches!(
            encrypted,
            Err(Error::Validation(ValidationError::DataTooLarge { len, max: 10 })) if len > 40
        ),
        "{encrypted:?}"
    );
    assert_eq!(api.requests().len(), 1, "nothing over the limit is sent");
}

#[tokio::test]
async fn default_data_limit_is_10_kib() {
    let (api, pusher) = setup().await;
    let ok = "x".repeat(10 * 1024);
    pusher.trigger("c", "e", ok.as_str()).await.unwrap();
    let over = "x".repeat(10 * 1024 + 1);
    assert!(matches!(
        pusher.trigger("c", "e", over.as_str()).await,
        Err(Error::Validation(ValidationError::DataTooLarge {
            len: 10241,
            max: 10240
        }))
    ));
    let data = api.only_request().json()["data"].as_str().unwrap().len();
    assert_eq!(data, 10 * 1024);
}

#[tokio::test]
async fn encrypted_trigger_decrypts_to_the_data() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .encryption_master_key_base64(MASTER_KEY)
        .build()
        .unwrap();
    let channel = "private-encrypted-vault";
    let payload = json!({"secret": "the plans", "n": 1});
    pusher.trigger(channel, "leak", &payload).await.unwrap();
    pusher.trigger(channel, "leak", &payload).await.unwrap();

    let master = MasterKey::from_base64(MASTER_KEY).unwrap();
    let reqs = api.requests();
    assert_eq!(reqs.len(), 2);
    let mut nonces = Vec::new();
    for req in &reqs {
        assert!(req.auth.is_ok(), "{req:#?}");
        let body = req.json();
        assert_eq!(body["name"], "leak");
        assert_eq!(body["channels"], json!([channel]));
        let data = body["data"].as_str().unwrap();
        assert!(!data.contains("the plans"), "{data}");
        let sealed: Value = serde_json::from_str(data).unwrap();
        nonces.push(sealed["nonce"].clone());
        let plain = decrypt_payload(&master, channel, data).expect("decrypts");
        assert_eq!(plain, serde_json::to_vec(&payload).unwrap());
        // Sealed for this channel only.
        assert!(decrypt_payload(&master, "private-encrypted-other", data).is_none());
    }
    assert_ne!(nonces[0], nonces[1], "a fresh nonce per event");
}

#[tokio::test]
async fn encrypted_channel_refusals_send_nothing() {
    let api = MockApi::start(KEY, SECRET).await;
    let with_key = builder(&api)
        .encryption_master_key_base64(MASTER_KEY)
        .build()
        .unwrap();
    let without_key = builder(&api).build().unwrap();

    let multi = with_key
        .trigger(["private-encrypted-a", "news"], "e", "x")
        .await;
    assert!(
        matches!(
            multi,
            Err(Error::Validation(ValidationError::EncryptedMultiChannel))
        ),
        "{multi:?}"
    );
    let multi = with_key
        .trigger(["news", "private-encrypted-a"], "e", "x")
        .await;
    assert!(matches!(
        multi,
        Err(Error::Validation(ValidationError::EncryptedMultiChannel))
    ));
    let no_key = without_key.trigger("private-encrypted-a", "e", "x").await;
    assert!(
        matches!(no_key, Err(Error::Validation(ValidationError::NoMasterKey))),
        "{no_key:?}"
    );
    let no_key = without_key
        .trigger_batch([BatchEvent::new("private-encrypted-a", "e", "x")])
        .await;
    assert!(matches!(
        no_key,
        Err(Error::Validation(ValidationError::NoMasterKey))
    ));
    assert!(api.requests().is_empty());
}

// ---- batches ----------------------------------------------------------------------------

#[tokio::test]
async fn batch_trigger_body_and_typed_reply() {
    let (api, pusher) = setup().await;
    api.reply(Reply::new(
        200,
        r#"{"batch":[{"user_count":2,"subscription_count":5},{}]}"#,
    ));
    let reply = pusher
        .trigger_batch(vec![
            BatchEvent::new("presence-room", "joined", &json!({"who": "ann"}))
                .exclude(SocketId::new("1.2").unwrap())
                .with_user_count()
                .with_subscription_count(),
            BatchEvent::new("news", "headline", "verbatim text"),
        ])
        .await
        .unwrap();

    let req = api.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, format!("/apps/{APP_ID}/batch_events"));
    assert_eq!(
        req.json(),
        json!({"batch": [
            {
                "channel": "presence-room",
                "name": "joined",
                "data": "{\"who\":\"ann\"}",
                "socket_id": "1.2",
                "info": "user_count,subscription_count",
            },
            {"channel": "news", "name": "headline", "data": "verbatim text"},
        ]})
    );
    assert_eq!(
        reply.batch,
        [attrs(Some(2), Some(5)), ChannelAttributes::default()]
    );
}

#[tokio::test]
async fn batch_limits_are_checked_before_sending() {
    let (api, pusher) = setup().await;
    let eleven: Vec<BatchEvent> = (0..11).map(|i| BatchEvent::new("c", "e", &i)).collect();
    let r = pusher.trigger_batch(eleven).await;
    assert!(
        matches!(
            r,
            Err(Error::Validation(ValidationError::BatchTooLarge {
                count: 11,
                max: 10
            }))
        ),
        "{r:?}"
    );
    let r = pusher.trigger_batch(Vec::new()).await;
    assert!(matches!(
        r,
        Err(Error::Validation(ValidationError::EmptyBatch))
    ));
    let r = pusher
        .trigger_batch([
            BatchEvent::new("c", "e", "ok"),
            BatchEvent::new("bad name", "e", "x"),
        ])
        .await;
    assert!(matches!(
        r,
        Err(Error::Validation(
            ValidationError::ChannelNameCharacter { .. }
        ))
    ));
    assert!(api.requests().is_empty(), "the server saw no request");

    // Ten is fine.
    let ten: Vec<BatchEvent> = (0..10).map(|i| BatchEvent::new("c", "e", &i)).collect();
    let reply = pusher.trigger_batch(ten).await.unwrap();
    assert!(reply.batch.is_empty());
    assert_eq!(
        api.only_request().json()["batch"].as_array().unwrap().len(),
        10
    );
}

#[tokio::test]
async fn batch_limit_is_configurable() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api).max_batch_events(2).build().unwrap();
    let three: Vec<BatchEvent> = (0..3).map(|i| BatchEvent::new("c", "e", &i)).collect();
    assert!(matches!(
        pusher.trigger_batch(three).await,
        Err(Error::Validation(ValidationError::BatchTooLarge {
            count: 3,
            max: 2
        }))
    ));
    assert!(api.requests().is_empty());
}

#[tokio::test]
async fn batch_encrypts_encrypted_channels_only() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .encryption_master_key_base64(MASTER_KEY)
        .build()
        .unwrap();
    pusher
        .trigger_batch([
            BatchEvent::new("private-encrypted-x", "e", &json!({"k": "v"})),
            BatchEvent::new("plain", "e", &json!({"k": "v"})),
        ])
        .await
        .unwrap();
    let body = api.only_request().json();
    let master = MasterKey::from_base64(MASTER_KEY).unwrap();
    let sealed = body["batch"][0]["data"].as_str().unwrap();
    assert_eq!(
        decrypt_payload(&master, "private-encrypted-x", sealed).unwrap(),
        br#"{"k":"v"}"#
    );
    assert_eq!(body["batch"][1]["data"], r#"{"k":"v"}"#);
}

// ---- queries ----------------------------------------------------------------------------

#[tokio::test]
async fn channels_list() {
    let (api, pusher) = setup().await;
    api.reply(Reply::new(200, r#"{"channels":{"news":{},"orders":{}}}"#));
    let list = pusher.channels().await.unwrap();
    assert_eq!(list.channels.keys().collect::<Vec<_>>(), ["news", "orders"]);
    assert_eq!(list.channels["news"], ChannelAttributes::default());

    let req = api.only_request();
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, format!("/apps/{APP_ID}/channels"));
    assert!(req.body.is_empty());
    assert_eq!(req.param("body_md5"), None);
    assert_eq!(req.param("info"), None);
    assert_eq!(req.param("filter_by_prefix"), None);
}

#[tokio::test]
async fn channels_with_presence_prefix_and_user_count() {
    let (api, pusher) = setup().await;
    api.reply(Reply::new(
        200,
        r#"{"channels":{"presence-a":{"user_count":4},"presence-b":{"user_count":1}}}"#,
    ));
    let list = pusher
        .channels()
        .prefix("presence-")
        .with_user_count()
        .await
        .unwrap();
    assert_eq!(list.channels["presence-a"], attrs(Some(4), None));
    assert_eq!(list.channels["presence-b"].user_count, Some(1));
    let req = api.only_request();
    assert_eq!(req.param("filter_by_prefix"), Some("presence-"));
    assert_eq!(req.param("info"), Some("user_count"));
}

#[tokio::test]
async fn channels_user_count_needs_presence_prefix() {
    let (api, pusher) = setup().await;
    for q in [
        pusher.channels().with_user_count(),
        pusher.channels().prefix("private-").with_user_count(),
    ] {
        assert!(matches!(
            q.await,
            Err(Error::Validation(ValidationError::Attribute(_)))
        ));
    }
    assert!(api.requests().is_empty());
}

#[tokio::test]
async fn query_values_needing_percent_encoding_still_verify() {
    let (api, pusher) = setup().await;
    let prefix = "presence-a b&c=d+e%f/é?#";
    pusher
        .channels()
        .prefix(prefix)
        .with_user_count()
        .await
        .unwrap();
    let req = api.only_request(); // verified by the server over the decoded values
    assert_eq!(req.param("filter_by_prefix"), Some(prefix));
    assert_eq!(req.query.len(), 6, "{:?}", req.query);
    assert!(!req.raw_query.contains(' '), "{}", req.raw_query);
    // The comma of a multi-attribute `info` is encoded too, and verifies.
    api.reply(Reply::new(200, r#"{"occupied":false}"#));
    pusher
        .channel("presence-x")
        .with_user_count()
        .with_subscription_count()
        .await
        .unwrap();
    let reqs = api.requests();
    assert!(
        reqs[1]
            .raw_query
            .contains("info=user_count%2Csubscription_count")
    );
    assert!(reqs[1].auth.is_ok(), "{reqs:#?}");
    assert_eq!(reqs[1].param("info"), Some("user_count,subscription_count"));
}

#[tokio::test]
async fn channel_info() {
    let (api, pusher) = setup().await;
    api.reply(Reply::new(
        200,
        r#"{"occupied":true,"user_count":3,"subscription_count":4,"extra":"ignored"}"#,
    ));
    let info = pusher
        .channel("presence-room")
        .with_user_count()
        .with_subscription_count()
        .await
        .unwrap();
    assert!(info.occupied);
    assert_eq!(info.user_count, Some(3));
    assert_eq!(info.subscription_count, Some(4));
    assert_eq!(info.cache, None);
    let req = api.only_request();
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, format!("/apps/{APP_ID}/channels/presence-room"));
    assert_eq!(req.param("info"), Some("user_count,subscription_count"));
    assert_eq!(req.param("body_md5"), None);
}

#[tokio::test]
async fn channel_info_plain_and_cache() {
    let (api, pusher) = setup().await;
    api.reply_once(Reply::new(200, r#"{"occupied":false}"#));
    api.reply_once(Reply::new(
        200,
        r#"{"occupied":true,"cache":{"data":"last","ttl":60}}"#,
    ));
    let plain = pusher.channel("news").await.unwrap();
    assert!(!plain.occupied);
    assert_eq!(plain.user_count, None);
    let cached = pusher.channel("cache-news").with_cache().await.unwrap();
    let cache = cached.cache.unwrap();
    assert_eq!((cache.data.as_str(), cache.ttl), ("last", 60));

    let reqs = api.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs.iter().all(|r| r.auth.is_ok()), "{reqs:#?}");
    assert_eq!(reqs[0].param("info"), None);
    assert_eq!(reqs[1].param("info"), Some("cache"));
    assert_eq!(reqs[1].path, format!("/apps/{APP_ID}/channels/cache-news"));
}

#[tokio::test]
async fn paths_with_every_channel_name_character_verify() {
    let (api, pusher) = setup().await;
    let channel = "presence-Az09-_=@,.;x";
    api.reply_once(Reply::new(200, r#"{"occupied":true}"#));
    api.reply_once(Reply::new(200, r#"{"users":[]}"#));
    pusher.channel(channel).await.unwrap();
    pusher.users(channel).await.unwrap();
    pusher
        .terminate_user_connections("Az09-_=@,.;x")
        .await
        .unwrap();
    let reqs = api.requests();
    assert!(reqs.iter().all(|r| r.auth.is_ok()), "{reqs:#?}");
    assert_eq!(reqs[0].path, format!("/apps/{APP_ID}/channels/{channel}"));
    assert_eq!(
        reqs[1].path,
        format!("/apps/{APP_ID}/channels/{channel}/users")
    );
    assert_eq!(
        reqs[2].path,
        format!("/apps/{APP_ID}/users/Az09-_=@,.;x/terminate_connections")
    );
}

#[tokio::test]
async fn channel_user_count_needs_presence_channel() {
    let (api, pusher) = setup().await;
    let r = pusher.channel("private-x").with_user_count().await;
    assert!(matches!(
        r,
        Err(Error::Validation(ValidationError::Attribute(_)))
    ));
    let r = pusher.channel("bad name").await;
    assert!(matches!(r, Err(Error::Validation(_))));
    assert!(api.requests().is_empty());
}

#[tokio::test]
async fn presence_users() {
    let (api, pusher) = setup().await;
    api.reply(Reply::new(200, r#"{"users":[{"id":"1"},{"id":"ann"}]}"#));
    let users: Vec<PresenceUser> = pusher.users("presence-room").await.unwrap();
    assert_eq!(
        users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["1", "ann"]
    );
    let req = api.only_request();
    assert_eq!(req.method, "GET");
    assert_eq!(
        req.path,
        format!("/apps/{APP_ID}/channels/presence-room/users")
    );
    assert!(req.query.keys().all(|k| k.starts_with("auth_")));

    let r = pusher.users("private-room").await;
    assert!(matches!(
        r,
        Err(Error::Validation(ValidationError::WrongChannelKind { .. }))
    ));
    assert_eq!(api.requests().len(), 1);
}

// ---- users ------------------------------------------------------------------------------

#[tokio::test]
async fn terminate_user_connections() {
    let (api, pusher) = setup().await;
    pusher.terminate_user_connections("user-7").await.unwrap();
    let req = api.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.path,
        format!("/apps/{APP_ID}/users/user-7/terminate_connections")
    );
    assert_eq!(req.body_str(), "{}");
    assert_eq!(
        req.param("body_md5"),
        Some("99914b932bd37a50b983c5e7c90ae93b")
    );

    for bad in ["", "a b", "x/y"] {
        assert!(matches!(
            pusher.terminate_user_connections(bad).await,
            Err(Error::Validation(_))
        ));
    }
    assert_eq!(api.requests().len(), 1);
}

#[tokio::test]
async fn send_to_user() {
    let (api, pusher) = setup().await;
    pusher
        .send_to_user("user-7", "notice", &json!({"n": 1}))
        .await
        .unwrap();
    let req = api.only_request();
    assert_eq!(req.path, events_path());
    assert_eq!(
        req.json(),
        json!({"name": "notice", "data": "{\"n\":1}", "channels": ["#server-to-user-user-7"]})
    );
    assert!(matches!(
        pusher.send_to_user("a b", "notice", "x").await,
        Err(Error::Validation(_))
    ));
    assert_eq!(api.requests().len(), 1);
}

// ---- replies and errors -----------------------------------------------------------------

#[tokio::test]
async fn error_statuses_map_to_variants() {
    let (api, pusher) = setup().await;
    let pusher_401 = "Invalid signature: you should have sent HmacSHA256Hex(\"POST\\n...\", \
                      your_secret_key), but you sent \"abc\"";
    let cases: [(u16, &str); 9] = [
        (400, "Unknown attribute"),
        (401, pusher_401),
        (403, "Application disabled"),
        (404, "Not found"),
        (413, "Event data too large"),
        (429, "Slow down"),
        (500, "Internal error"),
        (503, "Unavailable"),
        (418, "teapot"),
    ];
    for (status, body) in cases {
        api.reply(Reply::new(status, body));
        let err = pusher.trigger("c", "e", "x").await.unwrap_err();
        assert_eq!(err.status(), Some(status), "{err:?}");
        let ok = match &err {
            Error::BadRequest { message } => status == 400 && message == body,
            Error::Unauthorized { message } => status == 401 && message == body,
            Error::Forbidden { message } => status == 403 && message == body,
            Error::NotFound { message } => status == 404 && message == body,
            Error::PayloadTooLarge { message } => status == 413 && message == body,
            Error::RateLimited {
                message,
                retry_after,
            } => status == 429 && message == body && retry_after.is_none(),
            Error::Server { status: s, message } => {
                *s == status && (500..600).contains(s) && message == body
            }
            Error::Status { status: s, message } => *s == 418 && message == body,
            _ => false,
        };
        assert!(ok, "{status} mapped to {err:?}");
        assert_eq!(
            err.is_transient(),
            matches!(status, 429 | 500..=599),
            "{err:?}"
        );
    }
    assert_eq!(api.requests().len(), cases.len());
}

#[tokio::test]
async fn rate_limited_keeps_retry_after() {
    let (api, pusher) = setup().await;
    api.reply(Reply::new(429, r#"{"error":"rate limited"}"#).retry_after("7"));
    let err = pusher.channels().await.unwrap_err();
    match err {
        Error::RateLimited {
            retry_after,
            message,
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(7)));
            assert_eq!(message, r#"{"error":"rate limited"}"#);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn wrong_secret_gets_pusher_401_with_the_string_to_sign() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = Pusher::builder(APP_ID, KEY, "some-other-secret")
        .host("127.0.0.1")
        .port(api.port())
        .use_tls(false)
        .build()
        .unwrap();
    let err = pusher.terminate_user_connections("u1").await.unwrap_err();
    let Error::Unauthorized { message } = &err else {
        panic!("{err:?}")
    };
    assert!(message.starts_with("Invalid signature"), "{message}");
    assert!(
        message.contains(&format!(
            "POST\\n/apps/{APP_ID}/users/u1/terminate_connections\\nauth_key={KEY}&"
        )),
        "{message}"
    );
    assert!(api.requests()[0].auth.is_err());
}

#[tokio::test]
async fn non_json_success_is_a_decode_error() {
    let (api, pusher) = setup().await;
    api.reply(Reply::new(200, "<html>proxy says hi</html>"));
    let r = pusher.trigger("c", "e", "x").await;
    assert!(matches!(r, Err(Error::Decode(_))), "{r:?}");
    let r = pusher.channels().await;
    assert!(matches!(r, Err(Error::Decode(_))), "{r:?}");
    // Valid JSON of the wrong shape.
    api.reply(Reply::new(200, r#"{"users":"nope"}"#));
    let r = pusher.users("presence-x").await;
    assert!(matches!(r, Err(Error::Decode(_))), "{r:?}");
    assert_eq!(api.requests().len(), 3);
}

#[tokio::test]
async fn other_success_bodies_decode() {
    let (api, pusher) = setup().await;
    // sockudo answers a trigger with {"ok":true}; the old API answered 202.
    api.reply_once(Reply::new(200, r#"{"ok":true}"#));
    api.reply_once(Reply::new(200, r#"{"ok":true}"#));
    api.reply_once(Reply::new(202, "{}"));
    api.reply_once(Reply::new(200, ""));
    let r = pusher.trigger("c", "e", "x").await.unwrap();
    assert!(r.channels.is_empty());
    let b = pusher
        .trigger_batch([BatchEvent::new("c", "e", "x")])
        .await
        .unwrap();
    assert!(b.batch.is_empty());
    pusher.trigger("c", "e", "x").await.unwrap();
    pusher.terminate_user_connections("u").await.unwrap();
    assert_eq!(api.requests().len(), 4);
}

#[tokio::test]
async fn silent_server_times_out() {
    let api = MockApi::start(KEY, SECRET).await;
    api.reply(Reply::Stall);
    let timeout = Duration::from_millis(300);
    let pusher = builder(&api).timeout(timeout).build().unwrap();
    let started = Instant::now();
    let r = pusher.trigger("c", "e", "x").await;
    let elapsed = started.elapsed();
    assert!(
        matches!(r, Err(Error::Timeout { timeout: t, attempts: 1, .. }) if t == timeout),
        "{r:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(250), "took {elapsed:?}");
    assert_eq!(api.requests().len(), 1, "the request did arrive");
    assert_eq!(r.unwrap_err().to_string(), "request timed out after 300ms");
}

#[tokio::test]
async fn a_retried_timeout_tells_the_whole_wait() {
    let api = MockApi::start(KEY, SECRET).await;
    api.reply(Reply::Stall);
    let timeout = Duration::from_millis(200);
    let pusher = builder(&api)
        .timeout(timeout)
        .retry(RetryPolicy::new(3).initial_delay(Duration::from_millis(50)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = pusher.channels().await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(api.requests().len(), 3);
    let Error::Timeout {
        timeout: t,
        attempts,
        elapsed,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*t, *attempts), (timeout, 3));
    // Three timeouts and two waits (jittered between half and all of 50 and 100 ms).
    assert!(
        *elapsed >= timeout * 3 + Duration::from_millis(75) && *elapsed <= took,
        "{elapsed:?} of {took:?}"
    );
    let shown = err.to_string();
    let expected = format!("request timed out after 200ms (3 attempts over {elapsed:.1?})");
    assert_eq!(shown, expected);
}

#[tokio::test]
async fn closed_port_is_a_connect_error() {
    let pusher = Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(closed_port())
        .use_tls(false)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let err = pusher.trigger("c", "e", "x").await.unwrap_err();
    let Error::Connect(cause) = &err else {
        panic!("{err:?}")
    };
    // The cause is kept, without the URL and its signed query.
    assert!(cause.is_connect() && cause.url().is_none(), "{cause:?}");
    let mut shown = format!("{err:?} {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        shown.push_str(&format!(": {s}"));
        source = s.source();
    }
    assert!(shown.contains("could not connect"), "{shown}");
    assert!(!shown.contains("auth_signature"), "{shown}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn no_error_shows_the_secret() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .timeout(Duration::from_millis(300))
        .max_payload_bytes(5)
        .build()
        .unwrap();
    let mut errors = Vec::new();

    // Server errors, its own 401 (bad key), a decode error, a timeout.
    for status in [400, 401, 403, 404, 413, 429, 500] {
        api.reply_once(Reply::new(status, "nope"));
        errors.push(pusher.trigger("c", "e", "x").await.unwrap_err());
    }
    let wrong_key = Pusher::builder(APP_ID, "other-key", SECRET)
        .host("127.0.0.1")
        .port(api.port())
        .use_tls(false)
        .build()
        .unwrap();
    errors.push(wrong_key.channels().await.unwrap_err());
    api.reply_once(Reply::new(200, "not json"));
    errors.push(pusher.channels().await.unwrap_err());
    api.reply_once(Reply::Stall);
    errors.push(pusher.trigger("c", "e", "x").await.unwrap_err());
    // Refusals made before sending.
    errors.push(pusher.trigger("c", "e", "too long").await.unwrap_err());
    errors.push(
        pusher
            .trigger("private-encrypted-c", "e", "x")
            .await
            .unwrap_err(),
    );
    // Nothing listening.
    let closed = Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(closed_port())
        .use_tls(false)
        .build()
        .unwrap();
    errors.push(closed.channels().await.unwrap_err());

    assert!(matches!(errors[7], Error::Unauthorized { .. }));
    assert!(matches!(errors[8], Error::Decode(_)));
    assert!(matches!(errors[9], Error::Timeout { .. }));
    assert!(matches!(errors[12], Error::Connect(_)));
    for e in &errors {
        let shown = format!("{e} | {e:?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(!shown.contains("MARKER"), "{shown}");
    }
    // Nor does the client itself.
    assert!(!format!("{pusher:?}").contains("MARKER"));
}

// ---- the connection and the configuration ----------------------------------------------

#[tokio::test]
async fn one_client_makes_many_requests() {
    let (api, pusher) = setup().await;
    for i in 0..5 {
        pusher.trigger("c", "e", &i).await.unwrap();
        pusher.channels().prefix("c").await.unwrap();
    }
    let reqs = api.requests();
    assert_eq!(reqs.len(), 10);
    assert!(reqs.iter().all(|r| r.auth.is_ok()), "{reqs:#?}");
    // reqwest reuses its connection, and the server serves several requests on it.
    assert!(api.connections() < reqs.len(), "{}", api.connections());
}

#[tokio::test]
async fn from_config_and_url_reach_the_server() {
    let api = MockApi::start(KEY, SECRET).await;
    let mut config = PusherConfig::new(APP_ID, KEY, SECRET);
    config.host = Some(format!("http://127.0.0.1:{}", api.port()));
    config.timeout = 2.0;
    let from_config = Pusher::from_config(&config).unwrap();
    assert_eq!(
        from_config.endpoint(),
        format!("http://127.0.0.1:{}", api.port())
    );
    from_config.trigger("c", "e", "1").await.unwrap();

    let from_url = Pusher::from_url(&format!(
        "http://{KEY}:{SECRET}@127.0.0.1:{}/apps/{APP_ID}",
        api.port()
    ))
    .unwrap();
    from_url.trigger("c", "e", "2").await.unwrap();

    let reqs = api.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs.iter().all(|r| r.auth.is_ok()), "{reqs:#?}");
    assert!(reqs.iter().all(|r| r.path == events_path()));
}

// ---- the recording transport ------------------------------------------------------------

#[tokio::test]
async fn recording_client_captures_triggers_and_batches() {
    let pusher = Pusher::recording(Credentials::new(APP_ID, KEY, SECRET));
    pusher
        .trigger(["a", "presence-b"], "created", &json!({"id": 7}))
        .exclude(SocketId::new("1.2").unwrap())
        .with_user_count()
        .await
        .unwrap();
    let batch = pusher
        .trigger_batch([
            BatchEvent::new("c", "one", "plain"),
            BatchEvent::new("d", "two", &json!([1])).with_subscription_count(),
        ])
        .await
        .unwrap();
    assert!(batch.batch.is_empty());
    pusher.send_to_user("u1", "hello", "hi").await.unwrap();

    let recorder = pusher.recorder().expect("a recording client");
    let events = recorder.events();
    assert_eq!(events.len(), 4);
    assert_eq!(events[0].channels, ["a", "presence-b"]);
    assert_eq!(events[0].name, "created");
    assert_eq!(events[0].data_as::<Value>().unwrap(), json!({"id": 7}));
    assert_eq!(events[0].socket_id.as_deref(), Some("1.2"));
    assert_eq!(events[0].info.as_deref(), Some("user_count"));
    assert_eq!(events[1].channels, ["c"]);
    assert_eq!(
        (events[1].name.as_str(), events[1].data.as_str()),
        ("one", "plain")
    );
    assert_eq!(events[1].socket_id, None);
    assert_eq!(events[1].info, None);
    assert_eq!(events[2].channels, ["d"]);
    assert_eq!(events[2].data_as::<Vec<u8>>().unwrap(), [1]);
    assert_eq!(events[2].info.as_deref(), Some("subscription_count"));
    assert_eq!(events[3].channels, ["#server-to-user-u1"]);

    // The requests as they would have been sent, signed: our server's check accepts them.
    let requests = recorder.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[1].path, format!("/apps/{APP_ID}/batch_events"));
    for r in &requests {
        assert_eq!(r.method, "POST");
        let body = r.body.as_deref().unwrap();
        check_signature(KEY, SECRET, r.method, &r.path, &r.query, body.as_bytes()).unwrap();
    }

    // Queries answer as an empty app.
    assert!(pusher.channels().await.unwrap().channels.is_empty());
    assert!(!pusher.channel("c").await.unwrap().occupied);
    assert!(pusher.users("presence-b").await.unwrap().is_empty());
    let get = &recorder.requests()[4];
    assert_eq!((get.method, get.body.as_deref()), ("GET", None));
    check_signature(KEY, SECRET, "GET", &get.path, &get.query, b"").unwrap();

    // Validation still applies, and refusals are not recorded.
    assert!(pusher.trigger("bad name", "e", "x").await.is_err());
    assert_eq!(recorder.requests().len(), 6);
    recorder.clear();
    assert!(recorder.events().is_empty());
}

#[tokio::test]
async fn recording_transport_from_config_and_builder() {
    let mut config = PusherConfig::new(APP_ID, KEY, SECRET);
    config.transport = TransportKind::Recording;
    let from_config = Pusher::from_config(&config).unwrap();
    let from_builder = Pusher::builder(APP_ID, KEY, SECRET)
        .recording()
        .build()
        .unwrap();
    let http = Pusher::builder(APP_ID, KEY, SECRET).build().unwrap();
    assert!(http.recorder().is_none());

    for pusher in [&from_config, &from_builder] {
        pusher.trigger("orders", "created", "x").await.unwrap();
        pusher
            .trigger_batch([BatchEvent::new("orders", "updated", &json!({"v": 2}))])
            .await
            .unwrap();
        let events = pusher.recorder().expect("recording").events();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].channels, ["orders"]);
        assert_eq!(events[0].name, "created");
        assert_eq!(events[1].name, "updated");
        assert_eq!(events[1].data_as::<Value>().unwrap(), json!({"v": 2}));
    }
    // Clones share the recorder.
    let clone = from_config.clone();
    clone.trigger("x", "e", "y").await.unwrap();
    assert_eq!(from_config.recorder().unwrap().events().len(), 3);
}

#[tokio::test]
async fn channel_names_up_to_200_or_the_configured_limit() {
    // A self-hosted server's client, recording.
    let recording = |max: Option<usize>| {
        let mut config = PusherConfig::new(APP_ID, KEY, SECRET);
        config.transport = TransportKind::Recording;
        config.host = Some("127.0.0.1".into());
        if let Some(max) = max {
            config.max_channel_name_len = max;
        }
        Pusher::from_config(&config).unwrap()
    };
    let name = |len: usize| format!("private-{}", "x".repeat(len - 8));

    // The hosted service's client stops at its 164, whatever the key says.
    let mut hosted = PusherConfig::new(APP_ID, KEY, SECRET);
    hosted.transport = TransportKind::Recording;
    let hosted = Pusher::from_config(&hosted).unwrap();
    hosted.trigger(name(164).as_str(), "e", "1").await.unwrap();
    let err = hosted
        .trigger(name(165).as_str(), "e", "1")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Validation(ValidationError::ChannelNameOverLimit { len: 165, max: 164 })
        ),
        "{err:?}"
    );

    // Elsewhere by default 200, as the official libraries, Flask-Pusher and sockudo.
    let pusher = recording(None);
    pusher.trigger(name(200).as_str(), "e", "1").await.unwrap();
    let err = pusher
        .trigger(name(201).as_str(), "e", "1")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Validation(ValidationError::ChannelNameTooLong { len: 201, max: 200 })
        ),
        "{err:?}"
    );

    // Lowered to Pusher's documented 164: triggers, batches and auth follow; the error
    // names the key.
    let pusher = recording(Some(164));
    pusher.trigger(name(164).as_str(), "e", "1").await.unwrap();
    let over = name(165);
    let err = pusher.trigger(over.as_str(), "e", "1").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Validation(ValidationError::ChannelNameOverLimit { len: 165, max: 164 })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("`pusher.max_channel_name_len` of 164"),
        "{err}"
    );
    let err = pusher
        .trigger(vec!["ok".to_owned(), over.clone()], "e", "1")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("max_channel_name_len"), "{err}");
    let err = pusher
        .trigger_batch([BatchEvent::new(&over, "e", "1")])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("max_channel_name_len"), "{err}");
    assert_eq!(pusher.recorder().unwrap().requests().len(), 1);

    // A value outside 1..=200 is refused, naming the key.
    for bad in [0, 201] {
        let mut config = PusherConfig::new(APP_ID, KEY, SECRET);
        config.max_channel_name_len = bad;
        let err = Pusher::from_config(&config).unwrap_err();
        assert!(err.to_string().contains("max_channel_name_len"), "{err}");
    }
}
