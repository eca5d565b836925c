// chat.send and chat.history against a real atriumd over real WebSocket sessions: room
// messages reach the other participants, private ones only their recipient, everything is
// stored, and history shows private messages to their two parties only.
#include "tests/rpc/DaemonSuite.hpp"

namespace atrium::test {
namespace {

constexpr int kMaxLength = 100;

// A WebSocket session of one user (or a guest), joined to a room.
struct Person {
  Person(const DaemonProcess& d, const std::string& token = {}) : ws(d.wsUrl()) {
    if (!token.empty()) {
      EXPECT_EQ(ErrorCodeOf(ws.Call("auth.resume", {{"token", token}})), 0);
    }
  }
  json Join(int64_t roomId, const std::string& name = {}) {
    json p = {{"roomId", roomId}};
    if (!name.empty()) p["displayName"] = name;
    json r = ws.Call("conference.join", p);
    if (ErrorCodeOf(r) == 0) id = ResultOf(r)["participant"]["id"];
    return r;
  }
  // Every notification sent before this returns has arrived: the server answers in order.
  void Sync() { ResultOf(ws.Call("server.ping")); }
  size_t Count(const std::string& method) {
    Sync();
    return ws.TakeNotifications([&](const json& n) { return n["method"] == method; }).size();
  }
  WsClient ws;
  std::string id;
};

class ChatTest : public DaemonSuite {
protected:
  static void SetUpTestSuite() {
    StartDaemon("[ice]\naddresses = 127.0.0.1\n[chat]\nmax-length = " + std::to_string(kMaxLength) + "\n");
  }

  void SetUp() override {
    host_ = AddUser("host");
    member_ = AddUser("member");
    late_ = AddUser("late");
    outsider_ = AddUser("outsider");
    roomId_ = Ok(Call("room.create", {{"name", Unique("chat")}}, host_.token))["roomId"];
    for (const auto* u : {&member_, &late_})
      Ok(Call("room.members.add", {{"roomId", roomId_}, {"userId", u->id}}, host_.token));
  }

  User host_, member_, late_, outsider_;
  int64_t roomId_ = 0;
};

TEST_F(ChatTest, RoomMessagesReachEveryoneElseAndAreStored) {
  Person host(*daemon_, host_.token), member(*daemon_, member_.token);
  ASSERT_EQ(ErrorCodeOf(host.Join(roomId_)), 0);
  ASSERT_EQ(ErrorCodeOf(member.Join(roomId_)), 0);

  // A non-host speaks, then the host.
  json sent = Ok(member.ws.Call("chat.send", {{"content", "hello all"}}))["message"];
  EXPECT_GT(sent["messageId"].get<int64_t>(), 0);
  EXPECT_EQ(sent["from"]["participantId"], member.id);
  EXPECT_EQ(sent["from"]["userId"], member_.id);
  EXPECT_GE(sent["time"].get<int64_t>(), Now() - 60);
  EXPECT_EQ(sent["private"], false);
  auto n = host.ws.WaitNotification("chat");
  ASSERT_TRUE(n);
  EXPECT_EQ((*n)["params"]["messageId"], sent["messageId"]);
  EXPECT_EQ((*n)["params"]["content"], "hello all");
  EXPECT_EQ((*n)["params"]["from"]["participantId"], member.id);
  EXPECT_EQ(member.Count("chat"), 0u) << "the sender gets the reply, not a notification";

  Ok(host.ws.Call("chat.send", {{"content", "welcome\nto the room"}}));
  auto m = member.ws.WaitNotification("chat");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["params"]["content"], "welcome\nto the room");

  // Someone who joins late reads back, oldest first.
  Person late(*daemon_, late_.token);
  ASSERT_EQ(ErrorCodeOf(late.Join(roomId_)), 0);
  json history = Ok(late.ws.Call("chat.history", {{"roomId", roomId_}}))["messages"];
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["content"], "hello all");
  EXPECT_EQ(history[1]["content"], "welcome\nto the room");
  // Paging backwards with before/limit.
  json page = Ok(late.ws.Call("chat.history", {{"roomId", roomId_}, {"limit", 1}}))["messages"];
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0]["content"], "welcome\nto the room");
  page = Ok(late.ws.Call("chat.history", {{"roomId", roomId_}, {"limit", 1}, {"before", page[0]["messageId"]}}))["messages"];
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0]["content"], "hello all");
}

