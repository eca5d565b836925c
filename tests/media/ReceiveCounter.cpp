#include "tests/media/ReceiveCounter.hpp"

#include "core/GRef.hpp"
#include "core/Log.hpp"
#include "tests/media/Loop.hpp"

#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>

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
    {"VP8", "rtpvp8depay", "vp8dec", true},      {"VP9", "rtpvp9depay", "vp9dec", true},
    {"H264", "rtph264depay", "avdec_h264", true}, {"OPUS", "rtpopusdepay", "opusdec", false},
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
  std::string streams;  // main thread only
  std::vector<GRef<GstPad>> videoDepaySinks;  // main thread only

  // Written by decoder streaming threads, read anywhere.
  std::atomic<uint64_t> frames{0}, audioBuffers{0}, maxGapUs{0}, keyframes{0};
  std::atomic<gint64> firstFrame{0}, lastFrame{0};

  static void OnPadAdded(GstElement*, GstPad* pad, gpointer data) {
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    auto* self = static_cast<Impl*>(data);
    // Hold the first data on the pad until the main thread has linked a decoder: an
    // unlinked push would stop the stream (not-linked).
    gulong probe = gst_pad_add_probe(
        pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, [](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_OK; },
        nullptr, nullptr);
    PostToMain([weak = self->weak_from_this(), pad = GRef<GstPad>(pad), probe] {
      if (auto s = weak.lock()) s->Attach(pad.get(), probe);
    });
  }

  static GstPadProbeReturn OnDecoded(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    if (!(GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)) return GST_PAD_PROBE_OK;
    self->CountFrame();
    return GST_PAD_PROBE_OK;
  }

  static GstPadProbeReturn OnDepayloaded(GstPad*, GstPadProbeInfo* info, gpointer data) {
    if (GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info); buf && !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
      static_cast<Impl*>(data)->keyframes++;
    return GST_PAD_PROBE_OK;
  }

  static GstPadProbeReturn OnAudioDecoded(GstPad*, GstPadProbeInfo* info, gpointer data) {
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) static_cast<Impl*>(data)->audioBuffers++;
    return GST_PAD_PROBE_OK;
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
    std::string enc = EncodingOf(pad);
    const Decoder* d = nullptr;
    for (const auto& c : kDecoders)
      if (enc == c.encoding) d = &c;
    if (!d) {
      GST_ERROR_OBJECT(pad, "no decoder for received stream, dropping it [encoding:%s]", enc.c_str());
      gst_pad_remove_probe(pad, blockProbe);
      return;
    }
    GstElement* depay = gst_element_factory_make(d->depay, nullptr);
    GstElement* dec = gst_element_factory_make(d->decoder, nullptr);
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    if (!depay || !dec || !sink) {
      GST_ERROR_OBJECT(pad, "missing decoder elements [encoding:%s]", enc.c_str());
      for (GstElement* e : {depay, dec, sink})
        if (e) gst_object_unref(gst_object_ref_sink(e));
      gst_pad_remove_probe(pad, blockProbe);
      return;
    }
    if (d->video) g_object_set(depay, "request-keyframe", TRUE, "wait-for-keyframe", TRUE, nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add_many(GST_BIN(pipeline.get()), depay, dec, sink, nullptr);
    if (!gst_element_link_many(depay, dec, sink, nullptr)) {
      GST_ERROR_OBJECT(pad, "cannot link decoder elements [encoding:%s]", enc.c_str());
      gst_pad_remove_probe(pad, blockProbe);
      return;
    }
    GstPad* decSrc = gst_element_get_static_pad(dec, "src");
    gst_pad_add_probe(decSrc, GST_PAD_PROBE_TYPE_BUFFER, d->video ? OnDecoded : OnAudioDecoded, this, nullptr);
    gst_object_unref(decSrc);
    if (d->video) {
      GstPad* depaySrc = gst_element_get_static_pad(depay, "src");
      gst_pad_add_probe(depaySrc, GST_PAD_PROBE_TYPE_BUFFER, OnDepayloaded, this, nullptr);
      gst_object_unref(depaySrc);
    }
    gst_element_sync_state_with_parent(sink);
    gst_element_sync_state_with_parent(dec);
    gst_element_sync_state_with_parent(depay);
    GstPad* depaySink = gst_element_get_static_pad(depay, "sink");
    GstPadLinkReturn lr = gst_pad_link(pad, depaySink);
    if (d->video) videoDepaySinks.push_back(GRef<GstPad>(depaySink));
    gst_object_unref(depaySink);
    gst_pad_remove_probe(pad, blockProbe);
    if (GST_PAD_LINK_FAILED(lr)) {
      GST_ERROR_OBJECT(pad, "cannot link received stream [encoding:%s result:%s]", enc.c_str(),
                       gst_pad_link_get_name(lr));
      return;
    }
    if (!streams.empty()) streams += ",";
    streams += enc;
    GST_DEBUG_OBJECT(pad, "decoder branch linked [encoding:%s]", enc.c_str());
  }
};

ReceiveCounter::ReceiveCounter(GstElement* pipeline, GstElement* webrtcbin) : impl_(std::make_shared<Impl>()) {
  impl_->pipeline = GRef<GstElement>(pipeline);
  impl_->webrtcbin = GRef<GstElement>(webrtcbin);
  impl_->padAddedId = g_signal_connect(webrtcbin, "pad-added", G_CALLBACK(Impl::OnPadAdded), impl_.get());
}

ReceiveCounter::~ReceiveCounter() {
  if (impl_->padAddedId) g_signal_handler_disconnect(impl_->webrtcbin.get(), impl_->padAddedId);
}

uint64_t ReceiveCounter::framesDecoded() const { return impl_->frames.load(); }
uint64_t ReceiveCounter::audioBuffersDecoded() const { return impl_->audioBuffers.load(); }
gint64 ReceiveCounter::firstFrameTime() const { return impl_->firstFrame.load(); }
gint64 ReceiveCounter::lastFrameTime() const { return impl_->lastFrame.load(); }
uint64_t ReceiveCounter::maxFrameGapUs() const { return impl_->maxGapUs.load(); }
uint64_t ReceiveCounter::keyframes() const { return impl_->keyframes.load(); }
std::string ReceiveCounter::streams() const { return impl_->streams; }

bool ReceiveCounter::RequestKeyframe() {
  bool sent = false;
  for (const auto& pad : impl_->videoDepaySinks) {
    // all-headers=TRUE lets the RTP session use FIR where negotiated, PLI otherwise.
    GstEvent* ev = gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0);
    sent = gst_pad_push_event(pad.get(), ev) || sent;
  }
  return sent;
}

}  // namespace atrium::test
