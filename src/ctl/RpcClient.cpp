#include "ctl/RpcClient.hpp"

#include "atrium-config.h"

namespace atrium::ctl {

namespace {
constexpr unsigned kTimeoutSeconds = 30;
}  // namespace

RpcClient::RpcClient(const std::string& server, std::string token)
    : endpoint_(server), token_(std::move(token)) {
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  if (!endpoint_.ends_with("/rpc")) endpoint_ += "/rpc";
  session_ = GRef<SoupSession>::adopt(soup_session_new_with_options("timeout", kTimeoutSeconds, "user-agent",
                                                                    "atriumctl/" ATRIUM_VERSION, nullptr));
}

nlohmann::json RpcClient::Call(const std::string& method, const nlohmann::json& params) {
  const int64_t id = nextId_++;
  nlohmann::json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) request["params"] = params;

  auto msg = GRef<SoupMessage>::adopt(soup_message_new(SOUP_METHOD_POST, endpoint_.c_str()));
  if (!msg) throw TransportError("invalid server URL '" + endpoint_ + "'");
  if (!token_.empty())
    soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "Authorization",
                                 ("Bearer " + token_).c_str());
  const std::string body = request.dump();
  CPtr<GBytes, g_bytes_unref> bytes(g_bytes_new(body.data(), body.size()));
  soup_message_set_request_body_from_bytes(msg.get(), "application/json", bytes.get());

  GError* rawErr = nullptr;
  CPtr<GBytes, g_bytes_unref> reply(soup_session_send_and_read(session_.get(), msg.get(), nullptr, &rawErr));
  GErrorPtr err(rawErr);
  if (err) throw TransportError("cannot reach " + endpoint_ + ": " + err->message);

  const unsigned status = soup_message_get_status(msg.get());
  gsize size = 0;
  const auto* data = static_cast<const char*>(g_bytes_get_data(reply.get(), &size));
  // A JSON-RPC error may come with a non-2xx status (e.g. 401); prefer it when it parses.
  nlohmann::json response = nlohmann::json::parse(data, data + size, nullptr, false);
  const bool isRpc = response.is_object() && (response.contains("result") || response.contains("error"));
  if (!isRpc) {
    if (status < 200 || status >= 300) {
      const char* reason = soup_message_get_reason_phrase(msg.get());
      throw TransportError(endpoint_ + ": HTTP " + std::to_string(status) + (reason ? " " : "") +
                           (reason ? reason : ""));
    }
    throw TransportError(endpoint_ + ": the reply is not a JSON-RPC response");
  }
  if (const auto e = response.find("error"); e != response.end() && !e->is_null()) {
    const int code = e->value("code", 0);
    const std::string message = e->contains("message") && (*e)["message"].is_string() ? (*e)["message"] : "";
    throw ServerError(code, message, e->value("data", nlohmann::json()));
  }
  return response["result"];
}

}  // namespace atrium::ctl
