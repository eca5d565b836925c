// Link quality of one conference: polls webrtcbin's RTP statistics of every published
// stream (uplink) and every play (downlink) at a fixed interval, keeps the latest figures
// for conference.stats, and tells the room `linkSlow` when a link's loss or round-trip time
// crosses its threshold (and again when it has recovered, with hysteresis). Owned by its
// Conference; control thread.
#pragma once

#include "media/RoomPipeline.hpp"

#include <glib.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace atrium::rooms {

class Conference;

struct LinkThresholds {
  int intervalSeconds = 3;   // [conference] stats-interval
  int lossPercent = 10;      // [conference] slow-link-loss: slow at or above this loss
  int rttMs = 500;           // [conference] slow-link-rtt: slow at or above this round-trip time
};

class LinkMonitor {
public:
  // linkSlow codes.
  static constexpr int kCodeLoss = 1001;
  static constexpr int kCodeRtt = 1002;

  LinkMonitor(Conference& conference, LinkThresholds t);
  ~LinkMonitor();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;

  // The latest figures: every stream, and the plays of `viewer` (all plays when empty).
  nlohmann::json Snapshot(const std::string& viewer) const;
  const LinkThresholds& thresholds() const { return t_; }
  // Starts one round of polling now (also done by the timer).
  void Poll();

private:
  struct Track {
    std::string kind;
    double bitrate = 0;  // bits per second over the last interval
    uint64_t bytes = 0, packets = 0;
    int64_t packetsLost = 0;
    double loss = 0;  // fraction 0..1 over the last interval (or the receiver's last report)
    double rtt = -1;  // seconds, -1 unknown
  };
  struct Link {
    std::string participantId;
    std::string streamId;  // the stream, or for a play the stream it plays
    bool up = true;        // a published stream; false: a play
    gint64 sampledAt = 0;  // monotonic time of the last sample
    int64_t updatedAt = 0;  // Unix seconds
    std::vector<Track> tracks;
    bool slowLoss = false, slowRtt = false;
  };

  void OnStats(const std::string& id, std::vector<media::RoomPipeline::TrackStats> stats);
  void Judge(const std::string& id, Link& link);
  static nlohmann::json LinkJson(const std::string& id, const Link& link);

  Conference& conference_;
  LinkThresholds t_;
  guint timer_ = 0;
  std::map<std::string, Link> links_;  // by streamId or playId
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace atrium::rooms
