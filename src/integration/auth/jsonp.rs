//! The channel auth route's JSONP form: `GET {mount}{auth_path}?callback=…&socket_id=…`,
//! answered as `callback(<json>);`. Off unless `jsonp = true`.

use rocket::Request;
use rocket::http::{ContentType, Status};
use rocket::route;

use super::route::AuthRoute;
use crate::integration::response::ApiError;
use crate::protocol::parse_auth_form;

impl AuthRoute {
    pub(super) async fn handle_jsonp<'r>(&self, req: &'r Request<'_>) -> route::Outcome<'r> {
        if !self.jsonp {
            return route::Outcome::from(req, ApiError::new(Status::NotFound, "JSONP is disabled"));
        }
        let query = req.uri().query().map_or("", |q| q.as_str());
        let form = match parse_auth_form(query.as_bytes(), self.settings.max_batch_channels) {
            Ok(form) => form,
            Err(e) => return route::Outcome::from(req, ApiError::from(e)),
        };
        let Some(callback) = form
            .param("callback")
            .filter(|c| valid_callback(c))
            .map(str::to_owned)
        else {
            return route::Outcome::from(
                req,
                ApiError::new(Status::BadRequest, "missing or invalid JSONP callback"),
            );
        };
        let answer = self.answer(req, form).await;
        let script = format!("{callback}({});", answer.body());
        route::Outcome::from(req, (answer.status(), (ContentType::JavaScript, script)))
    }
}

/// A JSONP callback may only be a dotted name with bracketed indexes, as pusher-js sends
/// (`Pusher.auth_callbacks['1']`), so nothing a client sends is run as script.
fn valid_callback(cb: &str) -> bool {
    cb.len() <= 128
        && cb
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'$')
        && cb.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.' | b'[' | b']' | b'\'')
        })
}
