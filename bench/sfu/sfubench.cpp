// atrium-sfubench: the cost of SFU forwarding in a running atriumd. One publisher (VP8 +
// Opus from test sources) and, for each N, N subscribers that receive the forwarded RTP
// without decoding it; prints the server's CPU, memory, packets forwarded and
// media.play → first packet per N. Starts nothing itself: bench/sfu/run.sh starts the
// server and passes its pid. With --janus the server is Janus's VideoRoom instead, driven
// through Janus's WebSocket API (bench/sfu/janus.sh). See bench/README.md.
//
// Everything runs on this process's main thread (the default GMainContext): the WebSocket
// clients, the webrtcbin signalling; GStreamer's streaming threads only count packets.
#include "core/GRef.hpp"
#include "core/Log.hpp"
#include "media/Ice.hpp"

#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <libsoup/soup.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#define GST_CAT_DEFAULT atrium_media_debug

namespace {

using atrium::CPtr;
using atrium::GCharPtr;
using atrium::GRef;
using nlohmann::json;

constexpr int kVideoPt = 96, kAudioPt = 111;

gint64 Now() { return g_get_monotonic_time(); }

// ---------------------------------------------------------------- main loop helpers

// Iterates the default main context until done() (true) or the timeout (false).
bool RunUntil(const std::function<bool()>& done, int timeoutMs) {
  gint64 deadline = Now() + gint64(timeoutMs) * 1000;
  while (!done()) {
    if (Now() > deadline) return false;
    guint t = g_timeout_add(10, [](gpointer) { return G_SOURCE_REMOVE; }, nullptr);
    g_main_context_iteration(nullptr, TRUE);
    if (GSource* s = g_main_context_find_source_by_id(nullptr, t)) g_source_destroy(s);
  }
  return true;
}

void RunFor(int ms) { RunUntil([] { return false; }, ms); }

// Runs fn on the main thread at its next iteration; from any thread.
void PostToMain(std::function<void()> fn) {
  GSource* src = g_idle_source_new();
  g_source_set_callback(
      src,
      [](gpointer data) {
        (*static_cast<std::function<void()>*>(data))();
        return G_SOURCE_REMOVE;
      },
      new std::function<void()>(std::move(fn)), [](gpointer data) { delete static_cast<std::function<void()>*>(data); });
  g_source_attach(src, g_main_context_default());
  g_source_unref(src);
}

// A webrtcbin promise awaited by iterating the main context.
class PromiseWaiter {
public:
  PromiseWaiter() : replied_(std::make_shared<std::atomic<bool>>(false)) {
    promise_ = gst_promise_new_with_change_func(
        [](GstPromise*, gpointer data) {
          static_cast<std::shared_ptr<std::atomic<bool>>*>(data)->get()->store(true);
          g_main_context_wakeup(nullptr);
        },
        new std::shared_ptr<std::atomic<bool>>(replied_),
        [](gpointer data) { delete static_cast<std::shared_ptr<std::atomic<bool>>*>(data); });
  }
  ~PromiseWaiter() { gst_promise_unref(promise_); }
  PromiseWaiter(const PromiseWaiter&) = delete;
  PromiseWaiter& operator=(const PromiseWaiter&) = delete;
  GstPromise* get() const { return promise_; }

  const GstStructure* Wait(const std::string& what) {
    if (!RunUntil([&] { return replied_->load(); }, 10000)) {
      gst_promise_interrupt(promise_);
      throw std::runtime_error(what + ": no reply within 10 s");
    }
    if (gst_promise_wait(promise_) != GST_PROMISE_RESULT_REPLIED) throw std::runtime_error(what + ": not replied");
    const GstStructure* reply = gst_promise_get_reply(promise_);
    if (reply && gst_structure_has_field(reply, "error")) {
      GError* err = nullptr;
      gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
      std::string msg = what + ": " + (err ? err->message : "error");
      if (err) g_error_free(err);
      throw std::runtime_error(msg);
    }
    return reply;
  }

private:
  std::shared_ptr<std::atomic<bool>> replied_;
  GstPromise* promise_ = nullptr;
};

// ---------------------------------------------------------------- JSON-RPC over WebSocket

// Opens a WebSocket (with `protocol` as its subprotocol when not null), iterating the main
// context for up to 10 s.
GRef<SoupWebsocketConnection> ConnectWebSocket(SoupSession* session, const std::string& url, const char* protocol) {
  GRef<SoupMessage> msg = GRef<SoupMessage>::adopt(soup_message_new("GET", url.c_str()));
  if (!msg) throw std::runtime_error("bad url " + url);
  struct Result {
    SoupWebsocketConnection* conn = nullptr;
    GError* err = nullptr;
    bool done = false;
  } result;
  char* protocols[] = {const_cast<char*>(protocol), nullptr};
  soup_session_websocket_connect_async(
      session, msg.get(), nullptr, protocol ? protocols : nullptr, G_PRIORITY_DEFAULT, nullptr,
      [](GObject* src, GAsyncResult* res, gpointer data) {
        auto* r = static_cast<Result*>(data);
        r->conn = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &r->err);
        r->done = true;
      },
      &result);
  RunUntil([&] { return result.done; }, 10000);
  if (!result.conn) {
    std::string m = result.err ? result.err->message : "timeout";
    g_clear_error(&result.err);
    throw std::runtime_error("websocket connect to " + url + " failed: " + m);
  }
  auto conn = GRef<SoupWebsocketConnection>::adopt(result.conn);
  soup_websocket_connection_set_max_incoming_payload_size(conn.get(), 16 << 20);
  return conn;
}

class Rpc {
public:
  explicit Rpc(const std::string& url)
      : session_(GRef<SoupSession>::adopt(soup_session_new())), conn_(ConnectWebSocket(session_.get(), url, nullptr)) {
    g_signal_connect(conn_.get(), "message", G_CALLBACK(OnMessage), this);
    g_signal_connect(conn_.get(), "closed", G_CALLBACK(OnClosed), this);
  }

  ~Rpc() {
    g_signal_handlers_disconnect_by_data(conn_.get(), this);
    if (soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN) {
      soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
      RunUntil([&] { return soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_CLOSED; }, 1000);
    }
  }
  Rpc(const Rpc&) = delete;
  Rpc& operator=(const Rpc&) = delete;

