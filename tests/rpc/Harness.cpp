#include "tests/rpc/Harness.hpp"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/prctl.h>

#include <csignal>

#include <fstream>
#include <sstream>

namespace atrium::test {

namespace {

void RemoveTree(const std::string& path) {
  GDir* dir = g_dir_open(path.c_str(), 0, nullptr);
  if (dir) {
    while (const char* name = g_dir_read_name(dir)) {
      std::string child = path + "/" + name;
      if (g_file_test(child.c_str(), G_FILE_TEST_IS_DIR) && !g_file_test(child.c_str(), G_FILE_TEST_IS_SYMLINK))
        RemoveTree(child);
      else
        g_unlink(child.c_str());
    }
    g_dir_close(dir);
  }
  g_rmdir(path.c_str());
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// In sanitizer builds atriumd's own reports (memory errors, leaks at exit, undefined
// behaviour) land in its log: each one fails the test that ran it.
void CheckSanitizerReports(const std::string& log) {
  for (const char* report : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"})
    if (log.find(report) != std::string::npos)
      ADD_FAILURE() << "atriumd reported \"" << report << "\":\n" << log.substr(log.find(report), 20000);
}

}  // namespace

TempDir::TempDir() {
  GError* err = nullptr;
  gchar* p = g_dir_make_tmp("atrium-test-XXXXXX", &err);
  if (!p) throw std::runtime_error(err->message);
  path_ = p;
  g_free(p);
}

// ATRIUM_TEST_KEEP=1 keeps the directory (database, recordings, logs) for a look afterwards.
TempDir::~TempDir() {
  if (g_strcmp0(g_getenv("ATRIUM_TEST_KEEP"), "1") == 0) {
    g_printerr("kept %s\n", path_.c_str());
    return;
  }
  RemoveTree(path_);
}

bool RunUntil(const std::function<bool()>& done, int timeoutMs) {
  gint64 deadline = g_get_monotonic_time() + gint64(timeoutMs) * 1000;
  while (!done()) {
    if (g_get_monotonic_time() > deadline) return false;
    // Wake up at least every 10 ms so that the deadline is honoured.
    guint t = g_timeout_add(10, [](gpointer) { return G_SOURCE_REMOVE; }, nullptr);
    g_main_context_iteration(nullptr, TRUE);
    if (GSource* s = g_main_context_find_source_by_id(nullptr, t)) g_source_destroy(s);
  }
  return true;
}

std::string DaemonProcess::Binary() {
  const char* env = g_getenv("ATRIUMD");
  return env ? env : "atriumd";
}

DaemonProcess::DaemonProcess(std::string dataDir, std::string config, std::map<std::string, std::string> env)
    : dataDir_(std::move(dataDir)), config_(std::move(config)), env_(std::move(env)) {
  Start();
}

DaemonProcess::~DaemonProcess() {
  if (Running())
    Stop();
  else if (std::string log = ReadFile(dataDir_ + "/atriumd.log"); proc_ && log != stderr_)
    CheckSanitizerReports(log);  // it ended by itself, or was killed: nothing read its log since
}

void DaemonProcess::Start() {
  g_mkdir_with_parents(dataDir_.c_str(), 0700);
  std::string log = dataDir_ + "/atriumd.log";
  g_unlink(log.c_str());
  std::vector<std::string> args = {Binary(), "--data-dir", dataDir_, "--listen", "127.0.0.1:0"};
  // Always a config of our own, so that a system /etc/atrium/atrium.conf never leaks in.
  std::string conf = dataDir_ + "/test.conf";
  g_file_set_contents(conf.c_str(), config_.c_str(), -1, nullptr);
  args.insert(args.end(), {"--config", conf});
  if (const char* web = g_getenv("ATRIUM_SOURCE_ROOT")) args.insert(args.end(), {"--web-root", std::string(web) + "/data/web"});
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);

  GRef<GSubprocessLauncher> launcher = GRef<GSubprocessLauncher>::adopt(g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE));
  g_subprocess_launcher_setenv(launcher.get(), "ATRIUM_ADMIN_PASSWORD", kAdminPassword, TRUE);
  for (const auto& [k, v] : env_) {
    if (v.empty())
      g_subprocess_launcher_unsetenv(launcher.get(), k.c_str());
    else
      g_subprocess_launcher_setenv(launcher.get(), k.c_str(), v.c_str(), TRUE);
  }
  // A test killed by its timeout takes its daemon with it.
  g_subprocess_launcher_set_child_setup(
      launcher.get(), [](gpointer) { prctl(PR_SET_PDEATHSIG, SIGTERM); }, nullptr, nullptr);
  g_subprocess_launcher_set_stderr_file_path(launcher.get(), log.c_str());
  g_subprocess_launcher_set_stdout_file_path(launcher.get(), (dataDir_ + "/atriumd.out").c_str());
  GError* err = nullptr;
  proc_ = GRef<GSubprocess>::adopt(g_subprocess_launcher_spawnv(launcher.get(), argv.data(), &err));
  if (!proc_) throw std::runtime_error(std::string("cannot start atriumd: ") + err->message);
  exitStatus_ = -1;

