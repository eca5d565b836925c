// Video filters on published streams against a real atriumd: a webrtcbin publisher whose
// camera is a face photo; filter.apply "face" blurs the face for every subscriber (the
// decoded picture loses its detail there) and tells the room where the face is; removing
// the filter brings the detail back; "motion" tells when something moves; bad requests
// get their documented errors and the stream plays on.
#include "tests/media/ReceiveCounter.hpp"
#include "tests/media/WebRtcClient.hpp"
#include "tests/rpc/ConferenceMember.hpp"
#include "tests/rpc/DaemonSuite.hpp"
#include "tests/rpc/Harness.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace atrium::test {
namespace {

constexpr const char* kFacePhoto = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";  // opencv-doc

class FilterTest : public DaemonSuite {
protected:
  static void SetUpTestSuite() { StartDaemon("[ice]\naddresses = 127.0.0.1\n"); }
  void SetUp() override {
    if (!g_file_test(kFacePhoto, G_FILE_TEST_EXISTS)) GTEST_SKIP() << kFacePhoto << " is missing (opencv-doc)";
  }
  int64_t CreateRoom() { return Ok(AdminCall("room.create", {{"name", "filters"}, {"isPublic", true}}))["roomId"]; }
  static bool Wait(const std::vector<Member*>& members, const std::function<bool()>& done, int timeoutMs = 15000) {
    return WaitPumping(members, done, timeoutMs);
  }
  static std::optional<json> WaitFor(Member& m, const std::string& method, const std::vector<Member*>& pump,
                                     const std::function<bool(const json&)>& pred, int timeoutMs = 15000) {
    return WaitForNotification(m, method, pump, pred, timeoutMs);
  }

