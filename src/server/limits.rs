//! Per-connection limits: the client-event rate window.

use std::time::{Duration, Instant};

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
