#!/usr/bin/python3
"""An aiortc participant of an atriumd SFU room, for the mixed-room interop test.

Joins the room over the JSON-RPC WebSocket, publishes a generated video track (VP8) and
an audio track (Opus), plays the first stream another participant publishes and counts
the frames aiortc decodes from it. Prints one JSON object per line on stdout:
  {"event": "joined", ...}, {"event": "published", "streamId": ...},
  {"event": "playing", "playId": ..., "streamId": ...}, {"event": "progress", ...},
  {"event": "result", "videoFrames": N, "audioFrames": N, ...}
and exits 0 once it has decoded more than --min-frames video frames and at least one audio
frame, 1 when --timeout passes first. Needs Debian's python3-aiortc (1.4) and
python3-websockets; run it with /usr/bin/python3. Only 127.0.0.1 is used for ICE.

aiortc offers one ICE/DTLS transport per m-line and BUNDLE-groups them, dropping all but
the first transport once the answer accepts the bundle. webrtcbin (max-bundle) wants every
bundled m-line to carry the same transport, so each offer is rewritten: every m-line gets
the first m-line's ice-ufrag, ice-pwd and fingerprint, and only the first keeps candidates.
"""

import argparse
import asyncio
import fractions
import json
import math
import sys
import time

import aioice.ice
import numpy
import websockets
from aiortc import (RTCConfiguration, RTCPeerConnection, RTCSessionDescription,
                    MediaStreamTrack)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame, VideoFrame

# aioice skips 127.0.0.1 when it lists host addresses; the test may use nothing else.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

START = time.monotonic()


def emit(event, **fields):
    fields = {"event": event, "t": round(time.monotonic() - START, 3), **fields}
    print(json.dumps(fields), flush=True)


def log(*args):
    print(f"[aiortc {time.monotonic() - START:6.2f}s]", *args, file=sys.stderr, flush=True)


class MovingVideo(MediaStreamTrack):
    """320x240 at 30 fps: a bright bar sweeping over a gradient (changes every frame)."""

    kind = "video"

    def __init__(self):
        super().__init__()
        self.count = 0
        self.start = None
        self.base = numpy.tile(numpy.arange(320, dtype=numpy.uint8) * 0.7, (240, 1)).astype(numpy.uint8)

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        pts = self.count
        self.count += 1
        wait = self.start + pts / 30 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        y = self.base.copy()
        x = (pts * 4) % 320
        y[:, x:x + 16] = 235
        u = numpy.full((120, 160), 128, dtype=numpy.uint8)
        v = numpy.full((120, 160), 90 + (pts % 60), dtype=numpy.uint8)
        frame = VideoFrame.from_ndarray(numpy.concatenate([y, u.reshape(60, 320), v.reshape(60, 320)]),
                                        format="yuv420p")
        frame.pts = pts * 3000
        frame.time_base = fractions.Fraction(1, 90000)
        return frame


