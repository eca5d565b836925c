#include "rooms/Conference.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"
#include "media/Sdp.hpp"
#include "rooms/LinkMonitor.hpp"

#include <glib.h>

#include <algorithm>
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
    if (meters_ && meters_->OnElementMessage(m)) return;
    if (filters_)
      if (auto ev = filters_->OnElementMessage(m)) {
        json params = ev->data;
        params["streamId"] = ev->streamId;
        params["filter"] = ev->filter;
        if (auto st = streams_.find(ev->streamId); st != streams_.end()) params["participantId"] = st->second.participantId;
        Broadcast("filterEvent", params);
        return;
      }
    if (mixer_) mixer_->OnElementMessage(m);
    if (transcriber_) transcriber_->OnElementMessage(m);
  };
  transcoders_ = std::make_unique<media::Transcoders>(*pipeline_, media::TranscodeProfile::Current());
  definition_ = definition;
  if (mode_ == "mcu") {
    StartMixer();
  } else {
    levelTimer_ = g_timeout_add(
        100,
        [](gpointer self) -> gboolean {
          static_cast<Conference*>(self)->PollLevels();
          return G_SOURCE_CONTINUE;
        },
        this);
  }
  GST_INFO("conference started [room:%" G_GINT64_FORMAT " mode:%s]", roomId_, mode_.c_str());
}

Conference::~Conference() {
  if (observer_) observer_->OnConferenceEnding(*this);
  if (levelTimer_) g_source_remove(levelTimer_);
  filters_.reset();
  meters_.reset();
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
      if (!s.live) continue;
      json sj = {{"streamId", s.id}, {"kind", s.kind}, {"tracks", s.tracks}};
      if (!s.layers.empty()) sj["layers"] = s.layers;
      streams.push_back(sj);
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
  speakers_.Remove(participantId);
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
    it->second.layers = pipeline_->VideoLayers(streamId);
    if (mixer_) mixer_->AddStream(streamId, it->second.participantId, it->second.kind);
    if (transcriber_) transcriber_->AddStream(streamId, it->second.participantId);
    done(answer, "");
    if (observer_) observer_->OnStreamLive(*this, it->second);
    if (meters_) meters_->Add(streamId);
    if (it->second.kind == "camera")
      for (const auto& [playId, play] : plays_)
        if (play.streamId == "speaker") pipeline_->AddSource(playId, streamId);
    json announce = {{"streamId", streamId},
                     {"participantId", it->second.participantId},
                     {"kind", it->second.kind},
                     {"tracks", it->second.tracks}};
    if (!it->second.layers.empty()) announce["layers"] = it->second.layers;
    Broadcast("streamPublished", announce, it->second.participantId);
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
  if (streamId == "speaker" && mode_ != "mcu") return PlaySpeaker(p, sdp, std::move(done));
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
  bool video = false;
  if (pipeline_->TrackTee(from, "video"))
    for (const auto& m : media::ParseOffer(sdp))
      video = video || (m.kind == "video" && !m.rejected && m.direction != "sendonly" && m.direction != "inactive");
  plays_[playId] = Playback{playId, p.id, streamId, from, ++playSerial_, video};
  p.plays.insert(playId);
  EnforceVideoMax(p, playId);
  return playId;
}

std::string Conference::CameraOf(const std::string& participantId) const {
  auto p = participants_.find(participantId);
  if (p == participants_.end()) return {};
  for (const auto& id : p->second.streams)
    if (auto s = streams_.find(id); s != streams_.end() && s->second.live && s->second.kind == "camera") return id;
  return {};
}

