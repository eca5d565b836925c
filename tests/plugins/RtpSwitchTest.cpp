// atriumrtpswitch driven through GstHarness: one harness per input pad and one on src.
// Continuity of the output across switches, switching only at keyframes, fallback
// when the target stops, keyframe detection per codec, release and EOS.
#include "gstatrium.h"

#include <gst/check/gstharness.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr GstClockTime kMs = GST_MSECOND;

struct HarnessDeleter {
  void operator()(GstHarness* h) const { gst_harness_teardown(h); }
};
using Harness = std::unique_ptr<GstHarness, HarnessDeleter>;

guint32 Ticks(GstClockTime t, int rate = 90000) {
  return guint32(gst_util_uint64_scale(t, rate, GST_SECOND));
}

GstBuffer* Rtp(guint32 ssrc, guint16 seq, guint32 ts, GstClockTime pts, bool marker,
               const std::vector<guint8>& payload, guint8 pt = 96) {
  GstBuffer* b = gst_rtp_buffer_new_allocate(guint(payload.size()), 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  EXPECT_TRUE(gst_rtp_buffer_map(b, GST_MAP_WRITE, &rtp));
  gst_rtp_buffer_set_ssrc(&rtp, ssrc);
  gst_rtp_buffer_set_seq(&rtp, seq);
  gst_rtp_buffer_set_timestamp(&rtp, ts);
  gst_rtp_buffer_set_marker(&rtp, marker);
  gst_rtp_buffer_set_payload_type(&rtp, pt);
  if (!payload.empty()) memcpy(gst_rtp_buffer_get_payload(&rtp), payload.data(), payload.size());
  gst_rtp_buffer_unmap(&rtp);
  GST_BUFFER_PTS(b) = pts;
  return b;
}

// RFC 7741 payload descriptor: S bit, partition 0, optional picture id and TL0PICIDX.
std::vector<guint8> Vp8Descriptor(bool start, int pid, bool wide, int tl0) {
  std::vector<guint8> d;
  bool x = pid >= 0 || tl0 >= 0;
  d.push_back(guint8((x ? 0x80 : 0) | (start ? 0x10 : 0)));
  if (x) {
    d.push_back(guint8((pid >= 0 ? 0x80 : 0) | (tl0 >= 0 ? 0x40 : 0)));
    if (pid >= 0 && wide) {
      d.push_back(guint8(0x80 | (pid >> 8)));
      d.push_back(guint8(pid & 0xff));
    } else if (pid >= 0) {
      d.push_back(guint8(pid & 0x7f));
    }
    if (tl0 >= 0) d.push_back(guint8(tl0));
  }
  return d;
}

struct Packet {
  guint16 seq = 0;
  guint32 ts = 0;
  guint32 ssrc = 0;
  bool marker = false;
  guint8 pt = 0;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  std::vector<guint8> payload;

  // The test sources end every payload with their input's tag.
  int tag() const { return payload.empty() ? -1 : payload.back(); }
};

struct Vp8Fields {
  int pid = -1;
  bool wide = false;
  int tl0 = -1;
  bool keyframe = false;
};

Vp8Fields ParseVp8(const std::vector<guint8>& p) {
  Vp8Fields f;
  size_t at = 1;
  if (p.empty()) return f;
  if (p[0] & 0x80) {
    guint8 ext = p[at++];
    if (ext & 0x80) {
      f.wide = p[at] & 0x80;
      f.pid = f.wide ? ((p[at] & 0x7f) << 8) | p[at + 1] : p[at] & 0x7f;
      at += f.wide ? 2 : 1;
    }
    if (ext & 0x40) f.tl0 = p[at++];
    if (ext & 0x30) at++;
  }
  f.keyframe = (p[0] & 0x10) && (p[0] & 0x07) == 0 && at < p.size() && !(p[at] & 0x01);
  return f;
}

// One publisher's RTP stream into one sink pad, VP8 unless told otherwise.
struct Source {
  Harness h;
  guint8 tag = 0;
  guint32 ssrc = 0;
  guint16 seq = 0;
  guint32 ts0 = 0;
  int pid = -1;
  bool wide = true;
  int tl0 = -1;

  GstFlowReturn Push(guint16 s, GstClockTime pts, bool marker, std::vector<guint8> payload,
                     guint32 ts_offset = 0) {
    payload.push_back(tag);
    return gst_harness_push(h.get(), Rtp(ssrc, s, ts0 + Ticks(pts) + ts_offset, pts, marker, payload));
  }
  // A frame of `packets` packets, marker on the last; picture id and TL0PICIDX
  // advance per frame.
  GstFlowReturn Frame(GstClockTime pts, bool key, int packets = 1) {
    GstFlowReturn ret = GST_FLOW_OK;
    for (int i = 0; i < packets; ++i) {
      std::vector<guint8> p = Vp8Descriptor(i == 0, pid, wide, tl0);
      if (i == 0) p.push_back(key ? 0x00 : 0x01);  // VP8 payload header, P bit
      p.push_back(0xAA);
      ret = Push(seq++, pts, i == packets - 1, p);
    }
    if (pid >= 0) pid = (pid + 1) & (wide ? 0x7fff : 0x7f);
    if (tl0 >= 0) tl0 = (tl0 + 1) & 0xff;
    return ret;
  }
};

struct Switch {
  int from;
  int to;
  std::string reason;
  bool operator==(const Switch& o) const { return from == o.from && to == o.to && reason == o.reason; }
};
std::ostream& operator<<(std::ostream& os, const Switch& s) {
  return os << s.from << "->" << s.to << " (" << s.reason << ")";
}

std::string Vp8Caps(guint32 ssrc) {
  return "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96,ssrc=(uint)" +
         std::to_string(ssrc);
}

class RtpSwitch : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(gst_atrium_register_static());
    switch_ = gst_element_factory_make("atriumrtpswitch", nullptr);
    ASSERT_NE(switch_, nullptr);
    gst_object_ref_sink(switch_);
    bus_ = gst_bus_new();
    gst_element_set_bus(switch_, bus_);
  }
  void TearDown() override {
    sources_.clear();
    out_.reset();
    if (switch_) {
      gst_element_set_bus(switch_, nullptr);
      gst_object_unref(switch_);
    }
    if (bus_) gst_object_unref(bus_);
  }

  GstHarness* Out() {
    if (!out_) out_.reset(gst_harness_new_with_element(switch_, nullptr, "src"));
    return out_.get();
  }

  Source& AddInput(int index, guint32 ssrc, guint16 seq, guint32 ts0, int pid = -1, bool wide = true,
                   int tl0 = -1, const std::string& caps = "") {
    std::string pad = "sink_" + std::to_string(index);
    Source& s = sources_[index];
    s.h.reset(gst_harness_new_with_element(switch_, pad.c_str(), nullptr));
    gst_harness_set_src_caps_str(s.h.get(), (caps.empty() ? Vp8Caps(ssrc) : caps).c_str());
    s.tag = guint8(index);
    s.ssrc = ssrc;
    s.seq = seq;
    s.ts0 = ts0;
    s.pid = pid;
    s.wide = wide;
    s.tl0 = tl0;
    return s;
  }

  void SetTarget(guint target) { g_object_set(switch_, "target", target, nullptr); }
  int Active() {
    gint active = -2;
    g_object_get(switch_, "active", &active, nullptr);
    return active;
  }
  guint32 Ssrc() {
    guint ssrc = 0;
    g_object_get(switch_, "ssrc", &ssrc, nullptr);
    return ssrc;
  }

  std::vector<Packet> Drain() {
    std::vector<Packet> out;
    while (GstBuffer* b = gst_harness_try_pull(Out())) {
      Packet p;
      GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
      EXPECT_TRUE(gst_rtp_buffer_map(b, GST_MAP_READ, &rtp));
      p.seq = gst_rtp_buffer_get_seq(&rtp);
      p.ts = gst_rtp_buffer_get_timestamp(&rtp);
      p.ssrc = gst_rtp_buffer_get_ssrc(&rtp);
      p.marker = gst_rtp_buffer_get_marker(&rtp);
      p.pt = gst_rtp_buffer_get_payload_type(&rtp);
      auto* data = static_cast<const guint8*>(gst_rtp_buffer_get_payload(&rtp));
      p.payload.assign(data, data + gst_rtp_buffer_get_payload_len(&rtp));
      gst_rtp_buffer_unmap(&rtp);
      p.pts = GST_BUFFER_PTS(b);
      gst_buffer_unref(b);
      out.push_back(p);
    }
    return out;
  }

  std::vector<Switch> Switches() {
    std::vector<Switch> out;
    while (GstMessage* m = gst_bus_pop_filtered(bus_, GST_MESSAGE_ELEMENT)) {
      const GstStructure* s = gst_message_get_structure(m);
      if (gst_structure_has_name(s, "atrium-rtpswitch")) {
        Switch sw{-9, -9, ""};
        EXPECT_TRUE(gst_structure_get_int(s, "from", &sw.from));
        EXPECT_TRUE(gst_structure_get_int(s, "to", &sw.to));
        const char* reason = gst_structure_get_string(s, "reason");
        sw.reason = reason ? reason : "";
        out.push_back(sw);
      }
      gst_message_unref(m);
    }
    return out;
  }

  // ForceKeyUnit events that reached this input's upstream since the last call.
  static int KeyUnitRequests(Source& s) {
    int n = 0;
    while (GstEvent* e = gst_harness_try_pull_upstream_event(s.h.get())) {
      if (gst_video_event_is_force_key_unit(e)) {
        gboolean all_headers = FALSE;
        EXPECT_TRUE(gst_video_event_parse_upstream_force_key_unit(e, nullptr, &all_headers, nullptr));
        EXPECT_TRUE(all_headers);
        ++n;
      }
      gst_event_unref(e);
    }
    return n;
  }

  // The downstream events seen on src so far, by type.
  std::vector<GstEvent*> DownstreamEvents() {
    std::vector<GstEvent*> out;
    while (GstEvent* e = gst_harness_try_pull_event(Out())) out.push_back(e);
    return out;
  }
  static int Count(const std::vector<GstEvent*>& events, GstEventType type) {
    int n = 0;
    for (GstEvent* e : events) n += GST_EVENT_TYPE(e) == type;
    return n;
  }
  static void Unref(std::vector<GstEvent*>& events) {
    for (GstEvent* e : events) gst_event_unref(e);
    events.clear();
  }

  GstElement* switch_ = nullptr;
  GstBus* bus_ = nullptr;
  std::map<int, Source> sources_;
  Harness out_;
};

