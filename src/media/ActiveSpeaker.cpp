#include "media/ActiveSpeaker.hpp"

namespace atrium::media {

ActiveSpeaker::Result ActiveSpeaker::Update(const std::string& id, double db, gint64 nowUs) {
  Result r;
  Entry& e = entries_[id];
  e.db = db;
  if (db > kSpeakingDb && nowUs - e.lastNotify >= kNotifyUs) {
    e.lastNotify = nowUs;
    r.notify = true;
  }
  bool loudest = db > kSpeakingDb;
  for (const auto& [other, o] : entries_)
    if (other != id && o.db >= db) loudest = false;
  if (!loudest || id == current_) {
    e.loudestSince = 0;
    return r;
  }
  if (!e.loudestSince) e.loudestSince = nowUs;
  if (nowUs - e.loudestSince >= kHoldUs) {
    current_ = id;
    e.loudestSince = 0;
    r.changed = true;
  }
  return r;
}

void ActiveSpeaker::Remove(const std::string& id) {
  entries_.erase(id);
  if (current_ == id) current_.clear();
}

double ActiveSpeaker::LevelOf(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? -127 : it->second.db;
}

}  // namespace atrium::media
