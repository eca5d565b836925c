#include "auth/TokenService.hpp"

#include "auth/Passwords.hpp"
#include "core/Error.hpp"
#include "core/GRef.hpp"
#include "core/Log.hpp"

#include <glib.h>
#include <glib/gstdio.h>
#include <jwt.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace atrium::auth {

namespace {

using JwtPtr = CPtr<jwt_t, jwt_free>;
using MallocPtr = CPtr<char, free>;  // strings libjwt allocates (jansson's default malloc)

constexpr const char* kIssuer = "atrium";
constexpr size_t kMinSecretSize = 32;

[[noreturn]] void Reject(const char* reason, const char* why) {
  GST_CAT_DEBUG(atrium_auth_debug, "token rejected [reason:%s] [why:%s]", reason, why);
  throw AppError(ErrorCode::Unauthenticated,
                 std::strcmp(reason, "expired") == 0 ? "token expired" : "invalid token",
                 {{"reason", reason}});
}

// An integer claim; JSON floats are not accepted.
bool GetInt(const nlohmann::json& payload, const char* key, int64_t& out) {
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_number_integer()) return false;
  if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX)) return false;
  out = it->get<int64_t>();
  return true;
}

bool GetString(const nlohmann::json& payload, const char* key, std::string& out) {
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

[[noreturn]] void FailIo(const std::string& what, const std::string& path, const char* detail) {
  GST_CAT_ERROR(atrium_auth_debug, "%s [path:%s] [error:%s]", what.c_str(), path.c_str(), detail);
  throw AppError(ErrorCode::Internal, what + " " + path + ": " + detail, {{"path", path}});
}

}  // namespace

TokenService::TokenService(std::string secret, int64_t defaultLifetimeSeconds)
    : secret_(std::move(secret)), defaultLifetime_(defaultLifetimeSeconds) {
  if (secret_.empty()) throw AppError(ErrorCode::Internal, "the JWT secret is empty");
  if (defaultLifetime_ <= 0) throw AppError(ErrorCode::Internal, "the token lifetime must be positive");
}

int64_t TokenService::Now() const {
  return now_ ? now_() : g_get_real_time() / G_USEC_PER_SEC;
}

std::string TokenService::Issue(int64_t userId, const std::string& account, const Grants& grants,
                                int64_t lifetimeSeconds) const {
  const int64_t iat = Now();
  const int64_t lifetime = lifetimeSeconds > 0 ? lifetimeSeconds : defaultLifetime_;
  const int64_t exp = lifetime > std::numeric_limits<int64_t>::max() - iat
                          ? std::numeric_limits<int64_t>::max()
                          : iat + lifetime;
  const nlohmann::json payload = {
      {"sub", std::to_string(userId)}, {"acc", account}, {"jti", RandomHex(16)}, {"iat", iat}, {"exp", exp},
      {"grants", grants.ToJson()},     {"iss", kIssuer}};
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw AppError(ErrorCode::Internal, "jwt_new failed");
  JwtPtr jwt(raw);
  const auto* key = reinterpret_cast<const unsigned char*>(secret_.data());
  MallocPtr token;
  if (jwt_add_grants_json(jwt.get(), payload.dump().c_str()) == 0 &&
      jwt_set_alg(jwt.get(), JWT_ALG_HS256, key, int(secret_.size())) == 0)
    token.reset(jwt_encode_str(jwt.get()));
  if (!token) throw AppError(ErrorCode::Internal, "could not encode the token");
  GST_CAT_DEBUG(atrium_auth_debug, "token issued [user:%" G_GINT64_FORMAT "] [exp:%" G_GINT64_FORMAT "]",
                userId, exp);
  return token.get();
}

TokenClaims TokenService::Verify(const std::string& token) const {
  // libjwt reads a C string: a NUL would hide whatever follows it.
  if (token.empty() || token.size() > kMaxTokenSize || token.find('\0') != token.npos)
    Reject("invalid", "empty, too long or has NUL");
  jwt_t* raw = nullptr;
  const auto* key = reinterpret_cast<const unsigned char*>(secret_.data());
  if (jwt_decode(&raw, token.c_str(), key, int(secret_.size())) != 0 || !raw)
    Reject("invalid", "malformed or bad signature");
  JwtPtr jwt(raw);
  // libjwt verifies whatever HS* alg the header names; only HS256 is ours (never "none").
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) Reject("invalid", "alg is not HS256");

  MallocPtr text(jwt_get_grants_json(jwt.get(), nullptr));
  const auto payload = text ? nlohmann::json::parse(text.get(), nullptr, false) : nlohmann::json();
  if (!payload.is_object()) Reject("invalid", "payload is not an object");

  TokenClaims c;
  std::string iss, sub;
  if (!GetString(payload, "iss", iss) || iss != kIssuer) Reject("invalid", "iss");
  if (!GetString(payload, "sub", sub) || !GetString(payload, "acc", c.account) ||
      !GetString(payload, "jti", c.jti) || !GetInt(payload, "iat", c.issuedAt) ||
      !GetInt(payload, "exp", c.expiresAt))
    Reject("invalid", "missing or ill-typed claim");
  const auto [end, ec] = std::from_chars(sub.data(), sub.data() + sub.size(), c.userId);
  if (sub.empty() || ec != std::errc() || end != sub.data() + sub.size()) Reject("invalid", "sub");
  auto grants = payload.find("grants");
  if (grants == payload.end() || !grants->is_object()) Reject("invalid", "grants");
  try {
    c.grants = Grants::FromJson(*grants);
  } catch (const InvalidParams&) {
    Reject("invalid", "grants");
  }
  if (c.expiresAt <= Now()) Reject("expired", "exp <= now");
  return c;
}

std::string TokenService::LoadOrCreateSecret(const std::string& dataDir) {
  if (g_mkdir_with_parents(dataDir.c_str(), 0700) != 0)
    FailIo("cannot create the data directory", dataDir, g_strerror(errno));
  GCharPtr pathStr(g_build_filename(dataDir.c_str(), "jwt.secret", nullptr));
  const std::string path = pathStr.get();

  gchar* raw = nullptr;
  gsize len = 0;
  GError* rawErr = nullptr;
  if (g_file_get_contents(path.c_str(), &raw, &len, &rawErr)) {
    GCharPtr contents(raw);
    std::string secret(contents.get(), len);
    const auto first = secret.find_first_not_of(" \t\r\n");
    secret = first == secret.npos ? "" : secret.substr(first, secret.find_last_not_of(" \t\r\n") - first + 1);
    if (secret.size() < kMinSecretSize)
      FailIo("JWT secret too short (32 bytes at least)", path, "refusing to use it");
    GST_CAT_DEBUG(atrium_auth_debug, "JWT secret loaded [path:%s]", path.c_str());
    return secret;
  }
  GErrorPtr err(rawErr);
  if (!g_error_matches(err.get(), G_FILE_ERROR, G_FILE_ERROR_NOENT))
    FailIo("cannot read the JWT secret", path, err->message);

  const std::string secret = RandomHex(32);
  GError* writeErr = nullptr;
  // CONSISTENT: written to a temp file in the same folder, fsync'd, then renamed over.
  if (!g_file_set_contents_full(path.c_str(), secret.data(), gssize(secret.size()),
                                G_FILE_SET_CONTENTS_CONSISTENT, 0600, &writeErr)) {
    GErrorPtr e(writeErr);
    FailIo("cannot write the JWT secret", path, e->message);
  }
  GST_CAT_INFO(atrium_auth_debug, "JWT secret created [path:%s]", path.c_str());
  return secret;
}

}  // namespace atrium::auth