class ToneAudio(MediaStreamTrack):
    """A 440 Hz tone, 20 ms frames of 48 kHz mono s16."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.samples = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        n = 960
        wait = self.start + self.samples / 48000 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (numpy.arange(n) + self.samples) / 48000
        pcm = (numpy.sin(2 * math.pi * 440 * t) * 8000).astype(numpy.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self.samples
        frame.time_base = fractions.Fraction(1, 48000)
        self.samples += n
        return frame


def unify_bundle(sdp):
    """Gives every m-line the first m-line's port, ICE credentials and DTLS fingerprint;
    keeps candidates on the first m-line only; adds a=group:BUNDLE when missing."""
    lines = sdp.replace("\r\n", "\n").strip("\n").split("\n")
    session, medias = [], []
    for line in lines:
        if line.startswith("m="):
            medias.append([line])
        elif medias:
            medias[-1].append(line)
        else:
            session.append(line)
    if not medias:
        return sdp
    shared = {}
    for line in session + medias[0]:
        for key in ("a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:"):
            if line.startswith(key):
                shared.setdefault(key, line)
    first_port = medias[0][0].split()[1]
    first_c = next((line for line in medias[0] if line.startswith("c=")), None)
    mids = []
    for i, media in enumerate(medias):
        out = []
        for line in media:
            if i > 0 and line.startswith("m="):  # same transport, same port
                fields = line.split(" ")
                fields[1] = first_port
                line = " ".join(fields)
            elif i > 0 and line.startswith("c=") and first_c:
                line = first_c
            key = next((k for k in shared if line.startswith(k)), None)
            if key:
                line = shared[key]
            elif i > 0 and (line.startswith("a=candidate:") or line.startswith("a=end-of-candidates")):
                continue
            if line.startswith("a=mid:"):
                mids.append(line[len("a=mid:"):])
            out.append(line)
        medias[i] = out
    if not any(line.startswith("a=group:BUNDLE") for line in session):
        session.append("a=group:BUNDLE " + " ".join(mids))
    return "\r\n".join(session + [line for m in medias for line in m]) + "\r\n"


class Client:
    def __init__(self, url, name):
        self.url = url
        self.name = name
        self.next_id = 1
        self.pending = {}
        self.peers = {}  # streamId/playId -> (pc, first mid, ready)
        self.held = {}  # id -> [(candidate, mline)] before the peer is ready
        self.published = asyncio.Queue()  # streamIds others publish
        self.participant_id = None

    async def connect(self):
        self.ws = await websockets.connect(self.url, max_size=None)
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        try:
            async for text in self.ws:
                msg = json.loads(text)
                for m in msg if isinstance(msg, list) else [msg]:
                    await self.receive(m)
        except websockets.ConnectionClosed:
            pass
        finally:
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("WebSocket closed"))

    async def receive(self, msg):
        method = msg.get("method")
        if method is None:
            fut = self.pending.pop(msg.get("id"), None)
            if fut and not fut.done():
                if "error" in msg:
                    fut.set_exception(RuntimeError(json.dumps(msg["error"])))
                else:
                    fut.set_result(msg.get("result"))
            return
        params = msg.get("params") or {}
        if method == "media.candidate":
            await self.server_candidate(params)
        elif method == "streamPublished":
            if params.get("participantId") != self.participant_id:
                await self.published.put(params["streamId"])

    async def call(self, method, params=None, timeout=15):
        rid = self.next_id
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}}))
        return await asyncio.wait_for(fut, timeout)

    async def notify(self, method, params):
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}))

    async def server_candidate(self, params):
        cand, mline = params.get("candidate") or "", params.get("sdpMLineIndex", 0)
        if not cand:
            return
        fields = cand.split()
        # candidate:F C PROTO PRIO ADDR PORT typ T: keep UDP on 127.0.0.1 only.
        if len(fields) < 8 or fields[2].lower() != "udp" or fields[4] != "127.0.0.1":
            log("dropping non-loopback server candidate", cand)
            return
        peer = self.peers.get(params["id"])
        if peer and peer[2]:
            await self.add_candidate(peer, cand)
        else:
            self.held.setdefault(params["id"], []).append((cand, mline))

    @staticmethod
    async def add_candidate(peer, cand):
        pc, mid, _ = peer
        c = candidate_from_sdp(cand.split(":", 1)[1])
        # Bundled: everything goes to the first m-line's transport.
        c.sdpMid, c.sdpMLineIndex = mid, 0
        await pc.addIceCandidate(c)

    async def negotiate(self, pc, method, params, id_key):
        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers here (no trickle)
        offer = unify_bundle(pc.localDescription.sdp)
        first_mid = pc.getTransceivers()[0].mid
        result = await self.call(method, {**params, "sdp": offer})
        pid = result[id_key]
        self.peers[pid] = (pc, first_mid, False)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=result["sdp"], type="answer"))
        self.peers[pid] = (pc, first_mid, True)
        for cand, _ in self.held.pop(pid, []):
            await self.add_candidate(self.peers[pid], cand)
        return pid, offer, result["sdp"]


def codecs_of(sdp):
    return [line.split(":", 1)[1] for line in sdp.splitlines() if line.startswith("a=rtpmap:")]


async def count_frames(track, counts, key):
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        counts[key] += 1
        if key == "videoFrames":
            counts["videoSize"] = f"{frame.width}x{frame.height}"
            if counts[key] == 1:
                counts["firstVideoFrameAt"] = round(time.monotonic() - START, 3)


async def session(args, client, pcs, tasks):
    """Join, publish, play; returns True once enough media came in."""
    await client.connect()
    joined = await client.call("conference.join", {"roomId": args.room, "displayName": args.name})
    client.participant_id = joined["participant"]["id"]
    emit("joined", participantId=client.participant_id,
         others=[p["name"] for p in joined["participants"]])
    # Streams that were there before we joined.
    for p in joined["participants"]:
        for s in p.get("streams", []):
            await client.published.put(s["streamId"])

    config = RTCConfiguration(iceServers=[])  # no STUN: nothing but loopback
    pub = RTCPeerConnection(config)
    pcs.append(pub)
    pub.addTransceiver(MovingVideo(), direction="sendonly")
    pub.addTransceiver(ToneAudio(), direction="sendonly")
    stream_id, offer, answer = await client.negotiate(pub, "media.publish", {"kind": "camera"}, "streamId")
    emit("published", streamId=stream_id, answerCodecs=codecs_of(answer))

    target = await asyncio.wait_for(client.published.get(), args.timeout)
    play = RTCPeerConnection(config)
    pcs.append(play)
    counts = {"videoFrames": 0, "audioFrames": 0, "videoSize": None, "firstVideoFrameAt": None}

    @play.on("track")
    def on_track(track):
        log("receiving", track.kind)
        key = "videoFrames" if track.kind == "video" else "audioFrames"
        tasks.append(asyncio.ensure_future(count_frames(track, counts, key)))

    play.addTransceiver("video", direction="recvonly")
    play.addTransceiver("audio", direction="recvonly")
    play_id, offer, answer = await client.negotiate(play, "media.play", {"streamId": target}, "playId")
    emit("playing", playId=play_id, streamId=target, answerCodecs=codecs_of(answer))

    deadline = time.monotonic() + args.timeout
    ok = False
    last = 0
    while time.monotonic() < deadline:
        if counts["videoFrames"] > args.min_frames and counts["audioFrames"] > 0:
            ok = True
            break
        if time.monotonic() - last > 1:
            last = time.monotonic()
            emit("progress", publish=pub.connectionState, play=play.connectionState, **counts)
        await asyncio.sleep(0.1)
    sent = {}
    for sender in pub.getSenders():
        for s in (await sender.getStats()).values():
            if s.type == "outbound-rtp":
                sent[s.kind] = s.packetsSent
    emit("result", ok=ok, publish=pub.connectionState, play=play.connectionState, sentPackets=sent, **counts)
    if args.hold > 0:
        # Keep publishing until told to stop (stdin closes) or --hold seconds pass.
        reader = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        try:
            await asyncio.wait_for(reader.read(), args.hold)
        except asyncio.TimeoutError:
            pass
    return ok


async def run(args):
    client = Client(args.url, args.name)
    pcs, tasks = [], []
    try:
        ok = await session(args, client, pcs, tasks)
    except Exception as e:  # noqa: BLE001 -- report any failure at once, as a result line
        emit("result", ok=False, error=f"{type(e).__name__}: {e}")
        ok = False
    for t in tasks:
        t.cancel()
    for pc in pcs:
        try:
            await asyncio.wait_for(pc.close(), 5)
        except Exception as e:  # noqa: BLE001
            log("close:", type(e).__name__, e)
    if getattr(client, "ws", None):
        try:
            await client.call("conference.leave", timeout=5)
        except Exception:  # noqa: BLE001 -- leaving is best effort
            pass
        await client.ws.close()
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="ws://127.0.0.1:PORT/rpc")
    ap.add_argument("--room", type=int, required=True)
    ap.add_argument("--name", default="aiortc")
    ap.add_argument("--min-frames", type=int, default=30)
    ap.add_argument("--timeout", type=float, default=20, help="seconds to wait for media")
    ap.add_argument("--hold", type=float, default=0,
                    help="after the result, keep publishing until stdin closes or this many seconds pass")
    args = ap.parse_args()
    sys.exit(0 if asyncio.run(run(args)) else 1)


if __name__ == "__main__":
    main()
