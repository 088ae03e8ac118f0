//! What the integration tests share, once. A test file declares `mod support;` and uses
//!
//! * [`rocket_app`]: an app built from a figment with a `pusher` table (no `Rocket.toml`,
//!   no environment), the local client and a real server on 127.0.0.1, form and webhook
//!   requests, ignite failures, log capture, and the fixture vectors;
//! * [`mock_api`]: a stand-in for Pusher's HTTP API on 127.0.0.1 that checks signatures.
//!
//! Each file is also usable alone (`#[path = "support/rocket_app.rs"] mod rocket_app;`).

pub(crate) mod mock_api;
pub(crate) mod rocket_app;
