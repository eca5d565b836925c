#include "tests/media/ReceiveCounter.hpp"

#include <gst/audio/audio.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cmath>

#include "core/GRef.hpp"
#include "core/Log.hpp"
#include "tests/media/Loop.hpp"

#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <atomic>
#include <vector>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::test {

namespace {

struct Decoder {
  const char* encoding;
  const char* depay;
  const char* decoder;
  bool video;
};

constexpr Decoder kDecoders[] = {
    {"VP8", "rtpvp8depay", "vp8dec", true},
    {"VP9", "rtpvp9depay", "vp9dec", true},
    {"H264", "rtph264depay", "avdec_h264", true},
    {"OPUS", "rtpopusdepay", "opusdec", false},
};

// The encoding-name of what webrtcbin's src pad will carry. The caps are known on the
// ptdemux pad behind the ghost pad even though no caps event has crossed it yet.
std::string EncodingOf(GstPad* pad) {
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, nullptr);
  std::string enc;
  if (caps && gst_caps_get_size(caps) > 0) {
    const gchar* e = gst_structure_get_string(gst_caps_get_structure(caps, 0), "encoding-name");
    if (e) enc = e;
  }
  if (caps) gst_caps_unref(caps);
  if (enc.empty()) {
    // Fall back to the transceiver's kind with the codecs Atrium tests use.
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(pad, "transceiver", &trans, nullptr);
    if (trans) {
      GstWebRTCKind kind = GST_WEBRTC_KIND_UNKNOWN;
      g_object_get(trans, "kind", &kind, nullptr);
      gst_object_unref(trans);
      if (kind == GST_WEBRTC_KIND_VIDEO) enc = "VP8";
      if (kind == GST_WEBRTC_KIND_AUDIO) enc = "OPUS";
    }
  }
  for (char& c : enc) c = g_ascii_toupper(c);
  return enc;
}

}  // namespace

struct ReceiveCounter::Impl : std::enable_shared_from_this<Impl> {
  GRef<GstElement> pipeline;
  GRef<GstElement> webrtcbin;
  gulong padAddedId = 0;
  std::string streams;                        // main thread only
  std::vector<GRef<GstPad>> videoDepaySinks;  // main thread only

  // Pads held by a blocking probe until the main thread links them; Release() lets them
  // go before a teardown, which would otherwise wait for those streaming threads forever.
  std::mutex blockMutex;
  std::map<GstPad*, gulong> blocked;
  bool closing = false;

  // Written by decoder streaming threads, read anywhere.
  std::atomic<uint64_t> frames{0}, audioBuffers{0}, maxGapUs{0}, keyframes{0}, audibleBuffers{0};
  std::atomic<double> levelDb{-100};
  std::atomic<gint64> firstFrame{0}, lastFrame{0};

  // The last decoded frame and the last half second of audio, for content checks.
  mutable std::mutex contentMutex;
  GstBuffer* lastVideo = nullptr;
  GstVideoInfo videoInfo;
  bool haveVideoInfo = false;
  std::vector<float> audio;  // ring of mono samples
  size_t audioPos = 0;
  int audioRate = 48000;

  ~Impl() {
    if (lastVideo) gst_buffer_unref(lastVideo);
  }

  void KeepFrame(GstPad* pad, GstBuffer* buf) {
    GstCaps* caps = gst_pad_get_current_caps(pad);
    std::lock_guard<std::mutex> lock(contentMutex);
    if (caps) {
      haveVideoInfo = gst_video_info_from_caps(&videoInfo, caps);
      gst_caps_unref(caps);
    }
    gst_buffer_replace(&lastVideo, buf);
  }

