// A live conference: the participants in one room right now, the streams they publish
// and play, and the room's media pipeline. Owned by the ConferenceRegistry, on the
// control thread. Clients hear about changes through each participant's Notify.
#pragma once

#include "media/RoomPipeline.hpp"

#include <glib.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace atrium::rooms {

class Conference : public media::RoomPipeline::Listener {
public:
  using Notify = std::function<void(const std::string& method, const nlohmann::json& params)>;
  using AnswerDone = media::RoomPipeline::AnswerDone;

  struct Participant {
    std::string id;
    std::string name;
    std::string role;  // host, speaker, attendee, guest
    std::optional<int64_t> userId;
    uint64_t sessionId = 0;
    int64_t joinedAt = g_get_real_time() / G_USEC_PER_SEC;  // Unix seconds
    Notify notify;
    std::set<std::string> streams;
    std::set<std::string> plays;
  };
  struct Stream {
    std::string id;
    std::string participantId;
    std::string kind;  // camera, screen
    std::vector<std::string> tracks;
    bool live = false;  // answered; announced to the room
  };
  struct Playback {
    std::string id;
    std::string participantId;
    std::string streamId;
  };

  // Told when nobody is left, so that the owner can drop the conference later.
  Conference(int64_t roomId, std::string mode, media::IceConfig ice, std::function<void(int64_t)> onEmpty);
  ~Conference() override;

  int64_t roomId() const { return roomId_; }
  const std::string& mode() const { return mode_; }
  size_t size() const { return participants_.size(); }
  std::optional<int64_t> meetingId;

  Participant& Join(Participant p);
  // Removes a participant with everything it publishes and plays; tells the others.
  void Leave(const std::string& participantId);
  // Ends the conference for everyone (meetingFinished), then removes them all.
  void Finish();

  // Returns the new streamId; the answer comes through `done`. Throws on bad input.
  std::string Publish(const std::string& participantId, const std::string& kind, const std::string& sdp,
                      AnswerDone done);
  std::string Play(const std::string& participantId, const std::string& streamId, const std::string& sdp,
                   AnswerDone done);
  void Unpublish(const std::string& participantId, const std::string& streamId);
  void Stop(const std::string& participantId, const std::string& playId);
  void AddCandidate(const std::string& participantId, const std::string& id, unsigned mline,
                    const std::string& candidate);

  const Participant* Find(const std::string& participantId) const;
  // Everyone but `except`, each with the streams it publishes.
  nlohmann::json ParticipantsJson(const std::string& except = {}) const;
  static nlohmann::json ParticipantJson(const Participant& p);
  void Broadcast(const std::string& method, const nlohmann::json& params, const std::string& except = {});

  // media::RoomPipeline::Listener
  void OnPeerCandidate(const std::string& peerId, unsigned mline, const std::string& candidate) override;
  void OnPeerFailed(const std::string& peerId, const std::string& reason) override;

private:
  Participant& Require(const std::string& participantId);
  // The participant that publishes or plays this peer ("" if none).
  std::string OwnerOf(const std::string& peerId) const;
  void RemoveStream(const std::string& streamId, bool announce);
  void RemovePlay(const std::string& playId);
  std::string NewId(const char* prefix);

  int64_t roomId_;
  std::string mode_;
  std::function<void(int64_t)> onEmpty_;
  std::map<std::string, Participant> participants_;
  std::map<std::string, Stream> streams_;
  std::map<std::string, Playback> plays_;
  std::unique_ptr<media::RoomPipeline> pipeline_;
  uint64_t nextId_ = 1;
};

}  // namespace atrium::rooms
