#include "media/RecordingProfile.hpp"

#include "core/Log.hpp"

#include "atrium-config.h"

#include <gst/gst.h>

#include <vector>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

namespace {

const char* kGroup = "recording";

std::string CodecCaps(const std::string& codec) {
  if (codec == "VP8") return "video/x-vp8";
  if (codec == "H264") return "video/x-h264, stream-format=(string){avc,avc3}, alignment=(string)au";
  if (codec == "OPUS") return "audio/x-opus";
  if (codec == "AAC") return "audio/mpeg, mpegversion=(int)4";
  return {};
}

[[noreturn]] void Fail(const std::string& path, const std::string& key, const std::string& what) {
  throw ProfileError(path + ": [" + kGroup + "] " + key + ": " + what);
}

// Parses a description the way the recorder will, returning the element (caller owns it).
GstElement* Parse(const std::string& path, const std::string& key, const std::string& desc, bool bin) {
  GError* err = nullptr;
  GstElement* e = bin ? GST_ELEMENT(gst_parse_bin_from_description_full(desc.c_str(), TRUE, nullptr,
                                                                          GST_PARSE_FLAG_FATAL_ERRORS, &err))
                      : gst_parse_launch_full(desc.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (!e || err) {
    std::string msg = err ? err->message : "does not parse";
    g_clear_error(&err);
    if (e) gst_object_unref(e);
    Fail(path, key, "'" + desc + "': " + msg);
  }
  return GST_ELEMENT(gst_object_ref_sink(e));
}

// The caps an encoder bin can put out, intersected with what the codec and the muxer's
// pad of that kind take; empty means they do not fit.
void CheckEncoder(const std::string& path, const std::string& key, const std::string& desc, const char* rawCaps,
                  const std::string& codec, GstElement* mux, const char* padTemplate) {
  GstElement* enc = Parse(path, key, desc, true);
  GstPad* sink = gst_element_get_static_pad(enc, "sink");
  GstPad* src = gst_element_get_static_pad(enc, "src");
  std::string problem;
  if (!sink || !src) {
    problem = "needs exactly one unlinked input and one unlinked output";
  } else {
    GstCaps* raw = gst_caps_from_string(rawCaps);
    GstCaps* in = gst_pad_query_caps(sink, nullptr);
    if (!gst_caps_can_intersect(in, raw)) problem = std::string("does not take ") + rawCaps;
    gst_caps_unref(in);
    gst_caps_unref(raw);
    GstCaps* out = gst_pad_query_caps(src, nullptr);
    GstCaps* want = gst_caps_from_string(CodecCaps(codec).c_str());
    GstPadTemplate* templ = gst_element_get_pad_template(mux, padTemplate);
    GstCaps* muxCaps = templ ? gst_pad_template_get_caps(templ) : gst_caps_new_empty();
    GstCaps* both = gst_caps_intersect(out, want);
    if (problem.empty() && gst_caps_is_empty(both)) problem = "does not put out " + codec;
    if (problem.empty() && !gst_caps_can_intersect(both, muxCaps)) problem = "puts out " + codec + ", which the muxer does not take";
    gst_caps_unref(both);
    gst_caps_unref(muxCaps);
    gst_caps_unref(want);
    gst_caps_unref(out);
  }
  if (sink) gst_object_unref(sink);
  if (src) gst_object_unref(src);
  gst_object_unref(enc);
  if (!problem.empty()) Fail(path, key, "'" + desc + "' " + problem);
}

}  // namespace

RecordingProfile LoadRecordingProfile(const std::string& path) {
  GKeyFile* kf = g_key_file_new();
  GError* err = nullptr;
  if (!g_key_file_load_from_file(kf, path.c_str(), G_KEY_FILE_NONE, &err)) {
    std::string msg = err ? err->message : "unreadable";
    g_clear_error(&err);
    g_key_file_free(kf);
    throw ProfileError(path + ": " + msg);
  }
  RecordingProfile p;
  p.sourcePath = path;
  std::string base = path.substr(path.find_last_of('/') + 1);
  if (g_str_has_prefix(base.c_str(), "record-") && g_str_has_suffix(base.c_str(), ".conf"))
    p.format = base.substr(7, base.size() - 12);
  auto get = [&](const char* key) {
    gchar* v = g_key_file_get_string(kf, kGroup, key, nullptr);
    std::string s = v ? g_strstrip(v) : "";
    g_free(v);
    if (s.empty()) {
      g_key_file_free(kf);
      Fail(path, key, "missing");
    }
    return s;
  };
  p.extension = get("extension");
  p.muxer = get("muxer");
  p.videoCodec = get("video-codec");
  p.audioCodec = get("audio-codec");
  p.audioEncoder = get("audio-encoder");
  gsize nkeys = 0;
  gchar** keys = g_key_file_get_keys(kf, kGroup, &nkeys, nullptr);
  std::vector<std::string> unknown;
  for (gsize i = 0; i < nkeys; ++i) {
    std::string k = keys[i];
    if (k == "video-encoder") {
      GST_WARNING("%s: [recording] video-encoder is no longer used: video is transcoded by the room's shared "
                  "branch (transcode.conf)", path.c_str());
      continue;
    }
    if (k != "extension" && k != "muxer" && k != "video-codec" && k != "audio-codec" && k != "audio-encoder")
      unknown.push_back(k);
  }
  g_strfreev(keys);
  g_key_file_free(kf);
  if (!unknown.empty()) Fail(path, unknown.front(), "unknown key");
  if (p.format != "webm" && p.format != "mp4") throw ProfileError(path + ": a profile is named record-webm.conf or record-mp4.conf");
  for (char c : p.extension)
    if (!g_ascii_isalnum(c)) Fail(path, "extension", "letters and digits only");
  if (p.videoCodec != "VP8" && p.videoCodec != "H264") Fail(path, "video-codec", "VP8 or H264");
  if (p.audioCodec != "OPUS" && p.audioCodec != "AAC") Fail(path, "audio-codec", "OPUS or AAC");

  GstElement* mux = Parse(path, "muxer", p.muxer, false);
  bool single = !GST_IS_BIN(mux) && gst_element_get_pad_template(mux, "video_%u") &&
                gst_element_get_pad_template(mux, "audio_%u");
  if (!single) {
    gst_object_unref(mux);
    Fail(path, "muxer", "'" + p.muxer + "' is not one muxer element with video_%u and audio_%u pads");
  }
  try {
    CheckEncoder(path, "audio-encoder", p.audioEncoder, "audio/x-raw", p.audioCodec, mux, "audio_%u");
  } catch (...) {
    gst_object_unref(mux);
    throw;
  }
  gst_object_unref(mux);
  return p;
}

std::map<std::string, RecordingProfile> LoadRecordingProfiles(const std::string& dir) {
  std::map<std::string, RecordingProfile> out;
  for (const char* format : {"webm", "mp4"}) {
    std::string path = dir + "/record-" + format + ".conf";
    if (!g_file_test(path.c_str(), G_FILE_TEST_EXISTS))
      throw ProfileError(path + ": missing (every recording format needs its profile)");
    out[format] = LoadRecordingProfile(path);
    GST_INFO("recording profile loaded [format:%s file:%s]", format, path.c_str());
  }
  return out;
}

std::string DefaultPipelinesDir() {
  std::vector<std::string> dirs;
  if (const char* env = g_getenv("ATRIUM_PIPELINES_DIR")) dirs.push_back(env);
  dirs.push_back(std::string(ATRIUM_DATADIR) + "/pipelines");
  dirs.push_back(std::string(ATRIUM_SOURCE_ROOT) + "/pipelines");
  for (const auto& d : dirs)
    if (g_file_test((d + "/record-webm.conf").c_str(), G_FILE_TEST_EXISTS)) return d;
  return dirs.front();
}

}  // namespace atrium::media
