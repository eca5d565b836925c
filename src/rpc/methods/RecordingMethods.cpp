// recording.* : start and stop recordings of a live room, and the archive of recorded
// files (list, get, delete, signed download URLs). A `tracks` recording is one row with a
// file row per recorded stream; a file is downloaded from GET /recordings/{fileId}/file.
#include "core/Log.hpp"
#include "rpc/FileServe.hpp"
#include "rpc/HttpRoutes.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Recordings.hpp"
#include "store/Rooms.hpp"

#include <glib/gstdio.h>

#include <set>

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

using nlohmann::json;

namespace {

constexpr int64_t kMaxTime = 253402300799;  // 9999-12-31

rooms::RecordingManager& Manager(Services& s) {
  if (!s.recordings) throw AppError(ErrorCode::Unavailable, "recording is not available on this server");
  return *s.recordings;
}

json FileView(const store::Recording& r) {
  json j = {{"recordingId", r.id},
            {"roomId", r.roomId ? json(*r.roomId) : json(nullptr)},
            {"meetingId", r.meetingId ? json(*r.meetingId) : json(nullptr)},
            {"userId", r.createdBy ? json(*r.createdBy) : json(nullptr)},
            {"orgId", r.orgId ? json(*r.orgId) : json(nullptr)},
            {"name", r.name},
            {"format", r.format},
            {"layout", r.layout},
            {"status", r.status},
            {"startTime", r.startedAt},
            {"endTime", r.stoppedAt ? json(*r.stoppedAt) : json(nullptr)},
            {"durationMs", r.durationMs},
            {"sizeBytes", r.sizeBytes}};
  if (!r.error.empty()) j["error"] = r.error;
  if (r.parentId) {
    j["parentId"] = *r.parentId;
    j["streamId"] = r.streamId;
  }
  if (!r.fileName.empty()) j["downloadPath"] = "/recordings/" + std::to_string(r.id) + "/file";
  return j;
}

json View(Services& s, const store::Recording& r) {
  json j = FileView(r);
  if (r.fileName.empty() && !r.parentId) {
    json files = json::array();
    for (const auto& f : store::Recordings(s.db).Children(r.id)) files.push_back(FileView(f));
    j["files"] = files;
  }
  return j;
}

bool CanManageRecording(Services& s, const Identity& who, const store::Recording& r) {
  if (who.grants.admin) return true;
  if (r.createdBy && *r.createdBy == who.userId) return true;
  if (r.roomId)
    if (auto room = store::Rooms(s.db).Find(*r.roomId)) return views::CanAdminRoom(s, who, *room);
  return false;
}

store::Recording RecordingOr404(Services& s, int64_t id) {
  auto r = store::Recordings(s.db).Find(id);
  if (!r) throw AppError(ErrorCode::NotFound, "no such recording", {{"recordingId", id}});
  return *r;
}

// The row the caller may act on, with a 404 for rows they may not see (no probing).
store::Recording Require(Services& s, const Call& c, int64_t id) {
  auto r = RecordingOr404(s, id);
  if (!CanManageRecording(s, c.identity(), r))
    throw AppError(ErrorCode::Forbidden, "no access to this recording", {{"recordingId", id}});
  return r;
}

// "/recordings/<id>/file" → id; anything else (other shapes, encoded characters, "..")
// is not a recording.
std::optional<int64_t> FileIdOf(const std::string& path) {
  const std::string prefix = "/recordings/", suffix = "/file";
  if (path.size() <= prefix.size() + suffix.size() || path.compare(0, prefix.size(), prefix) != 0 ||
      path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  std::string digits = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 15 || digits[0] == '0') return std::nullopt;
  for (char c : digits)
    if (!g_ascii_isdigit(c)) return std::nullopt;
  return std::stoll(digits);
}

std::optional<std::string> QueryParam(SoupServerMessage* msg, const char* key) {
  GUri* uri = soup_server_message_get_uri(msg);
  const char* query = uri ? g_uri_get_query(uri) : nullptr;
  if (!query) return std::nullopt;
  GHashTable* params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, nullptr);
  if (!params) return std::nullopt;
  std::optional<std::string> out;
  if (auto* v = static_cast<const char*>(g_hash_table_lookup(params, key))) out = v;
  g_hash_table_unref(params);
  return out;
}

