//! Channels: subscribing (names checked, signatures verified, the per-connection cap),
//! unsubscribing, a connection's end, delivering events, and cache channels' last event.
//! An empty cache channel's `cache_miss` webhook goes out once, for its first subscriber
//! to find it empty; the next one only after an event was cached (and expired) or the
//! channel was vacated, as the service de-duplicates it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::presence::Member;
use super::webhooks::Hook;
use super::{ConnId, Server, State, limits, shared_frame};
use crate::protocol::frames::{ServerFrame, Subscribe, parse_member, presence_data};
use crate::protocol::{ChannelAuth, ChannelKind, verify_channel_auth};

/// The `#server-to-user-` prefix: a signed-in user's own channel.
pub(super) const SERVER_TO_USER: &str = "#server-to-user-";

/// `pusher:error` code for a refused subscription's authorization.
const AUTH_ERROR: u16 = 4009;
/// `pusher:error` code for a bad channel name or member data.
const BAD_REQUEST: u16 = 4300;
/// `pusher:error` code for a full presence channel.
const FULL: u16 = 4100;

/// One occupied channel.
#[derive(Default)]
pub(super) struct Channel {
    /// Subscribed connections, with their presence user id.
    pub(super) subs: HashMap<ConnId, Option<String>>,
    /// Presence members by user id.
    pub(super) members: HashMap<String, Member>,
    /// A cache channel's `cache_miss` webhook went out since it was occupied or last had
    /// an event cached: the next subscriber's miss sends none.
    pub(super) miss_sent: bool,
    /// When its `subscription_count` was last sent, and whether a later one waits.
    pub(super) count: super::counts::CountState,
}

/// A cache channel's last event.
pub(super) struct Cached {
    pub(super) event: String,
    pub(super) data: String,
    pub(super) at: Instant,
}

/// Whether `name` is a cache channel (`cache-`, `private-cache-`, `presence-cache-`,
/// `private-encrypted-cache-`).
pub(super) fn is_cache(name: &str) -> bool {
    ["private-encrypted-", "private-", "presence-"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name)
        .starts_with("cache-")
}

impl Server {
    pub(super) fn subscribe(&self, id: ConnId, sub: Subscribe) {
        let mut guard = self.state();
        let state = &mut *guard;
        let Some(conn) = state.conns.get(&id) else {
            return;
        };
        let name = sub.channel;
        let outbox = conn.outbox.clone();
        if let Some(user) = name.strip_prefix(SERVER_TO_USER) {
            // Only the signed-in user's own; never listed, no webhooks (routed by user).
            if conn.user.as_ref().is_some_and(|m| m.user_id == user) {
                outbox.frame(&ServerFrame::subscription_succeeded(&name, "{}"));
            } else {
                outbox.error(
                    Some(AUTH_ERROR),
                    &format!("Unauthorized: {name} is only for the user signed in as {user}"),
                );
            }
            return;
        }
        if let Err(why) = self.check_channel_name(&name) {
            return outbox.error(Some(BAD_REQUEST), &why);
        }
        let kind = ChannelKind::of(&name);
        let member = if kind.needs_authorization() {
            match self.authorize(
                &conn.socket_id,
                &name,
                sub.auth,
                sub.channel_data,
                conn.user.as_ref(),
            ) {
                Ok(member) => member,
                Err((code, why)) => return outbox.error(Some(code), &why),
            }
        } else {
            None
        };
        if conn.channels.contains(&name) {
            // A duplicate: acknowledged again, with today's members; nothing announced.
            let data = ack_data(state.channels.get(&name), kind);
            return outbox.frame(&ServerFrame::subscription_succeeded(&name, &data));
        }
        if let Err(why) = self.channel_cap(conn, &name) {
            return outbox.error(Some(limits::TOO_MANY_CHANNELS), &why);
        }
        let channel = state.channels.get(&name);
        if let (Some(m), Some(channel)) = (&member, channel)
            && channel.members.len() >= self.shared.config.max_presence_members
            && !channel.members.contains_key(&m.user_id)
        {
            return outbox.error(
                Some(FULL),
                &format!("Cannot subscribe to {name}: the presence channel is full"),
            );
        }

        let channel = state.channels.entry(name.clone()).or_default();
        if channel.subs.is_empty() {
            self.shared.webhooks.occupied(&name);
        }
        channel
            .subs
            .insert(id, member.as_ref().map(|m| m.user_id.clone()));
        if let Some(m) = member {
            self.join(&name, channel, id, m, &state.conns);
        }
        let data = ack_data(Some(channel), kind);
        if let Some(conn) = state.conns.get_mut(&id) {
            conn.channels.insert(name.clone());
            conn.authorized |= kind.needs_authorization();
        }
        outbox.frame(&ServerFrame::subscription_succeeded(&name, &data));
        if is_cache(&name) {
            let ttl = Duration::from_secs(self.shared.config.cache_ttl);
            match state.cache.get(&name).filter(|c| c.at.elapsed() < ttl) {
                Some(c) => outbox.frame(&ServerFrame::event(&name, &c.event, Some(&c.data))),
                None => {
                    outbox.frame(&ServerFrame::cache_miss(&name));
                    let first = state
                        .channels
                        .get_mut(&name)
                        .is_some_and(|c| !std::mem::replace(&mut c.miss_sent, true));
                    if first {
                        self.shared
                            .webhooks
                            .send(Hook::CacheMiss { channel: &name });
                    }
                }
            }
        }
        self.count_changed(state, &name);
    }

