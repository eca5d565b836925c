#include "store/Users.hpp"

#include "core/Error.hpp"

#include <glib.h>

namespace atrium::store {

int64_t Now() { return g_get_real_time() / G_USEC_PER_SEC; }

namespace {

#define USER_COLUMNS \
  "id, org_id, account, name, email, phone, password_hash, is_admin, external_app, external_id, created_at, updated_at"

User Read(const Statement& s) {
  User u;
  u.id = s.int64(0);
  u.orgId = s.int64(1);
  u.account = s.text(2);
  u.name = s.text(3);
  u.email = s.text(4);
  u.phone = s.text(5);
  u.passwordHash = s.text(6);
  u.admin = s.boolean(7);
  u.externalApp = s.optText(8);
  u.externalId = s.optText(9);
  u.createdAt = s.int64(10);
  u.updatedAt = s.int64(11);
  return u;
}

std::optional<User> One(Statement& s) {
  if (!s.step()) return std::nullopt;
  return Read(s);
}

}  // namespace

int64_t Users::Create(const User& u) {
  if (FindByAccount(u.account))
    throw AppError(ErrorCode::Conflict, "account already exists", {{"account", u.account}});
  int64_t now = Now();
  db_.prepare("INSERT INTO users (org_id, account, name, email, phone, password_hash, is_admin, external_app, "
              "external_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bindAll(u.orgId, u.account, u.name, u.email, u.phone, u.passwordHash, u.admin, u.externalApp, u.externalId,
               now, now)
      .exec();
  return db_.lastInsertId();
}

std::optional<User> Users::Find(int64_t id) {
  auto s = db_.prepare("SELECT " USER_COLUMNS " FROM users WHERE id = ?");
  s.bind(1, id);
  return One(s);
}

std::optional<User> Users::FindByAccount(const std::string& account) {
  auto s = db_.prepare("SELECT " USER_COLUMNS " FROM users WHERE account = ?");
  s.bind(1, account);
  return One(s);
}

std::optional<User> Users::FindExternal(const std::string& app, const std::string& externalId) {
  auto s = db_.prepare("SELECT " USER_COLUMNS " FROM users WHERE external_app = ? AND external_id = ?");
  s.bindAll(app, externalId);
  return One(s);
}

PageOf<User> Users::List(std::optional<int64_t> orgId, const Page& page) {
  PageOf<User> out;
  auto c = db_.prepare("SELECT count(*) FROM users WHERE ?1 IS NULL OR org_id = ?1");
  c.bind(1, orgId);
  if (c.step()) out.total = c.int64(0);
  auto s = db_.prepare("SELECT " USER_COLUMNS " FROM users WHERE ?1 IS NULL OR org_id = ?1 ORDER BY id LIMIT ?2 OFFSET ?3");
  s.bindAll(orgId, page.limit, page.offset);
  while (s.step()) out.items.push_back(Read(s));
  return out;
}

void Users::Update(const User& u) {
  int n = db_.prepare("UPDATE users SET org_id = ?, name = ?, email = ?, phone = ?, is_admin = ?, updated_at = ? "
                      "WHERE id = ?")
              .bindAll(u.orgId, u.name, u.email, u.phone, u.admin, Now(), u.id)
              .exec();
  if (n == 0) throw AppError(ErrorCode::NotFound, "no such user", {{"userId", u.id}});
}

void Users::SetPasswordHash(int64_t id, const std::string& hash) {
  int n = db_.prepare("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?").bindAll(hash, Now(), id).exec();
  if (n == 0) throw AppError(ErrorCode::NotFound, "no such user", {{"userId", id}});
}

void Users::Delete(int64_t id) {
  if (db_.prepare("DELETE FROM users WHERE id = ?").bindAll(id).exec() == 0)
    throw AppError(ErrorCode::NotFound, "no such user", {{"userId", id}});
}

int64_t Users::CountAdmins() {
  auto s = db_.prepare("SELECT count(*) FROM users WHERE is_admin = 1");
  return s.step() ? s.int64(0) : 0;
}

}  // namespace atrium::store
