//! Waiting for the queue: flush (with or without a deadline) and shutdown's drain.

use std::fmt;
use std::sync::PoisonError;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, SeqCst};
use std::time::Duration;

use tokio::runtime::Handle;

use super::stats::Recorded;
use super::{CLOSED, Queue, QueueStats, STOP_GRACE, Shared};

/// What a flush saw: the events that finished while it waited, and those queued before
/// it that were still waiting or in flight when it returned (none, unless its deadline
/// passed). From [`Pusher::flush`](crate::Pusher::flush) and
/// [`Pusher::flush_within`](crate::Pusher::flush_within).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Flushed {
    /// Events Pusher accepted meanwhile.
    pub sent: u64,
    /// Events that failed meanwhile (reported to the failure callback and receiver).
    pub failed: u64,
    /// Events dropped meanwhile (by a shutdown).
    pub dropped: u64,
    /// Events queued before the flush and not finished when it returned.
    pub left: u64,
}

impl Flushed {
    /// Whether every event queued before the flush finished (sent, failed or dropped).
    pub fn is_complete(&self) -> bool {
        self.left == 0
    }
}

impl fmt::Display for Flushed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sent, {} failed, {} dropped, {} left",
            self.sent, self.failed, self.dropped, self.left
        )
    }
}

impl Queue {
    /// Wait until every event queued before the call is finished (sent, failed or
    /// dropped), or until `deadline` passes.
    pub(super) async fn flush(&self, deadline: Option<Duration>) -> Flushed {
        let before = self.stats();
        if self.lanes.get().is_none() {
            return Flushed::default();
        }
        let targets: Vec<u64> = self.shared.entered.iter().map(|e| e.load(SeqCst)).collect();
        // A stopped lane has counted all it will: an event counted in but refused by it
        // was counted out again by its `queue()`.
        let left_in = |s: &Shared, lane: usize, target: u64| {
            if s.stopped[lane].load(Acquire) {
                0
            } else {
                target.saturating_sub(s.finished[lane].load(Acquire))
            }
        };
        let done = |s: &Shared| {
            targets
                .iter()
                .enumerate()
                .all(|(lane, &target)| left_in(s, lane, target) == 0)
        };
        match deadline {
            Some(deadline) => {
                let _ = tokio::time::timeout(deadline, self.wait_until(done)).await;
            }
            None => self.wait_until(done).await,
        }
        let after = self.stats();
        Flushed {
            sent: after.sent - before.sent,
            failed: after.failed - before.failed,
            dropped: after.dropped - before.dropped,
            left: targets
                .iter()
                .enumerate()
                .map(|(lane, &target)| left_in(&self.shared, lane, target))
                .sum(),
        }
    }

    pub(super) async fn shutdown(&self, deadline: Duration) -> QueueStats {
        let s = &self.shared;
        s.pending.fetch_or(CLOSED, AcqRel);
        let before = self.stats();
        let mut drained = true;
        let mut stuck = 0;
        if self.lanes.get().is_some() {
            // Closed: every event still to go is counted in `pending`, and only falls.
            let empty = |s: &Shared| s.pending.load(Acquire) & !CLOSED == 0;
            let all_stopped = |s: &Shared| s.stopped.iter().all(|l| l.load(Acquire));
            // Without a runtime there is no timer to bound the waits: stop at once, and
            // wait for the lanes as long as they take.
            let timers = Handle::try_current().is_ok();
            drained = timers
                && tokio::time::timeout(deadline, self.wait_until(empty))
                    .await
                    .is_ok();
            s.abort.send_replace(true);
            if timers {
                let _ = tokio::time::timeout(STOP_GRACE, self.wait_until(all_stopped)).await;
            } else {
                self.wait_until(all_stopped).await;
            }
            stuck = s.stopped.iter().filter(|l| !l.load(Acquire)).count();
        }
        // The lanes have stopped and reported what they dropped: the receiver of
        // failures ends once it has read them.
        s.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let stats = self.stats();
        *s.last_shutdown
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(stats);
        let dropped = stats.dropped - before.dropped;
        if stuck > 0 {
            log::error!(
                "pusher: queue shut down: {stuck} lane(s) did not stop within {STOP_GRACE:?} \
                 after the deadline of {deadline:?} (a failure callback that blocks?); the {} \
                 event(s) they hold are counted when they stop ({stats})",
                stats.pending()
            );
        } else if dropped > 0 {
            log::error!(
                "pusher: queue shut down: {dropped} event(s) not delivered within {deadline:?} \
                 were dropped ({stats})"
            );
        } else if self.lanes.get().is_none() && self.recording_started.load(Relaxed) {
            log::info!("pusher: queue shut down: {}", Recorded(stats));
        } else {
            log::info!(
                "pusher: queue shut down{}: {stats}",
                if drained { ", drained" } else { "" }
            );
        }
        stats
    }
}
