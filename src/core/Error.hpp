// The two exception types that carry a failure up to the JSON-RPC dispatcher, and the
// table of error codes. Only the dispatcher turns them into replies; exceptions never
// cross into GLib or GStreamer callbacks.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace atrium {

// JSON-RPC 2.0 codes, then Atrium's own range (-32000 .. -32099, "server error" in the
// specification). docs/protocol.md lists each with its meaning; keep both in step.
enum class ErrorCode : int {
  ParseError = -32700,
  InvalidRequest = -32600,
  MethodNotFound = -32601,
  InvalidParams = -32602,
  Internal = -32603,

  Unauthenticated = -32001,  // no token, bad/forged/expired/revoked token, not logged in
  Forbidden = -32002,        // authenticated but lacking the right or grant
  NotFound = -32003,         // unknown id (user, room, meeting, stream, ...)
  Conflict = -32004,         // already exists, or refused in the current state (e.g. live)
  WrongPassword = -32005,    // login or room password does not match
  RoomFull = -32006,         // numberLimit reached
  RateLimited = -32007,      // too many requests on this connection
  TooLarge = -32008,         // message, batch or field over its limit
  Unavailable = -32009,      // the server cannot do this now (shutting down, resource exhausted)
  NotJoined = -32010,        // media.* or conference.* before conference.join on this connection
  Unreachable = -32014,      // call.invite: the user has no connection registered for calls
};

std::string_view ErrorCodeName(ErrorCode code);

// A failure the caller can act on: a state error (not found, forbidden, conflict...).
class AppError : public std::runtime_error {
public:
  AppError(ErrorCode code, const std::string& message, nlohmann::json data = nullptr)
      : std::runtime_error(message), code_(code), data_(std::move(data)) {}
  ErrorCode code() const { return code_; }
  const nlohmann::json& data() const { return data_; }

private:
  ErrorCode code_;
  nlohmann::json data_;
};

// Bad input: a parameter is missing, of the wrong type or out of range.
class InvalidParams : public AppError {
public:
  explicit InvalidParams(const std::string& message, nlohmann::json data = nullptr)
      : AppError(ErrorCode::InvalidParams, message, std::move(data)) {}
};

}  // namespace atrium
