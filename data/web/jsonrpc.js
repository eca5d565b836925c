// JSON-RPC 2.0 over the WebSocket at /rpc. call() returns a promise per request and
// rejects with an RpcError (code, data) on an error reply; on() registers notification
// handlers; onclose() hears about a lost socket, so the page can reconnect.
const CALL_TIMEOUT_MS = 20000;

export class RpcError extends Error {
  constructor(method, { code, message, data }) {
    super(message);
    this.method = method;
    this.code = code;
    this.data = data || {};
  }
}

// Codes used by the page for failures that are not server replies.
export const CONNECTION_LOST = -1;
export const TIMED_OUT = -2;

export class RpcClient {
  constructor(url) {
    this.url = url;
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = new Map();
    this.closeHandlers = [];
    this.ws = null;
  }

  get open() { return this.ws !== null && this.ws.readyState === WebSocket.OPEN; }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      let opened = false;
      ws.onopen = () => { opened = true; this.ws = ws; resolve(); };
      ws.onerror = () => {
        if (!opened) reject(new RpcError('connect', { code: CONNECTION_LOST, message: `cannot reach ${this.url}` }));
      };
      ws.onclose = (ev) => {
        if (this.ws !== ws) return;
        this.ws = null;
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new RpcError(p.method, { code: CONNECTION_LOST, message: 'the connection to the server was lost' }));
        }
        this.pending.clear();
        if (opened) this.closeHandlers.forEach((fn) => fn(ev));
      };
      ws.onmessage = (ev) => {
        let msg;
        try { msg = JSON.parse(ev.data); } catch { return; }
        this.receive(msg);
      };
    });
  }

  close() {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
  }

  receive(msg) {
    if (Array.isArray(msg)) { msg.forEach((m) => this.receive(m)); return; }
    if (msg.method) {
      for (const fn of this.handlers.get(msg.method) || []) {
        try { fn(msg.params || {}); } catch (e) { console.error(`[atrium] ${msg.method} handler:`, e); }
      }
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error) p.reject(new RpcError(p.method, msg.error));
    else p.resolve(msg.result);
  }

  call(method, params = {}) {
    if (!this.open)
      return Promise.reject(new RpcError(method, { code: CONNECTION_LOST, message: 'not connected to the server' }));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcError(method, { code: TIMED_OUT, message: 'the server did not answer in time' }));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { method, resolve, reject, timer });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  // Several calls at once; resolves to [{result} or {error}] in their order.
  batch(calls) {
    if (!this.open) return Promise.reject(new RpcError('batch', { code: CONNECTION_LOST, message: 'not connected' }));
    return Promise.all(calls.map(([method, params]) => this.call(method, params)
      .then((result) => ({ result }), (error) => ({ error }))));
  }

  notify(method, params = {}) {
    if (this.open) this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  on(method, fn) {
    if (!this.handlers.has(method)) this.handlers.set(method, []);
    this.handlers.get(method).push(fn);
    return () => this.handlers.set(method, this.handlers.get(method).filter((f) => f !== fn));
  }

  onclose(fn) { this.closeHandlers.push(fn); }
}
