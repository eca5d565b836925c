// atriumctl's commands: each turns its arguments into one JSON-RPC call and prints the
// result for a person (pretty JSON, or a table for lists) or raw with --json. main()
// owns the one instance and maps the exceptions to exit codes.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctl/RpcClient.hpp"

namespace atrium::ctl {

// The command line is wrong: main() prints it with a hint and exits with 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Commands {
 public:
  struct Globals {
    std::string server;  // empty: $ATRIUM_URL, else http://127.0.0.1:8088
    std::string token;   // empty: $ATRIUM_TOKEN, else the file saved by login
    bool json = false;
  };

  explicit Commands(Globals globals);

  // Runs one command line without the global options, e.g. {"room", "get", "7"}.
  // Throws UsageError, RpcClient::ServerError, RpcClient::TransportError.
  void Run(const std::vector<std::string>& args);

  static const char* Usage();

 private:
  struct Args;

  void Login(const Args& a);
  void Logout(const Args& a);
  void Ping(const Args& a);
  void Call(const Args& a);
  void RoomCreate(const Args& a);
  void RoomList(const Args& a);
  void RoomGet(const Args& a);
  void RoomDelete(const Args& a);
  void UserAdd(const Args& a);
  void UserList(const Args& a);
  void MeetingList(const Args& a);
  void RecordingList(const Args& a);
  void RecordingDownload(const Args& a);
  void RecordingDelete(const Args& a);

  RpcClient Client(bool withToken = true) const;
  void Print(const nlohmann::json& result) const;
  // Prints the first array member of `result` as a table, preferring `columns`.
  void PrintList(const nlohmann::json& result, const std::vector<std::string>& columns) const;

  Globals g_;
};

}  // namespace atrium::ctl