TEST_F(ChatTest, PrivateMessagesOnlyForTheirTwoParties) {
  Person host(*daemon_, host_.token), member(*daemon_, member_.token), late(*daemon_, late_.token);
  ASSERT_EQ(ErrorCodeOf(host.Join(roomId_)), 0);
  ASSERT_EQ(ErrorCodeOf(member.Join(roomId_)), 0);
  ASSERT_EQ(ErrorCodeOf(late.Join(roomId_)), 0);

  Ok(host.ws.Call("chat.send", {{"content", "for everyone"}}));
  json sent = Ok(member.ws.Call("chat.send", {{"content", "psst, host"}, {"to", host.id}}))["message"];
  EXPECT_EQ(sent["private"], true);
  EXPECT_EQ(sent["to"]["participantId"], host.id);
  auto n = host.ws.WaitNotification("privateChat");
  ASSERT_TRUE(n);
  EXPECT_EQ((*n)["params"]["content"], "psst, host");
  EXPECT_EQ((*n)["params"]["from"]["participantId"], member.id);
  EXPECT_EQ(late.Count("privateChat"), 0u);
  EXPECT_EQ(late.Count("chat"), 1u);  // only the room message

  Ok(host.ws.Call("chat.send", {{"content", "psst back"}, {"to", member.id}}));
  ASSERT_TRUE(member.ws.WaitNotification("privateChat"));

  auto contents = [](const json& messages) {
    std::vector<std::string> v;
    for (const auto& m : messages) v.push_back(m["content"]);
    return v;
  };
  using V = std::vector<std::string>;
  V all = {"for everyone", "psst, host", "psst back"};
  EXPECT_EQ(contents(Ok(host.ws.Call("chat.history", {{"roomId", roomId_}}))["messages"]), all);
  EXPECT_EQ(contents(Ok(member.ws.Call("chat.history", {{"roomId", roomId_}}))["messages"]), all);
  EXPECT_EQ(contents(Ok(late.ws.Call("chat.history", {{"roomId", roomId_}}))["messages"]), V{"for everyone"});
  // Over HTTP, as the room's people who are not in the conference: still by user.
  EXPECT_EQ(contents(Ok(Call("chat.history", {{"roomId", roomId_}}, member_.token))["messages"]), all);
  EXPECT_EQ(contents(Ok(Call("chat.history", {{"roomId", roomId_}}, late_.token))["messages"]), V{"for everyone"});
  // An administrator of the server does not read private messages either.
  EXPECT_EQ(contents(Ok(AdminCall("chat.history", {{"roomId", roomId_}}))["messages"]), V{"for everyone"});
}

TEST_F(ChatTest, GuestsReadTheirOwnPrivateMessages) {
  int64_t open = Ok(Call("room.create", {{"name", Unique("open")}, {"isPublic", true}}, host_.token))["roomId"];
  Person host(*daemon_, host_.token), guest(*daemon_), other(*daemon_);
  ASSERT_EQ(ErrorCodeOf(host.Join(open)), 0);
  ASSERT_EQ(ErrorCodeOf(guest.Join(open, "Grace")), 0);
  ASSERT_EQ(ErrorCodeOf(other.Join(open, "Oscar")), 0);
  Ok(guest.ws.Call("chat.send", {{"content", "guest to host"}, {"to", host.id}}));
  ASSERT_TRUE(host.ws.WaitNotification("privateChat"));
  Ok(host.ws.Call("chat.send", {{"content", "host to guest"}, {"to", guest.id}}));
  auto n = guest.ws.WaitNotification("privateChat");
  ASSERT_TRUE(n);
  EXPECT_TRUE((*n)["params"]["from"]["userId"] == host_.id);
  EXPECT_TRUE((*n)["params"]["to"]["userId"].is_null());
  EXPECT_EQ(Ok(guest.ws.Call("chat.history", {{"roomId", open}}))["messages"].size(), 2u);
  EXPECT_EQ(Ok(other.ws.Call("chat.history", {{"roomId", open}}))["messages"].size(), 0u);
  // A guest outside the conference has no way in.
  Person stranger(*daemon_);
  EXPECT_EQ(ErrorCodeOf(stranger.ws.Call("chat.history", {{"roomId", open}})), -32001);
}

