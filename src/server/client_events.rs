//! Client events (`client-*`): accepted on private and presence channels the sender is
//! subscribed to, when the app enables them, at a bounded rate; never echoed to the
//! sender; `user_id` added on presence channels.

use std::time::Instant;

use super::webhooks::Hook;
use super::{ConnId, Server, shared_frame};
use crate::protocol::frames::{ClientFrame, ServerFrame};
use crate::protocol::{ChannelKind, validate_event_name};

/// `pusher:error` code for a client event over the rate or size limit.
const LIMIT: u16 = 4301;
/// `pusher:error` code for a client event the channel or app does not allow.
const REFUSED: u16 = 4009;

impl Server {
    pub(super) fn client_event(&self, id: ConnId, frame: ClientFrame) {
        let config = &self.shared.config;
        let mut guard = self.state();
        let state = &mut *guard;
        let Some(conn) = state.conns.get_mut(&id) else {
            return;
        };
        let outbox = conn.outbox.clone();
        let event = frame.event.as_str();
        let channel = frame.channel.as_deref().unwrap_or_default();
        if !config.client_events {
            return outbox.error(Some(REFUSED), "Client events are not enabled for this app");
        }
        if !event.starts_with("client-") || validate_event_name(event).is_err() {
            return outbox.error(
                Some(REFUSED),
                &format!("Invalid event name {event:?}: client events start with client-"),
            );
        }
        let kind = ChannelKind::of(channel);
        if !matches!(kind, ChannelKind::Private | ChannelKind::Presence) {
            return outbox.error(
                Some(REFUSED),
                &format!("Client events are only allowed on private and presence channels, not on {channel:?}"),
            );
        }
        if !conn.channels.contains(channel) {
            return outbox.error(
                Some(REFUSED),
                &format!("Client event on {channel}, which this connection is not subscribed to"),
            );
        }
        if !conn.rate.allow(config.client_event_rate, Instant::now()) {
            return outbox.error(Some(LIMIT), "Client event rejected due to rate limit");
        }
        let data = frame.data_string();
        if data
            .as_ref()
            .is_some_and(|d| d.len() > config.max_payload_bytes)
        {
            return outbox.error(
                Some(LIMIT),
                &format!(
                    "Client event data larger than {} bytes",
                    config.max_payload_bytes
                ),
            );
        }
        let socket_id = conn.socket_id.clone();
        let Some(subscribed) = state.channels.get(channel) else {
            return;
        };
        let user_id = subscribed.subs.get(&id).cloned().flatten();
        let mut out = ServerFrame::event(channel, event, data.as_deref());
        out.user_id = user_id.as_deref().filter(|_| kind == ChannelKind::Presence);
        let out = shared_frame(&out);
        for other in subscribed.subs.keys().filter(|&&s| s != id) {
            if let Some(conn) = state.conns.get(other) {
                conn.outbox.send(out.clone());
            }
        }
        self.shared.webhooks.send(Hook::ClientEvent {
            channel,
            event,
            data: data.as_deref().unwrap_or_default(),
            socket_id: &socket_id,
            user_id: user_id.as_deref(),
        });
    }
}
