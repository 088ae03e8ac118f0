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

mod drain;
mod failure;
mod lane;
mod room;
mod stats;

use std::pin::pin;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use std::{fmt, iter};

use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc, watch};

use super::{Inner, Pusher};
use crate::config::QueueConfig;
use crate::error::{Error, QueueError};
use crate::protocol::{ChannelName, EventName, SocketId};

pub use drain::Flushed;
pub(crate) use failure::FailureCallback;
pub use failure::QueueFailure;
use lane::Lane;
pub(crate) use room::Room;
pub use stats::QueueStats;

/// One queued event: one channel, its name, its data as sent (sealed for an encrypted
/// channel, size checked), the connection it excludes. Failed ones come back in a
/// [`QueueFailure`].
///
/// Its `Debug` form shows the data's length, never the data.
#[derive(Clone)]
pub struct QueuedEvent {
    pub(crate) channel: ChannelName,
    pub(crate) event: EventName,
    pub(crate) data: String,
    pub(crate) socket_id: Option<SocketId>,
}

impl QueuedEvent {
    /// The channel.
    pub fn channel(&self) -> &ChannelName {
        &self.channel
    }

    /// The event name.
    pub fn name(&self) -> &EventName {
        &self.event
    }

    /// The data as it was sent: the app's data, or on a `private-encrypted-` channel the
    /// sealed payload (queue the event again with [`Pusher::requeue`], which does not
    /// seal it twice).
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The connection the event was not to be sent to, if any.
    pub fn socket_id(&self) -> Option<&SocketId> {
        self.socket_id.as_ref()
    }
}

/// Without the data, which may be private.
impl fmt::Debug for QueuedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuedEvent")
            .field("channel", &self.channel)
            .field("event", &self.event)
            .field("data_len", &self.data.len())
            .field("socket_id", &self.socket_id)
            .finish()
    }
}

/// The queue of one client and its clones.
pub(crate) struct Queue {
    shared: Arc<Shared>,
    /// Set when the dispatcher starts: the sender of each lane (its task runs detached).
    lanes: OnceLock<Box<[mpsc::UnboundedSender<QueuedEvent>]>>,
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
    /// Where failures go, once the app asked for them ([`Pusher::queue_failures`]);
    /// emptied when shutdown ends, which ends the receiver.
    failures: Mutex<Option<mpsc::UnboundedSender<QueueFailure>>>,
    /// What the last shutdown returned.
    last_shutdown: Mutex<Option<QueueStats>>,
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
                failures: Mutex::new(None),
                last_shutdown: Mutex::new(None),
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
    fn start(
        &self,
        inner: &Arc<Inner>,
    ) -> Result<&[mpsc::UnboundedSender<QueuedEvent>], QueueError> {
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

    fn spawn(
        &self,
        runtime: &Handle,
        inner: &Arc<Inner>,
    ) -> Box<[mpsc::UnboundedSender<QueuedEvent>]> {
        let count = self.shared.config.lanes;
        let mut senders = Vec::with_capacity(count);
        for index in 0..count {
            let (tx, rx) = mpsc::unbounded_channel();
            let lane = Lane::new(index, rx, Arc::clone(&self.shared));
            // Detached: shutdown waits on the lanes' `stopped` flags, which every way a
            // lane ends sets.
            drop(runtime.spawn(lane.run(Arc::clone(inner))));
            senders.push(tx);
        }
        log::debug!("pusher: queue dispatcher started with {count} lanes");
        senders.into()
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
}

impl Pusher {
    /// Room for `n` events in the queue now, taken before a trigger's events are prepared.
    pub(crate) fn queue_room(&self, n: usize) -> Result<Room<'_>, QueueError> {
        self.queue.try_room(&self.inner, n)
    }

    /// Room for `n` events, waiting while the queue is full.
    pub(crate) async fn queue_room_wait(&self, n: usize) -> Result<Room<'_>, QueueError> {
        self.queue.room(&self.inner, n).await
    }

