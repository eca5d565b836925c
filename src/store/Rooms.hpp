// Rooms and their members. A room is the stored definition; the live conference in it
// belongs to src/rooms.
#pragma once

#include "store/Database.hpp"
#include "store/Records.hpp"

namespace atrium::store {

class Rooms {
public:
  explicit Rooms(Database& db) : db_(db) {}
  int64_t Create(const Room& r);
  std::optional<Room> Find(int64_t id);
  // Rooms a user may enter: public ones, owned ones and those it is a member of; all
  // rooms when userId is nullopt (administrators).
  PageOf<Room> ListVisible(std::optional<int64_t> userId, const Page& page);
  void Update(const Room& r);  // every field but id, orgId, ownerId, createdAt
  void SetPasswordHash(int64_t id, const std::optional<std::string>& hash);
  void Delete(int64_t id);

  void AddMember(int64_t roomId, int64_t userId, const std::string& role);  // upsert
  void RemoveMember(int64_t roomId, int64_t userId);                        // NotFound if absent
  std::vector<Member> Members(int64_t roomId);
  std::optional<std::string> MemberRole(int64_t roomId, int64_t userId);

private:
  Database& db_;
};

}  // namespace atrium::store
