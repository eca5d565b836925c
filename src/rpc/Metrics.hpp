// Counters and gauges for GET /metrics in the Prometheus text format: requests by method
// and outcome, plus gauges that read live values (sessions, rooms, memory) when scraped.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace atrium::rpc {

class Metrics {
public:
  void CountRequest(const std::string& method, std::string_view outcome);
  void CountHttp(const std::string& route, int status);
  void AddGauge(std::string name, std::string help, std::function<double()> read);
  std::string Render() const;

  uint64_t requests(const std::string& method, const std::string& outcome) const;

private:
  struct Gauge {
    std::string name;
    std::string help;
    std::function<double()> read;
  };
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;
  std::map<std::pair<std::string, int>, uint64_t> http_;
  std::vector<Gauge> gauges_;
};

// Resident and virtual memory of this process in bytes, from /proc/self/statm.
struct ProcessMemory {
  uint64_t residentBytes = 0;
  uint64_t virtualBytes = 0;
  static ProcessMemory Read();
};

}  // namespace atrium::rpc
