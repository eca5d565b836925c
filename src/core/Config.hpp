// atriumd's settings: defaults, then /etc/atrium/atrium.conf (GKeyFile INI), then the
// command line. Load() rejects unknown groups and keys and ill-typed values with a message
// naming the file, group and key, which is what `atriumd --check-config` prints.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace atrium {

class ConfigError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct Config {
  // [server]
  std::string listenHost = "127.0.0.1";
  uint16_t listenPort = 8088;
  std::string dataDir = "/var/lib/atrium";
  std::string webRoot;  // empty: the installed web client
  std::string tlsCertificate;
  std::string tlsKey;
  std::string nodeName = "atrium";

  // [auth]
  std::string jwtSecret;              // empty: generated once into <data-dir>/jwt.secret
  int64_t tokenLifetimeSeconds = 86400;
  int64_t signatureLifetimeSeconds = 300;

  // [limits]
  int64_t maxMessageBytes = 1 << 20;
  int64_t maxBatch = 100;
  int64_t maxJsonDepth = 64;
  int64_t requestsPerSecond = 500;  // per connection, token bucket refill
  int64_t requestBurst = 1000;      // per connection, bucket size
  int64_t maxConnections = 10000;

  // [ice]
  std::vector<std::string> iceAddresses;  // empty: every non-loopback interface, else 127.0.0.1
  uint16_t icePortMin = 0;
  uint16_t icePortMax = 0;
  std::string stunServer;
  std::string turnServer;
  std::string publicAddress;

  // [conference]
  int64_t statsInterval = 3;   // seconds between RTP statistics polls of a live room
  int64_t slowLinkLoss = 10;   // percent: linkSlow code 1001 at or above it
  int64_t slowLinkRtt = 500;   // milliseconds: linkSlow code 1002 at or above it

  std::string sourcePath;  // the file it was read from, for messages

  // Reads `path` over the defaults. Throws ConfigError.
  static Config Load(const std::string& path);
  // Parses "HOST:PORT" (or "[v6]:PORT") into listenHost/listenPort. Throws ConfigError.
  void SetListen(const std::string& hostPort);
  void SetIceAddresses(const std::string& list);
  // Cross-field checks and checks against the file system (TLS files load, data dir
  // can be created). Throws ConfigError.
  void Validate() const;

  bool tlsEnabled() const { return !tlsCertificate.empty(); }
};

}  // namespace atrium