  // One call; returns its result, throws on an error reply, a closed socket or no reply in 15 s.
  json Call(const std::string& method, const json& params = json::object()) {
    int64_t id = nextId_++;
    Send(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
    RunUntil([&] { return replies_.count(id) || closed_; }, 15000);
    auto it = replies_.find(id);
    if (it == replies_.end()) throw std::runtime_error(method + ": no reply" + (closed_ ? " (socket closed)" : ""));
    json r = std::move(it->second);
    replies_.erase(it);
    if (r.contains("error")) throw std::runtime_error(method + " failed: " + r["error"].dump());
    return r["result"];
  }

  void Notify(const std::string& method, const json& params) {
    Send(json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
  }

  // Called on the main thread for each notification the server sends.
  std::function<void(const json&)> onNotification;

private:
  void Send(const json& j) {
    std::string text = j.dump();
    soup_websocket_connection_send_text(conn_.get(), text.c_str());
  }

  static void OnMessage(SoupWebsocketConnection*, gint, GBytes* msg, gpointer data) {
    auto* self = static_cast<Rpc*>(data);
    gsize len = 0;
    const char* p = static_cast<const char*>(g_bytes_get_data(msg, &len));
    json j = json::parse(p, p + len, nullptr, false);
    if (!j.is_object()) return;
    if (j.contains("id") && j["id"].is_number_integer()) {
      int64_t id = j["id"].get<int64_t>();
      self->replies_[id] = std::move(j);
    } else if (j.contains("method") && self->onNotification) {
      self->onNotification(j);
    }
  }
  static void OnClosed(SoupWebsocketConnection*, gpointer data) { static_cast<Rpc*>(data)->closed_ = true; }

  GRef<SoupSession> session_;
  GRef<SoupWebsocketConnection> conn_;
  std::map<int64_t, json> replies_;
  bool closed_ = false;
  int64_t nextId_ = 1;
};

// ---------------------------------------------------------------- Janus API over WebSocket

// The Janus gateway's own API (`janus-protocol` subprotocol), for comparing with Janus's
// VideoRoom (bench/sfu/janus.sh): requests are matched to replies by `transaction`.
class JanusApi {
public:
  explicit JanusApi(const std::string& url)
      : session_(GRef<SoupSession>::adopt(soup_session_new())),
        conn_(ConnectWebSocket(session_.get(), url, "janus-protocol")) {
    g_signal_connect(conn_.get(), "message", G_CALLBACK(OnMessage), this);
    g_signal_connect(conn_.get(), "closed", G_CALLBACK(OnClosed), this);
  }
  ~JanusApi() {
    g_signal_handlers_disconnect_by_data(conn_.get(), this);
    if (soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN) {
      soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
      RunUntil([&] { return soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_CLOSED; }, 1000);
    }
  }
  JanusApi(const JanusApi&) = delete;
  JanusApi& operator=(const JanusApi&) = delete;

  // Sends `request` with a fresh transaction and returns the first reply that is not an
  // `ack` (a plugin message is acked at once and answered by an `event` later). Throws on
  // `error` replies, plugin errors, a closed socket or no reply in 15 s.
  json Request(json request, bool ackIsEnough = false) {
    std::string tx = "t" + std::to_string(nextTx_++);
    request["transaction"] = tx;
    std::string what = request.value("janus", "?");
    if (request.contains("body")) what += " " + request["body"].value("request", "?");
    Send(request);
    json reply;
    RunUntil(
        [&] {
          auto it = replies_.find(tx);
          while (it != replies_.end() && !it->second.empty()) {
            json r = std::move(it->second.front());
            it->second.erase(it->second.begin());
            if (r.value("janus", "") != "ack" || ackIsEnough) {
              reply = std::move(r);
              return true;
            }
          }
          return closed_;
        },
        15000);
    replies_.erase(tx);
    if (reply.is_null()) throw std::runtime_error("janus " + what + ": no reply" + (closed_ ? " (socket closed)" : ""));
    if (reply.value("janus", "") == "error") throw std::runtime_error("janus " + what + " failed: " + reply.dump());
    const json* data = nullptr;
    if (reply.contains("plugindata")) data = &reply["plugindata"]["data"];
    if (data && data->contains("error")) throw std::runtime_error("janus " + what + " failed: " + data->dump());
    return reply;
  }

  // Sends `request` without waiting: its ack is dropped, an error is printed.
  void Post(json request) {
    request["transaction"] = "f" + std::to_string(nextTx_++);
    Send(request);
  }

  // Messages that answer no request (trickle, webrtcup, media, hangup...).
  std::function<void(const json&)> onEvent;

private:
  static void OnMessage(SoupWebsocketConnection*, gint, GBytes* msg, gpointer data) {
    auto* self = static_cast<JanusApi*>(data);
    gsize len = 0;
    const char* p = static_cast<const char*>(g_bytes_get_data(msg, &len));
    json j = json::parse(p, p + len, nullptr, false);
    if (!j.is_object()) return;
    if (j.contains("transaction") && j["transaction"].is_string() && j["transaction"].get<std::string>()[0] == 'f') {
      if (j.value("janus", "") == "error") std::fprintf(stderr, "sfubench: janus: %s\n", j.dump().c_str());
    } else if (j.contains("transaction") && j["transaction"].is_string()) {
      self->replies_[j["transaction"].get<std::string>()].push_back(std::move(j));
    } else if (self->onEvent) {
      self->onEvent(j);
    }
  }
  static void OnClosed(SoupWebsocketConnection*, gpointer data) { static_cast<JanusApi*>(data)->closed_ = true; }

  void Send(const json& j) {
    std::string text = j.dump();
    soup_websocket_connection_send_text(conn_.get(), text.c_str());
  }

  GRef<SoupSession> session_;
  GRef<SoupWebsocketConnection> conn_;
  std::map<std::string, std::vector<json>> replies_;
  bool closed_ = false;
  int64_t nextTx_ = 1;
};

// ---------------------------------------------------------------- WebRTC peers

struct PublisherOptions {
  int width = 640, height = 360, fps = 30;
  int bitrate = 800000;  // vp8enc target-bitrate, bit/s
  int cpuUsed = 8;       // vp8enc cpu-used
};

// True for the first packet of a VP8 keyframe (RFC 7741 payload descriptor, then the
// payload header's P bit, 0 on keyframes).
bool IsVp8KeyframeStart(const guint8* p, guint len) {
  if (len < 1) return false;
  bool x = p[0] & 0x80, s = p[0] & 0x10;
  int pid = p[0] & 0x07;
  guint off = 1;
  if (x) {
    if (len < 2) return false;
    guint8 b1 = p[1];
    off = 2;
    if (b1 & 0x80) {  // I: picture id, 7 or 15 bits
      if (len <= off) return false;
      off += (p[off] & 0x80) ? 2 : 1;
    }
    if (b1 & 0x40) off += 1;  // L: TL0PICIDX
    if (b1 & 0x30) off += 1;  // T/K: TID/KEYIDX
  }
  if (!s || pid != 0 || len <= off) return false;
  return (p[off] & 0x01) == 0;
}

// Written by streaming threads, read by the main thread.
struct Counters {
  std::atomic<uint64_t> packets{0}, bytes{0}, videoPackets{0}, audioPackets{0};
  std::atomic<gint64> firstPacket{0}, firstKeyframe{0};

  void Count(GstBuffer* buf) {
    gint64 now = Now();
    KeepEarliest(firstPacket, now);
    packets++;
    bytes += gst_buffer_get_size(buf);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp)) return;
    if (gst_rtp_buffer_get_payload_type(&rtp) == kVideoPt) {
      videoPackets++;
      if (firstKeyframe.load() == 0 &&
          IsVp8KeyframeStart(static_cast<const guint8*>(gst_rtp_buffer_get_payload(&rtp)),
                             gst_rtp_buffer_get_payload_len(&rtp))) {
        KeepEarliest(firstKeyframe, now);
      }
    } else {
      audioPackets++;
    }
    gst_rtp_buffer_unmap(&rtp);
  }

  // Audio and video arrive on different threads: keep the earliest time, not the first
  // thread to store one.
  static void KeepEarliest(std::atomic<gint64>& slot, gint64 t) {
    gint64 cur = slot.load();
    while ((cur == 0 || t < cur) && !slot.compare_exchange_weak(cur, t)) {
    }
  }

  static GstPadProbeReturn Probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* c = static_cast<Counters*>(data);
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
      c->Count(GST_PAD_PROBE_INFO_BUFFER(info));
    } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
      GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
      for (guint i = 0; i < gst_buffer_list_length(list); ++i) c->Count(gst_buffer_list_get(list, i));
    }
    return GST_PAD_PROBE_OK;
  }
};

