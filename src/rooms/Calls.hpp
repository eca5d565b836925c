// 1:1 calls between signed-in users: who is reachable (the connections that called
// call.register), the calls ringing or running, their states and the ring timer. Each step
// tells the other party through its connections' Notify. Owned by the daemon; control thread.
#pragma once

#include <glib.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace atrium::rooms {

class Calls {
public:
  using Notify = std::function<void(const std::string& method, const nlohmann::json& params)>;

  enum class State { Inviting, Ringing, Agreed, Connected };
  static const char* StateName(State s);

  struct Call {
    std::string id;
    int64_t callerId = 0;
    int64_t calleeId = 0;
    std::string type;  // audio, video
    std::optional<int64_t> roomId;
    bool temporaryRoom = false;  // created for this call; dropped when it ends
    State state = State::Inviting;
    int64_t createdAt = 0;
    guint timer = 0;

    int64_t Other(int64_t userId) const { return userId == callerId ? calleeId : callerId; }
  };
  // Told once a call has ended, whatever ended it.
  using Ended = std::function<void(const Call& call, const std::string& reason)>;

  Calls() = default;
  ~Calls();
  Calls(const Calls&) = delete;
  Calls& operator=(const Calls&) = delete;

  void SetRingTimeout(int64_t seconds) { ringTimeoutSeconds_ = seconds; }
  void OnEnded(Ended cb) { ended_ = std::move(cb); }

  // Reachability: a user is reachable while one of its registered connections is open.
  void Register(int64_t userId, uint64_t sessionId, Notify notify);
  bool IsRegistered(uint64_t sessionId) const { return sessions_.count(sessionId) != 0; }
  bool IsReachable(int64_t userId) const;
  // A connection closed: forgets it; when it was its user's last one, that user's call ends
  // (the other party hears callEnded, reason "disconnected").
  void SessionClosed(uint64_t sessionId);
  void NotifyUser(int64_t userId, const std::string& method, const nlohmann::json& params) const;

  const Call* Find(const std::string& callId) const;
  const Call* CallOf(int64_t userId) const;  // the user's current call, as caller or callee

  // A new call in state Inviting; the ring timer starts. The callee hears callInvite with
  // `invite` (callId, type and roomId are added).
  const Call& Invite(int64_t callerId, int64_t calleeId, const std::string& type, std::optional<int64_t> roomId,
                     bool temporaryRoom, nlohmann::json invite);
  // The callee is busy before it was even asked (in a meeting, in another call): the caller
  // hears callBusy from the main loop, after the reply to its call.invite, and the call ends.
  std::string RefuseBusy(int64_t callerId, int64_t calleeId, const std::string& type, const std::string& reason);

  // The steps, by user `by`. Each throws NotFound {"callId"} when `by` is no party of the
  // call, Forbidden when it is the wrong party, Conflict {"callId", "state"} in the wrong state.
  void Ring(const std::string& callId, int64_t by);
  void Busy(const std::string& callId, int64_t by);
  void Agree(const std::string& callId, int64_t by);
  void Reject(const std::string& callId, int64_t by);
  void Cancel(const std::string& callId, int64_t by);
  void Connected(const std::string& callId, int64_t by);
  void Hangup(const std::string& callId, int64_t by);
  // A custom event to the other party of `by`'s call with `target`. Throws Forbidden
  // {"userId"} when they share no call.
  void Event(int64_t by, int64_t target, const std::string& event, const nlohmann::json& data);

  nlohmann::json View(const Call& c) const;

  // Runs `attempt` now and then every `intervalSeconds` until it returns true (or the
  // registry goes): used to drop a call's room once nobody is in it.
  void Retry(std::function<bool()> attempt, unsigned intervalSeconds);

private:
  Call& Require(const std::string& callId, int64_t by);
  void RequireCallee(const Call& c, int64_t by, const char* what) const;
  void RequireState(const Call& c, std::initializer_list<State> allowed) const;
  void End(const std::string& callId, const std::string& reason);
  void StopTimer(Call& c);
  std::string NewId();

  int64_t ringTimeoutSeconds_ = 60;
  Ended ended_;
  std::map<uint64_t, std::pair<int64_t, Notify>> sessions_;  // sessionId -> user, notify
  std::map<std::string, Call> calls_;
  std::set<guint> sources_;  // retries and deferred notices still pending
  uint64_t nextId_ = 1;
};

}  // namespace atrium::rooms
