// Every recording profile shipped in pipelines/ loads and passes the checks atriumd runs
// at start-up; broken profiles are refused with a message naming the file and key.
#include "media/RecordingProfile.hpp"

#include <glib.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <fstream>

namespace atrium::media {
namespace {

std::string SourceRoot() {
  const char* root = g_getenv("ATRIUM_SOURCE_ROOT");
  return root ? root : ".";
}

TEST(RecordingProfileTest, EveryShippedProfileLoads) {
  auto profiles = LoadRecordingProfiles(SourceRoot() + "/pipelines");
  ASSERT_EQ(profiles.size(), 2u);
  EXPECT_EQ(profiles.at("webm").videoCodec, "VP8");
  EXPECT_EQ(profiles.at("webm").audioCodec, "OPUS");
  EXPECT_EQ(profiles.at("mp4").videoCodec, "H264");
  EXPECT_EQ(profiles.at("mp4").audioCodec, "AAC");
  // Every record-*.conf in the folder is a profile that loads on its own (mcu.conf is the
  // mixer's, checked by McuTest).
  GDir* dir = g_dir_open((SourceRoot() + "/pipelines").c_str(), 0, nullptr);
  ASSERT_NE(dir, nullptr);
  int n = 0;
  while (const char* name = g_dir_read_name(dir)) {
    if (!g_str_has_prefix(name, "record-") || !g_str_has_suffix(name, ".conf")) continue;
    SCOPED_TRACE(name);
    EXPECT_NO_THROW(LoadRecordingProfile(SourceRoot() + "/pipelines/" + name));
    ++n;
  }
  g_dir_close(dir);
  EXPECT_GE(n, 2);
}

class BrokenProfileTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(BrokenProfileTest, IsRefusedNamingTheKey) {
  auto [text, key] = GetParam();
  gchar* tmp = g_dir_make_tmp("atrium-profile-XXXXXX", nullptr);
  std::string path = std::string(tmp) + "/record-mp4.conf";
  std::ofstream(path) << text;
  try {
    LoadRecordingProfile(path);
    ADD_FAILURE() << "accepted: " << text;
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
  g_unlink(path.c_str());
  g_rmdir(tmp);
  g_free(tmp);
}

const std::string kGood =
    "[recording]\nextension=mp4\nmuxer=mp4mux fragment-duration=1000\nvideo-codec=H264\naudio-codec=AAC\n"
    "audio-encoder=avenc_aac\n";

std::string Replace(const std::string& key, const std::string& value) {
  std::string out = kGood;
  auto at = out.find("\n" + key + "=") + 1;
  auto end = out.find('\n', at);
  return out.replace(at, end - at, key + "=" + value);
}

INSTANTIATE_TEST_SUITE_P(
    Profiles, BrokenProfileTest,
    ::testing::Values(std::pair{Replace("muxer", "nosuchmux"), "muxer"},
                      std::pair{Replace("muxer", "fakesink"), "muxer"},
                      std::pair{Replace("audio-encoder", "opusenc"), "audio-encoder"},
                      std::pair{Replace("audio-encoder", "avenc_aac nosuchproperty=1"), "audio-encoder"},
                      std::pair{Replace("audio-encoder", "opusenc ! opusenc"), "audio-encoder"},
                      std::pair{Replace("video-codec", "THEORA"), "video-codec"},
                      std::pair{Replace("extension", "../x"), "extension"},
                      std::pair{kGood + "bitrate=1\n", "bitrate"},
                      std::pair{std::string("[recording]\nextension=mp4\n"), "muxer"}));

}  // namespace
}  // namespace atrium::media
