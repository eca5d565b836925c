// A real WebRTC client on webrtcbin for Atrium's tests: it always offers (the server
// answers), publishes test sources or plays and decodes what it receives, and keeps ICE on
// 127.0.0.1 UDP. Owned by the test thread; every callback runs on the default GMainContext.
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace atrium::test {

class WebRtcClient {
public:
  enum class Role { Publisher, Player };
  struct Options {
    Role role = Role::Publisher;
    bool video = true, audio = true;
    int videoPt = 96, audioPt = 111;  // payload types the offer declares (Chromium style; aiortc uses 97/96)
    // The one video codec the offer declares: "VP8", or "H264" (constrained baseline,
    // packetization-mode 1; a publisher encodes it with x264enc).
    std::string videoCodec = "VP8";
    // Publisher test source: videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay (or x264enc);
    // audiotestsrc is-live=true ! opusenc ! rtpopuspay.
    int width = 320, height = 240, fps = 30;
    // Publisher: vp8enc keyframe-max-dist; 0 = encoder default (128 frames). A large value
    // (aiortc sends keyframes only on PLI or every 3000 frames) makes keyframe requests visible.
    int keyframeMaxDist = 0;
    // Publisher: videotestsrc pattern nick ("" = its default) and audiotestsrc tone (0 = its
    // default 440 Hz) and volume, so that a mix can be checked for each publisher.
    std::string pattern;
    double toneHz = 0;
    double volume = 0.8;
    // Publisher: simulcast, as browsers send it: one encoding per rid (smallest first,
    // each half the size of the next, the last at width x height), each its own SSRC with
    // the rtp-stream-id header extension, all on the one video m-line of the offer, which
    // gets a=rid and a=simulcast lines.
    std::vector<std::string> simulcastRids;
    // Publisher: sends the ssrc-audio-level header extension (RFC 6464) with the level of
    // the test tone, as browsers do.
    bool audioLevelExtension = false;
    // Publisher: a still image (JPEG, or PNG by its .png name; e.g. a face photo) as the
    // camera instead of videotestsrc, cropped by imageCrop pixels (left, top, right,
    // bottom) and scaled to width x height: filesrc ! jpegdec ! videocrop ! imagefreeze.
    std::string imageFile;
    int imageCrop[4] = {0, 0, 0, 0};
    // Publisher: a 16-bit PCM WAV file (espeak-ng -w writes one) sent instead of the test
    // tone, in a loop at its own pace: appsrc ! clocksync ! audioconvert ! audioresample !
    // opusenc. "" = audiotestsrc.
    std::string audioFile;
  };

  explicit WebRtcClient(Options o);
  ~WebRtcClient();  // sets the pipeline to NULL; call from the main (test) thread
  WebRtcClient(const WebRtcClient&) = delete;
  WebRtcClient& operator=(const WebRtcClient&) = delete;

  // Creates the offer (publisher: sendonly VP8/Opus transceivers with the sources linked;
  // player: recvonly VP8 and Opus transceivers with the given PTs), sets it as the local
  // description and returns its SDP text. Iterates the main context meanwhile (10 s
  // timeout); throws std::runtime_error on failure. Video is m-line 0 when enabled.
  std::string CreateOffer();
  // Sets the server's answer; throws std::runtime_error on failure. Then applies remote
  // candidates held so far and delivers local candidates held for onLocalCandidate.
  void SetAnswer(const std::string& sdp);
  // Ignored (and counted) unless it is a loopback UDP candidate; held until SetAnswer.
  void AddRemoteCandidate(int mline, const std::string& candidate);

  // Called on the main thread for each local candidate. Candidates gathered while it is
  // empty are held and delivered with the next one or by SetAnswer() (so it may be set
  // once the server's id for this connection is known).
  std::function<void(int mline, const std::string& candidate)> onLocalCandidate;

  // Player side: what came out of the decoders (atomics, any thread).
  uint64_t framesDecoded() const;
  uint64_t audioBuffersDecoded() const;
  gint64 firstFrameTime() const;  // g_get_monotonic_time() of the first decoded video frame, 0 if none
  gint64 lastFrameTime() const;
  uint64_t maxFrameGapUs() const;      // the largest gap between consecutive decoded video frames so far
  uint64_t keyframesReceived() const;  // video keyframes out of the depayloader
  // Player side: the level of the received audio (see ReceiveCounter).
  double audioLevelDb() const;
  uint64_t audibleAudioBuffers() const;
  // Publisher side: drops every Nth video RTP packet before it is sent (0: none), as a
  // lossy uplink would. Any thread.
  void SetVideoLoss(int everyNth);
  // Publisher side: the test tone's volume from now on (0 silent). Main thread.
  void SetVolume(double volume);
  // Publisher side: stops sending video encoding `index` (simulcast) or resumes it, as a
  // browser does when its uplink cannot carry a layer. Any thread.
  void SetLayerActive(size_t index, bool active);
  // Player side: asks the sender for a keyframe (PLI/FIR through webrtcbin's RTP session);
  // false when no video is being received yet. Main thread.
  bool RequestKeyframe();
  GstWebRTCPeerConnectionState connectionState() const;
  uint64_t droppedRemoteCandidates() const;
  GstElement* webrtcbin() const;
  // Player side: what was decoded (pixel sampling, tones); nullptr for publishers.
  const class ReceiveCounter* receiver() const;

  // Every local candidate gathered so far, in order (main thread).
  const std::vector<std::pair<int, std::string>>& localCandidates() const;
  // The last error posted on the pipeline's bus, empty if none (main thread).
  std::string lastError() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace atrium::test
