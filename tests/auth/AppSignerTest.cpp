#include "auth/AppSigner.hpp"

#include "core/Error.hpp"

#include <gtest/gtest.h>

using namespace atrium;
using namespace atrium::auth;

namespace {

constexpr int64_t kExp = 1'700'000'000;

// The "reason" of the Unauthenticated error Verify throws, or "ok".
std::string Reason(const AppSigner& s, const std::string& appId, const std::string& sig, int64_t now) {
  try {
    s.Verify(appId, sig, now);
    return "ok";
  } catch (const AppError& e) {
    EXPECT_EQ(e.code(), ErrorCode::Unauthenticated) << e.what();
    return e.data().value("reason", "?");
  }
}

}  // namespace

TEST(AppSigner, SignVerify) {
  AppSigner signer("server key");
  const std::string sig = signer.Sign("app-1", kExp);
  ASSERT_EQ(sig.size(), 11u + 64u) << sig;
  EXPECT_EQ(sig.substr(0, 11), "1700000000.");
  EXPECT_EQ(sig.find_first_not_of("0123456789abcdef", 11), std::string::npos) << sig;
  EXPECT_EQ(sig, AppSigner("server key").Sign("app-1", kExp));  // deterministic
  EXPECT_EQ(Reason(signer, "app-1", sig, kExp - 1), "ok");
  AppSigner copy = signer;
  EXPECT_EQ(Reason(copy, "app-1", sig, kExp - 1), "ok");
}

TEST(AppSigner, Expired) {
  AppSigner signer("server key");
  const std::string sig = signer.Sign("app-1", kExp);
  EXPECT_EQ(Reason(signer, "app-1", sig, kExp), "expired");
  EXPECT_EQ(Reason(signer, "app-1", sig, kExp + 100), "expired");
}

TEST(AppSigner, TamperedOrForeign) {
  AppSigner signer("server key");
  const std::string sig = signer.Sign("app-1", kExp);
  std::string mac = sig;
  mac.back() = mac.back() == '0' ? '1' : '0';
  EXPECT_EQ(Reason(signer, "app-1", mac, 0), "badSignature");
  EXPECT_EQ(Reason(signer, "app-1", "1700000001" + sig.substr(10), 0), "badSignature");  // longer expiry
  EXPECT_EQ(Reason(signer, "app-2", sig, 0), "badSignature");
  EXPECT_EQ(Reason(signer, "app-1\n", sig, 0), "badSignature");
  EXPECT_EQ(Reason(AppSigner("other key"), "app-1", sig, 0), "badSignature");
  // A forged signature is reported as bad even when it is also expired.
  EXPECT_EQ(Reason(signer, "app-1", mac, kExp + 1), "badSignature");
}

TEST(AppSigner, Malformed) {
  AppSigner signer("server key");
  const std::string hex = signer.Sign("a", kExp).substr(11);
  for (const std::string& s :
       {std::string(), std::string("."), std::string("1700000000"), std::string("1700000000."), "." + hex,
        "x." + hex, "0" + std::to_string(kExp) + "." + hex, "+" + std::to_string(kExp) + "." + hex,
        std::to_string(kExp) + "." + hex + "0", std::to_string(kExp) + "." + hex.substr(1),
        std::to_string(kExp) + "." + hex.substr(0, 63) + "g", std::to_string(kExp) + ".." + hex.substr(1),
        "99999999999999999999." + hex, std::to_string(kExp) + " ." + hex})
    EXPECT_EQ(Reason(signer, "a", s, 0), "badSignature") << s;
}

TEST(AppSigner, EmptyKeyRefused) {
  EXPECT_THROW(AppSigner(""), AppError);
}
