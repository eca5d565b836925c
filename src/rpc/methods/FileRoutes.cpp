// POST /rooms/{roomId}/files (multipart upload) and GET /rooms/{roomId}/files/{fileId}
// (download with byte ranges). An upload is checked as soon as its headers are in (token,
// room, Content-Length) and its body streams into a temporary file, never into memory;
// the file part is then written under <data-dir>/files/<id> through a temporary file and a
// rename, in the same transaction as its row, so a refused upload leaves nothing behind.
#include "core/GRef.hpp"
#include "core/Log.hpp"
#include "rpc/FileServe.hpp"
#include "rpc/HttpRoutes.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/RoomContent.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Files.hpp"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

using nlohmann::json;

namespace {

constexpr const char* kUploadKey = "atrium-upload";
// Room for the multipart framing around the file (boundaries, part headers) on top of
// [files] max-size when the whole body is measured; the file part itself is held to
// max-size exactly.
constexpr int64_t kFramingAllowance = 64 * 1024;

// /rooms/{roomId}/files[/{fileId}]: the ids, or nothing when the path is anything else.
struct FilesPath {
  int64_t roomId = 0;
  std::optional<int64_t> fileId;
};
std::optional<FilesPath> ParsePath(const std::string& path) {
  std::vector<std::string> parts;
  gchar** split = g_strsplit(path.c_str(), "/", -1);
  for (gchar** p = split; *p; ++p) parts.emplace_back(*p);
  g_strfreev(split);
  // "", "rooms", ID, "files"[, ID]
  if (parts.size() < 4 || parts.size() > 5 || !parts[0].empty() || parts[1] != "rooms" || parts[3] != "files")
    return std::nullopt;
  auto number = [](const std::string& s) -> std::optional<int64_t> {
    guint64 v = 0;
    if (s.empty() || !g_ascii_string_to_unsigned(s.c_str(), 10, 1, G_MAXINT64, &v, nullptr)) return std::nullopt;
    return int64_t(v);
  };
  FilesPath out;
  auto room = number(parts[2]);
  if (!room) return std::nullopt;
  out.roomId = *room;
  if (parts.size() == 5) {
    out.fileId = number(parts[4]);
    if (!out.fileId) return std::nullopt;
  }
  return out;
}

// What a client's upload has sent so far: the raw body, in a temporary file.
struct Upload {
  Identity who;
  int64_t roomId = 0;
  int64_t limit = 0;  // body bytes allowed
  std::string tempPath;
  int fd = -1;
  int64_t received = 0;
  bool tooLarge = false;
  std::string error;

  ~Upload() { Discard(); }
  void Discard() {
    if (fd >= 0) close(fd);
    fd = -1;
    if (!tempPath.empty()) g_unlink(tempPath.c_str());
    tempPath.clear();
  }
};

void OnChunk(SoupServerMessage*, GBytes* chunk, gpointer data) {
  auto* up = static_cast<Upload*>(data);
  gsize len = 0;
  const auto* p = static_cast<const char*>(g_bytes_get_data(chunk, &len));
  up->received += int64_t(len);
  if (up->fd < 0) return;  // refused already: the rest is read and dropped
  if (up->received > up->limit) {
    up->tooLarge = true;
    up->Discard();
    return;
  }
  while (len > 0) {
    ssize_t n = write(up->fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      up->error = std::strerror(errno);
      up->Discard();
      return;
    }
    p += n;
    len -= size_t(n);
  }
}

// The uploader's file name, for display and as the download name: the last path segment,
// without control characters, at most 255 bytes of UTF-8.
std::string DisplayName(const char* given) {
  std::string name = given ? given : "";
  auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name = name.substr(slash + 1);
  std::string clean;
  for (unsigned char ch : name)
    if (ch >= 0x20 && ch != 0x7f) clean += char(ch);
  if (!g_utf8_validate(clean.c_str(), gssize(clean.size()), nullptr)) clean.clear();
  if (clean.size() > 255) {
    const char* end = clean.c_str() + 255;
    end = g_utf8_find_prev_char(clean.c_str(), end + 1);
    clean.resize(size_t(end - clean.c_str()));
  }
  return clean.empty() || clean == "." || clean == ".." ? "file" : clean;
}

// A plain type/subtype (parameters dropped), else application/octet-stream.
std::string MediaType(const char* given) {
  std::string t = given ? given : "";
  auto ok = [](char c) { return g_ascii_isalnum(c) || std::strchr("!#$&^_.+-", c); };
  auto slash = t.find('/');
  bool valid = !t.empty() && t.size() <= 127 && slash != std::string::npos && slash > 0 && slash + 1 < t.size();
  for (size_t i = 0; valid && i < t.size(); ++i)
    if (i != slash && !ok(t[i])) valid = false;
  if (!valid) return "application/octet-stream";
  for (char& c : t) c = g_ascii_tolower(c);
  return t;
}

bool ShownInline(const std::string& type) {
  return type == "image/png" || type == "image/jpeg" || type == "image/gif" || type == "image/webp";
}

void ReplyJson(SoupServerMessage* msg, int status, const json& body) {
  std::string text = body.dump() + "\n";
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text.data(), text.size());
  soup_server_message_set_status(msg, guint(status), nullptr);
}

