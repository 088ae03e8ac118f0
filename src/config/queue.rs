//! [`QueueConfig`]: the `queue` table of the `pusher` configuration.

use std::time::Duration;

use serde::Deserialize;

use super::invalid;
use crate::error::ConfigError;

/// How queued events are delivered ([`Trigger::queue`](crate::client::Trigger::queue)): how
/// many may wait, over how many lanes, and how long shutdown waits for them.
///
/// In the `pusher` table:
///
/// ```toml
/// [default.pusher.queue]
/// capacity = 10000    # events waiting or in flight; queue() refuses more
/// lanes = 4           # requests in flight at once; a channel always takes the same lane
/// drain_timeout = 5   # seconds shutdown waits for queued events to go out
/// ```
///
/// In code:
///
/// ```
/// use std::time::Duration;
/// use rocket_pusher::Pusher;
/// use rocket_pusher::config::QueueConfig;
///
/// let pusher = Pusher::builder("1234", "key", "secret")
///     .queue(QueueConfig::default().capacity(50_000).lanes(8).drain_timeout(Duration::from_secs(10)))
///     .build()?;
/// assert_eq!(pusher.queue_config().lanes, 8);
/// # Ok::<(), rocket_pusher::error::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct QueueConfig {
    /// The most events waiting or in flight, over all lanes (a trigger naming several
    /// channels counts one per channel); `queue()` refuses more with
    /// [`QueueError::Full`](crate::error::QueueError::Full). At least 1.
    /// _Default:_ `10000`.
    pub capacity: usize,
    /// Lanes, each with at most one request in flight; a channel always takes the same
    /// lane, so its events arrive in order. 1 to 256. _Default:_ `4`.
    pub lanes: usize,
    /// How long shutdown waits, in seconds, for queued events to go out; those still
    /// waiting or in flight then are dropped, logged and counted. 0 to 3600.
    /// _Default:_ `5`.
    #[serde(deserialize_with = "super::values::seconds")]
    pub drain_timeout: f64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            lanes: 4,
            drain_timeout: 5.0,
        }
    }
}

/// The most lanes a queue may have.
const MAX_LANES: usize = 256;

impl QueueConfig {
    /// The most events waiting or in flight.
    #[must_use]
    pub fn capacity(mut self, events: usize) -> Self {
        self.capacity = events;
        self
    }

    /// How many lanes (requests in flight at once).
    #[must_use]
    pub fn lanes(mut self, lanes: usize) -> Self {
        self.lanes = lanes;
        self
    }

    /// How long shutdown waits for queued events to go out.
    #[must_use]
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout.as_secs_f64();
        self
    }

    /// `drain_timeout` as a `Duration` (a checked value always converts).
    pub(crate) fn drain_deadline(&self) -> Duration {
        Duration::try_from_secs_f64(self.drain_timeout).unwrap_or(Duration::ZERO)
    }

    /// Check the values; the error names the key under `queue`.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.capacity == 0 {
            return Err(invalid("queue.capacity", "must be at least 1 event"));
        }
        if !(1..=MAX_LANES).contains(&self.lanes) {
            return Err(invalid("queue.lanes", "must be between 1 and 256"));
        }
        if !(self.drain_timeout.is_finite() && (0.0..=3600.0).contains(&self.drain_timeout)) {
            return Err(invalid(
                "queue.drain_timeout",
                "must be a number of seconds from 0 to 3600",
            ));
        }
        Ok(())
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PusherConfig;

    #[test]
    fn queue_values_are_checked_naming_the_key() {
        let ok = QueueConfig::default();
        assert!(ok.check().is_ok());
        assert_eq!(ok.drain_deadline(), Duration::from_secs(5));
        let zero = QueueConfig::default().drain_timeout(Duration::ZERO);
        assert!(zero.check().is_ok());
        for (bad, key) in [
            (QueueConfig::default().capacity(0), "queue.capacity"),
            (QueueConfig::default().lanes(0), "queue.lanes"),
            (QueueConfig::default().lanes(257), "queue.lanes"),
            (
                QueueConfig {
                    drain_timeout: -0.5,
                    ..QueueConfig::default()
                },
                "queue.drain_timeout",
            ),
            (
                QueueConfig {
                    drain_timeout: f64::NAN,
                    ..QueueConfig::default()
                },
                "queue.drain_timeout",
            ),
            (
                QueueConfig {
                    drain_timeout: 3601.0,
                    ..QueueConfig::default()
                },
                "queue.drain_timeout",
            ),
        ] {
            let e = bad.check().unwrap_err();
            assert!(
                matches!(e, ConfigError::Invalid { key: k, .. } if k == key),
                "{bad:?}: {e}"
            );
            // The client refuses it too.
            let config = PusherConfig {
                queue: bad,
                ..PusherConfig::new("1", "k", "s")
            };
            assert!(config.resolve().is_err());
        }
    }
}
