//! The client against a server on 127.0.0.1 that misbehaves on demand
//! (`support/mock_api.rs`): 5xx, 429 with `Retry-After` in seconds and as an HTTP date, a
//! connection reset mid-response, a stall before and during the body, a non-JSON body and
//! a huge one. Each gives its typed `Error` within the configured timeout, never a panic,
//! with the body read bounded. Then the retry policy (reads by default, writes when asked,
//! transient errors only, `Retry-After` honoured), and a burst of 256 triggers in flight.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mock_api.rs"]
mod mock_api;

use std::future::{Future, IntoFuture};
use std::time::{Duration, Instant, SystemTime};

use mock_api::{MockApi, Reply, closed_port};
use rocket::figment::Figment;
use rocket::figment::providers::{Format, Toml};
use rocket_pusher::client::{BatchEvent, PusherBuilder, RetryPolicy};
use rocket_pusher::config::PusherConfig;
use rocket_pusher::error::ConfigError;
use rocket_pusher::{Error, Pusher};

const APP_ID: &str = "4321";
const KEY: &str = "fault-key";
const SECRET: &str = "MARKER-SECRET-faults";

fn builder(api: &MockApi) -> PusherBuilder {
    Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(api.port())
        .use_tls(false)
}

/// A client with this timeout that never retries, to see each fault alone.
async fn no_retry(timeout: Duration) -> (MockApi, Pusher) {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .timeout(timeout)
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    (api, pusher)
}

/// Fast retries: 3 attempts, 20 ms then 40 ms (with jitter), at most 1 s apart.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::new(3)
        .initial_delay(Duration::from_millis(20))
        .max_delay(Duration::from_secs(1))
}

/// One client call, its reply dropped.
type Call<'a> = std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// Await `f`, failing the test if it takes longer than `limit`.
async fn within<T>(limit: Duration, f: impl IntoFuture<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    match tokio::time::timeout(limit, f.into_future()).await {
        Ok(v) => (v, started.elapsed()),
        Err(_) => panic!("still running after {limit:?}"),
    }
}

fn assert_verified(api: &MockApi, count: usize) {
    let requests = api.requests();
    assert_eq!(requests.len(), count, "{requests:#?}");
    for r in &requests {
        assert!(r.auth.is_ok(), "{:?}", r.auth);
    }
}

// ---- faults, one at a time ---------------------------------------------------------------

