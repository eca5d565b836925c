#include "media/Filters.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"
#include "media/Elements.hpp"

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

using nlohmann::json;

const char* const Filters::kNames[] = {"face", "motion", nullptr};

namespace {

const char* kPrefix = "filter_";

[[noreturn]] void Bad(const std::string& param, const std::string& expected) {
  throw InvalidParams("invalid parameter '" + param + "': expected " + expected,
                      {{"param", "params." + param}, {"expected", expected}});
}

double Number(const json& p, const char* key, double lo, double hi) {
  const json& v = p.at(key);
  if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi)
    Bad(key, "a number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v.get<double>();
}

// The filter element for `name` with `params` set (floating); params are checked first.
GstElement* MakeFilter(const std::string& name, const json& params) {
  if (!params.is_object()) Bad("params", "an object");
  auto allowed = [&](std::initializer_list<const char*> keys) {
    for (const auto& [k, v] : params.items()) {
      bool known = false;
      for (const char* a : keys) known = known || k == a;
      if (!known) Bad(k, "no such param for filter '" + name + "'");
    }
  };
  GstElement* e = nullptr;
  if (name == "face") {
    allowed({"mode", "minSize", "interval", "scaleFactor", "downscale"});
    std::string mode = "blur";
    if (params.contains("mode")) {
      if (!params["mode"].is_string()) Bad("mode", "one of blur, pixelate, box, none");
      mode = params["mode"];
      if (mode != "blur" && mode != "pixelate" && mode != "box" && mode != "none")
        Bad("mode", "one of blur, pixelate, box, none");
    }
    double minSize = params.contains("minSize") ? Number(params, "minSize", 1, 4096) : 30;
    double interval = params.contains("interval") ? Number(params, "interval", 1, 30) : 3;
    double scale = params.contains("scaleFactor") ? Number(params, "scaleFactor", 1.1, 2.0) : 1.2;
    double down = params.contains("downscale") ? Number(params, "downscale", 0.1, 1.0) : 0.5;
    e = MakeElement("atriumfacedetect");
    gst_util_set_object_arg(G_OBJECT(e), "mode", mode.c_str());
    g_object_set(e, "min-size", guint(minSize), "interval", guint(interval), "scale-factor", scale, "downscale", down,
                 nullptr);
  } else if (name == "motion") {
    allowed({"threshold", "minArea", "hold", "draw"});
    double threshold = params.contains("threshold") ? Number(params, "threshold", 0, 255) : 25;
    double minArea = params.contains("minArea") ? Number(params, "minArea", 0, 1) : 0.01;
    double hold = params.contains("hold") ? Number(params, "hold", 0, 60000) : 1000;
    bool draw = false;
    if (params.contains("draw")) {
      if (!params["draw"].is_boolean()) Bad("draw", "a boolean");
      draw = params["draw"];
    }
    e = MakeElement("atriummotiondetect");
    g_object_set(e, "threshold", guint(threshold), "min-area", minArea, "hold", guint64(hold), "draw", draw, nullptr);
  } else {
    throw InvalidParams("invalid parameter 'filter': expected face or motion",
                        {{"param", "filter"}, {"expected", "face or motion"}});
  }
  return e;
}

json StructureJson(const GstStructure* s);

json ValueJson(const GValue* v) {
  if (G_VALUE_HOLDS_BOOLEAN(v)) return bool(g_value_get_boolean(v));
  if (G_VALUE_HOLDS_UINT(v)) return g_value_get_uint(v);
  if (G_VALUE_HOLDS_INT(v)) return g_value_get_int(v);
  if (G_VALUE_HOLDS_UINT64(v)) return g_value_get_uint64(v);
  if (G_VALUE_HOLDS_DOUBLE(v)) return g_value_get_double(v);
  if (G_VALUE_HOLDS_STRING(v)) return g_value_get_string(v) ? g_value_get_string(v) : "";
  if (GST_VALUE_HOLDS_STRUCTURE(v)) return StructureJson(gst_value_get_structure(v));
  if (GST_VALUE_HOLDS_LIST(v) || GST_VALUE_HOLDS_ARRAY(v)) {
    json a = json::array();
    guint n = GST_VALUE_HOLDS_LIST(v) ? gst_value_list_get_size(v) : gst_value_array_get_size(v);
    for (guint i = 0; i < n; ++i)
      a.push_back(ValueJson(GST_VALUE_HOLDS_LIST(v) ? gst_value_list_get_value(v, i) : gst_value_array_get_value(v, i)));
    return a;
  }
  return nullptr;
}

json StructureJson(const GstStructure* s) {
  json o = json::object();
  for (gint i = 0; i < gst_structure_n_fields(s); ++i) {
    const char* f = gst_structure_nth_field_name(s, i);
    std::string key = f;
    // running-time → runningTime, min-size → minSize
    for (size_t p; (p = key.find('-')) != std::string::npos;)
      key = key.substr(0, p) + char(g_ascii_toupper(key[p + 1])) + key.substr(p + 2);
    o[key] = ValueJson(gst_structure_get_value(s, f));
  }
  return o;
}

}  // namespace

Filters::~Filters() {
  while (!filters_.empty()) Remove(filters_.begin()->first);
}

