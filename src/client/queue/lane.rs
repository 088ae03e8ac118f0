//! A lane: the task that delivers one share of the channels, one request at a time.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

use serde::Serialize;
use tokio::sync::mpsc;

use super::failure::{QueueFailure, describe, maybe_delivered, report, with_causes};
use super::{QueuedEvent, Shared};
use crate::client::Inner;
use crate::client::trigger::{BatchBody, BatchItem, TriggerBody};
use crate::error::{Error, QueueError, ValidationError};
use crate::protocol::{ChannelName, SocketId};

/// The lane of a channel: always the same for one channel, spread over the lanes.
pub(super) fn lane_of(channel: &ChannelName, lanes: usize) -> usize {
    if lanes == 1 {
        return 0;
    }
    let mut hasher = DefaultHasher::new();
    channel.as_str().hash(&mut hasher);
    (hasher.finish() % lanes as u64) as usize
}

/// At most this many channels a lane remembers as refused; past it, it forgets them all
/// (they are only sent alone while remembered, which costs requests, never events).
const MAX_SUSPECTS: usize = 1024;

/// One lane's task: takes what waits, sends it, counts it; one request at a time.
pub(super) struct Lane {
    index: usize,
    rx: mpsc::UnboundedReceiver<QueuedEvent>,
    /// The events taken and not finished yet, in the order they go out; empty between
    /// batches.
    batch: Vec<QueuedEvent>,
    /// The sizes of the requests still to send from the front of `batch`, the next last.
    plan: Vec<usize>,
    /// Channels whose last event sent alone was refused with a 4xx: their events are sent
    /// alone until one passes, so that they do not make a batch of other channels fail
    /// and split.
    suspects: HashSet<ChannelName>,
    shared: Arc<Shared>,
}

impl Lane {
    pub(super) fn new(
        index: usize,
        rx: mpsc::UnboundedReceiver<QueuedEvent>,
        shared: Arc<Shared>,
    ) -> Self {
        // The batch grows to the largest taken: `max_batch_events` is a bound, and may be
        // far larger than any batch.
        Self {
            index,
            rx,
            batch: Vec::new(),
            plan: Vec::new(),
            suspects: HashSet::new(),
            shared,
        }
    }

    pub(super) async fn run(mut self, inner: Arc<Inner>) {
        let mut abort = self.shared.abort.subscribe();
        let max = self.shared.max_batch;
        loop {
            // An idle lane wakes for the first event; a busy one finds all that waited.
            let taken = tokio::select! {
                biased;
                _ = abort.wait_for(|stop| *stop) => return,
                taken = self.rx.recv_many(&mut self.batch, max) => taken,
            };
            if taken == 0 {
                // Every sender is gone (the client was dropped) and nothing waits.
                return;
            }
            self.shared.in_flight.fetch_add(taken as u64, Release);
            self.plan_requests();
            while let Some(n) = self.plan.pop() {
                let result = tokio::select! {
                    biased;
                    // What is in flight is dropped, counted by `drop`.
                    _ = abort.wait_for(|stop| *stop) => return,
                    result = deliver(&inner, &self.shared, &self.batch[..n]) => result,
                };
                match result {
                    // The server refused the request, for one of its events or more: the
                    // halves go out in turn (the first first, so each channel keeps its
                    // order), down to single events, so that only those it refuses fail.
                    // A 4xx means nothing of the request was taken: nothing goes twice.
                    Err(failed) if n > 1 && refused(&failed.error) => {
                        self.plan.push(n - n / 2);
                        self.plan.push(n / 2);
                    }
                    result => self.finish(n, result),
                }
            }
        }
    }

