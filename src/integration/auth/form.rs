//! Reading an auth form body: a form content type, under the `form` limit.

use rocket::Request;
use rocket::data::{ByteUnit, Data, Limits, ToByteUnit};
use rocket::http::Status;

use crate::integration::body::{BodyError, read_capped};
use crate::integration::response::ApiError;
use crate::protocol::{AuthForm, parse_auth_form};

/// Auth settings the fairing manages, resolved once at ignite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthSettings {
    pub(crate) max_batch_channels: usize,
    /// The `form/pusher` limit, else `form`: looked up once, not per request.
    pub(crate) form_limit: ByteUnit,
}

impl AuthSettings {
    pub(crate) const DEFAULT_MAX_CHANNELS: usize = 100;

    pub(crate) fn from_limits(limits: &Limits, max_batch_channels: usize) -> Self {
        Self {
            max_batch_channels,
            form_limit: limits
                .find(["form", "pusher"])
                .unwrap_or_else(|| 32.kibibytes()),
        }
    }
}

/// Read and parse a form body under the `form` limit (`form/pusher` if set).
pub(super) async fn read_form(
    req: &Request<'_>,
    data: Data<'_>,
    settings: AuthSettings,
) -> Result<AuthForm, ApiError> {
    if req.content_type().is_some_and(|ct| !ct.is_form()) {
        return Err(ApiError::new(
            Status::UnsupportedMediaType,
            "expected application/x-www-form-urlencoded",
        ));
    }
    let limit = settings.form_limit;
    let body = read_capped(data, limit).await.map_err(|e| match e {
        BodyError::TooLarge => ApiError::new(
            Status::PayloadTooLarge,
            format!("form body exceeds the limit of {limit}"),
        ),
        BodyError::Io => ApiError::new(Status::BadRequest, "body could not be read"),
    })?;
    Ok(parse_auth_form(&body, settings.max_batch_channels)?)
}
