// Helpers of the cluster tests. scripts/e2e-cluster starts the cluster (scripts/cluster):
// two sockudo nodes sharing state through Redis, nginx in front of both, and two instances
// of the chat demo, instance N triggering through node N and receiving node N's webhooks.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { APP_ID, KEY, ROOT, SECRET, connect } from '../lib.mjs';

export { collect, connected, eventually, next, sleep, state, subscribed, unique } from '../lib.mjs';

const ports = (name, fallback) => (process.env[name] ?? fallback).trim().split(/\s+/).map(Number);
/** The WebSocket/REST ports of node 1 and node 2. */
export const NODES = ports('CLUSTER_NODE_PORTS', '6201 6202');
/** The base URLs of demo instance 1 (sends through node 1) and instance 2 (node 2). */
export const APPS = ports('CLUSTER_APP_PORTS', '5201 5202').map((p) => `http://127.0.0.1:${p}`);
/** nginx, balancing WebSocket and HTTP over both nodes. */
export const BALANCER = Number(process.env.CLUSTER_NGINX_PORT ?? 6200);

/**
 * A pusher-js client signed in to the demo as `user`, its WebSocket to `port` (a node or
 * the balancer), its channel and user authorization answered by demo instance `app`.
 */
export function connectTo(port, app, user, extra = {}) {
  return connect(user, { wsPort: port, ...extra }, app);
}

/** Tracks the clients of a test file; `disconnectAll()` in `afterEach`. */
export function clients() {
  const list = [];
  return {
    to(port, app, user, extra) { const p = connectTo(port, app, user, extra); list.push(p); return p; },
    disconnectAll() { while (list.length) list.pop().disconnect(); },
  };
}

/**
 * Runs examples/cli.rs (the crate's `Pusher` client) against the server on `port` and
 * resolves with its JSON reply; rejects with `{status, error, ms}` from its stderr.
 */
export function cliAt(port, ...args) {
  const env = { ...process.env, ROCKET_PUSHER: `{url="http://${KEY}:${SECRET}@127.0.0.1:${port}/apps/${APP_ID}"}` };
  delete env.PUSHER_URL;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(path.join(ROOT, 'target/debug/examples/cli'), args, { cwd: ROOT, env, timeout: 60000 }, (err, stdout, stderr) => {
      const ms = Date.now() - started;
      if (err) {
        let detail = {};
        try { detail = JSON.parse(stderr); } catch { /* not JSON */ }
        return reject(Object.assign(new Error(`cli@${port} ${args.join(' ')}: ${stderr.trim() || err.message}`), detail, { ms, killed: err.killed }));
      }
      try { resolve(JSON.parse(stdout)); } catch { reject(new Error(`cli@${port} ${args.join(' ')}: bad JSON ${stdout}`)); }
    });
  });
}

/** Runs `scripts/cluster ARGS` (e.g. `node`, `kill`, `1`), resolving with its output. */
export function cluster(...args) {
  return new Promise((resolve, reject) => {
    execFile(path.join(ROOT, 'scripts/cluster'), args, { cwd: ROOT, timeout: 60000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`scripts/cluster ${args.join(' ')}: ${stderr || err.message}`));
      resolve(stdout);
    });
  });
}

/** Posts JSON to demo instance `app` as `user`, with an optional X-Socket-ID. */
export async function postTo(app, route, user, body, socketId, ms = 60000) {
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${user}` };
  if (socketId) headers['X-Socket-ID'] = socketId;
  const res = await fetch(`${app}${route}`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(ms) });
  return { status: res.status, body: await res.text() };
}

/** The activity log of demo instance `app`: the webhooks its node sent it. */
export async function activityOf(app) {
  return (await fetch(`${app}/activity`)).json();
}

/** Every webhook both instances logged for `channel`, each tagged with the instance (1 or 2). */
export async function webhooksFor(channel) {
  const logs = await Promise.all(APPS.map(activityOf));
  return logs.flatMap((log, i) => log.filter((e) => e.channel === channel).map((e) => ({ ...e, instance: i + 1 })));
}

/** Adds `name: value` to e2e/artifacts/cluster/`file` (JSON): what a test measured, for
 * docs/deploy.md. */
export function record(file, name, value) {
  const dir = path.join(ROOT, 'e2e/artifacts/cluster');
  mkdirSync(dir, { recursive: true });
  let all = {};
  try { all = JSON.parse(readFileSync(path.join(dir, file), 'utf8')); } catch { /* first */ }
  all[name] = value;
  writeFileSync(path.join(dir, file), `${JSON.stringify(all, null, 2)}\n`);
}
