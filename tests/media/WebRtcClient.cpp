#include "tests/media/WebRtcClient.hpp"

#include "core/GRef.hpp"
#include "core/Log.hpp"
#include "media/Ice.hpp"
#include "tests/media/Loop.hpp"
#include "tests/media/ReceiveCounter.hpp"

#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <stdexcept>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::test {

namespace {

using CapsPtr = CPtr<GstCaps, gst_caps_unref>;

GstElement* Make(const char* factory) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  if (!e) throw std::runtime_error(std::string("missing GStreamer element ") + factory);
  return e;
}

// What the offer declares for each kind. rtcp-fb nack pli lets the answerer's RTP session
// accept our keyframe requests (rtpvp8depay request-keyframe) and send its own.
// H.264: a receiver declares the profile it decodes; a sender's caps stay open, as the
// payloader's profile-level-id comes from the encoder's stream.
CapsPtr VideoRtpCaps(int pt, const std::string& codec, bool receive) {
  GstCaps* caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "encoding-name",
                                      G_TYPE_STRING, codec.c_str(), "payload", G_TYPE_INT, pt, "clock-rate",
                                      G_TYPE_INT, 90000, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE, nullptr);
  if (codec == "H264") gst_caps_set_simple(caps, "packetization-mode", G_TYPE_STRING, "1", nullptr);
  if (codec == "H264" && receive)
    gst_caps_set_simple(caps, "profile-level-id", G_TYPE_STRING, "42e01f", "level-asymmetry-allowed", G_TYPE_STRING,
                        "1", nullptr);
  return CapsPtr(caps);
}

CapsPtr AudioRtpCaps(int pt) {
  return CapsPtr(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio", "encoding-name",
                                     G_TYPE_STRING, "OPUS", "payload", G_TYPE_INT, pt, "clock-rate",
                                     G_TYPE_INT, 48000, "encoding-params", G_TYPE_STRING, "2", nullptr));
}

std::atomic<int> gClientSerial{0};

// The samples of a 16-bit PCM WAV file, and where the loop that sends them has got to.
struct WavLoop {
  std::vector<int16_t> samples;  // interleaved
  int rate = 0, channels = 0;
  size_t pos = 0;     // next sample (interleaved index)
  uint64_t sent = 0;  // frames sent so far: the timestamps

  static uint32_t Le32(const std::string& b, size_t at) {
    return uint32_t(uint8_t(b[at])) | uint32_t(uint8_t(b[at + 1])) << 8 | uint32_t(uint8_t(b[at + 2])) << 16 |
           uint32_t(uint8_t(b[at + 3])) << 24;
  }
  static uint16_t Le16(const std::string& b, size_t at) {
    return uint16_t(uint8_t(b[at]) | uint8_t(b[at + 1]) << 8);
  }

  explicit WavLoop(const std::string& path) {
    gchar* data = nullptr;
    gsize size = 0;
    if (!g_file_get_contents(path.c_str(), &data, &size, nullptr))
      throw std::runtime_error("cannot read " + path);
    std::string b(data, size);
    g_free(data);
    if (b.size() < 12 || b.compare(0, 4, "RIFF") != 0 || b.compare(8, 4, "WAVE") != 0)
      throw std::runtime_error(path + " is not a WAV file");
    int bits = 0;
    for (size_t at = 12; at + 8 <= b.size();) {
      std::string id = b.substr(at, 4);
      size_t len = std::min<size_t>(Le32(b, at + 4), b.size() - at - 8);  // a streamed WAV may not say
      if (id == "fmt " && len >= 16) {
        if (Le16(b, at + 8) != 1) throw std::runtime_error(path + ": not PCM");
        channels = Le16(b, at + 10);
        rate = int(Le32(b, at + 12));
        bits = Le16(b, at + 22);
      } else if (id == "data") {
        samples.resize(len / 2);
        for (size_t i = 0; i < samples.size(); ++i) samples[i] = int16_t(Le16(b, at + 8 + 2 * i));
      }
      at += 8 + len + (len & 1);
    }
    if (bits != 16 || rate <= 0 || channels <= 0 || samples.size() < size_t(channels))
      throw std::runtime_error(path + ": expected 16-bit PCM with samples");
  }

