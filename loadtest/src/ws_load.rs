//! The WebSocket load generator of `scripts/bench --phases server`: one run against one
//! Pusher-protocol server (sockudo, or `ws_app`'s embedded server), printing one JSON line.
//!
//! 1. The server's RSS (`/proc/<pid>/status`), then `--conns` connections, each waiting
//!    for `pusher:connection_established` and subscribing public channel `bench-<i mod
//!    --channels>` until `pusher_internal:subscription_succeeded`; after a settling second
//!    the RSS again: memory per 1,000 idle connections.
//! 2. Fan-out: `--events` events triggered as fast as they complete (`--concurrency` in
//!    flight), each delivered to every subscriber of its channel; deliveries per second
//!    from the first trigger to the last delivery.
//! 3. Latency: `--latency-events` events paced at `--rate` per second; p50/p99 of trigger
//!    (the stamp in the event's data) to delivery (its arrival in the reader).
//!
//! `--mode http` triggers through the server's HTTP API with the crate's `Pusher` client
//! (`--api`, a Pusher URL); `--mode inproc` asks the bench app (`--fire`, its base URL)
//! to trigger the same loop in process. Everything goes to 127.0.0.1.
//!
//! ```text
//! ws_load --ws 127.0.0.1:7501 --key KEY --pid 1234 --mode http \
//!   --api http://KEY:SUPERSECRET@127.0.0.1:7501/apps/1234 --label sockudo
//! ```

#[path = "ws/fire.rs"]
mod fire;
#[path = "ws/histogram.rs"]
mod histogram;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fire::{EVENT, channel, now_micros};
use futures_util::{SinkExt, StreamExt, stream};
use histogram::Histogram;
use rocket_pusher::Pusher;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What every reader adds to.
#[derive(Debug)]
struct Shared {
    latency: Histogram,
    deliveries: AtomicU64,
    last_delivery: AtomicU64,
}

#[derive(Debug)]
struct Args {
    ws: String,
    key: String,
    pid: u32,
    mode: String,
    api: String,
    fire: String,
    label: String,
    conns: usize,
    channels: usize,
    events: usize,
    concurrency: usize,
    latency_events: usize,
    rate: f64,
    timeout: u64,
}

fn args() -> Args {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or_else(|| default.to_owned(), Clone::clone)
    };
    let num = |name: &str, default: &str| -> f64 {
        let v = get(name, default);
        match v.parse() {
            Ok(n) => n,
            Err(_) => panic!("{name} takes a number, not {v:?}"),
        }
    };
    Args {
        ws: get("--ws", "127.0.0.1:7501"),
        key: get("--key", "KEY"),
        pid: num("--pid", "0") as u32,
        mode: get("--mode", "http"),
        api: get("--api", ""),
        fire: get("--fire", ""),
        label: get("--label", "server"),
        conns: num("--conns", "1000") as usize,
        channels: (num("--channels", "10") as usize).max(1),
        events: num("--events", "2000") as usize,
        concurrency: num("--concurrency", "8") as usize,
        latency_events: num("--latency-events", "500") as usize,
        rate: num("--rate", "100"),
        timeout: num("--timeout", "60") as u64,
    }
}

/// The process's resident set, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The next text frame's `event` and `data` (a frame's data is a JSON string or object).
async fn next_event(ws: &mut Ws) -> Result<(String, Value), String> {
    while let Some(msg) = ws.next().await {
        match msg.map_err(|e| e.to_string())? {
            Message::Text(text) => {
                let mut frame: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                let event = frame["event"].as_str().unwrap_or_default().to_owned();
                return Ok((event, frame["data"].take()));
            }
            Message::Close(close) => return Err(format!("closed: {close:?}")),
            _ => {}
        }
    }
    Err("the connection ended".to_owned())
}

