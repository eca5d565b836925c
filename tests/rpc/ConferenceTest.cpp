// Live conferences in SFU mode against a real atriumd: webrtcbin clients in this process
// join over a WebSocket, publish VP8 + Opus, play each other's streams, and decode what
// the server forwards. All ICE is pinned to 127.0.0.1.
#include "tests/media/WebRtcClient.hpp"
#include "tests/rpc/ConferenceMember.hpp"
#include "tests/rpc/Harness.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>

namespace atrium::test {
namespace {

class ConferenceTest : public ::testing::Test {
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
    if (!params.contains("name")) params["name"] = "conference";
    return ResultOf(http.Call("room.create", params, token_))["roomId"];
  }

  // Iterates the main loop, pumping candidates, until `done` or the timeout.
  bool Wait(std::vector<Member*> members, const std::function<bool()>& done, int timeoutMs = 15000) {
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

TempDir* ConferenceTest::dir_ = nullptr;
DaemonProcess* ConferenceTest::daemon_ = nullptr;
std::string ConferenceTest::token_;

TEST_F(ConferenceTest, ThreeParticipantsEachDecodeTheOtherTwo) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member a(*daemon_, "alice"), b(*daemon_, "bob"), c(*daemon_, "carol");
  std::vector<Member*> all = {&a, &b, &c};
  ASSERT_EQ(ErrorCodeOf(a.Join(room)), 0);
  ASSERT_EQ(ErrorCodeOf(b.Join(room)), 0);
  json joinC = c.Join(room);
  ASSERT_EQ(ErrorCodeOf(joinC), 0) << joinC.dump();
  EXPECT_EQ(ResultOf(joinC)["participants"].size(), 2u);
  EXPECT_EQ(ResultOf(joinC)["participant"]["role"], "guest");
  ASSERT_TRUE(a.ws().WaitNotification("participantJoined"));

  std::map<Member*, std::string> streams;
  for (auto* m : all) streams[m] = m->Publish();
  ASSERT_TRUE(b.ws().WaitNotification("streamPublished"));
  std::vector<std::pair<Member*, std::string>> plays;
  for (auto* viewer : all)
    for (auto* other : all)
      if (viewer != other) plays.emplace_back(viewer, viewer->Play(streams[other]));

  bool ok = Wait(all, [&] {
    for (auto& [m, id] : plays)
      if (m->peer(id).framesDecoded() < 15 || m->peer(id).audioBuffersDecoded() < 15) return false;
    return true;
  });
  for (auto& [m, id] : plays)
    EXPECT_GE(m->peer(id).framesDecoded(), 15u) << "play " << id << " state " << int(m->peer(id).connectionState()) << " err " << m->peer(id).lastError();
  for (auto& [m, id] : plays) EXPECT_GE(m->peer(id).audioBuffersDecoded(), 15u) << "play " << id << " video " << m->peer(id).framesDecoded();
  EXPECT_TRUE(ok);

  // A late joiner sees everyone with their streams.
  Member d(*daemon_, "dave");
  json joinD = d.Join(room);
  ASSERT_EQ(ResultOf(joinD)["participants"].size(), 3u);
  for (const auto& p : ResultOf(joinD)["participants"]) EXPECT_EQ(p["streams"].size(), 1u) << p.dump();
}

TEST_F(ConferenceTest, InteropPayloadTypesFollowEachSubscribersOffer) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member pub(*daemon_, "chromium-like"), sub(*daemon_, "aiortc-like");
  ASSERT_EQ(ErrorCodeOf(pub.Join(room)), 0);
  ASSERT_EQ(ErrorCodeOf(sub.Join(room)), 0);
  std::string stream = pub.Publish();  // VP8 96, Opus 111
  WebRtcClient::Options o;
  o.videoPt = 97;
  o.audioPt = 96;
  std::string play = sub.Play(stream, o);
  std::string play2 = pub.Play(stream);  // a second subscriber of the same stream, other numbering
  EXPECT_TRUE(Wait({&pub, &sub}, [&] {
    return sub.peer(play).framesDecoded() >= 15 && sub.peer(play).audioBuffersDecoded() >= 15 &&
           pub.peer(play2).framesDecoded() >= 15;
  }));
}

// Reads atriumd's atrium_transcodes gauge.
int Transcodes(const DaemonProcess& daemon) {
  HttpClient http(daemon.url());
  std::string body = http.Request("GET", "/metrics").body;
  auto at = body.find("\natrium_transcodes ");
  return at == std::string::npos ? -1 : std::atoi(body.c_str() + at + 19);
}

// A subscriber whose offer has no codec in common with the publisher's video gets a
// transcoded copy; subscribers of one codec share one decode and encode.
TEST_F(ConferenceTest, ASubscriberWithoutTheCodecGetsATranscodedStream) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member vp8(*daemon_, "vp8 camera"), h264(*daemon_, "h264 camera"), viewer(*daemon_, "viewer");
  std::vector<Member*> all = {&vp8, &h264, &viewer};
  for (auto* m : all) ASSERT_EQ(ErrorCodeOf(m->Join(room)), 0);
  WebRtcClient::Options h264Only, vp8Only;
  h264Only.videoCodec = "H264";
  h264Only.videoPt = 102;
  std::string fromVp8 = vp8.Publish(), fromH264 = h264.Publish(h264Only);
  EXPECT_EQ(Transcodes(*daemon_), 0);
  std::string a = viewer.Play(fromVp8, h264Only), b = h264.Play(fromVp8, h264Only);  // VP8 → H.264, shared
  std::string plain = viewer.Play(fromVp8, vp8Only);                                 // VP8 as it is
  std::string c = viewer.Play(fromH264, vp8Only);                                    // H.264 → VP8
  std::string d = vp8.Play(fromH264, h264Only);                                      // H.264 as it is
  EXPECT_TRUE(Wait(all, [&] {
    return viewer.peer(a).framesDecoded() >= 15 && h264.peer(b).framesDecoded() >= 15 &&
           viewer.peer(plain).framesDecoded() >= 15 && viewer.peer(c).framesDecoded() >= 15 &&
           vp8.peer(d).framesDecoded() >= 15 && viewer.peer(a).audioBuffersDecoded() >= 15;
  }, 20000)) << viewer.peer(a).framesDecoded() << " " << h264.peer(b).framesDecoded() << " "
             << viewer.peer(plain).framesDecoded() << " " << viewer.peer(c).framesDecoded() << " "
             << vp8.peer(d).framesDecoded();
  EXPECT_EQ(Transcodes(*daemon_), 2);  // VP8 → H.264 once for two viewers, H.264 → VP8 once

