//! The protocol's costs, each next to the bare primitive on the same bytes.
//!
//! Every group has an `ours` function (the crate's public API) and a `bare` one: one
//! HMAC-SHA256 (or MD5 + HMAC for REST signing, which the protocol requires both of), or
//! one secretbox seal under an already derived key. `scripts/bench` reads criterion's
//! medians from `target/criterion/<group>/<function>/new/estimates.json` and prints
//! `ours / bare`, the overhead ratio. Webhook parsing has a second floor, `bare_parse`:
//! HMAC plus serde's derived parse of the same JSON into plain structs, the cheapest typed
//! parse a hand-written receiver could do.
//!
//! `cargo bench --bench protocol` (about two minutes); never run by `cargo test`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use crypto_secretbox::aead::{Aead, KeyInit as _};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use rocket_pusher::__private::Matcher;
use rocket_pusher::protocol::{
    self, MasterKey, PresenceMember, Token, UserData, Webhook, authenticate_user,
    authorize_presence, authorize_private, encrypt_payload, sign_request, sign_webhook,
    verify_webhook,
};
use rocket_pusher::{ChannelRoute, Decision, PresenceEvent};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

const KEY: &str = "278d425bdf160c739803";
const SECRET: &str = "7ad3773142a6692b25b8";
const SOCKET: &str = "123.456";

type HmacSha256 = Hmac<Sha256>;

fn token() -> Token {
    Token::new(KEY, SECRET)
}

/// The bare primitive: one HMAC-SHA256 of `msg` under the app secret, keyed from scratch.
fn hmac(msg: &[u8]) -> [u8; 32] {
    hmac_parts(&[msg])
}