// Tags of the inputs in output order, runs collapsed: {0, 1, 0} = 0 then 1 then 0.
std::vector<int> Runs(const std::vector<Packet>& packets) {
  std::vector<int> runs;
  for (const Packet& p : packets)
    if (runs.empty() || runs.back() != p.tag()) runs.push_back(p.tag());
  return runs;
}

TEST_F(RtpSwitch, OutputIsContinuousAcrossSwitches) {
  Out();
  // Three encodings with unrelated numbering, each about to wrap something: s1's
  // sequence numbers, timestamps and 15-bit picture id, s0's TL0PICIDX, s2's 7-bit
  // picture id.
  Source& s0 = AddInput(0, 0x1000, 100, 1000, 7, true, 250);
  Source& s1 = AddInput(1, 0x2000, 65530, 0xFFFF0000u, 32760, true);
  Source& s2 = AddInput(2, 0x3000, 5, 77, 120, false, 3);
  auto frames = [&](int k, int key_on) {
    GstClockTime t = k * 40 * kMs;
    s0.Frame(t, key_on == 0 || k == 0, 2);
    s1.Frame(t + 10 * kMs, key_on == 1, 3);
    s2.Frame(t + 20 * kMs, key_on == 2, 1);
  };
  for (int k = 0; k < 4; ++k) frames(k, -1);
  SetTarget(1);
  frames(4, -1);
  frames(5, 1);
  SetTarget(2);
  frames(6, -1);
  frames(7, 2);
  SetTarget(0);
  frames(8, -1);
  frames(9, 0);
  frames(10, -1);

  std::vector<Packet> out = Drain();
  ASSERT_GT(out.size(), 20u);
  EXPECT_EQ(Runs(out), (std::vector<int>{0, 1, 2, 0}));
  EXPECT_EQ(Switches(), (std::vector<Switch>{{-1, 0, "target"}, {0, 1, "target"}, {1, 2, "target"}, {2, 0, "target"}}));
  EXPECT_EQ(Active(), 0);

  // The first packet keeps s0's numbering; the rest follow from it.
  EXPECT_EQ(out[0].seq, 100);
  EXPECT_EQ(out[0].ts, 1000u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].ssrc, Ssrc()) << "packet " << i;
    EXPECT_EQ(out[i].pts % (10 * kMs), 0u) << "output is timestamped in running time";
  }
  for (size_t i = 1; i < out.size(); ++i) {
    const Packet& a = out[i - 1];
    const Packet& b = out[i];
    EXPECT_EQ(guint16(b.seq - a.seq), 1) << "packet " << i;
    // Every packet's RTP time advances exactly by the running time since the one before
    // (all times here are whole milliseconds at 90 kHz), switches included.
    EXPECT_EQ(guint32(b.ts - a.ts), Ticks(b.pts - a.pts)) << "packet " << i;
    Vp8Fields va = ParseVp8(a.payload), vb = ParseVp8(b.payload);
    ASSERT_GE(va.pid, 0);
    ASSERT_GE(vb.pid, 0);
    EXPECT_EQ(vb.wide, b.tag() != 2) << "the descriptor keeps its picture id width";
    int mask = vb.wide ? 0x7fff : 0x7f;
    if (a.pts == b.pts)
      EXPECT_EQ(vb.pid, va.pid) << "packet " << i;
    else
      EXPECT_EQ(vb.pid, (va.pid + 1) & mask) << "packet " << i;
  }
  // TL0PICIDX, where the inputs carry it, goes up by one per frame across switches.
  const Packet* last = nullptr;
  int tl0_frames = 0;
  for (const Packet& p : out) {
    Vp8Fields v = ParseVp8(p.payload);
    EXPECT_EQ(v.tl0 >= 0, p.tag() != 1);
    if (v.tl0 < 0) continue;
    if (last) {
      int prev = ParseVp8(last->payload).tl0;
      EXPECT_EQ(v.tl0, last->pts == p.pts ? prev : (prev + 1) & 0xff);
      tl0_frames += last->pts != p.pts;
    }
    last = &p;
  }
  EXPECT_GT(tl0_frames, 5);
}

