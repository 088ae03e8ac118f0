// User authentication end to end: pusher.signin() through the demo's /pusher/user-auth
// route, send_to_user and terminate_user_connections with our Rust client.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { appPost, cli, clients, collect, connected, next, signedIn, sleep, state, subscribed } from './lib.mjs';

const T = { timeout: 30000 };
const c = clients();
afterEach(() => c.disconnectAll());

test('sign-in: the server accepts our user auth and pusher-js gets our user_data', T, async () => {
  const amy = c.connect('us-amy');
  assert.deepEqual(await signedIn(amy), { id: 'us-amy', user_info: { name: 'us-amy' } });
  assert.equal(amy.user.serverToUserChannel.name, '#server-to-user-us-amy');
});

test('sign-in without a session is refused with 403 (pusher:signin_error)', T, async () => {
  const anon = c.connect(null);
  await connected(anon);
  const error = next(anon.user, 'pusher:signin_error');
  anon.signin();
  assert.equal((await error).status, 403);
  assert.equal(anon.user.user_data, null);
});

test('send_to_user reaches only that user', T, async () => {
  const bea = c.connect('us-bea');
  const cy = c.connect('us-cy');
  await Promise.all([signedIn(bea), signedIn(cy)]);
  const cySaw = collect(cy.user, 'dm');
  const beaGot = next(bea.user, 'dm');
  await cli('send-to-user', 'us-bea', 'dm', '{"text":"for bea only"}');
  assert.deepEqual(await beaGot, { text: 'for bea only' });
  // A marker to Cy after it: once it arrives, the earlier event would have too.
  const cyMarker = next(cy.user, 'marker');
  await cli('send-to-user', 'us-cy', 'marker', '{}');
  await cyMarker;
  assert.deepEqual(cySaw, [], 'the other user received the direct event');

  // The demo's /direct route does the same through the managed Pusher.
  const direct = next(cy.user, 'direct');
  assert.equal((await appPost('/direct', 'us-bea', { to: 'us-cy', text: 'hi cy' })).status, 202);
  assert.deepEqual(await direct, { from: 'us-bea', text: 'hi cy' });
});

test('terminate_user_connections drops that user and only that user', T, async () => {
  const dee = c.connect('us-dee');
  const dee2 = c.connect('us-dee'); // a second connection of the same user
  const eve = c.connect('us-eve');
  await Promise.all([signedIn(dee), signedIn(dee2), signedIn(eve)]);
  const room = eve.subscribe('presence-room.lobby');
  await subscribed(room);

  // pusher-js answers the server's close (code 4009) by closing the already closed
  // WebSocket again, which arms faye-websocket's 30 s close-handshake timer that nothing
  // clears; unref it so this file's process exits when the tests are done.
  const sockets = [dee, dee2].map((p) => p.connection.connection?.transport?.socket);
  assert.deepEqual(await cli('terminate', 'us-dee'), {});
  await Promise.all([dee, dee2].map((p) => state(p, ['disconnected', 'unavailable'])));
  for (const s of sockets) s?._closeTimer?.unref?.();
  // It stays down (pusher-js does not reconnect after the server's 4009) ...
  await sleep(1000);
  for (const p of [dee, dee2]) assert.ok(['disconnected', 'unavailable'].includes(p.connection.state), p.connection.state);
  // ... while the other user is still connected and served.
  assert.equal(eve.connection.state, 'connected');
  const got = next(eve.user, 'still-here');
  await cli('send-to-user', 'us-eve', 'still-here', '{}');
  await got;
});
