// Signed-in start page: the room list, the room form (create and edit) and the
// scheduled meetings of a room with their invite codes and links.
import { $, el, dateTime } from './dom.js';
import { session } from './session.js';
import { messageFor } from './errors.js';

const rpc = () => session.rpc;
let meetingsRoom = null;

export const roomLink = (roomId) => `${location.origin}/?rd=${roomId}`;
export const codeLink = (code) => `${location.origin}/?code=${code}`;

export async function showRooms() {
  const { rooms } = await rpc().call('room.list', { limit: 500 });
  $('room-list').replaceChildren(...rooms.map((r) => el('tr', {},
    el('td', {}, el('a', { href: `/?rd=${r.roomId}` }, r.name), el('small', {}, ` #${r.roomId}`),
      r.hasPassword ? el('span', { class: 'tag', title: 'Has a password' }, 'password') : null,
      r.isPublic ? el('span', { class: 'tag' }, 'public') : null),
    el('td', {}, r.mode.toUpperCase()),
    el('td', {}, String(r.numberLimit)),
    el('td', {}, r.active ? `live (${r.participants})` : ''),
    el('td', {}, el('div', { class: 'actions' },
      el('a', { href: `/?rd=${r.roomId}`, class: 'button', 'aria-label': `Join ${r.name}` }, 'Join'),
      el('button', { type: 'button', 'aria-label': `Edit ${r.name}`, onclick: () => editRoom(r) }, 'Edit'),
      el('button', { type: 'button', 'aria-label': `Meetings in ${r.name}`, onclick: () => showMeetings(r) }, 'Meetings'),
      el('button', { type: 'button', 'aria-label': `Copy the link of ${r.name}`, onclick: () => copy(roomLink(r.roomId)) }, 'Copy link'),
      el('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${r.name}`, onclick: () => deleteRoom(r) }, 'Delete'))),
  )));
  if (!rooms.length) $('room-list').append(el('tr', {}, el('td', { colspan: 5 }, 'No rooms yet.')));
}

async function copy(text) {
  try { await navigator.clipboard.writeText(text); flash(`Copied ${text}`); } catch { prompt('Copy this link:', text); }
}

function flash(text) {
  $('status').textContent = text;
}

function roomForm(room) {
  const f = $('room-form');
  f.reset();
  f.querySelector('.error').textContent = '';
  $('room-form-title').textContent = room ? `Edit ${room.name}` : 'New room';
  f.roomId.value = room ? room.roomId : '';
  $('keep-password-label').hidden = !(room && room.hasPassword);
  if (room) {
    f.name.value = room.name;
    f.mode.value = room.mode;
    f.type.value = String(room.type);
    f.definition.value = room.definition;
    f.numberLimit.value = room.numberLimit;
    f.isPublic.checked = room.isPublic;
  }
  f.hidden = false;
  f.name.focus();
}

const editRoom = (room) => roomForm(room);

async function deleteRoom(room) {
  if (!confirm(`Delete the room "${room.name}" and its meetings?`)) return;
  try {
    await rpc().call('room.delete', { roomId: room.roomId });
    await showRooms();
  } catch (e) { alert(messageFor(e)); }
}

async function saveRoom(ev) {
  ev.preventDefault();
  const f = ev.target;
  const fields = {
    name: f.name.value, mode: f.mode.value, type: Number(f.type.value), definition: f.definition.value,
    numberLimit: Number(f.numberLimit.value), isPublic: f.isPublic.checked,
  };
  try {
    if (f.roomId.value) {
      const roomId = Number(f.roomId.value);
      await rpc().call('room.update', { roomId, ...fields });
      const hadPassword = !$('keep-password-label').hidden;
      // A typed password replaces the old one; unticking "keep" with none typed removes it.
      if (f.password.value || (hadPassword && !f.keepPassword.checked))
        await rpc().call('room.setPassword', { roomId, password: f.password.value });
    } else {
      await rpc().call('room.create', { ...fields, ...(f.password.value ? { password: f.password.value } : {}) });
    }
    f.hidden = true;
    await showRooms();
  } catch (e) {
    f.querySelector('.error').textContent = messageFor(e);
  }
}

export async function showMeetings(room) {
  meetingsRoom = room;
  $('meetings-room').textContent = room.name;
  $('meetings').hidden = false;
  const start = new Date(Date.now() + 5 * 60000);
  start.setSeconds(0, 0);
  const f = $('meeting-form');
  f.start.value = new Date(start.getTime() - start.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const { meetings } = await rpc().call('meeting.listByRoom', { roomId: room.roomId, limit: 100 });
  $('meeting-list').replaceChildren(...meetings.map((m) => el('li', { class: 'meeting' },
    el('strong', {}, m.name), ` ${dateTime(m.startTime)} – ${new Date(m.endTime * 1000).toLocaleTimeString()} `,
    el('span', { class: `tag ${m.status}` }, m.status === 'notStarted' ? 'scheduled' : m.status),
    m.hasPin ? el('span', { class: 'tag' }, 'PIN') : null,
    m.inviteCode ? el('span', {}, ' code ', el('code', {}, m.inviteCode), ' ',
      el('a', { href: codeLink(m.inviteCode) }, 'join link'), ' ',
      el('button', { type: 'button', 'aria-label': `Copy the invite link of ${m.name}`, onclick: () => copy(codeLink(m.inviteCode)) }, 'Copy')) : null,
    el('button', { type: 'button', class: 'danger', 'aria-label': `Delete meeting ${m.name}`, onclick: async () => {
      try { await rpc().call('meeting.delete', { meetingId: m.meetingId }); await showMeetings(room); } catch (e) { alert(messageFor(e)); }
    } }, 'Delete'))));
  if (!meetings.length) $('meeting-list').append(el('li', {}, 'No meetings scheduled.'));
  $('meetings').scrollIntoView({ block: 'nearest' });
}

async function scheduleMeeting(ev) {
  ev.preventDefault();
  const f = ev.target;
  const startTime = Math.floor(new Date(f.start.value).getTime() / 1000);
  try {
    await rpc().call('meeting.create', {
      roomId: meetingsRoom.roomId, name: f.name.value, startTime,
      endTime: startTime + 60 * Number(f.minutes.value), ...(f.pin.value ? { pin: f.pin.value } : {}),
    });
    f.name.value = '';
    f.pin.value = '';
    f.querySelector('.error').textContent = '';
    await showMeetings(meetingsRoom);
  } catch (e) {
    f.querySelector('.error').textContent = messageFor(e);
  }
}

export function initHome() {
  $('new-room').addEventListener('click', () => roomForm(null));
  $('room-form-cancel').addEventListener('click', () => { $('room-form').hidden = true; });
  $('room-form').addEventListener('submit', saveRoom);
  $('meeting-form').addEventListener('submit', scheduleMeeting);
}
