// The official server libraries, npm `pusher` and PyPI `pusher` (pinned in package.json and
// requirements.txt), against the server's HTTP API, with pusher-js observing what arrives.
// The same file runs against sockudo and the embedded server (E2E_SERVER=embedded); where
// the two answer differently, each one's documented answer is asserted.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APP_ID, KEY, ROOT, SECRET, SOCKUDO_PORT, SPARE_PORT, clients, collect, connected, eventually,
  next, signedIn, sleep, startApp, state, subscribed, unique,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const NodePusher = require('pusher');

const T = { timeout: 30000 };
const embedded = process.env.E2E_SERVER === 'embedded';
// A trigger's answer: the service (and the embedded server) send `{}`, sockudo `{"ok":true}`.
const TRIGGERED = embedded ? {} : { ok: true };
const c = clients();
afterEach(() => c.disconnectAll());

/** The Node library, pointed at the e2e's server (`extra`: more of its options). */
function node(secret = SECRET, extra = {}) {
  return new NodePusher({ appId: APP_ID, key: KEY, secret, host: '127.0.0.1', port: String(SOCKUDO_PORT), useTLS: false, ...extra });
}

/** The demo's master key for private-encrypted- channels, as Rocket.toml sets it for the app. */
const MASTER_KEY = fs.readFileSync(path.join(ROOT, 'Rocket.toml'), 'utf8')
  .match(/^encryption_master_key_base64 = "([^"]+)"/m)[1];

/** Its answer: `{status, body}` (body parsed when JSON), resolved for errors too. */
async function answer(promise) {
  try {
    const res = await promise;
    return { status: res.status, body: await res.json() };
  } catch (e) {
    if (e.status === undefined) throw e;
    let body = e.body;
    try { body = JSON.parse(body); } catch { /* a text reason */ }
    return { status: e.status, body };
  }
}

/** The Python library through e2e/official_python.py: `{ok}` or `{status, body, error}`. */
function py(command, args = {}) {
  const python = path.join(ROOT, 'e2e/.venv/bin/python');
  return new Promise((resolve, reject) => {
    execFile(python, [path.join(ROOT, 'e2e/official_python.py'), command, JSON.stringify(args)],
      { env: { ...process.env, E2E_SOCKUDO_PORT: String(SOCKUDO_PORT) }, timeout: 15000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`official_python.py ${command}: ${stderr.trim() || err.message}`));
        resolve(JSON.parse(stdout));
      });
  });
}

/** A fresh presence room of the demo (any signed-in user may join `presence-room.<name>`). */
const room = (tag) => `presence-room.${unique(tag)}`;

test('trigger to one channel: both libraries deliver to pusher-js, and get the server\'s answer', T, async () => {
  const ch = unique('ol-one');
  const ann = c.connect('ol-ann');
  const channel = ann.subscribe(ch);
  await subscribed(channel);

  const fromNode = next(channel, 'from-node');
  assert.deepEqual(await answer(node().trigger(ch, 'from-node', { n: 1, text: 'héllo' })), { status: 200, body: TRIGGERED });
  assert.deepEqual(await fromNode, { n: 1, text: 'héllo' });

  const fromPy = next(channel, 'from-python');
  assert.deepEqual(await py('trigger', { channels: ch, event: 'from-python', data: { n: 2, text: 'héllo' } }), { ok: TRIGGERED });
  assert.deepEqual(await fromPy, { n: 2, text: 'héllo' });
});

test('trigger to several channels: each subscriber gets it once per channel', T, async () => {
  const names = [unique('ol-multi-a'), unique('ol-multi-b'), unique('ol-multi-c')];
  const bea = c.connect('ol-bea');
  const chans = names.map((n) => bea.subscribe(n));
  await Promise.all(chans.map((ch) => subscribed(ch)));
  const seen = chans.map((ch) => collect(ch, 'multi'));

  assert.deepEqual(await answer(node().trigger(names, 'multi', { by: 'node' })), { status: 200, body: TRIGGERED });
  assert.deepEqual(await py('trigger', { channels: names, event: 'multi', data: { by: 'python' } }), { ok: TRIGGERED });
  await eventually(() => seen.every((s) => s.length >= 2));
  // A marker after both: anything duplicated would have arrived before it.
  const markers = chans.map((ch) => next(ch, 'marker'));
  await node().trigger(names, 'marker', {});
  await Promise.all(markers);
  for (const s of seen) assert.deepEqual(s, [{ by: 'node' }, { by: 'python' }]);
});

