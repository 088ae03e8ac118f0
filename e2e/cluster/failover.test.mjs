// Failover: pusher-js clients reach the cluster through nginx, which spreads them over
// both nodes. Node 1 freezes, then dies. The clients it held reconnect through nginx to
// node 2 and subscribe again (the app's auth routes answer), events keep flowing, and
// demo instance 1, whose client sends to node 1, answers every request it awaits with the
// client's typed error (504 or 502, each error logged by its type) instead of hanging;
// the members node 1 held and who did not come back leave everyone's list.
// scripts/cluster restarts node 1 afterwards.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APPS, BALANCER, NODES, cliAt, clients, cluster, connected, eventually, next, postTo, record, subscribed, unique } from './lib.mjs';

const c = clients();
/** The demo's room: its /messages route posts there. */
const LOBBY = 'presence-room.lobby';

/** Sends `n` direct messages at once through instance `app` (its /direct route awaits
 * send_to_user); resolves with each status, body and time. */
function burst(app, user, n, what) {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    const started = Date.now();
    const res = await postTo(app, '/direct', user, { to: 'fo-nobody', text: `${what} ${i}` });
    return { ...res, ms: Date.now() - started };
  }));
}

/** The crate's transport errors (`rocket_pusher::Error`'s Display): timeout, connection
 * reset, connection refused. */
const TYPED = /^(request timed out after .*|request to the Pusher API failed|could not connect to the Pusher API)$/;

/** What demo instance 1 logged of its client's errors (the crate's responder logs each). */
const errorsLogged = () => readFileSync(path.join(process.env.CLUSTER_RUN_DIR ?? '/tmp/rocket_pusher-cluster', 'app1.log'), 'utf8')
  .split('\n').filter((l) => l.includes('pusher: ')).map((l) => l.slice(l.indexOf('pusher: ') + 8));

