//! Webhooks the server emits, signed like the service's (`X-Pusher-Key`,
//! `X-Pusher-Signature`), batched (whatever is waiting goes in one POST), retried with
//! doubling delays on a connection error, a timeout or a 5xx / 408 / 429 answer, for five
//! minutes by default (`webhook_retry`). Each target has a lane of its own (a task and a
//! backlog), so a receiver that fails or hangs delays only its own webhooks. `channel_vacated` and `member_removed`
//! wait `webhook_delay` and are dropped when the channel or user is back by then, with
//! the matching `channel_occupied` / `member_added`, so a page reload sends no pair.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::config::{ServerConfig, WebhookRetry, WebhookTarget};
use crate::protocol::{Token, sign_webhook};

/// The most events waiting for one target; past it its new ones are dropped and logged.
const BACKLOG: usize = 10_000;
/// The most events in one POST.
const BATCH: usize = 100;
/// The longest wait between two tries of one batch.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// One webhook event, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub(super) enum Hook<'a> {
    CacheMiss {
        channel: &'a str,
    },
    SubscriptionCount {
        channel: &'a str,
        count: usize,
    },
    ClientEvent {
        channel: &'a str,
        event: &'a str,
        data: &'a str,
        socket_id: &'a str,
        user_id: Option<&'a str>,
    },
}

/// The webhook sender; does nothing when no target is configured.
pub(super) struct Webhooks {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    token: Token,
    targets: Vec<WebhookTarget>,
    delay: Duration,
    retry: WebhookRetry,
    /// One lane per target, in `targets`' order, started with the first event.
    lanes: OnceLock<Vec<mpsc::Sender<Value>>>,
    /// Vacated channels and removed `(channel, user)` waiting out the delay.
    pending: Mutex<HashSet<(String, Option<String>)>>,
}

impl Webhooks {
    pub(super) fn new(token: &Token, config: &ServerConfig) -> Self {
        let inner = (!config.webhooks.is_empty()).then(|| {
            Arc::new(Inner {
                token: token.clone(),
                targets: config.webhooks.clone(),
                delay: Duration::from_secs_f64(config.webhook_delay),
                retry: config.webhook_retry,
                lanes: OnceLock::new(),
                pending: Mutex::new(HashSet::new()),
            })
        });
        Self { inner }
    }

    pub(super) fn send(&self, hook: Hook<'_>) {
        let Some(inner) = &self.inner else { return };
        let event = match hook {
            Hook::CacheMiss { channel } => json!({"name": "cache_miss", "channel": channel}),
            Hook::SubscriptionCount { channel, count } => json!({"name": "subscription_count",
                "channel": channel, "subscription_count": count}),
            Hook::ClientEvent {
                channel,
                event,
                data,
                socket_id,
                user_id,
            } => {
                let mut e = json!({"name": "client_event", "channel": channel, "event": event,
                    "data": data, "socket_id": socket_id});
                if let (Some(user), Some(map)) = (user_id, e.as_object_mut()) {
                    map.insert("user_id".into(), json!(user));
                }
                e
            }
        };
        inner.queue(event);
    }

    pub(super) fn occupied(&self, channel: &str) {
        self.arrive(
            channel,
            None,
            json!({"name": "channel_occupied", "channel": channel}),
        );
    }

    pub(super) fn vacated(&self, channel: &str) {
        self.depart(
            channel,
            None,
            json!({"name": "channel_vacated", "channel": channel}),
        );
    }

    pub(super) fn member_added(&self, channel: &str, user: &str) {
        let e = json!({"name": "member_added", "channel": channel, "user_id": user});
        self.arrive(channel, Some(user), e);
    }

    pub(super) fn member_removed(&self, channel: &str, user: &str) {
        let e = json!({"name": "member_removed", "channel": channel, "user_id": user});
        self.depart(channel, Some(user), e);
    }

    /// An arrival cancels a pending departure (and is then not announced either).
    fn arrive(&self, channel: &str, user: Option<&str>, event: Value) {
        let Some(inner) = &self.inner else { return };
        if !inner.pending().remove(&key(channel, user)) {
            inner.queue(event);
        }
    }

    fn depart(&self, channel: &str, user: Option<&str>, event: Value) {
        let Some(inner) = &self.inner else { return };
        let key = key(channel, user);
        inner.pending().insert(key.clone());
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            inner.pending().remove(&key);
            return inner.queue(event);
        };
        let inner = inner.clone();
        rt.spawn(async move {
            tokio::time::sleep(inner.delay).await;
            if inner.pending().remove(&key) {
                inner.queue(event);
            }
        });
    }
}

fn key(channel: &str, user: Option<&str>) -> (String, Option<String>) {
    (channel.to_owned(), user.map(str::to_owned))
}

