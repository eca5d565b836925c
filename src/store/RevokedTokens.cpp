#include "store/RevokedTokens.hpp"

namespace atrium::store {

void RevokedTokens::Revoke(const std::string& jti, int64_t expiresAt) {
  db_.prepare("INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)").bindAll(jti, expiresAt).exec();
}

bool RevokedTokens::IsRevoked(const std::string& jti) {
  auto s = db_.prepare("SELECT 1 FROM revoked_tokens WHERE jti = ?");
  s.bind(1, jti);
  return s.step();
}

int RevokedTokens::Purge(int64_t now) {
  return db_.prepare("DELETE FROM revoked_tokens WHERE expires_at <= ?").bindAll(now).exec();
}

}  // namespace atrium::store