  // The last subscriber of a copy gone, its branch goes; the stream itself plays on.
  ASSERT_EQ(ErrorCodeOf(viewer.ws().Call("media.stop", {{"playId", a}})), 0);
  EXPECT_EQ(Transcodes(*daemon_), 2);
  ASSERT_EQ(ErrorCodeOf(h264.ws().Call("media.stop", {{"playId", b}})), 0);
  EXPECT_EQ(Transcodes(*daemon_), 1);
  // The publisher leaving takes its copies and their plays with it.
  ASSERT_EQ(ErrorCodeOf(h264.ws().Call("media.unpublish", {{"streamId", fromH264}})), 0);
  EXPECT_EQ(Transcodes(*daemon_), 0);
  uint64_t before = viewer.peer(plain).framesDecoded();
  EXPECT_TRUE(Wait(all, [&] { return viewer.peer(plain).framesDecoded() >= before + 15; }));
  // An offer with neither codec is refused as before.
  for (auto* m : all) m->ws().Call("conference.leave");
}

TEST_F(ConferenceTest, LateSubscriberGetsAKeyframeQuickly) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member pub(*daemon_, "pub"), late(*daemon_, "late");
  ASSERT_EQ(ErrorCodeOf(pub.Join(room)), 0);
  WebRtcClient::Options o;
  o.keyframeMaxDist = 100000;  // only on request
  std::string stream = pub.Publish(o);
  Wait({&pub}, [] { return false; }, 5000);  // the stream runs 5 s before anyone plays it
  ASSERT_EQ(ErrorCodeOf(late.Join(room)), 0);
  gint64 start = g_get_monotonic_time();
  std::string play = late.Play(stream);
  ASSERT_TRUE(Wait({&pub, &late}, [&] { return late.peer(play).framesDecoded() > 0; }, 10000));
  double seconds = double(late.peer(play).firstFrameTime() - start) / 1e6;
  RecordProperty("first_frame_seconds", std::to_string(seconds));
  EXPECT_LT(seconds, 3.0);
}

