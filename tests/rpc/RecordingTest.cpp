// Recording against a real atriumd: two webrtcbin participants publish VP8 + Opus, the
// room is recorded to WebM and MP4 (layout `tracks`), and the files are inspected the way
// a user would: GstDiscoverer for tracks, codecs and duration, then decoded to the end.
// Also downloads with byte ranges and the access rules, and a server killed mid-recording.
#include "core/Error.hpp"
#include "tests/media/WebRtcClient.hpp"
#include "tests/rpc/Harness.hpp"

#include <gst/pbutils/pbutils.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>

namespace atrium::test {
namespace {

// One participant: its WebSocket session and the publishing peer.
class Member {
public:
  Member(const DaemonProcess& daemon, const std::string& name) : ws_(daemon.wsUrl()), name_(name) {}

  json Join(int64_t roomId) { return ws_.Call("conference.join", {{"roomId", roomId}, {"displayName", name_}}); }

  std::string Publish() {
    WebRtcClient::Options o;
    o.role = WebRtcClient::Role::Publisher;
    o.keyframeMaxDist = 10;
    auto client = std::make_unique<WebRtcClient>(o);
    auto pending = std::make_shared<std::vector<std::pair<int, std::string>>>();
    auto sentId = std::make_shared<std::string>();
    client->onLocalCandidate = [this, pending, sentId](int mline, const std::string& c) {
      if (sentId->empty())
        pending->emplace_back(mline, c);
      else
        ws_.Notify("media.candidate", {{"id", *sentId}, {"candidate", c}, {"sdpMLineIndex", mline}});
    };
    json r = ws_.Call("media.publish", {{"kind", "camera"}, {"sdp", client->CreateOffer()}});
    if (ErrorCodeOf(r) != 0) throw std::runtime_error("media.publish failed: " + r.dump());
    std::string id = ResultOf(r)["streamId"];
    client->SetAnswer(ResultOf(r)["sdp"]);
    *sentId = id;
    for (const auto& [m, c] : *pending) ws_.Notify("media.candidate", {{"id", id}, {"candidate", c}, {"sdpMLineIndex", m}});
    peers_[id] = std::move(client);
    Pump();
    return id;
  }