#[tokio::test]
async fn server_errors_are_typed_and_transient() {
    let (api, pusher) = no_retry(Duration::from_secs(5)).await;
    for status in [500, 502, 503, 504, 599] {
        api.reply(Reply::new(status, "upstream is down"));
        for err in [
            pusher.trigger("c", "e", "x").await.unwrap_err(),
            pusher.channels().await.unwrap_err(),
        ] {
            assert!(
                matches!(&err, Error::Server { status: s, message }
                    if *s == status && message == "upstream is down"),
                "{err:?}"
            );
            assert!(err.is_transient());
        }
    }
    assert_verified(&api, 10);
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_an_http_date() {
    let (api, pusher) = no_retry(Duration::from_secs(5)).await;
    let retry_after = |err: Error| match err {
        Error::RateLimited { retry_after, .. } => retry_after,
        other => panic!("{other:?}"),
    };

    api.reply(Reply::new(429, "slow down").retry_after("3"));
    let got = retry_after(pusher.trigger("c", "e", "x").await.unwrap_err());
    assert_eq!(got, Some(Duration::from_secs(3)));

    let in_30s = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
    api.reply(Reply::new(429, "slow down").retry_after(in_30s));
    let got = retry_after(pusher.channels().await.unwrap_err()).unwrap();
    assert!(
        got > Duration::from_secs(27) && got <= Duration::from_secs(30),
        "{got:?}"
    );

    // A date already past is no wait; nonsense is no header.
    api.reply(Reply::new(429, "").retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
    let got = retry_after(pusher.trigger("c", "e", "x").await.unwrap_err());
    assert_eq!(got, Some(Duration::ZERO));
    for nonsense in ["soon", "-5", "1.5", "Wed, 99 Oct 2015 07:28:00 GMT"] {
        api.reply(Reply::new(429, "").retry_after(nonsense));
        let got = retry_after(pusher.trigger("c", "e", "x").await.unwrap_err());
        assert_eq!(got, None, "{nonsense}");
    }
    // A huge number of seconds does not overflow.
    api.reply(Reply::new(429, "").retry_after("99999999999999999999999"));
    let got = retry_after(pusher.trigger("c", "e", "x").await.unwrap_err());
    assert_eq!(got, Some(Duration::from_secs(u64::MAX)));
}

#[tokio::test]
async fn a_reset_mid_response_is_a_transport_error() {
    let timeout = Duration::from_secs(5);
    let (api, pusher) = no_retry(timeout).await;
    for status in [200, 500] {
        api.reply(Reply::Reset {
            status,
            sent: 100,
            len: 10_000,
        });
        let (err, took) = within(timeout, pusher.trigger("c", "e", "x")).await;
        let err = err.unwrap_err();
        let Error::Transport(cause) = &err else {
            panic!("{err:?}")
        };
        // reqwest's error is kept as the cause, without the request's URL.
        assert!(cause.url().is_none(), "{cause:?}");
        assert!(err.is_transient());
        assert!(took < timeout, "{took:?}");
        let (err, _) = within(timeout, pusher.users("presence-a")).await;
        assert!(matches!(err, Err(Error::Transport(_))), "{err:?}");
    }
    assert_verified(&api, 4);
}

#[tokio::test]
async fn a_stall_before_or_during_the_body_times_out_within_the_timeout() {
    let timeout = Duration::from_millis(400);
    let (api, pusher) = no_retry(timeout).await;
    for reply in [
        Reply::Stall,
        Reply::StallBody {
            status: 200,
            sent: 10,
            len: 1000,
        },
        Reply::StallBody {
            status: 503,
            sent: 0,
            len: 1000,
        },
    ] {
        api.reply(reply.clone());
        for write in [true, false] {
            let started = Instant::now();
            let result = if write {
                pusher.trigger("c", "e", "x").await.map(drop)
            } else {
                pusher.channel("c").await.map(drop)
            };
            let took = started.elapsed();
            assert!(
                matches!(result, Err(Error::Timeout { timeout: t, attempts: 1, .. }) if t == timeout),
                "{reply:?}: {result:?}"
            );
            assert!(
                took >= timeout - Duration::from_millis(50) && took < timeout * 4,
                "{reply:?} took {took:?}"
            );
        }
    }
    assert_verified(&api, 6);
}

#[tokio::test]
async fn non_json_success_bodies_are_decode_errors() {
    let (api, pusher) = no_retry(Duration::from_secs(5)).await;
    // (`[]` is JSON, and decodes as a reply with every field at its default.)
    for body in ["<html>gateway</html>", "{", "null", "\u{0}", "\"text\""] {
        api.reply(Reply::new(200, body));
        let e1 = pusher.trigger("c", "e", "x").await.unwrap_err();
        let e2 = pusher.channels().await.unwrap_err();
        let e3 = pusher.channel("c").await.unwrap_err();
        let e4 = pusher.users("presence-a").await.unwrap_err();
        let e5 = pusher
            .trigger_batch([BatchEvent::new("c", "e", "x")])
            .await
            .unwrap_err();
        for e in [e1, e2, e3, e4, e5] {
            assert!(matches!(e, Error::Decode(_)), "{body:?}: {e:?}");
            assert!(!e.is_transient());
        }
    }
}

#[tokio::test]
async fn a_huge_body_is_cut_at_the_read_limit() {
    let timeout = Duration::from_secs(10);
    let (api, pusher) = no_retry(timeout).await;
    let len = 64 * 1024 * 1024;

    api.reply(Reply::Huge { status: 200, len });
    let (r, took) = within(timeout, pusher.channels()).await;
    let err = r.unwrap_err();
    let Error::Decode(cause) = &err else {
        panic!("{err:?}")
    };
    assert!(
        cause.to_string().contains("exceeds 1048576 bytes"),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");

    // An error body: the message keeps 2048 characters.
    api.reply(Reply::Huge { status: 502, len });
    let (r, _) = within(timeout, pusher.trigger("c", "e", "x")).await;
    let Err(Error::Server { status, message }) = r else {
        panic!("{r:?}")
    };
    assert_eq!(status, 502);
    assert!(
        message.ends_with(" …"),
        "{}",
        &message[message.len() - 10..]
    );
    assert_eq!(message.chars().count(), 2048 + 2);

    // The client let go long before the server could write it all.
    let written = api.huge_bytes_written();
    assert!(written < len / 4, "{written} bytes went out");
}

#[tokio::test]
async fn every_fault_ends_in_a_typed_error_within_the_timeout() {
    let timeout = Duration::from_millis(500);
    let (api, pusher) = no_retry(timeout).await;
    let faults = [
        Reply::new(500, "boom"),
        Reply::new(429, "").retry_after("1"),
        Reply::new(200, "not json"),
        Reply::Stall,
        Reply::Reset {
            status: 200,
            sent: 0,
            len: 10,
        },
        Reply::StallBody {
            status: 200,
            sent: 5,
            len: 10,
        },
        Reply::Huge {
            status: 200,
            len: 8 * 1024 * 1024,
        },
    ];
    for fault in faults {
        api.reply(fault.clone());
        let calls: [Call<'_>; 5] = [
            Box::pin(async { pusher.trigger("c", "e", "x").await.map(drop) }),
            Box::pin(async {
                pusher
                    .trigger_batch([BatchEvent::new("c", "e", "x")])
                    .await
                    .map(drop)
            }),
            Box::pin(async { pusher.channels().await.map(drop) }),
            Box::pin(async { pusher.users("presence-a").await.map(drop) }),
            Box::pin(async { pusher.terminate_user_connections("u").await }),
        ];
        for (i, call) in calls.into_iter().enumerate() {
            let (result, took) = within(timeout * 3, call).await;
            if fault == Reply::new(200, "not json") && i == 4 {
                // `terminate_user_connections` reads no reply body.
                assert!(result.is_ok(), "{result:?}");
                continue;
            }
            let err = result.unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Server { .. }
                        | Error::RateLimited { .. }
                        | Error::Decode(_)
                        | Error::Timeout { .. }
                        | Error::Transport(_)
                ),
                "{fault:?}: {err:?}"
            );
            assert!(took < timeout * 2, "{fault:?} took {took:?}");
        }
    }
}

// ---- the retry policy --------------------------------------------------------------------

#[tokio::test]
async fn reads_retry_transient_failures_by_default() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api).build().unwrap();
    assert_eq!(pusher.retry_policy(), &RetryPolicy::default());
    api.reply_once(Reply::new(503, "down"));
    api.reply_once(Reply::new(500, "down"));
    api.reply(Reply::new(200, r#"{"channels":{"a":{}}}"#));
    let list = pusher.channels().await.unwrap();
    assert!(list.channels.contains_key("a"));
    // Three tries, each signed anew and verified.
    assert_verified(&api, 3);
}

#[tokio::test]
async fn reads_give_up_after_the_attempts() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api).retry(quick_retries()).build().unwrap();
    api.reply(Reply::new(503, "down"));
    let err = pusher.users("presence-a").await.unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
    assert_verified(&api, 3);

    // A reset, then a stall, then an answer: all three tries used.
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .timeout(Duration::from_millis(300))
        .retry(quick_retries())
        .build()
        .unwrap();
    api.reply_once(Reply::Reset {
        status: 200,
        sent: 0,
        len: 5,
    });
    api.reply_once(Reply::Stall);
    api.reply(Reply::new(200, r#"{"occupied":true}"#));
    let (info, took) = within(Duration::from_secs(5), pusher.channel("c")).await;
    assert!(info.unwrap().occupied);
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_verified(&api, 3);
}

#[tokio::test]
async fn errors_that_are_not_transient_are_not_retried() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .retry(quick_retries().retry_writes(true))
        .build()
        .unwrap();
    for (status, body) in [
        (400, "bad"),
        (401, "no"),
        (403, "off"),
        (404, "where"),
        (413, "big"),
        (418, "tea"),
        (200, "not json"),
    ] {
        api.reply(Reply::new(status, body));
        assert!(pusher.channels().await.is_err());
        assert!(pusher.trigger("c", "e", "x").await.is_err());
    }
    assert_verified(&api, 14);
    // Refused before sending: nothing to retry.
    assert!(matches!(
        pusher.trigger("bad channel", "e", "x").await,
        Err(Error::Validation(_))
    ));
    assert_eq!(api.requests().len(), 14);
}

