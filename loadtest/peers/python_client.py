"""The official Python client (`pusher` 3.3.4) against the same local sink as
`bench_client run`: the same trigger, measured the same way, printed as one JSON line.

    python_client.py --port 18110 --concurrency 64 --duration 5

With `--concurrency N`, N threads trigger in a loop, each with its own client (the
library's `requests` session pools ten connections, so one shared client would open and
close the rest on every call: slower than its best). A one-second warm-up comes first.
"""

import argparse
import json
import threading
import time

import pusher

APP_ID, KEY, SECRET = "1234", "278d425bdf160c739803", "7ad3773142a6692b25b8"
MESSAGE = {"from": "alice", "text": "hello world"}


def worker(port, until, latencies, errors):
    client = pusher.Pusher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1",
                           port=port, ssl=False, timeout=5)
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            client.trigger("presence-room", "message", MESSAGE)
        except Exception:  # every failure counts; the loop goes on
            errors.append(1)
            continue
        latencies.append(int((time.perf_counter() - start) * 1e6))


def load(port, concurrency, seconds):
    until = time.monotonic() + seconds
    latencies, errors = [], []
    threads = [threading.Thread(target=worker, args=(port, until, latencies, errors))
               for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--duration", type=float, default=5)
    a = p.parse_args()
    load(a.port, a.concurrency, 1.0)
    cpu = time.process_time()
    start = time.monotonic()
    latencies, errors = load(a.port, a.concurrency, a.duration)
    secs = time.monotonic() - start
    cpu = time.process_time() - cpu
    latencies.sort()

    def pct(q):
        return latencies[min(int(len(latencies) * q), len(latencies) - 1)] if latencies else 0

    print(json.dumps({
        "mode": "python", "concurrency": a.concurrency, "ops": len(latencies), "secs": secs,
        "ops_per_s": len(latencies) / secs, "p50_us": pct(0.5), "p99_us": pct(0.99),
        "errors": len(errors), "cpu_secs": cpu,
    }))


if __name__ == "__main__":
    main()
