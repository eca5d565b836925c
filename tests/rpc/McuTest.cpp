// MCU rooms against a real atriumd: webrtcbin clients publish distinct test patterns
// and tones, play the room's mix, and check what they decode: every pattern in its tile
// (pixel sampling), every other participant's tone and not their own (Goertzel).
// All ICE is pinned to 127.0.0.1.
#include "tests/media/ReceiveCounter.hpp"
#include "tests/media/WebRtcClient.hpp"
#include "tests/rpc/Harness.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <sstream>

namespace atrium::test {
namespace {

class Member {
public:
  Member(const DaemonProcess& daemon, const std::string& name) : ws_(daemon.wsUrl()), name_(name) {}

  json Login() { return ws_.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}); }
  json Join(int64_t roomId) {
    json r = ws_.Call("conference.join", {{"roomId", roomId}, {"displayName", name_}});
    if (ErrorCodeOf(r) == 0) id_ = ResultOf(r)["participant"]["id"];
    return r;
  }
  std::string Publish(WebRtcClient::Options o = {}, const char* kind = "camera") {
    o.role = WebRtcClient::Role::Publisher;
    return Connect(o, "media.publish", {{"kind", kind}}, "streamId");
  }
  std::string PlayMix() {
    WebRtcClient::Options o;
    o.role = WebRtcClient::Role::Player;
    return Connect(o, "media.play", {{"streamId", "mix"}}, "playId");
  }
  void Pump() {
    for (auto& n : ws_.TakeNotifications([this](const json& j) {
           return j["method"] == "media.candidate" && peers_.count(j["params"]["id"].get<std::string>());
         })) {
      const auto& p = n["params"];
      peers_.at(p["id"].get<std::string>())->AddRemoteCandidate(p["sdpMLineIndex"], p["candidate"]);
    }
  }
  WebRtcClient& peer(const std::string& id) { return *peers_.at(id); }
  const ReceiveCounter& received(const std::string& id) { return *peers_.at(id)->receiver(); }
  WsClient& ws() { return ws_; }
  const std::string& id() const { return id_; }

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

std::string ColourAt(const ReceiveCounter& r, double fx, double fy) { return r.ColourAt(fx, fy); }

class McuTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    daemon_ = new DaemonProcess(dir_->path(), "[ice]\naddresses = 127.0.0.1\n");
    HttpClient http(daemon_->url());
    token_ = ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}))["token"];
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }

  int64_t CreateRoom(json params) {
    HttpClient http(daemon_->url());
    params["name"] = "mcu";
    params["isPublic"] = true;
    return ResultOf(http.Call("room.create", params, token_))["roomId"];
  }
  bool Wait(std::vector<Member*> members, const std::function<bool()>& done, int timeoutMs = 30000) {
    return RunUntil(
        [&] {
          for (auto* m : members) m->Pump();
          return done();
        },
        timeoutMs);
  }

  static TempDir* dir_;
  static DaemonProcess* daemon_;
  static std::string token_;
};

TempDir* McuTest::dir_ = nullptr;
DaemonProcess* McuTest::daemon_ = nullptr;
std::string McuTest::token_;