// Before the body: who uploads where, and whether it can fit. Setting a status here answers
// without reading the body.
void BeginUpload(Services& s, SoupServerMessage* msg, const std::string& path) {
  if (soup_server_message_get_method(msg) != SOUP_METHOD_POST) return;
  auto where = ParsePath(path);
  if (!where || where->fileId) return;
  Identity who = RequireBearer(s, msg);
  store::Room room = views::RoomOr404(s, where->roomId);
  if (!content::MayRead(s, who, room))
    throw AppError(ErrorCode::Forbidden, "only the room's participants and members may share files",
                   {{"roomId", room.id}});
  SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
  const char* type = soup_message_headers_get_content_type(headers, nullptr);
  if (!type || g_ascii_strcasecmp(type, "multipart/form-data") != 0)
    throw InvalidParams("expected a multipart/form-data body with a 'file' part", {{"param", "file"}});
  int64_t limit = s.config.fileMaxSize + kFramingAllowance;
  if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH) {
    auto length = int64_t(soup_message_headers_get_content_length(headers));
    if (length > limit)
      throw AppError(ErrorCode::TooLarge, "the file is larger than the server accepts",
                     {{"limit", s.config.fileMaxSize}, {"size", length}});
  }
  std::string dir = store::Files::Dir(s.config.dataDir);
  if (g_mkdir_with_parents(dir.c_str(), 0700) != 0)
    throw AppError(ErrorCode::Internal, "cannot create " + dir + ": " + std::strerror(errno));
  auto up = std::make_unique<Upload>();
  up->who = who;
  up->roomId = room.id;
  up->limit = limit;
  std::string tmpl = dir + "/.upload-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  up->fd = g_mkstemp_full(name.data(), O_WRONLY | O_CLOEXEC, 0600);
  if (up->fd < 0) throw AppError(ErrorCode::Internal, "cannot create a temporary file in " + dir);
  up->tempPath = name.data();
  soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
  g_signal_connect(msg, "got-chunk", G_CALLBACK(OnChunk), up.get());
  g_object_set_data_full(G_OBJECT(msg), kUploadKey, up.release(), [](gpointer p) { delete static_cast<Upload*>(p); });
}

