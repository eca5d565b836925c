// WHIP (RFC 9725) and WHEP: publishing into a room's live conference, and playing one of
// its streams or the MCU mix, with one HTTP POST of an SDP offer and no WebSocket. Each
// session is a participant of the conference whose room events come here instead of to a
// client. WhipSessions owns the session resources (/whip/{roomId}/{id} and
// /whep/{roomId}/{streamId}/{id}); everything runs on the control thread.
#include "auth/Passwords.hpp"
#include "core/GRef.hpp"
#include "core/Log.hpp"
#include "media/Negotiation.hpp"
#include "media/Sdp.hpp"
#include "media/TrickleFragment.hpp"
#include "rpc/HttpRoutes.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/Views.hpp"

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

using nlohmann::json;

namespace {

// How long an answer waits for the server's ICE gathering (host candidates take
// milliseconds; a STUN server that does not answer would take seconds).
constexpr guint kGatherTimeoutMs = 2000;
// A session whose client has not connected this long after its answer ends: without a
// WebSocket, nothing else says that the client has gone.
constexpr gint64 kConnectTimeoutUs = 30 * G_USEC_PER_SEC;
constexpr guint kSweepSeconds = 2;
constexpr const char* kRequestKey = "atrium-whip-request";
constexpr const char* kSdpType = "application/sdp";
constexpr const char* kFragmentType = "application/trickle-ice-sdpfrag";

enum class Kind { Whip, Whep };

const char* Prefix(Kind k) {
  return k == Kind::Whip ? "/whip" : "/whep";
}
const char* Name(Kind k) {
  return k == Kind::Whip ? "WHIP" : "WHEP";
}

// /whip/{roomId}[/{resourceId}] or /whep/{roomId}/{streamId}[/{resourceId}].
struct WhipPath {
  Kind kind = Kind::Whip;
  int64_t roomId = 0;
  std::string streamId;    // WHEP: a streamId, "mix" or "speaker"
  std::string resourceId;  // "" for the endpoint itself
};

// Stream and resource ids: 1..64 of [A-Za-z0-9_-].
bool IsId(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!g_ascii_isalnum(c) && c != '-' && c != '_') return false;
  return true;
}

std::optional<WhipPath> ParsePath(Kind kind, const std::string& path) {
  std::vector<std::string> parts;
  gchar** split = g_strsplit(path.c_str(), "/", -1);
  for (gchar** p = split; *p; ++p) parts.emplace_back(*p);
  g_strfreev(split);
  size_t fixed = kind == Kind::Whip ? 3 : 4;  // "", "whip", ROOM [, STREAM]
  if (parts.size() < fixed || parts.size() > fixed + 1 || !parts[0].empty()) return std::nullopt;
  WhipPath out;
  out.kind = kind;
  guint64 room = 0;
  if (!g_ascii_string_to_unsigned(parts[2].c_str(), 10, 1, G_MAXINT64, &room, nullptr)) return std::nullopt;
  out.roomId = int64_t(room);
  if (kind == Kind::Whep) {
    if (!IsId(parts[3])) return std::nullopt;
    out.streamId = parts[3];
  }
  if (parts.size() == fixed + 1) {
    if (!IsId(parts[fixed])) return std::nullopt;
    out.resourceId = parts[fixed];
  }
  return out;
}

// An error answered with a status of its own (405, 412, 415, 422) instead of the one that
// goes with its code; the body is the same JSON-RPC error object.
class HttpError : public AppError {
public:
  HttpError(int status, ErrorCode code, const std::string& message, json data = nullptr)
      : AppError(code, message, std::move(data)), status(status) {}
  int status;
};

void ReplyError(SoupServerMessage* msg, const std::exception& e) {
  ReplyHttpError(msg, e);
  if (const auto* h = dynamic_cast<const HttpError*>(&e))
    soup_server_message_set_status(msg, guint(h->status), nullptr);
}

