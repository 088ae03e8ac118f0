//! The client under load, and the sink it posts to; `scripts/bench` runs both.
//!
//! ```text
//! bench_client sink --port 18110                     # answers every request `200 {}`
//! bench_client sink --port 18111 --delay-ms 50        # ... each 50 ms after it came
//! bench_client run --port 18110 --mode ours --concurrency 64 --duration 5
//! bench_client run --port 18111 --mode queue --duration 5
//! ```
//!
//! The sink answers triggers (`/events`) and batches (`/batch_events`) `200 {}`, after
//! `--delay-ms` if given (a timer per request, so requests in flight wait side by side as
//! on a real round trip), and `GET /stats` at once with the requests and the events it
//! answered (one per channel of a trigger, one per entry of a batch); anything else gets
//! a 400.
//!
//! `run` triggers an event for `--duration` seconds (after a one-second warm-up) with
//! `--concurrency` triggers in flight, and prints one JSON line: triggers, triggers per
//! second, p50 and p99 latency in microseconds, errors, and the CPU ticks the process
//! used. `--mode ours` is `Pusher::trigger` (validate, serialize, sign, send, decode the
//! reply); `--mode raw` is the floor: a bare `reqwest::Client` posting the same request,
//! signed once beforehand, and reading the reply. Both use a `reqwest` client from
//! `rocket_pusher::client::http_client_builder` (the TLS stack the crate's features chose)
//! on a multi-threaded tokio runtime with one worker per core.
//!
//! `--mode both` runs the two in the same process, in turns of `--slice-ms` (250 by
//! default) in the order ours, raw, raw, ours, …, and prints a line for each: on a shared
//! machine, load that comes and goes falls on both alike, so their ratio moves far less
//! than that of two separate runs. `--count N` instead sends exactly N triggers after the
//! warm-up and then stops (for callgrind: the difference of two counts is per trigger).
//!
//! `--mode queue` is queued delivery: after a warm-up, one producer queues events to
//! `--channels` channels (64) in turn for `--duration` seconds, as fast as `queue()` takes
//! them, waiting a millisecond whenever the queue is full; the line gives the events the
//! dispatcher delivered meanwhile and per second, what was offered and refused, the most
//! events waiting at once, the queue's counters once flushed (checked to add up), and
//! the process's RSS (before, once a second while producing, VmHWM). `--capacity`,
//! `--lanes` and `--batch` set the queue (defaults: the crate's, and 10 per batch).
//!
//! Everything stays on 127.0.0.1.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rocket_pusher::config::QueueConfig;
use rocket_pusher::error::QueueError;
use rocket_pusher::protocol::Credentials;
use rocket_pusher::{Error, Pusher};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

const APP_ID: &str = "1234";
const KEY: &str = "278d425bdf160c739803";
const SECRET: &str = "7ad3773142a6692b25b8";
const CHANNEL: &str = "presence-room";
const EVENT: &str = "message";

/// The event's data: what a chat message looks like.
#[derive(Serialize)]
struct Message<'a> {
    from: &'a str,
    text: &'a str,
}

const MESSAGE: Message<'static> = Message {
    from: "alice",
    text: "hello world",
};

struct Args(Vec<String>);

impl Args {
    fn get(&self, name: &str) -> Option<&str> {
        let i = self.0.iter().position(|a| a == name)?;
        self.0.get(i + 1).map(String::as_str)
    }

    fn number(&self, name: &str, default: u64) -> u64 {
        self.get(name).map_or(default, |v| match v.parse() {
            Ok(n) => n,
            Err(_) => fail(&format!("{name} takes a number, not {v:?}")),
        })
    }
}

fn fail(message: &str) -> ! {
    eprintln!("bench_client: {message}");
    std::process::exit(2)
}

