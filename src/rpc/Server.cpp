#include "rpc/Server.hpp"

#include "atrium-config.h"
#include "core/Error.hpp"
#include "core/Log.hpp"

#include <algorithm>
#include <cstring>

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

namespace {

constexpr const char* kLimiterKey = "atrium-rate-limiter";

std::string PeerOf(SoupServerMessage* msg) {
  const char* host = soup_server_message_get_remote_host(msg);
  GSocketAddress* addr = soup_server_message_get_remote_address(msg);
  std::string peer = host ? host : "?";
  if (addr && G_IS_INET_SOCKET_ADDRESS(addr))
    peer += ":" + std::to_string(g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr)));
  return peer;
}

const char* ContentTypeFor(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"}, {".webmanifest", "application/manifest+json"},
  };
  for (const auto& [ext, type] : kTypes)
    if (g_str_has_suffix(path.c_str(), ext)) return type;
  return "application/octet-stream";
}

// Whether a handler registered for `prefix` should answer `path`: the prefix itself or
// something below it, not a sibling that merely starts with the same letters.
bool OwnsPath(const std::string& prefix, const char* path) {
  if (!path) return false;
  size_t n = prefix.size();
  return strncmp(path, prefix.c_str(), n) == 0 && (path[n] == '\0' || path[n] == '/');
}

}  // namespace

// A WebSocket connection on /rpc: one session, its rate limiter and its notifications.
class Server::WebSocketSession : public Session {
public:
  WebSocketSession(Server& server, SoupWebsocketConnection* conn, std::string peer, const Config& config)
      : Session(Kind::WebSocket, std::move(peer)),
        server_(server),
        conn_(conn),
        limiter_(double(config.requestsPerSecond), double(config.requestBurst)) {}

  ~WebSocketSession() override {
    if (conn_) g_signal_handlers_disconnect_by_data(conn_.get(), this);
  }

  void Attach() {
    g_signal_connect(conn_.get(), "message", G_CALLBACK(OnMessage), this);
    g_signal_connect(conn_.get(), "closed", G_CALLBACK(OnClosed), this);
  }

