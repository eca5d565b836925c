#include "media/Sdp.hpp"

#include "core/Error.hpp"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace atrium::media {

namespace {

[[noreturn]] void Bad(const std::string& why) {
  throw InvalidParams("invalid parameter 'sdp': " + why, {{"param", "sdp"}, {"expected", why}});
}

// RFC 8851: rid-id = 1*(alpha-numeric / "-" / "_"), at most 16 here.
bool IsRidName(const char* s) {
  size_t n = strlen(s);
  if (n == 0 || n > 16) return false;
  for (size_t i = 0; i < n; ++i)
    if (!g_ascii_isalnum(s[i]) && s[i] != '-' && s[i] != '_') return false;
  return true;
}

std::string Upper(const std::string& s) {
  gchar* u = g_ascii_strup(s.c_str(), -1);
  std::string out = u;
  g_free(u);
  return out;
}

// a=extmap:ID[/direction] URI [attributes]; ids 1..255 (one- and two-byte headers).
// a=rid:X send [restrictions]; a=simulcast:send X;Y,~Z (alternatives "," and paused "~"
// are all taken as layers). Anything malformed is skipped, not refused.
void ParseExtensions(const GstSDPMedia* m, OfferMedia& om) {
  std::vector<std::string> rids, order;
  for (guint a = 0; a < gst_sdp_media_attributes_len(m); ++a) {
    const GstSDPAttribute* attr = gst_sdp_media_get_attribute(m, a);
    if (!attr->key || !attr->value) continue;
    std::string key = attr->key, val = attr->value;
    if (key == "extmap") {
      gchar** f = g_strsplit(val.c_str(), " ", 3);
      guint64 id = 0;
      if (f[0] && f[1] && g_ascii_string_to_unsigned(std::string(f[0]).substr(0, std::string(f[0]).find('/')).c_str(),
                                                     10, 1, 255, &id, nullptr) &&
          g_utf8_validate(f[1], -1, nullptr) && strlen(f[1]) < 256 && om.extmaps.size() < 32)
        om.extmaps.push_back({int(id), f[1]});
      g_strfreev(f);
    } else if (key == "rid") {
      gchar** f = g_strsplit(val.c_str(), " ", 3);
      if (f[0] && f[1] && g_strcmp0(f[1], "send") == 0 && IsRidName(f[0]) && rids.size() < 8) rids.push_back(f[0]);
      g_strfreev(f);
    } else if (key == "simulcast") {
      gchar** f = g_strsplit(val.c_str(), " ", 3);
      if (f[0] && f[1] && g_strcmp0(f[0], "send") == 0) {
        gchar** ids = g_strsplit_set(f[1], ";,", 16);
        for (gchar** id = ids; *id; ++id) {
          const char* name = **id == '~' ? *id + 1 : *id;
          if (IsRidName(name)) order.push_back(name);
        }
        g_strfreev(ids);
      }
      g_strfreev(f);
    }
  }
  for (const auto& r : order)
    if (std::find(rids.begin(), rids.end(), r) != rids.end() &&
        std::find(om.sendRids.begin(), om.sendRids.end(), r) == om.sendRids.end())
      om.sendRids.push_back(r);
  for (const auto& r : rids)
    if (std::find(om.sendRids.begin(), om.sendRids.end(), r) == om.sendRids.end()) om.sendRids.push_back(r);
}

}  // namespace

std::optional<Codec> OfferMedia::Find(const std::string& name) const {
  std::string want = Upper(name);
  for (const auto& c : codecs)
    if (c.name == want) return c;
  return std::nullopt;
}

int OfferMedia::ExtmapId(const std::string& uri) const {
  for (const auto& e : extmaps)
    if (e.uri == uri) return e.id;
  return -1;
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
    ParseExtensions(m, om);
    if (om.kind == "audio" || om.kind == "video") anyAv = true;
    out.push_back(std::move(om));
  }
  if (!anyAv) Bad("an offer with at least one audio or video m-line");
  return out;
}

}  // namespace atrium::media
