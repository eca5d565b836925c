// atriumaudiomixminus driven through GstHarness: each input's output is the sum of the
// others, clipped once; silence, a lone input and inputs that start late.
#include "gstatrium.h"

#include <gst/audio/audio.h>
#include <gst/check/gstharness.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <memory>
#include <vector>

namespace {

constexpr int kRate = 8000;
constexpr int kFrames = 80;  // 10 ms, the element's default output duration
constexpr GstClockTime kDur = 10 * GST_MSECOND;

struct HarnessDeleter {
  void operator()(GstHarness* h) const { gst_harness_teardown(h); }
};
using Harness = std::unique_ptr<GstHarness, HarnessDeleter>;

class MixMinus : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(gst_atrium_register_static());
    mix_ = gst_element_factory_make("atriumaudiomixminus", nullptr);
    ASSERT_NE(mix_, nullptr);
    gst_object_ref_sink(mix_);
  }
  void TearDown() override {
    inputs_.clear();
    sum_.reset();
    if (mix_) gst_object_unref(mix_);
  }

  // Adds input i (sink_i with its output src_i).
  GstHarness* AddInput(int i, const char* format = "S16LE") {
    Sum(format);
    std::string sink = "sink_" + std::to_string(i), src = "src_" + std::to_string(i);
    GstHarness* h = gst_harness_new_with_element(mix_, sink.c_str(), src.c_str());
    // Not live: the mixer waits for every input, so that the outputs do not depend on
    // timing. Live timing is GstAggregator's and covered by the conference tests.
    gst_harness_set_live(h, FALSE);
    gst_harness_set_src_caps_str(h, Caps(format).c_str());
    inputs_.emplace_back(h);
    return h;
  }
  static std::string Caps(const char* format) {
    return std::string("audio/x-raw,format=") + format + ",layout=interleaved,channels=1,rate=" + std::to_string(kRate);
  }
  // The full mix; created first, its caps decide the output format (as a capsfilter
  // after the mixer does in a room).
  GstHarness* Sum(const char* format = "S16LE") {
    if (!sum_) {
      sum_.reset(gst_harness_new_with_element(mix_, nullptr, "src"));
      gst_harness_set_sink_caps_str(sum_.get(), Caps(format).c_str());
      gst_harness_play(sum_.get());
    }
    return sum_.get();
  }

  static GstBuffer* S16(int value, GstClockTime pts, int frames = kFrames) {
    GstBuffer* b = gst_buffer_new_allocate(nullptr, frames * 2, nullptr);
    GstMapInfo m;
    gst_buffer_map(b, &m, GST_MAP_WRITE);
    for (int i = 0; i < frames; ++i) reinterpret_cast<gint16*>(m.data)[i] = gint16(value);
    gst_buffer_unmap(b, &m);
    GST_BUFFER_PTS(b) = pts;
    GST_BUFFER_DURATION(b) = gst_util_uint64_scale(frames, GST_SECOND, kRate);
    return b;
  }
  static GstBuffer* F32(float value, GstClockTime pts) {
    GstBuffer* b = gst_buffer_new_allocate(nullptr, kFrames * 4, nullptr);
    GstMapInfo m;
    gst_buffer_map(b, &m, GST_MAP_WRITE);
    for (int i = 0; i < kFrames; ++i) reinterpret_cast<float*>(m.data)[i] = value;
    gst_buffer_unmap(b, &m);
    GST_BUFFER_PTS(b) = pts;
    GST_BUFFER_DURATION(b) = kDur;
    return b;
  }

  // Every sample of the next buffer from h (S16), or -99999 when samples differ.
  static std::vector<int> PullS16(GstHarness* h) {
    GstBuffer* b = gst_harness_pull(h);
    EXPECT_NE(b, nullptr);
    if (!b) return {};
    GstMapInfo m;
    gst_buffer_map(b, &m, GST_MAP_READ);
    std::vector<int> out(reinterpret_cast<gint16*>(m.data), reinterpret_cast<gint16*>(m.data) + m.size / 2);
    gst_buffer_unmap(b, &m);
    gst_buffer_unref(b);
    return out;
  }
  static int PullValue(GstHarness* h) {
    auto s = PullS16(h);
    if (s.empty()) return -99999;
    for (int v : s)
      if (v != s[0]) return -99999;
    return s[0];
  }
  static float PullF32(GstHarness* h) {
    GstBuffer* b = gst_harness_pull(h);
    EXPECT_NE(b, nullptr);
    if (!b) return NAN;
    GstMapInfo m;
    gst_buffer_map(b, &m, GST_MAP_READ);
    float v = reinterpret_cast<float*>(m.data)[0];
    gst_buffer_unmap(b, &m);
    gst_buffer_unref(b);
    return v;
  }

  GstElement* mix_ = nullptr;
  std::vector<Harness> inputs_;
  Harness sum_;
};