TEST_F(RtpSwitch, WaitsForAKeyframeOfTheNewInput) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0, 1);
  Source& s1 = AddInput(1, 0x2000, 5000, 123456, 900);
  s0.Frame(0, true);
  s1.Frame(0, false);
  s0.Frame(40 * kMs, false);
  s1.Frame(40 * kMs, false);
  EXPECT_EQ(KeyUnitRequests(s1), 0) << "nothing asked of an input that is not wanted";
  EXPECT_EQ(Switches(), (std::vector<Switch>{{-1, 0, "target"}}));

  SetTarget(1);
  EXPECT_EQ(KeyUnitRequests(s1), 1) << "asked for a keyframe as soon as it is wanted";
  EXPECT_EQ(Active(), 0);
  // Delta frames of s1 are dropped, s0 goes on; at most one request per 300 ms.
  for (int k = 2; k <= 8; ++k) {
    EXPECT_EQ(s0.Frame(k * 40 * kMs, false), GST_FLOW_OK);
    EXPECT_EQ(s1.Frame(k * 40 * kMs, false, 2), GST_FLOW_OK);
  }
  EXPECT_EQ(KeyUnitRequests(s1), 0) << "the last request was less than 300 ms ago";
  s0.Frame(9 * 40 * kMs, false);  // 360 ms: 320 ms after the request
  EXPECT_EQ(KeyUnitRequests(s1), 1);
  s1.Frame(9 * 40 * kMs, false);
  EXPECT_EQ(Active(), 0);
  EXPECT_TRUE(Switches().empty());

  std::vector<Packet> before = Drain();
  EXPECT_EQ(Runs(before), (std::vector<int>{0}));
  EXPECT_EQ(before.size(), 10u);

  s1.Frame(400 * kMs, true, 3);
  EXPECT_EQ(Switches(), (std::vector<Switch>{{0, 1, "target"}}));
  EXPECT_EQ(Active(), 1);
  s0.Frame(400 * kMs, false);
  s1.Frame(440 * kMs, false);
  EXPECT_EQ(KeyUnitRequests(s1), 0);
  EXPECT_EQ(KeyUnitRequests(s0), 0);

  std::vector<Packet> after = Drain();
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(Runs(after), (std::vector<int>{1}));
  EXPECT_TRUE(ParseVp8(after[0].payload).keyframe) << "switched exactly at the keyframe";
  EXPECT_EQ(after[0].seq, guint16(before.back().seq + 1));
  EXPECT_EQ(after[0].ts, before.back().ts + Ticks(40 * kMs));
  EXPECT_EQ(ParseVp8(after[0].payload).pid, (ParseVp8(before.back().payload).pid + 1) & 0x7fff);
}