  // appsrc need-data: the next 20 ms, wrapping round to the start.
  static void OnNeedData(GstElement* src, guint, gpointer data) {
    auto* w = static_cast<WavLoop*>(data);
    size_t frames = size_t(w->rate / 50);
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, frames * w->channels * sizeof(int16_t), nullptr);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    auto* out = reinterpret_cast<int16_t*>(map.data);
    for (size_t i = 0; i < frames * w->channels; ++i) {
      out[i] = w->samples[w->pos];
      w->pos = (w->pos + 1) % w->samples.size();
    }
    gst_buffer_unmap(buf, &map);
    GST_BUFFER_PTS(buf) = gst_util_uint64_scale(w->sent, GST_SECOND, w->rate);
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(frames, GST_SECOND, w->rate);
    w->sent += frames;
    GstFlowReturn ret = GST_FLOW_OK;
    g_signal_emit_by_name(src, "push-buffer", buf, &ret);
    gst_buffer_unref(buf);
  }
};

}  // namespace

struct WebRtcClient::Impl : std::enable_shared_from_this<Impl> {
  WebRtcClient* owner = nullptr;
  Options opt;
  GRef<GstElement> pipeline;
  GstElement* webrtc = nullptr;  // owned by the pipeline
  guint busWatch = 0;
  gulong iceCandidateId = 0;
  std::unique_ptr<ReceiveCounter> receiver;  // players only
  std::vector<GRef<GstPad>> sinkPads;        // publishers: webrtcbin's sink pads
  std::unique_ptr<WavLoop> wav;              // publishers sending a WAV file

  // Main thread only.
  bool offered = false, remoteSet = false;
  std::vector<std::pair<int, std::string>> pendingRemote, undeliveredLocal, local;
  uint64_t dropped = 0;
  std::string lastError;
  std::atomic<int> videoLossEvery{0};  // publisher: drop every Nth video RTP packet
  std::atomic<uint64_t> videoPackets{0};
  GstElement* tone = nullptr;  // publisher: the audiotestsrc
  // Publisher header extensions written by RidProbe / LevelProbe, and their ids in the offer.
  static constexpr int kMidExt = 9, kRidExt = 10, kLevelExt = 11;
  struct Layer {
    Impl* impl;
    std::string rid;
    std::atomic<bool> active{true};
  };
  std::vector<std::unique_ptr<Layer>> layers;
  std::atomic<int> levelDbov{127};

