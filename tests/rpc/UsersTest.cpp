// user.* and org.* against a real atriumd: accounts, profiles, passwords, paging and
// organisations, each with its refusals (bad params, missing rights, unknown ids,
// conflicts).
#include "tests/rpc/DaemonSuite.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace atrium::test {
namespace {

class UsersTest : public DaemonSuite {
protected:
  static int Login(const std::string& account, const std::string& password) {
    return ErrorCodeOf(Call("auth.login", {{"account", account}, {"password", password}}, ""));
  }
};

// ---------------------------------------------------------------- user.add

TEST_F(UsersTest, AddCreatesAUserThatCanSignIn) {
  int64_t orgId = Ok(AdminCall("org.create", {{"name", Unique("add-org")}}))["orgId"];
  std::string account = Unique("ada");
  int64_t before = Now();
  json r = Ok(AdminCall("user.add", {{"account", account},
                                     {"password", "correct-horse"},
                                     {"name", "Ada Lovelace"},
                                     {"email", "ada@example.org"},
                                     {"phone", "+44 20 7946 0000"},
                                     {"orgId", orgId}}));
  ASSERT_TRUE(r["userId"].is_number_integer());
  int64_t id = r["userId"];
  json u = Ok(AdminCall("user.get", {{"userId", id}}))["user"];
  EXPECT_EQ(u["userId"], id);
  EXPECT_EQ(u["account"], account);
  EXPECT_EQ(u["name"], "Ada Lovelace");
  EXPECT_EQ(u["email"], "ada@example.org");
  EXPECT_EQ(u["phone"], "+44 20 7946 0000");
  EXPECT_EQ(u["orgId"], orgId);
  EXPECT_EQ(u["admin"], false);
  EXPECT_GE(u["createdAt"].get<int64_t>(), before);
  EXPECT_LE(u["createdAt"].get<int64_t>(), Now());
  EXPECT_FALSE(u.contains("appId"));
  EXPECT_EQ(u.dump().find("correct-horse"), std::string::npos);
  EXPECT_EQ(u.dump().find("argon2"), std::string::npos);

  json login = Ok(Call("auth.login", {{"account", account}, {"password", "correct-horse"}}, ""));
  EXPECT_EQ(login["user"]["userId"], id);
  EXPECT_EQ(Login(account, "correct-horsE"), -32005);
}

TEST_F(UsersTest, AddUsesDefaultsAndCanMakeAnAdministrator) {
  std::string account = Unique("plain");
  int64_t id = Ok(AdminCall("user.add", {{"account", account}, {"password", kUserPassword}}))["userId"];
  json u = Ok(AdminCall("user.get", {{"userId", id}}))["user"];
  EXPECT_EQ(u["name"], account);
  EXPECT_EQ(u["email"], "");
  EXPECT_EQ(u["phone"], "");
  EXPECT_EQ(u["orgId"], 1);
  EXPECT_EQ(u["admin"], false);

  // The longest account, every allowed character, and an 8-byte password.
  std::string longest(64, 'x');
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.add", {{"account", longest}, {"password", "12345678"}})), 0);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.add", {{"account", "9a.b_c@d+e-f"}, {"password", "12345678"}})), 0);

  User boss = AddUser("boss", {{"admin", true}});
  EXPECT_EQ(Ok(AdminCall("user.get", {{"userId", boss.id}}))["user"]["admin"], true);
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), boss.token)), 0);
}

