// Slows down password guessing: counts failed logins per account and per client address
// and, past a few free failures, refuses further attempts for a delay that doubles with
// each failure (capped). A refused attempt costs no password hash and changes nothing.
// Owned by the auth.login method; used on the control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

namespace atrium::auth {

class LoginThrottle {
public:
  struct Policy {
    int freeFailuresPerAccount = 5;   // failures in a row before attempts wait
    int freeFailuresPerAddress = 20;  // several users may share an address (NAT)
    int64_t firstDelayMs = 1000;      // then 2 s, 4 s, ... per further failure
    int64_t maxDelayMs = 300000;
    int64_t forgetAfterMs = 900000;   // a key with no failure for this long starts over
    size_t maxKeys = 100000;          // memory bound: the oldest keys are dropped first
  };
  using Clock = std::function<int64_t()>;  // milliseconds, monotonic

  LoginThrottle();
  explicit LoginThrottle(Policy policy, Clock clock = {});

  // Milliseconds until `account` from `address` may try again; 0: it may try now.
  int64_t RetryAfterMs(const std::string& account, const std::string& address);
  void Failed(const std::string& account, const std::string& address);
  // A good password clears the account's failures (not the address's).
  void Succeeded(const std::string& account);

  // "203.0.113.7:51234" -> "203.0.113.7", "::1:40000" -> "::1" (Session::peer() format).
  static std::string AddressOf(const std::string& peer);

private:
  struct Entry {
    int failures = 0;
    int64_t last = 0;          // time of the last failure
    int64_t blockedUntil = 0;
  };
  int64_t Wait(std::unordered_map<std::string, Entry>& map, const std::string& key, int64_t now);
  void Count(std::unordered_map<std::string, Entry>& map, const std::string& key, int freeFailures, int64_t now);
  void Prune(std::unordered_map<std::string, Entry>& map, int64_t now);

  Policy policy_;
  Clock clock_;
  std::unordered_map<std::string, Entry> accounts_;
  std::unordered_map<std::string, Entry> addresses_;
};

}  // namespace atrium::auth
