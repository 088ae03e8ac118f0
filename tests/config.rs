//! The fairing's configuration through Rocket's local client: the `pusher` table from
//! `Rocket.toml` and from `ROCKET_PUSHER` (in a `figment::Jail`), builder defaults under
//! them, every ignite failure (and no secret in any log line or error), route options,
//! the recording transport, sentinels, the singleton fairing and `ClientConfig`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/rocket_app.rs"]
mod rocket_app;

use rocket::error::ErrorKind;
use rocket::figment::Figment;
use rocket::figment::Jail;
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use rocket::{Build, Rocket, State, post, routes};
use rocket_app::{
    APP_ID, KEY, SECRET, assert_json_error, capture_logs, client_of, json_of, post_form,
    post_signed,
};
use rocket_pusher::protocol::{ChannelAuth, Token, verify_channel_auth};
use rocket_pusher::{
    ChannelAuthRequest, ClientConfig, PresenceEvent, Pusher, PusherFairing, SocketId,
    VerifiedWebhook, channel, channels,
};
use serde_json::{Value, json};

/// Every secret used in this file starts with this; no log line or error may contain it.
const MARKER: &str = "MARKER-SECRET";

// The capturing logger must be installed before the first Rocket is built in this binary
// (Rocket installs its own otherwise), so every builder here installs it first.

/// The first of `lines` that holds `needle`, checked to hold every one of `parts`.
fn line_with<'l>(lines: &'l [String], needle: &str, parts: &[&str]) -> &'l str {
    let line = lines
        .iter()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}: {lines:#?}"));
    for part in parts {
        assert!(line.contains(part), "{part:?} missing from {line}");
    }
    line
}

fn figment(extra: Value) -> Figment {
    capture_logs();
    rocket_app::figment(extra)
}

fn figment_with_table(table: Value) -> Figment {
    capture_logs();
    rocket_app::figment_with_table(table)
}

fn rocket_with(fairing: PusherFairing, extra: Value) -> Rocket<Build> {
    capture_logs();
    rocket_app::rocket_with(fairing, extra)
}

fn allow_all() -> PusherFairing {
    PusherFairing::new().authorize(|_, _| Box::pin(async { true }))
}

/// Build a Rocket inside a jail holding `toml` as `Rocket.toml` and `env` set, from
/// `rocket::Config::figment()`, as an app's `rocket::build()` would.
// `Jail::expect_with` fixes the closure's error type (figment's, which is large).
#[allow(clippy::result_large_err)]
fn jailed(toml: &str, env: &[(&str, &str)], fairing: PusherFairing) -> Rocket<Build> {
    capture_logs();
    let mut out = None;
    Jail::expect_with(|jail| {
        if !toml.is_empty() {
            jail.create_file("Rocket.toml", toml)?;
        }
        for (k, v) in env {
            jail.set_env(k, v);
        }
        out = Some(rocket::custom(rocket::Config::figment()).attach(fairing));
        Ok(())
    });
    out.unwrap()
}

/// No captured log line contains a secret.
fn assert_no_secret_logged() {
    for line in capture_logs().lines() {
        assert!(!line.contains(MARKER), "a secret was logged: {line}");
        assert!(!line.contains("987654321"), "a secret was logged: {line}");
    }
}

/// Sign a private channel through `/…/auth` and check it against `token`.
async fn assert_auth_signed_by(client: &Client, uri: &str, token: &Token) {
    let (status, _, body) = post_form(client, uri, "socket_id=1.2&channel_name=private-a").await;
    assert_eq!(status, Status::Ok, "{uri}: {body}");
    let auth: ChannelAuth = serde_json::from_str(&body).unwrap();
    assert!(
        verify_channel_auth(token, "1.2", "private-a", &auth),
        "{body}"
    );
}

/// Ignite must fail in the Pusher fairing, logging `needle`; returns nothing secret.
async fn assert_ignite_fails(rocket: Rocket<Build>, needle: &str) {
    capture_logs();
    let Err(err) = Client::tracked(rocket).await else {
        panic!("ignite should fail ({needle})");
    };
    match err.kind() {
        ErrorKind::FailedFairings(failed) => {
            assert_eq!(failed.len(), 1);
            assert_eq!(failed[0].name, "Pusher");
        }
        other => panic!("expected FailedFairings, got {other:?}"),
    }
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(MARKER), "{shown}");
    let lines = capture_logs().lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("pusher: ") && l.contains(needle)),
        "no log line names {needle:?}: {lines:#?}"
    );
    assert_no_secret_logged();
}

/// Ignite must fail in the Pusher fairing: the lines it logged on this thread (its own,
/// not a neighbour test's), none holding a secret.
async fn failure_lines(rocket: Rocket<Build>) -> Vec<String> {
    let before = capture_logs().lines_here().len();
    let Err(err) = Client::tracked(rocket).await else {
        panic!("ignite should fail");
    };
    assert!(rocket_app::failed_in_fairing(&err), "{err:?}");
    assert_no_secret_logged();
    capture_logs().lines_here().split_off(before)
}

/// The lines an app that ignites logs on this thread, through liftoff.
async fn launch_lines(rocket: Rocket<Build>) -> (Client, Vec<String>) {
    let before = capture_logs().lines_here().len();
    let client = client_of(rocket).await;
    (client, capture_logs().lines_here().split_off(before))
}

/// The hint on where credentials go (here, for a missing secret: the environment).
const HINT: &str = r#"give the secret in the environment, never in a committed file: ROCKET_PUSHER='{secret="…"}'"#;

// ---------------------------------------------------------------- Rocket.toml and env

