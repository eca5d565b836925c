// auth.* and app.* against a real atriumd: signing in over HTTP and WebSocket, tokens that
// are expired, forged, garbage, revoked or belong to a deleted user, scoped tokens from
// auth.issueToken, third-party apps and their sign-in, and the effective admin right.
#include "tests/rpc/DaemonSuite.hpp"

#include "auth/AppSigner.hpp"
#include "auth/TokenService.hpp"

#include <glib.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <regex>

namespace atrium::test {
namespace {

std::string ReasonOf(const json& reply) {
  if (!reply.contains("error") || !reply["error"].contains("data")) return "";
  return reply["error"]["data"].value("reason", "");
}

std::string Base64Url(const std::string& bin) {
  gchar* b64 = g_base64_encode(reinterpret_cast<const guchar*>(bin.data()), bin.size());
  std::string s = b64;
  g_free(b64);
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  s.erase(s.find_last_not_of('=') + 1);
  return s;
}

std::string FromBase64Url(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  s.append((4 - s.size() % 4) % 4, '=');
  gsize len = 0;
  guchar* bin = g_base64_decode(s.c_str(), &len);
  std::string out(reinterpret_cast<char*>(bin), len);
  g_free(bin);
  return out;
}

// A valid token whose payload was edited (grants.admin = true) without re-signing.
std::string TamperedToken(const std::string& token) {
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  json payload = json::parse(FromBase64Url(token.substr(d1 + 1, d2 - d1 - 1)));
  payload["grants"]["admin"] = true;
  return token.substr(0, d1 + 1) + Base64Url(payload.dump()) + token.substr(d2);
}

class AuthTest : public DaemonSuite {
protected:
  // A user whose token, unless `login` is false, comes from auth.login.
  static User AddUser(const std::string& prefix, bool admin = false, bool login = true) {
    User u = AddAccount(prefix, {{"admin", admin}});
    if (login)
      u.token = Ok(Call("auth.login", {{"account", u.account}, {"password", kUserPassword}}, ""))["token"].get<std::string>();
    return u;
  }

  // Tokens made with the daemon's own secret (as auth.login would), or another one.
  static std::string Mint(const User& u, int64_t lifetime, int64_t issuedAt = 0,
                          const std::string& secret = "") {
    auth::TokenService ts(secret.empty() ? *secret_ : secret, 86400);
    if (issuedAt) ts.SetClock([issuedAt] { return issuedAt; });
    return ts.Issue(u.id, u.account, auth::Grants::ForUser(false), lifetime);
  }

  static int64_t CreateRoom(const std::string& token, const std::string& name, bool isPublic = false) {
    return Ok(Call("room.create", {{"name", name}, {"isPublic", isPublic}}, token))["roomId"];
  }
};

// ---------------------------------------------------------------- auth.login

TEST_F(AuthTest, LoginOverHttpReturnsATokenThatWorksAsBearer) {
  int64_t before = Now();
  json r = Ok(Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}, ""));
  ASSERT_TRUE(r["token"].is_string());
  std::string token = r["token"];
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  EXPECT_GE(r["expiresAt"].get<int64_t>(), before + 86400);
  EXPECT_LE(r["expiresAt"].get<int64_t>(), Now() + 86400);
  EXPECT_EQ(r["user"]["account"], "admin");
  EXPECT_EQ(r["user"]["userId"], adminId_);
  EXPECT_EQ(r["user"]["admin"], true);
  EXPECT_EQ(r["user"]["orgId"], 1);
  EXPECT_FALSE(r["user"].contains("passwordHash"));
  EXPECT_FALSE(r["user"].contains("password"));
  EXPECT_FALSE(r.contains("created"));
  // The token authenticates later HTTP requests.
  json list = Ok(Call("room.list", json::object(), r["token"]));
  EXPECT_TRUE(list["rooms"].is_array());
  // Over HTTP, logging in authenticates nothing by itself.
  EXPECT_EQ(ErrorCodeOf(Call("room.list", json::object(), "")), -32001);
}

TEST_F(AuthTest, LoginOverWebSocketAuthenticatesTheConnection) {
  User u = AddUser("wslogin", false, false);
  WsClient ws(daemon_->wsUrl());
  json before = ws.Call("room.list");
  EXPECT_EQ(ErrorCodeOf(before), -32001);
  EXPECT_EQ(ReasonOf(before), "missing");
  json r = Ok(ws.Call("auth.login", {{"account", u.account}, {"password", kUserPassword}}));
  EXPECT_EQ(r["user"]["userId"], u.id);
  EXPECT_EQ(r["user"]["admin"], false);
  EXPECT_TRUE(r["token"].is_string());
  // No token in the requests from now on: the connection carries the identity.
  EXPECT_TRUE(Ok(ws.Call("room.list"))["rooms"].is_array());
  EXPECT_EQ(Ok(ws.Call("user.get"))["user"]["account"], u.account);
  // The user is not an administrator.
  EXPECT_EQ(ErrorCodeOf(ws.Call("user.list")), -32002);
  // A failed sign-in leaves the identity as it was.
  EXPECT_EQ(ErrorCodeOf(ws.Call("auth.login", {{"account", "admin"}, {"password", "wrong-password"}})), -32005);
  EXPECT_EQ(Ok(ws.Call("user.get"))["user"]["account"], u.account);
  // A new sign-in replaces it.
  Ok(ws.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}));
  EXPECT_EQ(Ok(ws.Call("user.get"))["user"]["account"], "admin");
  EXPECT_EQ(ErrorCodeOf(ws.Call("user.list")), 0);
}

