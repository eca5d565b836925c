// Issues and checks the HS256 JWTs that authenticate RPC sessions and HTTP requests.
// One instance, owned by the daemon, holding the server secret from <dataDir>/jwt.secret.
#pragma once

#include "auth/Grants.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace atrium::auth {

struct TokenClaims {
  int64_t userId = 0;
  std::string account;
  std::string jti;
  int64_t issuedAt = 0;
  int64_t expiresAt = 0;
  Grants grants;
};

class TokenService {
public:
  using Clock = std::function<int64_t()>;  // Unix time in seconds

  // Throws AppError(Internal) for an empty secret or a lifetime <= 0.
  TokenService(std::string secret, int64_t defaultLifetimeSeconds);

  // lifetimeSeconds <= 0 means the default. Claims: sub (user id as a string), acc, jti
  // (RandomHex(16)), iat, exp, grants (object), iss "atrium".
  std::string Issue(int64_t userId, const std::string& account, const Grants& grants,
                    int64_t lifetimeSeconds = 0) const;

  // Throws AppError(Unauthenticated, ..., {"reason": "invalid"|"expired"}). "invalid": not
  // a JWT, over 8 KiB, bad signature, alg other than HS256, missing or ill-typed claims,
  // iss other than "atrium". "expired": a valid token with exp <= now.
  TokenClaims Verify(const std::string& token) const;

  // Tests move time with this; an empty Clock restores the real one.
  void SetClock(Clock now) { now_ = std::move(now); }

  // Reads <dataDir>/jwt.secret (surrounding whitespace trimmed, at least 32 bytes), or
  // creates it (0600, 64 hex characters, written to a temp file then renamed) when
  // missing, creating dataDir (0700) if needed. Throws AppError(Internal) naming the path.
  static std::string LoadOrCreateSecret(const std::string& dataDir);

  static constexpr size_t kMaxTokenSize = 8192;

private:
  int64_t Now() const;

  std::string secret_;
  int64_t defaultLifetime_;
  Clock now_;
};

}  // namespace atrium::auth
