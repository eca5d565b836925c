// The Atrium web client: one page, plain ES modules over atriumd's public JSON-RPC API.
// The query string picks the view: ?rd=ROOM or ?code=INVITE joins, #recordings lists
// recordings (where the server records), otherwise the sign-in or room pages.
import { $, showView } from './dom.js';
import { session } from './session.js';
import { messageFor } from './errors.js';
import { initHome, showRooms } from './home.js';
import { linkParams, showJoin } from './join.js';
import { initMeeting, meeting, extensions } from './meeting.js';
import { speaker } from './speaker.js';
import { moderation } from './moderation.js';
import { recordings, showRecordings } from './archive.js';

// Optional server features: the feature name and a method whose presence shows it.
const FEATURES = { moderation: 'host.mute', recording: 'recording.stop' };

function banner(text) {
  $('banner').textContent = text;
  $('banner').hidden = !text;
}

function showSignedIn() {
  $('top-nav').hidden = !session.user;
  $('who').textContent = session.user ? session.user.name : '';
}

async function route() {
  showSignedIn();
  const link = linkParams();
  if (link) return showJoin(link);
  if (!session.user) {
    showView('view-login');
    return;
  }
  if (location.hash === '#recordings' && session.has('recording')) {
    showView('view-recordings');
    await showRecordings();
    return;
  }
  showView('view-home');
  await showRooms();
}

// Outside a meeting, a lost connection is retried every few seconds; the meeting page
// has its own reconnection (meeting.js).
async function reconnectPage() {
  for (let i = 1; ; i++) {
    banner(`The connection to the server was lost; reconnecting (attempt ${i})…`);
    await new Promise((r) => setTimeout(r, Math.min(10, i * 2) * 1000));
    if (meeting.active) return banner('');
    try {
      await session.connect();
      banner('');
      if (!document.querySelector('#view-join:not([hidden])')) await route();
      return;
    } catch { /* keep trying */ }
  }
}

async function start() {
  extensions.push(speaker, moderation, recordings);
  moderation.init();
  recordings.init();
  initHome();
  initMeeting();
  $('login').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      await session.login(f.account.value, f.password.value);
      $('login-error').textContent = '';
      f.reset();
      await session.probe(FEATURES);
      await route();
    } catch (e) {
      $('login-error').textContent = messageFor(e);
    }
  });
  $('guest').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const t = f.target.value.trim();
    // Room ids are small numbers; invite codes are 9 digits.
    const q = new URLSearchParams(/^\d{9}$/.test(t) ? { code: t } : { rd: t });
    q.set('name', f.name.value.trim());
    location.search = `?${q}`;
  });
  $('logout').addEventListener('click', async () => {
    await session.logout();
    location.href = '/';
  });
  session.rpc.onclose(() => { if (!meeting.active) reconnectPage(); });
  addEventListener('hashchange', () => route().catch((e) => banner(messageFor(e))));

  await session.connect();
  $('status').textContent = `server ${session.version}`;
  await session.probe(FEATURES);
  await route();
}

// For tests and debugging from the console.
window.atrium = { session, meeting };

start().catch((e) => {
  $('status').textContent = 'offline';
  banner(messageFor(e));
  if (!session.rpc.open) reconnectPage();
});