// GET /recordings/{id}/file: a finished file, to its owner, the room's hosts and
// administrators (Bearer token), or to anyone with a signed URL from recording.url.
void ServeRecording(Services& s, SoupServerMessage* msg, const std::string& path) {
  auto id = FileIdOf(path);
  if (!id) throw AppError(ErrorCode::NotFound, "no such recording file");
  if (auto sig = QueryParam(msg, "sig")) {
    if (!s.urlSigner) throw AppError(ErrorCode::Unavailable, "signed URLs are not available");
    s.urlSigner->Verify("recording:" + std::to_string(*id), *sig, store::Now());
  } else {
    Identity who = RequireBearer(s, msg);
    auto r = RecordingOr404(s, *id);
    if (!CanManageRecording(s, who, r))
      throw AppError(ErrorCode::Forbidden, "no access to this recording", {{"recordingId", *id}});
  }
  auto r = RecordingOr404(s, *id);
  std::string file = s.recordings ? s.recordings->PathOf(r) : std::string();
  if (file.empty()) {
    json files = json::array();
    for (const auto& f : store::Recordings(s.db).Children(r.id)) files.push_back(f.id);
    throw AppError(ErrorCode::NotFound, "this recording has no file of its own; download one of its files",
                   {{"recordingId", r.id}, {"files", files}});
  }
  if (r.status != "finished")
    throw AppError(ErrorCode::Conflict,
                   r.status == "recording" ? "the recording is still being written" : "the recording failed",
                   {{"recordingId", r.id}, {"status", r.status}});
  std::string ext = r.format == "mp4" ? "mp4" : "webm";
  ServeFile(msg, file, r.format == "mp4" ? "video/mp4" : "video/webm", r.name + "." + ext);
}

}  // namespace

