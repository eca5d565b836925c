// One live conference seen from the browser: joins over the page's RpcClient, publishes
// local media and plays the others' streams, one RTCPeerConnection each (the client
// always offers, the server answers; docs/protocol.md, "WebRTC rules"). It knows nothing
// of the DOM: the meeting view listens to its events.
//   events: participants (the list changed), play {streamId, participantId, kind, media}
//           (streamId "mix", kind "mix" for an MCU room's mix),
//           unplay {streamId}, finished {reason}, notification {method, params}
const PC_CONFIG = { bundlePolicy: 'max-bundle', iceServers: [] };

export class Conference extends EventTarget {
  constructor(rpc) {
    super();
    this.rpc = rpc;
    this.me = null;
    this.room = null;
    this.participants = new Map(); // id -> {id, name, role, userId, streams: [{streamId, kind, tracks}], ...}
    this.peers = new Map(); // streamId or playId -> {pc, ready}
    this.held = new Map(); // id -> server candidates that came before the peer was ready
    this.plays = new Map(); // streamId -> {playId, pc, media}
    this.published = new Map(); // streamId -> {kind, pc, stream}
    this.unsubscribe = [];
  }

  emit(type, detail = {}) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  listen() {
    const on = (m, fn) => this.unsubscribe.push(this.rpc.on(m, fn));
    on('media.candidate', (p) => this.serverCandidate(p));
    on('participantJoined', ({ participant }) => {
      this.participants.set(participant.id, { ...participant, streams: participant.streams || [] });
      this.emit('participants');
    });
    on('participantLeft', ({ participantId }) => {
      const p = this.participants.get(participantId);
      if (p) for (const s of p.streams) this.stopPlay(s.streamId);
      this.participants.delete(participantId);
      this.emit('participants');
    });
    on('streamPublished', ({ streamId, participantId, kind, tracks, layers }) => {
      const p = this.participants.get(participantId);
      if (!p || participantId === this.me.id) return;
      if (!p.streams.some((s) => s.streamId === streamId)) p.streams.push({ streamId, kind, tracks, layers });
      this.emit('participants');
      if (this.mixed) return; // the mix carries it
      this.play(streamId, participantId, kind, tracks).catch((e) => this.emit('error', { error: e }));
    });
    on('streamUnpublished', ({ streamId, participantId }) => {
      const p = this.participants.get(participantId);
      if (p) p.streams = p.streams.filter((s) => s.streamId !== streamId);
      this.stopPlay(streamId, false);
      const mine = this.published.get(streamId);
      if (mine) { mine.pc.close(); this.published.delete(streamId); this.emit('unpublished', { streamId, kind: mine.kind }); }
      this.emit('participants');
    });
    on('media.failed', ({ id, reason }) => {
      for (const [streamId, play] of this.plays)
        if (play.playId === id) { this.stopPlay(streamId, false); this.emit('error', { error: new Error(`a video stopped: ${reason}`) }); }
    });
    on('linkSlow', ({ participantId, slow }) => {
      const p = this.me && this.me.id === participantId ? this.me : this.participants.get(participantId);
      if (p) { p.linkSlow = slow; this.emit('participants'); }
      if (p === this.me) this.emit('linkSlow', { slow });
    });
    on('meetingFinished', () => this.end('finished'));
    on('kicked', () => this.end('kicked'));
    on('participantUpdated', ({ participant }) => {
      const old = this.participants.get(participant.id) || (this.me && this.me.id === participant.id ? this.me : null);
      if (!old) return;
      Object.assign(old, participant, old === this.me ? {} : { streams: participant.streams || old.streams });
      this.emit('participants');
    });
  }

  // Enters the room: params as conference.join takes them. Plays every stream already there.
  async join(params) {
    this.listen();
    const r = await this.rpc.call('conference.join', params);
    this.me = { ...r.participant };
    this.room = r.room;
    this.meetingId = r.meetingId ?? null;
    this.participants.clear();
    for (const p of r.participants) this.participants.set(p.id, { ...p, streams: p.streams || [] });
    this.emit('participants');
    // An MCU room sends one mixed stream (everyone's video, everyone's audio but ours);
    // a server that does not mix answers notFound, and the room is played stream by stream.
    // The mix may answer only once media flows into it, so nothing waits for it here.
    this.mixed = this.room.mode === 'mcu';
    if (this.mixed) {
      this.play('mix', null, 'mix', ['audio', 'video']).catch((e) => {
        if (e.code !== -32003) { this.emit('error', { error: e }); return; }
        this.mixed = false;
        this.playEveryone();
      });
    } else {
      this.playEveryone();
    }
    return r;
  }

  playEveryone() {
    for (const p of this.participants.values())
      for (const s of p.streams)
        this.play(s.streamId, p.id, s.kind, s.tracks).catch((e) => this.emit('error', { error: e }));
  }

  serverCandidate({ id, candidate, sdpMLineIndex }) {
    if (!candidate) return;
    const peer = this.peers.get(id);
    if (peer && peer.ready) {
      peer.pc.addIceCandidate({ candidate, sdpMLineIndex }).catch(() => {});
    } else {
      if (!this.held.has(id)) this.held.set(id, []);
      this.held.get(id).push({ candidate, sdpMLineIndex });
    }
  }

