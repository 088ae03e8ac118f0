// Shared helpers of the end-to-end tests. scripts/e2e starts sockudo and the chat app
// and passes their addresses; everything stays on loopback.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
/** pusher-js's Node build, the real client. */
export const Pusher = require('pusher-js');

export const APP = process.env.E2E_APP ?? 'http://127.0.0.1:5000';
export const SOCKUDO_PORT = Number(process.env.E2E_SOCKUDO_PORT ?? 6001);
export const ARTIFACTS = process.env.E2E_ARTIFACTS ?? 'e2e/artifacts';
export const KEY = 'KEY';
export const SECRET = 'SUPERSECRET';
export const APP_ID = '1234';

/** A pusher-js client signed in to the demo as `user` (Bearer header: Node's pusher-js may not send cookies).
 * `app` is the demo instance whose auth routes it uses (the one scripts/e2e started by default). */
export function connect(user, extra = {}, app = APP) {
  const headers = user ? { Authorization: `Bearer ${user}` } : {};
  const pusher = new Pusher(KEY, {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: SOCKUDO_PORT,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: { endpoint: `${app}/pusher/auth`, transport: 'ajax', headers },
    userAuthentication: { endpoint: `${app}/pusher/user-auth`, transport: 'ajax', headers },
    ...extra,
  });
  return pusher;
}

/** Resolves when `pusher` is connected. */
export function connected(pusher, ms = 10000) {
  return new Promise((resolve, reject) => {
    if (pusher.connection.state === 'connected') return resolve(pusher.connection.socket_id);
    const t = setTimeout(() => reject(new Error(`not connected after ${ms} ms: ${pusher.connection.state}`)), ms);
    pusher.connection.bind('connected', () => { clearTimeout(t); resolve(pusher.connection.socket_id); });
  });
}

/** Resolves with the first `event` on `target` (a channel, or pusher.user), rejects after `ms`. */
export function next(target, event, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { target.unbind(event, on); reject(new Error(`no ${event} within ${ms} ms`)); }, ms);
    function on(data) { clearTimeout(t); target.unbind(event, on); resolve(data); }
    target.bind(event, on);
  });
}

/** Resolves with the first `pusher:subscription_succeeded` or rejects on `pusher:subscription_error`.
 * A channel already subscribed resolves at once (with its members for presence); an error that
 * came before the call is missed, so call it right after `subscribe`. */
export function subscribed(channel, ms = 10000) {
  return new Promise((resolve, reject) => {
    if (channel.subscribed) return resolve(channel.members ?? {});
    const t = setTimeout(() => reject(new Error(`${channel.name}: not subscribed within ${ms} ms`)), ms);
    channel.bind('pusher:subscription_succeeded', (data) => { clearTimeout(t); resolve(data); });
    channel.bind('pusher:subscription_error', (err) => { clearTimeout(t); reject(Object.assign(new Error(`${channel.name}: subscription error ${err.status}`), { status: err.status, detail: err })); });
  });
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually(fn, ms = 10000, every = 100) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`condition not met within ${ms} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/** A signed REST call to sockudo, computed here independently of the crate. `path` may carry
 * a query (`/apps/1234/channels?info=user_count`): its parameters are signed too. */
export async function rest(method, pathAndQuery, body) {
  const [path, search = ''] = pathAndQuery.split('?');
  const params = { ...Object.fromEntries(new URLSearchParams(search)), auth_key: KEY, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: '1.0' };
  const text = body === undefined ? undefined : JSON.stringify(body);
  if (text !== undefined) params.body_md5 = crypto.createHash('md5').update(text).digest('hex');
  const query = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  const signature = crypto.createHmac('sha256', SECRET).update(`${method}\n${path}\n${query}`).digest('hex');
  const encoded = Object.keys(params).sort().map((k) => `${k}=${encodeURIComponent(params[k])}`).join('&');
  const url = `http://127.0.0.1:${SOCKUDO_PORT}${path}?${encoded}&auth_signature=${signature}`;
  const res = await fetch(url, { method, body: text, headers: text ? { 'Content-Type': 'application/json' } : {} });
  return { status: res.status, body: await res.text() };
}

/** Posts JSON to the demo app (or to the instance at `app`) as `user`, with an optional X-Socket-ID. */
export async function appPost(path, user, body, socketId, app = APP) {
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${user}` };
  if (socketId) headers['X-Socket-ID'] = socketId;
  const res = await fetch(`${app}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.text() };
}