void RegisterRecordingMethods(Dispatcher& d, Services& s) {
  if (s.addRoute)
    s.addRoute("/recordings", [&s](SoupServerMessage* msg, const std::string& path) { ServeRecording(s, msg, path); });

  d.Add("recording.start", Access::User, [&s](Call& c) {
    int64_t roomId = c.params.id("roomId");
    std::string format = c.params.oneOf("format", {"webm", "mp4"});
    std::string layout = c.params.oneOf("layout", {"composite", "tracks"});
    auto name = c.params.optText("name", 128);
    auto room = views::RoomOr404(s, roomId);
    // Room administrators record; so does a token with the `record` grant (a recorder's
    // token, say) in a room it may enter.
    const Identity& who = c.identity();
    if (!views::CanAdminRoom(s, who, room)) {
      views::RequireEnterRoom(s, who, room);
      if (!who.grants.record)
        throw AppError(ErrorCode::Forbidden, "recording needs the room's owner, a host, an administrator or the record grant",
                       {{"roomId", room.id}, {"grant", "record"}});
    }
    rooms::RecordingManager::StartRequest req;
    req.roomId = roomId;
    req.format = format;
    req.layout = layout;
    req.name = name.value_or(room.name);
    req.userId = c.identity().userId;
    req.orgId = room.orgId;
    int64_t id = Manager(s).Start(req);
    return json{{"recordingId", id}};
  });

  d.Add("recording.stop", Access::User, [&s](Call& c) {
    int64_t id = c.params.id("recordingId");
    Require(s, c, id);
    Manager(s).Stop(id);
    return json::object();
  });

  d.Add("recording.get", Access::User, [&s](Call& c) {
    auto r = Require(s, c, c.params.id("recordingId"));
    return json{{"recording", View(s, r)}};
  });

  // Administrators see every recording (filters optional); anyone else their own.
  d.Add("recording.list", Access::User, [&s](Call& c) {
    store::RecordingFilter f;
    f.orgId = c.params.optId("orgId");
    f.userId = c.params.optId("userId");
    f.name = c.params.optStr("name", 128);
    if (f.name && f.name->empty()) f.name.reset();
    f.startDate = c.params.optInteger("startDate", 0, kMaxTime);
    f.endDate = c.params.optInteger("endDate", 0, kMaxTime);
    if (f.startDate && f.endDate && *f.endDate < *f.startDate) Params::Fail("endDate", "a time not before startDate");
    int64_t pageNo = c.params.optInteger("pageNo", 1, INT32_MAX).value_or(1);
    int64_t pageSize = c.params.optInteger("pageSize", 1, 500).value_or(20);
    if (!c.identity().grants.admin) {
      if (f.userId && *f.userId != c.identity().userId)
        throw AppError(ErrorCode::Forbidden, "only administrators list other users' recordings");
      f.userId = c.identity().userId;
    }
    store::Page page;
    page.limit = pageSize;
    page.offset = (pageNo - 1) * pageSize;
    auto result = store::Recordings(s.db).List(f, page);
    json list = json::array();
    for (const auto& r : result.items) list.push_back(View(s, r));
    return json{{"recordList", list},
                {"totalCount", result.total},
                {"totalPage", (result.total + pageSize - 1) / pageSize},
                {"pageNo", pageNo},
                {"pageSize", pageSize}};
  });

  // All or nothing: every id must exist, be the caller's to delete and not be recording.
  d.Add("recording.delete", Access::User, [&s](Call& c) {
    const auto& ids = c.params.array("recordingIds", 500);
    if (ids.empty()) Params::Fail("recordingIds", "a non-empty array of recording ids");
    std::vector<store::Recording> rows;
    std::set<int64_t> seen;
    for (const auto& v : ids) {
      if (!v.is_number_integer() || v.get<int64_t>() < 1) Params::Fail("recordingIds", "an array of recording ids");
      int64_t id = v.get<int64_t>();
      if (!seen.insert(id).second) continue;
      auto r = Require(s, c, id);
      if (r.status == "recording" || Manager(s).IsLive(id) || (r.parentId && Manager(s).IsLive(*r.parentId)))
        throw AppError(ErrorCode::Conflict, "the recording is still running; stop it first", {{"recordingId", id}});
      rows.push_back(r);
      for (const auto& child : store::Recordings(s.db).Children(id)) rows.push_back(child);
    }
    s.db.transaction([&] {
      for (const auto& r : rows)
        if (store::Recordings(s.db).Find(r.id)) store::Recordings(s.db).Delete(r.id);
    });
    for (const auto& r : rows) {
      std::string path = Manager(s).PathOf(r);
      if (!path.empty() && g_unlink(path.c_str()) != 0 && errno != ENOENT)
        GST_WARNING("recording file not removed [file:%s error:%s]", path.c_str(), g_strerror(errno));
    }
    return json{{"deleted", seen.size()}};
  });

  // A URL that downloads one file without a token until it expires.
  d.Add("recording.url", Access::User, [&s](Call& c) {
    auto r = Require(s, c, c.params.id("recordingId"));
    int64_t expiresIn = c.params.optInteger("expiresIn", 10, 7 * 86400).value_or(3600);
    if (r.fileName.empty()) {
      json files = json::array();
      for (const auto& f : store::Recordings(s.db).Children(r.id)) files.push_back(f.id);
      throw AppError(ErrorCode::Conflict, "a tracks recording has one file per stream: ask for one of its files",
                     {{"recordingId", r.id}, {"files", files}});
    }
    if (!s.urlSigner) throw AppError(ErrorCode::Unavailable, "signed URLs are not available");
    int64_t expiresAt = store::Now() + expiresIn;
    std::string sig = s.urlSigner->Sign("recording:" + std::to_string(r.id), expiresAt);
    return json{{"url", "/recordings/" + std::to_string(r.id) + "/file?sig=" + sig}, {"expiresAt", expiresAt}};
  });
}

}  // namespace atrium::rpc
