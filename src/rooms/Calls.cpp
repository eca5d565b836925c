#include "rooms/Calls.hpp"

#include "core/Error.hpp"
#include "core/Log.hpp"

#define GST_CAT_DEFAULT atrium_rooms_debug

namespace atrium::rooms {

using nlohmann::json;

namespace {

// A main-loop source whose callback and bookkeeping die with it.
struct Job {
  std::function<bool()> fn;  // true: run again
  std::function<void(guint)> done;
  guint id = 0;
};

guint AddJob(unsigned seconds, std::function<bool()> fn, std::function<void(guint)> done) {
  auto* job = new Job{std::move(fn), std::move(done)};
  auto run = [](gpointer p) -> gboolean {
    auto* job = static_cast<Job*>(p);
    try {
      return job->fn() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    } catch (const std::exception& e) {
      GST_ERROR("call job failed [what:%s]", e.what());
      return G_SOURCE_REMOVE;
    }
  };
  auto destroy = [](gpointer p) {
    auto* job = static_cast<Job*>(p);
    if (job->done) job->done(job->id);
    delete job;
  };
  job->id = seconds == 0 ? g_idle_add_full(G_PRIORITY_DEFAULT, run, job, destroy)
                         : g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, seconds, run, job, destroy);
  return job->id;
}

}  // namespace

const char* Calls::StateName(State s) {
  switch (s) {
    case State::Inviting: return "inviting";
    case State::Ringing: return "ringing";
    case State::Agreed: return "agreed";
    case State::Connected: return "connected";
  }
  return "?";
}

Calls::~Calls() {
  ended_ = nullptr;
  std::set<guint> pending;
  pending.swap(sources_);
  for (guint id : pending) g_source_remove(id);
}

void Calls::Register(int64_t userId, uint64_t sessionId, Notify notify) {
  sessions_[sessionId] = {userId, std::move(notify)};
}

bool Calls::IsReachable(int64_t userId) const {
  for (const auto& [sid, entry] : sessions_)
    if (entry.first == userId) return true;
  return false;
}

void Calls::NotifyUser(int64_t userId, const std::string& method, const json& params) const {
  for (const auto& [sid, entry] : sessions_)
    if (entry.first == userId && entry.second) entry.second(method, params);
}

void Calls::SessionClosed(uint64_t sessionId) {
  auto it = sessions_.find(sessionId);
  if (it == sessions_.end()) return;
  int64_t userId = it->second.first;
  sessions_.erase(it);
  if (IsReachable(userId)) return;
  if (const Call* c = CallOf(userId)) {
    std::string id = c->id;
    NotifyUser(c->Other(userId), "callEnded", {{"callId", id}, {"userId", userId}, {"reason", "disconnected"}});
    End(id, "disconnected");
  }
}

const Calls::Call* Calls::Find(const std::string& callId) const {
  auto it = calls_.find(callId);
  return it == calls_.end() ? nullptr : &it->second;
}

const Calls::Call* Calls::CallOf(int64_t userId) const {
  for (const auto& [id, c] : calls_)
    if (c.callerId == userId || c.calleeId == userId) return &c;
  return nullptr;
}

std::string Calls::NewId() {
  return "c" + std::to_string(nextId_++) + "-" + std::to_string(g_random_int_range(100000, 999999));
}

json Calls::View(const Call& c) const {
  return {{"callId", c.id},
          {"callerId", c.callerId},
          {"calleeId", c.calleeId},
          {"type", c.type},
          {"roomId", c.roomId ? json(*c.roomId) : json(nullptr)},
          {"state", StateName(c.state)},
          {"createdAt", c.createdAt}};
}

const Calls::Call& Calls::Invite(int64_t callerId, int64_t calleeId, const std::string& type,
                                 std::optional<int64_t> roomId, bool temporaryRoom, json invite) {
  Call c;
  c.id = NewId();
  c.callerId = callerId;
  c.calleeId = calleeId;
  c.type = type;
  c.roomId = roomId;
  c.temporaryRoom = temporaryRoom;
  c.createdAt = g_get_real_time() / G_USEC_PER_SEC;
  std::string id = c.id;
  c.timer = AddJob(
      unsigned(ringTimeoutSeconds_),
      [this, id] {
        auto it = calls_.find(id);
        if (it == calls_.end()) return false;
        it->second.timer = 0;  // this source is ending
        GST_INFO("call not answered [call:%s]", id.c_str());
        json note = {{"callId", id}};
        NotifyUser(it->second.callerId, "callTimeout", note);
        NotifyUser(it->second.calleeId, "callTimeout", note);
        End(id, "timeout");
        return false;
      },
      [this](guint sid) { sources_.erase(sid); });
  sources_.insert(c.timer);
  auto& stored = calls_[id] = std::move(c);
  invite["callId"] = id;
  invite["type"] = type;
  invite["roomId"] = roomId ? json(*roomId) : json(nullptr);
  NotifyUser(calleeId, "callInvite", invite);
  GST_INFO("call invite [call:%s caller:%" G_GINT64_FORMAT " callee:%" G_GINT64_FORMAT "]", id.c_str(), callerId,
           calleeId);
  return stored;
}

