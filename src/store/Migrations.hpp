// The schema migrations compiled in from data/sql/ (see scripts/embed-sql.py).
#pragma once

#include <string>
#include <vector>

namespace atrium::store {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& Migrations();

}  // namespace atrium::store
