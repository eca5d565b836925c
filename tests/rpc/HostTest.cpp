// Meeting controls against a real atriumd: host moderation (mute, video off, kick, hosts),
// hands, names, self-reported media state, conference.info, the one screen share per room,
// and link quality (conference.stats, linkSlow). Every method is called by a host and by a
// participant who is not one; where media is involved the clients are real webrtcbin peers
// over 127.0.0.1 and the checks are what a user would notice (sound level, decoded frames).
#include "tests/media/WebRtcClient.hpp"
#include "tests/rpc/Harness.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>

namespace atrium::test {
namespace {

constexpr const char* kUserPassword = "member-password-1";

// One participant: its WebSocket session and the WebRTC peers it runs, by stream/play id.
class Member {
public:
  Member(const DaemonProcess& daemon, const std::string& name) : ws_(daemon.wsUrl()), name_(name) {}

  json Login(const std::string& account, const std::string& password) {
    return ws_.Call("auth.login", {{"account", account}, {"password", password}});
  }
  json Join(int64_t roomId) {
    json r = ws_.Call("conference.join", {{"roomId", roomId}, {"displayName", name_}});
    if (ErrorCodeOf(r) == 0) id_ = ResultOf(r)["participant"]["id"];
    return r;
  }
  json Call(const std::string& method, const json& params = json::object()) { return ws_.Call(method, params); }

  // Publishes test sources; returns the streamId (throws with the reply on an error).
  std::string Publish(WebRtcClient::Options o = {}, json params = {{"kind", "camera"}}) {
    o.role = WebRtcClient::Role::Publisher;
    return Connect(o, "media.publish", params, "streamId");
  }
  std::string Play(const std::string& streamId) {
    WebRtcClient::Options o;
    o.role = WebRtcClient::Role::Player;
    return Connect(o, "media.play", {{"streamId", streamId}}, "playId");
  }
  // The reply to a publish offer, without keeping a peer.
  json TryPublish(json params) {
    WebRtcClient::Options o;
    o.audio = false;
    WebRtcClient c(o);
    params["sdp"] = c.CreateOffer();
    return ws_.Call("media.publish", params);
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

class HostTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    daemon_ = new DaemonProcess(dir_->path(),
                                "[ice]\naddresses = 127.0.0.1\n"
                                "[conference]\nstats-interval = 1\nslow-link-loss = 5\n");
    HttpClient http(daemon_->url());
    token_ = ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}))["token"];
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }

  int64_t CreateRoom(const std::string& name = "meeting") {
    HttpClient http(daemon_->url());
    return ResultOf(http.Call("room.create", {{"name", name}, {"isPublic", true}}, token_))["roomId"];
  }
  // A signed-in host (the administrator) in `room`.
  std::unique_ptr<Member> Host(int64_t room) {
    auto m = std::make_unique<Member>(*daemon_, "host");
    EXPECT_EQ(ErrorCodeOf(m->Login("admin", DaemonProcess::kAdminPassword)), 0);
    json r = m->Join(room);
    EXPECT_EQ(ResultOf(r)["participant"]["role"], "host");
    return m;
  }
  // A signed-in user who is not a host of `room` (role attendee).
  std::unique_ptr<Member> Attendee(int64_t room, const std::string& account) {
    HttpClient http(daemon_->url());
    http.Call("user.add", {{"account", account}, {"password", kUserPassword}}, token_);
    auto m = std::make_unique<Member>(*daemon_, account);
    EXPECT_EQ(ErrorCodeOf(m->Login(account, kUserPassword)), 0);
    json r = m->Join(room);
    EXPECT_EQ(ResultOf(r)["participant"]["role"], "attendee") << r.dump();
    return m;
  }
  std::unique_ptr<Member> Guest(int64_t room, const std::string& name) {
    auto m = std::make_unique<Member>(*daemon_, name);
    EXPECT_EQ(ErrorCodeOf(m->Join(room)), 0);
    return m;
  }

  // Iterates the main loop, pumping candidates, until `done` or the timeout.
  static bool Wait(std::vector<Member*> members, const std::function<bool()>& done, int timeoutMs = 15000) {
    return RunUntil(
        [&] {
          for (auto* m : members) m->Pump();
          return done();
        },
        timeoutMs);
  }
  // Waits for a notification whose params match `pred`, pumping candidates meanwhile.
  static std::optional<json> WaitFor(Member& m, const std::string& method, std::vector<Member*> pump,
                                     const std::function<bool(const json&)>& pred = nullptr, int timeoutMs = 15000) {
    std::optional<json> found;
    Wait(
        pump,
        [&] {
          for (auto& n : m.ws().TakeNotifications([&](const json& j) {
                 return j["method"] == method && (!pred || pred(j["params"]));
               }))
            if (!found) found = n["params"];
          return found.has_value();
        },
        timeoutMs);
    return found;
  }

  // Waits (up to 10 s) until no player has decoded an audible audio buffer for a second.
  static bool Quiet(std::vector<Member*> members, std::vector<WebRtcClient*> players) {
    auto count = [&] {
      uint64_t n = 0;
      for (auto* p : players) n += p->audibleAudioBuffers();
      return n;
    };
    uint64_t last = count();
    gint64 since = g_get_monotonic_time();
    return Wait(
        members,
        [&] {
          if (uint64_t n = count(); n != last) {
            last = n;
            since = g_get_monotonic_time();
          }
          return g_get_monotonic_time() - since > G_USEC_PER_SEC;
        },
        10000);
  }

  static TempDir* dir_;
  static DaemonProcess* daemon_;
  static std::string token_;
};