GstElement* Make(const char* factory, const char* name = nullptr) {
  GstElement* e = gst_element_factory_make(factory, name);
  if (!e) throw std::runtime_error(std::string("missing GStreamer element ") + factory);
  return e;
}

using CapsPtr = CPtr<GstCaps, gst_caps_unref>;

CapsPtr VideoCaps() {
  return CapsPtr(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "encoding-name",
                                     G_TYPE_STRING, "VP8", "payload", G_TYPE_INT, kVideoPt, "clock-rate", G_TYPE_INT,
                                     90000, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE, nullptr));
}
CapsPtr AudioCaps() {
  return CapsPtr(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio", "encoding-name",
                                     G_TYPE_STRING, "OPUS", "payload", G_TYPE_INT, kAudioPt, "clock-rate", G_TYPE_INT,
                                     48000, "encoding-params", G_TYPE_STRING, "2", nullptr));
}

// An address of the benchmark's own network namespace that remote candidates may also
// carry (--server-address; bench/sfu/janus.sh gives Janus one: Janus never gathers on
// loopback).
std::string gServerAddress;
// The address the benchmark's own peers gather on (--client-address).
std::string gClientAddress = "127.0.0.1";

// UDP candidates on loopback, or on gServerAddress.
bool IsAllowedCandidate(const std::string& c) {
  if (atrium::media::IsLoopbackUdpCandidate(c)) return true;
  if (gServerAddress.empty()) return false;
  std::istringstream in(c);
  std::string foundation, component, transport, priority, address;
  in >> foundation >> component >> transport >> priority >> address;
  return g_ascii_strcasecmp(transport.c_str(), "udp") == 0 && address == gServerAddress;
}

// The SDP without candidate lines that IsAllowedCandidate refuses (Janus puts its
// candidates in its SDP): test traffic stays in this machine, on loopback.
std::string LoopbackCandidatesOnly(const std::string& sdp) {
  std::istringstream in(sdp);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    std::string bare = line;
    if (!bare.empty() && bare.back() == '\r') bare.pop_back();
    if (bare.rfind("a=candidate:", 0) == 0 && !IsAllowedCandidate(bare.substr(2))) continue;
    out += line + "\n";
  }
  return out;
}

