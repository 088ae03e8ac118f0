// Channel authorization end to end: pusher-js asks the demo's /pusher/auth route (our
// fairing), sockudo checks the signature. Single requests, refusals, a forged signature,
// and the pusher-js-auth batch plugin.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import {
  APP, KEY, Pusher, SOCKUDO_PORT, cli, clients, collect, next, pusherError, sleep, subscribed, unique,
} from './lib.mjs';

const require = createRequire(import.meta.url);
/** The plugin's Node export is the authorizer factory; it requires the same pusher-js as lib.mjs. */
const PusherBatchAuthorizer = require('pusher-js-auth');

const ROOM = 'presence-room.lobby';
const NOTES = 'private-encrypted-notes';
const T = { timeout: 30000 };

const c = clients();
afterEach(() => c.disconnectAll());

test('presence: subscribed through our auth route, members carry the user_info we returned', T, async () => {
  const ann = c.connect('ch-ann');
  const roomA = ann.subscribe(ROOM);
  await subscribed(roomA);
  assert.deepEqual(roomA.members.me, { id: 'ch-ann', info: { name: 'ch-ann' } });
  assert.deepEqual(roomA.members.get('ch-ann'), { id: 'ch-ann', info: { name: 'ch-ann' } });

  const added = next(roomA, 'pusher:member_added');
  const ben = c.connect('ch-ben');
  const roomB = ben.subscribe(ROOM);
  await subscribed(roomB);
  // The newcomer's list has the earlier member with her info, and she hears of him with his.
  assert.deepEqual(roomB.members.get('ch-ann'), { id: 'ch-ann', info: { name: 'ch-ann' } });
  assert.deepEqual(roomB.members.me, { id: 'ch-ben', info: { name: 'ch-ben' } });
  assert.deepEqual(await added, { id: 'ch-ben', info: { name: 'ch-ben' } });
});

test('private (encrypted) channel: subscribed through our auth route, with a shared secret', T, async () => {
  const cat = c.connect('ch-cat');
  const notes = cat.subscribe(NOTES);
  await subscribed(notes);
  // pusher-js keeps the shared_secret of our auth response as the channel's key.
  assert.equal(notes.key?.length, 32, 'a 32-byte channel key from shared_secret');
});

test('private channel: a user joins their own private-user.<name>, a channel route refuses anyone else', T, async () => {
  const fay = c.connect('ch-fay');
  const own = fay.subscribe('private-user.ch-fay');
  await subscribed(own);
  const other = fay.subscribe('private-user.ch-gus');
  const err = await subscribed(other).then(() => assert.fail('joined another user\'s channel'), (e) => e);
  assert.equal(err.status, 403);
});

test('a refused channel fails with the authorizer 403 as pusher:subscription_error', T, async () => {
  const dan = c.connect('ch-dan');
  const forbidden = dan.subscribe('private-forbidden');
  const err = await subscribed(forbidden).then(() => assert.fail('private-forbidden was subscribed'), (e) => e);
  assert.equal(err.status, 403);
  assert.equal(err.detail.type, 'AuthError');

  // Not signed in: the allowed channels are refused too.
  const anon = c.connect(null);
  for (const name of [ROOM, NOTES]) {
    const e = await subscribed(anon.subscribe(name)).then(() => assert.fail(`${name} subscribed anonymously`), (x) => x);
    assert.equal(e.status, 403, name);
  }
});

test('a forged channel signature is rejected by the server (pusher:error 4009)', T, async () => {
  const channel = unique('private-forged');
  // A well-formed auth signed with the wrong secret, handed to pusher-js instead of ours.
  const forger = c.connect(null, {
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, cb) => cb(null, {
        auth: `${KEY}:${crypto.createHmac('sha256', 'NOT-THE-SECRET').update(`${socketId}:${channelName}`).digest('hex')}`,
      }),
    },
  });
  const ch = forger.subscribe(channel);
  const succeeded = collect(ch, 'pusher:subscription_succeeded');
  const error = await pusherError(forger);
  assert.equal(error.code, 4009, JSON.stringify(error));
  // The server answered the subscription with the error: give a success 1 s more to show up.
  await sleep(1000);
  assert.equal(succeeded.length, 0, 'subscription_succeeded after a forged signature');
  assert.equal(ch.subscribed, false);
  assert.equal((await cli('channel', channel, '--subscription-count')).occupied, false);
});

test('batch authorization (pusher-js-auth): several channels answered in ONE request', T, async () => {
  // Count the plugin's XHRs: it creates them with Pusher.Runtime.createXHR.
  const runtime = Pusher.Runtime;
  const original = runtime.createXHR;
  const xhrs = [];
  runtime.createXHR = function createXHR() {
    const xhr = original.call(this);
    const { open, send } = xhr;
    xhr.open = function (method, url, ...rest) { xhr.sent = { method, url }; return open.call(this, method, url, ...rest); };
    xhr.send = function (body) { xhr.sent.body = body; return send.call(this, body); };
    xhrs.push(xhr);
    return xhr;
  };
  try {
    const eve = c.add(new Pusher(KEY, {
      cluster: 'mt1',
      wsHost: '127.0.0.1',
      wsPort: SOCKUDO_PORT,
      forceTLS: false,
      enabledTransports: ['ws'],
      disableStats: true,
      authorizer: PusherBatchAuthorizer,
      authEndpoint: `${APP}/pusher/auth`,
      auth: { headers: { Authorization: 'Bearer ch-eve' } },
    }));
    // Subscribed before the connection is up: pusher-js authorizes them all in one tick.
    const room = eve.subscribe(ROOM);
    const notes = eve.subscribe(NOTES);
    const forbidden = eve.subscribe('private-forbidden');
    const results = await Promise.allSettled([subscribed(room), subscribed(notes), subscribed(forbidden)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.deepEqual(room.members.me, { id: 'ch-eve', info: { name: 'ch-eve' } });
    assert.equal(notes.key?.length, 32, 'shared_secret for the encrypted channel');

    const auth = xhrs.filter((x) => x.sent?.url === `${APP}/pusher/auth`);
    assert.equal(auth.length, 1, `one auth request, got ${auth.length}`);
    const [xhr] = auth;
    const body = new URLSearchParams(xhr.sent.body);
    assert.equal(body.get('socket_id'), eve.connection.socket_id);
    assert.deepEqual(
      [body.get('channel_name[0]'), body.get('channel_name[1]'), body.get('channel_name[2]')],
      [ROOM, NOTES, 'private-forbidden'],
    );
    assert.equal(xhr.status, 200);
    const reply = JSON.parse(xhr.responseText);
    assert.equal(reply[ROOM].status, 200);
    assert.match(reply[ROOM].data.auth, /^KEY:[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(reply[ROOM].data.channel_data), { user_id: 'ch-eve', user_info: { name: 'ch-eve' } });
    assert.equal(reply[NOTES].status, 200);
    assert.equal(Buffer.from(reply[NOTES].data.shared_secret, 'base64').length, 32);
    assert.equal(reply['private-forbidden'].status, 403);
    assert.equal(reply['private-forbidden'].data, undefined);
  } finally {
    runtime.createXHR = original;
  }
});