  const std::string marker = "listening on ";
  bool ok = RunUntil(
      [&] {
        stderr_ = ReadFile(log);
        return stderr_.find(marker) != std::string::npos || !Running();
      },
      20000);
  auto pos = stderr_.find(marker);
  if (!ok || pos == std::string::npos) throw std::runtime_error("atriumd did not start: " + stderr_);
  auto end = stderr_.find_first_of(" \n", pos + marker.size());
  url_ = stderr_.substr(pos + marker.size(), end - pos - marker.size());
}

bool DaemonProcess::Running() const {
  return proc_ && g_subprocess_get_identifier(proc_.get()) != nullptr;
}

int DaemonProcess::pid() const {
  const char* id = proc_ ? g_subprocess_get_identifier(proc_.get()) : nullptr;
  return id ? atoi(id) : 0;
}

DaemonProcess::Usage DaemonProcess::ReadUsage() const {
  Usage u;
  std::string status = ReadFile("/proc/" + std::to_string(pid()) + "/status");
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) u.rssKiB = atol(line.c_str() + 6);
    if (line.rfind("Threads:", 0) == 0) u.threads = atol(line.c_str() + 8);
  }
  if (GDir* fds = g_dir_open(("/proc/" + std::to_string(pid()) + "/fd").c_str(), 0, nullptr)) {
    while (g_dir_read_name(fds)) u.fds++;
    g_dir_close(fds);
  }
  return u;
}

void DaemonProcess::Stop() {
  if (!proc_) return;
  g_subprocess_send_signal(proc_.get(), SIGTERM);
  g_subprocess_wait(proc_.get(), nullptr, nullptr);
  exitStatus_ = g_subprocess_get_if_exited(proc_.get()) ? g_subprocess_get_exit_status(proc_.get()) : -1;
  stderr_ = ReadFile(dataDir_ + "/atriumd.log");
  CheckSanitizerReports(stderr_);
}

void DaemonProcess::Kill9() {
  if (!proc_) return;
  g_subprocess_force_exit(proc_.get());
  g_subprocess_wait(proc_.get(), nullptr, nullptr);
}

std::string DaemonProcess::wsUrl() const { return "ws" + url_.substr(4) + "/rpc"; }

HttpClient::HttpClient(std::string baseUrl)
    : base_(std::move(baseUrl)), session_(GRef<SoupSession>::adopt(soup_session_new())) {
  soup_session_set_timeout(session_.get(), 30);
}

