//! The fairing's configuration messages: where a value came from, stray
//! `ROCKET_PUSHER_*` variables, conflicting credentials; never a secret's value.

use rocket::figment::value::{Dict, Value};
use rocket::figment::{Figment, Source};

use crate::integration::config::FairingConfig;

/// A value's kind, for a message that must not show the value.
pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::String(..) => "a string",
        Value::Char(..) => "a character",
        Value::Bool(..) => "a boolean",
        Value::Num(..) => "a number",
        Value::Empty(..) => "empty",
        Value::Dict(..) => "a table",
        Value::Array(..) => "an array",
    }
}

/// Where the value of `key` in `figment` came from, in words a user finds it by.
pub(super) fn source_of(figment: &Figment, key: &str) -> String {
    let Some(metadata) = figment.find_metadata(key) else {
        return "an unknown source".into();
    };
    if metadata.name.contains("environment") {
        // Rocket's provider reads `ROCKET_<KEY>`; the table is `ROCKET_PUSHER`.
        return "the `ROCKET_PUSHER` environment variable".into();
    }
    match &metadata.source {
        Some(file @ Source::File(_)) => format!("`{file}`"),
        _ => "code (`PusherFairing::config_default` or the app's figment)".into(),
    }
}

/// `ROCKET_PUSHER_SECRET=…` and its kin land at the top level (`pusher_secret`), not in
/// the `pusher` table: the variables or keys set that way, named as the user wrote them.
pub(super) fn stray_keys(figment: &Figment) -> Vec<String> {
    let Ok(top) = figment.extract::<Dict>() else {
        return Vec::new();
    };
    top.keys()
        .filter(|k| k.starts_with("pusher_"))
        .map(|k| {
            let from_env = figment
                .find_metadata(k)
                .is_some_and(|m| m.name.contains("environment"));
            if from_env {
                format!("`ROCKET_{}`", k.to_ascii_uppercase())
            } else {
                format!("`{k}` (in {})", source_of(figment, k))
            }
        })
        .collect()
}

/// The end of a "credentials are missing" message: where the `missing` ones go (the
/// secret never in a file that is committed), and why the `ROCKET_PUSHER_*` variables the
/// user may have set did not count.
pub(super) fn where_to_set_credentials(figment: &Figment, missing: &[&str]) -> String {
    let public: Vec<&str> = missing.iter().copied().filter(|k| *k != "secret").collect();
    let public_form = public
        .iter()
        .map(|k| format!("{k}=\"…\""))
        .collect::<Vec<_>>()
        .join(",");
    let mut ways = Vec::new();
    if !public.is_empty() {
        ways.push(format!(
            "set {} under [default.pusher] in Rocket.toml (or ROCKET_PUSHER='{{{public_form}}}')",
            public.join(" and ")
        ));
    }
    if missing.contains(&"secret") {
        // Merged over Rocket.toml key by key, so the file keeps the rest.
        ways.push(
            "give the secret in the environment, never in a committed file: \
             ROCKET_PUSHER='{secret=\"…\"}'"
                .to_owned(),
        );
    }
    let ways = ways.join(", and ");
    let stray = stray_keys(figment);
    if stray.is_empty() {
        format!(": {ways}")
    } else {
        format!(
            ": {} {} set, but Rocket does not read ROCKET_PUSHER_<KEY> variables into the \
             `pusher` table; {ways}",
            stray.join(", "),
            if stray.len() == 1 { "is" } else { "are" },
        )
    }
}

/// The credentials `config` lacks, when it has no `url`.
pub(super) fn missing_credentials(config: &FairingConfig) -> Vec<&'static str> {
    let c = &config.client;
    if c.url.is_some() {
        return Vec::new();
    }
    [
        ("app_id", c.app_id.is_none()),
        ("key", c.key.is_none()),
        ("secret", c.secret.is_none()),
    ]
    .into_iter()
    .filter_map(|(k, missing)| missing.then_some(k))
    .collect()
}

/// `url` and the separate credentials both set, perhaps by different sources: the message
/// says which source set which, and how to override one with the other.
pub(super) fn url_conflict(figment: &Figment, config: &FairingConfig) -> Option<String> {
    let c = &config.client;
    c.url.as_ref()?;
    let others: Vec<&str> = [
        ("app_id", c.app_id.is_some()),
        ("key", c.key.is_some()),
        ("secret", c.secret.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if others.is_empty() {
        return None;
    }
    let url_from = source_of(figment, "url");
    let mut from: Vec<String> = others.iter().map(|k| source_of(figment, k)).collect();
    from.sort();
    from.dedup();
    let keys = others
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message = format!(
        "invalid `pusher.url`: set either `url` or `app_id`, `key` and `secret`, not both; \
         `url` comes from {url_from}, {keys} from {}",
        from.join(" and ")
    );
    if from.iter().any(|f| *f != url_from) {
        message.push_str(&format!(
            ". One source overrides another key by key but cannot remove a key: use one form \
             in both (e.g. app_id, key and secret instead of url in {url_from}), or remove \
             one form"
        ));
    }
    Some(message)
}