  static void AddExtension(GstBuffer* buf, int id, const void* data, guint size) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buf, GST_MAP_READWRITE, &rtp)) return;
    gst_rtp_buffer_add_extension_onebyte_header(&rtp, guint8(id), data, size);
    gst_rtp_buffer_unmap(&rtp);
  }
  // Each layer's packets get the mid and rtp-stream-id extensions; an inactive layer's are dropped.
  static GstPadProbeReturn RidProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* l = static_cast<Layer*>(data);
    if (!l->active.load()) return GST_PAD_PROBE_DROP;
    auto tag = [l](GstBuffer* b) {
      AddExtension(b, kMidExt, "0", 1);
      AddExtension(b, kRidExt, l->rid.data(), guint(l->rid.size()));
    };
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
      GstBuffer* b = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
      tag(b);
      GST_PAD_PROBE_INFO_DATA(info) = b;
    } else {
      GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
      for (guint i = 0; i < gst_buffer_list_length(list); ++i) tag(gst_buffer_list_get_writable(list, i));
      GST_PAD_PROBE_INFO_DATA(info) = list;
    }
    return GST_PAD_PROBE_OK;
  }
  // The tone's level (raw S16 before the encoder) → the audio packets' level extension.
  static GstPadProbeReturn MeasureProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    GstMapInfo m;
    GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!gst_buffer_map(b, &m, GST_MAP_READ)) return GST_PAD_PROBE_OK;
    double sum = 0;
    size_t n = m.size / 2;
    auto* samples = reinterpret_cast<const int16_t*>(m.data);
    for (size_t i = 0; i < n; ++i) sum += double(samples[i]) * samples[i];
    gst_buffer_unmap(b, &m);
    double rms = n ? std::sqrt(sum / double(n)) / 32768.0 : 0;
    double db = rms > 0 ? 20 * std::log10(rms) : -127;
    self->levelDbov = std::clamp(int(-db), 0, 127);
    return GST_PAD_PROBE_OK;
  }
  static GstPadProbeReturn LevelProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    guint8 v = guint8(self->levelDbov.load() & 0x7f);
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
      GstBuffer* b = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
      AddExtension(b, kLevelExt, &v, 1);
      GST_PAD_PROBE_INFO_DATA(info) = b;
    }
    return GST_PAD_PROBE_OK;
  }

  // The offer as browsers write it for simulcast and the audio level: a=extmap, a=rid
  // and a=simulcast lines on the m-lines that send them.
  std::string Munge(const std::string& sdp) const {
    if (layers.empty() && !opt.audioLevelExtension) return sdp;
    std::string out;
    std::string kind;
    size_t pos = 0;
    auto flush = [&]() {
      if (kind == "video" && !layers.empty()) {
        out += "a=extmap:" + std::to_string(kMidExt) + " urn:ietf:params:rtp-hdrext:sdes:mid\r\n";
        out += "a=extmap:" + std::to_string(kRidExt) + " urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n";
        std::string list;
        for (const auto& l : layers) {
          out += "a=rid:" + l->rid + " send\r\n";
          list += (list.empty() ? "" : ";") + l->rid;
        }
        out += "a=simulcast:send " + list + "\r\n";
      }
      if (kind == "audio" && opt.audioLevelExtension)
        out += "a=extmap:" + std::to_string(kLevelExt) + " urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n";
    };
    while (pos < sdp.size()) {
      size_t end = sdp.find("\r\n", pos);
      if (end == std::string::npos) end = sdp.size();
      std::string line = sdp.substr(pos, end - pos);
      pos = end + 2;
      if (line.rfind("m=", 0) == 0) {
        flush();
        kind = line.substr(2, line.find(' ') - 2);
      }
      // webrtcbin's own a=ssrc lines would pin the layers' SSRCs to one: browsers send none.
      if (kind == "video" && !layers.empty() && line.rfind("a=ssrc", 0) == 0) continue;
      out += line + "\r\n";
    }
    flush();
    return out;
  }

  // The payloader pushes single packets or lists of them (one list per frame).
  static GstPadProbeReturn LossProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    auto dropNext = [self] {
      uint64_t n = ++self->videoPackets;
      int every = self->videoLossEvery.load();
      return every > 0 && n % uint64_t(every) == 0;
    };
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) return dropNext() ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
    GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    for (guint i = 0; i < gst_buffer_list_length(list);) {
      if (dropNext())
        gst_buffer_list_remove(list, i, 1);
      else
        ++i;
    }
    GST_PAD_PROBE_INFO_DATA(info) = list;
    return gst_buffer_list_length(list) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
  }

  // :pc thread → main thread.
  static void OnIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    PostToMain([weak = self->weak_from_this(), mline, c = std::string(candidate ? candidate : "")] {
      if (auto s = weak.lock()) s->OnLocalCandidate(int(mline), c);
    });
  }

  static gboolean OnBusMessage(GstBus*, GstMessage* msg, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR || GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
      GError* err = nullptr;
      gchar* dbg = nullptr;
      if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR)
        gst_message_parse_error(msg, &err, &dbg);
      else
        gst_message_parse_warning(msg, &err, &dbg);
      std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " +
                         (err ? err->message : "") + " (" + (dbg ? dbg : "") + ")";
      if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GST_ERROR_OBJECT(self->pipeline.get(), "pipeline error [error:%s]", text.c_str());
        self->lastError = text;
      } else {
        GST_WARNING_OBJECT(self->pipeline.get(), "pipeline warning [warning:%s]", text.c_str());
      }
      if (err) g_error_free(err);
      g_free(dbg);
    }
    return G_SOURCE_CONTINUE;
  }

  void OnLocalCandidate(int mline, const std::string& c) {
    GST_LOG_OBJECT(webrtc, "local candidate [mline:%d candidate:%s]", mline, c.c_str());
    local.emplace_back(mline, c);
    undeliveredLocal.emplace_back(mline, c);
    DeliverLocal();
  }

  void DeliverLocal() {
    if (!owner->onLocalCandidate) return;
    auto batch = std::exchange(undeliveredLocal, {});
    for (const auto& [mline, c] : batch) owner->onLocalCandidate(mline, c);
  }

  // Links src ! ... ! payloader to a new sink pad and makes its transceiver sendonly with
  // `caps` as its codec preferences.
  void AddSendBranch(std::initializer_list<GstElement*> chain, const CapsPtr& caps) {
    for (GstElement* e : chain) gst_bin_add(GST_BIN(pipeline.get()), e);
    GstElement* prev = nullptr;
    for (GstElement* e : chain) {
      if (prev && !gst_element_link(prev, e))
        throw std::runtime_error(std::string("cannot link ") + GST_ELEMENT_NAME(prev) + " to " +
                                 GST_ELEMENT_NAME(e));
      prev = e;
    }
    GstPad* sink = gst_element_request_pad_simple(webrtc, "sink_%u");
    if (!sink) throw std::runtime_error("webrtcbin gave no sink pad");
    GstPad* src = gst_element_get_static_pad(prev, "src");
    GstPadLinkReturn lr = gst_pad_link(src, sink);
    gst_object_unref(src);
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(sink, "transceiver", &trans, nullptr);
    sinkPads.push_back(GRef<GstPad>::adopt(sink));
    auto transRef = GRef<GstWebRTCRTPTransceiver>::adopt(trans);
    if (GST_PAD_LINK_FAILED(lr)) throw std::runtime_error("cannot link payloader to webrtcbin");
    if (!transRef) throw std::runtime_error("webrtcbin sink pad has no transceiver");
    g_object_set(transRef.get(), "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                 "codec-preferences", caps.get(), nullptr);
  }

  // From the main thread, never from a webrtcbin callback: NULL joins webrtcbin's threads,
  // after which nothing reaches this object except the posts, which hold a weak_ptr.
  void Teardown() {
    if (receiver) receiver->Release();
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    if (busWatch) {
      GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline.get()));
      gst_bus_remove_watch(bus);
      gst_object_unref(bus);
      busWatch = 0;
    }
    if (iceCandidateId) g_signal_handler_disconnect(webrtc, std::exchange(iceCandidateId, 0));
    receiver.reset();
  }

  void BuildSimulcast() {
    GstElement* src = Make("videotestsrc");
    g_object_set(src, "is-live", TRUE, nullptr);
    if (!opt.pattern.empty()) gst_util_set_object_arg(G_OBJECT(src), "pattern", opt.pattern.c_str());
    GstElement* raw = Make("capsfilter");
    CapsPtr full(gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, opt.width,
                                     "height", G_TYPE_INT, opt.height, "framerate", GST_TYPE_FRACTION, opt.fps, 1,
                                     nullptr));
    g_object_set(raw, "caps", full.get(), nullptr);
    GstElement* split = Make("tee");
    GstElement* funnel = Make("rtpfunnel");
    gst_bin_add_many(GST_BIN(pipeline.get()), src, raw, split, funnel, nullptr);
    gst_element_link_many(src, raw, split, nullptr);
    size_t n = opt.simulcastRids.size();
    for (size_t i = 0; i < n; ++i) {
      int div = 1 << (n - 1 - i);
      GstElement* q = Make("queue");
      GstElement* scale = Make("videoscale");
      GstElement* size = Make("capsfilter");
      CapsPtr c(gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, opt.width / div, "height", G_TYPE_INT,
                                    opt.height / div, nullptr));
      g_object_set(size, "caps", c.get(), nullptr);
      GstElement* enc = Make("vp8enc");
      g_object_set(enc, "deadline", gint64(1), "keyframe-max-dist",
                   opt.keyframeMaxDist > 0 ? opt.keyframeMaxDist : 128, nullptr);
      GstElement* pay = Make("rtpvp8pay");
      g_object_set(pay, "pt", guint(opt.videoPt), "ssrc", guint(g_random_int()), "picture-id-mode", 2, nullptr);
      gst_bin_add_many(GST_BIN(pipeline.get()), q, scale, size, enc, pay, nullptr);
      gst_element_link_many(split, q, scale, size, enc, pay, funnel, nullptr);
      auto l = std::make_unique<Layer>();
      l->impl = this;
      l->rid = opt.simulcastRids[i];
      GstPad* out = gst_element_get_static_pad(pay, "src");
      gst_pad_add_probe(out, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), RidProbe,
                        l.get(), nullptr);
      gst_object_unref(out);
      layers.push_back(std::move(l));
    }
    GstPad* sink = gst_element_request_pad_simple(webrtc, "sink_%u");
    GstPad* out = gst_element_get_static_pad(funnel, "src");
    if (GST_PAD_LINK_FAILED(gst_pad_link(out, sink))) throw std::runtime_error("cannot link rtpfunnel to webrtcbin");
    gst_object_unref(out);
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(sink, "transceiver", &trans, nullptr);
    sinkPads.push_back(GRef<GstPad>::adopt(sink));
    auto transRef = GRef<GstWebRTCRTPTransceiver>::adopt(trans);
    g_object_set(transRef.get(), "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences",
                 VideoRtpCaps(opt.videoPt, "VP8", false).get(), nullptr);
  }

  void BuildPublisher() {
    if (opt.video && !opt.simulcastRids.empty()) {
      BuildSimulcast();
    } else if (opt.video) {
      GstElement* src = nullptr;
      if (!opt.imageFile.empty()) {
        // A bin: the still image, decoded once and repeated live at the frame rate.
        GError* err = nullptr;
        bool png = g_str_has_suffix(opt.imageFile.c_str(), ".png");
        std::string desc = "filesrc location=\"" + opt.imageFile + "\" ! " + (png ? "pngdec" : "jpegdec") +
                           " ! videoconvert ! videocrop left=" +
                           std::to_string(opt.imageCrop[0]) + " top=" + std::to_string(opt.imageCrop[1]) +
                           " right=" + std::to_string(opt.imageCrop[2]) + " bottom=" + std::to_string(opt.imageCrop[3]) +
                           " ! videoscale ! imagefreeze is-live=true";
        src = gst_parse_bin_from_description(desc.c_str(), TRUE, &err);
        if (!src) {
          std::string why = err ? err->message : "cannot parse";
          g_clear_error(&err);
          throw std::runtime_error("image source: " + why);
        }
      } else {
        src = Make("videotestsrc");
        g_object_set(src, "is-live", TRUE, nullptr);
        if (!opt.pattern.empty()) gst_util_set_object_arg(G_OBJECT(src), "pattern", opt.pattern.c_str());
      }
      GstElement* filter = Make("capsfilter");
      CapsPtr raw(gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
                                      opt.width, "height", G_TYPE_INT, opt.height, "framerate",
                                      GST_TYPE_FRACTION, opt.fps, 1, nullptr));
      g_object_set(filter, "caps", raw.get(), nullptr);
      bool h264 = opt.videoCodec == "H264";
      GstElement* enc = Make(h264 ? "x264enc" : "vp8enc");
      if (h264) {
        gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
        gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
        g_object_set(enc, "key-int-max", guint(opt.keyframeMaxDist > 0 ? opt.keyframeMaxDist : 60), nullptr);
      } else {
        g_object_set(enc, "deadline", gint64(1), nullptr);
        if (opt.keyframeMaxDist > 0) g_object_set(enc, "keyframe-max-dist", opt.keyframeMaxDist, nullptr);
      }
      GstElement* profile = Make("capsfilter");
      CapsPtr encoded(h264 ? gst_caps_from_string("video/x-h264,profile=constrained-baseline")
                           : gst_caps_new_empty_simple("video/x-vp8"));
      g_object_set(profile, "caps", encoded.get(), nullptr);
      GstElement* pay = Make(h264 ? "rtph264pay" : "rtpvp8pay");
      g_object_set(pay, "pt", guint(opt.videoPt), nullptr);
      if (h264) g_object_set(pay, "config-interval", -1, nullptr);
      GstPad* paySrc = gst_element_get_static_pad(pay, "src");
      gst_pad_add_probe(paySrc, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), LossProbe, this, nullptr);
      gst_object_unref(paySrc);
      AddSendBranch({src, filter, enc, profile, pay}, VideoRtpCaps(opt.videoPt, opt.videoCodec, false));
    }
    if (opt.audio && !opt.audioFile.empty()) {
      wav = std::make_unique<WavLoop>(opt.audioFile);
      GstElement* src = Make("appsrc");
      CapsPtr caps(gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "layout",
                                       G_TYPE_STRING, "interleaved", "rate", G_TYPE_INT, wav->rate,
                                       "channels", G_TYPE_INT, wav->channels, nullptr));
      g_object_set(src, "caps", caps.get(), "format", GST_FORMAT_TIME, "is-live", TRUE, nullptr);
      g_signal_connect(src, "need-data", G_CALLBACK(WavLoop::OnNeedData), wav.get());
      // appsrc pushes as fast as it is asked: clocksync sends the samples in real time.
      GstElement* pace = Make("clocksync");
      GstElement* enc = Make("opusenc");
      GstElement* pay = Make("rtpopuspay");
      g_object_set(pay, "pt", guint(opt.audioPt), nullptr);
      AddSendBranch({src, pace, Make("audioconvert"), Make("audioresample"), enc, pay},
                    AudioRtpCaps(opt.audioPt));
    } else if (opt.audio) {
      GstElement* src = Make("audiotestsrc");
      tone = src;
      g_object_set(src, "is-live", TRUE, "volume", opt.volume, nullptr);
      if (opt.toneHz > 0) g_object_set(src, "freq", opt.toneHz, nullptr);
      GstElement* raw = opt.audioLevelExtension ? Make("capsfilter") : nullptr;
      CapsPtr s16(gst_caps_from_string("audio/x-raw,format=S16LE,channels=1,rate=48000"));
      if (raw) g_object_set(raw, "caps", s16.get(), nullptr);
      GstElement* enc = Make("opusenc");
      GstElement* pay = Make("rtpopuspay");
      g_object_set(pay, "pt", guint(opt.audioPt), nullptr);
      if (opt.audioLevelExtension) {
        GstPad* rawOut = gst_element_get_static_pad(raw, "src");
        gst_pad_add_probe(rawOut, GST_PAD_PROBE_TYPE_BUFFER, MeasureProbe, this, nullptr);
        gst_object_unref(rawOut);
        GstPad* out = gst_element_get_static_pad(pay, "src");
        gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, LevelProbe, this, nullptr);
        gst_object_unref(out);
      }
      if (opt.audioLevelExtension)
        AddSendBranch({src, raw, enc, pay}, AudioRtpCaps(opt.audioPt));
      else
        AddSendBranch({src, enc, pay}, AudioRtpCaps(opt.audioPt));
    }
  }

  void BuildPlayer() {
    receiver = std::make_unique<ReceiveCounter>(pipeline.get(), webrtc);
    auto add = [&](const CapsPtr& caps) {
      GstWebRTCRTPTransceiver* trans = nullptr;
      g_signal_emit_by_name(webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                            caps.get(), &trans);
      if (!trans) throw std::runtime_error("add-transceiver failed");
      gst_object_unref(trans);
    };
    if (opt.video) add(VideoRtpCaps(opt.videoPt, opt.videoCodec, true));
    if (opt.audio) add(AudioRtpCaps(opt.audioPt));
  }
};

