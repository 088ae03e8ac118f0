#!/usr/bin/env bash
# Install and run sockudo (a Pusher-protocol server) as a local peer for the demo and the
# e2e tests. sockudo 5.2.0 builds from crates.io with rustc >= 1.95 and protoc, in about
# 15 minutes on 2 cores; one port serves both its WebSocket (/app/KEY) and its REST API
# (/apps/ID/...).
#
#   scripts/sockudo.sh install | start | stop | status
#
# Env: SOCKUDO_ROOT (install prefix), SOCKUDO_CONFIG (scripts/sockudo.toml), SOCKUDO_PORT
# (6001), AUTH_PORT (5000, where webhooks go), SOCKUDO_RUN_DIR (pid file etc.).
set -euo pipefail

VERSION=5.2.0
FEATURES=local,redis
# The root's name says the features: a binary built without the redis adapter (an older
# install) lives elsewhere and is never taken for this one.
SOCKUDO_ROOT=${SOCKUDO_ROOT:-$HOME/.local/share/rocket_pusher/sockudo-$VERSION-redis}
BIN=$SOCKUDO_ROOT/bin/sockudo
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOCKUDO_CONFIG=${SOCKUDO_CONFIG:-$REPO_ROOT/scripts/sockudo.toml}
SOCKUDO_PORT=${SOCKUDO_PORT:-6001}
AUTH_PORT=${AUTH_PORT:-5000}
RUN_DIR=${SOCKUDO_RUN_DIR:-/tmp/rocket_pusher-sockudo}
PID_FILE=$RUN_DIR/sockudo.pid

die() { echo "sockudo.sh: $*" >&2; exit 1; }

# The features file is written only after a build succeeded, so a binary without it (an
# interrupted or foreign install) is rebuilt.
installed() {
  [[ -x $BIN && $(cat "$SOCKUDO_ROOT/features" 2>/dev/null) == "$FEATURES" ]] &&
    "$BIN" --version 2>/dev/null | grep -qF "$VERSION"
}

cmd_install() {
  if installed; then echo "sockudo $VERSION ($FEATURES) already installed: $BIN"; return; fi
  # Two installs at once (CI stages, parallel checkouts) would build twice: the second waits
  # for the first and then finds the binary.
  mkdir -p "$(dirname "$SOCKUDO_ROOT")"
  exec 9>"$SOCKUDO_ROOT.lock"
  if ! flock -n 9; then
    echo "another install of $SOCKUDO_ROOT is running; waiting for it" >&2
    flock 9
  fi
  if installed; then echo "sockudo $VERSION ($FEATURES) already installed: $BIN"; return; fi
  # protoc is needed even with minimal features: the build script of metrics-exporter-tcp,
  # a dependency no feature turns off, calls it (without it the build fails after ~13 min).
  if ! command -v protoc >/dev/null; then
    local sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get update && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y protobuf-compiler
  fi
  # Own target dir: never lock or fill the project's target/. Niced: others compile here too.
  local build=${SOCKUDO_BUILD_DIR:-$SOCKUDO_ROOT/build}
  CARGO_TARGET_DIR=$build nice -n 19 cargo install sockudo --version "$VERSION" --locked \
    --no-default-features --features "$FEATURES" --root "$SOCKUDO_ROOT"
  "$BIN" --version 2>/dev/null | grep -qF "$VERSION" || die "install finished but $BIN does not report $VERSION"
  echo "$FEATURES" >"$SOCKUDO_ROOT/features"
  rm -rf "$build"   # several GB of intermediates; kept only if the build fails (resumable)
  echo "installed: $BIN ($("$BIN" --version))"
}

# Pid of our running sockudo, or nothing. The comm check guards against a recycled pid.
running_pid() {
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 0
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == sockudo ]] && echo "$pid"
  return 0
}

