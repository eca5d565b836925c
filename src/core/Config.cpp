#include "core/Config.hpp"

#include "core/GRef.hpp"

#include <gio/gio.h>
#include <glib.h>

#include <unistd.h>

#include <map>
#include <set>

namespace atrium {

namespace {

const std::map<std::string, std::set<std::string>> kKnownKeys = {
    {"server", {"listen", "data-dir", "web-root", "tls-certificate", "tls-key", "node-name"}},
    {"auth", {"jwt-secret", "token-lifetime", "signature-lifetime"}},
    {"limits",
     {"max-message-bytes", "max-batch", "max-json-depth", "requests-per-second", "request-burst",
      "max-connections"}},
    {"ice", {"addresses", "port-range", "stun-server", "turn-server", "public-address"}},
    {"conference", {"stats-interval", "slow-link-loss", "slow-link-rtt"}},
};

class Reader {
public:
  Reader(GKeyFile* kf, std::string path) : kf_(kf), path_(std::move(path)) {}

  [[noreturn]] void Fail(const char* group, const char* key, const std::string& why) const {
    throw ConfigError(path_ + ": [" + group + "] " + key + ": " + why);
  }

  bool Has(const char* group, const char* key) const {
    return g_key_file_has_key(kf_, group, key, nullptr);
  }

  void String(const char* group, const char* key, std::string& out) const {
    if (!Has(group, key)) return;
    GError* err = nullptr;
    GCharPtr v(g_key_file_get_string(kf_, group, key, &err));
    if (err) {
      GErrorPtr e(err);
      Fail(group, key, e->message);
    }
    out = v.get();
  }

  void Int(const char* group, const char* key, int64_t& out, int64_t min, int64_t max) const {
    std::string s;
    String(group, key, s);
    if (s.empty()) return;
    gint64 v = 0;
    GError* err = nullptr;
    if (!g_ascii_string_to_signed(s.c_str(), 10, min, max, &v, &err)) {
      GErrorPtr e(err);
      Fail(group, key, "expected an integer in " + std::to_string(min) + ".." + std::to_string(max));
    }
    out = v;
  }

private:
  GKeyFile* kf_;
  std::string path_;
};

bool ParsePort(const std::string& s, uint16_t& port, guint64 min = 1) {
  guint64 v = 0;
  if (!g_ascii_string_to_unsigned(s.c_str(), 10, min, 65535, &v, nullptr)) return false;
  port = uint16_t(v);
  return true;
}

}  // namespace

void Config::SetListen(const std::string& hostPort) {
  std::string host;
  std::string port;
  if (!hostPort.empty() && hostPort[0] == '[') {
    auto close = hostPort.find(']');
    if (close == std::string::npos || close + 1 >= hostPort.size() || hostPort[close + 1] != ':')
      throw ConfigError("listen address '" + hostPort + "': expected [IPV6]:PORT");
    host = hostPort.substr(1, close - 1);
    port = hostPort.substr(close + 2);
  } else {
    auto colon = hostPort.rfind(':');
    if (colon == std::string::npos) throw ConfigError("listen address '" + hostPort + "': expected HOST:PORT");
    host = hostPort.substr(0, colon);
    port = hostPort.substr(colon + 1);
  }
  GRef<GInetAddress> addr = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(host.c_str()));
  if (!addr && host != "localhost")
    throw ConfigError("listen address '" + hostPort + "': '" + host + "' is not an IP address");
  uint16_t p = 0;
  // Port 0 asks the kernel for a free port (tests use it).
  if (!ParsePort(port, p, 0)) throw ConfigError("listen address '" + hostPort + "': bad port '" + port + "'");
  listenHost = host == "localhost" ? "127.0.0.1" : host;
  listenPort = p;
}

void Config::SetIceAddresses(const std::string& list) {
  iceAddresses.clear();
  GCharPtr copy(g_strdup(list.c_str()));
  gchar** parts = g_strsplit_set(copy.get(), ", ", -1);
  for (gchar** p = parts; *p; ++p) {
    if (!**p) continue;
    GRef<GInetAddress> addr = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(*p));
    if (!addr) {
      std::string bad = *p;
      g_strfreev(parts);
      throw ConfigError("ICE address '" + bad + "' is not an IP address");
    }
    iceAddresses.emplace_back(*p);
  }
  g_strfreev(parts);
}