TEST_F(AuthTest, WrongPasswordAndUnknownAccountAnswerAlike) {
  json wrong = Call("auth.login", {{"account", "admin"}, {"password", "not-the-password"}}, "");
  json unknown = Call("auth.login", {{"account", Unique("nobody")}, {"password", "not-the-password"}}, "");
  EXPECT_EQ(ErrorCodeOf(wrong), -32005);
  EXPECT_EQ(ErrorCodeOf(unknown), -32005);
  EXPECT_EQ(wrong["error"]["message"], unknown["error"]["message"]);
  EXPECT_EQ(wrong["error"].contains("data"), unknown["error"].contains("data"));
  // Case matters in both the account and the password.
  EXPECT_EQ(ErrorCodeOf(Call("auth.login", {{"account", "ADMIN"}, {"password", DaemonProcess::kAdminPassword}}, "")),
            -32005);
  EXPECT_EQ(ErrorCodeOf(Call("auth.login", {{"account", "admin"}, {"password", "ADMIN-SECRET-1"}}, "")), -32005);
  // Empty password.
  EXPECT_EQ(ErrorCodeOf(Call("auth.login", {{"account", "admin"}, {"password", ""}}, "")), -32005);
}

TEST_F(AuthTest, LoginRefusesMissingOrIllTypedParams) {
  struct Case {
    const char* name;
    json params;
    const char* param;
  } cases[] = {
      {"NoParams", json::object(), "account"},
      {"NoAccount", {{"password", "x"}}, "account"},
      {"NoPassword", {{"account", "admin"}}, "password"},
      {"AccountNumber", {{"account", 1}, {"password", "x"}}, "account"},
      {"PasswordNumber", {{"account", "admin"}, {"password", 12345678}}, "password"},
      {"PasswordNull", {{"account", "admin"}, {"password", nullptr}}, "password"},
      {"AccountTooLong", {{"account", std::string(257, 'a')}, {"password", "x"}}, "account"},
      {"PasswordTooLong", {{"account", "admin"}, {"password", std::string(1025, 'a')}}, "password"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json r = Call("auth.login", c.params, "");
    EXPECT_EQ(ErrorCodeOf(r), -32602) << r.dump();
    EXPECT_EQ(ParamOf(r), c.param);
  }
}

// ---------------------------------------------------------------- auth.resume

TEST_F(AuthTest, ResumeShowsTheTokensUserAndGrants) {
  User u = AddUser("resume");
  json login = Ok(Call("auth.login", {{"account", u.account}, {"password", kUserPassword}}, ""));
  json r = Ok(Call("auth.resume", {{"token", login["token"]}}, ""));
  EXPECT_EQ(r["user"]["userId"], u.id);
  EXPECT_EQ(r["user"]["account"], u.account);
  EXPECT_EQ(r["expiresAt"], login["expiresAt"]);
  EXPECT_EQ(r["grants"], (json{{"admin", false},
                               {"publish", true},
                               {"subscribe", true},
                               {"record", false},
                               {"roomAdmin", json::array()},
                               {"rooms", json::array()},
                               {"anyRoom", true}}));
  json a = Ok(Call("auth.resume", {{"token", *admin_}}, ""));
  EXPECT_EQ(a["grants"]["admin"], true);
  EXPECT_EQ(a["grants"]["record"], true);

  // On a WebSocket it authenticates the connection.
  WsClient ws(daemon_->wsUrl());
  EXPECT_EQ(ErrorCodeOf(ws.Call("user.get")), -32001);
  Ok(ws.Call("auth.resume", {{"token", u.token}}));
  EXPECT_EQ(Ok(ws.Call("user.get"))["user"]["userId"], u.id);
}

TEST_F(AuthTest, ResumeRefusesBadTokens) {
  User u = AddUser("resumebad");
  User gone = AddUser("resumegone");
  User out = AddUser("resumeout");  // before the deletion: see DeletedUsersTokensStayDead
  Ok(AdminCall("user.delete", {{"userId", gone.id}}));
  Ok(Call("auth.logout", json::object(), out.token));
  struct Case {
    const char* name;
    std::string token;
    const char* reason;
  } cases[] = {
      {"Expired", Mint(u, 3600, Now() - 7200), "expired"},
      {"Forged", Mint(u, 3600, 0, std::string(64, 'f')), "invalid"},
      {"Garbage", "garbage", "invalid"},
      {"ThreeGarbageParts", "a.b.c", "invalid"},
      {"Tampered", TamperedToken(u.token), "invalid"},
      {"Revoked", out.token, "revoked"},
      {"UserDeleted", gone.token, "invalid"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json r = Call("auth.resume", {{"token", c.token}}, "");
    EXPECT_EQ(ErrorCodeOf(r), -32001) << r.dump();
    EXPECT_EQ(ReasonOf(r), c.reason) << r.dump();
  }
  EXPECT_EQ(ErrorCodeOf(Call("auth.resume", json::object(), "")), -32602);
  EXPECT_EQ(ErrorCodeOf(Call("auth.resume", {{"token", 42}}, "")), -32602);
  EXPECT_EQ(ErrorCodeOf(Call("auth.resume", {{"token", std::string(16385, 'a')}}, "")), -32602);
}

// ------------------------------------------- token refusals, over both transports

enum class Transport { Http, WebSocket };

class AuthTokenTest : public AuthTest, public ::testing::WithParamInterface<Transport> {};

// Every kind of bad token is refused with -32001 and its reason: as a Bearer header over
// HTTP, through auth.resume on a WebSocket (which then stays unauthenticated).
TEST_P(AuthTokenTest, BadTokensAreRefusedWithTheirReason) {
  User u = AddUser("badtok");
  User gone = AddUser("badtokgone");
  User out = AddUser("badtokout");  // before the deletion: see DeletedUsersTokensStayDead
  Ok(AdminCall("user.delete", {{"userId", gone.id}}));
  Ok(Call("auth.logout", json::object(), out.token));
  struct Case {
    const char* name;
    std::string token;
    const char* reason;
  } cases[] = {
      {"Expired", Mint(u, 3600, Now() - 7200), "expired"},
      {"Forged", Mint(u, 86400, 0, std::string(64, '7')), "invalid"},
      {"Garbage", "not-a-token", "invalid"},
      {"Tampered", TamperedToken(u.token), "invalid"},
      {"Revoked", out.token, "revoked"},
      {"UserDeleted", gone.token, "invalid"},
  };
  std::unique_ptr<WsClient> ws;
  if (GetParam() == Transport::WebSocket) ws = std::make_unique<WsClient>(daemon_->wsUrl());
  auto roomList = [&](const std::string& token) {
    return ws ? ws->Call("room.list") : Call("room.list", json::object(), token);
  };
  // No token at all.
  json none = roomList("");
  EXPECT_EQ(ErrorCodeOf(none), -32001);
  EXPECT_EQ(ReasonOf(none), "missing");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json r = ws ? ws->Call("auth.resume", {{"token", c.token}}) : roomList(c.token);
    EXPECT_EQ(ErrorCodeOf(r), -32001) << r.dump();
    EXPECT_EQ(ReasonOf(r), c.reason) << r.dump();
    if (ws) {
      json after = roomList("");
      EXPECT_EQ(ErrorCodeOf(after), -32001);
      EXPECT_EQ(ReasonOf(after), "missing");
    }
  }
  // The good token still works; the tampered admin grant gave nothing.
  if (ws) Ok(ws->Call("auth.resume", {{"token", u.token}}));
  EXPECT_EQ(ErrorCodeOf(roomList(u.token)), 0);
  EXPECT_EQ(ErrorCodeOf(ws ? ws->Call("user.list") : Call("user.list", json::object(), u.token)), -32002);
}

// A session that was authenticated loses its identity once the token is revoked or the
// user deleted.
TEST_P(AuthTokenTest, AnAuthenticatedSessionIsRecheckedOnEveryCall) {
  User revoked = AddUser("recheckrev");
  User deleted = AddUser("recheckdel");

  auto check = [&](const std::string& token, const std::function<void()>& spoil, const char* reason) {
    SCOPED_TRACE(reason);
    if (GetParam() == Transport::Http) {
      ASSERT_EQ(ErrorCodeOf(Call("user.get", json::object(), token)), 0);
      spoil();
      json r = Call("user.get", json::object(), token);
      EXPECT_EQ(ErrorCodeOf(r), -32001) << r.dump();
      EXPECT_EQ(ReasonOf(r), reason);
    } else {
      WsClient ws(daemon_->wsUrl());
      ASSERT_EQ(ErrorCodeOf(ws.Call("auth.resume", {{"token", token}})), 0);
      ASSERT_EQ(ErrorCodeOf(ws.Call("user.get")), 0);
      spoil();
      json r = ws.Call("user.get");
      EXPECT_EQ(ErrorCodeOf(r), -32001) << r.dump();
      EXPECT_EQ(ReasonOf(r), reason);
      json again = ws.Call("user.get");
      EXPECT_EQ(ErrorCodeOf(again), -32001);
      EXPECT_EQ(ReasonOf(again), "missing");
    }
  };
  check(revoked.token, [&] { Ok(Call("auth.logout", json::object(), revoked.token)); }, "revoked");
  check(deleted.token, [&] { Ok(AdminCall("user.delete", {{"userId", deleted.id}})); }, "invalid");
}

// A token that expires while in use, over both transports at once (to wait only once).
TEST_F(AuthTest, ExpiryIsCheckedOnEveryCall) {
  User u = AddUser("expiring", false, false);
  int64_t now = Now();
  std::string shortLived = Mint(u, 2, now);
  WsClient ws(daemon_->wsUrl());
  ASSERT_EQ(ErrorCodeOf(ws.Call("auth.resume", {{"token", shortLived}})), 0);
  ASSERT_EQ(ErrorCodeOf(ws.Call("user.get")), 0);
  ASSERT_EQ(ErrorCodeOf(Call("user.get", json::object(), shortLived)), 0);
  RunUntil([&] { return Now() >= now + 2; }, 4000);
  json http = Call("user.get", json::object(), shortLived);
  EXPECT_EQ(ErrorCodeOf(http), -32001);
  EXPECT_EQ(ReasonOf(http), "expired");
  json r = ws.Call("user.get");
  EXPECT_EQ(ErrorCodeOf(r), -32001);
  EXPECT_EQ(ReasonOf(r), "expired");
  json again = ws.Call("user.get");
  EXPECT_EQ(ErrorCodeOf(again), -32001);
  EXPECT_EQ(ReasonOf(again), "missing");
  json resume = ws.Call("auth.resume", {{"token", shortLived}});
  EXPECT_EQ(ErrorCodeOf(resume), -32001);
  EXPECT_EQ(ReasonOf(resume), "expired");
}

INSTANTIATE_TEST_SUITE_P(Transports, AuthTokenTest, ::testing::Values(Transport::Http, Transport::WebSocket),
                         [](const auto& info) { return info.param == Transport::Http ? "Http" : "WebSocket"; });

// ---------------------------------------------------------------- auth.logout

TEST_F(AuthTest, LogoutRevokesOnlyThatToken) {
  User u = AddUser("logout");
  json second = Ok(Call("auth.login", {{"account", u.account}, {"password", kUserPassword}}, ""));
  EXPECT_EQ(Ok(Call("auth.logout", json::object(), u.token)), json::object());
  json r = Call("room.list", json::object(), u.token);
  EXPECT_EQ(ErrorCodeOf(r), -32001);
  EXPECT_EQ(ReasonOf(r), "revoked");
  json resume = Call("auth.resume", {{"token", u.token}}, "");
  EXPECT_EQ(ErrorCodeOf(resume), -32001);
  EXPECT_EQ(ReasonOf(resume), "revoked");
  // Logging out again with the revoked token is refused too.
  EXPECT_EQ(ErrorCodeOf(Call("auth.logout", json::object(), u.token)), -32001);
  // The user's other token stays valid.
  EXPECT_EQ(ErrorCodeOf(Call("room.list", json::object(), second["token"])), 0);
  // Without a token there is nothing to log out.
  json none = Call("auth.logout", json::object(), "");
  EXPECT_EQ(ErrorCodeOf(none), -32001);
  EXPECT_EQ(ReasonOf(none), "missing");
}

TEST_F(AuthTest, LogoutOnWebSocketEndsTheSessionAndRevokesItsToken) {
  User u = AddUser("wslogout", false, false);
  WsClient ws(daemon_->wsUrl());
  json login = Ok(ws.Call("auth.login", {{"account", u.account}, {"password", kUserPassword}}));
  ASSERT_EQ(ErrorCodeOf(ws.Call("room.list")), 0);
  EXPECT_EQ(Ok(ws.Call("auth.logout")), json::object());
  json r = ws.Call("room.list");
  EXPECT_EQ(ErrorCodeOf(r), -32001);
  EXPECT_EQ(ReasonOf(r), "missing");
  EXPECT_TRUE(ws.IsOpen());
  // The session's token is revoked everywhere.
  json http = Call("room.list", json::object(), login["token"]);
  EXPECT_EQ(ErrorCodeOf(http), -32001);
  EXPECT_EQ(ReasonOf(http), "revoked");
  EXPECT_EQ(ErrorCodeOf(ws.Call("auth.resume", {{"token", login["token"]}})), -32001);
  // Signing in again works on the same connection.
  Ok(ws.Call("auth.login", {{"account", u.account}, {"password", kUserPassword}}));
  EXPECT_EQ(ErrorCodeOf(ws.Call("room.list")), 0);
}

// ---------------------------------------------------------------- auth.issueToken

TEST_F(AuthTest, IssueTokenForAUserWithChosenGrantsAndTtl) {
  User u = AddUser("issue", false, false);
  int64_t before = Now();
  json r = Ok(AdminCall("auth.issueToken", {{"userId", u.id}, {"grants", {{"subscribe", true}}}, {"ttl", 3600}}));
  ASSERT_TRUE(r["token"].is_string());
  EXPECT_GE(r["expiresAt"].get<int64_t>(), before + 3600);
  EXPECT_LE(r["expiresAt"].get<int64_t>(), Now() + 3600);
  json resume = Ok(Call("auth.resume", {{"token", r["token"]}}, ""));
  EXPECT_EQ(resume["user"]["userId"], u.id);
  EXPECT_EQ(resume["expiresAt"], r["expiresAt"]);
  EXPECT_EQ(resume["grants"]["subscribe"], true);
  EXPECT_EQ(resume["grants"]["publish"], false);
  EXPECT_EQ(resume["grants"]["anyRoom"], false);
  EXPECT_EQ(resume["grants"]["admin"], false);

  // Without userId the token is for the caller; without ttl it lives token-lifetime.
  json self = Ok(AdminCall("auth.issueToken", {{"grants", {{"admin", true}}}}));
  EXPECT_GE(self["expiresAt"].get<int64_t>(), before + 86400);
  json selfResume = Ok(Call("auth.resume", {{"token", self["token"]}}, ""));
  EXPECT_EQ(selfResume["user"]["userId"], adminId_);
  EXPECT_EQ(selfResume["grants"]["admin"], true);
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), self["token"])), 0);

  // Without grants the token carries what a login would give that user.
  json loginLike = Ok(AdminCall("auth.issueToken", {{"userId", u.id}}));
  EXPECT_EQ(Ok(Call("auth.resume", {{"token", loginLike["token"]}}, ""))["grants"],
            (json{{"admin", false},
                  {"publish", true},
                  {"subscribe", true},
                  {"record", false},
                  {"roomAdmin", json::array()},
                  {"rooms", json::array()},
                  {"anyRoom", true}}));

  // A token without the admin grant does not act as an administrator, even for one.
  json plain = Ok(AdminCall("auth.issueToken", {{"grants", {{"anyRoom", true}}}}));
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), plain["token"])), -32002);
}

