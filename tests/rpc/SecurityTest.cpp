// Security checks against a real atriumd: every documented method without a token, every
// administrator or room method with a token that lacks the right or grant, tokens with
// alg "none" or another algorithm, how passwords are stored, and the slow-down of password
// guessing per account and per address. (Expired, forged, tampered and revoked tokens are
// in AuthTest; TLS in DaemonTest.)
#include "tests/rpc/DaemonSuite.hpp"

#include <glib.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace atrium::test {
namespace {

std::string ReasonOf(const json& reply) {
  if (!reply.contains("error") || !reply["error"].contains("data") || !reply["error"]["data"].is_object()) return "";
  return reply["error"]["data"].value("reason", "");
}

// Every method docs/protocol.md documents ("#### name" under "## Methods"), with the
// first word of its description: "Public." / "Public:" / "Public;" marks public ones.
std::vector<std::pair<std::string, bool>> DocumentedMethods() {
  std::ifstream f(std::string(g_getenv("ATRIUM_SOURCE_ROOT")) + "/docs/protocol.md");
  std::vector<std::pair<std::string, bool>> out;
  std::string line;
  bool inMethods = false;
  std::string pending;
  while (std::getline(f, line)) {
    if (line.rfind("## ", 0) == 0) inMethods = line == "## Methods";
    if (!inMethods) continue;
    if (line.rfind("#### ", 0) == 0) {
      pending = line.substr(5);
    } else if (!pending.empty() && !line.empty()) {
      // A heading may name several methods ("call.ring, call.agree"); headings that are
      // not method names (HTTP endpoints, notes) are skipped.
      bool isPublic = line.rfind("Public", 0) == 0;
      std::stringstream names(pending);
      std::string name;
      while (std::getline(names, name, ',')) {
        name.erase(0, name.find_first_not_of(' '));
        if (g_regex_match_simple("^[a-z][A-Za-z]*(\\.[A-Za-z]+)+$", name.c_str(), GRegexCompileFlags(0),
                                 GRegexMatchFlags(0)))
          out.emplace_back(name, isPublic);
      }
      pending.clear();
    }
  }
  return out;
}

std::string Base64Url(const std::string& bin) {
  gchar* b64 = g_base64_encode(reinterpret_cast<const guchar*>(bin.data()), bin.size());
  std::string s = b64;
  g_free(b64);
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  s.erase(s.find_last_not_of('=') + 1);
  return s;
}

// The token with its header replaced by `header` and its signature by `signature`.
std::string Reheaded(const std::string& token, const json& header, const std::string& signature) {
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  return Base64Url(header.dump()) + token.substr(d1, d2 - d1) + "." + signature;
}

class SecurityTest : public DaemonSuite {
protected:
  static bool IsConferenceMethod(const std::string& m) {
    return m.rfind("conference.", 0) == 0 || m.rfind("media.", 0) == 0 || m.rfind("filter.", 0) == 0;
  }
};

TEST_F(SecurityTest, EveryNonPublicMethodRefusesCallersWithoutAToken) {
  auto methods = DocumentedMethods();
  ASSERT_GT(methods.size(), 40u) << "docs/protocol.md not found or not parsed";
  int64_t room = Ok(AdminCall("room.create", {{"name", Unique("sec-room")}}))["roomId"];
  WsClient ws(daemon_->wsUrl());
  for (const auto& [method, isPublic] : methods) {
    SCOPED_TRACE(method);
    json params = {{"roomId", room}};
    json r = IsConferenceMethod(method) ? ws.Call(method, params) : Call(method, params, "");
    // Documented means served.
    EXPECT_NE(ErrorCodeOf(r), -32601) << r.dump();
    EXPECT_NE(ErrorCodeOf(r), -32603) << r.dump();
    if (!isPublic && !IsConferenceMethod(method)) {
      EXPECT_EQ(ErrorCodeOf(r), -32001) << r.dump();
      EXPECT_EQ(ReasonOf(r), "missing") << r.dump();
      // The same over a WebSocket that never authenticated.
      json w = ws.Call(method, params);
      EXPECT_EQ(ErrorCodeOf(w), -32001) << w.dump();
    } else if (IsConferenceMethod(method)) {
      // Without a token only conference.join is reachable, and this private room refuses
      // a guest; the others need a joined connection.
      if (method == "conference.join")
        EXPECT_TRUE(ErrorCodeOf(r) == -32002 || ErrorCodeOf(r) == -32602) << r.dump();
      else
        EXPECT_EQ(ErrorCodeOf(r), -32010) << r.dump();
    }
  }
  // The room is untouched.
  EXPECT_EQ(Ok(AdminCall("room.get", {{"roomId", room}}))["room"]["roomId"], room);
}

TEST_F(SecurityTest, MethodsRefuseTokensWithoutTheRightOrGrant) {
  User owner = AddUser("sec-owner");
  User other = AddUser("sec-other");
  int64_t adminRoom = Ok(AdminCall("room.create", {{"name", Unique("sec-admin-room")}}))["roomId"];
  int64_t ownRoom = Ok(Call("room.create", {{"name", Unique("sec-own-room")}}, owner.token))["roomId"];
  int64_t meeting = Ok(AdminCall("meeting.create", {{"roomId", adminRoom},
                                                     {"name", "m"},
                                                     {"startTime", Now() + 3600},
                                                     {"endTime", Now() + 7200}}))["meetingId"];
  int64_t org = Ok(AdminCall("org.create", {{"name", Unique("sec-org")}}))["orgId"];
  std::string app = Ok(AdminCall("app.create", {{"name", "sec-app"}}))["appId"];

  // A plain user's full login token: administrator methods, other users, other rooms.
  struct Case {
    std::string method;
    json params;
  };
  std::vector<Case> adminOnly = {
      {"auth.issueToken", {{"userId", owner.id}}},
      {"app.create", {{"name", "x"}}},
      {"app.list", json::object()},
      {"app.delete", {{"appId", app}}},
      {"org.create", {{"name", Unique("x")}}},
      {"org.list", json::object()},
      {"org.delete", {{"orgId", org}}},
      {"user.add", {{"account", Unique("x")}, {"password", "long-enough-1"}}},
      {"user.get", {{"userId", other.id}}},
      {"user.modify", {{"userId", other.id}, {"name", "x"}}},
      {"user.modify", {{"userId", owner.id}, {"admin", true}}},
      {"user.delete", {{"userId", other.id}}},
      {"user.list", json::object()},
      {"user.resetPassword", {{"userId", other.id}}},
      {"room.get", {{"roomId", adminRoom}}},
      {"room.update", {{"roomId", adminRoom}, {"name", "x"}}},
      {"room.delete", {{"roomId", adminRoom}}},
      {"room.setPassword", {{"roomId", adminRoom}, {"password", "x"}}},
      {"room.members.add", {{"roomId", adminRoom}, {"userId", owner.id}, {"role", "host"}}},
      {"room.members.remove", {{"roomId", adminRoom}, {"userId", owner.id}}},
      {"room.members.list", {{"roomId", adminRoom}}},
      {"meeting.create",
       {{"roomId", adminRoom}, {"name", "x"}, {"startTime", Now() + 3600}, {"endTime", Now() + 7200}}},
      {"meeting.get", {{"meetingId", meeting}}},
      {"meeting.update", {{"meetingId", meeting}, {"name", "x"}}},
      {"meeting.delete", {{"meetingId", meeting}}},
      {"meeting.listByRoom", {{"roomId", adminRoom}}},
  };
  for (const auto& c : adminOnly) {
    SCOPED_TRACE(c.method + " " + c.params.dump());
    json r = Call(c.method, c.params, owner.token);
    EXPECT_EQ(ErrorCodeOf(r), -32002) << r.dump();
  }
  {
    WsClient ws(daemon_->wsUrl());
    ASSERT_EQ(ErrorCodeOf(ws.Call("auth.resume", {{"token", owner.token}})), 0);
    EXPECT_EQ(ErrorCodeOf(ws.Call("conference.join", {{"roomId", adminRoom}})), -32002);
  }

  // The owner's own room, with a token that grants nothing (not anyRoom): the token, not
  // the user, decides.
  std::string bare = Ok(AdminCall("auth.issueToken", {{"userId", owner.id}, {"grants", json::object()}}))["token"];
  ASSERT_EQ(ErrorCodeOf(Call("room.get", {{"roomId", ownRoom}}, owner.token)), 0);
  std::vector<Case> roomScoped = {
      {"room.get", {{"roomId", ownRoom}}},
      {"room.update", {{"roomId", ownRoom}, {"name", "x"}}},
      {"room.setPassword", {{"roomId", ownRoom}, {"password", "x"}}},
      {"room.members.add", {{"roomId", ownRoom}, {"userId", other.id}}},
      {"room.members.list", {{"roomId", ownRoom}}},
      {"meeting.listByRoom", {{"roomId", ownRoom}}},
      {"meeting.create",
       {{"roomId", ownRoom}, {"name", "x"}, {"startTime", Now() + 3600}, {"endTime", Now() + 7200}}},
      {"room.delete", {{"roomId", ownRoom}}},
  };
  for (const auto& c : roomScoped) {
    SCOPED_TRACE("bare token: " + c.method);
    json r = Call(c.method, c.params, bare);
    EXPECT_EQ(ErrorCodeOf(r), -32002) << r.dump();
  }
  {
    WsClient ws(daemon_->wsUrl());
    ASSERT_EQ(ErrorCodeOf(ws.Call("auth.resume", {{"token", bare}})), 0);
    EXPECT_EQ(ErrorCodeOf(ws.Call("conference.join", {{"roomId", ownRoom}})), -32002);
  }
  // Nothing was changed by the refused calls.
  EXPECT_EQ(ErrorCodeOf(AdminCall("room.get", {{"roomId", adminRoom}})), 0);
  EXPECT_EQ(ErrorCodeOf(AdminCall("room.get", {{"roomId", ownRoom}})), 0);
  EXPECT_EQ(ErrorCodeOf(AdminCall("meeting.get", {{"meetingId", meeting}})), 0);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.get", {{"userId", other.id}})), 0);
  EXPECT_EQ(Ok(AdminCall("user.get", {{"userId", owner.id}}))["user"]["admin"], false);
  EXPECT_TRUE(Ok(AdminCall("room.members.list", {{"roomId", adminRoom}}))["members"].empty());
}

TEST_F(SecurityTest, TokensWithAlgNoneOrAnotherAlgorithmAreRefused) {
  User u = AddUser("sec-alg");
  std::string sig = u.token.substr(u.token.rfind('.') + 1);
  struct Case {
    const char* name;
    std::string token;
  } cases[] = {
      {"AlgNoneNoSignature", Reheaded(u.token, {{"alg", "none"}, {"typ", "JWT"}}, "")},
      {"AlgNoneKeptSignature", Reheaded(u.token, {{"alg", "none"}, {"typ", "JWT"}}, sig)},
      {"AlgNoneUpperCase", Reheaded(u.token, {{"alg", "NONE"}, {"typ", "JWT"}}, "")},
      {"AlgHS512", Reheaded(u.token, {{"alg", "HS512"}, {"typ", "JWT"}}, sig)},
      {"AlgRS256", Reheaded(u.token, {{"alg", "RS256"}, {"typ", "JWT"}}, sig)},
      {"NoAlg", Reheaded(u.token, {{"typ", "JWT"}}, sig)},
  };
  WsClient ws(daemon_->wsUrl());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json r = Call("user.get", json::object(), c.token);
    EXPECT_EQ(ErrorCodeOf(r), -32001) << r.dump();
    EXPECT_EQ(ReasonOf(r), "invalid") << r.dump();
    json w = ws.Call("auth.resume", {{"token", c.token}});
    EXPECT_EQ(ErrorCodeOf(w), -32001) << w.dump();
    EXPECT_EQ(ErrorCodeOf(ws.Call("user.get")), -32001);
  }
  EXPECT_EQ(ErrorCodeOf(Call("user.get", json::object(), u.token)), 0);
}

