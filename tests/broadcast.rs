//! Typed broadcast events (`Broadcast`, its derive, `Pusher::broadcast`) and the channel
//! names channel routes build, as the request Pusher would receive them: recorded by the
//! recording transport, decrypted where encrypted, read back by the test kit in an app.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/rocket_app.rs"]
mod rocket_app;

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;
use rocket::{State, post, routes};
use rocket_app::{MASTER_KEY, figment};
use rocket_pusher::client::{MAX_TRIGGER_CHANNELS, RecordedEvent};
use rocket_pusher::error::ValidationError;
use rocket_pusher::protocol::{ChannelKind, MasterKey, UserId, decrypt_payload};
use rocket_pusher::testing::{self, LocalClientExt};
use rocket_pusher::{
    Broadcast, ChannelName, Error, PresenceMember, Pusher, PusherFairing, SocketId, channel,
    channels,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A client that records instead of sending, with an encryption master key.
fn pusher() -> Pusher {
    Pusher::builder("4321", "test-key", "test-secret")
        .encryption_master_key_base64(MASTER_KEY)
        .recording()
        .build()
        .unwrap()
}

/// Every event `pusher` sent.
fn sent(pusher: &Pusher) -> Vec<RecordedEvent> {
    pusher.recorder().unwrap().events()
}

/// An order's channel, watched from a known connection.
#[channel("private-orders.<id>")]
async fn orders(id: u64, user: Option<SocketId>) -> bool {
    user.is_some() && id > 0
}

#[channel("presence-room.<name>")]
async fn room(name: &str) -> Option<PresenceMember> {
    (!name.is_empty()).then(|| PresenceMember::new("1"))
}

#[channel("private-encrypted-inbox.<user>")]
async fn inbox(user: &str) -> bool {
    !user.is_empty()
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Broadcast)]
#[broadcast(
    event = "order.shipped",
    channel = orders::name(self.order_id),
    channel = "private-audit"
)]
struct OrderShipped {
    order_id: u64,
    #[serde(rename = "carrierName")]
    carrier: String,
    /// Not for clients.
    #[serde(skip)]
    note: String,
}

fn shipped(order_id: u64) -> OrderShipped {
    OrderShipped {
        order_id,
        carrier: "DHL".into(),
        note: "fragile".into(),
    }
}

#[tokio::test]
async fn the_request_carries_the_event_name_channels_and_serde_form() {
    let pusher = pusher();
    pusher
        .broadcast(&shipped(42))
        .exclude(SocketId::new("123.456").unwrap())
        .await
        .unwrap();
    let requests = pusher.recorder().unwrap().requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/apps/4321/events");
    let body: Value = serde_json::from_str(requests[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({
            "name": "order.shipped",
            "channels": ["private-orders.42", "private-audit"],
            // The serde form: renamed, the skipped field left out.
            "data": r#"{"order_id":42,"carrierName":"DHL"}"#,
            "socket_id": "123.456",
        })
    );
    // Without `exclude`, nobody is excluded.
    pusher.broadcast(&shipped(7)).await.unwrap();
    let last = sent(&pusher).pop().unwrap();
    assert_eq!(last.socket_id, None);
    assert_eq!(last.channels, ["private-orders.7", "private-audit"]);
}

/// No `event`: the type's name. Generic types work, with the bounds their serde form needs.
#[derive(Serialize, Broadcast)]
#[broadcast(channel = "news", channel = self.extra.as_slice())]
struct Posted<T> {
    item: T,
    #[serde(skip)]
    extra: Vec<String>,
}

#[tokio::test]
async fn the_event_name_defaults_to_the_type_name() {
    assert_eq!(<Posted<u8> as Broadcast>::EVENT, "Posted");
    let pusher = pusher();
    let post = Posted {
        item: vec!["a", "b"],
        extra: vec!["sports".into(), "weather".into()],
    };
    assert_eq!(post.channels().unwrap(), ["news", "sports", "weather"]);
    pusher.broadcast(&post).await.unwrap();
    let e = sent(&pusher).pop().unwrap();
    assert_eq!(
        (e.name.as_str(), e.data.as_str()),
        ("Posted", r#"{"item":["a","b"]}"#)
    );
    assert_eq!(e.channels, ["news", "sports", "weather"]);
}

/// A channel of each kind a broadcast can name (an encrypted one goes alone).
#[derive(Serialize, Broadcast)]
#[broadcast(
    event = "note",
    channel = "public-board",
    channel = ["private-desk", "presence-room.lobby"],
    channel = room::name(&self.room),
    channel = ChannelName::server_to_user(&UserId::new(self.user.as_str())?),
)]
struct Note {
    text: String,
    #[serde(skip)]
    room: String,
    #[serde(skip)]
    user: String,
}