TEST_F(McuTest, EachClientSeesEveryPatternAndHearsTheOthersButNotItself) {
  // 240p keeps the shared test machine in real time; the layout is the same at any size.
  int64_t room = CreateRoom({{"mode", "mcu"}, {"definition", "240p"}});
  Member a(*daemon_, "red"), b(*daemon_, "green"), c(*daemon_, "blue");
  std::vector<Member*> all = {&a, &b, &c};
  const std::map<Member*, std::pair<std::string, double>> source = {
      {&a, {"red", 440}}, {&b, {"green", 1250}}, {&c, {"blue", 2750}}};
  for (auto* m : all) ASSERT_EQ(ErrorCodeOf(m->Join(room)), 0);
  for (auto* m : all) {
    WebRtcClient::Options o;
    o.pattern = source.at(m).first;
    o.toneHz = source.at(m).second;
    o.volume = 0.25;
    m->Publish(o);
  }
  std::map<Member*, std::string> plays;
  for (auto* m : all) plays[m] = m->PlayMix();

  // Grid of three in join order: two on top, one centred below.
  const std::vector<std::pair<double, double>> centres = {{0.25, 0.25}, {0.75, 0.25}, {0.5, 0.75}};
  auto patternsOk = [&](Member* viewer) {
    const auto& r = viewer->received(plays[viewer]);
    for (size_t i = 0; i < all.size(); ++i)
      if (ColourAt(r, centres[i].first, centres[i].second) != source.at(all[i]).first) return false;
    return true;
  };
  auto tonesOk = [&](Member* listener) {
    const auto& r = listener->received(plays[listener]);
    for (auto* speaker : all) {
      double amp = r.ToneAmplitude(source.at(speaker).second);
      if (speaker == listener ? amp > 0.02 : amp < 0.05) return false;
    }
    return true;
  };
  bool ok = Wait(all, [&] {
    for (auto* m : all)
      if (m->peer(plays[m]).framesDecoded() < 30 || !patternsOk(m) || !tonesOk(m)) return false;
    return true;
  }, 60000);
  for (auto* m : all) {
    const auto& r = m->received(plays[m]);
    EXPECT_GE(m->peer(plays[m]).framesDecoded(), 30u) << source.at(m).first;
    for (size_t i = 0; i < all.size(); ++i)
      EXPECT_EQ(ColourAt(r, centres[i].first, centres[i].second), source.at(all[i]).first)
          << "viewer " << source.at(m).first << ", tile " << i;
    for (auto* speaker : all) {
      double amp = r.ToneAmplitude(source.at(speaker).second);
      if (speaker == m)
        EXPECT_LT(amp, 0.02) << source.at(m).first << " hears itself";
      else
        EXPECT_GT(amp, 0.05) << source.at(m).first << " does not hear " << source.at(speaker).first;
    }
  }
  EXPECT_TRUE(ok);

  // Everyone is sounding a tone: the mixer says who is speaking.
  auto speaking = a.ws().WaitNotification("speaking", 10000);
  ASSERT_TRUE(speaking);
  std::string who = (*speaking)["params"]["participantId"];
  EXPECT_TRUE(who == a.id() || who == b.id() || who == c.id()) << speaking->dump();
  EXPECT_GT((*speaking)["params"]["level"].get<double>(), -50.0);
}

TEST_F(McuTest, JoinLeaveAndLayoutChangesKeepTheMixFlowing) {
  int64_t room = CreateRoom({{"mode", "mcu"}, {"definition", "240p"}});
  Member host(*daemon_, "host");
  ASSERT_EQ(ErrorCodeOf(host.Login()), 0);
  ASSERT_EQ(ErrorCodeOf(host.Join(room)), 0);
  WebRtcClient::Options o;
  o.pattern = "red";
  host.Publish(o);
  std::string play = host.PlayMix();
  ASSERT_TRUE(Wait({&host}, [&] { return host.peer(play).framesDecoded() >= 20; }));

  auto guest = std::make_unique<Member>(*daemon_, "guest");
  ASSERT_EQ(ErrorCodeOf(guest->Join(room)), 0);
  o.pattern = "blue";
  guest->Publish(o);
  // Two tiles side by side: the guest's pattern shows up on the right.
  ASSERT_TRUE(Wait({&host, guest.get()}, [&] { return ColourAt(host.received(play), 0.75, 0.5) == "blue"; }))
      << ColourAt(host.received(play), 0.75, 0.5);

  // Custom layout: the guest fills the whole picture.
  json r = host.ws().Call("conference.setLayout",
                          {{"layout", "custom"},
                           {"tiles", {{{"participantId", guest->id()}, {"x", 0}, {"y", 0}, {"width", 1}, {"height", 1}}}}});
  ASSERT_EQ(ErrorCodeOf(r), 0) << r.dump();
  EXPECT_TRUE(host.ws().WaitNotification("layoutChanged"));
  EXPECT_TRUE(Wait({&host, guest.get()}, [&] { return ColourAt(host.received(play), 0.1, 0.2) == "blue"; }))
      << ColourAt(host.received(play), 0.1, 0.2);

  ASSERT_EQ(ErrorCodeOf(host.ws().Call("conference.setLayout", {{"layout", "grid"}})), 0);
  uint64_t before = host.peer(play).framesDecoded();
  guest.reset();  // leaves abruptly
  ASSERT_TRUE(host.ws().WaitNotification("participantLeft"));
  // The host alone again: its own tile fills the picture, frames keep coming. (The
  // largest gap between decoded frames is recorded, not asserted: it depends on the load.)
  EXPECT_TRUE(Wait({&host}, [&] {
    return ColourAt(host.received(play), 0.5, 0.5) == "red" && host.peer(play).framesDecoded() > before + 30;
  })) << ColourAt(host.received(play), 0.5, 0.5);
  RecordProperty("max_frame_gap_ms", std::to_string(host.peer(play).maxFrameGapUs() / 1000));
}