#[rocket::async_test]
async fn config_from_rocket_toml() {
    let rocket = jailed(
        r#"
        [default.pusher]
        app_id = "1234"
        key = "toml-key"
        secret = "MARKER-SECRET-toml"
        cluster = "eu"
        mount = "/realtime"
        jsonp = true

        [debug.pusher]
        cluster = "ap2"
        "#,
        &[],
        allow_all(),
    );
    let client = client_of(rocket).await;
    let pusher = client.rocket().state::<Pusher>().unwrap();
    assert_eq!(pusher.app_id(), "1234");
    assert_eq!(pusher.key(), "toml-key");
    // The `debug` profile (tests are debug builds) overrides `default`.
    assert_eq!(pusher.endpoint(), "https://api-ap2.pusher.com");
    assert!(pusher.recorder().is_none());

    let token = Token::new("toml-key", "MARKER-SECRET-toml");
    assert_auth_signed_by(&client, "/realtime/auth", &token).await;
    let resp = client
        .get("/realtime/auth?callback=cb&socket_id=1.2&channel_name=private-a")
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);
    assert!(
        resp.into_string()
            .await
            .unwrap()
            .starts_with("cb({\"auth\":\"toml-key:")
    );
    let (status, _, _) = post_form(
        &client,
        "/pusher/auth",
        "socket_id=1.2&channel_name=private-a",
    )
    .await;
    assert_eq!(status, Status::NotFound);
    assert_no_secret_logged();
}

#[rocket::async_test]
async fn config_from_rocket_pusher_env_merges_over_the_file() {
    let rocket = jailed(
        r#"
        [default.pusher]
        app_id = "1234"
        key = "file-key"
        secret = "MARKER-SECRET-file"
        "#,
        &[(
            "ROCKET_PUSHER",
            r#"{secret="MARKER-SECRET-env",cluster="us3",max_batch_channels=2}"#,
        )],
        allow_all(),
    );
    let client = client_of(rocket).await;
    let pusher = client.rocket().state::<Pusher>().unwrap();
    assert_eq!(pusher.app_id(), "1234");
    assert_eq!(pusher.key(), "file-key");
    assert_eq!(pusher.endpoint(), "https://api-us3.pusher.com");
    assert_auth_signed_by(
        &client,
        "/pusher/auth",
        &Token::new("file-key", "MARKER-SECRET-env"),
    )
    .await;
    let got = post_form(
        &client,
        "/pusher/auth",
        "socket_id=1.2&channel_name[0]=private-a&channel_name[1]=private-b&channel_name[2]=private-c",
    )
    .await;
    assert_json_error(&got, Status::BadRequest, "more than 2 channels");
    assert_no_secret_logged();
}

#[rocket::async_test]
async fn config_from_env_alone() {
    let rocket = jailed(
        "",
        &[(
            "ROCKET_PUSHER",
            r#"{app_id="77",key="env-key",secret="MARKER-SECRET-only-env",host="127.0.0.1",port=6001,use_tls=false}"#,
        )],
        allow_all(),
    );
    let client = client_of(rocket).await;
    let pusher = client.rocket().state::<Pusher>().unwrap();
    assert_eq!(pusher.app_id(), "77");
    assert_eq!(pusher.endpoint(), "http://127.0.0.1:6001");
    assert_auth_signed_by(
        &client,
        "/pusher/auth",
        &Token::new("env-key", "MARKER-SECRET-only-env"),
    )
    .await;
}

#[rocket::async_test]
async fn rocket_pusher_secret_does_not_reach_the_table() {
    // Documented: Rocket's env provider does not split `PUSHER_SECRET` into `pusher.secret`.
    let rocket = jailed(
        r#"
        [default.pusher]
        app_id = "1"
        key = "k"
        secret = "MARKER-SECRET-file2"
        "#,
        &[("ROCKET_PUSHER_SECRET", "MARKER-SECRET-ignored")],
        allow_all(),
    );
    let client = client_of(rocket).await;
    assert_auth_signed_by(
        &client,
        "/pusher/auth",
        &Token::new("k", "MARKER-SECRET-file2"),
    )
    .await;
}

