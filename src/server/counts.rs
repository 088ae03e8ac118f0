//! Opt-in subscription counts (`subscription_count = true`): after each subscription or
//! unsubscription on a non-presence channel, its subscribers get
//! `pusher_internal:subscription_count` and the `subscription_count` webhook is sent.
//! Past [`THROTTLE_ABOVE`] subscribers a channel's count goes out at most once per
//! `subscription_count_interval`: a change inside the interval waits for its end and then
//! sends the count of that moment, so the last change is never lost.

use std::time::{Duration, Instant};

use super::webhooks::Hook;
use super::{Server, State, shared_frame};
use crate::protocol::ChannelKind;
use crate::protocol::frames::ServerFrame;

/// Up to this many subscribers, every change is sent at once.
pub(super) const THROTTLE_ABOVE: usize = 100;

/// One channel's throttle.
#[derive(Debug, Default)]
pub(super) struct CountState {
    last: Option<Instant>,
    /// A change waits for the interval's end (a timer is running for it).
    pending: bool,
}

impl Server {
    /// Channel `name`'s subscriber count changed (it may be gone: a count of 0).
    pub(super) fn count_changed(&self, state: &mut State, name: &str) {
        let config = &self.shared.config;
        if !config.subscription_count || ChannelKind::of(name) == ChannelKind::Presence {
            return;
        }
        let Some(channel) = state.channels.get_mut(name) else {
            // Vacated: nobody to tell; the webhook keeps its listeners' count right.
            return self.shared.webhooks.send(Hook::SubscriptionCount {
                channel: name,
                count: 0,
            });
        };
        let interval = Duration::from_secs_f64(config.subscription_count_interval);
        let wait = match channel.count.last {
            Some(last) if channel.subs.len() > THROTTLE_ABOVE => {
                interval.saturating_sub(last.elapsed())
            }
            _ => Duration::ZERO,
        };
        if wait.is_zero() {
            return self.send_count(state, name);
        }
        if channel.count.pending {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            // No runtime to wait on (the fuzz seam): sent at once.
            return self.send_count(state, name);
        };
        channel.count.pending = true;
        let server = self.clone();
        let name = name.to_owned();
        rt.spawn(async move {
            tokio::time::sleep(wait).await;
            let mut state = server.state();
            // Should the channel have been vacated and occupied again since, its count
            // goes out a little early: harmless.
            if state.channels.get(&name).is_some_and(|c| c.count.pending) {
                server.send_count(&mut state, &name);
            }
        });
    }

    /// Send channel `name`'s count now, to its subscribers and the webhook.
    fn send_count(&self, state: &mut State, name: &str) {
        let Some(channel) = state.channels.get_mut(name) else {
            return;
        };
        channel.count = CountState {
            last: Some(Instant::now()),
            pending: false,
        };
        let count = channel.subs.len();
        let data = format!(r#"{{"subscription_count":{count}}}"#);
        let frame = shared_frame(&ServerFrame::event(
            name,
            "pusher_internal:subscription_count",
            Some(&data),
        ));
        for id in channel.subs.keys() {
            if let Some(conn) = state.conns.get(id) {
                conn.outbox.send(frame.clone());
            }
        }
        self.shared.webhooks.send(Hook::SubscriptionCount {
            channel: name,
            count,
        });
    }
}
