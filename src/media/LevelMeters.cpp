#include "media/LevelMeters.hpp"

#include "core/Log.hpp"
#include "media/Elements.hpp"

#include <algorithm>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

namespace {
const char* kPrefix = "meter_";
}

LevelMeters::~LevelMeters() {
  while (!meters_.empty()) Remove(meters_.begin()->first);
}

void LevelMeters::Add(const std::string& publisherId) {
  if (meters_.count(publisherId)) return;
  Codec codec;
  GstElement* tee = room_.TrackTee(publisherId, "audio", &codec);
  if (!tee || codec.name != "OPUS") return;
  GstElement* level = MakeElement("level");
  gst_object_set_name(GST_OBJECT(level), (kPrefix + publisherId).c_str());  // its messages say whose
  g_object_set(level, "interval", guint64(100 * GST_MSECOND), "post-messages", TRUE, nullptr);
  GstElement* sink = MakeElement("fakesink");
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  Meter m;
  m.tee = tee;
  m.bin = ChainBin("meterbin_" + publisherId,
                   {LeakyQueue(100), MakeElement("rtpopusdepay"), MakeElement("opusdec"), MakeElement("audioconvert"),
                    level, sink},
                   true);
  gst_bin_add(GST_BIN(room_.pipeline()), m.bin);
  gst_element_sync_state_with_parent(m.bin);
  m.teePad = gst_element_request_pad_simple(tee, "src_%u");
  GstPad* in = gst_element_get_static_pad(m.bin, "sink");
  gst_pad_link(m.teePad, in);
  gst_object_unref(in);
  meters_[publisherId] = m;
  GST_DEBUG("level meter added [stream:%s]", publisherId.c_str());
}

void LevelMeters::Remove(const std::string& publisherId) {
  auto it = meters_.find(publisherId);
  if (it == meters_.end()) return;
  Meter& m = it->second;
  if (GstPad* peer = gst_pad_get_peer(m.teePad)) {
    gst_pad_unlink(m.teePad, peer);
    gst_object_unref(peer);
  }
  gst_element_release_request_pad(m.tee, m.teePad);
  gst_object_unref(m.teePad);
  gst_element_set_state(m.bin, GST_STATE_NULL);
  gst_bin_remove(GST_BIN(room_.pipeline()), m.bin);
  meters_.erase(it);
}

bool LevelMeters::OnElementMessage(GstMessage* msg) {
  const GstStructure* s = gst_message_get_structure(msg);
  if (!s || !gst_structure_has_name(s, "level")) return false;
  std::string name = GST_OBJECT_NAME(GST_MESSAGE_SRC(msg));
  if (name.rfind(kPrefix, 0) != 0) return false;
  auto it = meters_.find(name.substr(strlen(kPrefix)));
  if (it == meters_.end()) return true;
  const GValue* rms = gst_structure_get_value(s, "rms");
  double db = -127;
  if (rms && G_VALUE_HOLDS(rms, G_TYPE_VALUE_ARRAY)) {
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    GValueArray* a = static_cast<GValueArray*>(g_value_get_boxed(rms));
    for (guint i = 0; a && i < a->n_values; ++i) db = std::max(db, g_value_get_double(g_value_array_get_nth(a, i)));
    G_GNUC_END_IGNORE_DEPRECATIONS
  }
  it->second.db = db;
  return true;
}

std::optional<double> LevelMeters::Level(const std::string& publisherId) const {
  auto it = meters_.find(publisherId);
  return it == meters_.end() ? std::nullopt : it->second.db;
}

}  // namespace atrium::media
