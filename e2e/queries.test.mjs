// Channel queries with our Rust client (examples/cli.rs) against what sockudo has, the
// latter also read with an independently signed REST call (lib.mjs `rest`).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { cli, clients, eventually, rest, subscribed, unique } from './lib.mjs';

const T = { timeout: 30000 };
const ROOM = 'presence-room.lobby';
const c = clients();
afterEach(() => c.disconnectAll());

async function restJson(path) {
  const res = await rest('GET', `/apps/1234${path}`);
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body);
}

test('channel list: occupied channels, prefix filter and user counts (list cached 2 s)', T, async () => {
  const pub = unique('q-list');
  const ann = c.connect('q-ann');
  const bob = c.connect('q-bob');
  const chans = [ann.subscribe(pub), ann.subscribe(ROOM), bob.subscribe(ROOM)];
  await Promise.all(chans.map((ch) => subscribed(ch)));

  // sockudo caches the list for 2 s: poll until it shows our channels.
  const all = await eventually(async () => {
    const { channels } = await cli('channels');
    return channels[pub] && channels[ROOM] ? channels : null;
  }, 8000, 250);
  assert.deepEqual(all[pub], {});

  const presence = await eventually(async () => {
    const { channels } = await cli('channels', '--prefix', 'presence-', '--user-count');
    return channels[ROOM]?.user_count >= 2 ? channels : null;
  }, 8000, 250);
  assert.ok(!(pub in presence), 'the prefix filter keeps only presence- channels');
  for (const name of Object.keys(presence)) assert.ok(name.startsWith('presence-'), name);
  // The same as the server says to a request signed without the crate (retried: the cached
  // list may expire between the two calls while a member of an earlier test leaves).
  await eventually(async () => {
    const ours = (await cli('channels', '--prefix', 'presence-', '--user-count')).channels;
    const theirs = (await restJson('/channels?filter_by_prefix=presence-&info=user_count')).channels;
    return isDeepStrictEqual(ours, theirs) && ours[ROOM]?.user_count >= 2;
  }, 8000, 250);

  // Gone from the list once vacated.
  ann.unsubscribe(pub);
  await eventually(async () => !(pub in (await cli('channels')).channels), 8000, 250);
});

test('channel info: occupied, subscription and user counts', T, async () => {
  const pub = unique('q-info');
  const cal = c.connect('q-cal');
  const dot = c.connect('q-dot');
  const chans = [cal.subscribe(pub), dot.subscribe(pub), cal.subscribe(ROOM), dot.subscribe(ROOM)];
  await Promise.all(chans.map((ch) => subscribed(ch)));

  assert.deepEqual(await cli('channel', pub, '--subscription-count'), {
    occupied: true, subscription_count: 2, user_count: null,
  });
  const room = await cli('channel', ROOM, '--user-count', '--subscription-count');
  assert.equal(room.occupied, true);
  assert.ok(room.user_count >= 2 && room.subscription_count >= room.user_count, JSON.stringify(room));
  // The same as the server's own answer to an independently signed request (retried: a
  // member of an earlier test may still be leaving between the two calls).
  await eventually(async () => {
    const ours = await cli('channel', ROOM, '--user-count', '--subscription-count');
    const theirs = await restJson(`/channels/${ROOM}?info=user_count,subscription_count`);
    return ours.occupied === theirs.occupied && ours.user_count === theirs.user_count
      && ours.subscription_count === theirs.subscription_count;
  });

  assert.deepEqual(await cli('channel', unique('q-empty')), { occupied: false, subscription_count: null, user_count: null });
});

test('presence users: the ids the server has', T, async () => {
  const eve = c.connect('q-eve');
  const fay = c.connect('q-fay');
  const chans = [eve.subscribe(ROOM), fay.subscribe(ROOM)];
  await Promise.all(chans.map((ch) => subscribed(ch)));

  const { users } = await cli('users', ROOM);
  assert.ok(users.includes('q-eve') && users.includes('q-fay'), JSON.stringify(users));
  // The same set as the server's answer to an independently signed request (retried:
  // members of earlier tests leave about 3 s after their disconnect).
  await eventually(async () => {
    const ours = (await cli('users', ROOM)).users.sort();
    const theirs = (await restJson(`/channels/${ROOM}/users`)).users.map((u) => u.id).sort();
    return isDeepStrictEqual(ours, theirs);
  });

  // After Fay leaves, she is no longer listed.
  fay.unsubscribe(ROOM);
  await eventually(async () => !(await cli('users', ROOM)).users.includes('q-fay'), 8000, 250);

  // Users of a non-presence channel: our client refuses before asking.
  await assert.rejects(cli('users', 'q-public'), /Presence channel/);
});
