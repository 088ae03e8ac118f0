//! [`RetryPolicy`]: how often and how patiently a failed request is tried again.

use std::time::Duration;

use serde::Deserialize;

use crate::error::{ConfigError, Error};

/// When a request that failed for a transient reason ([`Error::is_transient`]: a timeout,
/// a connection failure, 429 or 5xx) is tried again.
///
/// The delay before retry *n* (1, 2, …) is `initial_delay × 2ⁿ⁻¹`, capped at `max_delay`,
/// with random jitter (between half of it and all of it) so that many clients failing
/// together do not retry together. A 429 reply's `Retry-After` (seconds or an HTTP date)
/// replaces that delay; if it asks for more than `max_delay`, the error is returned at once
/// instead. Each try is signed anew and given the whole `timeout`, so a call may take up to
/// `attempts × timeout` plus the delays.
///
/// By default reads (`channels`, `channel`, `users`) are retried and writes (triggers,
/// batches, `terminate_user_connections`) are not: a write whose reply was lost (a
/// timeout, a reset connection, a 5xx from a proxy) may have reached Pusher, so retrying
/// it is **at-least-once delivery**: the event may arrive twice. Turn that on with
/// `retry_writes`, or for one trigger with [`Trigger::retry`](crate::client::Trigger::retry).
///
/// In the `pusher` table:
///
/// ```toml
/// [default.pusher.retry]
/// attempts = 3          # tries in all; 1 never retries
/// initial_delay = 0.2   # seconds before the first retry, doubled each time
/// max_delay = 5         # longest wait in seconds, and the most Retry-After honoured
/// retry_writes = false  # also retry triggers, batches, terminations (at-least-once)
/// ```
///
/// In code:
///
/// ```
/// use std::time::Duration;
/// use rocket_pusher::Pusher;
/// use rocket_pusher::client::RetryPolicy;
///
/// let pusher = Pusher::builder("1234", "key", "secret")
///     .retry(RetryPolicy::new(5).max_delay(Duration::from_secs(2)).retry_writes(true))
///     .build()?;
/// # Ok::<(), rocket_pusher::error::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// How many times a request is tried in all, the first included; `1` never retries.
    /// _Default:_ `3`.
    pub attempts: u32,
    /// Seconds before the first retry; each later one waits twice as long as the one
    /// before. _Default:_ `0.2`.
    pub initial_delay: f64,
    /// The longest wait between two tries, in seconds; a `Retry-After` asking for more
    /// ends the retries. _Default:_ `5`.
    pub max_delay: f64,
    /// Also retry writes (triggers, batches, `terminate_user_connections`). A retried
    /// write is delivered at least once, possibly twice. _Default:_ `false`.
    pub retry_writes: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            initial_delay: 0.2,
            max_delay: 5.0,
            retry_writes: false,
        }
    }
}

/// The most attempts a policy may ask for.
const MAX_ATTEMPTS: u32 = 100;
/// The longest `max_delay`, in seconds.
const MAX_DELAY_SECS: f64 = 3600.0;

impl RetryPolicy {
    /// Up to `attempts` tries in all, with the default delays; reads only unless
    /// [`retry_writes`](Self::retry_writes) is set.
    pub fn new(attempts: u32) -> Self {
        Self {
            attempts,
            ..Self::default()
        }
    }

    /// Never retry (one attempt).
    pub fn never() -> Self {
        Self::new(1)
    }

