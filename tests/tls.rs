//! The client's TLS stack, whichever feature chose it: a client built by default speaks TLS
//! to an `https` endpoint (a listener on 127.0.0.1 reads its ClientHello) without a
//! process-wide rustls provider, and plain HTTP to an `http` one; built without TLS, it
//! refuses an `https` endpoint. `.ci/run` runs this file with the default features (rustls
//! with ring), with none, and with all of them (native-tls).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mock_api.rs"]
mod mock_api;

use std::time::Duration;

use mock_api::MockApi;
use rocket_pusher::Pusher;
use rocket_pusher::client::{PusherBuilder, RetryPolicy};

const KEY: &str = "test-key";
const SECRET: &str = "MARKER-SECRET-123";

fn builder(port: u16) -> PusherBuilder {
    Pusher::builder("4321", KEY, SECRET)
        .host("127.0.0.1")
        .port(port)
        .timeout(Duration::from_secs(5))
        .retry(RetryPolicy::never())
}

/// An `https` endpoint on 127.0.0.1 that reads the client's first bytes and hangs up.
#[cfg(any(
    feature = "rustls-ring",
    feature = "rustls-aws-lc",
    feature = "native-tls"
))]
mod https {
    use super::*;
    use rocket_pusher::Error;
    use tokio::{io::AsyncReadExt, net::TcpListener};

    /// Build a client with `make(port)` towards a listener, trigger once, and check that
    /// the client opened with a ClientHello and then failed with a typed error.
    async fn says_hello(make: impl FnOnce(u16) -> Pusher) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let pusher = make(listener.local_addr().unwrap().port());
        let trigger = tokio::spawn(async move {
            pusher
                .trigger("orders", "created", &serde_json::json!({ "id": 7 }))
                .await
                .map(drop)
        });
        let (mut conn, _) = listener.accept().await.unwrap();
        // A TLS record header (5 bytes) and the handshake message's type: a handshake
        // record (22) of TLS (3, _) carrying a ClientHello (1).
        let mut head = [0; 6];
        conn.read_exact(&mut head).await.unwrap();
        assert!(
            head[0] == 22 && head[1] == 3 && head[5] == 1,
            "not a ClientHello: {head:?}"
        );
        drop(conn);
        // The server hung up mid-handshake: a typed connection error, not a panic.
        let outcome = trigger.await.unwrap();
        assert!(matches!(outcome, Err(Error::Connect(_))), "{outcome:?}");
    }

    #[tokio::test]
    async fn a_default_client_speaks_tls_to_an_https_endpoint() {
        // `use_tls` is on by default; building must not need a provider installed first.
        says_hello(|port| builder(port).build().unwrap()).await;
        // The provider came with the client's configuration: the process's default is
        // the app's to choose, and is still unset.
        #[cfg(feature = "rustls-ring")]
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    }

    #[tokio::test]
    async fn the_crates_reqwest_builder_makes_an_https_capable_client_of_the_apps_own() {
        says_hello(|port| {
            let http = rocket_pusher::client::http_client_builder()
                .unwrap()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            builder(port).http_client(http).build().unwrap()
        })
        .await;
    }
}

#[tokio::test]
async fn the_same_client_speaks_plain_http_to_an_http_endpoint() {
    let api = MockApi::start(KEY, SECRET).await;
    let pusher = builder(api.port()).use_tls(false).build().unwrap();

    pusher
        .trigger("orders", "created", &serde_json::json!({ "id": 7 }))
        .await
        .unwrap();
    let req = api.only_request();
    assert!(req.accepted());
    assert_eq!(req.json()["channels"], serde_json::json!(["orders"]));
}

/// Built without any TLS feature, an `https` endpoint is refused when the client is built,
/// naming the features, rather than failing every request.
#[cfg(not(any(
    feature = "rustls-ring",
    feature = "rustls-aws-lc",
    feature = "native-tls"
)))]
#[test]
fn a_build_without_tls_refuses_an_https_endpoint() {
    let err = builder(443).build().unwrap_err().to_string();
    assert!(
        err.contains("use_tls") && err.contains("rustls-ring"),
        "{err}"
    );
    assert!(builder(443).use_tls(false).build().is_ok());
}