impl Inner {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashSet<(String, Option<String>)>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn queue(self: &Arc<Self>, event: Value) {
        let lanes = self.lanes.get_or_init(|| self.start());
        let name = event["name"].as_str().unwrap_or_default();
        for (target, lane) in self.targets.iter().zip(lanes) {
            let wanted = target.events.is_empty() || target.events.iter().any(|t| t == name);
            if wanted && lane.try_send(event.clone()).is_err() {
                log::warn!(
                    "pusher: webhook backlog for {} full or stopped; an event was dropped",
                    shown(&target.url)
                );
            }
        }
    }

    /// A task per target, each posting its own backlog in order.
    fn start(self: &Arc<Self>) -> Vec<mpsc::Sender<Value>> {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            log::error!("pusher: webhooks need a Tokio runtime; none is sent");
            return Vec::new();
        };
        // The crate's TLS stack (its features), as the client's; a build without one still
        // posts to `http://` receivers, the app's own routes among them.
        let built = crate::client::http_client_builder()
            .map_err(|e| e.to_string())
            .and_then(|b| {
                b.timeout(Duration::from_secs(10))
                    .build()
                    .map_err(|e| e.to_string())
            });
        let http = match built {
            Ok(http) => http,
            Err(e) => {
                log::error!("pusher: no webhook is sent, the HTTP client could not be built: {e}");
                return Vec::new();
            }
        };
        self.targets
            .iter()
            .map(|target| {
                let (tx, rx) = mpsc::channel(BACKLOG);
                rt.spawn(deliver(self.clone(), http.clone(), target.url.clone(), rx));
                tx
            })
            .collect()
    }
}

/// One target's lane: what is waiting goes in one POST (up to [`BATCH`] events), in order.
async fn deliver(
    inner: Arc<Inner>,
    http: reqwest::Client,
    url: String,
    mut rx: mpsc::Receiver<Value>,
) {
    while let Some(first) = rx.recv().await {
        let mut events = vec![first];
        while events.len() < BATCH
            && let Ok(e) = rx.try_recv()
        {
            events.push(e);
        }
        post(&http, &inner.token, inner.retry, &url, &events).await;
    }
}

/// POST one batch, again after doubling delays while the failure may pass (see
/// [`WebhookRetry`]). The sum of the planned delays, not the clock, bounds the tries, so
/// their number follows from the configuration alone.
async fn post(
    http: &reqwest::Client,
    token: &Token,
    retry: WebhookRetry,
    url: &str,
    events: &[Value],
) {
    let time_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let body = json!({"time_ms": time_ms, "events": events}).to_string();
    let signature = sign_webhook(token, body.as_bytes());
    let shown = shown(url);
    let give_up = Duration::from_secs_f64(retry.give_up_after);
    let mut delay = Duration::from_secs_f64(retry.first_delay);
    let mut waited = Duration::ZERO;
    loop {
        let sent = http
            .post(url)
            .header("Content-Type", "application/json")
            .header("X-Pusher-Key", token.key.as_str())
            .header("X-Pusher-Signature", signature.as_str())
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return,
            Ok(r) if !worth_retrying(r.status()) => {
                return log::warn!(
                    "pusher: webhook to {shown} refused with {}; not retried",
                    r.status()
                );
            }
            Ok(r) => log::warn!("pusher: webhook to {shown} answered {}", r.status()),
            Err(e) => log::warn!("pusher: webhook to {shown} failed: {}", e.without_url()),
        }
        if waited >= give_up {
            log::error!("pusher: webhook to {shown} dropped after {waited:?} of retries");
            return;
        }
        tokio::time::sleep(delay).await;
        waited += delay;
        delay = (delay * 2).min(MAX_RETRY_DELAY);
    }
}

/// A 5xx, 408 (timeout) or 429 (too many requests) may pass; another 4xx is the receiver's
/// answer to this very body (a bad signature, no such route) and would be the same again.
fn worth_retrying(status: reqwest::StatusCode) -> bool {
    !status.is_client_error()
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}

/// The URL as logged: scheme, host, port and path; credentials and the query (where a
/// receiver's token may be) left out.
fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path()
        ),
        Err(_) => "(an invalid URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_that_may_pass_are_retried() {
        for code in [500, 502, 503, 408, 429] {
            assert!(
                worth_retrying(reqwest::StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 410, 413] {
            assert!(
                !worth_retrying(reqwest::StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn the_logged_url_has_no_credentials_or_query() {
        assert_eq!(
            shown("https://user:hunter2@hooks.example.com:8443/in?token=s3cret"),
            "https://hooks.example.com:8443/in"
        );
        assert_eq!(shown("not a url"), "(an invalid URL)");
    }
}