    /// Check a private, encrypted or presence subscription's `auth`; the presence member.
    fn authorize(
        &self,
        socket_id: &str,
        name: &str,
        auth: Option<String>,
        channel_data: Option<String>,
        signed_in: Option<&Member>,
    ) -> Result<Option<Member>, (u16, String)> {
        let Some(auth) = auth.filter(|a| !a.is_empty()) else {
            return Err((
                AUTH_ERROR,
                format!("Auth info required to subscribe to {name}"),
            ));
        };
        let key = auth.split_once(':').map_or("", |(k, _)| k);
        if key != self.shared.token.key {
            return Err((
                AUTH_ERROR,
                format!("Invalid key in subscription auth data: '{key}'"),
            ));
        }
        let presence = ChannelKind::of(name) == ChannelKind::Presence;
        // A signed-in user may join presence without `channel_data`: the member is the user.
        let member = match (&channel_data, presence) {
            (Some(data), true) => Some(
                parse_member(data, "user_id")
                    .map(Member::from)
                    .map_err(|e| (BAD_REQUEST, format!("Invalid channel_data for {name}: {e}")))?,
            ),
            (None, true) => Some(signed_in.cloned().ok_or((
                BAD_REQUEST,
                format!("channel_data required to subscribe to {name} without signing in"),
            ))?),
            _ => None,
        };
        let signed = ChannelAuth {
            auth,
            channel_data: channel_data.filter(|_| presence),
            shared_secret: None,
        };
        if !verify_channel_auth(&self.shared.token, socket_id, name, &signed) {
            let mut expected = format!("{socket_id}:{name}");
            if let Some(data) = &signed.channel_data {
                expected.push(':');
                expected.push_str(data);
            }
            return Err((
                AUTH_ERROR,
                format!("Invalid signature: Expected HMAC SHA256 hex digest of {expected}"),
            ));
        }
        if let Some(m) = &member {
            self.check_member(m)
                .map_err(|why| (BAD_REQUEST, format!("Cannot subscribe to {name}: {why}")))?;
        }
        Ok(member)
    }