    /// Plan the requests of a batch just taken: one for all of it, unless some of its
    /// channels are suspects; then those events go last, one request each (each channel's
    /// events stay in its order: they all go the same way).
    fn plan_requests(&mut self) {
        let suspect = |q: &QueuedEvent| self.suspects.contains(&q.channel);
        if self.suspects.is_empty() || !self.batch.iter().any(suspect) {
            self.plan.push(self.batch.len());
            return;
        }
        let (clean, suspects): (Vec<_>, Vec<_>) = self.batch.drain(..).partition(|q| !suspect(q));
        self.plan.extend(std::iter::repeat_n(1, suspects.len()));
        if !clean.is_empty() {
            self.plan.push(clean.len());
        }
        self.batch.extend(clean);
        self.batch.extend(suspects);
    }

    /// Count the first `n` events of the batch, sent or failed, and take them out.
    fn finish(&mut self, n: usize, result: Result<(), Failed>) {
        let s = &self.shared;
        let count = n as u64;
        // Out of flight before counted finished (see `Queue::stats`).
        s.in_flight.fetch_sub(count, Release);
        match result {
            Ok(()) => {
                s.sent.fetch_add(count, Release);
                for q in self.batch.drain(..n) {
                    if !self.suspects.is_empty() {
                        self.suspects.remove(&q.channel);
                    }
                }
            }
            Err(Failed {
                error,
                maybe_delivered,
            }) => {
                s.failed.fetch_add(count, Release);
                let events: Vec<QueuedEvent> = self.batch.drain(..n).collect();
                if let [one] = events.as_slice()
                    && refused(&error)
                {
                    if self.suspects.len() >= MAX_SUSPECTS {
                        self.suspects.clear();
                    }
                    self.suspects.insert(one.channel.clone());
                }
                log::error!(
                    "pusher: {n} queued event(s) not delivered: {}; {}",
                    with_causes(&error),
                    describe(&events)
                );
                report(
                    s,
                    QueueFailure {
                        error,
                        maybe_delivered,
                        events,
                    },
                    true,
                );
            }
        }
        s.pending.fetch_sub(n, Release);
        s.finished[self.index].fetch_add(count, Release);
        s.progress.notify_waiters();
    }
}

impl Drop for Lane {
    /// However the lane stops, what it still holds is dropped: counted, logged, and given
    /// to the receiver of [`Pusher::queue_failures`](crate::Pusher::queue_failures).
    fn drop(&mut self) {
        self.rx.close();
        let in_flight = std::mem::take(&mut self.batch);
        let mut waiting = Vec::new();
        let s = &self.shared;
        // Only this lane counts its finished events.
        let finished = s.finished[self.index].load(Acquire);
        loop {
            match self.rx.try_recv() {
                Ok(q) => waiting.push(q),
                // A `queue()` racing the close has counted its event in and is writing it
                // (or failing to, and counting it out): wait for either.
                Err(_)
                    if s.entered[self.index].load(SeqCst)
                        > finished + (in_flight.len() + waiting.len()) as u64 =>
                {
                    std::thread::yield_now();
                }
                Err(_) => break,
            }
        }
        let n = (in_flight.len() + waiting.len()) as u64;
        if n > 0 {
            s.in_flight.fetch_sub(in_flight.len() as u64, Release);
            s.dropped.fetch_add(n, Release);
            s.pending.fetch_sub(n as usize, Release);
            s.finished[self.index].fetch_add(n, Release);
            log::error!(
                "pusher: {n} queued event(s) dropped undelivered ({} of them in a request that \
                 may have reached Pusher): {}",
                in_flight.len(),
                describe(in_flight.iter().chain(&waiting))
            );
            // Not to the callback, which may block: this runs as the lane stops.
            for (events, maybe_delivered) in [(in_flight, true), (waiting, false)] {
                if !events.is_empty() {
                    let error = Error::Queue(QueueError::Closed);
                    let failure = QueueFailure {
                        error,
                        maybe_delivered,
                        events,
                    };
                    report(s, failure, false);
                }
            }
        }
        s.stopped[self.index].store(true, Release);
        s.progress.notify_waiters();
    }
}

