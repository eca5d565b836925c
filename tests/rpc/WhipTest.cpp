// WHIP and WHEP against a real atriumd: webrtcbin clients (tests/media/WebRtcClient) whose
// only signalling is a plain HTTP POST of their offer, publishing into a room and playing
// from it beside WebSocket participants; trickle by PATCH, DELETE, and every documented
// refusal, after which the room goes on. All ICE is pinned to 127.0.0.1.
#include "auth/TokenService.hpp"
#include "core/GRef.hpp"
#include "media/Negotiation.hpp"
#include "tests/media/WebRtcClient.hpp"
#include "tests/rpc/ConferenceMember.hpp"
#include "tests/rpc/DaemonSuite.hpp"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

namespace atrium::test {
namespace {

constexpr int kBodyLimit = 32768;  // [limits] max-message-bytes of this suite's daemon

// A WHIP or WHEP session seen from the client: its peer and the POST's answer.
struct HttpSession {
  std::unique_ptr<WebRtcClient> peer;
  HttpReply reply;
  std::string location;  // set on 201
  gint64 postedAt = 0;   // monotonic, when the POST was sent
};

bool GatheringComplete(WebRtcClient& c) {
  GstWebRTCICEGatheringState state;
  g_object_get(c.webrtcbin(), "ice-gathering-state", &state, nullptr);
  return state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE;
}

// The client's offer once its ICE gathering is done, with its candidates in it: what a
// client that does not trickle sends.
std::string GatheredOffer(WebRtcClient& c) {
  std::string offer = c.CreateOffer();
  EXPECT_TRUE(RunUntil([&] { return GatheringComplete(c); }, 10000))
      << "client ICE gathering did not complete";
  GstWebRTCSessionDescription* desc = nullptr;
  g_object_get(c.webrtcbin(), "local-description", &desc, nullptr);
  if (desc) {
    GCharPtr text(gst_sdp_message_as_text(desc->sdp));
    offer = text.get();
    gst_webrtc_session_description_free(desc);
  }
  std::vector<std::pair<unsigned, std::string>> candidates;
  for (const auto& [m, cand] : c.localCandidates()) candidates.emplace_back(unsigned(m), cand);
  return media::AddCandidates(offer, candidates);  // in case webrtcbin left any out
}

std::string Field(const std::string& sdp, const std::string& attribute) {
  std::smatch m;
  std::regex re("a=" + attribute + ":([^\r\n]+)");
  return std::regex_search(sdp, m, re) ? m[1].str() : std::string();
}

std::string WithoutCandidates(const std::string& sdp) {
  std::istringstream in(sdp);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind("a=candidate:", 0) != 0 && line.rfind("a=end-of-candidates", 0) != 0) out += line + "\n";
  return out;
}

// Offers written by hand for refusals that never reach webrtcbin.
const char* kSendOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 "
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
    "a=setup:actpass\r\n";
const char* kRecvOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 "
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
    "a=setup:actpass\r\n";
// A data channel only: no audio or video to publish.
const char* kNoMediaOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    "a=sctp-port:5000\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n";

class WhipTest : public DaemonSuite {
protected:
  static void SetUpTestSuite() {
    StartDaemon("[ice]\naddresses = 127.0.0.1\n[limits]\nmax-message-bytes = " + std::to_string(kBodyLimit) +
                "\n");
    user_ = new User(AddUser("whip"));
  }
  static void TearDownTestSuite() {
    delete busy_;
    busy_ = nullptr;
    delete user_;
    user_ = nullptr;
    DaemonSuite::TearDownTestSuite();
  }

  static int64_t CreateRoom(json params) {
    if (!params.contains("name")) params["name"] = Unique("whip-room");
    return Ok(AdminCall("room.create", params))["roomId"];
  }

  static std::map<std::string, std::string> Auth(const std::string& token) {
    return token.empty() ? std::map<std::string, std::string>{}
                         : std::map<std::string, std::string>{{"Authorization", "Bearer " + token}};
  }

  static HttpReply Post(const std::string& path, const std::string& token, const std::string& body,
                        const std::string& type = "application/sdp") {
    auto h = Auth(token);
    h["Content-Type"] = type;
    return http_->Request("POST", path, body, h);
  }

  // Publishes test sources with WHIP; on 201 the answer is set. `gather`: the offer carries
  // the client's candidates (no trickle).
  static HttpSession Whip(int64_t room, const std::string& token, bool gather = true) {
    HttpSession s;
    WebRtcClient::Options o;
    o.role = WebRtcClient::Role::Publisher;
    s.peer = std::make_unique<WebRtcClient>(o);
    std::string offer = gather ? GatheredOffer(*s.peer) : s.peer->CreateOffer();
    s.postedAt = g_get_monotonic_time();
    s.reply = Post("/whip/" + std::to_string(room), token, offer);
    if (s.reply.status == 201) {
      s.location = s.reply.Header("location");
      s.peer->SetAnswer(s.reply.body);
    }
    return s;
  }