WebRtcClient::WebRtcClient(Options o) : impl_(std::make_shared<Impl>()) {
  impl_->owner = this;
  impl_->opt = o;
  if (!o.video && !o.audio) throw std::invalid_argument("WebRtcClient needs video or audio");
  int serial = gClientSerial++;
  std::string name = std::string(o.role == Role::Publisher ? "publisher" : "player") + std::to_string(serial);
  impl_->pipeline = GRef<GstElement>::adopt(GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new(name.c_str()))));
  impl_->webrtc = Make("webrtcbin");
  gst_object_set_name(GST_OBJECT(impl_->webrtc), (name + "-webrtc").c_str());
  media::ConfigureIce(impl_->webrtc, media::IceConfig{.addresses = {"127.0.0.1"}});
  gst_bin_add(GST_BIN(impl_->pipeline.get()), impl_->webrtc);
  impl_->iceCandidateId =
      g_signal_connect(impl_->webrtc, "on-ice-candidate", G_CALLBACK(Impl::OnIceCandidate), impl_.get());
  GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(impl_->pipeline.get()));
  impl_->busWatch = gst_bus_add_watch(bus, Impl::OnBusMessage, impl_.get());
  gst_object_unref(bus);
  try {
    if (o.role == Role::Publisher)
      impl_->BuildPublisher();
    else
      impl_->BuildPlayer();
  } catch (...) {
    impl_->Teardown();
    throw;
  }
}