test('trigger with socket_id: that connection is left out, the others on the channel get it', T, async () => {
  const ch = unique('ol-except');
  const sender = c.connect('ol-cy');
  const other = c.connect('ol-dee');
  const [sc, oc] = [sender.subscribe(ch), other.subscribe(ch)];
  await Promise.all([subscribed(sc), subscribed(oc)]);
  const socketId = await connected(sender);
  const senderSaw = collect(sc, 'echo');

  const got = next(oc, 'echo');
  assert.deepEqual(await answer(node().trigger(ch, 'echo', { by: 'node' }, { socket_id: socketId })), { status: 200, body: TRIGGERED });
  assert.deepEqual(await got, { by: 'node' });
  const got2 = next(oc, 'echo');
  assert.deepEqual(await py('trigger', { channels: ch, event: 'echo', data: { by: 'python' }, socket_id: socketId }), { ok: TRIGGERED });
  assert.deepEqual(await got2, { by: 'python' });

  // A marker to the sender too: once it arrives, the excluded events would have as well.
  const marker = next(sc, 'marker');
  await node().trigger(ch, 'marker', {});
  await marker;
  assert.deepEqual(senderSaw, [], 'the excluded socket received the event');
});

test('trigger with info (Node): the counts of each channel come back with the delivery', T, async () => {
  const pub = unique('ol-info');
  const presence = room('ol-info');
  const eve = c.connect('ol-eve');
  const fay = c.connect('ol-fay');
  const chans = [eve.subscribe(pub), fay.subscribe(pub), eve.subscribe(presence), fay.subscribe(presence)];
  await Promise.all(chans.map((ch) => subscribed(ch)));

  const got = next(chans[0], 'counted');
  const [res] = await Promise.all([answer(node().trigger(pub, 'counted', { x: 1 }, { info: 'subscription_count' })), got]);
  assert.deepEqual(await got, { x: 1 });
  assert.deepEqual(withoutAck(res), { status: 200, body: { channels: { [pub]: { subscription_count: 2 } } } });

  const res2 = await answer(node().trigger(presence, 'counted', {}, { info: 'user_count,subscription_count' }));
  assert.deepEqual(withoutAck(res2), { status: 200, body: { channels: { [presence]: { user_count: 2, subscription_count: 2 } } } });
});

/** sockudo adds an `acknowledgement_id` to each channel of a trigger's `info` answer (the
 * service documents none, nor sends the embedded server): checked there, then taken out. */
function withoutAck(res) {
  for (const info of Object.values(res.body.channels ?? {})) {
    if (embedded) assert.ok(!('acknowledgement_id' in info), JSON.stringify(res.body));
    else assert.equal(typeof info.acknowledgement_id, 'string', JSON.stringify(res.body));
    delete info.acknowledgement_id;
  }
  return res;
}

test('batch trigger: both libraries deliver every item, to its own channel', T, async () => {
  const [a, b] = [unique('ol-batch-a'), unique('ol-batch-b')];
  const gus = c.connect('ol-gus');
  const [ca, cb] = [gus.subscribe(a), gus.subscribe(b)];
  await Promise.all([subscribed(ca), subscribed(cb)]);
  const [sa, sb] = [collect(ca, 'item'), collect(cb, 'item')];

  const batch = (by) => [
    { channel: a, name: 'item', data: JSON.stringify({ by, i: 0 }) },
    { channel: b, name: 'item', data: JSON.stringify({ by, i: 1 }) },
    { channel: a, name: 'item', data: JSON.stringify({ by, i: 2 }) },
  ];
  // Both servers answer a batch without `info` with `{}`.
  assert.deepEqual(await answer(node().triggerBatch(batch('node'))), { status: 200, body: {} });
  assert.deepEqual(await py('batch', { batch: batch('python') }), { ok: {} });
  await eventually(() => sa.length >= 4 && sb.length >= 2);
  assert.deepEqual(sa, [{ by: 'node', i: 0 }, { by: 'node', i: 2 }, { by: 'python', i: 0 }, { by: 'python', i: 2 }]);
  assert.deepEqual(sb, [{ by: 'node', i: 1 }, { by: 'python', i: 1 }]);
});

