//! What the app learns of events that could not be delivered, and what the log says.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::Queued;
use crate::error::Error;
use crate::protocol::{ChannelName, EventName};

/// Queued events that could not be delivered: the error of their request, and the
/// channel and name of each (never its data). Given to the callback of
/// [`PusherBuilder::on_queue_failure`](super::PusherBuilder::on_queue_failure) or
/// [`PusherFairing::on_queue_failure`](crate::PusherFairing::on_queue_failure).
#[derive(Debug)]
pub struct QueueFailure {
    pub(super) error: Error,
    pub(super) events: Vec<(ChannelName, EventName)>,
}

impl QueueFailure {
    /// Why the request failed: a 4xx status, or the last transient failure once the retry
    /// policy gave up.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The channel and event name of each event lost, in the order they were queued.
    pub fn events(&self) -> &[(ChannelName, EventName)] {
        &self.events
    }
}

/// The app's failure callback.
#[derive(Clone)]
pub(crate) struct FailureCallback(Arc<dyn Fn(&QueueFailure) + Send + Sync>);

impl FailureCallback {
    pub(crate) fn new(f: impl Fn(&QueueFailure) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Call it; a panic is logged, not passed on: the lane must go on delivering.
    pub(super) fn call(&self, failure: &QueueFailure) {
        if catch_unwind(AssertUnwindSafe(|| (self.0)(failure))).is_err() {
            log::error!("pusher: the on_queue_failure callback panicked");
        }
    }
}

impl fmt::Debug for FailureCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FailureCallback")
    }
}

pub(super) fn names(events: impl Iterator<Item = Queued>) -> Vec<(ChannelName, EventName)> {
    events.map(|q| (q.channel, q.event)).collect()
}

/// The first events as `event on channel`, for a log line; never their data.
pub(super) fn describe(events: &[(ChannelName, EventName)]) -> String {
    const SHOWN: usize = 10;
    let mut out = events
        .iter()
        .take(SHOWN)
        .map(|(channel, event)| format!("{event} on {channel}"))
        .collect::<Vec<_>>()
        .join(", ");
    if events.len() > SHOWN {
        out.push_str(&format!(" and {} more", events.len() - SHOWN));
    }
    out
}

/// An error's message followed by its causes'.
pub(super) fn with_causes(error: &Error) -> String {
    let mut out = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cause = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_name_the_first_events_and_count_the_rest() {
        let events: Vec<(ChannelName, EventName)> = (0..12)
            .map(|i| {
                (
                    ChannelName::new(format!("c{i}")).unwrap(),
                    EventName::new("e").unwrap(),
                )
            })
            .collect();
        assert_eq!(describe(&events[..2]), "e on c0, e on c1");
        let all = describe(&events);
        assert!(
            all.starts_with("e on c0, ") && all.ends_with("e on c9 and 2 more"),
            "{all}"
        );
    }
}
