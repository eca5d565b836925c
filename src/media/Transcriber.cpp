#include "media/Transcriber.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"
#include "media/Elements.hpp"

#include <dlfcn.h>
#include <gio/gio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <mutex>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

namespace {

const char* kSpeechCaps = "audio/x-raw,format=S16LE,layout=interleaved,rate=16000,channels=1";

// sphinxbase writes its configuration table (about 120 lines per recogniser) and its model
// loading notes to stderr. With its log file unset it prints no table, and its
// err_set_callback takes the notes instead: they go to atrium-media, warnings as warnings
// and the rest at LOG level. Both are looked up in the library the plugin has already
// loaded, so that Atrium neither links sphinxbase nor needs its headers.
enum SphinxLevel { kSphinxDebug, kSphinxInfo, kSphinxInfoCont, kSphinxWarn, kSphinxError, kSphinxFatal };
using SphinxLogFn = void (*)(void*, int, const char*, ...);

void SphinxLog(void*, int level, const char* fmt, ...) {
  char line[512];
  va_list args;
  va_start(args, fmt);
  int n = std::vsnprintf(line, sizeof line, fmt, args);
  va_end(args);
  if (n <= 0) return;
  size_t len = std::min(size_t(n), sizeof line - 1);
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ' ')) line[--len] = '\0';
  if (len == 0) return;
  if (level >= kSphinxWarn)
    GST_WARNING("pocketsphinx log [msg:%s]", line);
  else
    GST_LOG("pocketsphinx log [msg:%s]", line);
}

void QuietSphinx() {
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = dlopen("libsphinxbase.so.3", RTLD_LAZY | RTLD_NOLOAD);
    if (!lib) return;
    using SetLogFile = void (*)(FILE*);
    using SetCallback = void (*)(SphinxLogFn, void*);
    if (auto set = reinterpret_cast<SetLogFile>(dlsym(lib, "err_set_logfp"))) set(nullptr);
    if (auto set = reinterpret_cast<SetCallback>(dlsym(lib, "err_set_callback"))) set(SphinxLog, nullptr);
    // The handle stays open: the plugin keeps the library loaded anyway.
  });
}

bool IsFile(const std::string& path) {
  return g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR);
}

// Drops the audio while transcription is paused (the flag is the Transcriber's).
GstPadProbeReturn PauseProbe(GstPad*, GstPadProbeInfo*, gpointer data) {
  return static_cast<std::atomic<bool>*>(data)->load() ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

}  // namespace

const SpeechEngine& SpeechEngine::Default() {
  static const PocketSphinxEngine engine;
  return engine;
}

std::string PocketSphinxEngine::Missing() const {
  if (GstElementFactory* f = gst_element_factory_find("pocketsphinx"))
    gst_object_unref(f);
  else
    return "GStreamer element pocketsphinx (Debian package gstreamer1.0-pocketsphinx)";
  for (const char* file : {"/en-us/mdef", "/en-us.lm.bin", "/cmudict-en-us.dict"})
    if (!IsFile(modelDir_ + file))
      return "speech model " + modelDir_ + file + " (Debian package pocketsphinx-en-us)";
  return {};
}

std::string PocketSphinxEngine::InputCaps() const {
  return kSpeechCaps;
}

GstElement* PocketSphinxEngine::Make(const std::string& name) const {
  if (GstElementFactory* f = gst_element_factory_find("pocketsphinx")) {
    // Loads the plugin (and sphinxbase with it) before the first element logs anything.
    GstPluginFeature* loaded = gst_plugin_feature_load(GST_PLUGIN_FEATURE(f));
    if (loaded) gst_object_unref(loaded);
    gst_object_unref(f);
  }
  QuietSphinx();
  GstElement* ps = MakeElement("pocketsphinx");
  g_object_set(ps, "hmm", (modelDir_ + "/en-us").c_str(), "lm", (modelDir_ + "/en-us.lm.bin").c_str(), "dict",
               (modelDir_ + "/cmudict-en-us.dict").c_str(), nullptr);
  // The element pushes each final text downstream too; the messages are what counts.
  GstElement* sink = MakeElement("fakesink");
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  return ChainBin(name, {ps, sink}, false);
}

std::optional<SpeechResult> PocketSphinxEngine::Parse(GstMessage* msg) const {
  const GstStructure* s = gst_message_get_structure(msg);
  if (!s || !gst_structure_has_name(s, "pocketsphinx")) return std::nullopt;
  SpeechResult r;
  if (const char* hyp = gst_structure_get_string(s, "hypothesis")) r.text = hyp;
  gboolean final = FALSE;
  gst_structure_get_boolean(s, "final", &final);
  r.final = final;
  guint64 ts = GST_CLOCK_TIME_NONE;
  if (gst_structure_get_uint64(s, "timestamp", &ts)) r.timestamp = ts;
  return r;
}

