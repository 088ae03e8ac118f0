//! Admission: room in the queue, taken before a trigger's events are prepared, then the
//! events handed to their lanes.

use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

use tokio::sync::mpsc;

use super::lane::{lane_of, single_body};
use super::{CLOSED, Queue, QueuedEvent, Shared};
use crate::client::Inner;
use crate::error::{Error, QueueError};

/// Room for `n` events, counted in `pending`: given back when dropped unless its events
/// were queued.
pub(crate) struct Room<'q> {
    queue: &'q Queue,
    n: usize,
    /// The lanes to send to; `None` with the recording transport, which takes no room.
    lanes: Option<&'q [mpsc::UnboundedSender<QueuedEvent>]>,
}

impl Queue {
    /// Room for `n` events now, or why not: the queue is closed, full, or cannot start.
    /// Nothing is allocated.
    pub(crate) fn try_room(&self, inner: &Arc<Inner>, n: usize) -> Result<Room<'_>, QueueError> {
        if self.is_closed() {
            return Err(QueueError::Closed);
        }
        if inner.recorder().is_some() {
            self.start_recording()?;
            return Ok(Room {
                queue: self,
                n,
                lanes: None,
            });
        }
        let lanes = self.start(inner)?;
        let s = &self.shared;
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
        Ok(Room {
            queue: self,
            n,
            lanes: Some(lanes),
        })
    }

    /// Room for `n` events, waiting while the queue is full; refused only when the queue
    /// is closed or cannot start, or when `n` is over its capacity.
    pub(crate) async fn room(&self, inner: &Arc<Inner>, n: usize) -> Result<Room<'_>, QueueError> {
        let capacity = self.shared.config.capacity;
        loop {
            match self.try_room(inner, n) {
                Err(QueueError::Full { .. }) if n <= capacity => {
                    // Woken whenever `pending` falls (or the queue closes).
                    let room = |s: &Shared| {
                        let pending = s.pending.load(Acquire);
                        pending & CLOSED != 0 || pending + n <= capacity
                    };
                    self.wait_until(room).await;
                }
                result => return result,
            }
        }
    }
}

impl Room<'_> {
    /// Queue the events the room was taken for (as many), all or none.
    pub(crate) fn queue(mut self, inner: &Inner, events: Vec<QueuedEvent>) -> Result<(), Error> {
        debug_assert_eq!(
            events.len(),
            self.n,
            "a room holds the events it was taken for"
        );
        let s = &self.queue.shared;
        let Some(lanes) = self.lanes else {
            // Recorded at once, so an app's test reads it right after the request that
            // queued it.
            let recorder = inner.recorder().ok_or(QueueError::Closed)?;
            let n = events.len() as u64;
            s.queued.fetch_add(n, Relaxed);
            for event in &events {
                inner.record_post(recorder, &inner.events_path, single_body(event)?);
            }
            s.sent.fetch_add(n, Release);
            return Ok(());
        };
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
        // From here on the room is the events': counted out by the lanes, or below.
        self.n = 0;
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
}

impl Drop for Room<'_> {
    /// Room not used (the trigger failed its checks, or was refused) is given back.
    fn drop(&mut self) {
        if self.n > 0 && self.lanes.is_some() {
            let s = &self.queue.shared;
            s.pending.fetch_sub(self.n, Release);
            s.progress.notify_waiters();
        }
    }
}