  void Pump() {
    for (auto& n : ws_.TakeNotifications([this](const json& j) {
           return j["method"] == "media.candidate" && peers_.count(j["params"]["id"].get<std::string>());
         })) {
      const auto& p = n["params"];
      peers_.at(p["id"].get<std::string>())->AddRemoteCandidate(p["sdpMLineIndex"], p["candidate"]);
    }
  }
  bool Connected() const {
    for (const auto& [id, p] : peers_)
      if (p->connectionState() != GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) return false;
    return !peers_.empty();
  }
  WsClient& ws() { return ws_; }

private:
  WsClient ws_;
  std::string name_;
  std::map<std::string, std::unique_ptr<WebRtcClient>> peers_;
};

struct Discovered {
  bool ok = false;
  std::string error;
  double durationS = 0;
  std::vector<std::string> video, audio;  // caps names per stream
  int width = 0, height = 0;              // of the first video stream
};

Discovered Discover(const std::string& path) {
  Discovered out;
  GError* err = nullptr;
  GstDiscoverer* d = gst_discoverer_new(30 * GST_SECOND, &err);
  gchar* uri = gst_filename_to_uri(path.c_str(), nullptr);
  GstDiscovererInfo* info = gst_discoverer_discover_uri(d, uri, &err);
  g_free(uri);
  if (err) out.error = err->message;
  g_clear_error(&err);
  if (info && gst_discoverer_info_get_result(info) == GST_DISCOVERER_OK) {
    out.ok = true;
    out.durationS = double(gst_discoverer_info_get_duration(info)) / GST_SECOND;
    GList* streams = gst_discoverer_info_get_stream_list(info);
    for (GList* l = streams; l; l = l->next) {
      auto* si = static_cast<GstDiscovererStreamInfo*>(l->data);
      GstCaps* caps = gst_discoverer_stream_info_get_caps(si);
      std::string name = caps ? gst_structure_get_name(gst_caps_get_structure(caps, 0)) : "";
      if (caps) gst_caps_unref(caps);
      if (GST_IS_DISCOVERER_VIDEO_INFO(si)) {
        if (out.video.empty()) {
          out.width = int(gst_discoverer_video_info_get_width(GST_DISCOVERER_VIDEO_INFO(si)));
          out.height = int(gst_discoverer_video_info_get_height(GST_DISCOVERER_VIDEO_INFO(si)));
        }
        out.video.push_back(name);
      }
      if (GST_IS_DISCOVERER_AUDIO_INFO(si)) out.audio.push_back(name);
    }
    gst_discoverer_stream_info_list_free(streams);
  }
  if (info) g_object_unref(info);
  g_object_unref(d);
  return out;
}

struct Decoded {
  std::atomic<uint64_t> videoFrames{0}, audioBuffers{0};
  std::atomic<uint64_t> lastVideoPts{0}, lastAudioPts{0};
  std::string error;
  bool eos = false;
};

// Decodes every stream of the file to the end, as fast as possible.
void DecodeAll(const std::string& path, Decoded& out) {
  GstElement* pipeline = gst_pipeline_new(nullptr);
  GstElement* src = gst_element_factory_make("filesrc", nullptr);
  GstElement* dec = gst_element_factory_make("decodebin", nullptr);
  g_object_set(src, "location", path.c_str(), nullptr);
  gst_bin_add_many(GST_BIN(pipeline), src, dec, nullptr);
  gst_element_link(src, dec);
  struct Ctx {
    GstElement* pipeline;
    Decoded* out;
  } ctx{pipeline, &out};
  g_signal_connect(dec, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer p) {
                     auto* c = static_cast<Ctx*>(p);
                     GstCaps* caps = gst_pad_query_caps(pad, nullptr);
                     bool video = g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps, 0)), "video/");
                     gst_caps_unref(caps);
                     GstElement* sink = gst_element_factory_make("fakesink", nullptr);
                     g_object_set(sink, "sync", FALSE, "signal-handoffs", TRUE, nullptr);
                     g_signal_connect(sink, "handoff",
                                      video ? G_CALLBACK(+[](GstElement*, GstBuffer* b, GstPad*, gpointer o) {
                                        auto* d = static_cast<Decoded*>(o);
                                        d->videoFrames++;
                                        if (GST_BUFFER_PTS_IS_VALID(b)) d->lastVideoPts = GST_BUFFER_PTS(b);
                                      })
                                            : G_CALLBACK(+[](GstElement*, GstBuffer* b, GstPad*, gpointer o) {
                                                auto* d = static_cast<Decoded*>(o);
                                                d->audioBuffers++;
                                                if (GST_BUFFER_PTS_IS_VALID(b)) d->lastAudioPts = GST_BUFFER_PTS(b);
                                              }),
                                      c->out);
                     gst_bin_add(GST_BIN(c->pipeline), sink);
                     gst_element_sync_state_with_parent(sink);
                     GstPad* sp = gst_element_get_static_pad(sink, "sink");
                     gst_pad_link(pad, sp);
                     gst_object_unref(sp);
                   }),
                   &ctx);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg =
      gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (!msg) {
    out.error = "timeout";
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    out.error = err ? err->message : "error";
    g_clear_error(&err);
  } else {
    out.eos = true;
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

class RecordingTest : public ::testing::Test {
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

  static json Call(const std::string& method, const json& params, const std::string& token = token_) {
    HttpClient http(daemon_->url());
    return http.Call(method, params, token);
  }
  static int64_t CreateRoom(json extra = json::object()) {
    extra["name"] = "Weekly sync";
    extra["isPublic"] = true;
    return ResultOf(Call("room.create", extra))["roomId"];
  }
  static int Transcodes() {
    HttpClient http(daemon_->url());
    std::string body = http.Request("GET", "/metrics").body;
    auto at = body.find("\natrium_transcodes ");
    return at == std::string::npos ? -1 : std::atoi(body.c_str() + at + 19);
  }
  // Records `room` (a, b publishing) as a composite in each format at once for `ms`, and
  // checks each file as a user would: one picture of the room's size and one sound, the
  // expected codecs, the right duration, decodable to the end.
  static void RecordComposite(int64_t room, Member& a, Member& b, std::vector<std::string> formats, int ms,
                              int width, int height) {
    std::vector<std::pair<std::string, int64_t>> ids;
    gint64 t0 = g_get_monotonic_time();
    for (const auto& f : formats) {
      json r = Call("recording.start", {{"roomId", room}, {"format", f}, {"layout", "composite"}});
      ASSERT_EQ(ErrorCodeOf(r), 0) << r.dump();
      ids.emplace_back(f, ResultOf(r)["recordingId"].get<int64_t>());
    }
    Run(a, b, ms);
    for (const auto& [f, id] : ids) ASSERT_EQ(ErrorCodeOf(Call("recording.stop", {{"recordingId", id}})), 0);
    double seconds = double(g_get_monotonic_time() - t0) / 1e6;
    size_t stopped = 0;
    ASSERT_TRUE(RunUntil(
        [&] {
          a.Pump();
          b.Pump();
          stopped += a.ws().TakeNotifications([](const json& j) { return j["method"] == "recordingStopped"; }).size();
          return stopped == ids.size();
        },
        30000));
    for (const auto& [format, id] : ids) {
      SCOPED_TRACE(format);
      const json rec = ResultOf(Call("recording.get", {{"recordingId", id}}))["recording"];
      EXPECT_EQ(rec["status"], "finished") << rec.dump();
      EXPECT_EQ(rec["layout"], "composite");
      EXPECT_FALSE(rec.contains("files")) << rec.dump();  // one file: the recording's own
      EXPECT_EQ(rec["downloadPath"], "/recordings/" + std::to_string(id) + "/file");
      std::string path = PathOf(rec);
      Discovered d = Discover(path);
      ASSERT_TRUE(d.ok) << path << ": " << d.error;
      ASSERT_EQ(d.video.size(), 1u);
      ASSERT_EQ(d.audio.size(), 1u);
      EXPECT_EQ(d.video[0], format == "webm" ? "video/x-vp8" : "video/x-h264");
      EXPECT_EQ(d.audio[0], format == "webm" ? "audio/x-opus" : "audio/mpeg");
      EXPECT_EQ(d.width, width);
      EXPECT_EQ(d.height, height);
      EXPECT_LE(d.durationS, seconds + 0.5) << path;
      EXPECT_GE(d.durationS, seconds - 1.0) << path;
      EXPECT_NEAR(double(rec["durationMs"].get<int64_t>()) / 1000, d.durationS, 0.5);
      Decoded dec;
      DecodeAll(path, dec);
      EXPECT_TRUE(dec.eos) << path << ": " << dec.error;
      EXPECT_GT(dec.videoFrames.load(), uint64_t(d.durationS * 10)) << path;  // 15 fps at 240p
      EXPECT_GT(double(dec.lastAudioPts.load()) / GST_SECOND, d.durationS - 1.0) << path;
      HttpClient http(daemon_->url());
      auto got = http.Request("GET", rec["downloadPath"], "", {{"Authorization", "Bearer " + token_}});
      EXPECT_EQ(got.status, 200u);
      EXPECT_EQ(got.body.size(), size_t(rec["sizeBytes"].get<int64_t>()));
    }
  }
  static std::string PathOf(const json& file) { return dir_->path() + "/recordings/" + std::to_string(file["recordingId"].get<int64_t>()) + "." + file["format"].get<std::string>(); }

  // Two participants publishing in `room`, connected.
  static void StartRoom(int64_t room, Member& a, Member& b) {
    ASSERT_EQ(ErrorCodeOf(a.Join(room)), 0);
    ASSERT_EQ(ErrorCodeOf(b.Join(room)), 0);
    a.Publish();
    b.Publish();
    ASSERT_TRUE(RunUntil(
        [&] {
          a.Pump();
          b.Pump();
          return a.Connected() && b.Connected();
        },
        20000));
  }
  static void Run(Member& a, Member& b, int ms) {
    RunUntil(
        [&] {
          a.Pump();
          b.Pump();
          return false;
        },
        ms);
  }

  // The finished files of the suite's first recording in each format, for the download tests.
  static std::map<std::string, json> finished_;
  static TempDir* dir_;
  static DaemonProcess* daemon_;
  static std::string token_;
};

std::map<std::string, json> RecordingTest::finished_;
TempDir* RecordingTest::dir_ = nullptr;
DaemonProcess* RecordingTest::daemon_ = nullptr;
std::string RecordingTest::token_;

TEST_F(RecordingTest, TracksOfATwoParticipantRoomInWebmAndMp4) {
  int64_t room = CreateRoom();
  Member a(*daemon_, "alice"), b(*daemon_, "bob");
  StartRoom(room, a, b);
  Run(a, b, 1000);

  json webm = Call("recording.start", {{"roomId", room}, {"format", "webm"}, {"layout", "tracks"}, {"name", "Sync «webm»"}});
  gint64 t0 = g_get_monotonic_time();
  json mp4 = Call("recording.start", {{"roomId", room}, {"format", "mp4"}, {"layout", "tracks"}});
  gint64 t0mp4 = g_get_monotonic_time();
  ASSERT_EQ(ErrorCodeOf(webm), 0) << webm.dump();
  ASSERT_EQ(ErrorCodeOf(mp4), 0) << mp4.dump();
  auto started = a.ws().WaitNotification("recordingStarted", 5000);
  ASSERT_TRUE(started);
  EXPECT_EQ((*started)["params"]["roomId"], room);

  Run(a, b, 5000);
  int64_t webmId = ResultOf(webm)["recordingId"], mp4Id = ResultOf(mp4)["recordingId"];
  ASSERT_EQ(ErrorCodeOf(Call("recording.stop", {{"recordingId", webmId}})), 0);
  double webmSeconds = double(g_get_monotonic_time() - t0) / 1e6;
  ASSERT_EQ(ErrorCodeOf(Call("recording.stop", {{"recordingId", mp4Id}})), 0);
  double mp4Seconds = double(g_get_monotonic_time() - t0mp4) / 1e6;
  // Stopping twice: the recording is no longer running.
  EXPECT_EQ(ErrorCodeOf(Call("recording.stop", {{"recordingId", webmId}})), int(ErrorCode::NotFound));

  int stopped = 0;
  ASSERT_TRUE(RunUntil(
      [&] {
        a.Pump();
        b.Pump();
        stopped += int(a.ws().TakeNotifications([](const json& j) { return j["method"] == "recordingStopped"; }).size());
        return stopped == 2;
      },
      30000));

  for (auto [id, format, seconds] : {std::tuple{webmId, std::string("webm"), webmSeconds},
                                     std::tuple{mp4Id, std::string("mp4"), mp4Seconds}}) {
    SCOPED_TRACE(format);
    json got = Call("recording.get", {{"recordingId", id}});
    ASSERT_EQ(ErrorCodeOf(got), 0) << got.dump();
    const json& rec = ResultOf(got)["recording"];
    EXPECT_EQ(rec["status"], "finished") << rec.dump();
    EXPECT_EQ(rec["layout"], "tracks");
    ASSERT_EQ(rec["files"].size(), 2u) << rec.dump();
    for (const auto& file : rec["files"]) {
      EXPECT_EQ(file["status"], "finished") << file.dump();
      std::string path = PathOf(file);
      Discovered d = Discover(path);
      ASSERT_TRUE(d.ok) << path << ": " << d.error;
      ASSERT_EQ(d.video.size(), 1u);
      ASSERT_EQ(d.audio.size(), 1u);
      if (format == "webm") {
        EXPECT_EQ(d.video[0], "video/x-vp8");
        EXPECT_EQ(d.audio[0], "audio/x-opus");
      } else {
        EXPECT_EQ(d.video[0], "video/x-h264");
        EXPECT_EQ(d.audio[0], "audio/mpeg");
      }
      // The file covers the time between start and stop, from the first keyframe on: the
      // publisher sends one within a keyframe interval (10 frames here) of the request.
      EXPECT_LE(d.durationS, seconds + 0.5) << path;
      EXPECT_GE(d.durationS, seconds - 1.0) << path;
      EXPECT_NEAR(double(file["durationMs"].get<int64_t>()) / 1000, d.durationS, 0.5);
      EXPECT_GT(file["sizeBytes"].get<int64_t>(), 10000);
      Decoded dec;
      DecodeAll(path, dec);
      EXPECT_TRUE(dec.eos) << path << ": " << dec.error;
      EXPECT_GT(dec.videoFrames.load(), 60u) << path;
      EXPECT_GT(dec.audioBuffers.load(), 100u) << path;
      EXPECT_GT(double(dec.lastVideoPts.load()) / GST_SECOND, d.durationS - 1.0) << path;
      EXPECT_GT(double(dec.lastAudioPts.load()) / GST_SECOND, d.durationS - 1.0) << path;
    }
    finished_[format] = rec["files"][0];
  }

  // The archive lists both, newest first, with name filters.
  json list = Call("recording.list", {{"pageNo", 1}, {"pageSize", 10}});
  ASSERT_EQ(ErrorCodeOf(list), 0) << list.dump();
  EXPECT_GE(ResultOf(list)["totalCount"].get<int64_t>(), 2);
  json named = Call("recording.list", {{"name", "«webm»"}, {"pageNo", 1}, {"pageSize", 10}});
  ASSERT_EQ(ResultOf(named)["totalCount"], 1);
  EXPECT_EQ(ResultOf(named)["recordList"][0]["recordingId"], webmId);
  EXPECT_EQ(ResultOf(named)["totalPage"], 1);
}

// Layout composite in an SFU room: a mixer runs for the recording only (and the MP4's
// H.264 comes from the room's transcoding branch), both gone when the recordings end.
TEST_F(RecordingTest, CompositeOfAnSfuRoomInWebmAndMp4) {
  int64_t room = CreateRoom({{"definition", "240p"}});
  Member a(*daemon_, "alice"), b(*daemon_, "bob");
  StartRoom(room, a, b);
  Run(a, b, 500);
  RecordComposite(room, a, b, {"webm", "mp4"}, 4000, 426, 240);
  EXPECT_EQ(Transcodes(), 0);
  // The room forwards as before, and records again.
  RecordComposite(room, a, b, {"webm"}, 2000, 426, 240);
}

// In an MCU room the composite is the mix the participants already see.
TEST_F(RecordingTest, CompositeOfAnMcuRoom) {
  int64_t room = CreateRoom({{"definition", "240p"}, {"mode", "mcu"}});
  Member a(*daemon_, "alice"), b(*daemon_, "bob");
  StartRoom(room, a, b);
  Run(a, b, 500);
  RecordComposite(room, a, b, {"webm"}, 3000, 426, 240);
}

// A token with the record grant (a recorder's) starts recordings in a room it may enter
// without administering it; without the grant it may not.
TEST_F(RecordingTest, TheRecordGrantLetsARecorderStart) {
  int64_t room = CreateRoom();
  Member a(*daemon_, "alice"), b(*daemon_, "bob");
  StartRoom(room, a, b);
  auto tokenWith = [&](json grants) {
    return ResultOf(Call("auth.issueToken", {{"grants", grants}, {"ttl", 600}}))["token"].get<std::string>();
  };
  std::string recorder = tokenWith({{"rooms", {room}}, {"record", true}});
  std::string visitor = tokenWith({{"rooms", {room}}});
  std::string elsewhere = tokenWith({{"rooms", json::array({room + 1000})}, {"record", true}});
  json params = {{"roomId", room}, {"format", "webm"}, {"layout", "tracks"}};
  EXPECT_EQ(ErrorCodeOf(Call("recording.start", params, visitor)), int(ErrorCode::Forbidden));
  EXPECT_EQ(ErrorCodeOf(Call("recording.start", params, elsewhere)), int(ErrorCode::Forbidden));
  json r = Call("recording.start", params, recorder);
  ASSERT_EQ(ErrorCodeOf(r), 0) << r.dump();
  Run(a, b, 1000);
  EXPECT_EQ(ErrorCodeOf(Call("recording.stop", {{"recordingId", ResultOf(r)["recordingId"]}}, recorder)), 0);
  ASSERT_TRUE(a.ws().WaitNotification("recordingStopped", 20000));
}

TEST_F(RecordingTest, DownloadWithRangesAndAccessRules) {
  if (!finished_.count("webm")) GTEST_SKIP() << "needs the recording of the previous test";
  const json& file = finished_["webm"];
  int64_t id = file["recordingId"];
  std::string path = "/recordings/" + std::to_string(id) + "/file";
  std::string whole = ReadFile(PathOf(file));
  ASSERT_GT(whole.size(), 10000u);
  HttpClient http(daemon_->url());
  auto bearer = std::map<std::string, std::string>{{"Authorization", "Bearer " + token_}};
  auto with = [&](std::map<std::string, std::string> h) {
    h.insert(bearer.begin(), bearer.end());
    return h;
  };

  auto r = http.Request("GET", path, {}, bearer);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.body, whole);
  EXPECT_EQ(r.contentType, "video/webm");
  EXPECT_EQ(r.Header("accept-ranges"), "bytes");
  EXPECT_NE(r.Header("content-disposition").find("attachment"), std::string::npos);
  EXPECT_NE(r.Header("content-disposition").find(".webm"), std::string::npos);

  r = http.Request("GET", path, {}, with({{"Range", "bytes=0-99"}}));
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, whole.substr(0, 100));
  r = http.Request("GET", path, {}, with({{"Range", "bytes=1000-1999"}}));
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, whole.substr(1000, 1000));
  EXPECT_EQ(r.Header("content-range"), "bytes 1000-1999/" + std::to_string(whole.size()));
  r = http.Request("GET", path, {}, with({{"Range", "bytes=-500"}}));
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, whole.substr(whole.size() - 500));
  r = http.Request("GET", path, {}, with({{"Range", "bytes=" + std::to_string(whole.size() + 10) + "-"}}));
  EXPECT_EQ(r.status, 416u);
  r = http.Request("GET", path, {}, with({{"Range", "bytes=0-9,100-109"}}));
  EXPECT_EQ(r.status, 206u);
  EXPECT_NE(r.contentType.find("multipart/byteranges"), std::string::npos) << r.contentType;
  EXPECT_NE(r.body.find(whole.substr(100, 10)), std::string::npos);

  // Who may download: no token 401, a bad token 401, another user 403.
  EXPECT_EQ(http.Request("GET", path).status, 401u);
  EXPECT_EQ(http.Request("GET", path, {}, {{"Authorization", "Bearer nonsense"}}).status, 401u);
  ASSERT_EQ(ErrorCodeOf(Call("user.add", {{"account", "mallory"}, {"name", "Mallory"}, {"password", "mallory-pass-1"}})), 0);
  std::string other = ResultOf(Call("auth.login", {{"account", "mallory"}, {"password", "mallory-pass-1"}}, ""))["token"];
  EXPECT_EQ(http.Request("GET", path, {}, {{"Authorization", "Bearer " + other}}).status, 403u);
  EXPECT_EQ(ErrorCodeOf(Call("recording.get", {{"recordingId", id}}, other)), int(ErrorCode::Forbidden));

  // Ids that do not exist and path tricks.
  for (const char* bad : {"/recordings/999999/file", "/recordings/../atrium.db", "/recordings/%2e%2e/file",
                          "/recordings/01/file", "/recordings/" "1/../1/file", "/recordings/abc/file", "/recordings/",
                          "/recordings/1/file/..", "/recordings/1%41/file"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(http.Request("GET", bad, {}, bearer).status, 404u);
  }
  // libsoup itself refuses some encodings (an encoded slash by dot segments, NUL) with 400
  // before any handler runs.
  for (const char* bad : {"/recordings/1%2f..%2f/file", "/recordings/1%00/file"}) {
    SCOPED_TRACE(bad);
    unsigned status = http.Request("GET", bad, {}, bearer).status;
    EXPECT_TRUE(status == 400u || status == 404u) << status;
  }

  // A signed URL works without a token until it is tampered with.
  json url = Call("recording.url", {{"recordingId", id}});
  ASSERT_EQ(ErrorCodeOf(url), 0) << url.dump();
  std::string signedPath = ResultOf(url)["url"];
  r = http.Request("GET", signedPath, {}, {{"Range", "bytes=0-9"}});
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, whole.substr(0, 10));
  std::string tampered = signedPath;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(http.Request("GET", tampered).status, 401u);
  // The URL of one file does not open another.
  if (finished_.count("mp4")) {
    std::string otherPath = "/recordings/" + std::to_string(finished_["mp4"]["recordingId"].get<int64_t>()) +
                            "/file" + signedPath.substr(signedPath.find('?'));
    EXPECT_EQ(http.Request("GET", otherPath).status, 401u);
  }
}

