//! The queue's counters.

use std::fmt;

/// The queue's counters, in events, since the client was built: a snapshot from
/// [`Pusher::queue_stats`](crate::Pusher::queue_stats) or [`Pusher::shutdown`](crate::Pusher::shutdown).
///
/// Once the queue is drained (after [`Pusher::flush`](crate::Pusher::flush) with nothing queued meanwhile, or
/// after [`Pusher::shutdown`](crate::Pusher::shutdown)), `queued = sent + failed + dropped` and `in_flight = 0`.
/// Read at any moment, `sent + failed + dropped + in_flight <= queued`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueStats {
    /// Events `queue()` accepted (a trigger naming several channels counts one per channel).
    pub queued: u64,
    /// Events in a request now.
    pub in_flight: u64,
    /// Events Pusher accepted (a 2xx answer to their request).
    pub sent: u64,
    /// Events sent again after a transient failure; an event tried three times counts
    /// twice.
    pub retried: u64,
    /// Events lost to a permanent failure (a 4xx, or a transient one that outlasted the
    /// retry policy), each reported to the failure callback.
    pub failed: u64,
    /// Events dropped undelivered: still queued when shutdown's deadline passed, or when
    /// the runtime running the dispatcher ended. Those that were in a request then may
    /// have reached Pusher all the same.
    pub dropped: u64,
}

impl QueueStats {
    /// Events waiting or in flight: `queued - sent - failed - dropped`.
    pub fn pending(&self) -> u64 {
        self.queued
            .saturating_sub(self.sent + self.failed + self.dropped)
    }
}

impl fmt::Display for QueueStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "sent")
    }
}

impl QueueStats {
    /// The counts, with `delivered` for what `sent` counts.
    fn write(&self, f: &mut fmt::Formatter<'_>, delivered: &str) -> fmt::Result {
        write!(
            f,
            "{} queued, {} in flight, {} {delivered}, {} retried, {} failed, {} dropped",
            self.queued, self.in_flight, self.sent, self.retried, self.failed, self.dropped
        )
    }
}

/// The counts of a queue whose transport records instead of sending: nothing was sent.
pub(super) struct Recorded(pub(super) QueueStats);

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0
            .write(f, "recorded (transport = \"recording\": nothing sent)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_pending_and_display() {
        let stats = QueueStats {
            queued: 10,
            in_flight: 2,
            sent: 5,
            retried: 3,
            failed: 1,
            dropped: 1,
        };
        assert_eq!(stats.pending(), 3);
        assert_eq!(
            stats.to_string(),
            "10 queued, 2 in flight, 5 sent, 3 retried, 1 failed, 1 dropped"
        );
    }
}
