// Events cross the cluster: a client on one node receives what the app triggers through the
// other node, and exclusion by socket id holds across nodes. Without the Redis adapter each
// node only reaches its own clients, and every test here fails.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { APPS, NODES, cliAt, clients, collect, connected, next, postTo, subscribed, unique } from './lib.mjs';

const T = { timeout: 30000 };
const ROOM = 'presence-room.lobby';
const c = clients();
afterEach(() => c.disconnectAll());

test('a client on node 1 receives what instance 2 triggers through node 2', T, async () => {
  const [n1, n2] = NODES;
  const [app1, app2] = APPS;
  // Authorized by instance 1, connected to node 1: the room's message from instance 2
  // (its /messages route, the demo's own trigger) has to cross to node 1.
  const ann = c.to(n1, app1, 'cl-ann');
  const room = ann.subscribe(ROOM);
  await subscribed(room);
  const got = next(room, 'message');
  assert.equal((await postTo(app2, '/messages', 'cl-bob', { text: 'from instance 2' })).status, 202);
  assert.deepEqual(await got, { from: 'cl-bob', text: 'from instance 2' });

  // And the other way: the crate's client on node 1, a public channel watched on node 2.
  const name = unique('cl-public');
  const cy = c.to(n2, app2, 'cl-cy');
  const ch = cy.subscribe(name);
  await subscribed(ch);
  const back = next(ch, 'ping');
  await cliAt(n1, 'trigger', name, 'ping', '{"via":"node 1"}');
  assert.deepEqual(await back, { via: 'node 1' });
});

test('a trigger through node 2 excluding a socket on node 1 skips only that socket', T, async () => {
  const [n1, n2] = NODES;
  const [app1, app2] = APPS;
  // The sender and a bystander on node 1, a reader on node 2; the sender posts through
  // instance 2 (node 2) with its own socket id, as the demo's page does.
  const sender = c.to(n1, app1, 'cl-dee');
  const bystander = c.to(n1, app1, 'cl-eve');
  const reader = c.to(n2, app2, 'cl-fay');
  const rooms = [sender, bystander, reader].map((p) => p.subscribe(ROOM));
  await Promise.all(rooms.map((r) => subscribed(r)));
  const socketId = await connected(sender);
  const senderSaw = collect(rooms[0], 'message');
  const got = [next(rooms[1], 'message'), next(rooms[2], 'message')];

  const reply = await postTo(app2, '/messages', 'cl-dee', { text: 'not for dee' }, socketId);
  assert.equal(reply.status, 202, reply.body);
  // Both others on both nodes got it; node 1 delivered to the bystander, so it has handled
  // the event and did not deliver it to the sender.
  for (const data of await Promise.all(got)) assert.deepEqual(data, { from: 'cl-dee', text: 'not for dee' });
  // A second event without exclusion, to the sender too: once it is in, the first would be.
  const marker = next(rooms[0], 'message');
  assert.equal((await postTo(app2, '/messages', 'cl-eve', { text: 'for all' })).status, 202);
  assert.deepEqual(await marker, { from: 'cl-eve', text: 'for all' });
  assert.deepEqual(senderSaw, [{ from: 'cl-eve', text: 'for all' }], 'the excluded socket received the event');
});
