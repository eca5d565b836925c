// Who is speaking, from audio levels reported per participant: tells when a level is
// worth a `speaking` notification (throttled per participant) and picks the active
// speaker with hysteresis (the loudest speaking participant takes the floor after being
// the loudest for a while), so that the choice does not flap. Pure logic, no GStreamer;
// used by the MCU mixer and by SFU rooms.
#pragma once

#include <glib.h>

#include <map>
#include <string>

namespace atrium::media {

class ActiveSpeaker {
public:
  static constexpr double kSpeakingDb = -50.0;        // quieter than this is not speaking
  static constexpr gint64 kNotifyUs = 500000;         // per participant
  static constexpr gint64 kHoldUs = 1000000;          // the loudest for this long takes the floor

  struct Result {
    bool notify = false;   // tell the room `speaking` now
    bool changed = false;  // `current()` changed
  };
  // The latest level of `id` in dBFS/dBov at monotonic time `nowUs`.
  Result Update(const std::string& id, double db, gint64 nowUs);
  void Remove(const std::string& id);
  const std::string& current() const { return current_; }
  double LevelOf(const std::string& id) const;

private:
  struct Entry {
    double db = -127;
    gint64 lastNotify = 0;
    gint64 loudestSince = 0;
  };
  std::map<std::string, Entry> entries_;
  std::string current_;
};

}  // namespace atrium::media