fn main() {
    let args = Args(std::env::args().skip(1).collect());
    let port = u16::try_from(args.number("--port", 18110)).unwrap_or_else(|_| fail("bad --port"));
    match args.0.first().map(String::as_str) {
        Some("sink") => {
            let threads = args.number("--threads", 1) as usize;
            let runtime = if threads <= 1 {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
            } else {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .enable_all()
                    .build()
            };
            let runtime = runtime.unwrap_or_else(|e| fail(&e.to_string()));
            let delay = Duration::from_millis(args.number("--delay-ms", 0));
            if let Err(e) = runtime.block_on(sink(port, delay)) {
                fail(&format!("sink: {e}"));
            }
        }
        Some("run") if args.get("--mode") == Some("queue") => {
            let defaults = QueueConfig::default();
            let plan = QueuePlan {
                duration: Duration::from_secs(args.number("--duration", 5)),
                channels: args.number("--channels", 64).max(1) as usize,
                capacity: args.number("--capacity", defaults.capacity as u64) as usize,
                lanes: args.number("--lanes", defaults.lanes as u64) as usize,
                batch: args.number("--batch", 10) as usize,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| fail(&e.to_string()));
            println!("{}", runtime.block_on(run_queue(port, plan)));
        }
        Some("run") => {
            let modes: &[Mode] = match args.get("--mode") {
                Some("ours") => &[Mode::Ours],
                Some("raw") => &[Mode::Raw],
                Some("both") => &[Mode::Ours, Mode::Raw],
                _ => fail("--mode is ours, raw, both or queue"),
            };
            let concurrency = args.number("--concurrency", 1).max(1) as usize;
            let duration = Duration::from_secs(args.number("--duration", 5));
            let slice = Duration::from_millis(args.number("--slice-ms", 250).max(10));
            let count = args.get("--count").map(|_| args.number("--count", 0));
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| fail(&e.to_string()));
            let plan = Plan {
                concurrency,
                duration,
                slice,
                count,
            };
            for report in runtime.block_on(run(port, modes, plan)) {
                println!("{report}");
            }
        }
        _ => fail(
            "usage: bench_client sink|run --port P [--delay-ms D] [--mode ours|raw|both|queue \
             --concurrency N --duration S]",
        ),
    }
}

/// What the sink has answered, read with `GET /stats`: requests, and events (one per
/// channel of a trigger, one per entry of a batch), so a harness can check that every
/// event a client counts as sent arrived.
#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    events: AtomicU64,
    /// Bodies that were neither a trigger nor a batch (answered 400).
    bad: AtomicU64,
}

/// The parts of a trigger's body the sink counts: `channels` (or a single `channel`).
#[derive(Deserialize)]
struct TriggerBody {
    #[serde(default)]
    channels: Vec<IgnoredAny>,
    channel: Option<IgnoredAny>,
}

/// The part of a batch's body the sink counts.
#[derive(Deserialize)]
struct BatchBody {
    batch: Vec<IgnoredAny>,
}