/// Whether the server refused a request for what it holds: a 400 (a bad name, say), a 413
/// (too large) or a 422. Other 4xx are about the app, not its events (401: credentials or
/// clock, 403: disabled or over quota, 404: app id, 429: rate): splitting would only
/// multiply the requests refused.
fn refused(error: &Error) -> bool {
    matches!(error.status(), Some(400 | 413 | 422))
}

/// A request that failed for good: its last error, and whether any try may have reached
/// Pusher.
struct Failed {
    error: Error,
    maybe_delivered: bool,
}

/// Send some of a lane's events: one through `/events`, more through `/batch_events`,
/// retried with the client's policy (writes included).
async fn deliver(inner: &Inner, shared: &Shared, batch: &[QueuedEvent]) -> Result<(), Failed> {
    let body = match batch {
        [one] => single_body(one),
        many => batch_body(many),
    };
    let path = match batch {
        [_] => inner.events_path.as_str(),
        _ => inner.batch_path.as_str(),
    };
    let body = body.map_err(|error| Failed {
        error,
        maybe_delivered: false,
    })?;
    let n = batch.len() as u64;
    let mut maybe = false;
    let result = inner
        .send(
            "POST",
            path,
            &[],
            Some(body.into()),
            &inner.retry,
            |error| {
                maybe |= maybe_delivered(error);
                shared.retried.fetch_add(n, Relaxed);
            },
        )
        .await;
    result.map(drop).map_err(|error| Failed {
        maybe_delivered: maybe || maybe_delivered(&error),
        error,
    })
}

pub(super) fn single_body(q: &QueuedEvent) -> Result<Vec<u8>, Error> {
    encode(&TriggerBody {
        name: q.event.as_str(),
        data: &q.data,
        channels: std::slice::from_ref(&q.channel),
        socket_id: q.socket_id.as_ref().map(SocketId::as_str),
        info: None,
    })
}

fn batch_body(events: &[QueuedEvent]) -> Result<Vec<u8>, Error> {
    encode(&BatchBody {
        batch: events
            .iter()
            .map(|q| BatchItem {
                channel: &q.channel,
                name: q.event.as_str(),
                data: &q.data,
                socket_id: q.socket_id.as_ref().map(SocketId::as_str),
                info: None,
            })
            .collect(),
    })
}

fn encode(body: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| ValidationError::Serialize(e.to_string()).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::EventName;

    #[test]
    fn a_channel_keeps_its_lane_and_channels_spread_over_lanes() {
        let name = |i: usize| ChannelName::new(format!("room-{i}")).unwrap();
        let mut used = [0usize; 4];
        for i in 0..400 {
            let lane = lane_of(&name(i), 4);
            assert_eq!(lane, lane_of(&name(i), 4));
            used[lane] += 1;
        }
        // Roughly even: no lane with fewer than half its share.
        assert!(used.iter().all(|&n| n > 50), "{used:?}");
        assert_eq!(lane_of(&name(1), 1), 0);
    }

    #[test]
    fn bodies_are_what_the_endpoints_take() {
        let q = |channel: &str, socket: Option<&str>| QueuedEvent {
            channel: ChannelName::new(channel).unwrap(),
            event: EventName::new("e").unwrap(),
            data: "{\"a\":1}".into(),
            socket_id: socket.map(|s| SocketId::new(s).unwrap()),
        };
        let one = single_body(&q("a", Some("1.2"))).unwrap();
        assert_eq!(
            String::from_utf8(one).unwrap(),
            r#"{"name":"e","data":"{\"a\":1}","channels":["a"],"socket_id":"1.2"}"#
        );
        let batch = batch_body(&[q("a", None), q("b", Some("1.2"))]).unwrap();
        assert_eq!(
            String::from_utf8(batch).unwrap(),
            r#"{"batch":[{"channel":"a","name":"e","data":"{\"a\":1}"},{"channel":"b","name":"e","data":"{\"a\":1}","socket_id":"1.2"}]}"#
        );
    }
}