#[tokio::test]
async fn writes_are_not_retried_by_default() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api).retry(quick_retries()).build().unwrap();
    api.reply(Reply::new(503, "down"));
    assert!(pusher.trigger("c", "e", "x").await.is_err());
    assert!(
        pusher
            .trigger_batch([BatchEvent::new("c", "e", "x")])
            .await
            .is_err()
    );
    assert!(pusher.terminate_user_connections("u").await.is_err());
    assert!(pusher.send_to_user("u", "e", "x").await.is_err());
    assert_verified(&api, 4);
}

#[tokio::test]
async fn retry_writes_retries_every_write_at_least_once_delivery() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .retry(quick_retries().retry_writes(true))
        .build()
        .unwrap();
    let calls = 4;
    for _ in 0..calls {
        api.reply_once(Reply::new(502, "bad gateway"));
        api.reply_once(Reply::new(200, "{}"));
    }
    pusher.trigger("c", "e", "x").await.unwrap();
    pusher
        .trigger_batch([BatchEvent::new("c", "e", "x")])
        .await
        .unwrap();
    pusher.terminate_user_connections("u").await.unwrap();
    pusher.send_to_user("u", "e", "x").await.unwrap();
    assert_verified(&api, calls * 2);
    // The same event went out twice: what the server saw first may have been delivered.
    let requests = api.requests();
    for pair in requests.chunks(2) {
        assert_eq!(pair[0].path, pair[1].path);
        assert_eq!(pair[0].body, pair[1].body);
    }
}

