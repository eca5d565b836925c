#include "rpc/Dispatcher.hpp"

#include "core/Log.hpp"
#include "rpc/Metrics.hpp"

#include <glib.h>

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

using nlohmann::json;

void Call::RequireAdmin() const {
  if (!session.identity || !session.identity->grants.admin)
    throw AppError(ErrorCode::Forbidden, "administrator rights required");
}

int JsonDepth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

Responder::Responder(json id, std::string method, Metrics& metrics, Done done)
    : id_(std::move(id)), method_(std::move(method)), metrics_(metrics), done_(std::move(done)) {}

Responder::~Responder() {
  if (done_) Reject(AppError(ErrorCode::Internal, "the request was dropped without an answer"));
}

void Responder::Resolve(json result) {
  if (!done_) return;
  metrics_.CountRequest(method_, "ok");
  auto done = std::move(done_);
  done_ = nullptr;
  done(id_.is_discarded() ? json() : json{{"jsonrpc", "2.0"}, {"id", id_}, {"result", std::move(result)}});
}

void Responder::Reject(const std::exception& e) {
  if (!done_) return;
  json reply = Dispatcher::ErrorReplyFor(id_, e);
  metrics_.CountRequest(method_, ErrorCodeName(ErrorCode(reply["error"]["code"].get<int>())));
  auto done = std::move(done_);
  done_ = nullptr;
  done(id_.is_discarded() ? json() : std::move(reply));
}

Dispatcher::Dispatcher(Limits limits, Metrics& metrics) : limits_(limits), metrics_(metrics) {}

void Dispatcher::Add(const std::string& method, Access access, Handler handler) {
  methods_[method] = Entry{access, std::move(handler), nullptr};
}

void Dispatcher::AddAsync(const std::string& method, Access access, AsyncHandler handler) {
  methods_[method] = Entry{access, nullptr, std::move(handler)};
}

void Dispatcher::SetAuthenticator(Authenticator authn, IdentityCheck check) {
  authn_ = std::move(authn);
  check_ = std::move(check);
}

json Dispatcher::ErrorReply(const json& id, int code, const std::string& message, const json& data) {
  json err = {{"code", code}, {"message", message}};
  if (!data.is_null()) err["data"] = data;
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(err)}};
}

json Dispatcher::ErrorReplyFor(const json& id, const std::exception& e) {
  if (const auto* app = dynamic_cast<const AppError*>(&e)) return ErrorReply(id, int(app->code()), app->what(), app->data());
  if (dynamic_cast<const json::exception*>(&e)) return ErrorReply(id, int(ErrorCode::InvalidParams), e.what());
  GST_ERROR("internal error [what:%s]", e.what());
  return ErrorReply(id, int(ErrorCode::Internal), "internal error");
}

