// Browser WHIP/WHEP test: a Chromium page on atriumd's own origin publishes its fake camera
// and microphone with plain fetch('/whip/ROOM') (no WebSocket, no trickle: the offer waits
// for ICE gathering, the answer carries the server's candidates) and plays it back with
// fetch('/whep/ROOM/STREAM'); getStats() must show decoded frames. A second page, a
// WebSocket participant of the same room (client.js), sees the stream announced and plays it
// too. Then DELETE ends both sessions. Run through tests/browser/run-whip-test.sh (inside
// netns-run: loopback only).
'use strict';

const { Checks, Daemon, ADMIN_PASSWORD, launchChromium, openClientPage, waitFor, log, finish } = require('./lib.js');

const MEDIA_TIMEOUT_MS = 20000;
const MIN_FRAMES = 30;

async function main() {
  const checks = new Checks();
  let daemon = null;
  let browser = null;
  let ok = false;
  try {
    daemon = await Daemon.start({ name: 'atrium-browser-whip' });
    const { token } = await daemon.call('auth.login', { account: 'admin', password: ADMIN_PASSWORD });
    const { roomId } = await daemon.call('room.create', { name: 'browser-whip', mode: 'sfu', isPublic: true }, token);
    log(`room ${roomId}`);

    browser = await launchChromium();
    const watcher = await openClientPage(browser.context, daemon, 'watcher');
    await watcher.evaluate(async ({ wsUrl, roomId }) => {
      window.me = new Atrium.Participant('watcher');
      await me.connect(wsUrl);
      await me.join(roomId);
    }, { wsUrl: daemon.wsUrl, roomId });

    const page = await browser.context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.log(`  [whip console.${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.log(`  [whip pageerror] ${e.message}`));
    await page.goto(`${daemon.url}/healthz`);  // the daemon's origin: a same-origin fetch, no CORS needed

    const started = Date.now();
    const sessions = await page.evaluate(async ({ roomId, token }) => {
      const LOOPBACK_UDP = /^a=candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 \d+ typ /i;
      const loopbackOnly = (sdp) => sdp.split('\r\n')
        .filter((l) => !l.startsWith('a=candidate:') || LOOPBACK_UDP.test(l)).join('\r\n');
      const gathered = (pc) => new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') resolve();
        });
        setTimeout(resolve, 5000);
      });
      // WHIP/WHEP without trickle: offer with every candidate, one POST, the answer.
      async function post(url, pc) {
        await pc.setLocalDescription(await pc.createOffer());
        await gathered(pc);
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
          body: loopbackOnly(pc.localDescription.sdp),
        });
        const answer = await res.text();
        if (res.status !== 201) throw new Error(`POST ${url}: ${res.status} ${answer}`);
        await pc.setRemoteDescription({ type: 'answer', sdp: loopbackOnly(answer) });
        return {
          status: res.status,
          type: res.headers.get('Content-Type'),
          location: res.headers.get('Location'),
          etag: res.headers.get('ETag'),
          streamId: res.headers.get('Atrium-Stream-Id'),
          candidates: (answer.match(/^a=candidate:/gm) || []).length,
        };
      }
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
      const pub = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers: [] });
      for (const track of stream.getTracks()) pub.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      const whip = await post(`/whip/${roomId}`, pub);
      const sub = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers: [] });
      sub.addTransceiver('video', { direction: 'recvonly' });
      sub.addTransceiver('audio', { direction: 'recvonly' });
      const whep = await post(`/whep/${roomId}/${whip.streamId}`, sub);
      window.whip = { stream, pub, sub };
      return { whip, whep };
    }, { roomId, token });
    const { whip, whep } = sessions;
    log(`WHIP ${whip.location} (${whip.candidates} server candidates), WHEP ${whep.location}`);
    checks.check(whip.status === 201 && /^application\/sdp/.test(whip.type), 'WHIP POST answers 201 with application/sdp',
      `${whip.status} ${whip.type}`);
    checks.check(new RegExp(`^/whip/${roomId}/[0-9a-f]{32}$`).test(whip.location) && !!whip.etag,
      'WHIP answer has a Location and an ETag', `${whip.location} ${whip.etag}`);
    checks.check(whip.candidates > 0 && whep.candidates > 0, 'the answers carry the server\'s candidates',
      `WHIP ${whip.candidates}, WHEP ${whep.candidates}`);
    checks.check(new RegExp(`^/whep/${roomId}/${whip.streamId}/[0-9a-f]{32}$`).test(whep.location),
      'WHEP answer has a Location below the stream', whep.location);

    const seen = await waitFor(() => watcher.evaluate(
      (sid) => me.seen('streamPublished', (p) => p.streamId === sid), whip.streamId), 5000);
    checks.check(seen, 'a WebSocket participant is told of the WHIP stream', whip.streamId);
    const watcherPlay = await watcher.evaluate((sid) => me.play(sid), whip.streamId);

    let firstFrame = null;
    const last = await waitFor(async () => {
      const s = await page.evaluate(async () => {
        const out = { framesDecoded: 0, audioPackets: 0, state: whip.sub.connectionState, codec: null };
        const report = await whip.sub.getStats();
        for (const r of report.values()) {
          if (r.type !== 'inbound-rtp') continue;
          if (r.kind === 'video') {
            out.framesDecoded += r.framesDecoded || 0;
            const c = r.codecId && report.get(r.codecId);
            if (c) out.codec = c.mimeType;
          } else if (r.kind === 'audio') out.audioPackets += r.packetsReceived || 0;
        }
        return out;
      });
      if (s.framesDecoded > 0 && firstFrame === null) firstFrame = Date.now() - started;
      s.watcher = await watcher.evaluate((pid) => me.inbound(pid), watcherPlay);
      s.done = s.framesDecoded > MIN_FRAMES && s.audioPackets > 0 && s.watcher.framesDecoded > MIN_FRAMES;
      return s;
    }, MEDIA_TIMEOUT_MS, 250);
    checks.check(last.framesDecoded > MIN_FRAMES,
      `the page decodes its own camera through WHIP and WHEP (> ${MIN_FRAMES} frames in ${MEDIA_TIMEOUT_MS / 1000} s)`,
      `framesDecoded ${last.framesDecoded} (${last.codec}), first frame ${firstFrame ?? '-'} ms after the WHIP offer was made, connection ${last.state}`);
    checks.check(last.audioPackets > 0, 'the page receives its own audio through WHEP', `packetsReceived ${last.audioPackets}`);
    checks.check(last.watcher.framesDecoded > MIN_FRAMES, 'the WebSocket participant decodes the WHIP stream',
      `framesDecoded ${last.watcher.framesDecoded}`);

    const ends = await page.evaluate(async ({ token, whipAt, whepAt }) => {
      const del = async (url) => {
        const r = await fetch(url, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
        return { status: r.status, body: await r.text() };
      };
      const wrongType = await fetch(whipAt.replace(/\/[0-9a-f]{32}$/, ''), {
        method: 'POST', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${token}` }, body: 'v=0',
      });
      const out = { wrongType: { status: wrongType.status, body: await wrongType.json() } };
      out.whep = await del(whepAt);
      out.whip = await del(whipAt);
      out.again = await del(whipAt);
      whip.pub.close();
      whip.sub.close();
      whip.stream.getTracks().forEach((t) => t.stop());
      return out;
    }, { token, whipAt: whip.location, whepAt: whep.location });
    checks.check(ends.wrongType.status === 415 && ends.wrongType.body.error.code === -32602,
      'a POST that is not application/sdp gets 415 with a JSON-RPC error', JSON.stringify(ends.wrongType));
    checks.check(ends.whep.status === 200 && ends.whip.status === 200, 'DELETE ends both sessions',
      `WHEP ${ends.whep.status}, WHIP ${ends.whip.status}`);
    let again = null;
    try { again = JSON.parse(ends.again.body); } catch (e) { /* checked below */ }
    checks.check(ends.again.status === 404 && again && again.error.code === -32003, 'a second DELETE is 404',
      `${ends.again.status} ${ends.again.body.trim()}`);
    const unpublished = await waitFor(() => watcher.evaluate(
      (sid) => me.seen('streamUnpublished', (p) => p.streamId === sid), whip.streamId), 5000);
    checks.check(unpublished, 'the WebSocket participant is told that the WHIP stream ended');

    await watcher.evaluate(() => me.leave());
    ok = true;
  } catch (e) {
    checks.fail('test ran to the end', e.stack || String(e));
  } finally {
    await finish(checks, { browser, daemon, ok });
  }
}

main();
