// ICE helpers: candidate filtering, default addresses, and that ConfigureIce really pins
// what a webrtcbin gathers.
#include "core/Error.hpp"
#include "core/GRef.hpp"
#include "media/Ice.hpp"
#include "tests/media/Loop.hpp"

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>
#include <gtest/gtest.h>
#include <nice/agent.h>

#include <arpa/inet.h>

#include <sstream>

namespace atrium::test {
namespace {

using media::ConfigureIce;
using media::DefaultIceAddresses;
using media::IceConfig;
using media::IsLoopbackUdpCandidate;

struct CandidateCase {
  const char* name;
  const char* candidate;
  bool loopbackUdp;
};

class LoopbackCandidate : public ::testing::TestWithParam<CandidateCase> {};

TEST_P(LoopbackCandidate, Classifies) {
  EXPECT_EQ(IsLoopbackUdpCandidate(GetParam().candidate), GetParam().loopbackUdp) << GetParam().candidate;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LoopbackCandidate,
    ::testing::Values(
        CandidateCase{"UdpHost", "candidate:1 1 UDP 2015363327 127.0.0.1 41234 typ host", true},
        CandidateCase{"LowercaseUdp", "candidate:1 1 udp 2015363327 127.0.0.1 41234 typ host", true},
        CandidateCase{"WithAttributePrefix", "a=candidate:1 1 UDP 2015363327 127.0.0.1 41234 typ host", true},
        CandidateCase{"NoCandidatePrefix", "1 1 UDP 2015363327 127.0.0.1 41234 typ host", true},
        CandidateCase{"OtherLoopback", "candidate:1 1 UDP 2015363327 127.8.9.10 5000 typ host", true},
        CandidateCase{"Ipv6Loopback", "candidate:2 1 UDP 2015363327 ::1 5000 typ host", true},
        CandidateCase{
            "Chromium",
            "candidate:3 1 udp 2113937151 127.0.0.1 54400 typ host generation 0 ufrag x network-cost 999",
            true},
        CandidateCase{"Rtcp", "candidate:1 2 UDP 2015363326 127.0.0.1 41235 typ host", true},
        CandidateCase{"Tcp", "candidate:4 1 TCP 1015021823 127.0.0.1 9 typ host tcptype active", false},
        CandidateCase{"PrivateLan", "candidate:5 1 UDP 2015363327 192.168.1.20 41234 typ host", false},
        CandidateCase{"Ipv6Global", "candidate:6 1 UDP 2015363327 2001:db8::1 41234 typ host", false},
        CandidateCase{"Srflx",
                      "candidate:7 1 UDP 1679819007 203.0.113.9 41234 typ srflx raddr 127.0.0.1 rport 41234",
                      false},
        CandidateCase{
            "MdnsName",
            "candidate:8 1 udp 2113937151 4b1f7a4c-1d2e-4f0a-9c3b-0f5e6d7c8b9a.local 54400 typ host", false},
        CandidateCase{"NotAnAddress", "candidate:9 1 UDP 2015363327 127.0.0.1.example 41234 typ host", false},
        CandidateCase{"Empty", "", false}, CandidateCase{"Garbage", "hello world", false},
        CandidateCase{"Truncated", "candidate:1 1 UDP 2015363327 127.0.0.1", false},
        CandidateCase{"NoTyp", "candidate:1 1 UDP 2015363327 127.0.0.1 41234 host x", false},
        CandidateCase{"BadPort", "candidate:1 1 UDP 2015363327 127.0.0.1 port typ host", false}),
    [](const ::testing::TestParamInfo<CandidateCase>& info) { return std::string(info.param.name); });

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

TEST(Ice, DefaultAddressesAreUsableIps) {
  auto addresses = DefaultIceAddresses();
  ASSERT_FALSE(addresses.empty());
  for (const auto& a : addresses) {
    EXPECT_TRUE(IsIpLiteral(a)) << a;
    if (addresses.size() > 1) {
      EXPECT_NE(a.rfind("127.", 0), 0u) << a;
    }
    EXPECT_NE(a, "::1");
    EXPECT_NE(a.rfind("fe80:", 0), 0u) << a;
  }
}

// A webrtcbin in its own pipeline, destroyed from the test thread.
class Peer {
public:
  Peer() {
    pipeline_ = GRef<GstElement>::adopt(GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new(nullptr))));
    webrtc_ = gst_element_factory_make("webrtcbin", nullptr);
    gst_bin_add(GST_BIN(pipeline_.get()), webrtc_);
  }
  ~Peer() { gst_element_set_state(pipeline_.get(), GST_STATE_NULL); }
  GstElement* webrtc() const { return webrtc_; }
  GstElement* pipeline() const { return pipeline_.get(); }

private:
  GRef<GstElement> pipeline_;
  GstElement* webrtc_ = nullptr;
};

