#include "store/Apps.hpp"

#include "core/Error.hpp"

namespace atrium::store {

namespace {
App Read(const Statement& s) { return {s.int64(0), s.text(1), s.text(2), s.int64(3), s.text(4), s.int64(5)}; }
}  // namespace

int64_t Apps::Create(const App& a) {
  db_.prepare("INSERT INTO apps (app_id, name, org_id, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)")
      .bindAll(a.appId, a.name, a.orgId, a.secretHash, Now())
      .exec();
  return db_.lastInsertId();
}

std::optional<App> Apps::FindByAppId(const std::string& appId) {
  auto s = db_.prepare("SELECT id, app_id, name, org_id, secret_hash, created_at FROM apps WHERE app_id = ?");
  s.bind(1, appId);
  if (!s.step()) return std::nullopt;
  return Read(s);
}

std::vector<App> Apps::List() {
  auto s = db_.prepare("SELECT id, app_id, name, org_id, secret_hash, created_at FROM apps ORDER BY id");
  std::vector<App> out;
  while (s.step()) out.push_back(Read(s));
  return out;
}

void Apps::Delete(const std::string& appId) {
  if (db_.prepare("DELETE FROM apps WHERE app_id = ?").bindAll(appId).exec() == 0)
    throw AppError(ErrorCode::NotFound, "no such app", {{"appId", appId}});
}

}  // namespace atrium::store