// One webrtcbin PeerConnection that offers (or, for a subscriber of Janus, answers). A
// publisher sends test sources (sendonly); a subscriber is recvonly and counts the RTP it gets at its jitterbuffers' inputs (after
// SRTP, before any buffering), then drops it in a fakesink: nothing is depayloaded or
// decoded. Owned and destroyed on the main thread.
class Peer {
public:
  Peer(bool publisher, const PublisherOptions& o, bool answers = false) : st_(std::make_shared<State>()) {
    static int serial = 0;
    std::string name = std::string(publisher ? "pub" : "sub") + std::to_string(serial++);
    st_->pipeline = GRef<GstElement>::adopt(GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new(name.c_str()))));
    st_->webrtc = Make("webrtcbin", (name + "-webrtc").c_str());
    atrium::media::ConfigureIce(st_->webrtc, atrium::media::IceConfig{.addresses = {gClientAddress}});
    gst_bin_add(GST_BIN(st_->pipeline.get()), st_->webrtc);
    g_signal_connect(st_->webrtc, "on-ice-candidate", G_CALLBACK(State::OnIceCandidate), st_.get());
    GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(st_->pipeline.get()));
    busWatch_ = gst_bus_add_watch(bus, State::OnBus, st_.get());
    gst_object_unref(bus);
    if (publisher)
      BuildPublisher(o);
    else
      BuildSubscriber(!answers);
  }

  ~Peer() {
    gst_element_set_state(st_->pipeline.get(), GST_STATE_NULL);  // joins the streaming threads
    GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(st_->pipeline.get()));
    if (busWatch_) gst_bus_remove_watch(bus);
    gst_object_unref(bus);
    g_signal_handlers_disconnect_by_data(st_->webrtc, st_.get());
    if (st_->rtpbin) g_signal_handlers_disconnect_by_data(st_->rtpbin, st_.get());
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // Sets PLAYING, waits for the sources' caps (publisher), creates the offer and sets it
  // as the local description; returns its SDP.
  std::string CreateOffer() {
    if (gst_element_set_state(st_->pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      throw std::runtime_error("pipeline failed to start");
    bool ok = RunUntil(
        [&] {
          return std::all_of(sinkPads_.begin(), sinkPads_.end(),
                             [](const GRef<GstPad>& p) { return gst_pad_has_current_caps(p.get()); });
        },
        10000);
    if (!ok) throw std::runtime_error("publisher sources did not negotiate within 10 s");
    PromiseWaiter created;
    g_signal_emit_by_name(st_->webrtc, "create-offer", nullptr, created.get());
    const GstStructure* reply = created.Wait("create-offer");
    GstWebRTCSessionDescription* offer = nullptr;
    if (reply) gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
    if (!offer) throw std::runtime_error("create-offer returned no offer");
    CPtr<GstWebRTCSessionDescription, gst_webrtc_session_description_free> own(offer);
    PromiseWaiter set;
    g_signal_emit_by_name(st_->webrtc, "set-local-description", offer, set.get());
    set.Wait("set-local-description");
    GCharPtr text(gst_sdp_message_as_text(offer->sdp));
    return text.get();
  }

  // Subscribers that answer: sets PLAYING and the server's offer, creates the answer and
  // sets it as the local description; returns its SDP. The recvonly transceivers come
  // from the offer.
  std::string Answer(const std::string& offerSdp) {
    if (gst_element_set_state(st_->pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      throw std::runtime_error("pipeline failed to start");
    GstSDPMessage* msg = nullptr;
    if (gst_sdp_message_new_from_text(LoopbackCandidatesOnly(offerSdp).c_str(), &msg) != GST_SDP_OK || !msg)
      throw std::runtime_error("offer is not valid SDP");
    CPtr<GstWebRTCSessionDescription, gst_webrtc_session_description_free> offer(
        gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, msg));
    {
      PromiseWaiter set;
      g_signal_emit_by_name(st_->webrtc, "set-remote-description", offer.get(), set.get());
      set.Wait("set-remote-description");
    }
    remoteSet_ = true;
    for (const auto& [m, c] : std::exchange(pendingRemote_, {}))
      g_signal_emit_by_name(st_->webrtc, "add-ice-candidate", guint(m), c.c_str());
    PromiseWaiter created;
    g_signal_emit_by_name(st_->webrtc, "create-answer", nullptr, created.get());
    const GstStructure* reply = created.Wait("create-answer");
    GstWebRTCSessionDescription* answer = nullptr;
    if (reply) gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
    if (!answer) throw std::runtime_error("create-answer returned no answer");
    CPtr<GstWebRTCSessionDescription, gst_webrtc_session_description_free> own(answer);
    PromiseWaiter set;
    g_signal_emit_by_name(st_->webrtc, "set-local-description", answer, set.get());
    set.Wait("set-local-description");
    GCharPtr text(gst_sdp_message_as_text(answer->sdp));
    return text.get();
  }

  // Sets the server's answer, then applies the remote candidates held so far.
  void SetAnswer(const std::string& sdp) {
    GstSDPMessage* msg = nullptr;
    if (gst_sdp_message_new_from_text(LoopbackCandidatesOnly(sdp).c_str(), &msg) != GST_SDP_OK || !msg)
      throw std::runtime_error("answer is not valid SDP");
    CPtr<GstWebRTCSessionDescription, gst_webrtc_session_description_free> answer(
        gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, msg));
    PromiseWaiter set;
    g_signal_emit_by_name(st_->webrtc, "set-remote-description", answer.get(), set.get());
    set.Wait("set-remote-description");
    remoteSet_ = true;
    for (const auto& [m, c] : std::exchange(pendingRemote_, {}))
      g_signal_emit_by_name(st_->webrtc, "add-ice-candidate", guint(m), c.c_str());
  }

  // Loopback UDP candidates only; held until SetAnswer.
  void AddRemoteCandidate(int mline, const std::string& c) {
    if (!IsAllowedCandidate(c)) return;
    if (!remoteSet_)
      pendingRemote_.emplace_back(mline, c);
    else
      g_signal_emit_by_name(st_->webrtc, "add-ice-candidate", guint(mline), c.c_str());
  }

  // Where local candidates go; those gathered before it is set are delivered now.
  void SetCandidateSink(std::function<void(int, const std::string&)> sink) {
    st_->sink = std::move(sink);
    for (const auto& [m, c] : std::exchange(st_->held, {})) st_->sink(m, c);
  }

  const Counters& counters() const { return st_->counters; }
  const std::string& lastError() const { return st_->lastError; }

private:
  struct State : std::enable_shared_from_this<State> {
    GRef<GstElement> pipeline;
    GstElement* webrtc = nullptr;  // owned by the pipeline
    GstElement* rtpbin = nullptr;  // inside webrtcbin
    Counters counters;
    std::function<void(int, const std::string&)> sink;  // main thread
    std::vector<std::pair<int, std::string>> held;      // main thread
    std::string lastError;                              // main thread

    static void OnIceCandidate(GstElement*, guint mline, gchar* cand, gpointer data) {
      auto* self = static_cast<State*>(data);
      PostToMain([weak = self->weak_from_this(), mline, c = std::string(cand ? cand : "")] {
        auto s = weak.lock();
        if (!s) return;
        if (s->sink)
          s->sink(int(mline), c);
        else
          s->held.emplace_back(int(mline), c);
      });
    }

    static gboolean OnBus(GstBus*, GstMessage* msg, gpointer data) {
      if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError* err = nullptr;
        gst_message_parse_error(msg, &err, nullptr);
        auto* self = static_cast<State*>(data);
        self->lastError = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + (err ? err->message : "?");
        std::fprintf(stderr, "sfubench: %s: %s\n", GST_ELEMENT_NAME(self->pipeline.get()), self->lastError.c_str());
        if (err) g_error_free(err);
      }
      return G_SOURCE_CONTINUE;
    }

    // A received stream: drop it into a fakesink (an unlinked pad would stop the stream).
    // Streaming thread; linking here is the usual dynamic-pad pattern.
    static void OnPadAdded(GstElement*, GstPad* pad, gpointer data) {
      if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
      auto* self = static_cast<State*>(data);
      GstElement* sink = gst_element_factory_make("fakesink", nullptr);
      g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
      gst_bin_add(GST_BIN(self->pipeline.get()), sink);
      gst_element_sync_state_with_parent(sink);
      GstPad* sp = gst_element_get_static_pad(sink, "sink");
      gst_pad_link(pad, sp);
      gst_object_unref(sp);
    }

    // A new SSRC reached rtpbin (its first packet is about to enter this jitterbuffer):
    // count everything that enters it. Streaming thread.
    static void OnNewJitterbuffer(GstElement*, GstElement* jb, guint, guint, gpointer data) {
      auto* self = static_cast<State*>(data);
      GstPad* pad = gst_element_get_static_pad(jb, "sink");
      gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                        Counters::Probe, &self->counters, nullptr);
      gst_object_unref(pad);
    }
  };

  void AddSendBranch(std::initializer_list<GstElement*> chain, const CapsPtr& caps) {
    for (GstElement* e : chain) gst_bin_add(GST_BIN(st_->pipeline.get()), e);
    GstElement* prev = nullptr;
    for (GstElement* e : chain) {
      if (prev && !gst_element_link(prev, e)) throw std::runtime_error("cannot link publisher elements");
      prev = e;
    }
    GstPad* src = gst_element_get_static_pad(prev, "src");
    gst_pad_add_probe(src, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      Counters::Probe, &st_->counters, nullptr);
    GstPad* sink = gst_element_request_pad_simple(st_->webrtc, "sink_%u");
    if (!sink) throw std::runtime_error("webrtcbin gave no sink pad");
    GstPadLinkReturn lr = gst_pad_link(src, sink);
    gst_object_unref(src);
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(sink, "transceiver", &trans, nullptr);
    sinkPads_.push_back(GRef<GstPad>::adopt(sink));
    if (GST_PAD_LINK_FAILED(lr) || !trans) throw std::runtime_error("cannot link a payloader to webrtcbin");
    g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences", caps.get(),
                 nullptr);
    gst_object_unref(trans);
  }

  void BuildPublisher(const PublisherOptions& o) {
    // videotestsrc's default SMPTE pattern has a noise patch: with these settings vp8enc
    // stays close to the target bitrate (a flat pattern would compress to a trickle).
    GstElement* vsrc = Make("videotestsrc");
    g_object_set(vsrc, "is-live", TRUE, nullptr);
    GstElement* filter = Make("capsfilter");
    CapsPtr raw(gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, o.width,
                                    "height", G_TYPE_INT, o.height, "framerate", GST_TYPE_FRACTION, o.fps, 1, nullptr));
    g_object_set(filter, "caps", raw.get(), nullptr);
    GstElement* enc = Make("vp8enc");
    g_object_set(enc, "deadline", gint64(1), "cpu-used", o.cpuUsed, "target-bitrate", o.bitrate, nullptr);
    gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
    GstElement* vpay = Make("rtpvp8pay");
    g_object_set(vpay, "pt", guint(kVideoPt), nullptr);
    AddSendBranch({vsrc, filter, enc, vpay}, VideoCaps());

    GstElement* asrc = Make("audiotestsrc");
    g_object_set(asrc, "is-live", TRUE, nullptr);
    GstElement* aenc = Make("opusenc");
    GstElement* apay = Make("rtpopuspay");
    g_object_set(apay, "pt", guint(kAudioPt), nullptr);
    AddSendBranch({asrc, aenc, apay}, AudioCaps());
  }

  void BuildSubscriber(bool offers) {
    for (const CapsPtr& caps : {VideoCaps(), AudioCaps()}) {
      if (!offers) break;
      GstWebRTCRTPTransceiver* trans = nullptr;
      g_signal_emit_by_name(st_->webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(),
                            &trans);
      if (!trans) throw std::runtime_error("add-transceiver failed");
      gst_object_unref(trans);
    }
    g_signal_connect(st_->webrtc, "pad-added", G_CALLBACK(State::OnPadAdded), st_.get());
    // webrtcbin's rtpbin is a child made at construction; find it by factory.
    GstIterator* it = gst_bin_iterate_elements(GST_BIN(st_->webrtc));
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
      auto* e = GST_ELEMENT(g_value_get_object(&v));
      GstElementFactory* f = gst_element_get_factory(e);
      if (f && g_strcmp0(gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f)), "rtpbin") == 0) st_->rtpbin = e;
      g_value_reset(&v);
    }
    g_value_unset(&v);
    gst_iterator_free(it);
    if (!st_->rtpbin) throw std::runtime_error("webrtcbin has no rtpbin child");
    g_signal_connect(st_->rtpbin, "new-jitterbuffer", G_CALLBACK(State::OnNewJitterbuffer), st_.get());
  }

  std::shared_ptr<State> st_;
  guint busWatch_ = 0;
  std::vector<GRef<GstPad>> sinkPads_;  // publisher
  bool remoteSet_ = false;
  std::vector<std::pair<int, std::string>> pendingRemote_;
};

