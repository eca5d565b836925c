#include "media/Transcoders.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"
#include "media/Elements.hpp"

#include <vector>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

// One decode → encode branch: a source's video tee → queue → depay → decoder →
// videoconvert → encoder → payloader → its own tee.
struct Transcoders::Encoding {
  std::string key;
  std::string codec;
  GstElement* from = nullptr;  // the source's video tee
  GstPad* fromPad = nullptr;   // requested on it (owned)
  GstElement* bin = nullptr;
  GstElement* tee = nullptr;
  int users = 0;  // local sources
};

struct Transcoders::Local {
  std::string id;
  std::string sourceId;
  Encoding* encoding = nullptr;
  int users = 0;
};

namespace {

Codec OutputCodec(const std::string& name) {
  if (name == "H264")
    return {102, "H264", 90000, "", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"};
  return {96, "VP8", 90000, "", ""};
}

}  // namespace

Transcoders::Transcoders(RoomPipeline& room, const TranscodeProfile& profile) : room_(room), profile_(profile) {}

Transcoders::~Transcoders() {
  while (!locals_.empty()) {
    room_.Remove(locals_.begin()->first);
    locals_.erase(locals_.begin());
  }
  while (!encodings_.empty()) DropEncoding(*encodings_.begin()->second);
}

std::string Transcoders::Acquire(const std::string& sourceId, const std::string& codec) {
  auto branch = profile_.video.find(codec);
  if (branch == profile_.video.end())
    throw InvalidParams("no transcoding profile for codec " + codec, {{"codec", codec}});
  std::string id = sourceId + "~" + codec;
  if (auto it = locals_.find(id); it != locals_.end()) {
    it->second->users++;
    return id;
  }
  Codec from;
  GstElement* tee = room_.TrackTee(sourceId, "video", &from);
  if (!tee) throw AppError(ErrorCode::NotFound, "the stream has no video to transcode", {{"streamId", sourceId}});
  if (from.name == codec) throw InvalidParams("the stream already is " + codec, {{"codec", codec}});

  std::string key = std::string(GST_OBJECT_NAME(tee)) + "/" + codec;
  Encoding* enc = nullptr;
  if (auto it = encodings_.find(key); it != encodings_.end()) {
    enc = it->second.get();
  } else {
    auto e = std::make_unique<Encoding>();
    e->key = key;
    e->codec = codec;
    e->from = tee;
    std::string name = "transcode_" + std::to_string(serial_++) + "_" + codec;
    bool h264 = from.name == "H264";
    GstElement* depay = MakeElement(h264 ? "rtph264depay" : "rtpvp8depay");
    SetIfPresent(depay, "request-keyframe", TRUE);
    SetIfPresent(depay, "wait-for-keyframe", TRUE);
    GstElement* dec = MakeElement(h264 ? "avdec_h264" : "vp8dec");
    g_object_set(dec, "max-errors", -1, nullptr);
    GstElement* encoder = nullptr;
    try {
      encoder = MakeEncoderBin(branch->second, name + "_enc");
    } catch (const std::exception& ex) {
      gst_object_unref(gst_object_ref_sink(depay));
      gst_object_unref(gst_object_ref_sink(dec));
      throw AppError(ErrorCode::Unavailable, ex.what());
    }
    // A slow encoder drops frames in the queue rather than holding up the source's tee.
    e->bin = ChainBin(name, {LeakyQueue(100), depay, dec, MakeElement("videoconvert"), encoder}, true);
    e->tee = MakeElement("tee");
    gst_object_set_name(GST_OBJECT(e->tee), (name + "_tee").c_str());
    g_object_set(e->tee, "allow-not-linked", TRUE, nullptr);
    GstElement* pipeline = room_.pipeline();
    gst_bin_add_many(GST_BIN(pipeline), e->bin, e->tee, nullptr);
    gst_element_link(e->bin, e->tee);
    GstPad* out = gst_element_get_static_pad(e->bin, "src");
    NormalizeToRunningTime(out);
    gst_object_unref(out);
    gst_element_sync_state_with_parent(e->tee);
    gst_element_sync_state_with_parent(e->bin);
    e->fromPad = gst_element_request_pad_simple(tee, "src_%u");
    GstPad* sink = gst_element_get_static_pad(e->bin, "sink");
    gst_pad_link(e->fromPad, sink);
    gst_object_unref(sink);
    GST_INFO("transcoding started [source:%s from:%s to:%s]", sourceId.c_str(), from.name.c_str(), codec.c_str());
    enc = e.get();
    encodings_[key] = std::move(e);
  }

  // The source's tracks, its video replaced by the transcoded one.
  std::vector<RoomPipeline::LocalTrack> tracks;
  for (const auto& tap : room_.TrackTaps(sourceId)) {
    if (tap.kind == "video") continue;
    Codec c;
    GstElement* t = room_.TrackTee(sourceId, tap.kind, &c);
    tracks.push_back({tap.kind, c, t});
  }
  tracks.insert(tracks.begin(), RoomPipeline::LocalTrack{"video", OutputCodec(codec), enc->tee});
  room_.AddLocalSource(id, tracks);
  enc->users++;
  auto local = std::make_unique<Local>();
  local->id = id;
  local->sourceId = sourceId;
  local->encoding = enc;
  local->users = 1;
  locals_[id] = std::move(local);
  room_.RequestKeyframe(sourceId);  // the decoder starts at a keyframe
  return id;
}

void Transcoders::Release(const std::string& localId) {
  auto it = locals_.find(localId);
  if (it == locals_.end() || --it->second->users > 0) return;
  Encoding* enc = it->second->encoding;
  room_.Remove(localId);
  locals_.erase(it);
  if (--enc->users == 0) DropEncoding(*enc);
}

void Transcoders::DropSource(const std::string& sourceId) {
  std::vector<GstElement*> tees;
  for (const auto& tap : room_.TrackTaps(sourceId)) tees.push_back(tap.tee);
  for (auto it = locals_.begin(); it != locals_.end();) {
    bool fromIt = it->second->sourceId == sourceId;
    for (auto* t : tees) fromIt = fromIt || it->second->encoding->from == t;
    if (!fromIt) {
      ++it;
      continue;
    }
    Encoding* enc = it->second->encoding;
    room_.Remove(it->first);
    it = locals_.erase(it);
    if (--enc->users == 0) DropEncoding(*enc);
  }
}

// The source's tee pad goes first, so that nothing more enters the branch; then the
// branch stops from the control thread.
void Transcoders::DropEncoding(Encoding& e) {
  GstElement* pipeline = room_.pipeline();
  if (GstPad* sink = gst_pad_get_peer(e.fromPad)) {
    gst_pad_unlink(e.fromPad, sink);
    gst_object_unref(sink);
  }
  gst_element_release_request_pad(e.from, e.fromPad);
  gst_object_unref(e.fromPad);
  gst_element_set_state(e.bin, GST_STATE_NULL);
  gst_element_set_state(e.tee, GST_STATE_NULL);
  gst_bin_remove_many(GST_BIN(pipeline), e.bin, e.tee, nullptr);
  std::string key = e.key;  // e goes with its map entry
  GST_INFO("transcoding stopped [%s]", key.c_str());
  encodings_.erase(key);
}

}  // namespace atrium::media