#[rocket::async_test]
async fn builder_defaults_are_overridden_by_rocket_toml_and_env() {
    let fairing = || {
        allow_all()
            .mount_at("/from-code")
            .config_default("cluster", "eu")
            .config_default("jsonp", true)
    };
    let credentials = r#"
        [default.pusher]
        app_id = "1"
        key = "k"
        secret = "MARKER-SECRET-defaults"
    "#;
    let token = Token::new("k", "MARKER-SECRET-defaults");

    // Only the builder: its defaults apply.
    let client = client_of(jailed(credentials, &[], fairing())).await;
    assert_auth_signed_by(&client, "/from-code/auth", &token).await;
    assert_eq!(
        client.rocket().state::<Pusher>().unwrap().endpoint(),
        "https://api-eu.pusher.com"
    );
    let resp = client
        .get("/from-code/auth?callback=cb&socket_id=1.2&channel_name=private-a")
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);

    // Rocket.toml wins over the builder; keys it does not set keep the builder's value.
    let toml = format!("{credentials}\nmount = \"/from-toml\"\njsonp = false\n");
    let client = client_of(jailed(&toml, &[], fairing())).await;
    assert_auth_signed_by(&client, "/from-toml/auth", &token).await;
    let (status, _, _) = post_form(
        &client,
        "/from-code/auth",
        "socket_id=1.2&channel_name=private-a",
    )
    .await;
    assert_eq!(status, Status::NotFound);
    let resp = client
        .get("/from-toml/auth?callback=cb&socket_id=1.2&channel_name=private-a")
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::NotFound);
    assert_eq!(
        client.rocket().state::<Pusher>().unwrap().endpoint(),
        "https://api-eu.pusher.com"
    );

    // ROCKET_PUSHER wins over both.
    let client = client_of(jailed(
        &toml,
        &[("ROCKET_PUSHER", r#"{mount="/from-env",cluster="mt1"}"#)],
        fairing(),
    ))
    .await;
    assert_auth_signed_by(&client, "/from-env/auth", &token).await;
    assert_eq!(
        client.rocket().state::<Pusher>().unwrap().endpoint(),
        "https://api-mt1.pusher.com"
    );
}

// ---------------------------------------------------------------- ignite failures

#[rocket::async_test]
async fn ignite_fails_without_a_pusher_table() {
    capture_logs();
    let rocket =
        rocket::custom(Figment::from(rocket::Config::debug_default())).attach(PusherFairing::new());
    assert_ignite_fails(rocket, "no `pusher` table in the configuration").await;
    // The same from a Rocket.toml that has no pusher table.
    let rocket = jailed("[default]\nport = 9999\n", &[], PusherFairing::new());
    assert_ignite_fails(rocket, "no `pusher` table in the configuration").await;
}

#[rocket::async_test]
async fn a_malformed_rocket_pusher_is_not_a_table_not_missing_keys() {
    for toml in [
        "",
        "[default.pusher]\napp_id = \"1\"\nkey = \"k\"\nsecret = \"MARKER-SECRET-m\"\n",
    ] {
        let rocket = jailed(
            toml,
            &[(
                "ROCKET_PUSHER",
                r#"{app_id="1234",key="k",secret="MARKER-SECRET-open""#,
            )],
            PusherFairing::new(),
        );
        let lines = failure_lines(rocket).await;
        let all = lines.join("\n");
        assert!(
            all.contains(
                "`pusher` (from the `ROCKET_PUSHER` environment variable) is a string, not a table"
            ) && all.contains(r#"ROCKET_PUSHER='{app_id="…",key="…",secret="…"}'"#),
            "{lines:#?}"
        );
        assert!(!all.contains("missing"), "{lines:#?}");
    }
}

#[rocket::async_test]
async fn rocket_pusher_key_variables_are_named_with_the_form_to_use() {
    // Only `ROCKET_PUSHER_<KEY>` variables: there is no table, and the error says why.
    let rocket = jailed(
        "",
        &[
            ("ROCKET_PUSHER_SECRET", "MARKER-SECRET-abc"),
            ("ROCKET_PUSHER_APP_ID", "1"),
        ],
        PusherFairing::new(),
    );
    let lines = failure_lines(rocket).await;
    line_with(
        &lines,
        "no `pusher` table",
        &[
            "`ROCKET_PUSHER_APP_ID`, `ROCKET_PUSHER_SECRET` are set",
            "Rocket does not read ROCKET_PUSHER_<KEY> variables",
            r#"ROCKET_PUSHER='{secret="…"}'"#,
        ],
    );

    // A table without the secret, and the variable that was meant to give it.
    let rocket = jailed(
        "[default.pusher]\napp_id = \"1\"\nkey = \"k\"\n",
        &[("ROCKET_PUSHER_SECRET", "MARKER-SECRET-abc")],
        PusherFairing::new(),
    );
    let lines = failure_lines(rocket).await;
    assert!(
        lines.iter().any(|l| l.contains(
            "missing `pusher.secret`: `ROCKET_PUSHER_SECRET` is set, but Rocket does not read"
        ) && l.contains("ROCKET_PUSHER='{")),
        "{lines:#?}"
    );

    // When the table is complete, the stray variable is still worth a warning.
    let rocket = jailed(
        "[default.pusher]\napp_id = \"1\"\nkey = \"k\"\nsecret = \"MARKER-SECRET-w\"\n",
        &[("ROCKET_PUSHER_CLUSTER", "eu")],
        PusherFairing::new(),
    );
    let (_client, lines) = launch_lines(rocket).await;
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("WARN ") && l.contains("`ROCKET_PUSHER_CLUSTER` ignored")),
        "{lines:#?}"
    );
    assert_no_secret_logged();
}

#[rocket::async_test]
async fn url_and_credentials_from_two_sources_say_which_set_which() {
    let rocket = jailed(
        "[default.pusher]\napp_id = \"1\"\nkey = \"k\"\nsecret = \"MARKER-SECRET-file\"\n",
        &[(
            "ROCKET_PUSHER",
            r#"{url="https://k2:MARKER-SECRET-url@api-eu.pusher.com/apps/2"}"#,
        )],
        PusherFairing::new(),
    );
    let lines = failure_lines(rocket).await;
    line_with(
        &lines,
        "invalid `pusher.url`",
        &[
            "set either `url` or `app_id`, `key` and `secret`, not both",
            "`url` comes from the `ROCKET_PUSHER` environment variable",
            "`app_id`, `key`, `secret` from `",
            "Rocket.toml`",
            "cannot remove a key",
            "app_id, key and secret instead of url in the `ROCKET_PUSHER` environment variable",
        ],
    );
    assert!(!lines.iter().any(|l| l.contains(HINT)), "{lines:#?}");

    // Both from one file: no advice on overriding.
    let rocket = jailed(
        "[default.pusher]\nkey = \"k\"\nurl = \"https://k:MARKER-SECRET-u@h/apps/1\"\n",
        &[],
        PusherFairing::new(),
    );
    let lines = failure_lines(rocket).await;
    let line = line_with(&lines, "invalid `pusher.url`", &[]);
    assert!(line.contains("`key` from `"), "{line}");
    assert!(!line.contains("cannot remove"), "{line}");
}

#[channel("private-same.<id>")]
async fn same_a(id: u32) -> bool {
    id > 0
}

#[channel("private-same.<n>")]
async fn same_b(n: u32) -> bool {
    n > 0
}

#[rocket::async_test]
async fn the_credentials_hint_comes_only_with_missing_credentials() {
    let rocket = rocket::custom(figment_with_table(json!({ "app_id": "1", "key": "k" })))
        .attach(PusherFairing::new());
    let lines = failure_lines(rocket).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("missing `pusher.secret`") && l.contains(HINT)),
        "{lines:#?}"
    );
    let failures = [
        rocket::custom(figment(json!({ "transport": "carrier-pigeon" })))
            .attach(PusherFairing::new()),
        rocket::custom(figment(json!({ "mount": "no-slash" }))).attach(PusherFairing::new()),
        rocket::custom(figment(json!({})))
            .attach(PusherFairing::new().channels(channels![same_a, same_b])),
    ];
    for rocket in failures {
        let lines = failure_lines(rocket).await;
        assert!(lines.iter().any(|l| l.starts_with("ERROR ")), "{lines:#?}");
        assert!(!lines.iter().any(|l| l.contains(HINT)), "{lines:#?}");
    }
}

