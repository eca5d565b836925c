#include "core/Error.hpp"

namespace atrium {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::ParseError: return "parseError";
    case ErrorCode::InvalidRequest: return "invalidRequest";
    case ErrorCode::MethodNotFound: return "methodNotFound";
    case ErrorCode::InvalidParams: return "invalidParams";
    case ErrorCode::Internal: return "internal";
    case ErrorCode::Unauthenticated: return "unauthenticated";
    case ErrorCode::Forbidden: return "forbidden";
    case ErrorCode::NotFound: return "notFound";
    case ErrorCode::Conflict: return "conflict";
    case ErrorCode::WrongPassword: return "wrongPassword";
    case ErrorCode::RoomFull: return "roomFull";
    case ErrorCode::RateLimited: return "rateLimited";
    case ErrorCode::TooLarge: return "tooLarge";
    case ErrorCode::Unavailable: return "unavailable";
    case ErrorCode::NotJoined: return "notJoined";
    case ErrorCode::Unreachable: return "unreachable";
  }
  return "unknown";
}

}  // namespace atrium
