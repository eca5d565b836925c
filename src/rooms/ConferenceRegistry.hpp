// The live conferences of this node, by room id: who is in each room right now. The
// management API asks it whether a room is live (room.delete, meeting.delete refuse
// then) and server.state and /metrics count from it. Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace atrium::rooms {

class ConferenceRegistry {
public:
  bool IsLive(int64_t roomId) const { return rooms_.count(roomId) != 0; }
  size_t ParticipantCount(int64_t roomId) const;
  size_t RoomCount() const { return rooms_.size(); }
  size_t ParticipantTotal() const;

  // Called by conferences as participants come and go; a room with nobody left is not live.
  void AddParticipant(int64_t roomId, const std::string& participantId);
  void RemoveParticipant(int64_t roomId, const std::string& participantId);

private:
  std::map<int64_t, std::set<std::string>> rooms_;
};

}  // namespace atrium::rooms