TempDir* HostTest::dir_ = nullptr;
DaemonProcess* HostTest::daemon_ = nullptr;
std::string HostTest::token_;

TEST_F(HostTest, HostMuteSilencesTheParticipantAtTheOthersAndVideoOffFreezesIt) {
  int64_t room = CreateRoom();
  auto host = Host(room);
  auto speaker = Attendee(room, "speaker1");
  auto viewer = Guest(room, "viewer");
  std::vector<Member*> all = {host.get(), speaker.get(), viewer.get()};
  std::string stream = speaker->Publish();
  std::string hostPlay = host->Play(stream), viewerPlay = viewer->Play(stream);
  WebRtcClient& atHost = host->peer(hostPlay);
  WebRtcClient& atViewer = viewer->peer(viewerPlay);
  ASSERT_TRUE(Wait(all, [&] {
    return atHost.audibleAudioBuffers() > 25 && atViewer.audibleAudioBuffers() > 25 && atViewer.framesDecoded() > 10;
  })) << "audible " << atHost.audibleAudioBuffers() << "/" << atViewer.audibleAudioBuffers();
  EXPECT_GT(atViewer.audioLevelDb(), -20.0);  // the test tone is loud

  // Only a host may mute.
  json refused = viewer->Call("host.mute", {{"participantId", speaker->id()}, {"muted", true}});
  EXPECT_EQ(ErrorCodeOf(refused), -32002);
  ASSERT_EQ(ErrorCodeOf(host->Call("host.mute", {{"participantId", speaker->id()}, {"muted", true}})), 0);
  auto note = WaitFor(*speaker, "muted", all);
  ASSERT_TRUE(note);
  EXPECT_EQ((*note)["participantId"], speaker->id());
  EXPECT_EQ((*note)["muted"], true);
  EXPECT_EQ((*note)["allowUnmute"], false);
  ASSERT_TRUE(WaitFor(*viewer, "muted", all));

  // The speaker's client keeps sending; once what was already on its way has played out,
  // the others hear nothing while its video goes on.
  ASSERT_TRUE(Quiet(all, {&atHost, &atViewer}));
  uint64_t audibleHost = atHost.audibleAudioBuffers(), audibleViewer = atViewer.audibleAudioBuffers();
  uint64_t frames = atViewer.framesDecoded();
  Wait(all, [] { return false; }, 2500);
  EXPECT_EQ(atHost.audibleAudioBuffers(), audibleHost);
  EXPECT_EQ(atViewer.audibleAudioBuffers(), audibleViewer);
  EXPECT_GT(atViewer.framesDecoded(), frames + 20);

  // The speaker cannot unmute itself unless the host allows it.
  json self = speaker->Call("conference.updateMedia", {{"audio", true}});
  EXPECT_EQ(ErrorCodeOf(self), -32002);
  EXPECT_EQ(self["error"]["data"]["muted"], true);
  ASSERT_EQ(ErrorCodeOf(host->Call("host.mute", {{"participantId", speaker->id()}, {"muted", false}})), 0);
  uint64_t before = atViewer.audibleAudioBuffers();
  EXPECT_TRUE(Wait(all, [&] { return atViewer.audibleAudioBuffers() > before + 25; }));

  // Video off: frames stop at everyone, sound goes on; the host lets the speaker turn it back on.
  EXPECT_EQ(ErrorCodeOf(viewer->Call("host.disableVideo", {{"participantId", speaker->id()}, {"disabled", true}})), -32002);
  ASSERT_EQ(ErrorCodeOf(host->Call("host.disableVideo",
                                   {{"participantId", speaker->id()}, {"disabled", true}, {"allowEnable", true}})),
            0);
  auto off = WaitFor(*viewer, "videoDisabled", all);
  ASSERT_TRUE(off);
  EXPECT_EQ((*off)["disabled"], true);
  EXPECT_EQ((*off)["allowEnable"], true);
  Wait(all, [] { return false; }, 800);
  frames = atViewer.framesDecoded();
  before = atViewer.audibleAudioBuffers();
  Wait(all, [] { return false; }, 2000);
  EXPECT_LE(atViewer.framesDecoded(), frames + 1);
  EXPECT_GT(atViewer.audibleAudioBuffers(), before + 25);
  ASSERT_EQ(ErrorCodeOf(speaker->Call("conference.updateMedia", {{"video", true}})), 0);
  EXPECT_TRUE(Wait(all, [&] { return atViewer.framesDecoded() > frames + 15 && atHost.framesDecoded() > 15; }));
}