    /// The wait before the first retry; later ones double it.
    #[must_use]
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay.as_secs_f64();
        self
    }

    /// The longest wait between two tries, and the most `Retry-After` honoured.
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay.as_secs_f64();
        self
    }

    /// Whether writes are retried too (at-least-once delivery).
    #[must_use]
    pub fn retry_writes(mut self, yes: bool) -> Self {
        self.retry_writes = yes;
        self
    }

    /// Check the values; the error names the key under `retry`.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, reason: &str| ConfigError::Invalid {
            key,
            reason: reason.to_owned(),
        };
        if !(1..=MAX_ATTEMPTS).contains(&self.attempts) {
            return Err(invalid(
                "retry.attempts",
                "must be between 1 (no retry) and 100",
            ));
        }
        if !(self.initial_delay.is_finite() && self.initial_delay >= 0.0) {
            return Err(invalid(
                "retry.initial_delay",
                "must be a number of seconds, 0 or more",
            ));
        }
        if !(self.max_delay.is_finite()
            && self.max_delay >= self.initial_delay
            && self.max_delay <= MAX_DELAY_SECS)
        {
            return Err(invalid(
                "retry.max_delay",
                "must be a number of seconds, at least initial_delay and at most 3600",
            ));
        }
        Ok(())
    }

    /// How long to wait before try `attempt + 1` after try `attempt` (1-based) failed
    /// with `error`; `None` to give up and return the error.
    pub(crate) fn delay_after(&self, attempt: u32, error: &Error) -> Option<Duration> {
        if attempt >= self.attempts || !error.is_transient() {
            return None;
        }
        // A per-call policy is not checked: keep hostile values from overflowing `Duration`.
        let max = if self.max_delay.is_finite() {
            self.max_delay.clamp(0.0, MAX_DELAY_SECS)
        } else {
            0.0
        };
        if let Error::RateLimited {
            retry_after: Some(wait),
            ..
        } = error
        {
            return (wait.as_secs_f64() <= max).then_some(*wait);
        }
        let exponent = attempt.saturating_sub(1).min(62);
        let backoff = (self.initial_delay * (1u64 << exponent) as f64).min(max);
        if !backoff.is_finite() || backoff <= 0.0 {
            return Some(Duration::ZERO);
        }
        // "Equal jitter": half the backoff, plus a random part of the other half.
        let jittered = backoff / 2.0 + backoff / 2.0 * unit_random();
        Some(Duration::try_from_secs_f64(jittered.min(max)).unwrap_or(Duration::ZERO))
    }
}

/// A random number in `[0, 1)`; 0.5 if the system has no randomness to give.
fn unit_random() -> f64 {
    match getrandom::u32() {
        Ok(r) => f64::from(r) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Error {
        Error::Server {
            status: 503,
            message: String::new(),
        }
    }

    #[test]
    fn exponential_with_jitter_capped() {
        let p = RetryPolicy::new(10)
            .initial_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(1000));
        for (attempt, full) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (9, 1000)] {
            for _ in 0..50 {
                let d = p.delay_after(attempt, &server()).unwrap();
                let full = Duration::from_millis(full);
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
            }
        }
        assert_eq!(p.delay_after(10, &server()), None);
    }

    #[test]
    fn only_transient_errors_and_retry_after() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay_after(
                1,
                &Error::Unauthorized {
                    message: String::new()
                }
            ),
            None
        );
        let not_json = serde_json::from_str::<u8>("x").unwrap_err();
        assert_eq!(p.delay_after(1, &Error::Decode(not_json)), None);
        assert!(p.delay_after(1, &Error::timeout(Duration::ZERO)).is_some());
        let limited = |secs| Error::RateLimited {
            retry_after: Some(Duration::from_secs(secs)),
            message: String::new(),
        };
        assert_eq!(p.delay_after(1, &limited(3)), Some(Duration::from_secs(3)));
        assert_eq!(p.delay_after(1, &limited(6)), None, "over max_delay");
        assert_eq!(RetryPolicy::never().delay_after(1, &server()), None);
    }

    #[test]
    fn unchecked_values_never_panic() {
        for (initial, max) in [
            (f64::NAN, f64::NAN),
            (f64::INFINITY, f64::INFINITY),
            (-1.0, -1.0),
            (1e300, 1e300),
            (0.0, 0.0),
        ] {
            let p = RetryPolicy {
                attempts: u32::MAX,
                initial_delay: initial,
                max_delay: max,
                retry_writes: true,
            };
            for attempt in [1, 2, 63, 64, 1000] {
                let d = p.delay_after(attempt, &server()).unwrap();
                assert!(d <= Duration::from_secs(3600), "{p:?}: {d:?}");
            }
        }
    }

    #[test]
    fn checks_name_the_key() {
        assert!(RetryPolicy::default().check().is_ok());
        for (p, key) in [
            (RetryPolicy::new(0), "retry.attempts"),
            (
                RetryPolicy {
                    initial_delay: f64::NAN,
                    ..RetryPolicy::default()
                },
                "retry.initial_delay",
            ),
            (
                RetryPolicy {
                    initial_delay: 2.0,
                    max_delay: 1.0,
                    ..RetryPolicy::default()
                },
                "retry.max_delay",
            ),
        ] {
            assert!(
                matches!(p.check(), Err(ConfigError::Invalid { key: k, .. }) if k == key),
                "{p:?}"
            );
        }
    }
}
