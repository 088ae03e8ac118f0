#!/usr/bin/env python3
"""Drives the load phases of `scripts/bench` and prints the tables.

`scripts/bench` builds, starts every server on 127.0.0.1 (and stops them), then runs

    harness.py --app PORT:PID --app100 PORT:PID --flask PORT:PID --sink PORT
               --demo PORT:PID --client-bin PATH --python PATH --out DIR
               [--queue-port PORT]

Phases, each bounded in time:

* routes: every wrk script against the Rust bench app and the Flask-Pusher peer,
  `-t2 -c32` and `-t2 -c256`, `--rounds` rounds of `--duration` seconds, cases
  interleaved within a round so slow drift hits all of them alike. Server CPU per request
  is the server's utime+stime delta (all its processes, for gunicorn) over the run,
  divided by the requests wrk completed. Each of our routes runs right after a run of its
  floor and is compared with that run; the median of those ratios over rounds is
  reported;
* client: `bench_client run --mode both` (ours and raw reqwest in 250 ms turns in one
  process) and the Python client against the sink, 1 and 64 in flight;
* sustained: the chat demo under `demo_mixed.lua` at 256 connections for `--minutes`
  one-minute wrk runs back to back, RSS sampled every second; its idle RSS first;
* instructions: each route case against a fresh bench app under valgrind's callgrind,
  `--requests` and then five times as many requests on one keep-alive connection; the
  difference of the two totals over the extra requests is the instructions one request
  costs, start-up and shut-down cancelled out. Counts are repeatable whatever else the
  machine does, so this is the noise-free view of the same comparison. Valgrind does not
  run the CPU's SHA extensions, so SHA-256 runs in software there; its share
  (`sha2::sha256::soft`) is reported and also taken out;
* criterion: the medians criterion wrote under target/criterion, as ratios;
* queue: queued delivery (`bench_client run --mode queue`: a producer keeps the queue full,
  events go out in batches over the lanes) against two sinks of its own, one answering at
  once and one holding every response `--sink-delay-ms` (50): events per second next to raw
  reqwest sending one request per event, sequentially and 64 in flight, in the same rounds;
  under the delay, against 0.8 x lanes x batch / delay; then one longer run against the slow
  sink for memory (peak RSS of the client process, the queue's counters). In each round
  also two queue runs over 100 channels, one with none refused and one with one channel the
  sink refuses (1 % of the events): the events finished per second of the two, side by side.
  Every event a client counts as sent is checked against what the sink says it received. The criterion
  medians of `benches/queue.rs` (queuing one event) are read as for the criterion phase.

Results go to OUT/results.json and OUT/report.md; the report is printed.
"""

import argparse
import json
import os
import re
import signal
import socket
import urllib.request
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)  # the repository
WRK = os.path.join(HERE, "wrk")
TICK = os.sysconf("SC_CLK_TCK")

# case, script, the floor it is compared with, runs against Flask-Pusher too
ROUTE_CASES = [
    ("floor_form", "floor_form", None, True),
    ("floor_hook", "floor_hook", None, True),
    ("auth", "auth", "floor_form", True),
    ("batch_auth_10", "batch_auth", "floor_hook", True),
    ("presence_auth", "presence_auth", "floor_form", True),
    ("user_auth", "user_auth", "floor_form", False),
    ("hook_channel_existence", "hook_channel_existence", "floor_hook", True),
    ("hook_presence", "hook_presence", "floor_hook", True),
    ("hook_client", "hook_client", "floor_hook", True),
    ("verified_webhook", "verified_webhook", "floor_hook", True),
    ("channel_routes_1", "auth_route", "floor_form", False),
]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    rest = stat.rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    return int(rest[1]), int(rest[11]) + int(rest[12])


