//! The benchmark server `scripts/bench` loads with wrk: the fairing's routes, an app's
//! own `VerifiedWebhook<PresenceEvent>` route and the bare floor route (see `app.rs`), on
//! 127.0.0.1 only.
//!
//! ```text
//! bench_app --port 18101 --channel-routes 100
//! ```
//!
//! It runs until stopped (SIGTERM or Ctrl-C).

mod app;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| match v.parse() {
                Ok(n) => n,
                Err(_) => panic!("{name} takes a number, not {v:?}"),
            })
    };
    let Ok(port) = u16::try_from(value("--port", 18101)) else {
        panic!("--port is out of range")
    };
    let routes = value("--channel-routes", 1).max(1);
    if let Err(e) = rocket::execute(app::rocket(app::figment(port), routes).launch()) {
        eprintln!("bench_app: {e}");
        std::process::exit(1);
    }
}