// ---------------------------------------------------------------- participants

// One WebSocket session on the server under test with one PeerConnection (publish or play).
struct Member {
  std::unique_ptr<Peer> peer;
  gint64 requestAt = 0;  // when the play (or publish) request was sent

  virtual ~Member() = default;
  // A subscriber starts playing the published stream; returns once its PeerConnection has
  // the remote description (media may not flow yet).
  virtual void Play(const PublisherOptions& o) = 0;
  // Stops playing and leaves the room, politely.
  virtual void Leave() = 0;
};

// The server under test: a room with one publisher, and subscribers to its stream.
class Server {
public:
  virtual ~Server() = default;
  // Creates the room (for up to `most` subscribers) and publishes the test stream.
  virtual std::unique_ptr<Member> Publish(const PublisherOptions& o, int most) = 0;
  // A new participant in the room, not playing yet.
  virtual std::unique_ptr<Member> Join(const std::string& name) = 0;
  virtual std::string Describe() const = 0;
};

// ---- atriumd: JSON-RPC; the client offers, media.publish / media.play answer.

struct AtriumMember : Member {
  std::unique_ptr<Rpc> rpc;
  std::string mediaId;  // streamId or playId
  std::string streamId;  // what a subscriber plays

  AtriumMember(const std::string& url) : rpc(std::make_unique<Rpc>(url)) {
    rpc->onNotification = [this](const json& n) {
      if (n["method"] == "media.candidate" && peer) {
        const json& p = n["params"];
        if (p.contains("candidate") && p["candidate"].is_string())
          peer->AddRemoteCandidate(p.value("sdpMLineIndex", 0), p["candidate"].get<std::string>());
      }
    };
  }

  // media.publish or media.play with a fresh offer; returns once the answer is set.
  void Connect(bool publisher, const PublisherOptions& o) {
    peer = std::make_unique<Peer>(publisher, o);
    json params = {{"sdp", peer->CreateOffer()}};
    if (publisher)
      params["kind"] = "camera";
    else
      params["streamId"] = streamId;
    requestAt = Now();
    json r = rpc->Call(publisher ? "media.publish" : "media.play", params);
    mediaId = r[publisher ? "streamId" : "playId"].get<std::string>();
    peer->SetAnswer(r["sdp"].get<std::string>());
    peer->SetCandidateSink([rpc = rpc.get(), id = mediaId](int m, const std::string& c) {
      rpc->Notify("media.candidate", {{"id", id}, {"candidate", c}, {"sdpMLineIndex", m}});
    });
  }

  void Play(const PublisherOptions& o) override { Connect(false, o); }

  void Leave() override {
    rpc->Call("media.stop", {{"playId", mediaId}});
    rpc->Call("conference.leave");
  }
};

class AtriumServer : public Server {
public:
  explicit AtriumServer(std::string url) : url_(std::move(url)) {}

  std::unique_ptr<Member> Publish(const PublisherOptions& o, int most) override {
    std::string password = g_getenv("ATRIUM_ADMIN_PASSWORD") ? g_getenv("ATRIUM_ADMIN_PASSWORD") : "";
    if (password.empty()) throw std::runtime_error("set ATRIUM_ADMIN_PASSWORD to the server's admin password");
    auto m = std::make_unique<AtriumMember>(url_);
    m->rpc->Call("auth.login", {{"account", "admin"}, {"password", password}});
    json room = m->rpc->Call("room.create", {{"name", "sfubench"},
                                             {"mode", "sfu"},
                                             {"type", 2},
                                             {"definition", "480p"},
                                             {"numberLimit", std::min(1000, most + 1)},
                                             {"isPublic", true}});
    if (!room.contains("roomId")) throw std::runtime_error("room.create: unexpected reply " + room.dump());
    roomId_ = room["roomId"].get<int64_t>();
    m->rpc->Call("conference.join", {{"roomId", roomId_}, {"displayName", "publisher"}});
    m->Connect(true, o);
    streamId_ = m->mediaId;
    return m;
  }

  std::unique_ptr<Member> Join(const std::string& name) override {
    auto m = std::make_unique<AtriumMember>(url_);
    m->rpc->Call("conference.join", {{"roomId", roomId_}, {"displayName", name}});
    m->streamId = streamId_;
    return m;
  }

  std::string Describe() const override {
    return "atriumd, room " + std::to_string(roomId_) + ", stream " + streamId_;
  }

private:
  std::string url_;
  int64_t roomId_ = 0;
  std::string streamId_;
};

// ---- Janus VideoRoom: a session and a videoroom handle per participant; the publisher
// offers, a subscriber answers Janus's offer (`join` as subscriber, then `start`). Janus
// puts its own candidates in its SDP; ours are trickled.

constexpr int64_t kJanusRoom = 1234;  // bench/sfu/janus/janus.plugin.videoroom.jcfg

struct JanusMember : Member {
  std::unique_ptr<JanusApi> api;
  int64_t session = 0, handle = 0;
  int64_t feed = 0;  // the publisher's id in the room
  bool webrtcUp = false;

  explicit JanusMember(const std::string& url) : api(std::make_unique<JanusApi>(url)) {
    session = api->Request({{"janus", "create"}})["data"]["id"].get<int64_t>();
    handle = api->Request({{"janus", "attach"}, {"session_id", session}, {"plugin", "janus.plugin.videoroom"}})["data"]
                 ["id"]
                     .get<int64_t>();
    api->onEvent = [this](const json& j) {
      if (j.value("janus", "") == "webrtcup") webrtcUp = true;
      if (j.value("janus", "") != "trickle" || !peer || !j.contains("candidate")) return;
      const json& c = j["candidate"];
      if (c.contains("candidate") && c["candidate"].is_string())
        peer->AddRemoteCandidate(c.value("sdpMLineIndex", 0), c["candidate"].get<std::string>());
    };
  }

  json Message(const json& body, const json& jsep = nullptr) {
    json m = {{"janus", "message"}, {"session_id", session}, {"handle_id", handle}, {"body", body}};
    if (!jsep.is_null()) m["jsep"] = jsep;
    return api->Request(m);
  }

  void TrickleTo() {
    peer->SetCandidateSink([this](int m, const std::string& c) {
      json t = {{"janus", "trickle"}, {"session_id", session}, {"handle_id", handle}};
      if (c.empty())
        t["candidate"] = {{"completed", true}};
      else
        t["candidate"] = {{"candidate", c}, {"sdpMLineIndex", m}};
      api->Post(t);
    });
  }