  void KeepAudio(GstPad* pad, GstBuffer* buf) {
    GstCaps* caps = gst_pad_get_current_caps(pad);
    GstAudioInfo info;
    bool ok = caps && gst_audio_info_from_caps(&info, caps) && GST_AUDIO_INFO_FORMAT(&info) == GST_AUDIO_FORMAT_S16LE;
    if (caps) gst_caps_unref(caps);
    if (!ok) return;
    GstMapInfo m;
    if (!gst_buffer_map(buf, &m, GST_MAP_READ)) return;
    int ch = GST_AUDIO_INFO_CHANNELS(&info);
    const auto* s = reinterpret_cast<const int16_t*>(m.data);
    size_t frames = m.size / 2 / size_t(ch);
    std::lock_guard<std::mutex> lock(contentMutex);
    audioRate = GST_AUDIO_INFO_RATE(&info);
    if (audio.size() != size_t(audioRate / 2)) {
      audio.assign(size_t(audioRate / 2), 0.f);
      audioPos = 0;
    }
    for (size_t f = 0; f < frames; ++f) {
      float sum = 0;
      for (int c = 0; c < ch; ++c) sum += s[f * ch + c];
      audio[audioPos] = sum / float(ch) / 32768.f;
      audioPos = (audioPos + 1) % audio.size();
    }
    gst_buffer_unmap(buf, &m);
  }

  static void OnPadAdded(GstElement*, GstPad* pad, gpointer data) {
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    auto* self = static_cast<Impl*>(data);
    // Hold the first data on the pad until the main thread has linked a decoder: an
    // unlinked push would stop the stream (not-linked).
    std::lock_guard<std::mutex> lock(self->blockMutex);
    if (self->closing) return;
    gulong probe = gst_pad_add_probe(
        pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
        [](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_OK; }, nullptr, nullptr);
    self->blocked[pad] = probe;
    PostToMain([weak = self->weak_from_this(), pad = GRef<GstPad>(pad), probe] {
      if (auto s = weak.lock()) s->Attach(pad.get(), probe);
    });
  }

  static GstPadProbeReturn OnDecoded(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    if (!(GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)) return GST_PAD_PROBE_OK;
    self->KeepFrame(pad, GST_PAD_PROBE_INFO_BUFFER(info));
    self->CountFrame();
    return GST_PAD_PROBE_OK;
  }

  static GstPadProbeReturn OnDepayloaded(GstPad*, GstPadProbeInfo* info, gpointer data) {
    if (GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
        buf && !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
      static_cast<Impl*>(data)->keyframes++;
    return GST_PAD_PROBE_OK;
  }

  static GstPadProbeReturn OnAudioDecoded(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
    if (!(GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)) return GST_PAD_PROBE_OK;
    auto* self = static_cast<Impl*>(data);
    self->KeepAudio(pad, GST_PAD_PROBE_INFO_BUFFER(info));
    self->audioBuffers++;
    double db = RmsDb(pad, GST_PAD_PROBE_INFO_BUFFER(info));
    self->levelDb = db;
    if (db > -50) self->audibleBuffers++;
    return GST_PAD_PROBE_OK;
  }

  // RMS of a decoded buffer (S16LE or F32LE, as opusdec gives) in dBFS; -100 for silence.
  static double RmsDb(GstPad* pad, GstBuffer* buf) {
    GstCaps* caps = gst_pad_get_current_caps(pad);
    std::string format;
    if (caps && gst_caps_get_size(caps) > 0)
      if (const gchar* f = gst_structure_get_string(gst_caps_get_structure(caps, 0), "format")) format = f;
    if (caps) gst_caps_unref(caps);
    GstMapInfo map;
    if (!gst_buffer_map(buf, &map, GST_MAP_READ)) return -100;
    double sum = 0;
    size_t n = 0;
    if (format == "F32LE") {
      n = map.size / sizeof(float);
      for (size_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, map.data + i * sizeof v, sizeof v);
        sum += double(v) * v;
      }
    } else {
      n = map.size / sizeof(int16_t);
      for (size_t i = 0; i < n; ++i) {
        int16_t v;
        std::memcpy(&v, map.data + i * sizeof v, sizeof v);
        double x = v / 32768.0;
        sum += x * x;
      }
    }
    gst_buffer_unmap(buf, &map);
    if (n == 0 || sum <= 0) return -100;
    return std::max(-100.0, 10 * std::log10(sum / double(n)));
  }

  void CountFrame() {
    gint64 now = g_get_monotonic_time();
    gint64 zero = 0;
    firstFrame.compare_exchange_strong(zero, now);
    gint64 prev = lastFrame.exchange(now);
    if (prev) {
      uint64_t gap = uint64_t(now - prev);
      uint64_t cur = maxGapUs.load();
      while (gap > cur && !maxGapUs.compare_exchange_weak(cur, gap)) {
      }
    }
    frames++;
  }

