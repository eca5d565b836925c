// atrium.conf parsing: defaults, every key, and a clear message for each kind of mistake.
// The shipped data/atrium.conf must load.
#include "core/Config.hpp"

#include <glib.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

namespace atrium {
namespace {

class ConfigTest : public ::testing::Test {
protected:
  void SetUp() override {
    gchar* d = g_dir_make_tmp("atrium-config-XXXXXX", nullptr);
    dir_ = d;
    g_free(d);
  }
  void TearDown() override {
    g_unlink(path().c_str());
    g_rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/atrium.conf"; }
  Config Load(const std::string& text) {
    g_file_set_contents(path().c_str(), text.c_str(), -1, nullptr);
    return Config::Load(path());
  }
  std::string ErrorOf(const std::string& text) {
    try {
      Load(text).Validate();
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(ConfigTest, Defaults) {
  Config c = Load("");
  EXPECT_EQ(c.listenHost, "127.0.0.1");
  EXPECT_EQ(c.listenPort, 8088);
  EXPECT_FALSE(c.tlsEnabled());
  EXPECT_TRUE(c.iceAddresses.empty());
}

TEST_F(ConfigTest, EveryKey) {
  Config c = Load(
      "[server]\nlisten = [::1]:9000\ndata-dir = /srv/atrium\nnode-name = n1\n"
      "[auth]\njwt-secret = s3cret\ntoken-lifetime = 600\n"
      "[limits]\nmax-message-bytes = 4096\nmax-batch = 5\nmax-json-depth = 8\n"
      "requests-per-second = 3\nrequest-burst = 4\nmax-connections = 7\n"
      "[ice]\naddresses = 127.0.0.1, 10.0.0.5\nport-range = 40000-40100\n"
      "stun-server = stun.example.org:3478\npublic-address = 203.0.113.7\n");
  EXPECT_EQ(c.listenHost, "::1");
  EXPECT_EQ(c.listenPort, 9000);
  EXPECT_EQ(c.dataDir, "/srv/atrium");
  EXPECT_EQ(c.jwtSecret, "s3cret");
  EXPECT_EQ(c.tokenLifetimeSeconds, 600);
  EXPECT_EQ(c.maxMessageBytes, 4096);
  EXPECT_EQ(c.maxBatch, 5);
  EXPECT_EQ(c.maxConnections, 7);
  ASSERT_EQ(c.iceAddresses.size(), 2u);
  EXPECT_EQ(c.iceAddresses[1], "10.0.0.5");
  EXPECT_EQ(c.icePortMin, 40000);
  EXPECT_EQ(c.icePortMax, 40100);
  EXPECT_EQ(c.publicAddress, "203.0.113.7");
}

struct BadConfig {
  const char* name;
  const char* text;
  const char* mentions;
};

class BadConfigTest : public ConfigTest, public ::testing::WithParamInterface<BadConfig> {};

TEST_P(BadConfigTest, IsRefusedWithAClearMessage) {
  std::string msg = ErrorOf(GetParam().text);
  ASSERT_FALSE(msg.empty()) << "accepted";
  EXPECT_NE(msg.find(GetParam().mentions), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Configs, BadConfigTest,
    ::testing::Values(BadConfig{"NotIni", "listen = 1\n", "atrium.conf"},
                      BadConfig{"UnknownGroup", "[bogus]\nx = 1\n", "[bogus]"},
                      BadConfig{"UnknownKey", "[server]\nlisen = 1.2.3.4:5\n", "lisen"},
                      BadConfig{"BadListen", "[server]\nlisten = nowhere\n", "listen"},
                      BadConfig{"BadPort", "[server]\nlisten = 127.0.0.1:99999\n", "port"},
                      BadConfig{"NotAnInteger", "[limits]\nmax-batch = many\n", "max-batch"},
                      BadConfig{"OutOfRange", "[limits]\nmax-batch = 0\n", "max-batch"},
                      BadConfig{"BadIceAddress", "[ice]\naddresses = 127.0.0.1, bogus\n", "bogus"},
                      BadConfig{"BadPortRange", "[ice]\nport-range = 5000-4000\n", "port-range"},
                      BadConfig{"BadPublicAddress", "[ice]\npublic-address = example.org\n", "public-address"},
                      BadConfig{"CertWithoutKey", "[server]\ntls-certificate = /etc/ssl/x.pem\n", "tls-key"},
                      BadConfig{"MissingCert", "[server]\ntls-certificate = /nonexistent.pem\ntls-key = /nonexistent.key\n",
                                "/nonexistent.pem"},
                      BadConfig{"WebRootMissing", "[server]\nweb-root = /nonexistent-web\n", "web-root"}),
    [](const auto& info) { return info.param.name; });

TEST(ShippedConfig, Loads) {
  const char* root = g_getenv("ATRIUM_SOURCE_ROOT");
  ASSERT_NE(root, nullptr);
  Config c = Config::Load(std::string(root) + "/data/atrium.conf");
  EXPECT_EQ(c.listenHost, "127.0.0.1");
  EXPECT_EQ(c.listenPort, 8088);
}

TEST(Listen, Overrides) {
  Config c;
  c.SetListen("0.0.0.0:443");
  EXPECT_EQ(c.listenHost, "0.0.0.0");
  EXPECT_EQ(c.listenPort, 443);
  c.SetListen("localhost:0");
  EXPECT_EQ(c.listenHost, "127.0.0.1");
  EXPECT_EQ(c.listenPort, 0);
  EXPECT_THROW(c.SetListen("[::1]"), ConfigError);
  EXPECT_THROW(c.SetListen("1.2.3.4"), ConfigError);
}

}  // namespace
}  // namespace atrium

namespace atrium {
namespace {

TEST_F(ConfigTest, ConferenceLinkQualityKeys) {
  Config d = Load("");
  EXPECT_EQ(d.statsInterval, 3);
  EXPECT_EQ(d.slowLinkLoss, 10);
  EXPECT_EQ(d.slowLinkRtt, 500);
  Config c = Load("[conference]\nstats-interval = 1\nslow-link-loss = 5\nslow-link-rtt = 250\n");
  EXPECT_EQ(c.statsInterval, 1);
  EXPECT_EQ(c.slowLinkLoss, 5);
  EXPECT_EQ(c.slowLinkRtt, 250);
  for (const char* bad : {"[conference]\nstats-interval = 0\n", "[conference]\nslow-link-loss = 101\n",
                          "[conference]\nslow-link-rtt = fast\n", "[conference]\nslow-link = 1\n"}) {
    std::string msg = ErrorOf(bad);
    EXPECT_NE(msg.find("[conference]"), std::string::npos) << bad << " -> " << msg;
  }
}

}  // namespace
}  // namespace atrium
