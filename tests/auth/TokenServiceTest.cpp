#include "auth/TokenService.hpp"

#include "core/Error.hpp"
#include "core/GRef.hpp"

#include <glib.h>
#include <gtest/gtest.h>
#include <jwt.h>
#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace atrium;
using namespace atrium::auth;
using namespace std::string_literals;
using nlohmann::json;

namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr int64_t kT0 = 1'700'000'000;

std::string Base64Url(const std::string& bin) {
  GCharPtr b64(g_base64_encode(reinterpret_cast<const guchar*>(bin.data()), bin.size()));
  std::string s = b64.get();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  s.erase(s.find_last_not_of('=') + 1);
  return s;
}

std::string FromBase64Url(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  s.append((4 - s.size() % 4) % 4, '=');
  gsize len = 0;
  GCharPtr bin(reinterpret_cast<gchar*>(g_base64_decode(s.c_str(), &len)));
  return std::string(bin.get(), len);
}

// A token signed by libjwt directly, to forge claims or pick another algorithm.
std::string SignRaw(const json& payload, jwt_alg_t alg = JWT_ALG_HS256, const std::string& key = kSecret) {
  jwt_t* raw = nullptr;
  EXPECT_EQ(jwt_new(&raw), 0);
  CPtr<jwt_t, jwt_free> jwt(raw);
  EXPECT_EQ(jwt_add_grants_json(jwt.get(), payload.dump().c_str()), 0);
  EXPECT_EQ(jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(key.data()), int(key.size())),
            0);
  CPtr<char, free> token(jwt_encode_str(jwt.get()));
  return token ? token.get() : "";
}

json GoodPayload() {
  return {{"sub", "5"},     {"acc", "alice"},  {"jti", "abc"},
          {"iat", kT0},     {"exp", kT0 + 60}, {"grants", Grants::ForUser(false).ToJson()},
          {"iss", "atrium"}};
}

// The "reason" of the Unauthenticated error Verify throws, or "accepted".
std::string Reason(const TokenService& ts, const std::string& token) {
  try {
    ts.Verify(token);
    return "accepted";
  } catch (const AppError& e) {
    EXPECT_EQ(e.code(), ErrorCode::Unauthenticated) << e.what();
    return e.data().value("reason", "?");
  }
}

class TokenServiceTest : public ::testing::Test {
protected:
  TokenServiceTest() : ts(kSecret, 3600) {
    ts.SetClock([this] { return now; });
  }
  int64_t now = kT0;
  TokenService ts;
};

}  // namespace

TEST_F(TokenServiceTest, IssueVerifyRoundTrip) {
  Grants g;
  g.publish = true;
  g.rooms = {3, 4};
  const std::string token = ts.Issue(42, "alice", g);
  const TokenClaims c = ts.Verify(token);
  EXPECT_EQ(c.userId, 42);
  EXPECT_EQ(c.account, "alice");
  EXPECT_EQ(c.jti.size(), 32u);
  EXPECT_EQ(c.issuedAt, kT0);
  EXPECT_EQ(c.expiresAt, kT0 + 3600);
  EXPECT_EQ(c.grants, g);
  EXPECT_NE(ts.Verify(ts.Issue(42, "alice", g)).jti, c.jti);
  EXPECT_EQ(ts.Verify(ts.Issue(1, "ünïcode", {}, 10)).expiresAt, kT0 + 10);

  const auto payload =
      json::parse(FromBase64Url(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1)));
  EXPECT_EQ(payload["sub"], "42");
  EXPECT_EQ(payload["iss"], "atrium");
  EXPECT_TRUE(payload["grants"].is_object());
  EXPECT_EQ(SignRaw(GoodPayload()).empty(), false);
  EXPECT_EQ(Reason(ts, SignRaw(GoodPayload())), "accepted");
}

TEST_F(TokenServiceTest, RealClockByDefault) {
  TokenService real(kSecret, 60);
  EXPECT_NO_THROW(real.Verify(real.Issue(1, "a", {})));
  EXPECT_EQ(Reason(real, ts.Issue(1, "a", {})), "expired");  // issued at kT0, long past
}

