// atriumd's parts wired together: store, tokens, conference registry, dispatcher and
// HTTP server. Tests start one in-process on an ephemeral port; main() runs one until
// SIGTERM.
#pragma once

#include "auth/AppSigner.hpp"
#include "auth/TokenService.hpp"
#include "core/Config.hpp"
#include "rooms/Calls.hpp"
#include "rooms/ConferenceRegistry.hpp"
#include "rooms/RecordingManager.hpp"
#include "rooms/TranscriptArchive.hpp"
#include "rpc/Dispatcher.hpp"
#include "rpc/Metrics.hpp"
#include "rpc/Server.hpp"
#include "rpc/Services.hpp"
#include "store/Database.hpp"

#include <memory>
#include <optional>

namespace atrium {

class Daemon {
public:
  // Creates the data directory and database, the first administrator when there is
  // none (password from ATRIUM_ADMIN_PASSWORD, else generated and returned by
  // generatedAdminPassword()), and starts listening. Throws AppError or ConfigError.
  explicit Daemon(Config config);
  ~Daemon();

  const Config& config() const { return config_; }
  rpc::Server& server() { return *server_; }
  store::Database& db() { return *db_; }
  rooms::ConferenceRegistry& conferences() { return conferences_; }
  const std::optional<std::string>& generatedAdminPassword() const { return generatedAdminPassword_; }

private:
  void CreateFirstAdmin();

  Config config_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<auth::TokenService> tokens_;
  std::unique_ptr<auth::AppSigner> signer_;
  std::unique_ptr<auth::AppSigner> urlSigner_;             // signed recording download URLs
  std::unique_ptr<rooms::RecordingManager> recordings_;    // outlives the conferences it records
  std::unique_ptr<rooms::TranscriptArchive> transcripts_;  // outlives the conferences it keeps
  rooms::ConferenceRegistry conferences_;
  rooms::Calls calls_;
  rpc::Metrics metrics_;
  std::unique_ptr<rpc::Dispatcher> dispatcher_;
  std::unique_ptr<rpc::Services> services_;
  std::unique_ptr<rpc::Server> server_;
  std::optional<std::string> generatedAdminPassword_;
};

}  // namespace atrium
