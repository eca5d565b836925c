// Plain HTTP endpoints beside /rpc (downloads, uploads, WHIP, ...): how a method family
// adds one, how it authenticates a request, and how it answers an error. Every route
// runs on the control thread, like the JSON-RPC methods.
#pragma once

#include "core/Error.hpp"
#include "rpc/Session.hpp"

#include <libsoup/soup.h>

#include <functional>
#include <optional>
#include <string>

namespace atrium::rpc {

struct Services;

// Handles one request below the route's prefix; `path` is the request path, still
// percent-encoded as the client sent it. A handler that throws gets ReplyHttpError().
using HttpRoute = std::function<void(SoupServerMessage* msg, const std::string& path)>;

// The token of an `Authorization: Bearer ...` header, if the request has one.
std::optional<std::string> BearerToken(SoupServerMessage* msg);

// Verifies the request's Bearer token as a JSON-RPC call would (signature, expiry,
// revocation, the user still exists). Throws AppError(Unauthenticated) when it is
// missing or bad.
Identity RequireBearer(Services& s, SoupServerMessage* msg);

// The HTTP status that goes with an error code: 400, 401, 403, 404, 409, 413, 429, 503 or 500.
int HttpStatusFor(ErrorCode code);

// Answers with HttpStatusFor(code) and a JSON body {"error": {code, message, data?}},
// the same error object a JSON-RPC reply would carry.
void ReplyHttpError(SoupServerMessage* msg, const std::exception& e);

}  // namespace atrium::rpc
