//! The [`ChannelAuthRequest`] guard and its [`ChannelAuthResponse`], for apps that write
//! their own channel auth route, and [`grant`], which every channel decision goes through.

use rocket::data::{self, Data, FromData};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::response::{self, Responder};
use rocket::{Ignite, Request, Rocket, Sentinel};

use super::answer;
use super::form::{AuthSettings, read_form};
use crate::Pusher;
use crate::integration::handlers::{ChannelRequest, socket_member};
use crate::integration::response::{ApiError, json_response};
use crate::protocol::{
    AuthForm, AuthFormError, ChannelAuth, ChannelKind, ChannelName, FormChannels, PresenceMember,
    SocketId, authorize_checked,
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
        self.form.channels.names()
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
        let form = &self.form;
        let mut answer = |name: &str| {
            let channel = checked_channel(name.to_owned()).map_err(|(_, e)| e)?;
            let decision = decide(ChannelRequest {
                socket_id: &form.socket_id,
                channel: &channel,
                params: &form.params,
            });
            grant(pusher, &form.socket_id, &channel, decision)
        };
        match &form.channels {
            FormChannels::Single(name) => ChannelAuthResponse::single(answer(name)),
            FormChannels::Batch(names) => {
                ChannelAuthResponse::batch(names.iter().map(|name| (name.as_str(), answer(name))))
            }
            FormChannels::None => ChannelAuthResponse::error(AuthFormError::MissingChannel.into()),
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
        let form = read_form(req, data, settings).await.and_then(|form| {
            if matches!(form.channels, FormChannels::None) {
                Err(AuthFormError::MissingChannel.into())
            } else {
                Ok(form)
            }
        });
        match form {
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

/// The answer of a channel auth route: `{"auth", "channel_data"?, "shared_secret"?}` for
/// one channel, `{channel: {"status": 200, "data": {…}} | {"status": 403, "error": "…"}}`
/// for a batch, or a status with a JSON reason.
#[derive(Clone)]
pub struct ChannelAuthResponse {
    status: Status,
    /// JSON, so UTF-8.
    body: Vec<u8>,
}

impl ChannelAuthResponse {
    /// The answer for one channel: its authorization, or the refusal.
    pub(crate) fn single(answer: Result<ChannelAuth, ApiError>) -> Self {
        match answer {
            Ok(auth) => Self::ok(answer::single(&auth)),
            Err(e) => Self::error(e),
        }
    }

    /// The answer for a batch: each channel's entry, sorted by channel name.
    pub(crate) fn batch<N: AsRef<str>>(
        answers: impl IntoIterator<Item = (N, Result<ChannelAuth, ApiError>)>,
    ) -> Self {
        let mut answers: Vec<_> = answers.into_iter().collect();
        Self::ok(answer::batch(&mut answers))
    }

    fn ok(body: Vec<u8>) -> Self {
        Self {
            status: Status::Ok,
            body,
        }
    }

    pub(crate) fn error(e: ApiError) -> Self {
        Self {
            status: e.status(),
            body: e.to_json().into_bytes(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The JSON body.
    pub fn body(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or_default()
    }
}

impl std::fmt::Debug for ChannelAuthResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelAuthResponse")
            .field("status", &self.status)
            .field("body", &self.body())
            .finish()
    }
}

impl<'r> Responder<'r, 'static> for ChannelAuthResponse {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        json_response(self.status, self.body)
    }
}

/// The managed [`Pusher`], which signs; missing only when the fairing is not attached.
pub(super) fn pusher<'r>(req: &'r Request<'_>) -> Result<&'r Pusher, ApiError> {
    req.rocket()
        .state::<Pusher>()
        .ok_or_else(|| ApiError::new(Status::InternalServerError, "pusher is not configured"))
}

/// A channel name from the form, validated: the string becomes the [`ChannelName`], or
/// comes back with the refusal. Public channels are refused with 404.
pub(super) fn checked_channel(name: String) -> Result<ChannelName, (String, ApiError)> {
    let channel = ChannelName::from_string(name).map_err(|(name, e)| {
        let e = ApiError::new(Status::BadRequest, format!("invalid channel_name: {e}"));
        (name, e)
    })?;
    if !channel.kind().needs_authorization() {
        let e = ApiError::new(Status::NotFound, "public channels need no authorization");
        return Err((channel.into_string(), e));
    }
    Ok(channel)
}

/// Sign `decision` for `channel`: 403 for a refusal or an encrypted channel without a
/// master key; a presence channel without a member gets the socket id as `user_id`.
pub(super) fn grant(
    pusher: &Pusher,
    socket_id: &SocketId,
    channel: &ChannelName,
    decision: Decision,
) -> Result<ChannelAuth, ApiError> {
    pusher
        .check_channel_len(channel)
        .map_err(|e| ApiError::new(Status::BadRequest, e.to_string()))?;
    let member = match decision {
        Decision::Deny => return Err(ApiError::new(Status::Forbidden, "channel refused")),
        Decision::Allow => None,
        Decision::AllowAs(m) => Some(m),
    };
    let kind = channel.kind();
    if kind == ChannelKind::PrivateEncrypted && pusher.master_key().is_none() {
        log::warn!(
            "pusher: refused {channel}: encrypted channels need \
             encryption_master_key_base64 in the pusher config"
        );
        return Err(ApiError::new(
            Status::Forbidden,
            "encrypted channels are not enabled on this server",
        ));
    }
    let member =
        (kind == ChannelKind::Presence).then(|| member.unwrap_or_else(|| socket_member(socket_id)));
    let master = pusher.master_key();
    authorize_checked(pusher.token(), master, socket_id, channel, member.as_ref()).map_err(|e| {
        if kind != ChannelKind::Presence {
            return ApiError::new(Status::BadRequest, e.to_string());
        }
        // The app's member is the only input left unchecked: the app's mistake.
        log::error!("pusher: the presence member for {channel} is invalid: {e}");
        ApiError::new(
            Status::InternalServerError,
            format!("presence member data is invalid: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn batch_answer_is_the_map_pusher_js_auth_reads_sorted_by_channel() {
        let granted = |auth: &str| ChannelAuth {
            auth: auth.into(),
            channel_data: Some(r#"{"user_id":"a\"b"}"#.into()),
            shared_secret: None,
        };
        let answer = ChannelAuthResponse::batch([
            ("private-b", Ok(granted("k:2"))),
            (
                "private-\"q\"",
                Err(ApiError::new(Status::Forbidden, "channel \"refused\"")),
            ),
            ("private-a", Ok(granted("k:1"))),
        ]);
        assert_eq!(answer.status(), Status::Ok);
        assert_eq!(
            answer.body(),
            r#"{"private-\"q\"":{"error":"channel \"refused\"","status":403},"#.to_owned()
                + r#""private-a":{"data":{"auth":"k:1","channel_data":"{\"user_id\":\"a\\\"b\"}"},"status":200},"#
                + r#""private-b":{"data":{"auth":"k:2","channel_data":"{\"user_id\":\"a\\\"b\"}"},"status":200}}"#
        );
    }

    #[test]
    fn single_answer_is_the_authorization_or_the_error() {
        let auth = ChannelAuth {
            auth: "k:1".into(),
            channel_data: None,
            shared_secret: Some("s/+=".into()),
        };
        let ok = ChannelAuthResponse::single(Ok(auth));
        assert_eq!(ok.status(), Status::Ok);
        assert_eq!(ok.body(), r#"{"auth":"k:1","shared_secret":"s/+="}"#);

        let e =
            ChannelAuthResponse::single(Err(ApiError::new(Status::BadRequest, "bad \\ \"x\"\n")));
        assert_eq!(e.status(), Status::BadRequest);
        assert_eq!(
            serde_json::from_str::<Value>(e.body()).unwrap(),
            json!({"error": "bad \\ \"x\"\n"})
        );
        assert_eq!(ChannelAuthResponse::batch::<&str>([]).body(), "{}");
    }
}
