#include "media/RoomPipeline.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"
#include "media/Negotiation.hpp"

#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <optional>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

// Lets webrtcbin's threads find their peer again on the control thread, and find out
// that it is gone: `alive` drops when the peer is removed.
struct RoomPipeline::Handle {
  RoomPipeline* room;
  std::string peerId;
  std::atomic<bool> alive{true};
  // The PeerConnection has been connected (ICE and DTLS up): a subscriber's webrtcbin
  // takes RTP without blocking from then on.
  std::atomic<bool> connected{false};
};

// A group of up to kSubscribersPerThread subscribers of one track, served by one thread:
// the track's tee feeds a leaky queue, whose thread pushes each packet into this group's
// tee and from there through every subscriber of the group (see ForwardProbe). One thread
// per group rather than per subscriber: a handoff between threads per packet costs more
// than sending it.
struct FanoutGroup {
  GstElement* queue = nullptr;
  GstElement* tee = nullptr;
  GstPad* trackPad = nullptr;  // the track tee's src pad that feeds the queue (owned)
  int members = 0;
  ~FanoutGroup() {
    if (trackPad) gst_object_unref(trackPad);
  }
};

struct RoomPipeline::Track {
  std::string name;  // "<peer>_<mline>", a layer's "<peer>_<mline>_<rid>": its elements' names
  unsigned mline = 0;
  std::string kind;
  Codec codec;
  GstElement* tee = nullptr;
  std::atomic<gint64> lastKeyframeRequest{0};
  std::atomic<bool> keyframeDeferred{false};  // a request came too soon: one is sent later
  std::atomic<bool> enabled{true};            // false: moderation drops its buffers
  std::shared_ptr<Handle> handle;             // the publisher's
  std::vector<std::unique_ptr<FanoutGroup>> groups;  // subscriber side
  unsigned groupSerial = 0;
  // Simulcast (a video track offered with several rids): a Track per layer, smallest
  // first, each with its own tee fed by the webrtcbin pad of that rid; the main track's
  // tee is fed by `layerSwitch`, which forwards the best layer that arrives, so that
  // everything that wants one stream (mixer, recorder, plain subscribers) gets it.
  std::vector<std::unique_ptr<Track>> layers;
  GstElement* layerSwitch = nullptr;
  int ridExt = -1;        // the rtp-stream-id header extension's id
  Track* main = nullptr;  // a layer's track (moderation is the main track's)
  std::string rid;        // a layer's rid
  std::atomic<bool> fed{false};  // a layer: a webrtcbin pad feeds its tee
  std::atomic<uint64_t> packets{0};  // a layer: packets received
  std::atomic<gint64> lastPacket{0};
  // A single-encoding video track: its pad feeds `inputTee`, whose branch 0 goes through
  // `inputSwitch` into `tee`; a filter's re-encoded copy is another input of the switch,
  // so that every consumer changes over to it in one continuous stream (Filters).
  GstElement* inputTee = nullptr;
  GstElement* inputSwitch = nullptr;
  int audioLevelExt = -1;        // audio: the ssrc-audio-level extension's id
  std::atomic<int> levelDbov{127};  // audio: the latest level from that extension, 127 = silence
  std::atomic<gint64> levelAt{0};   // ... and when it came (monotonic µs)
};

// What one forwarded track of a subscription taps: a src pad of a fan-out group's tee,
// through a probe that forwards on the group's thread (see ForwardProbe).
struct RoomPipeline::BranchInput {
  Track* track = nullptr;
  FanoutGroup* group = nullptr;
  GstPad* teePad = nullptr;  // on the group's tee
  GstPad* switchPad = nullptr;  // the switch's sink pad it feeds, if any
  std::string sourceId;         // switched plays: the publisher it comes from
};

// One forwarded track of a subscription, into the subscriber's webrtcbin: one input
// linked straight to it, or several (simulcast layers, or the speakers of a switched
// play) through an atriumrtpswitch that forwards one of them as one continuous stream.
struct RoomPipeline::Branch {
  Track* track = nullptr;  // the (main) track it plays; a switched play's: none
  std::string kind;
  unsigned mline = 0;
  int pt = 0;
  GstCaps* caps = nullptr;  // what the subscriber's webrtcbin is told
  std::vector<BranchInput> inputs;
  GstElement* sw = nullptr;
  GstPad* webrtcSink = nullptr;  // what the branch feeds (owned)
  std::shared_ptr<Handle> handle;
};

struct RoomPipeline::Peer {
  std::string id;
  bool publisher = false;
  bool local = false;  // AddLocalSource: no webrtcbin, tees owned elsewhere
  GstElement* webrtc = nullptr;
  std::shared_ptr<Handle> handle;
  std::vector<std::unique_ptr<Track>> tracks;      // publisher
  std::string publisherId;                         // subscriber
  std::vector<std::unique_ptr<Branch>> branches;   // subscriber
  bool switched = false;                           // a switched play (no one publisher)
};

namespace {

using Job = std::function<void(RoomPipeline&)>;

// Runs `job` on the control thread if the peer still exists then.
struct PostedJob {
  std::shared_ptr<RoomPipeline::Handle> h;
  Job job;

  static gboolean Run(gpointer p) {
    auto* posted = static_cast<PostedJob*>(p);
    if (posted->h->alive) {
      try {
        posted->job(*posted->h->room);
      } catch (const std::exception& e) {
        GST_ERROR("posted job failed [peer:%s what:%s]", posted->h->peerId.c_str(), e.what());
      }
    }
    return G_SOURCE_REMOVE;
  }
  static void Free(gpointer p) { delete static_cast<PostedJob*>(p); }
};

void Post(const std::shared_ptr<RoomPipeline::Handle>& h, Job job) {
  g_main_context_invoke_full(nullptr, G_PRIORITY_DEFAULT, PostedJob::Run, new PostedJob{h, std::move(job)},
                             PostedJob::Free);
}

// Like Post, after `delayMs`.
void PostLater(const std::shared_ptr<RoomPipeline::Handle>& h, guint delayMs, Job job) {
  g_timeout_add_full(G_PRIORITY_DEFAULT, delayMs, PostedJob::Run, new PostedJob{h, std::move(job)}, PostedJob::Free);
}

void FreeHandleRef(gpointer data, GClosure*) { delete static_cast<std::shared_ptr<RoomPipeline::Handle>*>(data); }

template <typename Fn>
void Connect(GstElement* e, const char* signal, Fn fn, const std::shared_ptr<RoomPipeline::Handle>& h) {
  g_signal_connect_data(e, signal, G_CALLBACK(fn), new std::shared_ptr<RoomPipeline::Handle>(h), FreeHandleRef,
                        GConnectFlags(0));
}

const std::shared_ptr<RoomPipeline::Handle>& HandleOf(gpointer data) {
  return *static_cast<std::shared_ptr<RoomPipeline::Handle>*>(data);
}

std::string PromiseError(GstPromise* promise) {
  // set-*-description reply with no structure on success.
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return "interrupted";
  const GstStructure* reply = gst_promise_get_reply(promise);
  if (!reply) return {};
  GError* err = nullptr;
  if (gst_structure_has_field(reply, "error")) {
    gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
    std::string msg = err ? err->message : "error";
    g_clear_error(&err);
    return msg;
  }
  return {};
}

// ---- subscriber branch: forwarding, error masking and payload-type rewriting ----

// What the probe on one tee src pad needs. The probe owns it (freed with the probe), so a
// push still running on the publisher's thread never sees it freed by Destroy.
struct Forward {
  int pt = 0;
  GstCaps* caps = nullptr;  // owned
  std::shared_ptr<RoomPipeline::Handle> handle;
  std::atomic<bool> failed{false};
  ~Forward() { gst_caps_unref(caps); }
  static void Free(gpointer p) { delete static_cast<Forward*>(p); }
};

void ForwardFailed(Forward* f, GstFlowReturn ret) {
  if (ret == GST_FLOW_FLUSHING || ret == GST_FLOW_NOT_LINKED) return;
  if (f->failed.exchange(true)) return;
  GST_WARNING("subscriber branch failed [peer:%s flow:%s]", f->handle->peerId.c_str(), gst_flow_get_name(ret));
  std::string reason = std::string("forwarding failed: ") + gst_flow_get_name(ret);
  // The branch stops forwarding; the owner removes the subscriber.
  Post(f->handle, [id = f->handle->peerId, reason](RoomPipeline& room) { room.ReportFailure(id, reason); });
}

bool RewritePt(GstBuffer** buffer, int pt) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(*buffer, GST_MAP_READ, &rtp)) return false;
  bool same = gst_rtp_buffer_get_payload_type(&rtp) == pt;
  gst_rtp_buffer_unmap(&rtp);
  if (same) return true;
  *buffer = gst_buffer_make_writable(*buffer);
  if (!gst_rtp_buffer_map(*buffer, GST_MAP_READWRITE, &rtp)) return false;
  gst_rtp_buffer_set_payload_type(&rtp, guint8(pt));
  gst_rtp_buffer_unmap(&rtp);
  return true;
}

