#include "auth/Grants.hpp"

#include "core/Params.hpp"

#include <algorithm>
#include <string>

namespace atrium::auth {

namespace {

constexpr size_t kMaxIds = 1000;

bool ReadBool(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) Params::Fail((std::string("grants.") + key).c_str(), "a boolean");
  return it->get<bool>();
}

std::vector<int64_t> ReadIds(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  const std::string name = std::string("grants.") + key;
  if (!it->is_array() || it->size() > kMaxIds)
    Params::Fail(name.c_str(), "an array of at most 1000 room ids");
  std::vector<int64_t> ids;
  ids.reserve(it->size());
  for (const auto& v : *it) {
    // Positive integers only: is_number_integer() also admits uint64 above INT64_MAX.
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) ||
        v.get<int64_t>() <= 0)
      Params::Fail(name.c_str(), "an array of room ids (positive integers)");
    ids.push_back(v.get<int64_t>());
  }
  return ids;
}

bool Contains(const std::vector<int64_t>& ids, int64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

nlohmann::json Grants::ToJson() const {
  return {{"admin", admin},         {"publish", publish}, {"subscribe", subscribe}, {"record", record},
          {"roomAdmin", roomAdmin}, {"rooms", rooms},     {"anyRoom", anyRoom}};
}

Grants Grants::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) Params::Fail("grants", "an object");
  Grants g;
  g.admin = ReadBool(j, "admin");
  g.publish = ReadBool(j, "publish");
  g.subscribe = ReadBool(j, "subscribe");
  g.record = ReadBool(j, "record");
  g.roomAdmin = ReadIds(j, "roomAdmin");
  g.rooms = ReadIds(j, "rooms");
  g.anyRoom = ReadBool(j, "anyRoom");
  return g;
}

bool Grants::AdminsRoom(int64_t roomId) const {
  return admin || Contains(roomAdmin, roomId);
}

bool Grants::JoinsRoom(int64_t roomId) const {
  return admin || Contains(rooms, roomId) || Contains(roomAdmin, roomId);
}

Grants Grants::ForUser(bool isAdmin) {
  Grants g;
  g.admin = g.record = isAdmin;
  g.publish = g.subscribe = g.anyRoom = true;
  return g;
}

}  // namespace atrium::auth
