//! The Rocket integration: the fairing, its routes, and guards for apps' own routes.

mod auth;
mod body;
mod channel_routes;
mod client_config;
mod config;
mod fairing;
mod handlers;
mod response;
#[cfg(feature = "server")]
mod server;
mod socket_id;
mod webhook;

pub use auth::{ChannelAuthRequest, ChannelAuthResponse, Decision};
pub(crate) use channel_routes::__private;
pub use channel_routes::{Captures, ChannelRoute, IntoDecision, MAX_PARAMS};
pub use client_config::ClientConfig;
pub use config::FairingConfig;
pub use fairing::{PusherFairing, ROUTE_RANK};
pub use handlers::ChannelRequest;
pub use response::ApiError;
pub use webhook::{VerifiedWebhook, WebhookRejection};
