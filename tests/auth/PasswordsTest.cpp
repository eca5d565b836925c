#include "auth/Passwords.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <set>

using namespace atrium::auth;
using namespace std::string_literals;

TEST(Passwords, HashVerifyRoundTrip) {
  const std::string hash = HashPassword("correct horse");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_TRUE(VerifyPassword(hash, "correct horse"));
  EXPECT_FALSE(VerifyPassword(hash, "correct horsf"));
  EXPECT_FALSE(VerifyPassword(hash, ""));
  EXPECT_NE(HashPassword("correct horse"), hash);  // salted
}

TEST(Passwords, EmptyPassword) {
  const std::string hash = HashPassword("");
  EXPECT_TRUE(VerifyPassword(hash, ""));
  EXPECT_FALSE(VerifyPassword(hash, "x"));
}

TEST(Passwords, NulInsidePassword) {
  const std::string pw = "abc\0def"s;
  const std::string hash = HashPassword(pw);
  EXPECT_TRUE(VerifyPassword(hash, pw));
  EXPECT_FALSE(VerifyPassword(hash, "abc"));
  EXPECT_FALSE(VerifyPassword(hash, "abc\0deg"s));
  EXPECT_FALSE(VerifyPassword(HashPassword("abc"), pw));
}

TEST(Passwords, GarbageHash) {
  const std::string hash = HashPassword("pw");
  EXPECT_FALSE(VerifyPassword("", "pw"));
  EXPECT_FALSE(VerifyPassword("garbage", "pw"));
  EXPECT_FALSE(VerifyPassword("$argon2id$", "pw"));
  EXPECT_FALSE(VerifyPassword(hash.substr(0, hash.size() - 5), "pw"));
  EXPECT_FALSE(VerifyPassword(hash + "\0"s, "pw"));
  EXPECT_FALSE(VerifyPassword(std::string(4096, 'a'), "pw"));
  EXPECT_FALSE(VerifyPassword("\xff\xfe\0\x01"s, "pw"));
}

TEST(Passwords, RandomHex) {
  EXPECT_EQ(RandomHex(0), "");
  const std::string a = RandomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, RandomHex(16));
}

TEST(Passwords, RandomDigits) {
  EXPECT_EQ(RandomDigits(0), "");
  std::set<char> firsts, seen;
  for (int i = 0; i < 500; ++i) {
    const std::string d = RandomDigits(6);
    ASSERT_EQ(d.size(), 6u);
    ASSERT_EQ(d.find_first_not_of("0123456789"), std::string::npos) << d;
    ASSERT_NE(d[0], '0') << d;
    firsts.insert(d[0]);
    seen.insert(d.begin() + 1, d.end());
  }
  EXPECT_EQ(firsts.size(), 9u);
  EXPECT_EQ(seen.size(), 10u);
}

TEST(Passwords, RandomPassword) {
  const std::string p = RandomPassword();
  EXPECT_EQ(p.size(), 16u);
  EXPECT_EQ(p.find_first_of("0Oo1lIi"), std::string::npos) << p;
  for (char c : p) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << p;
  EXPECT_NE(p, RandomPassword());
}