HttpReply HttpClient::Request(const char* method, const std::string& path, const std::string& body,
                              const std::map<std::string, std::string>& headers) {
  GRef<SoupMessage> msg = GRef<SoupMessage>::adopt(soup_message_new(method, (base_ + path).c_str()));
  if (!msg) throw std::runtime_error("bad url " + base_ + path);
  // A Content-Type among `headers` is the body's type ("" sends none); else application/json.
  std::optional<std::string> bodyType;
  for (const auto& [k, v] : headers) {
    if (g_ascii_strcasecmp(k.c_str(), "Content-Type") == 0)
      bodyType = v;
    else
      soup_message_headers_replace(soup_message_get_request_headers(msg.get()), k.c_str(), v.c_str());
  }
  if (!body.empty() || g_strcmp0(method, "POST") == 0 || g_strcmp0(method, "PATCH") == 0) {
    GBytes* b = g_bytes_new(body.data(), body.size());
    std::string type = bodyType.value_or("application/json");
    soup_message_set_request_body_from_bytes(msg.get(), type.empty() ? nullptr : type.c_str(), b);
    g_bytes_unref(b);
  }
  GError* err = nullptr;
  GBytes* out = soup_session_send_and_read(session_.get(), msg.get(), nullptr, &err);
  HttpReply r;
  if (!out) {
    std::string m = err ? err->message : "?";
    g_clear_error(&err);
    throw std::runtime_error("HTTP request failed: " + m);
  }
  r.status = soup_message_get_status(msg.get());
  gsize len = 0;
  const char* p = static_cast<const char*>(g_bytes_get_data(out, &len));
  r.body.assign(p ? p : "", len);
  g_bytes_unref(out);
  const char* ct = soup_message_headers_get_content_type(soup_message_get_response_headers(msg.get()), nullptr);
  r.contentType = ct ? ct : "";
  soup_message_headers_foreach(
      soup_message_get_response_headers(msg.get()),
      [](const char* name, const char* value, gpointer data) {
        char* lower = g_ascii_strdown(name, -1);
        static_cast<HttpReply*>(data)->headers[lower] = value;
        g_free(lower);
      },
      &r);
  return r;
}

HttpReply HttpClient::PostRpc(const std::string& body, const std::string& token) {
  std::map<std::string, std::string> headers;
  if (!token.empty()) headers["Authorization"] = "Bearer " + token;
  return Request("POST", "/rpc", body, headers);
}

json HttpClient::Call(const std::string& method, const json& params, const std::string& token) {
  json req = {{"jsonrpc", "2.0"}, {"id", nextId_++}, {"method", method}, {"params", params}};
  auto r = PostRpc(req.dump(), token);
  json j = r.Json();
  if (j.is_discarded()) throw std::runtime_error("not JSON (HTTP " + std::to_string(r.status) + "): " + r.body);
  return j;
}

WsClient::WsClient(const std::string& url) : session_(GRef<SoupSession>::adopt(soup_session_new())) {
  GRef<SoupMessage> msg = GRef<SoupMessage>::adopt(soup_message_new("GET", url.c_str()));
  struct Result {
    SoupWebsocketConnection* conn = nullptr;
    GError* err = nullptr;
    bool done = false;
  } result;
  soup_session_websocket_connect_async(
      session_.get(), msg.get(), nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
      [](GObject* src, GAsyncResult* res, gpointer data) {
        auto* r = static_cast<Result*>(data);
        r->conn = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &r->err);
        r->done = true;
      },
      &result);
  RunUntil([&] { return result.done; }, 10000);
  if (!result.conn) {
    std::string m = result.err ? result.err->message : "timeout";
    g_clear_error(&result.err);
    throw std::runtime_error("websocket connect failed: " + m);
  }
  conn_ = GRef<SoupWebsocketConnection>::adopt(result.conn);
  soup_websocket_connection_set_max_incoming_payload_size(conn_.get(), 64 << 20);
  g_signal_connect(conn_.get(), "message", G_CALLBACK(OnMessage), this);
  g_signal_connect(conn_.get(), "closed", G_CALLBACK(OnClosed), this);
}

WsClient::~WsClient() {
  if (conn_) {
    g_signal_handlers_disconnect_by_data(conn_.get(), this);
    if (soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN) {
      soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
      RunUntil([&] { return soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_CLOSED; }, 1000);
    }
  }
}

