// atriumctl against a real atriumd, as a script would use it: login saves a token,
// commands print results, --json gives the raw result, and each kind of failure has
// its exit code (1 server error, 2 usage, 3 unreachable).
#include "tests/rpc/Harness.hpp"

#include <glib.h>
#include <gtest/gtest.h>

namespace atrium::test {
namespace {

struct CtlRun {
  int status = -1;
  std::string out;
  std::string err;
};

class CtlTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    daemon_ = new DaemonProcess(dir_->path() + "/data");
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }

  CtlRun Ctl(std::vector<std::string> args, const std::string& input = {}, std::string server = {}) {
    const char* bin = g_getenv("ATRIUMCTL");
    std::vector<std::string> argv = {bin ? bin : "atriumctl", "--server", server.empty() ? daemon_->url() : server};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<const char*> cargv;
    for (auto& a : argv) cargv.push_back(a.c_str());
    cargv.push_back(nullptr);
    GRef<GSubprocessLauncher> l = GRef<GSubprocessLauncher>::adopt(
        g_subprocess_launcher_new(GSubprocessFlags(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                   G_SUBPROCESS_FLAGS_STDERR_PIPE)));
    g_subprocess_launcher_setenv(l.get(), "XDG_CONFIG_HOME", (dir_->path() + "/config").c_str(), TRUE);
    g_subprocess_launcher_unsetenv(l.get(), "ATRIUM_TOKEN");
    g_subprocess_launcher_unsetenv(l.get(), "ATRIUM_URL");
    g_subprocess_launcher_setenv(l.get(), "ATRIUM_PASSWORD", DaemonProcess::kAdminPassword, TRUE);
    GError* err = nullptr;
    GRef<GSubprocess> p = GRef<GSubprocess>::adopt(g_subprocess_launcher_spawnv(l.get(), cargv.data(), &err));
    CtlRun r;
    if (!p) {
      ADD_FAILURE() << err->message;
      g_error_free(err);
      return r;
    }
    gchar* out = nullptr;
    gchar* errText = nullptr;
    g_subprocess_communicate_utf8(p.get(), input.c_str(), nullptr, &out, &errText, nullptr);
    r.status = g_subprocess_get_exit_status(p.get());
    r.out = out ? out : "";
    r.err = errText ? errText : "";
    g_free(out);
    g_free(errText);
    return r;
  }

  static TempDir* dir_;
  static DaemonProcess* daemon_;
};

TempDir* CtlTest::dir_ = nullptr;
DaemonProcess* CtlTest::daemon_ = nullptr;

TEST_F(CtlTest, LoginThenScriptRoomsAndCalls) {
  auto ping = Ctl({"ping", "--json"});
  EXPECT_EQ(ping.status, 0) << ping.err;
  EXPECT_EQ(json::parse(ping.out)["pong"], true);

  auto login = Ctl({"login", "admin"});
  ASSERT_EQ(login.status, 0) << login.err;
  std::string tokenFile = dir_->path() + "/config/atrium/token";
  EXPECT_TRUE(g_file_test(tokenFile.c_str(), G_FILE_TEST_EXISTS));

  auto created = Ctl({"--json", "room", "create", "--name", "Board room", "--mode", "mcu", "--limit", "8"});
  ASSERT_EQ(created.status, 0) << created.err;
  int64_t roomId = json::parse(created.out)["roomId"];
  auto got = Ctl({"--json", "room", "get", std::to_string(roomId)});
  ASSERT_EQ(got.status, 0) << got.err;
  json room = json::parse(got.out)["room"];
  EXPECT_EQ(room["name"], "Board room");
  EXPECT_EQ(room["mode"], "mcu");
  EXPECT_EQ(room["type"], 2);
  EXPECT_EQ(room["numberLimit"], 8);
  EXPECT_EQ(Ctl({"room", "list"}).status, 0);

  auto call = Ctl({"--json", "call", "room.hasPassword", "{\"roomId\":" + std::to_string(roomId) + "}"});
  EXPECT_EQ(call.status, 0) << call.err;
  EXPECT_EQ(json::parse(call.out)["hasPassword"], false);

  auto user = Ctl({"--json", "user", "add", "carol", "--password", "carol-password"});
  EXPECT_EQ(user.status, 0) << user.err;
  EXPECT_EQ(Ctl({"room", "delete", std::to_string(roomId)}).status, 0);
}

TEST_F(CtlTest, ExitCodesSayWhatWentWrong) {
  ASSERT_EQ(Ctl({"login", "admin"}).status, 0);
  auto missing = Ctl({"room", "get", "999999"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("-32003"), std::string::npos) << missing.err;
  auto badMode = Ctl({"room", "create", "--name", "x", "--mode", "p2p"});
  EXPECT_EQ(badMode.status, 1);
  EXPECT_NE(badMode.err.find("-32602"), std::string::npos) << badMode.err;
  EXPECT_EQ(Ctl({"call", "no.such.method"}).status, 1);
  EXPECT_EQ(Ctl({"frobnicate"}).status, 2);
  EXPECT_EQ(Ctl({"call", "server.ping", "{not json"}).status, 2);
  EXPECT_EQ(Ctl({"ping"}, {}, "http://127.0.0.1:1").status, 3);
  auto wrong = Ctl({"login", "admin", "--password", "wrong-password"});
  EXPECT_EQ(wrong.status, 1);
  EXPECT_NE(wrong.err.find("-32005"), std::string::npos) << wrong.err;
  // After logout the saved token no longer works.
  ASSERT_EQ(Ctl({"login", "admin"}).status, 0);
  EXPECT_EQ(Ctl({"logout"}).status, 0);
  EXPECT_EQ(Ctl({"room", "list"}).status, 1);
}

}  // namespace
}  // namespace atrium::test
