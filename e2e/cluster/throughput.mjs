// Throughput of the cluster (BENCHMARKS.md, "Scale-out"): events per second delivered to
// connected pusher-js clients, with the demo's queued delivery as the producer. Not a test:
// scripts/e2e-cluster --throughput runs it, once per layout, and prints one JSON line each.
//
//   node e2e/cluster/throughput.mjs LAYOUT
//
// LAYOUT `two-nodes`: half of the clients on node 1, half on node 2; `one-node`: all of
// them on node 2. Either way demo instance 2 queues the events (its /load route) and sends
// them to node 2, which delivers to its own clients and, through Redis, to node 1's.
// Each client subscribes to every room, so each event is delivered once per client.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { APPS, NODES, clients, connected, subscribed } from './lib.mjs';

const layout = process.argv[2];
const EVENTS = Number(process.env.THROUGHPUT_EVENTS ?? 5000); // the /load route's most
const ROOMS = Number(process.env.THROUGHPUT_ROOMS ?? 10);
const CLIENTS = Number(process.env.THROUGHPUT_CLIENTS ?? 10);
if (!['two-nodes', 'one-node'].includes(layout)) {
  console.error('usage: node e2e/cluster/throughput.mjs two-nodes|one-node');
  process.exit(2);
}

const [n1, n2] = NODES;
const [app1, app2] = APPS;
const c = clients();
const run = `tp${process.pid % 10000}`;
const rooms = Array.from({ length: ROOMS }, (_, i) => `${run}-${i}`);

let delivered = 0;
let expected = 0;
let outOfOrder = 0;
let done;
function fail(why) {
  console.error(`throughput: ${why}`);
  process.exit(1);
}

// Connected and subscribed one at a time (presence joins at the same moment can race).
const counts = [];
for (let i = 0; i < CLIENTS; i++) {
  const onNode1 = layout === 'two-nodes' && i % 2 === 0;
  const p = c.to(onNode1 ? n1 : n2, onNode1 ? app1 : app2, `tp-user-${i}`);
  await connected(p);
  const mine = new Map();
  for (const room of rooms) {
    const ch = p.subscribe(`presence-room.${room}`);
    await subscribed(ch);
    mine.set(room, null);
    ch.bind('message', (m) => {
      // `#n` in each room: a repeat is a failed run, not a figure. Through Redis, sockudo
      // may deliver out of order (counted); a gap shows as a run that never finishes.
      const n = Number(m.text.slice(1));
      const got = mine.get(room);
      if (got.has(n)) fail(`client ${i}, room ${room}: #${n} twice`);
      if (n < got.last) outOfOrder += 1;
      got.add(n);
      got.last = n;
      delivered += 1;
      if (delivered === expected) done();
    });
  }
  counts.push(mine);
}

/** CPU time (ms) each process of the cluster and this one used so far: what bounds the run. */
const RUN = process.env.CLUSTER_RUN_DIR ?? '/tmp/rocket_pusher-cluster';
const TICK_MS = 10; // USER_HZ is 100 on Linux
function cpu() {
  const used = {};
  for (const [name, file] of [['node 1', 'node1/sockudo.pid'], ['node 2', 'node2/sockudo.pid'], ['redis', 'redis.pid'], ['app 2', 'app2.pid']]) {
    try {
      const pid = readFileSync(path.join(RUN, file), 'utf8').trim();
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      used[name] = (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime + stime
    } catch { /* not running */ }
  }
  const self = process.cpuUsage();
  used['clients (this process)'] = (self.user + self.system) / 1000;
  return used;
}

/** Queues `count` messages through instance 2 and resolves when every client has them all. */
async function load(count) {
  delivered = 0;
  expected = count * CLIENTS;
  outOfOrder = 0;
  for (const mine of counts) for (const room of rooms) mine.set(room, Object.assign(new Set(), { last: -1 }));
  const finished = new Promise((resolve) => { done = resolve; });
  const started = process.hrtime.bigint();
  const res = await fetch(`${app2}/load`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer tp-producer' },
    body: JSON.stringify({ rooms, count }),
  });
  if (res.status !== 202) fail(`/load answered ${res.status}: ${await res.text()}`);
  const queuedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const timeout = setTimeout(() => fail(`${delivered} of ${expected} delivered after 120 s`), 120000);
  await finished;
  clearTimeout(timeout);
  return { queuedMs, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

// Room numbering restarts with each /load: a warm-up (connections, caches), then the run.
await load(ROOMS * 10);
const before = cpu();
const { queuedMs, ms } = await load(EVENTS);
const after = cpu();
const cpuMs = Object.fromEntries(Object.keys(after).map((k) => [k, Math.round(after[k] - (before[k] ?? 0))]));
console.log(JSON.stringify({
  layout,
  adapter: process.env.CLUSTER_ADAPTER ?? 'redis',
  clients: CLIENTS,
  onNode1: layout === 'two-nodes' ? Math.ceil(CLIENTS / 2) : 0,
  rooms: ROOMS,
  events: EVENTS,
  delivered: EVENTS * CLIENTS,
  queuedMs: Math.round(queuedMs),
  ms: Math.round(ms),
  deliveredPerSecond: Math.round((EVENTS * CLIENTS) / (ms / 1000)),
  eventsPerSecond: Math.round(EVENTS / (ms / 1000)),
  outOfOrder,
  cpuMs,
}));
c.disconnectAll();
process.exit(0);
