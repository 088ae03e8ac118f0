//! Users: `pusher:signin`, the index of signed-in sockets that routes
//! `#server-to-user-<id>` events, and terminating a user's connections.

use super::presence::Member;
use super::{ConnId, Server, State, close_code};
use crate::protocol::frames::{ServerFrame, Signin, parse_member};
use crate::protocol::{UserAuth, verify_user_auth};

/// `pusher:error` code for a refused sign-in (the connection stays open).
const REFUSED: u16 = 4009;

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
            Some(_) => {}
            None => {
                state
                    .users
                    .entry(user.user_id.clone())
                    .or_default()
                    .insert(id);
                conn.user = Some(user);
            }
        }
        outbox.frame(&ServerFrame::signin_success(&auth.user_data));
    }

    pub(super) fn forget_user_socket(&self, state: &mut State, user: &str, id: ConnId) {
        if let Some(sockets) = state.users.get_mut(user) {
            sockets.remove(&id);
            if sockets.is_empty() {
                state.users.remove(user);
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