  void Publish(const PublisherOptions& o) {
    peer = std::make_unique<Peer>(true, o);
    json joined = Message({{"request", "join"}, {"room", kJanusRoom}, {"ptype", "publisher"}, {"display", "publisher"}});
    feed = joined["plugindata"]["data"]["id"].get<int64_t>();
    std::string offer = peer->CreateOffer();
    requestAt = Now();
    json r = Message({{"request", "publish"}, {"audio", true}, {"video", true}}, {{"type", "offer"}, {"sdp", offer}});
    if (!r.contains("jsep")) throw std::runtime_error("janus publish: no answer in " + r.dump());
    peer->SetAnswer(r["jsep"]["sdp"].get<std::string>());
    TrickleTo();
    // Subscribers can join the feed once its PeerConnection is up.
    if (!RunUntil([&] { return webrtcUp; }, 15000)) throw std::runtime_error("janus: the publisher's PeerConnection did not come up in 15 s");
  }

  void Play(const PublisherOptions& o) override {
    peer = std::make_unique<Peer>(false, o, true);
    requestAt = Now();
    json r = Message({{"request", "join"}, {"room", kJanusRoom}, {"ptype", "subscriber"}, {"streams", {{{"feed", feed}}}}});
    if (!r.contains("jsep")) throw std::runtime_error("janus subscribe: no offer in " + r.dump());
    std::string answer = peer->Answer(r["jsep"]["sdp"].get<std::string>());
    Message({{"request", "start"}, {"room", kJanusRoom}}, {{"type", "answer"}, {"sdp", answer}});
    TrickleTo();
  }

  void Leave() override {
    Message({{"request", "leave"}});
    api->Request({{"janus", "destroy"}, {"session_id", session}});
  }
};

class JanusServer : public Server {
public:
  explicit JanusServer(std::string url) : url_(std::move(url)) {}

  std::unique_ptr<Member> Publish(const PublisherOptions& o, int) override {
    auto m = std::make_unique<JanusMember>(url_);
    m->Publish(o);
    feed_ = m->feed;
    return m;
  }

  std::unique_ptr<Member> Join(const std::string&) override {
    auto m = std::make_unique<JanusMember>(url_);
    m->feed = feed_;
    return m;
  }

  std::string Describe() const override {
    return "Janus VideoRoom, room " + std::to_string(kJanusRoom) + ", feed " + std::to_string(feed_);
  }

private:
  std::string url_;
  int64_t feed_ = 0;
};

// ---------------------------------------------------------------- /proc

struct ProcSample {
  double cpuSeconds = 0;  // utime + stime, all threads
  double rssMiB = 0;
  int threads = 0;
  gint64 at = 0;
};

ProcSample SampleProc(const std::string& pid) {
  ProcSample s;
  s.at = Now();
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) throw std::runtime_error("cannot read /proc/" + pid + "/stat (process gone?)");
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f;
  for (std::string w; fields >> w;) f.push_back(w);
  // f[0] is field 3 (state): utime and stime are fields 14 and 15.
  if (f.size() < 13) throw std::runtime_error("short /proc/" + pid + "/stat");
  if (f[0] == "Z") throw std::runtime_error("process " + pid + " has exited");
  static const double hz = double(sysconf(_SC_CLK_TCK));
  s.cpuSeconds = (std::stod(f[11]) + std::stod(f[12])) / hz;
  std::ifstream status("/proc/" + pid + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) s.rssMiB = std::stod(line.substr(6)) / 1024.0;
    if (line.rfind("Threads:", 0) == 0) s.threads = std::stoi(line.substr(8));
  }
  return s;
}

// Each thread's name and CPU time (utime + stime, seconds), by thread id.
std::map<std::string, std::pair<std::string, double>> SampleThreads(const std::string& pid) {
  std::map<std::string, std::pair<std::string, double>> out;
  std::string dir = "/proc/" + pid + "/task";
  GDir* d = g_dir_open(dir.c_str(), 0, nullptr);
  if (!d) return out;
  static const double hz = double(sysconf(_SC_CLK_TCK));
  while (const char* tid = g_dir_read_name(d)) {
    std::ifstream stat(dir + "/" + tid + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    std::istringstream fields(text.substr(close + 2));
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.size() < 13) continue;
    out[tid] = {text.substr(open + 1, close - open - 1), (std::stod(f[11]) + std::stod(f[12])) / hz};
  }
  g_dir_close(d);
  return out;
}

// "queue12:src" → "queue#:src": threads of the same kind share a row.
std::string ThreadKind(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (g_ascii_isdigit(c)) {
      if (out.empty() || out.back() != '#') out += '#';
    } else {
      out += c;
    }
  }
  return out;
}

double CpuPercent(const ProcSample& a, const ProcSample& b) {
  return 100.0 * (b.cpuSeconds - a.cpuSeconds) / (double(b.at - a.at) / 1e6);
}

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---------------------------------------------------------------- the run

struct Args {
  std::string url, pid;
  std::vector<int> counts = {1, 5, 10, 20};
  int settleS = 3, durationS = 10;
  PublisherOptions pub;
  std::string perfData;  // where `perf record` writes a profile of the server taken after the last N's window
  bool janus = false;    // the server is Janus (VideoRoom over its WebSocket API), not atriumd
  std::string summary;   // where to write the rows as plain numbers, for scripts
};

struct Row {
  int n = 0;
  double serverCpu = 0, benchCpu = 0, rssMiB = 0;
  int threads = 0;
  double pps = 0, expectedPps = 0, kbpsPerSub = 0;
  double firstMed = NAN, firstMax = NAN, keyMed = NAN, keyMax = NAN;
  int missing = 0;  // subscribers that received nothing
  double serverCpuSeconds = 0, packets = 0, seconds = 0;
  // Server CPU by kind of thread during the window: kind → (% of one core, threads).
  std::vector<std::tuple<std::string, double, int>> threadKinds;
};

std::string Fmt(const char* f, double v) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

class Bench {
public:
  explicit Bench(Args a) : args_(std::move(a)) {}

  int Run() {
    SampleProc(args_.pid);  // the server is there
    if (args_.janus)
      server_ = std::make_unique<JanusServer>(args_.url);
    else
      server_ = std::make_unique<AtriumServer>(args_.url);
    int most = *std::max_element(args_.counts.begin(), args_.counts.end());
    publisher_ = server_->Publish(args_.pub, most);
    std::printf("publisher: %dx%d %d fps VP8 (vp8enc deadline=1 cpu-used=%d target-bitrate=%d end-usage=cbr) + Opus, "
                "to %s\n",
                args_.pub.width, args_.pub.height, args_.pub.fps, args_.pub.cpuUsed, args_.pub.bitrate,
                server_->Describe().c_str());
    std::printf("each N: subscribers play (one WebSocket + one PeerConnection each), %d s to settle, %d s measured\n\n",
                args_.settleS, args_.durationS);
    std::fflush(stdout);

    // A canary subscriber proves that media flows before measuring anything.
    {
      auto subs = AddSubscribers(1, "canary");
      if (subs[0]->peer->counters().packets.load() == 0)
        throw std::runtime_error("the canary subscriber received nothing within 15 s");
      RemoveSubscribers(subs);
    }

    PrintHeader();
    std::vector<Row> rows;
    rows.push_back(Measure(0, {}));
    PrintRow(rows.back(), rows.front());
    for (size_t i = 0; i < args_.counts.size(); ++i) {
      int n = args_.counts[i];
      auto subs = AddSubscribers(n, "sub");
      rows.push_back(Measure(n, subs));
      PrintRow(rows.back(), rows.front());
      if (i + 1 == args_.counts.size() && !args_.perfData.empty()) Profile(n);
      RemoveSubscribers(subs);
    }
    PrintSummary(rows);
    if (!args_.summary.empty()) WriteSummary(rows);
    return 0;
  }

private:
  using Subs = std::vector<std::unique_ptr<Member>>;

