// The page before a meeting: what the link names (a room by id, or a meeting by invite
// code), the participant's name, a password or PIN prompt where needed, and a device
// check (camera and microphone present and allowed) with a preview.
//   /?rd=ROOMID&name=NAME&role=ROLE&v=0|1     /?code=INVITECODE&name=NAME
// v=0 starts with the camera off; role=audience joins without sending any media.
import { $, el, showView, dateTime } from './dom.js';
import { session } from './session.js';
import { messageFor, Code } from './errors.js';
import { enterMeeting } from './meeting.js';

let target = null; // {roomId} or {code}
let stream = null; // the checked local media, handed to the meeting

export function linkParams(search = location.search) {
  const q = new URLSearchParams(search);
  const rd = q.get('rd');
  const code = q.get('code');
  if (!rd && !code) return null;
  return {
    roomId: rd && /^\d+$/.test(rd) ? Number(rd) : null,
    code: code || null,
    badRoom: Boolean(rd && !/^\d+$/.test(rd)),
    name: q.get('name') || '',
    role: q.get('role') || '',
    video: q.get('v') !== '0',
  };
}

function setError(text) { $('join-error').textContent = text; }

function showPasswordField(label) {
  $('join-password-label').hidden = false;
  $('join-password-label').firstChild.textContent = `${label} `;
}

function deviceLine(label, ok, detail) {
  return el('li', { class: ok ? 'ok' : 'bad' }, `${ok ? '✓' : '✗'} ${label}: ${detail}`);
}

// Asks for camera and microphone; lists what was found and what was refused.
async function checkDevices(wantMedia) {
  const list = $('device-status');
  const f = $('join-form');
  if (!wantMedia) {
    list.replaceChildren(el('li', {}, 'You join as audience: nothing is sent.'));
    f.camera.disabled = f.mic.disabled = true;
    f.camera.checked = f.mic.checked = false;
    return;
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    list.replaceChildren(deviceLine('Camera and microphone', false, 'this page is not allowed to use them (needs https or localhost)'));
    f.camera.disabled = f.mic.disabled = true;
    return;
  }
  const lines = [];
  const tracks = [];
  for (const [kind, label] of [['video', 'Camera'], ['audio', 'Microphone']]) {
    try {
      const s = await navigator.mediaDevices.getUserMedia(kind === 'video'
        ? { video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } } } : { audio: true });
      const t = s.getTracks()[0];
      tracks.push(t);
      lines.push(deviceLine(label, true, t.label || 'ready'));
    } catch (e) {
      const why = e.name === 'NotAllowedError' ? 'access was refused; allow it in the browser to be seen or heard'
        : e.name === 'NotFoundError' ? 'none found' : e.name === 'NotReadableError' ? 'in use by another program' : e.message;
      lines.push(deviceLine(label, false, why));
      const box = kind === 'video' ? f.camera : f.mic;
      box.checked = false;
      box.disabled = true;
    }
  }
  list.replaceChildren(...lines);
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = tracks.length ? new MediaStream(tracks) : null;
  $('check-preview').srcObject = stream && stream.getVideoTracks().length ? stream : null;
}

export async function showJoin(link) {
  showView('view-join');
  setError('');
  const f = $('join-form');
  f.name.value = link.name || (session.user ? session.user.name : '');
  $('join-name-label').hidden = Boolean(session.user) && !link.name;
  f.camera.checked = link.video;
  $('join-password-label').hidden = true;
  $('join-button').disabled = false;
  if (link.badRoom) { setError('This link names no valid room.'); $('join-button').disabled = true; return; }
  try {
    if (link.code) {
      target = { code: link.code };
      const r = await session.rpc.call('meeting.byCode', { code: link.code });
      if (r.status === 'notFound') {
        setError('There is no meeting with this invite code.');
        $('join-button').disabled = true;
        return;
      }
      const m = r.meeting;
      $('join-title').textContent = `Join ${m.name}`;
      $('join-info').textContent = r.status === 'ended' ? 'This meeting has ended.'
        : `${r.status === 'notStarted' ? 'Scheduled for' : 'Started'} ${dateTime(m.startTime)}; ${m.live ? 'people are in it now' : 'nobody is in it yet'}.`;
      if (r.status === 'ended') { setError('This meeting has ended.'); $('join-button').disabled = true; return; }
      if (m.hasPin && !session.user) showPasswordField('Meeting PIN');
    } else {
      target = { roomId: link.roomId };
      $('join-title').textContent = `Join room ${link.roomId}`;
      const [{ hasPassword }, active] = await Promise.all([
        session.rpc.call('room.hasPassword', { roomId: link.roomId }),
        session.rpc.call('room.isActive', { roomId: link.roomId }),
      ]);
      $('join-info').textContent = active.active ? `${active.participants} in the meeting now.` : 'Nobody is in this room yet.';
      if (session.user) {
        try { $('join-title').textContent = `Join ${(await session.rpc.call('room.get', { roomId: link.roomId })).room.name}`; } catch { /* not listed for us */ }
      }
      if (hasPassword && !session.user) showPasswordField('Room password');
    }
  } catch (e) {
    setError(messageFor(e));
    if (e.code === Code.notFound) { $('join-button').disabled = true; return; }
  }
  await checkDevices(link.role !== 'audience');
  f.onsubmit = (ev) => { ev.preventDefault(); join(link); };
}

async function join(link) {
  const f = $('join-form');
  setError('');
  const params = { ...target };
  if (f.name.value.trim()) params.displayName = f.name.value.trim();
  if (!$('join-password-label').hidden && f.password.value) {
    if (target.code) params.pin = f.password.value; else params.password = f.password.value;
  }
  if (!session.user && !params.displayName) { setError('Please enter your name.'); f.name.focus(); return; }
  $('join-button').disabled = true;
  try {
    await enterMeeting(params, {
      stream: link.role === 'audience' ? null : stream,
      camera: f.camera.checked, mic: f.mic.checked,
    });
    stream = null; // the meeting owns it now
  } catch (e) {
    showView('view-join');
    const sent = params.password !== undefined || params.pin !== undefined;
    setError(e.code === Code.wrongPassword && sent ? `Wrong ${e.data.pinRequired ? 'PIN' : 'password'}.` : messageFor(e));
    if (e.code === Code.wrongPassword) {
      showPasswordField(e.data.pinRequired ? 'Meeting PIN' : 'Room password');
      f.password.focus();
    }
  } finally {
    $('join-button').disabled = false;
  }
}