  // Plays `streamId` ("mix" in MCU rooms) with WHEP and decodes it.
  static HttpSession Whep(int64_t room, const std::string& streamId, const std::string& token) {
    HttpSession s;
    WebRtcClient::Options o;
    o.role = WebRtcClient::Role::Player;
    s.peer = std::make_unique<WebRtcClient>(o);
    std::string offer = GatheredOffer(*s.peer);
    s.postedAt = g_get_monotonic_time();
    s.reply = Post("/whep/" + std::to_string(room) + "/" + streamId, token, offer);
    if (s.reply.status == 201) {
      s.location = s.reply.Header("location");
      s.peer->SetAnswer(s.reply.body);
    }
    return s;
  }

  static std::string TokenWith(bool publish, bool subscribe) {
    auth::Grants g;
    g.publish = publish;
    g.subscribe = subscribe;
    g.anyRoom = true;
    return auth::TokenService(*secret_, 86400).Issue(user_->id, user_->account, g);
  }

  static json IsActive(int64_t room) { return Ok(AdminCall("room.isActive", {{"roomId", room}})); }

  // Iterates the main loop, pumping the members' candidates, until `done` or the timeout.
  static bool Wait(std::vector<Member*> members, const std::function<bool()>& done, int timeoutMs = 20000) {
    return RunUntil(
        [&] {
          for (auto* m : members) m->Pump();
          return done();
        },
        timeoutMs);
  }

  // A public SFU room in use: a WebSocket participant publishing its camera, and the rooms
  // the refusals need (private, with a password, full). Built once per suite.
  struct BusyRoom {
    int64_t room = 0, privateRoom = 0, passwordRoom = 0, fullRoom = 0, mcuRoom = 0;
    std::unique_ptr<Member> member, fullMember;
    std::string stream;
  };
  static BusyRoom& Busy() {
    if (busy_) return *busy_;
    busy_ = new BusyRoom;
    busy_->room = CreateRoom({{"isPublic", true}});
    busy_->privateRoom = CreateRoom({{"isPublic", false}});
    busy_->passwordRoom = CreateRoom({{"isPublic", true}, {"password", "room-secret-1"}});
    busy_->fullRoom = CreateRoom({{"isPublic", true}, {"numberLimit", 1}});
    busy_->member = std::make_unique<Member>(*daemon_, "member");
    EXPECT_EQ(ErrorCodeOf(busy_->member->Join(busy_->room)), 0);
    busy_->stream = busy_->member->Publish();
    busy_->fullMember = std::make_unique<Member>(*daemon_, "alone");
    EXPECT_EQ(ErrorCodeOf(busy_->fullMember->Join(busy_->fullRoom)), 0);
    return *busy_;
  }

  static User* user_;
  static BusyRoom* busy_;
};

User* WhipTest::user_ = nullptr;
WhipTest::BusyRoom* WhipTest::busy_ = nullptr;

TEST_F(WhipTest, PublishesAndPlaysOverPlainHttpWithoutTrickle) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member ws(*daemon_, "watcher");
  ASSERT_EQ(ErrorCodeOf(ws.Join(room)), 0);

  HttpSession pub = Whip(room, user_->token);
  ASSERT_EQ(pub.reply.status, 201u) << pub.reply.body;
  EXPECT_EQ(pub.reply.contentType, "application/sdp");
  EXPECT_TRUE(std::regex_match(pub.location, std::regex("/whip/" + std::to_string(room) + "/[0-9a-f]{32}")))
      << pub.location;
  EXPECT_TRUE(std::regex_match(pub.reply.Header("etag"), std::regex("\"[0-9a-f]+\"")))
      << pub.reply.Header("etag");
  EXPECT_EQ(pub.reply.Header("accept-patch"), "application/trickle-ice-sdpfrag");
  EXPECT_EQ(pub.reply.Header("access-control-allow-origin"), "*");
  // No trickle: the server's candidates are in the answer.
  EXPECT_NE(pub.reply.body.find("a=candidate:"), std::string::npos) << pub.reply.body;
  EXPECT_NE(pub.reply.body.find(" 127.0.0.1 "), std::string::npos) << pub.reply.body;
  std::string stream = pub.reply.Header("atrium-stream-id");
  std::string publisher = pub.reply.Header("atrium-participant-id");
  ASSERT_FALSE(stream.empty());

