// Simulcast and the voice-activated stream in SFU rooms against a real atriumd: a
// webrtcbin publisher sends three encodings with rids (as browsers do), subscribers pick
// their layer and decode its size; a layer that stops is replaced by the next one down
// and comes back; the "speaker" play follows whoever speaks; videoMax caps plays.
#include "tests/media/ReceiveCounter.hpp"
#include "tests/media/WebRtcClient.hpp"
#include "tests/rpc/ConferenceMember.hpp"
#include "tests/rpc/DaemonSuite.hpp"
#include "tests/rpc/Harness.hpp"

#include <gtest/gtest.h>

namespace atrium::test {
namespace {

class SimulcastTest : public DaemonSuite {
protected:
  static void SetUpTestSuite() { StartDaemon("[ice]\naddresses = 127.0.0.1\n"); }
  int64_t CreateRoom() { return Ok(AdminCall("room.create", {{"name", "simulcast"}, {"isPublic", true}}))["roomId"]; }
  static bool Wait(const std::vector<Member*>& members, const std::function<bool()>& done, int timeoutMs = 15000) {
    return WaitPumping(members, done, timeoutMs);
  }
  static std::optional<json> WaitFor(Member& m, const std::string& method, const std::vector<Member*>& pump,
                                     const std::function<bool(const json&)>& pred, int timeoutMs = 15000) {
    return WaitForNotification(m, method, pump, pred, timeoutMs);
  }
};

TEST_F(SimulcastTest, SubscribersChooseTheirLayerAndFallBackWhenItStops) {
  int64_t room = CreateRoom();
  Member pub(*daemon_, "camera"), v0(*daemon_, "small"), v1(*daemon_, "medium"), v2(*daemon_, "large");
  std::vector<Member*> all = {&pub, &v0, &v1, &v2};
  for (auto* m : all) ASSERT_EQ(ErrorCodeOf(m->Join(room)), 0);
  WebRtcClient::Options o;
  o.width = 640;
  o.height = 480;
  o.fps = 15;
  o.keyframeMaxDist = 30;
  o.simulcastRids = {"q", "h", "f"};
  std::string stream = pub.Publish(o);
  auto published = WaitFor(v0, "streamPublished", all, [&](const json& p) { return p["streamId"] == stream; });
  ASSERT_TRUE(published);
  EXPECT_EQ((*published)["layers"], json::array({"q", "h", "f"}));

  std::vector<std::pair<Member*, std::string>> plays = {{&v0, v0.Play(stream)}, {&v1, v1.Play(stream)},
                                                        {&v2, v2.Play(stream)}};
  const int widths[] = {160, 320, 640};
  for (int i = 0; i < 3; ++i) {
    json r = plays[i].first->ws().Call("media.setLayer", {{"playId", plays[i].second}, {"layer", i}});
    ASSERT_EQ(ErrorCodeOf(r), 0) << r.dump();
    EXPECT_EQ(ResultOf(r)["layer"], i);
  }
  auto widthOf = [&](int i) { return plays[i].first->received(plays[i].second).frameWidth(); };
  bool sized = Wait(all, [&] {
    for (int i = 0; i < 3; ++i)
      if (widthOf(i) != widths[i] || plays[i].first->peer(plays[i].second).framesDecoded() < 10) return false;
    return true;
  }, 20000);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(widthOf(i), widths[i]) << "layer " << i;
  ASSERT_TRUE(sized);

  // A switch mid-stream: the small viewer goes large, at a keyframe, and keeps decoding.
  Member& small = *plays[0].first;
  const std::string& smallPlay = plays[0].second;
  ASSERT_EQ(ErrorCodeOf(small.ws().Call("media.setLayer", {{"playId", smallPlay}, {"layer", 2}})), 0);
  auto changed = WaitFor(small, "layerChanged", all, [&](const json& p) { return p["playId"] == smallPlay && p["layer"] == 2; });
  ASSERT_TRUE(changed);
  EXPECT_EQ((*changed)["rid"], "f");
  EXPECT_EQ((*changed)["reason"], "target");
  uint64_t before = small.peer(smallPlay).framesDecoded();
  EXPECT_TRUE(Wait(all, [&] { return widthOf(0) == 640 && small.peer(smallPlay).framesDecoded() > before + 10; }));
  EXPECT_EQ(small.peer(smallPlay).lastError(), "");

  // The large layer stops arriving (a browser whose uplink got worse): its viewers get
  // the medium one, and the large one again when it is back.
  Member& large = *plays[2].first;
  const std::string& largePlay = plays[2].second;
  large.ws().TakeNotifications([](const json& j) { return j["method"] == "layerChanged"; });  // the first choice
  pub.peer(stream).SetLayerActive(2, false);
  auto fallback = WaitFor(large, "layerChanged", all, [&](const json& p) { return p["playId"] == largePlay; });
  ASSERT_TRUE(fallback);
  EXPECT_EQ((*fallback)["layer"], 1);
  EXPECT_EQ((*fallback)["reason"], "fallback");
  EXPECT_TRUE(Wait(all, [&] { return widthOf(2) == 320; }));
  pub.peer(stream).SetLayerActive(2, true);
  auto restored = WaitFor(large, "layerChanged", all, [&](const json& p) { return p["playId"] == largePlay; });
  ASSERT_TRUE(restored);
  EXPECT_EQ((*restored)["layer"], 2);
  EXPECT_EQ((*restored)["reason"], "restore");
  EXPECT_TRUE(Wait(all, [&] { return widthOf(2) == 640; }));

  // setLayerAll, and bad requests.
  json all0 = v1.ws().Call("media.setLayerAll", {{"layer", 0}});
  EXPECT_EQ(ResultOf(all0)["plays"], 1) << all0.dump();
  EXPECT_TRUE(Wait(all, [&] { return widthOf(1) == 160; }));
  EXPECT_EQ(ErrorCodeOf(v1.ws().Call("media.setLayer", {{"playId", plays[1].second}, {"layer", 3}})), -32602);
  EXPECT_EQ(ErrorCodeOf(v1.ws().Call("media.setLayer", {{"playId", "p0-000000"}, {"layer", 1}})), -32003);
  EXPECT_EQ(ErrorCodeOf(v1.ws().Call("media.setLayer", {{"playId", smallPlay}, {"layer", 1}})), -32003);  // not its own
  WebRtcClient::Options plain;
  std::string single = v1.Publish(plain);
  std::string singlePlay = v0.Play(single);
  EXPECT_EQ(ErrorCodeOf(v0.ws().Call("media.setLayer", {{"playId", singlePlay}, {"layer", 1}})), -32004);
  // The layers are in the stats.
  json stats = ResultOf(pub.ws().Call("conference.stats"));
  for (const auto& st : stats["streams"])
    if (st["streamId"] == stream) {
      ASSERT_EQ(st["layers"].size(), 3u) << st.dump();
      for (const auto& l : st["layers"]) EXPECT_GT(l["packets"].get<int64_t>(), 0) << st.dump();
    }
}

TEST_F(SimulcastTest, TheSpeakerPlayFollowsWhoeverSpeaks) {
  int64_t room = CreateRoom();
  Member red(*daemon_, "red"), blue(*daemon_, "blue"), viewer(*daemon_, "viewer");
  std::vector<Member*> all = {&red, &blue, &viewer};
  for (auto* m : all) ASSERT_EQ(ErrorCodeOf(m->Join(room)), 0);
  WebRtcClient::Options r, b;
  r.pattern = "red";
  r.toneHz = 440;
  r.audioLevelExtension = true;  // as browsers: the level rides in each packet
  b.pattern = "blue";
  b.toneHz = 880;
  b.volume = 0;  // blue is silent first; its level is decoded on the server
  std::string redStream = red.Publish(r), blueStream = blue.Publish(b);
  std::string play = viewer.Play("speaker");
  auto colour = [&] { return viewer.received(play).ColourAt(0.5, 0.5); };
  ASSERT_TRUE(Wait(all, [&] { return colour() == "red"; }, 20000)) << colour();
  auto speaking = WaitFor(viewer, "speaking", all, [&](const json& p) { return p["participantId"] == red.id(); });
  EXPECT_TRUE(speaking);

  // Turns: blue speaks, red falls silent.
  red.peer(redStream).SetVolume(0);
  blue.peer(blueStream).SetVolume(0.8);
  gint64 turn = g_get_monotonic_time();
  auto switched = WaitFor(viewer, "speakerStream", all, [&](const json& p) { return p["streamId"] == blueStream; });
  ASSERT_TRUE(switched);
  EXPECT_EQ((*switched)["participantId"], blue.id());
  ASSERT_TRUE(Wait(all, [&] { return colour() == "blue"; }, 10000)) << colour();
  double seconds = double(g_get_monotonic_time() - turn) / 1e6;
  RecordProperty("speaker_switch_seconds", std::to_string(seconds));
  EXPECT_LT(seconds, 5.0);
  // And back.
  blue.peer(blueStream).SetVolume(0);
  red.peer(redStream).SetVolume(0.8);
  EXPECT_TRUE(Wait(all, [&] { return colour() == "red"; }, 10000)) << colour();
  EXPECT_EQ(viewer.peer(play).lastError(), "");
  // The speaker leaving: the play shows who is left.
  red.ws().Call("conference.leave");
  EXPECT_TRUE(Wait(all, [&] { return colour() == "blue"; }, 10000)) << colour();
}

TEST_F(SimulcastTest, VideoMaxReplacesTheOldestPlay) {
  int64_t room = CreateRoom();
  Member a(*daemon_, "a"), b(*daemon_, "b"), c(*daemon_, "c"), viewer(*daemon_, "viewer");
  std::vector<Member*> all = {&a, &b, &c, &viewer};
  for (auto* m : all) ASSERT_EQ(ErrorCodeOf(m->Join(room)), 0);
  std::string sa = a.Publish(), sb = b.Publish(), sc = c.Publish();
  ASSERT_EQ(ErrorCodeOf(viewer.ws().Call("conference.setVideoMax", {{"number", 2}})), 0);
  std::string pa = viewer.Play(sa), pb = viewer.Play(sb);
  std::string pc = viewer.Play(sc);  // the third: the oldest (a's) makes room
  auto stopped = WaitFor(viewer, "playStopped", all, [](const json&) { return true; });
  ASSERT_TRUE(stopped);
  EXPECT_EQ((*stopped)["playId"], pa);
  EXPECT_EQ((*stopped)["reason"], "videoMax");
  EXPECT_EQ(ErrorCodeOf(viewer.ws().Call("media.stop", {{"playId", pa}})), -32003);
  EXPECT_TRUE(Wait(all, [&] { return viewer.peer(pb).framesDecoded() > 10 && viewer.peer(pc).framesDecoded() > 10; }));
  // Lowering the cap stops the oldest at once.
  ASSERT_EQ(ErrorCodeOf(viewer.ws().Call("conference.setVideoMax", {{"number", 1}})), 0);
  stopped = WaitFor(viewer, "playStopped", all, [](const json&) { return true; });
  ASSERT_TRUE(stopped);
  EXPECT_EQ((*stopped)["playId"], pb);
  EXPECT_EQ(ErrorCodeOf(viewer.ws().Call("conference.setVideoMax", {{"number", -1}})), -32602);
}

}  // namespace
}  // namespace atrium::test