# Alive and not a zombie: once `start` exits, pid 1 adopts sockudo and reaps it ~1 s after exit.
alive() { [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

up() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/up"; }

cmd_start() {
  [[ -x $BIN ]] || die "$BIN missing; run: $0 install"
  [[ -f $SOCKUDO_CONFIG ]] || die "config not found: $SOCKUDO_CONFIG"
  local pid; pid=$(running_pid)
  [[ -z $pid ]] || { echo "sockudo already running (pid $pid, port $(cat "$RUN_DIR/port"))"; return; }
  # Something else on the port would answer /up and make a failed start look fine.
  ! up "$SOCKUDO_PORT" 2>/dev/null || die "port $SOCKUDO_PORT already serves /up (another sockudo?)"

  mkdir -p "$RUN_DIR"
  [[ ! -f $RUN_DIR/workdir ]] || rm -rf "$(cat "$RUN_DIR/workdir")"   # previous run's logs
  # Empty CWD: sockudo also loads ./config/config.toml if one is there.
  local dir; dir=$(mktemp -d /tmp/rocket_pusher-sockudo.XXXXXX)
  cp "$SOCKUDO_CONFIG" "$dir/config.toml"
  local log=$dir/sockudo.log
  # Generic env vars (HOST, PORT, DEBUG, ...) would override the config.
  (cd "$dir" && exec env -u HOST -u PORT -u DEBUG -u ENVIRONMENT -u REDIS_URL \
     SOCKUDO_PORT="$SOCKUDO_PORT" AUTH_PORT="$AUTH_PORT" \
     nohup "$BIN" --config "$dir/config.toml" </dev/null >"$log" 2>&1) &
  pid=$!
  echo "$pid" >"$PID_FILE"; echo "$SOCKUDO_PORT" >"$RUN_DIR/port"; echo "$dir" >"$RUN_DIR/workdir"

  local i ok=
  for ((i = 0; i < 300; i++)); do   # 30 s
    kill -0 "$pid" 2>/dev/null || break
    ! grep -q 'apps_count=0' "$log" || break   # fail fast, checked below
    if up "$SOCKUDO_PORT" 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  # A config that fails to load (a syntax error, or a ${VAR} without default that is unset)
  # is silent: sockudo runs on its defaults (0.0.0.0, no apps) and only logs apps_count=0.
  local why=
  if grep -q 'apps_count=0' "$log"; then why="config not loaded or has no apps (apps_count=0)"
  elif [[ -z $ok ]]; then why="exited or did not answer /up on 127.0.0.1:$SOCKUDO_PORT within 30 s"
  elif ! curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$SOCKUDO_PORT/up/1234"; then
    why="app 1234 not loaded (/up/1234 failed)"
  fi
  if [[ -n $why ]]; then
    echo "sockudo.sh: start failed: $why; log $log:" >&2
    tail -n 40 "$log" >&2
    cmd_stop >/dev/null
    exit 1
  fi
  echo "sockudo running: pid $pid, http/ws 127.0.0.1:$SOCKUDO_PORT, log $log"
}

cmd_stop() {
  local pid i; pid=$(running_pid)
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do   # 10 s
      alive "$pid" || break
      sleep 0.1
    done
    ! alive "$pid" || { echo "sockudo.sh: pid $pid ignored SIGTERM, killing" >&2; kill -KILL "$pid" 2>/dev/null || true; }
    echo "sockudo stopped (pid $pid)"
  else
    echo "sockudo not running"
  fi
  rm -f "$PID_FILE"
}

cmd_status() {
  local pid; pid=$(running_pid)
  if [[ -n $pid ]] && up "$(cat "$RUN_DIR/port")"; then
    echo "sockudo running: pid $pid, port $(cat "$RUN_DIR/port"), log $(cat "$RUN_DIR/workdir")/sockudo.log"
  elif [[ -n $pid ]]; then
    echo "sockudo pid $pid alive but /up not answering"; exit 1
  else
    echo "sockudo not running"; exit 3
  fi
}

case ${1:-} in
  install | start | stop | status) "cmd_$1" ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