  // The room sees an ordinary participant and stream.
  auto joined = ws.ws().WaitNotification("participantJoined");
  ASSERT_TRUE(joined);
  EXPECT_EQ((*joined)["params"]["participant"]["id"], publisher);
  EXPECT_EQ((*joined)["params"]["participant"]["userId"], user_->id);
  EXPECT_EQ((*joined)["params"]["participant"]["role"], "attendee");
  auto published = ws.ws().WaitNotification("streamPublished");
  ASSERT_TRUE(published);
  EXPECT_EQ((*published)["params"]["streamId"], stream);
  EXPECT_EQ((*published)["params"]["participantId"], publisher);

  HttpSession play = Whep(room, stream, user_->token);
  ASSERT_EQ(play.reply.status, 201u) << play.reply.body;
  EXPECT_TRUE(std::regex_match(play.location,
                               std::regex("/whep/" + std::to_string(room) + "/" + stream + "/[0-9a-f]{32}")))
      << play.location;
  EXPECT_EQ(play.reply.Header("atrium-stream-id"), stream);
  EXPECT_FALSE(play.reply.Header("atrium-play-id").empty());
  EXPECT_NE(play.reply.body.find("a=candidate:"), std::string::npos);

  std::string wsPlay = ws.Play(stream);  // a WebSocket participant plays the WHIP stream
  bool flowing = Wait({&ws}, [&] {
    return play.peer->framesDecoded() >= 30 && play.peer->audioBuffersDecoded() >= 30 &&
           ws.peer(wsPlay).framesDecoded() >= 30;
  });
  EXPECT_TRUE(flowing) << "WHEP frames " << play.peer->framesDecoded() << " audio "
                       << play.peer->audioBuffersDecoded() << ", WebSocket play frames "
                       << ws.peer(wsPlay).framesDecoded() << ", publisher state "
                       << int(pub.peer->connectionState());
  ASSERT_GT(play.peer->firstFrameTime(), 0);
  double sinceWhip = double(play.peer->firstFrameTime() - pub.postedAt) / 1000.0;
  double sinceWhep = double(play.peer->firstFrameTime() - play.postedAt) / 1000.0;
  std::printf(
      "[ timing ] first decoded WHEP frame %.0f ms after the WHIP POST, %.0f ms after the WHEP POST\n",
      sinceWhip, sinceWhep);
  RecordProperty("firstFrameAfterWhipPostMs", int(sinceWhip));
  RecordProperty("firstFrameAfterWhepPostMs", int(sinceWhep));
  EXPECT_EQ(pub.peer->droppedRemoteCandidates(), 0u);
  EXPECT_EQ(play.peer->droppedRemoteCandidates(), 0u);
  EXPECT_EQ(IsActive(room)["participants"], 3);  // the watcher, the WHIP and the WHEP session

  // DELETE ends each session; the stream goes as a published stream does.
  EXPECT_EQ(http_->Request("DELETE", play.location, {}, Auth(user_->token)).status, 200u);
  HttpReply del = http_->Request("DELETE", pub.location, {}, Auth(user_->token));
  EXPECT_EQ(del.status, 200u) << del.body;
  auto unpublished = ws.ws().WaitNotification("streamUnpublished");
  ASSERT_TRUE(unpublished);
  EXPECT_EQ((*unpublished)["params"]["streamId"], stream);
  EXPECT_TRUE(RunUntil([&] { return IsActive(room)["participants"] == 1; }));
  HttpReply again = http_->Request("DELETE", pub.location, {}, Auth(user_->token));
  EXPECT_EQ(again.status, 404u);
  EXPECT_EQ(again.Json()["error"]["code"], -32003) << again.body;
  EXPECT_EQ(http_->Request("DELETE", play.location, {}, Auth(user_->token)).status, 404u);
}

