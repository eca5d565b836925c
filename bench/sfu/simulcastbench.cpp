// atrium-simulcastbench: what simulcast costs the SFU. In one room of a running atriumd,
// one webrtcbin publisher sends 640x360 VP8 as three simulcast layers (160x90, 320x180,
// 640x360, rids q/h/f) and another sends plain 640x360 VP8; both with Opus. For N
// subscribers it measures the server's CPU (from /proc) in three windows: N plays of the
// plain stream (forwarded as is), N plays of the simulcast stream on its top layer (each
// through its own layer switch), and the same while every play changes layer every
// second. Prints CPU per forwarded stream for each and the ratio to plain forwarding.
// bench/sfu/simulcast.sh starts the server and passes its pid.
#include "bench/common/BenchClient.hpp"
#include "tests/media/ReceiveCounter.hpp"

#include <gst/gst.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace atrium::test;
using atrium::bench::CpuSeconds;

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  std::string url, password = g_getenv("ATRIUM_ADMIN_PASSWORD") ? g_getenv("ATRIUM_ADMIN_PASSWORD") : "";
  int serverPid = 0, duration = 10, n = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--url") url = v;
    else if (k == "--pid") serverPid = std::stoi(v);
    else if (k == "--duration") duration = std::stoi(v);
    else if (k == "--subscribers") n = std::stoi(v);
  }
  if (url.empty() || !serverPid) {
    std::fprintf(stderr, "usage: atrium-simulcastbench --url http://HOST:PORT --pid SERVER_PID [--subscribers 10]\n");
    return 2;
  }
  std::string wsUrl = "ws" + url.substr(4) + "/rpc";
  HttpClient http(url);
  std::string token = ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", password}}))["token"];
  int64_t room = ResultOf(http.Call("room.create", {{"name", "simulcastbench"}, {"isPublic", true}, {"numberLimit", 200}},
                                    token))["roomId"];
  std::vector<std::unique_ptr<Member>> clients;
  auto join = [&](const std::string& name) {
    auto c = std::make_unique<Member>(wsUrl, name);
    c->Join(room);
    clients.push_back(std::move(c));
    return clients.back().get();
  };
  auto pump = [&](int ms, const std::function<void()>& each = nullptr) {
    RunUntil(
        [&] {
          for (auto& c : clients) {
            c->Pump();
            c->ws().TakeNotifications([](const json& j) { return j["method"] == "layerChanged"; });
          }
          if (each) each();
          return false;
        },
        ms);
  };
  WebRtcClient::Options o;
  o.width = 640;
  o.height = 360;
  o.fps = 30;
  o.keyframeMaxDist = 60;
  std::string plain = join("plain")->Publish(o);
  o.simulcastRids = {"q", "h", "f"};
  std::string simulcast = join("simulcast")->Publish(o);
  pump(3000);
  auto measure = [&](const std::function<void()>& each = nullptr) {
    double c0 = CpuSeconds(serverPid);
    gint64 t0 = g_get_monotonic_time();
    pump(duration * 1000, each);
    return 100.0 * (CpuSeconds(serverPid) - c0) / (double(g_get_monotonic_time() - t0) / 1e6);
  };
  double base = measure();

  struct Sub {
    Member* c;
    std::string play;
  };
  auto subscribe = [&](const std::string& stream) {
    std::vector<Sub> subs;
    WebRtcClient::Options p;
    p.role = WebRtcClient::Role::Player;
    p.audio = false;
    for (int i = 0; i < n; ++i) {
      Member* c = join("sub");
      subs.push_back({c, c->Play(stream, p)});
    }
    RunUntil([&] {
      pump(100);
      for (auto& s : subs)
        if (s.c->peer(s.play).framesDecoded() < 10) return false;
      return true;
    }, 30000);
    pump(2000);
    return subs;
  };
  auto unsubscribe = [&](std::vector<Sub>& subs) {
    for (auto& s : subs) {
      s.c->DropAll();
      s.c->ws().Call("conference.leave");
    }
    subs.clear();
    pump(2000);
  };

  std::vector<Sub> subs = subscribe(plain);
  double plainCpu = measure();
  uint64_t f0 = 0;
  unsubscribe(subs);

  subs = subscribe(simulcast);
  double fixedCpu = measure();
  int layer = 2, switches = 0;
  gint64 next = g_get_monotonic_time() + G_USEC_PER_SEC;
  for (auto& s : subs) f0 += s.c->peer(s.play).framesDecoded();
  double switchingCpu = measure([&] {
    if (g_get_monotonic_time() < next) return;
    next += G_USEC_PER_SEC;
    layer = (layer + 1) % 3;
    for (auto& s : subs) s.c->ws().Notify("media.setLayer", {{"playId", s.play}, {"layer", layer}});
    switches += int(subs.size());
  });
  uint64_t f1 = 0;
  for (auto& s : subs) f1 += s.c->peer(s.play).framesDecoded();
  unsubscribe(subs);

  auto per = [&](double cpu) { return (cpu - base) / n; };
  std::printf("%d subscribers, 640x360 30 fps VP8 (simulcast: 160x90 + 320x180 + 640x360), %d s windows\n", n,
              duration);
  std::printf("%-34s %8s %14s %10s\n", "", "cpu %", "per stream %", "vs plain");
  std::printf("%-34s %8.1f\n", "publishers only", base);
  std::printf("%-34s %8.1f %14.2f %10s\n", "plain forwarding", plainCpu, per(plainCpu), "1.00");
  std::printf("%-34s %8.1f %14.2f %10.2f\n", "simulcast, top layer", fixedCpu, per(fixedCpu),
              per(fixedCpu) / per(plainCpu));
  std::printf("%-34s %8.1f %14.2f %10.2f\n", "simulcast, layer switch every 1 s", switchingCpu, per(switchingCpu),
              per(switchingCpu) / per(plainCpu));
  std::printf("layer switches asked: %d; frames the subscribers decoded while switching: %llu (%.1f fps each)\n",
              switches, (unsigned long long)(f1 - f0), double(f1 - f0) / duration / n);
  return 0;
}
