// atriumfacedetect and atriummotiondetect driven through GstHarness with 640x360 BGRx
// frames at 30 fps: what each does to the pixels and which messages it posts when.
// The face is a real photo from Debian's opencv-doc (scripts/deps.sh installs it).
#include "gstatrium.h"

#include <gst/check/gstharness.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <memory>
#include <string>
#include <vector>

namespace {

constexpr int kWidth = 640;
constexpr int kHeight = 360;
constexpr GstClockTime kFrame = GST_SECOND / 30;
// Frame i's timestamp at 30 fps, exact to the nanosecond (frame 30 is 1 s).
GstClockTime Pts(int i) { return gst_util_uint64_scale(i, GST_SECOND, 30); }
constexpr const char* kCaps = "video/x-raw,format=BGRx,width=640,height=360,framerate=30/1";
constexpr const char* kFacePhoto = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";
// In the framing FaceFrame() makes, the face is about 84 px square around this point.
const cv::Point kFaceCentre(360, 222);

struct HarnessDeleter {
  void operator()(GstHarness* h) const { gst_harness_teardown(h); }
};
using Harness = std::unique_ptr<GstHarness, HarnessDeleter>;
struct StructureDeleter {
  void operator()(GstStructure* s) const { gst_structure_free(s); }
};
using Structure = std::unique_ptr<GstStructure, StructureDeleter>;

// The face photo framed as a camera would frame a head and shoulders: a 16:9 crop
// around the face, scaled to 640x360, as BGRx. Empty when opencv-doc is missing.
cv::Mat FaceFrame() {
  cv::Mat photo = cv::imread(kFacePhoto, cv::IMREAD_COLOR);
  if (photo.empty()) return {};
  cv::Mat scaled, bgrx;
  cv::resize(photo(cv::Rect(65, 2, 320, 180)), scaled, cv::Size(kWidth, kHeight), 0, 0, cv::INTER_LINEAR);
  cv::cvtColor(scaled, bgrx, cv::COLOR_BGR2BGRA);
  return bgrx;
}

cv::Mat Flat(int grey) { return cv::Mat(kHeight, kWidth, CV_8UC4, cv::Scalar(grey, grey, grey, 255)); }

GstBuffer* ToBuffer(const cv::Mat& bgrx, GstClockTime pts) {
  EXPECT_TRUE(bgrx.isContinuous());
  gsize size = bgrx.total() * bgrx.elemSize();
  GstBuffer* b = gst_buffer_new_allocate(nullptr, size, nullptr);
  gst_buffer_fill(b, 0, bgrx.data, size);
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DURATION(b) = kFrame;
  return b;
}

cv::Mat FromBuffer(GstBuffer* b) {
  cv::Mat out(kHeight, kWidth, CV_8UC4);
  EXPECT_EQ(gst_buffer_get_size(b), out.total() * out.elemSize());
  gst_buffer_extract(b, 0, out.data, out.total() * out.elemSize());
  return out;
}

// Number of bytes that differ between a and b where mask is set.
int Differences(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
  cv::Mat diff, any;
  cv::absdiff(a, b, diff);
  cv::transform(diff, any, cv::Matx14f(1, 1, 1, 1));  // summed over the bytes of a pixel
  cv::Mat changed = any > 0;
  changed &= mask;
  return cv::countNonZero(changed);
}

struct FaceRect {
  guint x, y, width, height;
  cv::Rect rect() const { return cv::Rect(int(x), int(y), int(width), int(height)); }
};

std::vector<FaceRect> Rects(const GstStructure* s) {
  std::vector<FaceRect> out;
  const GValue* list = gst_structure_get_value(s, "rects");
  EXPECT_NE(list, nullptr);
  if (!list) return out;
  EXPECT_TRUE(GST_VALUE_HOLDS_LIST(list));
  for (guint i = 0; i < gst_value_list_get_size(list); ++i) {
    const GstStructure* face = gst_value_get_structure(gst_value_list_get_value(list, i));
    FaceRect r{};
    EXPECT_TRUE(gst_structure_get_uint(face, "x", &r.x));
    EXPECT_TRUE(gst_structure_get_uint(face, "y", &r.y));
    EXPECT_TRUE(gst_structure_get_uint(face, "width", &r.width));
    EXPECT_TRUE(gst_structure_get_uint(face, "height", &r.height));
    out.push_back(r);
  }
  return out;
}

// One element in a harness, with its own bus. Properties are set before the
// harness starts it.
class FilterTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(gst_atrium_register_static()); }
  void TearDown() override {
    h_.reset();
    if (element_) {
      gst_element_set_bus(element_, nullptr);
      gst_object_unref(element_);
    }
    if (bus_) gst_object_unref(bus_);
  }

  GstElement* Make(const char* factory) {
    element_ = gst_element_factory_make(factory, nullptr);
    EXPECT_NE(element_, nullptr);
    if (!element_) return nullptr;
    gst_object_ref_sink(element_);
    bus_ = gst_bus_new();
    gst_element_set_bus(element_, bus_);
    return element_;
  }
  GstHarness* Start() {
    h_.reset(gst_harness_new_with_element(element_, "sink", "src"));
    gst_harness_set_src_caps_str(h_.get(), kCaps);
    return h_.get();
  }
  cv::Mat PushPull(const cv::Mat& frame, GstClockTime pts) {
    EXPECT_EQ(gst_harness_push(h_.get(), ToBuffer(frame, pts)), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(h_.get());
    EXPECT_NE(out, nullptr);
    if (!out) return {};
    EXPECT_EQ(GST_BUFFER_PTS(out), pts);
    cv::Mat m = FromBuffer(out);
    gst_buffer_unref(out);
    return m;
  }
  // The element messages named `name` posted so far, oldest first.
  std::vector<Structure> Messages(const char* name) {
    std::vector<Structure> out;
    while (GstMessage* m = gst_bus_pop_filtered(bus_, GstMessageType(GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR))) {
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
        GError* err = nullptr;
        gst_message_parse_error(m, &err, nullptr);
        ADD_FAILURE() << "element error: " << (err ? err->message : "?");
        g_clear_error(&err);
      } else if (gst_structure_has_name(gst_message_get_structure(m), name)) {
        out.emplace_back(gst_structure_copy(gst_message_get_structure(m)));
      }
      gst_message_unref(m);
    }
    return out;
  }

  GstElement* element_ = nullptr;
  GstBus* bus_ = nullptr;
  Harness h_;
};

