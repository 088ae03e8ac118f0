//! The examples speak to people: a usage text, errors by their message.
//!
//! `cargo test` builds the examples next to the test binaries, so they run from there (run
//! alone, `cargo test --test examples` needs `cargo build --examples` first).
//! Every server address here is a closed port on 127.0.0.1: nothing is sent anywhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn example(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop(); // the test binary
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples").join(name)
}

/// Run an example against a closed port (port 1 on loopback refuses at once).
fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name))
        .args(args)
        .env("PUSHER_URL", "http://KEY:SECRET@127.0.0.1:1/apps/1")
        .output()
        .unwrap()
}

#[test]
fn cli_without_a_command_prints_its_usage() {
    for args in [&[][..], &["--help"], &["frobnicate"]] {
        let out = run("cli", args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: cli COMMAND"), "{args:?}: {stderr}");
        assert!(stderr.contains("trigger CHANNEL"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    let out = run("cli", &["frobnicate"]);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("unknown command \"frobnicate\""));
}

#[test]
fn client_example_prints_errors_by_their_message() {
    let out = run("client", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: could not connect to the Pusher API"),
        "{stderr}"
    );
    assert!(
        stderr.contains("caused by: "),
        "the cause follows: {stderr}"
    );
    // Not the `Debug` form (`Connect(reqwest::Error { … })`), and never the secret.
    assert!(!stderr.contains("Connect("), "{stderr}");
    assert!(!stderr.contains("SECRET"), "{stderr}");
}
