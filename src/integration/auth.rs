//! Channel authorization and user sign-in in Rocket: the mounted routes, and the
//! [`ChannelAuthRequest`] guard with its [`ChannelAuthResponse`] for apps that write their
//! own auth route.

use std::fmt::Write as _;
use std::sync::Arc;

use rocket::data::{self, ByteUnit, Data, FromData, Limits, ToByteUnit};
use rocket::http::{ContentType, Status};
use rocket::outcome::Outcome;
use rocket::response::{self, Responder};
use rocket::route::{self, Handler};
use rocket::{Ignite, Request, Rocket, Sentinel};

use super::body::{BodyError, read_capped};
use super::channel_routes::ChannelRouter;
use super::handlers::{ChannelRequest, Handlers, socket_member};
use super::response::{ApiError, json_response};
use crate::Pusher;
use crate::error::ValidationError;
use crate::protocol::{
    AuthForm, AuthFormError, AuthFormRef, ChannelAuth, ChannelKind, ChannelName, FormChannels,
    FormChannelsRef, MAX_CHANNEL_NAME_LEN, PresenceMember, SocketId, authenticate_user,
    authorize_checked, parse_auth_form, parse_auth_form_ref, push_json_str, write_authorized_json,
};

/// The decision for one channel in an app's own auth route.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Decision {
    /// Refuse: the client gets 403.
    Deny,
    /// Allow. On a presence channel the member's `user_id` is the socket id.
    Allow,
    /// Allow, and on a presence channel announce this member.
    AllowAs(PresenceMember),
}

impl From<bool> for Decision {
    fn from(allow: bool) -> Self {
        if allow { Self::Allow } else { Self::Deny }
    }
}

/// A parsed channel authorization request, single or batch, as pusher-js and the
/// pusher-js-auth plugin post it. A data guard for apps that write their own auth route
/// with their own guards:
///
/// ```
/// use rocket::{post, routes, State};
/// use rocket_pusher::{ChannelAuthRequest, ChannelAuthResponse, Decision, Pusher};
///
/// #[post("/my/auth", data = "<req>")]
/// fn auth(req: ChannelAuthRequest, pusher: &State<Pusher>) -> ChannelAuthResponse {
///     req.respond(pusher, |ch| Decision::from(ch.channel.as_str().starts_with("private-public-")))
/// }
/// # let _ = routes![auth];
/// ```
///
/// Refused with 400: a missing or malformed `socket_id`, no `channel_name`, a batch over
/// `max_batch_channels`, a bad encoding; 413 past the `form` limit; 415 for a body that is
/// not a form. Take `Result<ChannelAuthRequest, ApiError>` and return the [`ApiError`] to
/// answer with its JSON reason (`{"error": "…"}`); otherwise Rocket's catcher for the
/// status answers.
///
/// Launch stops (a [`Sentinel`](rocket::Sentinel)) when no [`Pusher`] is managed: attach
/// [`PusherFairing`](crate::PusherFairing).
#[derive(Debug, Clone)]
pub struct ChannelAuthRequest {
    form: AuthForm,
}

impl ChannelAuthRequest {
    /// The connection asking.
    pub fn socket_id(&self) -> &SocketId {
        &self.form.socket_id
    }

    /// Whether this is a batch request (`channel_name[i]`).
    pub fn is_batch(&self) -> bool {
        matches!(self.form.channels, FormChannels::Batch(_))
    }

    /// The channel names asked for, as sent (not yet validated).
    pub fn channel_names(&self) -> &[String] {
        match &self.form.channels {
            FormChannels::Single(c) => std::slice::from_ref(c),
            FormChannels::Batch(list) => list,
            FormChannels::None => &[],
        }
    }

