// One SQLite file (WAL, foreign keys, synchronous=FULL so an acknowledged write survives
// kill -9 and power loss), its migrations, and a cache of prepared statements. Owned by
// the daemon and used from the control thread only.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace atrium::store {

class Database;

// A prepared statement borrowed from the cache: bound, stepped, and reset on destruction.
class Statement {
public:
  Statement(Database& db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binding is 1-based like SQLite. std::nullopt binds NULL.
  Statement& bind(int i, int64_t v);
  Statement& bind(int i, int v) { return bind(i, int64_t(v)); }
  Statement& bind(int i, bool v) { return bind(i, int64_t(v ? 1 : 0)); }
  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, std::nullopt_t);
  template <typename T>
  Statement& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind(i, std::nullopt);
  }
  template <typename... Args>
  Statement& bindAll(const Args&... args) {
    int i = 1;
    (bind(i++, args), ...);
    return *this;
  }

  // Returns true while a row is available. Throws AppError (Conflict for constraint
  // violations, Internal otherwise).
  bool step();
  // Runs to completion; returns sqlite3_changes().
  int exec();

  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool boolean(int col) const { return int64(col) != 0; }
  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::optional<int64_t> optInt64(int col) const {
    return isNull(col) ? std::nullopt : std::optional<int64_t>(int64(col));
  }
  std::optional<std::string> optText(int col) const {
    return isNull(col) ? std::nullopt : std::optional<std::string>(text(col));
  }

private:
  Database& db_;
  sqlite3_stmt* stmt_;
};

class Database {
public:
  // Opens (creating if needed) and migrates. Throws AppError(Internal) with the path.
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Statement prepare(const char* sql);  // cached by the SQL text's address
  void execScript(const char* sql);
  int64_t lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int schemaVersion();
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Runs fn inside BEGIN IMMEDIATE .. COMMIT, rolling back if it throws.
  template <typename Fn>
  auto transaction(Fn&& fn) {
    begin();
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        commit();
      } else {
        auto r = fn();
        commit();
        return r;
      }
    } catch (...) {
      rollback();
      throw;
    }
  }

  [[noreturn]] void fail(int rc, const char* what) const;

private:
  void begin();
  void commit();
  void rollback();
  void migrate();

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
  int depth_ = 0;
};

}  // namespace atrium::store