/** The demo's activity log (webhooks it received). */
export async function activity() {
  return (await fetch(`${APP}/activity`)).json();
}

/** Signs a webhook body as Pusher does. */
export function signWebhook(body, secret = SECRET) {
  return crypto.createHmac('sha256', secret).update(body).digest('hex');
}

// ---- helpers of the Node tests (channels, triggers, users, queries, webhooks) ----

/** The repository root: the cli runs there so it reads Rocket.toml (encryption master key). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs examples/cli.rs (our Rust `Pusher` client) against this sockudo and resolves with
 * its JSON reply; rejects with `{status, error}` from its stderr on failure.
 */
export function cli(...args) {
  const env = { ...process.env, ROCKET_PUSHER: `{url="http://${KEY}:${SECRET}@127.0.0.1:${SOCKUDO_PORT}/apps/${APP_ID}"}` };
  delete env.PUSHER_URL;
  return new Promise((resolve, reject) => {
    execFile(path.join(ROOT, 'target/debug/examples/cli'), args, { cwd: ROOT, env, timeout: 10000 }, (err, stdout, stderr) => {
      if (err) {
        let detail = {};
        try { detail = JSON.parse(stderr); } catch { /* not JSON */ }
        return reject(Object.assign(new Error(`cli ${args.join(' ')}: ${stderr.trim() || err.message}`), detail));
      }
      try { resolve(JSON.parse(stdout)); } catch (e) { reject(new Error(`cli ${args.join(' ')}: bad JSON ${stdout}`)); }
    });
  });
}

/** A name unique to this run, for channels and users that no other test touches. */
export function unique(prefix) {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Collects every `event` on `target` into the returned array. */
export function collect(target, event) {
  const seen = [];
  target.bind(event, (data) => seen.push(data));
  return seen;
}

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the first connection-level `pusher:error` (`{code, message}`) of `pusher`. */
export function pusherError(pusher, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { pusher.connection.unbind('error', on); reject(new Error(`no pusher:error within ${ms} ms`)); }, ms);
    function on(err) {
      if (err?.type !== 'PusherError') return;
      clearTimeout(t); pusher.connection.unbind('error', on); resolve(err.data);
    }
    pusher.connection.bind('error', on);
  });
}

/** Resolves when `pusher`'s connection state is one of `states`. */
export function state(pusher, states, ms = 10000) {
  return eventually(() => states.includes(pusher.connection.state), ms, 50)
    .catch(() => { throw new Error(`connection still ${pusher.connection.state}, wanted ${states.join('|')} within ${ms} ms`); });
}

/** Signs `pusher` in through the app's user-auth route; resolves with pusher.user.user_data once
 * the server-to-user channel is subscribed (only then can send_to_user reach it). */
export async function signedIn(pusher, ms = 10000) {
  pusher.signin();
  await eventually(() => pusher.user.user_data && pusher.user.serverToUserChannel?.subscribed, ms, 50);
  return pusher.user.user_data;
}

/** Tracks pusher-js clients made in a test file; `disconnectAll()` in `afterEach`. */
export function clients() {
  const list = [];
  return {
    connect(user, extra, app) { const p = connect(user, extra, app); list.push(p); return p; },
    add(p) { list.push(p); return p; },
    disconnectAll() { while (list.length) list.pop().disconnect(); },
  };
}

// ---- a second instance of the demo, and what clients receive in order ----

/** The port of the demo instance a test starts and stops itself (scripts/e2e picks it). */
export const SPARE_PORT = Number(process.env.E2E_SPARE_PORT ?? 5001);

/**
 * Starts another instance of the demo on `port` against this sockudo, as scripts/e2e starts
 * the first (same binary, Rocket.toml, log level), and resolves once it answers. Its pid goes
 * to E2E_SPARE_PIDFILE, so scripts/e2e stops it even if this process dies first. `stop()`
 * sends SIGTERM (Rocket's graceful shutdown) and resolves with how it exited; `exited`
 * resolves with `{ code, signal }` however it ends.
 */
