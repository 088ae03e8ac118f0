// Webhooks from a cluster: what the app receives for one channel occupied and vacated
// through both nodes. Node N sends its webhooks to demo instance N, so the two activity
// logs together are everything the cluster sent. docs/deploy.md reports these results.
//
// A node decides "occupied" and "vacated" from the cluster-wide count it reads right after
// a join or a leave (a leave is re-checked 3 s later). One after the other, that makes one
// webhook per cluster; without the Redis adapter each node counts alone and sends its own.
//
// At the same moment, the nodes promise less. A node acknowledges a subscription
// (subscription_succeeded) before it reads the count for channel_occupied, so a client
// that leaves right after its acknowledgement can be gone from the other node's count
// before this node asks for it: both nodes then count one and both announce the channel.
// Both may also count two, and then neither does; presence member_added likewise. What
// holds is what a count after one's own leave gives: the last leave finds nobody, so the
// end is announced at least once, and each node announces each change at most once.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { APPS, NODES, cliAt, clients, connected, eventually, record as recordIn, subscribed, unique, webhooksFor } from './lib.mjs';

const T = { timeout: 60000 };
const c = clients();
afterEach(() => c.disconnectAll());

/**
 * Waits until every webhook a node scheduled before this call has arrived: each node gets
 * a marker channel joined and left after it, whose channel_vacated comes 3 s later, as
 * late as any channel_vacated or member_removed scheduled before it.
 */
async function settled() {
  const markers = NODES.map(() => unique('wh-marker'));
  const [p1, p2] = NODES.map((port, i) => c.to(port, APPS[i], `wh-marker-${i + 1}`));
  await Promise.all([p1, p2].map((p, i) => subscribed(p.subscribe(markers[i]))));
  [p1, p2].forEach((p, i) => p.unsubscribe(markers[i]));
  await eventually(async () => {
    const hooks = await Promise.all(markers.map(webhooksFor));
    return hooks.every((h) => h.some((e) => e.event === 'channel_vacated'));
  }, 20000, 200);
}

/** `event@instance` for each webhook logged for `channel`, sorted. */
const received = async (channel) => (await webhooksFor(channel)).map((e) => `${e.event}@${e.instance}`).sort();

const record = (name, value) => recordIn('webhooks.json', name, value);

test('one after the other through both nodes: one channel_occupied and one channel_vacated per cluster', T, async () => {
  const channel = unique('wh-seq');
  const [n1, n2] = NODES;
  const [app1, app2] = APPS;
  const x = c.to(n1, app1, 'wh-x');
  const y = c.to(n2, app2, 'wh-y');
  await subscribed(x.subscribe(channel));
  // Node 1 announced the channel before the next join (else node 2 could count first).
  await eventually(async () => (await received(channel)).length === 1);
  await subscribed(y.subscribe(channel));
  // X leaves first, and node 1 has handled it (node 2 counts one subscriber, its own)
  // before Y leaves: two leaves at once would both count zero.
  x.unsubscribe(channel);
  await eventually(async () => (await cliAt(n2, 'channel', channel, '--subscription-count')).subscription_count === 1);
  y.unsubscribe(channel);
  await eventually(async () => (await received(channel)).includes('channel_vacated@2'), 15000, 200);
  await settled();

  const got = await received(channel);
  record('sequential public channel', got);
  assert.deepEqual(got, ['channel_occupied@1', 'channel_vacated@2']);
});

test('presence: one user through both nodes, one after the other: one member_added and one member_removed', T, async () => {
  const room = `presence-room.${unique('wh').replace(/[^a-z0-9-]/g, '').slice(0, 30)}`;
  const [n1, n2] = NODES;
  const [app1, app2] = APPS;
  const first = c.to(n1, app1, 'wh-zoe');
  const second = c.to(n2, app2, 'wh-zoe');
  await subscribed(first.subscribe(room));
  await eventually(async () => (await received(room)).includes('member_added@1'));
  await subscribed(second.subscribe(room));
  first.unsubscribe(room);
  await eventually(async () => (await cliAt(n2, 'channel', room, '--subscription-count')).subscription_count === 1);
  second.unsubscribe(room);
  await eventually(async () => (await received(room)).includes('member_removed@2'), 15000, 200);
  await settled();

  const hooks = await webhooksFor(room);
  record('sequential presence, one user', hooks.map((e) => `${e.event}@${e.instance}`).sort());
  const members = hooks.filter((e) => e.event.startsWith('member_'));
  assert.deepEqual(members.map((e) => `${e.event}@${e.instance}:${e.user_id}`).sort(), ['member_added@1:wh-zoe', 'member_removed@2:wh-zoe']);
});

test('joined and left at the same moment on both nodes: the end announced at least once, nothing twice by one node', T, async () => {
  const [n1, n2] = NODES;
  const [app1, app2] = APPS;
  const runs = [];
  for (let i = 0; i < 3; i++) {
    // A public channel, and a presence channel the same user joins through both nodes.
    const channel = unique('wh-race');
    const room = `presence-room.${unique('wr').replace(/[^a-z0-9-]/g, '').slice(0, 30)}`;
    const x = c.to(n1, app1, 'wh-yan');
    const y = c.to(n2, app2, 'wh-yan');
    await Promise.all([connected(x), connected(y)]);
    for (const name of [channel, room]) {
      await Promise.all([subscribed(x.subscribe(name)), subscribed(y.subscribe(name))]);
      x.unsubscribe(name);
      y.unsubscribe(name);
    }
    await eventually(async () => (await Promise.all([channel, room].map((n) => cliAt(n2, 'channel', n)))).every((info) => !info.occupied));
    await settled();
    const got = { [channel]: await received(channel), [room]: await received(room) };
    runs.push({ public: got[channel], presence: got[room] });
    for (const [name, events] of Object.entries(got)) {
      const from = (event) => [1, 2].map((n) => events.filter((e) => e === `${event}@${n}`).length);
      // Each node joined once and left once: it announces each change at most once.
      const all = name === room ? ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed'] : ['channel_occupied', 'channel_vacated'];
      for (const event of all) {
        const [a, b] = from(event);
        assert.ok(a <= 1 && b <= 1, `${name}: ${event} ${a} and ${b} times from the nodes: ${events}`);
      }
      // The last leave counts nobody on either node: the end is announced.
      const ends = name === room ? ['channel_vacated', 'member_removed'] : ['channel_vacated'];
      for (const event of ends) {
        const [a, b] = from(event);
        assert.ok(a + b >= 1, `${name}: no ${event} from either node: ${events}`);
      }
    }
  }
  // How often the joins were announced once, twice or not at all: docs/deploy.md.
  record('simultaneous (3 runs)', runs);
});
