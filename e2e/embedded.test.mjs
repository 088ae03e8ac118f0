// The embedded server only (E2E_SERVER=embedded): what sockudo runs as a separate process
// cannot show. Rocket's shutdown closes pusher-js with 4200, which reconnects at once; once
// the app is back it has a new socket id and its channels again. A client that stops
// answering is pinged, then closed with 4201, and pusher-js comes back the same way
// (docs/server-conformance.md, connections). Options sockudo lacks: subscription counts
// (pusher-js's `pusher:subscription_count`) and authorized connections (an anonymous
// socket is refused with 4009 and stays disconnected).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  APP_ID, KEY, SECRET, SPARE_PORT, connect, pusherError, startApp, state, subscribed, unique,
  eventually, next,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const NodePusher = require('pusher');

const embedded = process.env.E2E_SERVER === 'embedded';
const T = { timeout: 60000, skip: !embedded && 'the embedded server is not running (E2E_SERVER=sockudo)' };

test('Rocket shutdown: pusher-js gets 4200, reconnects to the restarted app, resubscribes', T, async () => {
  const env = {
    ROCKET_PUSHER: `{url="http://${KEY}:${SECRET}@127.0.0.1:${SPARE_PORT}/apps/${APP_ID}",transport="embedded"}`,
  };
  let app = await startApp(SPARE_PORT, env);
  const p = connect(null, { wsPort: SPARE_PORT }, app.url);
  try {
    await state(p, ['connected']);
    const first = p.connection.socket_id;
    const channel = p.subscribe(unique('back'));
    await subscribed(channel);

    const error = pusherError(p);
    await app.stop();
    assert.equal((await error).code, 4200);
    // 4200 is "reconnect now": pusher-js keeps trying instead of giving up.
    await state(p, ['connecting', 'unavailable']);

    app = await startApp(SPARE_PORT, env);
    await state(p, ['connected'], 30000);
    assert.notEqual(p.connection.socket_id, first);
    await eventually(() => channel.subscribed, 10000, 50);
  } finally {
    p.disconnect();
    await app.stop();
  }
});

test('a silent client: pinged, closed with 4201, pusher-js reconnects with a new socket id and resubscribes', T, async () => {
  const app = await startApp(SPARE_PORT, embeddedEnv('activity_timeout=1,pong_timeout=1'));
  const p = connect(null, { wsPort: SPARE_PORT }, app.url);
  try {
    await state(p, ['connected']);
    const first = p.connection.socket_id;
    const channel = p.subscribe(unique('silent'));
    await subscribed(channel);
    const pings = [];
    p.connection.bind('message', (m) => { if (m.event === 'pusher:ping') pings.push(p.connection.socket_id); });

    // Silence this connection only, down to its TCP socket: the WebSocket layer answers the
    // server's WebSocket pings by itself, so holding back pusher-js's own frames (its pongs,
    // its pings) is not enough. The next connection has a socket of its own.
    p.connection.connection.transport.socket._stream.cork();
    const error = pusherError(p);
    assert.equal((await error).code, 4201);
    assert.ok(pings.includes(first), 'the server pinged before closing');

    await eventually(() => p.connection.state === 'connected' && p.connection.socket_id !== first, 10000, 50);
    await eventually(() => channel.subscribed, 10000, 50);
    // Subscribed on the server too: an event to the channel reaches the new connection.
    const server = new NodePusher({ appId: APP_ID, key: KEY, secret: SECRET, host: '127.0.0.1', port: String(SPARE_PORT), useTLS: false });
    const got = next(channel, 'back');
    await server.trigger(channel.name, 'back', { again: true });
    assert.deepEqual(await got, { again: true });
  } finally {
    p.disconnect();
    await app.stop();
  }
});

/** The spare app as its own server, with these `server` options (TOML inline table body). */
function embeddedEnv(server) {
  return {
    ROCKET_PUSHER: `{url="http://${KEY}:${SECRET}@127.0.0.1:${SPARE_PORT}/apps/${APP_ID}",transport="embedded",server={${server}}}`,
  };
}

test('subscription_count = true: pusher-js emits pusher:subscription_count as subscribers come and go', T, async () => {
  const app = await startApp(SPARE_PORT, embeddedEnv('subscription_count=true'));
  const ann = connect('sc-ann', { wsPort: SPARE_PORT }, app.url);
  const bob = connect('sc-bob', { wsPort: SPARE_PORT }, app.url);
  try {
    const name = unique('counted');
    const annChannel = ann.subscribe(name);
    assert.deepEqual(await next(annChannel, 'pusher:subscription_count'), { subscription_count: 1 });
    const two = next(annChannel, 'pusher:subscription_count');
    const bobChannel = bob.subscribe(name);
    assert.deepEqual(await next(bobChannel, 'pusher:subscription_count'), { subscription_count: 2 });
    assert.deepEqual(await two, { subscription_count: 2 });
    assert.equal(annChannel.subscriptionCount, 2);
    const one = next(annChannel, 'pusher:subscription_count');
    bob.unsubscribe(name);
    assert.deepEqual(await one, { subscription_count: 1 });
  } finally {
    ann.disconnect();
    bob.disconnect();
    await app.stop();
  }
});

test('authorized_connections_timeout: an anonymous pusher-js gets 4009 and stays disconnected; a private subscriber stays', T, async () => {
  const app = await startApp(SPARE_PORT, embeddedEnv('authorized_connections_timeout=1'));
  const anonymous = connect(null, { wsPort: SPARE_PORT }, app.url);
  const member = connect('ac-cat', { wsPort: SPARE_PORT }, app.url);
  try {
    const own = member.subscribe('private-user.ac-cat');
    await subscribed(own);
    const error = pusherError(anonymous);
    anonymous.subscribe(unique('public'));
    assert.equal((await error).code, 4009);
    // 4009 is "do not reconnect": pusher-js gives up rather than retry.
    await state(anonymous, ['disconnected']);
    assert.equal(member.connection.state, 'connected');
    assert.ok(own.subscribed);
  } finally {
    anonymous.disconnect();
    member.disconnect();
    await app.stop();
  }
});