TEST_F(RtpSwitch, FallsBackWhenTheTargetStopsAndRestoresIt) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0, 1);
  Source& s1 = AddInput(1, 0x2000, 700, 5000, 50);
  SetTarget(1);
  s1.Frame(0, true);
  s0.Frame(0, true);
  EXPECT_EQ(Switches(), (std::vector<Switch>{{-1, 1, "target"}}));
  Drain();

  // s1 goes quiet. Within the timeout (1000 ms of s0's running time) nothing changes and
  // nothing is asked of s0.
  for (int k = 1; k <= 25; ++k) s0.Frame(k * 40 * kMs, false);
  EXPECT_EQ(Active(), 1);
  EXPECT_EQ(KeyUnitRequests(s0), 0);
  EXPECT_TRUE(Drain().empty());
  // 1040 ms: s1 has stopped. s0 is asked for a keyframe and forwarded from it.
  s0.Frame(26 * 40 * kMs, false);
  EXPECT_EQ(KeyUnitRequests(s0), 1);
  EXPECT_TRUE(Drain().empty());
  s0.Frame(27 * 40 * kMs, true);
  EXPECT_EQ(Switches(), (std::vector<Switch>{{1, 0, "fallback"}}));
  EXPECT_EQ(Active(), 0);
  guint target = 99;
  g_object_get(switch_, "target", &target, nullptr);
  EXPECT_EQ(target, 1u) << "the target stays what the application asked for";
  std::vector<Packet> fallback = Drain();
  ASSERT_EQ(fallback.size(), 1u);
  // The RTP clock went on through the silence.
  EXPECT_EQ(fallback[0].ts, 5000u + Ticks(1080 * kMs));

  // s1 comes back: asked for a keyframe, restored at it.
  s0.Frame(28 * 40 * kMs, false);
  s1.Frame(28 * 40 * kMs, false);
  EXPECT_EQ(KeyUnitRequests(s1), 1);
  EXPECT_EQ(Active(), 0);
  s0.Frame(29 * 40 * kMs, false);
  s1.Frame(29 * 40 * kMs, true);
  EXPECT_EQ(Switches(), (std::vector<Switch>{{0, 1, "restore"}}));
  EXPECT_EQ(Active(), 1);
  std::vector<Packet> out = Drain();
  EXPECT_EQ(Runs(out), (std::vector<int>{0, 1}));
  EXPECT_EQ(out.front().seq, guint16(fallback.back().seq + 1));
}

