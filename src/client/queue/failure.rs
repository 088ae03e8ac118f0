//! What the app learns of events that could not be delivered, and what the log says.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, PoisonError};

use super::{QueuedEvent, Shared};
use crate::error::Error;

/// Queued events that could not be delivered, whole, with the error of their last
/// request: given to the callback of
/// [`PusherBuilder::on_queue_failure`](crate::client::PusherBuilder::on_queue_failure) or
/// [`PusherFairing::on_queue_failure`](crate::PusherFairing::on_queue_failure), and to
/// the receiver of [`Pusher::queue_failures`](crate::Pusher::queue_failures).
///
/// With [`events`](Self::events) (channel, name, data, socket id) an app can store or
/// queue them again; [`maybe_delivered`](Self::maybe_delivered) says whether that could
/// deliver them twice. Its `Debug` form shows no event data.
#[derive(Debug)]
pub struct QueueFailure {
    pub(super) error: Error,
    pub(super) maybe_delivered: bool,
    pub(super) events: Vec<QueuedEvent>,
}

impl QueueFailure {
    /// Why the request failed: a 4xx status (the server refused these events), or the last
    /// transient failure once the retry policy gave up.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// Whether a try of their request may have reached Pusher all the same: it timed out,
    /// or the connection broke once the request was sent, or a gateway answered 502 or 504.
    /// Then the events may have been delivered, and sending them again may deliver them
    /// twice. `false` when every try was refused or failed before Pusher took the request
    /// (a 4xx, another 5xx, no connection).
    pub fn maybe_delivered(&self) -> bool {
        self.maybe_delivered
    }

    /// The events, in the order they were queued.
    pub fn events(&self) -> &[QueuedEvent] {
        &self.events
    }

    /// The events, owned, to store or queue again.
    pub fn into_events(self) -> Vec<QueuedEvent> {
        self.events
    }
}

/// Whether a failed try may have reached Pusher: no answer, or a gateway's.
pub(super) fn maybe_delivered(error: &Error) -> bool {
    matches!(
        error,
        Error::Timeout { .. }
            | Error::Transport(_)
            | Error::Server {
                status: 502 | 504,
                ..
            }
    )
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

/// The first events as `event on channel`, for a log line; never their data.
pub(super) fn describe<'a>(events: impl IntoIterator<Item = &'a QueuedEvent>) -> String {
    const SHOWN: usize = 10;
    let mut events = events.into_iter();
    let mut out = events
        .by_ref()
        .take(SHOWN)
        .map(|q| format!("{} on {}", q.event, q.channel))
        .collect::<Vec<_>>()
        .join(", ");
    let more = events.count();
    if more > 0 {
        out.push_str(&format!(" and {more} more"));
    }
    out
}

/// Hand a failure to the app: to the callback (unless the lane is stopping, when it must
/// not block), then to the receiver of [`Pusher::queue_failures`](crate::Pusher::queue_failures).
pub(super) fn report(shared: &Shared, failure: QueueFailure, call_back: bool) {
    if call_back && let Some(callback) = &shared.on_failure {
        callback.call(&failure);
    }
    let receiver = shared
        .failures
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(tx) = receiver.as_ref()
        && tx.send(failure).is_err()
    {
        log::debug!("pusher: the receiver of queue_failures() was dropped");
    }
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
    use crate::protocol::{ChannelName, EventName};

    #[test]
    fn logs_name_the_first_events_and_count_the_rest() {
        let events: Vec<QueuedEvent> = (0..12)
            .map(|i| QueuedEvent {
                channel: ChannelName::new(format!("c{i}")).unwrap(),
                event: EventName::new("e").unwrap(),
                data: "secret data".into(),
                socket_id: None,
            })
            .collect();
        assert_eq!(describe(&events[..2]), "e on c0, e on c1");
        let all = describe(&events);
        assert!(
            all.starts_with("e on c0, ") && all.ends_with("e on c9 and 2 more"),
            "{all}"
        );
        assert!(!all.contains("secret"), "{all}");
    }

    #[test]
    fn only_an_answer_that_refused_or_failed_before_pusher_is_surely_undelivered() {
        let timeout = Error::Timeout {
            timeout: std::time::Duration::from_secs(1),
            attempts: 1,
            elapsed: std::time::Duration::from_secs(1),
        };
        assert!(maybe_delivered(&timeout));
        let server = |status| Error::Server {
            status,
            message: String::new(),
        };
        assert!(maybe_delivered(&server(504)) && maybe_delivered(&server(502)));
        assert!(!maybe_delivered(&server(500)) && !maybe_delivered(&server(503)));
        let refused = Error::BadRequest {
            message: String::new(),
        };
        assert!(!maybe_delivered(&refused));
    }
}
