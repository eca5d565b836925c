// Node side of the browser tests: starts atriumd on 127.0.0.1 with a temporary data
// directory, talks JSON-RPC over POST /rpc, launches Debian's Chromium through
// playwright-core and records pass/fail checks. Used by tests/browser/sfu-test.js and
// tests/interop/interop-test.js; meant to run inside ../shared/tools/netns-run.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');
const ADMIN_PASSWORD = 'browser-test-admin-password';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const elapsed = () => ((Date.now() - t0) / 1000).toFixed(2) + 's';
const log = (...a) => console.log(`[${elapsed()}]`, ...a);

// ---- checks: every assertion prints one PASS/FAIL line; the runner counts them ----

class Checks {
  constructor() {
    this.passed = 0;
    this.failed = 0;
  }
  pass(name, detail = '') {
    this.passed++;
    console.log(`PASS: ${name}${detail ? ` (${detail})` : ''}`);
  }
  fail(name, detail = '') {
    this.failed++;
    console.log(`FAIL: ${name}${detail ? `: ${detail}` : ''}`);
  }
  check(ok, name, detail = '') {
    (ok ? this.pass : this.fail).call(this, name, detail);
    return ok;
  }
}

// ---- atriumd ----

class Daemon {
  // Starts atriumd ($ATRIUMD, else build/src/daemon/atriumd) and waits for "listening on".
  static async start({ name = 'atrium' } = {}) {
    const d = new Daemon();
    d.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
    d.logPath = path.join(d.dir, 'atriumd.log');
    const conf = path.join(d.dir, 'test.conf');
    // ICE pinned to loopback: in a lo-only namespace libnice gathers nothing by itself.
    fs.writeFileSync(conf, '[ice]\naddresses = 127.0.0.1\n');
    const bin = process.env.ATRIUMD || path.join(REPO, 'build', 'src', 'daemon', 'atriumd');
    if (!fs.existsSync(bin)) throw new Error(`atriumd not found at ${bin} (set ATRIUMD)`);
    const logFd = fs.openSync(d.logPath, 'w');
    const env = {
      ...process.env,
      ATRIUM_ADMIN_PASSWORD: ADMIN_PASSWORD,
      GST_DEBUG: process.env.ATRIUM_TEST_GST_DEBUG || 'atrium-media:5,webrtcbin:3',
      GST_DEBUG_NO_COLOR: '1',
    };
    d.proc = spawn(
      bin,
      ['--data-dir', path.join(d.dir, 'data'), '--listen', '127.0.0.1:0', '--config', conf,
        '--web-root', path.join(REPO, 'data', 'web')],
      { env, stdio: ['ignore', logFd, logFd] },
    );
    fs.closeSync(logFd);
    d.exit = new Promise((resolve) => d.proc.on('exit', (code, signal) => resolve({ code, signal })));
    d.exited = null;
    d.exit.then((e) => { d.exited = e; });
    const deadline = Date.now() + 20000;
    for (;;) {
      const text = fs.readFileSync(d.logPath, 'utf8');
      const m = text.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        d.url = m[1];
        d.wsUrl = d.url.replace(/^http/, 'ws') + '/rpc';
        break;
      }
      if (d.exited) throw new Error(`atriumd exited early (${JSON.stringify(d.exited)}):\n${text}`);
      if (Date.now() > deadline) throw new Error(`atriumd did not start in 20 s:\n${text}`);
      await sleep(50);
    }
    log(`atriumd ${bin} at ${d.url}, log ${d.logPath}`);
    return d;
  }

  // One JSON-RPC request over POST /rpc; throws on a JSON-RPC error.
  async call(method, params = {}, token) {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${this.url}/rpc`, {
      method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const body = await res.json();
    if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
    return body.result;
  }

  async createPublicRoom(name) {
    const { token } = await this.call('auth.login', { account: 'admin', password: ADMIN_PASSWORD });
    const { roomId } = await this.call('room.create', { name, mode: 'sfu', isPublic: true }, token);
    return roomId;
  }

  // SIGTERM, then SIGKILL after `ms`; returns the exit status.
  async stop(ms = 10000) {
    if (!this.exited) this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), ms);
    const e = await this.exit;
    clearTimeout(timer);
    return e;
  }

  logText() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  // Lines of the log that look like problems (GStreamer WARN/ERROR), for the report.
  problems() {
    return this.logText().split('\n').filter((l) => / (WARN|ERROR) /.test(l))
      .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l));
  }

  cleanup() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- Chromium ----

// Flags checked on this machine (docs: architecture.md, "Checked facts for tests").
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

async function launchChromium() {
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    throw new Error(`playwright-core is not installed: run npm ci --prefix tests/browser (${e.message})`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30000,
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

// A page on the daemon's origin with the in-page client (client.js) loaded as window.Atrium.
async function openClientPage(context, daemon, label) {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning' || m.text().startsWith('[atrium]'))
      console.log(`  [${label} console.${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => console.log(`  [${label} pageerror] ${e.message}`));
  // Any document from the daemon gives the origin (127.0.0.1: a secure context, and the
  // same address space, so Local Network Access checks pass); /healthz keeps the web
  // client's own scripts and connections out of the test. A page fulfilled by page.route
  // does not do: Chromium then blocks the WebSocket (ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS).
  await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204, body: '' }));
  await page.goto(`${daemon.url}/healthz`);
  await page.addScriptTag({ path: path.join(__dirname, 'client.js') });
  return page;
}

// Polls `fn` every `everyMs` until it returns a truthy value or `ms` pass; returns the last value.
async function waitFor(fn, ms, everyMs = 250) {
  const deadline = Date.now() + ms;
  let v;
  for (;;) {
    v = await fn();
    if (v && v.done !== false) return v;
    if (Date.now() > deadline) return v;
    await sleep(everyMs);
  }
}

// The end of every test: close the browser, stop the server (checking it exits cleanly),
// keep its log when something failed, print the pass/fail line and set the exit code.
async function finish(checks, { browser, daemon, ok }) {
  if (browser) await browser.close();
  if (daemon) {
    const e = await daemon.stop();
    checks.check(e.code === 0, 'atriumd stops cleanly on SIGTERM', JSON.stringify(e));
    const problems = daemon.problems();
    if (problems.length) log(`${problems.length} WARN/ERROR lines in the server log, first ones:\n  ` + problems.slice(0, 15).join('\n  '));
    if (checks.failed === 0 && ok && process.env.KEEP !== '1') daemon.cleanup();
    else log(`server log kept: ${daemon.logPath}`);
  }
  console.log(`node: ${checks.passed} passed, ${checks.failed} failed`);
  process.exitCode = checks.failed ? 1 : 0;
}

module.exports = { REPO, ADMIN_PASSWORD, Checks, Daemon, launchChromium, openClientPage, waitFor, sleep, log, elapsed, finish };