// On a fan-out group's tee src pad that feeds one subscriber. The group's thread pushes
// each packet to every subscriber of the group in turn, with no queue and no thread per
// subscriber:
// - until the subscriber's PeerConnection is connected, its packets are dropped here
//   (webrtcbin blocks RTP until DTLS is up, which would stall the tee and with it every
//   other subscriber); the keyframe request sent when it connects gives it a clean start;
// - then the probe pushes the packet into the subscriber's webrtcbin itself and always
//   tells the tee GST_FLOW_OK, so that one subscriber's error or FLUSHING (while it is
//   being removed) never stops the tee or travels back into the publisher; a real error
//   is reported once and the subscriber is removed;
// - each packet gets the subscriber's payload type; the caps event becomes the branch's
//   caps; EOS is dropped (an EOS into one m-line of a BUNDLE can take the transport down
//   in 1.22); caps queries are answered here, so the subscriber's caps (with its payload
//   type) never reach the tee: the publisher's pad would refuse them, and other
//   subscribers number the codec differently.
GstPadProbeReturn ForwardProbe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* f = static_cast<Forward*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_QUERY_BOTH) {
    GstQuery* q = GST_PAD_PROBE_INFO_QUERY(info);
    if (GST_QUERY_TYPE(q) == GST_QUERY_CAPS) {
      GstCaps* any = gst_caps_new_empty_simple("application/x-rtp");
      gst_query_set_caps_result(q, any);
      gst_caps_unref(any);
      return GST_PAD_PROBE_HANDLED;
    }
    if (GST_QUERY_TYPE(q) == GST_QUERY_ACCEPT_CAPS) {
      gst_query_set_accept_caps_result(q, TRUE);
      return GST_PAD_PROBE_HANDLED;
    }
    return GST_PAD_PROBE_OK;
  }
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS) {
      gst_event_unref(ev);
      GST_PAD_PROBE_INFO_DATA(info) = gst_event_new_caps(f->caps);
    } else if (GST_EVENT_TYPE(ev) == GST_EVENT_EOS) {
      return GST_PAD_PROBE_DROP;
    }
    return GST_PAD_PROBE_OK;
  }
  // A buffer or a buffer list.
  if (!f->handle->connected.load(std::memory_order_acquire) || f->failed.load(std::memory_order_relaxed))
    return GST_PAD_PROBE_DROP;
  GstPad* peer = gst_pad_get_peer(pad);
  if (!peer) return GST_PAD_PROBE_DROP;
  GstFlowReturn ret = GST_FLOW_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!RewritePt(&buf, f->pt)) {
      gst_object_unref(peer);
      GST_PAD_PROBE_INFO_DATA(info) = buf;
      return GST_PAD_PROBE_DROP;
    }
    ret = gst_pad_chain(peer, buf);
  } else {
    GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) {
      GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
      if (gst_rtp_buffer_map(gst_buffer_list_get_writable(list, i), GST_MAP_READWRITE, &rtp)) {
        gst_rtp_buffer_set_payload_type(&rtp, guint8(f->pt));
        gst_rtp_buffer_unmap(&rtp);
      }
    }
    ret = gst_pad_chain_list(peer, list);
  }
  gst_object_unref(peer);
  if (ret != GST_FLOW_OK) ForwardFailed(f, ret);
  GST_PAD_PROBE_INFO_FLOW_RETURN(info) = GST_FLOW_OK;
  return GST_PAD_PROBE_HANDLED;
}

// On a track tee's src pad that feeds a fan-out group's queue: pushes into the queue
// itself and tells the tee GST_FLOW_OK, so that the queue's FLUSHING while the group is
// removed never stops the tee.
GstPadProbeReturn GroupFeedProbe(GstPad* pad, GstPadProbeInfo* info, gpointer) {
  GstPad* peer = gst_pad_get_peer(pad);
  if (!peer) return GST_PAD_PROBE_DROP;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    gst_pad_chain(peer, GST_PAD_PROBE_INFO_BUFFER(info));
  else
    gst_pad_chain_list(peer, GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  gst_object_unref(peer);
  GST_PAD_PROBE_INFO_FLOW_RETURN(info) = GST_FLOW_OK;
  return GST_PAD_PROBE_HANDLED;
}

constexpr int kSubscribersPerThread = 8;

// A place for one more subscriber of track `t`: a group with room, or a new one.
FanoutGroup* JoinGroup(RoomPipeline::Track& t, GstElement* pipeline) {
  for (auto& g : t.groups) {
    if (g->members < kSubscribersPerThread) {
      g->members++;
      return g.get();
    }
  }
  auto g = std::make_unique<FanoutGroup>();
  std::string base = "fanout_" + t.name + "_" + std::to_string(t.groupSerial++);
  g->queue = gst_element_factory_make("queue", (base + "_queue").c_str());
  // Leaky: a group that falls behind drops its own oldest packets, never holds up the track.
  g_object_set(g->queue, "leaky", 2, "max-size-buffers", 400, "max-size-bytes", 0, "max-size-time", guint64(0),
               nullptr);
  g->tee = gst_element_factory_make("tee", (base + "_tee").c_str());
  g_object_set(g->tee, "allow-not-linked", TRUE, nullptr);
  gst_bin_add_many(GST_BIN(pipeline), g->queue, g->tee, nullptr);
  gst_element_link(g->queue, g->tee);
  gst_element_sync_state_with_parent(g->tee);
  gst_element_sync_state_with_parent(g->queue);
  g->trackPad = gst_element_request_pad_simple(t.tee, "src_%u");
  gst_pad_add_probe(g->trackPad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    GroupFeedProbe, nullptr, nullptr);
  GstPad* qsink = gst_element_get_static_pad(g->queue, "sink");
  gst_pad_link(g->trackPad, qsink);
  gst_object_unref(qsink);
  g->members = 1;
  t.groups.push_back(std::move(g));
  return t.groups.back().get();
}

// A subscriber left group `g` of track `t`; the last one out removes the group.
void LeaveGroup(RoomPipeline::Track& t, FanoutGroup* g, GstElement* pipeline) {
  if (--g->members > 0) return;
  if (GstPad* qsink = gst_pad_get_peer(g->trackPad)) {
    gst_pad_unlink(g->trackPad, qsink);
    gst_object_unref(qsink);
  }
  gst_element_release_request_pad(t.tee, g->trackPad);
  gst_element_set_state(g->queue, GST_STATE_NULL);
  gst_element_set_state(g->tee, GST_STATE_NULL);
  gst_bin_remove_many(GST_BIN(pipeline), g->queue, g->tee, nullptr);
  std::erase_if(t.groups, [g](const auto& p) { return p.get() == g; });
}

// Rate-limits keyframe requests travelling up into a publisher, whoever sends them.
// Requests that come too soon are coalesced into one sent when the interval is over,
// so that subscribers arriving in a burst do not wait for the encoder's next keyframe.
GstPadProbeReturn KeyframeLimitProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* track = static_cast<RoomPipeline::Track*>(data);
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(ev)) return GST_PAD_PROBE_OK;
  gint64 now = g_get_monotonic_time();
  gint64 wait = track->lastKeyframeRequest.load() + RoomPipeline::kKeyframeIntervalUs - now;
  if (wait <= 0) {
    track->lastKeyframeRequest = now;
    return GST_PAD_PROBE_OK;
  }
  if (!track->keyframeDeferred.exchange(true)) {
    PostLater(track->handle, guint(wait / 1000 + 1), [track](RoomPipeline& room) {
      track->keyframeDeferred = false;
      room.RequestKeyframe(track->handle->peerId);
    });
  }
  return GST_PAD_PROBE_DROP;
}

// Moderation: a disabled track's buffers stop here, before the tee and everything on it.
GstPadProbeReturn TrackEnabledProbe(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* t = static_cast<RoomPipeline::Track*>(data);
  if (t->main) t = t->main;
  return t->enabled.load() ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

// The value of one-byte or two-byte header extension `id` of an RTP buffer, or "".
std::string ExtensionValue(GstBuffer* buf, int id) {
  if (id <= 0) return {};
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp)) return {};
  gpointer data = nullptr;
  guint size = 0;
  guint8 appbits = 0;
  std::string out;
  if ((id < 15 && gst_rtp_buffer_get_extension_onebyte_header(&rtp, guint8(id), 0, &data, &size)) ||
      gst_rtp_buffer_get_extension_twobytes_header(&rtp, &appbits, guint8(id), 0, &data, &size))
    out.assign(static_cast<const char*>(data), size);
  gst_rtp_buffer_unmap(&rtp);
  return out;
}