TEST_F(RecordingTest, BadRequestsLeaveNothingBehind) {
  int64_t room = CreateRoom();
  EXPECT_EQ(ErrorCodeOf(Call("recording.start", {{"roomId", room}, {"format", "avi"}, {"layout", "tracks"}})),
            int(ErrorCode::InvalidParams));
  EXPECT_EQ(ErrorCodeOf(Call("recording.start", {{"roomId", room}, {"format", "webm"}, {"layout", "grid"}})),
            int(ErrorCode::InvalidParams));
  // Not live: nobody is in the room.
  EXPECT_EQ(ErrorCodeOf(Call("recording.start", {{"roomId", room}, {"format", "webm"}, {"layout", "tracks"}})),
            int(ErrorCode::Conflict));
  EXPECT_EQ(ErrorCodeOf(Call("recording.start", {{"roomId", 999999}, {"format", "webm"}, {"layout", "tracks"}})),
            int(ErrorCode::NotFound));
  EXPECT_EQ(ErrorCodeOf(Call("recording.stop", {{"recordingId", 999999}})), int(ErrorCode::NotFound));
  EXPECT_EQ(ErrorCodeOf(Call("recording.delete", {{"recordingIds", json::array({999999})}})), int(ErrorCode::NotFound));
  EXPECT_EQ(ErrorCodeOf(Call("recording.list", {{"pageNo", 0}})), int(ErrorCode::InvalidParams));
  EXPECT_EQ(ErrorCodeOf(Call("recording.list", {{"startDate", 10}, {"endDate", 5}})), int(ErrorCode::InvalidParams));
}

