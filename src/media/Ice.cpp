#include "media/Ice.hpp"

#include "core/Error.hpp"
#include "core/GRef.hpp"
#include "core/Log.hpp"

#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <string_view>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::media {

namespace {

bool IsIpLiteral(const std::string& s) {
  in_addr a4;
  in6_addr a6;
  return inet_pton(AF_INET, s.c_str(), &a4) == 1 || inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

bool IsLoopbackAddress(const std::string& s) {
  in_addr a4;
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6;
  if (inet_pton(AF_INET6, s.c_str(), &a6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
  // ::ffff:127.x.y.z reaches the same loopback interface.
  return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

}  // namespace

void ConfigureIce(GstElement* webrtcbin, const IceConfig& ice) {
  g_return_if_fail(GST_IS_ELEMENT(webrtcbin));
  if (ice.portMin && ice.portMax && ice.portMin > ice.portMax)
    throw InvalidParams("ICE port range is empty", {{"portMin", ice.portMin}, {"portMax", ice.portMax}});
  std::vector<std::string> addresses = ice.addresses.empty() ? DefaultIceAddresses() : ice.addresses;
  for (const auto& a : addresses)
    if (!IsIpLiteral(a)) throw InvalidParams("ICE address is not an IP address", {{"address", a}});

  g_object_set(webrtcbin, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);

  GstWebRTCICE* iceAgent = nullptr;
  g_object_get(webrtcbin, "ice-agent", &iceAgent, nullptr);
  auto iceRef = GRef<GstWebRTCICE>::adopt(iceAgent);
  if (!iceRef) throw AppError(ErrorCode::Internal, "webrtcbin has no ICE agent");
  g_object_set(iceRef.get(), "ice-tcp", FALSE, nullptr);
  // GstWebRTCICE checks min <= max on each set: write them in an order that never crosses.
  if (ice.portMax) g_object_set(iceRef.get(), "max-rtp-port", guint(ice.portMax), nullptr);
  if (ice.portMin) g_object_set(iceRef.get(), "min-rtp-port", guint(ice.portMin), nullptr);

  // The NiceAgent sits behind GstWebRTCNice's "agent" property (libnice backend only).
  if (!g_object_class_find_property(G_OBJECT_GET_CLASS(iceRef.get()), "agent"))
    throw AppError(ErrorCode::Internal, "webrtcbin ICE agent is not libnice");
  NiceAgent* agentPtr = nullptr;
  g_object_get(iceRef.get(), "agent", &agentPtr, nullptr);
  auto agent = GRef<NiceAgent>::adopt(agentPtr);
  if (!agent) throw AppError(ErrorCode::Internal, "webrtcbin ICE agent has no NiceAgent");
  g_object_set(agent.get(), "upnp", FALSE, "ice-tcp", FALSE, nullptr);

  for (const auto& a : addresses) {
    NiceAddress addr;
    nice_address_init(&addr);
    if (!nice_address_set_from_string(&addr, a.c_str()) || !nice_agent_add_local_address(agent.get(), &addr))
      throw InvalidParams("ICE address rejected by libnice", {{"address", a}});
    GST_DEBUG_OBJECT(webrtcbin, "ICE local address added [address:%s]", a.c_str());
  }

  if (!ice.stunServer.empty()) {
    std::string url =
        ice.stunServer.find("://") == std::string::npos ? "stun://" + ice.stunServer : ice.stunServer;
    g_object_set(webrtcbin, "stun-server", url.c_str(), nullptr);
  }
  if (!ice.turnServer.empty()) g_object_set(webrtcbin, "turn-server", ice.turnServer.c_str(), nullptr);
  GST_DEBUG_OBJECT(webrtcbin, "ICE configured [addresses:%zu portMin:%u portMax:%u stun:%s turn:%s]",
                   addresses.size(), ice.portMin, ice.portMax, ice.stunServer.empty() ? "no" : "yes",
                   ice.turnServer.empty() ? "no" : "yes");
}

void EnableKeepaliveChecks(GstElement* webrtcbin) {
  GstWebRTCICE* iceAgent = nullptr;
  g_object_get(webrtcbin, "ice-agent", &iceAgent, nullptr);
  auto iceRef = GRef<GstWebRTCICE>::adopt(iceAgent);
  if (!iceRef || !g_object_class_find_property(G_OBJECT_GET_CLASS(iceRef.get()), "agent")) return;
  NiceAgent* agentPtr = nullptr;
  g_object_get(iceRef.get(), "agent", &agentPtr, nullptr);
  auto agent = GRef<NiceAgent>::adopt(agentPtr);
  if (agent) g_object_set(agent.get(), "keepalive-conncheck", TRUE, nullptr);
}

std::vector<std::string> DefaultIceAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
      char buf[INET6_ADDRSTRLEN] = {};
      if (i->ifa_addr->sa_family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
        inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
      } else if (i->ifa_addr->sa_family == AF_INET6) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
        if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) continue;
        inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
      } else {
        continue;
      }
      std::string a = buf;
      if (IsLoopbackAddress(a)) continue;
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    freeifaddrs(list);
  } else {
    GST_WARNING("getifaddrs failed [errno:%d]", errno);
  }
  if (out.empty()) out.push_back("127.0.0.1");
  return out;
}

bool IsLoopbackUdpCandidate(const std::string& candidate) {
  std::string_view s = candidate;
  if (s.starts_with("a=")) s.remove_prefix(2);
  if (s.starts_with("candidate:")) s.remove_prefix(10);
  // foundation component transport priority address port "typ" type ...
  std::istringstream in{std::string(s)};
  std::string foundation, component, transport, priority, address, port, typ, type;
  if (!(in >> foundation >> component >> transport >> priority >> address >> port >> typ >> type))
    return false;
  if (typ != "typ") return false;
  auto digits = [](const std::string& t) {
    return !t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(component) || !digits(priority) || !digits(port)) return false;
  if (g_ascii_strcasecmp(transport.c_str(), "udp") != 0) return false;
  return IsLoopbackAddress(address);
}

}  // namespace atrium::media