TEST_F(ConferenceTest, AbruptDisconnectLeavesTheOthersDecoding) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member a(*daemon_, "a"), b(*daemon_, "b");
  auto c = std::make_unique<Member>(*daemon_, "c");
  ASSERT_EQ(ErrorCodeOf(a.Join(room)), 0);
  ASSERT_EQ(ErrorCodeOf(b.Join(room)), 0);
  ASSERT_EQ(ErrorCodeOf(c->Join(room)), 0);
  std::string sa = a.Publish(), sb = b.Publish(), sc = c->Publish();
  std::string aPlaysB = a.Play(sb), bPlaysA = b.Play(sa);
  c->Play(sa);
  c->Play(sb);
  std::string aPlaysC = a.Play(sc);
  ASSERT_TRUE(Wait({&a, &b, c.get()}, [&] {
    return a.peer(aPlaysB).framesDecoded() > 10 && b.peer(bPlaysA).framesDecoded() > 10;
  }));
  std::string cid = c->id();
  c.reset();  // closes the socket without conference.leave; its peers vanish with it
  auto left = a.ws().WaitNotification("participantLeft");
  ASSERT_TRUE(left);
  EXPECT_EQ((*left)["params"]["participantId"], cid);
  EXPECT_TRUE(b.ws().WaitNotification("streamUnpublished"));
  a.Drop(aPlaysC);
  uint64_t before = a.peer(aPlaysB).framesDecoded();
  Wait({&a, &b}, [] { return false; }, 2500);
  EXPECT_GT(a.peer(aPlaysB).framesDecoded(), before + 30);
  EXPECT_GT(b.peer(bPlaysA).framesDecoded(), 40u);
  EXPECT_LT(a.peer(aPlaysB).maxFrameGapUs(), 1000000u);
  EXPECT_LT(b.peer(bPlaysA).maxFrameGapUs(), 1000000u);
}

// A subscriber that offers and never connects (it neither sets the answer nor sends a
// candidate, so the server's ICE and DTLS never complete) gets nothing forwarded, and the
// subscribers beside it decode without a gap, before, while and after it is there.
TEST_F(ConferenceTest, StalledSubscriberDoesNotStopTheOthers) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member pub(*daemon_, "pub"), early(*daemon_, "early"), stalled(*daemon_, "stalled"), late(*daemon_, "late");
  for (auto* m : {&pub, &early, &stalled, &late}) ASSERT_EQ(ErrorCodeOf(m->Join(room)), 0);
  std::string stream = pub.Publish();
  std::string earlyPlay = early.Play(stream);
  ASSERT_TRUE(Wait({&pub, &early}, [&] { return early.peer(earlyPlay).framesDecoded() >= 10; }));

  // The stalled one: a real offer, then silence.
  WebRtcClient::Options o;
  o.role = WebRtcClient::Role::Player;
  WebRtcClient silent(o);
  json r = stalled.ws().Call("media.play", {{"streamId", stream}, {"sdp", silent.CreateOffer()}});
  ASSERT_EQ(ErrorCodeOf(r), 0) << r.dump();
  std::string stalledPlay = ResultOf(r)["playId"];

  // A subscriber that arrives after the stalled one, and the one from before, both decode.
  std::string latePlay = late.Play(stream);
  uint64_t earlyBefore = early.peer(earlyPlay).framesDecoded();
  ASSERT_TRUE(Wait({&pub, &early, &late}, [&] { return late.peer(latePlay).framesDecoded() >= 30; }));
  Wait({&pub, &early, &late}, [] { return false; }, 3000);
  EXPECT_GT(early.peer(earlyPlay).framesDecoded(), earlyBefore + 60);
  EXPECT_LT(early.peer(earlyPlay).maxFrameGapUs(), 1000000u);
  EXPECT_GE(late.peer(latePlay).audioBuffersDecoded(), 30u);
  EXPECT_EQ(silent.framesDecoded(), 0u);

  // Stopping the stalled play is clean, and the others go on.
  EXPECT_EQ(ErrorCodeOf(stalled.ws().Call("media.stop", {{"playId", stalledPlay}})), 0);
  uint64_t lateBefore = late.peer(latePlay).framesDecoded();
  Wait({&pub, &early, &late}, [] { return false; }, 2000);
  EXPECT_GT(late.peer(latePlay).framesDecoded(), lateBefore + 30);
  EXPECT_LT(late.peer(latePlay).maxFrameGapUs(), 1000000u);
}

