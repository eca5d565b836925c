#include "core/Params.hpp"

#include <cmath>

namespace atrium {

namespace {
const nlohmann::json kNull = nullptr;
}

Params::Params(const nlohmann::json& params) : params_(params.is_null() ? kNull : params) {
  if (!params_.is_null() && !params_.is_object())
    throw InvalidParams("params must be an object", {{"expected", "object"}});
}

void Params::Fail(const char* key, const char* expected) {
  throw InvalidParams(std::string("invalid parameter '") + key + "': expected " + expected,
                      {{"param", key}, {"expected", expected}});
}

void Params::CheckText(const char* key, const std::string& s, size_t maxLen) {
  if (s.empty() || s.size() > maxLen)
    Fail(key, ("a string of 1.." + std::to_string(maxLen) + " bytes").c_str());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) Fail(key, "a string without control characters");
  }
}

const nlohmann::json* Params::find(const char* key) const {
  if (!params_.is_object()) return nullptr;
  auto it = params_.find(key);
  if (it == params_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool Params::has(const char* key) const { return find(key) != nullptr; }

std::optional<std::string> Params::optStr(const char* key, size_t maxLen) const {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) Fail(key, "a string");
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > maxLen) Fail(key, ("a string of at most " + std::to_string(maxLen) + " bytes").c_str());
  return s;
}

std::string Params::str(const char* key, size_t maxLen) const {
  auto s = optStr(key, maxLen);
  if (!s) Fail(key, "a string (required)");
  return *s;
}

std::optional<std::string> Params::optText(const char* key, size_t maxLen) const {
  auto s = optStr(key, SIZE_MAX);
  if (s) CheckText(key, *s, maxLen);
  return s;
}

std::string Params::text(const char* key, size_t maxLen) const {
  auto s = optText(key, maxLen);
  if (!s) Fail(key, "a string (required)");
  return *s;
}

std::optional<int64_t> Params::optInteger(const char* key, int64_t min, int64_t max) const {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  int64_t n = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX))
      Fail(key, "an integer in range");
    n = v->get<int64_t>();
  } else if (v->is_number_float()) {
    double d = v->get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || d < -9.2e18 || d > 9.2e18) Fail(key, "an integer");
    n = int64_t(d);
  } else {
    Fail(key, "an integer");
  }
  if (n < min || n > max) {
    std::string range = "an integer";
    if (min != INT64_MIN) range += " >= " + std::to_string(min);
    if (max != INT64_MAX) range += (min != INT64_MIN ? " and <= " : " <= ") + std::to_string(max);
    Fail(key, range.c_str());
  }
  return n;
}

int64_t Params::integer(const char* key, int64_t min, int64_t max) const {
  auto n = optInteger(key, min, max);
  if (!n) Fail(key, "an integer (required)");
  return *n;
}

std::optional<bool> Params::optBoolean(const char* key) const {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) Fail(key, "a boolean");
  return v->get<bool>();
}

bool Params::boolean(const char* key) const {
  auto b = optBoolean(key);
  if (!b) Fail(key, "a boolean (required)");
  return *b;
}

std::optional<std::string> Params::optOneOf(const char* key,
                                            std::initializer_list<const char*> allowed) const {
  auto s = optStr(key, 64);
  if (!s) return s;
  std::string expected = "one of";
  for (const char* a : allowed) {
    if (*s == a) return s;
    expected += std::string(" \"") + a + "\"";
  }
  Fail(key, expected.c_str());
}

std::string Params::oneOf(const char* key, std::initializer_list<const char*> allowed) const {
  auto s = optOneOf(key, allowed);
  if (!s) Fail(key, "a string (required)");
  return *s;
}

const nlohmann::json* Params::optArray(const char* key, size_t maxItems) const {
  const auto* v = find(key);
  if (!v) return nullptr;
  if (!v->is_array()) Fail(key, "an array");
  if (v->size() > maxItems) Fail(key, ("an array of at most " + std::to_string(maxItems) + " items").c_str());
  return v;
}

const nlohmann::json& Params::array(const char* key, size_t maxItems) const {
  const auto* v = optArray(key, maxItems);
  if (!v) Fail(key, "an array (required)");
  return *v;
}

const nlohmann::json* Params::optObject(const char* key) const {
  const auto* v = find(key);
  if (!v) return nullptr;
  if (!v->is_object()) Fail(key, "an object");
  return v;
}

}  // namespace atrium
