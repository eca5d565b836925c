// Fuzz target: the SDP handling Atrium does itself, on a hostile offer. ParseOffer (the
// m-lines, directions and codecs Atrium reads), PreferredCodec (codec selection),
// CodecCaps (the codec preferences handed to webrtcbin, H264 fmtp copied from the offer)
// and the caps turned back into an SDP media section as webrtcbin does for its answer;
// then each line of the input as an ICE candidate: the loopback filter and the
// public-address rewrite; the input as a WHIP/WHEP PATCH body (TrickleFragment) and as an
// answer that those lines are added to as candidates (AddCandidates). Bad input must end in
// InvalidParams, never in a crash or a GLib CRITICAL.
#include "tests/fuzz/FuzzTarget.hpp"

#include "core/Error.hpp"
#include "media/Ice.hpp"
#include "media/Negotiation.hpp"
#include "media/Sdp.hpp"
#include "media/TrickleFragment.hpp"

#include <gst/sdp/sdp.h>

#include <string>
#include <utility>
#include <vector>

using namespace atrium;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::InitCommon();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& m : media::ParseOffer(text)) {
      auto codec = media::PreferredCodec(m);
      if (!codec) continue;
      GstCaps* caps = media::CodecCaps(m.kind, *codec, codec->pt);
      GstSDPMedia* sm = nullptr;
      gst_sdp_media_new(&sm);
      gst_sdp_media_set_media_from_caps(caps, sm);
      gchar* out = gst_sdp_media_as_text(sm);
      g_free(out);
      gst_sdp_media_free(sm);
      gst_caps_unref(caps);
    }
  } catch (const InvalidParams&) {
  }
  try {
    media::TrickleFragment::Parse(text);
  } catch (const InvalidParams&) {
  }
  std::vector<std::pair<unsigned, std::string>> candidates;
  gchar** lines = g_strsplit(text.c_str(), "\n", 64);
  for (gchar** l = lines; *l; ++l) {
    media::IsLoopbackUdpCandidate(*l);
    media::WithAddress(*l, "203.0.113.7");
    candidates.emplace_back(unsigned(candidates.size() % 3), *l);
  }
  g_strfreev(lines);
  media::AddCandidates(text, candidates);
  return 0;
}