TEST_F(AuthTest, IssueTokenScopedToARoom) {
  User u = AddUser("scoped");
  int64_t mine = CreateRoom(u.token, "scoped-mine");
  int64_t other = CreateRoom(u.token, "scoped-other");
  int64_t foreignPublic = CreateRoom(*admin_, "scoped-public", true);
  int64_t foreignPrivate = CreateRoom(*admin_, "scoped-private");
  // The login token sees the user's two rooms and the public one.
  ASSERT_EQ(ErrorCodeOf(Call("room.get", {{"roomId", other}}, u.token)), 0);
  ASSERT_EQ(ErrorCodeOf(Call("room.get", {{"roomId", foreignPublic}}, u.token)), 0);

  std::string scoped =
      Ok(AdminCall("auth.issueToken", {{"userId", u.id}, {"grants", {{"rooms", json::array({mine})}}}}))["token"];
  json got = Ok(Call("room.get", {{"roomId", mine}}, scoped));
  EXPECT_EQ(got["room"]["roomId"], mine);
  EXPECT_EQ(got["room"]["name"], "scoped-mine");
  for (int64_t id : {other, foreignPublic, foreignPrivate}) {
    SCOPED_TRACE(id);
    json r = Call("room.get", {{"roomId", id}}, scoped);
    EXPECT_EQ(ErrorCodeOf(r), -32002) << r.dump();
    EXPECT_EQ(r["error"]["data"]["roomId"], id);
  }
  json list = Ok(Call("room.list", json::object(), scoped));
  ASSERT_EQ(list["rooms"].size(), 1u) << list.dump();
  EXPECT_EQ(list["rooms"][0]["roomId"], mine);
  // `rooms` never allows administering, even the user's own room.
  EXPECT_EQ(ErrorCodeOf(Call("room.update", {{"roomId", mine}, {"name", "renamed"}}, scoped)), -32002);
  // Nor admin methods.
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), scoped)), -32002);

  // A granted room is entered whatever its owner.
  std::string guest =
      Ok(AdminCall("auth.issueToken", {{"userId", u.id}, {"grants", {{"rooms", json::array({foreignPrivate})}}}}))["token"];
  EXPECT_EQ(ErrorCodeOf(Call("room.get", {{"roomId", foreignPrivate}}, guest)), 0);
  EXPECT_EQ(ErrorCodeOf(Call("room.get", {{"roomId", mine}}, guest)), -32002);

  // roomAdmin administers the named room only.
  std::string moderator =
      Ok(AdminCall("auth.issueToken", {{"userId", u.id}, {"grants", {{"roomAdmin", json::array({foreignPrivate})}}}}))["token"];
  json updated = Ok(Call("room.update", {{"roomId", foreignPrivate}, {"numberLimit", 5}}, moderator));
  EXPECT_EQ(updated["room"]["numberLimit"], 5);
  EXPECT_EQ(ErrorCodeOf(Call("room.update", {{"roomId", mine}, {"numberLimit", 5}}, moderator)), -32002);
}

