//! Users: `pusher:signin`, the index of signed-in sockets that routes
//! `#server-to-user-<id>` events, watchlists (a user is online while it has a signed-in
//! socket), and terminating a user's connections.

use serde_json::{Value, json};

use super::presence::Member;
use super::{ConnId, Server, State, close_code};
use crate::protocol::frames::{ServerFrame, Signin, parse_member};
use crate::protocol::{UserAuth, verify_user_auth};

/// `pusher:error` code for a refused sign-in (the connection stays open).
const REFUSED: u16 = 4009;
/// `pusher:error` code for a watchlist over [`MAX_WATCHLIST`] (the rest is followed).
const WATCHLIST_TOO_LONG: u16 = 4302;
/// The most users a watchlist follows, as the service.
const MAX_WATCHLIST: usize = 100;

impl Server {
    pub(super) fn signin(&self, id: ConnId, signin: Signin) {
        let mut guard = self.state();
        let state = &mut *guard;
        let Some(conn) = state.conns.get_mut(&id) else {
            return;
        };
        let outbox = conn.outbox.clone();
        let auth = UserAuth {
            auth: signin.auth,
            user_data: signin.user_data,
        };
        if !verify_user_auth(&self.shared.token, &conn.socket_id, &auth) {
            return outbox.error(
                Some(REFUSED),
                &format!(
                    "Invalid signature: Expected HMAC SHA256 hex digest of {}::user::{}",
                    conn.socket_id, auth.user_data
                ),
            );
        }
        let user = match parse_member(&auth.user_data, "id") {
            Ok(data) => Member::from(data),
            Err(e) => return outbox.error(Some(REFUSED), &format!("Invalid user_data: {e}")),
        };
        match &conn.user {
            Some(known) if known.user_id != user.user_id => {
                return outbox.error(
                    Some(REFUSED),
                    &format!("Already signed in as {}", known.user_id),
                );
            }
            Some(_) => return outbox.frame(&ServerFrame::signin_success(&auth.user_data)),
            None => {}
        }
        let mut watchlist = watchlist_of(&auth.user_data);
        let too_long = watchlist.len() > MAX_WATCHLIST;
        watchlist.truncate(MAX_WATCHLIST);
        let user_id = user.user_id.clone();
        conn.user = Some(user);
        conn.authorized = true;
        conn.watchlist = watchlist.clone();
        outbox.frame(&ServerFrame::signin_success(&auth.user_data));
        if too_long {
            outbox.error(
                Some(WATCHLIST_TOO_LONG),
                &format!("Watchlist limit exceeded: only the first {MAX_WATCHLIST} are followed"),
            );
        }
        let sockets = state.users.entry(user_id.clone()).or_default();
        let came_online = sockets.is_empty();
        sockets.insert(id);
        if !watchlist.is_empty() {
            let (online, offline): (Vec<&String>, Vec<&String>) = watchlist
                .iter()
                .partition(|w| state.users.contains_key(w.as_str()));
            let mut events = Vec::new();
            for (name, ids) in [("online", online), ("offline", offline)] {
                if !ids.is_empty() {
                    events.push(json!({"name": name, "user_ids": ids}));
                }
            }
            outbox.send(watchlist_frame(events));
        }
        for watched in watchlist {
            state.watchers.entry(watched).or_default().insert(id);
        }
        if came_online {
            self.announce(state, &user_id, "online");
        }
    }

    /// Tell `user`'s watchers it went `online` or `offline`.
    fn announce(&self, state: &State, user: &str, name: &str) {
        let Some(watchers) = state.watchers.get(user) else {
            return;
        };
        let frame = watchlist_frame(vec![json!({"name": name, "user_ids": [user]})]);
        for w in watchers {
            if let Some(conn) = state.conns.get(w) {
                conn.outbox.send(frame.clone());
            }
        }
    }

    pub(super) fn forget_user_socket(&self, state: &mut State, user: &str, id: ConnId) {
        if let Some(sockets) = state.users.get_mut(user) {
            sockets.remove(&id);
            if sockets.is_empty() {
                state.users.remove(user);
                self.announce(state, user, "offline");
            }
        }
    }

    /// Close every connection signed in as `user` with 4009; connections that only joined
    /// presence channels as `user` stay, as on the service.
    pub(super) fn terminate(&self, user: &str) {
        let state = self.state();
        for id in state.users.get(user).into_iter().flatten() {
            if let Some(conn) = state.conns.get(id) {
                conn.outbox.error(
                    Some(close_code::UNAUTHORIZED),
                    "You got disconnected by the app.",
                );
                conn.outbox.closer.close(close_code::UNAUTHORIZED);
            }
        }
    }
}

/// The `watchlist` of a sign-in's `user_data`: its string entries.
fn watchlist_of(user_data: &str) -> Vec<String> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(user_data) else {
        return Vec::new();
    };
    match map.get("watchlist") {
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// `pusher_internal:watchlist_events` with these events (data as a string).
fn watchlist_frame(events: Vec<Value>) -> std::sync::Arc<str> {
    let data = json!({ "events": events }).to_string();
    super::shared_frame(&ServerFrame::plain(
        "pusher_internal:watchlist_events",
        &data,
    ))
}
