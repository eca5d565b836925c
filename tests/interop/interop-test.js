// Mixed-room interop test: a Chromium page and an aiortc peer (tests/interop/aiortc_peer.py,
// Debian's python3-aiortc: an independent WebRTC stack) join one public SFU room; each
// publishes and plays the other's stream. Chromium must decode more than 30 frames of
// aiortc's video (getStats) and receive its audio; aiortc must decode more than 30 frames
// of Chromium's video (track.recv()) and some of its audio.
// Run through tests/interop/run-interop-test.sh (inside netns-run: loopback only).
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const { Checks, Daemon, launchChromium, openClientPage, waitFor, log, finish } = require('../browser/lib.js');

const MEDIA_TIMEOUT_MS = 20000;
const MIN_FRAMES = 30;
const PYTHON = process.env.PYTHON || '/usr/bin/python3'; // Debian's, where python3-aiortc lives

// Starts the aiortc peer; resolves events by name as its JSON lines arrive.
function startAiortc(daemon, roomId) {
  const proc = spawn(PYTHON, [path.join(__dirname, 'aiortc_peer.py'), '--url', daemon.wsUrl, '--room', String(roomId),
    '--min-frames', String(MIN_FRAMES), '--timeout', String(MEDIA_TIMEOUT_MS / 1000 + 5), '--hold', '40'],
  { stdio: ['pipe', 'pipe', 'pipe'] });
  const events = new Map();
  const waiters = new Map();
  const exit = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    let ev;
    try { ev = JSON.parse(line); } catch { console.log(`  [aiortc stdout] ${line}`); return; }
    if (ev.event !== 'progress' || ev.t < 3 || Math.round(ev.t) % 5 === 0) log(`aiortc: ${line}`);
    events.set(ev.event, ev);
    for (const w of waiters.get(ev.event) || []) w(ev);
    waiters.delete(ev.event);
    if (ev.event === 'result') { // the peer is done: nothing else will come
      for (const list of waiters.values()) for (const w of list) w(null);
      waiters.clear();
    }
  });
  readline.createInterface({ input: proc.stderr }).on('line', (line) => console.log(`  ${line}`));
  // The event `name` (its JSON object), or null when `ms` pass or the peer exits first.
  const next = (name, ms) => new Promise((resolve) => {
    if (events.has(name)) return resolve(events.get(name));
    let timer = null;
    const finish = (ev) => {
      if (timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
      resolve(ev);
    };
    timer = setTimeout(() => finish(null), ms);
    if (!waiters.has(name)) waiters.set(name, []);
    waiters.get(name).push(finish);
    exit.then(() => setTimeout(() => finish(events.get(name) || null), 100));
  });
  return { proc, next, exit, release: () => proc.stdin.end() };
}

async function main() {
  const checks = new Checks();
  let daemon = null;
  let browser = null;
  let peer = null;
  let ok = false;
  try {
    daemon = await Daemon.start({ name: 'atrium-interop' });
    const roomId = await daemon.createPublicRoom('interop-aiortc');
    log(`room ${roomId}`);

    browser = await launchChromium();
    const page = await openClientPage(browser.context, daemon, 'chromium');
    await page.evaluate(async ({ wsUrl, roomId }) => {
      window.me = new Atrium.Participant('chromium');
      await me.connect(wsUrl);
      await me.join(roomId);
    }, { wsUrl: daemon.wsUrl, roomId });
    const browserStream = await page.evaluate(() => me.publish('camera'));
    log(`chromium published ${browserStream}`);

    peer = startAiortc(daemon, roomId);
    const joined = await peer.next('joined', 15000);
    checks.check(joined && joined.others.includes('chromium'), 'aiortc joins and sees chromium',
      joined ? JSON.stringify(joined.others) : 'no join');
    const published = await peer.next('published', 15000);
    const early = published ? null : await peer.next('result', 1000);
    if (!checks.check(!!published, 'aiortc publishes',
      published ? published.streamId : `no stream${early && early.error ? `: ${early.error}` : ''}`))
      throw new Error('aiortc did not publish');
    log(`aiortc published ${published.streamId}, answer codecs ${published.answerCodecs.join(' ')}`);
    const playing = await peer.next('playing', 15000);
    checks.check(playing && playing.streamId === browserStream, 'aiortc plays chromium\'s stream',
      playing ? `${playing.playId}, answer codecs ${playing.answerCodecs.join(' ')}` : 'no play');

    const seen = await waitFor(() => page.evaluate(
      (sid) => me.seen('streamPublished', (p) => p.streamId === sid), published.streamId), 5000);
    checks.check(seen, `chromium is told that aiortc published ${published.streamId}`);
    const started = Date.now();
    const playId = await page.evaluate((sid) => me.play(sid), published.streamId);
    log(`chromium plays ${published.streamId} as ${playId}`);

    let firstFrame = null;
    const [stats, result] = await Promise.all([
      waitFor(async () => {
        const s = await page.evaluate((pid) => me.inbound(pid), playId);
        if (s.framesDecoded > 0 && firstFrame === null) firstFrame = Date.now() - started;
        s.done = s.framesDecoded > MIN_FRAMES && s.audioPackets > 0;
        return s;
      }, MEDIA_TIMEOUT_MS, 500),
      peer.next('result', MEDIA_TIMEOUT_MS + 10000),
    ]);
    checks.check(stats.framesDecoded > MIN_FRAMES,
      `chromium decodes aiortc's video (> ${MIN_FRAMES} frames in ${MEDIA_TIMEOUT_MS / 1000} s)`,
      `framesDecoded ${stats.framesDecoded}, ${stats.videoCodec} ${stats.frameWidth}x${stats.frameHeight}, ` +
      `first frame after ${firstFrame ?? '-'} ms, connection ${stats.state}`);
    checks.check(stats.audioPackets > 0, 'chromium receives aiortc\'s audio',
      `packetsReceived ${stats.audioPackets}, ${stats.audioCodec}`);
    const r = result || {};
    checks.check(r.videoFrames > MIN_FRAMES, `aiortc decodes chromium's video (> ${MIN_FRAMES} frames from track.recv())`,
      result ? `${r.videoFrames} frames ${r.videoSize}, first at ${r.firstVideoFrameAt} s, play ${r.play}` +
        (r.error ? `, error ${r.error}` : '') : 'no result from aiortc');
    checks.check(r.audioFrames > 0, 'aiortc decodes chromium\'s audio', `${r.audioFrames ?? 0} frames`);

    const out = await page.evaluate((sid) => me.outbound(sid), browserStream);
    log(`chromium sent ${out.framesEncoded} frames (${out.videoCodec}), ${out.audioPackets} audio packets; ` +
      `aiortc sent ${JSON.stringify(r.sentPackets || {})}`);
    peer.release();
    let timer;
    const e = await Promise.race([peer.exit, new Promise((res) => { timer = setTimeout(() => res(null), 10000); })]);
    clearTimeout(timer);
    checks.check(e && e.code === 0, 'aiortc peer exits cleanly', JSON.stringify(e));
    await page.evaluate(() => me.leave());
    ok = true;
  } catch (e) {
    checks.fail('test ran to the end', e.stack || String(e));
  } finally {
    if (peer && peer.proc.exitCode === null) peer.proc.kill('SIGKILL');
    await finish(checks, { browser, daemon, ok });
  }
}

main();
