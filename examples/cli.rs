//! A command-line client of the Pusher HTTP API, printing JSON: every call of `Pusher`
//! from a shell (and the Rust side of the end-to-end tests).
//!
//! The server comes from `PUSHER_URL` (`https://KEY:SECRET@HOST/apps/APP_ID`), or from the
//! `pusher` table of `Rocket.toml` and `ROCKET_PUSHER`, as the fairing reads it.
//!
//! ```sh
//! cargo run --example cli -- trigger my-channel,other my-event '{"hello":"world"}' [--exclude 123.456] [--info]
//! cargo run --example cli -- batch '[{"channel":"a","name":"e","data":"x"}]'
//! cargo run --example cli -- channels [--prefix presence-] [--user-count]
//! cargo run --example cli -- channel presence-room [--user-count] [--subscription-count]
//! cargo run --example cli -- users presence-room
//! cargo run --example cli -- terminate alice
//! cargo run --example cli -- send-to-user alice my-event '{"hi":1}'
//! ```
//!
//! Exit status 0 with the reply on stdout, 1 with `{"error": …, "status": …}` on stderr, or 2
//! with the usage (no command, `--help`, an unknown command).

use std::process::ExitCode;

use rocket::figment::Figment;
use rocket::figment::providers::{Env, Format, Toml};
use rocket_pusher::client::BatchEvent;
use rocket_pusher::config::PusherConfig;
use rocket_pusher::{Error, Pusher, SocketId};
use serde_json::{Value, json};

fn client() -> Result<Pusher, String> {
    if let Ok(url) = std::env::var("PUSHER_URL") {
        return Pusher::from_url(&url).map_err(|e| e.to_string());
    }
    let config: PusherConfig = Figment::new()
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").global())
        .extract_inner("pusher")
        .map_err(|e| e.to_string())?;
    Pusher::from_config(&config).map_err(|e| e.to_string())
}

/// Data given on the command line: JSON if it parses, else the string as is.
fn data(arg: &str) -> Value {
    serde_json::from_str(arg).unwrap_or_else(|_| Value::String(arg.to_owned()))
}

fn flag(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

async fn run(pusher: &Pusher, args: &[String]) -> Result<Value, Error> {
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let reply = match arg(0) {
        "trigger" => {
            let channels: Vec<&str> = arg(1).split(',').collect();
            let exclude = option(args, "--exclude").map(SocketId::new).transpose()?;
            // The trigger borrows its data until it is sent.
            let data = data(arg(3));
            let mut trigger = pusher.trigger(channels, arg(2), &data).exclude(exclude);
            if flag(args, "--info") {
                trigger = trigger.with_subscription_count().with_user_count();
            }
            let reply = trigger.await?;
            json!({ "channels": reply.channels })
        }
        "batch" => {
            let items: Vec<Value> = serde_json::from_str(arg(1)).unwrap_or_default();
            let events = items.iter().map(|item| {
                let field = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default();
                let mut event = BatchEvent::new(field("channel"), field("name"), &item["data"]);
                if item.get("info").is_some() {
                    event = event.with_subscription_count();
                }
                event
            });
            let reply = pusher.trigger_batch(events.collect::<Vec<_>>()).await?;
            json!({ "batch": reply.batch })
        }
        "channels" => {
            let mut query = pusher.channels();
            if let Some(prefix) = option(args, "--prefix") {
                query = query.prefix(prefix);
            }
            if flag(args, "--user-count") {
                query = query.with_user_count();
            }
            json!({ "channels": query.await?.channels })
        }
        "channel" => {
            let mut query = pusher.channel(arg(1));
            if flag(args, "--user-count") {
                query = query.with_user_count();
            }
            if flag(args, "--subscription-count") {
                query = query.with_subscription_count();
            }
            let info = query.await?;
            json!({
                "occupied": info.occupied,
                "user_count": info.user_count,
                "subscription_count": info.subscription_count,
            })
        }
        "users" => {
            let users = pusher.users(arg(1)).await?;
            json!({ "users": users.iter().map(|u| &u.id).collect::<Vec<_>>() })
        }
        "terminate" => {
            pusher.terminate_user_connections(arg(1)).await?;
            json!({})
        }
        "send-to-user" => {
            pusher.send_to_user(arg(1), arg(2), &data(arg(3))).await?;
            json!({})
        }
        other => json!({ "usage": format!("unknown command {other:?}") }),
    };
    Ok(reply)
}

const USAGE: &str = "\
usage: cli COMMAND [ARGS]   (server: PUSHER_URL, or the pusher table of Rocket.toml)

  trigger CHANNEL[,CHANNEL...] EVENT DATA [--exclude SOCKET_ID] [--info]
  batch '[{\"channel\":\"a\",\"name\":\"e\",\"data\":\"x\"}]'
  channels [--prefix PREFIX] [--user-count]
  channel CHANNEL [--user-count] [--subscription-count]
  users PRESENCE_CHANNEL
  terminate USER_ID
  send-to-user USER_ID EVENT DATA

Prints the reply as JSON; on failure, {\"error\", \"status\"} on stderr and exit status 1.";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || flag(&args, "--help") || flag(&args, "-h") {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let pusher = match client() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}", json!({ "error": e }));
            return ExitCode::FAILURE;
        }
    };
    match run(&pusher, &args).await {
        Ok(reply) if reply.get("usage").is_some() => {
            eprintln!("{}\n\n{USAGE}", reply["usage"].as_str().unwrap_or_default());
            ExitCode::from(2)
        }
        Ok(reply) => {
            println!("{reply}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "{}",
                json!({ "error": e.to_string(), "status": e.status() })
            );
            ExitCode::FAILURE
        }
    }
}