WebRtcClient::~WebRtcClient() {
  impl_->Teardown();
}

std::string WebRtcClient::CreateOffer() {
  if (impl_->offered) throw std::logic_error("CreateOffer called twice");
  impl_->offered = true;
  if (gst_element_set_state(impl_->pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    throw std::runtime_error("client pipeline failed to start");
  // An offer made before the payloaders' caps reach webrtcbin has no a=ssrc (and no
  // a=framerate) for that m-line: wait for them so every offer looks the same.
  bool negotiated = RunUntil(
      [&] {
        return std::all_of(impl_->sinkPads.begin(), impl_->sinkPads.end(),
                           [](const GRef<GstPad>& p) { return gst_pad_has_current_caps(p.get()); });
      },
      10000);
  if (!negotiated) throw std::runtime_error("publisher sources did not negotiate caps within 10 s");

  PromiseWaiter created;
  g_signal_emit_by_name(impl_->webrtc, "create-offer", nullptr, created.get());
  const GstStructure* reply = created.Wait("create-offer");
  GstWebRTCSessionDescription* offer = nullptr;
  if (reply) gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
  if (!offer) throw std::runtime_error("create-offer returned no offer");
  CPtr<GstWebRTCSessionDescription, gst_webrtc_session_description_free> offerPtr(offer);

  GCharPtr created_text(gst_sdp_message_as_text(offer->sdp));
  std::string text = impl_->Munge(created_text.get());
  GstSDPMessage* munged = nullptr;
  if (gst_sdp_message_new_from_text(text.c_str(), &munged) != GST_SDP_OK || !munged)
    throw std::runtime_error("the munged offer is not SDP");
  CPtr<GstWebRTCSessionDescription, gst_webrtc_session_description_free> local(
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, munged));
  PromiseWaiter set;
  g_signal_emit_by_name(impl_->webrtc, "set-local-description", local.get(), set.get());
  set.Wait("set-local-description");
  GST_DEBUG_OBJECT(impl_->webrtc, "offer created [sdp:%s]", text.c_str());
  return text;
}

void WebRtcClient::SetAnswer(const std::string& sdp) {
  if (!impl_->offered) throw std::logic_error("SetAnswer before CreateOffer");
  GstSDPMessage* msg = nullptr;
  if (gst_sdp_message_new_from_text(sdp.c_str(), &msg) != GST_SDP_OK || !msg)
    throw std::runtime_error("answer is not valid SDP");
  CPtr<GstWebRTCSessionDescription, gst_webrtc_session_description_free> answer(
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, msg));
  PromiseWaiter set;
  g_signal_emit_by_name(impl_->webrtc, "set-remote-description", answer.get(), set.get());
  set.Wait("set-remote-description");
  impl_->remoteSet = true;
  for (const auto& [mline, c] : std::exchange(impl_->pendingRemote, {}))
    g_signal_emit_by_name(impl_->webrtc, "add-ice-candidate", guint(mline), c.c_str());
  impl_->DeliverLocal();
}