TEST_F(MixMinus, EachOutputIsTheSumOfTheOthers) {
  GstHarness* a = AddInput(0);
  GstHarness* b = AddInput(1);
  GstHarness* c = AddInput(2);
  GstHarness* sum = Sum();
  for (int i = 0; i < 3; ++i) {
    GstClockTime pts = i * kDur;
    ASSERT_EQ(gst_harness_push(a, S16(1000, pts)), GST_FLOW_OK);
    ASSERT_EQ(gst_harness_push(b, S16(2000, pts)), GST_FLOW_OK);
    ASSERT_EQ(gst_harness_push(c, S16(-4000, pts)), GST_FLOW_OK);
    EXPECT_EQ(PullValue(a), 2000 - 4000);
    EXPECT_EQ(PullValue(b), 1000 - 4000);
    EXPECT_EQ(PullValue(c), 1000 + 2000);
    EXPECT_EQ(PullValue(sum), 1000 + 2000 - 4000);
  }
}

TEST_F(MixMinus, OutputsKeepTheInputTimestamps) {
  GstHarness* a = AddInput(0);
  GstHarness* b = AddInput(1);
  for (int i = 0; i < 3; ++i) {
    gst_harness_push(a, S16(1, i * kDur));
    gst_harness_push(b, S16(2, i * kDur));
    for (GstHarness* h : {a, b}) {
      GstBuffer* out = gst_harness_pull(h);
      ASSERT_NE(out, nullptr);
      EXPECT_EQ(GST_BUFFER_PTS(out), i * kDur);
      EXPECT_EQ(GST_BUFFER_DURATION(out), kDur);
      gst_buffer_unref(out);
    }
  }
}

TEST_F(MixMinus, ClipsOnceAfterSubtracting) {
  GstHarness* a = AddInput(0);
  GstHarness* b = AddInput(1);
  GstHarness* c = AddInput(2);
  GstHarness* sum = Sum();
  // 30000 + 30000 - 20000 = 40000 overflows the full mix, but each mix-minus is exact
  // or clipped on its own: the sum is kept wide until the end.
  gst_harness_push(a, S16(30000, 0));
  gst_harness_push(b, S16(30000, 0));
  gst_harness_push(c, S16(-20000, 0));
  EXPECT_EQ(PullValue(a), 10000);
  EXPECT_EQ(PullValue(b), 10000);
  EXPECT_EQ(PullValue(c), 32767);
  EXPECT_EQ(PullValue(sum), 32767);

  gst_harness_push(a, S16(-30000, kDur));
  gst_harness_push(b, S16(-30000, kDur));
  gst_harness_push(c, S16(-30000, kDur));
  EXPECT_EQ(PullValue(a), -32768);
  EXPECT_EQ(PullValue(b), -32768);
  EXPECT_EQ(PullValue(c), -32768);
  EXPECT_EQ(PullValue(sum), -32768);
}

TEST_F(MixMinus, SilenceInSilenceOut) {
  GstHarness* a = AddInput(0);
  GstHarness* b = AddInput(1);
  GstHarness* sum = Sum();
  gst_harness_push(a, S16(0, 0));
  gst_harness_push(b, S16(0, 0));
  EXPECT_EQ(PullValue(a), 0);
  EXPECT_EQ(PullValue(b), 0);
  EXPECT_EQ(PullValue(sum), 0);
  // A gap buffer (no data) is silence too.
  GstBuffer* gap = S16(12345, kDur);
  GST_BUFFER_FLAG_SET(gap, GST_BUFFER_FLAG_GAP);
  gst_harness_push(a, gap);
  gst_harness_push(b, S16(500, kDur));
  EXPECT_EQ(PullValue(a), 500);
  EXPECT_EQ(PullValue(b), 0);
  EXPECT_EQ(PullValue(sum), 500);
}

