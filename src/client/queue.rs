//! The queue behind [`Trigger::queue`](super::Trigger::queue): lanes of events, each
//! delivered by a task of its own, in order, batched, bounded and retried. The module docs
//! of [`client`](crate::client) describe what it guarantees.
//!
//! `queue()` reserves room (`pending`, one compare-and-swap, which also refuses once the
//! queue is closed), picks the lane by a hash of the channel and sends the event down the
//! lane's unbounded channel: no lock, no task spawned per event. A lane's task takes
//! everything waiting (up to `max_batch_events`), sends it in one request, retries it,
//! then counts it; flush and shutdown wait on those counts. Whatever way a lane stops
//! (shutdown, the runtime ending, a panic), its `Drop` counts and logs the events it still
//! held as dropped, then marks the lane stopped.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use std::{fmt, iter};

use serde::Serialize;
use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc, watch};

use super::trigger::{BatchBody, BatchItem, TriggerBody};
use super::{Inner, Pusher};
use crate::config::QueueConfig;
use crate::error::{Error, QueueError, ValidationError};
use crate::protocol::{ChannelName, EventName, SocketId};

/// One event in a lane: one channel, its data ready to send (sealed for an encrypted
/// channel, size checked).
pub(crate) struct Queued {
    pub(crate) channel: ChannelName,
    pub(crate) event: EventName,
    pub(crate) data: String,
    pub(crate) socket_id: Option<SocketId>,
}

/// Without the data, which may be private.
impl fmt::Debug for Queued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queued")
            .field("channel", &self.channel)
            .field("event", &self.event)
            .field("data_len", &self.data.len())
            .field("socket_id", &self.socket_id)
            .finish()
    }
}

/// The queue's counters, in events, since the client was built: a snapshot from
/// [`Pusher::queue_stats`] or [`Pusher::shutdown`].
///
/// Once the queue is drained (after [`Pusher::flush`] with nothing queued meanwhile, or
/// after [`Pusher::shutdown`]), `queued = sent + failed + dropped` and `in_flight = 0`.
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
struct Recorded(QueueStats);

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0
            .write(f, "recorded (transport = \"recording\": nothing sent)")
    }
}

