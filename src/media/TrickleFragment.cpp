#include "media/TrickleFragment.hpp"

#include "core/Error.hpp"

#include <glib.h>

#include <cstring>

namespace atrium::media {

namespace {

[[noreturn]] void Bad(const std::string& why) {
  throw InvalidParams(
      "invalid trickle-ice-sdpfrag body: " + why,
      {{"param", "body"}, {"expected", "an application/trickle-ice-sdpfrag fragment (RFC 8840)"}});
}

}  // namespace

TrickleFragment TrickleFragment::Parse(const std::string& text) {
  TrickleFragment f;
  std::string mid;
  size_t lines = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    for (unsigned char c : line)
      if (c < 0x20 || c >= 0x7f) Bad("a line with a control or non-ASCII character");
    if (line.size() < 2 || line[1] != '=' || !g_ascii_islower(line[0])) Bad("a line that is not type=value");
    ++lines;
    if (line[0] == 'm') {
      mid.clear();
      continue;
    }
    if (line[0] != 'a') continue;
    std::string attr = line.substr(2);
    auto value = [&attr](const char* key) -> const char* {
      return attr.rfind(key, 0) == 0 ? attr.c_str() + strlen(key) : nullptr;
    };
    if (const char* v = value("mid:")) {
      mid = v;
    } else if (const char* v = value("ice-ufrag:")) {
      f.ufrag = v;
    } else if (const char* v = value("ice-pwd:")) {
      f.pwd = v;
    } else if (attr == "end-of-candidates") {
      f.endOfCandidates = true;
    } else if (value("candidate:")) {
      if (attr.size() <= 10) Bad("a candidate line without a candidate");
      if (f.candidates.size() >= kMaxCandidates)
        Bad("at most " + std::to_string(kMaxCandidates) + " candidates");
      f.candidates.push_back({mid, attr});
    }
  }
  if (lines == 0) Bad("an empty fragment");
  return f;
}

}  // namespace atrium::media