TEST_F(WhipTest, TrickledCandidatesArriveByPatch) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member ws(*daemon_, "watcher");
  ASSERT_EQ(ErrorCodeOf(ws.Join(room)), 0);
  // An offer without candidates, and an answer whose candidates the client never learns:
  // the client can connect only if the server has its candidates from the PATCH.
  WebRtcClient::Options o;
  o.role = WebRtcClient::Role::Publisher;
  WebRtcClient peer(o);
  std::string offer = peer.CreateOffer();
  ASSERT_EQ(offer.find("a=candidate:"), std::string::npos);
  HttpReply created = Post("/whip/" + std::to_string(room), user_->token, offer);
  ASSERT_EQ(created.status, 201u) << created.body;
  std::string location = created.Header("location"), etag = created.Header("etag");
  peer.SetAnswer(WithoutCandidates(created.body));
  ASSERT_TRUE(RunUntil([&] { return GatheringComplete(peer); }, 10000));
  ASSERT_FALSE(peer.localCandidates().empty());
  EXPECT_NE(peer.connectionState(), GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED);

  std::string fragment = "a=ice-ufrag:" + Field(offer, "ice-ufrag") +
                         "\r\na=ice-pwd:" + Field(offer, "ice-pwd") +
                         "\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:" + Field(offer, "mid") + "\r\n";
  for (const auto& [mline, c] : peer.localCandidates())
    if (mline == 0) fragment += "a=" + c + "\r\n";
  fragment += "a=end-of-candidates\r\n";
  auto patch = [&](const std::string& body, std::map<std::string, std::string> h, const std::string& path) {
    if (!h.count("Content-Type")) h["Content-Type"] = "application/trickle-ice-sdpfrag";
    return http_->Request("PATCH", path, body, h);
  };
  auto with = [](std::map<std::string, std::string> a, std::map<std::string, std::string> b) {
    a.insert(b.begin(), b.end());
    return a;
  };
  User other = AddUser("other");
  struct Refusal {
    const char* what;
    HttpReply reply;
    unsigned status;
    int code;
  };
  std::vector<Refusal> refusals = {
      {"no token", patch(fragment, {}, location), 401, -32001},
      {"another user", patch(fragment, Auth(other.token), location), 403, -32002},
      {"unknown session",
       patch(fragment, Auth(user_->token), "/whip/" + std::to_string(room) + "/0123456789abcdef"), 404,
       -32003},
      {"wrong content type",
       patch(fragment, with(Auth(user_->token), {{"Content-Type", "application/sdp"}}), location), 415,
       -32602},
      {"stale ETag", patch(fragment, with(Auth(user_->token), {{"If-Match", "\"0000\""}}), location), 412,
       -32004},
      {"ICE restart", patch(fragment, with(Auth(user_->token), {{"If-Match", "*"}}), location), 422, -32602},
      {"new ufrag",
       patch("a=ice-ufrag:zzzz\r\na=ice-pwd:zzzzzzzzzzzzzzzzzzzzzzzz\r\n", Auth(user_->token), location), 422,
       -32602},
      {"not a fragment", patch("hello", Auth(user_->token), location), 400, -32602},
  };
  for (const auto& r : refusals) {
    EXPECT_EQ(r.reply.status, r.status) << r.what << ": " << r.reply.body;
    EXPECT_EQ(r.reply.Json()["error"]["code"], r.code) << r.what << ": " << r.reply.body;
  }

  HttpReply ok = patch(fragment, with(Auth(user_->token), {{"If-Match", etag}}), location);
  EXPECT_EQ(ok.status, 204u) << ok.body;
  std::string stream = created.Header("atrium-stream-id");
  ASSERT_TRUE(ws.ws().WaitNotification("streamPublished"));
  std::string wsPlay = ws.Play(stream);
  EXPECT_TRUE(Wait({&ws}, [&] { return ws.peer(wsPlay).framesDecoded() >= 15; }))
      << "publisher " << int(peer.connectionState()) << " frames " << ws.peer(wsPlay).framesDecoded();
  EXPECT_EQ(peer.connectionState(), GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED);
  EXPECT_EQ(http_->Request("DELETE", location, {}, Auth(user_->token)).status, 200u);
}

// One refused request: what it sends and what it must get. Placeholders in `path`: {room}
// (public, in use), {private}, {password}, {full}, {stream} (the member's live stream).
struct BadRequest {
  const char* name;
  const char* method;
  const char* path;
  const char* token;  // user, none, garbage, noPublish, noSubscribe
  const char* type;   // Content-Type ("" none)
  const char* body;   // offer, recvOffer, noMedia, text, huge
  unsigned status;
  int code;
  const char* dataKey = nullptr;  // a field error.data must have
};

std::string Expand(std::string s, const std::map<std::string, std::string>& vars) {
  for (const auto& [k, v] : vars)
    for (size_t at = s.find(k); at != std::string::npos; at = s.find(k)) s.replace(at, k.size(), v);
  return s;
}

class WhipRefusal : public WhipTest, public ::testing::WithParamInterface<BadRequest> {
protected:
  HttpReply Send(const BadRequest& c) {
    BusyRoom& b = Busy();
    std::map<std::string, std::string> vars = {{"{room}", std::to_string(b.room)},
                                               {"{private}", std::to_string(b.privateRoom)},
                                               {"{password}", std::to_string(b.passwordRoom)},
                                               {"{full}", std::to_string(b.fullRoom)},
                                               {"{stream}", b.stream}};
    std::map<std::string, std::string> tokens = {{"user", user_->token},
                                                 {"none", ""},
                                                 {"garbage", "not-a-token"},
                                                 {"noPublish", TokenWith(false, true)},
                                                 {"noSubscribe", TokenWith(true, false)}};
    std::map<std::string, std::string> bodies = {
        {"offer", kSendOffer},
        {"recvOffer", kRecvOffer},
        {"noMedia", kNoMediaOffer},
        {"text", "hello, this is not SDP"},
        {"huge", std::string(kSendOffer) + std::string(kBodyLimit, 'x')},
        {"none", ""}};
    auto h = Auth(tokens.at(c.token));
    h["Content-Type"] = c.type;
    return http_->Request(c.method, Expand(c.path, vars), bodies.at(c.body), h);
  }
};

