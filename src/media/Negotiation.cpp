// Codec selection, answer caps and candidate rewriting (see Negotiation.hpp).
#include "media/Negotiation.hpp"

#include <algorithm>
#include <map>

#include <glib.h>
#include <gst/sdp/sdp.h>

#include <memory>

namespace atrium::media {

namespace {

// An fmtp parameter name that can be a caps field: a letter, then letters, digits, '-'
// or '_' (profile-level-id, packetization-mode, sprop-parameter-sets, ...).
bool IsFmtpName(const char* name) {
  if (!g_ascii_isalpha(name[0])) return false;
  for (const char* p = name; *p; ++p)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_') return false;
  return true;
}

}  // namespace

GstCaps* CodecCaps(const std::string& kind, const Codec& c, int pt) {
  GstCaps* caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, kind.c_str(), "encoding-name",
                                      G_TYPE_STRING, c.name.c_str(), "clock-rate", G_TYPE_INT, c.clockRate, "payload",
                                      G_TYPE_INT, pt, nullptr);
  GstStructure* s = gst_caps_get_structure(caps, 0);
  if (kind == "video") {
    gst_structure_set(s, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE, "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE,
                      "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE, nullptr);
  }
  if (!c.params.empty() && g_utf8_validate(c.params.c_str(), -1, nullptr))
    gst_structure_set(s, "encoding-params", G_TYPE_STRING, c.params.c_str(), nullptr);
  if (c.name == "H264" && !c.fmtp.empty()) {
    // Keep the offer's profile so that the answer matches what the client can decode.
    gchar** kvs = g_strsplit(c.fmtp.c_str(), ";", -1);
    for (gchar** kv = kvs; *kv; ++kv) {
      gchar** pair = g_strsplit(g_strstrip(*kv), "=", 2);
      if (pair[0] && pair[1] && IsFmtpName(pair[0]) && !gst_structure_has_field(s, pair[0]) &&
          g_utf8_validate(pair[1], -1, nullptr))
        gst_structure_set(s, pair[0], G_TYPE_STRING, pair[1], nullptr);
      g_strfreev(pair);
    }
    g_strfreev(kvs);
  }
  return caps;
}

std::vector<std::string> OrderLayers(std::vector<std::string> rids) {
  static const std::vector<std::map<std::string, int>> schemes = {
      {{"q", 0}, {"h", 1}, {"f", 2}},
      {{"l", 0}, {"m", 1}, {"h", 2}},
      {{"low", 0}, {"mid", 1}, {"medium", 1}, {"high", 2}, {"hi", 2}, {"full", 2}},
      {{"0", 0}, {"1", 1}, {"2", 2}, {"3", 3}},
      {{"r0", 0}, {"r1", 1}, {"r2", 2}, {"r3", 3}},
      {{"small", 0}, {"medium", 1}, {"large", 2}},
  };
  for (const auto& scheme : schemes) {
    auto rank = [&](const std::string& r) {
      gchar* lower = g_ascii_strdown(r.c_str(), -1);
      auto it = scheme.find(lower);
      g_free(lower);
      return it == scheme.end() ? -1 : it->second;
    };
    if (!std::all_of(rids.begin(), rids.end(), [&](const std::string& r) { return rank(r) >= 0; })) continue;
    std::stable_sort(rids.begin(), rids.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    return rids;
  }
  return rids;
}

GstCaps* PublishCaps(const OfferMedia& m, const Codec& c) {
  GstCaps* caps = CodecCaps(m.kind, c, c.pt);
  GstStructure* s = gst_caps_get_structure(caps, 0);
  for (const auto& e : m.extmaps) {
    bool known = e.uri == kExtMid || e.uri == kExtAudioLevel || e.uri == kExtTransportCc ||
                 (m.kind == "video" && (e.uri == kExtRid || e.uri == kExtRepairedRid));
    std::string field = "extmap-" + std::to_string(e.id);
    if (known && !gst_structure_has_field(s, field.c_str()))
      gst_structure_set(s, field.c_str(), G_TYPE_STRING, e.uri.c_str(), nullptr);
  }
  if (m.kind == "video" && m.sendRids.size() > 1 && m.ExtmapId(kExtRid) > 0) {
    std::string list;
    for (const auto& rid : m.sendRids) {
      gst_structure_set(s, ("rid-" + rid).c_str(), G_TYPE_STRING, "recv", nullptr);
      list += (list.empty() ? "" : ";") + rid;
    }
    gst_structure_set(s, "a-simulcast", G_TYPE_STRING, ("recv " + list).c_str(), nullptr);
  }
  return caps;
}

std::string WithAddress(const std::string& candidate, const std::string& address) {
  gchar** f = g_strsplit(candidate.c_str(), " ", -1);
  std::string out;
  if (g_strv_length(f) >= 8 && g_strcmp0(f[6], "typ") == 0 && g_strcmp0(f[7], "host") == 0 &&
      g_strcmp0(f[4], address.c_str()) != 0) {
    std::string foundation = std::string(f[0]) + "9";  // its own foundation
    g_free(f[0]);
    f[0] = g_strdup(foundation.c_str());
    g_free(f[4]);
    f[4] = g_strdup(address.c_str());
    gchar* joined = g_strjoinv(" ", f);
    out = joined;
    g_free(joined);
  }
  g_strfreev(f);
  return out;
}

std::optional<Codec> PreferredCodec(const OfferMedia& m) {
  for (const char* name : {"VP8", "H264", "OPUS"}) {
    auto c = m.Find(name);
    if (c && IsForwardableCodec(m.kind, c->name)) return c;
  }
  return std::nullopt;
}

std::string AddCandidates(const std::string& sdp, const std::vector<std::pair<unsigned, std::string>>& candidates) {
  GstSDPMessage* raw = nullptr;
  gst_sdp_message_new(&raw);
  std::unique_ptr<GstSDPMessage, decltype(&gst_sdp_message_free)> msg(raw, gst_sdp_message_free);
  if (sdp.empty() || gst_sdp_message_parse_buffer(reinterpret_cast<const guint8*>(sdp.data()), guint(sdp.size()),
                                                  msg.get()) != GST_SDP_OK)
    return sdp;
  bool changed = false;
  for (const auto& [mline, given] : candidates) {
    if (mline >= gst_sdp_message_medias_len(msg.get())) continue;
    std::string value = given.rfind("a=", 0) == 0 ? given.substr(2) : given;
    if (value.rfind("candidate:", 0) != 0) continue;
    value = value.substr(10);
    bool printable = !value.empty();
    for (unsigned char c : value) printable = printable && c >= 0x20 && c < 0x7f;
    if (!printable) continue;
    GstSDPMedia* m = const_cast<GstSDPMedia*>(gst_sdp_message_get_media(msg.get(), mline));
    bool present = false, ended = false;
    for (guint i = 0; i < gst_sdp_media_attributes_len(m); ++i) {
      const GstSDPAttribute* a = gst_sdp_media_get_attribute(m, i);
      if (g_strcmp0(a->key, "candidate") == 0 && g_strcmp0(a->value, value.c_str()) == 0) present = true;
      if (g_strcmp0(a->key, "end-of-candidates") == 0) ended = true;
    }
    if (present) continue;
    if (ended) {  // keep it last
      for (guint i = gst_sdp_media_attributes_len(m); i-- > 0;)
        if (g_strcmp0(gst_sdp_media_get_attribute(m, i)->key, "end-of-candidates") == 0)
          gst_sdp_media_remove_attribute(m, i);
    }
    gst_sdp_media_add_attribute(m, "candidate", value.c_str());
    if (ended) gst_sdp_media_add_attribute(m, "end-of-candidates", nullptr);
    changed = true;
  }
  if (!changed) return sdp;
  gchar* text = gst_sdp_message_as_text(msg.get());
  std::string out = text ? text : sdp;
  g_free(text);
  return out;
}

}  // namespace atrium::media
