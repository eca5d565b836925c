// The meeting page: local preview and a grid of the others' videos, mic/camera/screen
// controls, the participant list, the meeting timer, leave and end-for-all, and
// automatic reconnection after a lost connection. Media and signalling live in
// Conference (conference.js); optional features hook in through `extensions`.
import { $, el, showView, clock } from './dom.js';
import { session } from './session.js';
import { Conference } from './conference.js';
import { messageFor, isMissingMethod } from './errors.js';
import { CONNECTION_LOST, TIMED_OUT } from './jsonrpc.js';

const RECONNECT_DELAYS_S = [1, 2, 3, 5, 5, 10, 10, 15];

// Modules for optional features register {attach(meeting), detach()} here.
export const extensions = [];

const state = {
  conf: null,
  params: null, // conference.join params, kept for rejoining
  local: null, // MediaStream from the device check (camera + mic), or null
  cameraId: null, // streamId of the published camera
  screen: null, // {stream, streamId}
  startedAt: 0,
  timer: 0,
  reconnecting: false,
  updateMedia: true, // false once the server said it has no conference.updateMedia
  tiles: new Map(), // streamId or 'local' -> tile element
};

export const meeting = {
  get conference() { return state.conf; },
  get active() { return state.conf !== null; },
  // What each remote video has received (getStats); tests read it through the page.
  async stats() {
    const out = {};
    if (state.conf) for (const sid of state.conf.plays.keys()) out[sid] = await state.conf.inbound(sid);
    return out;
  },
  status: (text) => { $('m-status').textContent = text; },
  tile: (key) => state.tiles.get(key),
  setTrack: (kind, on, tell) => setTrack(kind, on, tell),
  local: () => localState(),
  refresh: () => renderPeople(),
};

function tile(key, name, { local = false, kind = 'camera' } = {}) {
  let t = state.tiles.get(key);
  if (t) return t;
  const video = el('video', { autoplay: true, playsinline: true, muted: local });
  video.muted = local;
  t = el('figure', { class: `tile ${kind}${local ? ' local' : ''}`, dataset: { key } },
    video, el('figcaption', {}, el('span', { class: 'name' }, name), el('span', { class: 'badges' })));
  video.setAttribute('aria-label', local ? 'Your video' : kind === 'mix' ? 'Mixed video of the meeting'
    : `${kind === 'screen' ? 'Screen of' : 'Video of'} ${name}`);
  state.tiles.set(key, t);
  $('grid').append(t);
  layoutGrid();
  return t;
}

// A simulcast stream's tile gets a quality choice (the server sends the chosen layer).
function addLayerChoice(t, conf, streamId) {
  const layers = conf.layersOf(streamId);
  if (layers.length < 2 || t.querySelector('select.layer')) return;
  const names = layers.length === 3 ? ['Low', 'Medium', 'High'] : layers.map((r, i) => `Layer ${i + 1}`);
  const choice = el('select', { class: 'layer', title: 'Video quality' },
    ...names.map((n, i) => el('option', { value: String(i) }, n)));
  choice.setAttribute('aria-label', `Video quality of ${t.querySelector('.name').textContent}`);
  choice.value = String(layers.length - 1);
  choice.addEventListener('change', () => conf.setLayer(streamId, Number(choice.value))
    .catch((e) => meeting.status(messageFor(e))));
  t.querySelector('figcaption').append(choice);
}

function dropTile(key) {
  const t = state.tiles.get(key);
  if (!t) return;
  t.querySelector('video').srcObject = null;
  t.remove();
  state.tiles.delete(key);
  layoutGrid();
}

function layoutGrid() {
  const n = Math.max(1, state.tiles.size);
  $('grid').style.setProperty('--cols', String(Math.ceil(Math.sqrt(n))));
}

function nameOf(participantId) {
  if (state.conf && state.conf.me && state.conf.me.id === participantId) return state.conf.me.name;
  const p = state.conf && state.conf.participants.get(participantId);
  return p ? p.name : 'someone';
}