  // Fine detail inside a rectangle of the decoded picture (fractions of it): the mean luma
  // step between pixels two apart, sampled on a grid. A blur takes it away.
  static double Detail(const ReceiveCounter& r, double x, double y, double w, double h) {
    int width = r.frameWidth(), height = r.frameHeight();
    if (!width || !height) return 0;
    double dx = 2.0 / width, dy = 2.0 / height, sum = 0;
    int n = 0;
    for (int i = 0; i < 20; ++i)
      for (int j = 0; j < 20; ++j) {
        double px = x + w * (i + 0.5) / 20, py = y + h * (j + 0.5) / 20;
        int a[3], b[3], c[3];
        if (!r.SampleYuv(px, py, a) || !r.SampleYuv(px + dx, py, b) || !r.SampleYuv(px, py + dy, c)) continue;
        sum += std::abs(a[0] - b[0]) + std::abs(a[0] - c[0]);
        ++n;
      }
    return n ? sum / n : 0;
  }

};

TEST_F(FilterTest, TheFaceFilterBlursTheFaceForEveryoneAndTellsWhereItIs) {
  int64_t room = CreateRoom();
  Member pub(*daemon_, "camera"), viewer(*daemon_, "viewer"), other(*daemon_, "other");
  std::vector<Member*> all = {&pub, &viewer, &other};
  for (auto* m : all) ASSERT_EQ(ErrorCodeOf(m->Join(room)), 0);
  WebRtcClient::Options o;
  o.imageFile = kFacePhoto;  // 548x342: the head and shoulders, 16:9, as the plugin test frames it
  o.imageCrop[0] = 65;
  o.imageCrop[1] = 2;
  o.imageCrop[2] = 548 - 65 - 320;
  o.imageCrop[3] = 342 - 2 - 180;
  o.width = 640;
  o.height = 360;
  o.fps = 15;
  o.keyframeMaxDist = 30;
  o.audio = false;
  std::string stream = pub.Publish(o);
  std::string play = viewer.Play(stream);
  ASSERT_TRUE(Wait(all, [&] { return viewer.peer(play).framesDecoded() > 15; }, 20000));

  // Where the face is in this photo, as the plugin test frames it: about the middle.
  double before = Detail(viewer.received(play), 0.35, 0.15, 0.3, 0.5);
  ASSERT_GT(before, 2.0);
  json r = pub.ws().Call("filter.apply", {{"streamId", stream}, {"filter", "face"}, {"params", {{"mode", "blur"}}}});
  ASSERT_EQ(ErrorCodeOf(r), 0) << r.dump();
  auto applied = WaitFor(other, "filterApplied", all, [&](const json& p) { return p["streamId"] == stream; });
  ASSERT_TRUE(applied);
  auto seen = WaitFor(other, "filterEvent", all, [&](const json& p) {
    return p["streamId"] == stream && p["filter"] == "face" && p["faces"].get<int>() >= 1;
  }, 20000);
  ASSERT_TRUE(seen);
  EXPECT_EQ((*seen)["participantId"], pub.id());
  const json& rect = (*seen)["rects"][0];
  double fx = rect["x"].get<double>() / 640, fy = rect["y"].get<double>() / 360;
  double fw = rect["width"].get<double>() / 640, fh = rect["height"].get<double>() / 360;
  EXPECT_GT(fw, 0.05);
  // The viewer's picture: the face loses its detail.
  double face = Detail(viewer.received(play), fx, fy, fw, fh), blurred = face;
  ASSERT_TRUE(Wait(all, [&] { return (blurred = Detail(viewer.received(play), fx, fy, fw, fh)) < face * 0.4; }, 10000))
      << "detail in the face " << face << " before, " << blurred << " now";
  RecordProperty("face_detail", std::to_string(face) + " -> " + std::to_string(blurred));
  // A subscriber who joins now gets the filtered picture too.
  std::string late = other.Play(stream);
  ASSERT_TRUE(Wait(all, [&] { return other.peer(late).framesDecoded() > 10; }, 20000));
  double lateDetail = 0;
  EXPECT_TRUE(Wait(all, [&] { return (lateDetail = Detail(other.received(late), fx, fy, fw, fh)) < face * 0.4; }, 10000))
      << lateDetail;

  ASSERT_EQ(ErrorCodeOf(pub.ws().Call("filter.remove", {{"streamId", stream}})), 0);
  ASSERT_TRUE(WaitFor(viewer, "filterRemoved", all, [&](const json& p) { return p["streamId"] == stream; }));
  double sharp = 0;
  EXPECT_TRUE(Wait(all, [&] { return (sharp = Detail(viewer.received(play), fx, fy, fw, fh)) > face * 0.7; }, 10000))
      << sharp << " vs " << face;
  uint64_t frames = viewer.peer(play).framesDecoded();
  EXPECT_TRUE(Wait(all, [&] { return viewer.peer(play).framesDecoded() > frames + 10; }));
  EXPECT_EQ(viewer.peer(play).lastError(), "");
}

TEST_F(FilterTest, BadRequestsAreRefusedAndTheStreamPlaysOn) {
  int64_t room = CreateRoom();
  Member pub(*daemon_, "camera"), viewer(*daemon_, "viewer");
  std::vector<Member*> all = {&pub, &viewer};
  for (auto* m : all) ASSERT_EQ(ErrorCodeOf(m->Join(room)), 0);
  std::string stream = pub.Publish();
  std::string play = viewer.Play(stream);
  ASSERT_TRUE(Wait(all, [&] { return viewer.peer(play).framesDecoded() > 10; }));
  auto apply = [&](Member& m, json params) { return ErrorCodeOf(m.ws().Call("filter.apply", params)); };
  EXPECT_EQ(apply(pub, {{"streamId", stream}, {"filter", "sepia"}}), -32602);
  EXPECT_EQ(apply(pub, {{"streamId", stream}, {"filter", "face"}, {"params", {{"mode", "paint"}}}}), -32602);
  EXPECT_EQ(apply(pub, {{"streamId", stream}, {"filter", "face"}, {"params", {{"minSize", "big"}}}}), -32602);
  EXPECT_EQ(apply(pub, {{"streamId", stream}, {"filter", "motion"}, {"params", {{"threshold", 999}}}}), -32602);
  EXPECT_EQ(apply(pub, {{"streamId", stream}, {"filter", "motion"}, {"params", {{"colour", 1}}}}), -32602);
  EXPECT_EQ(apply(pub, {{"streamId", stream}, {"filter", "face"}, {"params", 5}}), -32602);
  EXPECT_EQ(apply(pub, {{"streamId", "s0-000000"}, {"filter", "face"}}), -32003);
  EXPECT_EQ(apply(viewer, {{"streamId", stream}, {"filter", "face"}}), -32002);  // not its stream, not a host
  EXPECT_EQ(ErrorCodeOf(pub.ws().Call("filter.remove", {{"streamId", stream}})), -32003);  // none there
  // Motion: the test pattern's moving part is motion.
  ASSERT_EQ(apply(pub, {{"streamId", stream}, {"filter", "motion"}, {"params", {{"minArea", 0.001}}}}), 0);
  auto moved = WaitFor(viewer, "filterEvent", all, [&](const json& p) { return p["filter"] == "motion" && p["active"] == true; });
  EXPECT_TRUE(moved);
  uint64_t frames = viewer.peer(play).framesDecoded();
  EXPECT_TRUE(Wait(all, [&] { return viewer.peer(play).framesDecoded() > frames + 15; }));
  // Leaving with a filter on: the room goes on.
  pub.ws().Call("conference.leave");
  EXPECT_TRUE(viewer.ws().WaitNotification("participantLeft", 10000));
}

}  // namespace
}  // namespace atrium::test
