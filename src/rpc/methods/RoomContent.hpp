// Who may read what a room keeps beyond its live conference (chat history, meeting files),
// shared by chat.*, file.* and the /rooms/{roomId}/files routes: the participants of its
// live conference, and the room's own people (owner, members, tokens naming the room).
#pragma once

#include "rpc/Services.hpp"
#include "store/Files.hpp"
#include "store/Records.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace atrium::rpc::content {

// The caller's identity, checked like any authenticated call, or nullptr for a guest. Public
// methods get no identity from an HTTP Bearer token by themselves: this verifies it (a bad
// one throws Unauthenticated). A WebSocket identity that no longer holds counts as none.
const Identity* CallerIdentity(Services& s, Call& c);

// The room's own people, whatever isPublic says: effective administrators, tokens that name
// the room (rooms, roomAdmin), and with anyRoom its owner and members.
bool IsRoomInsider(Services& s, const Identity& who, const store::Room& r);

// A reader of the room's history and files.
struct Reader {
  const Identity* who = nullptr;
  std::optional<std::string> participantId;  // in the room's live conference on this connection
  int64_t joinedAt = 0;
  std::string role;  // the participant's role, "" when not one
};
// The caller as a reader of `room`: a participant of its live conference on this connection,
// a signed-in participant of it on another connection, or one of its insiders. Throws
// Unauthenticated (no identity and not a participant) or Forbidden {"roomId"}.
Reader RequireReader(Services& s, Call& c, const store::Room& room);
// The same check for a verified identity without a session (HTTP routes).
bool MayRead(Services& s, const Identity& who, const store::Room& room);

nlohmann::json FileView(const store::MeetingFile& f);

}  // namespace atrium::rpc::content