TEST_F(RecordingTest, DeleteRemovesRowsAndFiles) {
  if (!finished_.count("mp4")) GTEST_SKIP() << "needs the recording of the first test";
  int64_t parent = finished_["mp4"]["parentId"];
  json got = ResultOf(Call("recording.get", {{"recordingId", parent}}))["recording"];
  std::vector<std::string> paths;
  for (const auto& f : got["files"]) paths.push_back(PathOf(f));
  ASSERT_FALSE(paths.empty());
  json del = Call("recording.delete", {{"recordingIds", json::array({parent})}});
  ASSERT_EQ(ErrorCodeOf(del), 0) << del.dump();
  EXPECT_EQ(ErrorCodeOf(Call("recording.get", {{"recordingId", parent}})), int(ErrorCode::NotFound));
  for (const auto& p : paths) EXPECT_FALSE(g_file_test(p.c_str(), G_FILE_TEST_EXISTS)) << p;
  finished_.erase("mp4");
}

// A publisher leaving ends its file; the last one leaving ends the conference, and with it
// the recording, whose files are complete.
TEST_F(RecordingTest, LeavingEndsFilesAndTheRecording) {
  int64_t room = CreateRoom();
  auto a = std::make_unique<Member>(*daemon_, "alice");
  auto b = std::make_unique<Member>(*daemon_, "bob");
  StartRoom(room, *a, *b);
  json r = Call("recording.start", {{"roomId", room}, {"format", "webm"}, {"layout", "tracks"}});
  ASSERT_EQ(ErrorCodeOf(r), 0) << r.dump();
  int64_t id = ResultOf(r)["recordingId"];
  Run(*a, *b, 3000);
  b.reset();  // bob's socket closes: he leaves
  auto fileStatus = [&](size_t i) {
    json rec = ResultOf(Call("recording.get", {{"recordingId", id}}))["recording"];
    return rec["files"].size() > i ? rec["files"][i]["status"].get<std::string>() : std::string();
  };
  ASSERT_TRUE(RunUntil(
      [&] {
        a->Pump();
        return fileStatus(1) == "finished";
      },
      20000));
  EXPECT_EQ(fileStatus(0), "recording");
  a.reset();
  json rec;
  ASSERT_TRUE(RunUntil(
      [&] {
        rec = ResultOf(Call("recording.get", {{"recordingId", id}}))["recording"];
        return rec["status"] != "recording";
      },
      20000));
  EXPECT_EQ(rec["status"], "finished") << rec.dump();
  for (const auto& f : rec["files"]) {
    EXPECT_EQ(f["status"], "finished") << f.dump();
    Discovered d = Discover(PathOf(f));
    EXPECT_TRUE(d.ok) << d.error;
    EXPECT_GT(d.durationS, 2.0);
  }
}

