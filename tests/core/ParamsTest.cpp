// Typed params: each getter accepts what it documents and names the parameter otherwise.
#include "core/Params.hpp"

#include <gtest/gtest.h>

namespace atrium {
namespace {

using nlohmann::json;

int64_t Expect602(const std::function<void()>& fn, const char* param) {
  try {
    fn();
  } catch (const InvalidParams& e) {
    EXPECT_EQ(int(e.code()), -32602);
    EXPECT_EQ(e.data()["param"], param);
    return 1;
  }
  ADD_FAILURE() << "no InvalidParams for " << param;
  return 0;
}

TEST(Params, AbsentParamsAreAnEmptyObject) {
  json none = nullptr;
  Params p(none);
  EXPECT_FALSE(p.has("x"));
  EXPECT_EQ(p.optStr("x"), std::nullopt);
  Expect602([&] { p.str("x"); }, "x");
}

TEST(Params, ArraysAreRefused) {
  json arr = json::array({1, 2});
  EXPECT_THROW(Params p(arr), InvalidParams);
}

TEST(Params, Strings) {
  json j = {{"s", "abc"}, {"n", 5}, {"ctl", std::string("a\0b", 3)}, {"long", std::string(300, 'x')}};
  Params p(j);
  EXPECT_EQ(p.str("s"), "abc");
  Expect602([&] { p.str("n"); }, "n");
  Expect602([&] { p.str("long", 10); }, "long");
  EXPECT_EQ(p.str("ctl").size(), 3u);      // raw strings keep NULs
  Expect602([&] { p.text("ctl"); }, "ctl");  // display texts refuse control characters
  Expect602([&] { p.text("long"); }, "long");
}

TEST(Params, Integers) {
  json j = {{"i", 42}, {"neg", -3}, {"f", 2.0}, {"frac", 2.5}, {"s", "7"}, {"big", 1e300}, {"u", 18446744073709551615ULL}};
  Params p(j);
  EXPECT_EQ(p.integer("i"), 42);
  EXPECT_EQ(p.integer("f"), 2);
  Expect602([&] { p.integer("frac"); }, "frac");
  Expect602([&] { p.integer("s"); }, "s");
  Expect602([&] { p.integer("big"); }, "big");
  Expect602([&] { p.integer("u"); }, "u");
  Expect602([&] { p.id("neg"); }, "neg");
  Expect602([&] { p.integer("i", 0, 10); }, "i");
  EXPECT_EQ(p.optInteger("missing"), std::nullopt);
}

TEST(Params, BooleansEnumsArraysObjects) {
  json j = {{"b", true}, {"bs", "true"}, {"mode", "mcu"}, {"bad", "x"}, {"a", {1, 2, 3}}, {"o", {{"k", 1}}}};
  Params p(j);
  EXPECT_TRUE(p.boolean("b"));
  Expect602([&] { p.boolean("bs"); }, "bs");
  EXPECT_EQ(p.oneOf("mode", {"sfu", "mcu"}), "mcu");
  Expect602([&] { p.oneOf("bad", {"sfu", "mcu"}); }, "bad");
  EXPECT_EQ(p.array("a").size(), 3u);
  Expect602([&] { p.array("a", 2); }, "a");
  Expect602([&] { p.array("o"); }, "o");
  EXPECT_NE(p.optObject("o"), nullptr);
  Expect602([&] { p.optObject("a"); }, "a");
}

TEST(Params, NullMeansAbsent) {
  json j = {{"x", nullptr}};
  Params p(j);
  EXPECT_FALSE(p.has("x"));
  EXPECT_EQ(p.optInteger("x"), std::nullopt);
}

}  // namespace
}  // namespace atrium