std::string Conference::PlaySpeaker(Participant& p, const std::string& sdp, AnswerDone done) {
  if (p.plays.size() >= 64) throw AppError(ErrorCode::Conflict, "too many plays by one participant");
  std::vector<std::string> sources;
  for (const auto& [id, s] : streams_)
    if (s.live && s.kind == "camera") sources.push_back(id);
  std::string playId = NewId("p");
  pipeline_->PlaySwitched(playId, sources, sdp, [this, playId, done = std::move(done)](const std::string& answer,
                                                                                     const std::string& error) {
    if (!plays_.count(playId)) return done("", "the play was stopped");
    if (!error.empty()) RemovePlay(playId);
    done(answer, error);
  });
  plays_[playId] = Playback{playId, p.id, "speaker", "speaker", ++playSerial_, true};
  p.plays.insert(playId);
  // Levels of clients without the audio-level header extension are decoded while a
  // speaker play exists.
  if (!meters_) {
    meters_ = std::make_unique<media::LevelMeters>(*pipeline_);
    for (const auto& [id, s] : streams_)
      if (s.live && !pipeline_->AudioLevel(id)) meters_->Add(id);
  }
  std::string show = CameraOf(speakers_.current());
  if (show.empty() && !sources.empty()) show = sources.front();
  if (!show.empty()) pipeline_->SelectSource(playId, show);
  EnforceVideoMax(p, playId);
  GST_INFO("speaker play [room:%" G_GINT64_FORMAT " participant:%s play:%s sources:%zu]", roomId_, p.id.c_str(),
           playId.c_str(), sources.size());
  return playId;
}

void Conference::ApplyFilter(const std::string& participantId, const std::string& streamId, const std::string& filter,
                             const json& params) {
  Require(participantId);
  auto s = streams_.find(streamId);
  if (s == streams_.end() || !s->second.live)
    throw AppError(ErrorCode::NotFound, "no such stream in this conference", {{"streamId", streamId}});
  if (s->second.participantId != participantId && !IsHost(participantId))
    throw AppError(ErrorCode::Forbidden, "only the stream's publisher or a host may filter it", {{"streamId", streamId}});
  if (!filters_) {
    filters_ = std::make_unique<media::Filters>(*pipeline_, media::TranscodeProfile::Current());
    filters_->onFailed = [this](const std::string& sid, const std::string& reason) {
      Broadcast("filterRemoved", {{"streamId", sid}, {"reason", reason}});
    };
  }
  filters_->Apply(streamId, filter, params);
  Broadcast("filterApplied", {{"streamId", streamId}, {"filter", filter}, {"params", params}, {"by", participantId}});
}

void Conference::RemoveFilter(const std::string& participantId, const std::string& streamId) {
  Require(participantId);
  auto s = streams_.find(streamId);
  if (s == streams_.end() || !s->second.live)
    throw AppError(ErrorCode::NotFound, "no such stream in this conference", {{"streamId", streamId}});
  if (s->second.participantId != participantId && !IsHost(participantId))
    throw AppError(ErrorCode::Forbidden, "only the stream's publisher or a host may change its filter", {{"streamId", streamId}});
  if (!filters_ || !filters_->Remove(streamId))
    throw AppError(ErrorCode::NotFound, "the stream has no filter", {{"streamId", streamId}});
  Broadcast("filterRemoved", {{"streamId", streamId}, {"by", participantId}});
}

void Conference::PollLevels() {
  gint64 now = g_get_monotonic_time();
  for (const auto& [pid, p] : participants_) {
    std::optional<double> level;
    for (const auto& sid : p.streams) {
      auto s = streams_.find(sid);
      if (s == streams_.end() || !s->second.live) continue;
      auto l = pipeline_->AudioLevel(sid);
      if (!l && meters_) l = meters_->Level(sid);
      if (l) level = std::max(level.value_or(-127.0), *l);
    }
    if (!level) continue;
    if (p.muted) level = -127.0;  // the server drops its audio
    auto r = speakers_.Update(pid, *level, now);
    if (r.notify) Broadcast("speaking", {{"participantId", pid}, {"level", std::round(*level * 10) / 10}});
    if (r.changed) {
      std::string show = CameraOf(speakers_.current());
      GST_INFO("active speaker [room:%" G_GINT64_FORMAT " participant:%s stream:%s]", roomId_,
               speakers_.current().c_str(), show.c_str());
      if (!show.empty())
        for (const auto& [playId, play] : plays_)
          if (play.streamId == "speaker") pipeline_->SelectSource(playId, show);
    }
  }
}

