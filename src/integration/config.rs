//! [`FairingConfig`]: the `pusher` table as the fairing reads it, the client's keys and the
//! keys of the routes it mounts.

use rocket::data::ByteUnit;
use rocket::figment::error::Kind;
use rocket::figment::value::{Dict, Value};
use rocket::figment::{self, Figment};
use serde::Deserialize;

use crate::config::PusherConfig;

/// The `pusher` table as [`PusherFairing`](crate::PusherFairing) reads it: the client's keys
/// ([`PusherConfig`]: credentials, host, timeout, limits, retries, queue) and, beside them in the
/// same table, the keys of the routes the fairing mounts (the fields below).
///
/// ```toml
/// [default.pusher]
/// app_id = "1234"
/// key = "278d425bdf160c739803"
/// secret = "7ad3773142a6692b25b8"
/// cluster = "eu"
/// mount = "/realtime"
/// webhook_body_limit = "64 KiB"
/// ```
///
/// It is read from `[default.pusher]` in `Rocket.toml` (or another profile), from
/// `ROCKET_PUSHER='{app_id="…",key="…",secret="…"}'`, over the defaults given with
/// [`PusherFairing::config_default`](crate::PusherFairing::config_default). Unknown keys are
/// an error, so a typo fails ignite loudly.
///
/// The environment's keys are merged over the file's one by one: with `app_id` and `key` in
/// `Rocket.toml`, `ROCKET_PUSHER='{secret="…"}'` sets only the secret, which then never
/// sits in a committed file.
///
/// Note that `ROCKET_PUSHER_SECRET=…` does **not** set `pusher.secret`: Rocket's environment
/// provider does not split names on `_`. Use the `ROCKET_PUSHER='{…}'` form; ignite names
/// such variables (a warning, or part of the error when the credentials are missing).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FairingConfig {
    /// The client's keys, documented on [`PusherConfig`].
    #[serde(flatten)]
    pub client: PusherConfig,
    /// Whether the fairing mounts its routes. _Default:_ `true`.
    pub mount_routes: bool,
    /// Where the fairing mounts its routes. _Default:_ `/pusher`.
    pub mount: String,
    /// The channel authorization route, under `mount`. _Default:_ `/auth`.
    pub auth_path: String,
    /// The user sign-in route, under `mount`. _Default:_ `/user-auth`.
    pub user_auth_path: String,
    /// The webhook routes' prefix, under `mount`; the routes are
    /// `{webhook_path}/channel_existence`, `/presence` and `/client`. _Default:_ `/events`.
    pub webhook_path: String,
    /// The largest webhook body read (`"64 KiB"` or a number of bytes); larger bodies get
    /// 413. _Default:_ `1 MiB`.
    pub webhook_body_limit: ByteUnit,
    /// Refuse webhooks whose `time_ms` is further than this many seconds from now.
    /// _Default:_ none (off; Pusher retries failed webhooks for five minutes).
    pub webhook_max_age: Option<f64>,
    /// The most channels in one batch authorization request. _Default:_ `100`.
    pub max_batch_channels: usize,
    /// Also answer `GET {auth_path}?callback=…` with JSONP. _Default:_ `false`.
    pub jsonp: bool,
    /// Mount `GET {mount}{client_config_path}`, answering the page's
    /// [`ClientConfig`](crate::ClientConfig) as JSON (with `options` for
    /// `new Pusher(key, options)`), e.g. `"/config"`. _Default:_ none (not mounted).
    pub client_config_path: Option<String>,
    /// The embedded server's options, a table read with `transport = "embedded"` (feature
    /// `server`), documented on [`ServerConfig`](crate::server::ServerConfig).
    /// _Default:_ the service's limits.
    #[cfg(feature = "server")]
    pub server: crate::server::ServerConfig,
}

