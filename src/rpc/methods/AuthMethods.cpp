// auth.* (login, resume, logout, tokens for scripts, third-party sign-in) and app.*
// (the third-party apps allowed to sign their users in).
#include "auth/LoginThrottle.hpp"
#include "auth/Passwords.hpp"
#include "core/Log.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Apps.hpp"
#include "store/Organisations.hpp"
#include "store/RevokedTokens.hpp"
#include "store/Users.hpp"

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

using nlohmann::json;

namespace {

Identity IdentityOf(const auth::TokenClaims& c) {
  return {c.userId, c.account, c.jti, c.expiresAt, c.grants, c.grants.admin};
}

// A signature is good for one account of one app.
std::string SignedSubject(const std::string& appId, const std::string& account) { return appId + "\n" + account; }

// Issues a token and, on a WebSocket, makes it the session's identity.
json SignIn(Services& s, Call& call, const store::User& u, bool created = false) {
  auto grants = auth::Grants::ForUser(u.admin);
  std::string token = s.tokens.Issue(u.id, u.account, grants);
  auto claims = s.tokens.Verify(token);
  if (call.session.kind() == Session::Kind::WebSocket) call.session.identity = IdentityOf(claims);
  json r = {{"token", token}, {"expiresAt", claims.expiresAt}, {"user", views::User(u)}};
  if (created) r["created"] = true;
  return r;
}

}  // namespace