TEST_P(WhipRefusal, AnswersTheDocumentedErrorAndLeavesTheRoomAlone) {
  const BadRequest& c = GetParam();
  BusyRoom& b = Busy();
  json before = IsActive(b.room);
  b.member->ws().TakeNotifications([](const json&) { return true; });
  HttpReply r = Send(c);
  EXPECT_EQ(r.status, c.status) << r.body;
  EXPECT_EQ(r.contentType, "application/json");
  json body = r.Json();
  ASSERT_TRUE(body.contains("error")) << r.body;
  EXPECT_EQ(body["error"]["code"], c.code) << r.body;
  EXPECT_TRUE(body["error"]["message"].is_string());
  if (c.dataKey) {
    EXPECT_TRUE(body["error"]["data"].contains(c.dataKey)) << r.body;
  }
  if (c.status == 401) {
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"atrium\"");
  }
  EXPECT_EQ(r.Header("access-control-allow-origin"), "*");
  // Nobody joined or left; the member is still there with its stream.
  EXPECT_EQ(IsActive(b.room), before);
  RunUntil([] { return false; }, 100);
  EXPECT_TRUE(b.member->ws()
                  .TakeNotifications([](const json& n) {
                    return n["method"] == "participantJoined" || n["method"] == "participantLeft";
                  })
                  .empty());
  EXPECT_EQ(IsActive(b.fullRoom)["participants"], 1);
}

