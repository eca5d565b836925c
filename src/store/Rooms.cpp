#include "store/Rooms.hpp"

#include "core/Error.hpp"

namespace atrium::store {

namespace {

#define ROOM_COLUMNS                                                                                    \
  "r.id, r.org_id, r.owner_id, r.name, r.mode, r.type, r.definition, r.number_limit, r.is_public, " \
  "r.password_hash, r.description, r.logo, r.created_at, r.updated_at"

Room Read(const Statement& s) {
  Room r;
  r.id = s.int64(0);
  r.orgId = s.int64(1);
  r.ownerId = s.optInt64(2);
  r.name = s.text(3);
  r.mode = s.text(4);
  r.type = s.int64(5);
  r.definition = s.text(6);
  r.numberLimit = s.int64(7);
  r.isPublic = s.boolean(8);
  r.passwordHash = s.optText(9);
  r.description = s.text(10);
  r.logo = s.text(11);
  r.createdAt = s.int64(12);
  r.updatedAt = s.int64(13);
  return r;
}

[[noreturn]] void NoRoom(int64_t id) { throw AppError(ErrorCode::NotFound, "no such room", {{"roomId", id}}); }

}  // namespace

int64_t Rooms::Create(const Room& r) {
  int64_t now = Now();
  db_.prepare("INSERT INTO rooms (org_id, owner_id, name, mode, type, definition, number_limit, is_public, "
              "password_hash, description, logo, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .bindAll(r.orgId, r.ownerId, r.name, r.mode, r.type, r.definition, r.numberLimit, r.isPublic, r.passwordHash,
               r.description, r.logo, now, now)
      .exec();
  return db_.lastInsertId();
}

std::optional<Room> Rooms::Find(int64_t id) {
  auto s = db_.prepare("SELECT " ROOM_COLUMNS " FROM rooms r WHERE r.id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return Read(s);
}

PageOf<Room> Rooms::ListVisible(std::optional<int64_t> userId, const Page& page) {
#define VISIBLE                                                                                 \
  " FROM rooms r WHERE ?1 IS NULL OR r.is_public = 1 OR r.owner_id = ?1 OR EXISTS (SELECT 1 " \
  "FROM room_members m WHERE m.room_id = r.id AND m.user_id = ?1)"
  PageOf<Room> out;
  auto c = db_.prepare("SELECT count(*)" VISIBLE);
  c.bind(1, userId);
  if (c.step()) out.total = c.int64(0);
  auto s = db_.prepare("SELECT " ROOM_COLUMNS VISIBLE " ORDER BY r.id LIMIT ?2 OFFSET ?3");
  s.bindAll(userId, page.limit, page.offset);
  while (s.step()) out.items.push_back(Read(s));
  return out;
#undef VISIBLE
}

void Rooms::Update(const Room& r) {
  int n = db_.prepare("UPDATE rooms SET name = ?, mode = ?, type = ?, definition = ?, number_limit = ?, is_public = ?, "
                      "password_hash = ?, description = ?, logo = ?, updated_at = ? WHERE id = ?")
              .bindAll(r.name, r.mode, r.type, r.definition, r.numberLimit, r.isPublic, r.passwordHash,
                       r.description, r.logo, Now(), r.id)
              .exec();
  if (n == 0) NoRoom(r.id);
}

void Rooms::SetPasswordHash(int64_t id, const std::optional<std::string>& hash) {
  if (db_.prepare("UPDATE rooms SET password_hash = ?, updated_at = ? WHERE id = ?").bindAll(hash, Now(), id).exec() == 0)
    NoRoom(id);
}

void Rooms::Delete(int64_t id) {
  if (db_.prepare("DELETE FROM rooms WHERE id = ?").bindAll(id).exec() == 0) NoRoom(id);
}

void Rooms::AddMember(int64_t roomId, int64_t userId, const std::string& role) {
  db_.prepare("INSERT INTO room_members (room_id, user_id, role, added_at) VALUES (?, ?, ?, ?) "
              "ON CONFLICT (room_id, user_id) DO UPDATE SET role = excluded.role")
      .bindAll(roomId, userId, role, Now())
      .exec();
}

void Rooms::RemoveMember(int64_t roomId, int64_t userId) {
  if (db_.prepare("DELETE FROM room_members WHERE room_id = ? AND user_id = ?").bindAll(roomId, userId).exec() == 0)
    throw AppError(ErrorCode::NotFound, "not a member of this room", {{"roomId", roomId}, {"userId", userId}});
}

std::vector<Member> Rooms::Members(int64_t roomId) {
  auto s = db_.prepare("SELECT m.user_id, m.role, u.account, u.name FROM room_members m JOIN users u ON u.id = m.user_id "
                       "WHERE m.room_id = ? ORDER BY m.rowid");
  s.bind(1, roomId);
  std::vector<Member> out;
  while (s.step()) out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3)});
  return out;
}

std::optional<std::string> Rooms::MemberRole(int64_t roomId, int64_t userId) {
  auto s = db_.prepare("SELECT role FROM room_members WHERE room_id = ? AND user_id = ?");
  s.bindAll(roomId, userId);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

}  // namespace atrium::store