void WsClient::OnMessage(SoupWebsocketConnection*, gint, GBytes* msg, gpointer data) {
  auto* self = static_cast<WsClient*>(data);
  gsize len = 0;
  const char* p = static_cast<const char*>(g_bytes_get_data(msg, &len));
  std::string text(p ? p : "", len);
  json j = json::parse(text, nullptr, false);
  if (j.is_object() && j.contains("method") && !j.contains("id"))
    self->notifications_.push_back(j);
  else
    self->replies_.push_back(text);
}

void WsClient::OnClosed(SoupWebsocketConnection*, gpointer data) { static_cast<WsClient*>(data)->closed_ = true; }

bool WsClient::IsOpen() const {
  return !closed_ && soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN;
}

void WsClient::SendText(const std::string& text) {
  // send_text needs a C string; messages with NUL bytes go as raw frames of type text.
  GBytes* b = g_bytes_new(text.data(), text.size());
  soup_websocket_connection_send_message(conn_.get(), SOUP_WEBSOCKET_DATA_TEXT, b);
  g_bytes_unref(b);
}

void WsClient::SendBinary(const std::string& data) {
  soup_websocket_connection_send_binary(conn_.get(), data.data(), data.size());
}

std::optional<std::string> WsClient::NextReply(int timeoutMs) {
  RunUntil([&] { return !replies_.empty() || closed_; }, timeoutMs);
  if (replies_.empty()) return std::nullopt;
  std::string r = std::move(replies_.front());
  replies_.pop_front();
  return r;
}

json WsClient::Call(const std::string& method, const json& params) {
  int id = nextId_++;
  SendText(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump());
  auto r = NextReply(15000);
  if (!r) throw std::runtime_error("no reply to " + method);
  return json::parse(*r);
}

std::optional<json> WsClient::WaitNotification(const std::string& method, int timeoutMs) {
  std::optional<json> found;
  RunUntil(
      [&] {
        for (auto it = notifications_.begin(); it != notifications_.end(); ++it) {
          if ((*it)["method"] == method) {
            found = *it;
            notifications_.erase(it);
            return true;
          }
        }
        return closed_;
      },
      timeoutMs);
  return found;
}

void WsClient::Close() {
  soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
  RunUntil([&] { return closed_; }, 2000);
}

std::vector<json> WsClient::TakeNotifications(const std::function<bool(const json&)>& pred) {
  std::vector<json> out;
  for (auto it = notifications_.begin(); it != notifications_.end();) {
    if (pred(*it)) {
      out.push_back(std::move(*it));
      it = notifications_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

void WsClient::Notify(const std::string& method, const json& params) {
  SendText(json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}.dump());
}

int ErrorCodeOf(const json& reply) {
  if (reply.is_object() && reply.contains("error")) return reply["error"]["code"].get<int>();
  return 0;
}

const json& ResultOf(const json& reply) {
  if (!reply.is_object() || !reply.contains("result"))
    throw std::runtime_error("expected a result, got " + reply.dump());
  return reply["result"];
}

std::string DumpDatabase(const std::string& dbPath) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(dbPath.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "<cannot open>";
  }
  std::string out;
  std::vector<std::string> tables;
  sqlite3_exec(
      db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
      [](void* t, int, char** v, char**) {
        static_cast<std::vector<std::string>*>(t)->push_back(v[0]);
        return 0;
      },
      &tables, nullptr);
  for (const auto& t : tables) {
    out += "[" + t + "]\n";
    sqlite3_exec(
        db, ("SELECT * FROM \"" + t + "\" ORDER BY 1").c_str(),
        [](void* o, int n, char** v, char**) {
          auto* s = static_cast<std::string*>(o);
          for (int i = 0; i < n; ++i) *s += std::string(v[i] ? v[i] : "NULL") + "|";
          *s += "\n";
          return 0;
        },
        &out, nullptr);
  }
  sqlite3_close(db);
  return out;
}

}  // namespace atrium::test
