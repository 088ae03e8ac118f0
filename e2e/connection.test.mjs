// Keepalive as pusher-js does it: with a short activityTimeout it pings whenever the line
// has been quiet that long, and the server's pongs keep the same connection open.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { clients, connected, eventually } from './lib.mjs';

const T = { timeout: 30000 };
const c = clients();
afterEach(() => c.disconnectAll());

test('pusher-js with activityTimeout 1000: ping/pong rounds on one connection', T, async () => {
  const p = c.connect(null, { activityTimeout: 1000 });
  const socketId = await connected(p);
  const pongs = [];
  p.connection.bind('message', (m) => { if (m.event === 'pusher:pong') pongs.push(p.connection.socket_id); });
  // About a second apart; the deadline is generous, nothing here measures speed.
  await eventually(() => pongs.length >= 3, 20000, 50);
  assert.equal(p.connection.state, 'connected');
  assert.deepEqual(new Set(pongs), new Set([socketId]), 'every pong on the first connection');
  assert.equal(p.connection.socket_id, socketId);
});
