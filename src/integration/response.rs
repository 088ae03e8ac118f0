//! JSON responses of the mounted routes and guards: a status and `{"error": "<reason>"}`.

use std::borrow::Cow;
use std::io::Cursor;

use rocket::Request;
use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder, Response};
use serde::Serialize;

use crate::protocol::AuthFormError;

/// A refusal from one of the crate's routes or guards: a 4xx (or 5xx for a server-side
/// mistake) with a short JSON reason, `{"error": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: Status,
    reason: Cow<'static, str>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// A refusal with this status and reason.
    pub fn new(status: Status, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }

    /// The status sent.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The reason sent; never a secret.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// `{"error": "<reason>"}`.
    pub(crate) fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
        }
        // A struct of one string always serializes.
        serde_json::to_string(&Body {
            error: &self.reason,
        })
        .unwrap_or_default()
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

/// `200 {}`: what the webhook routes answer once the handler ran.
pub(crate) struct Ok200;

impl<'r> Responder<'r, 'static> for Ok200 {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        json_response(Status::Ok, "{}")
    }
}

/// A client error as a route's answer: a validation error is the caller's (400 with the
/// rule that failed); a queue that cannot take the event is this server's (503); anything
/// from the Pusher API is the upstream's (502, or 504 for a timeout), logged in full,
/// causes included, and answered with a short reason.
impl<'r> Responder<'r, 'static> for crate::Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        if let crate::Error::Validation(v) = &self {
            return ApiError::new(Status::BadRequest, v.to_string()).respond_to(req);
        }
        let mut logged = self.to_string();
        let mut cause = std::error::Error::source(&self);
        while let Some(e) = cause {
            logged.push_str(": ");
            logged.push_str(&e.to_string());
            cause = e.source();
        }
        log::error!("pusher: {logged}");
        let error = match &self {
            crate::Error::Timeout { .. } => {
                ApiError::new(Status::GatewayTimeout, "the Pusher API timed out")
            }
            crate::Error::Random => ApiError::new(Status::InternalServerError, "encryption failed"),
            crate::Error::Queue(_) => ApiError::new(
                Status::ServiceUnavailable,
                "the event queue cannot take the event",
            ),
            _ => ApiError::new(Status::BadGateway, "the Pusher API request failed"),
        };
        error.respond_to(req)
    }
}
