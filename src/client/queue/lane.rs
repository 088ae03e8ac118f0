//! A lane: the task that delivers one share of the channels, one request at a time.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

use serde::Serialize;
use tokio::sync::mpsc;

use super::failure::{QueueFailure, describe, names, with_causes};
use super::{Queued, Shared};
use crate::client::Inner;
use crate::client::trigger::{BatchBody, BatchItem, TriggerBody};
use crate::error::{Error, ValidationError};
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

/// One lane's task: takes what waits, sends it, counts it; one request at a time.
pub(super) struct Lane {
    index: usize,
    rx: mpsc::UnboundedReceiver<Queued>,
    /// The events of the request in flight; empty between requests.
    batch: Vec<Queued>,
    shared: Arc<Shared>,
}

impl Lane {
    pub(super) fn new(
        index: usize,
        rx: mpsc::UnboundedReceiver<Queued>,
        shared: Arc<Shared>,
    ) -> Self {
        // The batch grows to the largest taken: `max_batch_events` is a bound, and may be
        // far larger than any batch.
        Self {
            index,
            rx,
            batch: Vec::new(),
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
            let result = tokio::select! {
                biased;
                // What is in flight is dropped, counted by `drop`.
                _ = abort.wait_for(|stop| *stop) => return,
                result = deliver(&inner, &self.shared, &self.batch) => result,
            };
            self.finish(result);
        }
    }

    fn finish(&mut self, result: Result<(), Error>) {
        let s = &self.shared;
        let n = self.batch.len() as u64;
        // Out of flight before counted finished (see `Queue::stats`).
        s.in_flight.fetch_sub(n, Release);
        match result {
            Ok(()) => {
                s.sent.fetch_add(n, Release);
                self.batch.clear();
            }
            Err(error) => {
                s.failed.fetch_add(n, Release);
                let events = names(self.batch.drain(..));
                log::error!(
                    "pusher: {n} queued event(s) not delivered: {}; {}",
                    with_causes(&error),
                    describe(&events)
                );
                if let Some(callback) = &s.on_failure {
                    callback.call(&QueueFailure { error, events });
                }
            }
        }
        s.pending.fetch_sub(n as usize, Release);
        s.finished[self.index].fetch_add(n, Release);
        s.progress.notify_waiters();
    }
}

impl Drop for Lane {
    /// However the lane stops, what it still holds is dropped: counted and logged.
    fn drop(&mut self) {
        self.rx.close();
        let in_flight = self.batch.len();
        let mut lost = names(self.batch.drain(..));
        let s = &self.shared;
        // Only this lane counts its finished events.
        let finished = s.finished[self.index].load(Acquire);
        loop {
            match self.rx.try_recv() {
                Ok(q) => lost.push((q.channel, q.event)),
                // A `queue()` racing the close has counted its event in and is writing it
                // (or failing to, and counting it out): wait for either.
                Err(_) if s.entered[self.index].load(SeqCst) > finished + lost.len() as u64 => {
                    std::thread::yield_now();
                }
                Err(_) => break,
            }
        }
        let n = lost.len() as u64;
        if n > 0 {
            s.in_flight.fetch_sub(in_flight as u64, Release);
            s.dropped.fetch_add(n, Release);
            s.pending.fetch_sub(lost.len(), Release);
            s.finished[self.index].fetch_add(n, Release);
            log::error!(
                "pusher: {n} queued event(s) dropped undelivered ({in_flight} of them in a \
                 request that may have reached Pusher): {}",
                describe(&lost)
            );
        }
        s.stopped[self.index].store(true, Release);
        s.progress.notify_waiters();
    }
}

/// Send a lane's batch: one event through `/events`, more through `/batch_events`,
/// retried with the client's policy (writes included).
async fn deliver(inner: &Inner, shared: &Shared, batch: &[Queued]) -> Result<(), Error> {
    let (path, body) = match batch {
        [one] => (inner.events_path.as_str(), single_body(one)?),
        many => (inner.batch_path.as_str(), batch_body(many)?),
    };
    let n = batch.len() as u64;
    inner
        .send("POST", path, &[], Some(body.into()), &inner.retry, || {
            shared.retried.fetch_add(n, Relaxed);
        })
        .await
        .map(drop)
}

pub(super) fn single_body(q: &Queued) -> Result<Vec<u8>, Error> {
    encode(&TriggerBody {
        name: q.event.as_str(),
        data: &q.data,
        channels: std::slice::from_ref(&q.channel),
        socket_id: q.socket_id.as_ref().map(SocketId::as_str),
        info: None,
    })
}

fn batch_body(events: &[Queued]) -> Result<Vec<u8>, Error> {
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
        let q = |channel: &str, socket: Option<&str>| Queued {
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
