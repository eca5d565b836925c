// Fault injection against a real atriumd with real webrtcbin peers: a publisher that stops
// sending, one whose DTLS handshake never completes, a WebSocket closed in the middle of
// media.publish, garbage sent to the server's media ports, and a database locked by
// another process at start-up. In each, the other participants keep decoding, the server
// keeps answering, and the failure is reported to whom it concerns.
#include "tests/media/WebRtcClient.hpp"
#include "tests/rpc/ConferenceMember.hpp"
#include "tests/rpc/Harness.hpp"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

namespace atrium::test {
namespace {

// The UDP ports atriumd has open on 127.0.0.1: its ICE sockets (from /proc: the sockets
// among its fds, matched with /proc/net/udp).
std::set<int> DaemonUdpPorts(int pid) {
  std::set<std::string> inodes;
  std::string fdDir = "/proc/" + std::to_string(pid) + "/fd";
  if (GDir* d = g_dir_open(fdDir.c_str(), 0, nullptr)) {
    while (const char* n = g_dir_read_name(d)) {
      gchar* target = g_file_read_link((fdDir + "/" + n).c_str(), nullptr);
      if (target && g_str_has_prefix(target, "socket:[")) inodes.insert(std::string(target + 8, strlen(target) - 9));
      g_free(target);
    }
    g_dir_close(d);
  }
  std::set<int> ports;
  std::ifstream udp("/proc/net/udp");
  std::string line;
  std::getline(udp, line);
  while (std::getline(udp, line)) {
    std::istringstream in(line);
    std::string sl, local, remote, st, queues, tr, retr, uid, timeout, inode;
    in >> sl >> local >> remote >> st >> queues >> tr >> retr >> uid >> timeout >> inode;
    if (!inodes.count(inode) || local.substr(0, 8) != "0100007F") continue;  // 127.0.0.1, little endian
    ports.insert(int(strtol(local.substr(9).c_str(), nullptr, 16)));
  }
  return ports;
}

class FaultTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    daemon_ = std::make_unique<DaemonProcess>(dir_->path(), "[ice]\naddresses = 127.0.0.1\n");
    HttpClient http(daemon_->url());
    token_ = ResultOf(
        http.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}))["token"];
    room_ = ResultOf(http.Call("room.create", {{"name", "faults"}, {"isPublic", true}}, token_))["roomId"];
  }

  bool Wait(std::vector<Member*> members, const std::function<bool()>& done, int timeoutMs = 15000) {
    return RunUntil(
        [&] {
          for (auto* m : members) m->Pump();
          return done();
        },
        timeoutMs);
  }

  // Runs the main loop for `ms` and returns how many frames `play` decoded meanwhile.
  uint64_t FramesDuring(std::vector<Member*> members, Member& viewer, const std::string& play, int ms) {
    uint64_t before = viewer.peer(play).framesDecoded();
    Wait(members, [] { return false; }, ms);
    return viewer.peer(play).framesDecoded() - before;
  }

  void ExpectServerAnswers() {
    HttpClient http(daemon_->url());
    EXPECT_EQ(ErrorCodeOf(http.Call("server.ping", json::object())), 0);
    EXPECT_TRUE(daemon_->Running());
  }

  json RoomParticipants() {
    Member probe(*daemon_, "probe");
    json r = probe.Join(room_);
    EXPECT_EQ(ErrorCodeOf(r), 0) << r.dump();
    json others = ResultOf(r)["participants"];
    probe.ws().Call("conference.leave");
    return others;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string token_;
  int64_t room_ = 0;
};