TEST_F(RtpSwitch, FallsBackBelowTheTargetFirstThenAbove) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  Source& s2 = AddInput(2, 0x3000, 10, 0);
  Source& s3 = AddInput(3, 0x4000, 10, 0);
  g_object_set(switch_, "timeout", guint64(100), nullptr);
  SetTarget(1);  // never seen: stopped
  s3.Frame(0, true);
  s2.Frame(0, true);
  s0.Frame(0, true);
  EXPECT_EQ(Switches(), (std::vector<Switch>{{-1, 3, "fallback"}, {3, 2, "fallback"}, {2, 0, "fallback"}}))
      << "the lowest above the target, then the highest below it";
  // s0 stops (100 ms after its last buffer): the lowest above the target takes over.
  for (int k = 1; k <= 5; ++k) {
    s2.Frame(k * 40 * kMs, true);
    s3.Frame(k * 40 * kMs, true);
  }
  EXPECT_EQ(Switches(), (std::vector<Switch>{{0, 2, "fallback"}}));
  std::vector<Packet> out = Drain();
  EXPECT_EQ(Runs(out), (std::vector<int>{3, 2, 0, 2}));
  EXPECT_EQ(out.back().pts, 200 * kMs);
}

TEST_F(RtpSwitch, TimestampsAdvanceAtLeastOneTickAtASwitch) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 500);
  Source& s1 = AddInput(1, 0x2000, 20, 900000);
  s0.Frame(0, true);
  s0.Frame(40 * kMs, false);
  SetTarget(1);
  s1.Frame(40 * kMs, true);  // the same capture time as s0's last frame
  std::vector<Packet> out = Drain();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].tag(), 1);
  EXPECT_EQ(out[2].ts, out[1].ts + 1);
}

TEST_F(RtpSwitch, KeepsGapsWithinAnInputAndDropsPacketsFromBeforeTheSwitch) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  Source& s1 = AddInput(1, 0x2000, 300, 0);
  s0.Frame(0, true);
  SetTarget(1);
  s1.Push(300, 0, true, {0x10, 0x01});       // delta: dropped
  s1.Push(302, 40 * kMs, false, {0x10, 0x00});  // keyframe start
  s1.Push(301, 0, true, {0x00, 0xAA});       // late, from before the switch
  s1.Push(304, 40 * kMs, true, {0x00, 0xAA});  // 303 lost
  s1.Push(303, 40 * kMs, false, {0x00, 0xAA});  // reordered after the switch
  std::vector<Packet> out = Drain();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].seq, out[0].seq + 1);
  EXPECT_EQ(out[2].seq, out[0].seq + 3);
  EXPECT_EQ(out[3].seq, out[0].seq + 2);
  // The next switch continues after the highest number sent, not the last.
  SetTarget(0);
  s0.Frame(80 * kMs, true);
  out = Drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].seq, 10 + 4);
}

TEST_F(RtpSwitch, SevenBitPictureIdsWrap) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0, 0x7ffd, true);
  Source& s1 = AddInput(1, 0x2000, 10, 0, 3, false);
  s0.Frame(0, true);
  s0.Frame(40 * kMs, false);  // 0x7ffe
  SetTarget(1);
  s1.Frame(80 * kMs, true);   // carries 0x7fff in 7 bits
  s1.Frame(120 * kMs, false);
  s1.Frame(160 * kMs, false);
  std::vector<Packet> out = Drain();
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(ParseVp8(out[1].payload).pid, 0x7ffe);
  EXPECT_FALSE(ParseVp8(out[2].payload).wide);
  EXPECT_EQ(ParseVp8(out[2].payload).pid, 0x7f);
  EXPECT_EQ(ParseVp8(out[3].payload).pid, 0);
  EXPECT_EQ(ParseVp8(out[4].payload).pid, 1);
}

// ---- keyframe detection, through the element: does a packet end a pending switch? ----

struct KeyCase {
  const char* name;
  const char* encoding;  // nullptr: caps without encoding-name
  int prev_marker;       // -1: candidate is the input's first packet; else a packet before it
  std::vector<guint8> payload;
  bool switches;
};

void PrintTo(const KeyCase& c, std::ostream* os) { *os << c.name; }

class RtpSwitchKeyframe : public RtpSwitch, public ::testing::WithParamInterface<KeyCase> {};

TEST_P(RtpSwitchKeyframe, SwitchesOnlyAtAKeyframe) {
  const KeyCase& c = GetParam();
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  std::string caps = "application/x-rtp,media=video,clock-rate=90000,payload=97";
  if (c.encoding) caps += std::string(",encoding-name=") + c.encoding;
  Source& s1 = AddInput(1, 0x2000, 100, 0, -1, true, -1, caps);
  s0.Frame(0, true);
  SetTarget(1);
  if (c.prev_marker >= 0) s1.Push(s1.seq++, 20 * kMs, c.prev_marker == 1, {0x00, 0x00});
  EXPECT_EQ(Active(), 0);
  s1.Push(s1.seq++, 40 * kMs, false, c.payload);
  EXPECT_EQ(Active(), c.switches ? 1 : 0);
  std::vector<Packet> out = Drain();
  ASSERT_EQ(out.size(), c.switches ? 2u : 1u);
  if (c.switches) {
    std::vector<guint8> expected = c.payload;
    expected.push_back(1);
    EXPECT_EQ(out[1].payload, expected);
  }
}