    /// Queue the events in `room`.
    pub(crate) fn enqueue(&self, room: Room<'_>, events: Vec<QueuedEvent>) -> Result<(), Error> {
        room.queue(&self.inner, events)
    }

    /// Start the dispatcher now, on the current runtime (the fairing does at liftoff).
    pub(crate) fn start_queue(&self) -> Result<(), QueueError> {
        if self.inner.recorder().is_some() {
            return self.queue.start_recording();
        }
        self.queue.start(&self.inner).map(drop)
    }

    /// Queue again events that failed (from a [`QueueFailure`]), all or none, as they
    /// are: they were checked when first queued, and an encrypted channel's data stays
    /// sealed as it was. Refused as [`Trigger::queue`](crate::client::Trigger::queue) is
    /// when the queue cannot take them.
    pub fn requeue(&self, events: impl IntoIterator<Item = QueuedEvent>) -> Result<(), Error> {
        let events: Vec<QueuedEvent> = events.into_iter().collect();
        let room = self.queue_room(events.len())?;
        self.enqueue(room, events)
    }

    /// The failures of queued events from now on, each with its events whole, for async
    /// code to read: the events the server refused, those whose retries ran out, and
    /// those a shutdown dropped (with [`QueueError::Closed`]). It ends (`recv()` gives
    /// `None`) once a shutdown has drained the queue. Calling it again hands failures to
    /// the new receiver only. Unread failures wait in it: read it, or drop it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), rocket_pusher::Error> {
    /// # let pusher = rocket_pusher::Pusher::recording(rocket_pusher::protocol::Credentials::new("1", "k", "s"));
    /// let mut failures = pusher.queue_failures();
    /// tokio::spawn(async move {
    ///     while let Some(failure) = failures.recv().await {
    ///         for event in failure.events() {
    ///             // Store it, or queue it again if it surely never arrived.
    ///             eprintln!("{} on {} failed: {}", event.name(), event.channel(), failure.error());
    ///         }
    ///     }
    /// });
    /// # Ok(()) }
    /// ```
    pub fn queue_failures(&self) -> mpsc::UnboundedReceiver<QueueFailure> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self
            .queue
            .shared
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tx);
        rx
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
    /// Returns what finished meanwhile; see [`flush_within`](Self::flush_within) to wait
    /// no longer than a deadline.
    pub async fn flush(&self) -> Flushed {
        self.queue.flush(None).await
    }

    /// [`flush`](Self::flush), waiting at most `deadline`: [`Flushed::left`] counts the
    /// events queued before the call that were still waiting or in flight then (they
    /// still go out).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), rocket_pusher::Error> {
    /// # let pusher = rocket_pusher::Pusher::recording(rocket_pusher::protocol::Credentials::new("1", "k", "s"));
    /// use std::time::Duration;
    ///
    /// pusher.trigger("orders", "created", "7").queue()?;
    /// let flushed = pusher.flush_within(Duration::from_secs(2)).await;
    /// assert!(flushed.is_complete(), "{flushed}");
    /// # Ok(()) }
    /// ```
    pub async fn flush_within(&self, deadline: Duration) -> Flushed {
        self.queue.flush(Some(deadline)).await
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

    /// The counts the last [`shutdown`](Self::shutdown) returned, once one ran: under
    /// Rocket, those of the drain on shutdown, to read after `launch()` returns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # let pusher = rocket_pusher::Pusher::recording(rocket_pusher::protocol::Credentials::new("1", "k", "s"));
    /// assert_eq!(pusher.shutdown_stats(), None);
    /// let stats = pusher.shutdown(std::time::Duration::from_secs(1)).await;
    /// assert_eq!(pusher.shutdown_stats(), Some(stats));
    /// # }
    /// ```
    pub fn shutdown_stats(&self) -> Option<QueueStats> {
        *self
            .queue
            .shared
            .last_shutdown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