/// The last try sends the body itself (no copy is kept for a try that cannot follow):
/// it must still be the whole, signed body.
#[tokio::test]
async fn the_last_try_carries_the_same_body() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .retry(quick_retries().retry_writes(true))
        .build()
        .unwrap();
    api.reply_once(Reply::new(502, "bad gateway"));
    api.reply_once(Reply::new(503, "unavailable"));
    api.reply_once(Reply::new(200, "{}"));
    pusher.trigger("c", "e", "hello").await.unwrap();
    assert_verified(&api, 3);
    let requests = api.requests();
    assert_eq!(requests.len(), 3);
    let last = String::from_utf8_lossy(&requests[2].body);
    assert!(last.contains(r#""data":"hello""#), "{last}");
    assert!(requests.iter().all(|r| r.body == requests[0].body));
}

#[tokio::test]
async fn one_trigger_can_ask_for_retries() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api).build().unwrap();
    assert!(!pusher.retry_policy().retry_writes);
    api.reply_once(Reply::Reset {
        status: 200,
        sent: 0,
        len: 5,
    });
    api.reply(Reply::new(200, "{}"));
    pusher
        .trigger("c", "e", "x")
        .retry(RetryPolicy::new(2).initial_delay(Duration::from_millis(10)))
        .await
        .unwrap();
    assert_verified(&api, 2);

    // And one can refuse them even when the client retries writes.
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .retry(quick_retries().retry_writes(true))
        .build()
        .unwrap();
    api.reply(Reply::new(503, ""));
    let r = pusher
        .trigger("c", "e", "x")
        .retry(RetryPolicy::never())
        .await;
    assert!(matches!(r, Err(Error::Server { .. })), "{r:?}");
    assert_verified(&api, 1);
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_max_delay() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .retry(
            RetryPolicy::new(3)
                .initial_delay(Duration::from_millis(1))
                .max_delay(Duration::from_secs(2)),
        )
        .build()
        .unwrap();
    api.reply_once(Reply::new(429, "").retry_after("1"));
    api.reply(Reply::new(200, "{}"));
    let (r, took) = within(Duration::from_secs(5), pusher.channels()).await;
    r.unwrap();
    assert!(took >= Duration::from_millis(950), "{took:?}");
    assert_verified(&api, 2);

    // More than max_delay: the error comes back at once.
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .retry(RetryPolicy::new(3).max_delay(Duration::from_secs(2)))
        .build()
        .unwrap();
    api.reply(Reply::new(429, "later").retry_after("60"));
    let (r, took) = within(Duration::from_secs(5), pusher.channels()).await;
    assert!(
        matches!(&r, Err(Error::RateLimited { retry_after: Some(d), .. }) if d.as_secs() == 60),
        "{r:?}"
    );
    assert!(took < Duration::from_millis(500), "{took:?}");
    assert_verified(&api, 1);
}