// A publisher whose sources stop (its connection stays up): its viewers get no more
// frames, everyone else's media goes on, its stream stays published, and once it sends
// again its viewer decodes it again.
TEST_F(FaultTest, PublisherThatStopsSendingMidStream) {
  Member a(*daemon_, "a"), b(*daemon_, "b"), v(*daemon_, "v");
  for (auto* m : {&a, &b, &v}) ASSERT_EQ(ErrorCodeOf(m->Join(room_)), 0);
  std::string sa = a.Publish(), sb = b.Publish();
  std::string va = v.Play(sa), vb = v.Play(sb);
  std::vector<Member*> all = {&a, &b, &v};
  ASSERT_TRUE(Wait(all, [&] { return v.peer(va).framesDecoded() > 10 && v.peer(vb).framesDecoded() > 10; }));

  // Drop everything a's encoders produce, at the payloaders' output.
  GstElement* pipeline = GST_ELEMENT(gst_element_get_parent(a.peer(sa).webrtcbin()));
  std::vector<std::pair<GstPad*, gulong>> probes;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement* e = GST_ELEMENT(g_value_get_object(&item));
    if (g_str_has_prefix(GST_OBJECT_NAME(e), "rtp") && g_str_has_suffix(G_OBJECT_TYPE_NAME(e), "Pay")) {
      GstPad* src = gst_element_get_static_pad(e, "src");
      gulong id = gst_pad_add_probe(
          src, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
          [](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_DROP; }, nullptr, nullptr);
      probes.emplace_back(src, id);
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  gst_object_unref(pipeline);
  ASSERT_EQ(probes.size(), 2u) << "expected a video and an audio payloader";

  Wait(all, [] { return false; }, 500);  // what was in flight
  EXPECT_LT(FramesDuring(all, v, va, 3000), 3u);
  EXPECT_GT(FramesDuring(all, v, vb, 2000), 20u);  // b is untouched
  ExpectServerAnswers();
  // Nothing was taken away: a and its stream are still in the room.
  bool found = false;
  for (const auto& p : RoomParticipants())
    if (p["id"] == a.id()) found = p["streams"].size() == 1 && p["streams"][0]["streamId"] == sa;
  EXPECT_TRUE(found);

  for (auto& [pad, id] : probes) {
    gst_pad_remove_probe(pad, id);
    gst_object_unref(pad);
  }
  uint64_t before = v.peer(va).framesDecoded();
  EXPECT_TRUE(Wait(all, [&] {
    v.peer(va).RequestKeyframe();
    return v.peer(va).framesDecoded() > before + 10;
  }));
}

// A publisher whose DTLS handshake never completes: ICE connects, but every DTLS record
// it would send is dropped. Nobody else notices; the server keeps answering; when the
// stuck participant goes away its half-made stream goes with it and the room is clean.
// (atriumd has no timeout of its own for a handshake that never ends: the participant
// stays until it leaves or its socket closes.)
TEST_F(FaultTest, DtlsThatNeverCompletes) {
  Member a(*daemon_, "a"), v(*daemon_, "v");
  ASSERT_EQ(ErrorCodeOf(a.Join(room_)), 0);
  ASSERT_EQ(ErrorCodeOf(v.Join(room_)), 0);
  std::string sa = a.Publish();
  std::string va = v.Play(sa);
  std::vector<Member*> all = {&a, &v};
  ASSERT_TRUE(Wait(all, [&] { return v.peer(va).framesDecoded() > 10; }));

  auto bad = std::make_unique<WsClient>(daemon_->wsUrl());
  json join = bad->Call("conference.join", {{"roomId", room_}, {"displayName", "no-dtls"}});
  ASSERT_EQ(ErrorCodeOf(join), 0);
  std::string badId = ResultOf(join)["participant"]["id"];
  WebRtcClient client(WebRtcClient::Options{});
  std::string offer = client.CreateOffer();
  // Silence the client's DTLS: drop what its dtlsenc elements send.
  int silenced = 0;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(client.webrtcbin()));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement* e = GST_ELEMENT(g_value_get_object(&item));
    if (g_strcmp0(G_OBJECT_TYPE_NAME(e), "GstDtlsEnc") == 0) {
      GstPad* src = gst_element_get_static_pad(e, "src");
      gst_pad_add_probe(
          src, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
          [](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_DROP; }, nullptr, nullptr);
      gst_object_unref(src);
      ++silenced;
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  ASSERT_GE(silenced, 1);
  json pub = bad->Call("media.publish", {{"sdp", offer}});
  ASSERT_EQ(ErrorCodeOf(pub), 0) << pub.dump();
  std::string stream = ResultOf(pub)["streamId"];
  client.SetAnswer(ResultOf(pub)["sdp"]);
  for (const auto& [m, c] : client.localCandidates())
    bad->Notify("media.candidate", {{"id", stream}, {"candidate", c}, {"sdpMLineIndex", m}});
  client.onLocalCandidate = [&](int m, const std::string& c) {
    bad->Notify("media.candidate", {{"id", stream}, {"candidate", c}, {"sdpMLineIndex", m}});
  };
  auto pumpBad = [&] {
    if (!bad) return;
    for (auto& n : bad->TakeNotifications([](const json& j) { return j["method"] == "media.candidate"; }))
      client.AddRemoteCandidate(n["params"]["sdpMLineIndex"], n["params"]["candidate"]);
  };

  uint64_t before = v.peer(va).framesDecoded();
  Wait(all, [&] { pumpBad(); return false; }, 8000);
  EXPECT_NE(client.connectionState(), GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED);
  EXPECT_GT(v.peer(va).framesDecoded(), before + 60);
  EXPECT_LT(v.peer(va).maxFrameGapUs(), 1000000u);
  ExpectServerAnswers();

  // Its stream was answered, so announced; it ends with its participant.
  bad.reset();
  bool left = false, unpublished = false;
  Wait(all, [&] {
    for (auto& n : v.ws().TakeNotifications([](const json& j) {
           return j["method"] == "participantLeft" || j["method"] == "streamUnpublished";
         })) {
      left = left || n["params"].value("participantId", "") == badId;
      unpublished = unpublished || n["params"].value("streamId", "") == stream;
    }
    return left && unpublished;
  });
  EXPECT_TRUE(left);
  EXPECT_TRUE(unpublished);
  for (const auto& p : RoomParticipants()) EXPECT_NE(p["id"], badId);
  EXPECT_GT(FramesDuring(all, v, va, 1500), 15u);
}

// A client that sends media.publish and closes its socket before the answer: the server
// finishes or drops the half-made stream, the room keeps no trace of it, and the others
// keep decoding.
TEST_F(FaultTest, WebSocketClosedInTheMiddleOfPublish) {
  Member a(*daemon_, "a"), v(*daemon_, "v");
  ASSERT_EQ(ErrorCodeOf(a.Join(room_)), 0);
  ASSERT_EQ(ErrorCodeOf(v.Join(room_)), 0);
  std::string sa = a.Publish();
  std::string va = v.Play(sa);
  std::vector<Member*> all = {&a, &v};
  ASSERT_TRUE(Wait(all, [&] { return v.peer(va).framesDecoded() > 10; }));

  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    auto ws = std::make_unique<WsClient>(daemon_->wsUrl());
    json join = ws->Call("conference.join", {{"roomId", room_}, {"displayName", "quitter"}});
    ASSERT_EQ(ErrorCodeOf(join), 0);
    std::string id = ResultOf(join)["participant"]["id"];
    WebRtcClient client(WebRtcClient::Options{});
    json req = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "media.publish"}, {"params", {{"sdp", client.CreateOffer()}}}};
    ws->SendText(req.dump());
    // Close at a different point of the server's work each time.
    if (i > 0) Wait(all, [] { return false; }, i * 3);
    ws.reset();
    bool left = false;
    Wait(all, [&] {
      for (auto& n : v.ws().TakeNotifications([](const json& j) { return j["method"] == "participantLeft"; }))
        left = left || n["params"]["participantId"] == id;
      return left;
    });
    EXPECT_TRUE(left);
  }
  // Any streamPublished for the quitters was followed by its streamUnpublished.
  std::set<std::string> published;
  for (auto& n : v.ws().TakeNotifications([](const json& j) {
         return j["method"] == "streamPublished" || j["method"] == "streamUnpublished";
       })) {
    std::string s = n["params"]["streamId"];
    if (s == sa) continue;
    if (n["method"] == "streamPublished")
      published.insert(s);
    else
      published.erase(s);
  }
  EXPECT_TRUE(published.empty()) << *published.begin();
  EXPECT_GT(FramesDuring(all, v, va, 2000), 20u);
  ExpectServerAnswers();
  json others = RoomParticipants();
  EXPECT_EQ(others.size(), 2u) << others.dump();
}

