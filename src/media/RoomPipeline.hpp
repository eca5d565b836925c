// One live room's GStreamer pipeline in SFU mode: a webrtcbin per published stream whose
// RTP fans out through a tee per track, and a webrtcbin per subscription fed from those
// tees without decoding. Owned by the room's Conference; every method runs on the
// control thread, and webrtcbin's callbacks hop there before touching anything.
#pragma once

#include "media/Ice.hpp"
#include "media/Sdp.hpp"

#include <gst/gst.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace atrium::media {

class RoomPipeline {
public:
  class Listener {
  public:
    virtual ~Listener() = default;
    virtual void OnPeerCandidate(const std::string& peerId, unsigned mline, const std::string& candidate) = 0;
    // ICE or DTLS failed, or the peer's branch broke: the owner removes the peer.
    virtual void OnPeerFailed(const std::string& peerId, const std::string& reason) = 0;
    virtual void OnPeerConnected(const std::string& peerId) {}
    // A subscription's switch now forwards input `to` (a simulcast layer, or for a
    // switched play the index of its source); `reason` is "target", "fallback" (what was
    // chosen stopped arriving) or "restore" (it came back).
    virtual void OnPlaySwitched(const std::string& peerId, int to, const std::string& sourceId,
                                const std::string& reason) {}
  };
  // Exactly one of answer/error is non-empty.
  using AnswerDone = std::function<void(const std::string& answer, const std::string& error)>;

  RoomPipeline(const std::string& name, IceConfig ice, Listener& listener);
  ~RoomPipeline();
  RoomPipeline(const RoomPipeline&) = delete;
  RoomPipeline& operator=(const RoomPipeline&) = delete;

  // Answers a client's sendonly offer. Throws InvalidParams when the offer has nothing
  // Atrium can forward (VP8/H264 video, Opus audio); `done` runs later on the control thread.
  void Publish(const std::string& peerId, const std::string& sdp, AnswerDone done);
  // Answers a client's recvonly offer with the publisher's tracks, each with the payload
  // type the client's offer gave to that codec. Throws InvalidParams / AppError(NotFound).
  void Play(const std::string& peerId, const std::string& publisherId, const std::string& sdp, AnswerDone done);
  void AddRemoteCandidate(const std::string& peerId, unsigned mline, const std::string& candidate);
  // Asks the publisher for a keyframe on each video track (rate-limited per track).
  void RequestKeyframe(const std::string& publisherId);
  // Moderation: while a kind ("audio"/"video") is disabled, the publisher's buffers of
  // that kind are dropped before its tee, so no subscriber, recorder or mixer gets them.
  // Re-enabling video asks the publisher for a keyframe. Unknown ids are ignored.
  void SetTrackEnabled(const std::string& publisherId, const std::string& kind, bool enabled);
  // RTP statistics of one peer, per track, from webrtcbin's get-stats; `done` runs later
  // on the control thread, and not at all if the peer goes away first.
  struct TrackStats {
    std::string kind;                // audio, video
    bool inbound = false;            // publisher: received by the server; subscriber: sent
    uint64_t bytes = 0, packets = 0;  // received (publisher) or sent (subscriber)
    int64_t packetsLost = 0;         // cumulative, as the receiver reports it
    double fractionLost = -1;        // last receiver report (subscriber), -1 unknown
    double rtt = -1;                 // seconds, -1 unknown
  };
  using StatsDone = std::function<void(std::vector<TrackStats>)>;
  void GetStats(const std::string& peerId, StatsDone done);
  // Removes a peer; a publisher's subscribers go with it. Unknown ids are ignored.
  void Remove(const std::string& peerId);

  // ---- simulcast ----
  // The rids of a publisher's video layers, smallest first (empty: not simulcast).
  std::vector<std::string> VideoLayers(const std::string& publisherId) const;
  // Which layer a subscription should get (clamped to the layers there are); the switch
  // changes at that layer's next keyframe, and falls back by itself while it does not
  // arrive. Returns the layer set, or -1 when the play has no layers.
  int SetLayer(const std::string& playId, int layer);
  struct LayerStat {
    std::string rid;
    uint64_t packets = 0;  // received so far
    bool active = false;   // a packet in the last second
  };
  std::vector<LayerStat> LayerStats(const std::string& publisherId) const;

  // ---- filters ----
  // A single-encoding video track's tee before anything else (what a filter taps), or
  // nullptr (no video, or simulcast).
  GstElement* VideoInputTee(const std::string& publisherId, Codec* codec = nullptr) const;
  // Feeds every consumer of the publisher's video from `src` (a filter's output) from its
  // next keyframe on; returns the switch pad it is linked to (for DropVideoInput).
  GstPad* UseVideoInput(const std::string& publisherId, GstPad* src);
  // Back to the publisher's own video (at its next keyframe); unlinks `switchPad`.
  void DropVideoInput(const std::string& publisherId, GstPad* switchPad);

