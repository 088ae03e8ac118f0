// pusher-js's connection to the server: keepalive (with a short activityTimeout it pings
// whenever the line has been quiet that long, and the pongs keep the same connection
// open), and an unknown key, which each server refuses in its own way.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Pusher, SOCKUDO_PORT, clients, connected, eventually, sleep, state,
} from './lib.mjs';

const embedded = process.env.E2E_SERVER === 'embedded';

const T = { timeout: 30000 };
const c = clients();
afterEach(() => c.disconnectAll());

test('pusher-js with activityTimeout 1000: ping/pong rounds on one connection', T, async () => {
  const p = c.connect(null, { activityTimeout: 1000 });
  const socketId = await connected(p);
  assert.match(socketId, /^\d+\.\d+$/);
  const pongs = [];
  p.connection.bind('message', (m) => { if (m.event === 'pusher:pong') pongs.push(p.connection.socket_id); });
  // About a second apart; the deadline is generous, nothing here measures speed.
  await eventually(() => pongs.length >= 3, 20000, 50);
  assert.equal(p.connection.state, 'connected');
  assert.deepEqual(new Set(pongs), new Set([socketId]), 'every pong on the first connection');
  assert.equal(p.connection.socket_id, socketId);
});

test('an unknown key: 4001 from the embedded server and pusher-js gives up; sockudo drops it and pusher-js retries', T, async () => {
  const p = c.add(new Pusher('NOT-OUR-KEY', {
    cluster: 'mt1', wsHost: '127.0.0.1', wsPort: SOCKUDO_PORT, forceTLS: false, enabledTransports: ['ws'], disableStats: true,
  }));
  const states = [];
  const codes = [];
  p.connection.bind('state_change', ({ current }) => states.push(current));
  // A close while connecting comes as a WebSocketError around the close's code.
  p.connection.bind('error', (e) => codes.push(e.type === 'PusherError' ? e.data?.code : e.error?.data?.code));
  if (!embedded) {
    // sockudo drops such a socket without a close frame (1006 for pusher-js), which pusher-js
    // retries every second: it stays connecting.
    await eventually(() => codes.length >= 2, 20000, 50);
    assert.deepEqual([...new Set(codes)], [1006]);
    assert.equal(p.connection.state, 'connecting');
    return;
  }
  await eventually(() => codes.length > 0, 10000, 50);
  assert.deepEqual(codes, [4001]);
  await state(p, ['disconnected']);
  const seen = states.length;
  await sleep(5000);
  assert.deepEqual(states.slice(seen), [], 'no new attempt');
  assert.deepEqual(codes, [4001]);
  assert.equal(p.connection.state, 'disconnected');
});
