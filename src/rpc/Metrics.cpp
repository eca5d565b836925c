#include "rpc/Metrics.hpp"

#include <unistd.h>

#include <cstdio>
#include <sstream>

namespace atrium::rpc {

void Metrics::CountRequest(const std::string& method, std::string_view outcome) {
  ++requests_[{method, std::string(outcome)}];
}

void Metrics::CountHttp(const std::string& route, int status) { ++http_[{route, status}]; }

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  gauges_.push_back({std::move(name), std::move(help), std::move(read)});
}

uint64_t Metrics::requests(const std::string& method, const std::string& outcome) const {
  auto it = requests_.find({method, outcome});
  return it == requests_.end() ? 0 : it->second;
}

std::string Metrics::Render() const {
  std::ostringstream out;
  out << "# HELP atrium_rpc_requests_total JSON-RPC requests by method and outcome.\n"
         "# TYPE atrium_rpc_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out << "atrium_rpc_requests_total{method=\"" << key.first << "\",outcome=\"" << key.second << "\"} " << n << "\n";
  out << "# HELP atrium_http_requests_total HTTP requests by route and status.\n"
         "# TYPE atrium_http_requests_total counter\n";
  for (const auto& [key, n] : http_)
    out << "atrium_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  for (const auto& g : gauges_) {
    out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " gauge\n";
    out << g.name << " " << uint64_t(g.read()) << "\n";
  }
  return out.str();
}

ProcessMemory ProcessMemory::Read() {
  ProcessMemory m;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long size = 0, resident = 0;
    if (std::fscanf(f, "%lu %lu", &size, &resident) == 2) {
      long page = sysconf(_SC_PAGESIZE);
      m.virtualBytes = uint64_t(size) * uint64_t(page);
      m.residentBytes = uint64_t(resident) * uint64_t(page);
    }
    std::fclose(f);
  }
  return m;
}

}  // namespace atrium::rpc
