// Meeting files (materials uploaded into a room). The row holds what the uploader said
// about the file; the bytes live in <data-dir>/files/<id>, a name made from the row id
// and never from client text.
#pragma once

#include "store/Database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace atrium::store {

struct MeetingFile {
  int64_t id = 0;
  int64_t roomId = 0;
  std::optional<int64_t> meetingId;
  std::optional<int64_t> uploadedBy;
  std::string name;         // the uploader's file name, for display and downloads only
  std::string contentType;  // the uploader's type, checked to be a MIME type
  int64_t sizeBytes = 0;
  int64_t createdAt = 0;
};

class Files {
public:
  explicit Files(Database& db) : db_(db) {}
  int64_t Create(const MeetingFile& f);  // returns the id
  std::optional<MeetingFile> Find(int64_t id);
  std::vector<MeetingFile> List(int64_t roomId);  // oldest first
  void Delete(int64_t id);                        // NotFound if absent

  // Where the bytes of file `id` are kept.
  static std::string Dir(const std::string& dataDir);
  static std::string PathOf(const std::string& dataDir, int64_t id);

private:
  Database& db_;
};

}  // namespace atrium::store
