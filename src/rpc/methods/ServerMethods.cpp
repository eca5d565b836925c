// server.ping and server.state.
#include "atrium-config.h"
#include "rpc/Services.hpp"
#include "store/Records.hpp"

namespace atrium::rpc {

using nlohmann::json;

void RegisterServerMethods(Dispatcher& d, Services& s) {
  d.Add("server.ping", Access::Public, [](Call&) { return json{{"pong", true}, {"version", ATRIUM_VERSION}}; });

  d.Add("server.state", Access::User, [&s](Call&) {
    const Config& c = s.config;
    json node = {{"id", c.nodeName + "@" + c.listenHost + ":" + std::to_string(c.listenPort)},
                 {"name", c.nodeName},
                 {"address", c.listenHost + ":" + std::to_string(c.listenPort)},
                 {"status", "up"},
                 {"version", ATRIUM_VERSION},
                 {"rooms", s.conferences.RoomCount()},
                 {"participants", s.conferences.ParticipantTotal()},
                 {"sessions", s.sessionCount ? s.sessionCount() : 0},
                 {"startedAt", s.startedAt},
                 {"uptime", store::Now() - s.startedAt}};
    return json{{"nodes", json::array({node})}};
  });
}

}  // namespace atrium::rpc