  void Attach(GstPad* pad, gulong blockProbe) {
    {
      std::lock_guard<std::mutex> lock(blockMutex);
      if (!blocked.erase(pad)) return;  // released for a teardown
    }
    std::string enc = EncodingOf(pad);
    const Decoder* d = nullptr;
    for (const auto& c : kDecoders)
      if (enc == c.encoding) d = &c;
    // An unknown stream still gets a fakesink: left unlinked it would return not-linked.
    std::vector<GstElement*> chain;
    if (d) {
      chain = {gst_element_factory_make(d->depay, nullptr), gst_element_factory_make(d->decoder, nullptr)};
    } else {
      GST_ERROR_OBJECT(pad, "no decoder for received stream, discarding it [encoding:%s]", enc.c_str());
    }
    chain.push_back(gst_element_factory_make("fakesink", nullptr));
    if (std::find(chain.begin(), chain.end(), nullptr) != chain.end()) {
      GST_ERROR_OBJECT(pad, "missing decoder elements [encoding:%s]", enc.c_str());
      for (GstElement* e : chain)
        if (e) gst_object_unref(gst_object_ref_sink(e));
      gst_pad_remove_probe(pad, blockProbe);
      return;
    }
    GstElement* sink = chain.back();
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    for (GstElement* e : chain) gst_bin_add(GST_BIN(pipeline.get()), e);
    for (size_t i = 1; i < chain.size(); ++i) {
      if (!gst_element_link(chain[i - 1], chain[i])) {
        GST_ERROR_OBJECT(pad, "cannot link decoder elements [encoding:%s]", enc.c_str());
        gst_pad_remove_probe(pad, blockProbe);
        return;
      }
    }
    if (d) {
      GstElement* depay = chain[0];
      GstElement* dec = chain[1];
      if (d->video) {
        g_object_set(depay, "request-keyframe", TRUE, "wait-for-keyframe", TRUE, nullptr);
        GstPad* depaySrc = gst_element_get_static_pad(depay, "src");
        gst_pad_add_probe(depaySrc, GST_PAD_PROBE_TYPE_BUFFER, OnDepayloaded, this, nullptr);
        gst_object_unref(depaySrc);
        videoDepaySinks.push_back(GRef<GstPad>::adopt(gst_element_get_static_pad(depay, "sink")));
      }
      GstPad* decSrc = gst_element_get_static_pad(dec, "src");
      gst_pad_add_probe(decSrc, GST_PAD_PROBE_TYPE_BUFFER, d->video ? OnDecoded : OnAudioDecoded, this,
                        nullptr);
      gst_object_unref(decSrc);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) gst_element_sync_state_with_parent(*it);
    GstPad* first = gst_element_get_static_pad(chain.front(), "sink");
    GstPadLinkReturn lr = gst_pad_link(pad, first);
    gst_object_unref(first);
    gst_pad_remove_probe(pad, blockProbe);
    if (GST_PAD_LINK_FAILED(lr)) {
      GST_ERROR_OBJECT(pad, "cannot link received stream [encoding:%s result:%s]", enc.c_str(),
                       gst_pad_link_get_name(lr));
      return;
    }
    if (!d) return;
    if (!streams.empty()) streams += ",";
    streams += enc;
    GST_DEBUG_OBJECT(pad, "decoder branch linked [encoding:%s]", enc.c_str());
  }
};

ReceiveCounter::ReceiveCounter(GstElement* pipeline, GstElement* webrtcbin)
    : impl_(std::make_shared<Impl>()) {
  impl_->pipeline = GRef<GstElement>(pipeline);
  impl_->webrtcbin = GRef<GstElement>(webrtcbin);
  impl_->padAddedId = g_signal_connect(webrtcbin, "pad-added", G_CALLBACK(Impl::OnPadAdded), impl_.get());
}

void ReceiveCounter::Release() {
  std::lock_guard<std::mutex> lock(impl_->blockMutex);
  impl_->closing = true;
  for (auto& [pad, probe] : impl_->blocked) gst_pad_remove_probe(pad, probe);
  impl_->blocked.clear();
}

