// Fuzz target: one JSON-RPC message (single request or batch) through the real Dispatcher
// with every method registered, backed by an in-memory SQLite store, as an HTTP session.
// The first input byte picks the caller: 0 anonymous, 1 an administrator's token, 2 a
// plain user's token, 3 a token without any grant. Every reply must be a JSON-RPC
// response (or nothing, for notifications only).
#include "tests/fuzz/FuzzTarget.hpp"

#include "auth/AppSigner.hpp"
#include "auth/Passwords.hpp"
#include "auth/TokenService.hpp"
#include "core/Config.hpp"
#include "rooms/ConferenceRegistry.hpp"
#include "rpc/Dispatcher.hpp"
#include "rpc/Metrics.hpp"
#include "rpc/Services.hpp"
#include "store/Database.hpp"
#include "store/Users.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <memory>
#include <string>

using namespace atrium;
using nlohmann::json;

namespace {

struct World {
  Config config;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<auth::TokenService> tokens;
  std::unique_ptr<auth::AppSigner> signer;
  rooms::ConferenceRegistry conferences;
  rooms::Calls calls;
  rpc::Metrics metrics;
  std::unique_ptr<rpc::Dispatcher> dispatcher;
  std::unique_ptr<rpc::Services> services;
  std::string callerTokens[4];
};

World* world = nullptr;

int64_t AddUser(World& w, const std::string& account, bool admin, const std::string& hash) {
  store::User u;
  u.account = account;
  u.name = account;
  u.admin = admin;
  u.passwordHash = hash;
  return store::Users(*w.db).Create(u);
}

void Check(const std::string& reply) {
  if (reply.empty()) return;
  json r = json::parse(reply);  // throws (and so aborts) on a reply that is not JSON
  auto one = [](const json& x) {
    if (!x.is_object() || x.value("jsonrpc", "") != "2.0" || !x.contains("id") ||
        (x.contains("result") == x.contains("error")))
      abort();
  };
  if (r.is_array()) {
    if (r.empty()) abort();
    for (const auto& x : r) one(x);
  } else {
    one(r);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::InitCommon();
  world = new World;
  World& w = *world;
  w.db = std::make_unique<store::Database>(":memory:");
  w.tokens = std::make_unique<auth::TokenService>(std::string(64, 's'), 3600);
  w.signer = std::make_unique<auth::AppSigner>("app-signature:fuzz");
  std::string hash = auth::HashPassword("fuzz-password");
  int64_t admin = AddUser(w, "admin", true, hash);
  int64_t user = AddUser(w, "ada", false, hash);
  w.callerTokens[1] = w.tokens->Issue(admin, "admin", auth::Grants::ForUser(true));
  w.callerTokens[2] = w.tokens->Issue(user, "ada", auth::Grants::ForUser(false));
  w.callerTokens[3] = w.tokens->Issue(user, "ada", auth::Grants{});
  rpc::Dispatcher::Limits limits;
  limits.maxMessageBytes = 64 * 1024;
  w.dispatcher = std::make_unique<rpc::Dispatcher>(limits, w.metrics);
  w.services = std::make_unique<rpc::Services>(
      rpc::Services{w.config, *w.db, *w.tokens, *w.signer, w.conferences, w.calls, w.metrics, store::Now(), [] { return size_t(1); }});
  rpc::RegisterAll(*w.dispatcher, *w.services);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  World& w = *world;
  auto session = std::make_shared<rpc::Session>(rpc::Session::Kind::Http, "127.0.0.1:1");
  const std::string& token = w.callerTokens[data[0] % 4];
  if (!token.empty()) session->bearer = token;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  bool answered = false;
  w.dispatcher->Handle(text, session, nullptr, [&answered](std::string reply) {
    Check(reply);
    answered = true;
  });
  // Over HTTP every method answers before Handle() returns, or from the main loop.
  for (int i = 0; i < 100 && !answered && g_main_context_iteration(nullptr, FALSE); ++i) {
  }
  if (!answered) abort();
  return 0;
}
