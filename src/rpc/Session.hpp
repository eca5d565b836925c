// One client of the control plane: a WebSocket connection (long-lived, receives
// notifications) or a single HTTP request (POST /rpc). Owned by the Server; the
// dispatcher reads its identity and rate limiter.
#pragma once

#include "auth/Grants.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace atrium::rpc {

// Who is calling, once a token was verified (auth.login, auth.resume, or Bearer).
struct Identity {
  int64_t userId = 0;
  std::string account;
  std::string jti;
  int64_t expiresAt = 0;
  auth::Grants grants;  // in effect: admin only while the user is an administrator now
  bool tokenAdmin = false;  // what the token itself grants
};

// Token bucket: `rate` tokens a second up to `burst`.
class RateLimiter {
public:
  RateLimiter(double rate, double burst);
  bool Take(double n = 1);

private:
  double rate_;
  double burst_;
  double tokens_;
  int64_t last_;
};

class Session {
public:
  enum class Kind { WebSocket, Http };

  Session(Kind kind, std::string peer);
  virtual ~Session() = default;

  uint64_t id() const { return id_; }
  Kind kind() const { return kind_; }
  const std::string& peer() const { return peer_; }

  // A Bearer token carried by an HTTP request, verified when a method first needs it.
  std::optional<std::string> bearer;
  std::optional<Identity> identity;

  // Sends a JSON-RPC notification; HTTP sessions have nowhere to send it and drop it.
  virtual void Notify(const std::string& method, const nlohmann::json& params) {}
  virtual bool IsOpen() const { return kind_ == Kind::Http; }

private:
  uint64_t id_;
  Kind kind_;
  std::string peer_;
};

}  // namespace atrium::rpc