// ---- atriumfacedetect ----

class FaceDetect : public FilterTest {
protected:
  void SetUp() override {
    FilterTest::SetUp();
    face_ = FaceFrame();
    ASSERT_FALSE(face_.empty()) << kFacePhoto << " is missing: scripts/deps.sh installs opencv-doc";
    ASSERT_NE(Make("atriumfacedetect"), nullptr);
  }

  // The one message a single face frame gives, and the rect that holds the face.
  cv::Rect ExpectTheFace() {
    auto msgs = Messages("atrium-face");
    EXPECT_EQ(msgs.size(), 1u);
    if (msgs.empty()) return {};
    guint faces = 0;
    EXPECT_TRUE(gst_structure_get_uint(msgs[0].get(), "faces", &faces));
    EXPECT_GE(faces, 1u);
    auto rects = Rects(msgs[0].get());
    EXPECT_EQ(rects.size(), faces);
    for (const FaceRect& r : rects) {
      EXPECT_LE(r.x + r.width, guint(kWidth));
      EXPECT_LE(r.y + r.height, guint(kHeight));
      if (r.rect().contains(kFaceCentre)) {
        EXPECT_GT(r.width, 50u);
        EXPECT_LT(r.width, 150u);
        return r.rect();
      }
    }
    ADD_FAILURE() << "no rect holds the face at " << kFaceCentre;
    return {};
  }

  // Where any of the message's rects, grown by `margin`, lies.
  static cv::Mat RectsMask(const std::vector<FaceRect>& rects, int margin) {
    cv::Mat mask = cv::Mat::zeros(kHeight, kWidth, CV_8U);
    for (const FaceRect& r : rects) {
      cv::Rect grown(r.rect().x - margin, r.rect().y - margin, r.rect().width + 2 * margin,
                     r.rect().height + 2 * margin);
      mask(grown & cv::Rect(0, 0, kWidth, kHeight)) = 255;
    }
    return mask;
  }

  cv::Mat face_;
};

// Each mode changes the face and nothing but the faces (box: the lines around them).
class FaceDetectModes : public FaceDetect, public ::testing::WithParamInterface<const char*> {};

