// WebRtcClient against a plain answering webrtcbin in the same process, over 127.0.0.1:
// a publisher whose media the answerer decodes, and players fed by an answerer that sends
// test sources (sink pads requested before set-remote-description, as the server will).
#include "core/GRef.hpp"
#include "core/Log.hpp"
#include "media/Ice.hpp"
#include "tests/media/Loop.hpp"
#include "tests/media/ReceiveCounter.hpp"
#include "tests/media/WebRtcClient.hpp"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#define GST_CAT_DEFAULT atrium_media_debug

namespace atrium::test {
namespace {

using CapsPtr = CPtr<GstCaps, gst_caps_unref>;
using SessionDescriptionPtr = CPtr<GstWebRTCSessionDescription, gst_webrtc_session_description_free>;

GstElement* Make(const char* factory) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  if (!e) throw std::runtime_error(std::string("missing GStreamer element ") + factory);
  return e;
}

// The answering side of a test: what the server will do, reduced to one webrtcbin.
// Receive: decodes whatever the offer sends. Send: feeds VP8/Opus test sources into the
// m-lines of a recvonly offer.
class Answerer {
public:
  enum class Mode { Receive, Send };

  // keyframeMaxDist: the Send mode's vp8enc keyframe-max-dist. webrtcbin holds RTP until
  // DTLS is up, so the first keyframe always arrives; later ones only on request.
  explicit Answerer(Mode mode, int keyframeMaxDist = 3000) : mode_(mode), keyframeMaxDist_(keyframeMaxDist) {
    pipeline_ = GRef<GstElement>::adopt(GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new("answerer"))));
    webrtc_ = Make("webrtcbin");
    media::ConfigureIce(webrtc_, media::IceConfig{.addresses = {"127.0.0.1"}});
    gst_bin_add(GST_BIN(pipeline_.get()), webrtc_);
    iceId_ = g_signal_connect(webrtc_, "on-ice-candidate", G_CALLBACK(OnIceCandidate), this);
    if (mode == Mode::Receive) receiver_ = std::make_unique<ReceiveCounter>(pipeline_.get(), webrtc_);
  }

  ~Answerer() {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    g_signal_handler_disconnect(webrtc_, iceId_);
    receiver_.reset();
  }

  std::string Answer(const std::string& offerText) {
    GstSDPMessage* sdp = nullptr;
    if (gst_sdp_message_new_from_text(offerText.c_str(), &sdp) != GST_SDP_OK)
      throw std::runtime_error("bad offer");
    SessionDescriptionPtr offer(gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp));
    if (mode_ == Mode::Send) {
      // Transceivers for a remote offer do not exist before create-answer: ask for sink_<mline>
      // by name now, so the answer carries our media (by caps, 1.22.0 picks the wrong one).
      for (guint i = 0; i < gst_sdp_message_medias_len(offer->sdp); ++i)
        AddSendBranch(i, gst_sdp_message_get_media(offer->sdp, i));
    }
    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      throw std::runtime_error("answerer pipeline failed to start");
    // Without caps on a sink pad yet, that m-line of the answer has no a=ssrc: wait.
    if (!RunUntil(
            [&] {
              return std::all_of(sinkPads_.begin(), sinkPads_.end(),
                                 [](const GRef<GstPad>& p) { return gst_pad_has_current_caps(p.get()); });
            },
            10000))
      throw std::runtime_error("answerer sources did not negotiate caps");

    PromiseWaiter setRemote;
    g_signal_emit_by_name(webrtc_, "set-remote-description", offer.get(), setRemote.get());
    setRemote.Wait("answerer set-remote-description");
    PromiseWaiter created;
    g_signal_emit_by_name(webrtc_, "create-answer", nullptr, created.get());
    GstWebRTCSessionDescription* answer = nullptr;
    if (const GstStructure* r = created.Wait("create-answer"))
      gst_structure_get(r, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
    if (!answer) throw std::runtime_error("create-answer returned no answer");
    SessionDescriptionPtr answerPtr(answer);
    PromiseWaiter setLocal;
    g_signal_emit_by_name(webrtc_, "set-local-description", answer, setLocal.get());
    setLocal.Wait("answerer set-local-description");

    remoteSet_ = true;
    for (const auto& [mline, c] : std::exchange(pending_, {}))
      g_signal_emit_by_name(webrtc_, "add-ice-candidate", guint(mline), c.c_str());
    GCharPtr text(gst_sdp_message_as_text(answer->sdp));
    GST_DEBUG_OBJECT(webrtc_, "answer created [sdp:%s]", text.get());
    return text.get();
  }

  void AddRemoteCandidate(int mline, const std::string& c) {
    if (!media::IsLoopbackUdpCandidate(c)) return;
    if (!remoteSet_)
      pending_.emplace_back(mline, c);
    else
      g_signal_emit_by_name(webrtc_, "add-ice-candidate", guint(mline), c.c_str());
  }

  GstWebRTCPeerConnectionState connectionState() const {
    GstWebRTCPeerConnectionState s = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
    g_object_get(webrtc_, "connection-state", &s, nullptr);
    return s;
  }
  bool gatheringComplete() const {
    GstWebRTCICEGatheringState s = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
    g_object_get(webrtc_, "ice-gathering-state", &s, nullptr);
    return s == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE;
  }
  ReceiveCounter& receiver() { return *receiver_; }

  std::function<void(int, const std::string&)> onLocalCandidate;  // main thread

