//! The Rocket integration: the fairing, its routes, and guards for apps' own routes.

mod auth;
mod client_config;
mod fairing;
mod handlers;
mod response;
mod socket_id;
mod webhook;

pub use auth::{ChannelAuthRequest, ChannelAuthResponse, Decision};
pub use client_config::ClientConfig;
pub use fairing::{PusherFairing, ROUTE_RANK};
pub use handlers::{ChannelAuthorizer, ChannelRequest};
pub use response::ApiError;
pub use webhook::VerifiedWebhook;
