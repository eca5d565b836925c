#include "media/TranscodeProfile.hpp"

#include <optional>
#include <stdexcept>

namespace atrium::media {

namespace {

std::optional<TranscodeProfile>& Installed() {
  static std::optional<TranscodeProfile> p;
  return p;
}

}  // namespace

TranscodeProfile TranscodeProfile::Load(const std::string& path) {
  GKeyFile* kf = g_key_file_new();
  GError* err = nullptr;
  if (!g_key_file_load_from_file(kf, path.c_str(), G_KEY_FILE_NONE, &err)) {
    std::string msg = path + ": " + (err ? err->message : "cannot read");
    g_clear_error(&err);
    g_key_file_free(kf);
    throw std::runtime_error(msg);
  }
  TranscodeProfile p;
  p.sourcePath = path;
  std::string problem;
  gsize ngroups = 0;
  gchar** groups = g_key_file_get_groups(kf, &ngroups);
  for (gsize i = 0; i < ngroups && problem.empty(); ++i)
    if (g_strcmp0(groups[i], "VP8") != 0 && g_strcmp0(groups[i], "H264") != 0)
      problem = path + ": [" + groups[i] + "]: unknown group (VP8 and H264 are known)";
  g_strfreev(groups);
  for (const char* codec : {"VP8", "H264"}) {
    if (!problem.empty()) break;
    McuProfile::Branch b;
    b.codec = codec;
    for (auto [key, out] : {std::pair{"encoder", &b.encoder}, std::pair{"payloader", &b.payloader}}) {
      gchar* v = g_key_file_get_string(kf, codec, key, nullptr);
      *out = v ? g_strstrip(v) : "";
      g_free(v);
      if (out->empty() && problem.empty()) problem = path + ": [" + codec + "] " + key + " is missing";
    }
    gsize nkeys = 0;
    gchar** keys = g_key_file_get_keys(kf, codec, &nkeys, nullptr);
    for (gsize k = 0; k < nkeys && problem.empty(); ++k)
      if (g_strcmp0(keys[k], "encoder") != 0 && g_strcmp0(keys[k], "payloader") != 0)
        problem = path + ": [" + codec + "] " + keys[k] + ": unknown key";
    g_strfreev(keys);
    p.video[codec] = b;
  }
  g_key_file_free(kf);
  if (!problem.empty()) throw std::runtime_error(problem);
  for (const auto& [codec, b] : p.video) CheckEncoderBranch(path, codec.c_str(), b, true);
  return p;
}

std::string TranscodeProfile::DefaultPath() { return ProfilePath("ATRIUM_TRANSCODE_PROFILE", "transcode.conf"); }

const TranscodeProfile& TranscodeProfile::Current() {
  if (!Installed()) Installed() = Load(DefaultPath());
  return *Installed();
}

void TranscodeProfile::Install(TranscodeProfile profile) { Installed() = std::move(profile); }

}  // namespace atrium::media
