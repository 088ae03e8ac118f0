//! What a request handler pays to queue one event (`Trigger::queue`): validate, encode,
//! hand to the dispatcher. Measured with the HTTP transport against a sink in this
//! process (the dispatcher really sends, on the runtime's worker thread, while the bench
//! thread queues), and with the recording transport; beside them, awaiting one trigger
//! against the same sink, which is what the handler paid before.
//!
//! The queue's capacity is finite, so each sample queues at most `CHUNK` events, timing
//! only the `queue()` calls, and flushes (untimed) before the next chunk.
//!
//! `cargo bench --bench queue` (about a minute); never run by `cargo test`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rocket_pusher::Pusher;
use rocket_pusher::config::QueueConfig;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

const APP_ID: &str = "1234";
const KEY: &str = "278d425bdf160c739803";
const SECRET: &str = "7ad3773142a6692b25b8";
/// Events queued per sample before a flush; well under the capacity.
const CHUNK: u64 = 5_000;

/// A chat message, as the demo sends.
#[derive(Serialize)]
struct Message<'a> {
    from: &'a str,
    text: &'a str,
}

const MESSAGE: Message<'static> = Message {
    from: "alice",
    text: "hello world",
};

/// Sixteen channels in turn, so the lanes share the work.
const CHANNELS: [&str; 16] = [
    "room-0", "room-1", "room-2", "room-3", "room-4", "room-5", "room-6", "room-7", "room-8",
    "room-9", "room-10", "room-11", "room-12", "room-13", "room-14", "room-15",
];

/// Answers every HTTP/1.1 request on the connection `200 {}` once its body is read.
async fn answer(mut stream: TcpStream) {
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        // One request: the head, then `Content-Length` bytes of body.
        let (head_end, len) = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, len);
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        while buf.len() < head_end + len {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + len);
        let reply =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if stream.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// A sink on 127.0.0.1, on the runtime; its port.
fn sink(rt: &Runtime) -> u16 {
    let listener = match rt.block_on(TcpListener::bind(("127.0.0.1", 0))) {
        Ok(l) => l,
        Err(e) => panic!("the sink binds: {e}"),
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(answer(stream));
        }
    });
    port
}

fn queue_config() -> QueueConfig {
    QueueConfig::default().capacity(2 * CHUNK as usize)
}

/// Time `iters` calls of `queue()` on `pusher`, in chunks with an untimed flush between.
fn time_queue(rt: &Runtime, pusher: &Pusher, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = (iters - done).min(CHUNK);
        let start = Instant::now();
        for i in 0..n {
            let channel = CHANNELS[(done + i) as usize % CHANNELS.len()];
            if let Err(e) = black_box(pusher.trigger(channel, "message", &MESSAGE).queue()) {
                panic!("queue: {e}");
            }
        }
        total += start.elapsed();
        rt.block_on(pusher.flush());
        if let Some(recorder) = pusher.recorder() {
            recorder.clear();
        }
        done += n;
    }
    total
}

fn queue(c: &mut Criterion) {
    // One worker thread for the dispatcher and the sink; the bench thread queues.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("a tokio runtime: {e}"),
    };
    // The dispatcher starts on the runtime the first `queue()` runs in.
    let _guard = rt.enter();
    let port = sink(&rt);
    let http = match Pusher::builder(APP_ID, KEY, SECRET)
        .host("127.0.0.1")
        .port(port)
        .use_tls(false)
        .queue(queue_config())
        .build()
    {
        Ok(p) => p,
        Err(e) => panic!("the client builds: {e}"),
    };
    let recording = match Pusher::builder(APP_ID, KEY, SECRET)
        .recording()
        .queue(queue_config())
        .build()
    {
        Ok(p) => p,
        Err(e) => panic!("the recording client builds: {e}"),
    };

    let mut g = c.benchmark_group("queue");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    g.bench_function("queue_one", |b| {
        b.iter_custom(|iters| time_queue(&rt, &http, iters));
    });
    g.bench_function("queue_one_recording", |b| {
        b.iter_custom(|iters| time_queue(&rt, &recording, iters));
    });
    g.bench_function("trigger_await", |b| {
        b.iter(|| {
            if let Err(e) = rt.block_on(async { http.trigger("room-0", "message", &MESSAGE).await })
            {
                panic!("trigger: {e}");
            }
        });
    });
    g.finish();
}

criterion_group!(benches, queue);
criterion_main!(benches);
