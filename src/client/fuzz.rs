//! Entry points for the fuzz targets in `fuzz/`; not part of the API.

use std::time::{Duration, SystemTime};

use super::{
    BatchResponse, ChannelInfo, ChannelList, PresenceUser, RetryPolicy, TriggerResponse, transport,
};
use crate::error::Error;

/// Handle a server reply as the client does: the `Retry-After` header, the status and
/// the (possibly `truncated`) body, then decode a success body as each endpoint's
/// reply. Returns the error for a failure status, and asks the default policy for a
/// delay, which must never panic either.
pub fn handle_response(
    status: u16,
    retry_after: Option<&str>,
    body: Vec<u8>,
    truncated: bool,
) -> Result<(), Error> {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let retry_after = retry_after.and_then(|v| transport::parse_retry_after(v, now));
    match transport::finish_response(status, retry_after, body, truncated) {
        Ok(body) => {
            #[derive(serde::Deserialize)]
            struct Users {
                #[allow(dead_code)]
                users: Vec<PresenceUser>,
            }
            let _ = transport::decode::<TriggerResponse>(&body);
            let _ = transport::decode::<BatchResponse>(&body);
            let _ = transport::decode::<ChannelList>(&body);
            let _ = transport::decode::<ChannelInfo>(&body);
            let _ = transport::decode::<Users>(&body);
            Ok(())
        }
        Err(e) => {
            let _ = RetryPolicy::default().delay_after(1, &e);
            Err(e)
        }
    }
}

/// The largest error message kept from a reply body, in characters (plus ` …`).
pub const MAX_ERROR_MESSAGE_CHARS: usize = transport::MAX_ERROR_BODY_CHARS;