INSTANTIATE_TEST_SUITE_P(
    RtpSwitch, RtpSwitchKeyframe,
    ::testing::Values(
        KeyCase{"Vp8Key", "VP8", -1, {0x10, 0x00, 0x9d, 0x01, 0x2a}, true},
        KeyCase{"Vp8Delta", "VP8", -1, {0x10, 0x01, 0x00}, false},
        KeyCase{"Vp8KeyNotAtStart", "VP8", -1, {0x00, 0x00}, false},
        KeyCase{"Vp8KeyOtherPartition", "VP8", -1, {0x11, 0x00}, false},
        KeyCase{"Vp8Key7BitPictureId", "VP8", -1, {0x90, 0x80, 0x05, 0x00}, true},
        KeyCase{"Vp8KeyPictureIdTl0Tid", "VP8", -1, {0x90, 0xe0, 0x81, 0x23, 0x07, 0x40, 0x00}, true},
        KeyCase{"Vp8DeltaPictureIdTl0Tid", "VP8", -1, {0x90, 0xe0, 0x81, 0x23, 0x07, 0x40, 0x01}, false},
        KeyCase{"Vp8KeyKeyIdx", "VP8", -1, {0x90, 0x10, 0x20, 0x00}, true},
        KeyCase{"Vp8Truncated", "VP8", -1, {0x90, 0x80}, false},
        KeyCase{"Vp8LowerCaseName", "vp8", -1, {0x10, 0x00}, true},
        KeyCase{"H264IdrSingleNal", "H264", -1, {0x65, 0x88, 0x84}, true},
        KeyCase{"H264SpsSingleNal", "H264", -1, {0x67, 0x42, 0x00, 0x1f}, true},
        KeyCase{"H264NonIdrSlice", "H264", -1, {0x41, 0x9a, 0x00}, false},
        KeyCase{"H264StapAWithSps", "H264", -1, {0x78, 0x00, 0x04, 0x67, 0x42, 0x00, 0x1f, 0x00, 0x02, 0x68, 0xce}, true},
        KeyCase{"H264StapAWithIdrLast", "H264", -1, {0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x65, 0x88}, true},
        KeyCase{"H264StapAWithoutKey", "H264", -1, {0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x41, 0x9a}, false},
        KeyCase{"H264StapATruncated", "H264", -1, {0x78, 0x00, 0x10, 0x67}, false},
        KeyCase{"H264FuAStartOfIdr", "H264", -1, {0x7c, 0x85, 0x88}, true},
        KeyCase{"H264FuAMiddleOfIdr", "H264", -1, {0x7c, 0x05, 0x88}, false},
        KeyCase{"H264FuAStartOfNonIdr", "H264", -1, {0x7c, 0x81, 0x9a}, false},
        KeyCase{"Vp9Key", "VP9", -1, {0x88, 0x05, 0x00}, true},
        KeyCase{"Vp9InterFrame", "VP9", -1, {0xc8, 0x05, 0x00}, false},
        KeyCase{"Vp9NotAtStart", "VP9", -1, {0x84, 0x05, 0x00}, false},
        KeyCase{"Vp9KeySpatialLayer0", "VP9", -1, {0xa8, 0x05, 0x00, 0x00}, true},
        KeyCase{"Vp9KeySpatialLayer1", "VP9", -1, {0xa8, 0x05, 0x02, 0x00}, false},
        KeyCase{"OtherAfterMarker", "X-ATRIUM-TEST", 1, {0x42}, true},
        KeyCase{"OtherNotAfterMarker", "X-ATRIUM-TEST", 0, {0x42}, false},
        KeyCase{"OtherFirstPacket", "X-ATRIUM-TEST", -1, {0x42}, false},
        KeyCase{"NoEncodingNameAfterMarker", nullptr, 1, {0x42}, true}),
    [](const ::testing::TestParamInfo<KeyCase>& info) { return std::string(info.param.name); });

// ---- pads, events, flow ----

TEST_F(RtpSwitch, ReleasingTheActiveInputFallsBack) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  Source& s1 = AddInput(1, 0x2000, 20, 0);
  SetTarget(1);
  s1.Frame(0, true);
  s0.Frame(0, false);
  std::vector<Packet> before = Drain();
  ASSERT_EQ(before.size(), 1u);
  Switches();
  KeyUnitRequests(s0);

  sources_.erase(1);  // tears the harness down: releases sink_1
  EXPECT_EQ(Active(), -1);
  EXPECT_EQ(KeyUnitRequests(s0), 1);
  s0.Frame(40 * kMs, false);
  EXPECT_TRUE(Drain().empty());
  s0.Frame(80 * kMs, true);
  EXPECT_EQ(Switches(), (std::vector<Switch>{{1, 0, "fallback"}}));
  std::vector<Packet> after = Drain();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].seq, guint16(before[0].seq + 1));
  EXPECT_EQ(after[0].ts, before[0].ts + Ticks(80 * kMs));
}

