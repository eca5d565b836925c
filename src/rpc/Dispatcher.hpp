// JSON-RPC 2.0 dispatcher: parses a message (single or batch), enforces the message,
// batch, nesting and rate limits, authenticates, routes by method name, and maps every
// exception to an error reply in exactly one place (Reply()).
#pragma once

#include "core/Params.hpp"
#include "rpc/Session.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace atrium::rpc {

class Metrics;

enum class Access {
  Public,  // anyone, also without a token
  User,    // a verified identity is required
};

struct Call {
  Session& session;
  std::shared_ptr<Session> sessionRef;
  const std::string& method;
  Params params;

  // The verified identity; only valid in Access::User methods.
  const Identity& identity() const { return *session.identity; }
  // Throws Forbidden unless the caller is an administrator.
  void RequireAdmin() const;
};

// Completes an asynchronous call exactly once; later calls are ignored. Dropping the
// last reference without completing replies with an internal error.
class Responder {
public:
  using Done = std::function<void(nlohmann::json reply)>;
  Responder(nlohmann::json id, std::string method, Metrics& metrics, Done done);
  ~Responder();
  void Resolve(nlohmann::json result);
  void Reject(const std::exception& e);

private:
  nlohmann::json id_;
  std::string method_;
  Metrics& metrics_;
  Done done_;
};

class Dispatcher {
public:
  using Handler = std::function<nlohmann::json(Call&)>;
  using AsyncHandler = std::function<void(Call&, std::shared_ptr<Responder>)>;
  // Turns a token into an Identity, or throws AppError(Unauthenticated).
  using Authenticator = std::function<Identity(const std::string& token)>;
  // Re-checks an identity before each call (user still exists, token not revoked).
  using IdentityCheck = std::function<void(Identity&)>;

  struct Limits {
    size_t maxMessageBytes = 1 << 20;
    size_t maxBatch = 100;
    int maxDepth = 64;
  };

  Dispatcher(Limits limits, Metrics& metrics);

  void Add(const std::string& method, Access access, Handler handler);
  void AddAsync(const std::string& method, Access access, AsyncHandler handler);
  void SetAuthenticator(Authenticator authn, IdentityCheck check);
  bool Has(const std::string& method) const { return methods_.count(method) != 0; }

  // Handles one message. `done` receives the reply text, or "" when there is nothing to
  // send (notifications only); it may run before Handle() returns, or later for
  // asynchronous methods.
  void Handle(std::string_view text, const std::shared_ptr<Session>& session, RateLimiter* limiter,
              std::function<void(std::string)> done);

  // The one place where failures become JSON-RPC error objects.
  static nlohmann::json ErrorReply(const nlohmann::json& id, int code, const std::string& message,
                                   const nlohmann::json& data = nullptr);
  static nlohmann::json ErrorReplyFor(const nlohmann::json& id, const std::exception& e);
  static std::string Serialize(const nlohmann::json& j);

  const Limits& limits() const { return limits_; }

private:
  struct Entry {
    Access access;
    Handler handler;
    AsyncHandler asyncHandler;
  };

  // Handles one request object; `reply` gets its response (null for a notification).
  void HandleOne(const nlohmann::json& request, const std::shared_ptr<Session>& session, RateLimiter* limiter,
                 std::function<void(nlohmann::json)> reply);
  void Authenticate(Session& session);

  Limits limits_;
  Metrics& metrics_;
  Authenticator authn_;
  IdentityCheck check_;
  std::unordered_map<std::string, Entry> methods_;
};

// Depth of the deepest array/object nesting in `text`, scanning past strings; stops
// counting once `limit` is exceeded. Used to refuse hostile nesting before parsing.
int JsonDepth(std::string_view text, int limit);

}  // namespace atrium::rpc