TEST_F(UsersTest, AddRefusesBadAccountNames) {
  struct Case {
    const char* name;
    json account;
  } cases[] = {
      {"Empty", ""},
      {"Space", "ada lovelace"},
      {"LeadingSpace", " ada"},
      {"TooLong", std::string(65, 'a')},
      {"LeadingDot", ".ada"},
      {"LeadingDash", "-ada"},
      {"LeadingAt", "@ada"},
      {"Slash", "ada/lovelace"},
      {"Colon", "app:ada"},
      {"Quote", "ada'"},
      {"NonAscii", "\xc3\xa4" "da"},
      {"ControlChar", "ada\n"},
      {"Number", 42},
      {"Array", json::array({"ada"})},
      {"Null", nullptr},
  };
  std::string before = Ok(AdminCall("user.list", {{"limit", 500}})).dump();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json r = AdminCall("user.add", {{"account", c.account}, {"password", kUserPassword}});
    EXPECT_EQ(ErrorCodeOf(r), -32602) << r.dump();
    EXPECT_EQ(ParamOf(r), "account");
  }
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.add", {{"password", kUserPassword}})), -32602);
  EXPECT_EQ(Ok(AdminCall("user.list", {{"limit", 500}})).dump(), before);
}

TEST_F(UsersTest, AddRefusesBadPasswordsAndFields) {
  struct Case {
    const char* name;
    json params;
    const char* param;
  } cases[] = {
      {"PasswordMissing", {{"account", Unique("p")}}, "password"},
      {"PasswordSeven", {{"account", Unique("p")}, {"password", "1234567"}}, "password"},
      {"PasswordEmpty", {{"account", Unique("p")}, {"password", ""}}, "password"},
      {"PasswordNumber", {{"account", Unique("p")}, {"password", 12345678}}, "password"},
      {"PasswordTooLong", {{"account", Unique("p")}, {"password", std::string(1025, 'p')}}, "password"},
      {"NameEmpty", {{"account", Unique("p")}, {"password", kUserPassword}, {"name", ""}}, "name"},
      {"NameTooLong", {{"account", Unique("p")}, {"password", kUserPassword}, {"name", std::string(129, 'n')}}, "name"},
      {"NameControl", {{"account", Unique("p")}, {"password", kUserPassword}, {"name", "a\tb"}}, "name"},
      {"NameNumber", {{"account", Unique("p")}, {"password", kUserPassword}, {"name", 1}}, "name"},
      {"EmailNumber", {{"account", Unique("p")}, {"password", kUserPassword}, {"email", 1}}, "email"},
      {"EmailTooLong", {{"account", Unique("p")}, {"password", kUserPassword}, {"email", std::string(257, 'e')}}, "email"},
      {"PhoneTooLong", {{"account", Unique("p")}, {"password", kUserPassword}, {"phone", std::string(65, '1')}}, "phone"},
      {"AdminString", {{"account", Unique("p")}, {"password", kUserPassword}, {"admin", "true"}}, "admin"},
      {"AdminNumber", {{"account", Unique("p")}, {"password", kUserPassword}, {"admin", 1}}, "admin"},
      {"OrgIdString", {{"account", Unique("p")}, {"password", kUserPassword}, {"orgId", "1"}}, "orgId"},
      {"OrgIdZero", {{"account", Unique("p")}, {"password", kUserPassword}, {"orgId", 0}}, "orgId"},
      {"OrgIdFraction", {{"account", Unique("p")}, {"password", kUserPassword}, {"orgId", 1.5}}, "orgId"},
  };
  std::string before = Ok(AdminCall("user.list", {{"limit", 500}})).dump();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json r = AdminCall("user.add", c.params);
    EXPECT_EQ(ErrorCodeOf(r), -32602) << r.dump();
    EXPECT_EQ(ParamOf(r), c.param);
  }
  EXPECT_EQ(Ok(AdminCall("user.list", {{"limit", 500}})).dump(), before);  // nobody was created
}