void RegisterAuthMethods(Dispatcher& d, Services& s) {
  // Tokens are verified here; every authenticated call then re-checks that the user still
  // exists and the token was not revoked, and narrows admin to what the user is now.
  d.SetAuthenticator(
      [&s](const std::string& token) { return IdentityOf(s.tokens.Verify(token)); },
      [&s](Identity& id) { views::CheckIdentity(s, id); });

  // Password guessing is slowed down per account and per client address (docs/protocol.md,
  // auth.login): a refused attempt costs no hash and says when to try again.
  auto throttle = std::make_shared<auth::LoginThrottle>();
  d.Add("auth.login", Access::Public, [&s, throttle](Call& c) {
    std::string account = c.params.str("account", 256);
    std::string password = c.params.str("password", 1024);
    if (int64_t waitMs = throttle->RetryAfterMs(account, c.session.peer())) {
      GST_INFO("login throttled [account:%s peer:%s wait_ms:%" G_GINT64_FORMAT "]", account.c_str(),
               c.session.peer().c_str(), waitMs);
      throw AppError(ErrorCode::RateLimited, "too many failed logins, try again later",
                     {{"reason", "loginThrottled"}, {"retryAfter", (waitMs + 999) / 1000}});
    }
    auto u = store::Users(s.db).FindByAccount(account);
    // Unknown account and wrong password answer alike, and both cost a hash check.
    static const std::string kDummyHash = auth::HashPassword("atrium: no such account");
    bool ok = u ? auth::VerifyPassword(u->passwordHash, password)
                : (auth::VerifyPassword(kDummyHash, password), false);
    if (!ok) {
      throttle->Failed(account, c.session.peer());
      GST_INFO("login failed [account:%s peer:%s]", account.c_str(), c.session.peer().c_str());
      throw AppError(ErrorCode::WrongPassword, "wrong account or password");
    }
    throttle->Succeeded(account);
    return SignIn(s, c, *u);
  });

  d.Add("auth.resume", Access::Public, [&s](Call& c) {
    std::string token = c.params.str("token", 16384);
    Identity id = IdentityOf(s.tokens.Verify(token));
    store::User u = views::CheckIdentity(s, id);
    if (c.session.kind() == Session::Kind::WebSocket) c.session.identity = id;
    return json{{"user", views::User(u)}, {"expiresAt", id.expiresAt}, {"grants", id.grants.ToJson()}};
  });

  d.Add("auth.logout", Access::User, [&s](Call& c) {
    store::RevokedTokens revoked(s.db);
    revoked.Revoke(c.identity().jti, c.identity().expiresAt);
    revoked.Purge(store::Now());
    c.session.identity.reset();
    return json::object();
  });

  // A token for scripts or guests: an administrator chooses the user, grants and lifetime.
  d.Add("auth.issueToken", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    int64_t userId = c.params.optId("userId").value_or(c.identity().userId);
    auto u = views::UserOr404(s, userId);
    const json* given = c.params.optObject("grants");
    auth::Grants grants = given ? auth::Grants::FromJson(*given) : auth::Grants::ForUser(u.admin);
    if (grants.admin && !u.admin) throw AppError(ErrorCode::Forbidden, "only administrators can hold admin grants");
    int64_t ttl = c.params.optInteger("ttl", 60, 365LL * 86400).value_or(s.config.tokenLifetimeSeconds);
    std::string token = s.tokens.Issue(u.id, u.account, grants, ttl);
    return json{{"token", token}, {"expiresAt", store::Now() + ttl}};
  });

  d.Add("auth.sign", Access::Public, [&s](Call& c) {
    std::string appId = c.params.str("appId", 128);
    std::string secret = c.params.str("secret", 1024);
    std::string account = c.params.text("account", 128);
    auto app = store::Apps(s.db).FindByAppId(appId);
    if (!app || !auth::VerifyPassword(app->secretHash, secret))
      throw AppError(ErrorCode::WrongPassword, "wrong appId or secret");
    int64_t expiresAt = store::Now() + s.config.signatureLifetimeSeconds;
    return json{{"signature", s.signer.Sign(SignedSubject(appId, account), expiresAt)}, {"expiresAt", expiresAt}};
  });

  d.Add("auth.dockingLogin", Access::Public, [&s](Call& c) {
    std::string appId = c.params.str("appId", 128);
    std::string signature = c.params.str("signature", 256);
    std::string external = c.params.text("account", 128);
    auto name = c.params.optText("name", 128);
    auto app = store::Apps(s.db).FindByAppId(appId);
    if (!app) throw AppError(ErrorCode::Unauthenticated, "bad signature", {{"reason", "badSignature"}});
    s.signer.Verify(SignedSubject(appId, external), signature, store::Now());
    store::Users users(s.db);
    auto u = users.FindExternal(appId, external);
    bool created = false;
    if (!u) {
      store::User nu;
      nu.orgId = app->orgId;
      nu.account = appId + ":" + external;
      nu.name = name.value_or(external);
      nu.passwordHash = "";  // signs in through its app only
      nu.externalApp = appId;
      nu.externalId = external;
      nu.id = users.Create(nu);
      u = users.Find(nu.id);
      created = true;
    } else if (name && *name != u->name) {
      u->name = *name;
      users.Update(*u);
    }
    return SignIn(s, c, *u, created);
  });

  d.Add("app.create", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    store::App app;
    app.name = c.params.text("name", 128);
    app.orgId = c.params.optId("orgId").value_or(1);
    if (!store::Organisations(s.db).Find(app.orgId))
      throw AppError(ErrorCode::NotFound, "no such organisation", {{"orgId", app.orgId}});
    app.appId = auth::RandomHex(8);
    std::string secret = auth::RandomHex(24);
    app.secretHash = auth::HashPassword(secret);
    store::Apps(s.db).Create(app);
    return json{{"appId", app.appId}, {"secret", secret}};
  });

  d.Add("app.list", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    json apps = json::array();
    for (const auto& a : store::Apps(s.db).List())
      apps.push_back({{"appId", a.appId}, {"name", a.name}, {"orgId", a.orgId}, {"createdAt", a.createdAt}});
    return json{{"apps", apps}};
  });

  d.Add("app.delete", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    store::Apps(s.db).Delete(c.params.str("appId", 128));
    return json::object();
  });
}

}  // namespace atrium::rpc