// Every answer, errors included, so that a page on another origin can use the endpoints
// (its token travels in a header, never as a cookie).
void SetCors(SoupServerMessage* msg) {
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace(h, "Access-Control-Expose-Headers",
                               "Location, ETag, Accept-Patch, Link, Atrium-Participant-Id, Atrium-Stream-Id, "
                               "Atrium-Play-Id");
}

// The body's media type, lower case, without parameters; "" when there is none.
std::string MediaTypeOf(SoupServerMessage* msg) {
  const char* t =
      soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg), nullptr);
  if (!t) return {};
  gchar* lower = g_ascii_strdown(t, -1);
  std::string out = lower;
  g_free(lower);
  return out;
}

void RequireContentType(SoupServerMessage* msg, const char* want) {
  if (MediaTypeOf(msg) != want)
    throw HttpError(415, ErrorCode::InvalidParams, std::string("expected a body of type ") + want,
                    {{"param", "Content-Type"}, {"expected", want}});
}

[[noreturn]] void TooLarge(size_t limit, size_t size) {
  throw AppError(ErrorCode::TooLarge, "the body is larger than the server accepts",
                 {{"limit", limit}, {"size", size}});
}

bool IsPatch(SoupServerMessage* msg) {
  return g_strcmp0(soup_server_message_get_method(msg), "PATCH") == 0;
}

// What the early handler learnt from the headers of a POST or PATCH, and its body as it
// comes in, held to the server's body limit ([limits] max-message-bytes).
struct Request {
  Identity who;
  size_t limit = 0;
  size_t received = 0;
  std::string body;
  bool tooLarge = false;
};

void OnChunk(SoupServerMessage*, GBytes* chunk, gpointer data) {
  auto* r = static_cast<Request*>(data);
  gsize len = 0;
  const auto* p = static_cast<const char*>(g_bytes_get_data(chunk, &len));
  r->received += len;
  if (r->tooLarge) return;  // the rest is read and dropped
  if (r->received > r->limit) {
    r->tooLarge = true;
    std::string().swap(r->body);
    return;
  }
  r->body.append(p ? p : "", len);
}

// Before the body: the token, the body's type and its announced size. Setting a status here
// answers without reading the body.
void BeginRequest(Services& s, SoupServerMessage* msg, Kind kind, const std::string& path) {
  auto where = ParsePath(kind, path);
  if (!where) return;  // the handler answers 404
  bool post = soup_server_message_get_method(msg) == SOUP_METHOD_POST && where->resourceId.empty();
  bool patch = IsPatch(msg) && !where->resourceId.empty();
  if (!post && !patch) return;
  SetCors(msg);
  try {
    auto req = std::make_unique<Request>();
    req->who = RequireBearer(s, msg);
    RequireContentType(msg, post ? kSdpType : kFragmentType);
    req->limit = size_t(s.config.maxMessageBytes);
    SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
    if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH) {
      auto length = size_t(soup_message_headers_get_content_length(headers));
      if (length > req->limit) TooLarge(req->limit, length);
    }
    soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
    g_signal_connect(msg, "got-chunk", G_CALLBACK(OnChunk), req.get());
    g_object_set_data_full(G_OBJECT(msg), kRequestKey, req.release(),
                           [](gpointer p) { delete static_cast<Request*>(p); });
  } catch (const std::exception& e) {
    ReplyError(msg, e);
  }
}

// The verified request of a POST or PATCH whose headers BeginRequest accepted.
Request& RequestOf(SoupServerMessage* msg) {
  auto* req = static_cast<Request*>(g_object_get_data(G_OBJECT(msg), kRequestKey));
  if (!req) throw AppError(ErrorCode::Internal, "request state missing");
  if (req->tooLarge) TooLarge(req->limit, req->received);
  return *req;
}