TEST_F(UsersTest, AddRefusesDuplicatesUnknownOrganisationsAndPlainUsers) {
  User first = AddUser("dup");
  json dup = AdminCall("user.add", {{"account", first.account}, {"password", "another-password"}});
  EXPECT_EQ(ErrorCodeOf(dup), -32004);
  EXPECT_EQ(dup["error"]["data"]["account"], first.account);
  // The first user keeps its password.
  EXPECT_EQ(Login(first.account, kUserPassword), 0);
  EXPECT_EQ(Login(first.account, "another-password"), -32005);

  std::string account = Unique("noorg");
  json noOrg = AdminCall("user.add", {{"account", account}, {"password", kUserPassword}, {"orgId", 999999}});
  EXPECT_EQ(ErrorCodeOf(noOrg), -32003);
  EXPECT_EQ(noOrg["error"]["data"]["orgId"], 999999);

  json byPlain = Call("user.add", {{"account", account}, {"password", kUserPassword}}, first.token);
  EXPECT_EQ(ErrorCodeOf(byPlain), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("user.add", {{"account", account}, {"password", kUserPassword}}, "")), -32001);
  EXPECT_EQ(Login(account, kUserPassword), -32005);  // nobody was created
}

// ---------------------------------------------------------------- user.get

TEST_F(UsersTest, GetOwnProfileButNotSomeoneElses) {
  User alice = AddUser("alice", {{"name", "Alice"}});
  User bob = AddUser("bob");
  json self = Ok(Call("user.get", json::object(), alice.token))["user"];
  EXPECT_EQ(self["userId"], alice.id);
  EXPECT_EQ(self["account"], alice.account);
  EXPECT_EQ(self["name"], "Alice");
  EXPECT_EQ(Ok(Call("user.get", {{"userId", alice.id}}, alice.token))["user"], self);

  json other = Call("user.get", {{"userId", bob.id}}, alice.token);
  EXPECT_EQ(ErrorCodeOf(other), -32002);
  EXPECT_FALSE(other.contains("result"));
  // Checked before existence: a plain user learns nothing about unknown ids.
  EXPECT_EQ(ErrorCodeOf(Call("user.get", {{"userId", 999999}}, alice.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("user.get", {{"userId", adminId_}}, alice.token)), -32002);

  // Administrators read anyone.
  EXPECT_EQ(Ok(AdminCall("user.get", {{"userId", bob.id}}))["user"]["account"], bob.account);
  json unknown = AdminCall("user.get", {{"userId", 999999}});
  EXPECT_EQ(ErrorCodeOf(unknown), -32003);
  EXPECT_EQ(unknown["error"]["data"]["userId"], 999999);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.get", {{"userId", "2"}})), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.get", {{"userId", 0}})), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.get", {{"userId", -3}})), -32602);
  EXPECT_EQ(ErrorCodeOf(Call("user.get", json::object(), "")), -32001);
}

// ---------------------------------------------------------------- user.modify

TEST_F(UsersTest, ModifyOwnProfile) {
  User u = AddUser("modself");
  json before = Ok(Call("user.get", json::object(), u.token))["user"];
  json r = Ok(Call("user.modify", {{"userId", u.id}, {"name", "New Name"}, {"phone", "+1 555 0100"}}, u.token));
  EXPECT_EQ(r["user"]["name"], "New Name");
  EXPECT_EQ(r["user"]["phone"], "+1 555 0100");
  EXPECT_EQ(r["user"]["email"], before["email"]);  // absent fields keep their value
  EXPECT_EQ(r["user"]["account"], u.account);
  EXPECT_GE(r["user"]["updatedAt"].get<int64_t>(), before["updatedAt"].get<int64_t>());
  json after = Ok(Call("user.get", json::object(), u.token))["user"];
  EXPECT_EQ(after["name"], "New Name");
  EXPECT_EQ(after["phone"], "+1 555 0100");
  // Emptying the email is allowed; the name is text and cannot be empty.
  EXPECT_EQ(Ok(Call("user.modify", {{"userId", u.id}, {"email", ""}}, u.token))["user"]["email"], "");
  json emptyName = Call("user.modify", {{"userId", u.id}, {"name", ""}}, u.token);
  EXPECT_EQ(ErrorCodeOf(emptyName), -32602);
  EXPECT_EQ(ParamOf(emptyName), "name");
  // null counts as absent.
  EXPECT_EQ(Ok(Call("user.modify", {{"userId", u.id}, {"name", nullptr}}, u.token))["user"]["name"], "New Name");
}

