#include "rpc/methods/RoomContent.hpp"

#include "rpc/methods/Views.hpp"
#include "store/Rooms.hpp"

namespace atrium::rpc::content {

using nlohmann::json;

const Identity* CallerIdentity(Services& s, Call& c) {
  auto& id = c.session.identity;
  if (!id && c.session.bearer) {
    auto claims = s.tokens.Verify(*c.session.bearer);
    id = Identity{claims.userId, claims.account, claims.jti, claims.expiresAt, claims.grants, claims.grants.admin};
    views::CheckIdentity(s, *id);  // throws for a deleted user or a revoked token
    return &*id;
  }
  if (!id || id->expiresAt <= store::Now()) return nullptr;
  try {
    views::CheckIdentity(s, *id);
  } catch (const AppError&) {
    id.reset();
    return nullptr;
  }
  return &*id;
}

bool IsRoomInsider(Services& s, const Identity& who, const store::Room& r) {
  if (who.grants.JoinsRoom(r.id)) return true;
  if (!who.grants.anyRoom) return false;
  return r.ownerId == who.userId || store::Rooms(s.db).MemberRole(r.id, who.userId).has_value();
}

namespace {

// A signed-in user who is in the room's live conference, on any connection.
bool InConference(Services& s, const Identity& who, int64_t roomId) {
  auto* conf = s.conferences.Find(roomId);
  if (!conf) return false;
  for (const auto& p : conf->ParticipantsJson())
    if (p["userId"].is_number_integer() && p["userId"].get<int64_t>() == who.userId) return true;
  return false;
}

}  // namespace

bool MayRead(Services& s, const Identity& who, const store::Room& room) {
  return IsRoomInsider(s, who, room) || InConference(s, who, room.id);
}

Reader RequireReader(Services& s, Call& c, const store::Room& room) {
  Reader r;
  r.who = CallerIdentity(s, c);
  if (const auto* m = s.conferences.MembershipOf(c.session.id()); m && m->roomId == room.id) {
    if (const auto* p = s.conferences.Find(room.id)->Find(m->participantId)) {
      r.participantId = p->id;
      r.joinedAt = p->joinedAt;
      r.role = p->role;
      return r;
    }
  }
  if (!r.who)
    throw AppError(ErrorCode::Unauthenticated, "join the room's conference, or sign in as one of its people",
                   {{"reason", "missing"}});
  if (!MayRead(s, *r.who, room))
    throw AppError(ErrorCode::Forbidden, "only the room's participants and members may read this",
                   {{"roomId", room.id}});
  return r;
}

json FileView(const store::MeetingFile& f) {
  return {{"fileId", f.id},
          {"roomId", f.roomId},
          {"meetingId", f.meetingId ? json(*f.meetingId) : json(nullptr)},
          {"uploadedBy", f.uploadedBy ? json(*f.uploadedBy) : json(nullptr)},
          {"name", f.name},
          {"contentType", f.contentType},
          {"size", f.sizeBytes},
          {"createdAt", f.createdAt},
          {"url", "/rooms/" + std::to_string(f.roomId) + "/files/" + std::to_string(f.id)}};
}

}  // namespace atrium::rpc::content
