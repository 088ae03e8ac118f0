//! The fuzz targets under `cargo test`: every seed (`fuzz/seeds/<target>/`) and every
//! saved finding (`fuzz/regressions/<target>/`) is run through the same harness the
//! libFuzzer binaries run (`fuzz/harness.rs`), with all its invariants. A crash found by
//! `scripts/fuzz` is copied into `fuzz/regressions/<target>/` and stays here for good.
//! Findings that were bugs in the crate also get a test of their own below.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

use rocket_pusher::Pusher;
use rocket_pusher::error::ConfigError;
use rocket_pusher::protocol::{AuthFormError, parse_auth_form};

/// Run every file of `fuzz/seeds/<target>` and `fuzz/regressions/<target>`; returns how
/// many there were.
fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{} fails {target}", file.display());
            count += 1;
        }
    }
    count
}

#[test]
fn auth_form_inputs() {
    assert!(replay("auth_form", harness::auth_form::run) >= 5);
}

#[test]
fn webhook_inputs() {
    assert!(replay("webhook", harness::webhook::run) >= 5);
}

#[test]
fn config_toml_inputs() {
    assert!(replay("config_toml", harness::config_toml::run) >= 5);
}

#[cfg(feature = "server")]
#[test]
fn frames_inputs() {
    assert!(replay("frames", harness::frames::run) >= 5);
}

#[test]
fn names_inputs() {
    assert!(replay("names", harness::names::run) >= 5);
}

#[test]
fn client_response_inputs() {
    assert!(replay("client_response", harness::client_response::run) >= 5);
}

/// Found by the `auth_form` target (a harness assumption, not a crate bug): with a smaller
/// batch cap the parse stops at the cap before reaching a later error, so the same body is
/// `TooManyChannels` under a cap of 2 and `MissingSocketId` under 100. Both refuse it.
#[test]
fn the_batch_cap_is_checked_as_fields_arrive() {
    let body = b"&so\x0f=123.456&channel_name[0]=private-a&channel_name[1]=presence-b\
                 &channel_name[2]=private-missing";
    assert_eq!(
        parse_auth_form(body, 100),
        Err(AuthFormError::MissingSocketId)
    );
    assert_eq!(
        parse_auth_form(body, 2),
        Err(AuthFormError::TooManyChannels { max: 2 })
    );
}

/// Found while writing the `config_toml` target: the `url` form decoded `%+1` as the byte
/// 0x01 (`u8::from_str_radix` takes a leading `+`), so a malformed escape in the key or
/// secret was silently accepted as another secret. Now it is refused, naming the part.
#[test]
fn a_malformed_percent_escape_in_the_url_is_refused() {
    for (url, part) in [
        ("http://KEY:SECRET%+1@127.0.0.1/apps/1", "secret"),
        ("http://KEY:SECRET%-1@127.0.0.1/apps/1", "secret"),
        ("http://KEY%+4:SECRET@127.0.0.1/apps/1", "key"),
    ] {
        let err = Pusher::from_url(url).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { key: "url", reason } if reason.starts_with(part)),
            "{url}: {err}"
        );
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
    let ok = Pusher::from_url("http://KEY:SE%2BCRET%2f@127.0.0.1/apps/1").unwrap();
    assert_eq!(ok.token().secret.expose(), "SE+CRET/");
}
