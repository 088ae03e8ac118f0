//! Channel queries: the list of occupied channels, one channel's state, presence users.

use std::collections::BTreeMap;
use std::future::IntoFuture;

use serde::Deserialize;

use super::trigger::ChannelAttributes;
use super::{BoxFuture, Pusher};
use crate::error::{Error, ValidationError};
use crate::protocol::{ChannelKind, ChannelName};

/// The reply to [`Pusher::channels`]: occupied channels and the attributes asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ChannelList {
    /// Channel name → attributes (empty attributes unless `info` was asked for).
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelAttributes>,
}

/// A cache channel's last event, in [`ChannelInfo::cache`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CachedEvent {
    /// The cached event's data.
    pub data: String,
    /// Seconds left before it expires.
    pub ttl: u64,
}

/// The reply to [`Pusher::channel`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ChannelInfo {
    /// Whether anyone is subscribed.
    pub occupied: bool,
    /// Distinct users, for presence channels, when asked for.
    #[serde(default)]
    pub user_count: Option<u64>,
    /// Subscribed connections, when asked for.
    #[serde(default)]
    pub subscription_count: Option<u64>,
    /// The cached event of a cache channel, when asked for.
    #[serde(default)]
    pub cache: Option<CachedEvent>,
}

/// A user on a presence channel, in the reply to [`Pusher::users`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PresenceUser {
    /// The member's `user_id`.
    pub id: String,
}

/// A query of occupied channels; await it.
#[derive(Debug)]
#[must_use = "a query does nothing until it is awaited"]
pub struct ChannelsQuery<'a> {
    pusher: &'a Pusher,
    prefix: Option<String>,
    user_count: bool,
}

impl<'a> ChannelsQuery<'a> {
    /// Only channels whose name starts with `prefix` (e.g. `presence-`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Ask for each channel's `user_count` (only with a `presence-` prefix).
    pub fn with_user_count(mut self) -> Self {
        self.user_count = true;
        self
    }

    /// Send the query.
    pub async fn send(self) -> Result<ChannelList, Error> {
        if self.user_count
            && !self
                .prefix
                .as_deref()
                .is_some_and(|p| p.starts_with("presence-"))
        {
            return Err(ValidationError::Attribute(
                "user_count can only be asked for with a presence- prefix",
            )
            .into());
        }
        let mut params = Vec::with_capacity(2);
        if let Some(p) = &self.prefix {
            params.push(("filter_by_prefix", p.as_str()));
        }
        if self.user_count {
            params.push(("info", "user_count"));
        }
        let path = format!("/apps/{}/channels", self.pusher.app_id());
        self.pusher.get(&path, &params).await
    }
}

impl<'a> IntoFuture for ChannelsQuery<'a> {
    type Output = Result<ChannelList, Error>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A query of one channel's state; await it.
#[derive(Debug)]
#[must_use = "a query does nothing until it is awaited"]
pub struct ChannelQuery<'a> {
    pusher: &'a Pusher,
    channel: Result<ChannelName, ValidationError>,
    user_count: bool,
    subscription_count: bool,
    cache: bool,
}

impl<'a> ChannelQuery<'a> {
    /// Ask for `user_count` (presence channels only).
    pub fn with_user_count(mut self) -> Self {
        self.user_count = true;
        self
    }

    /// Ask for `subscription_count`.
    pub fn with_subscription_count(mut self) -> Self {
        self.subscription_count = true;
        self
    }

    /// Ask for the cached event (cache channels).
    pub fn with_cache(mut self) -> Self {
        self.cache = true;
        self
    }

    /// Send the query.
    pub async fn send(self) -> Result<ChannelInfo, Error> {
        let channel = self.channel?;
        if self.user_count && channel.kind() != ChannelKind::Presence {
            return Err(ValidationError::Attribute(
                "user_count can only be asked for on a presence channel",
            )
            .into());
        }
        let mut info = String::new();
        for (on, name) in [
            (self.user_count, "user_count"),
            (self.subscription_count, "subscription_count"),
            (self.cache, "cache"),
        ] {
            if on {
                if !info.is_empty() {
                    info.push(',');
                }
                info.push_str(name);
            }
        }
        let params: &[(&str, &str)] = if info.is_empty() {
            &[]
        } else {
            &[("info", info.as_str())]
        };
        let path = format!("/apps/{}/channels/{channel}", self.pusher.app_id());
        self.pusher.get(&path, params).await
    }
}

impl<'a> IntoFuture for ChannelQuery<'a> {
    type Output = Result<ChannelInfo, Error>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Pusher {
    /// Query the occupied channels (`GET /apps/{app_id}/channels`).
    pub fn channels(&self) -> ChannelsQuery<'_> {
        ChannelsQuery {
            pusher: self,
            prefix: None,
            user_count: false,
        }
    }

    /// Query one channel's state (`GET /apps/{app_id}/channels/{channel}`).
    pub fn channel(&self, channel: &str) -> ChannelQuery<'_> {
        ChannelQuery {
            pusher: self,
            channel: ChannelName::new(channel),
            user_count: false,
            subscription_count: false,
            cache: false,
        }
    }

    /// The users on a presence channel (`GET /apps/{app_id}/channels/{channel}/users`).
    pub async fn users(&self, channel: &str) -> Result<Vec<PresenceUser>, Error> {
        #[derive(Deserialize)]
        struct Users {
            users: Vec<PresenceUser>,
        }
        let channel = ChannelName::new(channel)?;
        if channel.kind() != ChannelKind::Presence {
            return Err(ValidationError::WrongChannelKind {
                expected: ChannelKind::Presence,
                found: channel.kind(),
            }
            .into());
        }
        let path = format!("/apps/{}/channels/{channel}/users", self.app_id());
        let users: Users = self.get(&path, &[]).await?;
        Ok(users.users)
    }
}
