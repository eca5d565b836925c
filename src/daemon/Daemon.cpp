#include "daemon/Daemon.hpp"

#include "auth/Passwords.hpp"
#include "core/Error.hpp"
#include "core/Log.hpp"
#include "store/Users.hpp"

#include <glib/gstdio.h>

#include <cerrno>
#include <cstring>

#define GST_CAT_DEFAULT atrium_core_debug

namespace atrium {

Daemon::Daemon(Config config) : config_(std::move(config)) {
  config_.Validate();
  if (g_mkdir_with_parents(config_.dataDir.c_str(), 0700) != 0)
    throw AppError(ErrorCode::Internal, "cannot create data directory " + config_.dataDir + ": " + std::strerror(errno));
  db_ = std::make_unique<store::Database>(config_.dataDir + "/atrium.db");
  std::string secret =
      config_.jwtSecret.empty() ? auth::TokenService::LoadOrCreateSecret(config_.dataDir) : config_.jwtSecret;
  tokens_ = std::make_unique<auth::TokenService>(secret, config_.tokenLifetimeSeconds);
  signer_ = std::make_unique<auth::AppSigner>("app-signature:" + secret);
  urlSigner_ = std::make_unique<auth::AppSigner>("recording-url:" + secret);
  CreateFirstAdmin();
  recordings_ = std::make_unique<rooms::RecordingManager>(*db_, conferences_, config_.dataDir,
                                                          media::DefaultPipelinesDir());
  recordings_->RepairInterrupted();
  conferences_.SetStreamObserver(recordings_.get());
  transcripts_ = std::make_unique<rooms::TranscriptArchive>(*db_);
  conferences_.SetTranscriptObserver(transcripts_.get());

  media::IceConfig ice;
  ice.addresses = config_.iceAddresses.empty() ? media::DefaultIceAddresses() : config_.iceAddresses;
  ice.portMin = config_.icePortMin;
  ice.portMax = config_.icePortMax;
  ice.stunServer = config_.stunServer;
  ice.turnServer = config_.turnServer;
  ice.publicAddress = config_.publicAddress;
  conferences_.SetIce(ice);
  conferences_.SetLinkThresholds(
      {int(config_.statsInterval), int(config_.slowLinkLoss), int(config_.slowLinkRtt)});
  calls_.SetRingTimeout(config_.callRingTimeoutSeconds);

  rpc::Dispatcher::Limits limits;
  limits.maxMessageBytes = size_t(config_.maxMessageBytes);
  limits.maxBatch = size_t(config_.maxBatch);
  limits.maxDepth = int(config_.maxJsonDepth);
  dispatcher_ = std::make_unique<rpc::Dispatcher>(limits, metrics_);
  server_ = std::make_unique<rpc::Server>(config_, *dispatcher_, metrics_);
  services_ = std::make_unique<rpc::Services>(config_, *db_, *tokens_, *signer_, conferences_, calls_, metrics_, store::Now(),
                                              nullptr);
  services_->sessionCount = [this] { return server_->sessionCount(); };
  services_->recordings = recordings_.get();
  services_->urlSigner = urlSigner_.get();
  services_->addRoute = [this](const std::string& prefix, rpc::HttpRoute route) {
    server_->AddRoute(prefix, std::move(route));
  };
  services_->addEarlyRoute = [this](const std::string& prefix, rpc::HttpRoute route) {
    server_->AddEarlyRoute(prefix, std::move(route));
  };
  // A closed connection leaves its conference (its peers close and the room hears it) and
  // stops being reachable for calls.
  server_->OnSessionClosed([this](rpc::Session& session) {
    conferences_.LeaveSession(session.id());
    calls_.SessionClosed(session.id());
  });
  rpc::RegisterAll(*dispatcher_, *services_);

  metrics_.AddGauge("atrium_rooms_live", "Rooms with a live conference.",
                    [this] { return double(conferences_.RoomCount()); });
  metrics_.AddGauge("atrium_participants", "Participants in live conferences.",
                    [this] { return double(conferences_.ParticipantTotal()); });
  metrics_.AddGauge("atrium_transcodes", "Transcoding branches (one decode and one encode each) in live conferences.",
                    [this] { return double(conferences_.TranscodeTotal()); });
  metrics_.AddGauge("atrium_process_resident_memory_bytes", "Resident memory of atriumd.",
                    [] { return double(rpc::ProcessMemory::Read().residentBytes); });
  metrics_.AddGauge("atrium_process_virtual_memory_bytes", "Virtual memory of atriumd.",
                    [] { return double(rpc::ProcessMemory::Read().virtualBytes); });
  metrics_.AddGauge("atrium_uptime_seconds", "Seconds since atriumd started.",
                    [start = services_->startedAt] { return double(store::Now() - start); });
  server_->Start();
  config_.listenPort = server_->port();  // what server.state reports when port 0 was asked for
}

Daemon::~Daemon() {
  server_.reset();
  dispatcher_.reset();
}

// Never a fixed default: the operator's password, or a random one shown once.
void Daemon::CreateFirstAdmin() {
  store::Users users(*db_);
  if (users.CountAdmins() > 0) return;
  const char* env = g_getenv("ATRIUM_ADMIN_PASSWORD");
  std::string password;
  if (env && *env) {
    password = env;
    if (password.size() < 8) throw ConfigError("ATRIUM_ADMIN_PASSWORD must have at least 8 characters");
  } else {
    password = auth::RandomPassword();
    generatedAdminPassword_ = password;
  }
  store::User admin;
  admin.account = "admin";
  admin.name = "Administrator";
  admin.admin = true;
  admin.passwordHash = auth::HashPassword(password);
  if (users.FindByAccount("admin")) {
    GST_WARNING("no administrator, and the account 'admin' exists as a plain user: not taking it over");
    generatedAdminPassword_.reset();
    return;
  }
  users.Create(admin);
  GST_INFO("created the first administrator [account:admin]");
}

}  // namespace atrium