TEST_F(HostTest, KickClosesThePeersAndTheParticipantCannotRejoinUnlessAllowed) {
  int64_t room = CreateRoom();
  auto host = Host(room);
  auto bob = Attendee(room, "bob1");
  auto viewer = Guest(room, "viewer");
  std::vector<Member*> all = {host.get(), bob.get(), viewer.get()};
  std::string stream = bob->Publish();
  std::string play = viewer->Play(stream);
  std::string bobPlay = bob->Play(viewer->Publish());
  ASSERT_TRUE(Wait(all, [&] { return viewer->peer(play).framesDecoded() > 10 && bob->peer(bobPlay).framesDecoded() > 10; }));

  EXPECT_EQ(ErrorCodeOf(viewer->Call("host.kick", {{"participantId", bob->id()}})), -32002);
  EXPECT_EQ(ErrorCodeOf(host->Call("host.kick", {{"participantId", "u0-000000"}})), -32003);
  EXPECT_EQ(ErrorCodeOf(host->Call("host.kick", {{"participantId", host->id()}})), -32602);
  std::string bobId = bob->id();
  ASSERT_EQ(ErrorCodeOf(host->Call("host.kick", {{"participantId", bobId}})), 0);
  auto kicked = WaitFor(*bob, "kicked", all);
  ASSERT_TRUE(kicked);
  EXPECT_EQ((*kicked)["participantId"], bobId);
  auto left = WaitFor(*viewer, "participantLeft", all);
  ASSERT_TRUE(left);
  EXPECT_EQ((*left)["participantId"], bobId);
  EXPECT_TRUE(WaitFor(*host, "streamUnpublished", all, [&](const json& p) { return p["streamId"] == stream; }));

  // Its peers are closed: what it published and what it played stop.
  Wait(all, [] { return false; }, 800);
  uint64_t frames = viewer->peer(play).framesDecoded(), bobFrames = bob->peer(bobPlay).framesDecoded();
  Wait(all, [] { return false; }, 1500);
  EXPECT_LE(viewer->peer(play).framesDecoded(), frames + 1);
  EXPECT_LE(bob->peer(bobPlay).framesDecoded(), bobFrames + 1);
  EXPECT_EQ(ErrorCodeOf(bob->Call("media.publish", {{"sdp", "v=0\r\n"}})), -32010);
  EXPECT_EQ(ErrorCodeOf(bob->Call("conference.info")), -32010);

  // It cannot come back, on this connection or another, until the host allows it.
  json again = bob->Join(room);
  EXPECT_EQ(ErrorCodeOf(again), -32002);
  EXPECT_EQ(again["error"]["data"]["kicked"], true);
  Member bob2(*daemon_, "bob1");
  ASSERT_EQ(ErrorCodeOf(bob2.Login("bob1", kUserPassword)), 0);
  EXPECT_EQ(ErrorCodeOf(bob2.Join(room)), -32002);
  json info = ResultOf(host->Call("conference.info"));
  ASSERT_EQ(info["kicked"].size(), 1u);
  EXPECT_EQ(info["kicked"][0]["participantId"], bobId);
  EXPECT_EQ(info["kicked"][0]["allowRejoin"], false);
  EXPECT_FALSE(ResultOf(viewer->Call("conference.info")).contains("kicked"));  // hosts only
  EXPECT_EQ(ErrorCodeOf(viewer->Call("host.allowRejoin", {{"participantId", bobId}})), -32002);
  EXPECT_EQ(ErrorCodeOf(host->Call("host.allowRejoin", {{"participantId", "u0-000000"}})), -32003);
  ASSERT_EQ(ErrorCodeOf(host->Call("host.allowRejoin", {{"participantId", bobId}})), 0);
  EXPECT_EQ(ErrorCodeOf(bob->Join(room)), 0);
  EXPECT_EQ(ResultOf(host->Call("conference.info"))["participants"].size(), 3u);
}