#[rocket::async_test]
async fn the_hint_names_only_the_missing_credentials_and_keeps_the_secret_out_of_files() {
    // The usual CI setup: app_id and key in Rocket.toml, the secret from the environment.
    let lines = failure_lines(
        rocket::custom(figment_with_table(json!({ "app_id": "1", "key": "k" })))
            .attach(PusherFairing::new()),
    )
    .await;
    let line = line_with(&lines, "missing `pusher.secret`", &[HINT]);
    assert!(
        !line.contains("app_id") && !line.contains("Rocket.toml"),
        "{line}"
    );
    // Two missing: both named, and only the secret sent to the environment.
    let lines = failure_lines(
        rocket::custom(figment_with_table(json!({ "key": "k" }))).attach(PusherFairing::new()),
    )
    .await;
    let line = line_with(
        &lines,
        "missing `pusher.app_id`, `pusher.secret`",
        &["set app_id under [default.pusher] in Rocket.toml", HINT],
    );
    assert!(!line.contains("key"), "{line}");
    // No table at all: the secret is still never asked for in Rocket.toml.
    let lines = failure_lines(
        rocket::custom(Figment::from(rocket::Config::debug_default())).attach(PusherFairing::new()),
    )
    .await;
    line_with(
        &lines,
        "no `pusher` table",
        &[
            "set app_id and key under [default.pusher] in Rocket.toml",
            HINT,
        ],
    );
}

#[rocket::async_test]
async fn only_the_secret_from_rocket_pusher_is_merged_over_the_file() {
    // What the hint says to do works.
    let rocket = jailed(
        "[default.pusher]\napp_id = \"1\"\nkey = \"k\"\n",
        &[("ROCKET_PUSHER", r#"{secret="MARKER-SECRET-only"}"#)],
        allow_all(),
    );
    let client = client_of(rocket).await;
    assert_auth_signed_by(
        &client,
        "/pusher/auth",
        &Token::new("k", "MARKER-SECRET-only"),
    )
    .await;
    assert_no_secret_logged();
}

#[rocket::async_test]
async fn an_integer_app_id_is_read_as_its_digits() {
    let rocket = jailed(
        "[default.pusher]\napp_id = 4242\nkey = \"k\"\nsecret = \"MARKER-SECRET-int\"\n",
        &[],
        allow_all(),
    );
    let client = client_of(rocket).await;
    assert_eq!(client.rocket().state::<Pusher>().unwrap().app_id(), "4242");
    let rocket = jailed(
        "",
        &[(
            "ROCKET_PUSHER",
            r#"{app_id=77,key="k",secret="MARKER-SECRET-i"}"#,
        )],
        allow_all(),
    );
    let client = client_of(rocket).await;
    assert_eq!(client.rocket().state::<Pusher>().unwrap().app_id(), "77");
    // Not a negative or fractional one.
    for bad in [json!(-1), json!(1.5), json!(true)] {
        let lines = failure_lines(
            rocket::custom(figment(json!({ "app_id": bad }))).attach(PusherFairing::new()),
        )
        .await;
        line_with(
            &lines,
            "invalid `pusher.app_id`",
            &["a string or a whole number"],
        );
    }
}

#[rocket::async_test]
async fn a_duration_with_a_unit_asks_for_a_number_of_seconds() {
    for table in [
        json!({ "timeout": "5s" }),
        json!({ "queue": { "drain_timeout": "5s" } }),
    ] {
        let lines =
            failure_lines(rocket::custom(figment(table)).attach(PusherFairing::new())).await;
        let line = line_with(&lines, "timeout`", &["a number of seconds", "5s"]);
        assert!(!line.contains("f64"), "{line}");
    }
    // Integers and fractions are seconds.
    let c = client_of(
        rocket::custom(figment(
            json!({ "timeout": 2, "queue": { "drain_timeout": 0.5 } }),
        ))
        .attach(PusherFairing::new()),
    )
    .await;
    let pusher = c.rocket().state::<Pusher>().unwrap();
    assert_eq!(pusher.queue_config().drain_timeout, 0.5);
}

#[rocket::async_test]
async fn an_unknown_key_gets_a_suggestion() {
    let rocket = rocket::custom(figment(json!({ "clustr": "eu" }))).attach(PusherFairing::new());
    let lines = failure_lines(rocket).await;
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("pusher: unknown key `pusher.clustr`: did you mean `cluster`?")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains("`one of")), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains(HINT)), "{lines:#?}");
}

#[rocket::async_test]
async fn ignite_fails_without_a_secret() {
    let rocket = rocket::custom(figment_with_table(json!({ "app_id": "1", "key": "k" })))
        .attach(PusherFairing::new());
    assert_ignite_fails(rocket, "missing `pusher.secret`").await;
    let rocket = rocket::custom(figment(json!({ "secret": "" }))).attach(PusherFairing::new());
    assert_ignite_fails(rocket, "invalid `pusher.secret`").await;
}

#[rocket::async_test]
async fn ignite_fails_on_an_unknown_key() {
    // A typo: the secret's value must not be echoed while the key is named.
    let table = json!({ "app_id": "1", "key": "k", "secert": "MARKER-SECRET-typo" });
    let rocket = rocket::custom(figment_with_table(table)).attach(PusherFairing::new());
    assert_ignite_fails(rocket, "secert").await;
    let rocket = jailed(
        "[default.pusher]\napp_id = \"1\"\nkey = \"k\"\nsecret = \"MARKER-SECRET-x\"\nmout = \"/x\"\n",
        &[],
        PusherFairing::new(),
    );
    assert_ignite_fails(rocket, "mout").await;
}

