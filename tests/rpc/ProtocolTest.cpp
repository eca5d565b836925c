// The JSON-RPC envelope under attack: every bad input is answered with the documented
// error over both HTTP and WebSocket, the server keeps answering, and the database is
// unchanged.
#include "tests/rpc/Harness.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace atrium::test {
namespace {

enum class Transport { Http, WebSocket };

struct BadInput {
  const char* name;
  std::string text;
  int code;
};

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string Request(const std::string& method, const json& params, json id = 1) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
}

std::vector<BadInput> BadInputs() {
  std::string batch = "[";
  for (int i = 0; i < 1000; ++i) batch += (i ? "," : "") + Request("server.ping", json::object(), i);
  batch += "]";
  std::string huge = Request("server.ping", {{"pad", std::string(10 << 20, 'x')}});
  return {
      {"InvalidJson", R"({"jsonrpc":"2.0","id":1,"method":)", -32700},
      {"TrailingGarbage", R"({"jsonrpc":"2.0","id":1,"method":"server.ping"} x)", -32700},
      {"Number", "42", -32600},
      {"String", R"("server.ping")", -32600},
      {"Null", "null", -32600},
      {"WrongVersion", R"({"jsonrpc":"1.0","id":1,"method":"server.ping"})", -32600},
      {"NoVersion", R"({"id":1,"method":"server.ping"})", -32600},
      {"NoMethod", R"({"jsonrpc":"2.0","id":1})", -32600},
      {"MethodNotString", R"({"jsonrpc":"2.0","id":1,"method":7})", -32600},
      {"IdObject", R"({"jsonrpc":"2.0","id":{"a":1},"method":"server.ping"})", -32600},
      {"IdArray", R"({"jsonrpc":"2.0","id":[1],"method":"server.ping"})", -32600},
      {"IdBool", R"({"jsonrpc":"2.0","id":true,"method":"server.ping"})", -32600},
      {"ParamsString", R"({"jsonrpc":"2.0","id":1,"method":"server.ping","params":"x"})", -32600},
      {"ParamsByPosition", R"({"jsonrpc":"2.0","id":1,"method":"room.hasPassword","params":[1]})", -32602},
      {"UnknownMethod", Request("no.such.method", json::object()), -32601},
      {"EmptyBatch", "[]", -32600},
      {"HugeMessage", huge, -32008},
      {"DeepNesting", Nested(100000), -32700},
      {"DeepParams", R"({"jsonrpc":"2.0","id":1,"method":"server.ping","params":{"a":)" + Nested(200) + "}}", -32700},
      {"BatchOf1000", batch, -32008},
      {"SqlInAccount", Request("auth.login", {{"account", "admin' OR '1'='1"}, {"password", "x' OR 1=1 --"}}), -32005},
      {"NulInPassword", Request("auth.login", {{"account", "admin"}, {"password", std::string("admin-secret-1\0x", 16)}}), -32005},
      {"QuotesInAccount", Request("auth.login", {{"account", "\"\\\"'`"}, {"password", "\"\""}}), -32005},
      {"SqlAsRoomId", Request("room.hasPassword", {{"roomId", "1; DROP TABLE rooms"}}), -32602},
      {"NegativeRoomId", Request("room.hasPassword", {{"roomId", -1}}), -32602},
      {"FractionalRoomId", Request("room.hasPassword", {{"roomId", 1.5}}), -32602},
      {"HugeRoomId", R"({"jsonrpc":"2.0","id":1,"method":"room.hasPassword","params":{"roomId":1e300}})", -32602},
      {"UnknownRoom", Request("room.hasPassword", {{"roomId", 999999}}), -32003},
      {"NoToken", Request("room.list", json::object()), -32001},
      {"NulInMethod", std::string(R"({"jsonrpc":"2.0","id":1,"method":"server.ping\u0000x"})"), -32601},
  };
}

class ProtocolTest : public ::testing::TestWithParam<Transport> {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    daemon_ = new DaemonProcess(dir_->path());
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }

  // Sends raw text and returns the raw reply text ("" when none).
  std::string Exchange(const std::string& text, unsigned* httpStatus = nullptr) {
    if (GetParam() == Transport::Http) {
      HttpClient http(daemon_->url());
      auto r = http.PostRpc(text);
      if (httpStatus) *httpStatus = r.status;
      return r.body;
    }
    if (!ws_) ws_ = std::make_unique<WsClient>(daemon_->wsUrl());
    ws_->SendText(text);
    return ws_->NextReply(15000).value_or("");
  }

  void ExpectServerAlive() {
    json ping = json::parse(Exchange(Request("server.ping", json::object(), "alive")));
    ASSERT_EQ(ErrorCodeOf(ping), 0) << ping.dump();
    EXPECT_EQ(ResultOf(ping)["pong"], true);
    EXPECT_EQ(ping["id"], "alive");
  }

  std::string dbPath() const { return daemon_->dataDir() + "/atrium.db"; }

  static TempDir* dir_;
  static DaemonProcess* daemon_;
  std::unique_ptr<WsClient> ws_;
};

TempDir* ProtocolTest::dir_ = nullptr;
DaemonProcess* ProtocolTest::daemon_ = nullptr;

