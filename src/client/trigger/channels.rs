//! The channel argument of a trigger: a name or a list of names, checked once.

use crate::error::ValidationError;
use crate::protocol::ChannelName;

/// Channel arguments of [`Pusher::trigger`](crate::Pusher::trigger): a name, or a list of names.
///
/// A name is a string (`&str`, `String`), checked here, or a [`ChannelName`] (or the
/// `Result` a [`channel`](crate::channel) route's `name` returns), checked already and
/// taken as it is: a user's `#server-to-user-` channel, which no string may name, too. A
/// list (`Vec`, array, slice) holds any one kind of them.
///
/// ```
/// use rocket_pusher::ChannelName;
/// use rocket_pusher::client::IntoChannels;
/// use rocket_pusher::protocol::UserId;
///
/// let alice = ChannelName::server_to_user(&UserId::new("alice")?);
/// let names = vec![alice.clone(), ChannelName::new("presence-lobby")?].into_channels()?;
/// assert_eq!(names, ["#server-to-user-alice", "presence-lobby"]);
/// assert!(vec![alice.as_str()].into_channels().is_err(), "a string is checked");
/// # Ok::<(), rocket_pusher::error::ValidationError>(())
/// ```
pub trait IntoChannels {
    /// Validate and collect the channel names.
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError>;
}

impl IntoChannels for &str {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        Ok(vec![ChannelName::new(self)?])
    }
}

impl IntoChannels for String {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        Ok(vec![ChannelName::new(self)?])
    }
}

impl IntoChannels for &String {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        self.as_str().into_channels()
    }
}

impl IntoChannels for ChannelName {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        Ok(vec![self])
    }
}

impl IntoChannels for &ChannelName {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        Ok(vec![self.clone()])
    }
}

/// A name built by a [`channel`](crate::channel) route (`orders::name(42)`); a name that
/// could not be built is the trigger's error.
impl IntoChannels for Result<ChannelName, ValidationError> {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        self.map(|c| vec![c])
    }
}

/// Names already checked, such as [`Broadcast::channels`](crate::Broadcast::channels)
/// returns.
impl IntoChannels for Result<Vec<ChannelName>, ValidationError> {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        self
    }
}

/// Each item as the trigger takes it alone, so that names already checked pass as they are.
fn collect<T: IntoChannels>(
    items: impl IntoIterator<Item = T>,
) -> Result<Vec<ChannelName>, ValidationError> {
    let mut out = Vec::new();
    for item in items {
        out.append(&mut item.into_channels()?);
    }
    Ok(out)
}

impl<T: IntoChannels + Clone> IntoChannels for &[T] {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        collect(self.iter().cloned())
    }
}

impl<T: IntoChannels> IntoChannels for Vec<T> {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        collect(self)
    }
}

impl<T: IntoChannels + Clone> IntoChannels for &Vec<T> {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        self.as_slice().into_channels()
    }
}

impl<T: IntoChannels, const N: usize> IntoChannels for [T; N] {
    fn into_channels(self) -> Result<Vec<ChannelName>, ValidationError> {
        collect(self)
    }
}
