//! The crate's errors: [`Error`] (anything a client call can fail with),
//! [`ValidationError`] (a rule of the protocol was broken), [`QueueError`] (an event the
//! queue could not take), [`ConfigError`] (bad configuration, naming the key), and the
//! refusals of the routes and guards:
//! [`ApiError`] and [`WebhookRejection`]. None of them ever holds a secret.

use std::time::Duration;

use crate::protocol::ChannelKind;

pub use crate::integration::{ApiError, WebhookRejection};

/// A value broke one of the protocol's rules; the variant names the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidationError {
    /// A channel name is empty.
    EmptyChannelName,
    /// A channel name is too long.
    ChannelNameTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A channel name is longer than the `max_channel_name_len` the app configured (lower
    /// than [`MAX_CHANNEL_NAME_LEN`](crate::protocol::MAX_CHANNEL_NAME_LEN), e.g. the 164
    /// Pusher's hosted service documents).
    ChannelNameOverLimit {
        /// Its length.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// A channel name has a character outside `A-Z a-z 0-9 - _ = @ , . ;`.
    ChannelNameCharacter {
        /// The first illegal character.
        ch: char,
    },
    /// An event name is empty.
    EmptyEventName,
    /// An event name is too long.
    EventNameTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A socket id is not two runs of digits joined by a dot.
    SocketId,
    /// A user id is empty.
    EmptyUserId,
    /// A user id is too long.
    UserIdTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A user id has a character outside the channel-name alphabet.
    UserIdCharacter {
        /// The first illegal character.
        ch: char,
    },
    /// User or member data is unusable.
    UserData(&'static str),
    /// A channel of one kind was given where another was needed.
    WrongChannelKind {
        /// The kind needed.
        expected: ChannelKind,
        /// The kind given.
        found: ChannelKind,
    },
    /// Public channels need no authorization.
    PublicChannel,
    /// A presence channel was authorized without member data.
    MissingPresenceMember,
    /// An encrypted channel was used but no master key is configured.
    NoMasterKey,
    /// The master key is not valid base64.
    MasterKeyNotBase64,
    /// The master key does not decode to 32 bytes.
    MasterKeyLength {
        /// The decoded length.
        len: usize,
    },
    /// A trigger names no channel.
    NoChannels,
    /// A trigger names too many channels.
    TooManyChannels {
        /// Channels given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An encrypted channel was listed with others in one trigger.
    EncryptedMultiChannel,
    /// Event data is larger than the configured limit.
    DataTooLarge {
        /// The data's size in bytes (after encryption for encrypted channels).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A batch holds too many events.
    BatchTooLarge {
        /// Events given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A batch holds no event.
    EmptyBatch,
    /// A value given for a channel route's parameter (`orders::name(..)` of a
    /// [`channel`](crate::channel) route) is not one segment of a channel name: it is
    /// empty, or has a character outside `A-Z a-z 0-9 - _ = @ , ;` (a `.` would split it),
    /// so the route would not parse it back.
    ParamSegment {
        /// The parameter, as the pattern names it.
        param: &'static str,
        /// The first character a segment cannot hold; `None` when the value is empty.
        ch: Option<char>,
    },
    /// A query attribute does not apply to the channel or request.
    Attribute(&'static str),
    /// The data could not be serialized to JSON.
    Serialize(String),
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EmptyChannelName => f.write_str("channel name is empty"),
            Self::ChannelNameTooLong { len, max } => {
                write!(f, "channel name is {len} bytes long, the limit is {max}")
            }
            Self::ChannelNameOverLimit { len, max } => write!(
                f,
                "channel name is {len} bytes long, over the `pusher.max_channel_name_len` of {max}"
            ),
            Self::ChannelNameCharacter { ch } => write!(
                f,
                "channel name contains {ch:?}; allowed are A-Z a-z 0-9 and - _ = @ , . ;"
            ),
            Self::EmptyEventName => f.write_str("event name is empty"),
            Self::EventNameTooLong { len, max } => {
                write!(f, "event name is {len} bytes long, the limit is {max}")
            }
            Self::SocketId => f.write_str("socket id must be digits, a dot, digits (like 123.456)"),
            Self::EmptyUserId => f.write_str("user id is empty"),
            Self::UserIdTooLong { len, max } => {
                write!(f, "user id is {len} bytes long, the limit is {max}")
            }
            Self::UserIdCharacter { ch } => write!(
                f,
                "user id contains {ch:?}; allowed are A-Z a-z 0-9 and - _ = @ , . ;"
            ),
            Self::UserData(v0) => write!(f, "invalid user data: {v0}"),
            Self::WrongChannelKind { expected, found } => write!(
                f,
                "expected a {expected:?} channel, got a {found:?} channel"
            ),
            Self::PublicChannel => f.write_str("public channels need no authorization"),
            Self::MissingPresenceMember => {
                f.write_str("a presence channel needs member data (user_id)")
            }
            Self::NoMasterKey => {
                f.write_str("encrypted channels need encryption_master_key_base64 to be configured")
            }
            Self::MasterKeyNotBase64 => f.write_str("encryption master key is not valid base64"),
            Self::MasterKeyLength { len } => write!(
                f,
                "encryption master key decodes to {len} bytes, it must be 32"
            ),
            Self::NoChannels => f.write_str("a trigger needs at least one channel"),
            Self::TooManyChannels { count, max } => {
                write!(f, "a trigger may name at most {max} channels, got {count}")
            }
            Self::EncryptedMultiChannel => {
                f.write_str("an encrypted channel must be the only channel of its trigger")
            }
            Self::DataTooLarge { len, max } => {
                write!(f, "event data is {len} bytes, the limit is {max}")
            }
            Self::BatchTooLarge { count, max } => {
                write!(f, "a batch may hold at most {max} events, got {count}")
            }
            Self::EmptyBatch => f.write_str("a batch needs at least one event"),
            Self::ParamSegment { param, ch } => write!(
                f,
                "channel route parameter <{param}> {}",
                segment_fault(*ch)
            ),
            Self::Attribute(v0) => write!(f, "{v0}"),
            Self::Serialize(v0) => write!(f, "event data could not be serialized to JSON: {v0}"),
        }
    }
}

impl std::error::Error for ValidationError {}

/// Why [`Trigger::queue`](crate::client::Trigger::queue) could not take an event. Nothing
/// of the trigger was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueError {
    /// `capacity` events are already waiting or in flight (`pusher.queue.capacity`). A
    /// trigger naming several channels needs room for one event per channel.
    Full {
        /// The configured capacity.
        capacity: usize,
    },
    /// The queue was shut down ([`Pusher::shutdown`](crate::Pusher::shutdown), or Rocket's
    /// shutdown), or the tokio runtime its dispatcher ran on has ended.
    Closed,
    /// The dispatcher was not running yet and the caller is outside a tokio runtime to
    /// start it in: the first `queue()` must run in async code (under Rocket the fairing
    /// starts it at liftoff).
    NoRuntime,
}

impl std::fmt::Display for QueueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Full { capacity } => write!(f, "the queue is full: {capacity} events are waiting or in flight"),
            Self::Closed => f.write_str("the queue is closed: the client was shut down, or the runtime of its dispatcher ended"),
            Self::NoRuntime => f.write_str("no tokio runtime to start the queue's dispatcher in: queue from async code"),
        }
    }
}

