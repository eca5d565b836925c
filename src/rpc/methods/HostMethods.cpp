// Meeting controls in a live conference: host moderation (host.*), hands, names,
// self-reported mic/camera state, live transcription, conference.info and conference.stats. Like the other
// conference methods they need a WebSocket session that has joined; host.* and renaming
// the meeting or someone else need the caller's role to be `host`, checked here.
#include "core/Log.hpp"
#include "rooms/LinkMonitor.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Meetings.hpp"
#include "store/Rooms.hpp"

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

using nlohmann::json;

namespace {

struct Caller {
  rooms::Conference* conf;
  std::string id;
};

Caller InConference(Services& s, const Call& c) {
  if (c.session.kind() != Session::Kind::WebSocket)
    throw AppError(ErrorCode::InvalidRequest, c.method + " needs a WebSocket session on /rpc");
  const auto* m = s.conferences.MembershipOf(c.session.id());
  rooms::Conference* conf = m ? s.conferences.Find(m->roomId) : nullptr;
  if (!conf) throw AppError(ErrorCode::NotJoined, "join a conference on this connection first");
  return {conf, m->participantId};
}

Caller AsHost(Services& s, const Call& c) {
  Caller me = InConference(s, c);
  if (!me.conf->IsHost(me.id)) throw AppError(ErrorCode::Forbidden, "only a host may do this");
  return me;
}

// The participant named by `participantId` (a string ≤ 64), or NotFound.
std::string Target(const Caller& me, const Call& c) {
  std::string id = c.params.str("participantId", 64);
  if (!me.conf->Find(id))
    throw AppError(ErrorCode::NotFound, "no such participant in this conference", {{"participantId", id}});
  return id;
}

}  // namespace