/** Signs in and joins `presence` as each user; resolves with the clients. */
async function members(presence, users) {
  const list = users.map((u) => c.connect(u));
  const chans = list.map((p) => p.subscribe(presence));
  await Promise.all(chans.map((ch) => subscribed(ch)));
  return list;
}

test('channel queries (Node): list by prefix with counts, one channel, presence users', T, async () => {
  const presence = room('ol-q');
  const pub = unique('ol-q-pub');
  const [hal] = await members(presence, ['ol-hal', 'ol-ida']);
  await subscribed(hal.subscribe(pub));
  const get = (p, params) => answer(node().get({ path: p, params }));

  // sockudo caches the list for 2 s: poll until it shows the room.
  const list = await eventually(async () => {
    const r = await get('/channels', { filter_by_prefix: 'presence-room.', info: 'user_count' });
    return r.body.channels?.[presence]?.user_count === 2 ? r : null;
  }, 8000, 250);
  assert.equal(list.status, 200);
  for (const name of Object.keys(list.body.channels)) assert.ok(name.startsWith('presence-room.'), name);
  assert.ok(!(pub in list.body.channels), 'the prefix keeps the public channel out');

  const both = await eventually(async () => {
    const r = await get('/channels', { filter_by_prefix: 'presence-room.', info: 'user_count,subscription_count' });
    return r.status !== 200 || r.body.channels?.[presence] ? r : null;
  }, 8000, 250);
  assert.equal(both.status, 200, JSON.stringify(both));
  assert.deepEqual(both.body.channels[presence], { user_count: 2, subscription_count: 2 });
  for (const [name, info] of Object.entries(both.body.channels)) {
    assert.deepEqual(Object.keys(info).sort(), ['subscription_count', 'user_count'], name);
  }
  const all = await eventually(async () => {
    const r = await get('/channels', {});
    return r.body.channels?.[pub] && r.body.channels?.[presence] ? r : null;
  }, 8000, 250);
  assert.deepEqual(all.body.channels[pub], {});

  assert.deepEqual(await get(`/channels/${presence}`, { info: 'user_count,subscription_count' }),
    { status: 200, body: { occupied: true, user_count: 2, subscription_count: 2 } });
  assert.deepEqual(await get(`/channels/${pub}`, { info: 'subscription_count' }),
    { status: 200, body: { occupied: true, subscription_count: 1 } });
  assert.deepEqual(await get(`/channels/${unique('ol-q-empty')}`, {}), { status: 200, body: { occupied: false } });

  const users = await get(`/channels/${presence}/users`, {});
  assert.equal(users.status, 200);
  assert.deepEqual(users.body.users.map((u) => u.id).sort(), ['ol-hal', 'ol-ida']);
});

test('channel queries (Python): answered by the embedded server; sockudo refuses its GETs (body_md5)', T, async () => {
  const presence = room('ol-pq');
  await members(presence, ['ol-jan', 'ol-kit']);
  const queries = [
    ['channels', { prefix: 'presence-room.', info: ['user_count'] }],
    ['channel', { channel: presence, info: ['user_count', 'subscription_count'] }],
    ['users', { channel: presence }],
  ];
  if (!embedded) {
    // pusher 3.3.4 signs every GET with body_md5 of the empty body, which sockudo 5.2.0
    // refuses (the service accepts it); the embedded server does as the service.
    for (const [cmd, args] of queries) {
      const r = await py(cmd, args);
      assert.equal(r.status, 401, JSON.stringify(r));
      assert.match(r.body, /body_md5/);
    }
    return;
  }
  const list = await py(...queries[0]);
  assert.equal(list.ok.channels[presence].user_count, 2, JSON.stringify(list));
  for (const name of Object.keys(list.ok.channels)) assert.ok(name.startsWith('presence-room.'), name);
  assert.deepEqual(await py(...queries[1]), { ok: { occupied: true, user_count: 2, subscription_count: 2 } });
  const users = await py(...queries[2]);
  assert.deepEqual(users.ok.users.map((u) => u.id).sort(), ['ol-jan', 'ol-kit']);
});

