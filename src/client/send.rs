//! Signing and sending a request, with retries.

use std::time::{SystemTime, UNIX_EPOCH};

use super::transport::{Outgoing, Transport, decode};
use super::{Inner, Pusher, Recorder, RetryPolicy};
use crate::error::Error;
use crate::protocol::{self, Token};

impl Pusher {
    /// A signed GET, retried by the client's policy.
    pub(crate) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<T, Error> {
        let body = self
            .inner
            .send("GET", path, params, None, &self.inner.retry, |_| {})
            .await?;
        decode(&body)
    }

    /// A signed POST, retried only by `retry` (a per-call policy) or by the client's policy
    /// when that allows writes.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: Vec<u8>,
        retry: Option<&RetryPolicy>,
    ) -> Result<Vec<u8>, Error> {
        let never = RetryPolicy::never();
        let policy = match retry {
            Some(p) => p,
            None if self.inner.retry.retry_writes => &self.inner.retry,
            None => &never,
        };
        // Shared, not copied, by every try; the last try takes it.
        let body = bytes::Bytes::from(body);
        self.inner
            .send("POST", path, &[], Some(body), policy, |_| {})
            .await
    }
}

impl Inner {
    pub(super) fn token(&self) -> &Token {
        &self.tokens[0]
    }

    /// Sign and send, trying again while `policy` says so (calling `on_retry` with each
    /// failure before the next try); each try is signed anew.
    pub(crate) async fn send(
        &self,
        method: &'static str,
        path: &str,
        params: &[(&str, &str)],
        mut body: Option<bytes::Bytes>,
        policy: &RetryPolicy,
        mut on_retry: impl FnMut(&Error) + Send,
    ) -> Result<Vec<u8>, Error> {
        let mut attempt = 1;
        let started = std::time::Instant::now();
        loop {
            let signed = self.sign(method, path, params, body.as_deref());
            let url = [self.endpoint.as_str(), path, "?", &signed.query].concat();
            // No try follows the last one, so it sends the body itself, not a clone.
            let this_body = if attempt >= policy.attempts {
                body.take()
            } else {
                body.clone()
            };
            let result = self
                .transport
                .send(
                    self.timeout,
                    Outgoing {
                        method,
                        url: &url,
                        path,
                        query: &signed.query,
                        body: this_body,
                    },
                )
                .await;
            let error = match result {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            let Some(delay) = policy.delay_after(attempt, &error) else {
                return Err(error.after_tries(attempt, started.elapsed()));
            };
            log::debug!(
                "pusher: {method} {path} failed ({error}); try {} of {} in {delay:?}",
                attempt + 1,
                policy.attempts
            );
            on_retry(&error);
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn sign(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> protocol::SignedRequest {
        protocol::sign_request(self.token(), method, path, params, body, now_secs())
    }

    /// The recorder, when this client uses the recording transport.
    pub(crate) fn recorder(&self) -> Option<&Recorder> {
        match &self.transport {
            Transport::Recording(r) => Some(r),
            Transport::Http(_) => None,
            #[cfg(feature = "server")]
            Transport::InProcess(_) => None,
        }
    }

    /// Record a POST at once, signed as it would have been sent.
    pub(crate) fn record_post(&self, recorder: &Recorder, path: &str, body: Vec<u8>) {
        let signed = self.sign("POST", path, &[], Some(&body));
        let url = [self.endpoint.as_str(), path, "?", &signed.query].concat();
        recorder.record(Outgoing {
            method: "POST",
            url: &url,
            path,
            query: &signed.query,
            body: Some(body.into()),
        });
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
