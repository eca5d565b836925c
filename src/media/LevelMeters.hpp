// Audio levels of published streams whose clients send no ssrc-audio-level header
// extension: the Opus track is decoded on a branch off its tee into a `level` element,
// whose messages (on the room's bus, control thread) give the level. Owned by an SFU
// room's Conference while something needs levels (the voice-activated stream).
#pragma once

#include "media/RoomPipeline.hpp"

#include <gst/gst.h>

#include <map>
#include <optional>
#include <string>

namespace atrium::media {

class LevelMeters {
public:
  explicit LevelMeters(RoomPipeline& room) : room_(room) {}
  ~LevelMeters();
  LevelMeters(const LevelMeters&) = delete;
  LevelMeters& operator=(const LevelMeters&) = delete;

  // Meters `publisherId`'s audio track (nothing when it has none). Idempotent.
  void Add(const std::string& publisherId);
  void Remove(const std::string& publisherId);
  // A `level` element message of one of ours: true when it was (the level is kept).
  bool OnElementMessage(GstMessage* msg);
  // The latest RMS level in dBFS, if metered and measured.
  std::optional<double> Level(const std::string& publisherId) const;

private:
  struct Meter {
    GstElement* tee = nullptr;
    GstPad* teePad = nullptr;
    GstElement* bin = nullptr;
    std::optional<double> db;
  };
  RoomPipeline& room_;
  std::map<std::string, Meter> meters_;
};

}  // namespace atrium::media