#[tokio::test]
async fn backoff_doubles_with_jitter() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .retry(
            RetryPolicy::new(4)
                .initial_delay(Duration::from_millis(100))
                .max_delay(Duration::from_millis(250)),
        )
        .build()
        .unwrap();
    api.reply(Reply::new(500, ""));
    let (r, took) = within(Duration::from_secs(5), pusher.channels()).await;
    assert!(r.is_err());
    // Waits of 100, 200 and 250 (capped) ms, each at least halved by jitter.
    assert!(took >= Duration::from_millis(275), "{took:?}");
    assert!(took < Duration::from_millis(550 + 1000), "{took:?}");
    assert_verified(&api, 4);
}

#[tokio::test]
async fn a_connection_refused_is_retried_then_returned() {
    let pusher = Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(closed_port())
        .use_tls(false)
        .timeout(Duration::from_secs(1))
        .retry(quick_retries())
        .build()
        .unwrap();
    let (r, took) = within(Duration::from_secs(5), pusher.channels()).await;
    assert!(matches!(r, Err(Error::Connect(_))), "{r:?}");
    assert!(took >= Duration::from_millis(30), "two waits: {took:?}");
}

#[test]
fn the_retry_table_of_the_config() {
    let toml = r#"
        app_id = "1"
        key = "k"
        secret = "s"
        [retry]
        attempts = 5
        initial_delay = 0.05
        max_delay = 1.5
        retry_writes = true
    "#;
    let config: PusherConfig = Figment::from(Toml::string(toml)).extract().unwrap();
    let pusher = Pusher::from_config(&config).unwrap();
    assert_eq!(
        pusher.retry_policy(),
        &RetryPolicy::new(5)
            .initial_delay(Duration::from_millis(50))
            .max_delay(Duration::from_millis(1500))
            .retry_writes(true)
    );

    // Keys left out keep their defaults.
    let config: PusherConfig = Figment::from(Toml::string(
        "app_id = \"1\"\nkey = \"k\"\nsecret = \"s\"\n[retry]\nattempts = 1\n",
    ))
    .extract()
    .unwrap();
    assert_eq!(config.retry, RetryPolicy::never());
    let defaults = PusherConfig::default().retry;
    assert_eq!(
        (
            defaults.attempts,
            defaults.initial_delay,
            defaults.max_delay,
            defaults.retry_writes
        ),
        (3, 0.2, 5.0, false)
    );

    // Unknown keys and bad values are refused, naming the key.
    let unknown = Figment::from(Toml::string(
        "app_id = \"1\"\nkey = \"k\"\nsecret = \"s\"\n[retry]\ntries = 2\n",
    ))
    .extract::<PusherConfig>()
    .unwrap_err();
    assert!(unknown.to_string().contains("tries"), "{unknown}");
    for (table, key) in [
        ("attempts = 0", "retry.attempts"),
        ("attempts = 101", "retry.attempts"),
        ("initial_delay = -1.0", "retry.initial_delay"),
        ("initial_delay = 2.0\nmax_delay = 1.0", "retry.max_delay"),
        ("max_delay = 4000.0", "retry.max_delay"),
    ] {
        let toml = format!("app_id = \"1\"\nkey = \"k\"\nsecret = \"s\"\n[retry]\n{table}\n");
        let config: PusherConfig = Figment::from(Toml::string(&toml)).extract().unwrap();
        let err = Pusher::from_config(&config).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { key: k, .. } if *k == key),
            "{table}: {err}"
        );
        assert!(
            err.to_string().contains(&format!("`pusher.{key}`")),
            "{err}"
        );
    }
}