/// How many events a request to `path` with `body` carries; `None` if it is neither a
/// trigger nor a batch.
fn events_in(path: &str, body: &[u8]) -> Option<u64> {
    if path.ends_with("/batch_events") {
        let b: BatchBody = serde_json::from_slice(body).ok()?;
        Some(b.batch.len() as u64)
    } else if path.ends_with("/events") {
        let t: TriggerBody = serde_json::from_slice(body).ok()?;
        Some(t.channels.len() as u64 + u64::from(t.channel.is_some()))
    } else {
        None
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(body.into()));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// Answer every trigger and batch `200 {}` once its body is read, `delay` later (a timer
/// per request: the requests in flight wait side by side, as on a real round trip), and
/// `GET /stats` at once with the counts; on 127.0.0.1 only.
async fn sink(port: u16, delay: Duration) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let counts = Arc::new(Counts::default());
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let counts = Arc::clone(&counts);
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let counts = Arc::clone(&counts);
                async move {
                    if req.method() == Method::GET && req.uri().path() == "/stats" {
                        let stats = serde_json::json!({
                            "requests": counts.requests.load(Ordering::Relaxed),
                            "events": counts.events.load(Ordering::Relaxed),
                            "bad": counts.bad.load(Ordering::Relaxed),
                        });
                        return Ok::<_, Infallible>(reply(StatusCode::OK, stats.to_string()));
                    }
                    let path = req.uri().path().to_owned();
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    counts.requests.fetch_add(1, Ordering::Relaxed);
                    Ok(match events_in(&path, &body) {
                        Some(n) => {
                            counts.events.fetch_add(n, Ordering::Relaxed);
                            reply(StatusCode::OK, Bytes::from_static(b"{}"))
                        }
                        None => {
                            counts.bad.fetch_add(1, Ordering::Relaxed);
                            reply(
                                StatusCode::BAD_REQUEST,
                                Bytes::from_static(b"{\"error\":\"not a trigger or a batch\"}"),
                            )
                        }
                    })
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ours,
    Raw,
}

/// What each mode needs: our client, or a bare reqwest client and the pre-signed request.
#[derive(Clone)]
enum Sender {
    Ours(Pusher),
    Raw {
        client: reqwest::Client,
        url: String,
        body: Bytes,
    },
}

impl Sender {
    async fn new(mode: Mode, port: u16) -> Self {
        match mode {
            Mode::Ours => {
                let pusher = Pusher::builder(APP_ID, KEY, SECRET)
                    .host("127.0.0.1")
                    .port(port)
                    .use_tls(false)
                    .build()
                    .unwrap_or_else(|e| fail(&e.to_string()));
                Self::Ours(pusher)
            }
            Mode::Raw => {
                // Sign the very request `ours` sends, once: the recording transport keeps it.
                let recorder = Pusher::recording(Credentials::new(APP_ID, KEY, SECRET));
                let sent = signed_once(&recorder).await;
                // The builder our client starts from: the same TLS stack and settings.
                let client = rocket_pusher::client::http_client_builder()
                    .unwrap_or_else(|e| fail(&e.to_string()))
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap_or_else(|e| fail(&e.to_string()));
                Self::Raw {
                    client,
                    url: format!("http://127.0.0.1:{port}{}?{}", sent.0, sent.1),
                    body: Bytes::from(sent.2),
                }
            }
        }
    }

    async fn send(&self) -> Result<(), String> {
        match self {
            Self::Ours(pusher) => pusher
                .trigger(CHANNEL, EVENT, &MESSAGE)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Self::Raw { client, url, body } => {
                let res = client
                    .post(url.as_str())
                    .header(CONTENT_TYPE, "application/json")
                    .header("X-Pusher-Library", "rocket_pusher bench")
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let ok = res.status().is_success();
                let _ = res.bytes().await.map_err(|e| e.to_string())?;
                if ok { Ok(()) } else { Err("status".into()) }
            }
        }
    }
}

/// The path, query and body of one trigger, signed by the recording transport.
async fn signed_once(recorder: &Pusher) -> (String, String, Vec<u8>) {
    if let Err(e) = recorder.trigger(CHANNEL, EVENT, &MESSAGE).await {
        fail(&e.to_string());
    }
    let requests = recorder
        .recorder()
        .map(|r| r.requests())
        .unwrap_or_default();
    let Some(req) = requests.into_iter().next() else {
        fail("the recorder kept no request");
    };
    (
        req.path,
        req.query,
        req.body.unwrap_or_default().into_bytes(),
    )
}

/// When the loops of [`load`] stop.
#[derive(Clone, Copy)]
enum Stop {
    At(Instant),
    /// After this many triggers, spread over the loops.
    After(u64),
}

/// Run `concurrency` loops until `stop`, collecting latencies in microseconds.
async fn load(sender: &Sender, concurrency: usize, stop: Stop) -> (Vec<u32>, u64) {
    let mut tasks = Vec::with_capacity(concurrency);
    for task in 0..concurrency as u64 {
        let sender = sender.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 12);
            let mut errors = 0u64;
            let mut sent = 0u64;
            while match stop {
                Stop::At(until) => Instant::now() < until,
                Stop::After(n) => {
                    sent < n / concurrency as u64 + u64::from(task < n % concurrency as u64)
                }
            } {
                sent += 1;
                let start = Instant::now();
                match sender.send().await {
                    Ok(()) => latencies
                        .push(u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX)),
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("bench_client: {e}");
                        }
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        if let Ok((latencies, e)) = task.await {
            all.extend(latencies);
            errors += e;
        }
    }
    (all, errors)
}