#[tokio::test]
async fn every_kind_of_channel_is_reached() {
    let pusher = pusher();
    let note = Note {
        text: "hi".into(),
        room: "hall".into(),
        user: "alice".into(),
    };
    pusher.broadcast(&note).await.unwrap();
    let e = sent(&pusher).pop().unwrap();
    assert_eq!(
        e.channels,
        [
            "public-board",
            "private-desk",
            "presence-room.lobby",
            "presence-room.hall",
            "#server-to-user-alice"
        ]
    );
    let kinds: Vec<ChannelKind> = note.channels().unwrap().iter().map(|c| c.kind()).collect();
    assert_eq!(
        kinds,
        [
            ChannelKind::Public,
            ChannelKind::Private,
            ChannelKind::Presence,
            ChannelKind::Presence,
            ChannelKind::ServerToUser
        ]
    );
    assert_eq!(e.data, r#"{"text":"hi"}"#);

    // An expression's own `?` reports a bad value as the broadcast's error.
    let bad_user = Note {
        user: "a b".into(),
        ..note
    };
    let err = pusher.broadcast(&bad_user).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError::UserIdCharacter { ch: ' ' })
    ));
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Broadcast)]
#[broadcast(event = "letter", channel = inbox::name(&self.to))]
struct Letter {
    #[serde(skip)]
    to: String,
    subject: String,
    body: String,
}

#[tokio::test]
async fn an_encrypted_broadcast_opens_to_the_serde_form() {
    let pusher = pusher();
    let letter = Letter {
        to: "bob".into(),
        subject: "Hello".into(),
        body: "See you at 5".into(),
    };
    pusher.broadcast(&letter).await.unwrap();
    let e = sent(&pusher).pop().unwrap();
    assert_eq!(e.channels, ["private-encrypted-inbox.bob"]);
    assert!(!e.data.contains("See you"), "sent in the clear: {}", e.data);
    let master = MasterKey::from_base64(MASTER_KEY).unwrap();
    let plain = decrypt_payload(&master, "private-encrypted-inbox.bob", &e.data).unwrap();
    let opened: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(
        opened,
        json!({ "subject": "Hello", "body": "See you at 5" })
    );

    // Without a master key, the encrypted channel is a typed error and nothing is sent.
    let plain_client = Pusher::builder("1", "k", "s").recording().build().unwrap();
    let err = plain_client.broadcast(&letter).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError::NoMasterKey)
    ));
    assert!(sent(&plain_client).is_empty());
}

#[derive(Serialize, Broadcast)]
#[broadcast(event = "memo", channel = "private-encrypted-a", channel = "private-b")]
struct Memo {
    text: String,
}

#[tokio::test]
async fn an_encrypted_channel_among_others_is_the_existing_error() {
    let pusher = pusher();
    let err = pusher
        .broadcast(&Memo { text: "x".into() })
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError::EncryptedMultiChannel)
    ));
    assert!(sent(&pusher).is_empty());
}

#[derive(Serialize, Broadcast)]
#[broadcast(event = "joined", channel = room::name(&self.room), channel = "private-log")]
struct Joined {
    room: String,
}

