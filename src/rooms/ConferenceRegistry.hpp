// The live conferences of this node, by room id, and which connection is which
// participant. A conference starts with its first participant and its pipeline goes
// with the last. The management API asks it whether a room is live (room.delete and
// meeting.delete refuse then); server.state and /metrics count from it. Control thread.
#pragma once

#include "media/Ice.hpp"
#include "rooms/Conference.hpp"
#include "rooms/LinkMonitor.hpp"

#include <cstdint>
#include <map>
#include <glib.h>

#include <memory>
#include <set>
#include <string>

namespace atrium::rooms {

class ConferenceRegistry {
public:
  ConferenceRegistry() = default;
  ~ConferenceRegistry();
  void SetIce(media::IceConfig ice) { ice_ = std::move(ice); }
  void SetLinkThresholds(LinkThresholds t) { links_ = t; }
  // Given to every conference opened from now on (recording).
  void SetStreamObserver(Conference::StreamObserver* o) { observer_ = o; }
  // Given to every conference opened from now on (the transcripts they keep).
  void SetTranscriptObserver(Conference::TranscriptObserver* o) { transcripts_ = o; }

  bool IsLive(int64_t roomId) const { return conferences_.count(roomId) != 0; }
  size_t ParticipantCount(int64_t roomId) const;
  size_t RoomCount() const { return conferences_.size(); }
  size_t ParticipantTotal() const;
  // Decode+encode branches running in all rooms (transcoded copies of a stream's video).
  size_t TranscodeTotal() const;
  // Whether a signed-in user is a participant of some live conference (busy for calls).
  bool HasUser(int64_t userId) const;

  Conference* Find(int64_t roomId);
  // The conference of a room, started if needed.
  Conference& Open(int64_t roomId, const std::string& mode, const std::string& definition = "720p");

  // Which conference and participant a connection is (one conference per connection).
  struct Membership {
    int64_t roomId = 0;
    std::string participantId;
  };
  void Bind(uint64_t sessionId, int64_t roomId, const std::string& participantId);
  const Membership* MembershipOf(uint64_t sessionId) const;
  // The connection leaves its conference (conference.leave, or the socket closed).
  void LeaveSession(uint64_t sessionId);
  // Ends a conference for everyone.
  void Finish(int64_t roomId);

private:
  void ScheduleCleanup(int64_t roomId);

  media::IceConfig ice_;
  LinkThresholds links_;
  Conference::StreamObserver* observer_ = nullptr;
  Conference::TranscriptObserver* transcripts_ = nullptr;
  std::map<int64_t, std::unique_ptr<Conference>> conferences_;
  std::map<uint64_t, Membership> sessions_;
  std::set<guint> pendingCleanups_;  // idle sources that may still run
};

}  // namespace atrium::rooms