TEST_F(HostTest, OneScreenShareAtATimeAndAHostMayTakeItOver) {
  int64_t room = CreateRoom();
  auto host = Host(room);
  auto ann = Guest(room, "ann");
  auto ben = Guest(room, "ben");
  std::vector<Member*> all = {host.get(), ann.get(), ben.get()};
  WebRtcClient::Options screen;
  screen.audio = false;
  std::string share = ann->Publish(screen, {{"kind", "screen"}});
  auto on = WaitFor(*ben, "screenShare", all);
  ASSERT_TRUE(on);
  EXPECT_EQ((*on)["participantId"], ann->id());
  EXPECT_EQ((*on)["streamId"], share);
  EXPECT_EQ((*on)["active"], true);
  EXPECT_EQ(ResultOf(ben->Call("conference.info"))["screenShare"]["streamId"], share);

  // A second share is refused, a non-host cannot take it over; cameras are not limited.
  json second = ben->TryPublish({{"kind", "screen"}});
  EXPECT_EQ(ErrorCodeOf(second), -32004);
  EXPECT_EQ(second["error"]["data"]["screenShare"]["streamId"], share);
  EXPECT_EQ(ErrorCodeOf(ben->TryPublish({{"kind", "screen"}, {"takeOver", true}})), -32004);
  EXPECT_EQ(ErrorCodeOf(host->TryPublish({{"kind", "screen"}})), -32004);
  EXPECT_NO_THROW(ben->Publish(screen));
  std::string play = ben->Play(share);
  ASSERT_TRUE(Wait(all, [&] { return ben->peer(play).framesDecoded() > 5; }));

  // The host takes it over: ann's share ends, the host's is live.
  std::string hostShare = host->Publish(screen, {{"kind", "screen"}, {"takeOver", true}});
  EXPECT_TRUE(WaitFor(*ann, "streamUnpublished", all, [&](const json& p) { return p["streamId"] == share; }));
  auto off = WaitFor(*ben, "screenShare", all, [&](const json& p) { return p["streamId"] == share; });
  ASSERT_TRUE(off);
  EXPECT_EQ((*off)["active"], false);
  auto taken = WaitFor(*ben, "screenShare", all, [&](const json& p) { return p["streamId"] == hostShare; });
  ASSERT_TRUE(taken);
  EXPECT_EQ((*taken)["active"], true);
  EXPECT_EQ((*taken)["participantId"], host->id());
  EXPECT_EQ(ResultOf(ann->Call("conference.info"))["screenShare"]["participantId"], host->id());
  // Unpublished, the slot is free again.
  ASSERT_EQ(ErrorCodeOf(host->Call("media.unpublish", {{"streamId", hostShare}})), 0);
  EXPECT_TRUE(ResultOf(ann->Call("conference.info"))["screenShare"].is_null());
  EXPECT_NO_THROW(ann->Publish(screen, {{"kind", "screen"}}));
}