test('node 1 frozen then killed behind nginx: clients move to node 2, events flow, requests fail typed', { timeout: 150000 }, async () => {
  const [n1, n2] = NODES;
  const [app1, app2] = APPS;
  const room = `presence-room.${unique('fo').replace(/[^a-z0-9-]/g, '').slice(0, 30)}`;
  const users = ['fo-ann', 'fo-bob', 'fo-cat', 'fo-dan'];
  let killed = false;
  try {
    // Through nginx, which spreads them over both nodes. One at a time: members joining a
    // presence channel at the same moment can miss each other (sockudo 5.2.0, on one node
    // too). Each client is authorized by one of the instances.
    const ps = [];
    const [rooms, lobbies, own] = [[], [], []];
    for (const [i, user] of users.entries()) {
      const p = c.to(BALANCER, APPS[i % 2], user);
      await connected(p);
      for (const [list, name] of [[rooms, room], [lobbies, LOBBY], [own, `private-user.${user}`]]) {
        list.push(p.subscribe(name));
        await subscribed(list.at(-1));
      }
      ps.push(p);
    }
    const before = ps.map((p) => p.connection.socket_id);
    // And one user straight on node 1, who will not come back when it dies.
    const gone = c.to(n1, app1, 'fo-gus');
    await subscribed(gone.subscribe(room));
    await eventually(() => rooms.every((r) => r.members.count === 5));

    // All four hear an event sent through node 2: the clients on node 1 through Redis.
    let got = rooms.map((r) => next(r, 'tick'));
    await cliAt(n2, 'trigger', room, 'tick', '{"n":1}');
    for (const data of await Promise.all(got)) assert.deepEqual(data, { n: 1 });

    // Frozen, node 1 accepts connections and never answers. Its clients are those that do
    // not hear the next event, which node 2 delivers to its own at once.
    const logStart = errorsLogged().length;
    await cluster('node', 'freeze', '1');
    const heard = rooms.map((r) => next(r, 'probe', 3000).then(() => true, () => false));
    await cliAt(n2, 'trigger', room, 'probe', '{}');
    const onNode1 = (await Promise.all(heard)).map((h) => !h);
    assert.ok(onNode1.includes(true) && onNode1.includes(false), `nginx spread the clients: ${onNode1}`);

    // Instance 1's requests to the frozen node time out after the client's timeout (5 s;
    // writes are not retried) with the typed error.
    const frozen = await burst(app1, 'fo-ann', 4, 'to a frozen node');
    for (const r of frozen) {
      assert.equal(r.status, 504, r.body);
      assert.deepEqual(JSON.parse(r.body), { error: 'the Pusher API timed out' });
      assert.ok(r.ms < 15000, `answered after ${r.ms} ms`);
    }

    // Requests in flight when node 1 dies: each ends with a typed error, none hangs.
    const inFlight = burst(app1, 'fo-bob', 4, 'in flight');
    const cliInFlight = cliAt(n1, 'trigger', room, 'tick', '{"n":"lost"}').then(() => null, (e) => e);
    await cluster('node', 'kill', '1');
    const killedAt = Date.now();
    killed = true;
    gone.disconnect(); // it would retry node 1 for ever
    const inFlightReplies = await inFlight;
    for (const r of inFlightReplies) {
      assert.equal(r.status, 502, r.body);
      assert.deepEqual(JSON.parse(r.body), { error: 'the Pusher API request failed' });
      assert.ok(r.ms < 15000, `answered after ${r.ms} ms`);
    }
    const cliError = await cliInFlight;
    assert.ok(cliError, 'a trigger to the killed node succeeded');
    assert.match(cliError.error, TYPED);
    assert.equal(cliError.status, null);

    // The clients node 1 held come back through nginx on node 2 with new socket ids, and
    // pusher-js subscribes their channels again through the auth routes; the others stay.
    await eventually(() => ps.every((p, i) => p.connection.state === 'connected' && (p.connection.socket_id !== before[i]) === onNode1[i]), 30000, 100);
    const reconnectedMs = Date.now() - killedAt;
    await eventually(() => [...rooms, ...lobbies, ...own].every((ch) => ch.subscribed), 30000, 100);
    const resubscribedMs = Date.now() - killedAt;
    // Node 2 answers for the living at once; its clients' member lists keep the dead
    // node's members until it is declared dead (adapter.cluster_health.node_timeout_ms,
    // 15 s in scripts/cluster.d/sockudo-node.toml, 30 s by default) and they get member_removed.
    assert.deepEqual((await cliAt(n2, 'users', room)).users.sort(), users);
    await eventually(() => rooms.every((r) => r.members.count === 4), 45000, 200);
    const goneMs = Date.now() - killedAt;
    for (const r of rooms) assert.deepEqual(Object.keys(r.members.members).sort(), users);

    // Events keep flowing: through nginx's REST (node 1 refuses, nginx sends it to node 2),
    // through instance 2, and to each user's private channel.
    got = rooms.map((r) => next(r, 'tick'));
    await cliAt(BALANCER, 'trigger', room, 'tick', '{"n":2}');
    for (const data of await Promise.all(got)) assert.deepEqual(data, { n: 2 });
    got = lobbies.map((r) => next(r, 'message'));
    assert.equal((await postTo(app2, '/rooms/lobby/messages', 'fo-cat', { text: 'still here' })).status, 202);
    for (const data of await Promise.all(got)) assert.deepEqual(data, { from: 'fo-cat', text: 'still here' });
    got = own.map((ch) => next(ch, 'note'));
    await Promise.all(users.map((u) => cliAt(BALANCER, 'trigger', `private-user.${u}`, 'note', `"for ${u}"`)));
    assert.deepEqual(await Promise.all(got), users.map((u) => `for ${u}`));

    // Instance 1 still points at the dead node: refused at once, with the typed error.
    const dead = await burst(app1, 'fo-dan', 2, 'to a dead node');
    for (const r of dead) {
      assert.equal(r.status, 502, r.body);
      assert.ok(r.ms < 5000, `answered after ${r.ms} ms`);
    }
    // Instance 1 logged each error by its type: 4 timeouts, then resets or refusals.
    const logged = errorsLogged().slice(logStart).filter((l) => TYPED.test(l.split(': ')[0]));
    assert.equal(logged.filter((l) => l.startsWith('request timed out after 5s')).length, 4, logged.join('\n'));
    assert.ok(logged.slice(-2).every((l) => l.startsWith('could not connect to the Pusher API')), logged.join('\n'));
    assert.equal(logged.length, 10, logged.join('\n'));
    const times = (rs) => rs.map((r) => `${r.status} ${JSON.parse(r.body).error} (${r.ms} ms)`);
    record('failover.json', 'node 1 killed', {
      clientsOnNode1: onNode1.filter(Boolean).length,
      reconnectedMs,
      resubscribedMs,
      memberWhoDidNotComeBackRemovedMs: goneMs,
      toFrozenNode: times(frozen),
      inFlightAtKill: times(inFlightReplies),
      cliInFlightAtKill: `${cliError.error} (${cliError.ms} ms)`,
      toDeadNode: times(dead),
      instance1Logged: logged.map((l) => l.split(': ')[0]),
    });
  } finally {
    c.disconnectAll();
    if (!killed) await cluster('node', 'kill', '1').catch(() => {});
    await cluster('node', 'start', '1');
  }
});
