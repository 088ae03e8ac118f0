//! Reading back what the app sent: the channel a query names, and encrypted data opened.

use crate::client::{IntoChannels, RecordedEvent};
use crate::protocol::decrypt_payload;
use crate::{ChannelName, Pusher};

/// The one channel a test kit query names, as a `trigger` takes it.
pub(super) fn one_channel(channel: impl IntoChannels) -> ChannelName {
    match channel.into_channels() {
        Ok(names) => match <[_; 1]>::try_from(names) {
            Ok([name]) => name,
            Err(names) => panic!(
                "rocket_pusher::testing: name one channel, not {}",
                names.len()
            ),
        },
        Err(e) => panic!("rocket_pusher::testing: not a channel name: {e}"),
    }
}

/// `event` with the data of an encrypted channel opened with the app's master key.
pub(super) fn decrypted(pusher: &Pusher, mut event: RecordedEvent) -> RecordedEvent {
    // An encrypted trigger has exactly one channel.
    let [channel] = event.channels.as_slice() else {
        return event;
    };
    if !channel.starts_with("private-encrypted-") {
        return event;
    }
    let plaintext = pusher
        .master_key()
        .and_then(|key| decrypt_payload(key, channel, &event.data))
        .unwrap_or_else(|| {
            panic!(
                "rocket_pusher::testing: `{}` on `{channel}` does not open with the app's \
                 master key",
                event.name
            )
        });
    event.data = String::from_utf8_lossy(&plaintext).into_owned();
    event
}