ReceiveCounter::~ReceiveCounter() {
  if (impl_->padAddedId) g_signal_handler_disconnect(impl_->webrtcbin.get(), impl_->padAddedId);
}

uint64_t ReceiveCounter::framesDecoded() const {
  return impl_->frames.load();
}
uint64_t ReceiveCounter::audioBuffersDecoded() const {
  return impl_->audioBuffers.load();
}
gint64 ReceiveCounter::firstFrameTime() const {
  return impl_->firstFrame.load();
}
gint64 ReceiveCounter::lastFrameTime() const {
  return impl_->lastFrame.load();
}
uint64_t ReceiveCounter::maxFrameGapUs() const {
  return impl_->maxGapUs.load();
}
uint64_t ReceiveCounter::keyframes() const {
  return impl_->keyframes.load();
}
double ReceiveCounter::audioLevelDb() const {
  return impl_->levelDb.load();
}
uint64_t ReceiveCounter::audibleAudioBuffers() const {
  return impl_->audibleBuffers.load();
}
std::string ReceiveCounter::streams() const {
  return impl_->streams;
}

bool ReceiveCounter::RequestKeyframe() {
  bool sent = false;
  for (const auto& pad : impl_->videoDepaySinks) {
    // all-headers=TRUE lets the RTP session use FIR where negotiated, PLI otherwise.
    GstEvent* ev = gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0);
    sent = gst_pad_push_event(pad.get(), ev) || sent;
  }
  return sent;
}

bool ReceiveCounter::SampleYuv(double fx, double fy, int yuv[3]) const {
  std::lock_guard<std::mutex> lock(impl_->contentMutex);
  if (!impl_->lastVideo || !impl_->haveVideoInfo) return false;
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &impl_->videoInfo, impl_->lastVideo, GST_MAP_READ)) return false;
  int w = GST_VIDEO_FRAME_WIDTH(&frame), h = GST_VIDEO_FRAME_HEIGHT(&frame);
  int x = std::clamp(int(fx * w), 0, w - 1), y = std::clamp(int(fy * h), 0, h - 1);
  bool ok = GST_VIDEO_FRAME_FORMAT(&frame) == GST_VIDEO_FORMAT_I420;
  if (ok) {
    auto px = [&](int plane, int px, int py) {
      return int(static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane))
                     [py * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane) + px]);
    };
    yuv[0] = px(0, x, y);
    yuv[1] = px(1, x / 2, y / 2);
    yuv[2] = px(2, x / 2, y / 2);
  }
  gst_video_frame_unmap(&frame);
  return ok;
}

std::string ReceiveCounter::ColourAt(double fx, double fy) const {
  int yuv[3];
  if (!SampleYuv(fx, fy, yuv)) return "none";
  if (yuv[2] > 180 && yuv[1] < 140) return "red";
  if (yuv[1] < 100 && yuv[2] < 100) return "green";
  if (yuv[1] > 180 && yuv[2] < 140) return "blue";
  return "yuv(" + std::to_string(yuv[0]) + "," + std::to_string(yuv[1]) + "," + std::to_string(yuv[2]) + ")";
}

int ReceiveCounter::frameWidth() const {
  std::lock_guard<std::mutex> lock(impl_->contentMutex);
  return impl_->haveVideoInfo ? GST_VIDEO_INFO_WIDTH(&impl_->videoInfo) : 0;
}

int ReceiveCounter::frameHeight() const {
  std::lock_guard<std::mutex> lock(impl_->contentMutex);
  return impl_->haveVideoInfo ? GST_VIDEO_INFO_HEIGHT(&impl_->videoInfo) : 0;
}

double ReceiveCounter::ToneAmplitude(double hz) const {
  std::lock_guard<std::mutex> lock(impl_->contentMutex);
  const auto& a = impl_->audio;
  if (a.empty()) return 0;
  double w = 2 * G_PI * hz / impl_->audioRate, coeff = 2 * std::cos(w), s1 = 0, s2 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double s0 = a[(impl_->audioPos + i) % a.size()] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return 2 * std::sqrt(std::max(power, 0.0)) / double(a.size());
}

}  // namespace atrium::test
