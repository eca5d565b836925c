#include "auth/Grants.hpp"

#include "core/Error.hpp"

#include <gtest/gtest.h>

using atrium::InvalidParams;
using atrium::auth::Grants;
using nlohmann::json;

TEST(Grants, JsonRoundTrip) {
  Grants g;
  g.publish = g.record = true;
  g.roomAdmin = {7};
  g.rooms = {1, 2, 3};
  const json j = g.ToJson();
  EXPECT_EQ(j, json::parse(R"({"admin":false,"publish":true,"subscribe":false,"record":true,
                               "roomAdmin":[7],"rooms":[1,2,3],"anyRoom":false})"));
  EXPECT_EQ(Grants::FromJson(j), g);
  EXPECT_EQ(Grants::FromJson(Grants::ForUser(true).ToJson()), Grants::ForUser(true));
}

TEST(Grants, MissingFieldsAreFalse) {
  EXPECT_EQ(Grants::FromJson(json::object()), Grants{});
  EXPECT_EQ(Grants::FromJson(json::parse(R"({"admin":null,"rooms":null,"extra":1})")), Grants{});
  EXPECT_TRUE(Grants::FromJson(json::parse(R"({"anyRoom":true})")).anyRoom);
}

TEST(Grants, IllTypedFieldsNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"admin":1})", "grants.admin"},
      {R"({"publish":"yes"})", "grants.publish"},
      {R"({"anyRoom":[]})", "grants.anyRoom"},
      {R"({"rooms":5})", "grants.rooms"},
      {R"({"rooms":[1,"2"]})", "grants.rooms"},
      {R"({"rooms":[1.5]})", "grants.rooms"},
      {R"({"rooms":[0]})", "grants.rooms"},
      {R"({"roomAdmin":[-3]})", "grants.roomAdmin"},
      {R"({"roomAdmin":[18446744073709551615]})", "grants.roomAdmin"},
      {R"([])", "grants"},
      {R"("admin")", "grants"},
  };
  for (const auto& [text, field] : cases) {
    try {
      Grants::FromJson(json::parse(text));
      ADD_FAILURE() << "accepted " << text;
    } catch (const InvalidParams& e) {
      EXPECT_EQ(e.data().value("param", ""), field) << text;
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
  json big = {{"rooms", json::array()}};
  for (int i = 1; i <= 1001; ++i) big["rooms"].push_back(i);
  EXPECT_THROW(Grants::FromJson(big), InvalidParams);
}

TEST(Grants, RoomChecks) {
  Grants g;
  g.rooms = {1};
  g.roomAdmin = {2};
  EXPECT_TRUE(g.JoinsRoom(1));
  EXPECT_TRUE(g.JoinsRoom(2));
  EXPECT_FALSE(g.JoinsRoom(3));
  EXPECT_FALSE(g.AdminsRoom(1));
  EXPECT_TRUE(g.AdminsRoom(2));
  g.anyRoom = true;  // the user's own rights apply; nothing more is granted by name
  EXPECT_FALSE(g.JoinsRoom(3));
  EXPECT_FALSE(g.AdminsRoom(3));
  g.admin = true;
  EXPECT_TRUE(g.AdminsRoom(3));
}

TEST(Grants, ForUser) {
  const Grants user = Grants::ForUser(false);
  EXPECT_TRUE(user.publish && user.subscribe && user.anyRoom);
  EXPECT_FALSE(user.admin || user.record);
  EXPECT_FALSE(user.JoinsRoom(42));
  EXPECT_FALSE(user.AdminsRoom(42));
  const Grants admin = Grants::ForUser(true);
  EXPECT_TRUE(admin.admin && admin.record && admin.publish && admin.subscribe && admin.anyRoom);
  EXPECT_TRUE(admin.AdminsRoom(42));
}
