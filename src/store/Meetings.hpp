// Scheduled and instant meetings: a time slot in a room, members with roles, topics,
// an optional PIN and a numeric invite code unique across the server.
#pragma once

#include "store/Database.hpp"
#include "store/Records.hpp"

#include <functional>

namespace atrium::store {

class Meetings {
public:
  explicit Meetings(Database& db) : db_(db) {}
  // Inserts the meeting and its members; the invite code comes from `makeCode`, retried
  // until unused.
  int64_t Create(Meeting& m, const std::function<std::string()>& makeCode);
  std::optional<Meeting> Find(int64_t id);
  std::optional<Meeting> FindByCode(const std::string& code);
  // Meetings overlapping [from, to) that the user owns or is a member of (every meeting
  // when userId is nullopt).
  PageOf<Meeting> List(std::optional<int64_t> userId, int64_t from, int64_t to, const Page& page);
  PageOf<Meeting> ListByRoom(int64_t roomId, const Page& page);
  // Updates the row and, when `members` is set, replaces the member list.
  void Update(const Meeting& m, bool replaceMembers);
  void SetEnded(int64_t id, int64_t at);
  void Delete(int64_t id);
  std::optional<std::string> MemberRole(int64_t meetingId, int64_t userId);

private:
  void LoadMembers(Meeting& m);
  void WriteMembers(const Meeting& m);

  Database& db_;
};

}  // namespace atrium::store
