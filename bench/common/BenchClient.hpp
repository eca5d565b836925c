// What the benchmarks that drive atriumd with the tests' webrtcbin peers share: the
// server's CPU time from /proc, and a participant (one WebSocket, its peers by id).
#pragma once

#include "tests/media/WebRtcClient.hpp"
#include "tests/rpc/Harness.hpp"

#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace atrium::bench {

using test::ErrorCodeOf;
using test::ResultOf;
using test::WebRtcClient;
using test::WsClient;
using test::json;

// utime + stime of process `pid` in seconds.
inline double CpuSeconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');
  std::istringstream in(s.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / double(sysconf(_SC_CLK_TCK));
}

class Client {
public:
  explicit Client(const std::string& wsUrl) : ws_(wsUrl) {}
  WsClient& ws() { return ws_; }
  std::string id;

  std::string Connect(WebRtcClient::Options o, const char* method, json params, const char* idKey) {
    auto client = std::make_unique<WebRtcClient>(o);
    auto pending = std::make_shared<std::vector<std::pair<int, std::string>>>();
    auto sentId = std::make_shared<std::string>();
    client->onLocalCandidate = [this, pending, sentId](int mline, const std::string& c) {
      if (sentId->empty())
        pending->emplace_back(mline, c);
      else
        ws_.Notify("media.candidate", {{"id", *sentId}, {"candidate", c}, {"sdpMLineIndex", mline}});
    };
    params["sdp"] = client->CreateOffer();
    json r = ws_.Call(method, params);
    if (ErrorCodeOf(r) != 0) throw std::runtime_error(std::string(method) + " failed: " + r.dump());
    std::string pid = ResultOf(r)[idKey];
    client->SetAnswer(ResultOf(r)["sdp"]);
    *sentId = pid;
    for (const auto& [m, c] : *pending) ws_.Notify("media.candidate", {{"id", pid}, {"candidate", c}, {"sdpMLineIndex", m}});
    peers[pid] = std::move(client);
    return pid;
  }
  // Hands the server's candidates to the peers (and drops speaking notifications).
  void Pump() {
    for (auto& n : ws_.TakeNotifications([this](const json& j) {
           return j["method"] == "media.candidate" && peers.count(j["params"]["id"].get<std::string>());
         })) {
      const auto& p = n["params"];
      peers.at(p["id"].get<std::string>())->AddRemoteCandidate(p["sdpMLineIndex"], p["candidate"]);
    }
    ws_.TakeNotifications([](const json& j) { return j["method"] == "speaking"; });
  }
  std::map<std::string, std::unique_ptr<WebRtcClient>> peers;

private:
  WsClient ws_;
};

}  // namespace atrium::bench