#[rocket::async_test]
async fn ignite_fails_on_a_bad_master_key() {
    for bad in ["MARKER-SECRET-not-base64!", "AAECAw=="] {
        let rocket = rocket::custom(figment(json!({ "encryption_master_key_base64": bad })))
            .attach(PusherFairing::new());
        assert_ignite_fails(rocket, "pusher.encryption_master_key_base64").await;
    }
}

#[rocket::async_test]
async fn ignite_fails_on_invalid_paths() {
    for (key, value) in [
        ("mount", "no-slash"),
        ("auth_path", "auth"),
        ("user_auth_path", "/user/<id>"),
        ("webhook_path", "/hooks?x=1"),
    ] {
        let rocket = rocket::custom(figment(json!({ key: value }))).attach(PusherFairing::new());
        assert_ignite_fails(rocket, &format!("invalid `pusher.{key}`")).await;
    }
    let rocket = rocket::custom(figment(json!({}))).attach(PusherFairing::new().mount_at("x"));
    assert_ignite_fails(rocket, "invalid `pusher.mount`").await;
}

#[rocket::async_test]
async fn ignite_fails_on_other_bad_values_without_echoing_secrets() {
    let cases = [
        (json!({ "secret": 987_654_321 }), "pusher.secret"),
        (
            json!({ "webhook_tokens": [{ "key": "old", "secret": 987_654_321 }] }),
            "pusher.webhook_tokens",
        ),
        (
            json!({ "webhook_tokens": [{ "key": "", "secret": "MARKER-SECRET-t" }] }),
            "pusher.webhook_tokens",
        ),
        (json!({ "timeout": 0 }), "pusher.timeout"),
        (json!({ "webhook_max_age": -5 }), "pusher.webhook_max_age"),
        (
            json!({ "max_batch_channels": 0 }),
            "pusher.max_batch_channels",
        ),
        (json!({ "cluster": "eu/west" }), "pusher.cluster"),
        (json!({ "jsonp": "sometimes" }), "pusher.jsonp"),
        (json!({ "transport": "carrier-pigeon" }), "pusher.transport"),
        (
            json!({ "url": "https://k:MARKER-SECRET-url@api.example.com/apps/1" }),
            "pusher.url",
        ),
    ];
    for (extra, needle) in cases {
        let rocket = rocket::custom(figment(extra)).attach(PusherFairing::new());
        assert_ignite_fails(rocket, needle).await;
    }
    let rocket = rocket::custom(figment_with_table(
        json!({ "url": "not a url MARKER-SECRET-badurl" }),
    ))
    .attach(PusherFairing::new());
    assert_ignite_fails(rocket, "pusher.url").await;
}

#[rocket::async_test]
async fn ignite_fails_when_a_pusher_is_already_managed() {
    let pusher = Pusher::builder(APP_ID, KEY, SECRET).build().unwrap();
    let rocket = rocket_with(PusherFairing::new(), json!({})).manage(pusher);
    assert_ignite_fails(rocket, "already managed").await;
}

#[rocket::async_test]
async fn the_url_key_configures_everything_and_is_never_logged() {
    let table = json!({ "url": "https://url-key:MARKER-SECRET-url2@api-eu.pusher.com/apps/99" });
    let client = client_of(rocket::custom(figment_with_table(table)).attach(allow_all())).await;
    let pusher = client.rocket().state::<Pusher>().unwrap();
    assert_eq!(pusher.app_id(), "99");
    assert_eq!(pusher.key(), "url-key");
    assert_auth_signed_by(
        &client,
        "/pusher/auth",
        &Token::new("url-key", "MARKER-SECRET-url2"),
    )
    .await;
    let shown = format!("{:?}", client.rocket().state::<ClientConfig>().unwrap());
    assert!(!shown.contains(MARKER), "{shown}");
    assert_no_secret_logged();
}

#[rocket::async_test]
async fn liftoff_logs_the_mounted_routes_but_not_the_secret() {
    capture_logs();
    let rocket = rocket::custom(figment(json!({ "mount": "/liftoff-test", "jsonp": true })))
        .attach(allow_all());
    let _client = client_of(rocket).await;
    let lines = capture_logs().lines();
    let summary = lines
        .iter()
        .find(|l| l.contains("pusher: app ") && l.contains("/liftoff-test/auth"))
        .unwrap_or_else(|| panic!("no liftoff summary: {lines:#?}"));
    for part in [
        "POST /liftoff-test/auth",
        "GET /liftoff-test/auth",
        "POST /liftoff-test/user-auth",
        "POST /liftoff-test/events/channel_existence",
        "POST /liftoff-test/events/presence",
        "POST /liftoff-test/events/client",
        KEY,
    ] {
        assert!(summary.contains(part), "{part:?} missing from {summary}");
    }
    assert!(!summary.contains(SECRET), "{summary}");
    assert_no_secret_logged();
}

#[rocket::async_test]
async fn recording_says_so_at_launch_and_warns_in_release() {
    let (_client, lines) = launch_lines(rocket_with(
        PusherFairing::new(),
        json!({ "transport": "recording" }),
    ))
    .await;
    let summary = lines
        .iter()
        .find(|l| l.contains("pusher: app "))
        .unwrap_or_else(|| panic!("no liftoff summary: {lines:#?}"));
    assert!(
        summary.contains("records every request and sends nothing"),
        "{summary}"
    );
    assert!(!summary.contains("via "), "{summary}");
    // Not in release: no warning.
    assert!(
        !lines.iter().any(|l| l.starts_with("WARN rocket_pusher")),
        "{lines:#?}"
    );

    let release = |extra: Value| {
        let table = rocket_app::base_table();
        Figment::from(rocket::Config::release_default())
            .merge(("pusher", table))
            .merge(("pusher", extra))
    };
    let (_client, lines) = launch_lines(
        rocket::custom(release(json!({ "transport": "recording" }))).attach(PusherFairing::new()),
    )
    .await;
    assert!(
        lines.iter().any(|l| l.starts_with("WARN rocket_pusher")
            && l.contains("transport = \"recording\" in the release profile")),
        "{lines:#?}"
    );
    // The HTTP transport in release: no warning, and the summary names the host.
    let (_client, lines) =
        launch_lines(rocket::custom(release(json!({}))).attach(PusherFairing::new())).await;
    assert!(
        !lines.iter().any(|l| l.starts_with("WARN rocket_pusher")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("pusher: app ") && l.contains("via https://api-mt1.pusher.com")),
        "{lines:#?}"
    );
}