std::string Calls::RefuseBusy(int64_t callerId, int64_t calleeId, const std::string& type, const std::string& reason) {
  std::string id = NewId();
  guint sid = AddJob(
      0,
      [this, id, callerId, calleeId, reason] {
        NotifyUser(callerId, "callBusy", {{"callId", id}, {"userId", calleeId}, {"reason", reason}});
        return false;
      },
      [this](guint s) { sources_.erase(s); });
  sources_.insert(sid);
  GST_INFO("call busy [call:%s callee:%" G_GINT64_FORMAT " reason:%s type:%s]", id.c_str(), calleeId,
           reason.c_str(), type.c_str());
  return id;
}

Calls::Call& Calls::Require(const std::string& callId, int64_t by) {
  auto it = calls_.find(callId);
  if (it == calls_.end() || (it->second.callerId != by && it->second.calleeId != by))
    throw AppError(ErrorCode::NotFound, "no such call", {{"callId", callId}});
  return it->second;
}

void Calls::RequireCallee(const Call& c, int64_t by, const char* what) const {
  if (c.calleeId != by)
    throw AppError(ErrorCode::Forbidden, std::string("only the called user may ") + what, {{"callId", c.id}});
}

void Calls::RequireState(const Call& c, std::initializer_list<State> allowed) const {
  for (State s : allowed)
    if (c.state == s) return;
  throw AppError(ErrorCode::Conflict, std::string("the call is ") + StateName(c.state),
                 {{"callId", c.id}, {"state", StateName(c.state)}});
}

void Calls::StopTimer(Call& c) {
  if (c.timer) g_source_remove(c.timer);  // its destroy notify drops it from sources_
  c.timer = 0;
}

void Calls::End(const std::string& callId, const std::string& reason) {
  auto it = calls_.find(callId);
  if (it == calls_.end()) return;
  Call c = std::move(it->second);
  calls_.erase(it);
  StopTimer(c);
  GST_INFO("call ended [call:%s reason:%s]", callId.c_str(), reason.c_str());
  if (ended_) ended_(c, reason);
}

void Calls::Ring(const std::string& callId, int64_t by) {
  Call& c = Require(callId, by);
  RequireCallee(c, by, "ring");
  RequireState(c, {State::Inviting, State::Ringing});
  c.state = State::Ringing;
  NotifyUser(c.callerId, "callRinging", {{"callId", c.id}, {"userId", by}});
}

void Calls::Busy(const std::string& callId, int64_t by) {
  Call& c = Require(callId, by);
  RequireCallee(c, by, "answer busy");
  RequireState(c, {State::Inviting, State::Ringing});
  NotifyUser(c.callerId, "callBusy", {{"callId", c.id}, {"userId", by}, {"reason", "busy"}});
  End(callId, "busy");
}

void Calls::Agree(const std::string& callId, int64_t by) {
  Call& c = Require(callId, by);
  RequireCallee(c, by, "agree");
  RequireState(c, {State::Inviting, State::Ringing});
  c.state = State::Agreed;
  StopTimer(c);
  NotifyUser(c.callerId, "callAgreed",
             {{"callId", c.id}, {"userId", by}, {"roomId", c.roomId ? json(*c.roomId) : json(nullptr)}});
}

void Calls::Reject(const std::string& callId, int64_t by) {
  Call& c = Require(callId, by);
  RequireCallee(c, by, "reject");
  RequireState(c, {State::Inviting, State::Ringing});
  NotifyUser(c.callerId, "callRejected", {{"callId", c.id}, {"userId", by}});
  End(callId, "rejected");
}

void Calls::Cancel(const std::string& callId, int64_t by) {
  Call& c = Require(callId, by);
  if (c.callerId != by) throw AppError(ErrorCode::Forbidden, "only the caller may cancel", {{"callId", c.id}});
  RequireState(c, {State::Inviting, State::Ringing, State::Agreed});
  NotifyUser(c.calleeId, "callCancelled", {{"callId", c.id}, {"userId", by}});
  End(callId, "cancelled");
}

void Calls::Connected(const std::string& callId, int64_t by) {
  Call& c = Require(callId, by);
  RequireState(c, {State::Agreed});
  c.state = State::Connected;
  NotifyUser(c.Other(by), "callConnected", {{"callId", c.id}, {"userId", by}});
}

void Calls::Hangup(const std::string& callId, int64_t by) {
  Call& c = Require(callId, by);
  RequireState(c, {State::Agreed, State::Connected});
  NotifyUser(c.Other(by), "callEnded", {{"callId", c.id}, {"userId", by}, {"reason", "hangup"}});
  End(callId, "hangup");
}

void Calls::Event(int64_t by, int64_t target, const std::string& event, const json& data) {
  const Call* c = CallOf(by);
  if (!c || c->Other(by) != target || target == by)
    throw AppError(ErrorCode::Forbidden, "no call with this user", {{"userId", target}});
  NotifyUser(target, "callEvent", {{"callId", c->id}, {"userId", by}, {"event", event}, {"data", data}});
}

void Calls::Retry(std::function<bool()> attempt, unsigned intervalSeconds) {
  if (attempt()) return;
  guint sid = AddJob(intervalSeconds, [attempt = std::move(attempt)] { return !attempt(); },
                     [this](guint s) { sources_.erase(s); });
  sources_.insert(sid);
}

}  // namespace atrium::rooms