function renderPeople() {
  const conf = state.conf;
  if (!conf || !conf.me) return;
  const everyone = [conf.me, ...conf.participants.values()];
  $('m-count').textContent = String(everyone.length);
  // Rebuild the list only when something shown in it changed (it is re-announced often,
  // and rebuilding under a pointer or a focused control loses the click or the focus).
  const shown = JSON.stringify([localState(), conf.me.role, ...everyone.map((p) => [p.id, p.name, p.role, p.muted, p.audio,
    p.video, p.videoDisabled, p.handRaised, p.linkSlow, (p.streams || []).map((x) => x.kind),
    p === conf.me ? [...conf.published.values()].map((x) => x.kind) : null])]);
  if (shown === state.peopleShown) return refreshTiles(conf);
  state.peopleShown = shown;
  $('m-people').replaceChildren(...everyone.map((p) => {
    const li = el('li', { dataset: { participant: p.id } },
      el('span', { class: 'name' }, p.name + (p === conf.me ? ' (you)' : '')),
      el('span', { class: 'tag' }, p.role));
    const streams = p === conf.me ? [...conf.published.values()].map((s) => s.kind) : (p.streams || []).map((s) => s.kind);
    if (streams.includes('screen')) li.append(el('span', { class: 'tag' }, 'sharing'));
    const local = p === conf.me ? localState() : {};
    if (p.muted || p.audio === false || local.audio === false) li.append(el('span', { class: 'tag muted', 'aria-label': 'microphone off' }, 'mic off'));
    if (p.linkSlow) li.append(el('span', { class: 'tag muted' }, 'weak connection'));
    if (p.videoDisabled || p.video === false || local.video === false) li.append(el('span', { class: 'tag' }, 'video off'));
    for (const x of extensions) if (x.decorate) x.decorate(li, p);
    return li;
  }));
  $('btn-finish').hidden = conf.me.role !== 'host';
  refreshTiles(conf);
}

// The badges on the others' tiles: microphone off, hand raised, video off.
function refreshTiles(conf) {
  for (const [key, t] of state.tiles) {
    if (key === 'local' || !t.dataset.participant) continue;
    const p = conf.participants.get(t.dataset.participant);
    if (!p || t.classList.contains('screen')) continue;
    const off = [p.muted || p.audio === false ? 'mic off' : '', p.handRaised ? '✋' : ''].filter(Boolean);
    t.querySelector('.badges').textContent = off.join(' ');
    t.classList.toggle('video-off', Boolean(p.videoDisabled || p.video === false));
  }
}

// What we send: {audio, video} booleans, false when the track is off or missing.
function localState() {
  const a = state.local && state.local.getAudioTracks()[0];
  const v = state.local && state.local.getVideoTracks()[0];
  return { audio: Boolean(a && a.enabled), video: Boolean(v && v.enabled) };
}

function setToggle(button, on, onText, offText, markOff = true) {
  button.setAttribute('aria-pressed', String(on));
  button.textContent = on ? onText : offText;
  button.classList.toggle('off', markOff && !on);
}

function refreshControls() {
  const a = state.local && state.local.getAudioTracks()[0];
  const v = state.local && state.local.getVideoTracks()[0];
  setToggle($('btn-mic'), Boolean(a && a.enabled), 'Mute', 'Unmute');
  setToggle($('btn-cam'), Boolean(v && v.enabled), 'Stop video', 'Start video');
  $('btn-mic').disabled = !a;
  $('btn-cam').disabled = !v;
  setToggle($('btn-screen'), Boolean(state.screen), 'Stop sharing', 'Share screen', false);
  $('btn-screen').disabled = !navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia;
  const lt = state.tiles.get('local');
  if (lt) lt.classList.toggle('video-off', !(v && v.enabled));
  if (lt) lt.querySelector('.badges').textContent = a && a.enabled ? '' : 'mic off';
}

// Tells the server what we send (`kinds`: "audio", "video"), where it has
// conference.updateMedia. A refusal (a host muted us) switches the track off again.
async function reportMedia(kinds = ['audio', 'video']) {
  if (!state.updateMedia || !state.conf) return;
  const now = localState();
  const params = {};
  for (const k of kinds) params[k] = now[k];
  try {
    await session.rpc.call('conference.updateMedia', params);
  } catch (e) {
    if (isMissingMethod(e)) { state.updateMedia = false; return; }
    meeting.status(messageFor(e));
    if (e.data && e.data.muted) setTrack('audio', false, false);
    if (e.data && e.data.videoDisabled) setTrack('video', false, false);
  }
}

// Turns a local track ("audio" or "video") on or off and, unless `tell` is false, tells the server.
export function setTrack(kind, on, tell = true) {
  const t = state.local && (kind === 'audio' ? state.local.getAudioTracks() : state.local.getVideoTracks())[0];
  if (!t || t.enabled === on) return;
  t.enabled = on;
  refreshControls();
  renderPeople();
  if (tell) reportMedia([kind]);
}

