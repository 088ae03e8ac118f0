//! What an app registers on [`PusherFairing`](crate::PusherFairing): who may join which
//! channel, who a connection is, what to do with webhooks.
//!
//! Each is an async closure of the shape Rocket's own `AdHoc` fairings take
//! (`|req, input| Box::pin(async move { … })`). Every callback gets the `&Request`, so it
//! can run the app's own guards: `req.guard::<User>().await`. Channel routes
//! ([`channel`](crate::channel)), the primary way to authorize, live in `channel_routes`.

use std::sync::Arc;

use rocket::Request;
use rocket::futures::future::BoxFuture;

use crate::protocol::{
    ChannelExistenceEvent, ChannelName, ClientEvent, PresenceEvent, PresenceMember, SocketId,
    UserData, Webhook, find_param,
};

/// One channel a connection asks to join, as the authorizer sees it.
#[derive(Debug, Clone, Copy)]
pub struct ChannelRequest<'a> {
    /// The connection asking.
    pub socket_id: &'a SocketId,
    /// The channel it asks for (`private-`, `presence-` or `private-encrypted-`).
    pub channel: &'a ChannelName,
    /// The other form fields the client sent (pusher-js `params`).
    pub params: &'a [(String, String)],
}

impl ChannelRequest<'_> {
    /// The value of the first extra form field called `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(self.params, name)
    }
}

/// The presence member when the app names none: the socket id as `user_id`, as
/// Flask-Pusher does.
pub(crate) fn socket_member(socket_id: &SocketId) -> PresenceMember {
    PresenceMember::new(socket_id.as_str())
}

pub(crate) type AuthorizeFn =
    dyn for<'a> Fn(&'a Request<'_>, ChannelRequest<'a>) -> BoxFuture<'a, bool> + Send + Sync;
pub(crate) type MemberFn = dyn for<'a> Fn(&'a Request<'_>, ChannelRequest<'a>) -> BoxFuture<'a, Option<PresenceMember>>
    + Send
    + Sync;
pub(crate) type UserFn =
    dyn for<'a> Fn(&'a Request<'_>, &'a SocketId) -> BoxFuture<'a, Option<UserData>> + Send + Sync;
pub(crate) type HookFn<T> =
    dyn for<'a> Fn(&'a Request<'_>, Webhook<T>) -> BoxFuture<'a, ()> + Send + Sync;

/// Everything registered on the fairing, shared by its routes.
#[derive(Default, Clone)]
pub(crate) struct Handlers {
    pub(crate) authorizer: Option<Arc<AuthorizeFn>>,
    pub(crate) channel_routes: Vec<super::channel_routes::ChannelRoute>,
    pub(crate) member: Option<Arc<MemberFn>>,
    pub(crate) user: Option<Arc<UserFn>>,
    pub(crate) channel_existence: Option<Arc<HookFn<ChannelExistenceEvent>>>,
    pub(crate) presence: Option<Arc<HookFn<PresenceEvent>>>,
    pub(crate) client_event: Option<Arc<HookFn<ClientEvent>>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("authorizer", &self.authorizer.is_some())
            .field("channel_routes", &self.channel_routes)
            .field("presence_member", &self.member.is_some())
            .field("user_signin", &self.user.is_some())
            .field("channel_existence", &self.channel_existence.is_some())
            .field("presence", &self.presence.is_some())
            .field("client_event", &self.client_event.is_some())
            .finish()
    }
}