TEST_F(ChatTest, RefusedMessagesAndReaders) {
  Person host(*daemon_, host_.token), member(*daemon_, member_.token);
  // Not in a conference, or over HTTP.
  EXPECT_EQ(ErrorCodeOf(member.ws.Call("chat.send", {{"content", "anyone?"}})), -32010);
  EXPECT_EQ(ErrorCodeOf(Call("chat.send", {{"content", "x"}}, member_.token)), -32600);
  ASSERT_EQ(ErrorCodeOf(host.Join(roomId_)), 0);
  ASSERT_EQ(ErrorCodeOf(member.Join(roomId_)), 0);
  for (Person* p : {&host, &member}) {
    json r = p->ws.Call("chat.send", {{"content", ""}});
    EXPECT_EQ(ErrorCodeOf(r), -32602);
    EXPECT_EQ(ParamOf(r), "content");
    EXPECT_EQ(ErrorCodeOf(p->ws.Call("chat.send", json::object())), -32602);
    EXPECT_EQ(ErrorCodeOf(p->ws.Call("chat.send", {{"content", " \n\t "}})), -32602);
    r = p->ws.Call("chat.send", {{"content", std::string(kMaxLength + 1, 'x')}});
    EXPECT_EQ(ErrorCodeOf(r), -32602);
    EXPECT_EQ(ParamOf(r), "content");
    EXPECT_EQ(ErrorCodeOf(p->ws.Call("chat.send", {{"content", std::string("bell\x07")}})), -32602);
    EXPECT_EQ(ErrorCodeOf(p->ws.Call("chat.send", {{"content", 42}})), -32602);
    EXPECT_EQ(ErrorCodeOf(p->ws.Call("chat.send", {{"content", "hi"}, {"to", "u999-123456"}})), -32003);
    EXPECT_EQ(ErrorCodeOf(p->ws.Call("chat.send", {{"content", "hi"}, {"to", p->id}})), -32602);
    EXPECT_EQ(ErrorCodeOf(p->ws.Call("chat.send", {{"content", "hi"}, {"fileId", 999999}})), -32003);
  }
  // Exactly the limit is fine; nothing refused was stored.
  Ok(member.ws.Call("chat.send", {{"content", std::string(kMaxLength, 'y')}}));
  EXPECT_EQ(Ok(host.ws.Call("chat.history", {{"roomId", roomId_}}))["messages"].size(), 1u);

  // Readers: the room's people and participants only.
  EXPECT_EQ(ErrorCodeOf(Call("chat.history", {{"roomId", roomId_}}, outsider_.token)), -32002);
  EXPECT_EQ(ErrorCodeOf(Call("chat.history", {{"roomId", roomId_}}, "")), -32001);
  EXPECT_EQ(ErrorCodeOf(Call("chat.history", {{"roomId", roomId_}}, "not-a-token")), -32001);
  EXPECT_EQ(ErrorCodeOf(Call("chat.history", {{"roomId", 999999}}, host_.token)), -32003);
  EXPECT_EQ(ErrorCodeOf(Call("chat.history", {{"roomId", roomId_}, {"limit", 0}}, host_.token)), -32602);
  EXPECT_EQ(ErrorCodeOf(Call("chat.history", {{"roomId", "x"}}, host_.token)), -32602);
  // The server still answers.
  EXPECT_EQ(ErrorCodeOf(member.ws.Call("server.ping")), 0);
}

}  // namespace
}  // namespace atrium::test
