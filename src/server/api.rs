//! The Pusher HTTP API on the embedded server: `/apps/<app_id>/events`, `batch_events`,
//! `channels`, `channels/<name>`, `channels/<name>/users`,
//! `users/<id>/terminate_connections`. Requests are verified with the protocol layer's
//! signing code (key, 600 s window, `body_md5`, constant-time signature) before anything
//! else; bad requests get a 4xx with a JSON `{"error": …}`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::channels::{SERVER_TO_USER, is_cache};
use super::{Server, State};
use crate::protocol::{
    ChannelKind, decode_query, validate_event_name, validate_socket_id, validate_user_id,
    verify_request,
};

/// The most channels in one trigger, and items in one batch, as the service.
const MAX_CHANNELS: usize = 100;
const MAX_BATCH: usize = 10;

/// An HTTP API answer: the status and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiResponse {
    /// 200, or the 4xx of a refused request.
    pub status: u16,
    /// JSON: the result, or `{"error": "…"}`.
    pub body: String,
}

impl ApiResponse {
    fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body: body.to_string(),
        }
    }

    fn error(status: u16, message: impl std::fmt::Display) -> Self {
        Self {
            status,
            body: json!({ "error": message.to_string() }).to_string(),
        }
    }
}

type Answer = Result<Value, ApiResponse>;

#[derive(Deserialize)]
struct Trigger {
    name: Option<String>,
    data: Option<Value>,
    channels: Option<Vec<String>>,
    channel: Option<String>,
    socket_id: Option<String>,
    info: Option<String>,
}

#[derive(Deserialize)]
struct Batch {
    batch: Vec<Trigger>,
}

/// A checked event, ready to deliver.
struct Event {
    channels: Vec<String>,
    name: String,
    data: String,
    socket_id: Option<String>,
    info: Vec<String>,
}

