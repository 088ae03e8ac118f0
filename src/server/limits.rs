//! Per-connection limits: the client-event rate window, the channel cap, and the
//! authorized-connections deadline.

use std::time::{Duration, Instant};

use super::{Conn, ConnId, Server};

/// `pusher:error` code for a subscription over `max_channels_per_connection`: a capacity
/// refusal, as for a full presence channel.
pub(super) const TOO_MANY_CHANNELS: u16 = 4100;

impl Server {
    /// Why `conn` may not subscribe to one more channel, if it may not.
    pub(super) fn channel_cap(&self, conn: &Conn, name: &str) -> Result<(), String> {
        match self.shared.config.max_channels_per_connection {
            Some(max) if conn.channels.len() >= max => Err(format!(
                "Cannot subscribe to {name}: a connection may be in at most {max} channels"
            )),
            _ => Ok(()),
        }
    }

    /// When a connection opened now must be authorized by, if ever.
    pub(super) fn authorize_by(&self) -> Option<tokio::time::Instant> {
        let timeout = self.shared.config.authorized_connections_timeout?;
        Some(tokio::time::Instant::now() + Duration::from_secs_f64(timeout))
    }

    /// Whether connection `id` signed in or joined a private or presence channel (a gone
    /// connection counts as authorized: there is nothing left to close).
    pub(super) fn is_authorized(&self, id: ConnId) -> bool {
        self.state().conns.get(&id).is_none_or(|c| c.authorized)
    }
}

/// Sleep until `at`, or forever without one.
pub(super) async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A fixed one-second window counting one connection's client events.
#[derive(Debug, Default)]
pub(super) struct RateWindow {
    start: Option<Instant>,
    count: u32,
}

impl RateWindow {
    /// Count one event at `now`; whether it is within `per_second` (0: no limit).
    pub(super) fn allow(&mut self, per_second: u32, now: Instant) -> bool {
        if per_second == 0 {
            return true;
        }
        match self.start {
            Some(start) if now.duration_since(start) < Duration::from_secs(1) => {}
            _ => {
                self.start = Some(now);
                self.count = 0;
            }
        }
        self.count += 1;
        self.count <= per_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_per_second_then_refused_until_the_window_moves() {
        let t = Instant::now();
        let mut w = RateWindow::default();
        assert!((0..10).all(|_| w.allow(10, t)));
        assert!(!w.allow(10, t + Duration::from_millis(999)));
        assert!(w.allow(10, t + Duration::from_secs(1)));
        let mut free = RateWindow::default();
        assert!((0..1000).all(|_| free.allow(0, t)));
    }
}