// atriumctl recording list | download | delete against the suite's WebM recording.
TEST_F(RecordingTest, AtriumctlListsDownloadsAndDeletes) {
  if (!finished_.count("webm")) GTEST_SKIP() << "needs the recording of the first test";
  int64_t parent = finished_["webm"]["parentId"];
  TempDir out;
  auto ctl = [&](std::vector<std::string> args, std::string* stdoutText) {
    std::vector<std::string> argv{g_getenv("ATRIUMCTL"), "--server", daemon_->url(), "--token", token_};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    gchar* so = nullptr;
    gint status = -1;
    EXPECT_TRUE(g_spawn_sync(out.path().c_str(), cargv.data(), nullptr, G_SPAWN_DEFAULT, nullptr, nullptr, &so,
                             nullptr, &status, nullptr));
    if (stdoutText) *stdoutText = so ? so : "";
    g_free(so);
    return g_spawn_check_wait_status(status, nullptr);
  };
  std::string text;
  ASSERT_TRUE(ctl({"recording", "list", "--name", "«webm»"}, &text)) << text;
  EXPECT_NE(text.find(std::to_string(parent)), std::string::npos) << text;
  ASSERT_TRUE(ctl({"recording", "download", std::to_string(parent)}, &text)) << text;
  json rec = ResultOf(Call("recording.get", {{"recordingId", parent}}))["recording"];
  ASSERT_EQ(rec["files"].size(), 2u);
  for (const auto& f : rec["files"]) {
    std::string saved = out.path() + "/recording-" + std::to_string(f["recordingId"].get<int64_t>()) + ".webm";
    EXPECT_EQ(ReadFile(saved), ReadFile(PathOf(f))) << saved;
  }
  ASSERT_TRUE(ctl({"recording", "delete", std::to_string(parent)}, &text)) << text;
  EXPECT_EQ(ErrorCodeOf(Call("recording.get", {{"recordingId", parent}})), int(ErrorCode::NotFound));
  EXPECT_FALSE(ctl({"recording", "download", std::to_string(parent)}, &text));
  finished_.erase("webm");
}