void WebRtcClient::AddRemoteCandidate(int mline, const std::string& candidate) {
  if (!media::IsLoopbackUdpCandidate(candidate)) {
    impl_->dropped++;
    GST_DEBUG_OBJECT(impl_->webrtc, "remote candidate dropped [mline:%d candidate:%s]", mline,
                     candidate.c_str());
    return;
  }
  if (!impl_->remoteSet) {
    impl_->pendingRemote.emplace_back(mline, candidate);
    return;
  }
  g_signal_emit_by_name(impl_->webrtc, "add-ice-candidate", guint(mline), candidate.c_str());
}

uint64_t WebRtcClient::framesDecoded() const {
  return impl_->receiver ? impl_->receiver->framesDecoded() : 0;
}
double WebRtcClient::audioLevelDb() const {
  return impl_->receiver ? impl_->receiver->audioLevelDb() : -100;
}
uint64_t WebRtcClient::audibleAudioBuffers() const {
  return impl_->receiver ? impl_->receiver->audibleAudioBuffers() : 0;
}
void WebRtcClient::SetVideoLoss(int everyNth) {
  impl_->videoLossEvery = everyNth;
}
void WebRtcClient::SetVolume(double volume) {
  if (impl_->tone) g_object_set(impl_->tone, "volume", volume, nullptr);
}
void WebRtcClient::SetLayerActive(size_t index, bool active) {
  if (index < impl_->layers.size()) impl_->layers[index]->active = active;
}
uint64_t WebRtcClient::audioBuffersDecoded() const {
  return impl_->receiver ? impl_->receiver->audioBuffersDecoded() : 0;
}
gint64 WebRtcClient::firstFrameTime() const {
  return impl_->receiver ? impl_->receiver->firstFrameTime() : 0;
}
gint64 WebRtcClient::lastFrameTime() const {
  return impl_->receiver ? impl_->receiver->lastFrameTime() : 0;
}
uint64_t WebRtcClient::maxFrameGapUs() const {
  return impl_->receiver ? impl_->receiver->maxFrameGapUs() : 0;
}
uint64_t WebRtcClient::keyframesReceived() const {
  return impl_->receiver ? impl_->receiver->keyframes() : 0;
}
bool WebRtcClient::RequestKeyframe() {
  return impl_->receiver && impl_->receiver->RequestKeyframe();
}

GstWebRTCPeerConnectionState WebRtcClient::connectionState() const {
  GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  g_object_get(impl_->webrtc, "connection-state", &state, nullptr);
  return state;
}

uint64_t WebRtcClient::droppedRemoteCandidates() const {
  return impl_->dropped;
}
const ReceiveCounter* WebRtcClient::receiver() const { return impl_->receiver.get(); }

GstElement* WebRtcClient::webrtcbin() const {
  return impl_->webrtc;
}
const std::vector<std::pair<int, std::string>>& WebRtcClient::localCandidates() const {
  return impl_->local;
}
std::string WebRtcClient::lastError() const {
  return impl_->lastError;
}

}  // namespace atrium::test
