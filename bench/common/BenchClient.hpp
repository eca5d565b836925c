// What the benchmarks that drive atriumd with the tests' webrtcbin peers share: the
// server's CPU time from /proc; participants are the tests' Member (ConferenceMember.hpp).
#pragma once

#include "tests/rpc/ConferenceMember.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace atrium::bench {


// utime + stime of process `pid` in seconds.
inline double CpuSeconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');
  std::istringstream in(s.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / double(sysconf(_SC_CLK_TCK));
}

}  // namespace atrium::bench