// RFC 6464: the audio level a client puts in each packet (V bit, then -dBov 0..127).
GstPadProbeReturn AudioLevelProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* t = static_cast<RoomPipeline::Track*>(data);
  GstBuffer* buf = (info->type & GST_PAD_PROBE_TYPE_BUFFER) ? GST_PAD_PROBE_INFO_BUFFER(info)
                   : gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info))
                       ? gst_buffer_list_get(GST_PAD_PROBE_INFO_BUFFER_LIST(info), 0)
                       : nullptr;
  if (!buf) return GST_PAD_PROBE_OK;
  std::string v = ExtensionValue(buf, t->audioLevelExt);
  if (!v.empty()) {
    t->levelDbov.store(int(guint8(v[0]) & 0x7f), std::memory_order_relaxed);
    t->levelAt.store(g_get_monotonic_time(), std::memory_order_relaxed);
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn LayerCountProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* t = static_cast<RoomPipeline::Track*>(data);
  guint n = (info->type & GST_PAD_PROBE_TYPE_BUFFER) ? 1 : gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  t->packets.fetch_add(n, std::memory_order_relaxed);
  t->lastPacket.store(g_get_monotonic_time(), std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

// Holds a simulcast track's new webrtcbin pad until its first packet tells its rid
// (rtp-stream-id header extension), then links it to that layer's tee. A packet without
// a known rid takes the first layer nobody feeds yet.
GstPadProbeReturn LayerPadProbe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* t = static_cast<RoomPipeline::Track*>(data);
  GstBuffer* buf = (info->type & GST_PAD_PROBE_TYPE_BUFFER) ? GST_PAD_PROBE_INFO_BUFFER(info)
                   : gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info))
                       ? gst_buffer_list_get(GST_PAD_PROBE_INFO_BUFFER_LIST(info), 0)
                       : nullptr;
  if (!buf) return GST_PAD_PROBE_OK;
  std::string rid = ExtensionValue(buf, t->ridExt);
  RoomPipeline::Track* layer = nullptr;
  for (auto& l : t->layers)
    if (l->rid == rid && !l->fed.load()) layer = l.get();
  for (auto& l : t->layers)
    if (!layer && !l->fed.load()) layer = l.get();
  if (!layer) {
    GST_INFO("simulcast pad without a free layer [track:%s rid:%s]", t->name.c_str(), rid.c_str());
    return GST_PAD_PROBE_DROP;  // stays blocked-free: every packet of it is dropped here
  }
  bool expected = false;
  if (!layer->fed.compare_exchange_strong(expected, true)) return GST_PAD_PROBE_DROP;
  GstPad* sink = gst_element_get_static_pad(layer->tee, "sink");
  GstPadLinkReturn r = gst_pad_link(pad, sink);
  gst_object_unref(sink);
  GST_INFO("simulcast layer linked [track:%s rid:%s got:%s result:%d]", t->name.c_str(), layer->rid.c_str(),
           rid.c_str(), int(r));
  return GST_PAD_PROBE_REMOVE;
}

}  // namespace

RoomPipeline::RoomPipeline(const std::string& name, IceConfig ice, Listener& listener)
    : name_(name), ice_(std::move(ice)), listener_(listener) {
  pipeline_ = gst_pipeline_new(("room-" + name).c_str());
  gst_object_ref_sink(pipeline_);
  GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline_));
  busWatch_ = gst_bus_add_watch(bus, OnBusMessage, this);
  gst_object_unref(bus);
  gst_element_set_state(pipeline_, GST_STATE_PLAYING);
  GST_INFO("room pipeline created [room:%s]", name_.c_str());
}

RoomPipeline::~RoomPipeline() {
  for (auto& [id, peer] : peers_) peer->handle->alive = false;
  if (busWatch_) g_source_remove(busWatch_);
  gst_element_set_state(pipeline_, GST_STATE_NULL);
  for (auto& [id, peer] : peers_)
    for (auto& b : peer->branches) {
      for (auto& in : b->inputs) {
        gst_object_unref(in.teePad);
        if (in.switchPad) gst_object_unref(in.switchPad);
      }
      if (b->webrtcSink) gst_object_unref(b->webrtcSink);
      gst_caps_unref(b->caps);
    }
  peers_.clear();
  gst_object_unref(pipeline_);
  GST_INFO("room pipeline destroyed [room:%s]", name_.c_str());
}

std::shared_ptr<RoomPipeline::Handle> RoomPipeline::NewHandle(const std::string& peerId) {
  auto h = std::make_shared<Handle>();
  h->room = this;
  h->peerId = peerId;
  return h;
}

GstElement* RoomPipeline::NewWebRtcBin(Peer& peer, const std::string& name) {
  GstElement* webrtc = gst_element_factory_make("webrtcbin", name.c_str());
  if (!webrtc) throw AppError(ErrorCode::Internal, "webrtcbin is not installed (gstreamer1.0-plugins-bad, gstreamer1.0-nice)");
  ConfigureIce(webrtc, ice_);
  peer.webrtc = webrtc;

  Connect(
      webrtc, "on-ice-candidate",
      +[](GstElement*, guint mline, gchar* candidate, gpointer data) {
        const auto& h = HandleOf(data);
        Post(h, [id = h->peerId, mline, c = std::string(candidate)](RoomPipeline& room) {
          room.listener_.OnPeerCandidate(id, mline, c);
          if (!room.ice_.publicAddress.empty()) {
            std::string pub = WithAddress(c, room.ice_.publicAddress);
            if (!pub.empty()) room.listener_.OnPeerCandidate(id, mline, pub);
          }
        });
      },
      peer.handle);
  Connect(
      webrtc, "notify::connection-state",
      +[](GstElement* e, GParamSpec*, gpointer data) {
        GstWebRTCPeerConnectionState state;
        g_object_get(e, "connection-state", &state, nullptr);
        const auto& h = HandleOf(data);
        GST_DEBUG("connection state [peer:%s state:%d]", h->peerId.c_str(), int(state));
        if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
          // Before the keyframe request below, so that the keyframe is forwarded.
          h->connected.store(true, std::memory_order_release);
          Post(h, [id = h->peerId](RoomPipeline& room) {
            auto it = room.peers_.find(id);
            if (it != room.peers_.end() && !it->second->publisher) room.RequestKeyframe(it->second->publisherId);
            room.listener_.OnPeerConnected(id);
          });
        } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
          Post(h, [id = h->peerId](RoomPipeline& room) { room.listener_.OnPeerFailed(id, "ICE/DTLS failed"); });
        }
      },
      peer.handle);
  return webrtc;
}

