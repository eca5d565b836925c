#include "media/Recorder.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"

#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>

#include <glib/gstdio.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

// Shared with the streaming threads' probes; `alive` drops when the recorder goes, so a
// job posted to the control thread after that does nothing.
struct Recorder::State {
  Recorder* owner = nullptr;
  std::atomic<bool> alive{true};
  std::atomic<guint64> base{GST_CLOCK_TIME_NONE};  // running time that becomes 0 in the file
  bool hasVideo = false;                           // set before any data flows
  std::atomic<guint64> end{0};                     // largest end time written
  // The one lock: the control thread may wait for the file's EOS (StopAndWait).
  std::mutex m;
  std::condition_variable cv;
  bool eos = false;
};

struct Recorder::Track {
  std::shared_ptr<State> state;
  std::string kind;
  std::string codec;
  bool video = false;
  GstElement* tee = nullptr;
  GstPad* teePad = nullptr;
  GstPad* entry = nullptr;  // the bin's ghost sink pad for this track
  std::atomic<bool> keyframeSeen{false};
  std::atomic<bool> gotData{false};
};

namespace {

using Job = std::function<void(Recorder&)>;

struct PostedJob {
  std::shared_ptr<Recorder::State> state;
  Job job;
  static gboolean Run(gpointer p) {
    auto* j = static_cast<PostedJob*>(p);
    if (j->state->alive) {
      try {
        j->job(*j->state->owner);
      } catch (const std::exception& e) {
        GST_ERROR("recorder job failed [what:%s]", e.what());
      }
    }
    return G_SOURCE_REMOVE;
  }
  static void Free(gpointer p) { delete static_cast<PostedJob*>(p); }
};

void Post(const std::shared_ptr<Recorder::State>& s, Job job) {
  g_main_context_invoke_full(nullptr, G_PRIORITY_DEFAULT, PostedJob::Run, new PostedJob{s, std::move(job)},
                             PostedJob::Free);
}

GstElement* Make(const char* factory) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  if (!e) throw AppError(ErrorCode::Internal, std::string("GStreamer element missing: ") + factory);
  return e;
}

GstElement* ParseBin(const std::string& desc) {
  GError* err = nullptr;
  GstElement* e = GST_ELEMENT(
      gst_parse_bin_from_description_full(desc.c_str(), TRUE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err));
  if (!e || err) {
    std::string msg = err ? err->message : "does not parse";
    g_clear_error(&err);
    if (e) gst_object_unref(e);
    throw AppError(ErrorCode::Internal, "recording profile: '" + desc + "': " + msg);
  }
  return e;
}

// The tee's data must never see this branch's failures: the entry pad always reports OK
// upstream (errors reach the bus, where the recorder hears of them).
GstFlowReturn MaskChain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  gst_proxy_pad_chain_default(pad, parent, buffer);
  return GST_FLOW_OK;
}
GstFlowReturn MaskChainList(GstPad* pad, GstObject* parent, GstBufferList* list) {
  gst_proxy_pad_chain_list_default(pad, parent, list);
  return GST_FLOW_OK;
}

// Caps queries stop here: the publisher's pad links to its tee with whatever it has.
GstPadProbeReturn EntryQueryProbe(GstPad*, GstPadProbeInfo* info, gpointer) {
  GstQuery* q = GST_PAD_PROBE_INFO_QUERY(info);
  if (GST_QUERY_TYPE(q) == GST_QUERY_CAPS) {
    GstCaps* any = gst_caps_new_empty_simple("application/x-rtp");
    gst_query_set_caps_result(q, any);
    gst_caps_unref(any);
    return GST_PAD_PROBE_HANDLED;
  }
  return GST_PAD_PROBE_OK;
}