    /// The value of the first extra form field called `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form.param(name)
    }

    /// Answer with `decide`'s decision for each valid channel that needs authorization.
    pub fn respond<F>(&self, pusher: &Pusher, mut decide: F) -> ChannelAuthResponse
    where
        F: FnMut(ChannelRequest<'_>) -> Decision,
    {
        let one = |name: &str, decide: &mut F| -> Result<ChannelAuth, ApiError> {
            let channel = checked_channel(name)?;
            let req = ChannelRequest {
                socket_id: &self.form.socket_id,
                channel: &channel,
                params: &self.form.params,
            };
            let decision = decide(req);
            grant(pusher, &self.form.socket_id, &channel, decision)
        };
        match &self.form.channels {
            FormChannels::Batch(list) => ChannelAuthResponse::batch(
                list.iter()
                    .map(|name| (name.as_str(), one(name, &mut decide))),
            ),
            FormChannels::Single(name) => ChannelAuthResponse::single(one(name, &mut decide)),
            FormChannels::None => {
                ChannelAuthResponse::single(Err(AuthFormError::MissingChannel.into()))
            }
        }
    }
}

/// The answer of a channel auth route: `{"auth", "channel_data"?, "shared_secret"?}` for
/// one channel, `{channel: {"status": 200, "data": {…}} | {"status": 403}}` for a batch,
/// or a status with a JSON reason.
#[derive(Debug, Clone)]
pub struct ChannelAuthResponse {
    status: Status,
    body: String,
}

impl ChannelAuthResponse {
    fn single(result: Result<ChannelAuth, ApiError>) -> Self {
        match result {
            Ok(auth) => Self {
                status: Status::Ok,
                body: auth.to_json(),
            },
            Err(e) => Self::error(e),
        }
    }

    fn error(e: ApiError) -> Self {
        Self {
            status: e.status(),
            body: e.to_json(),
        }
    }

    fn batch<'n>(results: impl Iterator<Item = (&'n str, Result<ChannelAuth, ApiError>)>) -> Self {
        let mut batch = BatchWriter::new(results.size_hint().0);
        for (name, result) in results {
            batch.push(name, |out| result.map(|auth| auth.write_json(out)));
        }
        batch.finish()
    }

    /// The HTTP status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The JSON body.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Wrap as JSONP: `callback(<json>);`.
    fn jsonp(self, callback: &str) -> (Status, (ContentType, String)) {
        (
            self.status,
            (
                ContentType::JavaScript,
                format!("{callback}({});", self.body),
            ),
        )
    }
}

impl<'r> Responder<'r, 'static> for ChannelAuthResponse {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        json_response(self.status, self.body)
    }
}

/// A batch answer in the making: each channel's `"name":{entry}` is written to one
/// buffer as it is decided, and [`finish`](Self::finish) lays them out sorted by channel.
/// Nothing is kept per channel but a name and a span: no string or [`ChannelAuth`]
/// apiece. Channels that arrived sorted (and once each) are already the answer.
struct BatchWriter<'n> {
    /// `{` and the entries so far, separated by commas.
    body: String,
    /// Each channel's name and its `"name":{entry}` span in `body`, in the order decided.
    slots: Vec<(&'n str, usize, usize)>,
}

impl<'n> BatchWriter<'n> {
    fn new(channels: usize) -> Self {
        let mut body = String::with_capacity(2 + channels * 160);
        body.push('{');
        Self {
            body,
            slots: Vec::with_capacity(channels),
        }
    }

