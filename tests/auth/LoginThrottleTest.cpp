// LoginThrottle on a fake clock: free failures, doubling delays, the cap, per-account and
// per-address counting, forgetting, and the memory bound.
#include "auth/LoginThrottle.hpp"

#include <gtest/gtest.h>

namespace atrium::auth {
namespace {

class LoginThrottleTest : public ::testing::Test {
protected:
  int64_t now_ = 1000000;
  LoginThrottle::Policy policy_;
  LoginThrottle Make() { return LoginThrottle(policy_, [this] { return now_; }); }
};

TEST_F(LoginThrottleTest, DelaysDoubleAfterTheFreeFailuresUpToTheCap) {
  auto t = Make();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.RetryAfterMs("ada", "10.0.0.1:1"), 0);
    t.Failed("ada", "10.0.0.1:1");
  }
  EXPECT_EQ(t.RetryAfterMs("ada", "10.0.0.1:2"), 1000);
  now_ += 1000;
  EXPECT_EQ(t.RetryAfterMs("ada", "10.0.0.1:2"), 0);
  t.Failed("ada", "10.0.0.1:2");
  EXPECT_EQ(t.RetryAfterMs("ada", "10.0.0.9:2"), 2000);  // from any address
  now_ += 2000;
  t.Failed("ada", "10.0.0.1:2");
  EXPECT_EQ(t.RetryAfterMs("ada", "10.0.0.1:2"), 4000);
  for (int i = 0; i < 20; ++i) {
    now_ += 300000;
    t.Failed("ada", "10.0.0.1:2");
  }
  EXPECT_EQ(t.RetryAfterMs("ada", "10.0.0.1:2"), 300000);
  // Other accounts are not slowed down by ada's failures (the address has room left).
  EXPECT_EQ(t.RetryAfterMs("bob", "10.0.0.2:3"), 0);
}

TEST_F(LoginThrottleTest, SuccessClearsTheAccountAndSilenceForgetsIt) {
  auto t = Make();
  for (int i = 0; i < 5; ++i) t.Failed("ada", "10.0.0.1:1");
  t.Succeeded("ada");
  t.Failed("ada", "10.0.0.1:1");
  EXPECT_EQ(t.RetryAfterMs("ada", "10.0.0.1:1"), 0);
  for (int i = 0; i < 4; ++i) t.Failed("ada", "10.0.0.1:1");
  now_ += policy_.forgetAfterMs + 1;
  t.Failed("ada", "10.0.0.1:1");
  EXPECT_EQ(t.RetryAfterMs("ada", "10.0.0.1:1"), 0);
}

TEST_F(LoginThrottleTest, AnAddressGuessingManyAccountsIsSlowedDown) {
  auto t = Make();
  for (int i = 0; i < 20; ++i) t.Failed("user" + std::to_string(i), "[::1]:4000");
  EXPECT_EQ(t.RetryAfterMs("someone-else", "[::1]:4001"), 1000);
  EXPECT_EQ(t.RetryAfterMs("someone-else", "10.0.0.3:1"), 0);
}

TEST_F(LoginThrottleTest, AddressOfDropsThePort) {
  EXPECT_EQ(LoginThrottle::AddressOf("203.0.113.7:51234"), "203.0.113.7");
  EXPECT_EQ(LoginThrottle::AddressOf("::1:40000"), "::1");
  EXPECT_EQ(LoginThrottle::AddressOf("?"), "?");
}

TEST_F(LoginThrottleTest, MemoryStaysBounded) {
  policy_.maxKeys = 100;
  auto t = Make();
  for (int i = 0; i < 1000; ++i) {
    now_ += 1;
    t.Failed("a" + std::to_string(i), "10.0.0." + std::to_string(i % 250) + ":1");
  }
  // The newest keys are still counted.
  for (int i = 0; i < 4; ++i) t.Failed("a999", "10.0.1.1:1");
  EXPECT_GT(t.RetryAfterMs("a999", "10.0.1.1:1"), 0);
}

}  // namespace
}  // namespace atrium::auth