TEST_F(SecurityTest, PasswordsAreStoredAsArgon2idHashes) {
  AddAccount("sec-hash");
  Ok(AdminCall("app.create", {{"name", "sec-hash-app"}}));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((daemon_->dataDir() + "/atrium.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  std::regex argon2id(R"(^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$)");
  int checked = 0;
  for (const char* sql : {"SELECT account, password_hash FROM users WHERE password_hash != ''",
                          "SELECT app_id, secret_hash FROM apps"}) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string who = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      std::string hash = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
      EXPECT_TRUE(std::regex_match(hash, argon2id)) << who << ": " << hash;
      EXPECT_EQ(hash.find(kUserPassword), std::string::npos);
      EXPECT_EQ(hash.find(DaemonProcess::kAdminPassword), std::string::npos);
      ++checked;
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  EXPECT_GE(checked, 3);  // admin, the new account, the app
}

// Its own daemon: the address 127.0.0.1 ends up slowed down.
TEST(LoginThrottling, GuessingIsSlowedDownPerAccountThenPerAddress) {
  TempDir dir;
  DaemonProcess daemon(dir.path());
  HttpClient http(daemon.url());
  auto login = [&](const std::string& account, const std::string& password) {
    return http.Call("auth.login", {{"account", account}, {"password", password}});
  };
  std::string admin = ResultOf(login("admin", DaemonProcess::kAdminPassword))["token"];
  ResultOf(http.Call("user.add", {{"account", "victim"}, {"password", "victim-password-1"}}, admin));

  // Five wrong guesses answer -32005; then even the right password waits.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ErrorCodeOf(login("victim", "guess-" + std::to_string(i))), -32005);
  json slowed = login("victim", "victim-password-1");
  ASSERT_EQ(ErrorCodeOf(slowed), -32007) << slowed.dump();
  EXPECT_EQ(ReasonOf(slowed), "loginThrottled");
  EXPECT_EQ(slowed["error"]["data"]["retryAfter"], 1);
  // Another account from the same address is not slowed down by it.
  EXPECT_EQ(ErrorCodeOf(login("admin", DaemonProcess::kAdminPassword)), 0);
  // After retryAfter the right password works, and clears the account's count.
  gint64 until = g_get_monotonic_time() + 1100 * 1000;
  RunUntil([&] { return g_get_monotonic_time() >= until; }, 3000);
  EXPECT_EQ(ErrorCodeOf(login("victim", "victim-password-1")), 0);
  EXPECT_EQ(ErrorCodeOf(login("victim", "guess-again")), -32005);

  // One address guessing many accounts: 20 failures in all, then every account waits.
  for (int i = 0; i < 14; ++i) EXPECT_EQ(ErrorCodeOf(login("nobody-" + std::to_string(i), "x")), -32005);
  json blocked = login("admin", DaemonProcess::kAdminPassword);
  ASSERT_EQ(ErrorCodeOf(blocked), -32007) << blocked.dump();
  EXPECT_GE(blocked["error"]["data"]["retryAfter"].get<int>(), 1);
  // Tokens already issued keep working: only password checks are slowed down.
  EXPECT_EQ(ErrorCodeOf(http.Call("user.list", json::object(), admin)), 0);
  EXPECT_NE(daemon.stderrText().find("listening"), std::string::npos);
}

}  // namespace
}  // namespace atrium::test
