// Cost of recording a two-party SFU room, and download throughput of a recording file.
// Starts a private atriumd (temp data dir, ICE on 127.0.0.1), joins two webrtcbin
// publishers (640x360 VP8 + Opus), and measures atriumd's CPU from /proc over equal
// windows: without recording, then with each format in layout `tracks` and `composite`
// (the room at 720p, 30 fps, from a mixer started for it). Then serves a
// 100 MB file through GET /recordings/{id}/file with curl, whole and by ranges, and
// reports throughput and atriumd's RSS. bench/record/run.sh drives it.
#include "bench/common/BenchClient.hpp"

#include <gst/gst.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

using namespace atrium::test;
using atrium::bench::CpuSeconds;

namespace {

struct Publisher {
  std::unique_ptr<WsClient> ws;
  std::unique_ptr<WebRtcClient> peer;
  std::string id;
  void Pump() {
    for (auto& n : ws->TakeNotifications([](const json& j) { return j["method"] == "media.candidate"; }))
      peer->AddRemoteCandidate(n["params"]["sdpMLineIndex"], n["params"]["candidate"]);
  }
};

std::unique_ptr<Publisher> Publish(const DaemonProcess& d, int64_t room) {
  auto p = std::make_unique<Publisher>();
  p->ws = std::make_unique<WsClient>(d.wsUrl());
  json joined = p->ws->Call("conference.join", {{"roomId", room}, {"displayName", "bench"}});
  if (ErrorCodeOf(joined) != 0) throw std::runtime_error("join: " + joined.dump());
  WebRtcClient::Options o;
  o.width = 640;
  o.height = 360;
  p->peer = std::make_unique<WebRtcClient>(o);
  auto* raw = p.get();
  auto held = std::make_shared<std::vector<std::pair<int, std::string>>>();
  p->peer->onLocalCandidate = [raw, held](int m, const std::string& c) {
    if (raw->id.empty())
      held->emplace_back(m, c);
    else
      raw->ws->Notify("media.candidate", {{"id", raw->id}, {"candidate", c}, {"sdpMLineIndex", m}});
  };
  json r = p->ws->Call("media.publish", {{"kind", "camera"}, {"sdp", p->peer->CreateOffer()}});
  p->id = ResultOf(r)["streamId"];
  p->peer->SetAnswer(ResultOf(r)["sdp"]);
  for (auto& [m, c] : *held) p->ws->Notify("media.candidate", {{"id", p->id}, {"candidate", c}, {"sdpMLineIndex", m}});
  return p;
}

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  if (f) pclose(f);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  int window = argc > 1 ? std::atoi(argv[1]) : 10;
  TempDir dir;
  DaemonProcess daemon(dir.path(), "[ice]\naddresses = 127.0.0.1\n");
  HttpClient http(daemon.url());
  std::string token =
      ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}))["token"];
  int64_t room = ResultOf(http.Call("room.create", {{"name", "bench"}, {"isPublic", true}}, token))["roomId"];
  std::vector<std::unique_ptr<Publisher>> pubs;
  pubs.push_back(Publish(daemon, room));
  pubs.push_back(Publish(daemon, room));
  auto pump = [&](int ms) {
    RunUntil(
        [&] {
          for (auto& p : pubs) p->Pump();
          return false;
        },
        ms);
  };
  pump(3000);
  auto measure = [&] {
    double c0 = CpuSeconds(daemon.pid());
    gint64 t0 = g_get_monotonic_time();
    pump(window * 1000);
    return 100.0 * (CpuSeconds(daemon.pid()) - c0) / (double(g_get_monotonic_time() - t0) / 1e6);
  };
  std::printf("atriumd CPU (%% of one core), 2 publishers 640x360 VP8+Opus, %d s windows; shared 2-core machine\n",
              window);
  double base = measure();
  std::printf("%-22s %6.1f%%\n", "no recording", base);
  int64_t webmFile = 0;
  for (const char* format : {"webm", "mp4"}) {
    json r = http.Call("recording.start", {{"roomId", room}, {"format", format}, {"layout", "tracks"}}, token);
    int64_t id = ResultOf(r)["recordingId"];
    pump(2000);
    double cpu = measure();
    http.Call("recording.stop", {{"recordingId", id}}, token);
    pump(3000);
    std::printf("%-22s %6.1f%%  (+%.1f%% total, +%.1f%% per stream)\n", (std::string(format) + " tracks").c_str(), cpu,
                cpu - base, (cpu - base) / 2);
    if (std::string(format) == "webm")
      webmFile = ResultOf(http.Call("recording.get", {{"recordingId", id}}, token))["recording"]["files"][0]["recordingId"];
  }
  // Composite: this SFU room gets a mixer for the recording (both cameras decoded, the
  // picture composed at the room's 720p and encoded); MP4 transcodes that picture to H.264.
  for (const char* format : {"webm", "mp4"}) {
    json r = http.Call("recording.start", {{"roomId", room}, {"format", format}, {"layout", "composite"}}, token);
    int64_t id = ResultOf(r)["recordingId"];
    pump(3000);
    double cpu = measure();
    http.Call("recording.stop", {{"recordingId", id}}, token);
    pump(3000);
    std::printf("%-22s %6.1f%%  (+%.1f%% total)\n", (std::string(format) + " composite").c_str(), cpu, cpu - base);
  }
  pubs.clear();

  // Download: the finished WebM file's bytes replaced by 100 MB, served as that recording.
  std::string path = dir.path() + "/recordings/" + std::to_string(webmFile) + ".webm";
  Run("head -c 100000000 /dev/urandom > '" + path + "'");
  std::string url = daemon.url() + "/recordings/" + std::to_string(webmFile) + "/file";
  std::string auth = "-H 'Authorization: Bearer " + token + "'";
  auto rss = [&] { return daemon.ReadUsage().rssKiB / 1024.0; };
  double rss0 = rss();
  std::string whole = Run("curl -s -o /dev/null -w '%{speed_download} %{size_download}' " + auth + " '" + url + "'");
  double rss1 = rss();
  std::string ranges;
  for (int i = 0; i < 10; ++i)
    ranges += " -o /dev/null -H 'Range: bytes=" + std::to_string(i * 10000000) + "-" +
              std::to_string(i * 10000000 + 9999999) + "' " + auth + " '" + url + "'";
  gint64 t0 = g_get_monotonic_time();
  Run("curl -s" + ranges);
  double rangeSeconds = double(g_get_monotonic_time() - t0) / 1e6;
  double rss2 = rss();
  double speed = 0, size = 0;
  std::sscanf(whole.c_str(), "%lf %lf", &speed, &size);
  std::printf("download 100 MB whole:      %.0f MB/s (%.0f bytes)\n", speed / 1e6, size);
  std::printf("download 10 x 10 MB ranges: %.0f MB/s (one curl, keep-alive)\n", 100.0 / rangeSeconds);
  std::printf("atriumd RSS: %.1f MiB before, %.1f MiB after whole, %.1f MiB after ranges\n", rss0, rss1, rss2);
  return 0;
}