TEST_P(ProtocolTest, BadInputsGetTheirErrorAndChangeNothing) {
  const std::string before = DumpDatabase(dbPath());
  for (const auto& bad : BadInputs()) {
    SCOPED_TRACE(bad.name);
    unsigned status = 0;
    std::string text = Exchange(bad.text, &status);
    json reply = json::parse(text, nullptr, false);
    ASSERT_FALSE(reply.is_discarded()) << "reply is not JSON: " << text.substr(0, 200);
    ASSERT_TRUE(reply.is_object()) << text.substr(0, 200);
    EXPECT_EQ(reply["jsonrpc"], "2.0");
    EXPECT_EQ(ErrorCodeOf(reply), bad.code) << text.substr(0, 300);
    EXPECT_TRUE(reply["error"]["message"].is_string());
    if (GetParam() == Transport::Http) {
      EXPECT_EQ(status, bad.code == -32008 && bad.text.size() > (1 << 20) ? 413u : 200u);
    }
    ExpectServerAlive();
  }
  if (ws_) {
    EXPECT_TRUE(ws_->IsOpen());
  }
  EXPECT_EQ(DumpDatabase(dbPath()), before);
}

TEST_P(ProtocolTest, InvalidIdIsAnsweredWithNullId) {
  json reply = json::parse(Exchange(R"({"jsonrpc":"2.0","id":{"x":1},"method":"server.ping"})"));
  EXPECT_TRUE(reply["id"].is_null());
}

TEST_P(ProtocolTest, IdsOfEveryValidTypeComeBack) {
  for (json id : {json(7), json("seven"), json(nullptr), json(-1.5), json(std::string("q\"\\'"))}) {
    json reply = json::parse(Exchange(Request("server.ping", json::object(), id)));
    EXPECT_EQ(reply["id"], id);
    EXPECT_EQ(ResultOf(reply)["version"].is_string(), true);
  }
}

TEST_P(ProtocolTest, BatchAnswersEachRequestAndSkipsNotifications) {
  json batch = json::array({
      json::parse(Request("server.ping", json::object(), 1)),
      json{{"jsonrpc", "2.0"}, {"method", "server.ping"}},  // notification: no reply
      json::parse(Request("no.such", json::object(), 2)),
      42,
      json::parse(Request("room.list", json::object(), 3)),
  });
  json reply = json::parse(Exchange(batch.dump()));
  ASSERT_TRUE(reply.is_array()) << reply.dump();
  ASSERT_EQ(reply.size(), 4u);
  EXPECT_EQ(reply[0]["id"], 1);
  EXPECT_EQ(ErrorCodeOf(reply[0]), 0);
  EXPECT_EQ(ErrorCodeOf(reply[1]), -32601);
  EXPECT_EQ(ErrorCodeOf(reply[2]), -32600);
  EXPECT_TRUE(reply[2]["id"].is_null());
  EXPECT_EQ(ErrorCodeOf(reply[3]), -32001);
}

TEST_P(ProtocolTest, NotificationsOnlyGetNoReply) {
  std::string notes = R"([{"jsonrpc":"2.0","method":"server.ping"},{"jsonrpc":"2.0","method":"server.ping"}])";
  if (GetParam() == Transport::Http) {
    HttpClient http(daemon_->url());
    auto r = http.PostRpc(notes);
    EXPECT_EQ(r.status, 204u);
    EXPECT_TRUE(r.body.empty());
  } else {
    ws_ = std::make_unique<WsClient>(daemon_->wsUrl());
    ws_->SendText(notes);
    ws_->SendText(Request("server.ping", json::object(), "after"));
    json reply = json::parse(ws_->NextReply().value_or("{}"));
    EXPECT_EQ(reply["id"], "after");  // the first thing that came back
  }
  ExpectServerAlive();
}

INSTANTIATE_TEST_SUITE_P(Transports, ProtocolTest, ::testing::Values(Transport::Http, Transport::WebSocket),
                         [](const auto& info) { return info.param == Transport::Http ? "Http" : "WebSocket"; });

// A low rate limit: requests beyond the burst are refused with -32007, then the
// connection recovers.
TEST(RateLimit, ExcessRequestsAreRefusedAndTheConnectionRecovers) {
  TempDir dir;
  DaemonProcess daemon(dir.path(), "[limits]\nrequests-per-second = 20\nrequest-burst = 10\n");
  WsClient ws(daemon.wsUrl());
  int ok = 0;
  int limited = 0;
  for (int i = 0; i < 40; ++i) {
    ws.SendText(Request("server.ping", json::object(), i));
  }
  for (int i = 0; i < 40; ++i) {
    json r = json::parse(ws.NextReply().value_or("{}"));
    if (ErrorCodeOf(r) == 0) ++ok;
    if (ErrorCodeOf(r) == -32007) ++limited;
  }
  EXPECT_GE(ok, 10);
  EXPECT_GE(limited, 20);
  EXPECT_EQ(ok + limited, 40);
  RunUntil([] { return false; }, 600);  // refill
  EXPECT_EQ(ErrorCodeOf(ws.Call("server.ping")), 0);
  // Another connection has its own bucket.
  HttpClient http(daemon.url());
  EXPECT_EQ(ErrorCodeOf(http.Call("server.ping")), 0);
}

TEST(Limits, BinaryFramesAreRefused) {
  TempDir dir;
  DaemonProcess daemon(dir.path());
  WsClient ws(daemon.wsUrl());
  ws.SendBinary(Request("server.ping", json::object()));
  json reply = json::parse(ws.NextReply().value_or("{}"));
  EXPECT_EQ(ErrorCodeOf(reply), -32600);
  EXPECT_TRUE(ws.IsOpen());
  EXPECT_EQ(ErrorCodeOf(ws.Call("server.ping")), 0);
}

}  // namespace
}  // namespace atrium::test