TEST_F(TokenServiceTest, Expired) {
  const std::string token = ts.Issue(1, "a", {}, 60);
  now = kT0 + 59;
  EXPECT_EQ(Reason(ts, token), "accepted");
  now = kT0 + 60;
  EXPECT_EQ(Reason(ts, token), "expired");
  // A forged token is "invalid" even when also expired.
  EXPECT_EQ(Reason(ts, TokenService(kSecret + "x", 60).Issue(1, "a", {}, 1)), "invalid");
}

TEST_F(TokenServiceTest, ForgedWithAnotherSecret) {
  TokenService other("another secret entirely, long enough to be plausible", 3600);
  EXPECT_EQ(Reason(ts, other.Issue(1, "admin", Grants::ForUser(true))), "invalid");
}

TEST_F(TokenServiceTest, TamperedPayload) {
  const std::string token = ts.Issue(7, "bob", Grants::ForUser(false));
  const size_t d1 = token.find('.'), d2 = token.rfind('.');
  json payload = json::parse(FromBase64Url(token.substr(d1 + 1, d2 - d1 - 1)));
  payload["grants"]["admin"] = true;
  EXPECT_EQ(Reason(ts, token.substr(0, d1 + 1) + Base64Url(payload.dump()) + token.substr(d2)), "invalid");
  std::string flipped = token;
  flipped[d1 + 3] = flipped[d1 + 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Reason(ts, flipped), "invalid");
  std::string badSig = token;
  badSig[d2 + 5] = badSig[d2 + 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Reason(ts, badSig), "invalid");
  EXPECT_EQ(Reason(ts, token.substr(0, d2 + 1)), "invalid");  // signature stripped
}

TEST_F(TokenServiceTest, AlgNoneRejected) {
  const std::string payload = Base64Url(GoodPayload().dump());
  for (const char* header : {R"({"alg":"none"})", R"({"alg":"none","typ":"JWT"})", R"({"alg":"NONE"})"}) {
    EXPECT_EQ(Reason(ts, Base64Url(header) + "." + payload + "."), "invalid") << header;
    EXPECT_EQ(Reason(ts, Base64Url(header) + "." + payload), "invalid") << header;
  }
  // Also a real HS256 signature glued under a "none" header.
  const std::string good = SignRaw(GoodPayload());
  EXPECT_EQ(Reason(ts, Base64Url(R"({"alg":"none"})") + good.substr(good.find('.'))), "invalid");
}

TEST_F(TokenServiceTest, OtherAlgorithmsRejected) {
  // Correctly signed with our secret, but not HS256.
  EXPECT_EQ(Reason(ts, SignRaw(GoodPayload(), JWT_ALG_HS512)), "invalid");
  EXPECT_EQ(Reason(ts, SignRaw(GoodPayload(), JWT_ALG_HS384)), "invalid");
}

TEST_F(TokenServiceTest, MissingOrIllTypedClaims) {
  const std::pair<const char*, json> cases[] = {
      {"sub", nullptr},
      {"sub", 5},
      {"sub", "5x"},
      {"sub", ""},
      {"sub", "99999999999999999999"},
      {"acc", nullptr},
      {"acc", 1},
      {"jti", nullptr},
      {"jti", false},
      {"iat", nullptr},
      {"iat", "1"},
      {"iat", 1.5},
      {"exp", nullptr},
      {"exp", "9e9"},
      {"exp", 1e12},
      {"iss", nullptr},
      {"iss", "x"},
      {"grants", nullptr},
      {"grants", "{}"},
      {"grants", json::array()},
      {"grants", {{"rooms", "1"}}},
      {"grants", {{"admin", 1}}},
  };
  for (const auto& [key, value] : cases) {
    json p = GoodPayload();
    if (value.is_null())
      p.erase(key);
    else
      p[key] = value;
    EXPECT_EQ(Reason(ts, SignRaw(p)), "invalid") << p.dump();
  }
}

