// A JSON-RPC 2.0 client over the WebSocket at /rpc: call() returns a promise per
// request; notifications go to the handlers registered with on().
export class RpcClient {
  constructor(url) {
    this.url = url;
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = new Map();
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(this.url);
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error('cannot reach ' + this.url));
      this.ws.onclose = () => {
        for (const { reject: fail } of this.pending.values()) fail(new Error('connection closed'));
        this.pending.clear();
      };
      this.ws.onmessage = (ev) => this.receive(JSON.parse(ev.data));
    });
  }

  receive(msg) {
    if (msg.id !== undefined && this.pending.has(msg.id)) {
      const { resolve, reject } = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) reject(Object.assign(new Error(msg.error.message), msg.error));
      else resolve(msg.result);
    } else if (msg.method) {
      (this.handlers.get(msg.method) || []).forEach((fn) => fn(msg.params));
    }
  }

  call(method, params = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  on(method, fn) {
    if (!this.handlers.has(method)) this.handlers.set(method, []);
    this.handlers.get(method).push(fn);
  }
}