#[tokio::test]
async fn the_recording_transport_ignores_retries() {
    let pusher = Pusher::builder(APP_ID, KEY, SECRET)
        .recording()
        .retry(RetryPolicy::new(5).retry_writes(true))
        .build()
        .unwrap();
    pusher.trigger("c", "e", "x").await.unwrap();
    pusher.channels().await.unwrap();
    assert_eq!(pusher.recorder().unwrap().requests().len(), 2);
}

// ---- a burst of triggers -----------------------------------------------------------------

/// What 256 concurrent triggers ended with.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    ok: usize,
    server: usize,
    rate_limited: usize,
    timeout: usize,
    other: Vec<String>,
}

async fn burst(pusher: &Pusher, n: usize, per_call: Duration) -> Tally {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let pusher = pusher.clone();
        tasks.spawn(async move {
            let data = serde_json::json!({ "i": i });
            tokio::time::timeout(per_call, pusher.trigger("burst", "e", &data)).await
        });
    }
    let mut tally = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("no trigger panics") {
            Err(_) => panic!("a trigger hung past {per_call:?}"),
            Ok(Ok(_)) => tally.ok += 1,
            Ok(Err(Error::Server { .. })) => tally.server += 1,
            Ok(Err(Error::RateLimited { .. })) => tally.rate_limited += 1,
            Ok(Err(Error::Timeout { .. })) => tally.timeout += 1,
            Ok(Err(other)) => tally.other.push(format!("{other:?}")),
        }
    }
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_256_triggers_in_flight_all_end_and_add_up() {
    const N: usize = 256;
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .timeout(Duration::from_secs(20))
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    // One in 8 answers 503, one in 16 answers 429, the rest 200.
    let (mut server, mut limited) = (0, 0);
    for i in 0..N {
        if i % 8 == 3 {
            api.reply_once(Reply::new(503, "busy"));
            server += 1;
        } else if i % 16 == 5 {
            api.reply_once(Reply::new(429, "slow").retry_after("1"));
            limited += 1;
        } else {
            api.reply_once(Reply::new(200, "{}"));
        }
    }
    let (tally, took) = within(
        Duration::from_secs(60),
        burst(&pusher, N, Duration::from_secs(30)),
    )
    .await;
    eprintln!("{N} triggers in flight ended in {took:?}: {tally:?}");
    assert_eq!(
        tally,
        Tally {
            ok: N - server - limited,
            server,
            rate_limited: limited,
            timeout: 0,
            other: Vec::new(),
        },
        "after {took:?}"
    );
    // Every trigger reached the server once, signed; every event is accounted for.
    assert_verified(&api, N);
    let mut seen: Vec<u64> = api
        .requests()
        .iter()
        .map(|r| {
            let data = r.json()["data"].as_str().unwrap().to_owned();
            serde_json::from_str::<serde_json::Value>(&data).unwrap()["i"]
                .as_u64()
                .unwrap()
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..N as u64).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_with_retried_writes_delivers_every_trigger() {
    const N: usize = 256;
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(&api)
        .timeout(Duration::from_secs(20))
        .retry(quick_retries().retry_writes(true))
        .build()
        .unwrap();
    // The first 32 answers fail; their retries succeed.
    for _ in 0..32 {
        api.reply_once(Reply::new(503, "busy"));
    }
    let (tally, took) = within(
        Duration::from_secs(60),
        burst(&pusher, N, Duration::from_secs(30)),
    )
    .await;
    eprintln!("{N} retried triggers in flight ended in {took:?}: {tally:?}");
    assert_eq!(
        tally,
        Tally {
            ok: N,
            ..Tally::default()
        },
        "after {took:?}"
    );
    assert_verified(&api, N + 32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_against_a_stalling_server_ends_in_timeouts() {
    const N: usize = 256;
    let api = MockApi::start(KEY, SECRET).await;
    let timeout = Duration::from_secs(2);
    let pusher = builder(&api)
        .timeout(timeout)
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    api.reply(Reply::Stall);
    let (tally, took) = within(Duration::from_secs(30), burst(&pusher, N, timeout * 5)).await;
    eprintln!("{N} triggers against a stalled server ended in {took:?}: {tally:?}");
    assert_eq!(
        tally,
        Tally {
            timeout: N,
            ..Tally::default()
        }
    );
    assert!(took < timeout * 5, "{took:?}");
    assert_eq!(api.requests().len(), N);
}
