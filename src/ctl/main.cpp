// atriumctl: a command-line client for atriumd's JSON-RPC API. main() takes the global
// options and turns each kind of failure into its exit code; Commands does the rest.
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/Commands.hpp"

using atrium::ctl::Commands;
using atrium::ctl::RpcClient;
using atrium::ctl::UsageError;

namespace {
enum Exit { kOk = 0, kServerError = 1, kUsage = 2, kUnreachable = 3 };
}  // namespace

int main(int argc, char** argv) {
  Commands::Globals globals;
  std::vector<std::string> rest;
  try {
    // Global options may stand anywhere; the rest is the command line.
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      const auto value = [&](std::string_view name, std::string& out) {
        if (arg == name) {
          if (i + 1 >= argc) throw UsageError(std::string(name) + " needs a value");
          out = argv[++i];
          return true;
        }
        if (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=') {
          out = arg.substr(name.size() + 1);
          return true;
        }
        return false;
      };
      if (arg == "--help" || arg == "-h") {
        std::cout << Commands::Usage();
        return kOk;
      }
      if (arg == "--json")
        globals.json = true;
      else if (!value("--server", globals.server) && !value("--token", globals.token))
        rest.emplace_back(arg);
    }
    Commands(std::move(globals)).Run(rest);
    return kOk;
  } catch (const UsageError& e) {
    std::cerr << "atriumctl: " << e.what() << "\nTry 'atriumctl --help'.\n";
    return kUsage;
  } catch (const RpcClient::ServerError& e) {
    std::cerr << "error " << e.code() << ": " << e.what() << '\n';
    if (!e.data().is_null()) std::cerr << "  " << e.data().dump() << '\n';
    return kServerError;
  } catch (const std::exception& e) {
    std::cerr << "atriumctl: " << e.what() << '\n';
    return kUnreachable;
  }
}
