#include "ctl/RpcClient.hpp"

#include "atrium-config.h"

#include <glib/gstdio.h>

#include <cstdio>

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

void RpcClient::Download(const std::string& path, const std::string& outFile,
                         const std::function<void(uint64_t, uint64_t)>& progress) {
  std::string url = endpoint_.substr(0, endpoint_.size() - 4) + path;
  auto msg = GRef<SoupMessage>::adopt(soup_message_new(SOUP_METHOD_GET, url.c_str()));
  if (!msg) throw TransportError("invalid URL '" + url + "'");
  if (!token_.empty())
    soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "Authorization",
                                 ("Bearer " + token_).c_str());
  GError* rawErr = nullptr;
  GRef<GInputStream> in = GRef<GInputStream>::adopt(soup_session_send(session_.get(), msg.get(), nullptr, &rawErr));
  GErrorPtr err(rawErr);
  if (err) throw TransportError("cannot reach " + url + ": " + err->message);
  const unsigned status = soup_message_get_status(msg.get());
  if (status != 200) {
    std::string body;
    char buf[4096];
    gssize n;
    while (body.size() < 65536 && (n = g_input_stream_read(in.get(), buf, sizeof buf, nullptr, nullptr)) > 0)
      body.append(buf, size_t(n));
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object())
      throw ServerError(j["error"].value("code", 0), j["error"].value("message", ""), j["error"].value("data", nlohmann::json()));
    throw TransportError(url + ": HTTP " + std::to_string(status));
  }
  uint64_t total = uint64_t(soup_message_headers_get_content_length(soup_message_get_response_headers(msg.get())));
  FILE* out = g_fopen(outFile.c_str(), "wb");
  if (!out) throw TransportError("cannot write " + outFile + ": " + g_strerror(errno));
  uint64_t done = 0;
  std::vector<char> buf(256 * 1024);
  for (;;) {
    GError* readErr = nullptr;
    gssize n = g_input_stream_read(in.get(), buf.data(), buf.size(), nullptr, &readErr);
    if (n < 0 || fwrite(buf.data(), 1, size_t(n), out) != size_t(n)) {
      std::string why = readErr ? readErr->message : g_strerror(errno);
      g_clear_error(&readErr);
      fclose(out);
      g_unlink(outFile.c_str());
      throw TransportError("download of " + url + " failed: " + why);
    }
    if (n == 0) break;
    done += uint64_t(n);
    if (progress) progress(done, total);
  }
  if (fclose(out) != 0 || (total && done != total)) {
    g_unlink(outFile.c_str());
    throw TransportError("download of " + url + " was cut short");
  }
}

}  // namespace atrium::ctl
