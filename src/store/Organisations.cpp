#include "store/Organisations.hpp"

#include "core/Error.hpp"

namespace atrium::store {

namespace {
Organisation Read(const Statement& s) { return {s.int64(0), s.text(1), s.int64(2)}; }
}  // namespace

int64_t Organisations::Create(const std::string& name) {
  db_.prepare("INSERT INTO organisations (name, created_at) VALUES (?, ?)").bindAll(name, Now()).exec();
  return db_.lastInsertId();
}

std::optional<Organisation> Organisations::Find(int64_t id) {
  auto s = db_.prepare("SELECT id, name, created_at FROM organisations WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return Read(s);
}

std::vector<Organisation> Organisations::List() {
  auto s = db_.prepare("SELECT id, name, created_at FROM organisations ORDER BY id");
  std::vector<Organisation> out;
  while (s.step()) out.push_back(Read(s));
  return out;
}

void Organisations::Delete(int64_t id) {
  if (db_.prepare("DELETE FROM organisations WHERE id = ?").bindAll(id).exec() == 0)
    throw AppError(ErrorCode::NotFound, "no such organisation", {{"orgId", id}});
}

}  // namespace atrium::store