  // n subscribers, one after another: join, offer, media.play, answer. Then waits (up to
  // 15 s) until every one has received a packet.
  Subs AddSubscribers(int n, const char* tag) {
    Subs subs;
    for (int i = 0; i < n; ++i) {
      subs.push_back(server_->Join(std::string(tag) + "-" + std::to_string(++serial_)));
    }
    for (auto& m : subs) m->Play(args_.pub);
    RunUntil(
        [&] {
          return std::all_of(subs.begin(), subs.end(), [](const auto& m) { return m->peer->counters().packets > 0; });
        },
        15000);
    return subs;
  }

  void RemoveSubscribers(Subs& subs) {
    for (auto& m : subs) {
      try {
        m->Leave();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sfubench: teardown: %s\n", e.what());
      }
      m.reset();
    }
    subs.clear();
    RunFor(1000);  // let the server finish removing them
  }

  // Profiles the server with `perf record` for one more window, with the subscribers
  // still there. Attaching now (not at the start) lets perf see every thread's name and
  // every plugin the server has loaded; the measured rows stay free of perf's overhead.
  void Profile(int n) {
    const char* argv[] = {"perf", "record", "-q", "-F", "999", "-g", "-p", args_.pid.c_str(), "-o",
                          args_.perfData.c_str(), nullptr};
    GPid child = 0;
    GError* err = nullptr;
    if (!g_spawn_async(nullptr, const_cast<gchar**>(argv), nullptr,
                       GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                   G_SPAWN_STDERR_TO_DEV_NULL),
                       nullptr, nullptr, &child, &err)) {
      std::fprintf(stderr, "sfubench: cannot start perf: %s\n", err->message);
      g_error_free(err);
      return;
    }
    RunFor(args_.durationS * 1000);
    kill(child, SIGINT);
    int status = 0;
    waitpid(child, &status, 0);
    g_spawn_close_pid(child);
    std::printf("    (then profiled with perf for %d s with N=%d into %s)\n", args_.durationS, n, args_.perfData.c_str());
    std::fflush(stdout);
  }

  Row Measure(int n, const Subs& subs) {
    Row r;
    r.n = n;
    RunFor(args_.settleS * 1000);
    auto count = [&] {
      uint64_t p = 0, b = 0;
      for (const auto& m : subs) {
        p += m->peer->counters().packets.load();
        b += m->peer->counters().bytes.load();
      }
      return std::pair{p, b};
    };
    const Counters& pc = publisher_->peer->counters();
    auto t0 = SampleThreads(args_.pid);
    ProcSample s0 = SampleProc(args_.pid), b0 = SampleProc("self");
    auto [p0, by0] = count();
    uint64_t pub0 = pc.packets.load();
    RunFor(args_.durationS * 1000);
    ProcSample s1 = SampleProc(args_.pid), b1 = SampleProc("self");
    auto t1 = SampleThreads(args_.pid);
    auto [p1, by1] = count();
    uint64_t pub1 = pc.packets.load();
    double secs = double(s1.at - s0.at) / 1e6;
    r.seconds = secs;

    std::map<std::string, std::pair<double, int>> kinds;
    for (const auto& [tid, v] : t1) {
      auto it = t0.find(tid);
      double before = it != t0.end() ? it->second.second : 0;  // a thread born in the window
      auto& k = kinds[ThreadKind(v.first)];
      k.first += 100.0 * (v.second - before) / secs;
      k.second++;
    }
    for (const auto& [name, v] : kinds) r.threadKinds.emplace_back(name, v.first, v.second);
    std::sort(r.threadKinds.begin(), r.threadKinds.end(),
              [](const auto& a, const auto& b) { return std::get<1>(a) > std::get<1>(b); });
    r.serverCpu = CpuPercent(s0, s1);
    r.serverCpuSeconds = s1.cpuSeconds - s0.cpuSeconds;
    r.benchCpu = CpuPercent(b0, b1);
    r.rssMiB = s1.rssMiB;
    r.threads = s1.threads;
    r.packets = double(p1 - p0);
    r.pps = r.packets / secs;
    r.expectedPps = double(n) * double(pub1 - pub0) / secs;
    r.kbpsPerSub = n ? 8.0 * double(by1 - by0) / secs / 1000.0 / n : 0;
    std::vector<double> first, key;
    for (const auto& m : subs) {
      const Counters& c = m->peer->counters();
      if (gint64 t = c.firstPacket.load())
        first.push_back(double(t - m->requestAt) / 1000.0);
      else
        r.missing++;
      if (gint64 t = c.firstKeyframe.load()) key.push_back(double(t - m->requestAt) / 1000.0);
    }
    if (!first.empty()) {
      r.firstMed = Median(first);
      r.firstMax = *std::max_element(first.begin(), first.end());
    }
    if (!key.empty()) {
      r.keyMed = Median(key);
      r.keyMax = *std::max_element(key.begin(), key.end());
    }
    if (n == 0) {
      pubVideo_ = double(pc.videoPackets.load());
      pubAudio_ = double(pc.audioPackets.load());
      pubBytes_ = double(pc.bytes.load());
      pubSecs_ = double(Now() - publisher_->requestAt) / 1e6;
      pubPps_ = double(pub1 - pub0) / secs;
    }
    return r;
  }

  // One format for the header and the rows, so that the columns line up.
  static constexpr const char* kColumns = "%3s | %10s | %10s | %6s | %7s | %9s | %8s | %10s | %16s | %17s | %9s\n";

  void PrintHeader() {
    std::printf(kColumns, "N", "server cpu", "per stream", "us/pkt", "rss MiB", "fwd pkt/s", "expected", "kbit/s/sub",
                "play->1st pkt ms", "play->keyframe ms", "bench cpu");
    std::printf(kColumns, "", "", "", "", "", "", "", "", "median / worst", "median / worst", "");
    std::fflush(stdout);
  }

  void PrintRow(const Row& r, const Row& base) {
    double per = r.n ? (r.serverCpu - base.serverCpu) / r.n : NAN;
    // Extra server CPU time per forwarded packet: this window's CPU time less the
    // baseline's rate over the same length.
    double usPkt = NAN;
    if (r.n && r.packets > 0) usPkt = 1e6 * (r.serverCpuSeconds - base.serverCpu / 100.0 * r.seconds) / r.packets;
    std::string first = Fmt("%.0f", r.firstMed) + " / " + Fmt("%.0f", r.firstMax);
    std::string key = Fmt("%.0f", r.keyMed) + " / " + Fmt("%.0f", r.keyMax);
    std::printf(kColumns, std::to_string(r.n).c_str(), Fmt("%.1f%%", r.serverCpu).c_str(), Fmt("%.2f%%", per).c_str(),
                Fmt("%.1f", usPkt).c_str(), Fmt("%.1f", r.rssMiB).c_str(), Fmt("%.0f", r.pps).c_str(),
                Fmt("%.0f", r.expectedPps).c_str(), r.n ? Fmt("%.0f", r.kbpsPerSub).c_str() : "-", first.c_str(),
                key.c_str(), Fmt("%.1f%%", r.benchCpu).c_str());
    if (r.missing) std::printf("    %d of %d subscribers received nothing\n", r.missing, r.n);
    std::fflush(stdout);
  }

  // One line per row: N, server cpu %, per stream %, us/pkt, fwd pkt/s, rss MiB,
  // play->1st pkt median and worst (ms); "nan" where there is no value.
  void WriteSummary(const std::vector<Row>& rows) {
    std::ofstream out(args_.summary);
    const Row& base = rows.front();
    for (const Row& r : rows) {
      double per = r.n ? (r.serverCpu - base.serverCpu) / r.n : NAN;
      double usPkt = NAN;
      if (r.n && r.packets > 0) usPkt = 1e6 * (r.serverCpuSeconds - base.serverCpu / 100.0 * r.seconds) / r.packets;
      out << r.n << ' ' << r.serverCpu << ' ' << per << ' ' << usPkt << ' ' << r.pps << ' ' << r.rssMiB << ' '
          << r.firstMed << ' ' << r.firstMax << '\n';
    }
  }

  void PrintSummary(const std::vector<Row>& rows) {
    std::printf("\npublisher sent %.0f pkt/s (%.0f video + %.0f audio over its life), %.0f kbit/s RTP\n", pubPps_,
                pubVideo_ / pubSecs_, pubAudio_ / pubSecs_, 8 * pubBytes_ / pubSecs_ / 1000);
    const Row& base = rows.front();
    const Row& last = rows.back();
    if (last.n > 0) {
      double perStream = (last.serverCpu - base.serverCpu) / last.n;
      std::printf("N=%d: server %.1f%% of one core (goal: 20 subscribers within one core: %s), %.2f%% per forwarded "
                  "stream, server threads %d\n",
                  last.n, last.serverCpu, last.serverCpu <= 100.0 ? "met" : "NOT met", perStream, last.threads);
    }
    std::printf("per stream = (server cpu with N - with 0) / N, a stream being one subscriber's VP8 + Opus; "
                "us/pkt = the same extra CPU time per forwarded packet\n");
    if (last.n > 0 && !last.threadKinds.empty()) {
      std::printf("\nserver cpu by thread name during the N=%d window (digits folded to #; %% of one core, thread "
                  "count):\n",
                  last.n);
      double rest = 0;
      int restThreads = 0;
      for (size_t i = 0; i < last.threadKinds.size(); ++i) {
        const auto& [name, cpu, count] = last.threadKinds[i];
        if (i < 12 && cpu >= 0.05) {
          std::printf("  %-18s %6.1f%%  %4d\n", name.c_str(), cpu, count);
        } else {
          rest += cpu;
          restThreads += count;
        }
      }
      std::printf("  %-18s %6.1f%%  %4d\n", "(the rest)", rest, restThreads);
    }
  }

  Args args_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Member> publisher_;
  int serial_ = 0;
  double pubVideo_ = 0, pubAudio_ = 0, pubBytes_ = 0, pubSecs_ = 1, pubPps_ = 0;
};

