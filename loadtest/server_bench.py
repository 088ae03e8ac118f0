#!/usr/bin/env python3
"""The WebSocket server benchmark of `scripts/bench --phases server`: sockudo next to the
embedded server, with the same generator (`ws_load`) and the same parameters.

Each round runs three servers, each started fresh and stopped after its run:

* `sockudo`: sockudo 5.2.0 (one node, local adapter, `scripts/sockudo.sh` with
  `scripts/sockudo.toml`), triggered through its HTTP API;
* `ours-http`: the embedded server in `ws_app` (Rocket + `PusherFairing`,
  `transport = "embedded"`), triggered through its HTTP API;
* `ours-inproc`: the same app, triggering in process through `&State<Pusher>`.

Rounds alternate the order (forward, then backward) so neither server always runs
first on a machine that others share; the report gives the median of each figure over
the rounds, the spread (min-max), and the load average before each run. Results go to
OUT/server.json and OUT/server.md; the report is printed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

SERVERS = ["sockudo", "ours-http", "ours-inproc"]


def wait_up(url, proc=None, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers {url}")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_one(a, server, env):
    """Starts `server`, runs the generator against it, stops it; returns the JSON line."""
    common = ["--key", "KEY", "--label", server, "--conns", str(a.conns),
              "--channels", str(a.channels), "--events", str(a.events),
              "--concurrency", str(a.concurrency), "--latency-events", str(a.latency_events),
              "--rate", str(a.rate), "--timeout", str(a.timeout)]
    load = loadavg()
    if server == "sockudo":
        port = a.sockudo_port
        subprocess.run([a.sockudo_sh, "start"], env=env, check=True, stdout=subprocess.DEVNULL)
        try:
            with open(os.path.join(env["SOCKUDO_RUN_DIR"], "sockudo.pid")) as f:
                pid = int(f.read().strip())
            time.sleep(1)
            out = subprocess.run(
                [a.load_bin, "--ws", f"127.0.0.1:{port}", "--pid", str(pid), "--mode", "http",
                 "--api", f"http://KEY:SUPERSECRET@127.0.0.1:{port}/apps/1234"] + common,
                check=True, capture_output=True, text=True, timeout=a.timeout * 4 + 120)
        finally:
            subprocess.run([a.sockudo_sh, "stop"], env=env, stdout=subprocess.DEVNULL)
    else:
        port = a.app_port
        log = open(os.path.join(a.out, "logs", f"ws_app-{server}.log"), "w")
        proc = subprocess.Popen([a.app_bin, "--port", str(port)], stdout=log, stderr=log)
        try:
            wait_up(f"http://127.0.0.1:{port}/", proc)
            time.sleep(1)
            mode = ["--mode", "http", "--api", f"http://KEY:SUPERSECRET@127.0.0.1:{port}/apps/1234"]
            if server == "ours-inproc":
                mode = ["--mode", "inproc", "--fire", f"http://127.0.0.1:{port}"]
            out = subprocess.run(
                [a.load_bin, "--ws", f"127.0.0.1:{port}", "--pid", str(proc.pid)] + mode + common,
                check=True, capture_output=True, text=True, timeout=a.timeout * 4 + 120)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["loadavg"] = load
    print(f"  {server:12} {result['deliveries_per_s']:>10,.0f} deliveries/s  "
          f"p50 {result['p50_us'] / 1000:.2f} ms  p99 {result['p99_us'] / 1000:.2f} ms  "
          f"{result['kib_per_1000'] / 1024:.1f} MiB/1000 conns  "
          f"({result['deliveries']}/{result['expected']} delivered, "
          f"{result['failed_connections']} failed connections, load {load})", flush=True)
    return result


def median(rows, key):
    return statistics.median(r[key] for r in rows)


def spread(rows, key, scale=1.0, fmt="{:.2f}"):
    values = [r[key] / scale for r in rows]
    return fmt.format(min(values)) + "–" + fmt.format(max(values))


def report(a, rounds, header):
    by = {s: [r for rnd in rounds for r in rnd if r["label"] == s] for s in SERVERS}
    lines = [header, "",
             f"{a.conns} connections over {a.channels} public channels; fan-out: {a.events} "
             f"events, {a.concurrency} triggers in flight; latency: {a.latency_events} events "
             f"at {a.rate:g}/s; {len(rounds)} rounds, medians (min–max).", "",
             "| server | deliveries/s | p50 latency | p99 latency | p99 under full fan-out "
             "| RSS per 1,000 idle connections | load average (1/5/15 min) at each run |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for s in SERVERS:
        rows = by[s]
        if not rows:
            continue
        lines.append(
            f"| {s} | {median(rows, 'deliveries_per_s'):,.0f} "
            f"({spread(rows, 'deliveries_per_s', fmt='{:,.0f}')}) "
            f"| {median(rows, 'p50_us') / 1000:.2f} ms ({spread(rows, 'p50_us', 1000)}) "
            f"| {median(rows, 'p99_us') / 1000:.2f} ms ({spread(rows, 'p99_us', 1000)}) "
            f"| {median(rows, 'saturated_p99_us') / 1000:.1f} ms "
            f"| {median(rows, 'kib_per_1000') / 1024:.2f} MiB ({spread(rows, 'kib_per_1000', 1024)}) "
            f"| {'; '.join(r['loadavg'] for r in rows)} |")
    ref = by["sockudo"]
    if ref:
        lines += ["", "Targets, against sockudo in the same run:", ""]
        def ratio(s, key):
            return median(by[s], key) / max(median(ref, key), 1e-9)
        for s in ("ours-http", "ours-inproc"):
            if not by[s]:
                continue
            d, p, m = ratio(s, "deliveries_per_s"), ratio(s, "p99_us"), ratio(s, "kib_per_1000")
            lines.append(
                f"* {s}: deliveries/s {d:.2f}× sockudo's ({'met' if d >= 1.0 else 'NOT met'}, "
                f"≥ 1.0×); p99 {p:.2f}× ({'met' if p <= 1.0 else 'NOT met'}, ≤ 1.0×); memory "
                f"per connection {m:.2f}× ({'met' if m <= 1.0 else 'NOT met'}, ≤ 1.0×)")
    bad = [r for rnd in rounds for r in rnd
           if r["deliveries"] != r["expected"] or r["failed_connections"] or r["failed_triggers"]
           or r["latency_deliveries"] != r["latency_expected"]]
    for r in bad:
        lines.append(f"* incomplete run of {r['label']}: {r['deliveries']}/{r['expected']} and "
                     f"{r['latency_deliveries']}/{r['latency_expected']} delivered, "
                     f"{r['failed_connections']} failed connections ({r['first_error']}), "
                     f"{r['failed_triggers']} failed triggers")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--app-bin", required=True)
    p.add_argument("--load-bin", required=True)
    p.add_argument("--sockudo-sh", required=True)
    p.add_argument("--sockudo-config", required=True)
    p.add_argument("--sockudo-port", type=int, required=True)
    p.add_argument("--app-port", type=int, required=True)
    p.add_argument("--hook-port", type=int, required=True,
                   help="where sockudo.toml's webhooks go (nothing listens there)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--conns", type=int, default=1000)
    p.add_argument("--channels", type=int, default=10)
    p.add_argument("--events", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--latency-events", type=int, default=500)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--timeout", type=int, default=60)
    p.add_argument("--header", default="")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    os.makedirs(os.path.join(a.out, "logs"), exist_ok=True)
    env = dict(os.environ, SOCKUDO_PORT=str(a.sockudo_port), AUTH_PORT=str(a.hook_port),
               SOCKUDO_CONFIG=a.sockudo_config,
               SOCKUDO_RUN_DIR=os.path.join(a.out, "sockudo-run"))
    rounds = []
    for i in range(a.rounds):
        order = SERVERS if i % 2 == 0 else SERVERS[::-1]
        print(f"round {i + 1}/{a.rounds}: {', '.join(order)}", flush=True)
        rounds.append([run_one(a, s, env) for s in order])
    with open(os.path.join(a.out, "server.json"), "w") as f:
        json.dump({"params": vars(a), "rounds": rounds}, f, indent=1)
    text = report(a, rounds, a.header)
    with open(os.path.join(a.out, "server.md"), "w") as f:
        f.write(text)
    print("\n" + text)


if __name__ == "__main__":
    sys.exit(main())
