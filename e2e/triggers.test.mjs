// Events triggered with our Rust `Pusher` client (examples/cli.rs, and the demo's routes)
// reach the real pusher-js through sockudo.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { appPost, cli, clients, collect, connected, next, subscribed, unique } from './lib.mjs';

const T = { timeout: 30000 };
const c = clients();
afterEach(() => c.disconnectAll());

/** A connection subscribed to public `names`, resolving with [pusher, ...channels]. */
async function listener(user, ...names) {
  const p = c.connect(user);
  const channels = names.map((n) => p.subscribe(n));
  await Promise.all(channels.map((ch) => subscribed(ch)));
  return [p, ...channels];
}

test('one channel: JSON and plain-string data arrive', T, async () => {
  const name = unique('tr-one');
  const [, ch] = await listener('tr-amy', name);
  let got = next(ch, 'greet');
  await cli('trigger', name, 'greet', '{"hello":"world","n":[1,2]}');
  assert.deepEqual(await got, { hello: 'world', n: [1, 2] });

  got = next(ch, 'greet');
  await cli('trigger', name, 'greet', 'plain text');
  assert.equal(await got, 'plain text');
});

test('several channels in one trigger, with the info the server returns', T, async () => {
  const [a, b] = [unique('tr-many-a'), unique('tr-many-b')];
  const [, chA] = await listener('tr-ben', a);
  const [, chB, chA2] = await listener('tr-cal', b, a);
  const got = [next(chA, 'multi'), next(chB, 'multi'), next(chA2, 'multi')];
  const reply = await cli('trigger', `${a},${b}`, 'multi', '{"to":"both"}', '--info');
  for (const data of await Promise.all(got)) assert.deepEqual(data, { to: 'both' });
  assert.deepEqual(reply.channels, { [a]: { subscription_count: 2 }, [b]: { subscription_count: 1 } });
});

test('a batch: each event reaches its channel with its own name and data', T, async () => {
  const [a, b] = [unique('tr-batch-a'), unique('tr-batch-b')];
  const [, chA, chB] = await listener('tr-dot', a, b);
  const got = [next(chA, 'first'), next(chB, 'second'), next(chA, 'third')];
  const reply = await cli('batch', JSON.stringify([
    { channel: a, name: 'first', data: { n: 1 } },
    { channel: b, name: 'second', data: 'two' },
    { channel: a, name: 'third', data: { n: 3 }, info: true },
  ]));
  assert.deepEqual(await Promise.all(got), [{ n: 1 }, 'two', { n: 3 }]);
  assert.deepEqual(reply.batch, [{}, {}, { subscription_count: 1 }]);
});

test('encrypted channel: sockudo relays ciphertext, pusher-js decrypts our payload', T, async () => {
  const p = c.connect('tr-eli');
  const raw = [];
  p.connection.bind('message', (m) => { if (m.channel === 'private-encrypted-notes' && m.event === 'secret') raw.push(m); });
  const [notes] = [p.subscribe('private-encrypted-notes')];
  await subscribed(notes);

  const payload = { text: 'the plaintext only pusher-js sees', n: 42 };
  let got = next(notes, 'secret');
  await cli('trigger', 'private-encrypted-notes', 'secret', JSON.stringify(payload));
  assert.deepEqual(await got, payload);
  assert.equal(raw.length, 1);
  assert.deepEqual(Object.keys(raw[0].data).sort(), ['ciphertext', 'nonce']);
  assert.ok(!JSON.stringify(raw[0]).includes('plaintext'), 'the wire carries no plaintext');

  // The demo's /notes route encrypts with the same master key through the managed Pusher.
  got = next(notes, 'note');
  assert.equal((await appPost('/notes', 'tr-eli', { text: 'a note' })).status, 202);
  assert.deepEqual(await got, { from: 'tr-eli', text: 'a note' });
});

test('the sender is excluded by socket id (cli --exclude)', T, async () => {
  const name = unique('tr-excl');
  const [sender, chS] = await listener('tr-fay', name);
  const [, chO] = await listener('tr-gus', name);
  const senderSaw = collect(chS, 'msg');
  const otherGot = next(chO, 'msg');
  await cli('trigger', name, 'msg', '{"n":1}', '--exclude', sender.connection.socket_id);
  assert.deepEqual(await otherGot, { n: 1 });
  // A marker sent after it reaches both; events on a channel arrive in order, so once the
  // sender has the marker, the excluded event is not coming.
  const markers = [next(chS, 'marker'), next(chO, 'marker')];
  await cli('trigger', name, 'marker', '{}');
  await Promise.all(markers);
  assert.deepEqual(senderSaw, [], 'the excluded connection received the event');
});

test("the demo's room message route excludes the X-Socket-ID sender (a queued typed broadcast)", T, async () => {
  const hal = c.connect('tr-hal');
  const ivy = c.connect('tr-ivy');
  const [roomH, roomI] = [hal.subscribe('presence-room.lobby'), ivy.subscribe('presence-room.lobby')];
  await Promise.all([subscribed(roomH), subscribed(roomI)]);
  const halSaw = collect(roomH, 'message');
  let ivyGot = next(roomI, 'message');
  const socket = await connected(hal);
  assert.equal((await appPost('/rooms/lobby/messages', 'tr-hal', { text: 'hi all' }, socket)).status, 202);
  assert.deepEqual(await ivyGot, { from: 'tr-hal', text: 'hi all' });

  // Without the header nobody is excluded: Hal receives this one (and, in order, never the first).
  const halGot = next(roomH, 'message');
  ivyGot = next(roomI, 'message');
  assert.equal((await appPost('/rooms/lobby/messages', 'tr-ivy', { text: 'marker' })).status, 202);
  assert.deepEqual(await halGot, { from: 'tr-ivy', text: 'marker' });
  await ivyGot;
  assert.deepEqual(halSaw, [{ from: 'tr-ivy', text: 'marker' }]);
});
