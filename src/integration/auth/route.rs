//! The mounted channel auth route (`POST {mount}{auth_path}`, and `GET` for JSONP):
//! channel routes decide first, then the `authorize` closure.

use std::sync::Arc;

use rocket::Request;
use rocket::data::Data;
use rocket::http::{Method, Status};
use rocket::route::{self, Handler};

use super::form::{AuthSettings, read_form};
use super::request::{ChannelAuthResponse, Decision, checked_channel, grant, pusher};
use crate::Pusher;
use crate::integration::channel_routes::ChannelRouter;
use crate::integration::handlers::{ChannelRequest, Handlers};
use crate::integration::response::ApiError;
use crate::protocol::{
    AuthForm, AuthFormError, ChannelAuth, ChannelKind, ChannelName, FormChannels,
};

/// The mounted channel auth route.
#[derive(Clone)]
pub(crate) struct AuthRoute {
    pub(crate) handlers: Arc<Handlers>,
    pub(crate) router: Arc<ChannelRouter>,
    pub(crate) settings: AuthSettings,
    pub(crate) jsonp: bool,
}

#[rocket::async_trait]
impl Handler for AuthRoute {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        if req.method() == Method::Get {
            return self.handle_jsonp(req).await;
        }
        match read_form(req, data, self.settings).await {
            Ok(form) => route::Outcome::from(req, self.answer(req, form).await),
            Err(e) => route::Outcome::from(req, e),
        }
    }
}

impl AuthRoute {
    /// The answer to a parsed form: each channel checked, decided and granted in turn.
    pub(super) async fn answer(
        &self,
        req: &Request<'_>,
        mut form: AuthForm,
    ) -> ChannelAuthResponse {
        let pusher = match pusher(req) {
            Ok(pusher) => pusher,
            Err(e) => return ChannelAuthResponse::error(e),
        };
        // The names move into the answers, the rest of the form is lent to the deciders.
        match std::mem::replace(&mut form.channels, FormChannels::None) {
            FormChannels::Single(name) => {
                ChannelAuthResponse::single(self.answer_one(req, pusher, &form, name).await.1)
            }
            FormChannels::Batch(names) => {
                let mut answers = Vec::with_capacity(names.len());
                for name in names {
                    answers.push(self.answer_one(req, pusher, &form, name).await);
                }
                ChannelAuthResponse::batch(answers)
            }
            FormChannels::None => ChannelAuthResponse::error(AuthFormError::MissingChannel.into()),
        }
    }

    /// One channel's name and answer.
    async fn answer_one(
        &self,
        req: &Request<'_>,
        pusher: &Pusher,
        form: &AuthForm,
        name: String,
    ) -> (String, Result<ChannelAuth, ApiError>) {
        let channel = match checked_channel(name) {
            Ok(channel) => channel,
            Err((name, e)) => return (name, Err(e)),
        };
        let answer = match self.decide(req, form, &channel).await {
            Ok(decision) => grant(pusher, &form.socket_id, &channel, decision),
            Err(e) => Err(e),
        };
        (channel.into_string(), answer)
    }

    /// The decision for one channel: its channel route's, else the `authorize` closure's
    /// (with the `presence_member` closure's member on a presence channel).
    async fn decide(
        &self,
        req: &Request<'_>,
        form: &AuthForm,
        channel: &ChannelName,
    ) -> Result<Decision, ApiError> {
        let socket_id = &form.socket_id;
        let creq = ChannelRequest {
            socket_id,
            channel,
            params: &form.params,
        };
        if let Some(result) = self.router.decide(req, creq).await {
            return Ok(result.unwrap_or_else(|reason| {
                log::info!("pusher: refused {channel} to {socket_id}: {reason}");
                Decision::Deny
            }));
        }
        let Some(authorize) = &self.handlers.authorizer else {
            let reason = if self.router.is_empty() {
                "no channel authorizer is configured"
            } else {
                log::info!("pusher: refused {channel}: no channel route matches it");
                "no channel route matches this channel"
            };
            return Err(ApiError::new(Status::Forbidden, reason));
        };
        if !authorize(req, creq).await {
            return Ok(Decision::Deny);
        }
        match &self.handlers.member {
            Some(member) if channel.kind() == ChannelKind::Presence => Ok(member(req, creq)
                .await
                .map_or(Decision::Deny, Decision::AllowAs)),
            _ => Ok(Decision::Allow),
        }
    }
}
