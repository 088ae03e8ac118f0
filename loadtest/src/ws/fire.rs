//! Firing the benchmark's events, shared by the generator (triggers over the HTTP API) and
//! the bench app (triggers in process): the same loop on both sides, so the two paths
//! differ only by the hop.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rocket_pusher::Pusher;
use serde_json::json;
use tokio::sync::Semaphore;

/// The event name every delivery carries.
pub(crate) const EVENT: &str = "bench";

/// Microseconds since the Unix epoch: the generator and the server share the machine's
/// clock, so a delivery's latency is its arrival time minus the stamp in its data.
pub(crate) fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The name of public channel `i`.
pub(crate) fn channel(i: usize) -> String {
    format!("bench-{i}")
}

/// Triggers `events` events round-robin over `channels` channels, at most `concurrency` in
/// flight, paced at `rate` per second (0: as fast as they complete). Each event's data is
/// stamped as it is triggered. Returns how many triggers failed.
pub(crate) async fn fire(
    pusher: &Pusher,
    events: usize,
    channels: usize,
    rate: f64,
    concurrency: usize,
) -> usize {
    let concurrency = concurrency.max(1);
    let slots = Arc::new(Semaphore::new(concurrency));
    let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    for i in 0..events {
        if rate > 0.0 {
            let at = start + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(at.into()).await;
        }
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        let pusher = pusher.clone();
        let failed = Arc::clone(&failed);
        let name = channel(i % channels.max(1));
        tokio::spawn(async move {
            let data = json!({ "t": now_micros(), "i": i });
            if pusher.trigger(name.as_str(), EVENT, &data).await.is_err() {
                failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            drop(slot);
        });
    }
    // Every slot back: every trigger answered.
    let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
    drop(slots.acquire_many(all).await);
    failed.load(std::sync::atomic::Ordering::Relaxed)
}
