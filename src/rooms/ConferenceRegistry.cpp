#include "rooms/ConferenceRegistry.hpp"

namespace atrium::rooms {

size_t ConferenceRegistry::ParticipantCount(int64_t roomId) const {
  auto it = rooms_.find(roomId);
  return it == rooms_.end() ? 0 : it->second.size();
}

size_t ConferenceRegistry::ParticipantTotal() const {
  size_t n = 0;
  for (const auto& [id, people] : rooms_) n += people.size();
  return n;
}

void ConferenceRegistry::AddParticipant(int64_t roomId, const std::string& participantId) {
  rooms_[roomId].insert(participantId);
}

void ConferenceRegistry::RemoveParticipant(int64_t roomId, const std::string& participantId) {
  auto it = rooms_.find(roomId);
  if (it == rooms_.end()) return;
  it->second.erase(participantId);
  if (it->second.empty()) rooms_.erase(it);
}

}  // namespace atrium::rooms
