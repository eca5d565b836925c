#include "ctl/Commands.hpp"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <string_view>

#include "core/GRef.hpp"

namespace atrium::ctl {

using nlohmann::json;

namespace {

constexpr int kUnauthenticated = -32001;  // ErrorCode::Unauthenticated

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string Trim(std::string s) {
  const auto notSpace = [](unsigned char c) { return !std::isspace(c); };
  s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
  return s;
}

// $XDG_CONFIG_HOME/atrium/token, else ~/.config/atrium/token.
std::string TokenPath() {
  GCharPtr path(g_build_filename(g_get_user_config_dir(), "atrium", "token", nullptr));
  return path.get();
}

std::string LoadToken() {
  gchar* raw = nullptr;
  if (!g_file_get_contents(TokenPath().c_str(), &raw, nullptr, nullptr)) return "";
  GCharPtr contents(raw);
  return Trim(contents.get());
}

void SaveToken(const std::string& token) {
  const std::string path = TokenPath();
  GCharPtr dir(g_path_get_dirname(path.c_str()));
  if (g_mkdir_with_parents(dir.get(), 0700) != 0)
    throw std::runtime_error("cannot create " + std::string(dir.get()) + ": " + g_strerror(errno));
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + g_strerror(errno));
  const std::string line = token + "\n";
  const bool ok = fchmod(fd, 0600) == 0 && write(fd, line.data(), line.size()) == ssize_t(line.size());
  if (close(fd) != 0 || !ok) throw std::runtime_error("cannot write " + path + ": " + g_strerror(errno));
}

// One line from stdin; on a terminal after a prompt and without echo.
std::string ReadPassword() {
  const bool tty = isatty(STDIN_FILENO);
  termios saved{};
  if (tty) {
    std::cerr << "Password: " << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool got = bool(std::getline(std::cin, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << '\n';
  }
  if (!got || line.empty()) throw UsageError("no password given");
  if (line.back() == '\r') line.pop_back();
  return line;
}

int64_t ToInt(std::string_view what, const std::string& s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    throw UsageError(std::string(what) + ": expected an integer, got '" + s + "'");
  return v;
}

// An id or a time on the command line: a number when it reads as one, else a string.
json Scalar(const std::string& s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty() ? json(v) : json(s);
}

std::string Cell(const json& v) {
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

// A command's arguments after its name: positionals and --options (`--opt V`, `--opt=V`).
struct Commands::Args {
  std::vector<std::string> pos;
  std::map<std::string, std::string, std::less<>> opts;

  bool flag(std::string_view name) const { return opts.contains(name); }
  std::optional<std::string> get(std::string_view name) const {
    const auto it = opts.find(name);
    return it == opts.end() ? std::nullopt : std::optional(it->second);
  }
  std::string need(std::string_view name) const {
    auto v = get(name);
    if (!v) throw UsageError("missing " + std::string(name));
    return *v;
  }
  // Copies integer option `name` into params[key] when it is given.
  void intTo(json& params, std::string_view name, const char* key) const {
    if (auto v = get(name)) params[key] = ToInt(name, *v);
  }
};

Commands::Commands(Globals globals) : g_(std::move(globals)) {
  if (g_.server.empty()) g_.server = Env("ATRIUM_URL");
  if (g_.server.empty()) g_.server = "http://127.0.0.1:8088";
  if (g_.token.empty()) g_.token = Env("ATRIUM_TOKEN");
  if (g_.token.empty()) g_.token = LoadToken();
}

void Commands::Run(const std::vector<std::string>& args) {
  using Handler = void (Commands::*)(const Args&);
  struct Spec {
    std::string_view name;
    Handler run;
    std::vector<std::string_view> valued, flags;
    size_t minPos, maxPos;
  };
  static const Spec kSpecs[] = {
      {"login", &Commands::Login, {"--password"}, {}, 1, 1},
      {"logout", &Commands::Logout, {}, {}, 0, 0},
      {"ping", &Commands::Ping, {}, {}, 0, 0},
      {"call", &Commands::Call, {}, {}, 1, 2},
      {"room create",
       &Commands::RoomCreate,
       {"--name", "--mode", "--type", "--definition", "--limit", "--password", "--description"},
       {"--public"},
       0,
       0},
      {"room list", &Commands::RoomList, {}, {}, 0, 0},
      {"room get", &Commands::RoomGet, {}, {}, 1, 1},
      {"room delete", &Commands::RoomDelete, {}, {}, 1, 1},
      {"user add", &Commands::UserAdd, {"--password", "--name", "--org"}, {"--admin"}, 1, 1},
      {"user list", &Commands::UserList, {"--org", "--offset", "--limit"}, {}, 0, 0},
      {"meeting list", &Commands::MeetingList, {"--from", "--to", "--offset", "--limit"}, {}, 0, 0},
      {"recording list",
       &Commands::RecordingList,
       {"--name", "--user", "--org", "--from", "--to", "--page", "--size"},
       {},
       0,
       0},
      {"recording download", &Commands::RecordingDownload, {"--output"}, {}, 1, 1},
      {"recording delete", &Commands::RecordingDelete, {}, {}, 1, 500},
  };
  if (args.empty()) throw UsageError("no command given");
  const Spec* spec = nullptr;
  size_t words = 1;
  for (const Spec& s : kSpecs) {
    if (s.name == args[0]) spec = &s;
    if (args.size() > 1 && s.name == args[0] + " " + args[1]) spec = &s, words = 2;
  }
  if (!spec) throw UsageError("unknown command '" + args[0] + (args.size() > 1 ? " " + args[1] : "") + "'");

  Args a;
  bool optionsDone = false;
  for (size_t i = words; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (optionsDone || !arg.starts_with("--")) {
      a.pos.push_back(arg);
      continue;
    }
    if (arg == "--") {
      optionsDone = true;
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    if (std::ranges::find(spec->flags, name) != spec->flags.end() && eq == std::string::npos) {
      a.opts[name] = "";
    } else if (std::ranges::find(spec->valued, name) != spec->valued.end()) {
      if (eq != std::string::npos)
        a.opts[name] = arg.substr(eq + 1);
      else if (i + 1 < args.size())
        a.opts[name] = args[++i];
      else
        throw UsageError(name + " needs a value");
    } else {
      throw UsageError(std::string(spec->name) + ": unknown option '" + arg + "'");
    }
  }
  if (a.pos.size() < spec->minPos || a.pos.size() > spec->maxPos)
    throw UsageError(std::string(spec->name) + ": wrong number of arguments");
  (this->*spec->run)(a);
}

RpcClient Commands::Client(bool withToken) const {
  return RpcClient(g_.server, withToken ? g_.token : "");
}

void Commands::Print(const json& result) const {
  std::cout << (g_.json ? result.dump() : result.dump(2)) << '\n';
}

void Commands::PrintList(const json& result, const std::vector<std::string>& columns) const {
  const json* items = nullptr;
  if (result.is_object())
    for (const auto& [key, value] : result.items())
      if (value.is_array() && !items) items = &value;
  if (g_.json || !items) return Print(result);
  if (items->empty()) {
    std::cout << "(none)\n";
    return;
  }

  // The preferred columns the items have; failing that, every scalar field of the first.
  std::vector<std::string> cols;
  for (const std::string& c : columns)
    if (std::ranges::any_of(*items, [&](const json& it) { return it.is_object() && it.contains(c); }))
      cols.push_back(c);
  if (cols.empty() && !items->empty() && items->front().is_object())
    for (const auto& [key, value] : items->front().items())
      if (!value.is_structured()) cols.push_back(key);
  if (cols.empty()) return Print(result);

  std::vector<std::vector<std::string>> rows{cols};
  for (const json& it : *items) {
    auto& row = rows.emplace_back();
    for (const std::string& c : cols) row.push_back(it.is_object() && it.contains(c) ? Cell(it[c]) : "-");
  }
  std::vector<size_t> width(cols.size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i)
      line += i + 1 < row.size() ? row[i] + std::string(width[i] - row[i].size() + 2, ' ') : row[i];
    std::cout << line << '\n';
  }
  if (result.contains("total")) std::cout << "(" << items->size() << " of " << Cell(result["total"]) << ")\n";
}

void Commands::Login(const Args& a) {
  const std::string& account = a.pos[0];
  std::string password = a.get("--password").value_or(Env("ATRIUM_PASSWORD"));
  if (password.empty()) password = ReadPassword();
  const json result = Client(false).Call("auth.login", {{"account", account}, {"password", password}});
  if (!result.contains("token") || !result["token"].is_string())
    throw RpcClient::TransportError("auth.login: the reply has no token");
  SaveToken(result["token"]);
  if (g_.json)
    Print(result);
  else
    std::cout << "logged in as " << account << '\n';
}

void Commands::Logout(const Args&) {
  if (g_.token.empty()) throw UsageError("not logged in");
  json result = json::object();
  try {
    result = Client().Call("auth.logout");
  } catch (const RpcClient::ServerError& e) {
    if (e.code() != kUnauthenticated) throw;  // an expired or revoked token is logged out anyway
  }
  if (LoadToken() == g_.token) g_unlink(TokenPath().c_str());
  if (g_.json)
    Print(result);
  else
    std::cout << "logged out\n";
}

void Commands::Ping(const Args&) {
  Print(Client().Call("server.ping"));
}

void Commands::Call(const Args& a) {
  json params;
  if (a.pos.size() > 1) {
    std::string text = a.pos[1];
    if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), {});
    params = json::parse(text, nullptr, false);
    if (params.is_discarded()) throw UsageError("PARAMS_JSON is not valid JSON");
  }
  Print(Client().Call(a.pos[0], params));
}

void Commands::RoomCreate(const Args& a) {
  json params = {{"name", a.need("--name")},
                 {"mode", a.get("--mode").value_or("sfu")},
                 {"type", ToInt("--type", a.get("--type").value_or("2"))},
                 {"definition", a.get("--definition").value_or("720p")},
                 {"numberLimit", ToInt("--limit", a.get("--limit").value_or("16"))},
                 {"isPublic", a.flag("--public")}};
  if (auto v = a.get("--password")) params["password"] = *v;
  if (auto v = a.get("--description")) params["description"] = *v;
  Print(Client().Call("room.create", params));
}

void Commands::RoomList(const Args&) {
  PrintList(Client().Call("room.list", json::object()),
            {"roomId", "name", "mode", "type", "definition", "numberLimit", "isPublic", "participants"});
}

void Commands::RoomGet(const Args& a) {
  Print(Client().Call("room.get", {{"roomId", Scalar(a.pos[0])}}));
}

void Commands::RoomDelete(const Args& a) {
  Print(Client().Call("room.delete", {{"roomId", Scalar(a.pos[0])}}));
}

void Commands::UserAdd(const Args& a) {
  // No $ATRIUM_PASSWORD here: that is the caller's own password, not the new user's.
  const std::string password = a.get("--password") ? *a.get("--password") : ReadPassword();
  json params = {{"account", a.pos[0]},
                 {"password", password},
                 {"name", a.get("--name").value_or(a.pos[0])},
                 {"admin", a.flag("--admin")}};
  a.intTo(params, "--org", "orgId");
  Print(Client().Call("user.add", params));
}

void Commands::UserList(const Args& a) {
  json params = json::object();
  a.intTo(params, "--org", "orgId");
  a.intTo(params, "--offset", "offset");
  a.intTo(params, "--limit", "limit");
  PrintList(Client().Call("user.list", params), {"userId", "account", "name", "admin", "orgId"});
}

void Commands::MeetingList(const Args& a) {
  json params = json::object();
  if (auto v = a.get("--from")) params["from"] = Scalar(*v);
  if (auto v = a.get("--to")) params["to"] = Scalar(*v);
  a.intTo(params, "--offset", "offset");
  a.intTo(params, "--limit", "limit");
  PrintList(Client().Call("meeting.list", params),
            {"meetingId", "name", "inviteCode", "roomId", "startTime", "endTime", "status"});
}

void Commands::RecordingList(const Args& a) {
  json params = json::object();
  if (auto v = a.get("--name")) params["name"] = *v;
  a.intTo(params, "--user", "userId");
  a.intTo(params, "--org", "orgId");
  a.intTo(params, "--from", "startDate");
  a.intTo(params, "--to", "endDate");
  a.intTo(params, "--page", "pageNo");
  a.intTo(params, "--size", "pageSize");
  json result = Client().Call("recording.list", params);
  PrintList(result, {"recordingId", "name", "format", "layout", "status", "startTime", "durationMs", "sizeBytes"});
  if (!g_.json && result.contains("totalCount"))
    std::cout << "(page " << Cell(result["pageNo"]) << " of " << Cell(result["totalPage"]) << ", "
              << Cell(result["totalCount"]) << " recordings)\n";
}

// Downloads a file, or every file of a `tracks` recording, with a progress bar on a
// terminal.
void Commands::RecordingDownload(const Args& a) {
  int64_t id = ToInt("ID", a.pos[0]);
  RpcClient client = Client();
  json rec = client.Call("recording.get", {{"recordingId", id}})["recording"];
  std::vector<json> files;
  if (rec.contains("files"))
    for (const auto& f : rec["files"]) files.push_back(f);
  else
    files.push_back(rec);
  if (files.empty()) throw UsageError("recording " + std::to_string(id) + " has no files");
  auto output = a.get("--output");
  if (output && files.size() > 1) throw UsageError("--output names one file; this recording has several");
  bool bar = !g_.json && isatty(fileno(stderr));
  for (const auto& f : files) {
    std::string fileId = Cell(f["recordingId"]);
    std::string out = output.value_or("recording-" + fileId + "." + f["format"].get<std::string>());
    auto progress = [&](uint64_t done, uint64_t total) {
      if (!bar) return;
      constexpr int kWidth = 30;
      int filled = total ? int(done * kWidth / total) : 0;
      std::fprintf(stderr, "\r%s [%s%s] %3d%% %.1f/%.1f MB", out.c_str(), std::string(size_t(filled), '#').c_str(),
                   std::string(size_t(kWidth - filled), ' ').c_str(), total ? int(done * 100 / total) : 0,
                   double(done) / 1e6, double(total) / 1e6);
    };
    client.Download("/recordings/" + fileId + "/file", out, progress);
    if (bar) std::fprintf(stderr, "\n");
    if (g_.json)
      std::cout << json{{"recordingId", f["recordingId"]}, {"file", out}}.dump() << '\n';
    else
      std::cout << "saved " << out << '\n';
  }
}

void Commands::RecordingDelete(const Args& a) {
  json ids = json::array();
  for (const auto& p : a.pos) ids.push_back(ToInt("ID", p));
  Print(Client().Call("recording.delete", {{"recordingIds", ids}}));
}

const char* Commands::Usage() {
  return R"(Usage: atriumctl [--server URL] [--token TOKEN] [--json] COMMAND [ARGS...]

Controls an Atrium server through its JSON-RPC 2.0 API (POST URL/rpc).

Commands:
  login ACCOUNT [--password P]     log in and save the token; the password comes from
                                   --password, $ATRIUM_PASSWORD or a prompt (stdin)
  logout                           revoke the token and forget the saved one
  ping                             server.ping
  call METHOD [PARAMS_JSON]        call any method; PARAMS_JSON '-' reads it from stdin
  room create --name N [--mode sfu|mcu] [--type 1|2|3] [--definition 1080p|720p|480p|240p]
              [--limit N] [--public] [--password P] [--description D]
                                   defaults: sfu, type 2 (video), 720p, limit 16, not public
  room list
  room get ID
  room delete ID
  user add ACCOUNT [--password P] [--name N] [--admin] [--org ID]
                                   without --password, reads it from stdin
  user list [--org ID] [--offset N] [--limit N]
  meeting list [--from T] [--to T] [--offset N] [--limit N]
  recording list [--name S] [--user ID] [--org ID] [--from T] [--to T] [--page N] [--size N]
  recording download ID [--output FILE]
                                   saves recording-ID.EXT (every file of a tracks
                                   recording), with a progress bar on a terminal
  recording delete ID...           deletes the recordings and their files

Options:
  --server URL     server base URL (default: $ATRIUM_URL, else http://127.0.0.1:8088)
  --token TOKEN    bearer token (default: $ATRIUM_TOKEN, else the one login saved in
                   $XDG_CONFIG_HOME/atrium/token or ~/.config/atrium/token)
  --json           print the raw JSON result on stdout and nothing else
  --help           print this help

Exit status: 0 success; 1 the server answered a JSON-RPC error; 2 usage error;
3 the server could not be reached or gave an HTTP error.
)";
}

}  // namespace atrium::ctl