def descendants(pid):
    """pid and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid, _ = proc_stat(int(entry))
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ticks(pid, tree):
    total = 0
    for p in descendants(pid) if tree else [pid]:
        try:
            total += proc_stat(p)[1]
        except (OSError, IndexError, ValueError):
            pass
    return total


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- wrk

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def parse_wrk(out):
    r = {"requests": 0, "rps": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"),
         "socket_errors": 0, "non_2xx": 0}
    m = re.search(r"(\d+) requests in", out)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    for q, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{q}%\s+(\S+)", out, re.M)
        if m:
            r[key] = to_ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["socket_errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non_2xx"] = int(m.group(1))
    return r


def wrk(port, script, conns, seconds, pid=None, tree=False):
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "5s",
           "-s", os.path.join(WRK, script + ".lua"), f"http://127.0.0.1:{port}"]
    before = cpu_ticks(pid, tree) if pid else 0
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    r = parse_wrk(out)
    if pid:
        ticks = cpu_ticks(pid, tree) - before
        r["cpu_us_per_req"] = ticks * 1e6 / TICK / r["requests"] if r["requests"] else float("nan")
    return r


# ---------------------------------------------------------------- helpers


def median(values):
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def fmt(v, digits=0):
    if v != v:
        return "–"
    return f"{v:,.{digits}f}"


def ratio(v):
    return "–" if v != v else f"{v:.2f}"


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def server(spec):
    port, pid = spec.split(":")
    return int(port), int(pid)


# ---------------------------------------------------------------- phases


def routes_phase(a, results):
    app_port, app_pid = server(a.app)
    app100_port, app100_pid = server(a.app100)
    flask = server(a.flask) if a.flask else None
    targets = [("rust", app_port, app_pid, False)]
    if flask:
        targets.append(("flask", flask[0], flask[1], True))

    # Every case must answer 2xx before it is measured.
    for name, port, pid, tree in targets:
        for case, script, _, on_flask in ROUTE_CASES:
            if name == "flask" and not on_flask:
                continue
            r = wrk(port, script, 4, 1)
            if r["non_2xx"] or r["socket_errors"] or not r["requests"]:
                sys.exit(f"harness: {case} on {name} is broken: {r}")
    r = wrk(app100_port, "auth_route", 4, 1)
    if r["non_2xx"] or not r["requests"]:
        sys.exit(f"harness: auth_route on the 100-route app is broken: {r}")

    runs = results.setdefault("routes", [])
    floor_scripts = {case: script for case, script, floor, _ in ROUTE_CASES if not floor}
    for conns in (32, 256):
        for rnd in range(a.rounds):
            log(f"routes: -c{conns} round {rnd + 1}/{a.rounds}")
            for name, port, pid, tree in targets:
                for case, script, floor, on_flask in ROUTE_CASES:
                    if name == "flask":
                        if on_flask:
                            r = wrk(port, script, conns, a.duration, pid, tree)
                            runs.append({"server": name, "case": case, "conns": conns,
                                         "round": rnd, **r})
                        continue
                    if not floor:
                        continue
                    # Each of our routes runs right after a run of its floor, and is
                    # compared with that run: load from elsewhere that comes and goes over
                    # a round falls on the two alike.
                    r = wrk(port, floor_scripts[floor], conns, a.duration, pid, tree)
                    runs.append({"server": name, "case": floor, "for": case, "conns": conns,
                                 "round": rnd, **r})
                    r = wrk(port, script, conns, a.duration, pid, tree)
                    runs.append({"server": name, "case": case, "conns": conns, "round": rnd, **r})
            r = wrk(app_port, floor_scripts["floor_form"], conns, a.duration, app_pid)
            runs.append({"server": "rust", "case": "floor_form", "for": "channel_routes_100",
                         "conns": conns, "round": rnd, **r})
            r = wrk(app100_port, "auth_route", conns, a.duration, app100_pid)
            runs.append({"server": "rust", "case": "channel_routes_100", "conns": conns,
                         "round": rnd, **r})
    results["rss_after_routes_kib"] = {"bench_app_hwm": rss_kib(app_pid, "VmHWM"),
                                       "bench_app_rss": rss_kib(app_pid)}


def wrk_request(script):
    """The raw HTTP/1.1 request a wrk script sends."""
    src = open(os.path.join(WRK, script + ".lua")).read()
    method = re.search(r'wrk.method = "(\w+)"', src).group(1)
    path = re.search(r'wrk.path = "([^"]+)"', src).group(1)
    headers = re.findall(r'wrk.headers\["([^"]+)"\] = \[\[(.*?)\]\]', src)
    body = re.search(r"wrk.body = \[\[(.*?)\]\]", src, re.S).group(1).encode()
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n")
    return head.encode() + body


def send_requests(port, request, n):
    """Send `request` n times on one connection, reading each answer; the non-2xx count."""
    bad = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        f = s.makefile("rb")
        for _ in range(n):
            s.sendall(request)
            status = f.readline()
            bad += b" 2" not in status[:13]
            length = 0
            while (line := f.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            f.read(length)
    return bad


def callgrind_totals(out_file):
    """Total instructions, and those in software SHA-256, of a callgrind output file."""
    text = subprocess.run(["callgrind_annotate", "--threshold=100", out_file],
                          capture_output=True, text=True, check=True).stdout
    total = sha = 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S.*)", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        if "PROGRAM TOTALS" in m.group(2):
            total = n
        elif "sha2::sha256::soft" in m.group(2):
            sha += n
    return total, sha


def callgrind_run(a, script, routes, n):
    port = int(a.instructions_port)
    out_file = os.path.join(a.out, "callgrind", f"{script}.{routes}.{n}.out")
    os.makedirs(os.path.dirname(out_file), exist_ok=True)
    p = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
                          a.app_bin, "--port", str(port), "--channel-routes", str(routes)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, p, 60, "the bench app under valgrind")
        bad = send_requests(port, wrk_request(script), n)
        if bad:
            sys.exit(f"harness: {script} answered {bad} non-2xx under valgrind")
    finally:
        p.send_signal(2)  # Ctrl-C: Rocket shuts down and callgrind writes its file
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return callgrind_totals(out_file)


def instructions_phase(a, results):
    cases = [(case, script, 1) for case, script, _, _ in ROUTE_CASES]
    cases.append(("channel_routes_100", "auth_route", 100))
    runs = results.setdefault("instructions", [])
    n = a.requests
    for case, script, routes in cases:
        log(f"instructions: {case}")
        t1, s1 = callgrind_run(a, script, routes, n)
        t5, s5 = callgrind_run(a, script, routes, 5 * n)
        runs.append({"case": case, "per_request": (t5 - t1) / (4 * n),
                     "sha_per_request": (s5 - s1) / (4 * n)})
    if a.client_bin:
        client_instructions(a, results)


def client_instructions(a, results):
    """Instructions per trigger of the client and of raw reqwest, by the same difference
    of two counted runs, against a sink of our own."""
    port = int(a.instructions_port) + 1
    sink = subprocess.Popen([a.client_bin, "sink", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = results.setdefault("client_instructions", [])
    try:
        wait_listening(port, sink, 30, "the sink")
        n = 2 * a.requests
        for conc in (1, 64):
            for mode in ("raw", "ours"):
                log(f"instructions: client {mode}, {conc} in flight")
                totals = []
                for count in (n, 5 * n):
                    out_file = os.path.join(a.out, "callgrind", f"client.{mode}.{conc}.{count}.out")
                    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
                           a.client_bin, "run", "--port", str(port), "--mode", mode,
                           "--concurrency", str(conc), "--count", str(count)]
                    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
                    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
                    if not lines or json.loads(lines[-1])["errors"]:
                        sys.exit(f"harness: {cmd} failed: {p.stdout[-500:]} {p.stderr[-1000:]}")
                    totals.append(callgrind_totals(out_file))
                (t1, s1), (t5, s5) = totals
                runs.append({"mode": mode, "concurrency": conc,
                             "per_trigger": (t5 - t1) / (4 * n),
                             "sha_per_trigger": (s5 - s1) / (4 * n)})
    finally:
        sink.terminate()
        sink.wait()


def wait_listening(port, proc, seconds, what):
    """Wait until `proc` (`what`) listens on 127.0.0.1:`port`; exit if it dies or is late."""
    deadline = time.time() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                sys.exit(f"harness: {what} did not start on 127.0.0.1:{port}")
            time.sleep(0.1)


def client_instructions_report(results):
    runs = results.get("client_instructions", [])
    if not runs:
        return ""
    rows = []
    for conc in (1, 64):
        by = {r["mode"]: r for r in runs if r["concurrency"] == conc}
        if "raw" not in by or "ours" not in by:
            continue
        raw, ours = by["raw"], by["ours"]
        rest = ours["per_trigger"] - ours["sha_per_trigger"]
        rows.append([conc, fmt(raw["per_trigger"]), fmt(ours["per_trigger"]),
                     fmt(ours["sha_per_trigger"]), fmt(rest - raw["per_trigger"]),
                     ratio(raw["per_trigger"] / ours["per_trigger"]),
                     ratio(raw["per_trigger"] / rest)])
    return ("### Client instructions per trigger (callgrind, against the sink)\n\n"
            + table(["in flight", "raw reqwest", "Pusher::trigger", "of which software SHA-256",
                     "over raw, SHA-256 aside", "raw ÷ ours", "raw ÷ ours, SHA-256 aside"],
                    rows) + "\n")


def instructions_report(results):
    runs = {r["case"]: r for r in results.get("instructions", [])}
    if not runs:
        return ""
    floors = {case: floor for case, _, floor, _ in ROUTE_CASES}
    floors["channel_routes_100"] = "floor_form"
    rows = []
    for case in [c for c, _, _, _ in ROUTE_CASES] + ["channel_routes_100"]:
        r = runs.get(case)
        if not r:
            continue
        floor = runs.get(floors.get(case) or "")
        rest = r["per_request"] - r["sha_per_request"]
        if floor:
            over = r["per_request"] - floor["per_request"]
            over_rest = rest - (floor["per_request"] - floor["sha_per_request"])
            cells = [fmt(over), fmt(over_rest),
                     ratio(floor["per_request"] / r["per_request"]),
                     ratio((floor["per_request"] - floor["sha_per_request"]) / rest)]
        else:
            cells = ["floor", "", "", ""]
        rows.append([case, fmt(r["per_request"]), fmt(r["sha_per_request"])] + cells)
    return ("### Instructions per request (callgrind, bench app, one keep-alive connection)\n\n"
            + table(["case", "instructions", "of which software SHA-256", "over the floor",
                     "over the floor, SHA-256 aside", "floor ÷ case", "floor ÷ case, SHA-256 aside"],
                    rows) + "\n")


def routes_report(results):
    runs = results.get("routes", [])
    if not runs:
        return ""
    floors = {c: f for c, _, f, _ in ROUTE_CASES}
    floors["channel_routes_100"] = "floor_form"

    def pick(server, case, conns, rnd, paired_with=None):
        """The run of `case`; for a floor, the one right before `paired_with` if there is
        one (runs of older results have no pairs)."""
        found = None
        for r in runs:
            if (r["server"], r["case"], r["conns"], r["round"]) == (server, case, conns, rnd):
                if r.get("for") == paired_with:
                    return r
                found = found or r
        return found

    out = []
    for conns in (32, 256):
        rows = []
        rounds = sorted({r["round"] for r in runs if r["conns"] == conns})
        cases = [c for c, *_ in ROUTE_CASES] + ["channel_routes_100"]
        for case in cases:
            # A floor's row: every run of it in these rounds.
            mine = [r for r in runs if (r["server"], r["case"], r["conns"]) == ("rust", case, conns)]
            if not mine:
                continue
            floor = floors.get(case)
            rps_ratio, p99_ratio, flask_ratio = [], [], []
            for n in rounds:
                m = pick("rust", case, conns, n)
                if floor and m:
                    f = pick("rust", floor, conns, n, paired_with=case)
                    if f and f["rps"]:
                        rps_ratio.append(m["rps"] / f["rps"])
                        p99_ratio.append(m["p99_ms"] / f["p99_ms"])
                fl = pick("flask", case, conns, n)
                if m and fl and fl["rps"]:
                    flask_ratio.append(m["rps"] / fl["rps"])
            flask_runs = [r for r in (pick("flask", case, conns, n) for n in rounds) if r]
            rows.append([
                case,
                fmt(median([m["rps"] for m in mine])),
                fmt(median([m["p50_ms"] for m in mine]), 2),
                fmt(median([m["p99_ms"] for m in mine]), 2),
                fmt(median([m.get("cpu_us_per_req", float("nan")) for m in mine]), 1),
                sum(m["socket_errors"] + m["non_2xx"] for m in mine),
                ratio(median(rps_ratio)) if floor else "floor",
                ratio(median(p99_ratio)) if floor else "",
                fmt(median([r["rps"] for r in flask_runs])) if flask_runs else "n/a",
                fmt(median([r["p99_ms"] for r in flask_runs]), 1) if flask_runs else "",
                fmt(median([r.get("cpu_us_per_req", float("nan")) for r in flask_runs]))
                if flask_runs else "",
                sum(r["socket_errors"] + r["non_2xx"] for r in flask_runs) if flask_runs else "",
                ratio(median(flask_ratio)) if flask_ratio else "",
            ])
        out.append(f"### Routes, wrk -t2 -c{conns} ({len(rounds)} rounds, medians)\n")
        out.append(table(["case", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "errors",
                          "req/s ÷ floor", "p99 ÷ floor", "Flask-Pusher req/s", "FP p99 ms",
                          "FP CPU µs/req", "FP errors", "ours ÷ FP"], rows))
        out.append("")
    return "\n".join(out)


def client_phase(a, results):
    sink_port = int(a.sink)
    runs = results.setdefault("client", [])
    for rnd in range(a.rounds):
        log(f"client: round {rnd + 1}/{a.rounds}")
        for conc in (1, 64):
            # Ours and raw run in one process, in turns of 250 ms (ours, raw, raw, ours,
            # ...): load from elsewhere on this shared machine falls on both alike, which
            # two separate runs could not promise. The Python client runs on its own.
            for mode in ("both", "python"):
                if mode == "python":
                    if not a.python:
                        continue
                    cmd = [a.python, os.path.join(HERE, "peers", "python_client.py"),
                           "--port", str(sink_port), "--concurrency", str(conc),
                           "--duration", str(a.client_duration)]
                else:
                    cmd = [a.client_bin, "run", "--port", str(sink_port), "--mode", mode,
                           "--concurrency", str(conc), "--duration", str(a.client_duration)]
                # `both` spends the duration on each mode, so twice in all.
                p = subprocess.run(cmd, capture_output=True, text=True,
                                   timeout=2 * a.client_duration + 60)
                lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
                if not lines:
                    sys.exit(f"harness: {cmd} printed nothing: {p.stderr[-2000:]}")
                for line in lines:
                    r = json.loads(line)
                    cpu = r.pop("cpu_ticks", None)
                    cpu = cpu / TICK if cpu is not None else r.pop("cpu_secs")
                    r["cpu_us_per_op"] = cpu * 1e6 / r["ops"] if r["ops"] else float("nan")
                    runs.append({"round": rnd, **r})


def client_report(results):
    runs = results.get("client", [])
    if not runs:
        return ""
    rows = []
    for conc in (1, 64):
        for mode, label in (("raw", "raw reqwest, pre-signed (floor)"),
                            ("ours", "Pusher::trigger"), ("python", "Python pusher 3.3.4")):
            mine = [r for r in runs if r["mode"] == mode and r["concurrency"] == conc]
            if not mine:
                continue
            vs_raw, vs_py = [], []
            for r in mine:
                same = {x["mode"]: x for x in runs
                        if x["round"] == r["round"] and x["concurrency"] == conc}
                if "raw" in same:
                    vs_raw.append(r["ops_per_s"] / same["raw"]["ops_per_s"])
                if "python" in same and mode == "ours":
                    vs_py.append(r["ops_per_s"] / same["python"]["ops_per_s"])
            rows.append([conc, label, fmt(median([r["ops_per_s"] for r in mine])),
                         fmt(median([r["p50_us"] for r in mine])),
                         fmt(median([r["p99_us"] for r in mine])),
                         fmt(median([r["cpu_us_per_op"] for r in mine]), 1),
                         sum(r["errors"] for r in mine), ratio(median(vs_raw)),
                         ratio(median(vs_py)) if vs_py else ""])
    rounds = len({r["round"] for r in runs})
    return (f"### Client against the local sink ({rounds} rounds, medians)\n\n"
            + table(["in flight", "client", "triggers/s", "p50 µs", "p99 µs",
                     "client CPU µs/trigger", "errors", "÷ raw", "÷ Python"], rows) + "\n")


def sustained_phase(a, results):
    port, pid = server(a.demo)
    s = results.setdefault("sustained", {})
    s["idle_rss_kib"] = rss_kib(pid)
    s["minute_seconds"] = a.minute_seconds
    samples = []
    stop = threading.Event()

    def sample():
        t0 = time.monotonic()
        while not stop.is_set():
            try:
                samples.append((time.monotonic() - t0, rss_kib(pid)))
            except OSError:
                return
            stop.wait(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    minutes = []
    t0 = time.monotonic()
    for minute in range(a.minutes):
        log(f"sustained: minute {minute + 1}/{a.minutes}")
        r = wrk(port, "demo_mixed", 256, a.minute_seconds, pid)
        r["rss_end_kib"] = rss_kib(pid)
        r["elapsed_s"] = time.monotonic() - t0
        minutes.append(r)
    stop.set()
    sampler.join()
    s["minutes"] = minutes
    s["rss_samples"] = samples
    s["peak_rss_kib"] = rss_kib(pid, "VmHWM")
    time.sleep(2)
    s["after_rss_kib"] = rss_kib(pid)


def sustained_report(results):
    s = results.get("sustained")
    if not s or not s.get("minutes"):
        return ""
    rows = []
    for i, m in enumerate(s["minutes"]):
        rows.append([i + 1, fmt(m["rps"]), fmt(m["p50_ms"], 2), fmt(m["p99_ms"], 2),
                     m["socket_errors"], m["non_2xx"], fmt(m["rss_end_kib"] / 1024, 1),
                     fmt(m.get("cpu_us_per_req", float("nan")), 1)])
    first, last = s["minutes"][0], s["minutes"][-1]
    # RSS growth: the first minute's end to the last minute's end.
    growth = (last["rss_end_kib"] - first["rss_end_kib"]) / 1024
    idle = s.get("idle_rss_kib_at_start", s["idle_rss_kib"])
    out = [f"### Sustained: chat demo (release), wrk -t2 -c256, {len(rows)} runs of "
           f"{s.get('minute_seconds', 60)} s back to back, auth + webhooks mixed\n",
           table(["minute", "req/s", "p50 ms", "p99 ms", "socket errors", "non-2xx",
                  "RSS MiB (end)", "CPU µs/req"], rows), "",
           f"- idle RSS: {idle / 1024:.1f} MiB; peak RSS (VmHWM) under load: "
           f"{s['peak_rss_kib'] / 1024:.1f} MiB; RSS 2 s after the load: "
           f"{s['after_rss_kib'] / 1024:.1f} MiB",
           f"- RSS growth from the end of minute 1 to the end of minute {len(rows)}: "
           f"{growth:+.2f} MiB",
           f"- p99 last ÷ first minute: {ratio(last['p99_ms'] / first['p99_ms'])}; errors "
           f"in total: {sum(m['socket_errors'] + m['non_2xx'] for m in s['minutes'])}",
           ""]
    return "\n".join(out)


def criterion_report():
    base = os.path.join(ROOT, "target", "criterion")
    if not os.path.isdir(base):
        return ""

    def est(group, fn):
        path = os.path.join(base, group, fn, "new", "estimates.json")
        try:
            with open(path) as f:
                return json.load(f)["median"]["point_estimate"]
        except (OSError, KeyError, ValueError):
            return None

    def t(ns):
        return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"

    rows = []
    groups = sorted(g for g in os.listdir(base) if os.path.isdir(os.path.join(base, g)))
    for g in groups:
        if g in ("route", "channel_routes", "report"):
            continue
        ours, bare = est(g, "ours"), est(g, "bare")
        if ours is None or bare is None:
            continue
        extra = []
        for alt in ("bare_serialize", "bare_parse", "bare_derive", "bare_hmac"):
            v = est(g, alt)
            if v is not None:
                extra.append(f"{alt} {t(v)}: ours ÷ {alt} = {ours / v:.2f}")
        rows.append([g, t(ours), t(bare), f"{ours / bare:.2f}", "; ".join(extra)])
    out = []
    if rows:
        out += ["### Protocol (criterion medians)\n",
                table(["group", "ours", "bare primitive", "ours ÷ bare", "other floor"], rows),
                ""]
    cr = [[fn, t(v)] for fn in ("1", "100_same_prefix", "100_own_prefix")
          if (v := est("channel_routes", fn)) is not None]
    if cr:
        out += ["### Channel-route matching alone (criterion medians)\n",
                table(["routes", "find"], cr), ""]
    route = {}
    rdir = os.path.join(base, "route")
    if os.path.isdir(rdir):
        for fn in os.listdir(rdir):
            v = est("route", fn)
            if v is not None:
                route[fn] = v
    if route:
        floors = {"auth": "floor_form", "presence_auth": "floor_form", "user_auth": "floor_form",
                  "hook_presence": "floor_hook", "verified_webhook": "floor_hook",
                  "channel_routes_1": "floor_form", "channel_routes_100": "floor_form"}
        rr = []
        for fn in ("floor_form", "floor_hook", "auth", "presence_auth", "user_auth",
                   "hook_presence", "verified_webhook", "channel_routes_1", "channel_routes_100"):
            if fn in route:
                f = floors.get(fn)
                rr.append([fn, t(route[fn]),
                           f"{route[f] / route[fn]:.2f}" if f in route else "floor"])
        out += ["### Routes in process, Rocket local client (criterion medians)\n",
                table(["route", "time per request", "floor time ÷ route time"], rr), ""]
    return "\n".join(out)


# ---------------------------------------------------------------- queue


def sink_stats(port):
    """What the sink on `port` has answered: {"requests", "events", "bad"}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as res:
        return json.load(res)


