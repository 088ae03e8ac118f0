// Queued delivery end to end: the demo queues typed broadcast events (`.queue()` returns at
// once, a background dispatcher batches them through sockudo's batch endpoint), and the
// real pusher-js receives them. The shutdown test runs its own instance of the demo, so it
// can stop it with SIGTERM (Rocket's graceful shutdown drains the queue) while the others
// keep using the one scripts/e2e started.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appLog, appPost, assertInOrder, barrier, clients, collect, connected, next, receivedAll, record,
  startApp, subscribed,
} from './lib.mjs';

const c = clients();
afterEach(() => c.disconnectAll());

/** Unique per run: rooms nobody else joined (a room name is letters, digits and '-'). */
const RUN = Math.random().toString(36).slice(2, 8);

test('1,000 events queued over 10 rooms, then SIGTERM: every client receives all, in order per room', { timeout: 120000 }, async (t) => {
  const app = await startApp();
  try {
    const rooms = Array.from({ length: 10 }, (_, i) => `q-${RUN}-${i}`);
    const names = rooms.map((r) => `presence-room.${r}`);
    // Two listeners on all ten rooms, each subscription authorized by this instance's
    // `room` channel route.
    const recs = await Promise.all(['qu-ann', 'qu-ben'].map((u) => record(c.connect(u, {}, app.url), names, 'message')));

    const res = await appPost('/load', 'qu-cat', { rooms, count: 1000 }, undefined, app.url);
    assert.equal(res.status, 202, res.body);
    const reply = JSON.parse(res.body);
    assert.equal(reply.queued, 1000);
    // Still waiting in the queue when the route answered: the shutdown below has work to do.
    assert.ok(reply.pending > 0, `pending ${reply.pending} when the route answered`);

    // Right after the route returned: Rocket's graceful shutdown, whose fairing drains the
    // queue. The check starts once the process is gone.
    const exit = await app.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, `the app's exit; see ${app.log}`);
    t.diagnostic(`pending when the route answered: ${reply.pending}`);
    // The fairing's drain logged its counts: everything queued was sent, nothing dropped.
    assert.match(appLog(app), /1000 queued, 0 in flight, 1000 sent, \d+ retried, 0 failed, 0 dropped/);

    // Room i received messages #0 … #99 from qu-cat, in the order the route queued them.
    const expected = new Map(names.map((n) => [n, Array.from({ length: 100 }, (_, i) => `qu-cat: #${i}`)]));
    for (const rec of recs) {
      await receivedAll(rec, 1000);
      await barrier(rec.channels); // any duplicate would have arrived by now
      assertInOrder(rec.byChannel, expected, (m) => `${m.from}: ${m.text}`);
    }
  } finally {
    if (app.running) await app.stop().catch((e) => console.error(e.message));
  }
});

test('a typed broadcast on a name built by the room route reaches those the route let in, not the sender', { timeout: 30000 }, async () => {
  const room = `t-${RUN}`;
  const [dee, eve] = [c.connect('qu-dee'), c.connect('qu-eve')];
  const [roomD, roomE] = [dee.subscribe(`presence-room.${room}`), eve.subscribe(`presence-room.${room}`)];
  await Promise.all([subscribed(roomD), subscribed(roomE)]);
  const deeSaw = collect(roomD, 'message');
  const eveGot = next(roomE, 'message');
  const res = await appPost(`/rooms/${room}/messages`, 'qu-dee', { text: 'typed and queued' }, await connected(dee));
  assert.equal(res.status, 202, res.body);
  assert.deepEqual(await eveGot, { from: 'qu-dee', text: 'typed and queued' });
  // The sender's socket was excluded: once the marker reached her, the message is not coming.
  await barrier([roomD, roomE]);
  assert.deepEqual(deeSaw, []);
});

test("a room name the route's name constructor refuses is a 400 with a JSON reason, nothing queued", { timeout: 30000 }, async () => {
  for (const bad of ['a.b', 'x'.repeat(300)]) {
    const res = await appPost(`/rooms/${bad}/messages`, 'qu-fay', { text: 'nowhere' });
    assert.equal(res.status, 400, res.body);
    assert.ok(JSON.parse(res.body).error, res.body);
  }
  const load = await appPost('/load', 'qu-fay', { rooms: ['a.b'], count: 1 });
  assert.equal(load.status, 400, load.body);
});
