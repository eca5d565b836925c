// Browser SFU test: two Chromium pages (two participants) join one public SFU room, each
// publishes the fake camera and microphone, each plays the other's stream; getStats()
// must show more than 30 decoded video frames and some audio packets on both sides.
// Run through tests/browser/run-sfu-test.sh (inside netns-run: loopback only).
'use strict';

const { Checks, Daemon, launchChromium, openClientPage, waitFor, log, finish } = require('./lib.js');

const MEDIA_TIMEOUT_MS = 20000;
const MIN_FRAMES = 30;

async function main() {
  const checks = new Checks();
  let daemon = null;
  let browser = null;
  let ok = false;
  try {
    daemon = await Daemon.start({ name: 'atrium-browser-sfu' });
    const roomId = await daemon.createPublicRoom('browser-sfu');
    log(`room ${roomId}`);

    browser = await launchChromium();
    const pages = {
      alice: await openClientPage(browser.context, daemon, 'alice'),
      bob: await openClientPage(browser.context, daemon, 'bob'),
    };
    const names = Object.keys(pages);
    for (const name of names) {
      const joined = await pages[name].evaluate(async ({ wsUrl, roomId, name }) => {
        window.me = new Atrium.Participant(name);
        await me.connect(wsUrl);
        const r = await me.join(roomId);
        return { id: r.participant.id, others: r.participants.map((p) => p.name) };
      }, { wsUrl: daemon.wsUrl, roomId, name });
      log(`${name} joined as ${joined.id}; already there: [${joined.others.join(', ')}]`);
      if (name === 'bob') checks.check(joined.others.includes('alice'), 'bob\'s join result lists alice');
    }

    const streams = {};
    for (const name of names) {
      streams[name] = await pages[name].evaluate(() => me.publish('camera'));
      log(`${name} published ${streams[name]}`);
    }
    checks.check(
      await pages.alice.evaluate(() => me.seen('participantJoined')), 'alice is told that bob joined');
    for (const [viewer, other] of [['alice', 'bob'], ['bob', 'alice']]) {
      const seen = await waitFor(() => pages[viewer].evaluate(
        (sid) => me.seen('streamPublished', (p) => p.streamId === sid), streams[other]), 5000);
      checks.check(seen, `${viewer} is told that ${other} published ${streams[other]}`);
    }

    const plays = {};
    const started = Date.now();
    for (const [viewer, other] of [['alice', 'bob'], ['bob', 'alice']]) {
      plays[viewer] = await pages[viewer].evaluate((sid) => me.play(sid), streams[other]);
      log(`${viewer} plays ${streams[other]} as ${plays[viewer]}`);
    }

    const firstFrame = {};
    const last = await waitFor(async () => {
      const s = {};
      for (const viewer of names) {
        s[viewer] = await pages[viewer].evaluate((pid) => me.inbound(pid), plays[viewer]);
        if (s[viewer].framesDecoded > 0 && !firstFrame[viewer]) firstFrame[viewer] = Date.now() - started;
      }
      s.done = names.every((v) => s[v].framesDecoded > MIN_FRAMES && s[v].audioPackets > 0);
      return s;
    }, MEDIA_TIMEOUT_MS, 500);
    const took = ((Date.now() - started) / 1000).toFixed(1);

    for (const [viewer, other] of [['alice', 'bob'], ['bob', 'alice']]) {
      const s = last[viewer];
      const detail = `framesDecoded ${s.framesDecoded}, ${s.videoCodec} ${s.frameWidth}x${s.frameHeight}, ` +
        `first frame after ${firstFrame[viewer] ?? '-'} ms, connection ${s.state}`;
      checks.check(s.framesDecoded > MIN_FRAMES, `${viewer} decodes ${other}'s video (> ${MIN_FRAMES} frames in ${MEDIA_TIMEOUT_MS / 1000} s)`, detail);
      checks.check(s.audioPackets > 0, `${viewer} receives ${other}'s audio`,
        `packetsReceived ${s.audioPackets}, ${s.audioCodec}`);
    }
    log(`media checks done after ${took} s`);
    for (const name of names) {
      const out = await pages[name].evaluate((sid) => me.outbound(sid), streams[name]);
      const dropped = await pages[name].evaluate(() => me.dropped);
      log(`${name} sent ${out.framesEncoded} frames (${out.videoCodec}), ${out.audioPackets} audio packets; ` +
        `non-loopback candidates dropped: local ${JSON.stringify(dropped.local)}, remote ${JSON.stringify(dropped.remote)}`);
    }

    for (const name of names) await pages[name].evaluate(() => me.leave());
    ok = true;
  } catch (e) {
    checks.fail('test ran to the end', e.stack || String(e));
  } finally {
    await finish(checks, { browser, daemon, ok });
  }
}

main();
