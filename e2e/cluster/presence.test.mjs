// Presence across the cluster: members joining through different nodes, authorized by
// different app instances, form one member list, and both nodes count the same channel
// and the same users. Without the Redis adapter each node sees only its own members.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { APPS, NODES, cliAt, clients, eventually, next, subscribed, unique } from './lib.mjs';

const T = { timeout: 30000 };
const c = clients();
afterEach(() => c.disconnectAll());

const ids = (members) => Object.keys(members.members).sort();

/** The channel as each node reports it (the crate's client against node 1, then node 2). */
const fromBothNodes = (room) => Promise.all(NODES.map((n) => cliAt(n, 'channel', room, '--user-count', '--subscription-count')));
const usersFromBothNodes = (room) => Promise.all(NODES.map(async (n) => (await cliAt(n, 'users', room)).users.sort()));

test('one member list and the same counts from either node', T, async () => {
  const [n1, n2] = NODES;
  const [app1, app2] = APPS;
  const room = `presence-room.${unique('pr').replace(/[^a-z0-9-]/g, '').slice(0, 30)}`;

  const ann = c.to(n1, app1, 'pr-ann');
  const annRoom = ann.subscribe(room);
  await subscribed(annRoom);
  const added = next(annRoom, 'pusher:member_added');

  // Bob joins through node 2, authorized by instance 2: he sees Ann, and she sees him come.
  const bob = c.to(n2, app2, 'pr-bob');
  const bobRoom = bob.subscribe(room);
  const bobView = await subscribed(bobRoom);
  assert.deepEqual(ids(bobView), ['pr-ann', 'pr-bob']);
  assert.deepEqual(bobView.members['pr-ann'], { name: 'pr-ann' }, 'user_info signed by instance 1');
  assert.deepEqual(await added, { id: 'pr-bob', info: { name: 'pr-bob' } });

  // Ann again, on node 2: two users, three subscriptions, whichever node is asked.
  const ann2 = c.to(n2, app2, 'pr-ann');
  await subscribed(ann2.subscribe(room));
  for (const info of await fromBothNodes(room)) {
    assert.deepEqual(info, { occupied: true, user_count: 2, subscription_count: 3 });
  }
  for (const users of await usersFromBothNodes(room)) assert.deepEqual(users, ['pr-ann', 'pr-bob']);

  // Bob leaves on node 2: Ann, on node 1, sees him go; both nodes count one user.
  const removed = next(annRoom, 'pusher:member_removed');
  bob.disconnect();
  assert.deepEqual(await removed, { id: 'pr-bob', info: { name: 'pr-bob' } });
  await eventually(async () => (await fromBothNodes(room)).every((i) => i.user_count === 1 && i.subscription_count === 2));
  for (const users of await usersFromBothNodes(room)) assert.deepEqual(users, ['pr-ann']);
});

// Each demo instance asks its own node.
test("the demo's /online route of each instance lists the lobby's members of both nodes", T, async () => {
  const [n1, n2] = NODES;
  const [app1, app2] = APPS;
  const lobby = 'presence-room.lobby';
  const gus = c.to(n1, app1, 'pr-gus');
  const hal = c.to(n2, app2, 'pr-hal');
  await Promise.all([subscribed(gus.subscribe(lobby)), subscribed(hal.subscribe(lobby))]);
  for (const app of APPS) {
    const online = await (await fetch(`${app}/online`)).json();
    assert.ok(online.includes('pr-gus') && online.includes('pr-hal'), `${app}/online: ${JSON.stringify(online)}`);
  }
});