/// Queued events that could not be delivered: the error of their request, and the
/// channel and name of each (never its data). Given to the callback of
/// [`PusherBuilder::on_queue_failure`](super::PusherBuilder::on_queue_failure) or
/// [`PusherFairing::on_queue_failure`](crate::PusherFairing::on_queue_failure).
#[derive(Debug)]
pub struct QueueFailure {
    error: Error,
    events: Vec<(ChannelName, EventName)>,
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
    fn call(&self, failure: &QueueFailure) {
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

/// The queue of one client and its clones.
pub(crate) struct Queue {
    shared: Arc<Shared>,
    /// Set when the dispatcher starts: the sender of each lane (its task runs detached).
    lanes: OnceLock<Box<[mpsc::UnboundedSender<Queued>]>>,
    /// With the recording transport, which has no lanes: set once `queue()` or the
    /// fairing ran in a tokio runtime, where the dispatcher would have started.
    recording_started: AtomicBool,
}

/// The bit of [`Shared::pending`] that closes the queue: set in the same word as the
/// count, so that an event is either refused or counted before shutdown drains.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// How long shutdown waits, after its deadline, for the lanes to stop and count what they
/// held; only a lane stuck outside tokio (a failure callback that blocks) takes longer.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// What the queue and its lanes' tasks share; no sender, so no task keeps its own lane
/// open.
struct Shared {
    config: QueueConfig,
    max_batch: usize,
    on_failure: Option<FailureCallback>,
    /// Events waiting or in flight: room is reserved here before an event enters a lane.
    /// The [`CLOSED`] bit refuses more.
    pending: AtomicUsize,
    queued: AtomicU64,
    in_flight: AtomicU64,
    sent: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    /// Per lane: the events that entered it, and those it finished (sent, failed or
    /// dropped), which it does in the order they entered.
    entered: Box<[AtomicU64]>,
    finished: Box<[AtomicU64]>,
    /// Per lane: it stopped, and has counted everything it held.
    stopped: Box<[AtomicBool]>,
    /// Woken whenever a lane finishes events or stops, and when `pending` falls.
    progress: Notify,
    /// Set at shutdown's deadline: the lanes stop, dropping what they hold.
    abort: watch::Sender<bool>,
}

impl Queue {
    pub(crate) fn new(
        config: QueueConfig,
        max_batch: usize,
        on_failure: Option<FailureCallback>,
    ) -> Self {
        let counters = || {
            iter::repeat_with(|| AtomicU64::new(0))
                .take(config.lanes)
                .collect()
        };
        let flags = iter::repeat_with(|| AtomicBool::new(false))
            .take(config.lanes)
            .collect();
        Self {
            shared: Arc::new(Shared {
                max_batch,
                on_failure,
                pending: AtomicUsize::new(0),
                queued: AtomicU64::new(0),
                in_flight: AtomicU64::new(0),
                sent: AtomicU64::new(0),
                retried: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                entered: counters(),
                finished: counters(),
                stopped: flags,
                progress: Notify::new(),
                abort: watch::Sender::new(false),
                config,
            }),
            lanes: OnceLock::new(),
            recording_started: AtomicBool::new(false),
        }
    }

    pub(crate) fn config(&self) -> &QueueConfig {
        &self.shared.config
    }

    fn stats(&self) -> QueueStats {
        let s = &self.shared;
        // An event is counted queued before it is in flight, and in flight no more before
        // it is counted finished: read in the other order, a snapshot never counts more
        // events done (or in flight) than queued.
        let sent = s.sent.load(Acquire);
        let failed = s.failed.load(Acquire);
        let dropped = s.dropped.load(Acquire);
        let in_flight = s.in_flight.load(Acquire);
        let retried = s.retried.load(Acquire);
        QueueStats {
            queued: s.queued.load(Acquire),
            in_flight,
            sent,
            retried,
            failed,
            dropped,
        }
    }

    fn is_closed(&self) -> bool {
        self.shared.pending.load(Acquire) & CLOSED != 0
    }

    /// The dispatcher, started on the current runtime if it is not running yet.
    fn start(&self, inner: &Arc<Inner>) -> Result<&[mpsc::UnboundedSender<Queued>], QueueError> {
        if let Some(lanes) = self.lanes.get() {
            return Ok(lanes);
        }
        let runtime = Handle::try_current().map_err(|_| QueueError::NoRuntime)?;
        Ok(self.lanes.get_or_init(|| self.spawn(&runtime, inner)))
    }

    /// The recording transport's stand-in for [`start`](Self::start): the same refusal
    /// outside a runtime, until `queue()` or the fairing ran in one.
    fn start_recording(&self) -> Result<(), QueueError> {
        if !self.recording_started.load(Relaxed) {
            Handle::try_current().map_err(|_| QueueError::NoRuntime)?;
            self.recording_started.store(true, Relaxed);
        }
        Ok(())
    }

    fn spawn(&self, runtime: &Handle, inner: &Arc<Inner>) -> Box<[mpsc::UnboundedSender<Queued>]> {
        let count = self.shared.config.lanes;
        let mut senders = Vec::with_capacity(count);
        for index in 0..count {
            let (tx, rx) = mpsc::unbounded_channel();
            let lane = Lane {
                index,
                rx,
                // Grown to the largest batch taken: `max_batch_events` is a bound, and may
                // be far larger than any batch.
                batch: Vec::new(),
                shared: Arc::clone(&self.shared),
            };
            // Detached: shutdown waits on the lanes' `stopped` flags, which every way a
            // lane ends sets.
            drop(runtime.spawn(lane.run(Arc::clone(inner))));
            senders.push(tx);
        }
        log::debug!("pusher: queue dispatcher started with {count} lanes");
        senders.into()
    }

    /// Take the events of one trigger, all or none.
    fn push(&self, inner: &Arc<Inner>, events: Vec<Queued>) -> Result<(), Error> {
        let s = &self.shared;
        if self.is_closed() {
            return Err(QueueError::Closed.into());
        }
        if let Some(recorder) = inner.recorder() {
            // Recorded at once, so an app's test reads it right after the request that
            // queued it.
            self.start_recording()?;
            let n = events.len() as u64;
            s.queued.fetch_add(n, Relaxed);
            for event in &events {
                inner.record_post(recorder, &inner.events_path, single_body(event)?);
            }
            s.sent.fetch_add(n, Release);
            return Ok(());
        }
        let lanes = self.start(inner)?;
        let count = lanes.len();
        let n = events.len();
        // The runtime the lanes ran on has ended: refuse the whole trigger rather than
        // part of it (one event needs no check: its send fails below).
        if n > 1
            && events
                .iter()
                .any(|e| lanes[lane_of(&e.channel, count)].is_closed())
        {
            return Err(QueueError::Closed.into());
        }
        let capacity = s.config.capacity;
        // Room and the closed bit in one step: once shutdown has set the bit, every event
        // it must drain has been counted here.
        s.pending
            .fetch_update(AcqRel, Acquire, |pending| {
                if pending & CLOSED != 0 {
                    return None;
                }
                pending
                    .checked_add(n)
                    .filter(|&total| total <= capacity && total & CLOSED == 0)
            })
            .map_err(|pending| {
                if pending & CLOSED != 0 {
                    QueueError::Closed
                } else {
                    QueueError::Full { capacity }
                }
            })?;
        for (i, event) in events.into_iter().enumerate() {
            let lane = lane_of(&event.channel, count);
            // Counted in before it is sent down the lane, so that a flush that sees the
            // lane finish this many events knows the event was among them.
            s.entered[lane].fetch_add(1, SeqCst);
            s.queued.fetch_add(1, Relaxed);
            if lanes[lane].send(event).is_err() {
                // The lane stopped meanwhile (its runtime ended): the lanes that took the
                // first events count them as dropped when they stop too.
                s.entered[lane].fetch_sub(1, SeqCst);
                s.queued.fetch_sub(1, Relaxed);
                s.pending.fetch_sub(n - i, Release);
                s.progress.notify_waiters();
                return Err(QueueError::Closed.into());
            }
        }
        Ok(())
    }

    /// Wait until `done` holds, checked whenever a lane makes progress.
    async fn wait_until(&self, done: impl Fn(&Shared) -> bool) {
        loop {
            let mut progress = pin!(self.shared.progress.notified());
            // Registered before the check, so no progress between the two goes unseen.
            progress.as_mut().enable();
            if done(&self.shared) {
                return;
            }
            progress.await;
        }
    }

    /// Wait until every event queued before the call is finished (sent, failed or dropped).
    async fn flush(&self) {
        if self.lanes.get().is_none() {
            return;
        }
        let targets: Vec<u64> = self.shared.entered.iter().map(|e| e.load(SeqCst)).collect();
        self.wait_until(|s| {
            // A stopped lane has counted all it will: an event counted in but refused by
            // it was counted out again by its `queue()`.
            targets.iter().enumerate().all(|(lane, &target)| {
                s.finished[lane].load(Acquire) >= target || s.stopped[lane].load(Acquire)
            })
        })
        .await;
    }

    async fn shutdown(&self, deadline: Duration) -> QueueStats {
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
        let stats = self.stats();
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

/// The lane of a channel: always the same for one channel, spread over the lanes.
fn lane_of(channel: &ChannelName, lanes: usize) -> usize {
    if lanes == 1 {
        return 0;
    }
    let mut hasher = DefaultHasher::new();
    channel.as_str().hash(&mut hasher);
    (hasher.finish() % lanes as u64) as usize
}

/// One lane's task: takes what waits, sends it, counts it; one request at a time.
struct Lane {
    index: usize,
    rx: mpsc::UnboundedReceiver<Queued>,
    /// The events of the request in flight; empty between requests.
    batch: Vec<Queued>,
    shared: Arc<Shared>,
}

impl Lane {
    async fn run(mut self, inner: Arc<Inner>) {
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

fn single_body(q: &Queued) -> Result<Vec<u8>, Error> {
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

fn names(events: impl Iterator<Item = Queued>) -> Vec<(ChannelName, EventName)> {
    events.map(|q| (q.channel, q.event)).collect()
}

/// The first events as `event on channel`, for a log line; never their data.
fn describe(events: &[(ChannelName, EventName)]) -> String {
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
fn with_causes(error: &Error) -> String {
    let mut out = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cause = e.source();
    }
    out
}

impl Pusher {
    /// Queue these events (checked, one channel each), all or none.
    pub(crate) fn enqueue(&self, events: Vec<Queued>) -> Result<(), Error> {
        self.queue.push(&self.inner, events)
    }

    /// Start the dispatcher now, on the current runtime (the fairing does at liftoff).
    pub(crate) fn start_queue(&self) -> Result<(), QueueError> {
        if self.inner.recorder().is_some() {
            return self.queue.start_recording();
        }
        self.queue.start(&self.inner).map(drop)
    }

    /// The queue's counters (see [`QueueStats`]); shared by every clone of this client.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), rocket_pusher::Error> {
    /// # let pusher = rocket_pusher::Pusher::recording(rocket_pusher::protocol::Credentials::new("1", "k", "s"));
    /// pusher.trigger("orders", "created", "7").queue()?;
    /// pusher.flush().await;
    /// let stats = pusher.queue_stats();
    /// assert_eq!((stats.queued, stats.sent, stats.pending()), (1, 1, 0));
    /// # Ok(()) }
    /// ```
    pub fn queue_stats(&self) -> QueueStats {
        self.queue.stats()
    }

    /// The queue's settings.
    pub fn queue_config(&self) -> &QueueConfig {
        self.queue.config()
    }

    /// Wait until every event queued before this call has been sent, has failed (see
    /// [`QueueStats::failed`]) or was dropped. Events queued meanwhile are not waited for.
    pub async fn flush(&self) {
        self.queue.flush().await;
    }

    /// Close the queue and drain it: from now on `queue()` refuses events
    /// ([`QueueError::Closed`]), for this client and its clones; every event it accepted
    /// before goes out until `deadline`; what is still waiting or in flight then is
    /// dropped, logged with its count and its events' channels and names, and counted in
    /// [`QueueStats::dropped`]. Returns the final counts (called again, or from a clone at
    /// the same time, the same). Under Rocket the fairing calls it on shutdown, with
    /// `pusher.queue.drain_timeout`.
    ///
    /// It returns at most a second after `deadline`: a lane held outside tokio then (by a
    /// failure callback that blocks) is logged, and counts its events when it lets go.
    ///
    /// Awaited triggers are not affected.
    pub async fn shutdown(&self, deadline: Duration) -> QueueStats {
        self.queue.shutdown(deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
