#include "auth/Passwords.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"

#include <sodium.h>

#include <vector>

namespace atrium::auth {

void InitSodium() {
  // sodium_init() is itself thread-safe; the static only saves repeated calls.
  static const int rc = sodium_init();
  if (rc < 0) throw AppError(ErrorCode::Internal, "libsodium could not be initialised");
}

std::string HashPassword(std::string_view password) {
  InitSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    GST_CAT_ERROR(atrium_auth_debug, "password hashing failed [reason:out of memory]");
    throw AppError(ErrorCode::Internal, "password hashing failed (out of memory)");
  }
  return out;
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  // libsodium reads the hash as a C string: refuse what it would silently truncate.
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES || hash.find('\0') != hash.npos) return false;
  InitSodium();
  const std::string str(hash);
  return crypto_pwhash_str_verify(str.c_str(), password.data(), password.size()) == 0;
}

std::string RandomHex(size_t bytes) {
  if (bytes == 0) return {};  // libsodium declares its buffers non-null
  InitSodium();
  std::vector<unsigned char> bin(bytes);
  randombytes_buf(bin.data(), bin.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bin.data(), bin.size());
  hex.pop_back();
  return hex;
}

std::string RandomDigits(size_t n) {
  InitSodium();
  std::string s(n, '0');
  for (size_t i = 0; i < n; ++i)
    s[i] = char(i == 0 ? '1' + randombytes_uniform(9) : '0' + randombytes_uniform(10));
  return s;
}

std::string RandomPassword() {
  static constexpr std::string_view kAlphabet = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
  InitSodium();
  std::string s(16, ' ');
  for (char& c : s) c = kAlphabet[randombytes_uniform(uint32_t(kAlphabet.size()))];
  return s;
}

}  // namespace atrium::auth