INSTANTIATE_TEST_SUITE_P(
    Table, WhipRefusal,
    ::testing::Values(
        BadRequest{"NoToken", "POST", "/whip/{room}", "none", "application/sdp", "offer", 401, -32001},
        BadRequest{"BadToken", "POST", "/whip/{room}", "garbage", "application/sdp", "offer", 401, -32001},
        BadRequest{"NoPublishGrant", "POST", "/whip/{room}", "noPublish", "application/sdp", "offer", 403,
                   -32002, "grant"},
        BadRequest{"NoSubscribeGrant", "POST", "/whep/{room}/{stream}", "noSubscribe", "application/sdp",
                   "recvOffer", 403, -32002, "grant"},
        BadRequest{"UnknownRoom", "POST", "/whip/987654", "user", "application/sdp", "offer", 404, -32003,
                   "roomId"},
        BadRequest{"PrivateRoom", "POST", "/whip/{private}", "user", "application/sdp", "offer", 403, -32002,
                   "roomId"},
        BadRequest{"PasswordRoom", "POST", "/whip/{password}", "user", "application/sdp", "offer", 403,
                   -32002, "passwordRequired"},
        BadRequest{"RoomFull", "POST", "/whip/{full}", "user", "application/sdp", "offer", 409, -32006,
                   "numberLimit"},
        BadRequest{"OfferWithoutMedia", "POST", "/whip/{room}", "user", "application/sdp", "noMedia", 400,
                   -32602, "param"},
        BadRequest{"RecvonlyOfferToWhip", "POST", "/whip/{room}", "user", "application/sdp", "recvOffer", 400,
                   -32602, "param"},
        BadRequest{"SendonlyOfferToWhep", "POST", "/whep/{room}/{stream}", "user", "application/sdp", "offer",
                   400, -32602, "param"},
        BadRequest{"NotSdp", "POST", "/whip/{room}", "user", "application/sdp", "text", 400, -32602, "param"},
        BadRequest{"WrongContentType", "POST", "/whip/{room}", "user", "application/json", "offer", 415,
                   -32602, "expected"},
        BadRequest{"NoContentType", "POST", "/whip/{room}", "user", "", "offer", 415, -32602},
        BadRequest{"TooLarge", "POST", "/whip/{room}", "user", "application/sdp", "huge", 413, -32008,
                   "limit"},
        BadRequest{"UnknownStream", "POST", "/whep/{room}/s1-000000", "user", "application/sdp", "recvOffer",
                   404, -32003, "streamId"},
        BadRequest{"MixInAnSfuRoom", "POST", "/whep/{room}/mix", "user", "application/sdp", "recvOffer", 404,
                   -32003, "streamId"},
        BadRequest{"GetEndpoint", "GET", "/whip/{room}", "user", "", "none", 405, -32600},
        BadRequest{"BadRoomId", "POST", "/whip/room-one", "user", "application/sdp", "offer", 404, -32003},
        BadRequest{"DeleteUnknownSession", "DELETE", "/whip/{room}/0123456789abcdef", "user", "", "none", 404,
                   -32003, "resourceId"},
        BadRequest{"DeleteWithoutToken", "DELETE", "/whip/{room}/0123456789abcdef", "none", "", "none", 401,
                   -32001}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(WhipTest, OptionsAnswerWithoutAToken) {
  BusyRoom& b = Busy();
  HttpReply r = http_->Request("OPTIONS", "/whip/" + std::to_string(b.room));
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(r.Header("accept-post"), "application/sdp");
  EXPECT_EQ(r.Header("access-control-allow-origin"), "*");
  EXPECT_NE(r.Header("access-control-allow-methods").find("POST"), std::string::npos);
  EXPECT_NE(r.Header("access-control-allow-headers").find("Authorization"), std::string::npos);
  HttpReply res =
      http_->Request("OPTIONS", "/whep/" + std::to_string(b.room) + "/" + b.stream + "/0123456789abcdef");
  EXPECT_EQ(res.status, 204u);
  EXPECT_EQ(res.Header("accept-patch"), "application/trickle-ice-sdpfrag");
  EXPECT_NE(res.Header("access-control-allow-methods").find("DELETE"), std::string::npos);
}

// After every refusal, the room's member still publishes and others still get in.
TEST_F(WhipTest, TheRoomGoesOnAfterRefusals) {
  BusyRoom& b = Busy();
  for (const char* type : {"application/json", "application/sdp"})
    for (const char* body : {kNoMediaOffer, "nonsense", kRecvOffer})
      EXPECT_NE(Post("/whip/" + std::to_string(b.room), user_->token, body, type).status, 201u);
  EXPECT_EQ(Post("/whip/" + std::to_string(b.room), "", kSendOffer).status, 401u);
  HttpSession viewer = Whep(b.room, b.stream, user_->token);
  ASSERT_EQ(viewer.reply.status, 201u) << viewer.reply.body;
  HttpSession pub = Whip(b.room, user_->token);
  ASSERT_EQ(pub.reply.status, 201u) << pub.reply.body;
  std::string stream = pub.reply.Header("atrium-stream-id");
  EXPECT_TRUE(b.member->ws().WaitNotification("streamPublished"));
  std::string play = b.member->Play(stream);
  EXPECT_TRUE(
      Wait({b.member.get()},
           [&] { return viewer.peer->framesDecoded() >= 15 && b.member->peer(play).framesDecoded() >= 15; }))
      << viewer.peer->framesDecoded() << " " << b.member->peer(play).framesDecoded();
  EXPECT_EQ(http_->Request("DELETE", viewer.location, {}, Auth(user_->token)).status, 200u);
  EXPECT_EQ(http_->Request("DELETE", pub.location, {}, Auth(user_->token)).status, 200u);
}

TEST_F(WhipTest, TheConferenceEndsWithTheLastHttpSession) {
  int64_t room = CreateRoom({{"isPublic", true}});
  HttpSession pub = Whip(room, user_->token);
  ASSERT_EQ(pub.reply.status, 201u) << pub.reply.body;
  HttpSession play = Whep(room, pub.reply.Header("atrium-stream-id"), user_->token);
  ASSERT_EQ(play.reply.status, 201u) << play.reply.body;
  EXPECT_TRUE(RunUntil([&] { return play.peer->framesDecoded() >= 15; }, 20000));
  EXPECT_EQ(IsActive(room), (json{{"active", true}, {"participants", 2}}));
  // The stream goes first: its WHEP session ends with it.
  EXPECT_EQ(http_->Request("DELETE", pub.location, {}, Auth(user_->token)).status, 200u);
  EXPECT_TRUE(RunUntil([&] { return IsActive(room)["active"] == false; }, 10000)) << IsActive(room).dump();
  EXPECT_EQ(http_->Request("DELETE", play.location, {}, Auth(user_->token)).status, 404u);
}

TEST_F(WhipTest, AHostCanEndAnotherUsersSessionAndKickIt) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member host(*daemon_, "host");
  ASSERT_EQ(ErrorCodeOf(host.Login()), 0);
  ASSERT_EQ(ErrorCodeOf(host.Join(room)), 0);
  HttpSession pub = Whip(room, user_->token);
  ASSERT_EQ(pub.reply.status, 201u) << pub.reply.body;
  ASSERT_TRUE(host.ws().WaitNotification("streamPublished"));
  json kicked = host.ws().Call("host.kick", {{"participantId", pub.reply.Header("atrium-participant-id")}});
  ASSERT_EQ(ErrorCodeOf(kicked), 0) << kicked.dump();
  EXPECT_TRUE(host.ws().WaitNotification("streamUnpublished"));
  EXPECT_TRUE(RunUntil(
      [&] { return http_->Request("DELETE", pub.location, {}, Auth(user_->token)).status == 404; }, 5000));
  // A kicked user's next WHIP session is refused like its conference.join.
  HttpReply again = Post("/whip/" + std::to_string(room), user_->token, kSendOffer);
  EXPECT_EQ(again.status, 403u) << again.body;
  EXPECT_EQ(again.Json()["error"]["data"]["kicked"], true);
}

// A client that vanishes after its POST (no DELETE, no ICE) does not stay in the room.
TEST_F(WhipTest, ASessionWhoseClientNeverConnectsEnds) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member ws(*daemon_, "watcher");
  ASSERT_EQ(ErrorCodeOf(ws.Join(room)), 0);
  WebRtcClient::Options o;
  o.role = WebRtcClient::Role::Publisher;
  auto peer = std::make_unique<WebRtcClient>(o);
  HttpReply created = Post("/whip/" + std::to_string(room), user_->token, GatheredOffer(*peer));
  ASSERT_EQ(created.status, 201u) << created.body;
  std::string publisher = created.Header("atrium-participant-id");
  gint64 gone = g_get_monotonic_time();
  peer.reset();  // gone before it even read the answer: the server's checks reach a closed port
  auto left = ws.ws().WaitNotification("participantLeft", 45000);
  ASSERT_TRUE(left);
  EXPECT_EQ((*left)["params"]["participantId"], publisher);
  std::printf("[ timing ] the vanished WHIP client's session ended %.1f s after it went\n",
              double(g_get_monotonic_time() - gone) / G_USEC_PER_SEC);
  EXPECT_EQ(http_->Request("DELETE", created.Header("location"), {}, Auth(user_->token)).status, 404u);
  EXPECT_EQ(IsActive(room)["participants"], 1);
}

