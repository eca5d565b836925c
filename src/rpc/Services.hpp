// What the JSON-RPC methods work with, owned by the daemon and lent to the method
// tables at start-up. Each Register*Methods() adds one family of methods.
#pragma once

#include "auth/AppSigner.hpp"
#include "auth/TokenService.hpp"
#include "core/Config.hpp"
#include "rooms/Calls.hpp"
#include "rooms/ConferenceRegistry.hpp"
#include "rooms/RecordingManager.hpp"
#include "rpc/Dispatcher.hpp"
#include "rpc/HttpRoutes.hpp"
#include "rpc/Metrics.hpp"
#include "store/Database.hpp"

#include <functional>

namespace atrium::rpc {

struct Services {
  const Config& config;
  store::Database& db;
  auth::TokenService& tokens;
  auth::AppSigner& signer;
  rooms::ConferenceRegistry& conferences;
  rooms::Calls& calls;
  Metrics& metrics;
  int64_t startedAt = 0;
  std::function<size_t()> sessionCount;
  // Adds a plain HTTP endpoint (see HttpRoutes.hpp); set by the daemon before Register*.
  std::function<void(const std::string& prefix, HttpRoute route)> addRoute;
  rooms::RecordingManager* recordings = nullptr;
  const auth::AppSigner* urlSigner = nullptr;  // recording download URLs
  // Adds a handler that runs once a request's headers are in, before its body is read (an
  // upload checks its size and rights there, and streams the body); see Server::AddEarlyRoute.
  std::function<void(const std::string& prefix, HttpRoute route)> addEarlyRoute;
};

void RegisterServerMethods(Dispatcher& d, Services& s);
void RegisterAuthMethods(Dispatcher& d, Services& s);
void RegisterUserMethods(Dispatcher& d, Services& s);
void RegisterRoomMethods(Dispatcher& d, Services& s);
void RegisterMeetingMethods(Dispatcher& d, Services& s);
void RegisterConferenceMethods(Dispatcher& d, Services& s);
void RegisterHostMethods(Dispatcher& d, Services& s);
void RegisterRecordingMethods(Dispatcher& d, Services& s);
void RegisterChatMethods(Dispatcher& d, Services& s);
void RegisterFileMethods(Dispatcher& d, Services& s);
void RegisterCallMethods(Dispatcher& d, Services& s);
void RegisterTranscriptMethods(Dispatcher& d, Services& s);
// POST /whip/{roomId} and /whep/{roomId}/{streamId} with their session resources
// (WhipRoutes.cpp); nothing without an HTTP server.
void RegisterWhipRoutes(Services& s);

// Every method family, and the authenticator that turns tokens into identities.
void RegisterAll(Dispatcher& d, Services& s);

}  // namespace atrium::rpc
