// Browser simulcast test: a Chromium page publishes its fake camera with three encodings
// (rids q, h, f), another plays it and picks each layer with media.setLayer; the decoded
// width must follow. Reports which layers Chromium sent and the server received.
// Run through tests/browser/run-simulcast-test.sh (inside netns-run: loopback only).
'use strict';

const { Checks, Daemon, launchChromium, openClientPage, waitFor, log, finish } = require('./lib.js');

async function main() {
  const checks = new Checks();
  let daemon = null;
  let browser = null;
  let ok = false;
  try {
    daemon = await Daemon.start({ name: 'atrium-browser-simulcast' });
    const roomId = await daemon.createPublicRoom('browser-simulcast');
    browser = await launchChromium();
    const pub = await openClientPage(browser.context, daemon, 'camera');
    const sub = await openClientPage(browser.context, daemon, 'viewer');
    for (const [page, name] of [[pub, 'camera'], [sub, 'viewer']])
      await page.evaluate(async ({ wsUrl, roomId, name }) => {
        window.me = new Atrium.Participant(name);
        await me.connect(wsUrl);
        await me.join(roomId);
      }, { wsUrl: daemon.wsUrl, roomId, name });

    const streamId = await pub.evaluate(() => me.publish('camera', { simulcast: true }));
    const published = await waitFor(() => sub.evaluate((sid) =>
      me.rpc.notifications.find((n) => n.method === 'streamPublished' && n.params.streamId === sid), streamId), 5000);
    checks.check(published && JSON.stringify(published.params.layers) === '["q","h","f"]',
      'the server answers the three rids and announces the layers smallest first',
      JSON.stringify(published && published.params.layers));

    const playId = await sub.evaluate((sid) => me.play(sid), streamId);
    // Which layers arrive at the server (conference.stats), once Chromium has ramped up.
    const layers = await waitFor(async () => {
      const stats = await pub.evaluate(() => me.rpc.call('conference.stats'));
      const s = stats.streams.find((x) => x.streamId === streamId);
      const l = s && s.layers ? s.layers : [];
      return l.filter((x) => x.active).length === 3 ? l : (l.length ? { partial: l } : null);
    }, 20000, 1000);
    const sentByChromium = await pub.evaluate(() => me.encodings());
    const seen = Array.isArray(layers) ? layers : (layers && layers.partial) || [];
    const active = seen.filter((x) => x.active).map((x) => x.rid);
    log(`Chromium sends ${JSON.stringify(sentByChromium)}`);
    log(`the server receives layers ${JSON.stringify(seen)}: ${active.length} active (${active.join(', ')})`);
    checks.check(seen.length === 3, 'the server has a layer for each of the three rids', JSON.stringify(seen));
    checks.check(active.length >= 1, 'at least one layer arrives', `${active.length} active`);

    // Each active layer, chosen by the viewer, is what it decodes.
    const expected = { q: 320, h: 640, f: 1280 };
    for (const [i, rid] of ['q', 'h', 'f'].entries()) {
      if (!active.includes(rid)) {
        log(`layer ${i} (${rid}) is not sent by Chromium here: not checked`);
        continue;
      }
      const set = await sub.evaluate(({ playId, i }) => me.rpc.call('media.setLayer', { playId, layer: i }), { playId, i });
      const s = await waitFor(async () => {
        const v = await sub.evaluate((pid) => me.inbound(pid), playId);
        return v && v.frameWidth === expected[rid] && v.framesDecoded > 10 ? v : null;
      }, 15000, 500);
      const now = await sub.evaluate((pid) => me.inbound(pid), playId);
      checks.check(Boolean(s), `layer ${i} (${rid}) chosen: the viewer decodes ${expected[rid]} wide`,
        `set ${JSON.stringify(set)}, decoding ${now.frameWidth}x${now.frameHeight}, ${now.framesDecoded} frames`);
    }
    for (const page of [pub, sub]) await page.evaluate(() => me.leave());
    ok = true;
  } catch (e) {
    checks.fail('test ran to the end', e.stack || String(e));
  } finally {
    await finish(checks, { browser, daemon, ok });
  }
}

main();
