#include "rpc/Session.hpp"

#include <glib.h>

#include <algorithm>
#include <atomic>

namespace atrium::rpc {

RateLimiter::RateLimiter(double rate, double burst)
    : rate_(rate), burst_(burst), tokens_(burst), last_(g_get_monotonic_time()) {}

bool RateLimiter::Take(double n) {
  int64_t now = g_get_monotonic_time();
  tokens_ = std::min(burst_, tokens_ + double(now - last_) * rate_ / 1e6);
  last_ = now;
  if (tokens_ < n) return false;
  tokens_ -= n;
  return true;
}

Session::Session(Kind kind, std::string peer) : kind_(kind), peer_(std::move(peer)) {
  static std::atomic<uint64_t> next{1};
  id_ = next++;
}

}  // namespace atrium::rpc
