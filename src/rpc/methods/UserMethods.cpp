// user.* (accounts) and org.* (organisations). Administrators manage everyone; a user
// may read and edit its own profile and change its own password.
#include "auth/Passwords.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Organisations.hpp"
#include "store/Users.hpp"

namespace atrium::rpc {

using nlohmann::json;

namespace {

bool IsSelf(const Call& c, int64_t userId) { return c.identity().userId == userId; }

void RequireSelfOrAdmin(const Call& c, int64_t userId) {
  if (!IsSelf(c, userId)) c.RequireAdmin();
}

void RequireOrg(Services& s, int64_t orgId) {
  if (!store::Organisations(s.db).Find(orgId))
    throw AppError(ErrorCode::NotFound, "no such organisation", {{"orgId", orgId}});
}

}  // namespace

void RegisterUserMethods(Dispatcher& d, Services& s) {
  d.Add("user.add", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    store::User u;
    u.account = views::Account(c.params, "account");
    std::string password = views::NewPassword(c.params, "password");
    u.name = c.params.optText("name", 128).value_or(u.account);
    u.email = c.params.optStr("email", 256).value_or("");
    u.phone = c.params.optStr("phone", 64).value_or("");
    u.admin = c.params.optBoolean("admin").value_or(false);
    u.orgId = c.params.optId("orgId").value_or(1);
    RequireOrg(s, u.orgId);
    u.passwordHash = auth::HashPassword(password);
    int64_t id = store::Users(s.db).Create(u);
    return json{{"userId", id}};
  });

  d.Add("user.get", Access::User, [&s](Call& c) {
    int64_t id = c.params.optId("userId").value_or(c.identity().userId);
    RequireSelfOrAdmin(c, id);
    return json{{"user", views::User(views::UserOr404(s, id))}};
  });

  d.Add("user.modify", Access::User, [&s](Call& c) {
    int64_t id = c.params.id("userId");
    RequireSelfOrAdmin(c, id);
    auto u = views::UserOr404(s, id);
    if (auto v = c.params.optText("name", 128)) u.name = *v;
    if (auto v = c.params.optStr("email", 256)) u.email = *v;
    if (auto v = c.params.optStr("phone", 64)) u.phone = *v;
    bool privileged = c.params.has("admin") || c.params.has("orgId");
    if (privileged) {
      c.RequireAdmin();
      if (auto v = c.params.optId("orgId")) {
        RequireOrg(s, *v);
        u.orgId = *v;
      }
      if (auto v = c.params.optBoolean("admin")) {
        if (!*v && u.admin && store::Users(s.db).CountAdmins() <= 1)
          throw AppError(ErrorCode::Conflict, "the last administrator cannot lose its rights");
        u.admin = *v;
      }
    }
    store::Users(s.db).Update(u);
    return json{{"user", views::User(views::UserOr404(s, id))}};
  });

  d.Add("user.delete", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    int64_t id = c.params.id("userId");
    auto u = views::UserOr404(s, id);
    if (IsSelf(c, id)) throw AppError(ErrorCode::Conflict, "you cannot delete your own account");
    if (u.admin && store::Users(s.db).CountAdmins() <= 1)
      throw AppError(ErrorCode::Conflict, "the last administrator cannot be deleted");
    store::Users(s.db).Delete(id);
    return json::object();
  });

  d.Add("user.list", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    auto orgId = c.params.optId("orgId");
    auto page = views::ReadPage(c.params);
    auto result = store::Users(s.db).List(orgId, page);
    return views::PageResult<store::User>("users", result, page, views::User);
  });

  d.Add("user.changePassword", Access::User, [&s](Call& c) {
    std::string oldPassword = c.params.str("oldPassword", 1024);
    std::string newPassword = views::NewPassword(c.params, "newPassword");
    auto u = views::UserOr404(s, c.identity().userId);
    if (!auth::VerifyPassword(u.passwordHash, oldPassword))
      throw AppError(ErrorCode::WrongPassword, "the old password is wrong");
    store::Users(s.db).SetPasswordHash(u.id, auth::HashPassword(newPassword));
    return json::object();
  });

  // An administrator sets a new password, or gets a generated one back.
  d.Add("user.resetPassword", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    int64_t id = c.params.id("userId");
    views::UserOr404(s, id);
    bool generated = !c.params.has("newPassword");
    std::string password = generated ? auth::RandomPassword() : views::NewPassword(c.params, "newPassword");
    store::Users(s.db).SetPasswordHash(id, auth::HashPassword(password));
    return generated ? json{{"password", password}} : json::object();
  });

  d.Add("org.create", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    return json{{"orgId", store::Organisations(s.db).Create(c.params.text("name", 128))}};
  });

  d.Add("org.list", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    json orgs = json::array();
    for (const auto& o : store::Organisations(s.db).List())
      orgs.push_back({{"orgId", o.id}, {"name", o.name}, {"createdAt", o.createdAt}});
    return json{{"organisations", orgs}};
  });

  d.Add("org.delete", Access::User, [&s](Call& c) {
    c.RequireAdmin();
    int64_t id = c.params.id("orgId");
    if (id == 1) throw AppError(ErrorCode::Conflict, "the default organisation cannot be deleted");
    store::Organisations(s.db).Delete(id);
    return json::object();
  });
}

}  // namespace atrium::rpc