/// User plus system CPU time of this process so far, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 counted from the state.
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// How `run` loads the sink.
struct Plan {
    concurrency: usize,
    duration: Duration,
    slice: Duration,
    count: Option<u64>,
}

/// What one mode did over all its turns.
#[derive(Default)]
struct Tally {
    latencies: Vec<u32>,
    errors: u64,
    secs: f64,
    cpu_ticks: u64,
}

impl Tally {
    fn add(&mut self, (latencies, errors): (Vec<u32>, u64), secs: f64, cpu_ticks: u64) {
        self.latencies.extend(latencies);
        self.errors += errors;
        self.secs += secs;
        self.cpu_ticks += cpu_ticks;
    }

    fn report(mut self, mode: Mode, concurrency: usize) -> String {
        self.latencies.sort_unstable();
        let latencies = &self.latencies;
        let pct = |p: f64| {
            let i = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
            latencies.get(i).copied().unwrap_or(0)
        };
        let ops = latencies.len();
        serde_json::json!({
            "mode": if mode == Mode::Ours { "ours" } else { "raw" },
            "concurrency": concurrency,
            "ops": ops,
            "secs": self.secs,
            "ops_per_s": ops as f64 / self.secs,
            "p50_us": pct(0.50),
            "p99_us": pct(0.99),
            "errors": self.errors,
            "cpu_ticks": self.cpu_ticks,
        })
        .to_string()
    }
}

async fn run(port: u16, modes: &[Mode], plan: Plan) -> Vec<String> {
    let mut senders = Vec::with_capacity(modes.len());
    for &mode in modes {
        let sender = Sender::new(mode, port).await;
        // A counted run warms up by count too, so two counts differ only in their turns.
        let warm_up = match plan.count {
            Some(_) => Stop::After(500),
            None => Stop::At(Instant::now() + Duration::from_secs(1) / modes.len() as u32),
        };
        load(&sender, plan.concurrency, warm_up).await;
        senders.push(sender);
    }
    let mut tallies: Vec<Tally> = modes.iter().map(|_| Tally::default()).collect();
    // One turn per mode when alone; with two, turns in the order A B B A A B B A …, so a
    // steady drift in the machine's load falls on both alike.
    let turns = match (plan.count, modes.len()) {
        (Some(_), _) | (None, 1) => modes.len(),
        (None, n) => {
            let per_mode = (plan.duration.as_secs_f64() / plan.slice.as_secs_f64()).ceil();
            (per_mode as usize).max(1) * n
        }
    };
    for turn in 0..turns {
        let which = if modes.len() == 1 {
            0
        } else {
            usize::from(matches!(turn % 4, 1 | 2))
        };
        let stop = match plan.count {
            Some(n) => Stop::After(n),
            None if modes.len() == 1 => Stop::At(Instant::now() + plan.duration),
            None => Stop::At(Instant::now() + plan.slice),
        };
        let cpu = cpu_ticks();
        let start = Instant::now();
        let done = load(&senders[which], plan.concurrency, stop).await;
        let secs = start.elapsed().as_secs_f64();
        tallies[which].add(done, secs, cpu_ticks() - cpu);
    }
    modes
        .iter()
        .zip(tallies)
        .map(|(&mode, tally)| tally.report(mode, plan.concurrency))
        .collect()
}