// Moves timestamps so that the recording starts at 0: the first video keyframe (or, in a
// recording without video, the first audio buffer) sets the base, and every track is
// shifted by the same amount. Media from before the base is dropped, so that all tracks
// start together (mp4mux writes no edit list for a late video start in fragmented
// files); segments become plain [0, ∞) time segments. Runs after the depayloader.
GstPadProbeReturn RebaseProbe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* t = static_cast<Recorder::Track*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT) {
      GstSegment seg;
      gst_segment_init(&seg, GST_FORMAT_TIME);
      gst_event_unref(ev);
      GST_PAD_PROBE_INFO_DATA(info) = gst_event_new_segment(&seg);
    }
    return GST_PAD_PROBE_OK;
  }
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  GstClockTime ts = GST_BUFFER_PTS_IS_VALID(buf) ? GST_BUFFER_PTS(buf) : GST_BUFFER_DTS(buf);
  if (!GST_CLOCK_TIME_IS_VALID(ts)) return GST_PAD_PROBE_DROP;
  GstEvent* segEv = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  // The sticky event on this pad is already our rewritten one; the original upstream
  // segment of webrtcbin's pads is a plain one too, so buffer times are running times.
  if (segEv) gst_event_unref(segEv);
  guint64 base = t->state->base.load();
  if (base == GST_CLOCK_TIME_NONE && t->state->hasVideo && !t->video) return GST_PAD_PROBE_DROP;
  if (base == GST_CLOCK_TIME_NONE) {
    guint64 none = GST_CLOCK_TIME_NONE;
    t->state->base.compare_exchange_strong(none, ts);
    base = t->state->base.load();
  }
  if (ts < base) return GST_PAD_PROBE_DROP;
  buf = gst_buffer_make_writable(buf);
  if (GST_BUFFER_PTS_IS_VALID(buf)) GST_BUFFER_PTS(buf) = GST_BUFFER_PTS(buf) >= base ? GST_BUFFER_PTS(buf) - base : 0;
  if (GST_BUFFER_DTS_IS_VALID(buf)) GST_BUFFER_DTS(buf) = GST_BUFFER_DTS(buf) >= base ? GST_BUFFER_DTS(buf) - base : 0;
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  t->gotData = true;
  return GST_PAD_PROBE_OK;
}

// A file must start with a keyframe: drop video until the first one.
GstPadProbeReturn KeyframeGateProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* t = static_cast<Recorder::Track*>(data);
  if (t->keyframeSeen) return GST_PAD_PROBE_OK;
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT)) return GST_PAD_PROBE_DROP;
  t->keyframeSeen = true;
  return GST_PAD_PROBE_OK;
}

// Remembers how far the file goes (for the row's duration).
GstPadProbeReturn EndProbe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* t = static_cast<Recorder::Track*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  GstClockTime ts = GST_BUFFER_PTS_IS_VALID(buf) ? GST_BUFFER_PTS(buf) : GST_BUFFER_DTS(buf);
  // Encoders move their output segment (GstVideoEncoder starts at 1000 h): running time.
  if (GstEvent* ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0)) {
    const GstSegment* seg = nullptr;
    gst_event_parse_segment(ev, &seg);
    if (seg && seg->format == GST_FORMAT_TIME && GST_CLOCK_TIME_IS_VALID(ts))
      ts = gst_segment_to_running_time(seg, GST_FORMAT_TIME, ts);
    gst_event_unref(ev);
  }
  if (GST_CLOCK_TIME_IS_VALID(ts)) {
    guint64 end = ts + (GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0);
    guint64 cur = t->state->end.load();
    while (end > cur && !t->state->end.compare_exchange_weak(cur, end)) {
    }
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn SinkEosProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* state = static_cast<std::shared_ptr<Recorder::State>*>(data);
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS) return GST_PAD_PROBE_OK;
  {
    std::lock_guard<std::mutex> lock((*state)->m);
    (*state)->eos = true;
  }
  (*state)->cv.notify_all();
  Post(*state, [](Recorder& r) {
    if (r.stopped()) r.StopAndWait(0);  // finishes it
  });
  return GST_PAD_PROBE_OK;
}

void FreeStateRef(gpointer p) { delete static_cast<std::shared_ptr<Recorder::State>*>(p); }

void AddChain(GstBin* bin, std::vector<GstElement*> chain) {
  for (auto* e : chain) gst_bin_add(bin, e);
  for (size_t i = 1; i < chain.size(); ++i)
    if (!gst_element_link(chain[i - 1], chain[i]))
      throw AppError(ErrorCode::Internal, std::string("recording branch does not link: ") +
                                              GST_OBJECT_NAME(chain[i - 1]) + " → " + GST_OBJECT_NAME(chain[i]));
}

}  // namespace

Recorder::Recorder(RoomPipeline& room, std::string name, std::string path, const RecordingProfile& profile, Done done)
    : room_(room), name_(std::move(name)), path_(std::move(path)), profile_(profile), done_(std::move(done)) {
  state_ = std::make_shared<State>();
  state_->owner = this;
}

