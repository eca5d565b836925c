// Active speaker: the loudest participant's tile and list entry get the `speaking` class.
// Levels come from the server's `speaking` notifications where it sends them (MCU rooms:
// dBFS per participant), else from each play's receiver statistics (inbound-rtp
// audioLevel, 0..1). An extension of the meeting page (meeting.js).
import { session } from './session.js';

const POLL_MS = 600;
const THRESHOLD = 0.02; // receiver audioLevel below this counts as silence
const THRESHOLD_DB = -50; // server levels below this count as silence
const FRESH_MS = 1500; // server levels older than this are forgotten

let timer = 0;
let off = null;
const heard = new Map(); // participantId -> {level (dB), at}

// The loudest participant from the server's notifications, or undefined when it sends none.
function fromServer() {
  const now = Date.now();
  let loudest;
  let best = THRESHOLD_DB;
  let any = false;
  for (const [id, { level, at }] of heard) {
    if (now - at > FRESH_MS) continue;
    any = true;
    if (level > best) { best = level; loudest = id; }
  }
  return any ? loudest || null : undefined;
}

// The loudest participant from the plays' statistics (SFU).
async function fromStats(conf) {
  let loudest = null;
  let best = THRESHOLD;
  for (const play of conf.plays.values()) {
    if (play.kind !== 'camera') continue;
    let level = 0;
    try {
      for (const s of (await play.pc.getStats()).values())
        if (s.type === 'inbound-rtp' && s.kind === 'audio' && typeof s.audioLevel === 'number') level = Math.max(level, s.audioLevel);
    } catch { continue; }
    if (level > best) { best = level; loudest = play.participantId; }
  }
  return loudest;
}

async function poll(meeting) {
  const conf = meeting.conference;
  if (!conf) return;
  let who = fromServer();
  if (who === undefined) who = await fromStats(conf);
  for (const e of document.querySelectorAll('#grid .tile[data-participant], #m-people li[data-participant]'))
    e.classList.toggle('speaking', e.dataset.participant === who && (e.tagName === 'LI' || e.classList.contains('camera')));
}

export const speaker = {
  attach(meeting) {
    clearInterval(timer);
    heard.clear();
    off = session.rpc.on('speaking', ({ participantId, level }) => heard.set(participantId, { level, at: Date.now() }));
    timer = setInterval(() => { poll(meeting).catch(() => {}); }, POLL_MS);
  },
  detach() {
    clearInterval(timer);
    timer = 0;
    if (off) off();
    off = null;
  },
};