export async function startApp(port = SPARE_PORT, env = {}) {
  const log = path.join(ARTIFACTS, `app-${port}.log`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const fd = fs.openSync(log, 'w');
  const appEnv = {
    ...process.env,
    ROCKET_PORT: String(port),
    ROCKET_LOG_LEVEL: 'normal',
    ROCKET_PUSHER: `{url="http://${KEY}:${SECRET}@127.0.0.1:${SOCKUDO_PORT}/apps/${APP_ID}"}`,
    ...env,
  };
  delete appEnv.PUSHER_URL;
  const proc = spawn(path.join(ROOT, 'target/debug/examples/chat'), [], { cwd: ROOT, env: appEnv, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  if (process.env.E2E_SPARE_PIDFILE) fs.writeFileSync(process.env.E2E_SPARE_PIDFILE, `${proc.pid}\n`);
  let status = null;
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => { status = { code, signal }; resolve(status); }));
  const url = `http://127.0.0.1:${port}`;
  const app = {
    url,
    pid: proc.pid,
    log,
    exited,
    /** Whether it still runs. */
    get running() { return status === null; },
    /** SIGTERM, then the exit (SIGKILL after `ms`, and an error: a graceful stop has a bound). */
    async stop(ms = 20000) {
      if (status) return status;
      proc.kill('SIGTERM');
      let timer;
      const late = new Promise((resolve) => { timer = setTimeout(resolve, ms, 'late'); });
      const how = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (how === 'late') {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`the app on ${port} did not exit within ${ms} ms of SIGTERM; see ${log}`);
      }
      return how;
    },
  };
  const died = exited.then((how) => { throw new Error(`the app on ${port} exited ${JSON.stringify(how)} at start; see ${log}`); });
  try {
    await Promise.race([eventually(async () => status === null && (await fetch(`${url}/session`)).ok, 30000, 100), died]);
  } catch (e) {
    if (!status) { proc.kill('SIGKILL'); await exited; }
    throw e;
  }
  died.catch(() => {}); // a later exit is the test's business (app.exited)
  return app;
}

/** The app's log so far. */
export const appLog = (app) => fs.readFileSync(app.log, 'utf8');

/**
 * Subscribes `pusher` to the channels `names` and records every `event` on each, in the order
 * it arrives. Resolves once all are subscribed, with `{ channels, byChannel, total }`.
 */
export async function record(pusher, names, event) {
  const byChannel = new Map(names.map((n) => [n, []]));
  const channels = names.map((n) => {
    const ch = pusher.subscribe(n);
    ch.bind(event, (data) => byChannel.get(n).push(data));
    return ch;
  });
  await Promise.all(channels.map((ch) => subscribed(ch)));
  return {
    channels,
    byChannel,
    get total() { let n = 0; for (const list of byChannel.values()) n += list.length; return n; },
  };
}

/** Waits until `rec` has recorded at least `total` events; the error says how many came. */
export async function receivedAll(rec, total, ms = 20000) {
  await eventually(() => rec.total >= total, ms, 50)
    .catch(() => { throw new Error(`received ${rec.total} of ${total} events within ${ms} ms`); });
}

/**
 * Asserts that each channel of `byChannel` received exactly `expected.get(channel)`, in that
 * order, comparing `key(data)` of each event: all N received, none twice, in order per
 * channel. The message names the channel and the first difference (missing, duplicated or
 * out of order) rather than dumping every event.
 */
export function assertInOrder(byChannel, expected, key = (d) => d) {
  assert.deepEqual([...byChannel.keys()].sort(), [...expected.keys()].sort(), 'the channels recorded');
  for (const [channel, want] of expected) {
    const got = byChannel.get(channel).map(key);
    const seen = new Set(got);
    const missing = want.filter((k) => !seen.has(k));
    const dups = got.filter((k, i) => got.indexOf(k) !== i);
    const first = got.findIndex((k, i) => k !== want[i]);
    assert.ok(
      missing.length === 0 && dups.length === 0 && got.length === want.length && first === -1,
      `${channel}: received ${got.length} of ${want.length}; missing ${JSON.stringify(missing.slice(0, 5))}` +
        `${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}; twice ${JSON.stringify(dups.slice(0, 5))}; ` +
        `first difference at #${first}: got ${JSON.stringify(got[first])}, wanted ${JSON.stringify(want[first])}`,
    );
  }
}

/**
 * Waits until everything already sent to `channels` of `rec` has arrived: triggers a marker
 * on all of them (our cli) and waits for it on each; a connection receives one channel's
 * events in order, so nothing sent before the marker is still on its way.
 */
export async function barrier(channels, ms = 10000) {
  const event = 'e2e-barrier';
  const got = channels.map((ch) => next(ch, event, ms));
  for (let i = 0; i < channels.length; i += 100) {
    await cli('trigger', channels.slice(i, i + 100).map((ch) => ch.name).join(','), event, '{}');
  }
  await Promise.all(got);
}