TEST_F(UsersTest, ModifyRefusesPrivilegedFieldsAndOtherUsersToPlainUsers) {
  User u = AddUser("modplain");
  User other = AddUser("modother");
  int64_t orgId = Ok(AdminCall("org.create", {{"name", Unique("mod-org")}}))["orgId"];
  EXPECT_EQ(ErrorCodeOf(Call("user.modify", {{"userId", u.id}, {"admin", true}}, u.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("user.modify", {{"userId", u.id}, {"admin", false}}, u.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("user.modify", {{"userId", u.id}, {"orgId", orgId}}, u.token)), -32002);
  // Nothing changed, not even the fields sent along.
  EXPECT_EQ(ErrorCodeOf(Call("user.modify", {{"userId", u.id}, {"name", "Sneaky"}, {"admin", true}}, u.token)), -32002);
  json self = Ok(AdminCall("user.get", {{"userId", u.id}}))["user"];
  EXPECT_EQ(self["admin"], false);
  EXPECT_EQ(self["orgId"], 1);
  EXPECT_EQ(self["name"], u.account);
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), u.token)), -32002);

  EXPECT_EQ(ErrorCodeOf(Call("user.modify", {{"userId", other.id}, {"name", "Hacked"}}, u.token)), -32002);
  EXPECT_EQ(Ok(AdminCall("user.get", {{"userId", other.id}}))["user"]["name"], other.account);
}

TEST_F(UsersTest, AdministratorsModifyAnyoneIncludingRightsAndOrganisation) {
  User u = AddUser("modbyadmin");
  int64_t orgId = Ok(AdminCall("org.create", {{"name", Unique("move-org")}}))["orgId"];
  json r = Ok(AdminCall("user.modify", {{"userId", u.id}, {"orgId", orgId}, {"admin", true}, {"email", "x@y.z"}}));
  EXPECT_EQ(r["user"]["orgId"], orgId);
  EXPECT_EQ(r["user"]["admin"], true);
  EXPECT_EQ(r["user"]["email"], "x@y.z");
  // The token from before the promotion has no admin grant; a new sign-in has.
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), u.token)), -32002);
  std::string adminToken =
      Ok(Call("auth.login", {{"account", u.account}, {"password", kUserPassword}}, ""))["token"].get<std::string>();
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), adminToken)), 0);
  Ok(AdminCall("user.modify", {{"userId", u.id}, {"admin", false}}));
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), adminToken)), -32002);

  json unknownUser = AdminCall("user.modify", {{"userId", 999999}, {"name", "x"}});
  EXPECT_EQ(ErrorCodeOf(unknownUser), -32003);
  EXPECT_EQ(unknownUser["error"]["data"]["userId"], 999999);
  json unknownOrg = AdminCall("user.modify", {{"userId", u.id}, {"orgId", 999999}});
  EXPECT_EQ(ErrorCodeOf(unknownOrg), -32003);
  EXPECT_EQ(unknownOrg["error"]["data"]["orgId"], 999999);
  EXPECT_EQ(Ok(AdminCall("user.get", {{"userId", u.id}}))["user"]["orgId"], orgId);

  struct Case {
    const char* name;
    json params;
    const char* param;
  } cases[] = {
      {"NoUserId", {{"name", "x"}}, "userId"},
      {"UserIdString", {{"userId", std::to_string(u.id)}}, "userId"},
      {"AdminString", {{"userId", u.id}, {"admin", "false"}}, "admin"},
      {"OrgIdZero", {{"userId", u.id}, {"orgId", 0}}, "orgId"},
      {"NameNumber", {{"userId", u.id}, {"name", 5}}, "name"},
      {"PhoneTooLong", {{"userId", u.id}, {"phone", std::string(65, '1')}}, "phone"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json e = AdminCall("user.modify", c.params);
    EXPECT_EQ(ErrorCodeOf(e), -32602) << e.dump();
    EXPECT_EQ(ParamOf(e), c.param);
  }
}

