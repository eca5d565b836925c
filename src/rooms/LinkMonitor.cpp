#include "rooms/LinkMonitor.hpp"

#include "core/Log.hpp"
#include "rooms/Conference.hpp"

#include <algorithm>

#define GST_CAT_DEFAULT atrium_rooms_debug

namespace atrium::rooms {

using nlohmann::json;

LinkMonitor::LinkMonitor(Conference& conference, LinkThresholds t) : conference_(conference), t_(t) {
  timer_ = g_timeout_add_seconds(
      guint(std::max(1, t_.intervalSeconds)),
      [](gpointer self) -> gboolean {
        static_cast<LinkMonitor*>(self)->Poll();
        return G_SOURCE_CONTINUE;
      },
      this);
}

LinkMonitor::~LinkMonitor() {
  *alive_ = false;
  if (timer_) g_source_remove(timer_);
}

void LinkMonitor::Poll() {
  const auto& streams = conference_.streams();
  const auto& plays = conference_.plays();
  for (auto it = links_.begin(); it != links_.end();)
    it = streams.count(it->first) || plays.count(it->first) ? std::next(it) : links_.erase(it);
  std::vector<std::string> ids;
  for (const auto& [id, s] : streams)
    if (s.live) ids.push_back(id);
  for (const auto& [id, p] : plays) ids.push_back(id);
  std::weak_ptr<bool> alive = alive_;
  for (const auto& id : ids) {
    conference_.pipeline().GetStats(id, [this, alive, id](std::vector<media::RoomPipeline::TrackStats> stats) {
      if (auto a = alive.lock(); a && *a) OnStats(id, std::move(stats));
    });
  }
}

void LinkMonitor::OnStats(const std::string& id, std::vector<media::RoomPipeline::TrackStats> stats) {
  Link fresh;
  if (auto s = conference_.streams().find(id); s != conference_.streams().end()) {
    fresh.participantId = s->second.participantId;
    fresh.streamId = id;
    fresh.up = true;
  } else if (auto p = conference_.plays().find(id); p != conference_.plays().end()) {
    fresh.participantId = p->second.participantId;
    fresh.streamId = p->second.streamId;
    fresh.up = false;
  } else {
    return;  // gone meanwhile
  }
  auto [it, inserted] = links_.emplace(id, fresh);
  Link& link = it->second;
  gint64 now = g_get_monotonic_time();
  double dt = link.sampledAt ? double(now - link.sampledAt) / 1e6 : 0;
  bool hadSample = link.sampledAt != 0 && link.tracks.size() == stats.size() && dt > 0;
  std::vector<Track> tracks;
  for (size_t i = 0; i < stats.size(); ++i) {
    const auto& s = stats[i];
    Track t;
    t.kind = s.kind;
    t.bytes = s.bytes;
    t.packets = s.packets;
    t.packetsLost = s.packetsLost;
    t.rtt = s.rtt;
    if (hadSample) {
      const Track& prev = link.tracks[i];
      double dBytes = s.bytes >= prev.bytes ? double(s.bytes - prev.bytes) : 0;
      double dPackets = s.packets >= prev.packets ? double(s.packets - prev.packets) : 0;
      double dLost = std::max<double>(0, double(s.packetsLost - prev.packetsLost));
      t.bitrate = 8 * dBytes / dt;
      if (!link.up && s.fractionLost >= 0)
        t.loss = s.fractionLost;  // the subscriber's own report
      else if (link.up)
        t.loss = dPackets + dLost > 0 ? dLost / (dPackets + dLost) : 0;
      else
        t.loss = dPackets > 0 ? std::min(1.0, dLost / dPackets) : 0;
    }
    tracks.push_back(t);
  }
  link.tracks = std::move(tracks);
  link.sampledAt = now;
  link.updatedAt = g_get_real_time() / G_USEC_PER_SEC;
  if (hadSample) Judge(id, link);
}

// Slow at or above a threshold; recovered only below half the loss threshold or three
// quarters of the round-trip threshold, so that a link near the line does not flap.
void LinkMonitor::Judge(const std::string& id, Link& link) {
  double loss = 0, rtt = -1;
  for (const auto& t : link.tracks) {
    loss = std::max(loss, t.loss);
    rtt = std::max(rtt, t.rtt);
  }
  auto tell = [&](int code, bool slow) {
    json params = {{"participantId", link.participantId},
                   {"direction", link.up ? "up" : "down"},
                   {"code", code},
                   {"slow", slow},
                   {"id", id},
                   {"streamId", link.streamId},
                   {"loss", loss},
                   {"rtt", rtt >= 0 ? json(int64_t(rtt * 1000 + 0.5)) : json(nullptr)}};
    GST_INFO("link %s [participant:%s id:%s code:%d loss:%.3f rtt:%.3f]", slow ? "slow" : "recovered",
             link.participantId.c_str(), id.c_str(), code, loss, rtt);
    conference_.Broadcast("linkSlow", params);
  };
  double lossPct = loss * 100;
  if (!link.slowLoss && lossPct >= t_.lossPercent) {
    link.slowLoss = true;
    tell(kCodeLoss, true);
  } else if (link.slowLoss && lossPct < t_.lossPercent / 2.0) {
    link.slowLoss = false;
    tell(kCodeLoss, false);
  }
  double rttMs = rtt * 1000;
  if (!link.slowRtt && rtt >= 0 && rttMs >= t_.rttMs) {
    link.slowRtt = true;
    tell(kCodeRtt, true);
  } else if (link.slowRtt && rttMs < t_.rttMs * 0.75) {
    link.slowRtt = false;
    tell(kCodeRtt, false);
  }
}

json LinkMonitor::LinkJson(const std::string& id, const Link& link) {
  json tracks = json::array();
  for (const auto& t : link.tracks)
    tracks.push_back({{"kind", t.kind},
                      {"bitrate", int64_t(t.bitrate + 0.5)},
                      {"bytes", t.bytes},
                      {"packets", t.packets},
                      {"packetsLost", t.packetsLost},
                      {"loss", t.loss},
                      {"rtt", t.rtt >= 0 ? json(int64_t(t.rtt * 1000 + 0.5)) : json(nullptr)}});
  json j = {{"participantId", link.participantId}, {"direction", link.up ? "up" : "down"},
            {"streamId", link.streamId},           {"updatedAt", link.updatedAt},
            {"slow", link.slowLoss || link.slowRtt}, {"tracks", tracks}};
  if (!link.up) j["playId"] = id;
  return j;
}

json LinkMonitor::Snapshot(const std::string& viewer) const {
  json streams = json::array(), plays = json::array();
  for (const auto& [id, link] : links_) {
    if (!link.sampledAt) continue;
    if (link.up)
      streams.push_back(LinkJson(id, link));
    else if (viewer.empty() || link.participantId == viewer)
      plays.push_back(LinkJson(id, link));
  }
  return {{"interval", t_.intervalSeconds}, {"streams", streams}, {"plays", plays}};
}

}  // namespace atrium::rooms