void RoomPipeline::Publish(const std::string& peerId, const std::string& sdp, AnswerDone done) {
  GST_LOG("publish offer [peer:%s sdp:%s]", peerId.c_str(), sdp.c_str());
  auto offer = ParseOffer(sdp);
  if (peers_.count(peerId)) throw AppError(ErrorCode::Conflict, "peer exists", {{"id", peerId}});
  auto peer = std::make_unique<Peer>();
  peer->id = peerId;
  peer->publisher = true;
  peer->handle = NewHandle(peerId);
  std::vector<std::pair<unsigned, GstCaps*>> prefs;  // answer caps by m-line (owned)
  for (const auto& m : offer) {
    if (m.rejected || (m.kind != "audio" && m.kind != "video")) continue;
    if (m.direction != "sendonly" && m.direction != "sendrecv") continue;
    auto codec = PreferredCodec(m);
    if (!codec) continue;
    auto t = std::make_unique<Track>();
    t->name = peerId + "_" + std::to_string(m.mline);
    t->mline = m.mline;
    t->kind = m.kind;
    t->codec = *codec;
    if (m.kind == "video" && m.sendRids.size() > 1 && m.ExtmapId(kExtRid) > 0) {
      t->ridExt = m.ExtmapId(kExtRid);
      for (const auto& rid : OrderLayers(m.sendRids)) {
        auto l = std::make_unique<Track>();
        l->name = t->name + "_" + rid;
        l->mline = m.mline;
        l->kind = m.kind;
        l->codec = *codec;
        l->rid = rid;
        l->main = t.get();
        t->layers.push_back(std::move(l));
      }
    }
    if (m.kind == "audio") t->audioLevelExt = m.ExtmapId(kExtAudioLevel);
    prefs.emplace_back(m.mline, PublishCaps(m, *codec));
    peer->tracks.push_back(std::move(t));
  }
  auto freePrefs = [&prefs] {
    for (auto& [m, c] : prefs) gst_caps_unref(c);
  };
  for (auto& t : peer->tracks)
    GST_DEBUG("publisher track [peer:%s mline:%u kind:%s codec:%s pt:%d]", peerId.c_str(), t->mline, t->kind.c_str(),
              t->codec.name.c_str(), t->codec.pt);
  if (peer->tracks.empty()) {
    freePrefs();
    throw InvalidParams("invalid parameter 'sdp': expected a sendonly offer with VP8/H264 video or Opus audio",
                        {{"param", "sdp"}, {"expected", "VP8/H264 video or Opus audio to send"}});
  }

  GstElement* webrtc = NewWebRtcBin(*peer, "pub_" + peerId);
  gst_bin_add(GST_BIN(pipeline_), webrtc);
  // Receiving transceivers before the offer, in its m-line order, with the answer's caps
  // as codec preferences: webrtcbin 1.22 writes their header extensions and rids into the
  // answer (those it makes for itself while answering carry none).
  for (auto& [mline, caps] : prefs) {
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_signal_emit_by_name(webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
    if (trans) gst_object_unref(trans);
  }
  auto newTee = [this](Track& t) {
    t.tee = gst_element_factory_make("tee", ("tee_" + t.name).c_str());
    g_object_set(t.tee, "allow-not-linked", TRUE, nullptr);
    gst_bin_add(GST_BIN(pipeline_), t.tee);
    gst_element_sync_state_with_parent(t.tee);
    GstPad* sink = gst_element_get_static_pad(t.tee, "sink");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, KeyframeLimitProbe, &t, nullptr);
    gst_pad_add_probe(sink, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      TrackEnabledProbe, &t, nullptr);
    if (t.audioLevelExt > 0)
      gst_pad_add_probe(sink, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                        AudioLevelProbe, &t, nullptr);
    if (t.main)
      gst_pad_add_probe(sink, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                        LayerCountProbe, &t, nullptr);
    gst_object_unref(sink);
  };
  for (auto& t : peer->tracks) {
    t->handle = peer->handle;
    newTee(*t);
    if (t->layers.empty() && t->kind == "video") {
      t->inputTee = gst_element_factory_make("tee", ("in_" + t->name).c_str());
      g_object_set(t->inputTee, "allow-not-linked", TRUE, nullptr);
      t->inputSwitch = gst_element_factory_make("atriumrtpswitch", ("swin_" + t->name).c_str());
      if (!t->inputSwitch) throw AppError(ErrorCode::Internal, "the atriumrtpswitch element is not registered");
      // Only a filter being applied or removed changes the input, never a timeout: a
      // filter for privacy must not fall back to the unfiltered picture.
      g_object_set(t->inputSwitch, "target", 0u, "timeout", guint64(24 * 3600 * 1000), nullptr);  // a day
      gst_bin_add_many(GST_BIN(pipeline_), t->inputTee, t->inputSwitch, nullptr);
      GstPad* out = gst_element_request_pad_simple(t->inputTee, "src_%u");
      GstPad* in = gst_element_request_pad_simple(t->inputSwitch, "sink_%u");
      gst_pad_link(out, in);
      gst_object_unref(out);
      gst_object_unref(in);
      gst_element_link(t->inputSwitch, t->tee);
      gst_element_sync_state_with_parent(t->inputSwitch);
      gst_element_sync_state_with_parent(t->inputTee);
    }
    if (t->layers.empty()) continue;
    // Layer tees → the track's switch (best layer arriving) → the track's tee.
    t->layerSwitch = gst_element_factory_make("atriumrtpswitch", ("swmain_" + t->name).c_str());
    if (!t->layerSwitch) throw AppError(ErrorCode::Internal, "the atriumrtpswitch element is not registered");
    g_object_set(t->layerSwitch, "target", guint(t->layers.size() - 1), nullptr);
    gst_bin_add(GST_BIN(pipeline_), t->layerSwitch);
    for (auto& l : t->layers) {
      l->handle = peer->handle;
      newTee(*l);
      GstPad* out = gst_element_request_pad_simple(l->tee, "src_%u");
      GstPad* in = gst_element_request_pad_simple(t->layerSwitch, "sink_%u");
      gst_pad_link(out, in);
      gst_object_unref(out);
      gst_object_unref(in);
    }
    gst_element_link(t->layerSwitch, t->tee);
    gst_element_sync_state_with_parent(t->layerSwitch);
  }
  // pad-added comes from a streaming thread, audio and video concurrently: it only reads
  // the tracks, which do not change after this point, and links the pad to its tee.
  g_signal_connect_data(
      webrtc, "pad-added",
      G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer data) {
        auto* p = static_cast<Peer*>(data);
        if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC || !p->handle->alive) return;
        GstWebRTCRTPTransceiver* trans = nullptr;
        g_object_get(pad, "transceiver", &trans, nullptr);
        guint mline = G_MAXUINT;
        if (trans) {
          g_object_get(trans, "mlineindex", &mline, nullptr);
          gst_object_unref(trans);
        }
        GstCaps* pc = gst_pad_get_current_caps(pad);
        if (!pc) pc = gst_pad_query_caps(pad, nullptr);
        gchar* cs = pc ? gst_caps_to_string(pc) : g_strdup("none");
        GST_DEBUG("publisher pad [peer:%s pad:%s mline:%u caps:%s]", p->id.c_str(), GST_PAD_NAME(pad), mline, cs);
        g_free(cs);
        // The kind the pad carries, from its payload type's caps: webrtcbin 1.22 gives
        // an SSRC it has no a=ssrc for (simulcast layers) the transceiver of the BUNDLE
        // transport's first m-line, whatever its kind.
        std::string media;
        if (pc && gst_caps_get_size(pc) > 0)
          if (const gchar* m = gst_structure_get_string(gst_caps_get_structure(pc, 0), "media")) media = m;
        if (pc) gst_caps_unref(pc);
        Track* track = nullptr;
        for (auto& t : p->tracks)
          if (t->mline == mline && (media.empty() || media == t->kind)) track = t.get();
        for (auto& t : p->tracks)
          if (!track && media == t->kind) track = t.get();
        for (auto& t : p->tracks) {
          if (t.get() != track) continue;
          if (!t->layers.empty()) {
            gst_pad_add_probe(pad,
                              GstPadProbeType(GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER |
                                              GST_PAD_PROBE_TYPE_BUFFER_LIST),
                              LayerPadProbe, t.get(), nullptr);
            GST_INFO("publisher simulcast pad [peer:%s mline:%u pad:%s]", p->id.c_str(), mline, GST_PAD_NAME(pad));
            return;
          }
          GstPad* sink = gst_element_get_static_pad(t->inputTee ? t->inputTee : t->tee, "sink");
          GstPadLinkReturn r = gst_pad_link(pad, sink);
          gst_object_unref(sink);
          GST_INFO("publisher track linked [peer:%s mline:%u kind:%s result:%d]", p->id.c_str(), mline,
                   t->kind.c_str(), int(r));
          return;
        }
        GST_INFO("publisher pad without a track [peer:%s mline:%u]", p->id.c_str(), mline);
        // Nothing consumes it: a fakesink keeps webrtcbin from seeing not-linked.
        GstElement* sink = gst_element_factory_make("fakesink", nullptr);
        g_object_set(sink, "async", FALSE, "sync", FALSE, nullptr);
        gst_bin_add(GST_BIN(p->handle->room->pipeline()), sink);
        gst_element_sync_state_with_parent(sink);
        GstPad* sp = gst_element_get_static_pad(sink, "sink");
        gst_pad_link(pad, sp);
        gst_object_unref(sp);
      }),
      peer.get(), nullptr, GConnectFlags(0));
  gst_element_sync_state_with_parent(webrtc);

  Peer& ref = *peer;
  peers_[peerId] = std::move(peer);
  Negotiate(ref, sdp, std::move(done), std::move(prefs));
}

void RoomPipeline::Play(const std::string& peerId, const std::string& publisherId, const std::string& sdp,
                        AnswerDone done) {
  auto offer = ParseOffer(sdp);
  auto pub = peers_.find(publisherId);
  if (pub == peers_.end() || !pub->second->publisher)
    throw AppError(ErrorCode::NotFound, "no such stream", {{"streamId", publisherId}});
  if (peers_.count(peerId)) throw AppError(ErrorCode::Conflict, "peer exists", {{"id", peerId}});
  auto peer = std::make_unique<Peer>();
  peer->id = peerId;
  peer->publisherId = publisherId;
  peer->handle = NewHandle(peerId);

  // Match each receiving m-line of the offer to an unused track of the same kind whose
  // codec the client offered, and remember the client's payload type for it.
  std::vector<bool> used(pub->second->tracks.size(), false);
  for (const auto& m : offer) {
    if (m.rejected || (m.direction != "recvonly" && m.direction != "sendrecv")) continue;
    for (size_t i = 0; i < used.size(); ++i) {
      Track* t = pub->second->tracks[i].get();
      if (used[i] || t->kind != m.kind) continue;
      auto codec = m.Find(t->codec.name);
      if (!codec) continue;
      used[i] = true;
      auto b = std::make_unique<Branch>();
      b->track = t;
      b->kind = t->kind;
      b->mline = m.mline;
      b->pt = codec->pt;
      Codec forwarded = t->codec;
      forwarded.fmtp = codec->fmtp.empty() ? t->codec.fmtp : codec->fmtp;
      b->caps = CodecCaps(t->kind, forwarded, codec->pt);
      b->handle = peer->handle;
      peer->branches.push_back(std::move(b));
      break;
    }
  }
  if (peer->branches.empty())
    throw InvalidParams("invalid parameter 'sdp': the offer receives none of the stream's tracks and codecs",
                        {{"param", "sdp"}, {"expected", "a recvonly offer matching the stream's codecs"}});

  GstElement* webrtc = NewWebRtcBin(*peer, "sub_" + peerId);
  gst_bin_add(GST_BIN(pipeline_), webrtc);
  RequestSinks(*peer);
  gst_element_sync_state_with_parent(webrtc);
  for (auto& b : peer->branches) {
    if (!b->track->layers.empty()) {
      // Simulcast: a switch per subscription picks the layer, the top one to begin with.
      NewSwitch(*b, "sw_" + peerId + "_" + std::to_string(b->mline), int(b->track->layers.size()) - 1);
      for (auto& l : b->track->layers) AttachInput(*b, l.get(), publisherId);
    } else {
      AttachInput(*b, b->track, publisherId);
    }
  }

  Peer& ref = *peer;
  peers_[peerId] = std::move(peer);
  Negotiate(ref, sdp, [this, publisherId, done = std::move(done)](const std::string& answer, const std::string& err) {
    if (err.empty()) RequestKeyframe(publisherId);
    done(answer, err);
  });
}

