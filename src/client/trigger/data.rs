//! Event data: encoded, sealed for an encrypted channel, and checked against the limits.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::client::Pusher;
use crate::error::{Error, ValidationError};
use crate::protocol::{ChannelKind, ChannelName, encrypt_payload, random_nonce};

/// Serialize event data: a string is sent verbatim (as the official libraries do),
/// anything else as its JSON.
pub(crate) fn encode_data<D: Serialize + ?Sized>(data: &D) -> Result<String, ValidationError> {
    let json =
        serde_json::to_string(data).map_err(|e| ValidationError::Serialize(e.to_string()))?;
    if json.starts_with('"') {
        serde_json::from_str(&json).map_err(|e| ValidationError::Serialize(e.to_string()))
    } else {
        Ok(json)
    }
}

/// A trigger's data: the app's value, serialized only when the trigger is sent or queued
/// (so a queue that refuses it never serializes it), or already encoded.
pub(super) enum Data<'a, D: ?Sized> {
    Value(&'a D),
    Encoded(Result<String, ValidationError>),
}

impl<D: Serialize + ?Sized> Data<'_, D> {
    pub(super) fn encode(self) -> Result<String, ValidationError> {
        match self {
            Self::Value(data) => encode_data(data),
            Self::Encoded(data) => data,
        }
    }
}

/// Never the data, which may be private.
impl<D: ?Sized> fmt::Debug for Data<'_, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("<not serialized yet>"),
            Self::Encoded(data) => DataLen(data).fmt(f),
        }
    }
}

/// Event data in a Debug form: its length, never its content, which may be private
/// (plaintext meant for an encrypted channel, say).
pub(super) struct DataLen<'a>(pub(super) &'a Result<String, ValidationError>);

impl fmt::Debug for DataLen<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(data) => write!(f, "<{} bytes>", data.len()),
            Err(e) => f.debug_tuple("Err").field(e).finish(),
        }
    }
}

impl Pusher {
    /// The data to send on `channel`: encrypted for an encrypted channel (borrowed as is
    /// otherwise), size-checked.
    pub(super) fn prepare_data<'d>(
        &self,
        channel: &ChannelName,
        data: &'d str,
    ) -> Result<Cow<'d, str>, Error> {
        let data = if channel.kind() == ChannelKind::PrivateEncrypted {
            let master = self.master_key().ok_or(ValidationError::NoMasterKey)?;
            let nonce = random_nonce().map_err(|_| Error::Random)?;
            Cow::Owned(encrypt_payload(
                master,
                channel.as_str(),
                data.as_bytes(),
                &nonce,
            ))
        } else {
            Cow::Borrowed(data)
        };
        self.check_size(&data)?;
        Ok(data)
    }

    /// `data` as sent on `channel`, owned: [`prepare_data`](Self::prepare_data) without a
    /// copy of plain data.
    pub(super) fn seal(&self, channel: &ChannelName, data: String) -> Result<String, Error> {
        if channel.is_encrypted() {
            return Ok(self.prepare_data(channel, &data)?.into_owned());
        }
        self.check_size(&data)?;
        Ok(data)
    }

    /// Check `channel` against the configured `max_channel_name_len`. A user's own channel
    /// is exempt: its user id has a limit of its own.
    pub(crate) fn check_channel_len(&self, channel: &ChannelName) -> Result<(), ValidationError> {
        check_len(channel, self.inner.max_channel_name_len)
    }

    /// Check a channel a trigger names: as [`check_channel_len`](Self::check_channel_len),
    /// and against the hosted service's limit when the endpoint is the hosted service,
    /// which refuses longer names (a subscription to one would be refused first).
    pub(super) fn check_trigger_channel(
        &self,
        channel: &ChannelName,
    ) -> Result<(), ValidationError> {
        check_len(channel, self.inner.max_trigger_channel_len)
    }

    pub(super) fn check_size(&self, data: &str) -> Result<(), ValidationError> {
        let max = self.inner.max_payload_bytes;
        if data.len() > max {
            Err(ValidationError::DataTooLarge {
                len: data.len(),
                max,
            })
        } else {
            Ok(())
        }
    }
}

/// A user's own channel is exempt: its user id has a limit of its own.
fn check_len(channel: &ChannelName, max: usize) -> Result<(), ValidationError> {
    let len = channel.as_str().len();
    if len > max && channel.kind() != ChannelKind::ServerToUser {
        Err(ValidationError::ChannelNameOverLimit { len, max })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_pass_verbatim() {
        assert_eq!(encode_data("hello").unwrap(), "hello");
        assert_eq!(encode_data(&"{\"a\":1}".to_owned()).unwrap(), "{\"a\":1}");
        assert_eq!(
            encode_data(&serde_json::json!({"a": 1})).unwrap(),
            "{\"a\":1}"
        );
        assert_eq!(encode_data(&42).unwrap(), "42");
    }
}
