// Typed, validating access to the "params" object of a JSON-RPC request. Every getter
// throws InvalidParams naming the parameter and what was expected, so handlers read
// like a declaration of their inputs.
#pragma once

#include "core/Error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace atrium {

class Params {
public:
  // `params` may be absent (null) or an object; arrays (by-position params) are refused.
  explicit Params(const nlohmann::json& params);

  bool has(const char* key) const;

  // Strings: valid UTF-8 (the parser checks), at most maxLen bytes, and for "name"-like
  // fields no control characters (NUL included).
  std::string str(const char* key, size_t maxLen = 1024) const;
  std::optional<std::string> optStr(const char* key, size_t maxLen = 1024) const;
  // A display text: 1..maxLen bytes, no control characters.
  std::string text(const char* key, size_t maxLen = 256) const;
  std::optional<std::string> optText(const char* key, size_t maxLen = 256) const;

  int64_t integer(const char* key, int64_t min = INT64_MIN, int64_t max = INT64_MAX) const;
  std::optional<int64_t> optInteger(const char* key, int64_t min = INT64_MIN,
                                    int64_t max = INT64_MAX) const;
  // A stored object's id: a positive integer.
  int64_t id(const char* key) const { return integer(key, 1); }
  std::optional<int64_t> optId(const char* key) const { return optInteger(key, 1); }

  bool boolean(const char* key) const;
  std::optional<bool> optBoolean(const char* key) const;

  // One of a fixed set of strings.
  std::string oneOf(const char* key, std::initializer_list<const char*> allowed) const;
  std::optional<std::string> optOneOf(const char* key,
                                      std::initializer_list<const char*> allowed) const;

  const nlohmann::json& array(const char* key, size_t maxItems = 1000) const;
  const nlohmann::json* optArray(const char* key, size_t maxItems = 1000) const;
  const nlohmann::json* optObject(const char* key) const;

  const nlohmann::json& raw() const { return params_; }

  // Validation helpers shared with handlers that check nested values.
  [[noreturn]] static void Fail(const char* key, const char* expected);
  static void CheckText(const char* key, const std::string& s, size_t maxLen);

private:
  const nlohmann::json* find(const char* key) const;

  const nlohmann::json& params_;
};

}  // namespace atrium
