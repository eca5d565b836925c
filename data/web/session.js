// The page's connection to atriumd and who it is signed in as. One WebSocket for the
// page; after a lost connection reconnect() opens a new one and signs in again with the
// stored token. Features the server offers are found by asking it (methodNotFound = no).
import { RpcClient } from './jsonrpc.js';
import { isMissingMethod } from './errors.js';

const TOKEN_KEY = 'atrium-token';
const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';

export const session = {
  rpc: new RpcClient(`${scheme}//${location.host}/rpc`),
  user: null,
  version: null,
  features: new Set(),

  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set token(t) { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); },

  async connect() {
    await this.rpc.connect();
    const { version } = await this.rpc.call('server.ping');
    this.version = version;
    await this.resume();
  },

  // Signs the connection in again with the stored token; forgets a token that no longer works.
  async resume() {
    this.user = null;
    if (!this.token) return null;
    try {
      const { user } = await this.rpc.call('auth.resume', { token: this.token });
      this.user = user;
    } catch (e) {
      if (e.code === -32001) this.token = null;
      else throw e;
    }
    return this.user;
  },

  async login(account, password) {
    const { token, user } = await this.rpc.call('auth.login', { account, password });
    this.token = token;
    this.user = user;
    return user;
  },

  async logout() {
    await this.rpc.call('auth.logout').catch(() => {});
    this.token = null;
    this.user = null;
  },

  // Which optional methods this server has: each probe is answered -32601 when it lacks
  // the method. Probes carry no params, so a present method only refuses them.
  async probe(features) {
    const names = Object.keys(features);
    const replies = await Promise.all(names.map((n) => this.rpc.call(features[n], {}).then(
      () => true, (e) => !isMissingMethod(e))));
    names.forEach((n, i) => { if (replies[i]) this.features.add(n); else this.features.delete(n); });
    for (const e of document.querySelectorAll('[data-feature]')) e.hidden = !this.features.has(e.dataset.feature);
  },

  has(feature) { return this.features.has(feature); },
};
