#include "store/Files.hpp"

#include "core/Error.hpp"

namespace atrium::store {

namespace {

#define FILE_COLUMNS "id, room_id, meeting_id, uploaded_by, name, content_type, size_bytes, created_at"

MeetingFile Read(const Statement& s) {
  MeetingFile f;
  f.id = s.int64(0);
  f.roomId = s.int64(1);
  f.meetingId = s.optInt64(2);
  f.uploadedBy = s.optInt64(3);
  f.name = s.text(4);
  f.contentType = s.text(5);
  f.sizeBytes = s.int64(6);
  f.createdAt = s.int64(7);
  return f;
}

}  // namespace

int64_t Files::Create(const MeetingFile& f) {
  db_.prepare("INSERT INTO meeting_files (room_id, meeting_id, uploaded_by, name, content_type, size_bytes, "
              "created_at) VALUES (?,?,?,?,?,?,?)")
      .bindAll(f.roomId, f.meetingId, f.uploadedBy, f.name, f.contentType, f.sizeBytes, f.createdAt)
      .exec();
  return db_.lastInsertId();
}

std::optional<MeetingFile> Files::Find(int64_t id) {
  auto s = db_.prepare("SELECT " FILE_COLUMNS " FROM meeting_files WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return Read(s);
}

std::vector<MeetingFile> Files::List(int64_t roomId) {
  auto s = db_.prepare("SELECT " FILE_COLUMNS " FROM meeting_files WHERE room_id = ? ORDER BY id");
  s.bind(1, roomId);
  std::vector<MeetingFile> out;
  while (s.step()) out.push_back(Read(s));
  return out;
}

void Files::Delete(int64_t id) {
  if (db_.prepare("DELETE FROM meeting_files WHERE id = ?").bindAll(id).exec() == 0)
    throw AppError(ErrorCode::NotFound, "no such file", {{"fileId", id}});
}

std::string Files::Dir(const std::string& dataDir) { return dataDir + "/files"; }

std::string Files::PathOf(const std::string& dataDir, int64_t id) { return Dir(dataDir) + "/" + std::to_string(id); }

}  // namespace atrium::store