// One that vanishes once connected (a crash, a pulled cable) fails its ICE keepalives.
TEST_F(WhipTest, ASessionWhoseClientVanishesAfterConnectingEnds) {
  int64_t room = CreateRoom({{"isPublic", true}});
  Member ws(*daemon_, "watcher");
  ASSERT_EQ(ErrorCodeOf(ws.Join(room)), 0);
  HttpSession pub = Whip(room, user_->token);
  ASSERT_EQ(pub.reply.status, 201u) << pub.reply.body;
  ASSERT_TRUE(RunUntil(
      [&] { return pub.peer->connectionState() == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED; }, 10000));
  std::string publisher = pub.reply.Header("atrium-participant-id");
  gint64 gone = g_get_monotonic_time();
  pub.peer.reset();
  auto left = ws.ws().WaitNotification("participantLeft", 90000);
  ASSERT_TRUE(left);
  EXPECT_EQ((*left)["params"]["participantId"], publisher);
  std::printf("[ timing ] the WHIP client that vanished once connected was removed %.1f s after it went\n",
              double(g_get_monotonic_time() - gone) / G_USEC_PER_SEC);
  EXPECT_EQ(http_->Request("DELETE", pub.location, {}, Auth(user_->token)).status, 404u);
}

TEST_F(WhipTest, WhepPlaysTheMixOfAnMcuRoom) {
  int64_t room = CreateRoom({{"isPublic", true}, {"mode", "mcu"}, {"definition", "240p"}});
  HttpSession pub = Whip(room, user_->token);
  ASSERT_EQ(pub.reply.status, 201u) << pub.reply.body;
  HttpSession mix = Whep(room, "mix", user_->token);
  ASSERT_EQ(mix.reply.status, 201u) << mix.reply.body;
  EXPECT_EQ(mix.reply.Header("atrium-stream-id"), "mix");
  EXPECT_TRUE(
      std::regex_match(mix.location, std::regex("/whep/" + std::to_string(room) + "/mix/[0-9a-f]{32}")));
  EXPECT_TRUE(RunUntil([&] { return mix.peer->framesDecoded() >= 15; }, 30000)) << mix.peer->framesDecoded();
  EXPECT_EQ(http_->Request("DELETE", mix.location, {}, Auth(user_->token)).status, 200u);
  EXPECT_EQ(http_->Request("DELETE", pub.location, {}, Auth(user_->token)).status, 200u);
}