TEST_F(AuthTest, IssueTokenRefusals) {
  User plain = AddUser("issueplain");
  // Not an administrator.
  EXPECT_EQ(ErrorCodeOf(Call("auth.issueToken", {{"userId", plain.id}, {"grants", json::object()}}, plain.token)),
            -32002);
  // The admin grant for a user who is not an administrator.
  json adminGrant = AdminCall("auth.issueToken", {{"userId", plain.id}, {"grants", {{"admin", true}}}});
  EXPECT_EQ(ErrorCodeOf(adminGrant), -32002) << adminGrant.dump();
  // Unknown user.
  json unknown = AdminCall("auth.issueToken", {{"userId", 999999}, {"grants", json::object()}});
  EXPECT_EQ(ErrorCodeOf(unknown), -32003);
  EXPECT_EQ(unknown["error"]["data"]["userId"], 999999);
  struct Case {
    const char* name;
    json params;
    const char* param;
  } cases[] = {
      {"GrantsArray", {{"userId", plain.id}, {"grants", json::array()}}, "grants"},
      {"GrantsRoomsStrings", {{"userId", plain.id}, {"grants", {{"rooms", json::array({"1"})}}}}, "grants.rooms"},
      {"GrantsRoomsZero", {{"userId", plain.id}, {"grants", {{"rooms", json::array({0})}}}}, "grants.rooms"},
      {"GrantsAdminString", {{"userId", plain.id}, {"grants", {{"admin", "yes"}}}}, "grants.admin"},
      {"UserIdString", {{"userId", "2"}, {"grants", json::object()}}, "userId"},
      {"UserIdZero", {{"userId", 0}, {"grants", json::object()}}, "userId"},
      {"TtlTooShort", {{"grants", json::object()}, {"ttl", 59}}, "ttl"},
      {"TtlTooLong", {{"grants", json::object()}, {"ttl", 365 * 86400 + 1}}, "ttl"},
      {"TtlString", {{"grants", json::object()}, {"ttl", "3600"}}, "ttl"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json r = AdminCall("auth.issueToken", c.params);
    EXPECT_EQ(ErrorCodeOf(r), -32602) << r.dump();
    EXPECT_EQ(ParamOf(r), c.param);
  }
}

// ---------------------------------------------------------------- app.*

TEST_F(AuthTest, AppCreateListDelete) {
  std::string name = Unique("intranet");
  json created = Ok(AdminCall("app.create", {{"name", name}}));
  std::string appId = created["appId"];
  std::string secret = created["secret"];
  EXPECT_TRUE(std::regex_match(appId, std::regex("[0-9a-f]{16}"))) << appId;
  EXPECT_TRUE(std::regex_match(secret, std::regex("[0-9a-f]{48}"))) << secret;

  json list = Ok(AdminCall("app.list"));
  const json* found = nullptr;
  for (const auto& a : list["apps"])
    if (a["appId"] == appId) found = &a;
  ASSERT_NE(found, nullptr) << list.dump();
  EXPECT_EQ((*found)["name"], name);
  EXPECT_EQ((*found)["orgId"], 1);
  EXPECT_TRUE((*found)["createdAt"].is_number_integer());
  EXPECT_EQ(found->size(), 4u) << found->dump();  // appId, name, orgId, createdAt: no secret
  EXPECT_EQ(list.dump().find(secret), std::string::npos);

  // The secret signs.
  ASSERT_EQ(ErrorCodeOf(Call("auth.sign", {{"appId", appId}, {"secret", secret}, {"account", "a"}}, "")), 0);
  EXPECT_EQ(Ok(AdminCall("app.delete", {{"appId", appId}})), json::object());
  json remaining = Ok(AdminCall("app.list"));
  for (const auto& a : remaining["apps"]) EXPECT_NE(a["appId"], appId);
  EXPECT_EQ(ErrorCodeOf(Call("auth.sign", {{"appId", appId}, {"secret", secret}, {"account", "a"}}, "")), -32005);
  json again = AdminCall("app.delete", {{"appId", appId}});
  EXPECT_EQ(ErrorCodeOf(again), -32003);
  EXPECT_EQ(again["error"]["data"]["appId"], appId);
}

TEST_F(AuthTest, AppMethodsRefusals) {
  User plain = AddUser("appplain");
  std::string appId = Ok(AdminCall("app.create", {{"name", Unique("refusals")}}))["appId"];
  EXPECT_EQ(ErrorCodeOf(Call("app.create", {{"name", "x"}}, plain.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("app.list", json::object(), plain.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("app.delete", {{"appId", appId}}, plain.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("app.list", json::object(), "")), -32001);
  // The app is still there.
  EXPECT_NE(Ok(AdminCall("app.list")).dump().find(appId), std::string::npos);

  EXPECT_EQ(ErrorCodeOf(AdminCall("app.create", json::object())), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("app.create", {{"name", ""}})), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("app.create", {{"name", 5}})), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("app.create", {{"name", std::string(129, 'n')}})), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("app.create", {{"name", "x"}, {"orgId", "1"}})), -32602);
  json noOrg = AdminCall("app.create", {{"name", "x"}, {"orgId", 999999}});
  EXPECT_EQ(ErrorCodeOf(noOrg), -32003);
  EXPECT_EQ(noOrg["error"]["data"]["orgId"], 999999);
  EXPECT_EQ(ErrorCodeOf(AdminCall("app.delete", json::object())), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("app.delete", {{"appId", 7}})), -32602);
}

