// Organisations (companies): every user, room and app belongs to one. Id 1 is "default".
#pragma once

#include "store/Database.hpp"
#include "store/Records.hpp"

namespace atrium::store {

class Organisations {
public:
  explicit Organisations(Database& db) : db_(db) {}
  int64_t Create(const std::string& name);
  std::optional<Organisation> Find(int64_t id);
  std::vector<Organisation> List();
  void Delete(int64_t id);  // Conflict while users or rooms belong to it

private:
  Database& db_;
};

}  // namespace atrium::store
