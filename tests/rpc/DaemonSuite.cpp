#include "tests/rpc/DaemonSuite.hpp"

#include "auth/TokenService.hpp"

#include <glib.h>

namespace atrium::test {

int64_t Now() { return g_get_real_time() / G_USEC_PER_SEC; }

std::string Unique(const std::string& prefix) {
  static int n = 0;
  return prefix + "-" + std::to_string(++n);
}

std::string ParamOf(const json& reply) {
  if (!reply.contains("error") || !reply["error"].contains("data")) return "";
  return reply["error"]["data"].value("param", "");
}

TempDir* DaemonSuite::dir_ = nullptr;
DaemonProcess* DaemonSuite::daemon_ = nullptr;
HttpClient* DaemonSuite::http_ = nullptr;
std::string* DaemonSuite::secret_ = nullptr;
std::string* DaemonSuite::admin_ = nullptr;
int64_t DaemonSuite::adminId_ = 0;

void DaemonSuite::StartDaemon(const std::string& config) {
  dir_ = new TempDir();
  daemon_ = new DaemonProcess(dir_->path(), config);
  http_ = new HttpClient(daemon_->url());
  secret_ = new std::string(auth::TokenService::LoadOrCreateSecret(daemon_->dataDir()));
  json r = http_->Call("auth.login", {{"account", "admin"}, {"password", DaemonProcess::kAdminPassword}});
  admin_ = new std::string(ResultOf(r)["token"].get<std::string>());
  adminId_ = ResultOf(r)["user"]["userId"].get<int64_t>();
}

void DaemonSuite::TearDownTestSuite() {
  delete admin_;
  delete secret_;
  delete http_;
  delete daemon_;
  delete dir_;
  admin_ = secret_ = nullptr;
  http_ = nullptr;
  daemon_ = nullptr;
  dir_ = nullptr;
}

User DaemonSuite::AddAccount(const std::string& prefix, const json& extra) {
  User u;
  u.account = Unique(prefix);
  json params = {{"account", u.account}, {"password", kUserPassword}};
  params.update(extra);
  u.id = Ok(AdminCall("user.add", params))["userId"];
  return u;
}

std::string DaemonSuite::MintToken(const User& u, bool admin) {
  auth::TokenService ts(*secret_, 86400);
  return ts.Issue(u.id, u.account, auth::Grants::ForUser(admin));
}

User DaemonSuite::AddUser(const std::string& prefix, const json& extra) {
  User u = AddAccount(prefix, extra);
  u.token = MintToken(u, extra.value("admin", false));
  return u;
}

}  // namespace atrium::test
