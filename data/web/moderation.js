// Meeting controls where the server has them (host.* and conference.raiseHand): hosts
// mute, turn off video, remove and promote others, and mute everyone; everyone raises a
// hand. The participant's own page follows what hosts do (its microphone or camera is
// switched off, and stays off while the host does not allow it back). An extension of
// the meeting page (meeting.js), enabled when session.has('moderation').
import { $, el } from './dom.js';
import { session } from './session.js';
import { messageFor } from './errors.js';

let meeting = null;
let offs = [];
const held = { audio: false, video: false }; // switched off by a host, not ours to turn on

const isHost = () => meeting && meeting.conference && meeting.conference.me.role === 'host';

function person(id) {
  const conf = meeting.conference;
  return conf.me.id === id ? conf.me : conf.participants.get(id);
}

async function call(method, params) {
  try {
    await session.rpc.call(method, params);
  } catch (e) {
    meeting.status(messageFor(e));
  }
}

function mine(id) { return meeting.conference && meeting.conference.me.id === id; }

function hold(kind, off, allowBack, text) {
  held[kind] = off && !allowBack;
  if (off) meeting.setTrack(kind, false, false);
  meeting.status(text);
  const button = $(kind === 'audio' ? 'btn-mic' : 'btn-cam');
  button.title = held[kind] ? 'A host has switched this off' : '';
  if (held[kind]) button.disabled = true;
  else if (meeting.local()) button.disabled = false;
}

function onMuted({ participantId, muted, allowUnmute }) {
  const p = person(participantId);
  if (p) p.muted = muted;
  if (mine(participantId) && !isHost())
    hold('audio', muted, allowUnmute, muted ? (allowUnmute ? 'A host muted you; you may unmute.' : 'A host muted you.') : 'A host let you speak again.');
  meeting.refresh();
}

function onMutedAll({ muted, allowUnmute }) {
  const conf = meeting.conference;
  for (const p of [conf.me, ...conf.participants.values()]) if (p.role !== 'host') p.muted = muted;
  if (!isHost()) hold('audio', muted, allowUnmute, muted ? 'A host muted everyone.' : 'A host unmuted everyone.');
  meeting.refresh();
  renderToolbar();
}

function onVideoDisabled({ participantId, disabled, allowEnable }) {
  const p = person(participantId);
  if (p) p.videoDisabled = disabled;
  if (mine(participantId))
    hold('video', disabled, allowEnable, disabled ? 'A host turned your video off.' : 'A host allowed your video again.');
  meeting.refresh();
}

function onHand({ participantId, raised }) {
  const p = person(participantId);
  if (p) p.handRaised = raised;
  meeting.refresh();
  renderToolbar();
}

function renderToolbar() {
  const conf = meeting && meeting.conference;
  if (!conf) return;
  const raised = Boolean(conf.me.handRaised);
  $('btn-hand').setAttribute('aria-pressed', String(raised));
  $('btn-hand').textContent = raised ? 'Lower hand' : 'Raise hand';
  $('btn-muteall').hidden = !isHost();
  const others = [...conf.participants.values()].filter((p) => p.role !== 'host');
  const allMuted = others.length > 0 && others.every((p) => p.muted);
  $('btn-muteall').textContent = allMuted ? 'Unmute all' : 'Mute all';
  $('btn-muteall').dataset.muted = String(allMuted);
}

export const moderation = {
  attach(m) {
    if (!session.has('moderation')) return;
    meeting = m;
    const rpc = session.rpc;
    offs = [rpc.on('muted', onMuted), rpc.on('mutedAll', onMutedAll), rpc.on('videoDisabled', onVideoDisabled),
      rpc.on('handRaised', onHand), rpc.on('participantUpdated', () => renderToolbar())];
    const me = m.conference.me;
    if (me.muted) hold('audio', true, false, '');
    if (me.videoDisabled) hold('video', true, false, '');
    renderToolbar();
  },

  detach() {
    offs.forEach((off) => off());
    offs = [];
    held.audio = held.video = false;
  },

  // Adds hand and host controls to one participant's entry in the list.
  decorate(li, p) {
    if (!meeting || !session.has('moderation')) return;
    if (p.handRaised) li.querySelector('.name').after(el('span', { class: 'tag hand', role: 'img', 'aria-label': 'hand raised' }, '✋'));
    if (!isHost() || mine(p.id)) return;
    const controls = el('span', { class: 'host-controls' },
      el('button', { type: 'button', 'aria-label': `${p.muted ? 'Unmute' : 'Mute'} ${p.name}`,
        onclick: () => call('host.mute', { participantId: p.id, muted: !p.muted, allowUnmute: true }) }, p.muted ? 'Unmute' : 'Mute'),
      el('button', { type: 'button', 'aria-label': `${p.videoDisabled ? 'Allow video of' : 'Turn off video of'} ${p.name}`,
        onclick: () => call('host.disableVideo', { participantId: p.id, disabled: !p.videoDisabled, allowEnable: true }) },
      p.videoDisabled ? 'Allow video' : 'Video off'),
      p.role !== 'host' ? el('button', { type: 'button', 'aria-label': `Make ${p.name} a host`,
        onclick: () => call('host.setHost', { participantId: p.id }) }, 'Make host') : null,
      el('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${p.name} from the meeting`,
        onclick: () => { if (confirm(`Remove ${p.name} from the meeting?`)) call('host.kick', { participantId: p.id }); } }, 'Remove'));
    li.append(controls);
  },

  init() {
    $('btn-hand').addEventListener('click', () => {
      const conf = meeting && meeting.conference;
      if (conf) call('conference.raiseHand', { raised: !conf.me.handRaised });
    });
    $('btn-muteall').addEventListener('click', () => {
      const muted = $('btn-muteall').dataset.muted !== 'true';
      call('host.muteAll', { muted, allowUnmute: true });
    });
  },
};
