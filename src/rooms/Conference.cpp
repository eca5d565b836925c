#include "rooms/Conference.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"
#include "media/Sdp.hpp"
#include "rooms/LinkMonitor.hpp"

#include <glib.h>

#include <cmath>

#define GST_CAT_DEFAULT atrium_rooms_debug

namespace atrium::rooms {

using nlohmann::json;

Conference::Conference(int64_t roomId, std::string mode, media::IceConfig ice, std::function<void(int64_t)> onEmpty,
                       const std::string& definition)
    : roomId_(roomId), mode_(std::move(mode)), onEmpty_(std::move(onEmpty)) {
  pipeline_ = std::make_unique<media::RoomPipeline>(std::to_string(roomId), std::move(ice), *this);
  // Levels for the mixer, recognised speech for the transcriber: each picks its own.
  pipeline_->onElementMessage = [this](GstMessage* m) {
    if (mixer_) mixer_->OnElementMessage(m);
    if (transcriber_) transcriber_->OnElementMessage(m);
  };
  transcoders_ = std::make_unique<media::Transcoders>(*pipeline_, media::TranscodeProfile::Current());
  definition_ = definition;
  if (mode_ == "mcu") StartMixer();
  GST_INFO("conference started [room:%" G_GINT64_FORMAT " mode:%s]", roomId_, mode_.c_str());
}

Conference::~Conference() {
  if (observer_) observer_->OnConferenceEnding(*this);
  transcriber_.reset();
  transcoders_.reset();
  mixer_.reset();
  pipeline_.reset();
  GST_INFO("conference ended [room:%" G_GINT64_FORMAT "]", roomId_);
}

std::string Conference::NewId(const char* prefix) {
  // Unique within the process and hard to guess; access is checked per participant anyway.
  return std::string(prefix) + std::to_string(nextId_++) + "-" + std::to_string(g_random_int_range(100000, 999999));
}

json Conference::ParticipantJson(const Participant& p) {
  json j = {{"id", p.id}, {"name", p.name}, {"role", p.role}, {"userId", p.userId ? json(*p.userId) : json(nullptr)}};
  AddStateJson(p, j);
  return j;
}

json Conference::ParticipantsJson(const std::string& except) const {
  json out = json::array();
  for (const auto& [id, p] : participants_) {
    if (id == except) continue;
    json j = ParticipantJson(p);
    json streams = json::array();
    for (const auto& sid : p.streams) {
      const auto& s = streams_.at(sid);
      if (s.live) streams.push_back({{"streamId", s.id}, {"kind", s.kind}, {"tracks", s.tracks}});
    }
    j["streams"] = streams;
    out.push_back(j);
  }
  return out;
}

void Conference::Broadcast(const std::string& method, const json& params, const std::string& except) {
  for (auto& [id, p] : participants_)
    if (id != except && p.notify) p.notify(method, params);
}

std::vector<const Conference::Stream*> Conference::LiveStreams() const {
  std::vector<const Stream*> out;
  for (const auto& [id, s] : streams_)
    if (s.live) out.push_back(&s);
  return out;
}

const Conference::Participant* Conference::Find(const std::string& participantId) const {
  auto it = participants_.find(participantId);
  return it == participants_.end() ? nullptr : &it->second;
}

Conference::Participant& Conference::Require(const std::string& participantId) {
  auto it = participants_.find(participantId);
  if (it == participants_.end()) throw AppError(ErrorCode::NotJoined, "not in this conference");
  return it->second;
}

Conference::Participant& Conference::Join(Participant p) {
  Admit(p);
  p.id = NewId("u");
  std::string id = p.id;
  json announce = ParticipantJson(p);
  announce["streams"] = json::array();
  Broadcast("participantJoined", {{"participant", announce}});
  auto& ref = participants_[id] = std::move(p);
  if (mixer_) mixer_->AddParticipant(id, ref.name);
  GST_INFO("participant joined [room:%" G_GINT64_FORMAT " participant:%s name:%s]", roomId_, id.c_str(),
           ref.name.c_str());
  return ref;
}

void Conference::Leave(const std::string& participantId) {
  auto it = participants_.find(participantId);
  if (it == participants_.end()) return;
  for (const auto& playId : std::set<std::string>(it->second.plays)) RemovePlay(playId);
  for (const auto& streamId : std::set<std::string>(it->second.streams)) RemoveStream(streamId, true);
  if (mixer_) mixer_->RemoveParticipant(participantId);
  participants_.erase(participantId);
  GST_INFO("participant left [room:%" G_GINT64_FORMAT " participant:%s]", roomId_, participantId.c_str());
  Broadcast("participantLeft", {{"participantId", participantId}});
  if (participants_.empty() && onEmpty_) onEmpty_(roomId_);
}

void Conference::Finish() {
  Broadcast("meetingFinished", {{"roomId", roomId_}});
  std::vector<std::string> ids;
  for (const auto& [id, p] : participants_) ids.push_back(id);
  for (auto& [id, p] : participants_) p.notify = nullptr;  // nothing more to tell them
  for (const auto& id : ids) Leave(id);
}

std::string Conference::Publish(const std::string& participantId, const std::string& kind, const std::string& sdp,
                                AnswerDone done, bool takeOver) {
  Participant& p = Require(participantId);
  if (p.streams.size() >= 8) throw AppError(ErrorCode::Conflict, "too many streams published by one participant");
  std::string replaced = ClaimScreen(p, kind, takeOver);
  std::string streamId = NewId("s");
  pipeline_->Publish(streamId, sdp, [this, streamId, done = std::move(done)](const std::string& answer,
                                                                               const std::string& error) {
    auto it = streams_.find(streamId);
    if (it == streams_.end()) return done("", "the stream was removed");
    if (!error.empty()) {
      RemoveStream(streamId, false);
      return done("", error);
    }
    it->second.live = true;
    if (mixer_) mixer_->AddStream(streamId, it->second.participantId, it->second.kind);
    if (transcriber_) transcriber_->AddStream(streamId, it->second.participantId);
    done(answer, "");
    if (observer_) observer_->OnStreamLive(*this, it->second);
    Broadcast("streamPublished", {{"streamId", streamId},
                                  {"participantId", it->second.participantId},
                                  {"kind", it->second.kind},
                                  {"tracks", it->second.tracks}},
              it->second.participantId);
    OnStreamLive(it->second);
  });
  streams_[streamId] = Stream{streamId, participantId, kind, pipeline_->TrackKinds(streamId), false};
  p.streams.insert(streamId);
  OnStreamCreated(p, streamId, replaced);
  return streamId;
}

std::string Conference::Play(const std::string& participantId, const std::string& streamId, const std::string& sdp,
                             AnswerDone done) {
  Participant& p = Require(participantId);
  auto s = streams_.find(streamId);
  if (streamId == "mix" && mixer_ && mode_ == "mcu") return PlayMix(p, sdp, std::move(done));
  if (s == streams_.end() || !s->second.live)
    throw AppError(ErrorCode::NotFound, "no such stream in this conference", {{"streamId", streamId}});
  return PlaySource(p, streamId, streamId, sdp, std::move(done));
}

std::string Conference::PlaySource(Participant& p, const std::string& streamId, const std::string& source,
                                   const std::string& sdp, AnswerDone done) {
  if (p.plays.size() >= 64) throw AppError(ErrorCode::Conflict, "too many plays by one participant");
  // The offer's video codecs against the source's: transcode only when the subscriber
  // takes video but not in the codec the source sends.
  std::string from = source;
  media::Codec have;
  if (pipeline_->TrackTee(source, "video", &have)) {
    bool receivesVideo = false, takesSource = false;
    std::string other;
    for (const auto& m : media::ParseOffer(sdp)) {
      if (m.kind != "video" || m.rejected || (m.direction != "recvonly" && m.direction != "sendrecv")) continue;
      receivesVideo = true;
      takesSource = takesSource || m.Find(have.name).has_value();
      for (const char* c : {"VP8", "H264"})
        if (other.empty() && c != have.name && m.Find(c)) other = c;
    }
    if (receivesVideo && !takesSource && !other.empty()) {
      from = transcoders_->Acquire(source, other);
      GST_INFO("play transcoded [room:%" G_GINT64_FORMAT " participant:%s stream:%s from:%s to:%s]", roomId_,
               p.id.c_str(), streamId.c_str(), have.name.c_str(), other.c_str());
    }
  }
  std::string playId = NewId("p");
  try {
    pipeline_->Play(playId, from, sdp, [this, playId, done = std::move(done)](const std::string& answer,
                                                                             const std::string& error) {
      if (!plays_.count(playId)) return done("", "the play was stopped");
      if (!error.empty()) RemovePlay(playId);
      done(answer, error);
    });
  } catch (...) {
    if (from != source) transcoders_->Release(from);
    throw;
  }
  plays_[playId] = Playback{playId, p.id, streamId, from};
  p.plays.insert(playId);
  return playId;
}

void Conference::StartMixer() {
  mixer_ = std::make_unique<media::Mixer>(*pipeline_, media::McuProfile::Current(), definition_, *this);
  for (const auto& [id, p] : participants_) mixer_->AddParticipant(id, p.name);
  for (const auto& [id, s] : streams_)
    if (s.live) mixer_->AddStream(id, s.participantId, s.kind);
}

std::string Conference::AcquireComposite() {
  if (!mixer_) {
    StartMixer();
    GST_INFO("composite started for recording [room:%" G_GINT64_FORMAT "]", roomId_);
  }
  compositeUsers_++;
  return media::Mixer::kFullMixSource;
}

void Conference::ReleaseComposite() {
  if (compositeUsers_ > 0) compositeUsers_--;
  if (compositeUsers_ > 0 || mode_ == "mcu" || !mixer_) return;
  transcoders_->DropSource(media::Mixer::kFullMixSource);
  mixer_.reset();
  GST_INFO("composite stopped [room:%" G_GINT64_FORMAT "]", roomId_);
}

void Conference::Unpublish(const std::string& participantId, const std::string& streamId) {
  Participant& p = Require(participantId);
  if (!p.streams.count(streamId)) throw AppError(ErrorCode::NotFound, "no such stream of yours", {{"streamId", streamId}});
  RemoveStream(streamId, true);
}

void Conference::Stop(const std::string& participantId, const std::string& playId) {
  Participant& p = Require(participantId);
  if (!p.plays.count(playId)) throw AppError(ErrorCode::NotFound, "no such play of yours", {{"playId", playId}});
  RemovePlay(playId);
}

void Conference::AddCandidate(const std::string& participantId, const std::string& id, unsigned mline,
                              const std::string& candidate) {
  Participant& p = Require(participantId);
  if (!p.streams.count(id) && !p.plays.count(id))
    throw AppError(ErrorCode::NotFound, "no such stream or play of yours", {{"id", id}});
  pipeline_->AddRemoteCandidate(id, mline, candidate);
}

void Conference::RemoveStream(const std::string& streamId, bool announce) {
  auto it = streams_.find(streamId);
  if (it == streams_.end()) return;
  Stream s = it->second;
  // Its plays end with it; their owners hear streamUnpublished.
  for (auto pit = plays_.begin(); pit != plays_.end();) {
    if (pit->second.streamId == streamId) {
      if (auto owner = participants_.find(pit->second.participantId); owner != participants_.end())
        owner->second.plays.erase(pit->first);
      pit = plays_.erase(pit);
    } else {
      ++pit;
    }
  }
  if (observer_ && s.live) observer_->OnStreamEnding(*this, streamId);
  transcoders_->DropSource(streamId);
  if (mixer_) mixer_->RemoveStream(streamId);
  if (transcriber_) transcriber_->RemoveStream(streamId);
  pipeline_->Remove(streamId);
  streams_.erase(it);
  if (auto owner = participants_.find(s.participantId); owner != participants_.end()) owner->second.streams.erase(streamId);
  if (announce && s.live) Broadcast("streamUnpublished", {{"streamId", streamId}, {"participantId", s.participantId}});
  OnStreamGone(s);
}

void Conference::RemovePlay(const std::string& playId) {
  auto it = plays_.find(playId);
  if (it == plays_.end()) return;
  pipeline_->Remove(playId);
  if (media::Transcoders::IsTranscoded(it->second.source)) transcoders_->Release(it->second.source);
  if (auto owner = participants_.find(it->second.participantId); owner != participants_.end())
    owner->second.plays.erase(playId);
  plays_.erase(it);
}

std::string Conference::OwnerOf(const std::string& peerId) const {
  if (auto s = streams_.find(peerId); s != streams_.end()) return s->second.participantId;
  if (auto p = plays_.find(peerId); p != plays_.end()) return p->second.participantId;
  return {};
}

void Conference::OnPeerCandidate(const std::string& peerId, unsigned mline, const std::string& candidate) {
  std::string owner = OwnerOf(peerId);
  auto it = participants_.find(owner);
  if (it == participants_.end() || !it->second.notify) return;
  it->second.notify("media.candidate", {{"id", peerId}, {"candidate", candidate}, {"sdpMLineIndex", mline}});
}

// ICE/DTLS failure means the participant is gone; a broken forwarding branch only ends
// that play.
void Conference::OnPeerFailed(const std::string& peerId, const std::string& reason) {
  std::string owner = OwnerOf(peerId);
  GST_WARNING("peer failed [room:%" G_GINT64_FORMAT " peer:%s participant:%s reason:%s]", roomId_, peerId.c_str(),
              owner.c_str(), reason.c_str());
  if (owner.empty()) return;
  if (reason == "ICE/DTLS failed") return Leave(owner);
  if (plays_.count(peerId)) {
    RemovePlay(peerId);
    if (auto it = participants_.find(owner); it != participants_.end() && it->second.notify)
      it->second.notify("media.failed", {{"id", peerId}, {"reason", reason}});
  } else {
    RemoveStream(peerId, true);
  }
}

// MCU: the composite with everyone's audio but the player's own.
std::string Conference::PlayMix(Participant& p, const std::string& sdp, AnswerDone done) {
  return PlaySource(p, "mix", mixer_->SourceFor(p.id), sdp, std::move(done));
}

void Conference::SetLayout(const json& params) {
  if (!mixer_) throw AppError(ErrorCode::Conflict, "layouts belong to MCU rooms; this room forwards streams (SFU)");
  std::set<std::string> ids;
  for (const auto& [id, p] : participants_) ids.insert(id);
  mixer_->SetLayout(media::ParseLayout(params, ids));
  Broadcast("layoutChanged", mixer_->layout().ToJson());
}

void Conference::OnMixerLevel(const std::string& participantId, double levelDb) {
  if (!participants_.count(participantId)) return;
  Broadcast("speaking", {{"participantId", participantId}, {"level", std::round(levelDb * 10) / 10}});
}

}  // namespace atrium::rooms
