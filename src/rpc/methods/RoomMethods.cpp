// room.* : stored rooms, their passwords and members. Whether a room is live comes from
// the ConferenceRegistry; a live room cannot be deleted or change its mode.
#include "auth/Passwords.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Rooms.hpp"
#include "store/Users.hpp"

#include <set>

namespace atrium::rpc {

using nlohmann::json;

namespace {

constexpr std::initializer_list<const char*> kModes = {"sfu", "mcu"};
constexpr std::initializer_list<const char*> kDefinitions = {"1080p", "720p", "480p", "240p"};
constexpr std::initializer_list<const char*> kRoles = {"host", "speaker", "attendee"};

// Fields shared by room.create and room.update; absent ones keep `r`'s value.
void ReadRoomFields(const Params& p, store::Room& r) {
  if (auto v = p.optText("name", 128)) r.name = *v;
  if (auto v = p.optOneOf("mode", kModes)) r.mode = *v;
  if (auto v = p.optInteger("type", 1, 3)) r.type = *v;
  if (auto v = p.optOneOf("definition", kDefinitions)) r.definition = *v;
  if (auto v = p.optInteger("numberLimit", 1, 1000)) r.numberLimit = *v;
  if (auto v = p.optBoolean("isPublic")) r.isPublic = *v;
  if (auto v = p.optStr("description", 4096)) r.description = *v;
  if (auto v = p.optStr("logo", 2048)) r.logo = *v;
}

std::optional<std::string> RoomPassword(const Params& p) {
  auto pw = p.optStr("password", 256);
  if (!pw || pw->empty()) return std::nullopt;
  return auth::HashPassword(*pw);
}

}  // namespace

void RegisterRoomMethods(Dispatcher& d, Services& s) {
  d.Add("room.create", Access::User, [&s](Call& c) {
    store::Room r;
    c.params.text("name", 128);  // required
    ReadRoomFields(c.params, r);
    r.passwordHash = RoomPassword(c.params);
    r.ownerId = c.identity().userId;
    r.orgId = views::UserOr404(s, c.identity().userId).orgId;
    int64_t id = store::Rooms(s.db).Create(r);
    return json{{"roomId", id}, {"room", views::Room(views::RoomOr404(s, id), s.conferences)}};
  });

  d.Add("room.get", Access::User, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    views::RequireEnterRoom(s, c.identity(), r);
    return json{{"room", views::Room(r, s.conferences)}};
  });

  d.Add("room.update", Access::User, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    views::RequireAdminRoom(s, c.identity(), r);
    std::string oldMode = r.mode;
    ReadRoomFields(c.params, r);
    if (r.mode != oldMode && s.conferences.IsLive(r.id))
      throw AppError(ErrorCode::Conflict, "the mode of a live room cannot change", {{"roomId", r.id}});
    store::Rooms(s.db).Update(r);
    return json{{"room", views::Room(views::RoomOr404(s, r.id), s.conferences)}};
  });

  d.Add("room.delete", Access::User, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    views::RequireAdminRoom(s, c.identity(), r);
    if (s.conferences.IsLive(r.id))
      throw AppError(ErrorCode::Conflict, "the room is live; finish the conference first", {{"roomId", r.id}});
    store::Rooms(s.db).Delete(r.id);
    return json::object();
  });

  d.Add("room.list", Access::User, [&s](Call& c) {
    auto page = views::ReadPage(c.params);
    const auto& who = c.identity();
    // Administrators see every room; other tokens what their user may enter.
    store::PageOf<store::Room> result;
    if (who.grants.admin || who.grants.anyRoom) {
      std::optional<int64_t> userId;
      if (!who.grants.admin) userId = who.userId;
      result = store::Rooms(s.db).ListVisible(userId, page);
    } else {
      // A room-scoped token lists exactly the rooms it names.
      std::set<int64_t> ids(who.grants.rooms.begin(), who.grants.rooms.end());
      ids.insert(who.grants.roomAdmin.begin(), who.grants.roomAdmin.end());
      std::vector<store::Room> named;
      for (int64_t id : ids)
        if (auto r = store::Rooms(s.db).Find(id)) named.push_back(*r);
      result.total = int64_t(named.size());
      for (int64_t i = page.offset; i < result.total && i < page.offset + page.limit; ++i)
        result.items.push_back(named[size_t(i)]);
    }
    return views::PageResult<store::Room>("rooms", result, page,
                                          [&s](const store::Room& r) { return views::Room(r, s.conferences); });
  });

  d.Add("room.setPassword", Access::User, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    views::RequireAdminRoom(s, c.identity(), r);
    store::Rooms(s.db).SetPasswordHash(r.id, RoomPassword(c.params));
    return json::object();
  });

  // Public so that a guest with a join link can check a password before joining.
  d.Add("room.checkPassword", Access::Public, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    std::string pw = c.params.str("password", 256);
    bool valid = !r.passwordHash || auth::VerifyPassword(*r.passwordHash, pw);
    return json{{"valid", valid}};
  });

  d.Add("room.hasPassword", Access::Public, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    return json{{"hasPassword", r.passwordHash.has_value()}};
  });

  d.Add("room.isActive", Access::Public, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    return json{{"active", s.conferences.IsLive(r.id)}, {"participants", s.conferences.ParticipantCount(r.id)}};
  });

  d.Add("room.members.add", Access::User, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    views::RequireAdminRoom(s, c.identity(), r);
    int64_t userId = c.params.id("userId");
    std::string role = c.params.optOneOf("role", kRoles).value_or("attendee");
    views::UserOr404(s, userId);
    store::Rooms(s.db).AddMember(r.id, userId, role);
    return json::object();
  });

  d.Add("room.members.remove", Access::User, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    views::RequireAdminRoom(s, c.identity(), r);
    store::Rooms(s.db).RemoveMember(r.id, c.params.id("userId"));
    return json::object();
  });

  d.Add("room.members.list", Access::User, [&s](Call& c) {
    auto r = views::RoomOr404(s, c.params.id("roomId"));
    views::RequireEnterRoom(s, c.identity(), r);
    json members = json::array();
    for (const auto& m : store::Rooms(s.db).Members(r.id)) members.push_back(views::Member(m));
    return json{{"members", members}};
  });
}

}  // namespace atrium::rpc
