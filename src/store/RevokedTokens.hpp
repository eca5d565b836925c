// Token ids (jti) revoked by auth.logout, kept until the token would have expired anyway.
#pragma once

#include "store/Database.hpp"

namespace atrium::store {

class RevokedTokens {
public:
  explicit RevokedTokens(Database& db) : db_(db) {}
  void Revoke(const std::string& jti, int64_t expiresAt);
  bool IsRevoked(const std::string& jti);
  int Purge(int64_t now);  // drops entries whose tokens have expired

private:
  Database& db_;
};

}  // namespace atrium::store