// ---------------------------------------------------------------- routes and transport

#[rocket::async_test]
async fn the_client_config_route_is_opt_in() {
    // Off by default.
    let client = client_of(rocket_with(PusherFairing::new(), json!({}))).await;
    let resp = client.get("/pusher/config").dispatch().await;
    assert_eq!(resp.status(), Status::NotFound);

    let (client, lines) = launch_lines(rocket_with(
        PusherFairing::new(),
        json!({ "client_config_path": "/config", "cluster": "eu" }),
    ))
    .await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("pusher: app ") && l.contains("GET /pusher/config")),
        "{lines:#?}"
    );
    let resp = client.get("/pusher/config").dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(resp.content_type(), Some(rocket::http::ContentType::JSON));
    let body = json_of(&resp.into_string().await.unwrap());
    let cc = client.rocket().state::<ClientConfig>().unwrap();
    let mut expected = serde_json::to_value(cc).unwrap();
    expected["options"] = cc.pusher_js_options();
    assert_eq!(body, expected);
    assert_eq!(body["key"], KEY);
    assert_eq!(body["options"]["cluster"], "eu");
    assert!(!body.to_string().contains(SECRET), "{body}");
    // Only GET.
    let resp = client.post("/pusher/config").dispatch().await;
    assert_eq!(resp.status(), Status::NotFound);

    // A bad path names the key.
    let rocket = rocket_with(
        PusherFairing::new(),
        json!({ "client_config_path": "config" }),
    );
    assert_ignite_fails(rocket, "invalid `pusher.client_config_path`").await;
}

#[rocket::async_test]
async fn max_channel_name_len_lowers_the_limit_and_names_the_key() {
    let client = client_of(rocket_with(
        allow_all(),
        json!({ "max_channel_name_len": 164 }),
    ))
    .await;
    let at = format!("private-{}", "x".repeat(164 - 8));
    let got = post_form(
        &client,
        "/pusher/auth",
        &format!("socket_id=1.2&channel_name={at}"),
    )
    .await;
    assert_eq!(got.0, Status::Ok, "{got:?}");
    let over = format!("{at}x");
    let got = post_form(
        &client,
        "/pusher/auth",
        &format!("socket_id=1.2&channel_name={over}"),
    )
    .await;
    assert_json_error(
        &got,
        Status::BadRequest,
        "165 bytes long, over the `pusher.max_channel_name_len` of 164",
    );
    // The default is 200, what the official libraries accept.
    let client = client_of(rocket_with(allow_all(), json!({}))).await;
    let got = post_form(
        &client,
        "/pusher/auth",
        &format!("socket_id=1.2&channel_name={over}"),
    )
    .await;
    assert_eq!(got.0, Status::Ok, "{got:?}");

    for bad in [0, 201] {
        let rocket = rocket_with(PusherFairing::new(), json!({ "max_channel_name_len": bad }));
        assert_ignite_fails(rocket, "invalid `pusher.max_channel_name_len`").await;
    }
}

#[rocket::async_test]
async fn the_queue_table_configures_the_queue() {
    let queue = |client: &Client| {
        client
            .rocket()
            .state::<Pusher>()
            .unwrap()
            .queue_config()
            .clone()
    };
    let defaults = queue(&client_of(rocket_with(PusherFairing::new(), json!({}))).await);
    assert_eq!(
        (defaults.capacity, defaults.lanes, defaults.drain_timeout),
        (10_000, 4, 5.0)
    );
    let set = json!({ "queue": { "capacity": 7, "lanes": 2, "drain_timeout": 1.5 } });
    let q = queue(&client_of(rocket_with(PusherFairing::new(), set)).await);
    assert_eq!((q.capacity, q.lanes, q.drain_timeout), (7, 2, 1.5));
    // From Rocket.toml, with ROCKET_PUSHER merged over it key by key.
    let rocket = jailed(
        "[default.pusher]\napp_id = \"1\"\nkey = \"k\"\nsecret = \"MARKER-SECRET-q\"\n\
         [default.pusher.queue]\nlanes = 8\ncapacity = 100\n",
        &[("ROCKET_PUSHER", "{queue={capacity=50}}")],
        PusherFairing::new(),
    );
    let q = queue(&client_of(rocket).await);
    assert_eq!((q.capacity, q.lanes, q.drain_timeout), (50, 8, 5.0));
    assert_no_secret_logged();
}

#[rocket::async_test]
async fn bad_queue_values_fail_ignite_naming_the_key() {
    for (queue, needle) in [
        (
            json!({ "lanes": 0 }),
            "invalid `pusher.queue.lanes`: must be between 1 and 256",
        ),
        (
            json!({ "lanes": 257 }),
            "invalid `pusher.queue.lanes`: must be between 1 and 256",
        ),
        (
            json!({ "capacity": 0 }),
            "invalid `pusher.queue.capacity`: must be at least 1",
        ),
        (json!({ "capacity": -3 }), "invalid `pusher.queue.capacity`"),
        (
            json!({ "drain_timeout": -1 }),
            "invalid `pusher.queue.drain_timeout`: must be a number of seconds from 0 to 3600",
        ),
        (
            json!({ "drain_timeout": "soon" }),
            "invalid `pusher.queue.drain_timeout`",
        ),
        (
            json!({ "lanez": 2 }),
            "unknown key `pusher.queue.lanez`: did you mean `lanes`?",
        ),
        (json!(5), "invalid `pusher.queue`"),
    ] {
        let rocket = rocket_with(PusherFairing::new(), json!({ "queue": queue }));
        assert_ignite_fails(rocket, needle).await;
    }
    // NaN and infinity exist in TOML, not in JSON.
    for value in ["nan", "inf"] {
        let rocket = jailed(
            &format!(
                "[default.pusher]\napp_id = \"1\"\nkey = \"k\"\nsecret = \"MARKER-SECRET-n\"\n\
                 [default.pusher.queue]\ndrain_timeout = {value}\n"
            ),
            &[],
            PusherFairing::new(),
        );
        assert_ignite_fails(rocket, "invalid `pusher.queue.drain_timeout`").await;
    }
}