TEST_F(TokenServiceTest, GarbageNeverCrashes) {
  const std::string good = ts.Issue(1, "a", {});
  const std::string cases[] = {
      "",
      ".",
      "..",
      "...",
      "a.b.c",
      "a.b",
      "abc",
      "Bearer " + good,
      good + "x",
      good + ".",
      "." + good,
      good + "\0"s,
      good + "\0junk"s,
      "\0"s + good,
      std::string(100, '.'),
      "\xff\xfe\xfd.\x80.\x01",
      Base64Url("{") + "." + Base64Url("{}") + ".",
      Base64Url("[]") + "." + Base64Url("[]") + ".x",
      Base64Url(R"({"alg":"HS256"})") + "." + Base64Url("not json") + ".sig",
      Base64Url(R"({"alg":"HS256"})") + "." + Base64Url("[1,2]") + ".sig",
      Base64Url(R"({"alg":5})") + "." + Base64Url("{}") + ".sig",
      "!!!!.####.$$$$",
  };
  for (const auto& t : cases) EXPECT_EQ(Reason(ts, t), "invalid") << t;

  // Random bytes, random base64url alphabet, random three-part strings.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
  for (int i = 0; i < 300; ++i) {
    std::string s(randombytes_uniform(600), '\0');
    randombytes_buf(s.data(), s.size());
    EXPECT_EQ(Reason(ts, s), "invalid");
    for (char& c : s) c = alphabet[randombytes_uniform(uint32_t(alphabet.size()))];
    EXPECT_EQ(Reason(ts, s), "invalid") << s;
    std::string mutated = good;
    // Not the last character: its low bits are base64 padding a decoder may ignore.
    mutated[randombytes_uniform(uint32_t(mutated.size() - 1))] = alphabet[randombytes_uniform(64)];
    if (mutated != good) {
      EXPECT_EQ(Reason(ts, mutated), "invalid") << mutated;
    }
  }
}

TEST_F(TokenServiceTest, OverlongRejected) {
  EXPECT_EQ(Reason(ts, std::string(1 << 20, 'a')), "invalid");
  Grants g;
  for (int64_t i = 0; i < 900; ++i) g.rooms.push_back(1'000'000'000 + i);
  const std::string big = ts.Issue(1, "a", g);  // genuine, but over the cap
  ASSERT_GT(big.size(), TokenService::kMaxTokenSize);
  EXPECT_EQ(Reason(ts, big), "invalid");
}

TEST(TokenServiceConfig, RefusesEmptySecretOrLifetime) {
  EXPECT_THROW(TokenService("", 60), AppError);
  EXPECT_THROW(TokenService(kSecret, 0), AppError);
}

namespace {

struct TempDir {
  TempDir() {
    GError* raw = nullptr;
    GCharPtr p(g_dir_make_tmp("atrium-auth-XXXXXX", &raw));
    GErrorPtr err(raw);
    EXPECT_TRUE(p) << (err ? err->message : "");
    path = p ? p.get() : "";
  }
  ~TempDir() {
    if (!path.empty()) std::filesystem::remove_all(path);
  }
  std::string path;
};

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

}  // namespace

TEST(TokenServiceSecret, CreatedPrivateThenReread) {
  TempDir tmp;
  const std::string dataDir = tmp.path + "/var/lib/atrium";
  const std::string secret = TokenService::LoadOrCreateSecret(dataDir);
  EXPECT_EQ(secret.size(), 64u);
  EXPECT_EQ(secret.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(ModeOf(dataDir + "/jwt.secret"), 0600u);
  EXPECT_EQ(ModeOf(dataDir), 0700u);
  EXPECT_EQ(TokenService::LoadOrCreateSecret(dataDir), secret);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dataDir)) ++files;
  EXPECT_EQ(files, 1u);  // no temp file left behind

  TokenService a(secret, 60), b(TokenService::LoadOrCreateSecret(dataDir), 60);
  EXPECT_EQ(b.Verify(a.Issue(3, "c", {})).userId, 3);
}

TEST(TokenServiceSecret, TrimsAndRefusesShortSecret) {
  TempDir tmp;
  std::ofstream(tmp.path + "/jwt.secret") << kSecret << "\n";
  EXPECT_EQ(TokenService::LoadOrCreateSecret(tmp.path), kSecret);
  std::ofstream(tmp.path + "/jwt.secret") << "short\n";
  EXPECT_THROW(TokenService::LoadOrCreateSecret(tmp.path), AppError);
}

TEST(TokenServiceSecret, IoErrorNamesPath) {
  TempDir tmp;
  const std::string file = tmp.path + "/not-a-dir";
  std::ofstream(file) << "x";
  try {
    TokenService::LoadOrCreateSecret(file + "/data");
    ADD_FAILURE() << "no error";
  } catch (const AppError& e) {
    EXPECT_EQ(e.code(), ErrorCode::Internal);
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
}
