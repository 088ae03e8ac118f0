//! What the queue's test files share: a client of the mock API with fast retries, and
//! numbered events.
//!
//! ```ignore
//! #[path = "support/mock_api.rs"]
//! mod mock_api;
//! #[path = "support/queue_kit.rs"]
//! mod queue_kit;
//! ```

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::time::Duration;

use rocket_pusher::Pusher;
use rocket_pusher::client::{PusherBuilder, RetryPolicy};
use rocket_pusher::config::QueueConfig;
use serde_json::json;

use super::mock_api::MockApi;

pub(crate) const APP_ID: &str = "4321";
pub(crate) const KEY: &str = "test-key";
pub(crate) const SECRET: &str = "MARKER-SECRET-queue";

/// A client of the mock with fast retries (5 tries, 1 to 20 ms apart) and `queue`.
pub(crate) fn builder(api: &MockApi, queue: QueueConfig) -> PusherBuilder {
    Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(api.port())
        .use_tls(false)
        .timeout(Duration::from_secs(5))
        .retry(
            RetryPolicy::new(5)
                .initial_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(20)),
        )
        .queue(queue)
}

/// Queue event `n` on `channel`: data `{"n": n}`.
pub(crate) fn queue_n(pusher: &Pusher, channel: &str, n: u64) {
    let queued = pusher
        .trigger(channel, "numbered", &json!({ "n": n }))
        .queue();
    if let Err(e) = queued {
        panic!("event {n} on {channel} not queued: {e}");
    }
}

/// Hold the mock's answers and queue event 0 on `channel`. An idle lane sends it at once,
/// alone; once it is in flight that lane is busy, and what is queued next waits.
pub(crate) async fn hold_event_0_in_flight(api: &MockApi, pusher: &Pusher, channel: &str) {
    api.hold();
    queue_n(pusher, channel, 0);
    api.wait_for_requests(1).await;
}