// After the body: take the 'file' part out of the temporary file and store it.
void FinishUpload(Services& s, SoupServerMessage* msg) {
  auto* up = static_cast<Upload*>(g_object_get_data(G_OBJECT(msg), kUploadKey));
  if (!up) throw AppError(ErrorCode::Internal, "upload state missing");
  // The temporary file goes before the answer does, whatever the answer: the message
  // itself (which would drop it too) may outlive the reply.
  struct DiscardOnExit {
    Upload* up;
    ~DiscardOnExit() { up->Discard(); }
  } discard{up};
  if (up->tooLarge)
    throw AppError(ErrorCode::TooLarge, "the file is larger than the server accepts",
                   {{"limit", s.config.fileMaxSize}, {"size", up->received}});
  if (!up->error.empty() || up->fd < 0) throw AppError(ErrorCode::Internal, "cannot store the upload: " + up->error);
  close(up->fd);
  up->fd = -1;

  GError* err = nullptr;
  GMappedFile* mapped = g_mapped_file_new(up->tempPath.c_str(), FALSE, &err);
  if (!mapped) {
    GErrorPtr e(err);
    throw AppError(ErrorCode::Internal, std::string("cannot read the upload: ") + e->message);
  }
  CPtr<GBytes, g_bytes_unref> body(g_mapped_file_get_bytes(mapped));
  g_mapped_file_unref(mapped);
  CPtr<SoupMultipart, soup_multipart_free> multipart(
      soup_multipart_new_from_message(soup_server_message_get_request_headers(msg), body.get()));
  if (!multipart) throw InvalidParams("expected a multipart/form-data body with a 'file' part", {{"param", "file"}});

  GBytes* part = nullptr;
  std::string name;
  std::string type;
  for (int i = 0; i < soup_multipart_get_length(multipart.get()) && !part; ++i) {
    SoupMessageHeaders* ph = nullptr;
    GBytes* pb = nullptr;
    if (!soup_multipart_get_part(multipart.get(), i, &ph, &pb)) continue;
    char* disposition = nullptr;
    GHashTable* params = nullptr;
    if (!soup_message_headers_get_content_disposition(ph, &disposition, &params)) continue;
    const char* field = static_cast<const char*>(g_hash_table_lookup(params, "name"));
    if (g_strcmp0(field, "file") == 0) {
      part = pb;
      name = DisplayName(static_cast<const char*>(g_hash_table_lookup(params, "filename")));
      type = MediaType(soup_message_headers_get_content_type(ph, nullptr));
    }
    g_free(disposition);
    g_hash_table_destroy(params);
  }
  if (!part) throw InvalidParams("expected a multipart/form-data body with a 'file' part", {{"param", "file"}});
  gsize size = 0;
  const auto* data = static_cast<const char*>(g_bytes_get_data(part, &size));
  if (int64_t(size) > s.config.fileMaxSize)
    throw AppError(ErrorCode::TooLarge, "the file is larger than the server accepts",
                   {{"limit", s.config.fileMaxSize}, {"size", int64_t(size)}});

  store::MeetingFile f;
  f.roomId = up->roomId;
  rooms::Conference* conf = s.conferences.Find(up->roomId);
  if (conf) f.meetingId = conf->meetingId;
  f.uploadedBy = up->who.userId;
  f.name = name;
  f.contentType = type;
  f.sizeBytes = int64_t(size);
  f.createdAt = store::Now();
  std::string target;
  try {
    f.id = s.db.transaction([&] {
      int64_t id = store::Files(s.db).Create(f);
      target = store::Files::PathOf(s.config.dataDir, id);
      // A temporary file beside the target, synced, then renamed over it.
      GError* werr = nullptr;
      if (!g_file_set_contents_full(target.c_str(), data ? data : "", gssize(size), G_FILE_SET_CONTENTS_CONSISTENT,
                                    0600, &werr)) {
        GErrorPtr e(werr);
        throw AppError(ErrorCode::Internal, std::string("cannot store the file: ") + e->message);
      }
      return id;
    });
  } catch (...) {
    if (!target.empty()) g_unlink(target.c_str());
    throw;
  }
  GST_INFO("file shared [room:%" G_GINT64_FORMAT " file:%" G_GINT64_FORMAT " size:%" G_GSIZE_FORMAT "]", f.roomId,
           f.id, size);
  json view = content::FileView(f);
  if (conf) {
    json participant = nullptr;
    for (const auto& p : conf->ParticipantsJson())
      if (p["userId"] == up->who.userId) {
        participant = p["id"];
        break;
      }
    conf->Broadcast("fileShared", {{"file", view}, {"participantId", participant}});
  }
  ReplyJson(msg, 201, {{"file", view}});
}

void Download(Services& s, SoupServerMessage* msg, const FilesPath& where) {
  Identity who = RequireBearer(s, msg);
  store::Room room = views::RoomOr404(s, where.roomId);
  if (!content::MayRead(s, who, room))
    throw AppError(ErrorCode::Forbidden, "only the room's participants and members may read its files",
                   {{"roomId", room.id}});
  auto f = store::Files(s.db).Find(*where.fileId);
  if (!f || f->roomId != room.id) throw AppError(ErrorCode::NotFound, "no such file", {{"fileId", *where.fileId}});
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "X-Content-Type-Options", "nosniff");
  ServeFile(msg, store::Files::PathOf(s.config.dataDir, f->id), f->contentType, f->name, !ShownInline(f->contentType));
}

}  // namespace

void RegisterFileRoutes(Services& s) {
  if (!s.addRoute || !s.addEarlyRoute) return;  // no HTTP server (tests of the method tables)
  s.addEarlyRoute("/rooms", [&s](SoupServerMessage* msg, const std::string& path) { BeginUpload(s, msg, path); });
  s.addRoute("/rooms", [&s](SoupServerMessage* msg, const std::string& path) {
    auto where = ParsePath(path);
    if (!where) throw AppError(ErrorCode::NotFound, "not found");
    const char* method = soup_server_message_get_method(msg);
    if (!where->fileId) {
      if (method == SOUP_METHOD_POST) return FinishUpload(s, msg);
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "POST");
      return ReplyJson(msg, 405, {{"error", {{"code", int(ErrorCode::InvalidRequest)},
                                             {"message", "upload with POST; list with file.list"}}}});
    }
    Download(s, msg, *where);
  });
}

}  // namespace atrium::rpc
