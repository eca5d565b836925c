// atrium-soak: rooms full of participants for a long time against a running atriumd, to
// see whether its memory stays flat. Each participant joins over a WebSocket, publishes
// VP8 + Opus from test sources and plays (decodes) every other participant of its room.
// Every minute it prints the server's RSS, CPU and threads, and frames decoded; at the
// end the RSS growth per hour (least squares over the minutes after the first). Starts
// nothing itself: bench/soak/run.sh starts the server. SFU rooms only (what Atrium has
// today).
#include "tests/rpc/ConferenceMember.hpp"
#include "tests/rpc/Harness.hpp"

#include <gst/gst.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

using namespace atrium::test;

namespace {

struct Sample {
  double minute = 0;
  long rssKiB = 0;
  long threads = 0;
  double cpuSeconds = 0;
};

Sample Read(int pid) {
  Sample s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rssKiB = atol(line.c_str() + 6);
    if (line.rfind("Threads:", 0) == 0) s.threads = atol(line.c_str() + 8);
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), {});
  std::istringstream in(all.substr(all.rfind(')') + 2));
  std::string f;
  long ticks = 0;
  for (int i = 3; i <= 15 && in >> f; ++i)
    if (i == 14 || i == 15) ticks += atol(f.c_str());
  s.cpuSeconds = double(ticks) / double(sysconf(_SC_CLK_TCK));
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    fprintf(stderr, "usage: atrium-soak HTTP_URL SERVER_PID [MINUTES=30] [ROOMS=4] [PARTICIPANTS=4]\n");
    return 2;
  }
  std::string url = argv[1];
  int pid = atoi(argv[2]);
  double minutes = argc > 3 ? atof(argv[3]) : 30;
  int rooms = argc > 4 ? atoi(argv[4]) : 4;
  int perRoom = argc > 5 ? atoi(argv[5]) : 4;
  const char* pw = g_getenv("ATRIUM_ADMIN_PASSWORD");
  HttpClient http(url);
  std::string token = ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", pw ? pw : ""}}))["token"];
  std::string wsUrl = "ws" + url.substr(4) + "/rpc";

  std::vector<std::unique_ptr<Member>> members;
  std::vector<std::pair<Member*, std::string>> plays;
  for (int r = 0; r < rooms; ++r) {
    int64_t room = ResultOf(http.Call("room.create", {{"name", "soak " + std::to_string(r)}, {"isPublic", true}}, token))["roomId"];
    std::vector<Member*> inRoom;
    std::vector<std::string> streams;
    for (int p = 0; p < perRoom; ++p) {
      members.push_back(std::make_unique<Member>(wsUrl, "r" + std::to_string(r) + "p" + std::to_string(p)));
      Member* m = members.back().get();
      json j = m->Join(room);
      if (ErrorCodeOf(j) != 0) throw std::runtime_error("join: " + j.dump());
      atrium::test::WebRtcClient::Options o;
      o.width = 320;
      o.height = 180;
      o.fps = 15;
      streams.push_back(m->Publish(o));
      inRoom.push_back(m);
    }
    for (int p = 0; p < perRoom; ++p)
      for (int q = 0; q < perRoom; ++q)
        if (p != q) plays.emplace_back(inRoom[p], inRoom[p]->Play(streams[q]));
  }
  printf("soak: %d rooms x %d participants (SFU), %zu plays, %.1f minutes, server pid %d\n", rooms, perRoom,
         plays.size(), minutes, pid);
  printf("%8s %10s %8s %8s %14s\n", "minute", "rss_kib", "cpu_%", "threads", "frames_total");
  fflush(stdout);

  auto pump = [&](int ms) {
    RunUntil(
        [&] {
          for (auto& m : members) m->Pump();
          return false;
        },
        ms);
  };
  std::vector<Sample> samples;
  Sample last = Read(pid);
  gint64 start = g_get_monotonic_time();
  for (int minute = 1; minute <= int(minutes * 60 + 59) / 60; ++minute) {
    gint64 target = start + gint64(std::min(double(minute), minutes) * 60e6);
    pump(int((target - g_get_monotonic_time()) / 1000));
    Sample s = Read(pid);
    s.minute = double(g_get_monotonic_time() - start) / 60e6;
    double cpu = 100.0 * (s.cpuSeconds - last.cpuSeconds) / ((s.minute - (samples.empty() ? 0 : samples.back().minute)) * 60);
    uint64_t frames = 0;
    for (auto& [m, id] : plays) frames += m->peer(id).framesDecoded();
    printf("%8.1f %10ld %8.1f %8ld %14llu\n", s.minute, s.rssKiB, cpu, s.threads, (unsigned long long)frames);
    fflush(stdout);
    samples.push_back(s);
    last = s;
  }
  // Growth per hour: least squares of RSS over time, leaving out the first minute (warm-up).
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    double x = samples[i].minute / 60.0, y = double(samples[i].rssKiB);
    n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  if (n >= 2 && n * sxx - sx * sx > 0) {
    double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    printf("soak: rss %ld KiB after minute 1, %ld KiB at the end; growth %.0f KiB per hour (least squares)\n",
           samples[0].rssKiB, samples.back().rssKiB, slope);
  } else {
    printf("soak: too short to fit a growth rate (needs 3 minutes or more)\n");
  }
  int stalled = 0;
  for (auto& [m, id] : plays)
    if (m->peer(id).framesDecoded() == 0) ++stalled;
  printf("soak: %d of %zu plays decoded nothing\n", stalled, plays.size());
  members.clear();
  return stalled ? 1 : 0;
}