// One transcribed track: tee ! [masked bin: leaky queue ! depay ! decode ! 16 kHz mono ! engine].
struct Transcriber::Branch {
  uint64_t serial = 0;
  std::string streamId;
  std::string participantId;
  std::string name;           // the bin's
  GstElement* bin = nullptr;  // our reference, from creation until it is torn down
  GstElement* tee = nullptr;
  GstPad* teePad = nullptr;  // while attached
  bool attached = false;
  // The utterance in progress (segmentId 0: none).
  uint64_t segmentId = 0;
  int64_t startMs = 0, lastMs = 0;
  std::string lastSent;  // partial text last passed on
  gint64 lastSentUs = 0;
};

namespace {

// What the model-loading thread hands back to the control thread.
struct Prepare {
  std::weak_ptr<Transcriber*> owner;
  std::string streamId;
  uint64_t serial = 0;
  GstElement* bin = nullptr;  // a reference of its own
};

}  // namespace

Transcriber::Transcriber(RoomPipeline& room, const SpeechEngine& engine, Listener& listener)
    : room_(room), engine_(engine), listener_(listener), self_(std::make_shared<Transcriber*>(this)) {
  GST_INFO("transcription started [room:%s engine:%s]", GST_OBJECT_NAME(room_.pipeline()),
           engine_.name().c_str());
}

Transcriber::~Transcriber() {
  self_.reset();  // loads still running find nobody and drop their branch
  for (auto& [id, b] : branches_) Detach(*b);
  branches_.clear();
  GST_INFO("transcription stopped [room:%s]", GST_OBJECT_NAME(room_.pipeline()));
}

void Transcriber::AddStream(const std::string& streamId, const std::string& participantId) {
  if (branches_.count(streamId)) return;
  GstElement* tee = room_.TrackTee(streamId, "audio");
  if (!tee) return;
  auto b = std::make_unique<Branch>();
  b->serial = nextBranch_++;
  b->streamId = streamId;
  b->participantId = participantId;
  b->name = "stt_" + streamId;
  b->tee = tee;
  GstElement* dec = MakeElement("opusdec");
  g_object_set(dec, "plc", TRUE, nullptr);
  GstElement* caps = CapsFilter(engine_.InputCaps());
  b->bin = ChainBin(b->name,
                    {LeakyQueue(200), MakeElement("rtpopusdepay"), dec, MakeElement("audioconvert"),
                     MakeElement("audioresample"), caps, engine_.Make(b->name + "_engine")},
                    true);
  gst_object_ref_sink(b->bin);
  GstPad* out = gst_element_get_static_pad(caps, "src");
  gst_pad_add_probe(out, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    PauseProbe, &paused_, nullptr);
  gst_object_unref(out);

  // Loading a model takes a good part of a second: READY is reached on a worker thread,
  // the rest of the branch's life is the control thread's.
  // The task owns the job (and through it a reference to the bin) until it is done.
  GTask* task = g_task_new(nullptr, nullptr, OnPrepared, nullptr);
  g_task_set_task_data(task, new Prepare{self_, streamId, b->serial, GST_ELEMENT(gst_object_ref(b->bin))},
                       [](gpointer p) {
                         auto* job = static_cast<Prepare*>(p);
                         gst_object_unref(job->bin);
                         delete job;
                       });
  g_task_run_in_thread(task, [](GTask* t, gpointer, gpointer data, GCancellable*) {
    auto* job = static_cast<Prepare*>(data);
    g_task_return_boolean(t, gst_element_set_state(job->bin, GST_STATE_READY) != GST_STATE_CHANGE_FAILURE);
  });
  g_object_unref(task);
  GST_INFO("transcribing stream [stream:%s participant:%s]", streamId.c_str(), participantId.c_str());
  branches_[streamId] = std::move(b);
}

void Transcriber::OnPrepared(GObject*, GAsyncResult* result, gpointer) {
  auto* job = static_cast<Prepare*>(g_task_get_task_data(G_TASK(result)));
  bool ok = g_task_propagate_boolean(G_TASK(result), nullptr);
  Branch* b = nullptr;
  Transcriber* self = nullptr;
  if (auto owner = job->owner.lock()) {
    self = *owner;
    auto it = self->branches_.find(job->streamId);
    if (it != self->branches_.end() && it->second->serial == job->serial) b = it->second.get();
  }
  if (b && ok) {
    self->Attach(*b);
  } else {
    // The stream (or transcription) ended while the model loaded, or the engine did not
    // start: the bin never joined the pipeline and goes with the job's reference.
    if (b) {
      GST_WARNING("speech engine did not start [stream:%s engine:%s]", job->streamId.c_str(),
                  self->engine_.name().c_str());
      self->RemoveStream(job->streamId);
    }
    gst_element_set_state(job->bin, GST_STATE_NULL);
  }
}