TEST_F(MixMinus, ALoneInputHearsNothing) {
  GstHarness* a = AddInput(0);
  GstHarness* sum = Sum();
  for (int i = 0; i < 3; ++i) {
    gst_harness_push(a, S16(7777, i * kDur));
    EXPECT_EQ(PullValue(a), 0);
    EXPECT_EQ(PullValue(sum), 7777);
  }
}

TEST_F(MixMinus, AnInputThatStartsLateIsSilentUntilItStarts) {
  GstHarness* a = AddInput(0);
  GstHarness* b = AddInput(1);
  // b's first buffer is 30 ms in; a covers 0..50 ms. Each pad holds one buffer: push
  // in the order a live source would deliver them.
  gst_harness_push(b, S16(20, 3 * kDur));
  for (int i = 0; i < 5; ++i) {
    if (i == 4) gst_harness_push(b, S16(20, 4 * kDur));
    gst_harness_push(a, S16(100, i * kDur));
    EXPECT_EQ(PullValue(a), i < 3 ? 0 : 20) << "buffer " << i;
    EXPECT_EQ(PullValue(b), 100) << "buffer " << i;
  }
}

TEST_F(MixMinus, AnInputAddedWhilePlayingJoinsTheMix) {
  GstHarness* a = AddInput(0);
  GstHarness* b = AddInput(1);
  gst_harness_push(a, S16(100, 0));
  gst_harness_push(b, S16(20, 0));
  EXPECT_EQ(PullValue(a), 20);
  EXPECT_EQ(PullValue(b), 100);
  GstHarness* c = AddInput(2);
  gst_harness_push(a, S16(100, kDur));
  gst_harness_push(b, S16(20, kDur));
  gst_harness_push(c, S16(3, kDur));
  EXPECT_EQ(PullValue(a), 23);
  EXPECT_EQ(PullValue(b), 103);
  EXPECT_EQ(PullValue(c), 120);
}

TEST_F(MixMinus, FloatSamplesAreClampedToFullScale) {
  GstHarness* a = AddInput(0, "F32LE");
  GstHarness* b = AddInput(1, "F32LE");
  GstHarness* c = AddInput(2, "F32LE");
  gst_harness_push(a, F32(0.25f, 0));
  gst_harness_push(b, F32(0.5f, 0));
  gst_harness_push(c, F32(0.75f, 0));
  EXPECT_FLOAT_EQ(PullF32(a), 1.0f);  // 1.25 clamped
  EXPECT_FLOAT_EQ(PullF32(b), 1.0f);
  EXPECT_FLOAT_EQ(PullF32(c), 0.75f);
}

TEST_F(MixMinus, PostsEachInputsLevel) {
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(mix_, bus);
  g_object_set(mix_, "level-interval", guint64(20 * GST_MSECOND), nullptr);
  GstHarness* a = AddInput(0);
  GstHarness* b = AddInput(1);
  for (int i = 0; i < 3; ++i) {
    gst_harness_push(a, S16(16384, i * kDur));  // half scale: -6 dBFS
    gst_harness_push(b, S16(0, i * kDur));
    PullValue(a);
    PullValue(b);
  }
  std::map<std::string, double> level;
  while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) {
    const GstStructure* s = gst_message_get_structure(m);
    if (gst_structure_has_name(s, "atrium-audio-level")) {
      double db = 0;
      gst_structure_get_double(s, "rms-db", &db);
      level[gst_structure_get_string(s, "pad")] = db;
    }
    gst_message_unref(m);
  }
  ASSERT_EQ(level.size(), 2u);
  EXPECT_NEAR(level["sink_0"], -6.02, 0.1);
  EXPECT_LT(level["sink_1"], -100);
  gst_element_set_bus(mix_, nullptr);
  gst_object_unref(bus);
}

}  // namespace
