#include "media/Layout.hpp"

#include "core/Error.hpp"

#include <algorithm>
#include <cmath>

namespace atrium::media {

using nlohmann::json;

namespace {

// The largest 16:9 rectangle centred in a cell, on even coordinates.
Rect Fit(int x, int y, int w, int h) {
  int tw = std::min(w, h * 16 / 9);
  int th = std::min(h, tw * 9 / 16);
  tw &= ~1;
  th &= ~1;
  return {(x + (w - tw) / 2) & ~1, (y + (h - th) / 2) & ~1, std::max(tw, 2), std::max(th, 2)};
}

void Grid(const std::vector<const TileInfo*>& tiles, int x, int y, int w, int h, std::map<std::string, Rect>& out) {
  int n = int(tiles.size());
  if (n == 0) return;
  int cols = int(std::ceil(std::sqrt(double(n))));
  int rows = (n + cols - 1) / cols;
  for (int i = 0; i < n; ++i) {
    int r = i / cols, c = i % cols;
    // The last row is centred when it is not full.
    int inRow = (r == rows - 1) ? n - r * cols : cols;
    int offset = (cols - inRow) * (w / cols) / 2;
    out[tiles[i]->id] = Fit(x + offset + c * (w / cols), y + r * (h / rows), w / cols, h / rows);
  }
}

// One large tile above a strip of the others.
void Featured(const TileInfo* main, const std::vector<const TileInfo*>& rest, int w, int h,
              std::map<std::string, Rect>& out) {
  if (rest.empty()) {
    out[main->id] = Fit(0, 0, w, h);
    return;
  }
  int stripH = h / 5;
  out[main->id] = Fit(0, 0, w, h - stripH);
  int cells = std::max<int>(int(rest.size()), 5);
  int cellW = w / cells;
  int offset = (w - cellW * int(rest.size())) / 2;
  for (size_t i = 0; i < rest.size(); ++i) out[rest[i]->id] = Fit(offset + int(i) * cellW, h - stripH, cellW, stripH);
}

double Number(const json& box, const char* key, size_t index, double min, double max) {
  std::string where = "tiles[" + std::to_string(index) + "]." + key;
  if (!box.contains(key) || !box[key].is_number())
    throw InvalidParams("invalid parameter '" + where + "': expected a number", {{"param", where}});
  double v = box[key].get<double>();
  if (!std::isfinite(v) || v < min || v > max)
    throw InvalidParams("invalid parameter '" + where + "': out of range",
                        {{"param", where}, {"min", min}, {"max", max}});
  return v;
}

}  // namespace

json LayoutSpec::ToJson() const {
  json j = {{"layout", type}};
  if (type == "custom") {
    json tiles = json::array();
    for (const auto& [pid, b] : custom)
      tiles.push_back({{"participantId", pid}, {"x", b.x}, {"y", b.y}, {"width", b.width}, {"height", b.height}});
    j["tiles"] = tiles;
  }
  return j;
}

LayoutSpec ParseLayout(const json& params, const std::set<std::string>& participants) {
  if (!params.is_object() || !params.contains("layout") || !params["layout"].is_string())
    throw InvalidParams("invalid parameter 'layout': expected grid, speaker, presentation or custom",
                        {{"param", "layout"}});
  LayoutSpec spec;
  spec.type = params["layout"].get<std::string>();
  if (spec.type != "grid" && spec.type != "speaker" && spec.type != "presentation" && spec.type != "custom")
    throw InvalidParams("invalid parameter 'layout': expected grid, speaker, presentation or custom",
                        {{"param", "layout"}, {"value", spec.type}});
  if (spec.type != "custom") {
    if (params.contains("tiles"))
      throw InvalidParams("invalid parameter 'tiles': only a custom layout takes tiles", {{"param", "tiles"}});
    return spec;
  }
  if (!params.contains("tiles") || !params["tiles"].is_array() || params["tiles"].empty() ||
      params["tiles"].size() > 64)
    throw InvalidParams("invalid parameter 'tiles': expected 1 to 64 rectangles", {{"param", "tiles"}});
  const json& tiles = params["tiles"];
  for (size_t i = 0; i < tiles.size(); ++i) {
    const json& t = tiles[i];
    std::string where = "tiles[" + std::to_string(i) + "]";
    if (!t.is_object()) throw InvalidParams("invalid parameter '" + where + "': expected an object", {{"param", where}});
    if (!t.contains("participantId") || !t["participantId"].is_string())
      throw InvalidParams("invalid parameter '" + where + ".participantId': expected a participant id",
                          {{"param", where + ".participantId"}});
    std::string pid = t["participantId"];
    if (!participants.count(pid))
      throw InvalidParams("invalid parameter '" + where + ".participantId': no such participant in this conference",
                          {{"param", where + ".participantId"}, {"value", pid}});
    if (spec.custom.count(pid))
      throw InvalidParams("invalid parameter '" + where + ".participantId': placed twice",
                          {{"param", where + ".participantId"}, {"value", pid}});
    LayoutSpec::Box b;
    b.x = Number(t, "x", i, 0, 1);
    b.y = Number(t, "y", i, 0, 1);
    b.width = Number(t, "width", i, 0, 1);
    b.height = Number(t, "height", i, 0, 1);
    if (b.width <= 0 || b.height <= 0)
      throw InvalidParams("invalid parameter '" + where + "': width and height must be positive",
                          {{"param", where}});
    spec.custom[pid] = b;
  }
  return spec;
}

std::map<std::string, Rect> ComputeLayout(const LayoutSpec& spec, const std::vector<TileInfo>& tiles,
                                          const std::string& speaker, int width, int height) {
  std::map<std::string, Rect> out;
  for (const auto& t : tiles) out[t.id] = Rect{};
  std::vector<const TileInfo*> all;
  for (const auto& t : tiles) all.push_back(&t);
  if (all.empty()) return out;

  if (spec.type == "custom") {
    for (const auto& t : tiles) {
      if (t.screen) continue;
      auto b = spec.custom.find(t.participantId);
      if (b == spec.custom.end()) continue;
      int x = int(b->second.x * width) & ~1, y = int(b->second.y * height) & ~1;
      int w = std::max(2, int(b->second.width * width) & ~1), h = std::max(2, int(b->second.height * height) & ~1);
      out[t.id] = {x, y, w, h};
    }
    return out;
  }
  const TileInfo* main = nullptr;
  if (spec.type == "presentation")
    for (const auto* t : all)
      if (t->screen) main = main ? main : t;
  if (spec.type == "speaker" || (spec.type == "presentation" && !main)) {
    for (const auto* t : all)
      if (!t->screen && t->participantId == speaker) main = main ? main : t;
    if (!main) main = all.front();
  }
  if (!main) {
    Grid(all, 0, 0, width, height, out);
    return out;
  }
  std::vector<const TileInfo*> rest;
  for (const auto* t : all)
    if (t != main) rest.push_back(t);
  Featured(main, rest, width, height, out);
  return out;
}

}  // namespace atrium::media