    /// Add `name`'s entry: `{"data": <what write_auth writes>, "status": 200}`, or its
    /// error as `{"error": "..", "status": ..}`.
    fn push(
        &mut self,
        name: &'n str,
        write_auth: impl FnOnce(&mut String) -> Result<(), ApiError>,
    ) {
        if !self.slots.is_empty() {
            self.body.push(',');
        }
        let start = self.body.len();
        push_json_str(&mut self.body, name);
        let entry = self.body.len();
        self.body.push_str(r#":{"data":"#);
        match write_auth(&mut self.body) {
            Ok(()) => self.body.push_str(r#","status":200}"#),
            Err(e) => {
                self.body.truncate(entry);
                self.body.push_str(r#":{"error":"#);
                push_json_str(&mut self.body, e.reason());
                // Writing to a `String` cannot fail.
                let _ = write!(self.body, r#","status":{}}}"#, e.status().code);
            }
        }
        self.slots.push((name, start, self.body.len()));
    }

    /// The answer: sorted by channel name, each channel once (the last entry for a
    /// repeated name).
    fn finish(mut self) -> ChannelAuthResponse {
        if self.slots.windows(2).all(|w| w[0].0 < w[1].0) {
            self.body.push('}');
            return ChannelAuthResponse {
                status: Status::Ok,
                body: self.body,
            };
        }
        // Stable, so of equal names the last pushed stays last.
        self.slots.sort_by(|a, b| a.0.cmp(b.0));
        let mut body = String::with_capacity(self.body.len() + 1);
        body.push('{');
        let mut first = true;
        for (i, &(name, start, end)) in self.slots.iter().enumerate() {
            if self.slots.get(i + 1).is_some_and(|next| next.0 == name) {
                continue;
            }
            if !first {
                body.push(',');
            }
            first = false;
            body.push_str(self.body.get(start..end).unwrap_or_default());
        }
        body.push('}');
        ChannelAuthResponse {
            status: Status::Ok,
            body,
        }
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for ChannelAuthRequest {
    type Error = ApiError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let settings = match req.rocket().state::<AuthSettings>() {
            Some(s) => *s,
            None => AuthSettings::from_limits(req.limits(), AuthSettings::DEFAULT_MAX_CHANNELS),
        };
        match read_form(req, data, settings).await {
            Ok(form) if matches!(form.channels, FormChannels::None) => {
                let e = ApiError::from(AuthFormError::MissingChannel);
                Outcome::Error((e.status(), e))
            }
            Ok(form) => Outcome::Success(Self { form }),
            Err(e) => Outcome::Error((e.status(), e)),
        }
    }
}

impl Sentinel for ChannelAuthRequest {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if rocket.state::<Pusher>().is_none() {
            log::error!(
                "ChannelAuthRequest needs the Pusher credentials to sign: attach \
                 `PusherFairing::new()` (or manage a `Pusher`)"
            );
            return true;
        }
        false
    }
}

/// Auth settings the fairing manages, resolved once at ignite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthSettings {
    pub(crate) max_batch_channels: usize,
    /// The `form/pusher` limit, else `form`: looked up once, not per request (the lookup
    /// compares limit names and cost more than parsing a single-channel form).
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
async fn read_form(
    req: &Request<'_>,
    data: Data<'_>,
    settings: AuthSettings,
) -> Result<AuthForm, ApiError> {
    let body = read_body(req, data, settings).await?;
    Ok(parse_auth_form(&body, settings.max_batch_channels)?)
}

/// Read a form body under the `form` limit (`form/pusher` if set).
async fn read_body(
    req: &Request<'_>,
    data: Data<'_>,
    settings: AuthSettings,
) -> Result<Vec<u8>, ApiError> {
    if req.content_type().is_some_and(|ct| !ct.is_form()) {
        return Err(ApiError::new(
            Status::UnsupportedMediaType,
            "expected application/x-www-form-urlencoded",
        ));
    }
    let limit = settings.form_limit;
    read_capped(data, limit).await.map_err(|e| match e {
        BodyError::TooLarge => ApiError::new(
            Status::PayloadTooLarge,
            format!("form body exceeds the limit of {limit}"),
        ),
        BodyError::Io => ApiError::new(Status::BadRequest, "body could not be read"),
    })
}

/// [`checked_channel`] taking the form's own string, which becomes the [`ChannelName`]
/// without a copy; a refused name is handed back.
fn owned_channel(name: String) -> Result<ChannelName, (String, ApiError)> {
    let channel = ChannelName::from_string(name).map_err(|(name, e)| (name, invalid_channel(e)))?;
    match needs_authorization(&channel) {
        Ok(()) => Ok(channel),
        Err(e) => Err((channel.into_string(), e)),
    }
}

/// A channel name from the form, validated; public channels are refused with 404.
fn checked_channel(name: &str) -> Result<ChannelName, ApiError> {
    let channel = ChannelName::new(name).map_err(invalid_channel)?;
    needs_authorization(&channel)?;
    Ok(channel)
}

fn needs_authorization(channel: &ChannelName) -> Result<(), ApiError> {
    if channel.kind().needs_authorization() {
        Ok(())
    } else {
        Err(ApiError::new(
            Status::NotFound,
            "public channels need no authorization",
        ))
    }
}

fn invalid_channel(e: ValidationError) -> ApiError {
    ApiError::new(Status::BadRequest, format!("invalid channel_name: {e}"))
}

/// Sign `decision` for `channel`.
fn grant(
    pusher: &Pusher,
    socket_id: &SocketId,
    channel: &ChannelName,
    decision: Decision,
) -> Result<ChannelAuth, ApiError> {
    grant_with(pusher, socket_id, channel, decision, |master, member| {
        authorize_checked(pusher.token(), master, socket_id, channel, member)
    })
}

/// [`grant`], appending the authorization's JSON to `out` (nothing on an error).
fn grant_json(
    pusher: &Pusher,
    socket_id: &SocketId,
    channel: &ChannelName,
    decision: Decision,
    out: &mut String,
) -> Result<(), ApiError> {
    grant_with(pusher, socket_id, channel, decision, |master, member| {
        write_authorized_json(pusher.token(), master, socket_id, channel, member, out)
    })
}

/// The checks and errors of [`grant`]; `sign` signs with the master key and member.
fn grant_with<T>(
    pusher: &Pusher,
    socket_id: &SocketId,
    channel: &ChannelName,
    decision: Decision,
    sign: impl FnOnce(
        Option<&crate::protocol::MasterKey>,
        Option<&PresenceMember>,
    ) -> Result<T, ValidationError>,
) -> Result<T, ApiError> {
    pusher.check_channel_len(channel).map_err(invalid_channel)?;
    let member = match decision {
        Decision::Deny => return Err(ApiError::new(Status::Forbidden, "channel refused")),
        Decision::Allow => None,
        Decision::AllowAs(m) => Some(m),
    };
    match channel.kind() {
        ChannelKind::Presence => {
            let member = member.unwrap_or_else(|| socket_member(socket_id));
            sign(None, Some(&member)).map_err(|e| {
                log::error!("pusher: the presence member for {channel} is invalid: {e}");
                ApiError::new(
                    Status::InternalServerError,
                    format!("presence member data is invalid: {e}"),
                )
            })
        }
        ChannelKind::PrivateEncrypted if pusher.master_key().is_none() => {
            log::warn!(
                "pusher: refused {channel}: encrypted channels need \
                 encryption_master_key_base64 in the pusher config"
            );
            Err(ApiError::new(
                Status::Forbidden,
                "encrypted channels are not enabled on this server",
            ))
        }
        _ => sign(pusher.master_key(), None)
            .map_err(|e| ApiError::new(Status::BadRequest, e.to_string())),
    }
}

/// The mounted channel auth route (`POST {mount}{auth_path}`, and `GET` for JSONP).
#[derive(Clone)]
pub(crate) struct AuthRoute {
    pub(crate) handlers: Arc<Handlers>,
    pub(crate) router: Arc<ChannelRouter>,
    pub(crate) settings: AuthSettings,
    pub(crate) jsonp: bool,
}

impl AuthRoute {
    /// The decision for one channel: its channel route's, else the authorizer's.
    async fn decide(
        &self,
        req: &Request<'_>,
        socket_id: &SocketId,
        params: &[(String, String)],
        channel: &ChannelName,
    ) -> Result<Decision, ApiError> {
        let creq = ChannelRequest {
            socket_id,
            channel,
            params,
        };
        // Channel routes first; the single authorizer decides for channels they don't match.
        if let Some(result) = self.router.decide(req, creq).await {
            return Ok(result.unwrap_or_else(|reason| {
                log::info!("pusher: refused {channel} to {socket_id}: {reason}");
                Decision::Deny
            }));
        }
        let Some(authorizer) = &self.handlers.authorizer else {
            let reason = if self.router.is_empty() {
                "no channel authorizer is configured"
            } else {
                log::info!("pusher: refused {channel}: no channel route matches it");
                "no channel route matches this channel"
            };
            return Err(ApiError::new(Status::Forbidden, reason));
        };
        if !authorizer.authorize(req, creq).await {
            return Err(ApiError::new(Status::Forbidden, "channel refused"));
        }
        if channel.kind() != ChannelKind::Presence {
            return Ok(Decision::Allow);
        }
        let member = match &self.handlers.member {
            Some(f) => f(req, creq).await,
            None => authorizer.presence_member(req, creq).await,
        };
        Ok(member.map_or(Decision::Deny, Decision::AllowAs))
    }

    async fn answer(&self, req: &Request<'_>, form: AuthFormRef<'_>) -> ChannelAuthResponse {
        let Some(pusher) = req.rocket().state::<Pusher>() else {
            return ChannelAuthResponse::error(not_configured());
        };
        let AuthFormRef {
            socket_id,
            channels,
            params,
        } = form;
        match channels {
            FormChannelsRef::Single(name) => {
                let result = match owned_channel(name.into_owned()) {
                    Ok(channel) => match self.decide(req, &socket_id, &params, &channel).await {
                        Ok(decision) => grant(pusher, &socket_id, &channel, decision),
                        Err(e) => Err(e),
                    },
                    Err((_, e)) => Err(e),
                };
                ChannelAuthResponse::single(result)
            }
            FormChannelsRef::Batch(list) => {
                let mut batch = BatchWriter::new(list.len());
                // One string holds each channel's name in turn, as the `ChannelName` the
                // deciders see, instead of a copy per channel.
                let mut scratch = String::with_capacity(MAX_CHANNEL_NAME_LEN);
                for name in &list {
                    scratch.clear();
                    scratch.push_str(name);
                    scratch = match owned_channel(scratch) {
                        Ok(channel) => {
                            let decision = self.decide(req, &socket_id, &params, &channel).await;
                            batch.push(name, |out| {
                                grant_json(pusher, &socket_id, &channel, decision?, out)
                            });
                            channel.into_string()
                        }
                        Err((scratch, e)) => {
                            batch.push(name, |_| Err(e));
                            scratch
                        }
                    };
                }
                batch.finish()
            }
            FormChannelsRef::None => {
                ChannelAuthResponse::error(AuthFormError::MissingChannel.into())
            }
        }
    }
}

fn not_configured() -> ApiError {
    ApiError::new(Status::InternalServerError, "pusher is not configured")
}

#[rocket::async_trait]
impl Handler for AuthRoute {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        if req.method() == rocket::http::Method::Get {
            return self.handle_jsonp(req).await;
        }
        let body = match read_body(req, data, self.settings).await {
            Ok(body) => body,
            Err(e) => return route::Outcome::from(req, e),
        };
        match parse_auth_form_ref(&body, self.settings.max_batch_channels) {
            Ok(form) => {
                let response = self.answer(req, form).await;
                route::Outcome::from(req, response)
            }
            Err(e) => route::Outcome::from(req, ApiError::from(e)),
        }
    }
}

impl AuthRoute {
    async fn handle_jsonp<'r>(&self, req: &'r Request<'_>) -> route::Outcome<'r> {
        if !self.jsonp {
            return route::Outcome::from(req, ApiError::new(Status::NotFound, "JSONP is disabled"));
        }
        let query = req.uri().query().map_or("", |q| q.as_str());
        let form = match parse_auth_form_ref(query.as_bytes(), self.settings.max_batch_channels) {
            Ok(f) => f,
            Err(e) => return route::Outcome::from(req, ApiError::from(e)),
        };
        let Some(callback) = form.param("callback").filter(|c| valid_callback(c)) else {
            return route::Outcome::from(
                req,
                ApiError::new(Status::BadRequest, "missing or invalid JSONP callback"),
            );
        };
        let callback = callback.to_owned();
        let response = self.answer(req, form).await;
        route::Outcome::from(req, response.jsonp(&callback))
    }
}

/// A JSONP callback may only be a dotted name with bracketed indexes, as pusher-js sends
/// (`Pusher.auth_callbacks['1']`), so nothing a client sends is run as script.
pub(crate) fn valid_callback(cb: &str) -> bool {
    !cb.is_empty()
        && cb.len() <= 128
        && cb
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'$')
        && cb.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.' | b'[' | b']' | b'\'')
        })
}