/// Connects, waits for the socket id, subscribes `channel` and waits for the server's yes.
async fn open(url: &str, channel: &str) -> Result<Ws, String> {
    let (mut ws, _) = connect_async(url).await.map_err(|e| e.to_string())?;
    let (event, _) = next_event(&mut ws).await?;
    if event != "pusher:connection_established" {
        return Err(format!("expected connection_established, got {event}"));
    }
    let subscribe = json!({ "event": "pusher:subscribe", "data": { "channel": channel } });
    ws.send(Message::Text(subscribe.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match next_event(&mut ws).await?.0.as_str() {
            "pusher_internal:subscription_succeeded" => return Ok(ws),
            "pusher:error" | "pusher:subscription_error" => return Err("refused".to_owned()),
            _ => {}
        }
    }
}

/// Reads until the connection ends: each bench event's latency, pongs for pings.
async fn read(mut ws: Ws, shared: Arc<Shared>) {
    while let Ok((event, data)) = next_event(&mut ws).await {
        if event == EVENT {
            let now = now_micros();
            let stamp = match &data {
                Value::String(s) => serde_json::from_str::<Value>(s)
                    .ok()
                    .and_then(|d| d["t"].as_u64()),
                d => d["t"].as_u64(),
            };
            if let Some(t) = stamp {
                shared.latency.record(now.saturating_sub(t));
            }
            shared.deliveries.fetch_add(1, Ordering::Relaxed);
            shared.last_delivery.fetch_max(now, Ordering::Relaxed);
        } else if event == "pusher:ping" {
            let pong = json!({ "event": "pusher:pong", "data": {} }).to_string();
            if ws.send(Message::Text(pong)).await.is_err() {
                break;
            }
        }
    }
}

/// Fires `events` events (at `rate`, 0 for as fast as they complete) the way `--mode`
/// says; returns how many triggers failed.
async fn fire(args: &Args, pusher: Option<&Pusher>, events: usize, rate: f64) -> usize {
    if let Some(pusher) = pusher {
        return fire::fire(pusher, events, args.channels, rate, args.concurrency).await;
    }
    // A bare HTTP/1.1 POST: reqwest without a TLS provider would refuse to build a client.
    let host = args.fire.trim_start_matches("http://").to_owned();
    let request = format!(
        "POST /bench/fire?events={events}&channels={}&rate={rate}&concurrency={} HTTP/1.1\r\n\
         Host: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        args.channels, args.concurrency
    );
    let mut answer = String::new();
    let sent = async {
        let mut stream = TcpStream::connect(host.as_str()).await?;
        stream.write_all(request.as_bytes()).await?;
        stream.read_to_string(&mut answer).await
    };
    if sent.await.is_err() {
        return events;
    }
    let answer = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str::<Value>(answer)
        .ok()
        .and_then(|v| v["failed"].as_u64())
        .map_or(events, |n| n as usize)
}

/// Fires, then waits (up to the timeout) for every expected delivery; returns the failed
/// triggers, the deliveries and the seconds from the first trigger to the last delivery.
async fn phase(
    args: &Args,
    shared: &Shared,
    pusher: Option<&Pusher>,
    events: usize,
    rate: f64,
    expected: u64,
) -> (usize, u64, f64) {
    shared.latency.reset();
    shared.deliveries.store(0, Ordering::Relaxed);
    let start = now_micros();
    shared.last_delivery.store(start, Ordering::Relaxed);
    let failed = fire(args, pusher, events, rate).await;
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    while shared.deliveries.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Stragglers past the count (none expected) are not waited for.
    let delivered = shared.deliveries.load(Ordering::Relaxed);
    let seconds = shared
        .last_delivery
        .load(Ordering::Relaxed)
        .saturating_sub(start) as f64
        / 1e6;
    (failed, delivered, seconds)
}

async fn run(args: Args) -> Value {
    let rss_before = rss_kib(args.pid);
    let url = format!(
        "ws://{}/app/{}?protocol=7&client=js&version=8.4.0&flash=false",
        args.ws, args.key
    );
    let shared = Arc::new(Shared {
        latency: Histogram::new(),
        deliveries: AtomicU64::new(0),
        last_delivery: AtomicU64::new(0),
    });
    // Connect 64 at a time: a burst of 1,000 handshakes would overflow the listen backlog.
    let opened: Vec<(usize, Result<Ws, String>)> = stream::iter(0..args.conns)
        .map(|i| {
            let url = url.clone();
            async move { (i, open(&url, &channel(i % args.channels)).await) }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let mut per_channel = vec![0_u64; args.channels];
    let mut failed_connections = 0;
    let mut first_error = None;
    for (i, ws) in opened {
        match ws {
            Ok(ws) => {
                per_channel[i % args.channels] += 1;
                tokio::spawn(read(ws, Arc::clone(&shared)));
            }
            Err(e) => {
                failed_connections += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = rss_kib(args.pid);
    let open_conns = args.conns - failed_connections;
    let per_1000 = if open_conns == 0 {
        0.0
    } else {
        (rss_after.saturating_sub(rss_before)) as f64 / open_conns as f64 * 1000.0
    };
    // Every event on channel c reaches its subscribers.
    let expected =
        |events: usize| -> u64 { (0..events).map(|i| per_channel[i % args.channels]).sum() };

    let pusher = if args.mode == "http" {
        match Pusher::from_url(&args.api) {
            Ok(p) => Some(p),
            Err(e) => panic!("--api: {e}"),
        }
    } else {
        None
    };
    // Warm up both sides' pools and caches.
    let warm = args.channels * 5;
    phase(&args, &shared, pusher.as_ref(), warm, 0.0, expected(warm)).await;

    let (tp_failed, tp_delivered, tp_seconds) = phase(
        &args,
        &shared,
        pusher.as_ref(),
        args.events,
        0.0,
        expected(args.events),
    )
    .await;
    let (sat_p50, sat_p99) = (shared.latency.quantile(0.5), shared.latency.quantile(0.99));
    let (lat_failed, lat_delivered, _) = phase(
        &args,
        &shared,
        pusher.as_ref(),
        args.latency_events,
        args.rate,
        expected(args.latency_events),
    )
    .await;
    json!({
        "label": args.label, "mode": args.mode,
        "conns": open_conns, "failed_connections": failed_connections,
        "first_error": first_error, "channels": args.channels,
        "rss_before_kib": rss_before, "rss_after_kib": rss_after, "kib_per_1000": per_1000,
        "events": args.events, "concurrency": args.concurrency,
        "deliveries": tp_delivered, "expected": expected(args.events),
        "seconds": tp_seconds,
        "deliveries_per_s": if tp_seconds > 0.0 { tp_delivered as f64 / tp_seconds } else { 0.0 },
        "saturated_p50_us": sat_p50, "saturated_p99_us": sat_p99,
        "latency_events": args.latency_events, "rate": args.rate,
        "latency_deliveries": lat_delivered, "latency_expected": expected(args.latency_events),
        "p50_us": shared.latency.quantile(0.5), "p99_us": shared.latency.quantile(0.99),
        "failed_triggers": tp_failed + lat_failed,
    })
}

fn main() {
    let args = args();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("tokio: {e}"),
    };
    let result = runtime.block_on(run(args));
    println!("{result}");
    // The readers are still parked on their sockets: leave without waiting for them.
    runtime.shutdown_background();
}