def client_run(a, port, mode, conc=1, seconds=None, extra=()):
    """One `bench_client run`, with what the sink on `port` received meanwhile."""
    seconds = seconds or a.client_duration
    cmd = [a.client_bin, "run", "--port", str(port), "--mode", mode, "--concurrency", str(conc),
           "--duration", str(seconds), *extra]
    before = sink_stats(port)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    after = sink_stats(port)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode or not lines:
        sys.exit(f"harness: {cmd} failed ({p.returncode}): {p.stdout[-500:]} {p.stderr[-2000:]}")
    r = json.loads(lines[-1])
    r["sink_events"] = after["events"] - before["events"]
    r["sink_bad"] = after["bad"] - before["bad"]
    requests = after["requests"] - before["requests"]
    r["requests_per_event"] = requests / r["sink_events"] if r["sink_events"] else float("nan")
    cpu = r.pop("cpu_ticks", None)
    if cpu is not None:
        r["cpu_us_per_event"] = cpu * 1e6 / TICK / r["ops"] if r["ops"] else float("nan")
    if r["sink_bad"] or r["errors"]:
        sys.exit(f"harness: {cmd}: {r['errors']} errors, the sink refused {r['sink_bad']}: {r}")
    # The queue counts every event it delivered (warm-up and drain included): the sink
    # must have received exactly those, none lost and none twice.
    if mode == "queue" and r["sink_events"] != r["sent_total"]:
        sys.exit(f"harness: {cmd}: the queue sent {r['sent_total']} events, "
                 f"the sink received {r['sink_events']}")
    return r


