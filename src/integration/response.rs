//! JSON responses of the mounted routes and guards: a status and `{"error": "<reason>"}`.

use std::borrow::Cow;
use std::io::Cursor;

use rocket::Request;
use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder, Response};

use crate::protocol::{AuthFormError, WebhookError};

/// A refusal from one of the crate's routes or guards: a 4xx (or 5xx for a server-side
/// mistake) with a short JSON reason, `{"error": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The status sent.
    pub status: Status,
    /// The reason sent; never a secret.
    pub reason: Cow<'static, str>,
}

impl ApiError {
    /// A refusal with this status and reason.
    pub fn new(status: Status, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }
}

impl ApiError {
    /// `{"error": "<reason>"}`.
    pub(crate) fn to_json(&self) -> String {
        serde_json::json!({ "error": self.reason }).to_string()
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        json_response(self.status, self.to_json())
    }
}

/// A response with a JSON body.
pub(crate) fn json_response<B>(status: Status, body: B) -> response::Result<'static>
where
    B: AsRef<[u8]> + Send + Unpin + 'static,
{
    let len = body.as_ref().len();
    Response::build()
        .status(status)
        .header(ContentType::JSON)
        .sized_body(len, Cursor::new(body))
        .ok()
}

impl From<AuthFormError> for ApiError {
    fn from(e: AuthFormError) -> Self {
        Self::new(Status::BadRequest, e.to_string())
    }
}

impl WebhookError {
    /// The status a webhook route answers for this error: 403 for a missing, unknown or
    /// wrong key or signature and for a stale webhook (as Flask-Pusher), 413 for a body
    /// over the limit, 400 for a signed body that is not a Pusher webhook.
    pub fn status(&self) -> Status {
        match self {
            Self::MissingKey
            | Self::UnknownKey
            | Self::MissingSignature
            | Self::BadSignature
            | Self::Stale { .. } => Status::Forbidden,
            Self::TooLarge { .. } => Status::PayloadTooLarge,
            Self::Io | Self::Syntax(_) | Self::Shape(_) => Status::BadRequest,
            Self::NotConfigured => Status::InternalServerError,
        }
    }
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        Self::new(e.status(), e.to_string())
    }
}

/// A webhook refusal responds with its status and a JSON reason, so a route taking
/// `Result<VerifiedWebhook<T>, WebhookError>` can return the error as is.
impl<'r> Responder<'r, 'static> for WebhookError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        ApiError::from(self).respond_to(req)
    }
}

/// `200 {}`: what the webhook routes answer once the handler ran.
pub(crate) struct Ok200;

impl<'r> Responder<'r, 'static> for Ok200 {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        json_response(Status::Ok, "{}")
    }
}

/// A client error as a route's answer: a validation error is the caller's (400 with the
/// rule that failed); anything from the Pusher API is the upstream's (502, or 504 for a
/// timeout), logged in full and answered with a short reason.
impl<'r> Responder<'r, 'static> for crate::Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let error = match &self {
            crate::Error::Validation(v) => ApiError::new(Status::BadRequest, v.to_string()),
            crate::Error::Timeout(_) => {
                log::error!("pusher: {self}");
                ApiError::new(Status::GatewayTimeout, "the Pusher API timed out")
            }
            crate::Error::Random => {
                log::error!("pusher: {self}");
                ApiError::new(Status::InternalServerError, "encryption failed")
            }
            _ => {
                log::error!("pusher: {self}");
                ApiError::new(Status::BadGateway, "the Pusher API request failed")
            }
        };
        error.respond_to(req)
    }
}