// Pads are asked for by m-line before the remote description: asking by caps picks the
// wrong transceiver in 1.22.0.
void RoomPipeline::RequestSinks(Peer& peer) {
  for (auto& b : peer.branches) {
    std::string padName = "sink_" + std::to_string(b->mline);
    GstPadTemplate* templ = gst_element_get_pad_template(peer.webrtc, "sink_%u");
    b->webrtcSink = gst_element_request_pad(peer.webrtc, templ, padName.c_str(), nullptr);
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(b->webrtcSink, "transceiver", &trans, nullptr);
    if (trans) {
      g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences", b->caps,
                   nullptr);
      gst_object_unref(trans);
    }
  }
}

void RoomPipeline::NewSwitch(Branch& b, const std::string& name, int target) {
  b.sw = gst_element_factory_make("atriumrtpswitch", name.c_str());
  if (!b.sw) throw AppError(ErrorCode::Internal, "the atriumrtpswitch element is not registered");
  g_object_set(b.sw, "target", guint(std::max(0, target)), nullptr);
  gst_bin_add(GST_BIN(pipeline_), b.sw);
  GstPad* out = gst_element_get_static_pad(b.sw, "src");
  gst_pad_link_full(out, b.webrtcSink, GST_PAD_LINK_CHECK_NOTHING);
  gst_object_unref(out);
  gst_element_sync_state_with_parent(b.sw);
}

void RoomPipeline::AttachInput(Branch& b, Track* t, const std::string& sourceId) {
  BranchInput in;
  in.track = t;
  in.sourceId = sourceId;
  in.group = JoinGroup(*t, pipeline_);
  in.teePad = gst_element_request_pad_simple(in.group->tee, "src_%u");
  auto* f = new Forward;
  f->pt = b.pt;
  f->caps = gst_caps_ref(b.caps);
  f->handle = b.handle;
  gst_pad_add_probe(in.teePad,
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                    GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_QUERY_BOTH),
                    ForwardProbe, f, Forward::Free);
  GstPad* into = b.webrtcSink;
  if (b.sw) into = in.switchPad = gst_element_request_pad_simple(b.sw, "sink_%u");
  // No caps check: the sink pad wants the subscriber's payload type, which the probe sets.
  gst_pad_link_full(in.teePad, into, GST_PAD_LINK_CHECK_NOTHING);
  b.inputs.push_back(in);
}

void RoomPipeline::DetachInput(Branch& b, BranchInput& in) {
  if (GstPad* peer = gst_pad_get_peer(in.teePad)) {
    gst_pad_unlink(in.teePad, peer);
    gst_object_unref(peer);
  }
  // The probe's state goes with the pad, after any push still running through it.
  gst_element_release_request_pad(in.group->tee, in.teePad);
  gst_object_unref(in.teePad);
  LeaveGroup(*in.track, in.group, pipeline_);
  if (in.switchPad) {
    gst_element_release_request_pad(b.sw, in.switchPad);
    gst_object_unref(in.switchPad);
  }
}

// set-remote-description → (publisher: restrict codecs) → create-answer →
// set-local-description, all chained in webrtcbin's thread; the answer comes back here.
void RoomPipeline::Negotiate(Peer& peer, const std::string& sdp, AnswerDone done,
                             std::vector<std::pair<unsigned, GstCaps*>> prefs) {
  GstSDPMessage* msg = nullptr;
  gst_sdp_message_new_from_text(sdp.c_str(), &msg);
  GstWebRTCSessionDescription* offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, msg);

  struct Ctx {
    std::shared_ptr<Handle> handle;
    GstElement* webrtc;
    AnswerDone done;
    std::vector<std::pair<unsigned, GstCaps*>> prefs;  // publisher codec choices by m-line
    ~Ctx() {
      for (auto& [m, c] : prefs) gst_caps_unref(c);
    }
  };
  auto* ctx = new Ctx{peer.handle, peer.webrtc, std::move(done), std::move(prefs)};


  GstPromise* promise = gst_promise_new_with_change_func(
      [](GstPromise* p, gpointer data) {
        auto* c = static_cast<Ctx*>(data);
        std::string err = PromiseError(p);
        gst_promise_unref(p);
        auto failNow = [c](const std::string& why) {
          Post(c->handle, [done = c->done, why](RoomPipeline&) { done("", why); });
          delete c;
        };
        if (!err.empty()) return failNow("the offer was refused: " + err);
        if (!c->handle->alive) return failNow("gone");
        // Receiving transceivers exist now: answer each with the one codec we forward.
        GArray* transceivers = nullptr;
        g_signal_emit_by_name(c->webrtc, "get-transceivers", &transceivers);
        for (guint i = 0; transceivers && i < transceivers->len; ++i) {
          auto* t = g_array_index(transceivers, GstWebRTCRTPTransceiver*, i);
          guint tm = G_MAXUINT;
          g_object_get(t, "mlineindex", &tm, nullptr);
          for (auto& [mline, caps] : c->prefs)
            if (tm == mline) g_object_set(t, "codec-preferences", caps, nullptr);
        }
        if (transceivers) g_array_unref(transceivers);
        GstPromise* answerPromise = gst_promise_new_with_change_func(
            [](GstPromise* p2, gpointer data2) {
              auto* c2 = static_cast<Ctx*>(data2);
              GstWebRTCSessionDescription* answer = nullptr;
              const GstStructure* reply = gst_promise_get_reply(p2);
              if (reply) gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
              std::string err2 = answer ? std::string() : ("no answer: " + (PromiseError(p2).empty() ? std::string("refused") : PromiseError(p2)));
              gst_promise_unref(p2);
              if (!answer) {
                Post(c2->handle, [done = c2->done, err2](RoomPipeline&) { done("", err2); });
                delete c2;
                return;
              }
              g_signal_emit_by_name(c2->webrtc, "set-local-description", answer, nullptr);
              gchar* text = gst_sdp_message_as_text(answer->sdp);
              std::string sdpText = text;
              g_free(text);
              gst_webrtc_session_description_free(answer);
              Post(c2->handle, [done = c2->done, sdpText](RoomPipeline&) { done(sdpText, ""); });
              delete c2;
            },
            c, nullptr);
        g_signal_emit_by_name(c->webrtc, "create-answer", nullptr, answerPromise);
      },
      ctx, nullptr);
  g_signal_emit_by_name(peer.webrtc, "set-remote-description", offer, promise);
  gst_webrtc_session_description_free(offer);
}

void RoomPipeline::ReportFailure(const std::string& peerId, const std::string& reason) {
  if (peers_.count(peerId)) listener_.OnPeerFailed(peerId, reason);
}

void RoomPipeline::AddRemoteCandidate(const std::string& peerId, unsigned mline, const std::string& candidate) {
  auto it = peers_.find(peerId);
  if (it == peers_.end()) throw AppError(ErrorCode::NotFound, "no such stream or play", {{"id", peerId}});
  if (candidate.empty()) return;  // end of candidates
  g_signal_emit_by_name(it->second->webrtc, "add-ice-candidate", mline, candidate.c_str());
}