#[rocket::async_test]
async fn paths_are_configurable() {
    let client = client_of(rocket_with(
        allow_all().on_presence(|_, _| Box::pin(async {})),
        json!({ "mount": "/", "auth_path": "/pusher-auth", "user_auth_path": "/signin",
                "webhook_path": "/hooks/" }),
    ))
    .await;
    let mut uris: Vec<String> = client
        .rocket()
        .routes()
        .map(|r| format!("{} {} {}", r.method, r.uri, r.rank))
        .collect();
    uris.sort();
    assert_eq!(
        uris,
        [
            "POST /hooks/channel_existence 10",
            "POST /hooks/client 10",
            "POST /hooks/presence 10",
            "POST /pusher-auth 10",
            "POST /signin 10",
        ]
    );
    assert_auth_signed_by(&client, "/pusher-auth", &rocket_app::token()).await;
    let body = br#"{"time_ms":1,"events":[]}"#;
    let (status, _, text) = post_signed(&client, "/hooks/presence", body).await;
    assert_eq!(status, Status::Ok, "{text}");
}

#[rocket::async_test]
async fn without_routes_mounts_nothing() {
    for fairing in [
        allow_all().without_routes(),
        allow_all().config_default("mount_routes", false),
    ] {
        let client = client_of(rocket_with(fairing, json!({}))).await;
        assert_eq!(client.rocket().routes().count(), 0);
        let (status, _, _) = post_form(
            &client,
            "/pusher/auth",
            "socket_id=1.2&channel_name=private-a",
        )
        .await;
        assert_eq!(status, Status::NotFound);
        // The state is still there for the app's own routes.
        assert_eq!(client.rocket().state::<Pusher>().unwrap().key(), KEY);
        assert!(client.rocket().state::<ClientConfig>().is_some());
    }
    // And Rocket.toml can turn the routes off too.
    let client = client_of(rocket_with(allow_all(), json!({ "mount_routes": false }))).await;
    assert_eq!(client.rocket().routes().count(), 0);
}

#[post("/send", data = "<text>")]
async fn send(
    pusher: &State<Pusher>,
    sender: Option<SocketId>,
    text: String,
) -> Result<&'static str, rocket_pusher::Error> {
    pusher
        .trigger("private-room", "message", &json!({ "text": text }))
        .exclude(sender)
        .await?;
    Ok("sent")
}

#[rocket::async_test]
async fn the_recording_transport_records_what_routes_trigger() {
    let rocket = rocket_with(PusherFairing::new(), json!({ "transport": "recording" }))
        .mount("/", routes![send]);
    let client = client_of(rocket).await;
    let resp = client
        .post("/send")
        .header(rocket::http::Header::new("X-Socket-ID", "123.456"))
        .body("hello")
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(resp.into_string().await.unwrap(), "sent");

    let pusher = client.rocket().state::<Pusher>().unwrap();
    let recorder = pusher.recorder().expect("transport = \"recording\"");
    let events = recorder.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].channels, ["private-room"]);
    assert_eq!(events[0].name, "message");
    assert_eq!(
        events[0].data_as::<Value>().unwrap(),
        json!({ "text": "hello" })
    );
    assert_eq!(events[0].socket_id.as_deref(), Some("123.456"));
    assert_eq!(
        recorder.requests()[0].path,
        format!("/apps/{APP_ID}/events")
    );
}

// ---------------------------------------------------------------- sentinels, singleton

#[post("/hook", data = "<hook>")]
fn hook_route(hook: VerifiedWebhook<PresenceEvent>) -> String {
    hook.events.len().to_string()
}

#[post("/state")]
fn state_route(pusher: &State<Pusher>) -> String {
    pusher.key().to_owned()
}

#[post("/channel-auth", data = "<auth>")]
fn channel_auth_route(auth: ChannelAuthRequest) -> String {
    auth.socket_id().to_string()
}

#[post("/socket")]
fn socket_route(sender: SocketId) -> String {
    sender.to_string()
}

#[rocket::async_test]
async fn sentinels_stop_launch_without_the_fairing() {
    for (routes, type_name) in [
        (routes![hook_route], "VerifiedWebhook<"),
        (routes![state_route], "State<"),
        (routes![channel_auth_route], "ChannelAuthRequest"),
    ] {
        let rocket = rocket::custom(figment(json!({}))).mount("/", routes);
        let Err(err) = Client::tracked(rocket).await else {
            panic!("{type_name}: launch should abort");
        };
        match err.kind() {
            ErrorKind::SentinelAborts(sentries) => {
                assert_eq!(sentries.len(), 1, "{sentries:?}");
                assert!(
                    sentries[0].type_name.contains(type_name),
                    "{}",
                    sentries[0].type_name
                );
            }
            other => panic!("expected SentinelAborts, got {other:?}"),
        }
    }
    // With the fairing, the same routes launch.
    let rocket = rocket_with(PusherFairing::new(), json!({}))
        .mount("/", routes![hook_route, state_route, channel_auth_route]);
    let client = client_of(rocket).await;
    let resp = client.post("/state").dispatch().await;
    assert_eq!(resp.into_string().await.unwrap(), KEY);
    // `SocketId` reads only a header: it needs no fairing.
    let client =
        client_of(rocket::custom(figment(json!({}))).mount("/", routes![socket_route])).await;
    let resp = client
        .post("/socket")
        .header(rocket::http::Header::new("X-Socket-ID", "1.2"))
        .dispatch()
        .await;
    assert_eq!(resp.into_string().await.unwrap(), "1.2");
}