TEST_F(McuTest, AScreenShareSwitchesToPresentationAndBack) {
  int64_t room = CreateRoom({{"mode", "mcu"}, {"definition", "240p"}});
  Member host(*daemon_, "host"), guest(*daemon_, "presenter");
  ASSERT_EQ(ErrorCodeOf(host.Login()), 0);
  ASSERT_EQ(ErrorCodeOf(host.Join(room)), 0);
  ASSERT_EQ(ErrorCodeOf(guest.Join(room)), 0);
  WebRtcClient::Options o;
  o.pattern = "red";
  host.Publish(o);
  std::string play = host.PlayMix();
  ASSERT_TRUE(Wait({&host, &guest}, [&] { return host.peer(play).framesDecoded() >= 10; }));
  o.pattern = "blue";
  o.audio = false;
  std::string share = guest.Publish(o, "screen");
  auto changed = host.ws().WaitNotification("layoutChanged", 20000);
  ASSERT_TRUE(changed);
  EXPECT_EQ((*changed)["params"]["layout"], "presentation");
  // The share is the large tile: blue fills most of the picture.
  EXPECT_TRUE(Wait({&host, &guest}, [&] { return ColourAt(host.received(play), 0.4, 0.5) == "blue"; }))
      << ColourAt(host.received(play), 0.4, 0.5);
  ASSERT_EQ(ErrorCodeOf(guest.ws().Call("media.unpublish", {{"streamId", share}})), 0);
  changed = host.ws().WaitNotification("layoutChanged", 20000);
  ASSERT_TRUE(changed);
  EXPECT_EQ((*changed)["params"]["layout"], "grid");
}

TEST_F(McuTest, AParticipantWithoutVideoHasAPlaceholderTile) {
  int64_t room = CreateRoom({{"mode", "mcu"}, {"definition", "240p"}});
  Member a(*daemon_, "camera"), b(*daemon_, "voice only");
  ASSERT_EQ(ErrorCodeOf(a.Join(room)), 0);
  ASSERT_EQ(ErrorCodeOf(b.Join(room)), 0);
  WebRtcClient::Options o;
  o.pattern = "red";
  a.Publish(o);
  o.video = false;
  b.Publish(o);
  std::string play = a.PlayMix();
  // Two tiles side by side; the right one is the placeholder (dark slate, name in the
  // middle): sampled off its centre, away from the name.
  auto placeholder = [&] {
    int yuv[3];
    if (!a.received(play).SampleYuv(0.55, 0.35, yuv)) return false;
    return yuv[0] > 35 && yuv[0] < 80 && yuv[1] > 130 && yuv[1] < 150;
  };
  bool ok = Wait({&a, &b}, [&] { return ColourAt(a.received(play), 0.25, 0.5) == "red" && placeholder(); });
  EXPECT_TRUE(ok) << ColourAt(a.received(play), 0.25, 0.5) << " " << ColourAt(a.received(play), 0.55, 0.35);
}

TEST_F(McuTest, InvalidLayoutsAreRejected) {
  int64_t room = CreateRoom({{"mode", "mcu"}, {"definition", "240p"}});
  Member host(*daemon_, "host");
  ASSERT_EQ(ErrorCodeOf(host.Login()), 0);
  json joined = host.Join(room);
  ASSERT_EQ(ErrorCodeOf(joined), 0) << joined.dump();
  auto box = [&](json v) {
    json t = {{"participantId", host.id()}, {"x", 0.1}, {"y", 0.1}, {"width", 0.5}, {"height", 0.5}};
    for (auto& [k, val] : v.items()) t[k] = val;
    return json{{"layout", "custom"}, {"tiles", {t}}};
  };
  const std::vector<json> bad = {
      json::object(),
      {{"layout", "mosaic"}},
      {{"layout", 3}},
      {{"layout", "grid"}, {"tiles", json::array()}},
      {{"layout", "custom"}},
      {{"layout", "custom"}, {"tiles", json::array()}},
      box({{"participantId", "u999-000000"}}),
      box({{"width", -0.5}}),
      box({{"height", 0}}),
      box({{"x", "left"}}),
      box({{"y", nullptr}}),
      box({{"x", 1.5}}),
  };
  for (const auto& params : bad) {
    json r = host.ws().Call("conference.setLayout", params);
    EXPECT_EQ(ErrorCodeOf(r), -32602) << params.dump() << " → " << r.dump();
  }
  // Overlapping rectangles are the caller's business.
  json overlap = box({});
  EXPECT_EQ(ErrorCodeOf(host.ws().Call("conference.setLayout", overlap)), 0);
  EXPECT_EQ(ErrorCodeOf(host.ws().Call("server.ping")), 0);

  // An SFU room has no layout and no mix.
  int64_t sfu = CreateRoom({{"mode", "sfu"}});
  Member other(*daemon_, "other");
  ASSERT_EQ(ErrorCodeOf(other.Login()), 0);
  ASSERT_EQ(ErrorCodeOf(other.Join(sfu)), 0);
  EXPECT_EQ(ErrorCodeOf(other.ws().Call("conference.setLayout", {{"layout", "grid"}})), -32004);
}

}  // namespace
}  // namespace atrium::test
