// The fixture shared by the RPC suites that run against one atriumd per test suite: the
// daemon with its own data directory, an HTTP client, the daemon's token secret and an
// administrator session, plus the helpers those suites call with them.
#pragma once

#include "tests/rpc/Harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace atrium::test {

// The password of the users added with DaemonSuite::AddAccount and DaemonSuite::AddUser.
inline constexpr const char* kUserPassword = "user-password-1";

// Unix time in seconds.
int64_t Now();

// prefix-1, prefix-2, ...: a name no other call in this test binary gets.
std::string Unique(const std::string& prefix);

// error.data.param of a reply ("" when there is none).
std::string ParamOf(const json& reply);

inline bool Contains(const std::vector<int64_t>& v, int64_t id) { return std::find(v.begin(), v.end(), id) != v.end(); }

struct User {
  int64_t id = 0;
  std::string account;
  std::string token;
};

// The daemon is started in SetUpTestSuite and stopped in TearDownTestSuite. The members
// are static, so every suite derived from DaemonSuite in one test binary uses the same
// ones in turn: each suite starts a fresh daemon and stops it before the next one starts.
class DaemonSuite : public ::testing::Test {
protected:
  static void SetUpTestSuite() { StartDaemon(""); }
  static void TearDownTestSuite();
  // SetUpTestSuite with the daemon reading `config` (atrium.conf text).
  static void StartDaemon(const std::string& config);

  static json Call(const std::string& method, const json& params, const std::string& token) {
    return http_->Call(method, params, token);
  }
  static json AdminCall(const std::string& method, const json& params = json::object()) {
    return Call(method, params, *admin_);
  }
  // The result of a call that must succeed (throws, failing the test, with the reply).
  static json Ok(const json& reply) { return ResultOf(reply); }

  // A user added by the administrator (account Unique(prefix), password kUserPassword,
  // and the fields of `extra`), without a token.
  static User AddAccount(const std::string& prefix, const json& extra = json::object());
  // A token such as auth.login would give the user, signed with the daemon's secret (to
  // save a password check).
  static std::string MintToken(const User& u, bool admin = false);
  // AddAccount with a token from MintToken, with the admin grant when extra.admin is true.
  static User AddUser(const std::string& prefix, const json& extra = json::object());

  static TempDir* dir_;
  static DaemonProcess* daemon_;
  static HttpClient* http_;
  static std::string* secret_;
  static std::string* admin_;  // the administrator's token
  static int64_t adminId_;
};

}  // namespace atrium::test
