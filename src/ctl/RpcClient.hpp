// A blocking JSON-RPC 2.0 client over HTTP POST for atriumctl: one request, one reply,
// on libsoup's synchronous API. The caller owns it; it holds one SoupSession.
#pragma once

#include <libsoup/soup.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "core/GRef.hpp"

namespace atrium::ctl {

class RpcClient {
 public:
  // The server answered with a JSON-RPC error object.
  class ServerError : public std::runtime_error {
   public:
    ServerError(int code, const std::string& message, nlohmann::json data)
        : std::runtime_error(message), code_(code), data_(std::move(data)) {}
    int code() const { return code_; }
    const nlohmann::json& data() const { return data_; }

   private:
    int code_;
    nlohmann::json data_;
  };

  // No usable reply: connection refused, timeout, HTTP error, not JSON-RPC.
  class TransportError : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
  };

  // `server` is the base URL (http://host:port); "/rpc" is appended unless it is there.
  RpcClient(const std::string& server, std::string token);

  // Sends one request and returns its "result". Throws ServerError or TransportError.
  nlohmann::json Call(const std::string& method, const nlohmann::json& params = nullptr);

  // GETs `path` (e.g. "/recordings/7/file") from the server into `outFile`, streaming,
  // calling `progress(bytesSoFar, totalOrZero)` as it goes. An error reply throws
  // ServerError (its JSON error object) or TransportError; a partial file is removed.
  void Download(const std::string& path, const std::string& outFile,
                const std::function<void(uint64_t done, uint64_t total)>& progress);

  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string endpoint_;
  std::string token_;
  GRef<SoupSession> session_;
  int64_t nextId_ = 1;
};

}  // namespace atrium::ctl
