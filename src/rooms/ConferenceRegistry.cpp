#include "rooms/ConferenceRegistry.hpp"

#include "core/Log.hpp"

#include <glib.h>

#define GST_CAT_DEFAULT atrium_rooms_debug

namespace atrium::rooms {

ConferenceRegistry::~ConferenceRegistry() {
  for (guint id : pendingCleanups_) g_source_remove(id);
  sessions_.clear();
  conferences_.clear();
}

size_t ConferenceRegistry::ParticipantCount(int64_t roomId) const {
  auto it = conferences_.find(roomId);
  return it == conferences_.end() ? 0 : it->second->size();
}

size_t ConferenceRegistry::ParticipantTotal() const {
  size_t n = 0;
  for (const auto& [id, c] : conferences_) n += c->size();
  return n;
}

size_t ConferenceRegistry::TranscodeTotal() const {
  size_t n = 0;
  for (const auto& [id, c] : conferences_) n += c->transcoders().encodings();
  return n;
}

bool ConferenceRegistry::HasUser(int64_t userId) const {
  for (const auto& [id, c] : conferences_)
    for (const auto& p : c->ParticipantsJson())
      if (p["userId"].is_number_integer() && p["userId"].get<int64_t>() == userId) return true;
  return false;
}

Conference* ConferenceRegistry::Find(int64_t roomId) {
  auto it = conferences_.find(roomId);
  return it == conferences_.end() ? nullptr : it->second.get();
}

Conference& ConferenceRegistry::Open(int64_t roomId, const std::string& mode, const std::string& definition) {
  auto it = conferences_.find(roomId);
  if (it != conferences_.end()) return *it->second;
  auto c = std::make_unique<Conference>(roomId, mode, ice_, [this](int64_t id) { ScheduleCleanup(id); }, definition);
  c->StartLinkMonitor(links_);
  c->SetStreamObserver(observer_);
  c->SetTranscriptObserver(transcripts_);
  return *(conferences_[roomId] = std::move(c));
}

void ConferenceRegistry::Bind(uint64_t sessionId, int64_t roomId, const std::string& participantId) {
  sessions_[sessionId] = {roomId, participantId};
}

const ConferenceRegistry::Membership* ConferenceRegistry::MembershipOf(uint64_t sessionId) const {
  auto it = sessions_.find(sessionId);
  if (it == sessions_.end()) return nullptr;
  auto c = conferences_.find(it->second.roomId);
  if (c == conferences_.end() || !c->second->Find(it->second.participantId)) return nullptr;
  return &it->second;
}

void ConferenceRegistry::LeaveSession(uint64_t sessionId) {
  auto it = sessions_.find(sessionId);
  if (it == sessions_.end()) return;
  Membership m = it->second;
  sessions_.erase(it);
  if (auto* c = Find(m.roomId)) c->Leave(m.participantId);
}

void ConferenceRegistry::Finish(int64_t roomId) {
  auto* c = Find(roomId);
  if (!c) return;
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.roomId == roomId ? sessions_.erase(it) : std::next(it);
  c->Finish();
}

// A conference is dropped from the main loop, never from inside one of its own calls.
void ConferenceRegistry::ScheduleCleanup(int64_t roomId) {
  struct Job {
    ConferenceRegistry* self;
    int64_t roomId;
    guint id = 0;
  };
  auto* job = new Job{this, roomId};
  job->id = g_idle_add_full(
      G_PRIORITY_DEFAULT,
      [](gpointer p) -> gboolean {
        auto* job = static_cast<Job*>(p);
        job->self->pendingCleanups_.erase(job->id);
        auto it = job->self->conferences_.find(job->roomId);
        if (it != job->self->conferences_.end() && it->second->size() == 0) job->self->conferences_.erase(it);
        return G_SOURCE_REMOVE;
      },
      job, [](gpointer p) { delete static_cast<Job*>(p); });
  pendingCleanups_.insert(job->id);
}

}  // namespace atrium::rooms
