// How a room's transcoding branches encode: one [VP8] and one [H264] group, each with an
// encoder and a payloader as gst-launch fragments, in an operator-editable file
// (pipelines/transcode.conf), checked when atriumd starts.
#pragma once

#include "media/McuProfile.hpp"

#include <map>
#include <string>

namespace atrium::media {

struct TranscodeProfile {
  std::map<std::string, McuProfile::Branch> video;  // by codec: VP8, H264
  std::string sourcePath;

  // Reads and validates a profile. Throws std::runtime_error naming the file, group and key.
  static TranscodeProfile Load(const std::string& path);
  // ATRIUM_TRANSCODE_PROFILE, else /etc/atrium/transcode.conf, else the installed default.
  static std::string DefaultPath();
  // The profile rooms use: the one installed at start-up, else DefaultPath() loaded once.
  static const TranscodeProfile& Current();
  static void Install(TranscodeProfile profile);
};

}  // namespace atrium::media