private:
  static void OnIceCandidate(GstElement*, guint mline, gchar* c, gpointer data) {
    auto* self = static_cast<Answerer*>(data);
    PostToMain([weak = std::weak_ptr<int>(self->alive_), self, mline, c = std::string(c ? c : "")] {
      if (weak.lock() && self->onLocalCandidate) self->onLocalCandidate(int(mline), c);
    });
  }

  void AddSendBranch(guint mline, const GstSDPMedia* media) {
    int pt = std::atoi(gst_sdp_media_get_format(media, 0));
    CapsPtr caps(gst_sdp_media_get_caps_from_media(media, pt));
    if (!caps) throw std::runtime_error("offer m-line without caps");
    caps.reset(gst_caps_make_writable(caps.release()));
    GstStructure* s = gst_caps_get_structure(caps.get(), 0);
    gst_structure_set_name(s, "application/x-rtp");
    gst_structure_set(s, "media", G_TYPE_STRING, gst_sdp_media_get_media(media), nullptr);
    std::string enc = gst_structure_get_string(s, "encoding-name");

    std::vector<GstElement*> chain;
    if (enc == "VP8") {
      GstElement* src = Make("videotestsrc");
      g_object_set(src, "is-live", TRUE, nullptr);
      gst_util_set_object_arg(G_OBJECT(src), "pattern", "ball");  // moving content
      GstElement* filter = Make("capsfilter");
      CapsPtr raw(gst_caps_from_string("video/x-raw,format=I420,width=320,height=240,framerate=30/1"));
      g_object_set(filter, "caps", raw.get(), nullptr);
      GstElement* encoder = Make("vp8enc");
      g_object_set(encoder, "deadline", gint64(1), "keyframe-max-dist", keyframeMaxDist_, nullptr);
      chain = {src, filter, encoder, Make("rtpvp8pay")};
    } else if (enc == "OPUS") {
      GstElement* src = Make("audiotestsrc");
      g_object_set(src, "is-live", TRUE, nullptr);
      chain = {src, Make("opusenc"), Make("rtpopuspay")};
    } else {
      throw std::runtime_error("answerer cannot send " + enc);
    }
    g_object_set(chain.back(), "pt", guint(pt), nullptr);
    for (GstElement* e : chain) gst_bin_add(GST_BIN(pipeline_.get()), e);
    for (size_t i = 1; i < chain.size(); ++i)
      if (!gst_element_link(chain[i - 1], chain[i])) throw std::runtime_error("cannot link send branch");

    std::string padName = "sink_" + std::to_string(mline);
    GstPad* sink = gst_element_request_pad_simple(webrtc_, padName.c_str());
    if (!sink) throw std::runtime_error("webrtcbin refused " + padName);
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(sink, "transceiver", &trans, nullptr);
    if (!trans) throw std::runtime_error(padName + " has no transceiver");
    g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences",
                 caps.get(), nullptr);
    gst_object_unref(trans);
    GstPad* src = gst_element_get_static_pad(chain.back(), "src");
    GstPadLinkReturn lr = gst_pad_link(src, sink);
    gst_object_unref(src);
    sinkPads_.push_back(GRef<GstPad>::adopt(sink));
    if (GST_PAD_LINK_FAILED(lr)) throw std::runtime_error("cannot link payloader to " + padName);
  }

  Mode mode_;
  int keyframeMaxDist_;
  GRef<GstElement> pipeline_;
  GstElement* webrtc_ = nullptr;
  gulong iceId_ = 0;
  std::unique_ptr<ReceiveCounter> receiver_;
  bool remoteSet_ = false;
  std::vector<std::pair<int, std::string>> pending_;
  std::vector<GRef<GstPad>> sinkPads_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

