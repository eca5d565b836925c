#include "media/McuProfile.hpp"

#include "atrium-config.h"
#include "core/Log.hpp"

#include <memory>
#include <optional>
#include <stdexcept>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

namespace {

std::optional<McuProfile>& Installed() {
  static std::optional<McuProfile> p;
  return p;
}

std::string ParseFragment(const std::string& desc, GstElement** out) {
  GError* err = nullptr;
  GstElement* bin = gst_parse_bin_from_description_full(desc.c_str(), TRUE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (!bin) {
    std::string msg = err ? err->message : "cannot parse";
    g_clear_error(&err);
    return msg;
  }
  g_clear_error(&err);
  *out = bin;
  return {};
}

// The one element of `bin` whose factory class contains `klass` ("Encoder", "Payloader").
GstElement* FindByClass(GstElement* bin, const char* klass, int* count) {
  GstElement* found = nullptr;
  *count = 0;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(bin));
  GValue v = G_VALUE_INIT;
  while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&v));
    GstElementFactory* f = gst_element_get_factory(e);
    const char* k = f ? gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_KLASS) : nullptr;
    if (k && strstr(k, klass)) {
      found = e;
      ++*count;
    }
    g_value_reset(&v);
  }
  g_value_unset(&v);
  gst_iterator_free(it);
  return found;
}

const char* MediaTypeOf(const std::string& codec) {
  if (codec == "VP8") return "video/x-vp8";
  if (codec == "H264") return "video/x-h264";
  if (codec == "OPUS") return "audio/x-opus";
  return nullptr;
}

}  // namespace

void CheckEncoderBranch(const std::string& path, const char* group, const McuProfile::Branch& b, bool video) {
  auto fail = [&](const std::string& key, const std::string& why) {
    throw std::runtime_error(path + ": [" + group + "] " + key + ": " + why);
  };
  if (video && b.codec != "VP8" && b.codec != "H264") fail("codec", "'" + b.codec + "' is not VP8 or H264");
  if (!video && b.codec != "OPUS") fail("codec", "'" + b.codec + "' is not OPUS");
  GstElement* enc = nullptr;
  if (auto e = ParseFragment(b.encoder, &enc); !e.empty()) fail("encoder", e);
  gst_object_ref_sink(enc);
  int n = 0;
  GstElement* encoder = FindByClass(enc, "Encoder", &n);
  std::string why;
  if (n != 1) why = "needs exactly one encoder element, found " + std::to_string(n);
  if (why.empty()) {
    // What it produces must be the codec the file names.
    GstPad* src = gst_element_get_static_pad(encoder, "src");
    GstCaps* caps = src ? gst_pad_query_caps(src, nullptr) : nullptr;
    GstCaps* want = gst_caps_from_string(MediaTypeOf(b.codec));
    if (!caps || !gst_caps_can_intersect(caps, want)) why = "does not produce " + std::string(MediaTypeOf(b.codec));
    if (caps) gst_caps_unref(caps);
    gst_caps_unref(want);
    if (src) gst_object_unref(src);
  }
  gst_object_unref(enc);
  if (!why.empty()) fail("encoder", why);

  GstElement* pay = nullptr;
  if (auto e = ParseFragment(b.payloader, &pay); !e.empty()) fail("payloader", e);
  gst_object_ref_sink(pay);
  GstElement* payloader = FindByClass(pay, "Payloader", &n);
  if (n != 1) why = "needs exactly one RTP payloader, found " + std::to_string(n);
  if (why.empty()) {
    GstPad* sink = gst_element_get_static_pad(payloader, "sink");
    GstCaps* caps = sink ? gst_pad_query_caps(sink, nullptr) : nullptr;
    GstCaps* want = gst_caps_from_string(MediaTypeOf(b.codec));
    if (!caps || !gst_caps_can_intersect(caps, want)) why = "does not take " + std::string(MediaTypeOf(b.codec));
    if (caps) gst_caps_unref(caps);
    gst_caps_unref(want);
    if (sink) gst_object_unref(sink);
  }
  gst_object_unref(pay);
  if (!why.empty()) fail("payloader", why);
}

McuProfile McuProfile::Load(const std::string& path) {
  GKeyFile* kf = g_key_file_new();
  GError* err = nullptr;
  if (!g_key_file_load_from_file(kf, path.c_str(), G_KEY_FILE_NONE, &err)) {
    std::string msg = path + ": " + (err ? err->message : "cannot read");
    g_clear_error(&err);
    g_key_file_free(kf);
    throw std::runtime_error(msg);
  }
  auto get = [&](const char* group, const char* key) {
    gchar* v = g_key_file_get_string(kf, group, key, nullptr);
    std::string s = v ? v : "";
    g_free(v);
    if (s.empty()) {
      g_key_file_free(kf);
      throw std::runtime_error(path + ": [" + group + "] " + key + " is missing");
    }
    return std::string(g_strstrip(s.data()));
  };
  McuProfile p;
  p.sourcePath = path;
  p.video = {get("video", "codec"), get("video", "encoder"), get("video", "payloader")};
  p.audio = {get("audio", "codec"), get("audio", "encoder"), get("audio", "payloader")};
  g_key_file_free(kf);
  for (auto* s : {&p.video.codec, &p.audio.codec})
    for (auto& ch : *s) ch = char(g_ascii_toupper(ch));
  CheckEncoderBranch(path, "video", p.video, true);
  CheckEncoderBranch(path, "audio", p.audio, false);
  return p;
}

std::string ProfilePath(const char* envVar, const std::string& file) {
  if (const char* env = g_getenv(envVar); env && *env) return env;
  for (std::string p : {std::string(ATRIUM_SYSCONFDIR "/") + file, std::string(ATRIUM_DATADIR "/pipelines/") + file})
    if (g_file_test(p.c_str(), G_FILE_TEST_EXISTS)) return p;
  return std::string(ATRIUM_SOURCE_ROOT "/pipelines/") + file;
}

std::string McuProfile::DefaultPath() { return ProfilePath("ATRIUM_MCU_PROFILE", "mcu.conf"); }

const McuProfile& McuProfile::Current() {
  if (!Installed()) Installed() = Load(DefaultPath());
  return *Installed();
}

void McuProfile::Install(McuProfile profile) { Installed() = std::move(profile); }

GstElement* McuProfile::MakeBin(const Branch& b, const std::string& name) const { return MakeEncoderBin(b, name); }

GstElement* MakeEncoderBin(const McuProfile::Branch& b, const std::string& name) {
  std::string desc = b.encoder + " ! " + b.payloader;
  GError* err = nullptr;
  GstElement* bin = gst_parse_bin_from_description_full(desc.c_str(), TRUE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (!bin) {
    std::string msg = err ? err->message : "cannot parse";
    g_clear_error(&err);
    throw std::runtime_error("encoder profile: " + msg);
  }
  g_clear_error(&err);
  gst_object_set_name(GST_OBJECT(bin), name.c_str());
  return bin;
}

MixFormat MixFormatFor(const std::string& definition) {
  if (definition == "1080p") return {1920, 1080, 30};
  if (definition == "480p") return {854, 480, 30};
  if (definition == "240p") return {426, 240, 15};
  return {1280, 720, 30};
}

}  // namespace atrium::media
