// Meeting chat where the server has it (chat.*): messages to everyone or privately to one
// participant, read back with chat.history on joining; signed-in participants send files
// (POST /rooms/{roomId}/files, then a chat message that refers to the file), which the
// others download. An extension of the meeting page (meeting.js).
import { $, el } from './dom.js';
import { session } from './session.js';
import { messageFor } from './errors.js';
import { download } from './download.js';

let meeting = null;
let offs = [];
const shown = new Set(); // messageIds already in the log

const time = (unix) => new Date(unix * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function fileLink(file) {
  // Meeting files are for signed-in users: a guest sees the name, not a broken button.
  if (!session.user) {
    return el('span', { class: 'file', title: 'Sign in to download meeting files' }, ' 📎 ', file.name,
      ` (${Math.ceil(file.size / 1024)} kB, sign in to download)`);
  }
  const progress = el('progress', { max: 100, value: 0, hidden: true, 'aria-label': `Download progress of ${file.name}` });
  return el('span', { class: 'file' }, ' 📎 ',
    el('button', { type: 'button', class: 'link', 'aria-label': `Download ${file.name}`, onclick: async () => {
      try { await download(file.url, file.name, progress, file.size); } catch (e) { meeting.status(e.message); }
    } }, file.name), ` (${Math.ceil(file.size / 1024)} kB)`, progress);
}

function show(m) {
  if (shown.has(m.messageId)) return;
  shown.add(m.messageId);
  const conf = meeting.conference;
  const mine = conf && m.from.participantId === conf.me.id;
  const who = mine ? 'You' : m.from.name;
  const to = m.private ? ` to ${m.to.participantId === (conf && conf.me.id) ? 'you' : m.to.name} (private)` : '';
  $('chat-log').append(el('li', { class: `msg${m.private ? ' private' : ''}${mine ? ' mine' : ''}`, dataset: { message: m.messageId } },
    el('span', { class: 'meta' }, `${who}${to} · ${time(m.time)}`),
    m.content ? el('span', { class: 'text' }, m.content) : null,
    m.file ? fileLink(m.file) : null));
  $('chat-log').scrollTop = $('chat-log').scrollHeight;
}

function renderRecipients() {
  const conf = meeting && meeting.conference;
  if (!conf) return;
  const select = $('chat-to');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, 'Everyone'),
    ...[...conf.participants.values()].map((p) => el('option', { value: p.id }, p.name)));
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : '';
}

async function send(ev) {
  ev.preventDefault();
  const f = ev.target;
  const content = f.content.value;
  if (!content.trim()) return;
  try {
    const { message } = await session.rpc.call('chat.send', { content, ...(f.to.value ? { to: f.to.value } : {}) });
    f.content.value = '';
    show(message);
  } catch (e) {
    meeting.status(messageFor(e));
  }
}

// Uploads with XMLHttpRequest, which reports upload progress (fetch does not).
function upload(roomId, file) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const bar = $('chat-upload');
    bar.hidden = false;
    bar.value = 0;
    xhr.open('POST', `/rooms/${roomId}/files`);
    xhr.setRequestHeader('authorization', `Bearer ${session.token}`);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; };
    xhr.onload = () => {
      bar.hidden = true;
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 201 && body && body.file) resolve(body.file);
      else reject(body && body.error ? Object.assign(new Error(body.error.message), body.error) : new Error(`the upload failed (HTTP ${xhr.status})`));
    };
    xhr.onerror = () => { bar.hidden = true; reject(new Error('the upload failed')); };
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

async function sendFile(ev) {
  const file = ev.target.files[0];
  ev.target.value = '';
  const conf = meeting && meeting.conference;
  if (!file || !conf) return;
  try {
    const shared = await upload(conf.room.roomId, file);
    const to = $('chat-to').value;
    const { message } = await session.rpc.call('chat.send', { content: '', fileId: shared.fileId, ...(to ? { to } : {}) });
    show(message);
  } catch (e) {
    meeting.status(messageFor(e));
  }
}

export const chat = {
  async attach(m) {
    if (!session.has('chat')) return;
    meeting = m;
    const conf = m.conference;
    $('chat-file-label').hidden = !session.user; // uploads need a signed-in user
    $('chat-log').replaceChildren();
    shown.clear();
    const rpc = session.rpc;
    offs = [rpc.on('chat', show), rpc.on('privateChat', show)];
    conf.addEventListener('participants', renderRecipients);
    renderRecipients();
    try {
      const { messages } = await rpc.call('chat.history', { roomId: conf.room.roomId, limit: 50 });
      messages.forEach(show);
    } catch (e) {
      m.status(`The chat history could not be read: ${messageFor(e)}`);
    }
  },
  detach() {
    offs.forEach((off) => off());
    offs = [];
  },
  init() {
    $('chat-form').addEventListener('submit', send);
    $('chat-form').content.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); $('chat-form').requestSubmit(); }
    });
    $('chat-file').addEventListener('change', sendFile);
  },
};