  // ---- switched plays (the voice-activated stream) ----
  // Answers a recvonly offer with one video track whose source is one of `sources`
  // (publishers), chosen with SelectSource; sources come and go with Add/RemoveSource.
  // A source whose video codec the offer does not take is left out.
  void PlaySwitched(const std::string& peerId, const std::vector<std::string>& sources, const std::string& sdp,
                    AnswerDone done);
  void AddSource(const std::string& peerId, const std::string& publisherId);
  void RemoveSource(const std::string& publisherId);  // from every switched play
  void SelectSource(const std::string& peerId, const std::string& publisherId);
  // The latest audio level of a publisher's audio track from its ssrc-audio-level header
  // extension, in dBov (0 loud .. -127 silent); nullopt when it does not send one.
  std::optional<double> AudioLevel(const std::string& publisherId) const;
  // The peer's local description (its answer) once webrtcbin's ICE gathering has completed,
  // or after `timeoutMs` with what was gathered until then: WHIP and WHEP clients that do
  // not trickle need the server's candidates in the answer. `done` runs exactly once, on
  // the control thread, with "" when the peer went away first.
  using Gathered = std::function<void(const std::string& localSdp)>;
  void WhenGathered(const std::string& peerId, guint timeoutMs, Gathered done);
  // Whether the peer's PeerConnection has been connected (ICE and DTLS up).
  bool IsConnected(const std::string& peerId) const;
  // EnableKeepaliveChecks (Ice.hpp) on the peer: once its client vanishes, the peer fails
  // (OnPeerFailed "ICE/DTLS failed") within about a minute. Unknown ids are ignored.
  void EnableKeepaliveChecks(const std::string& peerId);

  // Tells the listener that a peer failed (if it still exists).
  void ReportFailure(const std::string& peerId, const std::string& reason);

  // MCU: a source built inside the room (the mix) that plays like a published stream.
  // The tees stay the caller's; it removes the source (Remove) before them.
  struct LocalTrack {
    std::string kind;
    Codec codec;
    GstElement* tee = nullptr;
  };
  void AddLocalSource(const std::string& sourceId, const std::vector<LocalTrack>& tracks);
  // A publisher's track tee of this kind (and its codec), or nullptr.
  GstElement* TrackTee(const std::string& publisherId, const std::string& kind, Codec* codec = nullptr) const;

  bool Has(const std::string& peerId) const { return peers_.count(peerId) != 0; }
  std::vector<std::string> SubscribersOf(const std::string& publisherId) const;
  std::vector<std::string> TrackKinds(const std::string& publisherId) const;
  size_t peerCount() const { return peers_.size(); }

  // A publisher's track as seen by branches that hang off its tee (recording): attach
  // with a queue on a requested tee pad, detach before the publisher is removed.
  struct TrackTap {
    std::string kind;   // audio, video
    std::string codec;  // VP8, H264, OPUS
    GstElement* tee = nullptr;
  };
  std::vector<TrackTap> TrackTaps(const std::string& publisherId) const;
  // Errors posted by elements inside a bin named `binName` go to `onError` instead of
  // failing a peer; an empty function removes the route.
  void RouteErrors(const std::string& binName, std::function<void(const std::string& reason)> onError);
  GstElement* pipeline() const { return pipeline_; }
  // Element messages from the room's bus (the MCU mixer's levels), on the control thread.
  std::function<void(GstMessage*)> onElementMessage;

  // Keyframe requests closer together than this are dropped.
  static constexpr gint64 kKeyframeIntervalUs = 300 * 1000;

  struct Handle;
  struct Track;
  struct BranchInput;
  struct Branch;
  struct Peer;

private:
  std::shared_ptr<Handle> NewHandle(const std::string& peerId);
  GstElement* NewWebRtcBin(Peer& peer, const std::string& name);
  // `prefs`: a publisher's answer caps by m-line (owned; set again on the transceivers
  // once the offer is in).
  void Negotiate(Peer& peer, const std::string& sdp, AnswerDone done,
                 std::vector<std::pair<unsigned, GstCaps*>> prefs = {});
  // Taps `t` for branch `b` (a new fan-out group member), through the switch if it has one.
  void AttachInput(Branch& b, Track* t, const std::string& sourceId);
  void RequestSinks(Peer& peer);
  // An atriumrtpswitch for `b`, linked to its webrtcbin sink pad.
  void NewSwitch(Branch& b, const std::string& name, int target);
  void DetachInput(Branch& b, BranchInput& in);
  void OnSwitchMessage(GstMessage* msg);
  void OnBusError(GstMessage* msg);
  void Destroy(Peer& peer);
  static gboolean OnBusMessage(GstBus*, GstMessage* msg, gpointer self);

  std::string name_;
  IceConfig ice_;
  Listener& listener_;
  GstElement* pipeline_ = nullptr;
  guint busWatch_ = 0;
  std::map<std::string, std::unique_ptr<Peer>> peers_;
  std::map<std::string, std::function<void(const std::string&)>> errorRoutes_;
};

}  // namespace atrium::media