#[rocket::async_test]
async fn attaching_the_fairing_twice_keeps_the_last() {
    let rocket = rocket::custom(figment(json!({})))
        .attach(PusherFairing::new().mount_at("/first"))
        .attach(allow_all().mount_at("/second"));
    let client = client_of(rocket).await;
    assert_auth_signed_by(&client, "/second/auth", &rocket_app::token()).await;
    let (status, _, _) = post_form(
        &client,
        "/first/auth",
        "socket_id=1.2&channel_name=private-a",
    )
    .await;
    assert_eq!(status, Status::NotFound);
    assert_eq!(
        client
            .rocket()
            .state::<ClientConfig>()
            .unwrap()
            .auth_endpoint,
        "/second/auth"
    );
}

// ---------------------------------------------------------------- ClientConfig

#[rocket::async_test]
async fn client_config_for_pushers_service() {
    let client = client_of(rocket_with(
        PusherFairing::new(),
        json!({ "cluster": "eu" }),
    ))
    .await;
    let cc = client.rocket().state::<ClientConfig>().unwrap();
    assert_eq!(cc.key, KEY);
    assert_eq!(cc.cluster, "eu");
    assert_eq!(cc.ws_host, None);
    assert_eq!(cc.ws_port, None);
    assert!(cc.force_tls);
    assert_eq!(cc.auth_endpoint, "/pusher/auth");
    assert_eq!(cc.user_auth_endpoint, "/pusher/user-auth");
    assert_eq!(
        cc.pusher_js_options(),
        json!({
            "cluster": "eu",
            "forceTLS": true,
            "channelAuthorization": { "endpoint": "/pusher/auth", "transport": "ajax" },
            "userAuthentication": { "endpoint": "/pusher/user-auth", "transport": "ajax" },
        })
    );
    let serialized = serde_json::to_string(cc).unwrap();
    assert!(!serialized.contains(SECRET), "{serialized}");
    assert_eq!(json_of(&serialized)["key"], KEY);
}

#[rocket::async_test]
async fn client_config_for_a_self_hosted_server() {
    let client = client_of(rocket_with(
        PusherFairing::new(),
        json!({ "host": "127.0.0.1", "port": 6001, "use_tls": false, "mount": "/api/pusher",
                "user_auth_path": "/signin" }),
    ))
    .await;
    let cc = client.rocket().state::<ClientConfig>().unwrap();
    assert_eq!(cc.ws_host.as_deref(), Some("127.0.0.1"));
    assert_eq!(cc.ws_port, Some(6001));
    assert!(!cc.force_tls);
    assert_eq!(cc.auth_endpoint, "/api/pusher/auth");
    assert_eq!(cc.user_auth_endpoint, "/api/pusher/signin");
    let options = cc.pusher_js_options();
    assert_eq!(options["wsHost"], "127.0.0.1");
    assert_eq!(options["wsPort"], 6001);
    assert_eq!(options["wssPort"], 6001);
    assert_eq!(options["forceTLS"], false);
    assert_eq!(options["enabledTransports"], json!(["ws", "wss"]));
    assert_eq!(
        options["channelAuthorization"]["endpoint"],
        "/api/pusher/auth"
    );
    assert_eq!(
        options["userAuthentication"]["endpoint"],
        "/api/pusher/signin"
    );
    assert!(!options.to_string().contains(SECRET));

    // https:// in `host` turns TLS on, with the default port.
    let client = client_of(rocket_with(
        PusherFairing::new(),
        json!({ "host": "https://ws.example.com" }),
    ))
    .await;
    let cc = client.rocket().state::<ClientConfig>().unwrap();
    assert_eq!(cc.ws_host.as_deref(), Some("ws.example.com"));
    assert_eq!(cc.ws_port, Some(443));
    assert!(cc.force_tls);
}

#[rocket::async_test]
async fn client_config_from_a_pusher_url_on_pushers_service() {
    // The `PUSHER_URL` form of Pusher's own service names the cluster's API host: the page
    // must connect to that cluster, not open WebSockets to the API host.
    let table = json!({ "url": "https://k:MARKER-SECRET-url3@api-eu.pusher.com/apps/99" });
    let client = client_of(rocket::custom(figment_with_table(table)).attach(allow_all())).await;
    let cc = client.rocket().state::<ClientConfig>().unwrap();
    assert_eq!(cc.key, "k");
    assert_eq!(cc.cluster, "eu");
    assert_eq!(cc.ws_host, None);
    assert_eq!(cc.ws_port, None);
    let options = cc.pusher_js_options();
    assert_eq!(options["cluster"], "eu");
    assert!(options.get("wsHost").is_none(), "{options}");

    // The same with `host` naming a cluster's API host.
    let client = client_of(rocket_with(
        PusherFairing::new(),
        json!({ "host": "api-ap1.pusher.com" }),
    ))
    .await;
    let cc = client.rocket().state::<ClientConfig>().unwrap();
    assert_eq!(cc.cluster, "ap1");
    assert_eq!(cc.ws_host, None);

    // A self-hosted server given by URL keeps its host.
    let table = json!({ "url": "http://k:MARKER-SECRET-url4@soketi.local:6001/apps/1" });
    let client = client_of(rocket::custom(figment_with_table(table)).attach(allow_all())).await;
    let cc = client.rocket().state::<ClientConfig>().unwrap();
    assert_eq!(cc.ws_host.as_deref(), Some("soketi.local"));
    assert_eq!(cc.ws_port, Some(6001));
    assert!(!cc.force_tls);
}
