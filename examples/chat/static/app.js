// The demo page: everything here uses pusher-js's public API only.
'use strict';

const $ = (id) => document.getElementById(id);

function add(list, text, cls) {
  const li = document.createElement('li');
  li.textContent = text;
  if (cls) li.className = cls;
  $(list).appendChild(li);
  $(list).scrollTop = $(list).scrollHeight;
}

async function post(path, body, socketId) {
  const headers = { 'Content-Type': 'application/json' };
  // Lets the server exclude this connection when it re-broadcasts (SocketId guard).
  if (socketId) headers['X-Socket-ID'] = socketId;
  const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!res.ok) add('messages', `error ${res.status}: ${await res.text()}`, 'mine');
}

async function main() {
  const session = await (await fetch('/session')).json();
  if (!session.user) {
    $('login').hidden = false;
    $('status').textContent = 'signed out';
    return;
  }
  $('chat').hidden = false;
  $('logout').hidden = false;
  $('me').textContent = session.user;

  const pusher = new Pusher(session.key, session.options);
  window.demoPusher = pusher; // for the browser test
  pusher.connection.bind('state_change', ({ current }) => {
    $('status').textContent = current;
    $('status').dataset.state = current;
  });
  pusher.signin();

  // Presence: who is online, with the names our presence_member handler returned.
  const room = pusher.subscribe(session.room);
  const renderMembers = () => {
    const ul = $('members');
    ul.replaceChildren();
    const others = [];
    room.members.each((m) => {
      const li = document.createElement('li');
      li.textContent = m.info && m.info.name ? m.info.name : m.id;
      li.dataset.userId = m.id;
      ul.appendChild(li);
      if (m.id !== session.user) others.push(m.id);
    });
    $('count').textContent = room.members.count;
    const select = $('direct-to');
    const current = select.value;
    select.replaceChildren(...others.map((id) => new Option(id, id)));
    if (others.includes(current)) select.value = current;
  };
  room.bind('pusher:subscription_succeeded', renderMembers);
  room.bind('pusher:member_added', renderMembers);
  room.bind('pusher:member_removed', renderMembers);
  room.bind('pusher:subscription_error', (e) => add('messages', `room refused: ${e.status}`, 'mine'));
  room.bind('message', (m) => add('messages', `${m.from}: ${m.text}`));

  // Encrypted: pusher-js decrypts with the shared_secret from our auth route.
  const notes = pusher.subscribe(session.notes);
  notes.bind('note', (m) => add('notes', `${m.from}: ${m.text}`));

  // Sent to this signed-in user only (send_to_user).
  pusher.user.bind('direct', (m) => add('directs', `${m.from} → you: ${m.text}`));

  // This user's own private channel (only its owner may join): delivery notices.
  pusher.subscribe(`private-user.${session.user}`)
    .bind('delivered', (m) => add('directs', `✓ delivered to ${m.to}`, 'mine'));

  // The activity log: webhooks the app received, re-broadcast by the app. Subscribe
  // first, then fetch the log kept so far: no entry falls between the two, and `seq`
  // drops those that come both ways. Fetched again after a reconnection.
  const shown = new Set();
  const showEntry = (e) => {
    if (shown.has(e.seq)) return;
    shown.add(e.seq);
    add('activity', `${e.event} ${e.user_id ? e.user_id + ' ' : ''}${e.channel}`);
  };
  let early = []; // live entries that arrive while the log is being fetched
  const activity = pusher.subscribe(session.activity);
  activity.bind('entry', (e) => (early ? early.push(e) : showEntry(e)));
  activity.bind('pusher:subscription_succeeded', async () => {
    early = early || [];
    let log = [];
    try {
      log = (await (await fetch('/activity')).json()).filter((e) => e.via === 'app');
    } catch (err) {
      add('activity', `could not load the log: ${err}`, 'mine');
    }
    log.concat(early).sort((a, b) => a.seq - b.seq).forEach(showEntry);
    early = null;
  });

  $('send').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('text').value;
    $('text').value = '';
    add('messages', `${session.user}: ${text}`, 'mine'); // shown here; the server excludes us
    post(`/rooms/${encodeURIComponent(session.lobby)}/messages`, { text }, pusher.connection.socket_id);
  });
  $('note').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('note-text').value;
    $('note-text').value = '';
    post('/notes', { text });
  });
  $('direct').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const to = $('direct-to').value;
    const text = $('direct-text').value;
    if (!to) return;
    $('direct-text').value = '';
    add('directs', `you → ${to}: ${text}`, 'mine');
    post('/direct', { to, text });
  });
}

main();
