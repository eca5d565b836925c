// Third-party applications allowed to sign their users in (auth.sign / auth.dockingLogin).
// Only a hash of each app's secret is stored.
#pragma once

#include "store/Database.hpp"
#include "store/Records.hpp"

namespace atrium::store {

class Apps {
public:
  explicit Apps(Database& db) : db_(db) {}
  int64_t Create(const App& a);
  std::optional<App> FindByAppId(const std::string& appId);
  std::vector<App> List();
  void Delete(const std::string& appId);

private:
  Database& db_;
};

}  // namespace atrium::store
