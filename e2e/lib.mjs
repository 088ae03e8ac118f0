// Shared helpers of the end-to-end tests. scripts/e2e starts sockudo and the chat app
// and passes their addresses; everything stays on loopback.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
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

/** A pusher-js client signed in to the demo as `user` (Bearer header: Node's pusher-js may not send cookies). */
export function connect(user, extra = {}) {
  const headers = user ? { Authorization: `Bearer ${user}` } : {};
  const pusher = new Pusher(KEY, {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: SOCKUDO_PORT,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: { endpoint: `${APP}/pusher/auth`, transport: 'ajax', headers },
    userAuthentication: { endpoint: `${APP}/pusher/user-auth`, transport: 'ajax', headers },
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

/** Posts JSON to the demo app as `user`, with an optional X-Socket-ID. */
export async function appPost(path, user, body, socketId) {
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${user}` };
  if (socketId) headers['X-Socket-ID'] = socketId;
  const res = await fetch(`${APP}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
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
    connect(user, extra) { const p = connect(user, extra); list.push(p); return p; },
    add(p) { list.push(p); return p; },
    disconnectAll() { while (list.length) list.pop().disconnect(); },
  };
}