// Datagrams of one kind (random bytes, or RTP, RTCP, STUN or DTLS look-alikes with garbage
// inside) sent to every UDP port atriumd has open while media flows: the media keeps
// flowing and everyone stays in the room.
enum class Garbage { Random, Rtp, Rtcp, Stun, Dtls };

class FaultGarbageTest : public FaultTest, public ::testing::WithParamInterface<Garbage> {};

TEST_P(FaultGarbageTest, SentToTheMediaPorts) {
  Member a(*daemon_, "a"), b(*daemon_, "b"), v(*daemon_, "v");
  for (auto* m : {&a, &b, &v}) ASSERT_EQ(ErrorCodeOf(m->Join(room_)), 0);
  std::string sa = a.Publish(), sb = b.Publish();
  std::string va = v.Play(sa), vb = v.Play(sb);
  std::vector<Member*> all = {&a, &b, &v};
  ASSERT_TRUE(Wait(all, [&] { return v.peer(va).framesDecoded() > 10 && v.peer(vb).framesDecoded() > 10; }));

  std::set<int> ports = DaemonUdpPorts(daemon_->pid());
  ASSERT_GE(ports.size(), 4u);  // one ICE socket per bundled peer: 2 publishes, 2 plays
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  std::mt19937 rng(42);
  auto random = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = char(rng());
    return s;
  };
  auto make = [&](int round) {
    switch (GetParam()) {
      case Garbage::Random:
        return random(1 + rng() % 1400);
      case Garbage::Rtp: {
        std::string d = random(200);
        d[0] = char(0x80);
        d[1] = char(96 + (round % 2) * 15);  // VP8 and Opus payload types
        return d;
      }
      case Garbage::Rtcp: {
        std::string d = random(60);
        d[0] = char(0x81);
        d[1] = char(200 + round % 6);  // SR, RR, SDES, BYE, APP, RTPFB
        return d;
      }
      case Garbage::Stun: {
        std::string d = random(40);
        d[0] = 0x00, d[1] = 0x01;
        d[4] = 0x21, d[5] = 0x12, d[6] = char(0xA4), d[7] = 0x42;  // magic cookie
        return d;
      }
      case Garbage::Dtls: {
        std::string d = random(100);
        d[0] = 22;  // handshake record
        d[1] = char(0xFE), d[2] = char(0xFD);
        return d;
      }
    }
    return std::string();
  };
  uint64_t va0 = v.peer(va).framesDecoded(), vb0 = v.peer(vb).framesDecoded();
  size_t sent = 0;
  for (int round = 0; round < 20; ++round) {
    for (int port : ports) {
      for (int k = 0; k < 5; ++k) {
        std::string d = make(round * 5 + k);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(uint16_t(port));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        ++sent;
      }
    }
    Wait(all, [] { return false; }, 100);
  }
  close(fd);
  std::printf("garbage: %zu datagrams to %zu ports\n", sent, ports.size());
  EXPECT_GT(v.peer(va).framesDecoded(), va0 + 30);
  EXPECT_GT(v.peer(vb).framesDecoded(), vb0 + 30);
  EXPECT_GT(FramesDuring(all, v, va, 1500), 15u);
  EXPECT_GT(FramesDuring(all, v, vb, 1500), 15u);
  ExpectServerAnswers();
  EXPECT_EQ(RoomParticipants().size(), 3u);
}

