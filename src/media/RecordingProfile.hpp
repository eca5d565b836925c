// Recording profiles: the muxer and encoder settings of each recording format, as
// gst-launch descriptions in files an operator edits (pipelines/record-<format>.conf).
// Loaded and checked once when atriumd starts; `atriumd --check-config` and a test load
// every shipped file.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

namespace atrium::media {

class ProfileError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct RecordingProfile {
  std::string format;        // webm, mp4: the file's name, record-<format>.conf
  std::string extension;     // of the files written
  std::string muxer;         // one element with video_%u and audio_%u request pads
  std::string videoCodec;    // what the muxer is fed: VP8 or H264
  std::string audioCodec;    // OPUS or AAC
  std::string audioEncoder;  // raw audio in, audioCodec out
  std::string sourcePath;
};

// Reads and checks one profile file. Throws ProfileError naming the file and key.
RecordingProfile LoadRecordingProfile(const std::string& path);
// Every record-*.conf in `dir`, by format; each is checked: its descriptions parse, the
// elements exist, and the encoders' output fits the muxer. Throws ProfileError.
std::map<std::string, RecordingProfile> LoadRecordingProfiles(const std::string& dir);
// The first directory of the build's search list that has profiles: $ATRIUM_PIPELINES_DIR,
// then the installed one, then the source tree's.
std::string DefaultPipelinesDir();

}  // namespace atrium::media
