// In-page test client for atriumd: a JSON-RPC WebSocket on /rpc and plain RTCPeerConnections.
// The client always offers: a publish is one sendonly PeerConnection, each play its own
// recvonly one (video + audio), bundle-policy max-bundle, candidates trickled both ways.
// Server candidates can arrive before the publish/play reply: they are held until the id
// is known and the remote description is set. Only UDP 127.0.0.1 candidates are used.
(() => {
  'use strict';
  const LOOPBACK_UDP = /^candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 \d+ typ /i;
  const CALL_TIMEOUT_MS = 15000;

  class Rpc {
    constructor(url) {
      this.url = url;
      this.nextId = 1;
      this.pending = new Map();
      this.listeners = [];
      this.notifications = [];
    }

    open() {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(this.url);
        this.ws = ws;
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error(`WebSocket ${this.url} failed`));
        ws.onclose = () => {
          for (const p of this.pending.values()) p.reject(new Error(`${p.method}: WebSocket closed`));
          this.pending.clear();
        };
        ws.onmessage = (ev) => this.receive(JSON.parse(ev.data));
      });
    }

    receive(msg) {
      if (Array.isArray(msg)) return msg.forEach((m) => this.receive(m));
      if (msg.method) {
        this.notifications.push({ method: msg.method, params: msg.params || {} });
        for (const l of this.listeners) l(msg.method, msg.params || {});
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(`${p.method}: ${JSON.stringify(msg.error)}`));
      else p.resolve(msg.result);
    }

    call(method, params = {}) {
      const id = this.nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`${method}: no reply in ${CALL_TIMEOUT_MS} ms`));
        }, CALL_TIMEOUT_MS);
        this.pending.set(id, { method, resolve, reject, timer });
        this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      });
    }

    notify(method, params = {}) {
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
    }
  }

  class Participant {
    constructor(name) {
      this.name = name;
      this.peers = new Map(); // streamId/playId -> { pc, ready }
      this.held = new Map(); // id -> server candidates that came before the peer was ready
      this.dropped = { local: [], remote: [] };
    }

    async connect(wsUrl) {
      this.rpc = new Rpc(wsUrl);
      await this.rpc.open();
      this.rpc.listeners.push((method, params) => {
        if (method === 'media.candidate') this.serverCandidate(params);
      });
    }

    async join(roomId) {
      const r = await this.rpc.call('conference.join', { roomId, displayName: this.name });
      this.id = r.participant.id;
      return r;
    }

    serverCandidate({ id, candidate, sdpMLineIndex }) {
      if (!candidate) return; // end of candidates
      if (!LOOPBACK_UDP.test(candidate)) {
        this.dropped.remote.push(candidate);
        return;
      }
      const peer = this.peers.get(id);
      if (peer && peer.ready) {
        peer.pc.addIceCandidate({ candidate, sdpMLineIndex }).catch((e) =>
          console.error(`[atrium] ${this.name}: addIceCandidate ${id}: ${e}`));
      } else {
        if (!this.held.has(id)) this.held.set(id, []);
        this.held.get(id).push({ candidate, sdpMLineIndex });
      }
    }

    // Offers on a new PeerConnection with `method`; returns [id, pc].
    async negotiate(pc, method, params, idKey) {
      let id = null;
      const early = [];
      pc.onicecandidate = ({ candidate: c }) => {
        if (!c || !c.candidate) return;
        if (!LOOPBACK_UDP.test(c.candidate)) {
          this.dropped.local.push(c.candidate);
          return;
        }
        const msg = { candidate: c.candidate, sdpMLineIndex: c.sdpMLineIndex ?? 0 };
        if (id === null) early.push(msg);
        else this.rpc.notify('media.candidate', { id, ...msg });
      };
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const result = await this.rpc.call(method, { ...params, sdp: offer.sdp });
      id = result[idKey];
      const peer = { pc, ready: false };
      this.peers.set(id, peer);
      await pc.setRemoteDescription({ type: 'answer', sdp: result.sdp });
      peer.ready = true;
      for (const c of this.held.get(id) || []) await pc.addIceCandidate(c);
      this.held.delete(id);
      for (const c of early) this.rpc.notify('media.candidate', { id, ...c });
      return id;
    }

    // `simulcast`: the camera as three encodings (rids q, h, f: a quarter, half and full
    // size of 1280x720), as a browser publishing to an SFU does.
    async publish(kind = 'camera', { simulcast = false } = {}) {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: simulcast ? { width: 1280, height: 720, frameRate: 30 } : { width: 640, height: 480, frameRate: 30 },
        audio: true,
      });
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers: [] });
      for (const track of this.stream.getTracks()) {
        const init = { direction: 'sendonly', streams: [this.stream] };
        if (simulcast && track.kind === 'video')
          init.sendEncodings = [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 },
            { rid: 'f' }];
        pc.addTransceiver(track, init);
      }
      this.publisherPc = pc;
      return this.negotiate(pc, 'media.publish', { kind }, 'streamId');
    }

    // Per simulcast encoding what the publishing PeerConnection sends: rid → {frameWidth, bytesSent}.
    async encodings() {
      const out = {};
      if (!this.publisherPc) return out;
      for (const s of (await this.publisherPc.getStats()).values())
        if (s.type === 'outbound-rtp' && s.kind === 'video')
          out[s.rid || '-'] = { frameWidth: s.frameWidth || 0, bytesSent: s.bytesSent || 0,
            active: s.active !== false, limitation: s.qualityLimitationReason || '' };
      return out;
    }

    async play(streamId) {
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers: [] });
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      return this.negotiate(pc, 'media.play', { streamId }, 'playId');
    }

    // What a play's PeerConnection has received so far.
    async inbound(playId) {
      const peer = this.peers.get(playId);
      if (!peer) return null;
      const report = await peer.pc.getStats();
      const out = {
        state: peer.pc.connectionState, ice: peer.pc.iceConnectionState,
        framesDecoded: 0, videoPackets: 0, audioPackets: 0, videoCodec: null, audioCodec: null,
        frameWidth: 0, frameHeight: 0,
      };
      for (const s of report.values()) {
        if (s.type !== 'inbound-rtp') continue;
        const codec = s.codecId && report.get(s.codecId);
        if (s.kind === 'video') {
          out.framesDecoded += s.framesDecoded || 0;
          out.videoPackets += s.packetsReceived || 0;
          out.frameWidth = s.frameWidth || out.frameWidth;
          out.frameHeight = s.frameHeight || out.frameHeight;
          if (codec) out.videoCodec = codec.mimeType;
        } else if (s.kind === 'audio') {
          out.audioPackets += s.packetsReceived || 0;
          if (codec) out.audioCodec = codec.mimeType;
        }
      }
      return out;
    }

    // What a publish's PeerConnection has sent so far.
    async outbound(streamId) {
      const peer = this.peers.get(streamId);
      if (!peer) return null;
      const report = await peer.pc.getStats();
      const out = { state: peer.pc.connectionState, framesEncoded: 0, audioPackets: 0, videoCodec: null };
      for (const s of report.values()) {
        if (s.type !== 'outbound-rtp') continue;
        if (s.kind === 'video') {
          out.framesEncoded += s.framesEncoded || 0;
          const codec = s.codecId && report.get(s.codecId);
          if (codec) out.videoCodec = codec.mimeType;
        } else if (s.kind === 'audio') {
          out.audioPackets += s.packetsSent || 0;
        }
      }
      return out;
    }

    seen(method, pred = () => true) {
      return this.rpc.notifications.some((n) => n.method === method && pred(n.params));
    }

    async leave() {
      for (const { pc } of this.peers.values()) pc.close();
      this.peers.clear();
      if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
      try { await this.rpc.call('conference.leave'); } catch (e) { /* already gone */ }
      this.rpc.ws.close();
    }
  }

  window.Atrium = { Rpc, Participant };
})();