// WHEP of "speaker" in an SFU room: the voice-activated stream, here the only camera.
TEST_F(WhipTest, WhepPlaysTheVoiceActivatedStream) {
  int64_t room = CreateRoom({{"isPublic", true}});
  HttpSession pub = Whip(room, user_->token);
  ASSERT_EQ(pub.reply.status, 201u) << pub.reply.body;
  HttpSession speaker = Whep(room, "speaker", user_->token);
  ASSERT_EQ(speaker.reply.status, 201u) << speaker.reply.body;
  EXPECT_TRUE(RunUntil([&] { return speaker.peer->framesDecoded() >= 15; }, 30000)) << speaker.peer->framesDecoded();
  EXPECT_EQ(http_->Request("DELETE", speaker.location, {}, Auth(user_->token)).status, 200u);
  EXPECT_EQ(http_->Request("DELETE", pub.location, {}, Auth(user_->token)).status, 200u);
  // An MCU room has no such stream: its mix's speaker layout does that.
  int64_t mcu = CreateRoom({{"isPublic", true}, {"mode", "mcu"}, {"definition", "240p"}});
  HttpSession cam = Whip(mcu, user_->token);
  HttpSession none = Whep(mcu, "speaker", user_->token);
  EXPECT_EQ(none.reply.status, 404u) << none.reply.body;
  http_->Request("DELETE", cam.location, {}, Auth(user_->token));
}

TEST_F(WhipTest, AWhipStreamIsRecordedLikeAnyOther) {
  int64_t room = CreateRoom({{"isPublic", true}});
  HttpSession pub = Whip(room, user_->token);
  ASSERT_EQ(pub.reply.status, 201u) << pub.reply.body;
  ASSERT_TRUE(RunUntil(
      [&] { return pub.peer->connectionState() == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED; }, 10000));
  json started = AdminCall("recording.start", {{"roomId", room}, {"format", "webm"}, {"layout", "tracks"}});
  ASSERT_EQ(ErrorCodeOf(started), 0) << started.dump();
  int64_t id = ResultOf(started)["recordingId"];
  RunUntil([] { return false; }, 3000);
  ASSERT_EQ(ErrorCodeOf(AdminCall("recording.stop", {{"recordingId", id}})), 0);
  json rec;
  EXPECT_TRUE(RunUntil(
      [&] {
        rec = Ok(AdminCall("recording.get", {{"recordingId", id}}))["recording"];
        return rec["status"] != "recording";
      },
      20000));
  EXPECT_EQ(rec["status"], "finished") << rec.dump();
  ASSERT_EQ(rec["files"].size(), 1u) << rec.dump();
  EXPECT_EQ(rec["files"][0]["status"], "finished") << rec.dump();
  EXPECT_GT(rec["files"][0]["sizeBytes"].get<int64_t>(), 10000) << rec.dump();
  EXPECT_EQ(http_->Request("DELETE", pub.location, {}, Auth(user_->token)).status, 200u);
}

// Behind a 1:1 NAT, and with a STUN server (on loopback, where nothing answers): the answer
// still comes, with the public-address variant of each host candidate and the STUN server
// in a Link header. The offer has no candidates, so the server sends nothing anywhere.
class WhipNatTest : public DaemonSuite {
protected:
  static void SetUpTestSuite() {
    StartDaemon("[ice]\naddresses = 127.0.0.1\npublic-address = 203.0.113.7\nstun-server = 127.0.0.1:3478\n");
  }
};

TEST_F(WhipNatTest, TheAnswerCarriesPublicAddressCandidatesAndTheStunServer) {
  User u = AddUser("nat");
  int64_t room = Ok(AdminCall("room.create", {{"name", "nat"}, {"isPublic", true}}))["roomId"];
  gint64 start = g_get_monotonic_time();
  HttpReply r = http_->Request("POST", "/whip/" + std::to_string(room), kSendOffer,
                               {{"Authorization", "Bearer " + u.token}, {"Content-Type", "application/sdp"}});
  double ms = double(g_get_monotonic_time() - start) / 1000.0;
  std::printf("[ timing ] answer with a STUN server that does not answer: %.0f ms\n", ms);
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_LT(ms, 5000);
  EXPECT_TRUE(
      std::regex_search(r.body, std::regex("a=candidate:\\S+ 1 UDP \\d+ 127\\.0\\.0\\.1 \\d+ typ host")))
      << r.body;
  EXPECT_TRUE(
      std::regex_search(r.body, std::regex("a=candidate:\\S+ 1 UDP \\d+ 203\\.0\\.113\\.7 \\d+ typ host")))
      << r.body;
  EXPECT_EQ(r.Header("link"), "<stun:127.0.0.1:3478>; rel=\"ice-server\"");
  EXPECT_EQ(
      http_->Request("DELETE", r.Header("location"), {}, {{"Authorization", "Bearer " + u.token}}).status,
      200u);
}

}  // namespace
}  // namespace atrium::test
