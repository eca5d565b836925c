#include "rpc/HttpRoutes.hpp"

#include "core/Log.hpp"
#include "rpc/Dispatcher.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/Views.hpp"

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

std::optional<std::string> BearerToken(SoupServerMessage* msg) {
  SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
  const char* authz = soup_message_headers_get_one(headers, "Authorization");
  if (!authz || g_ascii_strncasecmp(authz, "Bearer ", 7) != 0) return std::nullopt;
  std::string token(authz + 7);
  while (!token.empty() && token.front() == ' ') token.erase(0, 1);
  if (token.empty()) return std::nullopt;
  return token;
}

Identity RequireBearer(Services& s, SoupServerMessage* msg) {
  auto token = BearerToken(msg);
  if (!token)
    throw AppError(ErrorCode::Unauthenticated, "authentication required: send an Authorization: Bearer token",
                   {{"reason", "missing"}});
  auto claims = s.tokens.Verify(*token);
  Identity id{claims.userId, claims.account, claims.jti, claims.expiresAt, claims.grants, claims.grants.admin};
  views::CheckIdentity(s, id);
  return id;
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::ParseError:
    case ErrorCode::InvalidRequest:
    case ErrorCode::InvalidParams: return 400;
    case ErrorCode::Unauthenticated:
    case ErrorCode::WrongPassword: return 401;
    case ErrorCode::Forbidden: return 403;
    case ErrorCode::NotFound:
    case ErrorCode::MethodNotFound: return 404;
    case ErrorCode::Conflict:
    case ErrorCode::RoomFull: return 409;
    case ErrorCode::TooLarge: return 413;
    case ErrorCode::RateLimited: return 429;
    case ErrorCode::Unavailable: return 503;
    default: return 500;
  }
}

void ReplyHttpError(SoupServerMessage* msg, const std::exception& e) {
  nlohmann::json reply = Dispatcher::ErrorReplyFor(nullptr, e);
  int code = reply["error"]["code"].get<int>();
  int status = HttpStatusFor(ErrorCode(code));
  if (status == 401)
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                                 "Bearer realm=\"atrium\"");
  std::string body = Dispatcher::Serialize({{"error", reply["error"]}}) + "\n";
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(), body.size());
  soup_server_message_set_status(msg, guint(status), nullptr);
}

}  // namespace atrium::rpc
