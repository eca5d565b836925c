// atriumd as an operator runs it: restarts and kill -9 lose nothing acknowledged,
// --check-config, the first administrator, /healthz, /metrics, the web client, TLS.
#include "tests/rpc/Harness.hpp"

#include <glib.h>
#include <gtest/gtest.h>

namespace atrium::test {
namespace {

std::string Login(HttpClient& http, const std::string& account = "admin",
                  const std::string& password = DaemonProcess::kAdminPassword) {
  json r = http.Call("auth.login", {{"account", account}, {"password", password}});
  return ResultOf(r)["token"];
}

struct ProcessRun {
  int status = -1;
  std::string out;
  std::string err;
};

ProcessRun RunDaemon(const std::vector<std::string>& args) {
  std::vector<const char*> argv = {nullptr};
  std::string bin = DaemonProcess::Binary();
  argv[0] = bin.c_str();
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  ProcessRun r;
  gchar* out = nullptr;
  gchar* err = nullptr;
  GError* error = nullptr;
  if (!g_spawn_sync(nullptr, const_cast<gchar**>(argv.data()), nullptr, G_SPAWN_DEFAULT, nullptr, nullptr, &out, &err,
                    &r.status, &error)) {
    ADD_FAILURE() << error->message;
    g_error_free(error);
    return r;
  }
  r.out = out ? out : "";
  r.err = err ? err : "";
  g_free(out);
  g_free(err);
  r.status = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
  return r;
}

TEST(Daemon, DataSurvivesARestart) {
  TempDir dir;
  DaemonProcess daemon(dir.path());
  HttpClient http(daemon.url());
  std::string token = Login(http);
  int64_t roomId = ResultOf(http.Call("room.create", {{"name", "persistent"}, {"password", "pw"}}, token))["roomId"];
  int64_t userId =
      ResultOf(http.Call("user.add", {{"account", "bob"}, {"password", "bob-password"}}, token))["userId"];
  json meeting = ResultOf(http.Call(
      "meeting.create", {{"name", "weekly"}, {"startTime", 4000000000LL}, {"endTime", 4000003600LL}}, token));
  daemon.Stop();
  EXPECT_EQ(daemon.ExitStatus(), 0) << daemon.stderrText();

  daemon.Start();
  HttpClient http2(daemon.url());
  // The token stays valid across restarts: the signing secret lives in the data dir.
  json room = ResultOf(http2.Call("room.get", {{"roomId", roomId}}, token))["room"];
  EXPECT_EQ(room["name"], "persistent");
  EXPECT_EQ(room["hasPassword"], true);
  EXPECT_EQ(ResultOf(http2.Call("room.checkPassword", {{"roomId", roomId}, {"password", "pw"}}))["valid"], true);
  EXPECT_EQ(ResultOf(http2.Call("user.get", {{"userId", userId}}, token))["user"]["account"], "bob");
  EXPECT_EQ(ResultOf(http2.Call("meeting.byCode", {{"code", meeting["inviteCode"]}}))["status"], "notStarted");
  Login(http2, "bob", "bob-password");
}

TEST(Daemon, KillNineLosesNothingAcknowledged) {
  TempDir dir;
  DaemonProcess daemon(dir.path());
  HttpClient http(daemon.url());
  std::string token = Login(http);
  std::vector<int64_t> ids;
  for (int i = 0; i < 40; ++i)
    ids.push_back(ResultOf(http.Call("room.create", {{"name", "r" + std::to_string(i)}}, token))["roomId"]);
  daemon.Kill9();  // right after the last reply

  daemon.Start();
  HttpClient http2(daemon.url());
  json list = ResultOf(http2.Call("room.list", {{"limit", 500}}, token));
  EXPECT_EQ(list["total"], 40);
  for (size_t i = 0; i < ids.size(); ++i)
    EXPECT_EQ(ResultOf(http2.Call("room.get", {{"roomId", ids[i]}}, token))["room"]["name"], "r" + std::to_string(i));
}

TEST(Daemon, CheckConfig) {
  TempDir dir;
  std::string good = dir.path() + "/good.conf";
  std::string bad = dir.path() + "/bad.conf";
  g_file_set_contents(good.c_str(), "[server]\nlisten = 127.0.0.1:9999\n", -1, nullptr);
  g_file_set_contents(bad.c_str(), "[limits]\nmax-batch = lots\n", -1, nullptr);
  ProcessRun ok = RunDaemon({"--config", good, "--data-dir", dir.path() + "/data", "--check-config"});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_NE(ok.out.find("configuration OK"), std::string::npos);
  ProcessRun no = RunDaemon({"--config", bad, "--check-config"});
  EXPECT_EQ(no.status, 1);
  EXPECT_NE(no.err.find("max-batch"), std::string::npos) << no.err;
  ProcessRun missing = RunDaemon({"--config", dir.path() + "/nope.conf", "--check-config"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("nope.conf"), std::string::npos) << missing.err;
  ProcessRun listen = RunDaemon({"--config", good, "--listen", "not-an-address", "--check-config"});
  EXPECT_EQ(listen.status, 1);
  ProcessRun unknownFlag = RunDaemon({"--bogus"});
  EXPECT_EQ(unknownFlag.status, 2);
  ProcessRun version = RunDaemon({"--version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_NE(version.out.find("atriumd "), std::string::npos);
}

TEST(Daemon, FirstAdministratorGetsARandomPasswordShownOnce) {
  TempDir dir;
  DaemonProcess daemon(dir.path(), "", {{"ATRIUM_ADMIN_PASSWORD", ""}});
  const std::string marker = "with password: ";
  auto pos = daemon.stderrText().find(marker);
  ASSERT_NE(pos, std::string::npos) << daemon.stderrText();
  std::string password = daemon.stderrText().substr(pos + marker.size(), 16);
  EXPECT_EQ(password.size(), 16u);
  HttpClient http(daemon.url());
  Login(http, "admin", password);
  EXPECT_EQ(ErrorCodeOf(http.Call("auth.login", {{"account", "admin"}, {"password", "admin"}})), -32005);
  daemon.Stop();
  daemon.Start();
  EXPECT_EQ(daemon.stderrText().find(marker), std::string::npos);
}

TEST(Daemon, HealthMetricsAndWebClient) {
  TempDir dir;
  DaemonProcess daemon(dir.path());
  HttpClient http(daemon.url());
  auto health = http.Request("GET", "/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.body, "ok\n");

  http.Call("server.ping");
  http.Call("no.such.method");
  {
    WsClient ws(daemon.wsUrl());
    ws.Call("server.ping");
    auto metrics = http.Request("GET", "/metrics").body;
    EXPECT_NE(metrics.find("atrium_websocket_sessions 1"), std::string::npos) << metrics;
  }
  RunUntil([] { return false; }, 200);
  auto metrics = http.Request("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.contentType.find("text/plain"), std::string::npos);
  for (const char* line : {"atrium_rpc_requests_total{method=\"server.ping\",outcome=\"ok\"} 2",
                           "atrium_rpc_requests_total{method=\"unknown\",outcome=\"methodNotFound\"} 1",
                           "atrium_websocket_sessions 0", "atrium_rooms_live 0", "atrium_participants 0",
                           "atrium_process_resident_memory_bytes "})
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line << "\n" << metrics.body;

  auto index = http.Request("GET", "/");
  EXPECT_EQ(index.status, 200u);
  EXPECT_NE(index.contentType.find("text/html"), std::string::npos);
  EXPECT_NE(index.body.find("<title>Atrium</title>"), std::string::npos);
  EXPECT_NE(http.Request("GET", "/app.js").contentType.find("javascript"), std::string::npos);
  EXPECT_EQ(http.Request("GET", "/nope.html").status, 404u);
  EXPECT_EQ(http.Request("GET", "/%2e%2e/%2e%2e/etc/passwd").status, 404u);
  EXPECT_EQ(http.Request("POST", "/index.html", "x").status, 405u);
  EXPECT_EQ(http.Request("GET", "/rpc").status, 405u);
  // Handlers match by prefix in libsoup: siblings of /rpc and /rooms are static files.
  EXPECT_EQ(http.Request("GET", "/rpcx.js").status, 404u);
  EXPECT_EQ(http.Request("GET", "/roomsx.js").status, 404u);
  EXPECT_EQ(http.Request("GET", "/recordingsx").status, 404u);
}

TEST(Daemon, ServesHttpsAndWssWithAConfiguredCertificate) {
  TempDir dir;
  std::string cert = dir.path() + "/cert.pem";
  std::string key = dir.path() + "/key.pem";
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " + key +
                    " -out " + cert + " 2>/dev/null";
  if (system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl is not installed";
  DaemonProcess daemon(dir.path() + "/data",
                       "[server]\ntls-certificate = " + cert + "\ntls-key = " + key + "\n");
  ASSERT_EQ(daemon.url().rfind("https://", 0), 0u) << daemon.url();
  // A client that trusts the self-signed certificate.
  std::string curl = "curl -s --cacert " + cert + " -X POST " + daemon.url() +
                     "/rpc -d '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.ping\"}'";
  FILE* p = popen(curl.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512] = {};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  pclose(p);
  EXPECT_NE(std::string(buf, n).find("\"pong\":true"), std::string::npos) << std::string(buf, n);
}

}  // namespace
}  // namespace atrium::test
