// call.*: 1:1 calls between signed-in users over their WebSockets. A call rings the
// callee's registered connections, and once agreed both parties meet in a room: the one
// given to call.invite, or a private room made for the call and dropped when it ends.
#include "core/Log.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Rooms.hpp"
#include "store/Users.hpp"

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

using nlohmann::json;

namespace {

// Every call.* method needs a WebSocket (the other party's steps arrive as notifications)
// and makes the connection reachable for calls, as call.register does.
int64_t Register(Services& s, Call& c) {
  if (c.session.kind() != Session::Kind::WebSocket)
    throw AppError(ErrorCode::InvalidRequest, c.method + " needs a WebSocket session on /rpc");
  int64_t userId = c.identity().userId;
  if (!s.calls.IsRegistered(c.session.id())) {
    std::weak_ptr<Session> weak = c.sessionRef;
    s.calls.Register(userId, c.session.id(), [weak](const std::string& method, const json& params) {
      if (auto sess = weak.lock()) sess->Notify(method, params);
    });
  }
  return userId;
}

// A private room for the call: the caller owns it, the callee is a member.
int64_t CreateCallRoom(Services& s, const store::User& caller, const store::User& callee, const std::string& type) {
  return s.db.transaction([&] {
    store::Room r;
    r.orgId = caller.orgId;
    r.ownerId = caller.id;
    r.name = "Call: " + caller.name + " - " + callee.name;
    r.type = type == "audio" ? 1 : 2;
    r.numberLimit = 2;
    r.isPublic = false;
    r.createdAt = r.updatedAt = store::Now();
    store::Rooms rooms(s.db);
    int64_t id = rooms.Create(r);
    rooms.AddMember(id, callee.id, "speaker");
    return id;
  });
}

// One step of a call by the calling user: its callId, then the registry's state machine.
template <typename Step>
json RunStep(Services& s, Call& c, Step step) {
  int64_t me = Register(s, c);
  std::string callId = c.params.str("callId", 64);
  (s.calls.*step)(callId, me);
  return json::object();
}

}  // namespace

void RegisterCallMethods(Dispatcher& d, Services& s) {
  // A temporary room goes with its call, once nobody is left in it.
  s.calls.OnEnded([&s](const rooms::Calls::Call& call, const std::string&) {
    if (!call.temporaryRoom || !call.roomId) return;
    int64_t roomId = *call.roomId;
    s.calls.Retry(
        [&s, roomId] {
          if (s.conferences.IsLive(roomId)) return false;
          try {
            store::Rooms(s.db).Delete(roomId);
          } catch (const AppError& e) {
            if (e.code() != ErrorCode::NotFound) throw;
          }
          GST_DEBUG("call room dropped [room:%" G_GINT64_FORMAT "]", roomId);
          return true;
        },
        1);  // the conference usually ends on the next loop iteration, when its last participant left
  });

  d.Add("call.register", Access::User, [&s](Call& c) {
    Register(s, c);
    return json::object();
  });

  d.Add("call.invite", Access::User, [&s](Call& c) {
    int64_t me = Register(s, c);
    int64_t target = c.params.id("targetUserId");
    std::string type = c.params.optOneOf("type", {"audio", "video"}).value_or("video");
    auto roomId = c.params.optId("roomId");
    if (target == me) Params::Fail("targetUserId", "another user's id");
    store::User caller = views::UserOr404(s, me);
    store::User callee = views::UserOr404(s, target);
    const Identity& who = c.identity();
    if (!who.grants.admin && callee.orgId != caller.orgId)
      throw AppError(ErrorCode::Forbidden, "users of another organisation cannot be called", {{"userId", target}});
    std::optional<store::Room> room;
    if (roomId) {
      room = views::RoomOr404(s, *roomId);
      views::RequireAdminRoom(s, who, *room);
    }
    if (const auto* mine = s.calls.CallOf(me))
      throw AppError(ErrorCode::Conflict, "you are in a call already", {{"callId", mine->id}});
    if (!s.calls.IsReachable(target))
      throw AppError(ErrorCode::Unreachable, "the user is not reachable for calls", {{"userId", target}});

    // Busy without asking: the callee is in a meeting or in another call.
    const char* busy = s.conferences.HasUser(target) ? "inMeeting" : s.calls.CallOf(target) ? "inCall" : nullptr;
    if (busy) {
      std::string id = s.calls.RefuseBusy(me, target, type, busy);
      return json{{"callId", id}, {"state", "busy"}, {"roomId", nullptr}};
    }

    bool temporary = !room;
    int64_t callRoom = 0;
    if (room) {
      callRoom = room->id;
      if (room->ownerId != target && !store::Rooms(s.db).MemberRole(room->id, target))
        store::Rooms(s.db).AddMember(room->id, target, "attendee");
    } else {
      callRoom = CreateCallRoom(s, caller, callee, type);
    }
    json from = {{"userId", caller.id}, {"account", caller.account}, {"name", caller.name}};
    const auto& call = s.calls.Invite(me, target, type, callRoom, temporary, {{"from", from}});
    return json{{"callId", call.id}, {"state", "inviting"}, {"roomId", callRoom}, {"call", s.calls.View(call)}};
  });

  d.Add("call.ring", Access::User, [&s](Call& c) { return RunStep(s, c, &rooms::Calls::Ring); });
  d.Add("call.busy", Access::User, [&s](Call& c) { return RunStep(s, c, &rooms::Calls::Busy); });
  d.Add("call.agree", Access::User, [&s](Call& c) {
    int64_t me = Register(s, c);
    std::string callId = c.params.str("callId", 64);
    s.calls.Agree(callId, me);
    const auto* call = s.calls.Find(callId);
    return json{{"callId", callId}, {"roomId", call && call->roomId ? json(*call->roomId) : json(nullptr)}};
  });
  d.Add("call.reject", Access::User, [&s](Call& c) { return RunStep(s, c, &rooms::Calls::Reject); });
  d.Add("call.cancel", Access::User, [&s](Call& c) { return RunStep(s, c, &rooms::Calls::Cancel); });
  d.Add("call.connected", Access::User, [&s](Call& c) { return RunStep(s, c, &rooms::Calls::Connected); });
  d.Add("call.hangup", Access::User, [&s](Call& c) { return RunStep(s, c, &rooms::Calls::Hangup); });

  d.Add("call.event", Access::User, [&s](Call& c) {
    int64_t me = Register(s, c);
    int64_t target = c.params.id("targetUserId");
    std::string event = c.params.text("event", 64);
    json data = c.params.raw().contains("data") ? c.params.raw()["data"] : json(nullptr);
    s.calls.Event(me, target, event, data);
    return json::object();
  });
}

}  // namespace atrium::rpc
