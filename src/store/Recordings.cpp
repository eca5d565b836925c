#include "store/Recordings.hpp"

#include "core/Error.hpp"

namespace atrium::store {

namespace {

#define RECORDING_COLUMNS                                                                                      \
  "id, room_id, meeting_id, created_by, name, format, layout, file_name, size_bytes, duration_ms, "         \
  "status, started_at, stopped_at, org_id, parent_id, stream_id, error"

Recording Read(const Statement& s) {
  Recording r;
  r.id = s.int64(0);
  r.roomId = s.optInt64(1);
  r.meetingId = s.optInt64(2);
  r.createdBy = s.optInt64(3);
  r.name = s.text(4);
  r.format = s.text(5);
  r.layout = s.text(6);
  r.fileName = s.text(7);
  r.sizeBytes = s.int64(8);
  r.durationMs = s.int64(9);
  r.status = s.text(10);
  r.startedAt = s.int64(11);
  r.stoppedAt = s.optInt64(12);
  r.orgId = s.optInt64(13);
  r.parentId = s.optInt64(14);
  r.streamId = s.text(15);
  r.error = s.text(16);
  return r;
}

// A LIKE pattern matching `text` literally anywhere.
std::string Contains(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

int64_t Recordings::Create(const Recording& r) {
  db_.prepare("INSERT INTO recordings (room_id, meeting_id, created_by, name, format, layout, file_name, size_bytes, "
              "duration_ms, status, started_at, org_id, parent_id, stream_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .bindAll(r.roomId, r.meetingId, r.createdBy, r.name, r.format, r.layout, r.fileName, r.sizeBytes, r.durationMs,
               r.status, r.startedAt, r.orgId, r.parentId, r.streamId)
      .exec();
  return db_.lastInsertId();
}

std::optional<Recording> Recordings::Find(int64_t id) {
  auto s = db_.prepare("SELECT " RECORDING_COLUMNS " FROM recordings WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return Read(s);
}

PageOf<Recording> Recordings::List(std::optional<int64_t> roomId, const Page& page) {
  PageOf<Recording> out;
  auto c = db_.prepare("SELECT count(*) FROM recordings WHERE ?1 IS NULL OR room_id = ?1");
  c.bind(1, roomId);
  if (c.step()) out.total = c.int64(0);
  auto s = db_.prepare("SELECT " RECORDING_COLUMNS
                       " FROM recordings WHERE ?1 IS NULL OR room_id = ?1 ORDER BY started_at DESC, id DESC "
                       "LIMIT ?2 OFFSET ?3");
  s.bindAll(roomId, page.limit, page.offset);
  while (s.step()) out.items.push_back(Read(s));
  return out;
}

#define RECORDING_FILTER                                                                                      \
  " FROM recordings WHERE parent_id IS NULL AND (?1 IS NULL OR org_id = ?1) AND (?2 IS NULL OR created_by = ?2) " \
  "AND (?3 IS NULL OR name LIKE ?3 ESCAPE '\\') AND (?4 IS NULL OR started_at >= ?4) "                         \
  "AND (?5 IS NULL OR started_at <= ?5)"

PageOf<Recording> Recordings::List(const RecordingFilter& f, const Page& page) {
  PageOf<Recording> out;
  std::optional<std::string> pattern;
  if (f.name) pattern = Contains(*f.name);
  auto c = db_.prepare("SELECT count(*)" RECORDING_FILTER);
  c.bindAll(f.orgId, f.userId, pattern, f.startDate, f.endDate);
  if (c.step()) out.total = c.int64(0);
  auto s = db_.prepare("SELECT " RECORDING_COLUMNS RECORDING_FILTER
                       " ORDER BY started_at DESC, id DESC LIMIT ?6 OFFSET ?7");
  s.bindAll(f.orgId, f.userId, pattern, f.startDate, f.endDate, page.limit, page.offset);
  while (s.step()) out.items.push_back(Read(s));
  return out;
}

std::vector<Recording> Recordings::Children(int64_t parentId) {
  std::vector<Recording> out;
  auto s = db_.prepare("SELECT " RECORDING_COLUMNS " FROM recordings WHERE parent_id = ? ORDER BY id");
  s.bind(1, parentId);
  while (s.step()) out.push_back(Read(s));
  return out;
}

std::vector<Recording> Recordings::InProgress() {
  std::vector<Recording> out;
  auto s = db_.prepare("SELECT " RECORDING_COLUMNS " FROM recordings WHERE status = 'recording' ORDER BY id");
  while (s.step()) out.push_back(Read(s));
  return out;
}

void Recordings::SetFileName(int64_t id, const std::string& fileName) {
  db_.prepare("UPDATE recordings SET file_name = ? WHERE id = ?").bindAll(fileName, id).exec();
}

void Recordings::Finish(int64_t id, const std::string& status, int64_t sizeBytes, int64_t durationMs,
                        int64_t stoppedAt, const std::string& error) {
  int n = db_.prepare("UPDATE recordings SET status = ?, size_bytes = ?, duration_ms = ?, stopped_at = ?, error = ? "
                      "WHERE id = ?")
              .bindAll(status, sizeBytes, durationMs, stoppedAt, error, id)
              .exec();
  if (n == 0) throw AppError(ErrorCode::NotFound, "no such recording", {{"recordingId", id}});
}

void Recordings::Delete(int64_t id) {
  if (db_.prepare("DELETE FROM recordings WHERE id = ?").bindAll(id).exec() == 0)
    throw AppError(ErrorCode::NotFound, "no such recording", {{"recordingId", id}});
}

}  // namespace atrium::store
