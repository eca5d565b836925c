#include "auth/LoginThrottle.hpp"

#include <glib.h>

#include <algorithm>
#include <vector>

namespace atrium::auth {

LoginThrottle::LoginThrottle() : LoginThrottle(Policy{}) {}

LoginThrottle::LoginThrottle(Policy policy, Clock clock) : policy_(policy), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return g_get_monotonic_time() / 1000; };
}

std::string LoginThrottle::AddressOf(const std::string& peer) {
  auto colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

int64_t LoginThrottle::Wait(std::unordered_map<std::string, Entry>& map, const std::string& key, int64_t now) {
  auto it = map.find(key);
  if (it == map.end()) return 0;
  return std::max<int64_t>(0, it->second.blockedUntil - now);
}

int64_t LoginThrottle::RetryAfterMs(const std::string& account, const std::string& address) {
  int64_t now = clock_();
  return std::max(Wait(accounts_, account, now), Wait(addresses_, AddressOf(address), now));
}

void LoginThrottle::Count(std::unordered_map<std::string, Entry>& map, const std::string& key, int freeFailures,
                          int64_t now) {
  if (map.size() >= policy_.maxKeys && !map.count(key)) Prune(map, now);
  Entry& e = map[key];
  if (e.failures > 0 && now - e.last > policy_.forgetAfterMs) e = Entry{};
  e.failures++;
  e.last = now;
  int over = e.failures - freeFailures + 1;  // the last free failure already sets a delay
  if (over > 0) {
    int64_t delay = policy_.firstDelayMs;
    for (int i = 1; i < over && delay < policy_.maxDelayMs; ++i) delay *= 2;
    e.blockedUntil = now + std::min(delay, policy_.maxDelayMs);
  }
}

void LoginThrottle::Failed(const std::string& account, const std::string& address) {
  int64_t now = clock_();
  Count(accounts_, account, policy_.freeFailuresPerAccount, now);
  Count(addresses_, AddressOf(address), policy_.freeFailuresPerAddress, now);
}

void LoginThrottle::Succeeded(const std::string& account) { accounts_.erase(account); }

void LoginThrottle::Prune(std::unordered_map<std::string, Entry>& map, int64_t now) {
  std::erase_if(map, [&](const auto& kv) {
    return now - kv.second.last > policy_.forgetAfterMs && kv.second.blockedUntil <= now;
  });
  // Still full (an attack from many keys at once): drop the half that failed longest ago.
  if (map.size() >= policy_.maxKeys) {
    std::vector<int64_t> times;
    times.reserve(map.size());
    for (const auto& kv : map) times.push_back(kv.second.last);
    std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
    int64_t median = times[times.size() / 2];
    std::erase_if(map, [&](const auto& kv) { return kv.second.last <= median; });
  }
}

}  // namespace atrium::auth
