// The Atrium start page: sign in, list and create rooms, over the public JSON-RPC API.
import { RpcClient } from './rpc.js';

const $ = (id) => document.getElementById(id);
const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const rpc = new RpcClient(`${scheme}//${location.host}/rpc`);

async function showRooms() {
  const { rooms } = await rpc.call('room.list', { limit: 100 });
  const body = $('room-list');
  body.replaceChildren(...rooms.map((r) => {
    const tr = document.createElement('tr');
    for (const v of [r.roomId, r.name, r.mode, r.isPublic ? 'yes' : 'no', r.active ? 'live' : '']) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.append(td);
    }
    return tr;
  }));
  $('login').hidden = true;
  $('rooms').hidden = false;
}

async function start() {
  await rpc.connect();
  const { version } = await rpc.call('server.ping');
  $('status').textContent = `server ${version}`;
  const token = sessionStorage.getItem('atrium-token');
  if (token) {
    try {
      await rpc.call('auth.resume', { token });
      await showRooms();
    } catch {
      sessionStorage.removeItem('atrium-token');
    }
  }
}

$('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  try {
    const { token } = await rpc.call('auth.login', { account: form.get('account'), password: form.get('password') });
    sessionStorage.setItem('atrium-token', token);
    $('login-error').textContent = '';
    await showRooms();
  } catch (e) {
    $('login-error').textContent = e.message;
  }
});

$('create-room').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  await rpc.call('room.create', { name: form.get('name'), mode: form.get('mode') });
  ev.target.reset();
  await showRooms();
});

$('logout').addEventListener('click', async () => {
  await rpc.call('auth.logout');
  sessionStorage.removeItem('atrium-token');
  $('rooms').hidden = true;
  $('login').hidden = false;
});

start().catch((e) => { $('status').textContent = e.message; });
