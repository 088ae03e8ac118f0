// The chat demo in a real browser: headless Chromium (Debian's package) driven by
// playwright-core, two users in two separate browser profiles, each signing in through the
// page's own login form. Everything the assertions read is what the page shows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { APP, ARTIFACTS } from './lib.mjs';

const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
/** Upper bound of every wait on the page. */
const WAIT = 15000;
/** Unique per run: names already in the app's activity log or in the room (from other
 *  test files against the same app) cannot make an assertion pass. */
const RUN = Math.random().toString(36).slice(2, 6);
const ALICE = `alice-${RUN}`;
const BOB = `bob-${RUN}`;

/** One signed-in user: a browser with its own fresh profile, and the demo page. */
const users = {};

async function open(name) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `rp-e2e-chromium-${name}-`));
  // A persistent context per user: a fresh --user-data-dir of our own, and separate
  // cookie jars (the sign-in is a cookie).
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1100, height: 800 },
    timeout: WAIT,
  });
  context.setDefaultTimeout(WAIT);
  const page = context.pages()[0] ?? (await context.newPage());
  const user = { name, dir, context, page, errors: [], console: [] };
  page.on('pageerror', (e) => user.errors.push(String(e)));
  page.on('console', (m) => user.console.push(`${m.type()}: ${m.text()}`));
  // Loopback only: anything else (a CDN, an update check) fails the test.
  await context.route((url) => !['127.0.0.1', 'localhost'].includes(url.hostname), (route) => {
    user.errors.push(`off-loopback request: ${route.request().url()}`);
    return route.abort();
  });
  users[name] = user;
  return user;
}

async function signIn(user) {
  const { page, name } = user;
  await page.goto(APP, { waitUntil: 'load' });
  await page.locator('#login').waitFor({ state: 'visible' });
  // Signed out, the page shows the login form only.
  assert.equal(await page.isHidden('#chat'), true, 'the chat is hidden when signed out');
  assert.equal(await page.isHidden('#logout'), true, 'no sign-out button when signed out');
  if (name === ALICE) await page.screenshot({ path: path.join(ARTIFACTS, 'browser-login.png') });
  await page.fill('#login input[name=name]', name);
  await Promise.all([page.waitForURL(`${APP}/`), page.click('#login button')]);
  await page.locator('#chat').waitFor({ state: 'visible' });
  assert.equal(await page.isHidden('#login'), true, 'no login form when signed in');
  assert.equal(await page.textContent('#me'), name);
  await page.waitForSelector('#status[data-state=connected]');
  // Signed in to Pusher as this user: the server-to-user channel is subscribed.
  await page.waitForFunction(() => window.demoPusher?.user?.serverToUserChannel?.subscribed === true);
}

/** The texts of the items of list `#id`. */
const lines = (page, id) => page.$$eval(`#${id} > li`, (els) => els.map((e) => e.textContent));

/** Waits until list `#id` has an item with exactly `text`; a timeout says what it had. */
async function waitLine(user, id, text) {
  try {
    await user.page.waitForFunction(
      ({ id, text }) => [...document.querySelectorAll(`#${id} > li`)].some((li) => li.textContent === text),
      { id, text },
      { timeout: WAIT },
    );
  } catch (e) {
    throw new Error(`${user.name}: no "${text}" in #${id} within ${WAIT} ms; it has ${JSON.stringify(await lines(user.page, id))}`, { cause: e });
  }
}

const count = async (user, id, text) => (await lines(user.page, id)).filter((l) => l === text).length;

async function submit(page, form, fields) {
  for (const [sel, value] of Object.entries(fields)) {
    if (sel.endsWith('-to')) await page.selectOption(sel, value);
    else await page.fill(sel, value);
  }
  await page.click(`${form} button`);
}