void Transcriber::Attach(Branch& b) {
  // An error inside the branch ends this stream's transcription only.
  room_.RouteErrors(b.name, [this, streamId = b.streamId](const std::string& reason) {
    GST_WARNING("transcription branch failed [stream:%s reason:%s]", streamId.c_str(), reason.c_str());
    RemoveStream(streamId);
  });
  gst_bin_add(GST_BIN(room_.pipeline()), b.bin);
  gst_element_sync_state_with_parent(b.bin);
  b.teePad = gst_element_request_pad_simple(b.tee, "src_%u");
  GstPad* sink = gst_element_get_static_pad(b.bin, "sink");
  gst_pad_link(b.teePad, sink);
  gst_object_unref(sink);
  b.attached = true;
  GST_INFO("transcription branch running [stream:%s]", b.streamId.c_str());
}

void Transcriber::Detach(Branch& b) {
  if (b.attached) {
    room_.RouteErrors(b.name, nullptr);
    GstPad* sink = gst_element_get_static_pad(b.bin, "sink");
    gst_pad_unlink(b.teePad, sink);
    gst_object_unref(sink);
    gst_element_release_request_pad(b.tee, b.teePad);
    gst_object_unref(b.teePad);
    b.teePad = nullptr;
    gst_element_set_state(b.bin, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(room_.pipeline()), b.bin);
    b.attached = false;
  }
  // A branch still loading its model is the loading job's to stop (it holds its own reference).
  gst_object_unref(b.bin);
  b.bin = nullptr;
}

void Transcriber::RemoveStream(const std::string& streamId) {
  auto it = branches_.find(streamId);
  if (it == branches_.end()) return;
  std::unique_ptr<Branch> b = std::move(it->second);
  branches_.erase(it);
  Detach(*b);
  GST_INFO("transcription of stream ended [stream:%s]", streamId.c_str());
}

void Transcriber::SetPaused(bool paused) {
  paused_ = paused;
  GST_INFO("transcription %s [room:%s]", paused ? "paused" : "resumed", GST_OBJECT_NAME(room_.pipeline()));
}

void Transcriber::OnElementMessage(GstMessage* msg) {
  auto result = engine_.Parse(msg);
  if (!result) return;
  for (auto& [id, b] : branches_) {
    if (!b->attached || !gst_object_has_as_ancestor(GST_MESSAGE_SRC(msg), GST_OBJECT(b->bin))) continue;
    if (!paused_) Deliver(*b, *result);
    return;
  }
}

int64_t Transcriber::WallMs(GstClockTime runningTime) const {
  gint64 nowUs = g_get_real_time();
  GstClock* clock = GST_CLOCK_TIME_IS_VALID(runningTime) ? gst_element_get_clock(room_.pipeline()) : nullptr;
  if (!clock) return nowUs / 1000;
  GstClockTime now = gst_clock_get_time(clock), base = gst_element_get_base_time(room_.pipeline());
  gst_object_unref(clock);
  gint64 behindUs = (gint64(now) - gint64(base) - gint64(runningTime)) / 1000;
  // Anything but "a little while ago" means the timestamps are not the room's running time.
  if (behindUs < 0 || behindUs > 30 * G_USEC_PER_SEC) behindUs = 0;
  return (nowUs - behindUs) / 1000;
}

void Transcriber::Deliver(Branch& b, const SpeechResult& r) {
  gint64 nowUs = g_get_monotonic_time();
  int64_t at = WallMs(r.timestamp);
  if (!r.final) {
    if (r.text.empty()) return;
    if (!b.segmentId) {
      b.segmentId = ++segments_[b.participantId];
      b.startMs = at;
    }
    b.lastMs = at;
    if (r.text == b.lastSent || nowUs - b.lastSentUs < kPartialIntervalUs) return;
    b.lastSent = r.text;
    b.lastSentUs = nowUs;
    listener_.OnTranscription({b.participantId, b.streamId, r.text, false, b.segmentId, b.startMs, b.lastMs});
    return;
  }
  // A final without text closes the partials that were shown, if any.
  if (r.text.empty() && b.lastSent.empty()) {
    b.segmentId = 0;
    return;
  }
  if (!b.segmentId) {
    b.segmentId = ++segments_[b.participantId];
    b.startMs = b.lastMs = at;
  }
  Utterance u{
      b.participantId, b.streamId, r.text, true, b.segmentId, b.startMs, std::max(b.lastMs, b.startMs)};
  GST_INFO("transcribed [stream:%s segment:%" G_GUINT64_FORMAT " after_ms:%" G_GINT64_FORMAT " text:%s]",
           b.streamId.c_str(), b.segmentId, g_get_real_time() / 1000 - u.endMs, r.text.c_str());
  b.segmentId = 0;
  b.lastSent.clear();
  b.lastSentUs = 0;
  listener_.OnTranscription(u);
}

}  // namespace atrium::media