  // Offers on `pc` with `method`; returns the result of the call (streamId or playId inside).
  async negotiate(pc, method, params, idKey) {
    let id = null;
    const early = [];
    pc.onicecandidate = ({ candidate: c }) => {
      if (!c || !c.candidate) return;
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
    for (const c of this.held.get(id) || []) await pc.addIceCandidate(c).catch(() => {});
    this.held.delete(id);
    for (const c of early) this.rpc.notify('media.candidate', { id, ...c });
    return result;
  }

  // Publishes the tracks of `stream` (kind "camera" or "screen"); returns the streamId.
  // A camera in an SFU room goes as three simulcast encodings (a quarter, half and full
  // size), so that each viewer can get the size it can take (setLayer).
  async publish(stream, kind = 'camera') {
    const pc = new RTCPeerConnection(PC_CONFIG);
    const simulcast = kind === 'camera' && this.room && this.room.mode !== 'mcu';
    for (const track of stream.getTracks()) {
      const init = { direction: 'sendonly', streams: [stream] };
      if (simulcast && track.kind === 'video')
        init.sendEncodings = [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' }];
      pc.addTransceiver(track, init);
    }
    try {
      const { streamId } = await this.negotiate(pc, 'media.publish', { kind }, 'streamId');
      this.published.set(streamId, { kind, pc, stream });
      return streamId;
    } catch (e) {
      pc.close();
      throw e;
    }
  }

  async unpublish(streamId) {
    const mine = this.published.get(streamId);
    if (!mine) return;
    this.published.delete(streamId);
    this.peers.delete(streamId);
    mine.pc.close();
    await this.rpc.call('media.unpublish', { streamId }).catch(() => {});
  }

  // Plays one stream of another participant (or "mix"); the media arrives in a MediaStream.
  async play(streamId, participantId, kind = 'camera', tracks = ['audio', 'video']) {
    if (this.plays.has(streamId)) return this.plays.get(streamId);
    const pc = new RTCPeerConnection(PC_CONFIG);
    const media = new MediaStream();
    pc.ontrack = (ev) => media.addTrack(ev.track);
    for (const t of tracks.length ? tracks : ['audio', 'video']) pc.addTransceiver(t, { direction: 'recvonly' });
    const play = { playId: null, pc, media, participantId, kind };
    this.plays.set(streamId, play);
    try {
      const { playId } = await this.negotiate(pc, 'media.play', { streamId }, 'playId');
      play.playId = playId;
    } catch (e) {
      pc.close();
      this.plays.delete(streamId);
      throw e;
    }
    if (!this.plays.has(streamId)) { pc.close(); return null; } // unpublished meanwhile
    this.emit('play', { streamId, participantId, kind, media });
    return play;
  }

  // The simulcast layers of a stream someone publishes (rids, smallest first), or [].
  layersOf(streamId) {
    for (const p of this.participants.values())
      for (const s of p.streams) if (s.streamId === streamId) return s.layers || [];
    return [];
  }

  // Which layer (0 smallest) the play of `streamId` gets; resolves to the layer set.
  async setLayer(streamId, layer) {
    const play = this.plays.get(streamId);
    if (!play || !play.playId) return null;
    const r = await this.rpc.call('media.setLayer', { playId: play.playId, layer });
    return r.layer;
  }

  stopPlay(streamId, tellServer = true) {
    const play = this.plays.get(streamId);
    if (!play) return;
    this.plays.delete(streamId);
    play.pc.close();
    if (play.playId) {
      this.peers.delete(play.playId);
      if (tellServer) this.rpc.call('media.stop', { playId: play.playId }).catch(() => {});
    }
    this.emit('unplay', { streamId });
  }

  // What the play of `streamId` has received so far (for the stats panel and tests).
  async inbound(streamId) {
    const play = this.plays.get(streamId);
    if (!play) return null;
    const out = { state: play.pc.connectionState, framesDecoded: 0, audioPackets: 0, frameWidth: 0, frameHeight: 0 };
    for (const s of (await play.pc.getStats()).values()) {
      if (s.type !== 'inbound-rtp') continue;
      if (s.kind === 'video') {
        out.framesDecoded += s.framesDecoded || 0;
        out.frameWidth = s.frameWidth || out.frameWidth;
        out.frameHeight = s.frameHeight || out.frameHeight;
      } else if (s.kind === 'audio') {
        out.audioPackets += s.packetsReceived || 0;
      }
    }
    return out;
  }

  // Closes every PeerConnection and forgets the conference (no call to the server).
  teardown() {
    for (const { pc } of this.plays.values()) pc.close();
    for (const { pc } of this.published.values()) pc.close();
    this.plays.clear();
    this.published.clear();
    this.peers.clear();
    this.held.clear();
    this.unsubscribe.forEach((off) => off());
    this.unsubscribe = [];
  }

  end(reason) {
    this.teardown();
    this.emit('finished', { reason });
  }

  async leave() {
    this.teardown();
    await this.rpc.call('conference.leave').catch(() => {});
  }

  async finish() {
    await this.rpc.call('conference.finish');
  }
}