  void Notify(const std::string& method, const nlohmann::json& params) override {
    Send(Dispatcher::Serialize({{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}));
  }

  bool IsOpen() const override {
    return soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN;
  }

  void Send(const std::string& text) {
    if (text.empty() || !IsOpen()) return;
    // send_text wants a NUL-terminated string; our JSON never contains a raw NUL.
    soup_websocket_connection_send_text(conn_.get(), text.c_str());
  }

private:
  static void OnMessage(SoupWebsocketConnection*, gint type, GBytes* message, gpointer data) {
    auto* self = static_cast<WebSocketSession*>(data);
    auto found = self->server_.sessions_.find(self->id());
    if (found == self->server_.sessions_.end()) return;
    std::weak_ptr<WebSocketSession> weak = found->second;
    auto reply = [weak](std::string text) {
      if (auto s = weak.lock()) s->Send(text);
    };
    try {
      if (type != SOUP_WEBSOCKET_DATA_TEXT) {
        reply(Dispatcher::Serialize(Dispatcher::ErrorReply(nullptr, int(ErrorCode::InvalidRequest),
                                                           "invalid request: send JSON-RPC as text frames")));
        return;
      }
      gsize len = 0;
      const auto* p = static_cast<const char*>(g_bytes_get_data(message, &len));
      auto shared = weak.lock();
      self->server_.dispatcher_.Handle(std::string_view(p ? p : "", len), shared, &self->limiter_, reply);
    } catch (const std::exception& e) {
      GST_ERROR("websocket message failed [session:%" G_GUINT64_FORMAT " what:%s]", self->id(), e.what());
    }
  }

  static void OnClosed(SoupWebsocketConnection*, gpointer data) {
    auto* self = static_cast<WebSocketSession*>(data);
    GST_INFO("websocket closed [session:%" G_GUINT64_FORMAT " peer:%s]", self->id(), self->peer().c_str());
    self->server_.RemoveSession(self->id());
  }

  Server& server_;
  GRef<SoupWebsocketConnection> conn_;
  RateLimiter limiter_;
};

Server::Server(const Config& config, Dispatcher& dispatcher, Metrics& metrics)
    : config_(config), dispatcher_(dispatcher), metrics_(metrics) {
  webRoot_ = config.webRoot.empty() ? std::string(ATRIUM_DATADIR) + "/web" : config.webRoot;
  metrics_.AddGauge("atrium_websocket_sessions", "Open WebSocket sessions on /rpc.",
                    [this] { return double(sessions_.size()); });
}

Server::~Server() {
  if (soup_) {
    soup_server_disconnect(soup_.get());
  }
  sessions_.clear();
}

void Server::Start() {
  GError* err = nullptr;
  if (config_.tlsEnabled()) {
    GRef<GTlsCertificate> cert = GRef<GTlsCertificate>::adopt(
        g_tls_certificate_new_from_files(config_.tlsCertificate.c_str(), config_.tlsKey.c_str(), &err));
    if (!cert) {
      GErrorPtr e(err);
      throw AppError(ErrorCode::Internal, std::string("TLS certificate: ") + e->message);
    }
    soup_ = GRef<SoupServer>::adopt(
        SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, "server-header", "atriumd/" ATRIUM_VERSION, "tls-certificate",
                                 cert.get(), nullptr)));
  } else {
    soup_ = GRef<SoupServer>::adopt(
        SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, "server-header", "atriumd/" ATRIUM_VERSION, nullptr)));
  }

  soup_server_add_handler(soup_.get(), "/rpc", HandleRpc, this, nullptr);
  soup_server_add_websocket_handler(soup_.get(), "/rpc", nullptr, nullptr, HandleWebSocket, this, nullptr);
  soup_server_add_handler(soup_.get(), "/healthz", HandleHealth, this, nullptr);
  soup_server_add_handler(soup_.get(), "/metrics", HandleMetrics, this, nullptr);
  for (auto& route : routes_)
    soup_server_add_handler(soup_.get(), route->prefix.c_str(), HandleRoute, route.get(), nullptr);
  for (auto& route : earlyRoutes_)
    soup_server_add_early_handler(soup_.get(), route->prefix.c_str(), HandleRoute, route.get(), nullptr);
  soup_server_add_handler(soup_.get(), nullptr, HandleStatic, this, nullptr);

  GRef<GInetAddress> addr =
      GRef<GInetAddress>::adopt(g_inet_address_new_from_string(config_.listenHost.c_str()));
  if (!addr) throw AppError(ErrorCode::Internal, "bad listen address " + config_.listenHost);
  GRef<GSocketAddress> sockaddr = GRef<GSocketAddress>::adopt(g_inet_socket_address_new(addr.get(), config_.listenPort));
  auto options = config_.tlsEnabled() ? SOUP_SERVER_LISTEN_HTTPS : SoupServerListenOptions(0);
  if (!soup_server_listen(soup_.get(), sockaddr.get(), options, &err)) {
    GErrorPtr e(err);
    throw AppError(ErrorCode::Internal, "cannot listen on " + config_.listenHost + ":" +
                                            std::to_string(config_.listenPort) + ": " + e->message);
  }
  GSList* uris = soup_server_get_uris(soup_.get());
  if (uris) port_ = uint16_t(g_uri_get_port(static_cast<GUri*>(uris->data)));
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  GST_INFO("listening [url:%s]", url().c_str());
}