// ---------------------------------------------------------------- auth.sign / dockingLogin

TEST_F(AuthTest, SignWithTheRightSecretOnly) {
  json app = Ok(AdminCall("app.create", {{"name", Unique("signer")}}));
  int64_t before = Now();
  json r = Ok(Call("auth.sign", {{"appId", app["appId"]}, {"secret", app["secret"]}, {"account", "u-1"}}, ""));
  int64_t expiresAt = r["expiresAt"];
  EXPECT_GE(expiresAt, before + 300);
  EXPECT_LE(expiresAt, Now() + 300);
  EXPECT_TRUE(std::regex_match(r["signature"].get<std::string>(),
                               std::regex(std::to_string(expiresAt) + "\\.[0-9a-f]{64}")))
      << r.dump();

  json wrong = Call("auth.sign", {{"appId", app["appId"]}, {"secret", std::string(48, '0')}, {"account", "u-1"}}, "");
  json unknown = Call("auth.sign", {{"appId", "0123456789abcdef"}, {"secret", app["secret"]}, {"account", "u-1"}}, "");
  EXPECT_EQ(ErrorCodeOf(wrong), -32005);
  EXPECT_EQ(ErrorCodeOf(unknown), -32005);
  EXPECT_EQ(wrong["error"]["message"], unknown["error"]["message"]);
  struct Case {
    const char* name;
    json params;
    const char* param;
  } cases[] = {
      {"NoSecret", {{"appId", app["appId"]}, {"account", "u-1"}}, "secret"},
      {"NoAppId", {{"secret", app["secret"]}, {"account", "u-1"}}, "appId"},
      {"SecretNumber", {{"appId", app["appId"]}, {"secret", 1}, {"account", "u-1"}}, "secret"},
      {"AppIdTooLong", {{"appId", std::string(129, 'a')}, {"secret", app["secret"]}, {"account", "u-1"}}, "appId"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json e = Call("auth.sign", c.params, "");
    EXPECT_EQ(ErrorCodeOf(e), -32602) << e.dump();
    EXPECT_EQ(ParamOf(e), c.param);
  }
}

TEST_F(AuthTest, DockingLoginCreatesTheUserOnceThenSignsItIn) {
  json app = Ok(AdminCall("app.create", {{"name", Unique("docking")}}));
  std::string appId = app["appId"];
  std::string sig =
      Ok(Call("auth.sign", {{"appId", appId}, {"secret", app["secret"]}, {"account", "u-1041"}}, ""))["signature"];

  json first = Ok(Call("auth.dockingLogin", {{"appId", appId}, {"signature", sig}, {"account", "u-1041"}}, ""));
  EXPECT_EQ(first["created"], true);
  EXPECT_EQ(first["user"]["account"], appId + ":u-1041");
  EXPECT_EQ(first["user"]["name"], "u-1041");
  EXPECT_EQ(first["user"]["appId"], appId);
  EXPECT_EQ(first["user"]["admin"], false);
  EXPECT_EQ(first["user"]["orgId"], 1);
  int64_t userId = first["user"]["userId"];
  EXPECT_EQ(Ok(Call("user.get", json::object(), first["token"]))["user"]["userId"], userId);

  // Again (a signature lives a few minutes), with a name: the same user, renamed.
  json second = Ok(
      Call("auth.dockingLogin", {{"appId", appId}, {"signature", sig}, {"account", "u-1041"}, {"name", "Ada"}}, ""));
  EXPECT_FALSE(second.contains("created"));
  EXPECT_EQ(second["user"]["userId"], userId);
  EXPECT_EQ(second["user"]["name"], "Ada");
  EXPECT_EQ(Ok(AdminCall("user.get", {{"userId", userId}}))["user"]["name"], "Ada");

  // Users made this way have no password.
  EXPECT_EQ(ErrorCodeOf(Call("auth.login", {{"account", appId + ":u-1041"}, {"password", ""}}, "")), -32005);

  // On a WebSocket it authenticates the connection.
  WsClient ws(daemon_->wsUrl());
  EXPECT_EQ(ErrorCodeOf(ws.Call("user.get")), -32001);
  Ok(ws.Call("auth.dockingLogin", {{"appId", appId}, {"signature", sig}, {"account", "u-1041"}}));
  EXPECT_EQ(Ok(ws.Call("user.get"))["user"]["userId"], userId);
}

TEST_F(AuthTest, DockingLoginRefusesBadSignatures) {
  json app = Ok(AdminCall("app.create", {{"name", Unique("dockbad")}}));
  json other = Ok(AdminCall("app.create", {{"name", Unique("dockother")}}));
  std::string appId = app["appId"];
  auto sign = [&](const json& a, const std::string& account) {
    return Ok(Call("auth.sign", {{"appId", a["appId"]}, {"secret", a["secret"]}, {"account", account}}, ""))["signature"]
        .get<std::string>();
  };
  std::string sig = sign(app, "mallory");
  std::string tampered = sig;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  std::string laterExpiry = std::to_string(std::stoll(sig.substr(0, sig.find('.'))) + 1000) + sig.substr(sig.find('.'));
  auth::AppSigner signer("app-signature:" + *secret_);
  std::string expired = signer.Sign(appId + "\n" + "mallory", Now() - 10);
  struct Case {
    const char* name;
    std::string appId;
    std::string signature;
    const char* reason;
  } cases[] = {
      {"Tampered", appId, tampered, "badSignature"},
      {"OtherAppsSignature", appId, sign(other, "mallory"), "badSignature"},
      {"AnotherAccountsSignature", appId, sign(app, "alice"), "badSignature"},
      {"LaterExpiry", appId, laterExpiry, "badSignature"},
      {"Garbage", appId, "garbage", "badSignature"},
      {"Empty", appId, "", "badSignature"},
      {"UnknownApp", "0123456789abcdef", sig, "badSignature"},
      {"Expired", appId, expired, "expired"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json r = Call("auth.dockingLogin", {{"appId", c.appId}, {"signature", c.signature}, {"account", "mallory"}}, "");
    EXPECT_EQ(ErrorCodeOf(r), -32001) << r.dump();
    EXPECT_EQ(ReasonOf(r), c.reason) << r.dump();
  }
  // Nobody was created.
  json users = Ok(AdminCall("user.list", {{"limit", 500}}));
  EXPECT_EQ(users.dump().find("mallory"), std::string::npos);
  // The good signature still works.
  EXPECT_EQ(ErrorCodeOf(Call("auth.dockingLogin", {{"appId", appId}, {"signature", sig}, {"account", "mallory"}}, "")),
            0);

  EXPECT_EQ(ErrorCodeOf(Call("auth.dockingLogin", {{"appId", appId}, {"signature", sig}}, "")), -32602);
  EXPECT_EQ(ErrorCodeOf(Call("auth.dockingLogin", {{"appId", appId}, {"signature", sig}, {"account", ""}}, "")),
            -32602);
  EXPECT_EQ(ErrorCodeOf(Call("auth.dockingLogin", {{"appId", appId}, {"signature", sig}, {"account", 12}}, "")),
            -32602);
  EXPECT_EQ(ErrorCodeOf(Call("auth.dockingLogin", {{"appId", appId}, {"account", "x"}}, "")), -32602);
}

// Regression: user ids are reused. data/sql/001_initial.sql declares users.id INTEGER PRIMARY KEY
// without AUTOINCREMENT, so after the user with the highest id is deleted the next
// user.add gets the same id; the identity check (src/rpc/methods/AuthMethods.cpp,
// SetAuthenticator and auth.resume) only looks the id up, so the deleted user's tokens
// act as the new user. Expected: -32001 reason "invalid".
TEST_F(AuthTest, DeletedUsersTokensStayDeadWhenANewUserIsCreated) {
  User gone = AddUser("reusegone");
  Ok(AdminCall("user.delete", {{"userId", gone.id}}));
  User next = AddUser("reusenext", false, false);
  json r = Call("user.get", json::object(), gone.token);
  EXPECT_EQ(ErrorCodeOf(r), -32001) << r.dump();
  EXPECT_EQ(ReasonOf(r), "invalid");
  json resume = Call("auth.resume", {{"token", gone.token}}, "");
  EXPECT_EQ(ErrorCodeOf(resume), -32001) << resume.dump();
  EXPECT_NE(next.id, 0);
}

// ---------------------------------------------------------------- effective admin

TEST_F(AuthTest, ClearingTheAdminFlagTakesEffectOnExistingTokens) {
  User second = AddUser("admin2", true);
  WsClient ws(daemon_->wsUrl());
  Ok(ws.Call("auth.resume", {{"token", second.token}}));
  ASSERT_EQ(ErrorCodeOf(Call("user.list", json::object(), second.token)), 0);
  ASSERT_EQ(ErrorCodeOf(ws.Call("user.list")), 0);

  Ok(AdminCall("user.modify", {{"userId", second.id}, {"admin", false}}));
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), second.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(ws.Call("user.list")), -32002);
  EXPECT_EQ(Ok(Call("auth.resume", {{"token", second.token}}, ""))["grants"]["admin"], false);
  // Still a valid token for everything else.
  EXPECT_EQ(ErrorCodeOf(Call("room.list", json::object(), second.token)), 0);

  // Given back: effective admin is the token's grant AND the flag now, on every call.
  Ok(AdminCall("user.modify", {{"userId", second.id}, {"admin", true}}));
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), second.token)), 0);
  EXPECT_EQ(ErrorCodeOf(ws.Call("user.list")), 0);

  // A login token of a plain user never gains the right when the user is promoted.
  User plain = AddUser("admin3");
  Ok(AdminCall("user.modify", {{"userId", plain.id}, {"admin", true}}));
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), plain.token)), -32002);
  EXPECT_EQ(Ok(Call("auth.resume", {{"token", plain.token}}, ""))["grants"]["admin"], false);
}

}  // namespace
}  // namespace atrium::test
