// Webhooks from sockudo reach the demo twice (scripts/sockudo.toml): the app's own
// VerifiedWebhook<T> routes (/hooks/*, log entries `via: "app"`) and the fairing's mounted
// routes (/pusher/events/*, `via: "fairing"`). Each entry is written from the typed event
// (PresenceEvent::MemberAdded, ChannelExistenceEvent::Occupied, ClientEvent, ...).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { APP, KEY, activity, clients, eventually, next, signWebhook, subscribed, unique } from './lib.mjs';

const T = { timeout: 30000 };
const ROOM = 'presence-room.lobby';
const c = clients();
afterEach(() => c.disconnectAll());

/** Waits until the activity log has, for each `via`, exactly one entry matching `want`. */
async function logged(want, ms = 10000) {
  const match = (e) => Object.entries(want).every(([k, v]) => e[k] === v);
  return eventually(async () => {
    const entries = (await activity()).filter(match);
    const vias = entries.map((e) => e.via).sort();
    if (vias.length > 2) throw new Error(`duplicates: ${JSON.stringify(entries)}`);
    return vias.join() === 'app,fairing' ? entries : null;
  }, ms, 100);
}

test('channel_occupied and channel_vacated', T, async () => {
  const name = unique('wh-pub');
  const p = c.connect('wh-ann');
  await subscribed(p.subscribe(name));
  await logged({ event: 'channel_occupied', channel: name, user_id: null });
  p.unsubscribe(name);
  await logged({ event: 'channel_vacated', channel: name, user_id: null });
});

test('member_added and member_removed (about 3 s after the disconnect)', T, async () => {
  const user = unique('wh-bob');
  const p = c.connect(user);
  await subscribed(p.subscribe(ROOM));
  await logged({ event: 'member_added', channel: ROOM, user_id: user });
  p.disconnect();
  await logged({ event: 'member_removed', channel: ROOM, user_id: user }, 15000);
});

test('client_event: a client-* event on presence-room', T, async () => {
  const event = unique('client-hello');
  const cal = c.connect('wh-cal');
  const dot = c.connect('wh-dot');
  const [roomC, roomD] = [cal.subscribe(ROOM), dot.subscribe(ROOM)];
  await Promise.all([subscribed(roomC), subscribed(roomD)]);
  const got = next(roomD, event);
  assert.equal(roomC.trigger(event, { from: 'node' }), true);
  assert.deepEqual(await got, { from: 'node' });
  // sockudo 5.2.0 leaves user_id out of client_event webhooks, so it is not checked here.
  const entries = await logged({ event, channel: ROOM });
  assert.equal(entries.length, 2);
});

test('a bad signature is refused with 403 by both kinds of routes; a good one passes', T, async () => {
  const forged = unique('wh-forged');
  const body = JSON.stringify({
    time_ms: Date.now(),
    events: [{ name: 'member_added', channel: ROOM, user_id: forged }],
  });
  const post = (path, signature) => fetch(`${APP}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Pusher-Key': KEY, ...(signature ? { 'X-Pusher-Signature': signature } : {}) },
    body,
  });
  const bad = {
    'signed with another secret': signWebhook(body, 'NOT-THE-SECRET'),
    'not hex': 'bad',
    'signature of another body': signWebhook(`${body} `),
    'no signature header': null,
  };
  const routes = ['/pusher/events/presence', '/hooks/presence'];
  for (const path of [...routes, '/pusher/events/channel_existence', '/hooks/channels', '/pusher/events/client', '/hooks/client']) {
    for (const [what, signature] of Object.entries(bad)) {
      assert.equal((await post(path, signature)).status, 403, `${path}: ${what}`);
    }
  }
  assert.deepEqual((await activity()).filter((e) => e.user_id === forged), [], 'a refused webhook was logged');

  // The same body correctly signed passes both presence routes, typed as member_added.
  for (const path of routes) assert.equal((await post(path, signWebhook(body))).status, 200, path);
  await logged({ event: 'member_added', channel: ROOM, user_id: forged });
});