/// How `run --mode queue` loads the sink.
struct QueuePlan {
    duration: Duration,
    /// Events go to this many channels in turn (the lanes need several to share the work).
    channels: usize,
    capacity: usize,
    lanes: usize,
    batch: usize,
}

/// A line of `/proc/self/status`, in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A producer faster than the sink: for `duration`, queue events to `channels` channels in
/// turn as fast as `queue()` accepts them; when the queue is full, wait a millisecond
/// and go on (what an app would do with the error is its own business; here it only
/// keeps the queue full). Throughput is what the dispatcher delivered meanwhile; then
/// the rest is flushed, and the counts are checked to add up.
async fn run_queue(port: u16, plan: QueuePlan) -> String {
    let pusher = Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(port)
        .use_tls(false)
        .max_batch_events(plan.batch)
        .queue(
            QueueConfig::default()
                .capacity(plan.capacity)
                .lanes(plan.lanes),
        )
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    let channels: Vec<String> = (0..plan.channels).map(|i| format!("room-{i}")).collect();
    let queue = |i: usize| {
        pusher
            .trigger(channels[i % channels.len()].as_str(), EVENT, &MESSAGE)
            .queue()
    };
    // Warm-up: connections open, the lanes running.
    for i in 0..2_000 {
        if let Err(e) = queue(i) {
            fail(&format!("warm-up: {e}"));
        }
    }
    pusher.flush().await;

    // RSS once a second from another task, for the memory figures.
    let rss_start = status_kib("VmRSS");
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => samples.push(status_kib("VmRSS")),
                _ = stop_rx.changed() => return samples,
            }
        }
    });

    let before = pusher.queue_stats();
    let cpu = cpu_ticks();
    let start = Instant::now();
    let until = start + plan.duration;
    let (mut offered, mut full, mut errors, mut max_pending) = (0u64, 0u64, 0u64, 0u64);
    let mut i = 0usize;
    while Instant::now() < until {
        match queue(i) {
            Ok(()) => {
                offered += 1;
                i += 1;
                // Let the tasks on this worker run now and then, as a handler would.
                if offered % 1024 == 0 {
                    max_pending = max_pending.max(pusher.queue_stats().pending());
                    tokio::task::yield_now().await;
                }
            }
            Err(Error::Queue(QueueError::Full { .. })) => {
                full += 1;
                max_pending = max_pending.max(pusher.queue_stats().pending());
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(e) => {
                if errors == 0 {
                    eprintln!("bench_client: {e}");
                }
                errors += 1;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let during = pusher.queue_stats();
    let cpu_ticks = cpu_ticks() - cpu;
    let events = during.sent - before.sent;
    let _ = stop_tx.send(true);
    let samples = sampler.await.unwrap_or_default();
    let hwm = status_kib("VmHWM");
    let flush_start = Instant::now();
    pusher.flush().await;
    let flush_ms = flush_start.elapsed().as_secs_f64() * 1e3;
    let end = pusher.queue_stats();
    if end.queued != end.sent + end.failed + end.dropped || end.in_flight != 0 {
        fail(&format!("the queue's counts do not add up: {end:?}"));
    }
    serde_json::json!({
        "mode": "queue",
        "concurrency": 1,
        "channels": plan.channels,
        "capacity": plan.capacity,
        "lanes": plan.lanes,
        "batch": plan.batch,
        "secs": secs,
        "ops": events,
        "ops_per_s": events as f64 / secs,
        "offered": offered,
        "full": full,
        "errors": errors,
        "max_pending": max_pending,
        "flush_ms": flush_ms,
        "cpu_ticks": cpu_ticks,
        "queued_total": end.queued,
        "sent_total": end.sent,
        "retried": end.retried,
        "failed": end.failed,
        "dropped": end.dropped,
        "rss_kib_start": rss_start,
        "rss_kib_samples": samples,
        "hwm_kib": hwm,
    })
    .to_string()
}
