// Metadata of recordings; the files themselves live under <data-dir>/recordings and are
// named from the row id, never from client text. A `tracks` recording is a parent row
// (no file) with one child row per recorded stream file.
#pragma once

#include "store/Database.hpp"
#include "store/Records.hpp"

#include <vector>

namespace atrium::store {

class Recordings {
public:
  explicit Recordings(Database& db) : db_(db) {}
  int64_t Create(const Recording& r);
  std::optional<Recording> Find(int64_t id);
  PageOf<Recording> List(std::optional<int64_t> roomId, const Page& page);
  // Top-level recordings (no parent) matching every given filter, newest first.
  PageOf<Recording> List(const RecordingFilter& f, const Page& page);
  std::vector<Recording> Children(int64_t parentId);
  // Every row still marked `recording` (left behind by a crash when read at start-up).
  std::vector<Recording> InProgress();
  void SetFileName(int64_t id, const std::string& fileName);
  void Finish(int64_t id, const std::string& status, int64_t sizeBytes, int64_t durationMs, int64_t stoppedAt,
              const std::string& error = {});
  // Deletes the row and its children.
  void Delete(int64_t id);

private:
  Database& db_;
};

}  // namespace atrium::store
