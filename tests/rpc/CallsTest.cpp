// 1:1 calls against a real atriumd over real WebSocket sessions: the invite/ring/agree/
// connected flow with its notifications and room, every way a call ends (reject, cancel,
// busy, hang-up, a closed socket, no answer within the ring timeout) and every refusal.
#include "tests/rpc/DaemonSuite.hpp"

namespace atrium::test {
namespace {

constexpr int kRingTimeoutSeconds = 2;

// One user's WebSocket session, signed in.
struct Phone {
  Phone(const DaemonProcess& d, const User& u) : ws(d.wsUrl()), user(u) {
    EXPECT_EQ(ErrorCodeOf(ws.Call("auth.resume", {{"token", u.token}})), 0);
  }
  json Call(const std::string& method, const json& params = json::object()) { return ws.Call(method, params); }
  json Wait(const std::string& method, int timeoutMs = 5000) {
    auto n = ws.WaitNotification(method, timeoutMs);
    if (!n) throw std::runtime_error("no " + method + " for " + user.account);
    return (*n)["params"];
  }
  // Every notification sent before this returns has arrived: the server answers in order.
  size_t Count(const std::string& method) {
    ResultOf(ws.Call("server.ping"));
    return ws.TakeNotifications([&](const json& n) { return n["method"] == method; }).size();
  }
  WsClient ws;
  User user;
};

class CallsTest : public DaemonSuite {
protected:
  static void SetUpTestSuite() {
    StartDaemon("[ice]\naddresses = 127.0.0.1\n[calls]\nring-timeout = " + std::to_string(kRingTimeoutSeconds) + "\n");
  }
  void SetUp() override {
    a_ = AddUser("caller");
    b_ = AddUser("callee");
    c_ = AddUser("third");
  }
  // a calls b; returns the callId after b heard the invite.
  std::string Invite(Phone& a, Phone& b, json extra = json::object()) {
    extra["targetUserId"] = b.user.id;
    json r = Ok(a.Call("call.invite", extra));
    EXPECT_EQ(r["state"], "inviting");
    json inv = b.Wait("callInvite");
    EXPECT_EQ(inv["callId"], r["callId"]);
    EXPECT_EQ(inv["from"]["userId"], a.user.id);
    return r["callId"];
  }
  User a_, b_, c_;
};

TEST_F(CallsTest, InviteRingAgreeConnectHangUp) {
  Phone a(*daemon_, a_), b(*daemon_, b_), c(*daemon_, c_);
  for (Phone* p : {&a, &b, &c}) Ok(p->Call("call.register"));

  json r = Ok(a.Call("call.invite", {{"targetUserId", b_.id}, {"type", "audio"}}));
  std::string callId = r["callId"];
  int64_t roomId = r["roomId"];
  json inv = b.Wait("callInvite");
  EXPECT_EQ(inv["callId"], callId);
  EXPECT_EQ(inv["type"], "audio");
  EXPECT_EQ(inv["roomId"], roomId);
  EXPECT_EQ(inv["from"]["account"], a_.account);
  EXPECT_EQ(c.Count("callInvite"), 0u);

  // Steps of the other party, or of someone outside the call, are refused.
  EXPECT_EQ(ErrorCodeOf(a.Call("call.agree", {{"callId", callId}})), -32002);
  EXPECT_EQ(ErrorCodeOf(a.Call("call.ring", {{"callId", callId}})), -32002);
  EXPECT_EQ(ErrorCodeOf(b.Call("call.cancel", {{"callId", callId}})), -32002);
  EXPECT_EQ(ErrorCodeOf(c.Call("call.agree", {{"callId", callId}})), -32003);
  EXPECT_EQ(ErrorCodeOf(c.Call("call.cancel", {{"callId", callId}})), -32003);
  EXPECT_EQ(ErrorCodeOf(b.Call("call.connected", {{"callId", callId}})), -32004);  // not agreed yet
  EXPECT_EQ(ErrorCodeOf(b.Call("call.hangup", {{"callId", callId}})), -32004);
  EXPECT_EQ(ErrorCodeOf(c.Call("call.event", {{"targetUserId", b_.id}, {"event", "hi"}})), -32002);

  Ok(b.Call("call.ring", {{"callId", callId}}));
  EXPECT_EQ(a.Wait("callRinging")["userId"], b_.id);
  json agreed = Ok(b.Call("call.agree", {{"callId", callId}}));
  EXPECT_EQ(agreed["roomId"], roomId);
  json n = a.Wait("callAgreed");
  EXPECT_EQ(n["callId"], callId);
  EXPECT_EQ(n["roomId"], roomId);
  EXPECT_EQ(ErrorCodeOf(b.Call("call.agree", {{"callId", callId}})), -32004);
  EXPECT_EQ(ErrorCodeOf(b.Call("call.reject", {{"callId", callId}})), -32004);

  // Both may enter the call's private room; a third user may not.
  EXPECT_EQ(ErrorCodeOf(a.Call("conference.join", {{"roomId", roomId}})), 0);
  EXPECT_EQ(ErrorCodeOf(b.Call("conference.join", {{"roomId", roomId}})), 0);
  EXPECT_EQ(ErrorCodeOf(c.Call("conference.join", {{"roomId", roomId}})), -32002);

  Ok(b.Call("call.connected", {{"callId", callId}}));
  EXPECT_EQ(a.Wait("callConnected")["userId"], b_.id);
  Ok(a.Call("call.event", {{"targetUserId", b_.id}, {"event", "mute"}, {"data", {{"audio", false}}}}));
  json ev = b.Wait("callEvent");
  EXPECT_EQ(ev["event"], "mute");
  EXPECT_EQ(ev["userId"], a_.id);
  EXPECT_EQ(ev["data"]["audio"], false);
  EXPECT_EQ(ErrorCodeOf(a.Call("call.event", {{"targetUserId", c_.id}, {"event", "x"}})), -32002);
  EXPECT_EQ(ErrorCodeOf(a.Call("call.event", {{"targetUserId", b_.id}, {"event", ""}})), -32602);

  // While b is in the call and the meeting, a third caller hears busy at once.
  json busy = Ok(c.Call("call.invite", {{"targetUserId", b_.id}}));
  EXPECT_EQ(busy["state"], "busy");
  EXPECT_EQ(c.Wait("callBusy")["callId"], busy["callId"]);
  EXPECT_EQ(b.Count("callInvite"), 0u);

  Ok(a.Call("conference.leave"));
  Ok(b.Call("conference.leave"));
  Ok(a.Call("call.hangup", {{"callId", callId}}));
  json ended = b.Wait("callEnded");
  EXPECT_EQ(ended["reason"], "hangup");
  EXPECT_EQ(ErrorCodeOf(b.Call("call.hangup", {{"callId", callId}})), -32003);
  // The room made for the call goes with it, once its conference has ended (within a second).
  EXPECT_TRUE(RunUntil([&] { return ErrorCodeOf(AdminCall("room.get", {{"roomId", roomId}})) == -32003; }, 5000));
}

TEST_F(CallsTest, UnansweredCallTimesOutForBothSides) {
  Phone a(*daemon_, a_), b(*daemon_, b_);
  Ok(b.Call("call.register"));
  std::string callId = Invite(a, b);
  Ok(b.Call("call.ring", {{"callId", callId}}));
  a.Wait("callRinging");
  int64_t start = g_get_monotonic_time();
  EXPECT_EQ(a.Wait("callTimeout", 30000)["callId"], callId);
  EXPECT_EQ(b.Wait("callTimeout", 30000)["callId"], callId);
  EXPECT_GE(g_get_monotonic_time() - start, (kRingTimeoutSeconds - 1) * G_USEC_PER_SEC);
  // The call is gone: late answers are refused, and both may call again.
  EXPECT_EQ(ErrorCodeOf(b.Call("call.agree", {{"callId", callId}})), -32003);
  std::string again = Invite(b, a);
  Ok(b.Call("call.cancel", {{"callId", again}}));
  EXPECT_EQ(a.Wait("callCancelled")["callId"], again);
}

TEST_F(CallsTest, RejectCancelBusyAndClosedSocket) {
  Phone a(*daemon_, a_), b(*daemon_, b_);
  Ok(b.Call("call.register"));

  std::string id = Invite(a, b);
  Ok(b.Call("call.reject", {{"callId", id}}));
  EXPECT_EQ(a.Wait("callRejected")["callId"], id);

  id = Invite(a, b);
  Ok(b.Call("call.busy", {{"callId", id}}));
  json busy = a.Wait("callBusy");
  EXPECT_EQ(busy["callId"], id);
  EXPECT_EQ(busy["reason"], "busy");

  id = Invite(a, b, {{"type", "video"}});
  EXPECT_EQ(ErrorCodeOf(a.Call("call.invite", {{"targetUserId", c_.id}})), -32004);  // one call at a time
  Ok(a.Call("call.cancel", {{"callId", id}}));
  EXPECT_EQ(b.Wait("callCancelled")["callId"], id);
  EXPECT_EQ(ErrorCodeOf(a.Call("call.cancel", {{"callId", id}})), -32003);

  // The callee's only connection closes while it rings.
  {
    Phone b2(*daemon_, b_);
    Ok(b2.Call("call.register"));
    b.ws.Close();
    id = Invite(a, b2);
    b2.ws.Close();
  }
  json ended = a.Wait("callEnded");
  EXPECT_EQ(ended["callId"], id);
  EXPECT_EQ(ended["reason"], "disconnected");
  EXPECT_EQ(ErrorCodeOf(a.Call("call.invite", {{"targetUserId", b_.id}})), -32014);  // nobody left to ring
}

TEST_F(CallsTest, InviteIntoAGivenRoomAndRefusals) {
  Phone a(*daemon_, a_), b(*daemon_, b_);
  Ok(b.Call("call.register"));
  int64_t mine = Ok(Call("room.create", {{"name", Unique("mine")}}, a_.token))["roomId"];
  int64_t theirs = Ok(Call("room.create", {{"name", Unique("theirs")}}, c_.token))["roomId"];

  EXPECT_EQ(ErrorCodeOf(a.Call("call.invite", {{"targetUserId", b_.id}, {"roomId", theirs}})), -32002);
  EXPECT_EQ(ErrorCodeOf(a.Call("call.invite", {{"targetUserId", b_.id}, {"roomId", 999999}})), -32003);
  EXPECT_EQ(ErrorCodeOf(a.Call("call.invite", {{"targetUserId", a_.id}})), -32602);
  EXPECT_EQ(ErrorCodeOf(a.Call("call.invite", {{"targetUserId", 999999}})), -32003);
  EXPECT_EQ(ErrorCodeOf(a.Call("call.invite", {{"targetUserId", b_.id}, {"type", "fax"}})), -32602);
  EXPECT_EQ(ErrorCodeOf(a.Call("call.invite", {{"targetUserId", c_.id}})), -32014);  // not registered
  EXPECT_EQ(ErrorCodeOf(Call("call.invite", {{"targetUserId", b_.id}}, a_.token)), -32600);
  WsClient anonymous(daemon_->wsUrl());
  EXPECT_EQ(ErrorCodeOf(anonymous.Call("call.register")), -32001);
  // Users of another organisation cannot be called (administrators can).
  int64_t org = Ok(AdminCall("org.create", {{"name", Unique("org")}}))["orgId"];
  User stranger = AddUser("stranger", {{"orgId", org}});
  Phone s(*daemon_, stranger);
  Ok(s.Call("call.register"));
  EXPECT_EQ(ErrorCodeOf(a.Call("call.invite", {{"targetUserId", stranger.id}})), -32002);

  std::string id = Invite(a, b, {{"roomId", mine}});
  Ok(b.Call("call.agree", {{"callId", id}}));
  EXPECT_EQ(a.Wait("callAgreed")["roomId"], mine);
  EXPECT_EQ(ErrorCodeOf(b.Call("conference.join", {{"roomId", mine}})), 0);  // made a member
  Ok(b.Call("conference.leave"));
  Ok(b.Call("call.hangup", {{"callId", id}}));
  EXPECT_EQ(a.Wait("callEnded")["reason"], "hangup");
  EXPECT_EQ(ErrorCodeOf(Call("room.get", {{"roomId", mine}}, a_.token)), 0);  // a given room stays
}

}  // namespace
}  // namespace atrium::test