TEST_F(ConferenceTest, TokenGrantsLimitPublishingAndPlaying) {
  int64_t room = CreateRoom({{"isPublic", false}});
  HttpClient http(daemon_->url());
  auto tokenWith = [&](json grants) {
    return ResultOf(http.Call("auth.issueToken", {{"grants", grants}, {"ttl", 600}}, token_))["token"].get<std::string>();
  };
  Member viewer(*daemon_, "viewer"), speaker(*daemon_, "speaker");
  ASSERT_EQ(ErrorCodeOf(viewer.ws().Call("auth.resume", {{"token", tokenWith({{"rooms", {room}}, {"subscribe", true}})}})), 0);
  ASSERT_EQ(ErrorCodeOf(speaker.ws().Call("auth.resume", {{"token", tokenWith({{"rooms", {room}}, {"publish", true}})}})), 0);
  ASSERT_EQ(ErrorCodeOf(viewer.Join(room)), 0);  // the token names the room: no password needed
  ASSERT_EQ(ErrorCodeOf(speaker.Join(room)), 0);
  WebRtcClient pub(WebRtcClient::Options{});
  json refused = viewer.ws().Call("media.publish", {{"sdp", pub.CreateOffer()}});
  EXPECT_EQ(ErrorCodeOf(refused), -32002);
  EXPECT_EQ(refused["error"]["data"]["grant"], "publish");
  std::string stream = speaker.Publish();
  std::string play = viewer.Play(stream);
  EXPECT_TRUE(Wait({&viewer, &speaker}, [&] { return viewer.peer(play).framesDecoded() > 5; }));
  WebRtcClient::Options po;
  po.role = WebRtcClient::Role::Player;
  WebRtcClient player(po);
  EXPECT_EQ(ErrorCodeOf(speaker.ws().Call("media.play", {{"streamId", stream}, {"sdp", player.CreateOffer()}})), -32002);
}

TEST_F(ConferenceTest, BadInputGetsDocumentedErrorsAndTheRoomKeepsWorking) {
  int64_t room = CreateRoom({{"isPublic", false}, {"password", "sesame"}, {"numberLimit", 2}});
  Member a(*daemon_, "a"), b(*daemon_, "b"), c(*daemon_, "c");
  // Before joining.
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("media.publish", {{"sdp", "v=0\r\n"}})), -32010);
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("media.candidate", {{"id", "x"}, {"candidate", "c"}, {"sdpMLineIndex", 0}})), -32010);
  // Passwords, guests and limits.
  EXPECT_EQ(ErrorCodeOf(a.Join(room, {{"password", "wrong"}})), -32005);
  EXPECT_EQ(ErrorCodeOf(a.Join(room)), -32005);
  EXPECT_EQ(ErrorCodeOf(a.Join(999999)), -32003);
  ASSERT_EQ(ErrorCodeOf(a.Join(room, {{"password", "sesame"}})), 0);
  EXPECT_EQ(ErrorCodeOf(a.Join(room, {{"password", "sesame"}})), -32004);  // already in
  b.Login();
  ASSERT_EQ(ErrorCodeOf(b.Join(room)), 0);  // an administrator needs no password
  EXPECT_EQ(ErrorCodeOf(c.Join(room, {{"password", "sesame"}})), -32006);
  HttpClient http(daemon_->url());
  EXPECT_EQ(ErrorCodeOf(http.Call("conference.join", {{"roomId", room}, {"displayName", "x"}})), -32600);

  // Bad SDP and unknown ids.
  for (const char* sdp : {"", "not sdp at all", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"}) {
    json r = a.ws().Call("media.publish", {{"sdp", sdp}});
    EXPECT_EQ(ErrorCodeOf(r), -32602) << sdp;
    EXPECT_EQ(r["error"]["data"]["param"], "sdp");
  }
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("media.publish", {{"sdp", 42}})), -32602);
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("media.play", {{"streamId", "nope"}, {"sdp", "v=0\r\n"}})), -32003);
  WebRtcClient::Options po;
  po.role = WebRtcClient::Role::Player;
  WebRtcClient player(po);
  const std::string playOffer = player.CreateOffer();
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("media.play", {{"streamId", "nope"}, {"sdp", playOffer}})), -32003);
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("media.candidate", {{"id", "nope"}, {"candidate", "candidate:1 1 UDP 1 127.0.0.1 9 typ host"}, {"sdpMLineIndex", 0}})), -32003);
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("media.unpublish", {{"streamId", "nope"}})), -32003);
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("media.stop", {{"playId", "nope"}})), -32003);
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("conference.finish")), -32002);  // a guest is no host

  // The room still works: a publishes, b plays it.
  std::string s = a.Publish();
  EXPECT_EQ(ErrorCodeOf(b.ws().Call("media.play", {{"streamId", s}, {"sdp", "v=0\r\nbroken"}})), -32602);
  EXPECT_EQ(ErrorCodeOf(b.ws().Call("media.play", {{"streamId", "mix"}, {"sdp", playOffer}})), -32003);
  std::string p = b.Play(s);
  EXPECT_TRUE(Wait({&a, &b}, [&] { return b.peer(p).framesDecoded() > 10; }));
  // Another participant cannot stop what is not theirs.
  EXPECT_EQ(ErrorCodeOf(b.ws().Call("media.unpublish", {{"streamId", s}})), -32003);
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("media.stop", {{"playId", p}})), -32003);
  // The host (an administrator) ends it for all.
  EXPECT_EQ(ErrorCodeOf(b.ws().Call("conference.finish")), 0);
  EXPECT_TRUE(a.ws().WaitNotification("meetingFinished"));
  EXPECT_EQ(ErrorCodeOf(a.ws().Call("media.publish", {{"sdp", "v=0\r\n"}})), -32010);
  RunUntil([] { return false; }, 200);
  EXPECT_EQ(ResultOf(http.Call("room.isActive", {{"roomId", room}}))["active"], false);
}

}  // namespace
}  // namespace atrium::test

