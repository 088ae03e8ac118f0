//! Webhook requests as Pusher signs them, for `LocalClientExt::signed_webhook`.

use std::time::{SystemTime, UNIX_EPOCH};

use rocket::http::{ContentType, Header};
use serde::Serialize;

use crate::Pusher;
use crate::protocol::{Webhook, sign_webhook};

/// A webhook body of `events` at the current time, and its headers: JSON, the app's key,
/// and its signature (or, when `right` is false, a signature of something else).
pub(super) fn webhook<I>(pusher: &Pusher, events: I, right: bool) -> (String, [Header<'static>; 3])
where
    I: IntoIterator,
    I::Item: Serialize,
{
    let time_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let webhook = Webhook {
        time_ms,
        events: events.into_iter().collect::<Vec<_>>(),
    };
    let body = serde_json::to_string(&webhook).unwrap_or_else(|e| {
        panic!("rocket_pusher::testing: the webhook's events are not JSON objects: {e}")
    });
    let token = pusher.token();
    let mut signature = sign_webhook(token, body.as_bytes());
    if !right {
        // Another first hex digit: a well-formed signature that cannot verify.
        let first = if signature.starts_with('0') { "1" } else { "0" };
        signature.replace_range(..1, first);
    }
    let headers = [
        ContentType::JSON.into(),
        Header::new("X-Pusher-Key", token.key.clone()),
        Header::new("X-Pusher-Signature", signature),
    ];
    (body, headers)
}