void RegisterHostMethods(Dispatcher& d, Services& s) {
  d.Add("host.mute", Access::Public, [&s](Call& c) {
    Caller me = AsHost(s, c);
    std::string target = Target(me, c);
    bool muted = c.params.boolean("muted");
    bool allow = c.params.optBoolean("allowUnmute").value_or(false);
    me.conf->SetMuted(target, muted, allow, me.id);
    return json::object();
  });

  d.Add("host.muteAll", Access::Public, [&s](Call& c) {
    Caller me = AsHost(s, c);
    bool muted = c.params.boolean("muted");
    bool allow = c.params.optBoolean("allowUnmute").value_or(false);
    me.conf->MuteAll(muted, allow, me.id);
    return json::object();
  });

  d.Add("host.disableVideo", Access::Public, [&s](Call& c) {
    Caller me = AsHost(s, c);
    std::string target = Target(me, c);
    bool disabled = c.params.boolean("disabled");
    bool allow = c.params.optBoolean("allowEnable").value_or(false);
    me.conf->SetVideoDisabled(target, disabled, allow, me.id);
    return json::object();
  });

  d.Add("host.kick", Access::Public, [&s](Call& c) {
    Caller me = AsHost(s, c);
    std::string target = Target(me, c);
    bool allowRejoin = c.params.optBoolean("allowRejoin").value_or(false);
    if (target == me.id) Params::Fail("participantId", "another participant (use conference.leave)");
    me.conf->Kick(target, allowRejoin, me.id);
    return json::object();
  });

  d.Add("host.allowRejoin", Access::Public, [&s](Call& c) {
    Caller me = AsHost(s, c);
    me.conf->AllowRejoin(c.params.str("participantId", 64));
    return json::object();
  });

  d.Add("host.setHost", Access::Public, [&s](Call& c) {
    Caller me = AsHost(s, c);
    std::string target = Target(me, c);
    bool handOver = c.params.optBoolean("handOver").value_or(false);
    me.conf->SetHost(target, handOver, me.id);
    return json::object();
  });

  d.Add("conference.raiseHand", Access::Public, [&s](Call& c) {
    Caller me = InConference(s, c);
    bool raised = c.params.boolean("raised");
    std::string target = c.params.has("participantId") ? Target(me, c) : me.id;
    // Anyone raises or lowers their own hand; a host may lower (or raise) anyone's.
    if (target != me.id && !me.conf->IsHost(me.id))
      throw AppError(ErrorCode::Forbidden, "only a host may change another participant's hand");
    me.conf->RaiseHand(target, raised);
    return json::object();
  });

  d.Add("conference.rename", Access::Public, [&s](Call& c) {
    Caller me = AsHost(s, c);
    std::string name = c.params.text("name", 128);
    json params = {{"roomId", me.conf->roomId()}, {"name", name}};
    // Stored: the meeting's name when the conference was joined with its code, else the room's.
    if (me.conf->meetingId) {
      store::Meeting m = views::MeetingOr404(s, *me.conf->meetingId);
      m.name = name;
      store::Meetings(s.db).Update(m, false);
      params["meetingId"] = m.id;
    } else {
      store::Room r = views::RoomOr404(s, me.conf->roomId());
      r.name = name;
      store::Rooms(s.db).Update(r);
    }
    me.conf->Broadcast("meetingUpdated", params);
    return json::object();
  });

  d.Add("conference.renameParticipant", Access::Public, [&s](Call& c) {
    Caller me = InConference(s, c);
    std::string target = c.params.has("participantId") ? Target(me, c) : me.id;
    std::string name = c.params.text("name", 64);
    if (target != me.id && !me.conf->IsHost(me.id))
      throw AppError(ErrorCode::Forbidden, "only a host may rename another participant");
    me.conf->Rename(target, name);
    return json::object();
  });

  d.Add("conference.updateMedia", Access::Public, [&s](Call& c) {
    Caller me = InConference(s, c);
    auto audio = c.params.optBoolean("audio");
    auto video = c.params.optBoolean("video");
    if (!audio && !video) Params::Fail("audio", "audio or video (a boolean)");
    me.conf->UpdateMedia(me.id, audio, video);
    return json::object();
  });

  d.Add("conference.transcribe", Access::Public, [&s](Call& c) {
    Caller me = AsHost(s, c);
    std::string action = c.params.oneOf("action", {"start", "stop", "pause", "resume"});
    me.conf->Transcribe(action, me.id);
    return json{{"transcribing", me.conf->transcribing()}, {"paused", me.conf->transcriptionPaused()}};
  });

  d.Add("conference.isTranscribing", Access::Public, [&s](Call& c) {
    Caller me = InConference(s, c);
    return json{{"transcribing", me.conf->transcribing()}, {"paused", me.conf->transcriptionPaused()}};
  });

  d.Add("conference.info", Access::Public, [&s](Call& c) {
    Caller me = InConference(s, c);
    rooms::Conference& conf = *me.conf;
    store::Room room = views::RoomOr404(s, conf.roomId());
    std::string name = room.name;
    if (conf.meetingId)
      if (auto m = store::Meetings(s.db).Find(*conf.meetingId)) name = m->name;
    json hosts = json::array();
    json participants = conf.ParticipantsJson();
    for (const auto& p : participants)
      if (p["role"] == "host") hosts.push_back(p["id"]);
    json share = nullptr;
    if (std::string sid = conf.ScreenShareStream(); !sid.empty())
      share = {{"participantId", conf.streams().at(sid).participantId}, {"streamId", sid}};
    json result = {{"room", views::Room(room, s.conferences)},
                   {"name", name},
                   {"participantId", me.id},
                   {"participants", participants},
                   {"hosts", hosts},
                   {"startedAt", conf.startedAt},
                   {"elapsed", (g_get_monotonic_time() - conf.startedMonotonic) / G_USEC_PER_SEC},
                   {"allMuted", conf.allMuted()},
                   {"allowUnmute", conf.allMayUnmute()},
                   {"screenShare", share},
                   {"transcribing", conf.transcribing()},
                   {"transcriptionPaused", conf.transcriptionPaused()}};
    if (conf.meetingId) result["meetingId"] = *conf.meetingId;
    if (conf.IsHost(me.id)) {
      json kicked = json::array();
      for (const auto& k : conf.kicked())
        kicked.push_back({{"participantId", k.participantId},
                          {"name", k.name},
                          {"userId", k.userId ? json(*k.userId) : json(nullptr)},
                          {"allowRejoin", k.allowRejoin}});
      result["kicked"] = kicked;
    }
    return result;
  });

  d.Add("conference.stats", Access::Public, [&s](Call& c) {
    Caller me = InConference(s, c);
    const rooms::LinkMonitor* links = me.conf->links();
    json result = links ? links->Snapshot(me.conf->IsHost(me.id) ? std::string() : me.id)
                        : json{{"interval", 0}, {"streams", json::array()}, {"plays", json::array()}};
    if (links)
      result["thresholds"] = {{"lossPercent", links->thresholds().lossPercent}, {"rttMs", links->thresholds().rttMs}};
    // Simulcast streams: what arrives of each layer.
    for (auto& st : result["streams"]) {
      json layers = json::array();
      for (const auto& l : me.conf->pipeline().LayerStats(st.value("streamId", "")))
        layers.push_back({{"rid", l.rid}, {"packets", l.packets}, {"active", l.active}});
      if (!layers.empty()) st["layers"] = layers;
    }
    return result;
  });
}

}  // namespace atrium::rpc
