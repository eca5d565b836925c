// The SDP decisions Atrium makes itself when it answers an offer, apart from webrtcbin:
// which offered codec a track uses, the caps (codec preferences) that make webrtcbin's
// answer carry it, and host candidates announced again with the public address.
// Pure functions of their input: tests/fuzz/SdpFuzzer.cpp drives them with hostile offers.
#pragma once

#include "media/Sdp.hpp"

#include <gst/gst.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace atrium::media {

// The codec a published m-line is forwarded with: the first of VP8, H264, OPUS that the
// m-line offers and that suits its kind; none when it offers nothing forwardable.
std::optional<Codec> PreferredCodec(const OfferMedia& m);

// application/x-rtp caps for `c` with payload type `pt` (transfer full), with the
// feedback a video track needs and, for H264, the offer's fmtp parameters (so that the
// answer keeps the profile the client can decode). Fmtp entries that are not
// `name=value` with a valid field name, would replace a field already set, or whose
// value is not UTF-8 are left out.
GstCaps* CodecCaps(const std::string& kind, const Codec& c, int pt);

// The codec preferences of a published m-line's transceiver: CodecCaps of `c`, plus the
// header extensions of the offer that Atrium uses (mid, rtp-stream-id and its repaired
// form, audio level, transport-wide cc), with the offer's ids, and for a simulcast offer
// its rids as received (rid-X=recv, a-simulcast "recv X;Y;Z"), so that webrtcbin's
// answer carries them. (transfer full)
GstCaps* PublishCaps(const OfferMedia& m, const Codec& c);

// Simulcast rids smallest layer first: names of one known scheme (q/h/f, l/m/h,
// low/mid/high, 0/1/2, ...) are sorted by it; anything else keeps the offer's order.
std::vector<std::string> OrderLayers(std::vector<std::string> rids);
// `sdp` with each candidate ("candidate:..." or "a=candidate:...") added as an
// a=candidate line to the m-line it names, unless that m-line has it already, and kept
// before a=end-of-candidates. Candidates for m-lines the SDP lacks, or that are not one
// printable line, are left out. Returns `sdp` unchanged when it does not parse.
std::string AddCandidates(const std::string& sdp, const std::vector<std::pair<unsigned, std::string>>& candidates);

// A host candidate again with another address (1:1 NAT), or "" for other candidates.
// "candidate:F C TRANSPORT PRIORITY ADDRESS PORT typ host ..."
std::string WithAddress(const std::string& candidate, const std::string& address);

}  // namespace atrium::media