void Filters::Apply(const std::string& streamId, const std::string& filter, const json& params) {
  Codec codec;
  GstElement* tee = room_.VideoInputTee(streamId, &codec);
  GstElement* element = MakeFilter(filter, params);  // checks params before anything changes
  if (!tee) {
    gst_object_unref(gst_object_ref_sink(element));
    throw AppError(ErrorCode::Conflict, "filters apply to a stream with one video encoding (no video, or simulcast)",
                   {{"streamId", streamId}});
  }
  auto branch = profile_.video.find(codec.name);
  if (branch == profile_.video.end()) {
    gst_object_unref(gst_object_ref_sink(element));
    throw AppError(ErrorCode::Unavailable, "no encoder for " + codec.name, {{"codec", codec.name}});
  }
  Remove(streamId);
  std::string name = kPrefix + streamId;
  gst_object_set_name(GST_OBJECT(element), name.c_str());  // its messages say whose
  bool h264 = codec.name == "H264";
  GstElement* depay = MakeElement(h264 ? "rtph264depay" : "rtpvp8depay");
  SetIfPresent(depay, "request-keyframe", TRUE);
  SetIfPresent(depay, "wait-for-keyframe", TRUE);
  GstElement* dec = MakeElement(h264 ? "avdec_h264" : "vp8dec");
  g_object_set(dec, "max-errors", -1, nullptr);
  GstElement* encoder = MakeEncoderBin(branch->second, name + "_enc");
  Filter f;
  f.name = filter;
  f.params = params;
  f.tee = tee;
  f.bin = ChainBin(name + "_bin", {LeakyQueue(100), depay, dec, MakeElement("videoconvert"), element,
                                   MakeElement("videoconvert"), encoder},
                   true);
  gst_bin_add(GST_BIN(room_.pipeline()), f.bin);
  // A filter that cannot start (OpenCV data missing) fails here, before it is used.
  if (gst_element_sync_state_with_parent(f.bin) == FALSE ||
      gst_element_get_state(f.bin, nullptr, nullptr, 0) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(f.bin, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(room_.pipeline()), f.bin);
    throw AppError(ErrorCode::Unavailable, "the " + filter + " filter cannot start here (its element or data is missing)",
                   {{"filter", filter}});
  }
  GstPad* out = gst_element_get_static_pad(f.bin, "src");
  NormalizeToRunningTime(out);
  f.switchPad = room_.UseVideoInput(streamId, out);
  gst_object_unref(out);
  f.teePad = gst_element_request_pad_simple(tee, "src_%u");
  GstPad* in = gst_element_get_static_pad(f.bin, "sink");
  gst_pad_link(f.teePad, in);
  gst_object_unref(in);
  // An error inside the branch (a cv::Exception, a decoder) ends the filter, not the stream.
  room_.RouteErrors(name + "_bin", [this, streamId](const std::string& reason) {
    GST_WARNING("filter failed [stream:%s reason:%s]", streamId.c_str(), reason.c_str());
    Remove(streamId);
    if (onFailed) onFailed(streamId, reason);
  });
  room_.RequestKeyframe(streamId);  // the decoder starts at a keyframe
  GST_INFO("filter applied [stream:%s filter:%s params:%s]", streamId.c_str(), filter.c_str(), params.dump().c_str());
  filters_[streamId] = f;
}

bool Filters::Remove(const std::string& streamId) {
  auto it = filters_.find(streamId);
  if (it == filters_.end()) return false;
  Filter f = it->second;
  filters_.erase(it);
  room_.RouteErrors(kPrefix + streamId + "_bin", nullptr);
  room_.DropVideoInput(streamId, f.switchPad);
  if (f.switchPad) gst_object_unref(f.switchPad);
  if (GstPad* peer = gst_pad_get_peer(f.teePad)) {
    gst_pad_unlink(f.teePad, peer);
    gst_object_unref(peer);
  }
  gst_element_release_request_pad(f.tee, f.teePad);
  gst_object_unref(f.teePad);
  gst_element_set_state(f.bin, GST_STATE_NULL);
  gst_bin_remove(GST_BIN(room_.pipeline()), f.bin);
  GST_INFO("filter removed [stream:%s filter:%s]", streamId.c_str(), f.name.c_str());
  return true;
}

json Filters::Describe(const std::string& streamId) const {
  auto it = filters_.find(streamId);
  if (it == filters_.end()) return nullptr;
  return {{"filter", it->second.name}, {"params", it->second.params}};
}

std::optional<Filters::Event> Filters::OnElementMessage(GstMessage* msg) {
  std::string src = GST_OBJECT_NAME(GST_MESSAGE_SRC(msg));
  if (src.rfind(kPrefix, 0) != 0) return std::nullopt;
  std::string streamId = src.substr(strlen(kPrefix));
  auto it = filters_.find(streamId);
  const GstStructure* s = gst_message_get_structure(msg);
  if (it == filters_.end() || !s) return std::nullopt;
  if (!gst_structure_has_name(s, "atrium-face") && !gst_structure_has_name(s, "atrium-motion")) return std::nullopt;
  return Event{streamId, it->second.name, StructureJson(s)};
}

}  // namespace atrium::media
