//! # rocket_pusher
//!
//! [Pusher Channels](https://pusher.com/channels) for [Rocket](https://rocket.rs).
//!
//! The crate has three layers, each usable on its own:
//!
//! * [`protocol`]: the Pusher protocol as pure functions: names, REST signing, channel
//!   authorization, user sign-in, webhook verification and typed events, end-to-end
//!   encryption. No I/O.
//! * [`Pusher`]: an async client of the Pusher HTTP API (triggers, batches, channel and
//!   presence queries, users, encrypted channels).
//! * The Rocket integration: [`PusherFairing`], the routes it mounts, and guards such as
//!   [`VerifiedWebhook`] and [`SocketId`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod config;
mod error;
mod integration;
pub mod protocol;

pub use client::{
    BatchEvent, BatchResponse, BoxFuture, CachedEvent, ChannelAttributes, ChannelInfo, ChannelList,
    ChannelQuery, ChannelsQuery, IntoChannels, MAX_TRIGGER_CHANNELS, Pusher, PusherBuilder,
    RecordedEvent, RecordedRequest, Recorder, Trigger, TriggerResponse, User,
};
pub use config::{PusherConfig, TransportKind};
pub use error::{ConfigError, Error, ValidationError};
pub use integration::{
    ApiError, ChannelAuthRequest, ChannelAuthResponse, ChannelAuthorizer, ChannelRequest,
    ClientConfig, Decision, PusherFairing, ROUTE_RANK, VerifiedWebhook,
};
pub use protocol::{
    ChannelAuth, ChannelExistenceEvent, ChannelKind, ChannelName, ClientEvent, Credentials, Event,
    EventName, MasterKey, PresenceEvent, PresenceMember, Secret, SocketId, Token, UserAuth,
    UserData, UserId, Webhook, WebhookError,
};

pub use rocket;
pub use rocket::figment;
