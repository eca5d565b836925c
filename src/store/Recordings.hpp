// Metadata of recordings; the files themselves live under <data-dir>/recordings and are
// named from the row id, never from client text.
#pragma once

#include "store/Database.hpp"
#include "store/Records.hpp"

namespace atrium::store {

class Recordings {
public:
  explicit Recordings(Database& db) : db_(db) {}
  int64_t Create(const Recording& r);
  std::optional<Recording> Find(int64_t id);
  PageOf<Recording> List(std::optional<int64_t> roomId, const Page& page);
  void Finish(int64_t id, const std::string& status, int64_t sizeBytes, int64_t durationMs, int64_t stoppedAt);
  void Delete(int64_t id);

private:
  Database& db_;
};

}  // namespace atrium::store
