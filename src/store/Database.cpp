#include "store/Database.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"
#include "store/Migrations.hpp"

#define GST_CAT_DEFAULT atrium_store_debug

namespace atrium::store {

Statement::~Statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

Statement& Statement::bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int i, std::nullopt_t) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, sqlite3_sql(stmt_));
}

int Statement::exec() {
  while (step()) {
  }
  return sqlite3_changes(db_.handle());
}

std::string Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, size_t(sqlite3_column_bytes(stmt_, col))) : std::string();
}

Database::Database(const std::string& path) : path_(path) {
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw AppError(ErrorCode::Internal, "cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    execScript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
        "PRAGMA trusted_schema=OFF;");
    migrate();
  } catch (const AppError& e) {
    // Start-up failures name the file, and say what a lock usually means.
    bool locked = sqlite3_errcode(db_) == SQLITE_BUSY || sqlite3_errcode(db_) == SQLITE_LOCKED;
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
    throw AppError(ErrorCode::Internal, "cannot open database " + path + ": " + e.what() +
                                            (locked ? " (another process holds it: is another atriumd using this "
                                                      "data directory?)"
                                                    : ""));
  }
}

Database::~Database() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

void Database::fail(int rc, const char* what) const {
  int ext = sqlite3_extended_errcode(db_);
  std::string msg = sqlite3_errmsg(db_);
  GST_WARNING("sqlite error [rc:%d ext:%d msg:%s sql:%s]", rc, ext, msg.c_str(), what ? what : "");
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
      throw AppError(ErrorCode::Conflict, "the object is still referenced or refers to a missing one");
    throw AppError(ErrorCode::Conflict, "already exists or violates a constraint", {{"detail", msg}});
  }
  throw AppError(ErrorCode::Internal, "database error: " + msg);
}

Statement Database::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(rc, sql);
    it = cache_.emplace(sql, stmt).first;
  }
  return Statement(*this, it->second);
}

void Database::execScript(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : "";
    sqlite3_free(err);
    throw AppError(ErrorCode::Internal, "database error: " + msg);
  }
}

// Nested transaction() calls join the outermost one.
void Database::begin() {
  if (depth_++ == 0) execScript("BEGIN IMMEDIATE");
}

void Database::commit() {
  if (--depth_ == 0) execScript("COMMIT");
}

void Database::rollback() {
  if (--depth_ == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

int Database::schemaVersion() {
  int v = 0;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr);
  if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  return v;
}

void Database::migrate() {
  int current = schemaVersion();
  for (const auto& m : Migrations()) {
    if (m.version <= current) continue;
    GST_INFO("applying migration [file:%s db:%s]", m.name, path_.c_str());
    transaction([&] {
      execScript(m.sql);
      execScript(("PRAGMA user_version=" + std::to_string(m.version)).c_str());
    });
    current = m.version;
  }
  int newest = Migrations().empty() ? 0 : Migrations().back().version;
  if (current > newest)
    throw AppError(ErrorCode::Internal, "database " + path_ + " has schema version " + std::to_string(current) +
                                            ", newer than this atriumd knows (" + std::to_string(newest) + ")");
}

}  // namespace atrium::store
