// What Atrium reads from a client's SDP offer before handing it to webrtcbin: the
// m-lines, their direction and codecs. Bad SDP is refused here with InvalidParams, so
// webrtcbin only ever sees offers it can answer.
#pragma once

#include <gst/sdp/sdp.h>

#include <optional>
#include <string>
#include <vector>

namespace atrium::media {

struct Codec {
  int pt = 0;
  std::string name;  // upper case: VP8, H264, OPUS, ...
  int clockRate = 0;
  std::string params;  // encoding parameters (audio channels), may be empty
  std::string fmtp;
};

// An RTP header extension the offer maps (a=extmap:ID URI).
struct Extmap {
  int id = 0;
  std::string uri;
};

struct OfferMedia {
  unsigned mline = 0;
  std::string kind;       // "audio", "video", or another media type
  std::string mid;
  std::string direction;  // sendrecv, sendonly, recvonly, inactive
  bool rejected = false;  // port 0
  std::vector<Codec> codecs;
  std::vector<Extmap> extmaps;
  // Simulcast the client sends (a=rid:X send, a=simulcast:send ...): the rids in the
  // order a=simulcast lists them (paused ones, "~X", included), else in a=rid order.
  std::vector<std::string> sendRids;

  // The id the offer gives to a header extension, or -1.
  int ExtmapId(const std::string& uri) const;

  // The first codec with this name (case-insensitive), if offered.
  std::optional<Codec> Find(const std::string& name) const;
};

// Parses an SDP offer. Throws InvalidParams (param "sdp") when the text is not SDP, is
// over 64 KiB, or has no audio/video m-line.
std::vector<OfferMedia> ParseOffer(const std::string& sdp);

// Header extensions Atrium knows.
inline constexpr const char* kExtMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr const char* kExtRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr const char* kExtRepairedRid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr const char* kExtAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr const char* kExtTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

// The codecs Atrium forwards: VP8 and H264 for video, OPUS for audio.
bool IsForwardableCodec(const std::string& kind, const std::string& name);

}  // namespace atrium::media