    pub(super) fn unsubscribe(&self, id: ConnId, name: &str) {
        let mut guard = self.state();
        let state = &mut *guard;
        // Unknown channels are ignored, as the service does.
        if state
            .conns
            .get_mut(&id)
            .is_some_and(|c| c.channels.remove(name))
        {
            self.leave(state, id, name);
        }
    }

    /// A connection is gone: it leaves every channel and its user's index.
    pub(super) fn disconnect(&self, id: ConnId) {
        let mut guard = self.state();
        let state = &mut *guard;
        let Some(conn) = state.conns.remove(&id) else {
            return;
        };
        for name in &conn.channels {
            self.leave(state, id, name);
        }
        for watched in &conn.watchlist {
            if let Some(w) = state.watchers.get_mut(watched) {
                w.remove(&id);
                if w.is_empty() {
                    state.watchers.remove(watched);
                }
            }
        }
        if let Some(user) = &conn.user {
            self.forget_user_socket(state, &user.user_id, id);
        }
    }

    fn leave(&self, state: &mut State, id: ConnId, name: &str) {
        let Some(channel) = state.channels.get_mut(name) else {
            return;
        };
        if let Some(Some(user)) = channel.subs.remove(&id) {
            self.part(name, channel, &user, &state.conns);
        }
        if channel.subs.is_empty() {
            state.channels.remove(name);
            self.shared.webhooks.vacated(name);
        }
        self.count_changed(state, name);
    }

    /// Deliver an event from the HTTP API (or the in-process client) to `channel`'s
    /// subscribers but `except`'s socket; a cache channel keeps it.
    pub(super) fn publish(&self, channel: &str, event: &str, data: &str, except: Option<&str>) {
        let state = &mut *self.state();
        if is_cache(channel) {
            // A miss after this event expires is news again.
            if let Some(c) = state.channels.get_mut(channel) {
                c.miss_sent = false;
            }
            state.cache.insert(
                channel.to_owned(),
                Cached {
                    event: event.to_owned(),
                    data: data.to_owned(),
                    at: Instant::now(),
                },
            );
        }
        let frame: Arc<str> = shared_frame(&ServerFrame::event(channel, event, Some(data)));
        let targets: Vec<ConnId> = match channel.strip_prefix(SERVER_TO_USER) {
            Some(user) => state
                .users
                .get(user)
                .into_iter()
                .flatten()
                .copied()
                .collect(),
            None => match state.channels.get(channel) {
                Some(c) => c.subs.keys().copied().collect(),
                None => return,
            },
        };
        for id in targets {
            if let Some(conn) = state.conns.get(&id)
                && Some(conn.socket_id.as_str()) != except
            {
                conn.outbox.send(frame.clone());
            }
        }
    }

    /// The channel-name rules: the protocol's alphabet, the configured length.
    pub(super) fn check_channel_name(&self, name: &str) -> Result<(), String> {
        let max = self.shared.config.max_channel_name_len;
        if name.len() > max {
            return Err(format!(
                "Channel name too long ({} > {max}): {name}",
                name.len()
            ));
        }
        crate::protocol::validate_channel_name(name)
            .map(drop)
            .map_err(|e| format!("Invalid channel name {name:?}: {e}"))
    }
}

/// The `data` of a `subscription_succeeded`: `{}`, or a presence channel's members.
fn ack_data(channel: Option<&Channel>, kind: ChannelKind) -> String {
    match (channel, kind) {
        (Some(c), ChannelKind::Presence) => presence_data(
            c.members
                .iter()
                .map(|(id, m)| (id.as_str(), m.user_info.as_ref())),
        ),
        _ => "{}".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_cache;

    #[test]
    fn cache_channels_by_prefix() {
        for name in [
            "cache-a",
            "private-cache-a",
            "presence-cache-a",
            "private-encrypted-cache-a",
        ] {
            assert!(is_cache(name), "{name}");
        }
        for name in ["a-cache-", "private-a", "presence-x-cache-", "cachea"] {
            assert!(!is_cache(name), "{name}");
        }
    }
}