// kill -9 four seconds into a WebM and an MP4 recording: after a restart both files play
// at least 2 s and their rows say so.
TEST(RecordingCrashTest, KilledServerLeavesPlayableFiles) {
  TempDir dir;
  DaemonProcess daemon(dir.path(), "[ice]\naddresses = 127.0.0.1\n");
  HttpClient http(daemon.url());
  std::string token =
      ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}))["token"];
  int64_t room = ResultOf(http.Call("room.create", {{"name", "crash"}, {"isPublic", true}}, token))["roomId"];
  std::vector<int64_t> ids;
  {
    Member a(daemon, "alice"), b(daemon, "bob");
    ASSERT_EQ(ErrorCodeOf(a.Join(room)), 0);
    ASSERT_EQ(ErrorCodeOf(b.Join(room)), 0);
    a.Publish();
    ASSERT_TRUE(RunUntil(
        [&] {
          a.Pump();
          return a.Connected();
        },
        20000));
    for (const char* format : {"webm", "mp4"}) {
      json r = http.Call("recording.start", {{"roomId", room}, {"format", format}, {"layout", "tracks"}}, token);
      ASSERT_EQ(ErrorCodeOf(r), 0) << r.dump();
      ids.push_back(ResultOf(r)["recordingId"]);
    }
    RunUntil(
        [&] {
          a.Pump();
          return false;
        },
        4000);
    daemon.Kill9();
  }
  daemon.Start();
  HttpClient http2(daemon.url());
  for (int64_t id : ids) {
    json got = http2.Call("recording.get", {{"recordingId", id}}, token);
    ASSERT_EQ(ErrorCodeOf(got), 0) << got.dump();
    const json& rec = ResultOf(got)["recording"];
    EXPECT_EQ(rec["status"], "finished") << rec.dump();
    ASSERT_EQ(rec["files"].size(), 1u) << rec.dump();
    const json& file = rec["files"][0];
    EXPECT_EQ(file["status"], "finished") << file.dump();
    EXPECT_GE(file["durationMs"].get<int64_t>(), 2000) << file.dump();
    std::string path = dir.path() + "/recordings/" + std::to_string(file["recordingId"].get<int64_t>()) + "." +
                       file["format"].get<std::string>();
    Discovered d = Discover(path);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_GE(d.durationS, 2.0) << path;
    Decoded dec;
    DecodeAll(path, dec);
    EXPECT_TRUE(dec.eos) << dec.error;
    EXPECT_GE(double(dec.lastVideoPts.load()) / GST_SECOND, 2.0) << path;
  }
}

}  // namespace
}  // namespace atrium::test