std::string Server::url() const {
  bool v6 = config_.listenHost.find(':') != std::string::npos;
  std::string host = v6 ? "[" + config_.listenHost + "]" : config_.listenHost;
  return std::string(config_.tlsEnabled() ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

void Server::Reply(SoupServerMessage* msg, const std::string& route, int status, const char* contentType,
                   std::string body) {
  metrics_.CountHttp(route, status);
  if (body.empty()) {
    soup_server_message_set_status(msg, guint(status), nullptr);
    return;
  }
  soup_server_message_set_response(msg, contentType, SOUP_MEMORY_COPY, body.data(), body.size());
  soup_server_message_set_status(msg, guint(status), nullptr);
}

void Server::HandleRpc(SoupServer* soup, SoupServerMessage* msg, const char* path, GHashTable* query,
                       gpointer data) {
  auto* self = static_cast<Server*>(data);
  if (!OwnsPath("/rpc", path)) return HandleStatic(soup, msg, path, query, self);
  try {
    const char* method = soup_server_message_get_method(msg);
    if (method == SOUP_METHOD_POST) return self->ServeRpcPost(msg);
    SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
    if (method == SOUP_METHOD_GET && soup_message_headers_header_contains(headers, "Upgrade", "websocket")) {
      if (self->sessions_.size() >= size_t(self->config_.maxConnections)) {
        self->Reply(msg, "/rpc", 503, "text/plain", "too many connections\n");
      }
      return;  // leaving the status unset lets libsoup complete the WebSocket handshake
    }
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "POST");
    self->Reply(msg, "/rpc", 405, "text/plain", "use POST or a WebSocket upgrade\n");
  } catch (const std::exception& e) {
    GST_ERROR("rpc handler failed [what:%s]", e.what());
    soup_server_message_set_status(msg, 500, nullptr);
  }
}

void Server::ServeRpcPost(SoupServerMessage* msg) {
  auto session = std::make_shared<Session>(Session::Kind::Http, PeerOf(msg));
  SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
  if (const char* authz = soup_message_headers_get_one(headers, "Authorization")) {
    if (g_ascii_strncasecmp(authz, "Bearer ", 7) == 0) session->bearer = std::string(authz + 7);
  }
  // The rate limit is per TCP connection: keep-alive requests share one bucket, stored
  // on the socket so that it goes away with the connection.
  RateLimiter* limiter = nullptr;
  if (GSocket* sock = soup_server_message_get_socket(msg)) {
    limiter = static_cast<RateLimiter*>(g_object_get_data(G_OBJECT(sock), kLimiterKey));
    if (!limiter) {
      limiter = new RateLimiter(double(config_.requestsPerSecond), double(config_.requestBurst));
      g_object_set_data_full(G_OBJECT(sock), kLimiterKey, limiter,
                             [](gpointer p) { delete static_cast<RateLimiter*>(p); });
    }
  }

  SoupMessageBody* body = soup_server_message_get_request_body(msg);
  GBytes* bytes = soup_message_body_flatten(body);
  gsize len = 0;
  const auto* p = static_cast<const char*>(g_bytes_get_data(bytes, &len));
  std::string_view text(p ? p : "", len);

  // The reply may come later (asynchronous methods): hold the message and pause it.
  struct Pending {
    Server* server;
    GRef<SoupServerMessage> msg;
    bool sync = true;
    bool paused = false;
  };
  auto pending = std::make_shared<Pending>(Pending{this, GRef<SoupServerMessage>(msg)});
  int status = len > size_t(config_.maxMessageBytes) ? 413 : 200;
  dispatcher_.Handle(text, session, limiter, [pending, status](std::string reply) {
    auto* m = pending->msg.get();
    if (reply.empty())
      pending->server->Reply(m, "/rpc", 204, nullptr, {});
    else
      pending->server->Reply(m, "/rpc", status, "application/json", std::move(reply));
    if (pending->paused) soup_server_message_unpause(m);
    pending->sync = false;
  });
  g_bytes_unref(bytes);
  if (pending->sync && soup_server_message_get_status(msg) == 0) {
    pending->paused = true;
    pending->sync = false;
    soup_server_message_pause(msg);
  }
}

void Server::HandleWebSocket(SoupServer*, SoupServerMessage* msg, const char*, SoupWebsocketConnection* conn,
                             gpointer data) {
  auto* self = static_cast<Server*>(data);
  uint64_t maxPayload = std::min<uint64_t>(64u << 20, std::max<uint64_t>(16u << 20, uint64_t(self->config_.maxMessageBytes) * 2));
  soup_websocket_connection_set_max_incoming_payload_size(conn, maxPayload);
  soup_websocket_connection_set_keepalive_interval(conn, 30);
  auto session = std::make_shared<WebSocketSession>(*self, conn, PeerOf(msg), self->config_);
  self->sessions_[session->id()] = session;
  session->Attach();
  GST_INFO("websocket open [session:%" G_GUINT64_FORMAT " peer:%s]", session->id(), session->peer().c_str());
}

void Server::RemoveSession(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  auto keep = it->second;  // outlives the erase while callbacks finish
  sessions_.erase(it);
  if (sessionClosed_) {
    try {
      sessionClosed_(*keep);
    } catch (const std::exception& e) {
      GST_ERROR("session close handler failed [what:%s]", e.what());
    }
  }
  // Destroy outside the signal emission that got us here.
  g_idle_add_full(G_PRIORITY_DEFAULT, [](gpointer p) -> gboolean {
    delete static_cast<std::shared_ptr<WebSocketSession>*>(p);
    return G_SOURCE_REMOVE;
  }, new std::shared_ptr<WebSocketSession>(std::move(keep)), nullptr);
}

void Server::AddRoute(const std::string& prefix, HttpRoute route) {
  routes_.push_back(std::make_unique<Route>(Route{this, prefix, std::move(route)}));
}

void Server::AddEarlyRoute(const std::string& prefix, HttpRoute route) {
  earlyRoutes_.push_back(std::make_unique<Route>(Route{this, prefix, std::move(route)}));
}

void Server::HandleRoute(SoupServer* soup, SoupServerMessage* msg, const char* path, GHashTable* query,
                         gpointer data) {
  auto* route = static_cast<Route*>(data);
  // libsoup matches handlers by string prefix: "/rooms" also catches "/rooms.js".
  if (!OwnsPath(route->prefix, path)) return HandleStatic(soup, msg, path, query, route->server);
  try {
    route->handler(msg, path ? path : route->prefix);
  } catch (const std::exception& e) {
    ReplyHttpError(msg, e);
  }
  if (guint status = soup_server_message_get_status(msg)) route->server->metrics_.CountHttp(route->prefix, int(status));
}

void Server::HandleHealth(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer data) {
  static_cast<Server*>(data)->Reply(msg, "/healthz", 200, "text/plain", "ok\n");
}

void Server::HandleMetrics(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer data) {
  auto* self = static_cast<Server*>(data);
  std::string body;
  try {
    body = self->metrics_.Render();
  } catch (const std::exception& e) {
    GST_ERROR("metrics failed [what:%s]", e.what());
    return self->Reply(msg, "/metrics", 500, "text/plain", "error\n");
  }
  self->Reply(msg, "/metrics", 200, "text/plain; version=0.0.4", std::move(body));
}

void Server::HandleStatic(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer data) {
  auto* self = static_cast<Server*>(data);
  const char* method = soup_server_message_get_method(msg);
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    return self->Reply(msg, "static", 405, "text/plain", "method not allowed\n");
  std::string rel = path ? path : "/";
  // Paths come from the client: no "..", no NUL, no hidden files; always below webRoot.
  if (rel.find("..") != std::string::npos || rel.find('\0') != std::string::npos || rel.find("/.") != std::string::npos)
    return self->Reply(msg, "static", 404, "text/plain", "not found\n");
  if (rel.back() == '/') rel += "index.html";
  std::string file = self->webRoot_ + rel;
  if (!g_file_test(file.c_str(), G_FILE_TEST_IS_REGULAR))
    return self->Reply(msg, "static", 404, "text/plain", "not found\n");
  GError* err = nullptr;
  GMappedFile* mapped = g_mapped_file_new(file.c_str(), FALSE, &err);
  if (!mapped) {
    GErrorPtr e(err);
    return self->Reply(msg, "static", 404, "text/plain", "not found\n");
  }
  GBytes* bytes = g_mapped_file_get_bytes(mapped);
  g_mapped_file_unref(mapped);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Content-Type", ContentTypeFor(file));
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control", "no-cache");
  soup_message_body_append_bytes(soup_server_message_get_response_body(msg), bytes);
  g_bytes_unref(bytes);
  soup_server_message_set_status(msg, 200, nullptr);
  self->metrics_.CountHttp("static", 200);
}

}  // namespace atrium::rpc
