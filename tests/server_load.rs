//! 5,000 idle connections on the embedded server, client and server in this one process:
//! each gets its own socket id, a fresh client still subscribes and receives a trigger
//! while they stay, and once they are gone the server holds no connection or channel.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ws.rs"]
mod ws;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use rocket::futures::future::join_all;
use serde_json::{Value, json};
use ws::{App, Ws, api, start};

const IDLE: usize = 5_000;
/// Connections opened at once: enough to be quick, few enough for the listen backlog.
const BATCH: usize = 200;

/// Open connection `i` and put it somewhere: one in ten in a presence channel (50 users,
/// ten sockets each), one in ten signed in, one in ten in a cache channel, the rest in one
/// of the public channels. Returns it with the channel it joined.
async fn idle(app: &App, i: usize) -> (Ws, String) {
    let mut ws = Ws::connect(app).await;
    let channel = match i % 10 {
        0 => {
            let user = format!("u{}", i / 10 % 50);
            ws.join_presence("presence-idle", &user, json!(null)).await;
            "presence-idle".to_owned()
        }
        2 => {
            ws.join_public("cache-idle").await;
            ws.expect("pusher:cache_miss").await;
            "cache-idle".to_owned()
        }
        n => {
            if n == 1 {
                ws.sign_in(&format!("s{i}")).await;
            }
            let channel = format!("idle-{}", i % 100);
            ws.join_public(&channel).await;
            channel
        }
    };
    (ws, channel)
}

/// The occupied channels' names, from the HTTP API.
async fn channels(app: &App) -> BTreeSet<String> {
    let (status, body) = api(app, "GET", "/apps/1234/channels", &[], None).await;
    assert_eq!(status, 200, "{body}");
    body["channels"]
        .as_object()
        .expect("a channel map")
        .keys()
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_idle_connections_leave_room_for_a_live_one_and_nothing_behind() {
    // Both ends of each connection are ours, plus the runtime's and the test harness's.
    raise_open_files(2 * IDLE as u64 + 1_000);
    let app = start(json!({})).await;
    let server = app.server.clone().expect("the embedded server");

    let mut open = Vec::with_capacity(IDLE);
    let mut joined = BTreeSet::new();
    for first in (0..IDLE).step_by(BATCH) {
        let batch = join_all((first..IDLE.min(first + BATCH)).map(|i| idle(&app, i))).await;
        for (ws, channel) in batch {
            joined.insert(channel);
            open.push(ws);
        }
    }
    let ids: HashSet<&str> = open.iter().map(|ws| ws.socket_id.as_str()).collect();
    assert_eq!(ids.len(), IDLE, "every connection has its own socket id");
    assert_eq!(server.connections(), IDLE);
    assert_eq!(channels(&app).await, joined);
    let (_, users) = api(
        &app,
        "GET",
        "/apps/1234/channels/presence-idle/users",
        &[],
        None,
    )
    .await;
    assert_eq!(users["users"].as_array().map(Vec::len), Some(50), "{users}");

    // A newcomer among them: subscribed and delivered to (within the kit's patience).
    let mut live = Ws::connect(&app).await;
    live.join_public("live").await;
    app.pusher.trigger("live", "news", "{}").await.unwrap();
    live.expect("news").await;

    drop(open);
    drop(live);
    let left = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if server.connections() == 0 && channels(&app).await.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let (_, now) = api(&app, "GET", "/apps/1234/channels", &[], None).await;
    assert!(
        left.is_ok(),
        "{} connections and {now} left behind",
        server.connections()
    );
    assert_eq!(now, json!({"channels": Value::Object(Default::default())}));
}

/// Raise the soft limit of open files to `want` (at most the hard limit), so that the test
/// runs where the default soft limit is 1,024.
fn raise_open_files(want: u64) {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current.is_some_and(|soft| soft < want) {
            let current = Some(limit.maximum.map_or(want, |hard| hard.min(want)));
            setrlimit(Resource::Nofile, Rlimit { current, ..limit }).expect("raise the soft limit");
        }
    }
}