/// The mounted user sign-in route (`POST {mount}{user_auth_path}`).
#[derive(Clone)]
pub(crate) struct UserAuthRoute {
    pub(crate) handlers: Arc<Handlers>,
    pub(crate) settings: AuthSettings,
}

#[rocket::async_trait]
impl Handler for UserAuthRoute {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        let result = self.answer(req, data).await;
        match result {
            Ok(body) => route::Outcome::from(req, UserAuthBody(body)),
            Err(e) => route::Outcome::from(req, e),
        }
    }
}

impl UserAuthRoute {
    async fn answer(&self, req: &Request<'_>, data: Data<'_>) -> Result<String, ApiError> {
        let settings = AuthSettings {
            max_batch_channels: 0,
            ..self.settings
        };
        let form = read_form(req, data, settings).await?;
        let pusher = req.rocket().state::<Pusher>().ok_or_else(not_configured)?;
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
        Ok(auth.to_json())
    }
}

struct UserAuthBody(String);

impl<'r> Responder<'r, 'static> for UserAuthBody {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        json_response(Status::Ok, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn batch_answer_is_sorted_unique_and_what_serde_would_write() {
        let granted = |auth: &str| ChannelAuth {
            auth: auth.into(),
            channel_data: Some(r#"{"user_id":"a\"b"}"#.into()),
            shared_secret: None,
        };
        let answer = ChannelAuthResponse::batch(
            [
                ("private-b", Ok(granted("k:2"))),
                (
                    "private-\"q\"",
                    Err(ApiError::new(Status::Forbidden, "channel \"refused\"")),
                ),
                ("private-a", Ok(granted("k:1"))),
                ("private-b", Ok(granted("k:3"))),
            ]
            .into_iter(),
        );
        let mut expected = serde_json::Map::new();
        expected.insert(
            "private-\"q\"".into(),
            json!({"error": "channel \"refused\"", "status": 403}),
        );
        expected.insert(
            "private-a".into(),
            json!({"data": granted("k:1"), "status": 200}),
        );
        expected.insert(
            "private-b".into(),
            json!({"data": granted("k:3"), "status": 200}),
        );
        // The same bytes as serde's compact output of the sorted map.
        assert_eq!(answer.body(), Value::Object(expected).to_string());
        assert_eq!(answer.status(), Status::Ok);
    }

    #[test]
    fn batch_answer_in_any_arrival_order_is_what_serde_would_write() {
        let granted = |auth: &str| ChannelAuth {
            auth: auth.into(),
            channel_data: None,
            shared_secret: Some("s/+=".into()),
        };
        let refused = || ApiError::new(Status::NotFound, "public \\ channel");
        let names = ["private-a", "presence-b", "private-a2", "private-\"c"];
        // Every rotation and its reverse: sorted, reversed and interleaved arrivals.
        for turn in 0..names.len() {
            for reverse in [false, true] {
                let mut order: Vec<usize> = (0..names.len()).map(|i| (i + turn) % 4).collect();
                if reverse {
                    order.reverse();
                }
                let result = |i: usize| {
                    if i == 1 {
                        Err(refused())
                    } else {
                        Ok(granted(&format!("k:{i}")))
                    }
                };
                let answer =
                    ChannelAuthResponse::batch(order.iter().map(|&i| (names[i], result(i))));
                let mut expected = std::collections::BTreeMap::new();
                for (i, name) in names.iter().enumerate() {
                    let entry = match result(i) {
                        Ok(auth) => json!({"data": auth, "status": 200}),
                        Err(e) => json!({"error": e.reason(), "status": e.status().code}),
                    };
                    expected.insert(name.to_string(), entry);
                }
                let expected: serde_json::Map<String, Value> = expected.into_iter().collect();
                assert_eq!(
                    answer.body(),
                    Value::Object(expected).to_string(),
                    "{order:?}"
                );
            }
        }
        // One channel, and none.
        let one = ChannelAuthResponse::batch([("private-a", Err(refused()))].into_iter());
        assert_eq!(
            one.body(),
            r#"{"private-a":{"error":"public \\ channel","status":404}}"#
        );
        assert_eq!(ChannelAuthResponse::batch(std::iter::empty()).body(), "{}");
    }

    #[test]
    fn error_answer_escapes_the_reason() {
        let e = ChannelAuthResponse::error(ApiError::new(Status::BadRequest, "bad \\ \"x\"\n"));
        assert_eq!(
            serde_json::from_str::<Value>(e.body()).unwrap(),
            json!({"error": "bad \\ \"x\"\n"})
        );
        assert_eq!(e.status(), Status::BadRequest);
    }
}