async function toggleScreen() {
  if (state.screen) return stopScreen();
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (e) {
    if (e.name !== 'NotAllowedError') meeting.status(`Cannot share the screen: ${e.message}`);
    return;
  }
  try {
    const streamId = await state.conf.publish(stream, 'screen');
    state.screen = { stream, streamId };
    stream.getVideoTracks()[0].addEventListener('ended', () => stopScreen());
    const t = tile(streamId, 'Your screen', { local: true, kind: 'screen' });
    t.querySelector('video').srcObject = stream;
  } catch (e) {
    stream.getTracks().forEach((t) => t.stop());
    meeting.status(messageFor(e));
  }
  refreshControls();
  renderPeople();
}

async function stopScreen() {
  const s = state.screen;
  if (!s) return;
  state.screen = null;
  s.stream.getTracks().forEach((t) => t.stop());
  dropTile(s.streamId);
  refreshControls();
  if (state.conf) await state.conf.unpublish(s.streamId);
  renderPeople();
}

function wire(conf) {
  conf.addEventListener('participants', renderPeople);
  conf.addEventListener('play', ({ detail: d }) => {
    const t = tile(d.streamId, d.kind === 'mix' ? 'Everyone (mixed)' : nameOf(d.participantId), { kind: d.kind });
    if (d.participantId) t.dataset.participant = d.participantId;
    t.querySelector('video').srcObject = d.media;
    addLayerChoice(t, conf, d.streamId);
    renderPeople();
  });
  conf.addEventListener('unplay', ({ detail: d }) => dropTile(d.streamId));
  conf.addEventListener('unpublished', ({ detail: d }) => {
    if (state.screen && state.screen.streamId === d.streamId) stopScreen();
    if (d.streamId === state.cameraId) { state.cameraId = null; meeting.status('Your video stopped on the server.'); }
  });
  conf.addEventListener('error', ({ detail: d }) => meeting.status(messageFor(d.error)));
  conf.addEventListener('linkSlow', ({ detail: d }) => meeting.status(d.slow
    ? 'Your connection is weak: others may see and hear you badly.' : 'Your connection is fine again.'));
  conf.addEventListener('finished', ({ detail: d }) => {
    const why = {
      finished: state.finishing ? 'You ended the meeting for everyone.' : 'The host ended the meeting.',
      kicked: 'A host removed you from this meeting.',
    }[d.reason] || d.reason;
    close(why, d.reason !== 'kicked' && d.reason !== 'finished');
  });
}

// Joins (or rejoins) and publishes; throws the join error, leaving nothing behind.
async function connectConference() {
  const conf = new Conference(session.rpc);
  wire(conf);
  state.conf = conf;
  try {
    await conf.join(state.params);
  } catch (e) {
    conf.teardown();
    state.conf = null;
    throw e;
  }
  for (const x of extensions) x.attach && x.attach(meeting);
  $('m-room').textContent = conf.room.name;
  renderPeople();
  if (state.local) {
    try {
      state.cameraId = await conf.publish(state.local, 'camera');
    } catch (e) {
      meeting.status(`Your camera and microphone could not be sent: ${messageFor(e)}`);
    }
    reportMedia();
  }
  if (state.screen) {
    const old = state.screen;
    dropTile(old.streamId);
    try {
      old.streamId = await conf.publish(old.stream, 'screen');
      tile(old.streamId, 'Your screen', { local: true, kind: 'screen' }).querySelector('video').srcObject = old.stream;
    } catch (e) {
      state.screen = null;
      old.stream.getTracks().forEach((t) => t.stop());
    }
  }
}

export async function enterMeeting(params, { stream, camera, mic }) {
  state.params = params;
  state.local = stream;
  state.finishing = false;
  if (stream) {
    stream.getVideoTracks().forEach((t) => { t.enabled = camera; });
    stream.getAudioTracks().forEach((t) => { t.enabled = mic; });
  }
  await connectConference(); // throws to the join page on refusal
  history.replaceState(null, '', params.code ? `/?code=${encodeURIComponent(params.code)}` : `/?rd=${params.roomId}`);
  showView('view-meeting');
  $('grid').replaceChildren();
  const keep = [...state.tiles.entries()].filter(([k]) => state.screen && k === state.screen.streamId);
  state.tiles = new Map(keep);
  const me = tile('local', `${state.conf.me.name} (you)`, { local: true });
  me.querySelector('video').srcObject = stream && stream.getVideoTracks().length ? stream : null;
  for (const [sid, play] of state.conf.plays) {
    const t = tile(sid, play.kind === 'mix' ? 'Everyone (mixed)' : nameOf(play.participantId), { kind: play.kind });
    if (play.participantId) t.dataset.participant = play.participantId;
    t.querySelector('video').srcObject = play.media;
    addLayerChoice(t, state.conf, sid);
  }
  refreshControls();
  state.startedAt = Date.now();
  clearInterval(state.timer);
  state.timer = setInterval(() => { $('m-timer').textContent = clock((Date.now() - state.startedAt) / 1000); }, 1000);
  $('m-timer').textContent = '00:00';
  meeting.status('');
  // The timer counts from the start of the meeting where the server tells it.
  session.rpc.call('conference.info').then((info) => {
    if (typeof info.elapsed === 'number') state.startedAt = Date.now() - info.elapsed * 1000;
  }, () => {});
}

