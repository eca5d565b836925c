// Live transcription against a real atriumd: a signed-in participant publishes a phrase that
// espeak-ng spoke into a WAV file (looped, over a real webrtcbin peer on 127.0.0.1), a host
// starts transcription, and the room hears what Debian's PocketSphinx recognised; the final
// text is kept (transcript.list). Also pause, resume, stop, and who may do what. Recognition
// of synthetic speech is not perfect: what was heard is printed, and two words of the phrase
// are enough.
#include "tests/rpc/ConferenceMember.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <sstream>

namespace atrium::test {
namespace {

constexpr const char* kPhrase = "hello world this is a test of the meeting server";
constexpr const char* kUserPassword = "speaker-password-1";

std::set<std::string> Words(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

// Writes `path`: half a second of silence, the phrase as espeak-ng speaks it (slowly, with
// the Klatt voice, which PocketSphinx's model hears best), and 1.5 s of silence, so that
// each round of the loop ends an utterance.
bool SpeakPhrase(const std::string& dir, const std::string& path) {
  std::string spoken = dir + "/spoken.wav";
  gchar* argv[] = {g_strdup("espeak-ng"),    g_strdup("-v"),    g_strdup("en-us+klatt"),
                   g_strdup("-s"),           g_strdup("140"),   g_strdup("-w"),
                   g_strdup(spoken.c_str()), g_strdup(kPhrase), nullptr};
  gint status = -1;
  gboolean ran = g_spawn_sync(nullptr, argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr, nullptr, nullptr,
                              &status, nullptr);
  for (gchar** a = argv; *a; ++a) g_free(*a);
  if (!ran || !g_spawn_check_wait_status(status, nullptr)) return false;
  gchar* data = nullptr;
  gsize size = 0;
  if (!g_file_get_contents(spoken.c_str(), &data, &size, nullptr)) return false;
  std::string wav(data, size);
  g_free(data);
  // espeak-ng writes a 44-byte header: mono 16-bit PCM (22050 Hz).
  if (wav.size() <= 44 || wav.compare(36, 4, "data") != 0) return false;
  uint32_t rate =
      uint8_t(wav[24]) | uint8_t(wav[25]) << 8 | uint8_t(wav[26]) << 16 | uint32_t(uint8_t(wav[27])) << 24;
  std::string pcm =
      std::string(rate, '\0') + wav.substr(44) + std::string(rate * 3, '\0');  // 2 bytes a sample
  auto le32 = [](uint32_t v) {
    return std::string{char(v & 0xff), char(v >> 8 & 0xff), char(v >> 16 & 0xff), char(v >> 24 & 0xff)};
  };
  std::string out = wav.substr(0, 4) + le32(uint32_t(36 + pcm.size())) + wav.substr(8, 32) +
                    le32(uint32_t(pcm.size())) + pcm;
  return g_file_set_contents(path.c_str(), out.data(), gssize(out.size()), nullptr);
}

// utime + stime of a process, in clock ticks.
long CpuTicks(int pid) {
  gchar* data = nullptr;
  if (!g_file_get_contents(("/proc/" + std::to_string(pid) + "/stat").c_str(), &data, nullptr, nullptr))
    return 0;
  std::string stat(data);
  g_free(data);
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; in >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = atol(field.c_str());
    if (i == 15) {
      stime = atol(field.c_str());
      break;
    }
  }
  return utime + stime;
}

class TranscriptionTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    daemon_ = new DaemonProcess(dir_->path() + "/daemon", "[ice]\naddresses = 127.0.0.1\n",
                                {{"GST_DEBUG", "atrium-media:4"}});
    HttpClient http(daemon_->url());
    token_ = ResultOf(http.Call(
        "auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}))["token"];
  }
  static void TearDownTestSuite() {
    daemon_->Stop();
    // GLib's criticals and warnings in the daemon fail the suite, as they do in the tests.
    const std::string& log = daemon_->stderrText();
    EXPECT_EQ(log.find("-CRITICAL **"), std::string::npos) << log;
    EXPECT_EQ(log.find("-WARNING **"), std::string::npos) << log;
    // What the server saw: each recognised utterance with its delay after the last word.
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);)
      if (line.find("transcribed [") != std::string::npos)
        std::printf("atriumd: %s\n", line.substr(line.find("transcribed [")).c_str());
    delete daemon_;
    delete dir_;
  }

  static json Http(const std::string& method, const json& params) {
    HttpClient http(daemon_->url());
    return http.Call(method, params, token_);
  }

  // Iterates the main loop, pumping candidates, until `done` or the timeout.
  static bool Wait(std::vector<Member*> members, const std::function<bool()>& done, int timeoutMs) {
    return RunUntil(
        [&] {
          for (auto* m : members) m->Pump();
          return done();
        },
        timeoutMs);
  }
  // Pumps candidates for `ms`, for the media to go on meanwhile.
  static void Idle(std::vector<Member*> members, int ms) {
    Wait(
        members, [] { return false; }, ms);
  }
  static std::vector<json> Take(Member& m, const std::string& method) {
    std::vector<json> out;
    for (auto& n : m.ws().TakeNotifications([&](const json& j) { return j["method"] == method; }))
      out.push_back(n["params"]);
    return out;
  }