TEST(Ice, ConfigureIceSetsWebrtcbinAndAgent) {
  Peer peer;
  ConfigureIce(
      peer.webrtc(),
      IceConfig{
          .addresses = {"127.0.0.1"}, .portMin = 41000, .portMax = 41100, .stunServer = "127.0.0.1:3478"});
  GstWebRTCBundlePolicy policy = GST_WEBRTC_BUNDLE_POLICY_NONE;
  gchar* stun = nullptr;
  GstWebRTCICE* ice = nullptr;
  g_object_get(peer.webrtc(), "bundle-policy", &policy, "stun-server", &stun, "ice-agent", &ice, nullptr);
  EXPECT_EQ(policy, GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE);
  EXPECT_STREQ(stun, "stun://127.0.0.1:3478");
  g_free(stun);
  ASSERT_NE(ice, nullptr);
  gboolean iceTcp = TRUE, upnp = TRUE, agentTcp = TRUE;
  guint minPort = 0, maxPort = 0;
  NiceAgent* agent = nullptr;
  g_object_get(ice, "ice-tcp", &iceTcp, "min-rtp-port", &minPort, "max-rtp-port", &maxPort, "agent", &agent,
               nullptr);
  EXPECT_FALSE(iceTcp);
  EXPECT_EQ(minPort, 41000u);
  EXPECT_EQ(maxPort, 41100u);
  ASSERT_NE(agent, nullptr);
  g_object_get(agent, "upnp", &upnp, "ice-tcp", &agentTcp, nullptr);
  EXPECT_FALSE(upnp);
  EXPECT_FALSE(agentTcp);
  g_object_unref(agent);
  gst_object_unref(ice);
}

TEST(Ice, ConfigureIceRejectsBadInput) {
  Peer peer;
  EXPECT_THROW(ConfigureIce(peer.webrtc(), IceConfig{.addresses = {"localhost"}}), InvalidParams);
  EXPECT_THROW(
      ConfigureIce(peer.webrtc(), IceConfig{.addresses = {"127.0.0.1"}, .portMin = 5000, .portMax = 4000}),
      InvalidParams);
}

// Port of a candidate line ("candidate:f c UDP prio ADDR PORT typ ..."), 0 if unparsable.
unsigned CandidatePort(const std::string& c) {
  std::istringstream in(c);
  std::string f, comp, transport, prio, addr;
  unsigned port = 0;
  in >> f >> comp >> transport >> prio >> addr >> port;
  return port;
}

TEST(Ice, ConfigureIceGathersOnlyOnGivenAddress) {
  Peer peer;
  constexpr unsigned kMin = 42000, kMax = 42200;
  ConfigureIce(peer.webrtc(), IceConfig{.addresses = {"127.0.0.1"}, .portMin = kMin, .portMax = kMax});

  // Posted to the main thread: on-ice-candidate comes from webrtcbin's :pc thread.
  auto candidates = std::make_shared<std::vector<std::string>>();
  auto keep = std::weak_ptr<std::vector<std::string>>(candidates);
  auto* weak = new std::weak_ptr<std::vector<std::string>>(keep);
  g_signal_connect_data(
      peer.webrtc(), "on-ice-candidate", G_CALLBACK(+[](GstElement*, guint, gchar* c, gpointer data) {
        PostToMain([weak = *static_cast<std::weak_ptr<std::vector<std::string>>*>(data), c = std::string(c)] {
          if (auto v = weak.lock()) v->push_back(c);
        });
      }),
      weak,
      [](gpointer data, GClosure*) { delete static_cast<std::weak_ptr<std::vector<std::string>>*>(data); },
      GConnectFlags(0));

  // A transceiver that never carries data: only there so the offer has an m-line to gather for.
  GstCaps* caps =
      gst_caps_from_string("application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000");
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_signal_emit_by_name(peer.webrtc(), "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps,
                        &trans);
  gst_caps_unref(caps);
  ASSERT_NE(trans, nullptr);
  gst_object_unref(trans);
  ASSERT_NE(gst_element_set_state(peer.pipeline(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);

  PromiseWaiter created;
  g_signal_emit_by_name(peer.webrtc(), "create-offer", nullptr, created.get());
  GstWebRTCSessionDescription* offer = nullptr;
  gst_structure_get(created.Wait("create-offer"), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer,
                    nullptr);
  ASSERT_NE(offer, nullptr);
  PromiseWaiter set;
  g_signal_emit_by_name(peer.webrtc(), "set-local-description", offer, set.get());
  set.Wait("set-local-description");
  gst_webrtc_session_description_free(offer);

  auto gathered = [&] {
    GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
    g_object_get(peer.webrtc(), "ice-gathering-state", &state, nullptr);
    return state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE;
  };
  ASSERT_TRUE(RunUntil(gathered, 5000));
  // Candidates posted before the state changed are still queued on the main context.
  RunUntil([] { return false; }, 50);
  ASSERT_FALSE(candidates->empty());
  for (const auto& c : *candidates) {
    if (c.empty()) continue;  // end-of-candidates
    EXPECT_TRUE(IsLoopbackUdpCandidate(c)) << c;
    EXPECT_NE(c.find(" 127.0.0.1 "), std::string::npos) << c;
    unsigned port = CandidatePort(c);
    EXPECT_GE(port, kMin) << c;
    EXPECT_LE(port, kMax) << c;
  }
}

}  // namespace
}  // namespace atrium::test