namespace atrium::test {
namespace {

// Join, publish, play, leave, 200 times (ATRIUM_CHURN_CYCLES: fewer in sanitizer builds):
// the server's threads and open files come back to where they were, its memory stops
// growing, and GStreamer's leaks tracer finds no object left alive at exit.
TEST(ConferenceChurn, CyclesLeakNeitherThreadsNorMemory) {
  TempDir dir;
  const int cycles = g_getenv("ATRIUM_CHURN_CYCLES") ? atoi(g_getenv("ATRIUM_CHURN_CYCLES")) : 200;
  DaemonProcess daemon(dir.path(), "[ice]\naddresses = 127.0.0.1\n",
                       {{"GST_TRACERS", "leaks"}, {"GST_DEBUG", "GST_TRACER:7"}});
  HttpClient http(daemon.url());
  std::string token =
      ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}))["token"];
  int64_t room = ResultOf(http.Call("room.create", {{"name", "churn"}, {"isPublic", true}}, token))["roomId"];

  auto cycle = [&](int i) {
    WsClient ws(daemon.wsUrl());
    ASSERT_EQ(ErrorCodeOf(ws.Call("conference.join", {{"roomId", room}, {"displayName", "c" + std::to_string(i)}})), 0);
    WebRtcClient::Options po;
    po.width = 160;
    po.height = 120;
    WebRtcClient pub(po);
    json r = ws.Call("media.publish", {{"sdp", pub.CreateOffer()}});
    ASSERT_EQ(ErrorCodeOf(r), 0) << r.dump();
    pub.SetAnswer(ResultOf(r)["sdp"]);
    std::string stream = ResultOf(r)["streamId"];
    WebRtcClient::Options o;
    o.role = WebRtcClient::Role::Player;
    WebRtcClient player(o);
    json p = ws.Call("media.play", {{"streamId", stream}, {"sdp", player.CreateOffer()}});
    ASSERT_EQ(ErrorCodeOf(p), 0) << p.dump();
    player.SetAnswer(ResultOf(p)["sdp"]);
    std::string play = ResultOf(p)["playId"];
    for (const auto& [m, c] : pub.localCandidates())
      ws.Notify("media.candidate", {{"id", stream}, {"candidate", c}, {"sdpMLineIndex", m}});
    for (const auto& [m, c] : player.localCandidates())
      ws.Notify("media.candidate", {{"id", play}, {"candidate", c}, {"sdpMLineIndex", m}});
    RunUntil(
        [&] {
          for (auto& n : ws.TakeNotifications([](const json& j) { return j["method"] == "media.candidate"; })) {
            auto& c = n["params"]["id"] == stream ? pub : player;
            c.AddRemoteCandidate(n["params"]["sdpMLineIndex"], n["params"]["candidate"]);
          }
          return player.framesDecoded() > 0;
        },
        5000);
    EXPECT_GT(player.framesDecoded(), 0u) << "cycle " << i;
    EXPECT_EQ(ErrorCodeOf(ws.Call("conference.leave")), 0);
  };

  for (int i = 0; i < 20; ++i) cycle(i);  // warm-up: caches, DTLS certificate, thread pools
  RunUntil([] { return false; }, 1000);
  auto before = daemon.ReadUsage();
  for (int i = 20; i < 20 + cycles; ++i) {
    cycle(i);
    if (HasFailure()) break;
  }
  RunUntil(
      [&] {
        auto u = daemon.ReadUsage();
        return u.threads <= before.threads && u.fds <= before.fds;
      },
      5000);
  auto after = daemon.ReadUsage();
  RecordProperty("rss_before_kib", std::to_string(before.rssKiB));
  RecordProperty("rss_after_kib", std::to_string(after.rssKiB));
  std::printf("churn: rss %ld KiB -> %ld KiB, threads %ld -> %ld, fds %ld -> %ld over %d cycles\n", before.rssKiB,
              after.rssKiB, before.threads, after.threads, before.fds, after.fds, cycles);
  EXPECT_LE(after.threads, before.threads);
  EXPECT_LE(after.fds, before.fds);
  EXPECT_LT(after.rssKiB - before.rssKiB, 16 * 1024);
  EXPECT_EQ(ResultOf(http.Call("room.isActive", {{"roomId", room}}))["active"], false);

  // The leaks tracer lists every GstObject and GstMiniObject still alive when atriumd
  // calls gst_deinit() on its way out ("object-alive" lines at GST_TRACER:7).
  daemon.Stop();
  EXPECT_EQ(daemon.ExitStatus(), 0);
  const std::string& log = daemon.stderrText();
  EXPECT_NE(log.find("object-alive"), std::string::npos) << "the leaks tracer did not run";
  size_t alive = 0;
  std::string first;
  for (size_t pos = log.find("object-alive, type-name"); pos != std::string::npos;
       pos = log.find("object-alive, type-name", pos + 1)) {
    std::string line = log.substr(pos, log.find('\n', pos) - pos);
    if (line.find("%s") != std::string::npos) continue;  // the record's format, logged at start
    // dtlsdec keeps one agent holding its generated certificate for the whole process
    // (gst-plugins-bad ext/dtls/gstdtlsdec.c, generated_cert_agent): one, whatever the cycles.
    if (line.find("type-name=(string)GstDtlsAgent, address=(gpointer)0x") != std::string::npos &&
        line.find("description=(string)<dtlsagent0>") != std::string::npos)
      continue;
    if (alive++ < 20) first += line + "\n";
  }
  std::printf("churn: %zu GStreamer objects alive at exit\n", alive);
  EXPECT_EQ(alive, 0u) << first;
}

}  // namespace
}  // namespace atrium::test

