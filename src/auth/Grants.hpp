// What a token lets its holder do: server-wide rights plus the rooms it may join or run.
// A plain value carried inside every JWT (claim "grants") and checked by the dispatcher
// and the rooms layer.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace atrium::auth {

struct Grants {
  bool admin = false;
  bool publish = false;
  bool subscribe = false;
  bool record = false;
  std::vector<int64_t> roomAdmin;  // rooms this holder moderates
  std::vector<int64_t> rooms;      // rooms this holder may join
  // The token acts as its user in every room, with that user's own rights (owner, member,
  // public room, room password). Without it, the token reaches only the rooms listed above.
  bool anyRoom = false;

  // {"admin","publish","subscribe","record","roomAdmin":[ids],"rooms":[ids],"anyRoom"}, all present.
  nlohmann::json ToJson() const;
  // Missing or null fields are false/empty; unknown fields are ignored. Throws InvalidParams
  // naming the field ("grants.rooms") on a wrong type, or a room id that is not a positive
  // integer, or more than 1000 ids in a list.
  static Grants FromJson(const nlohmann::json& j);

  // What the token grants by naming the room (or by admin), whatever the user's own rights.
  bool AdminsRoom(int64_t roomId) const;  // admin, or roomId in roomAdmin
  bool JoinsRoom(int64_t roomId) const;   // admin, or roomId in rooms or roomAdmin

  // The grants of a login token: publish, subscribe and anyRoom; admin and record for admins.
  static Grants ForUser(bool isAdmin);

  bool operator==(const Grants&) const = default;
};

}  // namespace atrium::auth
