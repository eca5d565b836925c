// An SDP fragment of trickled ICE candidates (application/trickle-ice-sdpfrag, RFC 8840),
// as a WHIP or WHEP client sends it with PATCH: its ICE credentials, and each candidate with
// the m-line (by a=mid) it belongs to. Parsed before any of it reaches webrtcbin; a pure
// function of its input, driven by tests/fuzz/SdpFuzzer.cpp with hostile fragments.
#pragma once

#include <string>
#include <vector>

namespace atrium::media {

struct TrickleFragment {
  struct Candidate {
    std::string mid;        // of the m= section it appeared in; "" before any
    std::string candidate;  // "candidate:...", without "a="
  };
  std::string ufrag, pwd;  // a=ice-ufrag / a=ice-pwd, "" when absent
  std::vector<Candidate> candidates;
  bool endOfCandidates = false;

  static constexpr size_t kMaxCandidates = 64;

  // Throws InvalidParams (param "body") when the text is empty, has a line that is not
  // `x=...` in printable ASCII, more than kMaxCandidates candidates, or a candidate line
  // without a value.
  static TrickleFragment Parse(const std::string& text);
};

}  // namespace atrium::media