/** Waits until each client in `gone` is dropped (pusher-js does not reconnect after 4009). */
async function dropped(gone) {
  // pusher-js closes the already closed socket again on the server's close, arming a 30 s
  // timer nothing clears; unref it so this file's process exits (as e2e/users.test.mjs).
  const sockets = gone.map((p) => p.connection.connection?.transport?.socket);
  await Promise.all(gone.map((p) => state(p, ['disconnected', 'unavailable'])));
  for (const s of sockets) s?._closeTimer?.unref?.();
}

test('terminate (Node): every connection of that user is closed, the others stay', T, async () => {
  const lou = c.connect('ol-lou');
  const lou2 = c.connect('ol-lou');
  const max = c.connect('ol-max');
  await Promise.all([signedIn(lou), signedIn(lou2), signedIn(max)]);

  assert.deepEqual(await answer(node().terminateUserConnections('ol-lou')), { status: 200, body: TRIGGERED });
  await dropped([lou, lou2]);
  await sleep(500);
  for (const p of [lou, lou2]) assert.ok(['disconnected', 'unavailable'].includes(p.connection.state), p.connection.state);
  assert.equal(max.connection.state, 'connected');
  const got = next(max.user, 'still-here');
  await node().sendToUser('ol-max', 'still-here', {});
  await got;
});

test('terminate (Python): 3.3.4\'s method misses /apps/<id> (404 from both); the documented path works', T, async () => {
  const ned = c.connect('ol-ned');
  const oz = c.connect('ol-oz');
  await Promise.all([signedIn(ned), signedIn(oz)]);

  const wrong = await py('terminate', { user: 'ol-ned' });
  assert.equal(wrong.status, 404, JSON.stringify(wrong));
  assert.equal(ned.connection.state, 'connected');

  assert.deepEqual(await py('terminate-documented', { user: 'ol-ned' }), { ok: TRIGGERED });
  await dropped([ned]);
  assert.equal(oz.connection.state, 'connected');
});

test('a wrong secret gets 401 from the server, for both libraries, and delivers nothing', T, async () => {
  const ch = unique('ol-secret');
  const pat = c.connect('ol-pat');
  const channel = pat.subscribe(ch);
  await subscribed(channel);
  const saw = collect(channel, 'forged');

  const n = await answer(node('not-the-secret').trigger(ch, 'forged', {}));
  assert.equal(n.status, 401, JSON.stringify(n));
  assert.equal((await answer(node('not-the-secret').get({ path: '/channels' }))).status, 401);
  const p = await py('trigger', { channels: ch, event: 'forged', data: {}, secret: 'not-the-secret' });
  assert.deepEqual([p.status, p.error], [401, 'PusherBadAuth']);

  const marker = next(channel, 'marker');
  await node().trigger(ch, 'marker', {});
  await marker;
  assert.deepEqual(saw, []);
});

/** The reason in an error answer: its `error`, or the text itself when it is not JSON. */
function reasonOf(body) {
  if (typeof body === 'string') {
    try { body = JSON.parse(body); } catch { return body; }
  }
  return body.error;
}