TEST_F(RtpSwitch, ReleasingAnInputWhileItStreamsIsSafe) {
  Out();
  gst_harness_set_drop_buffers(Out(), TRUE);
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  Source& s1 = AddInput(1, 0x2000, 20, 0);
  SetTarget(1);
  s1.Frame(0, true);
  GstPad* sink1 = gst_element_get_static_pad(switch_, "sink_1");
  ASSERT_NE(sink1, nullptr);

  std::atomic<bool> released{false};
  std::atomic<int> pushed{0};
  std::thread streamer([&] {
    // Pushes until well after the release; afterwards the harness is unlinked.
    for (int k = 1; k < 20000 && !(released && pushed > 200); ++k) {
      GstFlowReturn r = s1.Frame(k * kMs, k % 50 == 0);
      EXPECT_TRUE(r == GST_FLOW_OK || r == GST_FLOW_NOT_LINKED || r == GST_FLOW_FLUSHING)
          << gst_flow_get_name(r);
      if (released) ++pushed;
    }
  });
  g_usleep(20000);
  gst_element_release_request_pad(switch_, sink1);
  released = true;
  streamer.join();
  gst_object_unref(sink1);
  EXPECT_EQ(Active(), -1);
  s0.Frame(30 * GST_SECOND, true);
  EXPECT_EQ(Active(), 0);
}

TEST_F(RtpSwitch, InputsThatAreNotForwardedNeverWaitForDownstream) {
  gst_harness_set_blocking_push_mode(Out());
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  Source& s1 = AddInput(1, 0x2000, 20, 0);
  std::thread active([&] { EXPECT_EQ(s0.Frame(0, true), GST_FLOW_OK); });
  // s0's push is now held downstream.
  for (int i = 0; i < 5000 && gst_harness_buffers_received(Out()) < 1; ++i) g_usleep(1000);
  ASSERT_EQ(gst_harness_buffers_received(Out()), 1u);
  EXPECT_EQ(s1.Frame(0, false), GST_FLOW_OK);
  EXPECT_EQ(s1.Frame(40 * kMs, true), GST_FLOW_OK);
  sources_.erase(1);  // releasing it does not wait either
  GstBuffer* b = gst_harness_pull(Out());
  active.join();
  ASSERT_NE(b, nullptr);
  gst_buffer_unref(b);
  EXPECT_EQ(Active(), 0);
}

TEST_F(RtpSwitch, EosOnTheActiveInputFallsBackAtOnce) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  Source& s1 = AddInput(1, 0x2000, 20, 0);
  SetTarget(1);
  s1.Frame(0, true);
  s0.Frame(0, false);
  KeyUnitRequests(s0);
  Switches();
  ASSERT_TRUE(gst_harness_push_event(s1.h.get(), gst_event_new_eos()));
  EXPECT_EQ(Active(), -1);
  EXPECT_EQ(KeyUnitRequests(s0), 1);
  std::vector<GstEvent*> events = DownstreamEvents();
  EXPECT_EQ(Count(events, GST_EVENT_EOS), 0) << "one input ended, not the output";
  Unref(events);
  s0.Frame(40 * kMs, true);
  EXPECT_EQ(Switches(), (std::vector<Switch>{{1, 0, "fallback"}}));
  EXPECT_EQ(Drain().size(), 2u);
}

TEST_F(RtpSwitch, EosOnlyWhenEveryInputHasEnded) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  Source& s1 = AddInput(1, 0x2000, 20, 0);
  s0.Frame(0, true);
  s1.Frame(0, true);
  ASSERT_TRUE(gst_harness_push_event(s0.h.get(), gst_event_new_eos()));
  std::vector<GstEvent*> events = DownstreamEvents();
  EXPECT_EQ(Count(events, GST_EVENT_EOS), 0);
  Unref(events);
  ASSERT_TRUE(gst_harness_push_event(s1.h.get(), gst_event_new_eos()));
  events = DownstreamEvents();
  EXPECT_EQ(Count(events, GST_EVENT_EOS), 1);
  Unref(events);
}

TEST_F(RtpSwitch, ReleasingTheLastRunningInputEndsTheOutput) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  AddInput(1, 0x2000, 20, 0);
  s0.Frame(0, true);
  ASSERT_TRUE(gst_harness_push_event(s0.h.get(), gst_event_new_eos()));
  std::vector<GstEvent*> events = DownstreamEvents();
  EXPECT_EQ(Count(events, GST_EVENT_EOS), 0);
  Unref(events);
  sources_.erase(1);
  events = DownstreamEvents();
  EXPECT_EQ(Count(events, GST_EVENT_EOS), 1);
  Unref(events);
}