#[derive(Serialize, Broadcast)]
#[broadcast(event = "many", channel = self.0.clone())]
struct Many(#[serde(skip)] Vec<String>);

#[tokio::test]
async fn a_name_that_cannot_be_built_is_the_typed_error_and_nothing_is_sent() {
    let pusher = pusher();
    for (room, ch) in [("a.b", Some('.')), ("", None), ("a b", Some(' '))] {
        let err = pusher
            .broadcast(&Joined { room: room.into() })
            .await
            .unwrap_err();
        match err {
            Error::Validation(ValidationError::ParamSegment { param, ch: got }) => {
                assert_eq!((param, got), ("name", ch), "{room:?}");
            }
            other => panic!("{room:?}: {other:?}"),
        }
    }
    let err = pusher.broadcast(&Many(vec![])).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError::NoChannels)
    ));
    let too_many = (0..=MAX_TRIGGER_CHANNELS)
        .map(|i| format!("c{i}"))
        .collect();
    let err = pusher.broadcast(&Many(too_many)).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError::TooManyChannels {
            count: 101,
            max: 100
        })
    ));
    let err = pusher
        .broadcast(&Many(vec!["a b".into()]))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError::ChannelNameCharacter { ch: ' ' })
    ));
    assert!(sent(&pusher).is_empty());
}

#[tokio::test]
async fn trigger_takes_the_names_routes_build() {
    let pusher = pusher();
    pusher
        .trigger(orders::name(42), "shipped", &json!({ "id": 42 }))
        .await
        .unwrap();
    let e = sent(&pusher).pop().unwrap();
    assert_eq!(e.channels, ["private-orders.42"]);
    assert_eq!(
        (e.name.as_str(), e.data.as_str()),
        ("shipped", r#"{"id":42}"#)
    );

    // Several, collected: the first name that cannot be built is the error.
    let names: Result<Vec<ChannelName>, _> = ["a", "b"].into_iter().map(room::name).collect();
    pusher.trigger(names, "opened", "").await.unwrap();
    assert_eq!(
        sent(&pusher).pop().unwrap().channels,
        ["presence-room.a", "presence-room.b"]
    );

    let bad: Result<Vec<ChannelName>, _> = ["a", "x.y"].into_iter().map(room::name).collect();
    let err = pusher.trigger(bad, "opened", "").await.unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError::ParamSegment {
            param: "name",
            ch: Some('.')
        })
    ));
    let err = pusher
        .trigger(room::name(""), "opened", "")
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Validation(ValidationError::ParamSegment {
            param: "name",
            ch: None
        })
    ));
    assert_eq!(sent(&pusher).len(), 2);
}

/// An app route that broadcasts, with the route that authorizes the same channel.
#[post("/orders/<id>/ship?<carrier>")]
async fn ship(id: u64, carrier: &str, pusher: &State<Pusher>) -> Result<Status, Error> {
    let event = OrderShipped {
        order_id: id,
        carrier: carrier.into(),
        note: String::new(),
    };
    pusher.broadcast(&event).await?;
    Ok(Status::Accepted)
}

#[post("/letters/<to>")]
async fn post_letter(to: &str, pusher: &State<Pusher>) -> Result<Status, Error> {
    let letter = Letter {
        to: to.into(),
        subject: "Hi".into(),
        body: "from the app".into(),
    };
    pusher.broadcast(&letter).await?;
    Ok(Status::Accepted)
}