def queue_phase(a, results):
    fast_port = int(a.queue_port)
    slow_port = fast_port + 1
    q = results.setdefault("queue", {})
    q["sink_delay_ms"] = a.sink_delay_ms
    runs = q.setdefault("runs", [])
    sinks = [subprocess.Popen([a.client_bin, "sink", "--port", str(port), *extra],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for port, extra in ((fast_port, []),
                                 (slow_port, ["--delay-ms", str(a.sink_delay_ms)]))]
    try:
        wait_listening(fast_port, sinks[0], 30, "the sink")
        wait_listening(slow_port, sinks[1], 30, "the slow sink")
        for rnd in range(a.rounds):
            log(f"queue: round {rnd + 1}/{a.rounds}")
            # Against the sink that answers at once: the queue next to raw reqwest, one
            # right after the other, so load from elsewhere falls on them alike.
            for mode, conc in (("raw", 1), ("raw", 64), ("queue", 1)):
                r = client_run(a, fast_port, mode, conc)
                runs.append({"round": rnd, "sink": "fast", **r})
            # One channel in a hundred refused by the sink (1 % of the events), beside the
            # same hundred channels all accepted.
            for variant, refused in (("clean100", 0), ("refused1", 1)):
                r = client_run(a, fast_port, "queue", 1,
                               extra=("--channels", "100", "--refused", str(refused)))
                runs.append({"round": rnd, "sink": "fast", "variant": variant, **r})
            # Every response held `sink_delay_ms`: the queue, and raw reqwest with 64 in
            # flight beside it for scale.
            for mode, conc in (("queue", 1), ("raw", 64)):
                r = client_run(a, slow_port, mode, conc)
                runs.append({"round": rnd, "sink": "slow", **r})
        log(f"queue: memory, {a.queue_memory_seconds} s against the slow sink")
        q["memory"] = client_run(a, slow_port, "queue", 1, a.queue_memory_seconds)
    finally:
        for sink in sinks:
            sink.terminate()
            sink.wait()


def criterion_estimate(group, fn):
    path = os.path.join(ROOT, "target", "criterion", group, fn, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def queue_report(results):
    q = results.get("queue")
    if not q or not q.get("runs"):
        return ""
    runs = q["runs"]
    delay = q["sink_delay_ms"]
    rounds = sorted({r["round"] for r in runs})

    def one(sink, mode, conc, rnd, variant=""):
        for r in runs:
            if (r["sink"], r["mode"], r["concurrency"], r["round"],
                    r.get("variant", "")) == (sink, mode, conc, rnd, variant):
                return r
        return None

    plain = [r for r in runs if not r.get("variant")]

    rows = []
    for sink, label in (("fast", "at once"), ("slow", f"after {delay} ms")):
        for mode, conc, name in (("raw", 1, "raw reqwest, 1 in flight"),
                                 ("raw", 64, "raw reqwest, 64 in flight"),
                                 ("queue", 1, "queue()")):
            mine = [r for r in plain if (r["sink"], r["mode"], r["concurrency"]) == (sink, mode, conc)]
            if not mine:
                continue
            vs = {}
            for base in (1, 64):
                ratios = []
                for rnd in rounds:
                    m, b = one(sink, mode, conc, rnd), one(sink, "raw", base, rnd)
                    if m and b and b["ops_per_s"]:
                        ratios.append(m["ops_per_s"] / b["ops_per_s"])
                vs[base] = ratio(median(ratios)) if ratios else ""
            rows.append([label, name, fmt(median([r["ops_per_s"] for r in mine])),
                         fmt(median([r.get("cpu_us_per_event", float("nan")) for r in mine]), 1),
                         fmt(median([r.get("requests_per_event", float("nan")) for r in mine]), 3)
                         if mode == "queue" else "1",
                         vs[1] if mode == "queue" else "", vs[64] if mode == "queue" else ""])
    out = [f"### Queued delivery against the local sink ({len(rounds)} rounds, medians)\n",
           table(["sink answers", "client", "events/s", "client CPU µs/event", "requests/event",
                  "÷ raw 1 in flight", "÷ raw 64 in flight"], rows), ""]
    # The refused row: events finished (delivered or failed) per second, next to the clean
    # run of the same round.
    vrows = []
    for variant, name in (("clean100", "queue(), 100 channels"),
                          ("refused1", "queue(), 100 channels, 1 refused (1 % of events)")):
        mine = [r for r in runs if r.get("variant") == variant]
        if not mine:
            continue
        ratios = []
        for rnd in rounds:
            m, c = one("fast", "queue", 1, rnd, variant), one("fast", "queue", 1, rnd, "clean100")
            if m and c and c["finished_per_s"]:
                ratios.append(m["finished_per_s"] / c["finished_per_s"])
        vrows.append([name, fmt(median([r["finished_per_s"] for r in mine])),
                      fmt(median([r["ops_per_s"] for r in mine])),
                      fmt(median([r["failed"] for r in mine])),
                      fmt(median([r.get("requests_per_event", float("nan")) for r in mine]), 3),
                      ratio(median(ratios)) if ratios else ""])
    if vrows:
        out += ["### Queued delivery with refused events (sink answering at once, medians)\n",
                table(["client", "events finished/s", "events delivered/s",
                       "failed (whole run)", "requests/delivered event", "÷ clean, same round"],
                      vrows), ""]
    slow = [r for r in plain if (r["sink"], r["mode"]) == ("slow", "queue")]
    if slow:
        lanes, batch = slow[0]["lanes"], slow[0]["batch"]
        bound = 0.8 * lanes * batch / (delay / 1000)
        got = median([r["ops_per_s"] for r in slow])
        out.append(f"- responses held {delay} ms: {fmt(got)} events/s through the queue "
                   f"({lanes} lanes, batches of up to {batch}); target 0.8 × {lanes} × {batch} ÷ "
                   f"{delay} ms = {fmt(bound)} events/s: {ratio(got / bound)} of it")
    m = q.get("memory")
    if m:
        samples = m.get("rss_kib_samples") or [0]
        half = len(samples) // 2
        # The kernel updates VmHWM lazily; a sample may read more.
        peak = max(m["hwm_kib"], max(samples))
        out.append(f"- memory, a producer faster than the sink ({m['secs']:.0f} s, responses held "
                   f"{delay} ms, capacity {m['capacity']:,}): {m['offered']:,} events queued, the "
                   f"producer waiting with queue_wait() while the queue was full; most waiting "
                   f"at once {m['max_pending']:,}; "
                   f"client RSS {m['rss_kib_start'] / 1024:.1f} MiB before the producer, "
                   f"peak {peak / 1024:.1f} MiB, over the second half "
                   f"{min(samples[half:]) / 1024:.1f}–{max(samples[half:]) / 1024:.1f} MiB; "
                   f"sent {m['sent_total']:,}, failed {m['failed']}, dropped {m['dropped']}, "
                   f"the sink received {m['sink_events']:,}")
    crit = [(fn, v) for fn in ("queue_one", "queue_one_recording", "trigger_await")
            if (v := criterion_estimate("queue", fn)) is not None]
    if crit:
        out.append("- criterion (`benches/queue.rs`), median: " + "; ".join(
            f"{fn} {v:.0f} ns" if v < 1000 else f"{fn} {v / 1000:.2f} µs" for fn, v in crit))
    out.append("")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--app")
    p.add_argument("--app100")
    p.add_argument("--flask")
    p.add_argument("--sink")
    p.add_argument("--demo")
    p.add_argument("--client-bin")
    p.add_argument("--python")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--client-duration", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--minutes", type=int, default=5)
    p.add_argument("--minute-seconds", type=int, default=60)
    p.add_argument("--phases", default="routes,client,sustained,instructions,criterion,queue")
    p.add_argument("--queue-port", default="18140",
                   help="the queue phase's sinks: this port, and the next for the slow one")
    p.add_argument("--sink-delay-ms", type=int, default=50)
    p.add_argument("--queue-memory-seconds", type=int, default=20)
    p.add_argument("--app-bin", help="the bench app executable, for the instructions phase")
    p.add_argument("--instructions-port", default="18130")
    p.add_argument("--requests", type=int, default=500,
                   help="requests of the shorter callgrind run (the longer sends 5x)")
    p.add_argument("--out", default=os.path.join(ROOT, "target", "bench"))
    p.add_argument("--report-only", action="store_true",
                   help="print the report of OUT/results.json again")
    a = p.parse_args()
    # SIGTERM (from scripts/bench's trap) unwinds like Ctrl-C, so `finally` blocks stop
    # the processes this harness started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "results.json")
    phases = a.phases.split(",")

    if a.report_only:
        with open(path) as f:
            results = json.load(f)
    else:
        results = {"started": time.strftime("%Y-%m-%d %H:%M:%S"),
                   "loadavg_before": open("/proc/loadavg").read().split()[:3],
                   "args": vars(a)}
        if "sustained" in phases and a.demo:
            # Idle RSS before any other load runs on the machine.
            results.setdefault("sustained", {})["idle_rss_kib_at_start"] = rss_kib(server(a.demo)[1])
        def save():
            results["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
            with open(path, "w") as f:
                json.dump(results, f, indent=1)

        # Each phase's results are saved as soon as it ends.
        for name, run, needs in (("routes", routes_phase, a.app), ("client", client_phase, a.sink),
                                 ("sustained", sustained_phase, a.demo),
                                 ("instructions", instructions_phase, a.app_bin),
                                 ("queue", queue_phase, a.client_bin)):
            if name in phases and needs:
                run(a, results)
                save()
        save()

    parts = [f"Run started {results.get('started')}, load average before "
             f"{' '.join(results.get('loadavg_before', []))}, after "
             f"{' '.join(results.get('loadavg_after', []))}.\n"]
    parts.append(routes_report(results))
    if "rss_after_routes_kib" in results:
        m = results["rss_after_routes_kib"]
        parts.append(f"- bench app peak RSS (VmHWM) after the route runs: "
                     f"{m['bench_app_hwm'] / 1024:.1f} MiB\n")
    parts.append(instructions_report(results))
    parts.append(client_instructions_report(results))
    parts.append(client_report(results))
    parts.append(sustained_report(results))
    parts.append(queue_report(results))
    if "criterion" in phases:
        parts.append(criterion_report())
    report = "\n".join(x for x in parts if x)
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write(report)
    print(report)


if __name__ == "__main__":
    main()