TEST_P(FaceDetectModes, ChangesTheFaceAndNothingElse) {
  gst_util_set_object_arg(G_OBJECT(element_), "mode", GetParam());
  Start();
  cv::Mat out = PushPull(face_, 0);
  auto msgs = Messages("atrium-face");
  ASSERT_EQ(msgs.size(), 1u);
  auto rects = Rects(msgs[0].get());
  cv::Rect face;
  for (const FaceRect& r : rects)
    if (r.rect().contains(kFaceCentre)) face = r.rect();
  ASSERT_FALSE(face.empty()) << "no rect holds the face";

  cv::Mat outside;
  // Box lines are centred on the rect's edge; 4 px covers their outer half.
  cv::bitwise_not(RectsMask(rects, 4), outside);
  EXPECT_EQ(Differences(out, face_, outside), 0) << "pixels changed outside the faces";
  cv::Mat face_mask = cv::Mat::zeros(kHeight, kWidth, CV_8U);
  face_mask(face) = 255;
  // blur and pixelate change nearly every pixel of the face; box only its edge.
  int min_changed = std::string(GetParam()) == "box" ? 2 * (face.width + face.height) : face.area() / 2;
  EXPECT_GT(Differences(out, face_, face_mask), min_changed);

  // The next frames reuse the rects (interval 3): the face is still covered.
  cv::Mat next = PushPull(face_, Pts(1));
  EXPECT_GT(Differences(next, face_, face_mask), min_changed);
  EXPECT_TRUE(Messages("atrium-face").empty());
}

INSTANTIATE_TEST_SUITE_P(Modes, FaceDetectModes, ::testing::Values("blur", "pixelate", "box"));

TEST_F(FaceDetect, BlurredFaceLosesItsDetail) {
  Start();
  cv::Mat out = PushPull(face_, 0);
  cv::Rect face = ExpectTheFace();
  ASSERT_FALSE(face.empty());
  // Detail (the grey level's Laplacian) inside the face nearly gone.
  auto detail = [&](const cv::Mat& img) {
    cv::Mat grey, lap;
    cv::cvtColor(img(face), grey, cv::COLOR_BGRA2GRAY);
    cv::Laplacian(grey, lap, CV_32F);
    cv::Scalar mean, dev;
    cv::meanStdDev(lap, mean, dev);
    return dev[0];
  };
  EXPECT_LT(detail(out), detail(face_) / 4);
}

TEST_F(FaceDetect, ModeNoneOnlyReports) {
  gst_util_set_object_arg(G_OBJECT(element_), "mode", "none");
  Start();
  cv::Mat out = PushPull(face_, 0);
  ExpectTheFace();
  cv::Mat all(kHeight, kWidth, CV_8U, cv::Scalar(255));
  EXPECT_EQ(Differences(out, face_, all), 0);
}

TEST_F(FaceDetect, ABlankFrameHasNoFaces) {
  Start();
  cv::Mat blank = Flat(128);
  for (int i = 0; i < 6; ++i) {
    cv::Mat out = PushPull(blank, Pts(i));
    cv::Mat all(kHeight, kWidth, CV_8U, cv::Scalar(255));
    EXPECT_EQ(Differences(out, blank, all), 0);
  }
  EXPECT_TRUE(Messages("atrium-face").empty());
}

TEST_F(FaceDetect, PostsWhenTheCountChangesAndOnceASecondWhileThereAreFaces) {
  Start();
  // Two seconds of the face (frames 0..60), then blank frames.
  for (int i = 0; i <= 60; ++i) PushPull(face_, Pts(i));
  auto msgs = Messages("atrium-face");
  ASSERT_EQ(msgs.size(), 3u);
  for (size_t i = 0; i < msgs.size(); ++i) {
    guint64 rt = 0;
    EXPECT_TRUE(gst_structure_get_uint64(msgs[i].get(), "running-time", &rt));
    // Detection runs on every third frame, from frame 0: frames 0, 30 and 60.
    EXPECT_EQ(rt, Pts(i * 30)) << "message " << i;
  }
  for (int i = 61; i < 70; ++i) PushPull(Flat(128), Pts(i));
  msgs = Messages("atrium-face");
  ASSERT_EQ(msgs.size(), 1u);
  guint faces = 99;
  EXPECT_TRUE(gst_structure_get_uint(msgs[0].get(), "faces", &faces));
  EXPECT_EQ(faces, 0u);
  EXPECT_TRUE(Rects(msgs[0].get()).empty());
}

TEST_F(FaceDetect, IntervalOneLooksAtEveryFrame) {
  g_object_set(element_, "interval", 1u, nullptr);
  Start();
  PushPull(face_, 0);
  ExpectTheFace();
  // The face goes away on the very next frame: reported at once.
  PushPull(Flat(128), Pts(1));
  auto msgs = Messages("atrium-face");
  ASSERT_EQ(msgs.size(), 1u);
  guint faces = 99;
  gst_structure_get_uint(msgs[0].get(), "faces", &faces);
  EXPECT_EQ(faces, 0u);
}