test('a bad body, signed by each library, gets a 4xx with a reason', T, async () => {
  const ch = unique('ol-bad');
  const bodies = [
    ['events', { channels: [ch], data: '{}' }, 400], // no event name
    ['events', { name: 'x', data: '{}' }, 400], // no channel
    ['batch_events', { batch: 'not a list' }, 422],
  ];
  for (const [where, body, sockudoStatus] of bodies) {
    const n = await answer(node().post({ path: `/${where}`, body }));
    const p = await py('post', { path: where, body });
    const seen = JSON.stringify({ where, body, node: n, python: p });
    assert.equal(n.status, embedded ? 400 : sockudoStatus, seen);
    assert.equal(p.status, n.status, seen);
    // The reason: `{"error": "…"}`, or from sockudo's JSON parser a line of text.
    for (const reason of [reasonOf(n.body), reasonOf(p.body)]) {
      assert.ok(typeof reason === 'string' && reason.length > 0, seen);
    }
  }
});

test('a trigger without data: the embedded server refuses it (400) as the service documents; sockudo accepts it', T, async () => {
  const ch = unique('ol-nodata');
  const body = { name: 'x', channels: [ch] };
  const n = await answer(node().post({ path: '/events', body }));
  const p = await py('post', { path: 'events', body });
  if (embedded) {
    assert.deepEqual(n, { status: 400, body: { error: 'Missing data' } });
    assert.deepEqual(p, { status: 400, body: '{"error":"Missing data"}', error: 'PusherBadRequest' });
  } else {
    assert.deepEqual(n, { status: 200, body: { ok: true } });
    assert.deepEqual(p, { ok: { ok: true } });
  }
});

test('encrypted channel: both libraries encrypt with the master key, the server relays, pusher-js decrypts', T, async () => {
  const notes = 'private-encrypted-notes';
  const qua = c.connect('ol-qua');
  const raw = [];
  qua.connection.bind('message', (m) => { if (m.channel === notes && m.event.startsWith('sealed')) raw.push(m); });
  const channel = qua.subscribe(notes);
  await subscribed(channel);

  const fromNode = next(channel, 'sealed-node');
  const sent = await answer(node(SECRET, { encryptionMasterKeyBase64: MASTER_KEY }).trigger(notes, 'sealed-node', { text: 'plaintext from node' }));
  assert.deepEqual(sent, { status: 200, body: TRIGGERED });
  assert.deepEqual(await fromNode, { text: 'plaintext from node' });

  const fromPy = next(channel, 'sealed-python');
  assert.deepEqual(await py('trigger', { channels: notes, event: 'sealed-python', data: { text: 'plaintext from python' }, master_key: MASTER_KEY }), { ok: TRIGGERED });
  assert.deepEqual(await fromPy, { text: 'plaintext from python' });

  // On the wire only the sealed form: the server never had the plaintext.
  assert.equal(raw.length, 2);
  for (const m of raw) {
    assert.deepEqual(Object.keys(m.data).sort(), ['ciphertext', 'nonce'], JSON.stringify(m));
    assert.ok(!JSON.stringify(m).includes('plaintext'), JSON.stringify(m));
  }
});

/** pusher-js options whose channel authorizations and sign-in come from the Node library. */
function signedByNode(user) {
  const signer = node();
  return {
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, done) => done(null, channelName.startsWith('presence-')
        ? signer.authorizeChannel(socketId, channelName, { user_id: user, user_info: { name: user } })
        : signer.authorizeChannel(socketId, channelName)),
    },
    userAuthentication: { customHandler: ({ socketId }, done) => done(null, signer.authenticateUser(socketId, { id: user })) },
  };
}