  static TempDir* dir_;
  static DaemonProcess* daemon_;
  static std::string token_;
};

TempDir* TranscriptionTest::dir_ = nullptr;
DaemonProcess* TranscriptionTest::daemon_ = nullptr;
std::string TranscriptionTest::token_;

TEST_F(TranscriptionTest, HostTranscribesASpokenPhraseAndTheTranscriptIsKept) {
  std::string wav = dir_->path() + "/phrase.wav";
  ASSERT_TRUE(SpeakPhrase(dir_->path(), wav))
      << "espeak-ng (scripts/deps.sh installs it) could not speak the phrase";

  int64_t room = ResultOf(Http("room.create", {{"name", "transcribed"}, {"isPublic", true}}))["roomId"];
  int64_t speakerUser = ResultOf(
      Http("user.add", {{"account", "speaker"}, {"password", kUserPassword}, {"name", "Speaker"}}))["userId"];
  Member host(*daemon_, "Host"), speaker(*daemon_, "Speaker");
  ASSERT_EQ(ErrorCodeOf(host.Login()), 0);
  ASSERT_EQ(
      ErrorCodeOf(speaker.ws().Call("auth.login", {{"account", "speaker"}, {"password", kUserPassword}})), 0);
  ASSERT_EQ(ErrorCodeOf(host.Join(room)), 0);
  ASSERT_EQ(ErrorCodeOf(speaker.Join(room)), 0);
  std::vector<Member*> all = {&host, &speaker};

  // Who may ask, and what.
  EXPECT_EQ(ErrorCodeOf(speaker.ws().Call("conference.transcribe", {{"action", "start"}})), -32002);
  json bad = host.ws().Call("conference.transcribe", {{"action", "begin"}});
  EXPECT_EQ(ErrorCodeOf(bad), -32602);
  EXPECT_EQ(bad["error"]["data"]["param"], "action");
  EXPECT_EQ(ErrorCodeOf(host.ws().Call("conference.transcribe")), -32602);
  EXPECT_EQ(ErrorCodeOf(host.ws().Call("conference.transcribe", {{"action", "resume"}})), -32004);
  EXPECT_EQ(ErrorCodeOf(host.ws().Call("conference.transcribe", {{"action", "stop"}})), -32004);
  EXPECT_EQ(ResultOf(speaker.ws().Call("conference.isTranscribing")),
            (json{{"transcribing", false}, {"paused", false}}));

  WebRtcClient::Options o;
  o.video = false;
  o.audioFile = wav;
  std::string stream = speaker.Publish(o);
  // The server's CPU for forwarding the stream alone, as the baseline.
  Idle(all, 1000);
  long ticks0 = CpuTicks(daemon_->pid());
  gint64 t0 = g_get_monotonic_time();
  Idle(all, 3000);
  double idleCores = double(CpuTicks(daemon_->pid()) - ticks0) / sysconf(_SC_CLK_TCK) /
                     (double(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);

  long rssBefore = daemon_->ReadUsage().rssKiB;
  json started = host.ws().Call("conference.transcribe", {{"action", "start"}});
  ASSERT_EQ(ErrorCodeOf(started), 0) << started.dump();
  EXPECT_EQ(ResultOf(started), (json{{"transcribing", true}, {"paused", false}}));
  auto note = speaker.ws().WaitNotification("transcriptionStarted", 2000);
  ASSERT_TRUE(note);
  EXPECT_EQ((*note)["params"]["by"], host.id());
  EXPECT_EQ(ErrorCodeOf(host.ws().Call("conference.transcribe", {{"action", "start"}})), -32004);
  EXPECT_EQ(ResultOf(speaker.ws().Call("conference.isTranscribing")),
            (json{{"transcribing", true}, {"paused", false}}));
  EXPECT_EQ(ResultOf(host.ws().Call("conference.info"))["transcribing"], true);

  // What the speaker said reaches everyone: partials as it goes, then the final text.
  std::optional<json> final;
  gint64 finalAtMs = 0;
  int partials = 0;
  ASSERT_TRUE(Wait(
      all,
      [&] {
        for (auto& t : Take(host, "transcription")) {
          EXPECT_EQ(t["participantId"], speaker.id());
          EXPECT_EQ(t["streamId"], stream);
          EXPECT_GE(t["segmentId"].get<int>(), 1);
          std::printf("heard %s: \"%s\"\n", t["final"] == true ? "final  " : "partial",
                      t["text"].get<std::string>().c_str());
          if (t["final"] == true && !t["text"].get<std::string>().empty() && !final) {
            final = t;
            finalAtMs = g_get_real_time() / 1000;
          } else if (t["final"] == false) {
            partials++;
          }
        }
        return final.has_value();
      },
      20000))
      << "no final transcription within 20 s";
  EXPECT_GT(partials, 0);
  std::string heard = (*final)["text"];
  std::set<std::string> said = Words(kPhrase), common;
  for (const auto& w : Words(heard))
    if (said.count(w)) common.insert(w);
  std::printf("said \"%s\", heard \"%s\": %zu words in common; final %lld ms after the last word was heard\n",
              kPhrase, heard.c_str(), common.size(),
              (long long)(finalAtMs - (*final)["endMs"].get<int64_t>()));
  EXPECT_GE(common.size(), 2u) << "heard: " << heard;
  EXPECT_LE((*final)["startMs"].get<int64_t>(), (*final)["endMs"].get<int64_t>());
  ASSERT_TRUE(speaker.ws().WaitNotification("transcription", 2000));  // the speaker hears it too

  // The server's CPU while it transcribes one speaker, over one round of the loop (speech and pause).
  ticks0 = CpuTicks(daemon_->pid());
  t0 = g_get_monotonic_time();
  Idle(all, 5000);
  double busyCores = double(CpuTicks(daemon_->pid()) - ticks0) / sysconf(_SC_CLK_TCK) /
                     (double(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
  std::printf(
      "atriumd: %.0f %% of a core forwarding one audio stream, %.0f %% transcribing it; %ld MiB more "
      "memory\n",
      idleCores * 100, busyCores * 100, (daemon_->ReadUsage().rssKiB - rssBefore) / 1024);

  // The final text is kept with the room, with its speaker.
  json list = Http("transcript.list", {{"roomId", room}});
  ASSERT_EQ(ErrorCodeOf(list), 0) << list.dump();
  bool kept = false;
  for (const auto& seg : ResultOf(list)["segments"]) {
    if (seg["text"] != heard) continue;
    kept = true;
    EXPECT_EQ(seg["speaker"]["participantId"], speaker.id());
    EXPECT_EQ(seg["speaker"]["userId"], speakerUser);
    EXPECT_EQ(seg["speaker"]["name"], "Speaker");
    EXPECT_EQ(seg["streamId"], stream);
    EXPECT_EQ(seg["segmentId"], (*final)["segmentId"]);
    EXPECT_EQ(seg["roomId"], room);
  }
  EXPECT_TRUE(kept) << list.dump();
  EXPECT_GE(ResultOf(list)["totalCount"].get<int>(), 1);
  EXPECT_EQ(ErrorCodeOf(Http("transcript.list", {{"roomId", room}, {"pageSize", 0}})), -32602);
  EXPECT_EQ(ErrorCodeOf(Http("transcript.list", {{"roomId", 999999}})), -32003);
  // Someone who is neither in the room nor one of its people reads nothing.
  EXPECT_EQ(ErrorCodeOf(HttpClient(daemon_->url()).Call("transcript.list", {{"roomId", room}})), -32001);

  // Paused: nothing more is recognised while the speaker goes on (everything sent before the
  // reply came before it on the socket).
  EXPECT_EQ(ErrorCodeOf(speaker.ws().Call("conference.transcribe", {{"action", "pause"}})), -32002);
  json paused = host.ws().Call("conference.transcribe", {{"action", "pause"}});
  ASSERT_EQ(ErrorCodeOf(paused), 0) << paused.dump();
  EXPECT_EQ(ResultOf(paused), (json{{"transcribing", true}, {"paused", true}}));
  Take(host, "transcription");
  EXPECT_TRUE(host.ws().WaitNotification("transcriptionPaused", 2000));
  EXPECT_EQ(ErrorCodeOf(host.ws().Call("conference.transcribe", {{"action", "pause"}})), -32004);
  EXPECT_EQ(ResultOf(speaker.ws().Call("conference.isTranscribing")),
            (json{{"transcribing", true}, {"paused", true}}));
  Idle(all, 4500);  // more than one round of the phrase
  EXPECT_TRUE(Take(host, "transcription").empty());

  // Resumed: the speaker is heard again.
  ASSERT_EQ(ErrorCodeOf(host.ws().Call("conference.transcribe", {{"action", "resume"}})), 0);
  EXPECT_TRUE(host.ws().WaitNotification("transcriptionResumed", 2000));
  EXPECT_TRUE(Wait(
      all, [&] { return !Take(host, "transcription").empty(); }, 10000))
      << "nothing heard after resume";

  // Stopped: nothing more.
  json stopped = host.ws().Call("conference.transcribe", {{"action", "stop"}});
  ASSERT_EQ(ErrorCodeOf(stopped), 0) << stopped.dump();
  EXPECT_EQ(ResultOf(stopped), (json{{"transcribing", false}, {"paused", false}}));
  Take(host, "transcription");
  EXPECT_TRUE(speaker.ws().WaitNotification("transcriptionStopped", 2000));
  EXPECT_EQ(ResultOf(speaker.ws().Call("conference.isTranscribing")),
            (json{{"transcribing", false}, {"paused", false}}));
  EXPECT_EQ(ErrorCodeOf(host.ws().Call("conference.transcribe", {{"action", "stop"}})), -32004);
  Idle(all, 1500);
  EXPECT_TRUE(Take(host, "transcription").empty());
}

}  // namespace
}  // namespace atrium::test
