//! Reading a request body whole under a size limit, shared by the auth and webhook routes.

use rocket::data::{ByteUnit, Data};
use rocket::tokio::io::AsyncReadExt;

/// Why a body could not be had.
pub(crate) enum BodyError {
    /// Longer than the limit.
    TooLarge,
    /// The connection failed while reading.
    Io,
}

/// The whole body, if it is at most `limit` bytes.
///
/// One byte past the limit is read: having it means the body is over. Rocket's
/// `into_bytes` tells the same, but copies through a zeroed 8 KiB buffer, which costs more
/// than the few hundred bytes an auth form or a webhook carries.
pub(crate) async fn read_capped(data: Data<'_>, limit: ByteUnit) -> Result<Vec<u8>, BodyError> {
    let mut stream = data.open(ByteUnit::from(limit.as_u64().saturating_add(1)));
    let mut body = Vec::with_capacity(stream.hint().max(512));
    stream
        .read_to_end(&mut body)
        .await
        .map_err(|_| BodyError::Io)?;
    if body.len() as u64 > limit.as_u64() {
        return Err(BodyError::TooLarge);
    }
    Ok(body)
}