test('auths signed by the Node library: private and presence accepted, sign-in succeeds, presence client events (embedded: with the sender)', T, async () => {
  const [uma, vic] = [c.connect(null, signedByNode('ol-uma')), c.connect(null, signedByNode('ol-vic'))];
  const priv = uma.subscribe(unique('private-ol-auth'));
  await subscribed(priv);

  const presence = `presence-${unique('ol-auth')}`;
  const [pu, pv] = [uma.subscribe(presence), vic.subscribe(presence)];
  await Promise.all([subscribed(pu), subscribed(pv)]);
  // Whoever subscribed first hears of the other by member_added, a moment later.
  await eventually(() => pu.members.count === 2 && pv.members.count === 2);
  assert.deepEqual(pu.members.me, { id: 'ol-uma', info: { name: 'ol-uma' } });
  assert.deepEqual(pv.members.get('ol-uma'), { id: 'ol-uma', info: { name: 'ol-uma' } });

  // pusher-js hands the sender's user_id to the callback as metadata; sockudo 5.2.0 sends
  // presence client events without it.
  const heard = new Promise((resolve) => pv.bind('client-hi', (data, metadata) => resolve({ data, metadata })));
  assert.equal(pu.trigger('client-hi', { n: 1 }), true);
  const { data, metadata } = await heard;
  assert.deepEqual(data, { n: 1 });
  assert.equal(metadata.user_id, embedded ? 'ol-uma' : undefined);

  assert.deepEqual(await signedIn(uma), { id: 'ol-uma' });
});

/** The port of the webhook receiver a test runs itself (scripts/e2e picks it). */
const HOOK_PORT = Number(process.env.E2E_HOOK_PORT ?? SPARE_PORT + 1);

test('webhooks of the embedded server pass both libraries\' validation', {
  ...T, timeout: 60000, skip: !embedded && 'sockudo\'s webhooks go to the demo (scripts/sockudo.toml); this one needs the embedded server',
}, async () => {
  // Every webhook as sent: headers (lower-case, as both libraries expect) and the raw body.
  const received = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => { received.push({ headers: req.headers, rawBody: body }); res.end(); });
  });
  await new Promise((resolve, reject) => receiver.once('error', reject).listen(HOOK_PORT, '127.0.0.1', resolve));
  const app = await startApp(SPARE_PORT, {
    ROCKET_PUSHER: `{url="http://${KEY}:${SECRET}@127.0.0.1:${SPARE_PORT}/apps/${APP_ID}",transport="embedded",`
      + `server={client_events=true,webhook_delay=0.2,webhooks=[{url="http://127.0.0.1:${HOOK_PORT}/hooks"}]}}`,
  });
  try {
    const here = { wsPort: SPARE_PORT };
    const presence = room('ol-hooks');
    const [rae, sol] = [c.connect('ol-rae', here, app.url), c.connect('ol-sol', here, app.url)];
    const [cr, cs] = [rae.subscribe(presence), sol.subscribe(presence)];
    await Promise.all([subscribed(cr), subscribed(cs)]);
    const got = next(cs, 'client-hi');
    assert.equal(cr.trigger('client-hi', { n: 1 }), true);
    await got;
    sol.disconnect();
    rae.disconnect();

    const names = () => received.flatMap((h) => JSON.parse(h.rawBody).events.map((e) => e.name));
    const all = ['channel_occupied', 'member_added', 'client_event', 'member_removed', 'channel_vacated'];
    await eventually(() => all.every((n) => names().includes(n)), 15000, 100);

    const validator = node();
    const fromPy = await py('validate-webhooks', {
      hooks: received.map((h) => ({ key: h.headers['x-pusher-key'], signature: h.headers['x-pusher-signature'], body: h.rawBody })),
    });
    received.forEach((h, i) => {
      const hook = validator.webhook(h);
      assert.equal(hook.isValid(), true, `Node refuses ${JSON.stringify(h)}`);
      assert.deepEqual(hook.getEvents(), JSON.parse(h.rawBody).events);
      assert.deepEqual(fromPy.ok[i], JSON.parse(h.rawBody), `Python refuses ${JSON.stringify(h)}`);
    });
    // The same checks refuse a body changed after signing, or another app's secret.
    const changed = { ...received[0], rawBody: received[0].rawBody.replace('"events"', '"events" ') };
    assert.equal(validator.webhook(changed).isValid(), false);
    assert.equal(node('NOT-THE-SECRET').webhook(received[0]).isValid(), false);
    const refused = await py('validate-webhooks', {
      hooks: [{ key: KEY, signature: changed.headers['x-pusher-signature'], body: changed.rawBody }],
    });
    assert.deepEqual(refused, { ok: [null] });
  } finally {
    await app.stop();
    await new Promise((resolve) => receiver.close(resolve));
  }
});
