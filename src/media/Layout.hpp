// Where each tile of an MCU room's composite goes: grid, speaker, presentation, or
// custom rectangles per participant. Pure functions of the tiles and the output size,
// so that a layout can be checked and tested without a pipeline.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace atrium::media {

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;  // w == 0: hidden
  bool operator==(const Rect&) const = default;
};

// One tile: a participant's camera (or placeholder), or a screen share.
struct TileInfo {
  std::string id;
  std::string participantId;
  bool screen = false;
};

struct LayoutSpec {
  std::string type = "grid";  // grid, speaker, presentation, custom
  struct Box {
    double x = 0, y = 0, width = 0, height = 0;  // fractions of the output
  };
  std::map<std::string, Box> custom;  // participantId → box (custom only)
  nlohmann::json ToJson() const;
};

// Parses conference.setLayout params {layout, tiles?}. Throws InvalidParams naming the
// bad field: unknown layout, unknown participant, non-numeric or out-of-range values,
// zero or negative sizes.
LayoutSpec ParseLayout(const nlohmann::json& params, const std::set<std::string>& participants);

// Rectangles by tile id for an output of width × height; `speaker` is the active
// speaker's participant id (may be empty). Tiles keep a 16:9 shape inside their cells.
std::map<std::string, Rect> ComputeLayout(const LayoutSpec& spec, const std::vector<TileInfo>& tiles,
                                          const std::string& speaker, int width, int height);

}  // namespace atrium::media