// Its own daemon, so that `admin` is surely the only administrator.
TEST(UsersLastAdmin, TheLastAdministratorCannotDropItsRights) {
  TempDir dir;
  DaemonProcess daemon(dir.path());
  HttpClient http(daemon.url());
  json login = ResultOf(http.Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}}));
  std::string token = login["token"];
  int64_t adminId = login["user"]["userId"];
  json r = http.Call("user.modify", {{"userId", adminId}, {"admin", false}}, token);
  EXPECT_EQ(ErrorCodeOf(r), -32004) << r.dump();
  EXPECT_EQ(ResultOf(http.Call("user.get", json::object(), token))["user"]["admin"], true);
  EXPECT_EQ(ErrorCodeOf(http.Call("user.delete", {{"userId", adminId}}, token)), -32004);

  // With a second administrator, the first may step down; then the second is the last.
  int64_t second = ResultOf(http.Call(
      "user.add", {{"account", "second"}, {"password", kUserPassword}, {"admin", true}}, token))["userId"];
  EXPECT_EQ(ErrorCodeOf(http.Call("user.modify", {{"userId", adminId}, {"admin", false}}, token)), 0);
  EXPECT_EQ(ErrorCodeOf(http.Call("user.list", json::object(), token)), -32002);
  std::string secondToken =
      ResultOf(http.Call("auth.login", {{"account", "second"}, {"password", kUserPassword}}))["token"];
  EXPECT_EQ(ErrorCodeOf(http.Call("user.modify", {{"userId", second}, {"admin", false}}, secondToken)), -32004);
}

// ---------------------------------------------------------------- user.delete

TEST_F(UsersTest, DeleteRemovesTheUserItsTokensAndMemberships) {
  User u = AddUser("deleteme");
  int64_t roomId = Ok(Call("room.create", {{"name", "deleteme-room"}}, u.token))["roomId"];
  int64_t adminRoom = Ok(AdminCall("room.create", {{"name", "deleteme-member"}}))["roomId"];
  Ok(AdminCall("room.members.add", {{"roomId", adminRoom}, {"userId", u.id}}));

  EXPECT_EQ(Ok(AdminCall("user.delete", {{"userId", u.id}})), json::object());
  json get = AdminCall("user.get", {{"userId", u.id}});
  EXPECT_EQ(ErrorCodeOf(get), -32003);
  EXPECT_EQ(get["error"]["data"]["userId"], u.id);
  EXPECT_EQ(Login(u.account, kUserPassword), -32005);
  json byToken = Call("room.list", json::object(), u.token);
  EXPECT_EQ(ErrorCodeOf(byToken), -32001);
  EXPECT_EQ(byToken["error"]["data"]["reason"], "invalid");
  // Its room stays, without an owner; its membership is gone.
  json room = Ok(AdminCall("room.get", {{"roomId", roomId}}))["room"];
  EXPECT_TRUE(room["ownerId"].is_null());
  EXPECT_EQ(Ok(AdminCall("room.members.list", {{"roomId", adminRoom}}))["members"], json::array());
  // Deleting again: not found.
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.delete", {{"userId", u.id}})), -32003);
}