TEST_F(FaceDetect, FindsTheFaceInEveryRgbLayout) {
  // The same picture in another byte order: the detector's grey copy must not depend
  // on it.
  for (const char* format : {"RGBx", "xRGB", "BGR"}) {
    SCOPED_TRACE(format);
    GstElement* e = gst_element_factory_make("atriumfacedetect", nullptr);
    ASSERT_NE(e, nullptr);
    gst_util_set_object_arg(G_OBJECT(e), "mode", "none");
    gst_element_set_bus(e, bus_);
    Harness h(gst_harness_new_with_element(e, "sink", "src"));
    gst_harness_set_src_caps_str(h.get(), (std::string("video/x-raw,format=") + format +
                                           ",width=640,height=360,framerate=30/1").c_str());
    cv::Mat converted;
    if (std::string(format) == "RGBx") {
      cv::cvtColor(face_, converted, cv::COLOR_BGRA2RGBA);
    } else if (std::string(format) == "xRGB") {
      cv::Mat rgba;
      cv::cvtColor(face_, rgba, cv::COLOR_BGRA2RGBA);
      converted.create(rgba.size(), rgba.type());
      int from_to[] = {0, 1, 1, 2, 2, 3, 3, 0};
      cv::mixChannels(&rgba, 1, &converted, 1, from_to, 4);
    } else {
      cv::cvtColor(face_, converted, cv::COLOR_BGRA2BGR);
    }
    gsize size = converted.total() * converted.elemSize();
    GstBuffer* b = gst_buffer_new_allocate(nullptr, size, nullptr);
    gst_buffer_fill(b, 0, converted.data, size);
    GST_BUFFER_PTS(b) = 0;
    GstBuffer* out = gst_harness_push_and_pull(h.get(), b);
    ASSERT_NE(out, nullptr);
    gst_buffer_unref(out);
    ExpectTheFace();
    h.reset();
    gst_element_set_bus(e, nullptr);
    gst_object_unref(e);
  }
}

