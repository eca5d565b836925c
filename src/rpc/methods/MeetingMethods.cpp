// meeting.* : scheduled and instant meetings with members, topics, an optional PIN and
// a numeric invite code. A meeting without a roomId gets a room of its own.
#include "auth/Passwords.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Meetings.hpp"
#include "store/Rooms.hpp"
#include "store/Users.hpp"

#include <algorithm>

namespace atrium::rpc {

using nlohmann::json;

namespace {

constexpr std::initializer_list<const char*> kDefinitions = {"1080p", "720p", "480p", "240p"};
constexpr int64_t kMaxTime = 253402300799;  // 9999-12-31

std::vector<store::Member> ReadMembers(Services& s, const Params& p) {
  std::vector<store::Member> out;
  const auto* list = p.optArray("members", 1000);
  if (!list) return out;
  for (const auto& item : *list) {
    if (!item.is_object()) Params::Fail("members", "an array of {userId, role} objects");
    Params m(item);
    store::Member mem;
    mem.userId = m.id("userId");
    mem.role = m.optOneOf("role", {"host", "speaker", "attendee"}).value_or("attendee");
    if (!store::Users(s.db).Find(mem.userId))
      throw AppError(ErrorCode::NotFound, "no such user", {{"userId", mem.userId}});
    out.push_back(mem);
  }
  return out;
}

std::string ReadTopics(const Params& p, const std::string& current) {
  const auto* list = p.optArray("topics", 100);
  if (!list) return current;
  for (const auto& t : *list)
    if (!t.is_string() || t.get_ref<const std::string&>().size() > 512)
      Params::Fail("topics", "an array of strings of at most 512 bytes");
  return list->dump();
}

void ReadMeetingFields(const Params& p, store::Meeting& m) {
  if (auto v = p.optText("name", 128)) m.name = *v;
  if (auto v = p.optStr("description", 4096)) m.description = *v;
  if (auto v = p.optInteger("type", 1, 3)) m.type = *v;
  if (auto v = p.optOneOf("definition", kDefinitions)) m.definition = *v;
  if (auto v = p.optInteger("startTime", 0, kMaxTime)) m.startTime = *v;
  if (auto v = p.optInteger("endTime", 0, kMaxTime)) m.endTime = *v;
  if (p.has("pin")) {
    std::string pin = p.str("pin", 64);
    m.pinHash = pin.empty() ? std::nullopt : std::optional(auth::HashPassword(pin));
  }
}

// A token scoped to some rooms (no anyRoom) reaches the meetings of those rooms only.
bool InTokenScope(const Identity& who, const store::Meeting& m, bool manage) {
  const auto& g = who.grants;
  if (g.admin || g.anyRoom) return true;
  auto has = [&](const std::vector<int64_t>& v) { return std::find(v.begin(), v.end(), m.roomId) != v.end(); };
  return has(g.roomAdmin) || (!manage && has(g.rooms));
}

bool CanManageMeeting(Services& s, const Call& c, const store::Meeting& m) {
  const auto& who = c.identity();
  if (!InTokenScope(who, m, true)) return false;
  if (who.grants.admin || m.ownerId == who.userId) return true;
  auto room = store::Rooms(s.db).Find(m.roomId);
  return room && views::CanAdminRoom(s, who, *room);
}

bool CanSeeMeeting(Services& s, const Call& c, const store::Meeting& m) {
  if (CanManageMeeting(s, c, m)) return true;
  if (!InTokenScope(c.identity(), m, false)) return false;
  for (const auto& mem : m.members)
    if (mem.userId == c.identity().userId) return true;
  return false;
}

// Shared by meeting.create and meeting.instant.
json CreateMeeting(Services& s, Call& c, store::Meeting m) {
  if (m.endTime <= m.startTime) Params::Fail("endTime", "a time after startTime");
  m.members = ReadMembers(s, c.params);
  m.topics = ReadTopics(c.params, "[]");
  m.ownerId = c.identity().userId;
  return s.db.transaction([&] {
    if (auto roomId = c.params.optId("roomId")) {
      auto room = views::RoomOr404(s, *roomId);
      views::RequireAdminRoom(s, c.identity(), room);
      m.roomId = room.id;
    } else {
      store::Room r;
      r.name = m.name;
      r.type = m.type;
      r.definition = m.definition;
      r.mode = c.params.optOneOf("mode", {"sfu", "mcu"}).value_or("sfu");
      r.numberLimit = c.params.optInteger("numberLimit", 1, 1000).value_or(r.numberLimit);
      r.ownerId = c.identity().userId;
      r.orgId = views::UserOr404(s, c.identity().userId).orgId;
      m.roomId = store::Rooms(s.db).Create(r);
      for (const auto& mem : m.members) store::Rooms(s.db).AddMember(m.roomId, mem.userId, mem.role);
    }
    store::Meetings(s.db).Create(m, [] { return auth::RandomDigits(9); });
    auto stored = views::MeetingOr404(s, m.id);
    return json{{"meetingId", m.id},
                {"roomId", m.roomId},
                {"inviteCode", m.inviteCode},
                {"meeting", views::Meeting(stored, s.conferences, store::Now())}};
  });
}

}  // namespace

void RegisterMeetingMethods(Dispatcher& d, Services& s) {
  d.Add("meeting.create", Access::User, [&s](Call& c) {
    store::Meeting m;
    c.params.text("name", 128);
    c.params.integer("startTime", 0, kMaxTime);
    c.params.integer("endTime", 0, kMaxTime);
    ReadMeetingFields(c.params, m);
    return CreateMeeting(s, c, m);
  });

  d.Add("meeting.instant", Access::User, [&s](Call& c) {
    store::Meeting m;
    m.name = "Instant meeting";
    ReadMeetingFields(c.params, m);
    m.instant = true;
    m.startTime = store::Now();
    m.endTime = m.startTime + c.params.optInteger("duration", 60, 7 * 86400).value_or(3600);
    return CreateMeeting(s, c, m);
  });

  d.Add("meeting.get", Access::User, [&s](Call& c) {
    auto m = views::MeetingOr404(s, c.params.id("meetingId"));
    if (!CanSeeMeeting(s, c, m)) throw AppError(ErrorCode::Forbidden, "no access to this meeting");
    return json{{"meeting", views::Meeting(m, s.conferences, store::Now())}};
  });

  d.Add("meeting.update", Access::User, [&s](Call& c) {
    auto m = views::MeetingOr404(s, c.params.id("meetingId"));
    if (!CanManageMeeting(s, c, m))
      throw AppError(ErrorCode::Forbidden, "only the meeting's owner, the room's hosts or administrators may change it");
    ReadMeetingFields(c.params, m);
    if (m.endTime <= m.startTime) Params::Fail("endTime", "a time after startTime");
    m.topics = ReadTopics(c.params, m.topics);
    bool replaceMembers = c.params.has("members");
    if (replaceMembers) m.members = ReadMembers(s, c.params);
    store::Meetings(s.db).Update(m, replaceMembers);
    return json{{"meeting", views::Meeting(views::MeetingOr404(s, m.id), s.conferences, store::Now())}};
  });

  d.Add("meeting.delete", Access::User, [&s](Call& c) {
    auto m = views::MeetingOr404(s, c.params.id("meetingId"));
    if (!CanManageMeeting(s, c, m))
      throw AppError(ErrorCode::Forbidden, "only the meeting's owner, the room's hosts or administrators may delete it");
    if (s.conferences.IsLive(m.roomId) && views::MeetingStatus(m, store::Now()) == "started")
      throw AppError(ErrorCode::Conflict, "the meeting is live; finish it first", {{"meetingId", m.id}});
    store::Meetings(s.db).Delete(m.id);
    return json::object();
  });

  d.Add("meeting.list", Access::User, [&s](Call& c) {
    int64_t from = c.params.optInteger("from", 0, kMaxTime).value_or(0);
    int64_t to = c.params.optInteger("to", 0, kMaxTime).value_or(kMaxTime);
    if (to <= from) Params::Fail("to", "a time after from");
    auto page = views::ReadPage(c.params);
    std::optional<int64_t> userId;
    bool all = c.params.optBoolean("all").value_or(false);
    if (!(c.identity().grants.admin && all)) userId = c.identity().userId;
    auto result = store::Meetings(s.db).List(userId, from, to, page);
    if (!c.identity().grants.admin && !c.identity().grants.anyRoom) {
      std::erase_if(result.items, [&](const store::Meeting& m) { return !CanSeeMeeting(s, c, m); });
      result.total = int64_t(result.items.size());
    }
    int64_t now = store::Now();
    return views::PageResult<store::Meeting>(
        "meetings", result, page, [&s, now](const store::Meeting& m) { return views::Meeting(m, s.conferences, now); });
  });

  // Public: what a join page shows for an invite code, before anyone logs in.
  d.Add("meeting.byCode", Access::Public, [&s](Call& c) {
    std::string code = c.params.str("code", 32);
    auto m = store::Meetings(s.db).FindByCode(code);
    if (!m) return json{{"status", "notFound"}};
    int64_t now = store::Now();
    return json{{"status", views::MeetingStatus(*m, now)},
                {"meeting",
                 {{"meetingId", m->id},
                  {"roomId", m->roomId},
                  {"name", m->name},
                  {"startTime", m->startTime},
                  {"endTime", m->endTime},
                  {"hasPin", m->pinHash.has_value()},
                  {"live", s.conferences.IsLive(m->roomId)}}}};
  });

  d.Add("meeting.listByRoom", Access::User, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    views::RequireEnterRoom(s, c.identity(), r);
    auto page = views::ReadPage(c.params);
    auto result = store::Meetings(s.db).ListByRoom(r.id, page);
    int64_t now = store::Now();
    // Invite codes and member lists only for those who may see each meeting itself.
    return views::PageResult<store::Meeting>("meetings", result, page, [&](const store::Meeting& m) {
      return views::Meeting(m, s.conferences, now, CanSeeMeeting(s, c, m));
    });
  });
}

void RegisterAll(Dispatcher& d, Services& s) {
  RegisterServerMethods(d, s);
  RegisterAuthMethods(d, s);
  RegisterUserMethods(d, s);
  RegisterRoomMethods(d, s);
  RegisterMeetingMethods(d, s);
  RegisterConferenceMethods(d, s);
  RegisterHostMethods(d, s);
  RegisterRecordingMethods(d, s);
  RegisterChatMethods(d, s);
  RegisterFileMethods(d, s);
  RegisterCallMethods(d, s);
  RegisterTranscriptMethods(d, s);
  RegisterWhipRoutes(s);
}

}  // namespace atrium::rpc