TEST_F(UsersTest, DeleteRefusals) {
  User u = AddUser("delplain");
  User victim = AddUser("delvictim");
  json self = AdminCall("user.delete", {{"userId", adminId_}});
  EXPECT_EQ(ErrorCodeOf(self), -32004);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.get", {{"userId", adminId_}})), 0);
  json unknown = AdminCall("user.delete", {{"userId", 999999}});
  EXPECT_EQ(ErrorCodeOf(unknown), -32003);
  EXPECT_EQ(unknown["error"]["data"]["userId"], 999999);
  EXPECT_EQ(ErrorCodeOf(Call("user.delete", {{"userId", victim.id}}, u.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("user.delete", {{"userId", u.id}}, u.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.delete", json::object())), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.delete", {{"userId", "x"}})), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.delete", {{"userId", 0}})), -32602);
  EXPECT_EQ(Login(victim.account, kUserPassword), 0);  // still there
}

// ---------------------------------------------------------------- user.list

TEST_F(UsersTest, ListPagesThroughAnOrganisation) {
  int64_t orgId = Ok(AdminCall("org.create", {{"name", Unique("page-org")}}))["orgId"];
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(AddUser("pager", {{"orgId", orgId}}).id);
  AddUser("elsewhere");  // in organisation 1

  std::vector<int64_t> seen;
  for (int offset : {0, 2, 4}) {
    json page = Ok(AdminCall("user.list", {{"orgId", orgId}, {"offset", offset}, {"limit", 2}}));
    EXPECT_EQ(page["total"], 5);
    EXPECT_EQ(page["offset"], offset);
    EXPECT_EQ(page["limit"], 2);
    EXPECT_EQ(page["users"].size(), offset == 4 ? 1u : 2u);
    for (const auto& u : page["users"]) {
      EXPECT_EQ(u["orgId"], orgId);
      EXPECT_TRUE(u.contains("account") && u.contains("admin") && u.contains("createdAt"));
      seen.push_back(u["userId"]);
    }
  }
  EXPECT_EQ(seen, ids);  // ordered by id, each once
  json past = Ok(AdminCall("user.list", {{"orgId", orgId}, {"offset", 10}}));
  EXPECT_EQ(past["users"], json::array());
  EXPECT_EQ(past["total"], 5);

  json all = Ok(AdminCall("user.list"));
  EXPECT_EQ(all["offset"], 0);
  EXPECT_EQ(all["limit"], 50);
  EXPECT_GE(all["total"].get<int64_t>(), 7);
  EXPECT_EQ(all["users"][0]["account"], "admin");
  json org1 = Ok(AdminCall("user.list", {{"orgId", 1}, {"limit", 500}}));
  for (const auto& u : org1["users"]) EXPECT_EQ(u["orgId"], 1);
  EXPECT_LE(org1["total"].get<int64_t>() + 5, all["total"].get<int64_t>());
}

TEST_F(UsersTest, ListRefusals) {
  User u = AddUser("listplain");
  struct Case {
    const char* name;
    json params;
    const char* param;
  } cases[] = {
      {"LimitZero", {{"limit", 0}}, "limit"},
      {"Limit501", {{"limit", 501}}, "limit"},
      {"LimitString", {{"limit", "10"}}, "limit"},
      {"OffsetNegative", {{"offset", -1}}, "offset"},
      {"OffsetFraction", {{"offset", 0.5}}, "offset"},
      {"OrgIdZero", {{"orgId", 0}}, "orgId"},
      {"OrgIdString", {{"orgId", "1"}}, "orgId"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json r = AdminCall("user.list", c.params);
    EXPECT_EQ(ErrorCodeOf(r), -32602) << r.dump();
    EXPECT_EQ(ParamOf(r), c.param);
  }
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.list", {{"limit", 500}})), 0);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.list", {{"limit", 1}})), 0);
  // An unknown organisation simply has no users.
  json none = Ok(AdminCall("user.list", {{"orgId", 999999}}));
  EXPECT_EQ(none["total"], 0);
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), u.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("user.list", json::object(), "")), -32001);
}

// ---------------------------------------------------------------- passwords