std::string Dispatcher::Serialize(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void Dispatcher::Authenticate(Session& session) {
  if (!session.identity && session.bearer) {
    if (!authn_) throw AppError(ErrorCode::Unauthenticated, "authentication is not available");
    session.identity = authn_(*session.bearer);
  }
  if (!session.identity)
    throw AppError(ErrorCode::Unauthenticated, "authentication required: call auth.login or send a Bearer token",
                   {{"reason", "missing"}});
  if (session.identity->expiresAt <= g_get_real_time() / G_USEC_PER_SEC) {
    session.identity.reset();
    throw AppError(ErrorCode::Unauthenticated, "token expired", {{"reason", "expired"}});
  }
  if (check_) {
    try {
      check_(*session.identity);
    } catch (...) {
      session.identity.reset();
      throw;
    }
  }
}

void Dispatcher::HandleOne(const json& request, const std::shared_ptr<Session>& session, RateLimiter* limiter,
                           std::function<void(json)> reply) {
  // A valid id is a string, a number or null; anything else makes the request invalid
  // and is answered with a null id, as the specification says.
  json id = nullptr;
  bool isNotification = true;
  bool idValid = true;
  if (request.is_object()) {
    auto it = request.find("id");
    if (it != request.end()) {
      isNotification = false;
      idValid = it->is_string() || it->is_number() || it->is_null();
      if (idValid) id = *it;
    }
  }
  auto invalid = [&](const char* why) {
    metrics_.CountRequest("invalid", "invalidRequest");
    reply(ErrorReply(id, int(ErrorCode::InvalidRequest), std::string("invalid request: ") + why));
  };
  if (!request.is_object()) return invalid("not an object");
  if (!idValid) return invalid("id must be a string, a number or null");
  auto ver = request.find("jsonrpc");
  if (ver == request.end() || *ver != "2.0") return invalid("jsonrpc must be \"2.0\"");
  auto m = request.find("method");
  if (m == request.end() || !m->is_string()) return invalid("method must be a string");
  const std::string& method = m->get_ref<const std::string&>();
  auto p = request.find("params");
  static const json kNoParams = nullptr;
  const json& params = p == request.end() ? kNoParams : *p;
  if (!params.is_null() && !params.is_object() && !params.is_array())
    return invalid("params must be an object or an array");

  auto entry = methods_.find(method);
  const std::string& metricName = entry == methods_.end() ? std::string("unknown") : method;
  json replyId = isNotification ? json(json::value_t::discarded) : id;
  auto responder = std::make_shared<Responder>(replyId, metricName, metrics_, [reply](json r) {
    reply(r.is_discarded() ? json() : std::move(r));
  });

  try {
    if (entry == methods_.end())
      throw AppError(ErrorCode::MethodNotFound, "method not found", {{"method", method}});
    if (entry->second.access == Access::User) Authenticate(*session);
    Call call{*session, session, method, Params(params)};
    if (entry->second.handler) {
      responder->Resolve(entry->second.handler(call));
    } else {
      entry->second.asyncHandler(call, responder);
    }
  } catch (const std::exception& e) {
    GST_DEBUG("request failed [method:%s what:%s]", method.c_str(), e.what());
    responder->Reject(e);
  }
}

namespace {

// Collects the replies of a batch, which may complete out of order.
struct BatchState {
  std::vector<json> replies;
  size_t pending = 0;
  std::function<void(std::string)> done;

  void Finish() {
    json out = json::array();
    for (auto& r : replies)
      if (!r.is_null()) out.push_back(std::move(r));
    done(out.empty() ? std::string() : Dispatcher::Serialize(out));
  }
};

}  // namespace

void Dispatcher::Handle(std::string_view text, const std::shared_ptr<Session>& session, RateLimiter* limiter,
                        std::function<void(std::string)> done) {
  // Every message costs a token, junk included; a batch costs one per request (below).
  if (limiter && !limiter->Take()) {
    metrics_.CountRequest("invalid", "rateLimited");
    return done(Serialize(ErrorReply(nullptr, int(ErrorCode::RateLimited),
                                     "too many requests on this connection, slow down")));
  }
  if (text.size() > limits_.maxMessageBytes) {
    metrics_.CountRequest("invalid", "tooLarge");
    return done(Serialize(ErrorReply(nullptr, int(ErrorCode::TooLarge), "message too large",
                                     {{"limit", limits_.maxMessageBytes}, {"size", text.size()}})));
  }
  if (JsonDepth(text, limits_.maxDepth) > limits_.maxDepth) {
    metrics_.CountRequest("invalid", "parseError");
    return done(Serialize(
        ErrorReply(nullptr, int(ErrorCode::ParseError), "JSON nested too deeply", {{"limit", limits_.maxDepth}})));
  }
  json request = json::parse(text, nullptr, false);
  if (request.is_discarded()) {
    metrics_.CountRequest("invalid", "parseError");
    return done(Serialize(ErrorReply(nullptr, int(ErrorCode::ParseError), "parse error: not valid JSON")));
  }

  if (!request.is_array()) {
    return HandleOne(request, session, limiter, [done](json r) { done(r.is_null() ? std::string() : Serialize(r)); });
  }
  if (request.empty()) {
    metrics_.CountRequest("invalid", "invalidRequest");
    return done(Serialize(ErrorReply(nullptr, int(ErrorCode::InvalidRequest), "invalid request: empty batch")));
  }
  if (request.size() > limits_.maxBatch) {
    metrics_.CountRequest("invalid", "tooLarge");
    return done(Serialize(ErrorReply(nullptr, int(ErrorCode::TooLarge), "batch too large",
                                     {{"limit", limits_.maxBatch}, {"size", request.size()}})));
  }
  if (limiter && !limiter->Take(double(request.size() - 1))) {
    metrics_.CountRequest("invalid", "rateLimited");
    return done(Serialize(ErrorReply(nullptr, int(ErrorCode::RateLimited),
                                     "too many requests on this connection, slow down", {{"batch", request.size()}})));
  }
  auto state = std::make_shared<BatchState>();
  state->replies.resize(request.size());
  state->pending = request.size();
  state->done = std::move(done);
  for (size_t i = 0; i < request.size(); ++i) {
    HandleOne(request[i], session, limiter, [state, i](json r) {
      state->replies[i] = std::move(r);
      if (--state->pending == 0) state->Finish();
    });
  }
}

}  // namespace atrium::rpc