Recorder::~Recorder() {
  state_->alive = false;
  Teardown();
}

int64_t Recorder::durationMs() const { return int64_t(state_->end.load() / GST_MSECOND); }

// queue → depayloader → [keyframe gate] → [parser | audio decode → encode] → muxer pad.
// Returns the queue (the track's entry).
GstElement* Recorder::BuildTrack(Track& t) {
  GstBin* bin = GST_BIN(bin_);
  GstElement* queue = Make("queue");
  // Leaky: a slow disk drops media here instead of holding the publisher's tee.
  g_object_set(queue, "leaky", 2, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
               guint64(3 * GST_SECOND), nullptr);
  std::vector<GstElement*> chain{queue};
  bool video = t.kind == "video";
  const std::string& want = video ? profile_.videoCodec : profile_.audioCodec;
  GstElement* depay = nullptr;
  if (t.codec == "VP8") depay = Make("rtpvp8depay");
  else if (t.codec == "H264") depay = Make("rtph264depay");
  else if (t.codec == "OPUS") depay = Make("rtpopusdepay");
  else throw AppError(ErrorCode::Internal, "cannot record codec " + t.codec);
  chain.push_back(depay);
  {
    GstPad* src = gst_element_get_static_pad(depay, "src");
    if (video) gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, KeyframeGateProbe, &t, nullptr);
    gst_pad_add_probe(src, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      RebaseProbe, &t, nullptr);
    gst_object_unref(src);
  }
  if (t.codec == want) {
    if (t.codec == "H264") {
      GstElement* parse = Make("h264parse");
      chain.push_back(parse);
      GstElement* caps = Make("capsfilter");
      GstCaps* c = gst_caps_from_string("video/x-h264, stream-format=(string)avc, alignment=(string)au");
      g_object_set(caps, "caps", c, nullptr);
      gst_caps_unref(c);
      chain.push_back(caps);
      chain.push_back(Make("h264timestamper"));
    } else if (t.codec == "OPUS") {
      // rtpopusdepay leaves out the rate; matroskamux would then write 0 Hz (1.22.0).
      GstElement* setter = Make("capssetter");
      GstCaps* c = gst_caps_from_string("audio/x-opus, rate=(int)48000");
      g_object_set(setter, "caps", c, nullptr);
      gst_caps_unref(c);
      chain.push_back(setter);
    }
  } else if (video) {
    // Video in another codec comes transcoded from the room's shared branch (Transcoders).
    throw AppError(ErrorCode::Internal, "cannot record " + t.codec + " video into " + profile_.format + " without transcoding");
  } else {
    chain.push_back(Make("opusdec"));
    chain.push_back(Make("audioconvert"));
    chain.push_back(Make("audioresample"));
    chain.push_back(ParseBin(profile_.audioEncoder));
    if (want == "AAC") chain.push_back(Make("aacparse"));
  }
  AddChain(bin, chain);

  GstPad* muxPad = gst_element_request_pad_simple(mux_, video ? "video_%u" : "audio_%u");
  if (!muxPad) throw AppError(ErrorCode::Internal, "the recording muxer has no pad for " + t.kind);
  GstPad* last = gst_element_get_static_pad(chain.back(), "src");
  GstPadLinkReturn r = gst_pad_link(last, muxPad);
  gst_pad_add_probe(last, GST_PAD_PROBE_TYPE_BUFFER, EndProbe, &t, nullptr);
  gst_object_unref(last);
  gst_object_unref(muxPad);
  if (r != GST_PAD_LINK_OK)
    throw AppError(ErrorCode::Internal, "recording branch does not link to the muxer: " + t.kind + " " + t.codec);

  return queue;
}