TEST_F(RtpSwitch, OneStreamStartOneSegmentAndTheActiveInputsCaps) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0, -1, true, -1,
                        Vp8Caps(0x1000) + ",clock-base=(uint)5,seqnum-base=(uint)10");
  Source& s1 = AddInput(1, 0x2000, 20, 0, -1, true, -1,
                        Vp8Caps(0x2000) + ",clock-base=(uint)77,seqnum-base=(uint)20");
  Source& s2 = AddInput(2, 0x3000, 30, 0, -1, true, -1,
                        "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=100");
  s0.Frame(0, true);
  s1.Frame(0, false);
  SetTarget(1);
  s1.Frame(40 * kMs, true);
  SetTarget(2);
  s2.Frame(80 * kMs, true);
  EXPECT_EQ(Drain().size(), 3u);

  std::vector<GstEvent*> events = DownstreamEvents();
  std::vector<GstEventType> types;
  for (GstEvent* e : events) types.push_back(GST_EVENT_TYPE(e));
  // Inputs 0 and 1 differ only in what the switch rewrites: one caps event for both.
  EXPECT_EQ(types, (std::vector<GstEventType>{GST_EVENT_STREAM_START, GST_EVENT_CAPS, GST_EVENT_SEGMENT,
                                              GST_EVENT_CAPS}));
  ASSERT_EQ(types.size(), 4u);
  const GstSegment* segment = nullptr;
  gst_event_parse_segment(events[2], &segment);
  EXPECT_EQ(segment->format, GST_FORMAT_TIME);
  GstCaps* caps = nullptr;
  gst_event_parse_caps(events[1], &caps);
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  guint ssrc = 0;
  EXPECT_TRUE(gst_structure_get_uint(s, "ssrc", &ssrc));
  EXPECT_EQ(ssrc, Ssrc());
  EXPECT_FALSE(gst_structure_has_field(s, "clock-base"));
  EXPECT_FALSE(gst_structure_has_field(s, "seqnum-base"));
  EXPECT_STREQ(gst_structure_get_string(s, "encoding-name"), "VP8");
  gst_event_parse_caps(events[3], &caps);
  gint pt = 0;
  EXPECT_TRUE(gst_structure_get_int(gst_caps_get_structure(caps, 0), "payload", &pt));
  EXPECT_EQ(pt, 100);
  Unref(events);
}

TEST_F(RtpSwitch, TheSsrcPropertyNamesTheOutput) {
  Out();
  g_object_set(switch_, "ssrc", guint(0xCAFE), nullptr);
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  s0.Frame(0, true);
  std::vector<Packet> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ssrc, 0xCAFEu);
}

TEST_F(RtpSwitch, KeyframeRequestsFromDownstreamGoToTheActiveInput) {
  Out();
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  Source& s1 = AddInput(1, 0x2000, 20, 0);
  s0.Frame(0, true);
  s1.Frame(0, false);
  auto pli = [] { return gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 1); };
  EXPECT_TRUE(gst_harness_push_upstream_event(Out(), pli()));
  EXPECT_EQ(KeyUnitRequests(s0), 1);
  EXPECT_EQ(KeyUnitRequests(s1), 0);
  // Every request from downstream goes up, however close: its sender limits the rate.
  EXPECT_TRUE(gst_harness_push_upstream_event(Out(), pli()));
  EXPECT_EQ(KeyUnitRequests(s0), 1) << "within 300 ms of the last one";
  s0.Frame(280 * kMs, false);
  EXPECT_TRUE(gst_harness_push_upstream_event(Out(), pli()));
  EXPECT_EQ(KeyUnitRequests(s0), 1);
  EXPECT_EQ(KeyUnitRequests(s1), 0);
}

TEST_F(RtpSwitch, OnlyTheActiveInputSeesDownstreamFlow) {
  // No harness on src: downstream is not linked.
  Source& s0 = AddInput(0, 0x1000, 10, 0);
  Source& s1 = AddInput(1, 0x2000, 20, 0);
  EXPECT_EQ(s0.Frame(0, true), GST_FLOW_NOT_LINKED);
  EXPECT_EQ(Active(), 0);
  EXPECT_EQ(s1.Frame(0, true), GST_FLOW_OK);
  EXPECT_EQ(s0.Frame(40 * kMs, false), GST_FLOW_NOT_LINKED);
}

TEST_F(RtpSwitch, StartsWithNothingActiveAndARandomSsrc) {
  EXPECT_EQ(Active(), -1);
  GstElement* other = gst_element_factory_make("atriumrtpswitch", nullptr);
  guint a = Ssrc(), b = 0;
  g_object_get(other, "ssrc", &b, nullptr);
  EXPECT_NE(a, b);  // 1 in 2^32 to fail
  gst_object_unref(gst_object_ref_sink(other));
  guint64 timeout = 0;
  g_object_get(switch_, "timeout", &timeout, nullptr);
  EXPECT_EQ(timeout, 1000u);
}

}  // namespace