namespace atrium::test {
namespace {

// [ice] public-address: every host candidate is also announced with the public address,
// and media still flows (here over the local one).
TEST(ConferenceIce, PublicAddressIsAnnouncedBesideTheLocalOne) {
  TempDir dir;
  DaemonProcess daemon(dir.path(), "[ice]\naddresses = 127.0.0.1\npublic-address = 127.0.0.2\n");
  HttpClient http(daemon.url());
  std::string token =
      ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}))["token"];
  int64_t room = ResultOf(http.Call("room.create", {{"name", "nat"}, {"isPublic", true}}, token))["roomId"];
  WsClient ws(daemon.wsUrl());
  ASSERT_EQ(ErrorCodeOf(ws.Call("conference.join", {{"roomId", room}, {"displayName", "n"}})), 0);
  WebRtcClient pub(WebRtcClient::Options{});
  json r = ws.Call("media.publish", {{"sdp", pub.CreateOffer()}});
  ASSERT_EQ(ErrorCodeOf(r), 0);
  pub.SetAnswer(ResultOf(r)["sdp"]);
  std::vector<std::string> seen;
  RunUntil(
      [&] {
        for (auto& n : ws.TakeNotifications([](const json& j) { return j["method"] == "media.candidate"; }))
          seen.push_back(n["params"]["candidate"]);
        return seen.size() >= 2;
      },
      5000);
  bool local = false, announced = false;
  for (const auto& c : seen) {
    local = local || c.find(" 127.0.0.1 ") != std::string::npos;
    announced = announced || c.find(" 127.0.0.2 ") != std::string::npos;
  }
  EXPECT_TRUE(local);
  EXPECT_TRUE(announced);
}

}  // namespace
}  // namespace atrium::test