void RoomPipeline::RequestKeyframe(const std::string& publisherId) {
  auto it = peers_.find(publisherId);
  if (it == peers_.end() || !it->second->publisher) return;
  for (auto& t : it->second->tracks) {
    if (t->kind != "video") continue;
    GstPad* sink = gst_element_get_static_pad(t->tee, "sink");
    // Travels up into webrtcbin, whose RTP session sends the publisher a PLI.
    gst_pad_push_event(sink, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(sink);
  }
}

void RoomPipeline::AddLocalSource(const std::string& sourceId, const std::vector<LocalTrack>& tracks) {
  if (peers_.count(sourceId)) throw AppError(ErrorCode::Conflict, "peer exists", {{"id", sourceId}});
  auto peer = std::make_unique<Peer>();
  peer->id = sourceId;
  peer->publisher = true;
  peer->local = true;
  peer->handle = NewHandle(sourceId);
  unsigned mline = 0;
  for (const auto& lt : tracks) {
    auto t = std::make_unique<Track>();
    t->name = sourceId + "_" + std::to_string(mline);
    t->mline = mline++;
    t->kind = lt.kind;
    t->codec = lt.codec;
    t->tee = lt.tee;
    t->handle = peer->handle;
    peer->tracks.push_back(std::move(t));
  }
  peers_[sourceId] = std::move(peer);
}

GstElement* RoomPipeline::TrackTee(const std::string& publisherId, const std::string& kind, Codec* codec) const {
  auto it = peers_.find(publisherId);
  if (it == peers_.end() || !it->second->publisher) return nullptr;
  for (const auto& t : it->second->tracks) {
    if (t->kind != kind) continue;
    if (codec) *codec = t->codec;
    return t->tee;
  }
  return nullptr;
}

std::vector<std::string> RoomPipeline::SubscribersOf(const std::string& publisherId) const {
  std::vector<std::string> out;
  for (const auto& [id, p] : peers_)
    if (!p->publisher && p->publisherId == publisherId) out.push_back(id);
  return out;
}

std::vector<std::string> RoomPipeline::TrackKinds(const std::string& publisherId) const {
  std::vector<std::string> out;
  auto it = peers_.find(publisherId);
  if (it != peers_.end())
    for (const auto& t : it->second->tracks) out.push_back(t->kind);
  return out;
}

std::vector<RoomPipeline::TrackTap> RoomPipeline::TrackTaps(const std::string& publisherId) const {
  std::vector<TrackTap> out;
  auto it = peers_.find(publisherId);
  if (it != peers_.end() && it->second->publisher)
    for (const auto& t : it->second->tracks) out.push_back({t->kind, t->codec.name, t->tee});
  return out;
}

void RoomPipeline::RouteErrors(const std::string& binName, std::function<void(const std::string&)> onError) {
  if (onError)
    errorRoutes_[binName] = std::move(onError);
  else
    errorRoutes_.erase(binName);
}

void RoomPipeline::Remove(const std::string& peerId) {
  auto it = peers_.find(peerId);
  if (it == peers_.end()) return;
  if (it->second->publisher) {
    for (const auto& sub : SubscribersOf(peerId)) Remove(sub);
    RemoveSource(peerId);
    it = peers_.find(peerId);
  }
  std::unique_ptr<Peer> peer = std::move(it->second);
  peers_.erase(it);
  Destroy(*peer);
}

// Stops a peer's elements from the control thread: callbacks still queued see `alive`
// false; the subscriber's webrtcbin goes first so its branches only see FLUSHING (masked).
void RoomPipeline::Destroy(Peer& peer) {
  peer.handle->alive = false;
  GST_INFO("removing peer [room:%s peer:%s publisher:%d]", name_.c_str(), peer.id.c_str(), peer.publisher);
  if (peer.webrtc) gst_element_set_state(peer.webrtc, GST_STATE_NULL);
  for (auto& b : peer.branches) {
    for (auto& in : b->inputs) DetachInput(*b, in);
    b->inputs.clear();
    if (b->sw) {
      gst_element_set_state(b->sw, GST_STATE_NULL);
      gst_bin_remove(GST_BIN(pipeline_), b->sw);
    }
    if (b->webrtcSink) gst_object_unref(b->webrtcSink);
    gst_caps_unref(b->caps);
  }
  peer.branches.clear();
  if (peer.local) return;
  gst_bin_remove(GST_BIN(pipeline_), peer.webrtc);
  for (auto& t : peer.tracks) {
    std::vector<GstElement*> elements{t->tee};
    if (t->layerSwitch) elements.push_back(t->layerSwitch);
    if (t->inputSwitch) elements.insert(elements.end(), {t->inputTee, t->inputSwitch});
    for (auto& l : t->layers) elements.push_back(l->tee);
    for (auto* e : elements) {
      gst_element_set_state(e, GST_STATE_NULL);
      gst_bin_remove(GST_BIN(pipeline_), e);
    }
  }
}

gboolean RoomPipeline::OnBusMessage(GstBus*, GstMessage* msg, gpointer self) {
  auto* room = static_cast<RoomPipeline*>(self);
  try {
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) room->OnBusError(msg);
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT) {
      const GstStructure* st = gst_message_get_structure(msg);
      if (st && gst_structure_has_name(st, "atrium-rtpswitch"))
        room->OnSwitchMessage(msg);
      else if (room->onElementMessage)
        room->onElementMessage(msg);
    }
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
      GError* err = nullptr;
      gst_message_parse_warning(msg, &err, nullptr);
      GST_WARNING("pipeline warning [room:%s from:%s msg:%s]", room->name_.c_str(), GST_OBJECT_NAME(msg->src),
                  err ? err->message : "");
      g_clear_error(&err);
    }
  } catch (const std::exception& e) {
    GST_ERROR("bus handler failed [what:%s]", e.what());
  }
  return G_SOURCE_CONTINUE;
}

// An error belongs to the peer whose element (or branch) posted it; only that peer goes.
void RoomPipeline::OnBusError(GstMessage* msg) {
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(msg, &err, &debug);
  std::string reason = err ? err->message : "error";
  GST_WARNING("pipeline error [room:%s from:%s msg:%s debug:%s]", name_.c_str(), GST_OBJECT_NAME(msg->src),
              reason.c_str(), debug ? debug : "");
  g_clear_error(&err);
  g_free(debug);
  for (GstObject* o = msg->src; o; o = GST_OBJECT_PARENT(o)) {
    auto route = errorRoutes_.find(GST_OBJECT_NAME(o));
    if (route != errorRoutes_.end()) {
      auto onError = route->second;  // it may remove itself
      onError(reason);
      return;
    }
  }
  for (GstObject* o = msg->src; o; o = GST_OBJECT_PARENT(o)) {
    std::string n = GST_OBJECT_NAME(o);
    for (const char* prefix : {"pub_", "sub_", "branch_", "tee_"}) {
      if (n.rfind(prefix, 0) != 0) continue;
      std::string id = n.substr(strlen(prefix));
      if (std::string(prefix) == "branch_" || std::string(prefix) == "tee_") id = id.substr(0, id.rfind('_'));
      if (peers_.count(id)) listener_.OnPeerFailed(id, reason);
      return;
    }
  }
}

}  // namespace atrium::media

