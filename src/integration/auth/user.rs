//! The mounted user sign-in route (`POST {mount}{user_auth_path}`, pusher-js `signin()`).

use std::sync::Arc;

use rocket::Request;
use rocket::data::Data;
use rocket::http::Status;
use rocket::response::{self, Responder};
use rocket::route::{self, Handler};

use super::form::{AuthSettings, read_form};
use super::request::pusher;
use crate::integration::handlers::Handlers;
use crate::integration::response::{ApiError, json_response};
use crate::protocol::authenticate_user;

/// The mounted user sign-in route.
#[derive(Clone)]
pub(crate) struct UserAuthRoute {
    pub(crate) handlers: Arc<Handlers>,
    pub(crate) settings: AuthSettings,
}

#[rocket::async_trait]
impl Handler for UserAuthRoute {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        match self.answer(req, data).await {
            Ok(body) => route::Outcome::from(req, UserAuthBody(body)),
            Err(e) => route::Outcome::from(req, e),
        }
    }
}

impl UserAuthRoute {
    async fn answer(&self, req: &Request<'_>, data: Data<'_>) -> Result<Vec<u8>, ApiError> {
        // A sign-in form names no channel.
        let settings = AuthSettings {
            max_batch_channels: 0,
            ..self.settings
        };
        let form = read_form(req, data, settings).await?;
        let pusher = pusher(req)?;
        let Some(handler) = &self.handlers.user else {
            return Err(ApiError::new(
                Status::Forbidden,
                "user sign-in is not configured",
            ));
        };
        let user = handler(req, &form.socket_id)
            .await
            .ok_or_else(|| ApiError::new(Status::Forbidden, "sign-in refused"))?;
        let auth =
            authenticate_user(pusher.token(), form.socket_id.as_str(), &user).map_err(|e| {
                log::error!("pusher: the user data for sign-in is invalid: {e}");
                ApiError::new(
                    Status::InternalServerError,
                    format!("user data is invalid: {e}"),
                )
            })?;
        // Sized for the answer, escapes in the user data included: no regrowing.
        let mut body = Vec::with_capacity(auth.auth.len() + 2 * auth.user_data.len() + 32);
        // Two strings always serialize, and writing to a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut body, &auth);
        Ok(body)
    }
}

/// A sign-in's `{"auth", "user_data"}`, as a 200 JSON response.
struct UserAuthBody(Vec<u8>);

impl<'r> Responder<'r, 'static> for UserAuthBody {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        json_response(Status::Ok, self.0)
    }
}
