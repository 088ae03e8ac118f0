//! Channel authorization and user sign-in in Rocket, one concern per file:
//!
//! * `request`: the [`ChannelAuthRequest`] guard and its [`ChannelAuthResponse`], for apps
//!   that write their own auth route, and `grant`, which signs every channel's decision;
//! * `answer`: the JSON of a channel auth answer, single or batch;
//! * `form`: reading an auth form body (its content type, the `form` limit);
//! * `route`: the mounted channel auth route, deciding by channel routes or the closure;
//! * `jsonp`: that route's JSONP form (`GET`), when enabled;
//! * `user`: the mounted user sign-in route.

mod answer;
mod form;
mod jsonp;
mod request;
mod route;
mod user;

pub(crate) use form::AuthSettings;
pub use request::{ChannelAuthRequest, ChannelAuthResponse, Decision};
pub(crate) use route::AuthRoute;
pub(crate) use user::UserAuthRoute;
