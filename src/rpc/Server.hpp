// The HTTP side of atriumd on libsoup 3: JSON-RPC over WebSocket and POST on /rpc,
// /healthz, /metrics and the web client's static files. Owns the WebSocket sessions;
// everything runs on the control thread's default main context.
#pragma once

#include "core/Config.hpp"
#include "core/GRef.hpp"
#include "rpc/Dispatcher.hpp"
#include "rpc/HttpRoutes.hpp"
#include "rpc/Metrics.hpp"
#include "rpc/Session.hpp"

#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace atrium::rpc {

class Server {
public:
  // Told when a WebSocket session closes, so that live state bound to it can go.
  using SessionClosed = std::function<void(Session&)>;

  Server(const Config& config, Dispatcher& dispatcher, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the configured address (port 0 picks a free one). Throws AppError.
  void Start();
  uint16_t port() const { return port_; }
  std::string url() const;  // http(s)://host:port
  size_t sessionCount() const { return sessions_.size(); }
  void OnSessionClosed(SessionClosed cb) { sessionClosed_ = std::move(cb); }
  // Sends requests for `prefix` and everything below it ("/recordings" takes
  // "/recordings/7/file") to `route`. Call before Start().
  void AddRoute(const std::string& prefix, HttpRoute route);

private:
  class WebSocketSession;

  static void HandleRpc(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer self);
  static void HandleWebSocket(SoupServer*, SoupServerMessage* msg, const char* path, SoupWebsocketConnection* conn,
                              gpointer self);
  static void HandleHealth(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer self);
  static void HandleMetrics(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer self);
  static void HandleStatic(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer self);

  struct Route {
    Server* server;
    std::string prefix;
    HttpRoute handler;
  };
  static void HandleRoute(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer route);

  void ServeRpcPost(SoupServerMessage* msg);
  void Reply(SoupServerMessage* msg, const std::string& route, int status, const char* contentType,
             std::string body);
  void RemoveSession(uint64_t id);

  const Config& config_;
  Dispatcher& dispatcher_;
  Metrics& metrics_;
  GRef<SoupServer> soup_;
  uint16_t port_ = 0;
  std::string webRoot_;
  std::unordered_map<uint64_t, std::shared_ptr<WebSocketSession>> sessions_;
  std::vector<std::unique_ptr<Route>> routes_;
  SessionClosed sessionClosed_;
};

}  // namespace atrium::rpc