namespace atrium::media {

void RoomPipeline::SetTrackEnabled(const std::string& publisherId, const std::string& kind, bool enabled) {
  auto it = peers_.find(publisherId);
  if (it == peers_.end() || !it->second->publisher) return;
  bool wakeVideo = false;
  for (auto& t : it->second->tracks) {
    if (t->kind != kind) continue;
    bool was = t->enabled.exchange(enabled);
    wakeVideo = wakeVideo || (enabled && !was && kind == "video");
  }
  GST_INFO("track %s [room:%s peer:%s kind:%s]", enabled ? "enabled" : "disabled", name_.c_str(), publisherId.c_str(),
           kind.c_str());
  // Subscribers lost their reference frames while the video was dropped.
  if (wakeVideo) RequestKeyframe(publisherId);
}

namespace {

// A numeric field of a stats structure, whatever integer or double type this GStreamer
// version gives it.
std::optional<double> StatNumber(const GstStructure* s, const char* field) {
  const GValue* v = gst_structure_get_value(s, field);
  if (!v) return std::nullopt;
  if (G_VALUE_HOLDS_DOUBLE(v)) return g_value_get_double(v);
  if (G_VALUE_HOLDS_INT(v)) return double(g_value_get_int(v));
  if (G_VALUE_HOLDS_UINT(v)) return double(g_value_get_uint(v));
  if (G_VALUE_HOLDS_INT64(v)) return double(g_value_get_int64(v));
  if (G_VALUE_HOLDS_UINT64(v)) return double(g_value_get_uint64(v));
  return std::nullopt;
}

// The kind of each RTP stream in a get-stats reply, by SSRC, from its clock rate: 90 kHz
// is video, anything else audio. 1.22's "kind" and "codec-id" name the transceiver of
// the BUNDLE transport (the first m-line) for every stream, so the clock rate comes from
// the RTP source's own statistics carried along ("gst-rtpsource-stats").
std::map<guint, std::string> KindsBySsrc(const GstStructure* reply) {
  std::map<guint, std::string> kinds;
  gint n = gst_structure_n_fields(reply);
  for (gint i = 0; i < n; ++i) {
    const GValue* v = gst_structure_get_value(reply, gst_structure_nth_field_name(reply, i));
    if (!v || !GST_VALUE_HOLDS_STRUCTURE(v)) continue;
    const GstStructure* s = gst_value_get_structure(v);
    GstWebRTCStatsType type;
    if (!gst_structure_get(s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr)) continue;
    if (type != GST_WEBRTC_STATS_INBOUND_RTP && type != GST_WEBRTC_STATS_OUTBOUND_RTP) continue;
    const GValue* src = gst_structure_get_value(s, "gst-rtpsource-stats");
    if (!src || !GST_VALUE_HOLDS_STRUCTURE(src)) continue;
    auto rate = StatNumber(gst_value_get_structure(src), "clock-rate");
    auto ssrc = StatNumber(s, "ssrc");
    if (rate && *rate > 0 && ssrc) kinds[guint(*ssrc)] = *rate == 90000 ? "video" : "audio";
  }
  return kinds;
}

// Folds one get-stats reply (a structure of structures, one per stats object) into the
// tracks of the same kind.
void ReadStats(const GstStructure* reply, std::vector<RoomPipeline::TrackStats>& tracks) {
  auto kinds = KindsBySsrc(reply);
  gint n = gst_structure_n_fields(reply);
  for (gint i = 0; i < n; ++i) {
    const GValue* v = gst_structure_get_value(reply, gst_structure_nth_field_name(reply, i));
    if (!v || !GST_VALUE_HOLDS_STRUCTURE(v)) continue;
    const GstStructure* s = gst_value_get_structure(v);
    GstWebRTCStatsType type;
    if (!gst_structure_get(s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr)) continue;
    auto ssrc = StatNumber(s, "ssrc");
    auto kind = ssrc ? kinds.find(guint(*ssrc)) : kinds.end();
    if (kind == kinds.end()) continue;
    for (auto& out : tracks) {
      if (out.kind != kind->second) continue;
      switch (type) {
        case GST_WEBRTC_STATS_INBOUND_RTP: {
          out.bytes += uint64_t(StatNumber(s, "bytes-received").value_or(0));
          out.packets += uint64_t(StatNumber(s, "packets-received").value_or(0));
          // Expected minus received, from the RTP source (updated with each receiver
          // report); 1.22's top-level packets-lost reads another stream's jitterbuffer.
          const GValue* src = gst_structure_get_value(s, "gst-rtpsource-stats");
          if (src && GST_VALUE_HOLDS_STRUCTURE(src))
            out.packetsLost += std::max<int64_t>(0, int64_t(StatNumber(gst_value_get_structure(src), "packets-lost").value_or(0)));
          break;
        }
        case GST_WEBRTC_STATS_OUTBOUND_RTP:
          out.bytes += uint64_t(StatNumber(s, "bytes-sent").value_or(0));
          out.packets += uint64_t(StatNumber(s, "packets-sent").value_or(0));
          break;
        case GST_WEBRTC_STATS_REMOTE_INBOUND_RTP:
          out.packetsLost += std::max<int64_t>(0, int64_t(StatNumber(s, "packets-lost").value_or(0)));
          if (auto f = StatNumber(s, "fraction-lost")) out.fractionLost = std::max(out.fractionLost, *f);
          if (auto r = StatNumber(s, "round-trip-time"); r && *r > 0) out.rtt = std::max(out.rtt, *r);
          break;
        case GST_WEBRTC_STATS_REMOTE_OUTBOUND_RTP:
          if (auto r = StatNumber(s, "round-trip-time"); r && *r > 0) out.rtt = std::max(out.rtt, *r);
          break;
        default:
          break;
      }
    }
  }
}

}  // namespace

void RoomPipeline::GetStats(const std::string& peerId, StatsDone done) {
  auto it = peers_.find(peerId);
  if (it == peers_.end()) return;
  Peer& peer = *it->second;
  struct Collect {
    std::shared_ptr<Handle> handle;
    StatsDone done;
    std::vector<TrackStats> stats;
  };
  auto* collect = new Collect{peer.handle, std::move(done), {}};
  auto add = [&](const std::string& kind) {
    TrackStats t;
    t.kind = kind;
    t.inbound = peer.publisher;
    collect->stats.push_back(t);
  };
  for (auto& t : peer.tracks) add(t->kind);
  for (auto& b : peer.branches) add(b->kind);
  // One get-stats for the whole peer (BUNDLE: one transport); tracks are told apart by
  // their codec's clock rate.
  GstPromise* promise = gst_promise_new_with_change_func(
      [](GstPromise* p, gpointer data) {
        auto* c = static_cast<Collect*>(data);
        const GstStructure* reply =
            gst_promise_wait(p) == GST_PROMISE_RESULT_REPLIED ? gst_promise_get_reply(p) : nullptr;
        if (reply) {
          if (gst_debug_category_get_threshold(GST_CAT_DEFAULT) >= GST_LEVEL_TRACE) {
            gchar* text = gst_structure_to_string(reply);
            GST_TRACE("stats [peer:%s stats:%s]", c->handle->peerId.c_str(), text);
            g_free(text);
          }
          ReadStats(reply, c->stats);
        }
        gst_promise_unref(p);
        if (reply) Post(c->handle, [done = std::move(c->done), stats = std::move(c->stats)](RoomPipeline&) { done(stats); });
      },
      collect, [](gpointer data) { delete static_cast<Collect*>(data); });
  g_signal_emit_by_name(peer.webrtc, "get-stats", nullptr, promise);
}

// ---- simulcast and switched plays ----

std::vector<std::string> RoomPipeline::VideoLayers(const std::string& publisherId) const {
  std::vector<std::string> out;
  auto it = peers_.find(publisherId);
  if (it == peers_.end()) return out;
  for (const auto& t : it->second->tracks)
    if (t->kind == "video")
      for (const auto& l : t->layers) out.push_back(l->rid);
  return out;
}

std::vector<RoomPipeline::LayerStat> RoomPipeline::LayerStats(const std::string& publisherId) const {
  std::vector<LayerStat> out;
  auto it = peers_.find(publisherId);
  if (it == peers_.end()) return out;
  gint64 now = g_get_monotonic_time();
  for (const auto& t : it->second->tracks)
    for (const auto& l : t->layers)
      out.push_back({l->rid, l->packets.load(), now - l->lastPacket.load() < G_USEC_PER_SEC});
  return out;
}

int RoomPipeline::SetLayer(const std::string& playId, int layer) {
  auto it = peers_.find(playId);
  if (it == peers_.end() || it->second->switched) return -1;
  int set = -1;
  for (auto& b : it->second->branches) {
    if (!b->sw || !b->track || b->track->layers.empty()) continue;
    set = std::clamp(layer, 0, int(b->track->layers.size()) - 1);
    g_object_set(b->sw, "target", guint(set), nullptr);
  }
  if (set >= 0) GST_INFO("layer chosen [room:%s play:%s layer:%d]", name_.c_str(), playId.c_str(), set);
  return set;
}

void RoomPipeline::PlaySwitched(const std::string& peerId, const std::vector<std::string>& sources,
                                const std::string& sdp, AnswerDone done) {
  auto offer = ParseOffer(sdp);
  if (peers_.count(peerId)) throw AppError(ErrorCode::Conflict, "peer exists", {{"id", peerId}});
  auto peer = std::make_unique<Peer>();
  peer->id = peerId;
  peer->switched = true;
  peer->handle = NewHandle(peerId);
  for (const auto& m : offer) {
    if (m.rejected || m.kind != "video" || (m.direction != "recvonly" && m.direction != "sendrecv")) continue;
    std::optional<Codec> codec;
    for (const char* name : {"VP8", "H264"})
      if (!codec) codec = m.Find(name);
    if (!codec) continue;
    auto b = std::make_unique<Branch>();
    b->kind = "video";
    b->mline = m.mline;
    b->pt = codec->pt;
    Codec c = *codec;
    c.clockRate = 90000;
    b->caps = CodecCaps("video", c, codec->pt);
    b->handle = peer->handle;
    peer->branches.push_back(std::move(b));
    break;
  }
  if (peer->branches.empty())
    throw InvalidParams("invalid parameter 'sdp': the offer receives no VP8 or H264 video",
                        {{"param", "sdp"}, {"expected", "a recvonly offer with VP8 or H264 video"}});
  GstElement* webrtc = NewWebRtcBin(*peer, "sub_" + peerId);
  gst_bin_add(GST_BIN(pipeline_), webrtc);
  RequestSinks(*peer);
  gst_element_sync_state_with_parent(webrtc);
  Branch& b = *peer->branches.front();
  NewSwitch(b, "sw_" + peerId + "_" + std::to_string(b.mline), 0);
  Peer& ref = *peer;
  peers_[peerId] = std::move(peer);
  for (const auto& src : sources) AddSource(peerId, src);
  Negotiate(ref, sdp, std::move(done));
}

void RoomPipeline::AddSource(const std::string& peerId, const std::string& publisherId) {
  auto it = peers_.find(peerId);
  auto pub = peers_.find(publisherId);
  if (it == peers_.end() || !it->second->switched || pub == peers_.end() || !pub->second->publisher) return;
  Branch& b = *it->second->branches.front();
  for (const auto& in : b.inputs)
    if (in.sourceId == publisherId) return;
  std::string want = gst_structure_get_string(gst_caps_get_structure(b.caps, 0), "encoding-name");
  for (auto& t : pub->second->tracks) {
    if (t->kind != "video" || t->codec.name != want) continue;
    AttachInput(b, t.get(), publisherId);
    RequestKeyframe(publisherId);
    return;
  }
}

void RoomPipeline::RemoveSource(const std::string& publisherId) {
  for (auto& [id, peer] : peers_) {
    if (!peer->switched) continue;
    for (auto& b : peer->branches) {
      for (auto in = b->inputs.begin(); in != b->inputs.end();) {
        if (in->sourceId != publisherId) {
          ++in;
          continue;
        }
        DetachInput(*b, *in);
        in = b->inputs.erase(in);
      }
    }
  }
}

void RoomPipeline::SelectSource(const std::string& peerId, const std::string& publisherId) {
  auto it = peers_.find(peerId);
  if (it == peers_.end() || !it->second->switched) return;
  Branch& b = *it->second->branches.front();
  for (const auto& in : b.inputs) {
    if (in.sourceId != publisherId || !in.switchPad) continue;
    unsigned index = 0;
    if (sscanf(GST_PAD_NAME(in.switchPad), "sink_%u", &index) == 1) g_object_set(b.sw, "target", guint(index), nullptr);
    return;
  }
}

std::optional<double> RoomPipeline::AudioLevel(const std::string& publisherId) const {
  auto it = peers_.find(publisherId);
  if (it == peers_.end()) return std::nullopt;
  for (const auto& t : it->second->tracks)
    if (t->kind == "audio" && t->audioLevelExt > 0) {
      // Nothing for half a second (muted, stopped): silent.
      if (g_get_monotonic_time() - t->levelAt.load(std::memory_order_relaxed) > 500000) return -127.0;
      return -double(t->levelDbov.load(std::memory_order_relaxed));
    }
  return std::nullopt;
}

// "atrium-rtpswitch" from a subscription's switch (named sw_<peer>_<mline>), on the
// control thread: tells the listener which layer, or which source, it forwards now.
void RoomPipeline::OnSwitchMessage(GstMessage* msg) {
  std::string name = GST_OBJECT_NAME(GST_MESSAGE_SRC(msg));
  if (name.rfind("sw_", 0) != 0) return;
  std::string peerId = name.substr(3, name.rfind('_') - 3);
  auto it = peers_.find(peerId);
  if (it == peers_.end()) return;
  const GstStructure* st = gst_message_get_structure(msg);
  gint to = -1;
  gst_structure_get_int(st, "to", &to);
  const gchar* reason = gst_structure_get_string(st, "reason");
  std::string sourceId;
  if (it->second->switched && !it->second->branches.empty())
    for (const auto& in : it->second->branches.front()->inputs)
      if (in.switchPad && std::string(GST_PAD_NAME(in.switchPad)) == "sink_" + std::to_string(to)) sourceId = in.sourceId;
  GST_DEBUG("play switched [room:%s play:%s to:%d source:%s reason:%s]", name_.c_str(), peerId.c_str(), to,
            sourceId.c_str(), reason ? reason : "");
  listener_.OnPlaySwitched(peerId, to, sourceId, reason ? reason : "");
}

// ---- filters: another input for a video track ----

GstElement* RoomPipeline::VideoInputTee(const std::string& publisherId, Codec* codec) const {
  auto it = peers_.find(publisherId);
  if (it == peers_.end() || !it->second->publisher) return nullptr;
  for (const auto& t : it->second->tracks)
    if (t->kind == "video" && t->inputTee) {
      if (codec) *codec = t->codec;
      return t->inputTee;
    }
  return nullptr;
}

GstPad* RoomPipeline::UseVideoInput(const std::string& publisherId, GstPad* src) {
  auto it = peers_.find(publisherId);
  if (it == peers_.end()) return nullptr;
  for (auto& t : it->second->tracks) {
    if (!t->inputSwitch) continue;
    GstPad* in = gst_element_request_pad_simple(t->inputSwitch, "sink_%u");
    gst_pad_link(src, in);
    unsigned index = 0;
    sscanf(GST_PAD_NAME(in), "sink_%u", &index);
    g_object_set(t->inputSwitch, "target", guint(index), nullptr);
    return in;
  }
  return nullptr;
}

void RoomPipeline::DropVideoInput(const std::string& publisherId, GstPad* switchPad) {
  auto it = peers_.find(publisherId);
  if (it == peers_.end() || !switchPad) return;
  for (auto& t : it->second->tracks) {
    if (!t->inputSwitch || GST_OBJECT_PARENT(switchPad) != GST_OBJECT(t->inputSwitch)) continue;
    g_object_set(t->inputSwitch, "target", 0u, nullptr);  // back to the publisher's own
    if (GstPad* peer = gst_pad_get_peer(switchPad)) {
      gst_pad_unlink(peer, switchPad);
      gst_object_unref(peer);
    }
    gst_element_release_request_pad(t->inputSwitch, switchPad);
    RequestKeyframe(publisherId);  // the switch goes back at the next keyframe
    return;
  }
}

}  // namespace atrium::media