TEST_F(HostTest, ControlsForHostsAndForEveryone) {
  int64_t room = CreateRoom("weekly");
  auto host = Host(room);
  auto amy = Attendee(room, "amy1");
  auto gus = Guest(room, "gus");
  std::vector<Member*> all = {host.get(), amy.get(), gus.get()};
  auto drain = [&] {
    RunUntil([] { return false; }, 100);
    for (auto* m : all) m->ws().TakeNotifications([](const json&) { return true; });
  };
  drain();

  // Hands: one's own, or anyone's for a host.
  ASSERT_EQ(ErrorCodeOf(amy->Call("conference.raiseHand", {{"raised", true}})), 0);
  auto hand = WaitFor(*host, "handRaised", all);
  ASSERT_TRUE(hand);
  EXPECT_EQ((*hand)["participantId"], amy->id());
  EXPECT_EQ((*hand)["raised"], true);
  EXPECT_EQ(ErrorCodeOf(gus->Call("conference.raiseHand", {{"raised", false}, {"participantId", amy->id()}})), -32002);
  EXPECT_EQ(ErrorCodeOf(host->Call("conference.raiseHand", {{"raised", false}, {"participantId", amy->id()}})), 0);
  EXPECT_EQ(ErrorCodeOf(amy->Call("conference.raiseHand")), -32602);

  // Names: one's own, or anyone's for a host; the meeting's, hosts only, stored.
  ASSERT_EQ(ErrorCodeOf(gus->Call("conference.renameParticipant", {{"name", "Gus G."}})), 0);
  auto renamed = WaitFor(*amy, "participantUpdated", all, [&](const json& p) { return p["participant"]["id"] == gus->id(); });
  ASSERT_TRUE(renamed);
  EXPECT_EQ((*renamed)["participant"]["name"], "Gus G.");
  EXPECT_EQ(ErrorCodeOf(gus->Call("conference.renameParticipant", {{"participantId", amy->id()}, {"name", "x"}})), -32002);
  EXPECT_EQ(ErrorCodeOf(host->Call("conference.renameParticipant", {{"participantId", amy->id()}, {"name", "Amy"}})), 0);
  EXPECT_EQ(ErrorCodeOf(host->Call("conference.renameParticipant", {{"name", ""}})), -32602);
  EXPECT_EQ(ErrorCodeOf(amy->Call("conference.rename", {{"name", "mine now"}})), -32002);
  ASSERT_EQ(ErrorCodeOf(host->Call("conference.rename", {{"name", "Weekly review"}})), 0);
  auto meeting = WaitFor(*gus, "meetingUpdated", all);
  ASSERT_TRUE(meeting);
  EXPECT_EQ((*meeting)["name"], "Weekly review");
  HttpClient http(daemon_->url());
  EXPECT_EQ(ResultOf(http.Call("room.get", {{"roomId", room}}, token_))["room"]["name"], "Weekly review");

  // Own mic/camera state, shown to the others.
  EXPECT_EQ(ErrorCodeOf(gus->Call("conference.updateMedia")), -32602);
  EXPECT_EQ(ErrorCodeOf(gus->Call("conference.updateMedia", {{"video", "off"}})), -32602);
  ASSERT_EQ(ErrorCodeOf(gus->Call("conference.updateMedia", {{"video", false}})), 0);
  auto media = WaitFor(*host, "participantUpdated", all, [&](const json& p) { return p["participant"]["video"] == false; });
  ASSERT_TRUE(media);
  EXPECT_EQ((*media)["participant"]["audio"], true);

  // conference.info: everyone, with states, hosts and elapsed time.
  json info = ResultOf(gus->Call("conference.info"));
  EXPECT_EQ(info["name"], "Weekly review");
  EXPECT_EQ(info["participants"].size(), 3u);
  EXPECT_EQ(info["hosts"], json::array({host->id()}));
  EXPECT_GE(info["elapsed"].get<int64_t>(), 0);
  EXPECT_GT(info["startedAt"].get<int64_t>(), 0);
  EXPECT_EQ(info["participantId"], gus->id());
  for (const auto& p : info["participants"])
    if (p["id"] == gus->id()) {
      EXPECT_EQ(p["video"], false);
    }

  // Mute all: hosts stay open; without allowUnmute nobody unmutes; late joiners start muted.
  EXPECT_EQ(ErrorCodeOf(amy->Call("host.muteAll", {{"muted", true}})), -32002);
  ASSERT_EQ(ErrorCodeOf(host->Call("host.muteAll", {{"muted", true}})), 0);
  auto all1 = WaitFor(*gus, "mutedAll", all);
  ASSERT_TRUE(all1);
  EXPECT_EQ((*all1)["allowUnmute"], false);
  EXPECT_EQ(ErrorCodeOf(amy->Call("conference.updateMedia", {{"audio", true}})), -32002);
  auto late = Guest(room, "late");
  info = ResultOf(host->Call("conference.info"));
  EXPECT_EQ(info["allMuted"], true);
  for (const auto& p : info["participants"]) {
    bool shouldBeMuted = p["role"].get<std::string>() != "host";
    EXPECT_EQ(p["muted"].get<bool>(), shouldBeMuted) << p.dump();
  }
  ASSERT_EQ(ErrorCodeOf(host->Call("host.muteAll", {{"muted", true}, {"allowUnmute", true}})), 0);
  ASSERT_EQ(ErrorCodeOf(amy->Call("conference.updateMedia", {{"audio", true}})), 0);
  auto unmuted = WaitFor(*host, "muted", all, [&](const json& p) { return p["participantId"] == amy->id(); });
  ASSERT_TRUE(unmuted);
  EXPECT_EQ((*unmuted)["muted"], false);
  ASSERT_EQ(ErrorCodeOf(host->Call("host.muteAll", {{"muted", false}})), 0);
  EXPECT_EQ(ResultOf(host->Call("conference.info"))["allMuted"], false);

  // Hosts: a host adds one, or hands over and stops being one.
  EXPECT_EQ(ErrorCodeOf(amy->Call("host.setHost", {{"participantId", amy->id()}})), -32002);
  ASSERT_EQ(ErrorCodeOf(host->Call("host.setHost", {{"participantId", amy->id()}, {"handOver", true}})), 0);
  auto promoted = WaitFor(*gus, "participantUpdated", all, [&](const json& p) {
    return p["participant"]["id"] == amy->id() && p["participant"]["role"] == "host";
  });
  ASSERT_TRUE(promoted);
  EXPECT_EQ((*promoted)["participant"]["role"], "host");
  EXPECT_EQ(ResultOf(gus->Call("conference.info"))["hosts"], json::array({amy->id()}));
  EXPECT_EQ(ErrorCodeOf(host->Call("host.mute", {{"participantId", gus->id()}, {"muted", true}})), -32002);
  EXPECT_EQ(ErrorCodeOf(amy->Call("host.mute", {{"participantId", gus->id()}, {"muted", true}})), 0);
  EXPECT_EQ(ErrorCodeOf(amy->Call("host.setHost", {{"participantId", host->id()}})), 0);
  EXPECT_EQ(ResultOf(gus->Call("conference.info"))["hosts"].size(), 2u);

  // Bad input, wrong transport, not joined.
  EXPECT_EQ(ErrorCodeOf(amy->Call("host.mute", {{"participantId", gus->id()}})), -32602);
  EXPECT_EQ(ErrorCodeOf(amy->Call("host.mute", {{"muted", true}})), -32602);
  EXPECT_EQ(ErrorCodeOf(amy->Call("host.mute", {{"participantId", "nobody"}, {"muted", true}})), -32003);
  EXPECT_EQ(ErrorCodeOf(amy->Call("host.disableVideo", {{"participantId", gus->id()}, {"disabled", 1}})), -32602);
  EXPECT_EQ(ErrorCodeOf(http.Call("host.mute", {{"participantId", gus->id()}, {"muted", true}}, token_)), -32600);
  EXPECT_EQ(ErrorCodeOf(http.Call("conference.info", json::object(), token_)), -32600);
  Member outsider(*daemon_, "outsider");
  for (const char* method : {"host.mute", "host.muteAll", "host.disableVideo", "host.kick", "host.allowRejoin",
                             "host.setHost", "conference.raiseHand", "conference.rename", "conference.renameParticipant",
                             "conference.updateMedia", "conference.info", "conference.stats"})
    EXPECT_EQ(ErrorCodeOf(outsider.Call(method, {{"participantId", gus->id()}, {"muted", true}})), -32010) << method;
  // Every host method refused to a participant who is not a host.
  for (const char* method : {"host.mute", "host.muteAll", "host.disableVideo", "host.kick", "host.allowRejoin",
                             "host.setHost", "conference.rename"})
    EXPECT_EQ(ErrorCodeOf(gus->Call(method, {{"participantId", amy->id()}, {"muted", true}, {"disabled", true},
                                             {"name", "n"}})),
              -32002)
        << method;
}

