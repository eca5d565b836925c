#include "auth/AppSigner.hpp"

#include "auth/Passwords.hpp"
#include "core/Error.hpp"
#include "core/Log.hpp"

#include <charconv>

namespace atrium::auth {

namespace {

std::string Message(const std::string& appId, int64_t expiresAt) {
  return appId + "\n" + std::to_string(expiresAt);
}

[[noreturn]] void Reject(const char* reason) {
  GST_CAT_DEBUG(atrium_auth_debug, "app signature rejected [reason:%s]", reason);
  throw AppError(ErrorCode::Unauthenticated,
                 std::string(reason) == "expired" ? "app signature expired" : "bad app signature",
                 {{"reason", reason}});
}

}  // namespace

AppSigner::AppSigner(std::string serverKey) {
  if (serverKey.empty()) throw AppError(ErrorCode::Internal, "the app signing key is empty");
  InitSodium();
  crypto_generichash(key_.data(), key_.size(), reinterpret_cast<const unsigned char*>(serverKey.data()),
                     serverKey.size(), nullptr, 0);
  sodium_memzero(serverKey.data(), serverKey.size());
}

std::string AppSigner::Sign(const std::string& appId, int64_t expiresAt) const {
  const std::string msg = Message(appId, expiresAt);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), key_.data());
  char hex[sizeof mac * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return std::to_string(expiresAt) + "." + hex;
}

void AppSigner::Verify(const std::string& appId, const std::string& signature, int64_t now) const {
  const auto dot = signature.find('.');
  if (dot == signature.npos || signature.size() - dot - 1 != crypto_auth_hmacsha256_BYTES * 2)
    Reject("badSignature");
  int64_t expiresAt = 0;
  const char* first = signature.data();
  const auto [end, ec] = std::from_chars(first, first + dot, expiresAt);
  // Only the canonical decimal form Sign() writes (no leading zeros, no '+').
  if (ec != std::errc() || end != first + dot || std::to_string(expiresAt) != signature.substr(0, dot))
    Reject("badSignature");
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  size_t macLen = 0;
  const char* hexEnd = nullptr;
  const char* hex = first + dot + 1;
  if (sodium_hex2bin(mac, sizeof mac, hex, sizeof mac * 2, nullptr, &macLen, &hexEnd) != 0 ||
      macLen != sizeof mac || hexEnd != hex + sizeof mac * 2)
    Reject("badSignature");
  // crypto_auth_hmacsha256_verify compares with crypto_verify_32 (constant time).
  const std::string msg = Message(appId, expiresAt);
  if (crypto_auth_hmacsha256_verify(mac, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                    key_.data()) != 0)
    Reject("badSignature");
  if (expiresAt <= now) Reject("expired");
}

}  // namespace atrium::auth
