//! Presence members: counted once per user id across sockets; `member_added` when a
//! user's first socket joins, `member_removed` when its last one leaves, to the others.

use std::collections::HashMap;

use serde_json::Value;

use super::channels::Channel;
use super::{Conn, ConnId, Server, json_len, shared_frame};
use crate::protocol::MAX_PRESENCE_USER_ID_LEN;
use crate::protocol::frames::{MemberData, ServerFrame, member_added_data, member_removed_data};

/// A presence member, or a signed-in user.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Member {
    pub(super) user_id: String,
    pub(super) user_info: Option<Value>,
    /// How many of the channel's sockets are this user's.
    pub(super) sockets: usize,
}

impl From<MemberData> for Member {
    fn from(data: MemberData) -> Self {
        Self {
            user_id: data.user_id,
            user_info: data.user_info,
            sockets: 0,
        }
    }
}

impl Server {
    /// The member limits: user id length, `user_info` size.
    pub(super) fn check_member(&self, m: &Member) -> Result<(), String> {
        if m.user_id.len() > MAX_PRESENCE_USER_ID_LEN {
            return Err(format!(
                "user_id longer than {MAX_PRESENCE_USER_ID_LEN} characters"
            ));
        }
        let max = self.shared.config.max_user_info_bytes;
        if json_len(m.user_info.as_ref()) > max {
            return Err(format!("user_info larger than {max} bytes"));
        }
        Ok(())
    }

    /// Socket `id` joined presence channel `name` as `m`.
    pub(super) fn join(
        &self,
        name: &str,
        channel: &mut Channel,
        id: ConnId,
        m: Member,
        conns: &HashMap<ConnId, Conn>,
    ) {
        if let Some(known) = channel.members.get_mut(&m.user_id) {
            // Another tab of a present user: nobody is told.
            known.sockets += 1;
            return;
        }
        let data = member_added_data(&m.user_id, m.user_info.as_ref());
        let frame = shared_frame(&ServerFrame::event(
            name,
            "pusher_internal:member_added",
            Some(&data),
        ));
        for other in channel.subs.keys().filter(|&&s| s != id) {
            if let Some(conn) = conns.get(other) {
                conn.outbox.send(frame.clone());
            }
        }
        self.shared.webhooks.member_added(name, &m.user_id);
        channel
            .members
            .insert(m.user_id.clone(), Member { sockets: 1, ..m });
    }

    /// One of `user`'s sockets left `name` (already removed from its subscribers).
    pub(super) fn part(
        &self,
        name: &str,
        channel: &mut Channel,
        user: &str,
        conns: &HashMap<ConnId, Conn>,
    ) {
        let Some(m) = channel.members.get_mut(user) else {
            return;
        };
        m.sockets -= 1;
        if m.sockets > 0 {
            return;
        }
        channel.members.remove(user);
        let data = member_removed_data(user);
        let frame = shared_frame(&ServerFrame::event(
            name,
            "pusher_internal:member_removed",
            Some(&data),
        ));
        for other in channel.subs.keys() {
            if let Some(conn) = conns.get(other) {
                conn.outbox.send(frame.clone());
            }
        }
        self.shared.webhooks.member_removed(name, user);
    }
}
