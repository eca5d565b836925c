// atrium-mcubench: the cost and delay of MCU mixing in a running atriumd. For each N,
// N webrtcbin publishers (640x360 30 fps VP8 + Opus test sources, all black) join an MCU
// room and one viewer plays the mix; it prints the server's CPU, the frame rate of the
// mix as decoded by the viewer, and the glass-to-glass latency the mix adds: publisher 0
// turns its picture white, and the time until the viewer decodes a white tile 0 in the
// mix is compared with the time until it decodes the white frame forwarded directly
// (SFU path, same room). bench/mcu/run.sh starts the server and passes its pid.
#include "bench/common/BenchClient.hpp"
#include "tests/media/ReceiveCounter.hpp"

#include <gst/gst.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace atrium::test;
using atrium::bench::CpuSeconds;

namespace {

void SetPattern(WebRtcClient& c, const char* pattern) {
  GstElement* pipeline = GST_ELEMENT(gst_object_get_parent(GST_OBJECT(c.webrtcbin())));
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue v = G_VALUE_INIT;
  while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
    GstElement* e = GST_ELEMENT(g_value_get_object(&v));
    if (g_str_has_prefix(GST_OBJECT_NAME(e), "videotestsrc")) gst_util_set_object_arg(G_OBJECT(e), "pattern", pattern);
    g_value_reset(&v);
  }
  g_value_unset(&v);
  gst_iterator_free(it);
  gst_object_unref(pipeline);
}

// NaN when the change was missed more often than seen.
double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end(), [](double a, double b) { return !std::isnan(a) && (std::isnan(b) || a < b); });
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  std::string url, password = g_getenv("ATRIUM_ADMIN_PASSWORD") ? g_getenv("ATRIUM_ADMIN_PASSWORD") : "";
  int serverPid = 0, duration = 10, flips = 5;
  std::vector<int> counts = {2, 4, 9, 16};
  std::string definition = "720p";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--url") url = v;  // http://127.0.0.1:PORT
    else if (k == "--pid") serverPid = std::stoi(v);
    else if (k == "--duration") duration = std::stoi(v);
    else if (k == "--definition") definition = v;
    else if (k == "--participants") {
      counts.clear();
      std::istringstream in(v);
      for (std::string n; std::getline(in, n, ',');) counts.push_back(std::stoi(n));
    }
  }
  if (url.empty() || !serverPid) {
    std::fprintf(stderr, "usage: atrium-mcubench --url http://HOST:PORT --pid SERVER_PID [--participants 2,4,9,16]\n");
    return 2;
  }
  std::string wsUrl = "ws" + url.substr(4) + "/rpc";
  HttpClient http(url);
  std::string token = ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", password}}))["token"];

  std::printf("%4s %8s %8s %8s %11s %11s %9s\n", "N", "cpu %", "mix fps", "sfu fps", "sfu g2g ms", "mix g2g ms",
              "added ms");
  for (int n : counts) {
    int64_t room = ResultOf(http.Call("room.create",
                                      {{"name", "mcubench"}, {"mode", "mcu"}, {"definition", definition},
                                       {"isPublic", true}, {"numberLimit", 64}},
                                      token))["roomId"];
    std::vector<std::unique_ptr<Member>> clients;
    std::string stream0;
    for (int i = 0; i < n; ++i) {
      auto c = std::make_unique<Member>(wsUrl, "p" + std::to_string(i));
      c->Join(room);
      WebRtcClient::Options o;
      o.width = 640;
      o.height = 360;
      o.fps = 30;
      o.pattern = "black";
      o.volume = 0.1;
      o.toneHz = 300 + 100 * i;
      std::string s = c->Publish(o);
      if (i == 0) stream0 = s;
      clients.push_back(std::move(c));
    }
    Member& viewer = *clients[0];
    std::string mixPlay = viewer.Play("mix");
    std::string directPlay = viewer.Play(stream0);
    auto pump = [&] {
      for (auto& c : clients) {
        c->Pump();
        c->ws().TakeNotifications([](const json& j) { return j["method"] == "speaking"; });
      }
    };
    WebRtcClient& mix = viewer.peer(mixPlay);
    WebRtcClient& direct = viewer.peer(directPlay);
    RunUntil([&] { pump(); return mix.framesDecoded() > 30 && direct.framesDecoded() > 30; }, 30000);
    RunUntil([&] { pump(); return false; }, 3000);  // settle

    double cpu0 = CpuSeconds(serverPid);
    uint64_t frames0 = mix.framesDecoded(), direct0 = direct.framesDecoded();
    gint64 t0 = g_get_monotonic_time();
    RunUntil([&] { pump(); return false; }, duration * 1000);
    double wall = double(g_get_monotonic_time() - t0) / 1e6;
    double cpu = (CpuSeconds(serverPid) - cpu0) / wall * 100;
    double fps = double(mix.framesDecoded() - frames0) / wall;
    double directFps = double(direct.framesDecoded() - direct0) / wall;

    // Tile 0's centre in the grid of n.
    int cols = int(std::ceil(std::sqrt(double(n)))), rows = (n + cols - 1) / cols;
    double fx = 0.5 / cols, fy = 0.5 / rows;
    std::vector<double> sfu, mcu;
    auto luma = [](const WebRtcClient& c, double x, double y) {
      int yuv[3] = {0, 0, 0};
      return c.receiver()->SampleYuv(x, y, yuv) ? yuv[0] : -1;
    };
    WebRtcClient& pub = clients[0]->peer(stream0);
    for (int f = 0; f < 2 * flips; ++f) {
      bool white = f % 2 == 0;
      SetPattern(pub, white ? "white" : "black");
      gint64 start = g_get_monotonic_time();
      gint64 tDirect = 0, tMix = 0;
      auto reached = [&](int y) { return white ? y > 200 : (y >= 0 && y < 50); };
      RunUntil([&] {
        pump();
        gint64 now = g_get_monotonic_time();
        if (!tDirect && reached(luma(direct, 0.5, 0.5))) tDirect = now;
        if (!tMix && reached(luma(mix, fx, fy))) tMix = now;
        return tDirect && tMix;
      }, 5000);
      if (white) {  // black → white: a stalled black picture never passes for it
        sfu.push_back(tDirect ? double(tDirect - start) / 1000 : NAN);
        mcu.push_back(tMix ? double(tMix - start) / 1000 : NAN);
      }
      RunUntil([&] { pump(); return false; }, 700);
    }
    double s = Median(sfu), m = Median(mcu);
    // "-": the change never showed within 5 s.
    auto ms = [](double v) { return std::isnan(v) ? std::string("-") : std::to_string(int(std::lround(v))); };
    std::printf("%4d %8.1f %8.1f %8.1f %11s %11s %9s\n", n, cpu, fps, directFps, ms(s).c_str(), ms(m).c_str(),
                ms(m - s).c_str());
    std::fflush(stdout);
    for (auto& c : clients) c->DropAll();
    clients.clear();
    RunUntil([] { return false; }, 2000);  // the room empties
  }
  return 0;
}
