#include "rpc/methods/Views.hpp"

#include "store/Meetings.hpp"
#include "store/RevokedTokens.hpp"
#include "store/Rooms.hpp"
#include "store/Users.hpp"

#include <glib.h>

#include <algorithm>

namespace atrium::rpc::views {

using nlohmann::json;

namespace {
json OptId(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
}  // namespace

json User(const store::User& u) {
  json j = {{"userId", u.id},       {"orgId", u.orgId},         {"account", u.account},
            {"name", u.name},       {"email", u.email},         {"phone", u.phone},
            {"admin", u.admin},     {"createdAt", u.createdAt}, {"updatedAt", u.updatedAt}};
  if (u.externalApp) j["appId"] = *u.externalApp;
  return j;
}

json Room(const store::Room& r, const rooms::ConferenceRegistry& live) {
  return {{"roomId", r.id},
          {"orgId", r.orgId},
          {"ownerId", OptId(r.ownerId)},
          {"name", r.name},
          {"mode", r.mode},
          {"type", r.type},
          {"definition", r.definition},
          {"numberLimit", r.numberLimit},
          {"isPublic", r.isPublic},
          {"hasPassword", r.passwordHash.has_value()},
          {"description", r.description},
          {"logo", r.logo},
          {"active", live.IsLive(r.id)},
          {"participants", live.ParticipantCount(r.id)},
          {"createdAt", r.createdAt},
          {"updatedAt", r.updatedAt}};
}

json Member(const store::Member& m) {
  return {{"userId", m.userId}, {"account", m.account}, {"name", m.name}, {"role", m.role}};
}

std::string MeetingStatus(const store::Meeting& m, int64_t now) {
  if (m.endedAt || now >= m.endTime) return "ended";
  if (now >= m.startTime) return "started";
  return "notStarted";
}

json Meeting(const store::Meeting& m, const rooms::ConferenceRegistry& live, int64_t now, bool full) {
  json members = json::array();
  for (const auto& mem : m.members) members.push_back(Member(mem));
  json topics = json::parse(m.topics, nullptr, false);
  if (!topics.is_array()) topics = json::array();
  json j = {{"meetingId", m.id},
            {"roomId", m.roomId},
            {"ownerId", OptId(m.ownerId)},
            {"name", m.name},
            {"description", m.description},
            {"type", m.type},
            {"definition", m.definition},
            {"startTime", m.startTime},
            {"endTime", m.endTime},
            {"hasPin", m.pinHash.has_value()},
            {"inviteCode", m.inviteCode},
            {"topics", topics},
            {"instant", m.instant},
            {"status", MeetingStatus(m, now)},
            {"live", live.IsLive(m.roomId) && MeetingStatus(m, now) == "started"},
            {"members", members},
            {"createdAt", m.createdAt},
            {"updatedAt", m.updatedAt}};
  if (!full) {
    j.erase("inviteCode");
    j.erase("members");
  }
  return j;
}

store::Page ReadPage(const Params& p) {
  store::Page page;
  page.offset = p.optInteger("offset", 0, INT32_MAX).value_or(0);
  page.limit = p.optInteger("limit", 1, 500).value_or(50);
  return page;
}

std::string Account(const Params& p, const char* key) {
  std::string a = p.str(key, 64);
  bool ok = !a.empty() && g_ascii_isalnum(a[0]);
  for (char c : a) ok = ok && (g_ascii_isalnum(c) || c == '.' || c == '_' || c == '@' || c == '+' || c == '-');
  if (!ok) Params::Fail(key, "an account name of 1..64 letters, digits and ._@+- starting with a letter or digit");
  return a;
}

std::string NewPassword(const Params& p, const char* key) {
  std::string pw = p.str(key, 1024);
  if (pw.size() < 8) Params::Fail(key, "a password of 8..1024 bytes");
  return pw;
}

store::User CheckIdentity(Services& s, Identity& id) {
  auto u = store::Users(s.db).Find(id.userId);
  if (!u) throw AppError(ErrorCode::Unauthenticated, "the token's user no longer exists", {{"reason", "invalid"}});
  if (store::RevokedTokens(s.db).IsRevoked(id.jti))
    throw AppError(ErrorCode::Unauthenticated, "token revoked", {{"reason", "revoked"}});
  id.grants.admin = id.tokenAdmin && u->admin;
  return *u;
}

store::Room RoomOr404(Services& s, int64_t roomId) {
  auto r = store::Rooms(s.db).Find(roomId);
  if (!r) throw AppError(ErrorCode::NotFound, "no such room", {{"roomId", roomId}});
  return *r;
}

store::User UserOr404(Services& s, int64_t userId) {
  auto u = store::Users(s.db).Find(userId);
  if (!u) throw AppError(ErrorCode::NotFound, "no such user", {{"userId", userId}});
  return *u;
}

store::Meeting MeetingOr404(Services& s, int64_t meetingId) {
  auto m = store::Meetings(s.db).Find(meetingId);
  if (!m) throw AppError(ErrorCode::NotFound, "no such meeting", {{"meetingId", meetingId}});
  return *m;
}

// A token either acts as its user everywhere (anyRoom) or only in the rooms it names;
// rooms named in `rooms`/`roomAdmin` are granted explicitly, as an administrator issued it.
bool CanEnterRoom(Services& s, const Identity& who, const store::Room& r) {
  const auto& g = who.grants;
  if (g.JoinsRoom(r.id)) return true;
  if (!g.anyRoom) return false;
  if (r.isPublic || r.ownerId == who.userId) return true;
  return store::Rooms(s.db).MemberRole(r.id, who.userId).has_value();
}

bool CanAdminRoom(Services& s, const Identity& who, const store::Room& r) {
  const auto& g = who.grants;
  if (g.AdminsRoom(r.id)) return true;
  if (!g.anyRoom) return false;
  if (r.ownerId == who.userId) return true;
  return store::Rooms(s.db).MemberRole(r.id, who.userId) == std::optional<std::string>("host");
}

void RequireEnterRoom(Services& s, const Identity& who, const store::Room& r) {
  if (!CanEnterRoom(s, who, r)) throw AppError(ErrorCode::Forbidden, "no access to this room", {{"roomId", r.id}});
}

RoomEntry EntryOf(Services& s, const Identity& who, const store::Room& r) {
  RoomEntry e;
  auto memberRole = who.grants.anyRoom ? store::Rooms(s.db).MemberRole(r.id, who.userId) : std::nullopt;
  if (CanAdminRoom(s, who, r)) {
    e.insider = true;
    e.role = "host";
  } else if (memberRole || who.grants.JoinsRoom(r.id)) {
    e.insider = true;
    e.role = memberRole.value_or("attendee");
  }
  return e;
}

void RequireAdminRoom(Services& s, const Identity& who, const store::Room& r) {
  if (!CanAdminRoom(s, who, r))
    throw AppError(ErrorCode::Forbidden, "only the room's owner, hosts or administrators may do this",
                   {{"roomId", r.id}});
}

}  // namespace atrium::rpc::views