void Recorder::Start(const std::string& publisherId) {
  publisherId_ = publisherId;
  auto taps = room_.TrackTaps(publisherId);
  if (taps.empty()) throw AppError(ErrorCode::NotFound, "no such stream", {{"streamId", publisherId}});

  // Fail early and clearly when the file cannot be written at all.
  FILE* f = g_fopen(path_.c_str(), "wb");
  if (!f)
    throw AppError(ErrorCode::Unavailable, "cannot write the recording file " + path_ + ": " + g_strerror(errno),
                   {{"path", path_}});
  fclose(f);

  bin_ = gst_bin_new(name_.c_str());
  gst_object_ref_sink(bin_);
  try {
    GError* err = nullptr;
    mux_ = gst_parse_launch_full(profile_.muxer.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
    if (!mux_ || err) {
      std::string msg = err ? err->message : "does not parse";
      g_clear_error(&err);
      throw AppError(ErrorCode::Internal, "recording muxer: " + msg);
    }
    GstElement* sink = Make("filesink");
    // async=false: a new sink must not take the playing room pipeline back to preroll.
    g_object_set(sink, "location", path_.c_str(), "async", FALSE, "sync", FALSE, nullptr);
    gst_bin_add_many(GST_BIN(bin_), mux_, sink, nullptr);
    gst_element_link(mux_, sink);
    GstPad* sinkPad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(sinkPad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, SinkEosProbe,
                      new std::shared_ptr<State>(state_), FreeStateRef);
    gst_object_unref(sinkPad);

    int n = 0;
    for (const auto& tap : taps) {
      auto t = std::make_unique<Track>();
      t->state = state_;
      t->kind = tap.kind;
      t->codec = tap.codec;
      t->tee = tap.tee;
      t->video = tap.kind == "video";
      state_->hasVideo = state_->hasVideo || t->video;
      GstElement* queue = BuildTrack(*t);
      GstPad* qsink = gst_element_get_static_pad(queue, "sink");
      t->entry = gst_ghost_pad_new(("sink_" + std::to_string(n++)).c_str(), qsink);
      gst_object_unref(qsink);
      gst_pad_set_chain_function(t->entry, MaskChain);
      gst_pad_set_chain_list_function(t->entry, MaskChainList);
      gst_pad_add_probe(t->entry, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, EntryQueryProbe, nullptr, nullptr);
      gst_element_add_pad(bin_, t->entry);
      tracks_.push_back(std::move(t));
    }
  } catch (...) {
    tracks_.clear();
    gst_object_unref(bin_);
    bin_ = nullptr;
    mux_ = nullptr;
    throw;
  }

  auto state = state_;
  room_.RouteErrors(name_, [state](const std::string& reason) {
    Post(state, [reason](Recorder& r) {
      GST_ERROR("recording failed [file:%s reason:%s]", r.path().c_str(), reason.c_str());
      r.Finish(false, reason);
    });
  });
  gst_bin_add(GST_BIN(room_.pipeline()), bin_);
  gst_element_sync_state_with_parent(bin_);
  for (auto& t : tracks_) {
    t->teePad = gst_element_request_pad_simple(t->tee, "src_%u");
    gst_pad_link(t->teePad, t->entry);
  }
  room_.RequestKeyframe(publisherId);
  GST_INFO("recording started [file:%s stream:%s tracks:%zu]", path_.c_str(), publisherId.c_str(), tracks_.size());
}

void Recorder::Stop() {
  if (stopped_ || finished_ || !bin_) return;
  stopped_ = true;
  bool any = false;
  for (auto& t : tracks_) {
    if (t->teePad) {
      gst_pad_unlink(t->teePad, t->entry);
      gst_element_release_request_pad(t->tee, t->teePad);
      gst_object_unref(t->teePad);
      t->teePad = nullptr;
    }
    any = any || t->gotData;
  }
  if (!any) {
    // Nothing reached the muxer: there is no file to end.
    Finish(false, "no media was received");
    return;
  }
  for (auto& t : tracks_) gst_pad_send_event(t->entry, gst_event_new_eos());
  GST_INFO("recording stopping [file:%s]", path_.c_str());
}

void Recorder::StopAndWait(int timeoutMs) {
  Stop();
  if (finished_) return;
  bool eos;
  {
    std::unique_lock<std::mutex> lock(state_->m);
    state_->cv.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return state_->eos; });
    eos = state_->eos;
  }
  if (eos)
    Finish(true, "");
  else if (timeoutMs > 0)
    Finish(false, "the file was not finished in time");
}

void Recorder::Finish(bool ok, const std::string& error) {
  if (finished_) return;
  finished_ = true;
  Teardown();
  GST_INFO("recording ended [file:%s ok:%d duration_ms:%" G_GINT64_FORMAT " error:%s]", path_.c_str(), ok,
           durationMs(), error.c_str());
  if (done_) {
    auto done = std::move(done_);
    done(ok, error);  // may destroy this
  }
}

