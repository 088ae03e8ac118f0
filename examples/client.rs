//! The HTTP client on its own: trigger events and query channels.
//!
//! The server comes from `PUSHER_URL` (`https://KEY:SECRET@HOST/apps/APP_ID`), or else
//! from the `pusher` table of `Rocket.toml` (the local sockudo of `scripts/demo`):
//!
//! ```sh
//! scripts/sockudo.sh install && scripts/sockudo.sh start
//! cargo run --example client
//! ```

use std::error::Error;
use std::process::ExitCode;

use rocket::figment::Figment;
use rocket::figment::providers::{Env, Format, Toml};
use rocket_pusher::Pusher;
use rocket_pusher::client::BatchEvent;
use rocket_pusher::config::PusherConfig;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // For people: the message and its causes, not the `Debug` form `?` in `main`
            // would print.
            eprintln!("error: {e}");
            let mut cause = e.source();
            while let Some(c) = cause {
                eprintln!("  caused by: {c}");
                cause = c.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let pusher = match std::env::var("PUSHER_URL") {
        Ok(url) => Pusher::from_url(&url)?,
        Err(_) => {
            // The same table the fairing reads, here without Rocket.
            let config: PusherConfig = Figment::new()
                .merge(Toml::file("Rocket.toml").nested())
                .merge(Env::prefixed("ROCKET_").global())
                .extract_inner("pusher")?;
            Pusher::from_config(&config)?
        }
    };
    println!("{pusher:?}");

    let reply = pusher
        .trigger(
            ["news", "audit"],
            "published",
            &serde_json::json!({ "title": "Hello" }),
        )
        .with_subscription_count()
        .await?;
    println!("triggered on two channels: {:?}", reply.channels);

    pusher
        .trigger_batch([
            BatchEvent::new("news", "published", "first"),
            BatchEvent::new("audit", "logged", &serde_json::json!({ "n": 2 })),
        ])
        .await?;
    println!("batch of two sent");

    if pusher.master_key().is_some() {
        pusher
            .trigger(
                "private-encrypted-notes",
                "note",
                &serde_json::json!({ "text": "secret" }),
            )
            .await?;
        println!("encrypted event sent");
    }

    let channels = pusher.channels().await?;
    println!(
        "occupied channels: {:?}",
        channels.channels.keys().collect::<Vec<_>>()
    );
    let presence = pusher
        .channels()
        .prefix("presence-")
        .with_user_count()
        .await?;
    for (name, attrs) in &presence.channels {
        println!("{name}: {:?} users", attrs.user_count);
    }
    Ok(())
}
