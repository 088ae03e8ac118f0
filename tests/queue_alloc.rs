//! A `queue()` the queue refuses costs nothing: no allocation (the data is not even
//! serialized), counted by a global allocator that counts every allocation of this test
//! binary (its own binary, with one test, so nothing else allocates meanwhile).
//!
//! The queue is filled on a current-thread runtime that never yields: its lanes never
//! run, so nothing leaves the queue, and no other thread of the process is at work.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::System;

use rocket_pusher::Pusher;
use rocket_pusher::config::QueueConfig;
use rocket_pusher::error::QueueError;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// 32 bytes 0x00..0x1f.
const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn a_refused_queue_allocates_nothing() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Nothing listens there; the lanes never get to try.
        let pusher = Pusher::builder("1", "key", "secret")
            .host("127.0.0.1")
            .port(9)
            .use_tls(false)
            .encryption_master_key_base64(MASTER_KEY)
            .queue(QueueConfig::default().lanes(2).capacity(3))
            .build()
            .unwrap();
        let data = serde_json::json!({ "text": "hello", "n": 7 });
        // Three channels, one encrypted: queued, each is copied, and one is sealed.
        let channels = ["orders", "private-encrypted-orders", "log"];
        let mut region = Region::new(GLOBAL);
        pusher.trigger(channels, "created", &data).queue().unwrap();
        let taken = region.change_and_reset();
        assert!(taken.allocations > 3, "the counter counts: {taken:?}");
        assert_eq!(pusher.queue_stats().pending(), 3);

        // Full now: the same trigger, built beforehand, is refused without an allocation.
        let trigger = pusher.trigger(channels, "created", &data);
        let one = pusher.trigger("orders", "created", &data);
        region.reset();
        let refused = trigger.queue();
        let refused_one = one.queue();
        let cost = region.change();
        assert!(matches!(
            refused,
            Err(rocket_pusher::Error::Queue(QueueError::Full {
                capacity: 3
            }))
        ));
        assert!(refused_one.is_err());
        assert_eq!(cost.allocations, 0, "{cost:?}");
        assert_eq!(cost.reallocations, 0, "{cost:?}");

        // The whole call costs what building the trigger (its channel and event names)
        // costs: the data is never serialized.
        region.reset();
        drop(pusher.trigger(channels, "created", &data));
        let names = region.change_and_reset();
        let refused = pusher.trigger(channels, "created", &data).queue();
        let whole = region.change();
        assert!(refused.is_err());
        assert_eq!(whole.allocations, names.allocations, "{whole:?} {names:?}");
        assert_eq!(pusher.queue_stats().queued, 3);
    });
}