TEST_F(FaceDetect, AMissingCascadeIsAnErrorOnStart) {
  g_object_set(element_, "cascade", "/nonexistent/haarcascade.xml", nullptr);
  EXPECT_EQ(gst_element_set_state(element_, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage* m = gst_bus_pop_filtered(bus_, GST_MESSAGE_ERROR);
  ASSERT_NE(m, nullptr);
  GError* err = nullptr;
  gst_message_parse_error(m, &err, nullptr);
  EXPECT_TRUE(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND)) << err->message;
  g_clear_error(&err);
  gst_message_unref(m);
  EXPECT_EQ(gst_element_set_state(element_, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
}

TEST_F(FaceDetect, AFileThatIsNoCascadeIsAnErrorOnStart) {
  g_object_set(element_, "cascade", kFacePhoto, nullptr);
  EXPECT_EQ(gst_element_set_state(element_, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage* m = gst_bus_pop_filtered(bus_, GST_MESSAGE_ERROR);
  ASSERT_NE(m, nullptr);
  GError* err = nullptr;
  gst_message_parse_error(m, &err, nullptr);
  EXPECT_TRUE(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ)) << err->message;
  g_clear_error(&err);
  gst_message_unref(m);
  EXPECT_EQ(gst_element_set_state(element_, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
}

// ---- atriummotiondetect ----

class MotionDetect : public FilterTest {
protected:
  void SetUp() override {
    FilterTest::SetUp();
    ASSERT_NE(Make("atriummotiondetect"), nullptr);
  }

  // A dark frame with camera-like noise, and a white 60x60 square at x when x >= 0.
  cv::Mat Scene(int x) {
    cv::Mat frame = Flat(40), noise(kHeight, kWidth, CV_8UC4);
    cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(3));
    frame += noise;  // only the positive half, which is noise enough
    if (x >= 0) cv::rectangle(frame, cv::Rect(x, 150, 60, 60), cv::Scalar(255, 255, 255, 255), cv::FILLED);
    return frame;
  }

  // Pushes n frames of the scene from frame `first`, the square moving `step` px a frame
  // from x0 (step 0: still; x0 < 0: no square). Returns the next frame's number.
  int Push(int first, int n, int x0, int step) {
    for (int i = 0; i < n; ++i) PushPull(Scene(x0 < 0 ? -1 : x0 + i * step), Pts(first + i));
    return first + n;
  }

  static bool Active(const Structure& s) {
    gboolean active = FALSE;
    EXPECT_TRUE(gst_structure_get_boolean(s.get(), "active", &active));
    return active;
  }
  static double Area(const Structure& s) {
    double area = -1;
    EXPECT_TRUE(gst_structure_get_double(s.get(), "area", &area));
    return area;
  }
  static GstClockTime RunningTime(const Structure& s) {
    guint64 rt = GST_CLOCK_TIME_NONE;
    EXPECT_TRUE(gst_structure_get_uint64(s.get(), "running-time", &rt));
    return rt;
  }
};

TEST_F(MotionDetect, StaticFramesPostNothing) {
  Start();
  // Three seconds of a still square in camera noise, from the first frame on.
  Push(0, 90, 100, 0);
  EXPECT_TRUE(Messages("atrium-motion").empty());
}

TEST_F(MotionDetect, AMovingSquareStartsMotionAndStillnessEndsItAfterHold) {
  Start();
  int n = Push(0, 30, -1, 0);
  EXPECT_TRUE(Messages("atrium-motion").empty());

  // One second of a square crossing the frame: one message, when motion starts.
  n = Push(n, 30, 20, 12);
  GstClockTime last_moving = Pts(n - 1);
  auto msgs = Messages("atrium-motion");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(Active(msgs[0]));
  EXPECT_GT(Area(msgs[0]), 0.01);  // the square is 1.6 % of the frame
  EXPECT_LT(Area(msgs[0]), 0.05);
  EXPECT_EQ(RunningTime(msgs[0]), Pts(30));  // the square's first frame

  // Still again for four seconds: motion ends once the square has become background
  // (about a second) and `hold` (1 s) has passed since.
  Push(n, 120, 20 + 29 * 12, 0);
  msgs = Messages("atrium-motion");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_FALSE(Active(msgs[0]));
  EXPECT_LT(Area(msgs[0]), 0.01);
  EXPECT_GE(RunningTime(msgs[0]), last_moving + GST_SECOND);
  EXPECT_LE(RunningTime(msgs[0]), last_moving + GST_SECOND + 1500 * GST_MSECOND);
}

TEST_F(MotionDetect, HoldIsHowLongMotionOutlastsTheLastChange) {
  // The same scene with two holds: motion ends exactly the difference later.
  GstClockTime ends[2];
  guint64 holds[2] = {200, 1000};
  for (int i = 0; i < 2; ++i) {
    if (i > 0) {
      TearDown();
      element_ = nullptr;
      bus_ = nullptr;
      ASSERT_NE(Make("atriummotiondetect"), nullptr);
    }
    g_object_set(element_, "hold", holds[i], nullptr);
    Start();
    int n = Push(0, 10, -1, 0);
    n = Push(n, 15, 20, 12);
    Push(n, 120, 20 + 14 * 12, 0);
    auto msgs = Messages("atrium-motion");
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_TRUE(Active(msgs[0]));
    EXPECT_FALSE(Active(msgs[1]));
    ends[i] = RunningTime(msgs[1]);
  }
  // To the frame: motion ends on the first frame `hold` or more after the last change.
  EXPECT_GE(ends[1] - ends[0], 800 * GST_MSECOND - kFrame);
  EXPECT_LE(ends[1] - ends[0], 800 * GST_MSECOND + kFrame);
}

TEST_F(MotionDetect, MinAreaIgnoresSmallMotion) {
  g_object_set(element_, "min-area", 0.2, nullptr);  // the square is about 2 %
  Start();
  int n = Push(0, 10, -1, 0);
  Push(n, 30, 20, 12);
  EXPECT_TRUE(Messages("atrium-motion").empty());
}

TEST_F(MotionDetect, LeavesPixelsAloneUnlessDrawing) {
  Start();
  Push(0, 10, -1, 0);
  cv::Mat all(kHeight, kWidth, CV_8U, cv::Scalar(255));
  for (int i = 0; i < 10; ++i) {
    cv::Mat in = Scene(20 + i * 12);
    cv::Mat out = PushPull(in, Pts(10 + i));
    EXPECT_EQ(Differences(out, in, all), 0);
  }
}

TEST_F(MotionDetect, DrawBoxesTheMovingSquare) {
  g_object_set(element_, "draw", TRUE, nullptr);
  Start();
  Push(0, 10, -1, 0);
  cv::Mat in, out;
  for (int i = 0; i < 10; ++i) {
    in = Scene(20 + i * 12);
    out = PushPull(in, Pts(10 + i));
  }
  // Red (BGRx: 0, 0, 255) near the square's last place, nothing far from it.
  cv::Mat red;
  cv::inRange(out, cv::Scalar(0, 0, 250, 0), cv::Scalar(5, 5, 255, 255), red);
  cv::Rect square(20 + 9 * 12, 150, 60, 60);
  cv::Rect near(square.x - 40, square.y - 40, square.width + 80, square.height + 80);
  EXPECT_GT(cv::countNonZero(red(near)), 2 * 60);
  EXPECT_EQ(cv::countNonZero(red) - cv::countNonZero(red(near)), 0);
}

}  // namespace