TEST_F(UsersTest, ChangePassword) {
  User u = AddUser("chpw");
  json wrong = Call("user.changePassword", {{"oldPassword", "not-my-password"}, {"newPassword", "brand-new-pw"}},
                    u.token);
  EXPECT_EQ(ErrorCodeOf(wrong), -32005);
  EXPECT_EQ(Login(u.account, kUserPassword), 0);
  EXPECT_EQ(Login(u.account, "brand-new-pw"), -32005);

  json shortNew = Call("user.changePassword", {{"oldPassword", kUserPassword}, {"newPassword", "short"}}, u.token);
  EXPECT_EQ(ErrorCodeOf(shortNew), -32602);
  EXPECT_EQ(ParamOf(shortNew), "newPassword");
  EXPECT_EQ(ParamOf(Call("user.changePassword", {{"newPassword", "brand-new-pw"}}, u.token)), "oldPassword");
  EXPECT_EQ(ParamOf(Call("user.changePassword", {{"oldPassword", kUserPassword}}, u.token)), "newPassword");
  EXPECT_EQ(ParamOf(Call("user.changePassword", {{"oldPassword", kUserPassword}, {"newPassword", 12345678}}, u.token)),
            "newPassword");
  EXPECT_EQ(ErrorCodeOf(Call("user.changePassword", {{"oldPassword", kUserPassword}, {"newPassword", "brand-new-pw"}}, "")),
            -32001);

  EXPECT_EQ(Ok(Call("user.changePassword", {{"oldPassword", kUserPassword}, {"newPassword", "brand-new-pw"}}, u.token)),
            json::object());
  EXPECT_EQ(Login(u.account, "brand-new-pw"), 0);
  EXPECT_EQ(Login(u.account, kUserPassword), -32005);
  // The token used stays valid.
  EXPECT_EQ(ErrorCodeOf(Call("user.get", json::object(), u.token)), 0);
}

TEST_F(UsersTest, ResetPassword) {
  User u = AddUser("reset");
  json generated = Ok(AdminCall("user.resetPassword", {{"userId", u.id}}));
  ASSERT_TRUE(generated["password"].is_string()) << generated.dump();
  std::string pw = generated["password"];
  EXPECT_TRUE(std::regex_match(pw, std::regex("[2-9a-km-zA-HJ-NP-Z]{16}"))) << pw;
  EXPECT_EQ(Login(u.account, pw), 0);
  EXPECT_EQ(Login(u.account, kUserPassword), -32005);

  EXPECT_EQ(Ok(AdminCall("user.resetPassword", {{"userId", u.id}, {"newPassword", "chosen-by-admin"}})),
            json::object());
  EXPECT_EQ(Login(u.account, "chosen-by-admin"), 0);
  EXPECT_EQ(Login(u.account, pw), -32005);

  json shortPw = AdminCall("user.resetPassword", {{"userId", u.id}, {"newPassword", "1234567"}});
  EXPECT_EQ(ErrorCodeOf(shortPw), -32602);
  EXPECT_EQ(ParamOf(shortPw), "newPassword");
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.resetPassword", {{"userId", u.id}, {"newPassword", 12345678}})), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.resetPassword", json::object())), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("user.resetPassword", {{"userId", "1"}})), -32602);
  json unknown = AdminCall("user.resetPassword", {{"userId", 999999}});
  EXPECT_EQ(ErrorCodeOf(unknown), -32003);
  EXPECT_EQ(unknown["error"]["data"]["userId"], 999999);
  // Not for plain users, not even for themselves.
  EXPECT_EQ(ErrorCodeOf(Call("user.resetPassword", {{"userId", u.id}}, u.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("user.resetPassword", {{"userId", adminId_}, {"newPassword", "taken-over!"}}, u.token)),
            -32002);
  EXPECT_EQ(Login(u.account, "chosen-by-admin"), 0);
  EXPECT_EQ(Login("admin", DaemonProcess::kAdminPassword), 0);
}

// ---------------------------------------------------------------- org.*