impl std::error::Error for QueueError {}

/// Bad configuration. The message names the key; it never repeats a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required key is absent.
    Missing(&'static str),
    /// A key's value is unusable.
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The configuration could not be read (figment's message, which names the key).
    Extract(String),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(v0) => write!(f, "missing `pusher.{v0}`"),
            Self::Invalid { key, reason } => write!(f, "invalid `pusher.{key}`: {reason}"),
            Self::Extract(v0) => write!(f, "bad `pusher` configuration: {v0}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Anything a [`Pusher`](crate::Pusher) call can fail with.
///
/// HTTP failures are split by status so that callers can match on them; each keeps the
/// body Pusher sent (its 401 body names the string it expected to be signed). Transport
/// and decoding failures keep their cause as [`source`](std::error::Error::source), with
/// the request's URL (which holds the signature) removed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The request broke a protocol rule and was not sent.
    Validation(ValidationError),
    /// The queue could not take the event (full, closed, no runtime); nothing was queued.
    Queue(QueueError),
    /// No response within the configured timeout, on the last of `attempts` tries.
    Timeout {
        /// The configured timeout of one try.
        timeout: Duration,
        /// How many tries were made, the first included.
        attempts: u32,
        /// How long all the tries and the waits between them took.
        elapsed: Duration,
    },
    /// The server could not be reached.
    Connect(reqwest::Error),
    /// Any other transport failure (connection reset, protocol error).
    Transport(reqwest::Error),
    /// 400: the request was malformed or an attribute does not apply.
    BadRequest {
        /// The body Pusher sent.
        message: String,
    },
    /// 401: bad signature, clock skew over 600 s, or unknown key.
    Unauthorized {
        /// The body Pusher sent (it shows the string it expected to be signed).
        message: String,
    },
    /// 403: the app is disabled or over its quota.
    Forbidden {
        /// The body Pusher sent.
        message: String,
    },
    /// 404: wrong path or app id.
    NotFound {
        /// The body Pusher sent.
        message: String,
    },
    /// 413: event data too large for the server.
    PayloadTooLarge {
        /// The body Pusher sent.
        message: String,
    },
    /// 429: rate limited.
    RateLimited {
        /// `Retry-After`, if the server sent one (in seconds, or an HTTP date, counted from
        /// when the reply arrived).
        retry_after: Option<Duration>,
        /// The body Pusher sent.
        message: String,
    },
    /// 5xx: the server failed; the request may be retried.
    Server {
        /// The status code.
        status: u16,
        /// The body the server sent.
        message: String,
    },
    /// Any other non-success status.
    Status {
        /// The status code.
        status: u16,
        /// The body the server sent.
        message: String,
    },
    /// A success response whose body is not what the endpoint returns (or is larger than
    /// any reply the client reads).
    Decode(serde_json::Error),
    /// The operating system's random number generator failed (needed for encryption).
    Random,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Validation(e) => e.fmt(f),
            Self::Queue(e) => e.fmt(f),
            Self::Timeout {
                timeout,
                attempts,
                elapsed,
            } => {
                write!(
                    f,
                    "request timed out after {timeout:?}{}",
                    whole_wait(*attempts, *elapsed)
                )
            }
            Self::Connect(_) => f.write_str("could not connect to the Pusher API"),
            Self::Transport(_) => f.write_str("request to the Pusher API failed"),
            Self::BadRequest { message } => write!(f, "400 Bad Request: {message}"),
            Self::Unauthorized { message } => write!(f, "401 Unauthorized: {message}"),
            Self::Forbidden { message } => write!(f, "403 Forbidden: {message}"),
            Self::NotFound { message } => write!(f, "404 Not Found: {message}"),
            Self::PayloadTooLarge { message } => write!(f, "413 Payload Too Large: {message}"),
            Self::RateLimited { message, .. } => write!(f, "429 Too Many Requests: {message}"),
            Self::Server { status, message } => write!(f, "{status} server error: {message}"),
            Self::Status { status, message } => write!(f, "unexpected status {status}: {message}"),
            Self::Decode(_) => f.write_str("could not decode the Pusher API response"),
            Self::Random => f.write_str("no randomness available for encryption"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Transparent: the inner error's own cause (they have none today).
            Self::Validation(e) => std::error::Error::source(e),
            Self::Queue(e) => std::error::Error::source(e),
            Self::Connect(e) | Self::Transport(e) => Some(e),
            Self::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Self::Validation(e)
    }
}

impl From<QueueError> for Error {
    fn from(e: QueueError) -> Self {
        Self::Queue(e)
    }
}

impl Error {
    /// The HTTP status, for errors that came with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::BadRequest { .. } => Some(400),
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::NotFound { .. } => Some(404),
            Self::PayloadTooLarge { .. } => Some(413),
            Self::RateLimited { .. } => Some(429),
            Self::Server { status, .. } | Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the request failed for a reason that may pass on a retry (timeouts,
    /// connection failures, 429 and 5xx).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. }
                | Self::Connect(_)
                | Self::Transport(_)
                | Self::RateLimited { .. }
                | Self::Server { .. }
        )
    }

    /// One try's timeout, before any retry.
    pub(crate) fn timeout(timeout: Duration) -> Self {
        Self::Timeout {
            timeout,
            attempts: 1,
            elapsed: timeout,
        }
    }

    /// This error as the last of `attempts` tries that took `elapsed` in all.
    pub(crate) fn after_tries(mut self, tries: u32, total: Duration) -> Self {
        if let Self::Timeout {
            attempts, elapsed, ..
        } = &mut self
        {
            *attempts = tries;
            *elapsed = total;
        }
        self
    }

    pub(crate) fn from_status(status: u16, message: String, retry_after: Option<Duration>) -> Self {
        match status {
            400 => Self::BadRequest { message },
            401 => Self::Unauthorized { message },
            403 => Self::Forbidden { message },
            404 => Self::NotFound { message },
            413 => Self::PayloadTooLarge { message },
            429 => Self::RateLimited {
                retry_after,
                message,
            },
            500..=599 => Self::Server { status, message },
            _ => Self::Status { status, message },
        }
    }
}

/// What is wrong with a parameter's value, for [`ValidationError::ParamSegment`].
fn segment_fault(ch: Option<char>) -> String {
    match ch {
        None => "is empty".to_owned(),
        Some(ch) => format!("contains {ch:?}; a segment allows A-Z a-z 0-9 and - _ = @ , ;"),
    }
}

/// What a timeout's message adds when it was retried: the whole wait, which one try's
/// timeout does not tell.
fn whole_wait(attempts: u32, elapsed: Duration) -> String {
    if attempts > 1 {
        format!(" ({attempts} attempts over {elapsed:.1?})")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retried_timeout_tells_the_whole_wait() {
        let once = Error::timeout(Duration::from_secs(5));
        assert_eq!(once.to_string(), "request timed out after 5s");
        let retried = once.after_tries(3, Duration::from_millis(15_520));
        assert_eq!(
            retried.to_string(),
            "request timed out after 5s (3 attempts over 15.5s)"
        );
        // Other errors are left as they are.
        let other = Error::Random.after_tries(3, Duration::from_secs(1));
        assert_eq!(other.to_string(), "no randomness available for encryption");
    }
}