std::string GarbageName(const ::testing::TestParamInfo<Garbage>& info) {
  static const char* const kNames[] = {"Random", "Rtp", "Rtcp", "Stun", "Dtls"};
  return kNames[int(info.param)];
}

INSTANTIATE_TEST_SUITE_P(Kinds, FaultGarbageTest,
                         ::testing::Values(Garbage::Random, Garbage::Rtp, Garbage::Rtcp, Garbage::Stun, Garbage::Dtls),
                         GarbageName);

// Another process holds the database exclusively when atriumd starts: it says so and
// exits with a non-zero status instead of serving without a store.
TEST(FaultStartup, DatabaseLockedByAnotherProcess) {
  TempDir dir;
  {
    DaemonProcess first(dir.path());  // creates and migrates the database
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/atrium.db").c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE;", nullptr, nullptr, &err), SQLITE_OK)
      << (err ? err : "");
  bool started = true;
  std::string message;
  try {
    DaemonProcess second(dir.path());
  } catch (const std::exception& e) {
    started = false;
    message = e.what();
  }
  sqlite3_exec(db, "COMMIT;", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_FALSE(started);
  EXPECT_NE(message.find("atrium.db"), std::string::npos) << message;
  EXPECT_NE(message.find("locked"), std::string::npos) << message;
  EXPECT_NE(message.find("another atriumd"), std::string::npos) << message;
  // Once the other process lets go, it starts with every row still there.
  DaemonProcess third(dir.path());
  HttpClient http(third.url());
  EXPECT_EQ(ErrorCodeOf(http.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}})), 0);
}

}  // namespace
}  // namespace atrium::test
