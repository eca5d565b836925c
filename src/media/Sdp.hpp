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

struct OfferMedia {
  unsigned mline = 0;
  std::string kind;       // "audio", "video", or another media type
  std::string mid;
  std::string direction;  // sendrecv, sendonly, recvonly, inactive
  bool rejected = false;  // port 0
  std::vector<Codec> codecs;

  // The first codec with this name (case-insensitive), if offered.
  std::optional<Codec> Find(const std::string& name) const;
};

// Parses an SDP offer. Throws InvalidParams (param "sdp") when the text is not SDP, is
// over 64 KiB, or has no audio/video m-line.
std::vector<OfferMedia> ParseOffer(const std::string& sdp);

// The codecs Atrium forwards: VP8 and H264 for video, OPUS for audio.
bool IsForwardableCodec(const std::string& kind, const std::string& name);

}  // namespace atrium::media