void Recorder::Teardown() {
  if (!bin_) return;
  room_.RouteErrors(name_, nullptr);
  for (auto& t : tracks_) {
    if (t->teePad) {
      gst_pad_unlink(t->teePad, t->entry);
      gst_element_release_request_pad(t->tee, t->teePad);
      gst_object_unref(t->teePad);
      t->teePad = nullptr;
    }
  }
  gst_element_set_state(bin_, GST_STATE_NULL);
  gst_bin_remove(GST_BIN(room_.pipeline()), bin_);
  gst_object_unref(bin_);
  bin_ = nullptr;
  mux_ = nullptr;
}

// ---- repair and probing, outside any room ----

namespace {

struct Remux {
  GstElement* pipeline = nullptr;
  GstElement* mux = nullptr;
};

void OnDemuxPad(GstElement*, GstPad* pad, gpointer data) {
  auto* r = static_cast<Remux*>(data);
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, nullptr);
  const char* name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  bool video = g_str_has_prefix(name, "video/");
  gst_caps_unref(caps);
  GstElement* queue = gst_element_factory_make("queue", nullptr);
  gst_bin_add(GST_BIN(r->pipeline), queue);
  gst_element_sync_state_with_parent(queue);
  GstPad* qsink = gst_element_get_static_pad(queue, "sink");
  gst_pad_link(pad, qsink);
  gst_object_unref(qsink);
  GstPad* muxPad = gst_element_request_pad_simple(r->mux, video ? "video_%u" : "audio_%u");
  GstPad* qsrc = gst_element_get_static_pad(queue, "src");
  if (muxPad) gst_pad_link(qsrc, muxPad);
  gst_object_unref(qsrc);
  if (muxPad) gst_object_unref(muxPad);
}

}  // namespace

int64_t RepairRecording(const std::string& path, const std::string& format) {
  if (!g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR)) throw std::runtime_error("the file is missing");
  std::string tmp = path + ".repair";
  Remux r;
  r.pipeline = gst_pipeline_new("repair");
  GstElement* src = gst_element_factory_make("filesrc", nullptr);
  GstElement* demux = gst_element_factory_make(format == "mp4" ? "qtdemux" : "matroskademux", nullptr);
  r.mux = gst_element_factory_make(format == "mp4" ? "mp4mux" : "webmmux", nullptr);
  GstElement* sink = gst_element_factory_make("filesink", nullptr);
  g_object_set(src, "location", path.c_str(), nullptr);
  g_object_set(sink, "location", tmp.c_str(), nullptr);
  gst_bin_add_many(GST_BIN(r.pipeline), src, demux, r.mux, sink, nullptr);
  gst_element_link(src, demux);
  gst_element_link(r.mux, sink);
  g_signal_connect(demux, "pad-added", G_CALLBACK(OnDemuxPad), &r);
  gst_element_set_state(r.pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(r.pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND,
                                               GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string error;
  if (!msg) {
    error = "remuxing timed out";
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    error = err ? err->message : "remuxing failed";
    g_clear_error(&err);
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(r.pipeline, GST_STATE_NULL);
  gst_object_unref(r.pipeline);
  int64_t duration = error.empty() ? ProbeDurationMs(tmp) : 0;
  if (!error.empty() || duration <= 0) {
    g_unlink(tmp.c_str());
    throw std::runtime_error(error.empty() ? "no media left in the file" : error);
  }
  if (g_rename(tmp.c_str(), path.c_str()) != 0) {
    g_unlink(tmp.c_str());
    throw std::runtime_error(std::string("cannot replace the file: ") + g_strerror(errno));
  }
  return duration;
}

int64_t ProbeDurationMs(const std::string& path) {
  GError* err = nullptr;
  GstDiscoverer* d = gst_discoverer_new(30 * GST_SECOND, &err);
  if (!d) {
    g_clear_error(&err);
    return 0;
  }
  gchar* uri = gst_filename_to_uri(path.c_str(), nullptr);
  GstDiscovererInfo* info = uri ? gst_discoverer_discover_uri(d, uri, &err) : nullptr;
  g_clear_error(&err);
  g_free(uri);
  int64_t ms = 0;
  if (info && gst_discoverer_info_get_result(info) == GST_DISCOVERER_OK)
    ms = int64_t(gst_discoverer_info_get_duration(info) / GST_MSECOND);
  if (info) g_object_unref(info);
  g_object_unref(d);
  return ms;
}

}  // namespace atrium::media
