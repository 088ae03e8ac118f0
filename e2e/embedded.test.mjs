// The embedded server only (E2E_SERVER=embedded): what sockudo runs as a separate process
// cannot show. Rocket's shutdown closes pusher-js with 4200, which reconnects at once; once
// the app is back it has a new socket id and its channels again (checklist lines 12, 60).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APP_ID, KEY, SECRET, SPARE_PORT, connect, pusherError, startApp, state, subscribed, unique,
  eventually,
} from './lib.mjs';

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
