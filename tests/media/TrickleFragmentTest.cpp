// What a WHIP/WHEP PATCH carries (TrickleFragment) and how the server's candidates get into
// an answer for clients that do not trickle (AddCandidates).
#include "core/Error.hpp"
#include "media/Negotiation.hpp"
#include "media/TrickleFragment.hpp"

#include <gtest/gtest.h>

#include <string>

namespace atrium::test {
namespace {

using media::AddCandidates;
using media::TrickleFragment;

// RFC 8840's example fragment (a WHIP client's PATCH), CRLF line ends.
const char* kFragment =
    "a=ice-options:trickle ice2\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "m=audio 9 RTP/AVP 0\r\n"
    "a=mid:0\r\n"
    "a=ice-ufrag:EsAw\r\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
    "a=candidate:1387637174 1 udp 2122260223 127.0.0.1 61764 typ host generation 0 ufrag EsAw network-id "
    "1\r\n"
    "a=candidate:3471623853 1 udp 2122194687 127.0.0.2 61765 typ host generation 0 ufrag EsAw network-id "
    "2\r\n"
    "a=end-of-candidates\r\n";

TEST(TrickleFragment, ReadsCredentialsAndCandidatesByMid) {
  auto f = TrickleFragment::Parse(kFragment);
  EXPECT_EQ(f.ufrag, "EsAw");
  EXPECT_EQ(f.pwd, "P2uYro0UCOQ4zxjKXaWCBui1");
  ASSERT_EQ(f.candidates.size(), 2u);
  EXPECT_EQ(f.candidates[0].mid, "0");
  EXPECT_EQ(f.candidates[0].candidate.rfind("candidate:1387637174 1 udp", 0), 0u);
  EXPECT_TRUE(f.endOfCandidates);
}

TEST(TrickleFragment, TakesBareLineFeedsAndCandidatesBeforeAnyMLine) {
  auto f = TrickleFragment::Parse("a=candidate:1 1 udp 1 127.0.0.1 5000 typ host\n");
  ASSERT_EQ(f.candidates.size(), 1u);
  EXPECT_EQ(f.candidates[0].mid, "");
  EXPECT_FALSE(f.endOfCandidates);
}

struct BadFragment {
  const char* name;
  std::string text;
};

class TrickleFragmentRefuses : public ::testing::TestWithParam<BadFragment> {};

TEST_P(TrickleFragmentRefuses, WithInvalidParams) {
  try {
    TrickleFragment::Parse(GetParam().text);
    FAIL() << "accepted " << GetParam().name;
  } catch (const InvalidParams& e) {
    EXPECT_EQ(e.data().value("param", ""), "body");
  }
}

std::string ManyCandidates(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i)
    s += "a=candidate:" + std::to_string(i) + " 1 udp 1 127.0.0.1 5000 typ host\r\n";
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Table, TrickleFragmentRefuses,
    ::testing::Values(BadFragment{"Empty", ""}, BadFragment{"OnlyBlankLines", "\r\n\r\n"},
                      BadFragment{"NotSdp", "hello world\r\n"}, BadFragment{"Json", "{\"candidate\": \"x\"}"},
                      BadFragment{"ControlCharacter",
                                  std::string("a=candidate:1 1 udp 1 127.0.0.1 5000 typ\x01 host")},
                      BadFragment{"NonAscii", "a=candidate:1 1 udp 1 127.0.0.1 5000 typ h\xc3\xb6st"},
                      BadFragment{"EmptyCandidate", "a=candidate:\r\n"},
                      BadFragment{"TooManyCandidates", ManyCandidates(TrickleFragment::kMaxCandidates + 1)}),
    [](const auto& info) { return std::string(info.param.name); });

// An answer as webrtcbin writes it for a BUNDLE of video and audio.
const char* kAnswer =
    "v=0\r\n"
    "o=- 1 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE video0 audio1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=mid:video0\r\n"
    "a=recvonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host\r\n"
    "a=end-of-candidates\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=mid:audio1\r\n"
    "a=recvonly\r\n"
    "a=rtpmap:111 OPUS/48000/2\r\n";

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(AddCandidates, AddsMissingOnesToTheirMLineBeforeEndOfCandidates) {
  std::string out =
      AddCandidates(kAnswer, {{0, "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"},  // there
                              {0, "candidate:2 1 UDP 2015363327 203.0.113.7 40000 typ host"},
                              {1, "a=candidate:3 1 UDP 2015363327 127.0.0.1 40002 typ host"}});
  EXPECT_EQ(Count(out, "a=candidate:1 "), 1u);
  size_t added = out.find("a=candidate:2 1 UDP 2015363327 203.0.113.7 40000 typ host\r\n");
  ASSERT_NE(added, std::string::npos) << out;
  EXPECT_LT(added, out.find("a=end-of-candidates"));
  EXPECT_LT(out.find("a=end-of-candidates"), out.find("m=audio"));
  EXPECT_GT(out.find("a=candidate:3 "), out.find("m=audio"));
}

TEST(AddCandidates, LeavesOutWhatDoesNotFit) {
  std::string out = AddCandidates(kAnswer, {{7, "candidate:9 1 UDP 1 127.0.0.1 1 typ host"},
                                            {0, "not a candidate"},
                                            {0, "candidate:8 1 UDP 1 127.0.0.1 1 typ host\r\na=inject"}});
  EXPECT_EQ(out, kAnswer);  // nothing changed, so the text is the one given
  EXPECT_EQ(AddCandidates("not sdp", {{0, "candidate:1 1 UDP 1 127.0.0.1 1 typ host"}}), "not sdp");
}

}  // namespace
}  // namespace atrium::test