/// One HMAC-SHA256 of the concatenated `parts`.
fn hmac_parts(parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(SECRET.as_bytes()) else {
        unreachable!("HMAC takes any key length")
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    g
}

fn authorization(c: &mut Criterion) {
    let token = token();

    let mut g = group(c, "auth_private");
    let channel = "private-bench";
    let msg = format!("{SOCKET}:{channel}");
    g.bench_function("ours", |b| {
        b.iter(|| authorize_private(&token, black_box(SOCKET), black_box(channel)))
    });
    g.bench_function("bare", |b| b.iter(|| hmac(black_box(msg.as_bytes()))));
    g.finish();

    let mut g = group(c, "auth_presence");
    let channel = "presence-room";
    let member = PresenceMember::new("alice").with_info(json!({ "name": "Alice" }));
    let data = member.to_channel_data().unwrap_or_default();
    let msg = format!("{SOCKET}:{channel}:{data}");
    g.bench_function("ours", |b| {
        b.iter(|| authorize_presence(&token, black_box(SOCKET), black_box(channel), &member))
    });
    g.bench_function("bare", |b| b.iter(|| hmac(black_box(msg.as_bytes()))));
    // What the protocol cannot skip: the member's JSON is what gets signed and returned.
    g.bench_function("bare_serialize", |b| {
        b.iter(|| {
            let data = serde_json::to_string(black_box(&member)).unwrap_or_default();
            let sig = hmac_parts(&[
                SOCKET.as_bytes(),
                b":",
                channel.as_bytes(),
                b":",
                data.as_bytes(),
            ]);
            (data, sig)
        })
    });
    g.finish();

    let mut g = group(c, "user_signin");
    let user = UserData::new("alice").with_info(json!({ "name": "Alice" }));
    let data = serde_json::to_string(&user).unwrap_or_default();
    let msg = format!("{SOCKET}::user::{data}");
    g.bench_function("ours", |b| {
        b.iter(|| authenticate_user(&token, black_box(SOCKET), &user))
    });
    g.bench_function("bare", |b| b.iter(|| hmac(black_box(msg.as_bytes()))));
    g.bench_function("bare_serialize", |b| {
        b.iter(|| {
            let data = serde_json::to_string(black_box(&user)).unwrap_or_default();
            let sig = hmac_parts(&[SOCKET.as_bytes(), b"::user::", data.as_bytes()]);
            (data, sig)
        })
    });
    g.finish();
}

/// A webhook body of exactly `len` bytes: presence, existence and client events in turn,
/// the last `user_id` padded to the length.
fn webhook_body(len: usize) -> Vec<u8> {
    let event = |i: usize| match i % 3 {
        0 => {
            json!({ "name": "member_added", "channel": "presence-room", "user_id": format!("user-{i}") })
        }
        1 => json!({ "name": "channel_occupied", "channel": format!("private-bench-{i}") }),
        _ => json!({ "name": "client_event", "channel": "private-chat", "event": "client-typing",
                     "data": "{\"typing\":true}", "socket_id": "123.456" }),
    };
    let mut events = Vec::new();
    loop {
        events.push(event(events.len()));
        let body = json!({ "time_ms": 1_700_000_000_000u64, "events": events }).to_string();
        // Room left for the padding event (about 70 bytes)?
        if body.len() + 80 > len {
            events.pop();
            break;
        }
    }
    let base = json!({ "time_ms": 1_700_000_000_000u64, "events": events }).to_string();
    let pad_event = json!({ "name": "member_removed", "channel": "presence-room", "user_id": "" });
    let sep = usize::from(!events.is_empty());
    let pad = len.saturating_sub(base.len() + sep + pad_event.to_string().len());
    events.push(
        json!({ "name": "member_removed", "channel": "presence-room", "user_id": "x".repeat(pad) }),
    );
    let body = json!({ "time_ms": 1_700_000_000_000u64, "events": events }).to_string();
    debug_assert_eq!(body.len(), len);
    body.into_bytes()
}

/// What a hand-written receiver would parse into: plain derived structs, no `Unknown`
/// event kept, no family narrowing.
#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainHook {
    time_ms: u64,
    events: Vec<PlainEvent>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainEvent {
    name: String,
    channel: String,
    user_id: Option<String>,
    event: Option<String>,
    data: Option<String>,
    socket_id: Option<String>,
}

fn webhooks(c: &mut Criterion) {
    let tokens = [token()];
    for (label, len) in [("300B", 300), ("4KiB", 4096), ("64KiB", 65536)] {
        let body = webhook_body(len);
        let sig = sign_webhook(&tokens[0], &body);
        let mut sig_bytes = [0u8; 32];
        if hex::decode_to_slice(&sig, &mut sig_bytes).is_err() {
            unreachable!("a signature is 64 hex digits");
        }
        let bare_verify = |body: &[u8]| {
            let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(SECRET.as_bytes()) else {
                unreachable!("HMAC takes any key length")
            };
            mac.update(body);
            mac.verify_slice(&sig_bytes).is_ok()
        };

        let mut g = group(c, &format!("webhook_verify_{label}"));
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function("ours", |b| {
            b.iter(|| {
                verify_webhook(&tokens, Some(KEY), Some(black_box(&sig)), black_box(&body)).is_ok()
            })
        });
        g.bench_function("bare", |b| b.iter(|| bare_verify(black_box(&body))));
        g.finish();

        let mut g = group(c, &format!("webhook_parse_{label}"));
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function("ours", |b| {
            b.iter(|| {
                verify_webhook(&tokens, Some(KEY), Some(black_box(&sig)), black_box(&body))?;
                let hook = Webhook::parse(&body)?;
                Ok::<_, protocol::WebhookError>(
                    protocol::narrow_events::<PresenceEvent>(hook.events)
                        .0
                        .len(),
                )
            })
        });
        g.bench_function("bare", |b| b.iter(|| bare_verify(black_box(&body))));
        g.bench_function("bare_parse", |b| {
            b.iter(|| {
                bare_verify(black_box(&body))
                    && serde_json::from_slice::<PlainHook>(&body)
                        .is_ok_and(|h| !h.events.is_empty())
            })
        });
        g.finish();
    }
}

fn rest_signing(c: &mut Criterion) {
    let token = token();
    let path = "/apps/1234/events";
    let body = br#"{"name":"message","data":"{\"from\":\"alice\",\"text\":\"hello world\"}","channels":["presence-room"]}"#;
    let signed = sign_request(&token, "POST", path, &[], Some(body), 1_700_000_000);
    let string_to_sign = signed.string_to_sign;

    let mut g = group(c, "rest_sign");
    g.bench_function("ours", |b| {
        b.iter(|| {
            sign_request(
                &token,
                "POST",
                black_box(path),
                &[],
                Some(black_box(body)),
                1_700_000_000,
            )
        })
    });
    // The protocol requires both: the body's MD5 goes into the string that is signed.
    g.bench_function("bare", |b| {
        b.iter(|| {
            (
                Md5::digest(black_box(body)),
                hmac(black_box(string_to_sign.as_bytes())),
            )
        })
    });
    g.bench_function("bare_hmac", |b| {
        b.iter(|| hmac(black_box(string_to_sign.as_bytes())))
    });
    g.finish();
}

fn encryption(c: &mut Criterion) {
    let master = MasterKey::from_bytes(std::array::from_fn(|i| i as u8));
    let channel = "private-encrypted-notes";
    let nonce = [7u8; 24];
    let key = master.shared_secret(channel);
    let cipher = XSalsa20Poly1305::new(Key::from_slice(&key));
    for (label, len) in [("100B", 100), ("10KiB", 10240)] {
        let plaintext = vec![b'a'; len];
        let mut g = group(c, &format!("encrypt_{label}"));
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function("ours", |b| {
            b.iter(|| encrypt_payload(&master, black_box(channel), black_box(&plaintext), &nonce))
        });
        g.bench_function("bare", |b| {
            b.iter(|| cipher.encrypt(Nonce::from_slice(&nonce), black_box(plaintext.as_slice())))
        });
        // The protocol derives each channel's key: SHA-256 of the name and the master key.
        g.bench_function("bare_derive", |b| {
            b.iter(|| {
                let key = master.shared_secret(black_box(channel));
                XSalsa20Poly1305::new(Key::from_slice(&key))
                    .encrypt(Nonce::from_slice(&nonce), black_box(plaintext.as_slice()))
            })
        });
        g.finish();
    }
}

fn channel_route_matching(c: &mut Criterion) {
    let allow = |pattern: String| {
        ChannelRoute::new(pattern, |_, _, _| Box::pin(async { Ok(Decision::Allow) }))
    };
    // 100 routes sharing the first segment: the target is the last of one bucket's scan.
    let same_prefix = |n: usize| -> Vec<ChannelRoute> {
        let mut routes: Vec<_> = (1..n)
            .map(|i| allow(format!("private-orders.d{i}.<id>")))
            .collect();
        routes.push(allow("private-orders.target.<id>".into()));
        routes
    };
    // 100 routes each with its own first segment: one hash lookup, one pattern.
    let own_prefix = |n: usize| -> Vec<ChannelRoute> {
        let mut routes: Vec<_> = (1..n)
            .map(|i| allow(format!("private-r{i}.<id>")))
            .collect();
        routes.push(allow("private-orders.target.<id>".into()));
        routes
    };
    let mut g = group(c, "channel_routes");
    for (name, routes) in [
        ("1", same_prefix(1)),
        ("100_same_prefix", same_prefix(100)),
        ("100_own_prefix", own_prefix(100)),
    ] {
        let matcher = match Matcher::new(&routes) {
            Ok(m) => m,
            Err(e) => panic!("bench routes are valid: {e:?}"),
        };
        assert!(matcher.find("private-orders.target.42").is_some());
        g.bench_function(name, |b| {
            b.iter(|| matcher.find(black_box("private-orders.target.42")))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    authorization,
    webhooks,
    rest_signing,
    encryption,
    channel_route_matching
);
criterion_main!(benches);