Config Config::Load(const std::string& path) {
  Config c;
  c.sourcePath = path;
  CPtr<GKeyFile, g_key_file_unref> kf(g_key_file_new());
  GError* err = nullptr;
  if (!g_key_file_load_from_file(kf.get(), path.c_str(), G_KEY_FILE_NONE, &err)) {
    GErrorPtr e(err);
    throw ConfigError(path + ": " + e->message);
  }

  gsize ngroups = 0;
  gchar** groups = g_key_file_get_groups(kf.get(), &ngroups);
  std::string unknown;
  for (gsize i = 0; i < ngroups && unknown.empty(); ++i) {
    auto known = kKnownKeys.find(groups[i]);
    if (known == kKnownKeys.end()) {
      unknown = std::string("unknown group [") + groups[i] + "]";
      break;
    }
    gchar** keys = g_key_file_get_keys(kf.get(), groups[i], nullptr, nullptr);
    for (gchar** k = keys; k && *k; ++k) {
      if (!known->second.count(*k)) {
        unknown = std::string("[") + groups[i] + "] unknown key '" + *k + "'";
        break;
      }
    }
    g_strfreev(keys);
  }
  g_strfreev(groups);
  if (!unknown.empty()) throw ConfigError(path + ": " + unknown);

  Reader r(kf.get(), path);
  std::string s;
  r.String("server", "listen", s);
  if (!s.empty()) {
    try {
      c.SetListen(s);
    } catch (const ConfigError& e) {
      r.Fail("server", "listen", e.what());
    }
  }
  r.String("server", "data-dir", c.dataDir);
  r.String("server", "web-root", c.webRoot);
  r.String("server", "tls-certificate", c.tlsCertificate);
  r.String("server", "tls-key", c.tlsKey);
  r.String("server", "node-name", c.nodeName);

  r.String("auth", "jwt-secret", c.jwtSecret);
  r.Int("auth", "token-lifetime", c.tokenLifetimeSeconds, 60, 365LL * 86400);
  r.Int("auth", "signature-lifetime", c.signatureLifetimeSeconds, 10, 86400);

  r.Int("limits", "max-message-bytes", c.maxMessageBytes, 1024, 64LL << 20);
  r.Int("limits", "max-batch", c.maxBatch, 1, 10000);
  r.Int("limits", "max-json-depth", c.maxJsonDepth, 4, 512);
  r.Int("limits", "requests-per-second", c.requestsPerSecond, 1, 10000000);
  r.Int("limits", "request-burst", c.requestBurst, 1, 10000000);
  r.Int("limits", "max-connections", c.maxConnections, 1, 1000000);

  s.clear();
  r.String("ice", "addresses", s);
  try {
    c.SetIceAddresses(s);
  } catch (const ConfigError& e) {
    r.Fail("ice", "addresses", e.what());
  }
  s.clear();
  r.String("ice", "port-range", s);
  if (!s.empty()) {
    auto dash = s.find('-');
    if (dash == std::string::npos || !ParsePort(s.substr(0, dash), c.icePortMin) ||
        !ParsePort(s.substr(dash + 1), c.icePortMax) || c.icePortMin > c.icePortMax)
      r.Fail("ice", "port-range", "expected MIN-MAX with 1 <= MIN <= MAX <= 65535");
  }
  r.String("ice", "stun-server", c.stunServer);
  r.String("ice", "turn-server", c.turnServer);
  r.String("ice", "public-address", c.publicAddress);
  if (!c.publicAddress.empty()) {
    GRef<GInetAddress> a = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(c.publicAddress.c_str()));
    if (!a) r.Fail("ice", "public-address", "'" + c.publicAddress + "' is not an IP address");
  }

  r.Int("conference", "stats-interval", c.statsInterval, 1, 60);
  r.Int("conference", "slow-link-loss", c.slowLinkLoss, 1, 100);
  r.Int("conference", "slow-link-rtt", c.slowLinkRtt, 10, 60000);
  return c;
}

void Config::Validate() const {
  if (dataDir.empty()) throw ConfigError("data-dir must not be empty");
  if (tlsCertificate.empty() != tlsKey.empty())
    throw ConfigError("tls-certificate and tls-key must be given together");
  if (!tlsCertificate.empty()) {
    GError* err = nullptr;
    GRef<GTlsCertificate> cert =
        GRef<GTlsCertificate>::adopt(g_tls_certificate_new_from_files(tlsCertificate.c_str(), tlsKey.c_str(), &err));
    if (!cert) {
      GErrorPtr e(err);
      throw ConfigError("TLS certificate/key '" + tlsCertificate + "', '" + tlsKey + "': " + e->message);
    }
  }
  if (!webRoot.empty() && !g_file_test(webRoot.c_str(), G_FILE_TEST_IS_DIR))
    throw ConfigError("web-root '" + webRoot + "' is not a directory");
  if (requestBurst < 1 || requestsPerSecond < 1) throw ConfigError("rate limits must be positive");
  if (g_file_test(dataDir.c_str(), G_FILE_TEST_EXISTS)) {
    if (!g_file_test(dataDir.c_str(), G_FILE_TEST_IS_DIR))
      throw ConfigError("data-dir '" + dataDir + "' exists and is not a directory");
    if (access(dataDir.c_str(), W_OK) != 0) throw ConfigError("data-dir '" + dataDir + "' is not writable");
  }
}

}  // namespace atrium
