#include "media/Sdp.hpp"

#include "core/Error.hpp"

#include <glib.h>

#include <memory>

namespace atrium::media {

namespace {

[[noreturn]] void Bad(const std::string& why) {
  throw InvalidParams("invalid parameter 'sdp': " + why, {{"param", "sdp"}, {"expected", why}});
}

std::string Upper(const std::string& s) {
  gchar* u = g_ascii_strup(s.c_str(), -1);
  std::string out = u;
  g_free(u);
  return out;
}

}  // namespace

std::optional<Codec> OfferMedia::Find(const std::string& name) const {
  std::string want = Upper(name);
  for (const auto& c : codecs)
    if (c.name == want) return c;
  return std::nullopt;
}

bool IsForwardableCodec(const std::string& kind, const std::string& name) {
  if (kind == "video") return name == "VP8" || name == "H264";
  if (kind == "audio") return name == "OPUS";
  return false;
}

std::vector<OfferMedia> ParseOffer(const std::string& sdp) {
  if (sdp.empty()) Bad("an SDP offer");
  if (sdp.size() > 64 * 1024) Bad("an SDP offer of at most 64 KiB");
  if (sdp.find('\0') != std::string::npos || sdp.rfind("v=0", 0) != 0) Bad("an SDP offer starting with v=0");
  GstSDPMessage* raw = nullptr;
  gst_sdp_message_new(&raw);
  std::unique_ptr<GstSDPMessage, decltype(&gst_sdp_message_free)> msg(raw, gst_sdp_message_free);
  if (gst_sdp_message_parse_buffer(reinterpret_cast<const guint8*>(sdp.data()), guint(sdp.size()), msg.get()) !=
      GST_SDP_OK)
    Bad("a parsable SDP offer");

  std::vector<OfferMedia> out;
  bool anyAv = false;
  for (guint i = 0; i < gst_sdp_message_medias_len(msg.get()); ++i) {
    const GstSDPMedia* m = gst_sdp_message_get_media(msg.get(), i);
    OfferMedia om;
    om.mline = i;
    om.kind = gst_sdp_media_get_media(m) ? gst_sdp_media_get_media(m) : "";
    // Port 0 rejects an m-line, unless it is bundle-only (max-bundle offers say so).
    om.rejected = gst_sdp_media_get_port(m) == 0 && !gst_sdp_media_get_attribute_val(m, "bundle-only");
    om.direction = "sendrecv";
    for (const char* dir : {"sendrecv", "sendonly", "recvonly", "inactive"})
      if (gst_sdp_media_get_attribute_val(m, dir) != nullptr) om.direction = dir;
    if (const char* mid = gst_sdp_media_get_attribute_val(m, "mid")) om.mid = mid;
    for (guint f = 0; f < gst_sdp_media_formats_len(m); ++f) {
      Codec c;
      const char* fmt = gst_sdp_media_get_format(m, f);
      if (!fmt || !g_ascii_string_to_signed(fmt, 10, 0, 127, nullptr, nullptr)) continue;
      c.pt = int(g_ascii_strtoll(fmt, nullptr, 10));
      for (guint a = 0; a < gst_sdp_media_attributes_len(m); ++a) {
        const GstSDPAttribute* attr = gst_sdp_media_get_attribute(m, a);
        if (!attr->value) continue;
        std::string val = attr->value;
        std::string prefix = std::string(fmt) + " ";
        if (val.rfind(prefix, 0) != 0) continue;
        std::string rest = val.substr(prefix.size());
        if (g_strcmp0(attr->key, "rtpmap") == 0) {
          gchar** parts = g_strsplit(rest.c_str(), "/", 3);
          if (parts[0]) c.name = Upper(parts[0]);
          if (parts[0] && parts[1]) c.clockRate = int(g_ascii_strtoll(parts[1], nullptr, 10));
          if (parts[0] && parts[1] && parts[2]) c.params = parts[2];
          g_strfreev(parts);
        } else if (g_strcmp0(attr->key, "fmtp") == 0) {
          c.fmtp = rest;
        }
      }
      if (!c.name.empty() && c.clockRate > 0) om.codecs.push_back(c);
    }
    if (om.kind == "audio" || om.kind == "video") anyAv = true;
    out.push_back(std::move(om));
  }
  if (!anyAv) Bad("an offer with at least one audio or video m-line");
  return out;
}

}  // namespace atrium::media