namespace atrium::media {

namespace {

// One WhenGathered call. The signal handler (webrtcbin's thread) and the timer race to
// `fired`; whichever wins finishes on the control thread. The webrtcbin is read only there,
// and only while the peer is alive (Destroy clears `alive` before it lets the element go).
struct GatherWait {
  std::shared_ptr<RoomPipeline::Handle> handle;
  GstElement* webrtc = nullptr;
  RoomPipeline::Gathered done;
  std::atomic<bool> fired{false};
  guint timer = 0;
};
using GatherRef = std::shared_ptr<GatherWait>;

void FinishGather(const GatherRef& w) {
  if (w->timer) g_source_remove(w->timer);
  w->timer = 0;
  auto done = std::move(w->done);
  w->done = nullptr;
  if (!done) return;
  std::string sdp;
  if (w->handle->alive) {
    GstWebRTCSessionDescription* desc = nullptr;
    g_object_get(w->webrtc, "local-description", &desc, nullptr);
    if (desc) {
      gchar* text = gst_sdp_message_as_text(desc->sdp);
      sdp = text ? text : "";
      g_free(text);
      gst_webrtc_session_description_free(desc);
    }
  }
  try {
    done(sdp);
  } catch (const std::exception& e) {
    GST_ERROR("gathering callback failed [peer:%s what:%s]", w->handle->peerId.c_str(), e.what());
  }
}

// Always from the main loop, never inside the signal emission that noticed it.
void FinishGatherLater(const GatherRef& w) {
  g_idle_add_full(
      G_PRIORITY_DEFAULT,
      [](gpointer p) -> gboolean {
        FinishGather(*static_cast<GatherRef*>(p));
        return G_SOURCE_REMOVE;
      },
      new GatherRef(w), [](gpointer p) { delete static_cast<GatherRef*>(p); });
}

}  // namespace

void RoomPipeline::WhenGathered(const std::string& peerId, guint timeoutMs, Gathered done) {
  auto w = std::make_shared<GatherWait>();
  w->done = std::move(done);
  auto it = peers_.find(peerId);
  if (it == peers_.end() || !it->second->webrtc) {
    w->fired = true;
    w->handle = NewHandle(peerId);
    w->handle->alive = false;
    return FinishGatherLater(w);
  }
  w->handle = it->second->handle;
  w->webrtc = it->second->webrtc;
  g_signal_connect_data(
      w->webrtc, "notify::ice-gathering-state",
      G_CALLBACK(+[](GstElement* e, GParamSpec*, gpointer data) {
        const GatherRef& w = *static_cast<GatherRef*>(data);
        GstWebRTCICEGatheringState state;
        g_object_get(e, "ice-gathering-state", &state, nullptr);
        if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE || w->fired.exchange(true)) return;
        FinishGatherLater(w);
      }),
      new GatherRef(w), [](gpointer p, GClosure*) { delete static_cast<GatherRef*>(p); }, GConnectFlags(0));
  w->timer = g_timeout_add_full(
      G_PRIORITY_DEFAULT, timeoutMs,
      [](gpointer p) -> gboolean {
        const GatherRef& w = *static_cast<GatherRef*>(p);
        w->timer = 0;  // this source ends here
        if (!w->fired.exchange(true)) {
          GST_INFO("ICE gathering not complete in time; answering with what is there [peer:%s]",
                   w->handle->peerId.c_str());
          FinishGather(w);
        }
        return G_SOURCE_REMOVE;
      },
      new GatherRef(w), [](gpointer p) { delete static_cast<GatherRef*>(p); });
  // It may have completed before the handler was connected.
  GstWebRTCICEGatheringState state;
  g_object_get(w->webrtc, "ice-gathering-state", &state, nullptr);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE && !w->fired.exchange(true)) FinishGatherLater(w);
}

bool RoomPipeline::IsConnected(const std::string& peerId) const {
  auto it = peers_.find(peerId);
  return it != peers_.end() && it->second->handle->connected.load();
}

void RoomPipeline::EnableKeepaliveChecks(const std::string& peerId) {
  auto it = peers_.find(peerId);
  if (it != peers_.end() && it->second->webrtc) media::EnableKeepaliveChecks(it->second->webrtc);
}

}  // namespace atrium::media