describe('the chat demo in headless Chromium', { timeout: 120000 }, () => {
  let alice, bob;

  before(async () => {
    await fs.mkdir(ARTIFACTS, { recursive: true });
    [alice, bob] = await Promise.all([open(ALICE), open(BOB)]);
    // Alice first, so that Bob's join reaches her page live and hers reaches Bob's
    // page from the log the app kept.
    await signIn(alice);
    await signIn(bob);
  });

  after(async () => {
    // Every page first, while all users are still online; then close.
    for (const user of Object.values(users)) {
      const base = path.join(ARTIFACTS, `browser-${user.name.split('-')[0]}`);
      await user.page.screenshot({ path: `${base}.png`, fullPage: true, timeout: WAIT })
        .catch((e) => console.error(`screenshot of ${user.name} failed: ${e.message}`));
      await fs.writeFile(`${base}.console.log`, user.console.map((l) => `${l}\n`).join(''));
    }
    for (const user of Object.values(users)) {
      await user.context.close().catch((e) => console.error(`closing ${user.name}'s browser: ${e.message}`));
      await fs.rm(user.dir, { recursive: true, force: true });
    }
  });

  it('both users are in each other\'s presence list, with the names from user_info', async () => {
    for (const me of [alice, bob]) {
      for (const other of [alice, bob]) {
        const li = me.page.locator(`#members > li[data-user-id="${other.name}"]`);
        await li.waitFor({ state: 'attached' });
        assert.equal(await li.textContent(), other.name);
        // The user_info our presence_member handler returned, as pusher-js has it.
        const info = await me.page.evaluate(
          ({ room, id }) => window.demoPusher.channel(room).members.get(id)?.info,
          { room: 'presence-room.lobby', id: other.name },
        );
        assert.deepEqual(info, { name: other.name });
      }
      assert.equal(await me.page.textContent('#count'), String((await lines(me.page, 'members')).length));
    }
    // The direct-message picker offers the other user.
    await alice.page.waitForSelector(`#direct-to > option[value="${BOB}"]`, { state: 'attached' });
    await bob.page.waitForSelector(`#direct-to > option[value="${ALICE}"]`, { state: 'attached' });
  });

  it('a message from the form reaches the other user, and the sender sees it once', async () => {
    const text = `hello from ${ALICE} ${Date.now()}`;
    await submit(alice.page, '#send', { '#text': text });
    await waitLine(bob, 'messages', `${ALICE}: ${text}`);
    // A barrier: Bob answers after he got it; once Alice has the answer, a copy of her
    // own message sent to her socket would have arrived before it (one ordered socket).
    const reply = `hi ${ALICE}, ${BOB} here ${Date.now()}`;
    await submit(bob.page, '#send', { '#text': reply });
    await waitLine(alice, 'messages', `${BOB}: ${reply}`);
    assert.equal(await count(alice, 'messages', `${ALICE}: ${text}`), 1, 'the sender sees her message exactly once');
    assert.equal(await count(bob, 'messages', `${ALICE}: ${text}`), 1);
    assert.equal(await count(bob, 'messages', `${BOB}: ${reply}`), 1, 'the replier sees his message exactly once');
    // The sender's copy is the page's own (marked), not an echo from the server.
    assert.deepEqual(
      await alice.page.$$eval('#messages > li.mine', (els) => els.map((e) => e.textContent)),
      [`${ALICE}: ${text}`],
    );
  });

  it('a note on the encrypted channel arrives decrypted on both pages', async () => {
    const text = `secret note ${Date.now()}`;
    await submit(alice.page, '#note', { '#note-text': text });
    await waitLine(bob, 'notes', `${ALICE}: ${text}`);
    await waitLine(alice, 'notes', `${ALICE}: ${text}`);
    // pusher-js holds the channel's shared secret from our auth route.
    assert.equal(await bob.page.evaluate(() => window.demoPusher.channel('private-encrypted-notes')?.subscribed), true);
  });

  it('a direct message reaches only its recipient', async () => {
    const text = `for your eyes only ${Date.now()}`;
    await submit(bob.page, '#direct', { '#direct-to': ALICE, '#direct-text': text });
    await waitLine(alice, 'directs', `${BOB} → you: ${text}`);
    await waitLine(bob, 'directs', `you → ${ALICE}: ${text}`);
    // A barrier for Bob's connection: Alice's answer to him arrives after anything
    // sent to him before it.
    const answer = `got it ${Date.now()}`;
    await submit(alice.page, '#direct', { '#direct-to': BOB, '#direct-text': answer });
    await waitLine(bob, 'directs', `${ALICE} → you: ${answer}`);
    // Each sender also gets a delivery notice on its own private channel.
    await waitLine(bob, 'directs', `✓ delivered to ${ALICE}`);
    await waitLine(alice, 'directs', `✓ delivered to ${BOB}`);
    const messages = async (who) => (await lines(who.page, 'directs')).filter((l) => !l.startsWith('✓'));
    assert.deepEqual(await messages(bob), [`you → ${ALICE}: ${text}`, `${ALICE} → you: ${answer}`]);
    assert.deepEqual(await messages(alice), [`${BOB} → you: ${text}`, `you → ${BOB}: ${answer}`]);
  });

  it('the activity log shows both joins, from the webhooks the app received', async () => {
    for (const me of [alice, bob]) {
      for (const who of [alice, bob]) await waitLine(me, 'activity', `member_added ${who.name} presence-room.lobby`);
      // Each webhook is shown once, though the page combines the log and live entries.
      const log = await lines(me.page, 'activity');
      assert.equal(new Set(log.filter((l) => l.includes(RUN))).size, log.filter((l) => l.includes(RUN)).length, `duplicates in ${me.name}'s log: ${JSON.stringify(log)}`);
    }
  });

  it('no page errors, no console errors, no request off loopback', () => {
    for (const user of [alice, bob]) {
      assert.deepEqual(user.errors, [], `${user.name}: ${user.errors.join('; ')}`);
      assert.deepEqual(user.console.filter((l) => l.startsWith('error')), [], `${user.name}'s console`);
    }
  });
});