TEST_F(HostTest, LinkQualityStatsAndASlowUplink) {
  int64_t room = CreateRoom();
  auto host = Host(room);
  auto lossy = Guest(room, "lossy");
  auto clean = Guest(room, "clean");
  std::vector<Member*> all = {host.get(), lossy.get(), clean.get()};
  WebRtcClient::Options small;
  small.width = 160;
  small.height = 120;
  std::string bad = lossy->Publish(small), good = clean->Publish(small);
  std::string playBad = host->Play(bad), playGood = host->Play(good);
  ASSERT_TRUE(Wait(all, [&] { return host->peer(playBad).framesDecoded() > 10 && host->peer(playGood).framesDecoded() > 10; }));

  // 1 packet in 4 lost on the way up (25 % of the video, well over slow-link-loss = 5).
  lossy->peer(bad).SetVideoLoss(4);
  auto slow = WaitFor(*clean, "linkSlow", all, [&](const json& p) { return p["id"] == bad && p["slow"] == true; }, 20000);
  ASSERT_TRUE(slow);
  EXPECT_EQ((*slow)["participantId"], lossy->id());
  EXPECT_EQ((*slow)["direction"], "up");
  EXPECT_EQ((*slow)["code"], 1001);
  EXPECT_GE((*slow)["loss"].get<double>(), 0.05);

  // conference.stats: the host sees every stream and play, others their own plays. A
  // bitrate is measured over two polls or more, so a play that connected within the last
  // poll reads 0 for a moment: ask again until every link has been measured.
  auto measured = [](const json& link) {
    for (const auto& t : link["tracks"])
      if (t["bitrate"].get<int64_t>() == 0) return false;
    return !link["tracks"].empty();
  };
  json stats;
  gint64 askedAt = 0;
  Wait(all, [&] {
    if (g_get_monotonic_time() - askedAt < 250000) return false;
    askedAt = g_get_monotonic_time();
    stats = ResultOf(host->Call("conference.stats"));
    if (stats["plays"].size() != 2 || stats["streams"].size() != 2) return false;
    for (const auto& l : stats["plays"])
      if (!measured(l)) return false;
    for (const auto& l : stats["streams"])
      if (l["streamId"] == good && !measured(l)) return false;
    return true;
  }, 10000);
  EXPECT_EQ(stats["interval"], 1);
  EXPECT_EQ(stats["thresholds"]["lossPercent"], 5);
  std::map<std::string, json> streams;
  for (const auto& s : stats["streams"]) streams[s["streamId"]] = s;
  ASSERT_TRUE(streams.count(bad) && streams.count(good)) << stats.dump();
  EXPECT_EQ(streams[bad]["slow"], true);
  EXPECT_EQ(streams[good]["slow"], false);
  ASSERT_EQ(streams[bad]["tracks"].size(), 2u);
  for (const auto& t : streams[bad]["tracks"]) {
    if (t["kind"] == "video") {
      EXPECT_GE(t["loss"].get<double>(), 0.05) << t.dump();  // what was dropped
    } else {
      EXPECT_LT(t["loss"].get<double>(), 0.05) << t.dump();  // audio: untouched
    }
  }
  for (const auto& t : streams[good]["tracks"]) {
    EXPECT_GT(t["bitrate"].get<int64_t>(), 1000) << t.dump();
    EXPECT_LT(t["loss"].get<double>(), 0.05) << t.dump();
  }
  ASSERT_EQ(stats["plays"].size(), 2u) << stats.dump();
  for (const auto& p : stats["plays"]) {
    EXPECT_EQ(p["direction"], "down");
    EXPECT_EQ(p["participantId"], host->id());
    for (const auto& t : p["tracks"]) EXPECT_GT(t["bitrate"].get<int64_t>(), 1000) << p.dump();
  }
  json mine = ResultOf(clean->Call("conference.stats"));
  EXPECT_EQ(mine["streams"].size(), 2u);
  EXPECT_EQ(mine["plays"].size(), 0u);
  RecordProperty("lossy_stream_stats", streams[bad].dump());

  // The loss ends: the link recovers.
  lossy->peer(bad).SetVideoLoss(0);
  auto recovered =
      WaitFor(*host, "linkSlow", all, [&](const json& p) { return p["id"] == bad && p["slow"] == false; }, 20000);
  ASSERT_TRUE(recovered);
  EXPECT_EQ((*recovered)["code"], 1001);
}

}  // namespace
}  // namespace atrium::test
