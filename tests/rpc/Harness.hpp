// Test harness for the control plane: a real atriumd process on 127.0.0.1 with its own
// data directory, a real HTTP client (libsoup, keep-alive) and a real WebSocket client.
#pragma once

#include "core/GRef.hpp"

#include <libsoup/soup.h>
#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace atrium::test {

using nlohmann::json;

// A temporary directory removed (recursively) on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

class DaemonProcess {
public:
  static constexpr const char* kAdminPassword = "admin-secret-1";

  // Starts build/src/daemon/atriumd on 127.0.0.1 with an ephemeral port and waits until
  // it listens. `config` is written to <dataDir>/test.conf and passed with --config.
  explicit DaemonProcess(std::string dataDir, std::string config = {},
                         std::map<std::string, std::string> env = {});
  ~DaemonProcess();

  void Start();
  void Stop();   // SIGTERM, then wait
  void Kill9();  // SIGKILL, then wait
  bool Running() const;
  int pid() const;
  // VmRSS in KiB, thread count and open file descriptors of the running daemon, from /proc.
  struct Usage {
    long rssKiB = 0;
    long threads = 0;
    long fds = 0;
  };
  Usage ReadUsage() const;
  int ExitStatus() const { return exitStatus_; }

  const std::string& url() const { return url_; }
  std::string wsUrl() const;
  const std::string& dataDir() const { return dataDir_; }
  const std::string& stderrText() const { return stderr_; }

  static std::string Binary();

private:
  std::string dataDir_;
  std::string config_;
  std::map<std::string, std::string> env_;
  GRef<GSubprocess> proc_;
  std::string url_;
  std::string stderr_;
  int exitStatus_ = -1;
};

struct HttpReply {
  unsigned status = 0;
  std::string body;
  std::string contentType;
  std::map<std::string, std::string> headers;  // response headers, names in lower case
  std::string Header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
  }
  json Json() const { return json::parse(body, nullptr, false); }
};

class HttpClient {
public:
  explicit HttpClient(std::string baseUrl);
  HttpReply Request(const char* method, const std::string& path, const std::string& body = {},
                    const std::map<std::string, std::string>& headers = {});
  HttpReply PostRpc(const std::string& body, const std::string& token = {});
  // One JSON-RPC call; returns the whole reply object.
  json Call(const std::string& method, const json& params = json::object(), const std::string& token = {});

private:
  std::string base_;
  GRef<SoupSession> session_;
  int nextId_ = 1;
};

class WsClient {
public:
  explicit WsClient(const std::string& url);
  ~WsClient();
  bool IsOpen() const;
  void SendText(const std::string& text);
  void SendBinary(const std::string& data);
  // Waits for the next reply (a message with an id, or a batch array); notifications are
  // queued. Returns nullopt on timeout or close.
  std::optional<std::string> NextReply(int timeoutMs = 5000);
  json Call(const std::string& method, const json& params = json::object());
  // Waits for a notification with this method.
  std::optional<json> WaitNotification(const std::string& method, int timeoutMs = 5000);
  void Close();
  // Removes and returns the queued notifications that `pred` picks.
  std::vector<json> TakeNotifications(const std::function<bool(const json&)>& pred);
  // Sends a JSON-RPC notification (no id, no reply).
  void Notify(const std::string& method, const json& params);

private:
  static void OnMessage(SoupWebsocketConnection*, gint type, GBytes* msg, gpointer self);
  static void OnClosed(SoupWebsocketConnection*, gpointer self);

  GRef<SoupSession> session_;
  GRef<SoupWebsocketConnection> conn_;
  std::deque<std::string> replies_;
  std::deque<json> notifications_;
  bool closed_ = false;
  int nextId_ = 1;
};

// Iterates the default main context until `done()` or the timeout; returns done().
bool RunUntil(const std::function<bool()>& done, int timeoutMs = 5000);

int ErrorCodeOf(const json& reply);  // 0 when the reply is a success
const json& ResultOf(const json& reply);

// Every row of every table of the SQLite database, as text, for "nothing changed" checks.
std::string DumpDatabase(const std::string& dbPath);

}  // namespace atrium::test