bool IsLoopbackUrl(const std::string& url) {
  for (const char* p : {"ws://127.", "ws://localhost:", "ws://localhost/", "ws://[::1]"})
    if (url.rfind(p, 0) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  gchar* url = nullptr;
  gchar* pid = nullptr;
  gchar* counts = nullptr;
  gchar* perfData = nullptr;
  gchar* summary = nullptr;
  gboolean janus = FALSE;
  gchar* serverAddress = nullptr;
  gchar* clientAddress = nullptr;
  Args a;
  GOptionEntry entries[] = {
      {"url", 0, 0, G_OPTION_ARG_STRING, &url, "atriumd's WebSocket endpoint (loopback only)", "ws://127.0.0.1:PORT/rpc"},
      {"pid", 0, 0, G_OPTION_ARG_STRING, &pid, "atriumd's process id (its CPU and memory are read from /proc)", "PID"},
      {"subscribers", 0, 0, G_OPTION_ARG_STRING, &counts, "Subscriber counts to measure (default 1,5,10,20)", "N,N,..."},
      {"settle", 0, 0, G_OPTION_ARG_INT, &a.settleS, "Seconds to wait before measuring (default 3)", "S"},
      {"duration", 0, 0, G_OPTION_ARG_INT, &a.durationS, "Seconds measured per N (default 10)", "S"},
      {"bitrate", 0, 0, G_OPTION_ARG_INT, &a.pub.bitrate, "VP8 target bitrate, bit/s (default 800000)", "BPS"},
      {"cpu-used", 0, 0, G_OPTION_ARG_INT, &a.pub.cpuUsed, "vp8enc cpu-used (default 8)", "N"},
      {"width", 0, 0, G_OPTION_ARG_INT, &a.pub.width, "Video width (default 640)", "PX"},
      {"height", 0, 0, G_OPTION_ARG_INT, &a.pub.height, "Video height (default 360)", "PX"},
      {"fps", 0, 0, G_OPTION_ARG_INT, &a.pub.fps, "Frames per second (default 30)", "N"},
      {"janus", 0, 0, G_OPTION_ARG_NONE, &janus,
       "The server is Janus: --url is its WebSocket API (janus-protocol), VideoRoom room 1234", nullptr},
      {"server-address", 0, 0, G_OPTION_ARG_STRING, &serverAddress,
       "Also accept remote candidates on this address (one of this network namespace's own)", "IP"},
      {"client-address", 0, 0, G_OPTION_ARG_STRING, &clientAddress,
       "Gather the benchmark's own candidates on this address (default 127.0.0.1)", "IP"},
      {"summary", 0, 0, G_OPTION_ARG_FILENAME, &summary, "Also write the rows as plain numbers into FILE", "FILE"},
      {"perf", 0, 0, G_OPTION_ARG_FILENAME, &perfData,
       "After the last N's window, profile the server with `perf record -g` for another window into FILE", "FILE"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  GOptionContext* ctx = g_option_context_new("- SFU forwarding benchmark against a running atriumd");
  g_option_context_add_main_entries(ctx, entries, nullptr);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  GError* err = nullptr;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
    std::fprintf(stderr, "atrium-sfubench: %s\n", err->message);
    return 2;
  }
  g_option_context_free(ctx);
  if (!url || !pid) {
    std::fprintf(stderr, "atrium-sfubench: --url and --pid are required (see --help)\n");
    return 2;
  }
  a.url = url;
  a.pid = pid;
  if (perfData) a.perfData = perfData;
  if (summary) a.summary = summary;
  a.janus = janus;
  if (serverAddress) gServerAddress = serverAddress;
  if (clientAddress) gClientAddress = clientAddress;
  if (!IsLoopbackUrl(a.url)) {
    std::fprintf(stderr, "atrium-sfubench: %s is not a loopback ws:// URL\n", url);
    return 2;
  }
  if (counts) {
    a.counts.clear();
    gchar** parts = g_strsplit(counts, ",", -1);
    for (gchar** q = parts; *q; ++q) {
      int n = std::atoi(*q);
      if (n < 1 || n > 500) {
        std::fprintf(stderr, "atrium-sfubench: bad subscriber count '%s'\n", *q);
        return 2;
      }
      a.counts.push_back(n);
    }
    g_strfreev(parts);
    if (a.counts.empty()) return 2;
  }
  if (a.settleS < 0 || a.durationS < 1 || a.durationS > 600) {
    std::fprintf(stderr, "atrium-sfubench: --duration must be 1..600 s\n");
    return 2;
  }
  gst_init(&argc, &argv);
  atrium::Log::Init();
  try {
    return Bench(a).Run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "atrium-sfubench: %s\n", e.what());
    return 1;
  }
}
