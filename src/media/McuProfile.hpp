// The encoder settings of MCU rooms, read from an operator-editable file in pipelines/
// (GKeyFile: [video] and [audio] with codec, encoder, payloader as gst-launch fragments)
// and checked when atriumd starts, so that a typo fails start-up, not the first room.
#pragma once

#include <gst/gst.h>

#include <string>

namespace atrium::media {

struct McuProfile {
  struct Branch {
    std::string codec;      // VP8, H264, OPUS
    std::string encoder;    // gst-launch fragment
    std::string payloader;  // gst-launch fragment
  };
  Branch video;
  Branch audio;
  std::string sourcePath;

  // Reads and validates a profile. Throws std::runtime_error naming the file and key.
  static McuProfile Load(const std::string& path);
  // ATRIUM_MCU_PROFILE, else /etc/atrium/mcu.conf, else the installed (or source) default.
  static std::string DefaultPath();
  // The profile rooms use: the one installed at start-up, else DefaultPath() loaded once.
  static const McuProfile& Current();
  static void Install(McuProfile profile);

  // A new bin "encoder ! payloader" with ghost pads sink/src (floating). Throws.
  GstElement* MakeBin(const Branch& b, const std::string& name) const;
};

// Checks one [group] of an encoder profile file: `codec` is VP8/H264 (video) or OPUS, the
// encoder fragment has exactly one encoder producing it, the payloader one payloader
// taking it. Throws std::runtime_error naming the file, group and key.
void CheckEncoderBranch(const std::string& path, const char* group, const McuProfile::Branch& b, bool video);
// A new bin "encoder ! payloader" with ghost pads sink/src (floating). Throws.
GstElement* MakeEncoderBin(const McuProfile::Branch& b, const std::string& name);
// Where a profile file is read from: $envVar, else /etc/atrium/FILE, else the installed
// pipelines/FILE, else the source tree's.
std::string ProfilePath(const char* envVar, const std::string& file);

// Output size of the mix for a room's definition (1080p, 720p, 480p, 240p).
struct MixFormat {
  int width = 1280;
  int height = 720;
  int fps = 30;
};
MixFormat MixFormatFor(const std::string& definition);

}  // namespace atrium::media