TEST_F(UsersTest, OrganisationsCreateListDelete) {
  std::string name = Unique("Sales");
  int64_t before = Now();
  json created = Ok(AdminCall("org.create", {{"name", name}}));
  ASSERT_TRUE(created["orgId"].is_number_integer());
  int64_t orgId = created["orgId"];
  EXPECT_GT(orgId, 1);

  json list = Ok(AdminCall("org.list"))["organisations"];
  ASSERT_GE(list.size(), 2u);
  EXPECT_EQ(list[0]["orgId"], 1);
  EXPECT_EQ(list[0]["name"], "default");
  const json* found = nullptr;
  int64_t last = 0;
  for (const auto& o : list) {
    EXPECT_GT(o["orgId"].get<int64_t>(), last);  // ordered by id
    last = o["orgId"];
    if (o["orgId"] == orgId) found = &o;
  }
  ASSERT_NE(found, nullptr);
  EXPECT_EQ((*found)["name"], name);
  EXPECT_GE((*found)["createdAt"].get<int64_t>(), before);

  EXPECT_EQ(Ok(AdminCall("org.delete", {{"orgId", orgId}})), json::object());
  json remaining = Ok(AdminCall("org.list"));
  for (const auto& o : remaining["organisations"]) EXPECT_NE(o["orgId"], orgId);
  json again = AdminCall("org.delete", {{"orgId", orgId}});
  EXPECT_EQ(ErrorCodeOf(again), -32003);
  EXPECT_EQ(again["error"]["data"]["orgId"], orgId);
}

TEST_F(UsersTest, OrganisationRefusals) {
  User plain = AddUser("orgplain");
  std::string name = Unique("Marketing");
  int64_t orgId = Ok(AdminCall("org.create", {{"name", name}}))["orgId"];
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.create", {{"name", name}})), -32004);
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.create", json::object())), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.create", {{"name", ""}})), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.create", {{"name", 3}})), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.create", {{"name", std::string(129, 'o')}})), -32602);
  EXPECT_EQ(ErrorCodeOf(Call("org.create", {{"name", Unique("x")}}, plain.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("org.list", json::object(), plain.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("org.delete", {{"orgId", orgId}}, plain.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("org.list", json::object(), "")), -32001);

  json deflt = AdminCall("org.delete", {{"orgId", 1}});
  EXPECT_EQ(ErrorCodeOf(deflt), -32004);
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.delete", {{"orgId", 999999}})), -32003);
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.delete", json::object())), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.delete", {{"orgId", "2"}})), -32602);
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.delete", {{"orgId", 0}})), -32602);
  // Still there.
  EXPECT_NE(Ok(AdminCall("org.list")).dump().find(name), std::string::npos);
}

TEST_F(UsersTest, AnOrganisationInUseCannotBeDeleted) {
  int64_t withUser = Ok(AdminCall("org.create", {{"name", Unique("with-user")}}))["orgId"];
  User member = AddUser("orguser", {{"orgId", withUser}});
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.delete", {{"orgId", withUser}})), -32004);
  EXPECT_EQ(Ok(AdminCall("user.get", {{"userId", member.id}}))["user"]["orgId"], withUser);

  // A room belongs to its creator's organisation, and keeps it after the creator is gone.
  int64_t roomId = Ok(Call("room.create", {{"name", "org-room"}}, member.token))["roomId"];
  EXPECT_EQ(Ok(AdminCall("room.get", {{"roomId", roomId}}))["room"]["orgId"], withUser);
  Ok(AdminCall("user.delete", {{"userId", member.id}}));
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.delete", {{"orgId", withUser}})), -32004);
  Ok(AdminCall("room.delete", {{"roomId", roomId}}));
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.delete", {{"orgId", withUser}})), 0);

  // Apps go with their organisation.
  int64_t withApp = Ok(AdminCall("org.create", {{"name", Unique("with-app")}}))["orgId"];
  std::string appId = Ok(AdminCall("app.create", {{"name", "org-app"}, {"orgId", withApp}}))["appId"];
  EXPECT_EQ(ErrorCodeOf(AdminCall("org.delete", {{"orgId", withApp}})), 0);
  EXPECT_EQ(Ok(AdminCall("app.list")).dump().find(appId), std::string::npos);
}

}  // namespace
}  // namespace atrium::test
