// conference.* (join, leave, finish) and media.* (publish, play, candidates). These need
// a WebSocket session: the answer to an offer, ICE candidates and room events arrive as
// notifications on it.
#include "auth/Passwords.hpp"
#include "core/Log.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Meetings.hpp"
#include "store/Rooms.hpp"
#include "store/Users.hpp"

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

using nlohmann::json;

namespace {

void RequireWebSocket(const Call& c) {
  if (c.session.kind() != Session::Kind::WebSocket)
    throw AppError(ErrorCode::InvalidRequest, c.method + " needs a WebSocket session on /rpc");
}

// The caller's conference and participant id, or NotJoined.
std::pair<rooms::Conference*, std::string> Joined(Services& s, const Call& c) {
  RequireWebSocket(c);
  const auto* m = s.conferences.MembershipOf(c.session.id());
  rooms::Conference* conf = m ? s.conferences.Find(m->roomId) : nullptr;
  if (!conf) throw AppError(ErrorCode::NotJoined, "join a conference on this connection first");
  return {conf, m->participantId};
}

// A verified identity when the connection has one that is still valid, else a guest.
// Checked like any authenticated call: the user still exists and the token is not revoked.
const Identity* CallerIdentity(Services& s, const Call& c) {
  auto& id = c.session.identity;
  if (!id || id->expiresAt <= store::Now()) return nullptr;
  try {
    views::CheckIdentity(s, *id);
  } catch (const AppError&) {
    c.session.identity.reset();
    return nullptr;
  }
  return &*id;
}

// A token without the grant may not publish (or play); guests act on the room's terms.
void RequireGrant(Services& s, const Call& c, bool auth::Grants::*grant, const char* name) {
  const Identity* who = CallerIdentity(s, c);
  if (who && !(who->grants.*grant))
    throw AppError(ErrorCode::Forbidden, std::string("this token has no '") + name + "' grant", {{"grant", name}});
}

void Answer(const std::shared_ptr<Responder>& r, const char* idKey, const std::string& id, const std::string& answer,
            const std::string& error) {
  if (!error.empty())
    return r->Reject(InvalidParams("invalid parameter 'sdp': " + error, {{"param", "sdp"}, {"reason", error}}));
  r->Resolve({{idKey, id}, {"sdp", answer}, {"type", "answer"}});
}

}  // namespace