namespace atrium::test {
namespace {

// A full disk (the file is /dev/full) fails the recording with recordingFailed; the room
// goes on, and the next recording works. An unwritable directory fails recording.start.
TEST(RecordingFailureTest, DiskFullAndUnwritableDirectory) {
  TempDir dir;
  DaemonProcess daemon(dir.path(), "[ice]\naddresses = 127.0.0.1\n", {{"GST_DEBUG", "atrium-rooms:1,atrium-media:1"}});
  HttpClient http(daemon.url());
  std::string token =
      ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}))["token"];
  int64_t room = ResultOf(http.Call("room.create", {{"name", "full"}, {"isPublic", true}}, token))["roomId"];
  Member a(daemon, "alice");
  ASSERT_EQ(ErrorCodeOf(a.Join(room)), 0);
  a.Publish();
  auto pump = [&](int ms, const std::function<bool()>& done) {
    return RunUntil(
        [&] {
          a.Pump();
          return done();
        },
        ms);
  };
  ASSERT_TRUE(pump(20000, [&] { return a.Connected(); }));

  // Fresh database: the recording is row 1 and its file row 2.
  std::string file = dir.path() + "/recordings/2.webm";
  ASSERT_EQ(symlink("/dev/full", file.c_str()), 0);
  json r = http.Call("recording.start", {{"roomId", room}, {"format", "webm"}, {"layout", "tracks"}}, token);
  ASSERT_EQ(ErrorCodeOf(r), 0) << r.dump();
  ASSERT_EQ(ResultOf(r)["recordingId"], 1);
  std::optional<json> failed;
  ASSERT_TRUE(pump(20000, [&] {
    auto n = a.ws().TakeNotifications([](const json& j) { return j["method"] == "recordingFailed"; });
    if (!n.empty()) failed = n.front();
    return failed.has_value();
  }));
  EXPECT_EQ((*failed)["params"]["recordingId"], 1);
  EXPECT_NE((*failed)["params"]["reason"].get<std::string>(), "");
  ASSERT_TRUE(pump(10000, [&] {
    return ResultOf(http.Call("recording.get", {{"recordingId", 1}}, token))["recording"]["status"] == "failed";
  }));
  std::string log = ReadFile(dir.path() + "/atriumd.log");
  EXPECT_NE(log.find("recording failed"), std::string::npos) << log;
  EXPECT_NE(log.find("No space left"), std::string::npos) << log;

  // The room goes on: the publisher is still there and a new recording works.
  unlink(file.c_str());
  json again = http.Call("recording.start", {{"roomId", room}, {"format", "webm"}, {"layout", "tracks"}}, token);
  ASSERT_EQ(ErrorCodeOf(again), 0) << again.dump();
  pump(3000, [] { return false; });
  ASSERT_EQ(ErrorCodeOf(http.Call("recording.stop", {{"recordingId", ResultOf(again)["recordingId"]}}, token)), 0);
  ASSERT_TRUE(pump(20000, [&] {
    return !a.ws().TakeNotifications([](const json& j) { return j["method"] == "recordingStopped"; }).empty() &&
           ResultOf(http.Call("recording.get", {{"recordingId", ResultOf(again)["recordingId"]}}, token))["recording"]
                   ["status"] == "finished";
  }));

  // The recordings directory replaced by a file: recording.start refuses, clearly.
  std::string rdir = dir.path() + "/recordings";
  ASSERT_EQ(system(("rm -rf '" + rdir + "' && touch '" + rdir + "'").c_str()), 0);
  json refused = http.Call("recording.start", {{"roomId", room}, {"format", "mp4"}, {"layout", "tracks"}}, token);
  EXPECT_EQ(ErrorCodeOf(refused), int(ErrorCode::Unavailable)) << refused.dump();
  EXPECT_TRUE(pump(5000, [&] {
    return !a.ws().TakeNotifications([](const json& j) { return j["method"] == "recordingFailed"; }).empty();
  }));
  EXPECT_EQ(ErrorCodeOf(http.Call("server.ping", {}, token)), 0);
}

}  // namespace
}  // namespace atrium::test
