// Signatures for third-party integrations: "<expiresAt>.<hex HMAC-SHA256>" over the app id
// and expiry, keyed from the server key. Stateless apart from the derived key.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <string>

namespace atrium::auth {

class AppSigner {
public:
  // The HMAC key is BLAKE2b-256 (crypto_generichash) of serverKey. Throws AppError(Internal)
  // for an empty serverKey.
  explicit AppSigner(std::string serverKey);
  AppSigner(const AppSigner&) = default;
  AppSigner& operator=(const AppSigner&) = default;
  ~AppSigner() { sodium_memzero(key_.data(), key_.size()); }

  // "<expiresAt>.<lowercase hex of HMAC-SHA256(key, appId + "\n" + expiresAt)>"
  std::string Sign(const std::string& appId, int64_t expiresAt) const;

  // Throws AppError(Unauthenticated, ..., {"reason": "badSignature"}) for malformed text or
  // a wrong MAC (checked in constant time), then {"reason": "expired"} when expiresAt <= now.
  void Verify(const std::string& appId, const std::string& signature, int64_t now) const;

private:
  std::array<unsigned char, crypto_auth_hmacsha256_KEYBYTES> key_{};
};

}  // namespace atrium::auth
