// The MCU's pure parts: layouts for any number of tiles, layout validation, and the
// shipped encoder profile (every shipped file is loaded by a test) with broken copies.
#include "core/Error.hpp"
#include "media/Layout.hpp"
#include "media/McuProfile.hpp"
#include "media/TranscodeProfile.hpp"

#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <fstream>

namespace atrium::media {
namespace {

using nlohmann::json;

std::vector<TileInfo> Tiles(int n) {
  std::vector<TileInfo> t;
  for (int i = 0; i < n; ++i) t.push_back({"t" + std::to_string(i), "u" + std::to_string(i), false});
  return t;
}

bool Overlap(const Rect& a, const Rect& b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

class GridTest : public ::testing::TestWithParam<int> {};

TEST_P(GridTest, TilesFitTheFrameWithoutOverlapping) {
  int n = GetParam();
  auto rects = ComputeLayout({}, Tiles(n), "", 1280, 720);
  ASSERT_EQ(rects.size(), size_t(n));
  for (const auto& [id, r] : rects) {
    EXPECT_GT(r.w, 0) << id;
    EXPECT_GE(r.x, 0);
    EXPECT_GE(r.y, 0);
    EXPECT_LE(r.x + r.w, 1280);
    EXPECT_LE(r.y + r.h, 720);
    EXPECT_NEAR(double(r.w) / r.h, 16.0 / 9.0, 0.05) << id;
    for (const auto& [id2, r2] : rects)
      if (id != id2) EXPECT_FALSE(Overlap(r, r2)) << id << " " << id2;
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, GridTest, ::testing::Values(1, 2, 3, 4, 5, 9, 16));

TEST(Layout, SpeakerIsLargeAndOthersAreInAStrip) {
  LayoutSpec spec;
  spec.type = "speaker";
  auto rects = ComputeLayout(spec, Tiles(4), "u2", 1280, 720);
  EXPECT_GT(rects["t2"].w, 900);
  for (const char* t : {"t0", "t1", "t3"}) {
    EXPECT_LT(rects[t].w, 300) << t;
    EXPECT_GE(rects[t].y, 560) << t;
  }
}

TEST(Layout, PresentationFeaturesTheScreenShare) {
  LayoutSpec spec;
  spec.type = "presentation";
  auto tiles = Tiles(3);
  tiles.push_back({"screen", "u1", true});
  auto rects = ComputeLayout(spec, tiles, "u0", 1280, 720);
  EXPECT_GT(rects["screen"].w, 900);
  EXPECT_LT(rects["t0"].w, 300);
}

TEST(Layout, CustomPlacesListedParticipantsAndHidesTheRest) {
  auto spec = ParseLayout({{"layout", "custom"},
                           {"tiles", {{{"participantId", "u1"}, {"x", 0.5}, {"y", 0}, {"width", 0.5}, {"height", 0.5}}}}},
                          {"u0", "u1"});
  auto rects = ComputeLayout(spec, Tiles(2), "", 1280, 720);
  EXPECT_EQ(rects["t1"], (Rect{640, 0, 640, 360}));
  EXPECT_EQ(rects["t0"].w, 0);
}

TEST(Layout, BadLayoutsAreInvalidParams) {
  std::set<std::string> who = {"u0"};
  auto tile = [](json patch) {
    json t = {{"participantId", "u0"}, {"x", 0}, {"y", 0}, {"width", 1}, {"height", 1}};
    for (auto& [k, v] : patch.items()) t[k] = v;
    return json{{"layout", "custom"}, {"tiles", {t}}};
  };
  for (const json& p : {json{{"layout", "spiral"}}, tile({{"participantId", "nobody"}}), tile({{"width", -1}}),
                        tile({{"height", "tall"}}), tile({{"x", 2}})}) {
    try {
      ParseLayout(p, who);
      ADD_FAILURE() << p.dump();
    } catch (const AppError& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidParams) << p.dump();
    }
  }
}

TEST(McuProfile, TheShippedProfileIsValid) {
  std::string path = std::string(g_getenv("ATRIUM_SOURCE_ROOT")) + "/pipelines/mcu.conf";
  McuProfile p = McuProfile::Load(path);
  EXPECT_EQ(p.video.codec, "VP8");
  EXPECT_EQ(p.audio.codec, "OPUS");
  GstElement* bin = p.MakeBin(p.video, "v");
  ASSERT_NE(bin, nullptr);
  gst_object_unref(gst_object_ref_sink(bin));
}

TEST(McuProfile, BrokenProfilesAreRefusedWithTheKeyNamed) {
  gchar* dir = g_dir_make_tmp("atrium-mcu-XXXXXX", nullptr);
  std::string path = std::string(dir) + "/mcu.conf";
  auto write = [&](const std::string& video, const std::string& audio) {
    std::ofstream(path) << "[video]\n" << video << "\n[audio]\n" << audio << "\n";
  };
  const std::string okAudio = "codec=OPUS\nencoder=opusenc\npayloader=rtpopuspay";
  struct Case {
    std::string video, audio, mentions;
  } cases[] = {
      {"codec=VP8\nencoder=vp8enc nosuchproperty=1\npayloader=rtpvp8pay", okAudio, "encoder"},
      {"codec=VP8\nencoder=nosuchencoder\npayloader=rtpvp8pay", okAudio, "encoder"},
      {"codec=VP8\nencoder=x264enc\npayloader=rtpvp8pay", okAudio, "encoder"},
      {"codec=VP8\nencoder=vp8enc\npayloader=rtph264pay", okAudio, "payloader"},
      {"codec=AV2\nencoder=vp8enc\npayloader=rtpvp8pay", okAudio, "codec"},
      {"codec=VP8\nencoder=vp8enc", okAudio, "payloader"},
      {"codec=VP8\nencoder=vp8enc\npayloader=rtpvp8pay", "codec=OPUS\nencoder=vp8enc\npayloader=rtpopuspay", "encoder"},
  };
  for (const auto& c : cases) {
    write(c.video, c.audio);
    try {
      McuProfile::Load(path);
      ADD_FAILURE() << c.video;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(c.mentions), std::string::npos) << e.what();
    }
  }
  g_remove(path.c_str());
  g_rmdir(dir);
  g_free(dir);
}

TEST(TranscodeProfile, TheShippedProfileIsValid) {
  std::string path = std::string(g_getenv("ATRIUM_SOURCE_ROOT")) + "/pipelines/transcode.conf";
  TranscodeProfile p = TranscodeProfile::Load(path);
  ASSERT_EQ(p.video.size(), 2u);
  for (const char* codec : {"VP8", "H264"}) {
    ASSERT_TRUE(p.video.count(codec)) << codec;
    GstElement* bin = MakeEncoderBin(p.video.at(codec), codec);
    ASSERT_NE(bin, nullptr);
    gst_object_unref(gst_object_ref_sink(bin));
  }
}

TEST(TranscodeProfile, BrokenProfilesAreRefusedWithGroupAndKeyNamed) {
  gchar* dir = g_dir_make_tmp("atrium-transcode-XXXXXX", nullptr);
  std::string path = std::string(dir) + "/transcode.conf";
  const std::string vp8 = "[VP8]\nencoder=vp8enc\npayloader=rtpvp8pay\n";
  const std::string h264 = "[H264]\nencoder=x264enc\npayloader=rtph264pay\n";
  struct Case {
    std::string text, mentions;
  } cases[] = {
      {vp8, "[H264] encoder"},
      {vp8 + "[H264]\nencoder=vp8enc\npayloader=rtph264pay\n", "[H264] encoder"},
      {vp8 + "[H264]\nencoder=x264enc\npayloader=rtpvp8pay\n", "[H264] payloader"},
      {"[VP8]\nencoder=vp8enc nosuchproperty=1\npayloader=rtpvp8pay\n" + h264, "[VP8] encoder"},
      {vp8 + h264 + "[AV1]\nencoder=x\n", "[AV1]"},
      {vp8 + "bitrate=1\n" + h264, "bitrate"},
  };
  for (const auto& c : cases) {
    std::ofstream(path) << c.text;
    try {
      TranscodeProfile::Load(path);
      ADD_FAILURE() << c.text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(c.mentions), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  g_remove(path.c_str());
  g_rmdir(dir);
  g_free(dir);
}

}  // namespace
}  // namespace atrium::media