impl Default for FairingConfig {
    fn default() -> Self {
        Self {
            client: PusherConfig::default(),
            mount_routes: true,
            mount: "/pusher".into(),
            auth_path: "/auth".into(),
            user_auth_path: "/user-auth".into(),
            webhook_path: "/events".into(),
            webhook_body_limit: ByteUnit::Mebibyte(1),
            webhook_max_age: None,
            max_batch_channels: 100,
            jsonp: false,
            client_config_path: None,
            #[cfg(feature = "server")]
            server: crate::server::ServerConfig::default(),
        }
    }
}

/// The keys [`FairingConfig`] reads itself; every other key of the table is the client's.
const ROUTE_KEYS: [&str; 11] = [
    "mount_routes",
    "mount",
    "auth_path",
    "user_auth_path",
    "webhook_path",
    "webhook_body_limit",
    "webhook_max_age",
    "max_batch_channels",
    "jsonp",
    "client_config_path",
    // Read only with feature `server`; without it the key is refused as unknown.
    "server",
];

/// Keys whose values must never be printed.
const SECRET_KEYS: [&str; 4] = [
    "secret",
    "url",
    "encryption_master_key_base64",
    "webhook_tokens",
];

impl FairingConfig {
    /// Read the table `figment` is focused on. Each error message names its key and never
    /// quotes a secret value.
    ///
    /// The client's keys and the routes' are read apart, not through `flatten`: serde
    /// buffers a flattened struct's values, and figment's errors for them would lose the
    /// key they name, by which a secret value is kept out of the message.
    pub(crate) fn extract(figment: &Figment) -> Result<Self, Vec<String>> {
        let table: Dict = figment.extract().map_err(messages)?;
        let (routes, client): (Dict, Dict) = table
            .into_iter()
            .partition(|(key, _)| ROUTE_KEYS.contains(&key.as_str()));
        let client = Value::from(client).deserialize::<PusherConfig>();
        let routes = Value::from(routes).deserialize::<Self>();
        match (client, routes) {
            (Ok(client), Ok(routes)) => Ok(Self { client, ..routes }),
            (client, routes) => Err(client
                .err()
                .into_iter()
                .chain(routes.err())
                .flat_map(messages)
                .collect()),
        }
    }
}

fn messages(errors: figment::Error) -> Vec<String> {
    errors
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            if SECRET_KEYS
                .iter()
                .any(|s| key == *s || key.starts_with(&format!("{s}.")))
            {
                // figment's message quotes the value it found; this one is secret.
                format!("invalid `pusher.{key}` (expected a string)")
            } else if let Kind::UnknownField(found, expected) = &e.kind {
                // Unknown keys at the top are checked against the routes' keys too.
                let top = e.path.len() <= 1;
                let known = expected
                    .iter()
                    .chain(ROUTE_KEYS.iter().filter(|_| top))
                    .copied();
                format!("unknown key `pusher.{key}`{}", suggest(found, known))
            } else if let Kind::UnknownVariant(found, expected) = &e.kind {
                format!(
                    "invalid `pusher.{key}`: `{found}` is not a value it takes{}",
                    suggest(found, expected.iter().copied())
                )
            } else if key.is_empty() {
                format!("bad `pusher` configuration: {}", e.kind)
            } else {
                format!("invalid `pusher.{key}`: {}", e.kind)
            }
        })
        .collect()
}

/// `: did you mean `…`?` for the known word closest to `found`, or the list of them.
fn suggest<'a>(found: &str, known: impl Iterator<Item = &'a str> + Clone) -> String {
    let closest = known
        .clone()
        .map(|k| (edit_distance(found, k), k))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, _)| *d <= (found.chars().count() / 3).max(2));
    match closest {
        Some((_, k)) => format!(": did you mean `{k}`?"),
        None => format!("; expected one of {}", known.collect::<Vec<_>>().join(", ")),
    }
}

