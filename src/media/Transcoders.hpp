// A room's transcoding branches: when a consumer needs a video codec its source does not
// send, the source's video is decoded once and encoded once per target codec, and every
// consumer of that codec (subscribers, recordings) shares the result. Each result is
// offered to RoomPipeline as a local source ("<source>~<CODEC>") with the source's other
// tracks as they are, so that it plays and records like a published stream. Owned by
// the room's Conference, on the control thread; it hangs off RoomPipeline's tees.
#pragma once

#include "media/RoomPipeline.hpp"
#include "media/TranscodeProfile.hpp"

#include <gst/gst.h>

#include <map>
#include <memory>
#include <string>

namespace atrium::media {

class Transcoders {
public:
  Transcoders(RoomPipeline& room, const TranscodeProfile& profile);
  ~Transcoders();
  Transcoders(const Transcoders&) = delete;
  Transcoders& operator=(const Transcoders&) = delete;

  // The id of a source that plays like `sourceId` with its video as `codec` (VP8, H264),
  // built on first use; every Acquire needs a Release. Throws AppError: NotFound (no such
  // source, or it has no video), InvalidParams (a codec there is no encoder for).
  std::string Acquire(const std::string& sourceId, const std::string& codec);
  // Unknown ids are ignored (the source may have gone first).
  void Release(const std::string& localId);
  // `sourceId` is about to go: every transcoded source made from its video (and the
  // subscribers of those) goes now.
  void DropSource(const std::string& sourceId);

  static bool IsTranscoded(const std::string& id) { return id.find('~') != std::string::npos; }
  // Decode+encode branches running now (a benchmark and test figure).
  size_t encodings() const { return encodings_.size(); }

  struct Encoding;
  struct Local;

private:
  void DropEncoding(Encoding& e);

  RoomPipeline& room_;
  const TranscodeProfile& profile_;
  std::map<std::string, std::unique_ptr<Encoding>> encodings_;  // by "<tee name>/<codec>"
  std::map<std::string, std::unique_ptr<Local>> locals_;        // by local source id
  unsigned serial_ = 0;
};

}  // namespace atrium::media
