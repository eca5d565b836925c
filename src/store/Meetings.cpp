#include "store/Meetings.hpp"

#include "core/Error.hpp"

namespace atrium::store {

namespace {

#define MEETING_COLUMNS                                                                                    \
  "m.id, m.room_id, m.owner_id, m.name, m.description, m.type, m.definition, m.start_time, m.end_time, " \
  "m.pin_hash, m.invite_code, m.topics, m.instant, m.ended_at, m.created_at, m.updated_at"

Meeting Read(const Statement& s) {
  Meeting m;
  m.id = s.int64(0);
  m.roomId = s.int64(1);
  m.ownerId = s.optInt64(2);
  m.name = s.text(3);
  m.description = s.text(4);
  m.type = s.int64(5);
  m.definition = s.text(6);
  m.startTime = s.int64(7);
  m.endTime = s.int64(8);
  m.pinHash = s.optText(9);
  m.inviteCode = s.text(10);
  m.topics = s.text(11);
  m.instant = s.boolean(12);
  m.endedAt = s.optInt64(13);
  m.createdAt = s.int64(14);
  m.updatedAt = s.int64(15);
  return m;
}

}  // namespace

void Meetings::LoadMembers(Meeting& m) {
  auto s = db_.prepare("SELECT mm.user_id, mm.role, u.account, u.name FROM meeting_members mm "
                       "JOIN users u ON u.id = mm.user_id WHERE mm.meeting_id = ? ORDER BY mm.user_id");
  s.bind(1, m.id);
  m.members.clear();
  while (s.step()) m.members.push_back({s.int64(0), s.text(1), s.text(2), s.text(3)});
}

void Meetings::WriteMembers(const Meeting& m) {
  db_.prepare("DELETE FROM meeting_members WHERE meeting_id = ?").bindAll(m.id).exec();
  for (const auto& mem : m.members) {
    db_.prepare("INSERT INTO meeting_members (meeting_id, user_id, role) VALUES (?, ?, ?) "
                "ON CONFLICT (meeting_id, user_id) DO UPDATE SET role = excluded.role")
        .bindAll(m.id, mem.userId, mem.role)
        .exec();
  }
}

int64_t Meetings::Create(Meeting& m, const std::function<std::string()>& makeCode) {
  return db_.transaction([&] {
    for (int attempt = 0;; ++attempt) {
      m.inviteCode = makeCode();
      if (!FindByCode(m.inviteCode)) break;
      if (attempt > 100) throw AppError(ErrorCode::Unavailable, "could not find a free invite code");
    }
    int64_t now = Now();
    db_.prepare("INSERT INTO meetings (room_id, owner_id, name, description, type, definition, start_time, end_time, "
                "pin_hash, invite_code, topics, instant, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
        .bindAll(m.roomId, m.ownerId, m.name, m.description, m.type, m.definition, m.startTime, m.endTime, m.pinHash,
                 m.inviteCode, m.topics, m.instant, now, now)
        .exec();
    m.id = db_.lastInsertId();
    m.createdAt = m.updatedAt = now;
    WriteMembers(m);
    return m.id;
  });
}

std::optional<Meeting> Meetings::Find(int64_t id) {
  auto s = db_.prepare("SELECT " MEETING_COLUMNS " FROM meetings m WHERE m.id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  Meeting m = Read(s);
  LoadMembers(m);
  return m;
}

std::optional<Meeting> Meetings::FindByCode(const std::string& code) {
  int64_t id = 0;
  {
    auto s = db_.prepare("SELECT id FROM meetings WHERE invite_code = ?");
    s.bind(1, code);
    if (!s.step()) return std::nullopt;
    id = s.int64(0);
  }
  return Find(id);
}

PageOf<Meeting> Meetings::List(std::optional<int64_t> userId, int64_t from, int64_t to, const Page& page) {
#define MEETING_FILTER                                                                              \
  " FROM meetings m WHERE m.end_time > ?2 AND m.start_time < ?3 AND (?1 IS NULL OR m.owner_id = ?1 " \
  "OR EXISTS (SELECT 1 FROM meeting_members mm WHERE mm.meeting_id = m.id AND mm.user_id = ?1))"
  PageOf<Meeting> out;
  {
    auto c = db_.prepare("SELECT count(*)" MEETING_FILTER);
    c.bindAll(userId, from, to);
    if (c.step()) out.total = c.int64(0);
  }
  {
    auto s = db_.prepare("SELECT " MEETING_COLUMNS MEETING_FILTER " ORDER BY m.start_time, m.id LIMIT ?4 OFFSET ?5");
    s.bindAll(userId, from, to, page.limit, page.offset);
    while (s.step()) out.items.push_back(Read(s));
  }
  for (auto& m : out.items) LoadMembers(m);
  return out;
#undef MEETING_FILTER
}

PageOf<Meeting> Meetings::ListByRoom(int64_t roomId, const Page& page) {
  PageOf<Meeting> out;
  {
    auto c = db_.prepare("SELECT count(*) FROM meetings WHERE room_id = ?");
    c.bind(1, roomId);
    if (c.step()) out.total = c.int64(0);
  }
  {
    auto s = db_.prepare("SELECT " MEETING_COLUMNS
                         " FROM meetings m WHERE m.room_id = ? ORDER BY m.start_time DESC, m.id DESC LIMIT ? OFFSET ?");
    s.bindAll(roomId, page.limit, page.offset);
    while (s.step()) out.items.push_back(Read(s));
  }
  for (auto& m : out.items) LoadMembers(m);
  return out;
}

void Meetings::Update(const Meeting& m, bool replaceMembers) {
  db_.transaction([&] {
    int n = db_.prepare("UPDATE meetings SET name = ?, description = ?, type = ?, definition = ?, start_time = ?, "
                        "end_time = ?, pin_hash = ?, topics = ?, updated_at = ? WHERE id = ?")
                .bindAll(m.name, m.description, m.type, m.definition, m.startTime, m.endTime, m.pinHash, m.topics,
                         Now(), m.id)
                .exec();
    if (n == 0) throw AppError(ErrorCode::NotFound, "no such meeting", {{"meetingId", m.id}});
    if (replaceMembers) WriteMembers(m);
  });
}

void Meetings::SetEnded(int64_t id, int64_t at) {
  db_.prepare("UPDATE meetings SET ended_at = ?, updated_at = ? WHERE id = ?").bindAll(at, Now(), id).exec();
}

void Meetings::Delete(int64_t id) {
  if (db_.prepare("DELETE FROM meetings WHERE id = ?").bindAll(id).exec() == 0)
    throw AppError(ErrorCode::NotFound, "no such meeting", {{"meetingId", id}});
}

std::optional<std::string> Meetings::MemberRole(int64_t meetingId, int64_t userId) {
  auto s = db_.prepare("SELECT role FROM meeting_members WHERE meeting_id = ? AND user_id = ?");
  s.bindAll(meetingId, userId);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

}  // namespace atrium::store