#[rocket::async_test]
async fn one_declaration_authorizes_the_subscription_and_addresses_the_broadcast() {
    let app = rocket::custom(figment(
        json!({ "encryption_master_key_base64": MASTER_KEY }),
    ))
    .attach(PusherFairing::new().channels(channels![orders, room, inbox]))
    .mount("/", routes![ship, post_letter]);
    let client = Client::tracked(testing::recording(app)).await.unwrap();

    let res = client.post("/orders/42/ship?carrier=UPS").dispatch().await;
    assert_eq!(res.status(), Status::Accepted);
    let channel = orders::name(42).unwrap();
    // The page subscribes to the channel the event went to: the same route authorizes it.
    let res = client
        .post("/pusher/auth")
        .header(ContentType::Form)
        .header(rocket::http::Header::new("X-Socket-ID", "1.2"))
        .body(format!("socket_id=1.2&channel_name={channel}"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        client.sent::<OrderShipped>(channel.as_str(), "order.shipped"),
        [OrderShipped {
            order_id: 42,
            carrier: "UPS".into(),
            note: String::new(),
        }]
    );

    // An encrypted one: the test kit opens it with the app's key.
    let res = client.post("/letters/bob").dispatch().await;
    assert_eq!(res.status(), Status::Accepted);
    assert_eq!(
        client.sent::<Value>("private-encrypted-inbox.bob", "letter"),
        [json!({ "subject": "Hi", "body": "from the app" })]
    );

    // A value the route could not parse back is the app route's error (400 with the
    // reason, as for any invalid name), and nothing is sent.
    let before = client.sent_events().len();
    let res = client.post("/letters/a.b").dispatch().await;
    assert_eq!(res.status(), Status::BadRequest);
    let body: Value = serde_json::from_str(&res.into_string().await.unwrap()).unwrap();
    assert_eq!(
        body["error"],
        "channel route parameter <user> contains '.'; a segment allows A-Z a-z 0-9 and - _ = @ , ;"
    );
    assert_eq!(client.sent_events().len(), before);
}

/// A broadcast to a user's own channel and the rooms they are in, all built before.
#[derive(Serialize, Broadcast)]
#[broadcast(event = "kicked", channel = self.to.clone())]
struct Kicked {
    #[serde(skip)]
    to: Vec<ChannelName>,
    reason: String,
}

#[tokio::test]
async fn lists_of_checked_names_pass_as_they_are_and_strings_are_still_checked() {
    let pusher = pusher();
    // Valid as built, though no string could name it: `#` is reserved to this kind.
    let alice = ChannelName::server_to_user(&UserId::new("alice").unwrap());
    let order = orders::name(7).unwrap();
    let both = vec![alice.clone(), order.clone()];
    pusher.trigger(both.clone(), "e", "1").await.unwrap();
    pusher.trigger(&both, "e", "2").await.unwrap();
    pusher.trigger(both.as_slice(), "e", "3").await.unwrap();
    pusher
        .trigger([alice.clone(), order.clone()], "e", "4")
        .await
        .unwrap();
    pusher.trigger([&alice, &order], "e", "5").await.unwrap();
    // What routes return, unchecked yet: the first error is the trigger's.
    pusher
        .trigger([orders::name(1), orders::name(2)], "e", "6")
        .await
        .unwrap();
    pusher
        .broadcast(&Kicked {
            to: both.clone(),
            reason: "spam".into(),
        })
        .queue()
        .unwrap();
    let got: Vec<(Vec<String>, String)> = sent(&pusher)
        .into_iter()
        .map(|e| (e.channels, e.data))
        .collect();
    let pair = || vec![alice.to_string(), order.to_string()];
    assert_eq!(
        got,
        [
            (pair(), "1".to_owned()),
            (pair(), "2".to_owned()),
            (pair(), "3".to_owned()),
            (pair(), "4".to_owned()),
            (pair(), "5".to_owned()),
            (
                vec!["private-orders.1".to_owned(), "private-orders.2".to_owned()],
                "6".to_owned()
            ),
            // Queued: one event per channel.
            (vec![alice.to_string()], r#"{"reason":"spam"}"#.to_owned()),
            (vec![order.to_string()], r#"{"reason":"spam"}"#.to_owned()),
        ]
    );

    // Strings, in every list form, are checked as before: the reserved prefix included.
    let reserved = Error::Validation(ValidationError::ChannelNameCharacter { ch: '#' });
    let s = |r: Result<_, Error>| r.map(drop).unwrap_err().to_string();
    let alice_str = alice.to_string();
    let strings = vec![alice_str.clone()];
    for err in [
        s(pusher.trigger(vec![alice_str.as_str()], "e", "x").await),
        s(pusher.trigger(strings.clone(), "e", "x").await),
        s(pusher.trigger(&strings, "e", "x").await),
        s(pusher.trigger(&[alice_str.as_str()][..], "e", "x").await),
        s(pusher.trigger([alice_str.as_str()], "e", "x").await),
    ] {
        assert_eq!(err, reserved.to_string());
    }
    let bad = pusher
        .trigger([orders::name(1), room::name("a.b")], "e", "x")
        .await
        .unwrap_err();
    assert!(
        matches!(
            bad,
            Error::Validation(ValidationError::ParamSegment {
                param: "name",
                ch: Some('.')
            })
        ),
        "{bad:?}"
    );
    pusher.trigger(vec!["a", "b"], "e", "x").await.unwrap();
    pusher
        .trigger(&["a".to_owned(), "b".to_owned()][..], "e", "x")
        .await
        .unwrap();
    assert_eq!(sent(&pusher).len(), 10);
}