const char* StateName(GstWebRTCPeerConnectionState s) {
  switch (s) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_NEW:
      return "new";
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTING:
      return "connecting";
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      return "connected";
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
      return "disconnected";
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      return "failed";
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
      return "closed";
  }
  return "?";
}

bool IsPinnedCandidate(const std::string& c) {
  return media::IsLoopbackUdpCandidate(c) && c.find(" 127.0.0.1 ") != std::string::npos;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// Number of mids in the offer's "a=group:BUNDLE ..." line (webrtcbin 1.22 names them video0, audio1).
size_t BundledMids(const std::string& sdp) {
  auto p = sdp.find("a=group:BUNDLE ");
  if (p == std::string::npos) return 0;
  auto end = sdp.find_first_of("\r\n", p);
  return Count(sdp.substr(p, end - p), " ");
}

constexpr int kMediaTimeoutMs = 10000;

// Runs the offer/answer between a client and an answerer with candidates trickling both
// ways, and records every candidate either side emitted.
class Call {
public:
  Call(WebRtcClient& client, Answerer& answerer) : client_(client), answerer_(answerer) {
    client_.onLocalCandidate = [this](int mline, const std::string& c) {
      emitted.push_back(c);
      answerer_.AddRemoteCandidate(mline, c);
    };
    answerer_.onLocalCandidate = [this](int mline, const std::string& c) {
      emitted.push_back(c);
      client_.AddRemoteCandidate(mline, c);
    };
  }
  ~Call() {
    client_.onLocalCandidate = nullptr;
    answerer_.onLocalCandidate = nullptr;
  }

  void Negotiate() {
    offer = client_.CreateOffer();
    answer = answerer_.Answer(offer);
    client_.SetAnswer(answer);
  }

  bool Connected() const {
    return client_.connectionState() == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED &&
           answerer_.connectionState() == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED;
  }

  std::string Describe() const {
    return std::string("client ") + StateName(client_.connectionState()) + ", answerer " +
           StateName(answerer_.connectionState()) + ", client error: " + client_.lastError();
  }

  void ExpectPinnedCandidates() const {
    ASSERT_FALSE(emitted.empty());
    for (const auto& c : emitted) {
      if (!c.empty()) {
        EXPECT_TRUE(IsPinnedCandidate(c)) << c;
      }
    }
  }

  std::string offer, answer;
  std::vector<std::string> emitted;

private:
  WebRtcClient& client_;
  Answerer& answerer_;
};

TEST(Loopback, PublisherMediaReachesAnswerer) {
  gint64 start = g_get_monotonic_time();
  WebRtcClient client(WebRtcClient::Options{.role = WebRtcClient::Role::Publisher});
  Answerer answerer(Answerer::Mode::Receive);
  Call call(client, answerer);
  call.Negotiate();
  EXPECT_EQ(Count(call.offer, "a=sendonly"), 2u) << call.offer;
  EXPECT_NE(call.offer.find("a=rtpmap:96 VP8/90000"), std::string::npos) << call.offer;
  EXPECT_NE(call.offer.find("a=rtpmap:111 OPUS/48000/2"), std::string::npos) << call.offer;
  EXPECT_EQ(Count(call.offer, "a=ssrc:"), 4u) << call.offer;  // msid + cname per m-line
  EXPECT_EQ(BundledMids(call.offer), 2u) << call.offer;
  EXPECT_EQ(Count(call.answer, "a=recvonly"), 2u) << call.answer;

  ReceiveCounter& rx = answerer.receiver();
  bool ok =
      RunUntil([&] { return call.Connected() && rx.framesDecoded() > 30 && rx.audioBuffersDecoded() > 20; },
               kMediaTimeoutMs);
  EXPECT_TRUE(ok) << call.Describe() << ", frames " << rx.framesDecoded() << ", audio "
                  << rx.audioBuffersDecoded() << ", streams " << rx.streams();
  // Branches appear in whatever order the streams' first packets arrive.
  EXPECT_TRUE(rx.streams() == "VP8,OPUS" || rx.streams() == "OPUS,VP8") << rx.streams();
  EXPECT_EQ(client.lastError(), "");
  EXPECT_EQ(client.droppedRemoteCandidates(), 0u);
  call.ExpectPinnedCandidates();
  std::fprintf(stderr, "[   info   ] first frame %.0f ms after test start, max gap %.0f ms\n",
               (rx.firstFrameTime() - start) / 1000.0, rx.maxFrameGapUs() / 1000.0);
}

// What the server will do for a new subscriber: ask the publisher for a keyframe. The
// client's encoder makes none by itself here, so a second keyframe can only come from
// the PLI/FIR.
TEST(Loopback, PublisherAnswersKeyframeRequest) {
  WebRtcClient client(WebRtcClient::Options{
      .role = WebRtcClient::Role::Publisher, .audio = false, .keyframeMaxDist = 100000});
  Answerer answerer(Answerer::Mode::Receive);
  Call call(client, answerer);
  call.Negotiate();
  ReceiveCounter& rx = answerer.receiver();
  ASSERT_TRUE(RunUntil([&] { return call.Connected() && rx.framesDecoded() > 10; }, kMediaTimeoutMs))
      << call.Describe() << ", frames " << rx.framesDecoded();
  EXPECT_EQ(rx.keyframes(), 1u);
  uint64_t before = rx.framesDecoded();
  gint64 asked = g_get_monotonic_time();
  ASSERT_TRUE(rx.RequestKeyframe());
  EXPECT_TRUE(RunUntil([&] { return rx.keyframes() >= 2; }, 3000)) << "keyframes " << rx.keyframes();
  std::fprintf(stderr, "[   info   ] keyframe %.0f ms after the request\n",
               (g_get_monotonic_time() - asked) / 1000.0);
  // The keyframe is counted at the depayloader; decoding goes on past it.
  EXPECT_TRUE(RunUntil([&] { return rx.framesDecoded() > before + 5; }, 3000))
      << "frames " << rx.framesDecoded();
}

struct PtCase {
  const char* name;
  int videoPt, audioPt;
};

class LoopbackPlayer : public ::testing::TestWithParam<PtCase> {};

TEST_P(LoopbackPlayer, DecodesAnswererMedia) {
  gint64 start = g_get_monotonic_time();
  WebRtcClient client(WebRtcClient::Options{
      .role = WebRtcClient::Role::Player, .videoPt = GetParam().videoPt, .audioPt = GetParam().audioPt});
  Answerer answerer(Answerer::Mode::Send);
  Call call(client, answerer);
  // A server's candidates may arrive before its answer: hold the answerer's back and hand
  // them all over before SetAnswer, plus two the client must drop.
  std::vector<std::pair<int, std::string>> early;
  answerer.onLocalCandidate = [&](int mline, const std::string& c) {
    call.emitted.push_back(c);
    early.emplace_back(mline, c);
  };

  std::string offer = client.CreateOffer();
  EXPECT_EQ(Count(offer, "a=recvonly"), 2u) << offer;
  EXPECT_NE(offer.find("a=rtpmap:" + std::to_string(GetParam().videoPt) + " VP8/90000"), std::string::npos)
      << offer;
  EXPECT_NE(offer.find("a=rtpmap:" + std::to_string(GetParam().audioPt) + " OPUS/48000/2"), std::string::npos)
      << offer;
  std::string answer = answerer.Answer(offer);
  EXPECT_EQ(Count(answer, "a=sendonly"), 2u) << answer;
  EXPECT_NE(answer.find("a=rtpmap:" + std::to_string(GetParam().videoPt) + " VP8/90000"), std::string::npos)
      << answer;
  EXPECT_EQ(Count(answer, "a=ssrc:"), 4u) << answer;  // msid + cname per m-line

  ASSERT_TRUE(RunUntil([&] { return answerer.gatheringComplete() && !early.empty(); }, 5000));
  for (const auto& [mline, c] : early) client.AddRemoteCandidate(mline, c);
  client.AddRemoteCandidate(0, "candidate:5 1 UDP 2015363327 192.168.1.20 41234 typ host");
  client.AddRemoteCandidate(0, "candidate:4 1 TCP 1015021823 127.0.0.1 9 typ host tcptype active");
  answerer.onLocalCandidate = [&](int mline, const std::string& c) {
    call.emitted.push_back(c);
    client.AddRemoteCandidate(mline, c);
  };
  client.SetAnswer(answer);

  bool ok = RunUntil(
      [&] { return call.Connected() && client.framesDecoded() > 30 && client.audioBuffersDecoded() > 20; },
      kMediaTimeoutMs);
  EXPECT_TRUE(ok) << call.Describe() << ", frames " << client.framesDecoded() << ", audio "
                  << client.audioBuffersDecoded();
  EXPECT_EQ(client.lastError(), "");
  EXPECT_EQ(client.droppedRemoteCandidates(), 2u);
  EXPECT_GT(client.firstFrameTime(), 0);
  EXPECT_GE(client.lastFrameTime(), client.firstFrameTime());
  call.ExpectPinnedCandidates();
  for (const auto& [mline, c] : client.localCandidates()) {
    if (!c.empty()) {
      EXPECT_TRUE(IsPinnedCandidate(c)) << c;
    }
  }
  std::fprintf(stderr, "[   info   ] first frame %.0f ms after test start, max gap %.0f ms\n",
               (client.firstFrameTime() - start) / 1000.0, client.maxFrameGapUs() / 1000.0);
}

INSTANTIATE_TEST_SUITE_P(PayloadTypes, LoopbackPlayer,
                         ::testing::Values(PtCase{"Chromium", 96, 111}, PtCase{"Aiortc", 97, 96}),
                         [](const ::testing::TestParamInfo<PtCase>& info) {
                           return std::string(info.param.name);
                         });

// A subscriber that cannot decode asks for a keyframe; the sender here makes none by itself.
TEST(Loopback, PlayerKeyframeRequestReachesSender) {
  WebRtcClient client(WebRtcClient::Options{.role = WebRtcClient::Role::Player, .audio = false});
  Answerer answerer(Answerer::Mode::Send, 100000);
  Call call(client, answerer);
  call.Negotiate();
  ASSERT_TRUE(RunUntil([&] { return call.Connected() && client.framesDecoded() > 10; }, kMediaTimeoutMs))
      << call.Describe() << ", frames " << client.framesDecoded();
  EXPECT_EQ(client.keyframesReceived(), 1u);
  ASSERT_TRUE(client.RequestKeyframe());
  EXPECT_TRUE(RunUntil([&] { return client.keyframesReceived() >= 2; }, 3000))
      << "keyframes " << client.keyframesReceived();
}

}  // namespace
}  // namespace atrium::test