void Conference::OnPlaySwitched(const std::string& peerId, int to, const std::string& sourceId,
                                const std::string& reason) {
  auto play = plays_.find(peerId);
  if (play == plays_.end()) return;
  auto owner = participants_.find(play->second.participantId);
  if (owner == participants_.end() || !owner->second.notify) return;
  if (play->second.streamId == "speaker") {
    auto s = streams_.find(sourceId);
    owner->second.notify("speakerStream", {{"playId", peerId},
                                           {"streamId", sourceId},
                                           {"participantId", s == streams_.end() ? "" : s->second.participantId}});
    return;
  }
  auto s = streams_.find(play->second.streamId);
  json params = {{"playId", peerId}, {"streamId", play->second.streamId}, {"layer", to}, {"reason", reason}};
  if (s != streams_.end() && to >= 0 && size_t(to) < s->second.layers.size()) params["rid"] = s->second.layers[to];
  owner->second.notify("layerChanged", params);
}

int Conference::SetLayer(const std::string& participantId, const std::string& playId, int layer) {
  Participant& p = Require(participantId);
  if (!p.plays.count(playId)) throw AppError(ErrorCode::NotFound, "no such play of yours", {{"playId", playId}});
  int set = pipeline_->SetLayer(playId, layer);
  if (set < 0) throw AppError(ErrorCode::Conflict, "the stream this play receives sends no simulcast layers", {{"playId", playId}});
  return set;
}

int Conference::SetLayerAll(const std::string& participantId, int layer) {
  Participant& p = Require(participantId);
  int n = 0;
  for (const auto& playId : p.plays)
    if (pipeline_->SetLayer(playId, layer) >= 0) ++n;
  return n;
}

void Conference::SetVideoMax(const std::string& participantId, int max) {
  Participant& p = Require(participantId);
  p.videoMax = max;
  EnforceVideoMax(p, {});
}

// The oldest video plays beyond the participant's cap stop, never `keepPlayId` (the one
// just asked for).
void Conference::EnforceVideoMax(Participant& p, const std::string& keepPlayId) {
  if (p.videoMax <= 0) return;
  std::vector<const Playback*> video;
  for (const auto& id : p.plays)
    if (auto it = plays_.find(id); it != plays_.end() && it->second.video) video.push_back(&it->second);
  if (int(video.size()) <= p.videoMax) return;
  std::sort(video.begin(), video.end(), [](const Playback* a, const Playback* b) { return a->serial < b->serial; });
  std::vector<std::pair<std::string, std::string>> stop;  // playId, streamId
  for (const auto* play : video) {
    if (int(video.size() - stop.size()) <= p.videoMax) break;
    if (play->id != keepPlayId) stop.emplace_back(play->id, play->streamId);
  }
  for (const auto& [playId, streamId] : stop) {
    RemovePlay(playId);
    GST_INFO("play stopped by videoMax [participant:%s play:%s]", p.id.c_str(), playId.c_str());
    if (p.notify) p.notify("playStopped", {{"playId", playId}, {"streamId", streamId}, {"reason", "videoMax"}});
  }
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
  if (meters_) meters_->Remove(streamId);
  if (filters_) filters_->DropSource(streamId);
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
  bool speaker = it->second.streamId == "speaker";
  if (auto owner = participants_.find(it->second.participantId); owner != participants_.end())
    owner->second.plays.erase(playId);
  plays_.erase(it);
  // The last speaker play gone, decoded levels are not needed any more.
  if (speaker && meters_ &&
      std::none_of(plays_.begin(), plays_.end(), [](const auto& p) { return p.second.streamId == "speaker"; }))
    meters_.reset();
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
