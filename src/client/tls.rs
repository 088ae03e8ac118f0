//! Which TLS stack the HTTP client speaks, as the crate's features chose it.
//!
//! | feature | stack |
//! | --- | --- |
//! | `rustls-ring` (default) | rustls with the ring provider, the platform's roots |
//! | `rustls-aws-lc` | rustls with aws-lc-rs (reqwest's own default; a slower first build) |
//! | `native-tls` | the platform's library (OpenSSL on Linux) |
//!
//! Features add up; when several are on, the one asked for beyond the default wins:
//! `native-tls`, then `rustls-aws-lc`, then `rustls-ring`. With none, the client speaks
//! plain HTTP only, and an `https` endpoint is a configuration error.

use crate::error::ConfigError;

/// A `reqwest` client builder on the TLS stack this build of the crate speaks: the one
/// [`Pusher`](crate::Pusher) starts from, before its timeouts.
///
/// The stack is the crate feature asked for beyond the default, when several are on:
/// `native-tls` (the platform's library), then `rustls-aws-lc` (rustls with aws-lc-rs),
/// then `rustls-ring` (the default: rustls with ring and the system's root certificates).
/// With none of them the builder speaks plain HTTP only, and a client configured for an
/// `https` endpoint is refused when built.
///
/// Start from it to hand [`PusherBuilder::http_client`](crate::client::PusherBuilder::http_client)
/// a client of your own (a proxy, pool settings): with the default `rustls-ring` feature,
/// reqwest is built without a crypto provider of its own, and
/// `reqwest::Client::builder().build()` would panic unless the app installed a
/// process-wide rustls provider first. This builder brings its provider with it and leaves
/// the process's default alone.
///
/// ```
/// use std::time::Duration;
///
/// let http = rocket_pusher::client::http_client_builder()?
///     .pool_idle_timeout(Duration::from_secs(30))
///     .build()?;
/// let pusher = rocket_pusher::Pusher::builder("1234", "278d425bdf160c739803", "7ad3773142a6692b25b8")
///     .cluster("eu")
///     .http_client(http)
///     .build()?;
/// # let _ = pusher;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, ConfigError> {
    let builder = reqwest::Client::builder();
    #[cfg(feature = "native-tls")]
    let builder = builder.tls_backend_native();
    #[cfg(all(feature = "rustls-aws-lc", not(feature = "native-tls")))]
    let builder = builder.tls_backend_rustls();
    #[cfg(all(
        feature = "rustls-ring",
        not(any(feature = "native-tls", feature = "rustls-aws-lc"))
    ))]
    let builder = builder.tls_backend_preconfigured(ring_config()?);
    Ok(builder)
}

/// Whether this build can reach an `https` endpoint.
pub(crate) const SPEAKS_TLS: bool = cfg!(any(
    feature = "rustls-ring",
    feature = "rustls-aws-lc",
    feature = "native-tls"
));

/// rustls with ring and the platform's roots, as reqwest builds its own configuration:
/// TLS 1.2 and 1.3, the platform verifier, ALPN `http/1.1` (the client has no HTTP/2).
/// Given to reqwest ready-made, so that no process-wide provider is needed or installed.
#[cfg(all(
    feature = "rustls-ring",
    not(any(feature = "native-tls", feature = "rustls-aws-lc"))
))]
fn ring_config() -> Result<rustls::ClientConfig, ConfigError> {
    use rustls_platform_verifier::BuilderVerifierExt;

    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(BuilderVerifierExt::with_platform_verifier)
        .map_err(|e| ConfigError::Invalid {
            key: "transport",
            reason: format!("TLS could not be set up: {e}"),
        })?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
