// Active speaker: the tile of the loudest remote participant gets the `speaking` class.
// Levels come from each play's receiver statistics (inbound-rtp audioLevel, 0..1), so
// it works with any server; it is an extension of the meeting page (meeting.js).
const POLL_MS = 600;
const THRESHOLD = 0.02; // quieter than this counts as silence

let timer = 0;

async function poll(meeting) {
  const conf = meeting.conference;
  if (!conf) return;
  let loudest = null;
  let best = THRESHOLD;
  for (const [streamId, play] of conf.plays) {
    if (play.kind !== 'camera') continue;
    let level = 0;
    try {
      for (const s of (await play.pc.getStats()).values())
        if (s.type === 'inbound-rtp' && s.kind === 'audio' && typeof s.audioLevel === 'number') level = Math.max(level, s.audioLevel);
    } catch { continue; }
    if (level > best) { best = level; loudest = streamId; }
  }
  for (const streamId of conf.plays.keys()) {
    const t = meeting.tile(streamId);
    if (t) t.classList.toggle('speaking', streamId === loudest);
  }
}

export const speaker = {
  attach(meeting) {
    clearInterval(timer);
    timer = setInterval(() => { poll(meeting).catch(() => {}); }, POLL_MS);
  },
  detach() {
    clearInterval(timer);
    timer = 0;
  },
};