void Options(SoupServerMessage* msg, bool endpoint) {
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  const char* allow = endpoint ? "OPTIONS, POST" : "OPTIONS, PATCH, DELETE";
  soup_message_headers_replace(h, "Allow", allow);
  if (endpoint)
    soup_message_headers_replace(h, "Accept-Post", kSdpType);
  else
    soup_message_headers_replace(h, "Accept-Patch", kFragmentType);
  soup_message_headers_replace(h, "Access-Control-Allow-Methods", allow);
  soup_message_headers_replace(h, "Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
  soup_message_headers_replace(h, "Access-Control-Max-Age", "86400");
  soup_server_message_set_status(msg, 204, nullptr);
}

// The offer has something to publish (WHIP) or to receive (WHEP), else InvalidParams, so
// that a useless offer is refused before the room hears of a new participant.
void CheckOffer(Kind kind, const std::string& sdp) {
  bool any = false;
  for (const auto& m : media::ParseOffer(sdp)) {
    if (m.rejected || (m.kind != "audio" && m.kind != "video")) continue;
    if (kind == Kind::Whip)
      any = any || ((m.direction == "sendonly" || m.direction == "sendrecv") && media::PreferredCodec(m));
    else
      any = any || m.direction == "recvonly" || m.direction == "sendrecv";
  }
  if (any) return;
  if (kind == Kind::Whip)
    throw InvalidParams(
        "invalid parameter 'sdp': expected a sendonly offer with VP8/H264 video or Opus audio",
        {{"param", "sdp"}, {"expected", "VP8/H264 video or Opus audio to send"}});
  throw InvalidParams("invalid parameter 'sdp': expected a recvonly offer with audio or video",
                      {{"param", "sdp"}, {"expected", "audio or video to receive"}});
}

// The offer's ICE username fragment (session or first m-line level), "" if none.
std::string UfragOf(const std::string& sdp) {
  size_t at = sdp.find("a=ice-ufrag:");
  if (at == std::string::npos) return {};
  at += 12;
  size_t end = sdp.find_first_of("\r\n", at);
  return sdp.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// An If-Match value ("*", or a list of entity tags) against the session's ETag.
bool EtagMatches(const std::string& ifMatch, const std::string& etag) {
  gchar** tags = g_strsplit(ifMatch.c_str(), ",", -1);
  bool match = false;
  for (gchar** t = tags; *t && !match; ++t) match = g_strstrip(*t) == etag;
  g_strfreev(tags);
  return match;
}

class WhipSessions : public std::enable_shared_from_this<WhipSessions> {
public:
  explicit WhipSessions(Services& s) : s_(s) {}
  ~WhipSessions() {
    if (sweep_) g_source_remove(sweep_);
    for (auto& [id, r] : resources_) DisconnectMessage(r);
  }
  WhipSessions(const WhipSessions&) = delete;
  WhipSessions& operator=(const WhipSessions&) = delete;

  void Handle(SoupServerMessage* msg, Kind kind, const std::string& path) {
    SetCors(msg);
    try {
      auto where = ParsePath(kind, path);
      if (!where) throw AppError(ErrorCode::NotFound, "not found");
      const char* method = soup_server_message_get_method(msg);
      bool endpoint = where->resourceId.empty();
      if (method == SOUP_METHOD_OPTIONS) return Options(msg, endpoint);
      if (endpoint && method == SOUP_METHOD_POST) return Create(msg, *where);
      if (!endpoint && IsPatch(msg)) return Patch(msg, *where);
      if (!endpoint && method == SOUP_METHOD_DELETE) return Delete(msg, *where);
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
                                   endpoint ? "OPTIONS, POST" : "OPTIONS, PATCH, DELETE");
      throw HttpError(
          405, ErrorCode::InvalidRequest,
          endpoint ? "POST an SDP offer here" : "PATCH ICE candidates here, or DELETE the session");
    } catch (const std::exception& e) {
      ReplyError(msg, e);
    }
  }

private:
  // One WHIP or WHEP session: its participant, the stream it publishes or the play it
  // receives, and, until it is answered, the POST that waits for the answer.
  struct Resource {
    std::string id;
    Kind kind = Kind::Whip;
    int64_t roomId = 0;
    int64_t userId = 0;
    std::string streamId;  // WHEP: what it plays (a streamId or "mix")
    std::string participantId;
    std::string mediaId;  // its stream (WHIP) or play (WHEP) in the conference
    std::string etag;     // quoted
    std::string clientUfrag;
    std::vector<std::string> mids;  // the offer's m-lines by index, for PATCH candidates
    std::vector<std::pair<unsigned, std::string>> serverCandidates;
    std::string answer;
    GRef<SoupServerMessage> pending;  // paused until the answer is ready
    std::vector<gulong> handlers;     // on `pending`
    bool clientGone = false;          // the POST's connection went away before the answer
    gint64 answeredAt = 0;            // monotonic
  };

  // Runs Check(id) from the main loop; safe from any thread (an answer callback can be
  // dropped on webrtcbin's).
  static void CheckLater(std::weak_ptr<WhipSessions> sessions, std::string id) {
    struct Job {
      std::weak_ptr<WhipSessions> sessions;
      std::string id;
    };
    g_idle_add_full(
        G_PRIORITY_DEFAULT,
        [](gpointer p) -> gboolean {
          auto* job = static_cast<Job*>(p);
          if (auto self = job->sessions.lock()) {
            try {
              self->Check(job->id);
            } catch (const std::exception& e) {
              GST_ERROR("whip check failed [resource:%s what:%s]", job->id.c_str(), e.what());
            }
          }
          return G_SOURCE_REMOVE;
        },
        new Job{std::move(sessions), std::move(id)}, [](gpointer p) { delete static_cast<Job*>(p); });
  }

  // Lives in the answer callback: when the callback is dropped without having run (its
  // stream or play was removed first), the session is checked again.
  struct CheckOnDrop {
    std::weak_ptr<WhipSessions> sessions;
    std::string id;
    ~CheckOnDrop() { CheckLater(sessions, id); }
  };

  void Create(SoupServerMessage* msg, const WhipPath& where) {
    Request& req = RequestOf(msg);
    const Identity& who = req.who;
    const std::string& sdp = req.body;
    Kind kind = where.kind;
    store::Room room = views::RoomOr404(s_, where.roomId);

    // conference.join's rules for a signed-in user, without a password: WHIP has no way
    // to send one.
    auto entry = views::EntryOf(s_, who, room);
    if (!entry.insider && room.passwordHash)
      throw AppError(
          ErrorCode::Forbidden,
          "this room needs a password, which WHIP and WHEP cannot send: use the token of a host or member",
          {{"roomId", room.id}, {"passwordRequired", true}});
    if (!entry.insider && !room.isPublic)
      throw AppError(ErrorCode::Forbidden, "this room is private: use the token of a host or member",
                     {{"roomId", room.id}});
    bool auth::Grants::*grant = kind == Kind::Whip ? &auth::Grants::publish : &auth::Grants::subscribe;
    const char* grantName = kind == Kind::Whip ? "publish" : "subscribe";
    if (!(who.grants.*grant))
      throw AppError(ErrorCode::Forbidden, std::string("this token has no '") + grantName + "' grant",
                     {{"grant", grantName}});
    if (kind == Kind::Whep && where.streamId == "speaker" && room.mode == "mcu")
      throw AppError(ErrorCode::NotFound,
                     "MCU rooms have no voice-activated stream: play \"mix\" (its speaker layout follows the speaker)",
                     {{"streamId", "speaker"}});

    CheckOffer(kind, sdp);
    rooms::Conference* live = s_.conferences.Find(room.id);
    if (kind == Kind::Whep && where.streamId == "mix") {
      if (room.mode != "mcu")
        throw AppError(ErrorCode::NotFound, "this room has no mix (SFU mode)", {{"streamId", "mix"}});
    } else if (kind == Kind::Whep && where.streamId != "speaker") {
      const rooms::Conference::Stream* stream = nullptr;
      if (live)
        if (auto f = live->streams().find(where.streamId); f != live->streams().end()) stream = &f->second;
      if (!stream || !stream->live)
        throw AppError(ErrorCode::NotFound, "no such stream in this room", {{"streamId", where.streamId}});
    }
    if (live && live->size() >= size_t(room.numberLimit))
      throw AppError(ErrorCode::RoomFull, "the room is full", {{"numberLimit", room.numberLimit}});

    Resource r;
    r.id = auth::RandomHex(16);
    r.kind = kind;
    r.roomId = room.id;
    r.userId = who.userId;
    r.streamId = where.streamId;
    r.etag = "\"" + auth::RandomHex(8) + "\"";
    r.clientUfrag = UfragOf(sdp);
    for (const auto& m : media::ParseOffer(sdp)) r.mids.push_back(m.mid);

    rooms::Conference::Participant p;
    p.name = views::UserOr404(s_, who.userId).name;
    if (p.name.empty()) p.name = Name(kind);
    p.userId = who.userId;
    p.role = entry.role;
    // The room's events for this participant: its server candidates for the answer, and
    // the ones that can end the session.
    p.notify = [weak = weak_from_this(), id = r.id](const std::string& method, const json& params) {
      if (auto self = weak.lock()) self->OnNotify(id, method, params);
    };
    rooms::Conference& conf = s_.conferences.Open(room.id, room.mode, room.definition);
    auto& joined = conf.Join(std::move(p));
    r.participantId = joined.id;
    std::string id = r.id, pid = r.participantId;
    resources_[id] = std::move(r);
    auto guard = std::make_shared<CheckOnDrop>(weak_from_this(), id);
    auto done = [weak = weak_from_this(), id, guard](const std::string& answer, const std::string& error) {
      if (auto self = weak.lock()) self->OnAnswer(id, answer, error);
    };
    std::string mediaId;
    try {
      mediaId = kind == Kind::Whip ? conf.Publish(pid, "camera", sdp, done)
                                   : conf.Play(pid, where.streamId, sdp, done);
    } catch (...) {
      resources_.erase(id);
      conf.Leave(pid);
      throw;
    }
    Resource& res = resources_.at(id);
    res.mediaId = mediaId;
    // No socket tells when the client goes: its ICE keepalives must.
    conf.pipeline().EnableKeepaliveChecks(mediaId);
    // The answer comes later: hold the message until then.
    res.pending = GRef<SoupServerMessage>(msg);
    for (const char* signal : {"finished", "disconnected"}) {
      struct Token {
        std::weak_ptr<WhipSessions> sessions;
        std::string id;
      };
      res.handlers.push_back(g_signal_connect_data(
          msg, signal, G_CALLBACK(+[](SoupServerMessage* m, gpointer data) {
            auto* t = static_cast<Token*>(data);
            auto self = t->sessions.lock();
            if (!self) return;
            auto it = self->resources_.find(t->id);
            if (it == self->resources_.end() || it->second.pending.get() != m) return;
            it->second.clientGone = true;
            CheckLater(t->sessions, t->id);
          }),
          new Token{weak_from_this(), id}, [](gpointer p, GClosure*) { delete static_cast<Token*>(p); },
          GConnectFlags(0)));
    }
    soup_server_message_pause(msg);
    GST_INFO("%s session created [room:%" G_GINT64_FORMAT " resource:%s participant:%s media:%s]", Name(kind),
             room.id, id.c_str(), pid.c_str(), mediaId.c_str());
    StartSweep();
  }

  void Patch(SoupServerMessage* msg, const WhipPath& where) {
    Request& req = RequestOf(msg);
    Resource& r = Owned(where, req.who);
    const char* ifMatch =
        soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "If-Match");
    if (ifMatch && g_strcmp0(ifMatch, "*") == 0)
      throw HttpError(422, ErrorCode::InvalidParams,
                      "ICE restarts are not supported: DELETE the session and POST a new offer",
                      {{"param", "If-Match"}, {"iceRestart", false}});
    if (ifMatch && !EtagMatches(ifMatch, r.etag))
      throw HttpError(412, ErrorCode::Conflict, "If-Match does not match the session's ETag",
                      {{"etag", r.etag}});
    auto fragment = media::TrickleFragment::Parse(req.body);
    if ((!fragment.ufrag.empty() && !r.clientUfrag.empty() && fragment.ufrag != r.clientUfrag))
      throw HttpError(422, ErrorCode::InvalidParams,
                      "ICE restarts are not supported: DELETE the session and POST a new offer",
                      {{"param", "ice-ufrag"}, {"iceRestart", false}});
    rooms::Conference* conf = s_.conferences.Find(r.roomId);
    if (!conf) throw AppError(ErrorCode::NotFound, "no such session", {{"resourceId", where.resourceId}});
    for (const auto& c : fragment.candidates) {
      unsigned mline = 0;  // BUNDLE: the first m-line's transport carries everything
      for (size_t i = 0; i < r.mids.size(); ++i)
        if (!c.mid.empty() && r.mids[i] == c.mid) mline = unsigned(i);
      conf->AddCandidate(r.participantId, r.mediaId, mline, c.candidate);
    }
    GST_DEBUG("%s candidates [resource:%s count:%zu end:%d]", Name(r.kind), r.id.c_str(),
              fragment.candidates.size(), fragment.endOfCandidates);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "ETag", r.etag.c_str());
    soup_server_message_set_status(msg, 204, nullptr);
  }

  void Delete(SoupServerMessage* msg, const WhipPath& where) {
    Identity who = RequireBearer(s_, msg);
    Resource& r = Owned(where, who);
    End(r.id, "deleted by the client");
    soup_server_message_set_status(msg, 200, nullptr);
  }

  // The session a PATCH or DELETE names, if it is still there and the caller may change it:
  // the user who started it, or someone who may administer the room.
  Resource& Owned(const WhipPath& where, const Identity& who) {
    Check(where.resourceId);
    auto it = resources_.find(where.resourceId);
    if (it == resources_.end() || it->second.kind != where.kind || it->second.roomId != where.roomId ||
        (where.kind == Kind::Whep && it->second.streamId != where.streamId) || it->second.answeredAt == 0)
      throw AppError(ErrorCode::NotFound, std::string("no such ") + Name(where.kind) + " session",
                     {{"resourceId", where.resourceId}});
    Resource& r = it->second;
    if (r.userId != who.userId && !views::CanAdminRoom(s_, who, views::RoomOr404(s_, r.roomId)))
      throw AppError(ErrorCode::Forbidden,
                     "only the user who started this session, or a host of the room, may change it",
                     {{"resourceId", r.id}});
    return r;
  }

  void OnNotify(const std::string& id, const std::string& method, const json& params) {
    try {
      auto it = resources_.find(id);
      if (it == resources_.end()) return;
      Resource& r = it->second;
      if (method == "media.candidate") {
        if (params.value("id", "") == r.mediaId && r.answeredAt == 0)
          r.serverCandidates.emplace_back(params["sdpMLineIndex"].get<unsigned>(),
                                          params.value("candidate", ""));
        return;
      }
      // Its stream or the one it plays ended, its play failed, a host removed it, the
      // meeting ended: Check finds out which and ends the session.
      if (method == "streamUnpublished" || method == "media.failed" || method == "kicked" ||
          method == "meetingFinished")
        CheckLater(weak_from_this(), id);
    } catch (const std::exception& e) {
      GST_ERROR("whip notification failed [resource:%s method:%s what:%s]", id.c_str(), method.c_str(),
                e.what());
    }
  }

  void OnAnswer(const std::string& id, const std::string& answer, const std::string& error) {
    auto it = resources_.find(id);
    if (it == resources_.end()) return;
    Resource& r = it->second;
    if (!error.empty()) {
      InvalidParams e("invalid parameter 'sdp': " + error, {{"param", "sdp"}, {"reason", error}});
      ReplyPending(r, [&e](SoupServerMessage* m) { ReplyError(m, e); });
      return End(id, "the offer was refused");
    }
    rooms::Conference* conf = s_.conferences.Find(r.roomId);
    if (!conf || !conf->pipeline().Has(r.mediaId)) return Check(id);
    r.answer = answer;
    conf->pipeline().WhenGathered(r.mediaId, kGatherTimeoutMs,
                                  [weak = weak_from_this(), id](const std::string& local) {
                                    if (auto self = weak.lock()) self->OnGathered(id, local);
                                  });
  }

  void OnGathered(const std::string& id, const std::string& local) {
    auto it = resources_.find(id);
    if (it == resources_.end()) return;
    Resource& r = it->second;
    if (local.empty()) return Check(id);  // the peer went away meanwhile
    // webrtcbin's local description carries the candidates it gathered; the ones the room
    // was told (with a public address too, when one is configured) are added where missing.
    std::string sdp = media::AddCandidates(local, r.serverCandidates);
    r.answer.clear();
    r.serverCandidates.clear();
    r.answeredAt = g_get_monotonic_time();
    if (!r.pending || r.clientGone) return Check(id);
    auto count = [](const std::string& text) {
      size_t n = 0;
      for (size_t at = text.find("a=candidate:"); at != std::string::npos;
           at = text.find("a=candidate:", at + 1))
        ++n;
      return n;
    };
    size_t candidates = count(sdp);
    GST_DEBUG("%s answer candidates [resource:%s webrtcbin:%zu added:%zu]", Name(r.kind), r.id.c_str(),
              count(local), candidates - count(local));
    std::string base = std::string(Prefix(r.kind)) + "/" + std::to_string(r.roomId);
    if (r.kind == Kind::Whep) base += "/" + r.streamId;
    std::string location = base + "/" + r.id;
    ReplyPending(r, [&](SoupServerMessage* m) {
      SoupMessageHeaders* h = soup_server_message_get_response_headers(m);
      soup_message_headers_replace(h, "Location", location.c_str());
      soup_message_headers_replace(h, "ETag", r.etag.c_str());
      soup_message_headers_replace(h, "Accept-Patch", kFragmentType);
      soup_message_headers_replace(h, "Atrium-Participant-Id", r.participantId.c_str());
      soup_message_headers_replace(h, "Atrium-Stream-Id",
                                   (r.kind == Kind::Whip ? r.mediaId : r.streamId).c_str());
      if (r.kind == Kind::Whep) soup_message_headers_replace(h, "Atrium-Play-Id", r.mediaId.c_str());
      std::string stun = s_.config.stunServer;
      for (const char* scheme : {"stun://", "stun:"})
        if (stun.rfind(scheme, 0) == 0) stun = stun.substr(strlen(scheme));
      if (!stun.empty())
        soup_message_headers_append(h, "Link", ("<stun:" + stun + ">; rel=\"ice-server\"").c_str());
      soup_server_message_set_response(m, kSdpType, SOUP_MEMORY_COPY, sdp.data(), sdp.size());
      soup_server_message_set_status(m, 201, nullptr);
    });
    GST_INFO("%s session answered [room:%" G_GINT64_FORMAT " resource:%s media:%s candidates:%zu]",
             Name(r.kind), r.roomId, r.id.c_str(), r.mediaId.c_str(), candidates);
  }

  // Ends the session when its participant, or its stream or play, is gone; when the POST's
  // client went away before the answer; or when the client never connected.
  void Check(const std::string& id) {
    auto it = resources_.find(id);
    if (it == resources_.end()) return;
    Resource& r = it->second;
    rooms::Conference* conf = s_.conferences.Find(r.roomId);
    const auto* p = conf ? conf->Find(r.participantId) : nullptr;
    bool media =
        p && (r.kind == Kind::Whip ? conf->streams().count(r.mediaId) : conf->plays().count(r.mediaId));
    const char* why = nullptr;
    if (!p)
      why = "the participant left the conference";
    else if (!media)
      why = r.kind == Kind::Whip ? "the stream ended" : "the play ended";
    else if (r.clientGone)
      why = "the client went away before the answer";
    else if (r.answeredAt && !conf->pipeline().IsConnected(r.mediaId) &&
             g_get_monotonic_time() - r.answeredAt > kConnectTimeoutUs)
      why = "the client did not connect in time";
    if (why) End(id, why);
  }

  // Removes the session and its participant (the room hears streamUnpublished and
  // participantLeft as for any participant); a POST still waiting is answered 500.
  void End(const std::string& id, const char* why) {
    auto it = resources_.find(id);
    if (it == resources_.end()) return;
    Resource r = std::move(it->second);
    resources_.erase(it);
    GST_INFO("%s session ended [room:%" G_GINT64_FORMAT " resource:%s participant:%s why:%s]", Name(r.kind),
             r.roomId, r.id.c_str(), r.participantId.c_str(), why);
    if (r.pending && !r.clientGone) {
      AppError e(ErrorCode::Internal, std::string("the session ended before it was answered: ") + why);
      ReplyPending(r, [&e](SoupServerMessage* m) { ReplyError(m, e); });
    }
    DisconnectMessage(r);
    rooms::Conference* conf = s_.conferences.Find(r.roomId);
    if (conf && conf->Find(r.participantId)) conf->Leave(r.participantId);
  }

  // Answers the waiting POST: `fill` sets status, headers and body; then it goes out.
  void ReplyPending(Resource& r, const std::function<void(SoupServerMessage*)>& fill) {
    if (!r.pending || r.clientGone) return;
    GRef<SoupServerMessage> m = r.pending;
    DisconnectMessage(r);
    fill(m.get());
    s_.metrics.CountHttp(Prefix(r.kind), int(soup_server_message_get_status(m.get())));
    soup_server_message_unpause(m.get());
  }

  void DisconnectMessage(Resource& r) {
    if (r.pending)
      for (gulong h : r.handlers) g_signal_handler_disconnect(r.pending.get(), h);
    r.handlers.clear();
    r.pending.reset();
  }

  // Every few seconds while there are sessions: Check each (connect timeouts, and what no
  // notification announced, such as a play that failed with its participant).
  void StartSweep() {
    if (sweep_) return;
    sweep_ = g_timeout_add_seconds_full(
        G_PRIORITY_DEFAULT, kSweepSeconds,
        [](gpointer p) -> gboolean {
          auto self = static_cast<std::weak_ptr<WhipSessions>*>(p)->lock();
          if (!self) return G_SOURCE_REMOVE;
          std::vector<std::string> ids;
          for (const auto& [id, r] : self->resources_) ids.push_back(id);
          for (const auto& id : ids) {
            try {
              self->Check(id);
            } catch (const std::exception& e) {
              GST_ERROR("whip sweep failed [resource:%s what:%s]", id.c_str(), e.what());
            }
          }
          if (!self->resources_.empty()) return G_SOURCE_CONTINUE;
          self->sweep_ = 0;
          return G_SOURCE_REMOVE;
        },
        new std::weak_ptr<WhipSessions>(weak_from_this()),
        [](gpointer p) { delete static_cast<std::weak_ptr<WhipSessions>*>(p); });
  }

  Services& s_;
  std::map<std::string, Resource> resources_;
  guint sweep_ = 0;
};

}  // namespace

void RegisterWhipRoutes(Services& s) {
  if (!s.addRoute || !s.addEarlyRoute) return;  // no HTTP server (tests of the method tables)
  auto sessions = std::make_shared<WhipSessions>(s);
  for (Kind kind : {Kind::Whip, Kind::Whep}) {
    s.addEarlyRoute(Prefix(kind), [&s, kind](SoupServerMessage* msg, const std::string& path) {
      BeginRequest(s, msg, kind, path);
    });
    s.addRoute(Prefix(kind), [sessions, kind](SoupServerMessage* msg, const std::string& path) {
      sessions->Handle(msg, kind, path);
    });
  }
}

}  // namespace atrium::rpc
