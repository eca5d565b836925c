// Accounts: login name, display name, argon2id hash, admin flag, and for users created
// through a third-party app, the app and the account there.
#pragma once

#include "store/Database.hpp"
#include "store/Records.hpp"

namespace atrium::store {

class Users {
public:
  explicit Users(Database& db) : db_(db) {}
  int64_t Create(const User& u);  // Conflict when the account exists
  std::optional<User> Find(int64_t id);
  std::optional<User> FindByAccount(const std::string& account);
  std::optional<User> FindExternal(const std::string& app, const std::string& externalId);
  PageOf<User> List(std::optional<int64_t> orgId, const Page& page);
  void Update(const User& u);  // name, email, phone, admin, orgId
  void SetPasswordHash(int64_t id, const std::string& hash);
  void Delete(int64_t id);
  int64_t CountAdmins();

private:
  Database& db_;
};

}  // namespace atrium::store
