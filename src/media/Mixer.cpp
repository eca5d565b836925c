#include "media/Mixer.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"
#include "gstatrium.h"
#include "media/Elements.hpp"

#include <cmath>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

namespace {

constexpr GstClockTime kStallRepeat = GST_SECOND;  // a stalled camera shows its placeholder after this
const char* kAudioCaps = "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1";

GstElement* Label(const std::string& text, bool centred) {
  GstElement* t = MakeElement("textoverlay");
  g_object_set(t, "text", text.c_str(), "font-desc", centred ? "Sans Bold 22" : "Sans Bold 18", "shaded-background",
               !centred, "wait-text", FALSE, nullptr);
  gst_util_set_object_arg(G_OBJECT(t), "valignment", centred ? "center" : "bottom");
  gst_util_set_object_arg(G_OBJECT(t), "halignment", centred ? "center" : "left");
  return t;
}

Codec VideoCodec(const std::string& name) {
  if (name == "H264") return {102, "H264", 90000, "", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"};
  return {96, "VP8", 90000, "", ""};
}

// What the mixer's encoders put on its tees carries running time, as a publisher's
// tracks do (a recording of the mix relies on it).
void NormalizeSrc(GstElement* encoderBin) {
  GstPad* src = gst_element_get_static_pad(encoderBin, "src");
  NormalizeToRunningTime(src);
  gst_object_unref(src);
}

void SetPadRect(GstPad* pad, const Rect& r) {
  if (!pad) return;
  bool shown = r.w > 0 && r.h > 0;
  g_object_set(pad, "xpos", r.x, "ypos", r.y, "width", shown ? r.w : 2, "height", shown ? r.h : 2, "alpha",
               shown ? 1.0 : 0.0, nullptr);
}

}  // namespace

struct Mixer::Tile {
  std::string id;
  std::string participantId;
  bool screen = false;
  GstElement* placeholder = nullptr;  // bin: videotestsrc ! capsfilter ! textoverlay
  GstPad* placeholderPad = nullptr;   // compositor's
  GstPad* videoPad = nullptr;         // compositor's, while a camera or screen feeds it
  Rect rect;
};

// One participant's mix-minus: its input pad on the mixer, and the encoded output.
struct Mixer::Slot {
  unsigned index = 0;
  std::string participantId;
  GstPad* sink = nullptr;
  GstElement* encoder = nullptr;  // bin: queue ! encoder ! payloader
  GstElement* tee = nullptr;
  bool sourceAdded = false;
  bool hasInput = false;
};

struct Mixer::Input {
  std::string streamId;
  std::string kind;  // audio, video
  std::string participantId;
  std::string tileId;
  GstElement* tee = nullptr;
  GstPad* teePad = nullptr;
  GstElement* bin = nullptr;
  GstPad* mixPad = nullptr;  // compositor pad (ours to release) or the slot's mixer pad
};

GstElement* Mixer::Add(const char* factory, const std::string& name) {
  GstElement* e = MakeElement(factory);
  if (!name.empty()) gst_object_set_name(GST_OBJECT(e), name.c_str());
  gst_bin_add(GST_BIN(pipeline_), e);
  fixed_.push_back(e);
  return e;
}

Mixer::Mixer(RoomPipeline& room, const McuProfile& profile, const std::string& definition, Listener& listener)
    : room_(room), profile_(profile), listener_(listener), format_(MixFormatFor(definition)) {
  gst_atrium_register_static();
  pipeline_ = room.pipeline();
  videoCodec_ = VideoCodec(profile.video.codec);
  audioCodec_ = {111, "OPUS", 48000, "2", ""};

  // Aggregators added to a running pipeline start now, not at running time 0 (which
  // would make them produce everything since the room started at once): at their first
  // input buffer, which the live placeholder and silence sources give at once. (A start
  // time "set" to now was ignored in about half the runs on 1.22.0, each aggregator then
  // composing from 0 in a burst; `start-time` stays set for what honours it.)
  GstClockTime now = 0;
  if (GstClock* clock = gst_element_get_clock(pipeline_)) {
    GstClockTime t = gst_clock_get_time(clock), base = gst_element_get_base_time(pipeline_);
    now = t > base ? t - base : 0;
    gst_object_unref(clock);
  }

  // Video: compositor → I420 at the room's definition → encoder → payloader → tee.
  compositor_ = gst_element_factory_make_full("compositor", "name", "mcu_compositor", "force-live", TRUE, nullptr);
  if (!compositor_) throw AppError(ErrorCode::Unavailable, "GStreamer element missing: compositor");
  gst_bin_add(GST_BIN(pipeline_), compositor_);
  fixed_.push_back(compositor_);
  gst_util_set_object_arg(G_OBJECT(compositor_), "background", "black");
  gst_util_set_object_arg(G_OBJECT(compositor_), "start-time-selection", "first");
  g_object_set(compositor_, "start-time", guint64(now), nullptr);
  GstElement* vcaps = Add("capsfilter", "mcu_vcaps");
  GstCaps* c = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, format_.width,
                                   "height", G_TYPE_INT, format_.height, "framerate", GST_TYPE_FRACTION, format_.fps, 1,
                                   "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
  g_object_set(vcaps, "caps", c, nullptr);
  gst_caps_unref(c);
  GstElement* vqueue = Add("queue", "mcu_vqueue");
  // A slow encoder drops composite frames rather than adding latency.
  g_object_set(vqueue, "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time", guint64(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(vqueue), "leaky", "downstream");
  GstElement* venc = profile.MakeBin(profile.video, "mcu_venc");
  gst_bin_add(GST_BIN(pipeline_), venc);
  fixed_.push_back(venc);
  videoTee_ = Add("tee", "mcu_vtee");
  g_object_set(videoTee_, "allow-not-linked", TRUE, nullptr);
  gst_element_link_many(compositor_, vcaps, vqueue, venc, videoTee_, nullptr);
  NormalizeSrc(venc);

  // Audio: a live silence bed keeps the mixer running with nobody publishing; the
  // full mix goes to viewers who do not publish.
  mixminus_ = Add("atriumaudiomixminus", "mcu_mixminus");
  gst_util_set_object_arg(G_OBJECT(mixminus_), "start-time-selection", "first");
  g_object_set(mixminus_, "start-time", guint64(now), "level-interval", guint64(100 * GST_MSECOND), nullptr);
  GstElement* bed = Add("audiotestsrc", "mcu_silence");
  g_object_set(bed, "is-live", TRUE, "samplesperbuffer", 480, nullptr);
  gst_util_set_object_arg(G_OBJECT(bed), "wave", "silence");
  GstElement* bedCaps = Add("capsfilter", "mcu_silence_caps");
  GstElement* acaps = Add("capsfilter", "mcu_acaps");
  c = gst_caps_from_string(kAudioCaps);
  g_object_set(bedCaps, "caps", c, nullptr);
  g_object_set(acaps, "caps", c, nullptr);
  gst_caps_unref(c);
  gst_element_link(bed, bedCaps);
  GstPad* bedSrc = gst_element_get_static_pad(bedCaps, "src");
  GstPad* bedSink = gst_element_request_pad_simple(mixminus_, "sink_0");
  gst_pad_link(bedSrc, bedSink);
  gst_object_unref(bedSrc);
  gst_object_unref(bedSink);
  GstElement* aqueue = Add("queue", "mcu_aqueue");
  GstElement* aenc = profile.MakeBin(profile.audio, "mcu_aenc");
  gst_bin_add(GST_BIN(pipeline_), aenc);
  fixed_.push_back(aenc);
  audioTee_ = Add("tee", "mcu_atee");
  g_object_set(audioTee_, "allow-not-linked", TRUE, nullptr);
  gst_element_link_many(mixminus_, acaps, aqueue, aenc, audioTee_, nullptr);
  NormalizeSrc(aenc);

  // Downstream first: a live aggregator that starts pushing into an element still in
  // READY gets FLUSHING back and pauses for good.
  for (auto it = fixed_.rbegin(); it != fixed_.rend(); ++it)
    if (*it != bed) gst_element_sync_state_with_parent(*it);
  gst_element_sync_state_with_parent(bed);
  room_.AddLocalSource(kFullMixSource, {{"video", videoCodec_, videoTee_}, {"audio", audioCodec_, audioTee_}});
  GST_INFO("mixer started [%dx%d@%d video:%s]", format_.width, format_.height, format_.fps,
           profile.video.codec.c_str());
}

Mixer::~Mixer() {
  room_.Remove(kFullMixSource);
  for (auto& [pid, s] : slots_)
    if (s->sourceAdded) room_.Remove("mix-" + pid);
  while (!inputs_.empty()) RemoveInput(*inputs_.begin()->second);
  while (!tiles_.empty()) DropTile(tiles_.front()->id);
  std::vector<GstElement*> all;
  for (auto* list : {&slots_}) {
    for (auto& [pid, s] : *list) {
      all.push_back(s->encoder);
      all.push_back(s->tee);
    }
  }
  for (auto& s : freeSlots_) {
    all.push_back(s->encoder);
    all.push_back(s->tee);
  }
  all.insert(all.end(), fixed_.begin(), fixed_.end());
  for (auto* e : all) gst_element_set_state(e, GST_STATE_NULL);
  for (auto& [pid, s] : slots_) gst_object_unref(s->sink);
  for (auto& s : freeSlots_) gst_object_unref(s->sink);
  for (auto* e : all) gst_bin_remove(GST_BIN(pipeline_), e);
}

Mixer::Tile* Mixer::TileOf(const std::string& tileId) {
  for (auto& t : tiles_)
    if (t->id == tileId) return t.get();
  return nullptr;
}

void Mixer::NewTile(const std::string& tileId, const std::string& participantId, const std::string& name,
                    bool screen) {
  if (TileOf(tileId)) return;
  auto t = std::make_unique<Tile>();
  t->id = tileId;
  t->participantId = participantId;
  t->screen = screen;
  // A small still frame with the name; compositor scales it to the tile and keeps
  // showing it under the camera, so that a missing or stalled camera shows the name.
  GstElement* src = MakeElement("videotestsrc");
  g_object_set(src, "is-live", TRUE, "foreground-color", 0xff2b2d42u, nullptr);
  gst_util_set_object_arg(G_OBJECT(src), "pattern", "solid-color");
  t->placeholder = ChainBin("mcu_placeholder_" + tileId,
                         {src, CapsFilter("video/x-raw,format=I420,width=320,height=180,framerate=5/1"),
                          Label(name, true)},
                         false);
  gst_bin_add(GST_BIN(pipeline_), t->placeholder);
  t->placeholderPad = gst_element_request_pad_simple(compositor_, "sink_%u");
  g_object_set(t->placeholderPad, "zorder", 1u, nullptr);
  SetPadRect(t->placeholderPad, Rect{});
  GstPad* out = gst_element_get_static_pad(t->placeholder, "src");
  gst_pad_link(out, t->placeholderPad);
  gst_object_unref(out);
  gst_element_sync_state_with_parent(t->placeholder);
  tiles_.push_back(std::move(t));
  Relayout();
}

void Mixer::DropTile(const std::string& tileId) {
  for (auto it = tiles_.begin(); it != tiles_.end(); ++it) {
    Tile& t = **it;
    if (t.id != tileId) continue;
    for (auto i = inputs_.begin(); i != inputs_.end();) {
      auto next = std::next(i);
      if (i->second->tileId == tileId && i->second->kind == "video") RemoveInput(*i->second);
      i = next;
    }
    // The compositor's pad goes first: it lets go of a source thread waiting in it.
    GstPad* out = gst_element_get_static_pad(t.placeholder, "src");
    gst_pad_unlink(out, t.placeholderPad);
    gst_object_unref(out);
    gst_element_release_request_pad(compositor_, t.placeholderPad);
    gst_object_unref(t.placeholderPad);
    gst_element_set_state(t.placeholder, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline_), t.placeholder);
    tiles_.erase(it);
    Relayout();
    return;
  }
}

void Mixer::AddParticipant(const std::string& participantId, const std::string& name) {
  names_[participantId] = name;
  NewTile(participantId, participantId, name, false);
}

void Mixer::RemoveParticipant(const std::string& participantId) {
  for (auto i = inputs_.begin(); i != inputs_.end();) {
    auto next = std::next(i);
    if (i->second->participantId == participantId) RemoveInput(*i->second);
    i = next;
  }
  std::vector<std::string> tiles;
  for (auto& t : tiles_)
    if (t->participantId == participantId) tiles.push_back(t->id);
  for (const auto& id : tiles) DropTile(id);
  if (auto s = slots_.find(participantId); s != slots_.end()) {
    if (s->second->sourceAdded) room_.Remove("mix-" + participantId);
    s->second->sourceAdded = false;
    s->second->participantId.clear();
    freeSlots_.push_back(std::move(s->second));
    slots_.erase(s);
  }
  names_.erase(participantId);
  speakers_.Remove(participantId);
  if (speaker_ == participantId) speaker_.clear();
}

Mixer::Slot& Mixer::SlotOf(const std::string& participantId) {
  auto it = slots_.find(participantId);
  if (it != slots_.end()) return *it->second;
  std::unique_ptr<Slot> s;
  if (!freeSlots_.empty()) {
    s = std::move(freeSlots_.back());
    freeSlots_.pop_back();
  } else {
    s = std::make_unique<Slot>();
    s->index = nextSlot_++;
    std::string n = std::to_string(s->index);
    s->sink = gst_element_request_pad_simple(mixminus_, ("sink_" + n).c_str());
    GstElement* enc = profile_.MakeBin(profile_.audio, "mcu_aenc_" + n);
    GstElement* q = MakeElement("queue");
    s->encoder = gst_bin_new(("mcu_minus_" + n).c_str());
    gst_bin_add_many(GST_BIN(s->encoder), q, enc, nullptr);
    gst_element_link(q, enc);
    GstPad* qs = gst_element_get_static_pad(q, "sink");
    gst_element_add_pad(s->encoder, gst_ghost_pad_new("sink", qs));
    gst_object_unref(qs);
    GstPad* es = gst_element_get_static_pad(enc, "src");
    gst_element_add_pad(s->encoder, gst_ghost_pad_new("src", es));
    gst_object_unref(es);
    s->tee = MakeElement("tee");
    gst_object_set_name(GST_OBJECT(s->tee), ("mcu_minus_tee_" + n).c_str());
    g_object_set(s->tee, "allow-not-linked", TRUE, nullptr);
    gst_bin_add_many(GST_BIN(pipeline_), s->encoder, s->tee, nullptr);
    gst_element_link(s->encoder, s->tee);
    NormalizeSrc(s->encoder);
    gst_element_sync_state_with_parent(s->tee);
    gst_element_sync_state_with_parent(s->encoder);
    GstPad* minus = gst_element_get_static_pad(mixminus_, ("src_" + n).c_str());
    GstPad* in = gst_element_get_static_pad(s->encoder, "sink");
    gst_pad_link(minus, in);
    gst_object_unref(minus);
    gst_object_unref(in);
  }
  s->participantId = participantId;
  return *(slots_[participantId] = std::move(s));
}

std::string Mixer::SourceFor(const std::string& participantId) {
  Slot& s = SlotOf(participantId);
  std::string id = "mix-" + participantId;
  if (!s.sourceAdded) {
    room_.AddLocalSource(id, {{"video", videoCodec_, videoTee_}, {"audio", audioCodec_, s.tee}});
    s.sourceAdded = true;
  }
  return id;
}

void Mixer::AddStream(const std::string& streamId, const std::string& participantId, const std::string& kind) {
  std::string name = names_.count(participantId) ? names_[participantId] : participantId;
  for (const char* media : {"video", "audio"}) {
    Codec codec;
    GstElement* tee = room_.TrackTee(streamId, media, &codec);
    if (!tee) continue;
    auto in = std::make_unique<Input>();
    in->streamId = streamId;
    in->kind = media;
    in->participantId = participantId;
    in->tee = tee;
    std::string key = streamId + "/" + media;
    if (in->kind == "video") {
      bool screen = kind == "screen";
      in->tileId = screen ? streamId : participantId;
      if (screen) NewTile(in->tileId, participantId, name + " (screen)", true);
      Tile* tile = TileOf(in->tileId);
      if (!tile) continue;
      if (tile->videoPad)  // a newer camera replaces the older one
        for (auto& [k, other] : inputs_)
          if (other->kind == "video" && other->tileId == in->tileId) {
            RemoveInput(*other);
            break;
          }
      bool h264 = codec.name == "H264";
      GstElement* depay = MakeElement(h264 ? "rtph264depay" : "rtpvp8depay");
      if (!h264) g_object_set(depay, "request-keyframe", TRUE, "wait-for-keyframe", TRUE, nullptr);
      GstElement* dec = MakeElement(h264 ? "avdec_h264" : "vp8dec");
      g_object_set(dec, "max-errors", -1, nullptr);
      in->bin = ChainBin("mcu_in_" + streamId + "_v", {LeakyQueue(200), depay, dec, MakeElement("videoconvert"), Label(name, false)},
                      true);
      in->mixPad = gst_element_request_pad_simple(compositor_, "sink_%u");
      g_object_set(in->mixPad, "zorder", 2u, "max-last-buffer-repeat", guint64(kStallRepeat), nullptr);
      tile->videoPad = in->mixPad;
      SetPadRect(in->mixPad, tile->rect);
    } else {
      Slot& slot = SlotOf(participantId);
      if (slot.hasInput)
        for (auto& [k, other] : inputs_)
          if (other->kind == "audio" && other->participantId == participantId) {
            RemoveInput(*other);
            break;
          }
      GstElement* dec = MakeElement("opusdec");
      g_object_set(dec, "plc", TRUE, nullptr);
      in->bin = ChainBin("mcu_in_" + streamId + "_a",
                      {LeakyQueue(200), MakeElement("rtpopusdepay"), dec, MakeElement("audioconvert"), MakeElement("audioresample"),
                       CapsFilter(kAudioCaps)},
                      true);
      in->mixPad = slot.sink;
      slot.hasInput = true;
    }
    gst_bin_add(GST_BIN(pipeline_), in->bin);
    GstPad* out = gst_element_get_static_pad(in->bin, "src");
    gst_pad_link(out, in->mixPad);
    gst_object_unref(out);
    gst_element_sync_state_with_parent(in->bin);
    in->teePad = gst_element_request_pad_simple(tee, "src_%u");
    GstPad* sink = gst_element_get_static_pad(in->bin, "sink");
    gst_pad_link(in->teePad, sink);
    gst_object_unref(sink);
    GST_INFO("mixer input [stream:%s kind:%s participant:%s]", streamId.c_str(), media, participantId.c_str());
    inputs_[key] = std::move(in);
  }
  room_.RequestKeyframe(streamId);
}

void Mixer::RemoveStream(const std::string& streamId) {
  for (const char* media : {"video", "audio"}) {
    auto it = inputs_.find(streamId + "/" + media);
    if (it != inputs_.end()) RemoveInput(*it->second);
  }
  if (TileOf(streamId)) DropTile(streamId);  // a screen share's own tile
}

// The input's streaming thread may be waiting inside the aggregator (a serialized query
// such as ALLOCATION): flush or release the aggregator's pad first, so that stopping the
// input does not wait for it forever.
void Mixer::RemoveInput(Input& in) {
  std::string key = in.streamId + "/" + in.kind;
  GstPad* sink = gst_element_get_static_pad(in.bin, "sink");
  gst_pad_unlink(in.teePad, sink);
  gst_object_unref(sink);
  gst_element_release_request_pad(in.tee, in.teePad);
  gst_object_unref(in.teePad);
  GstPad* out = gst_element_get_static_pad(in.bin, "src");
  gst_pad_unlink(out, in.mixPad);
  gst_object_unref(out);
  if (in.kind == "video") {
    if (Tile* t = TileOf(in.tileId); t && t->videoPad == in.mixPad) t->videoPad = nullptr;
    gst_element_release_request_pad(compositor_, in.mixPad);
    gst_object_unref(in.mixPad);
    gst_element_set_state(in.bin, GST_STATE_NULL);
  } else {
    // The mixer's pad stays for the next input (releasing aggregator pads while playing
    // races in 1.22): flushed, it lets go of the input's thread and forgets its data.
    gst_pad_send_event(in.mixPad, gst_event_new_flush_start());
    gst_element_set_state(in.bin, GST_STATE_NULL);
    gst_pad_send_event(in.mixPad, gst_event_new_flush_stop(TRUE));
    if (auto s = slots_.find(in.participantId); s != slots_.end()) s->second->hasInput = false;
    speakers_.Update(in.participantId, -127, g_get_monotonic_time());  // silent from now on
  }
  gst_bin_remove(GST_BIN(pipeline_), in.bin);
  GST_INFO("mixer input removed [stream:%s kind:%s]", in.streamId.c_str(), in.kind.c_str());
  inputs_.erase(key);
}

void Mixer::SetLayout(LayoutSpec spec) {
  layout_ = std::move(spec);
  Relayout();
}

void Mixer::SetSpeaker(const std::string& participantId) {
  if (speaker_ == participantId) return;
  speaker_ = participantId;
  if (layout_.type == "speaker" || layout_.type == "presentation") Relayout();
}

void Mixer::Relayout() {
  std::vector<TileInfo> infos;
  for (auto& t : tiles_) infos.push_back({t->id, t->participantId, t->screen});
  auto rects = ComputeLayout(layout_, infos, speaker_, format_.width, format_.height);
  for (auto& t : tiles_) {
    t->rect = rects[t->id];
    SetPadRect(t->placeholderPad, t->rect);
    SetPadRect(t->videoPad, t->rect);
  }
}

void Mixer::OnElementMessage(GstMessage* msg) {
  if (GST_MESSAGE_SRC(msg) != GST_OBJECT(mixminus_)) return;
  const GstStructure* s = gst_message_get_structure(msg);
  if (!s || !gst_structure_has_name(s, "atrium-audio-level")) return;
  guint index = 0;
  double db = -127;
  gst_structure_get_uint(s, "index", &index);
  gst_structure_get_double(s, "rms-db", &db);
  Slot* slot = nullptr;
  for (auto& [pid, sl] : slots_)
    if (sl->index == index && sl->hasInput) slot = sl.get();
  if (!slot) return;
  auto r = speakers_.Update(slot->participantId, db, g_get_monotonic_time());
  if (r.notify) listener_.OnMixerLevel(slot->participantId, db);
  if (r.changed) SetSpeaker(speakers_.current());
}

}  // namespace atrium::media