/// The Levenshtein distance: how many characters to insert, delete or replace.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let replace = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = replace.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use rocket::figment::providers::Serialized;
    use serde_json::json;

    use super::*;

    fn figment(table: serde_json::Value) -> Figment {
        Figment::from(Serialized::defaults(table))
    }

    #[test]
    fn every_key_is_read_as_through_flatten() {
        let table = json!({
            "app_id": "1", "key": "k", "secret": "s", "cluster": "eu", "timeout": 2,
            "retry": { "attempts": 1 },
            "queue": { "capacity": 9, "lanes": 3, "drain_timeout": 0.5 },
            "mount_routes": false, "mount": "/m", "auth_path": "/a", "user_auth_path": "/u",
            "webhook_path": "/w", "webhook_body_limit": "64 KiB", "webhook_max_age": 30.0,
            "max_batch_channels": 7, "jsonp": true, "client_config_path": "/config",
            "max_channel_name_len": 164,
        });
        let apart = FairingConfig::extract(&figment(table.clone())).unwrap();
        let flattened: FairingConfig = figment(table).extract().unwrap();
        assert_eq!(format!("{apart:?}"), format!("{flattened:?}"));
        assert_eq!(apart.webhook_body_limit, ByteUnit::Kibibyte(64));
        assert_eq!(apart.client.cluster.as_deref(), Some("eu"));
        assert!(!apart.mount_routes && apart.jsonp);
        assert_eq!(apart.client_config_path.as_deref(), Some("/config"));
        assert_eq!(apart.client.max_channel_name_len, 164);
        assert_eq!(
            apart.client.queue,
            crate::config::QueueConfig::default()
                .capacity(9)
                .lanes(3)
                .drain_timeout(std::time::Duration::from_millis(500))
        );
    }

    #[test]
    fn edit_distances() {
        for (a, b, d) in [
            ("clustr", "cluster", 1),
            ("secert", "secret", 2),
            ("", "key", 3),
            ("mout", "mount", 1),
            ("kitten", "sitting", 3),
            ("same", "same", 0),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} {b}");
            assert_eq!(edit_distance(b, a), d, "{b} {a}");
        }
    }

    #[test]
    fn unknown_keys_get_a_suggestion_without_garbled_backticks() {
        let extract = |table| FairingConfig::extract(&figment(table)).unwrap_err();
        let e = extract(json!({ "clustr": "eu" }));
        assert_eq!(e, ["unknown key `pusher.clustr`: did you mean `cluster`?"]);
        // A route key is suggested too, though the client's part reads unknown keys.
        let e = extract(json!({ "jsnop": true }));
        assert_eq!(e, ["unknown key `pusher.jsnop`: did you mean `jsonp`?"]);
        let e = extract(json!({ "retry": { "atempts": 2 } }));
        assert_eq!(
            e,
            ["unknown key `pusher.retry.atempts`: did you mean `attempts`?"]
        );
        let e = extract(json!({ "queue": { "capacty": 2 } }));
        assert_eq!(
            e,
            ["unknown key `pusher.queue.capacty`: did you mean `capacity`?"]
        );
        // Nothing close: the keys are listed, each once, without nested backticks.
        let e = extract(json!({ "zzzzzzzz": 1 }));
        assert!(
            e[0].starts_with("unknown key `pusher.zzzzzzzz`; expected one of app_id, key,"),
            "{e:?}"
        );
        assert!(e[0].contains("jsonp") && !e[0].contains("``"), "{e:?}");
        let e = extract(json!({ "transport": "recordng" }));
        assert_eq!(
            e,
            [
                "invalid `pusher.transport`: `recordng` is not a value it takes: did you mean `recording`?"
            ]
        );
    }

    #[test]
    fn errors_name_the_key_of_either_part_and_hide_secrets() {
        let errors = FairingConfig::extract(&figment(
            json!({ "secret": 987_654_321, "jsonp": "sometimes" }),
        ))
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.contains(&"invalid `pusher.secret` (expected a string)".to_owned()));
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("invalid `pusher.jsonp`: "))
        );
        assert!(!errors.concat().contains("987654321"), "{errors:?}");
        let errors = FairingConfig::extract(&figment(json!({ "mout": "/x" }))).unwrap_err();
        assert_eq!(errors, ["unknown key `pusher.mout`: did you mean `mount`?"]);
    }
}
