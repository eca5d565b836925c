// ICE settings for every webrtcbin Atrium creates (server endpoints and test clients):
// which local addresses libnice gathers on, the port range, STUN/TURN, and the checks
// tests use to keep traffic on loopback. Stateless helpers; the caller owns the webrtcbin.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <string>
#include <vector>

namespace atrium::media {

struct IceConfig {
  std::vector<std::string> addresses;  // local IPs to gather on; empty = DefaultIceAddresses()
  uint16_t portMin = 0, portMax = 0;   // 0 = any
  std::string stunServer;              // "host:port" (or "stun://host:port") or empty
  std::string turnServer;              // "turn://user:pass@host:port" or empty
  std::string publicAddress;           // 1:1 NAT: host candidates are also announced with this IP
};

// Configures a freshly created webrtcbin before any description is set: bundle-policy
// max-bundle, ice-tcp off, UPnP off on the NiceAgent, local addresses added with
// nice_agent_add_local_address (once set, libnice gathers on those only), the port range
// (GstWebRTCICE min-rtp-port/max-rtp-port), stun-server and turn-server.
// Throws atrium::InvalidParams for an address that is not an IP literal or a bad port range.
void ConfigureIce(GstElement* webrtcbin, const IceConfig& ice);

// Makes libnice's keepalives binding requests that can time out (keepalive-conncheck), so
// that a connected peer whose other end vanished fails instead of staying connected to
// nobody. For endpoints with no other channel that would notice (WHIP, WHEP).
void EnableKeepaliveChecks(GstElement* webrtcbin);

// The addresses ConfigureIce uses for an empty list: every up, non-loopback IPv4/IPv6
// interface address (IPv6 link-local fe80::/10 left out: it needs a scope id), or
// {"127.0.0.1"} when there is none (a loopback-only network namespace).
std::vector<std::string> DefaultIceAddresses();

// True for a candidate line (as in on-ice-candidate, with or without "a=" / "candidate:")
// whose transport is UDP and whose address is in 127.0.0.0/8 or ::1.
bool IsLoopbackUdpCandidate(const std::string& candidate);

}  // namespace atrium::media