// Leaves the page's meeting state and shows why.
function close(reason, canRejoin = true) {
  state.peopleShown = null;
  for (const x of extensions) x.detach && x.detach();
  if (state.conf) state.conf.teardown();
  state.conf = null;
  clearInterval(state.timer);
  if (state.screen) { state.screen.stream.getTracks().forEach((t) => t.stop()); state.screen = null; }
  if (state.local) state.local.getTracks().forEach((t) => t.stop());
  state.local = null;
  for (const k of [...state.tiles.keys()]) dropTile(k);
  $('ended-reason').textContent = reason;
  $('rejoin').hidden = !canRejoin;
  showView('view-ended');
}

async function leave() {
  const conf = state.conf;
  if (!conf) return;
  state.conf = null;
  await conf.leave();
  state.conf = conf; // close() tears it down
  close('You left the meeting.');
}

async function finish() {
  if (!state.conf || !confirm('End the meeting for everyone?')) return;
  state.finishing = true;
  try {
    await state.conf.finish(); // meetingFinished arrives first and closes the page
  } catch (e) {
    state.finishing = false;
    meeting.status(messageFor(e));
  }
}

// After a lost connection: a new socket, the same sign-in, the same join, the same media.
async function reconnect() {
  if (state.reconnecting || !state.conf) return;
  state.reconnecting = true;
  for (const x of extensions) x.detach && x.detach();
  state.conf.teardown();
  for (const k of [...state.tiles.keys()]) if (k !== 'local' && !(state.screen && k === state.screen.streamId)) dropTile(k);
  let last = null;
  for (let i = 0; i < RECONNECT_DELAYS_S.length; i++) {
    for (let s = RECONNECT_DELAYS_S[i]; s > 0; s--) {
      meeting.status(`Connection lost. Reconnecting in ${s} s (attempt ${i + 1} of ${RECONNECT_DELAYS_S.length})…`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    meeting.status(`Connection lost. Reconnecting (attempt ${i + 1} of ${RECONNECT_DELAYS_S.length})…`);
    try {
      if (!session.rpc.open) await session.connect();
      await connectConference();
      state.reconnecting = false;
      meeting.status('Reconnected.');
      refreshControls();
      return;
    } catch (e) {
      last = e;
      if (e.code !== CONNECTION_LOST && e.code !== TIMED_OUT) break; // the server answered: no use retrying
    }
  }
  state.reconnecting = false;
  close(last && last.code !== CONNECTION_LOST && last.code !== TIMED_OUT
    ? messageFor(last) : 'The connection to the server was lost and could not be restored.');
}

function rejoinLink() {
  const p = state.params || {};
  const q = new URLSearchParams(p.code ? { code: p.code } : { rd: String(p.roomId) });
  if (p.displayName) q.set('name', p.displayName);
  return `/?${q}`;
}

export function initMeeting() {
  $('btn-mic').addEventListener('click', () => {
    const a = state.local && state.local.getAudioTracks()[0];
    if (a) setTrack('audio', !a.enabled);
  });
  $('btn-cam').addEventListener('click', () => {
    const v = state.local && state.local.getVideoTracks()[0];
    if (v) setTrack('video', !v.enabled);
  });
  $('btn-screen').addEventListener('click', toggleScreen);
  $('btn-people').addEventListener('click', () => {
    const side = $('m-side');
    side.hidden = !side.hidden;
    $('btn-people').setAttribute('aria-expanded', String(!side.hidden));
  });
  $('btn-leave').addEventListener('click', leave);
  $('btn-finish').addEventListener('click', finish);
  $('rejoin').addEventListener('click', () => { location.href = rejoinLink(); });
  session.rpc.onclose(() => { if (state.conf) reconnect(); });
  addEventListener('pagehide', () => { if (state.conf) session.rpc.close(); });
}

