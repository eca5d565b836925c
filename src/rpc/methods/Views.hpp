// How stored records look on the wire (camelCase, ids as numbers, secrets never shown),
// and the access rules that several method families share.
#pragma once

#include "core/Params.hpp"
#include "rpc/Dispatcher.hpp"
#include "rpc/Services.hpp"
#include "store/Records.hpp"

#include <nlohmann/json.hpp>

namespace atrium::rpc::views {

nlohmann::json User(const store::User& u);
nlohmann::json Room(const store::Room& r, const rooms::ConferenceRegistry& live);
nlohmann::json Member(const store::Member& m);
// `full`: with invite code and members, for those who may see the meeting itself.
nlohmann::json Meeting(const store::Meeting& m, const rooms::ConferenceRegistry& live, int64_t now,
                       bool full = true);
// "notStarted", "started" or "ended".
std::string MeetingStatus(const store::Meeting& m, int64_t now);

// offset >= 0, limit 1..500 (default 50).
store::Page ReadPage(const Params& p);
template <typename T>
nlohmann::json PageResult(const char* key, const store::PageOf<T>& page, const store::Page& req,
                          const std::function<nlohmann::json(const T&)>& view) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : page.items) items.push_back(view(i));
  return {{key, std::move(items)}, {"total", page.total}, {"offset", req.offset}, {"limit", req.limit}};
}

// Account names: 1..64 of [A-Za-z0-9._@+-], starting with a letter or digit.
std::string Account(const Params& p, const char* key);
// Passwords: 8..1024 bytes, anything else allowed (NUL too).
std::string NewPassword(const Params& p, const char* key);

// The one re-check of a verified token, before each authenticated call: its user still
// exists and it was not revoked; admin is what the token grants and the user is now.
// Returns the user; throws Unauthenticated.
store::User CheckIdentity(Services& s, Identity& id);

store::Room RoomOr404(Services& s, int64_t roomId);
store::User UserOr404(Services& s, int64_t userId);
store::Meeting MeetingOr404(Services& s, int64_t meetingId);

bool CanEnterRoom(Services& s, const Identity& who, const store::Room& r);
bool CanAdminRoom(Services& s, const Identity& who, const store::Room& r);
void RequireEnterRoom(Services& s, const Identity& who, const store::Room& r);
// How a signed-in user enters a live conference of a room by its id (conference.join
// without a meeting code; WHIP and WHEP): as an insider, who needs no password and may
// enter a private room, with a role ("host", or its member role, else "attendee"), or not.
struct RoomEntry {
  bool insider = false;
  std::string role = "attendee";
};
RoomEntry EntryOf(Services& s, const Identity& who, const store::Room& r);
void RequireAdminRoom(Services& s, const Identity& who, const store::Room& r);

}  // namespace atrium::rpc::views
