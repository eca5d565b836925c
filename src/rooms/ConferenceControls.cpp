// Meeting controls of a Conference: host moderation (mute, video off, kick, hosts), hands,
// names, self-reported mic/camera state, the one screen share per room and the link
// monitor. Split from Conference.cpp, which keeps joining, publishing and playing.
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "rooms/Conference.hpp"
#include "rooms/LinkMonitor.hpp"

#define GST_CAT_DEFAULT atrium_rooms_debug

namespace atrium::rooms {

using nlohmann::json;

void Conference::AddStateJson(const Participant& p, json& j) {
  j["audio"] = p.audio;
  j["video"] = p.video;
  j["muted"] = p.muted;
  j["videoDisabled"] = p.videoDisabled;
  j["handRaised"] = p.handRaised;
}

json Conference::Updated(const Participant& p) const {
  json j = ParticipantJson(p);
  json streams = json::array();
  for (const auto& sid : p.streams)
    if (const auto& s = streams_.at(sid); s.live)
      streams.push_back({{"streamId", s.id}, {"kind", s.kind}, {"tracks", s.tracks}});
  j["streams"] = streams;
  return {{"participant", j}};
}

bool Conference::IsHost(const std::string& participantId) const {
  const Participant* p = Find(participantId);
  return p && p->role == "host";
}

void Conference::Admit(Participant& p) {
  for (const auto& k : kicked_) {
    bool same = p.userId ? k.userId == p.userId : (!k.userId && k.sessionId == p.sessionId);
    if (same && !k.allowRejoin)
      throw AppError(ErrorCode::Forbidden, "a host removed you from this meeting", {{"kicked", true}});
  }
  if (allMuted_ && p.role != "host") {
    p.muted = true;
    p.mayUnmute = allMayUnmute_;
  }
}

void Conference::SetMuted(const std::string& participantId, bool muted, bool allowUnmute, const std::string& by) {
  Participant& p = Require(participantId);
  p.muted = muted;
  p.mayUnmute = muted && allowUnmute;
  for (const auto& sid : p.streams) pipeline_->SetTrackEnabled(sid, "audio", !muted);
  GST_INFO("participant %s [room:%" G_GINT64_FORMAT " participant:%s by:%s]", muted ? "muted" : "unmuted", roomId_,
           participantId.c_str(), by.c_str());
  Broadcast("muted", {{"participantId", participantId}, {"muted", muted}, {"allowUnmute", p.mayUnmute}, {"by", by}});
}

void Conference::MuteAll(bool muted, bool allowUnmute, const std::string& by) {
  allMuted_ = muted;
  allMayUnmute_ = muted && allowUnmute;
  for (auto& [id, p] : participants_) {
    if (p.role == "host") continue;
    p.muted = muted;
    p.mayUnmute = allMayUnmute_;
    for (const auto& sid : p.streams) pipeline_->SetTrackEnabled(sid, "audio", !muted);
  }
  GST_INFO("all %s [room:%" G_GINT64_FORMAT " by:%s]", muted ? "muted" : "unmuted", roomId_, by.c_str());
  Broadcast("mutedAll", {{"muted", muted}, {"allowUnmute", allMayUnmute_}, {"by", by}});
}

void Conference::SetVideoDisabled(const std::string& participantId, bool disabled, bool allowEnable,
                                  const std::string& by) {
  Participant& p = Require(participantId);
  p.videoDisabled = disabled;
  p.mayEnableVideo = disabled && allowEnable;
  for (const auto& sid : p.streams) pipeline_->SetTrackEnabled(sid, "video", !disabled);
  Broadcast("videoDisabled",
            {{"participantId", participantId}, {"disabled", disabled}, {"allowEnable", p.mayEnableVideo}, {"by", by}});
}

void Conference::Kick(const std::string& participantId, bool allowRejoin, const std::string& by) {
  Participant& p = Require(participantId);
  kicked_.push_back(Kicked{p.id, p.name, p.userId, p.sessionId, allowRejoin});
  GST_INFO("participant kicked [room:%" G_GINT64_FORMAT " participant:%s by:%s]", roomId_, participantId.c_str(),
           by.c_str());
  if (p.notify) p.notify("kicked", {{"participantId", participantId}, {"roomId", roomId_}, {"by", by}});
  p.notify = nullptr;  // it hears nothing more from this room
  Leave(participantId);
}

void Conference::AllowRejoin(const std::string& participantId) {
  for (auto& k : kicked_) {
    if (k.participantId != participantId) continue;
    k.allowRejoin = true;
    return;
  }
  throw AppError(ErrorCode::NotFound, "no kicked participant with this id", {{"participantId", participantId}});
}

void Conference::SetHost(const std::string& participantId, bool handOver, const std::string& by) {
  Participant& p = Require(participantId);
  if (p.role != "host") {
    p.role = "host";
    // A new host is never held by mute-all.
    if (p.muted && allMuted_) SetMuted(p.id, false, false, by);
    Broadcast("participantUpdated", Updated(p));
  }
  if (handOver && by != participantId) {
    Participant& me = Require(by);
    me.role = "attendee";
    Broadcast("participantUpdated", Updated(me));
  }
}

void Conference::RaiseHand(const std::string& participantId, bool raised) {
  Participant& p = Require(participantId);
  p.handRaised = raised;
  Broadcast("handRaised", {{"participantId", participantId}, {"raised", raised}});
}

void Conference::Rename(const std::string& participantId, const std::string& name) {
  Participant& p = Require(participantId);
  p.name = name;
  Broadcast("participantUpdated", Updated(p));
}

void Conference::UpdateMedia(const std::string& participantId, std::optional<bool> audio, std::optional<bool> video) {
  Participant& p = Require(participantId);
  // Check both before changing anything.
  if (audio.value_or(false) && p.muted && !p.mayUnmute)
    throw AppError(ErrorCode::Forbidden, "a host muted you", {{"muted", true}});
  if (video.value_or(false) && p.videoDisabled && !p.mayEnableVideo)
    throw AppError(ErrorCode::Forbidden, "a host turned your video off", {{"videoDisabled", true}});
  if (audio) {
    p.audio = *audio;
    if (*audio && p.muted) SetMuted(p.id, false, false, p.id);
  }
  if (video) {
    p.video = *video;
    if (*video && p.videoDisabled) SetVideoDisabled(p.id, false, false, p.id);
  }
  Broadcast("participantUpdated", Updated(p));
}

std::string Conference::ScreenShareStream() const {
  auto it = streams_.find(screenStream_);
  return it != streams_.end() && it->second.live ? screenStream_ : std::string();
}

std::string Conference::ClaimScreen(const Participant& p, const std::string& kind, bool takeOver) {
  if (kind != "screen" || screenStream_.empty()) return {};
  const Stream& s = streams_.at(screenStream_);
  if (!takeOver || p.role != "host")
    throw AppError(ErrorCode::Conflict,
                   takeOver ? "only a host may take over the screen share" : "someone else is sharing a screen",
                   {{"screenShare", {{"participantId", s.participantId}, {"streamId", s.id}}}});
  return screenStream_;
}

void Conference::OnStreamCreated(const Participant& p, const std::string& streamId, const std::string& replaced) {
  if (p.muted) pipeline_->SetTrackEnabled(streamId, "audio", false);
  if (p.videoDisabled) pipeline_->SetTrackEnabled(streamId, "video", false);
  if (streams_.at(streamId).kind != "screen") return;
  if (!replaced.empty()) {
    GST_INFO("screen share taken over [room:%" G_GINT64_FORMAT " from:%s to:%s]", roomId_, replaced.c_str(),
             streamId.c_str());
    RemoveStream(replaced, true);
  }
  screenStream_ = streamId;
}

void Conference::OnStreamLive(const Stream& s) {
  if (s.id != screenStream_) return;
  Broadcast("screenShare", {{"participantId", s.participantId}, {"streamId", s.id}, {"active", true}});
  if (onScreenShare) onScreenShare(s.id, true);
  // An MCU room shows a live share large (presentation) and goes back afterwards.
  if (mixer_ && mixer_->layout().type != "presentation") {
    layoutBeforeShare_ = mixer_->layout();
    media::LayoutSpec presentation;
    presentation.type = "presentation";
    mixer_->SetLayout(presentation);
    Broadcast("layoutChanged", mixer_->layout().ToJson());
  }
}

void Conference::OnStreamGone(const Stream& s) {
  if (s.id != screenStream_) return;
  screenStream_.clear();
  if (!s.live) return;
  Broadcast("screenShare", {{"participantId", s.participantId}, {"streamId", s.id}, {"active", false}});
  if (onScreenShare) onScreenShare(s.id, false);
  // Back to the layout from before the share, unless a host chose another meanwhile.
  if (mixer_ && layoutBeforeShare_ && mixer_->layout().type == "presentation") {
    media::LayoutSpec before = *layoutBeforeShare_;
    for (auto it = before.custom.begin(); it != before.custom.end();)  // people who left since
      it = participants_.count(it->first) ? std::next(it) : before.custom.erase(it);
    if (before.type == "custom" && before.custom.empty()) before = media::LayoutSpec{};
    mixer_->SetLayout(before);
    Broadcast("layoutChanged", mixer_->layout().ToJson());
  }
  layoutBeforeShare_.reset();
}

void Conference::StartLinkMonitor(const LinkThresholds& t) {
  links_ = std::make_unique<LinkMonitor>(*this, t);
}

}  // namespace atrium::rooms