impl Server {
    /// Answer one HTTP API request: `path` as sent (`/apps/<id>/…`), `query` the raw query
    /// string with the `auth_*` parameters, `body` the raw body (empty for GET).
    pub fn api(&self, method: &str, path: &str, query: &str, body: &[u8]) -> ApiResponse {
        let Some(rest) = path
            .strip_prefix("/apps/")
            .and_then(|r| r.strip_prefix(self.shared.app_id.as_str()))
            .and_then(|r| r.strip_prefix('/'))
        else {
            return ApiResponse::error(404, "Unknown app");
        };
        let params = match decode_query(query) {
            Ok(p) => p,
            Err(e) => return ApiResponse::error(e.status(), e),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        if let Err(e) = verify_request(&self.shared.token, method, path, &params, body, now) {
            return ApiResponse::error(e.status(), e);
        }
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let segments: Vec<String> = rest
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let answer = match (method, segments.as_slice()) {
            ("POST", ["events"]) => self.trigger(body),
            ("POST", ["batch_events"]) => self.batch(body),
            ("GET", ["channels"]) => self.channels(param("filter_by_prefix"), param("info")),
            ("GET", ["channels", name]) => self.channel(name, param("info")),
            ("GET", ["channels", name, "users"]) => self.users(name),
            ("POST", ["users", user, "terminate_connections"]) => match validate_user_id(user) {
                Ok(()) => {
                    self.terminate(user);
                    Ok(json!({}))
                }
                Err(e) => Err(ApiResponse::error(400, e)),
            },
            _ => Err(ApiResponse::error(404, "Not found")),
        };
        answer.map_or_else(|e| e, ApiResponse::ok)
    }

    fn trigger(&self, body: &[u8]) -> Answer {
        let t: Trigger = serde_json::from_slice(body).map_err(|e| ApiResponse::error(400, e))?;
        let event = self.check_event(t, true)?;
        self.deliver(&event);
        let state = self.state();
        if event.info.is_empty() {
            return Ok(json!({}));
        }
        let mut channels = Map::new();
        for name in &event.channels {
            channels.insert(
                name.clone(),
                Value::Object(counts(&state, name, &event.info)),
            );
        }
        Ok(json!({ "channels": channels }))
    }

    fn batch(&self, body: &[u8]) -> Answer {
        let b: Batch = serde_json::from_slice(body).map_err(|e| ApiResponse::error(400, e))?;
        if b.batch.len() > MAX_BATCH {
            return Err(ApiResponse::error(
                400,
                format!("Batch too large ({} > {MAX_BATCH})", b.batch.len()),
            ));
        }
        let events = b
            .batch
            .into_iter()
            .map(|t| self.check_event(t, false))
            .collect::<Result<Vec<_>, _>>()?;
        for e in &events {
            self.deliver(e);
        }
        if events.iter().all(|e| e.info.is_empty()) {
            return Ok(json!({}));
        }
        let state = self.state();
        let batch: Vec<Value> = events
            .iter()
            .map(|e| Value::Object(counts(&state, &e.channels[0], &e.info)))
            .collect();
        Ok(json!({ "batch": batch }))
    }

    fn deliver(&self, e: &Event) {
        for channel in &e.channels {
            self.publish(channel, &e.name, &e.data, e.socket_id.as_deref());
        }
    }

    /// Check a trigger or a batch item (`many`: `channels` allowed) the way the service does.
    fn check_event(&self, t: Trigger, many: bool) -> Result<Event, ApiResponse> {
        let bad = |m: String| ApiResponse::error(400, m);
        let name = t.name.ok_or_else(|| bad("Missing name".into()))?;
        validate_event_name(&name).map_err(|e| bad(format!("Invalid event name: {e}")))?;
        let data = match t.data {
            Some(Value::String(s)) => s,
            // Libraries send a string; anything else is encoded once.
            Some(other) => other.to_string(),
            None => return Err(bad("Missing data".into())),
        };
        let max = self.shared.config.max_payload_bytes;
        if data.len() > max {
            return Err(ApiResponse::error(
                413,
                format!("Event data too large ({} > {max} bytes)", data.len()),
            ));
        }
        let channels = match (t.channels, t.channel) {
            (Some(list), None) if many => list,
            (None, Some(one)) => vec![one],
            (Some(_), _) if !many => return Err(bad("A batch item takes `channel`".into())),
            _ => return Err(bad("Give either `channels` or `channel`".into())),
        };
        if channels.is_empty() || channels.len() > MAX_CHANNELS {
            return Err(bad(format!(
                "From 1 to {MAX_CHANNELS} channels, not {}",
                channels.len()
            )));
        }
        for c in &channels {
            match c.strip_prefix(SERVER_TO_USER) {
                Some(user) => {
                    validate_user_id(user).map_err(|e| bad(format!("Invalid channel {c}: {e}")))?
                }
                None => self.check_channel_name(c).map_err(bad)?,
            }
        }
        if let Some(id) = &t.socket_id {
            validate_socket_id(id).map_err(|e| bad(format!("Invalid socket_id: {e}")))?;
        }
        let info = split_info(t.info.as_deref());
        // On a trigger, an attribute a channel's kind lacks is left out of its answer, as
        // the service does; only unknown names are refused.
        if let Some(a) = info
            .iter()
            .find(|a| !matches!(a.as_str(), "user_count" | "subscription_count"))
        {
            return Err(bad(format!("Unknown info attribute {a:?}")));
        }
        Ok(Event {
            channels,
            name,
            data,
            socket_id: t.socket_id,
            info,
        })
    }

    fn channels(&self, prefix: Option<&str>, info: Option<&str>) -> Answer {
        let info = split_info(info);
        let prefix = prefix.unwrap_or_default();
        if info.iter().any(|a| a == "user_count") && !prefix.starts_with("presence-") {
            return Err(ApiResponse::error(
                400,
                "info=user_count needs filter_by_prefix=presence-",
            ));
        }
        if let Some(bad) = info
            .iter()
            .find(|a| !matches!(a.as_str(), "user_count" | "subscription_count"))
        {
            return Err(ApiResponse::error(
                400,
                format!("Unknown info attribute {bad:?}"),
            ));
        }
        let state = self.state();
        let mut channels = Map::new();
        for name in state.channels.keys().filter(|n| n.starts_with(prefix)) {
            channels.insert(name.clone(), Value::Object(counts(&state, name, &info)));
        }
        Ok(json!({ "channels": channels }))
    }

    fn channel(&self, name: &str, info: Option<&str>) -> Answer {
        self.check_channel_name(name)
            .map_err(|m| ApiResponse::error(400, m))?;
        let info = split_info(info);
        check_info(name, &info, &["user_count", "subscription_count", "cache"])?;
        let state = self.state();
        let mut out = counts(&state, name, &info);
        out.insert("occupied".into(), json!(state.channels.contains_key(name)));
        if info.iter().any(|a| a == "cache") {
            let ttl = Duration::from_secs(self.shared.config.cache_ttl);
            let cache = state.cache.get(name).and_then(|c| {
                let left = ttl.checked_sub(c.at.elapsed())?;
                Some(json!({"event": c.event, "data": c.data, "ttl": left.as_secs()}))
            });
            out.insert("cache".into(), cache.unwrap_or(Value::Null));
        }
        Ok(Value::Object(out))
    }

    fn users(&self, name: &str) -> Answer {
        self.check_channel_name(name)
            .map_err(|m| ApiResponse::error(400, m))?;
        if ChannelKind::of(name) != ChannelKind::Presence {
            return Err(ApiResponse::error(
                400,
                "Users are only listed for presence channels",
            ));
        }
        let state = self.state();
        let users: Vec<Value> = state
            .channels
            .get(name)
            .into_iter()
            .flat_map(|c| c.members.keys())
            .map(|id| json!({ "id": id }))
            .collect();
        Ok(json!({ "users": users }))
    }
}

fn split_info(info: Option<&str>) -> Vec<String> {
    info.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Refuse attributes the channel's kind lacks, or unknown ones.
fn check_info(channel: &str, info: &[String], known: &[&str]) -> Result<(), ApiResponse> {
    for a in info {
        if !known.contains(&a.as_str()) {
            return Err(ApiResponse::error(
                400,
                format!("Unknown info attribute {a:?}"),
            ));
        }
        if a == "user_count" && ChannelKind::of(channel) != ChannelKind::Presence {
            return Err(ApiResponse::error(
                400,
                format!("user_count is only for presence channels, not {channel}"),
            ));
        }
        if a == "cache" && !is_cache(channel) {
            return Err(ApiResponse::error(
                400,
                format!("{channel} is not a cache channel"),
            ));
        }
    }
    Ok(())
}

/// The asked-for `user_count` and `subscription_count` of a channel.
fn counts(state: &State, name: &str, info: &[String]) -> Map<String, Value> {
    let channel = state.channels.get(name);
    let mut out = Map::new();
    for a in info {
        match a.as_str() {
            "user_count" if ChannelKind::of(name) == ChannelKind::Presence => {
                out.insert(a.clone(), json!(channel.map_or(0, |c| c.members.len())))
            }
            "subscription_count" => {
                out.insert(a.clone(), json!(channel.map_or(0, |c| c.subs.len())))
            }
            _ => None,
        };
    }
    out
}
