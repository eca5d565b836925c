// A participant of a live conference in the rpc tests: its WebSocket session and the
// webrtcbin peers it publishes and plays with, by stream/play id. Shared by ConferenceTest
// and FaultTest.
#pragma once

#include "tests/media/ReceiveCounter.hpp"
#include "tests/media/WebRtcClient.hpp"
#include "tests/rpc/Harness.hpp"

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace atrium::test {

// One participant: its WebSocket session and the WebRTC peers it runs, by stream/play id.
class Member {
public:
  Member(const DaemonProcess& daemon, const std::string& name) : ws_(daemon.wsUrl()), name_(name) {}
  Member(const std::string& wsUrl, const std::string& name) : ws_(wsUrl), name_(name) {}

  json Login() { return ws_.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}); }
  json Join(int64_t roomId, json extra = json::object()) {
    extra["roomId"] = roomId;
    if (!extra.contains("displayName")) extra["displayName"] = name_;
    json r = ws_.Call("conference.join", extra);
    if (ErrorCodeOf(r) == 0) id_ = ResultOf(r)["participant"]["id"];
    return r;
  }

  // Publishes test sources; returns the streamId.
  std::string Publish(WebRtcClient::Options o = {}) {
    o.role = WebRtcClient::Role::Publisher;
    return Connect(o, "media.publish", {{"kind", "camera"}}, "streamId");
  }
  // Plays a stream; returns the playId.
  std::string Play(const std::string& streamId, WebRtcClient::Options o = {}) {
    o.role = WebRtcClient::Role::Player;
    return Connect(o, "media.play", {{"streamId", streamId}}, "playId");
  }

  // Hands the server's trickled candidates to the right peer.
  void Pump() {
    for (auto& n : ws_.TakeNotifications([this](const json& j) {
           return j["method"] == "media.candidate" && peers_.count(j["params"]["id"].get<std::string>());
         })) {
      const auto& p = n["params"];
      peers_.at(p["id"].get<std::string>())->AddRemoteCandidate(p["sdpMLineIndex"], p["candidate"]);
    }
  }

  // Every peer goes (their pipelines stop); the session stays.
  void DropAll() { peers_.clear(); }
  WebRtcClient& peer(const std::string& id) { return *peers_.at(id); }
  const ReceiveCounter& received(const std::string& id) { return *peers_.at(id)->receiver(); }
  WsClient& ws() { return ws_; }
  const std::string& id() const { return id_; }
  void Drop(const std::string& id) { peers_.erase(id); }

private:
  std::string Connect(const WebRtcClient::Options& o, const char* method, json params, const char* idKey) {
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
    std::string id = ResultOf(r)[idKey];
    client->SetAnswer(ResultOf(r)["sdp"]);
    *sentId = id;
    for (const auto& [m, c] : *pending) ws_.Notify("media.candidate", {{"id", id}, {"candidate", c}, {"sdpMLineIndex", m}});
    peers_[id] = std::move(client);
    Pump();
    return id;
  }

  WsClient ws_;
  std::string name_;
  std::string id_;
  std::map<std::string, std::unique_ptr<WebRtcClient>> peers_;
};

// Iterates the main loop, handing each member its server candidates, until `done` or
// the timeout.
inline bool WaitPumping(const std::vector<Member*>& members, const std::function<bool()>& done, int timeoutMs = 15000) {
  return RunUntil(
      [&] {
        for (auto* m : members) m->Pump();
        return done();
      },
      timeoutMs);
}

// The params of the first notification `method` to `m` that `pred` accepts (others of that
// method are taken and dropped), pumping `members` meanwhile; nullopt at the timeout.
inline std::optional<json> WaitForNotification(Member& m, const std::string& method, const std::vector<Member*>& members,
                                               const std::function<bool(const json&)>& pred = nullptr,
                                               int timeoutMs = 15000) {
  std::optional<json> found;
  WaitPumping(members, [&] {
    for (auto& n : m.ws().TakeNotifications(
             [&](const json& j) { return j["method"] == method && (!pred || pred(j["params"])); }))
      if (!found) found = n["params"];
    return found.has_value();
  }, timeoutMs);
  return found;
}

}  // namespace atrium::test