void RegisterConferenceMethods(Dispatcher& d, Services& s) {
  d.Add("conference.join", Access::Public, [&s](Call& c) {
    RequireWebSocket(c);
    if (s.conferences.MembershipOf(c.session.id()))
      throw AppError(ErrorCode::Conflict, "this connection is already in a conference; leave it first");
    auto roomId = c.params.optId("roomId");
    auto code = c.params.optStr("code", 32);
    if (!roomId && !code) Params::Fail("roomId", "a room id or a meeting invite code (code)");
    auto password = c.params.optStr("password", 256);
    auto displayName = c.params.optText("displayName", 64);
    const Identity* who = CallerIdentity(s, c);

    std::optional<store::Meeting> meeting;
    if (code) {
      meeting = store::Meetings(s.db).FindByCode(*code);
      if (!meeting) throw AppError(ErrorCode::NotFound, "no meeting with this invite code", {{"code", *code}});
      if (views::MeetingStatus(*meeting, store::Now()) == "ended")
        throw AppError(ErrorCode::Conflict, "the meeting has ended", {{"meetingId", meeting->id}});
      roomId = meeting->roomId;
    }
    store::Room room = views::RoomOr404(s, *roomId);

    // Who may enter: the room's own people (owner, members, hosts, meeting members,
    // tokens naming the room) without a password; anyone else, guests included, with the
    // room password or the meeting PIN where there is one; otherwise only public rooms
    // and meetings joined by invite code are open.
    std::string role = who ? "attendee" : "guest";
    bool insider = false;
    if (who) {
      auto entry = views::EntryOf(s, *who, room);
      insider = entry.insider;
      role = entry.role;
      if (meeting) {
        if (meeting->ownerId == who->userId) {
          insider = true;
          role = "host";
        } else if (auto r = store::Meetings(s.db).MemberRole(meeting->id, who->userId)) {
          insider = true;
          if (role != "host") role = *r;
        }
      }
    }
    if (!insider) {
      if (meeting && meeting->pinHash) {
        auto pin = c.params.optStr("pin", 64);
        std::string given = pin.value_or(password.value_or(""));
        if (given.empty() || !auth::VerifyPassword(*meeting->pinHash, given))
          throw AppError(ErrorCode::WrongPassword, "wrong meeting PIN", {{"pinRequired", true}});
      } else if (room.passwordHash) {
        if (!password || !auth::VerifyPassword(*room.passwordHash, *password))
          throw AppError(ErrorCode::WrongPassword, password ? "wrong room password" : "this room needs a password",
                         {{"passwordRequired", true}});
      } else if (!room.isPublic && !meeting) {
        throw AppError(ErrorCode::Forbidden, "this room is private: log in as a member or use an invitation",
                       {{"roomId", room.id}});
      }
    }
    if (!who && !displayName) Params::Fail("displayName", "a display name (required for guests)");

    rooms::Conference* existing = s.conferences.Find(room.id);
    if (existing && existing->size() >= size_t(room.numberLimit))
      throw AppError(ErrorCode::RoomFull, "the room is full", {{"numberLimit", room.numberLimit}});

    rooms::Conference::Participant p;
    p.name = displayName.value_or("");
    if (who) {
      p.userId = who->userId;
      if (p.name.empty()) p.name = views::UserOr404(s, who->userId).name;
    }
    p.role = role;
    p.sessionId = c.session.id();
    std::weak_ptr<Session> weak = c.sessionRef;
    p.notify = [weak](const std::string& method, const json& params) {
      if (auto sess = weak.lock()) sess->Notify(method, params);
    };
    rooms::Conference& conf = s.conferences.Open(room.id, room.mode, room.definition);
    if (meeting) conf.meetingId = meeting->id;
    auto& joined = conf.Join(std::move(p));
    s.conferences.Bind(c.session.id(), room.id, joined.id);
    json result = {{"participant", rooms::Conference::ParticipantJson(joined)},
                   {"participants", conf.ParticipantsJson(joined.id)},
                   {"room", views::Room(room, s.conferences)}};
    if (meeting) result["meetingId"] = meeting->id;
    return result;
  });

  d.Add("conference.leave", Access::Public, [&s](Call& c) {
    Joined(s, c);
    s.conferences.LeaveSession(c.session.id());
    return json::object();
  });

  d.Add("conference.finish", Access::Public, [&s](Call& c) {
    auto [conf, pid] = Joined(s, c);
    const auto* p = conf->Find(pid);
    if (!p || p->role != "host") throw AppError(ErrorCode::Forbidden, "only a host may end the conference for all");
    if (conf->meetingId) store::Meetings(s.db).SetEnded(*conf->meetingId, store::Now());
    s.conferences.Finish(conf->roomId());
    return json::object();
  });

  d.AddAsync("media.publish", Access::Public, [&s](Call& c, std::shared_ptr<Responder> r) {
    auto [conf, pid] = Joined(s, c);
    RequireGrant(s, c, &auth::Grants::publish, "publish");
    std::string sdp = c.params.str("sdp", 64 * 1024);
    std::string kind = c.params.optOneOf("kind", {"camera", "screen"}).value_or("camera");
    bool takeOver = c.params.optBoolean("takeOver").value_or(false);
    auto id = std::make_shared<std::string>();
    *id = conf->Publish(
        pid, kind, sdp,
        [r, id](const std::string& answer, const std::string& error) { Answer(r, "streamId", *id, answer, error); },
        takeOver);
  });

  d.AddAsync("media.play", Access::Public, [&s](Call& c, std::shared_ptr<Responder> r) {
    auto [conf, pid] = Joined(s, c);
    RequireGrant(s, c, &auth::Grants::subscribe, "subscribe");
    std::string streamId = c.params.str("streamId", 64);
    std::string sdp = c.params.str("sdp", 64 * 1024);
    if (streamId == "mix" && conf->mode() != "mcu")
      throw AppError(ErrorCode::NotFound, "this room has no mix (SFU mode)", {{"streamId", "mix"}});
    if (streamId == "speaker" && conf->mode() == "mcu")
      throw AppError(ErrorCode::NotFound, "MCU rooms have no voice-activated stream: play \"mix\" (the speaker layout follows the speaker)",
                     {{"streamId", "speaker"}});
    auto id = std::make_shared<std::string>();
    *id = conf->Play(pid, streamId, sdp, [r, id](const std::string& answer, const std::string& error) {
      Answer(r, "playId", *id, answer, error);
    });
  });

  // MCU rooms: how the composite is laid out, for everyone in the room.
  d.Add("conference.setLayout", Access::Public, [&s](Call& c) {
    auto [conf, pid] = Joined(s, c);
    const auto* p = conf->Find(pid);
    if (!p || (p->role != "host" && p->role != "speaker"))
      throw AppError(ErrorCode::Forbidden, "only a host or speaker may change the layout");
    conf->SetLayout(c.params.raw());
    return json::object();
  });

  d.Add("media.candidate", Access::Public, [&s](Call& c) {
    auto [conf, pid] = Joined(s, c);
    std::string id = c.params.str("id", 64);
    std::string candidate = c.params.optStr("candidate", 1024).value_or("");
    auto mline = c.params.integer("sdpMLineIndex", 0, 63);
    conf->AddCandidate(pid, id, unsigned(mline), candidate);
    return json::object();
  });

  d.Add("media.unpublish", Access::Public, [&s](Call& c) {
    auto [conf, pid] = Joined(s, c);
    conf->Unpublish(pid, c.params.str("streamId", 64));
    return json::object();
  });

  // Simulcast: which layer (0 = smallest) a play gets.
  d.Add("media.setLayer", Access::Public, [&s](Call& c) {
    auto [conf, pid] = Joined(s, c);
    std::string playId = c.params.str("playId", 64);
    int layer = int(c.params.integer("layer", 0, 2));
    return json{{"playId", playId}, {"layer", conf->SetLayer(pid, playId, layer)}};
  });

  d.Add("media.setLayerAll", Access::Public, [&s](Call& c) {
    auto [conf, pid] = Joined(s, c);
    int layer = int(c.params.integer("layer", 0, 2));
    return json{{"plays", conf->SetLayerAll(pid, layer)}};
  });

  // A video filter on a published stream (its publisher, or a host).
  d.Add("filter.apply", Access::Public, [&s](Call& c) {
    auto [conf, pid] = Joined(s, c);
    std::string streamId = c.params.str("streamId", 64);
    std::string filter = c.params.oneOf("filter", {"face", "motion"});
    json params = c.params.raw().contains("params") ? c.params.raw()["params"] : json::object();
    conf->ApplyFilter(pid, streamId, filter, params);
    return json{{"streamId", streamId}, {"filter", filter}};
  });

  d.Add("filter.remove", Access::Public, [&s](Call& c) {
    auto [conf, pid] = Joined(s, c);
    conf->RemoveFilter(pid, c.params.str("streamId", 64));
    return json::object();
  });

  d.Add("conference.setVideoMax", Access::Public, [&s](Call& c) {
    auto [conf, pid] = Joined(s, c);
    conf->SetVideoMax(pid, int(c.params.integer("number", 0, 64)));
    return json::object();
  });

  d.Add("media.stop", Access::Public, [&s](Call& c) {
    auto [conf, pid] = Joined(s, c);
    conf->Stop(pid, c.params.str("playId", 64));
    return json::object();
  });
}

}  // namespace atrium::rpc
