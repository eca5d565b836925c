#include "rpc/FileServe.hpp"

#include "core/Log.hpp"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

namespace {

constexpr size_t kChunkBytes = 64 * 1024;
constexpr const char* kStreamKey = "atrium-file-stream";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ParseNumber(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// The pieces of a response body: text (multipart headers) and spans of the file.
struct Piece {
  std::string text;
  uint64_t offset = 0;
  uint64_t length = 0;  // of the file span; 0 for text
};

struct Stream {
  int fd = -1;
  std::vector<Piece> pieces;
  size_t index = 0;
  uint64_t done = 0;  // bytes of pieces[index] already appended
  std::string path;
  ~Stream() {
    if (fd >= 0) close(fd);
  }
};

// Appends the next chunk to the body, or completes it. False on a read error.
bool AppendNext(Stream& st, SoupMessageBody* body) {
  while (st.index < st.pieces.size()) {
    Piece& p = st.pieces[st.index];
    if (p.length == 0) {
      std::string text = std::move(p.text);
      st.index++;
      if (text.empty()) continue;
      soup_message_body_append(body, SOUP_MEMORY_COPY, text.data(), text.size());
      return true;
    }
    uint64_t left = p.length - st.done;
    size_t want = size_t(std::min<uint64_t>(left, kChunkBytes));
    auto* buf = static_cast<char*>(g_malloc(want));
    ssize_t n;
    do {
      n = pread(st.fd, buf, want, off_t(p.offset + st.done));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      GST_ERROR("file read failed [path:%s offset:%" G_GUINT64_FORMAT " error:%s]", st.path.c_str(),
                p.offset + st.done, n < 0 ? std::strerror(errno) : "file shrank");
      g_free(buf);
      return false;
    }
    soup_message_body_append(body, SOUP_MEMORY_TAKE, buf, size_t(n));
    st.done += uint64_t(n);
    if (st.done == p.length) {
      st.index++;
      st.done = 0;
    }
    return true;
  }
  soup_message_body_complete(body);
  return true;
}

void OnWroteChunk(SoupServerMessage* msg, gpointer data) {
  auto* st = static_cast<Stream*>(data);
  if (st->index >= st->pieces.size()) return;  // completed already
  if (!AppendNext(*st, soup_server_message_get_response_body(msg))) {
    // The status line is out: the only honest thing left is to cut the connection.
    if (GIOStream* io = soup_server_message_steal_connection(msg)) {
      g_io_stream_close(io, nullptr, nullptr);
      g_object_unref(io);
    }
  }
}

std::string ETagOf(const struct stat& st) {
  char buf[64];
  g_snprintf(buf, sizeof buf, "\"%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x\"", gint64(st.st_size),
             gint64(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000);
  return buf;
}

std::string HttpDate(time_t t) {
  GDateTime* dt = g_date_time_new_from_unix_utc(t);
  char* s = soup_date_time_to_string(dt, SOUP_DATE_HTTP);
  std::string out = s ? s : "";
  g_free(s);
  g_date_time_unref(dt);
  return out;
}

std::string ContentRange(const ByteRange& r, uint64_t size) {
  return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" + std::to_string(size);
}

}  // namespace

RangeRequest ParseRange(std::string_view header, uint64_t size) {
  RangeRequest whole;
  std::string_view v = Trim(header);
  if (v.size() < 6 || g_ascii_strncasecmp(v.data(), "bytes=", 6) != 0) return whole;
  v.remove_prefix(6);
  RangeRequest out;
  out.kind = RangeRequest::Kind::Partial;
  size_t count = 0;
  while (true) {
    size_t comma = v.find(',');
    std::string_view spec = Trim(v.substr(0, comma));
    if (!spec.empty()) {  // empty list elements are allowed and skipped
      if (++count > kMaxRanges) return whole;
      size_t dash = spec.find('-');
      if (dash == std::string_view::npos) return whole;
      std::string_view a = Trim(spec.substr(0, dash)), b = Trim(spec.substr(dash + 1));
      uint64_t first = 0, last = 0;
      if (a.empty()) {  // suffix: the last b bytes
        if (!ParseNumber(b, last)) return whole;
        if (last > 0 && size > 0) out.ranges.push_back({last >= size ? 0 : size - last, size - 1});
      } else {
        if (!ParseNumber(a, first)) return whole;
        if (b.empty()) {
          last = UINT64_MAX;
        } else if (!ParseNumber(b, last) || last < first) {
          return whole;
        }
        if (first < size) out.ranges.push_back({first, std::min(last, size - 1)});
      }
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  if (count == 0) return whole;
  if (out.ranges.empty()) out.kind = RangeRequest::Kind::Unsatisfiable;
  return out;
}

std::string ContentDisposition(const std::string& name, bool attachment) {
  std::string ascii;
  for (unsigned char c : name) ascii += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '/') ? char(c) : '_';
  if (ascii.empty()) ascii = "download";
  char* encoded = g_uri_escape_string(name.c_str(), nullptr, FALSE);
  std::string out = std::string(attachment ? "attachment" : "inline") + "; filename=\"" + ascii + "\"";
  if (encoded) {
    out += "; filename*=UTF-8''";
    out += encoded;
    g_free(encoded);
  }
  return out;
}

int ServeFile(SoupServerMessage* msg, const std::string& path, const std::string& contentType,
              const std::string& downloadName, bool attachment) {
  const char* method = soup_server_message_get_method(msg);
  SoupMessageHeaders* out = soup_server_message_get_response_headers(msg);
  auto plain = [msg](int status, const char* text) {
    soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_COPY, text, strlen(text));
    soup_server_message_set_status(msg, guint(status), nullptr);
    return status;
  };
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace(out, "Allow", "GET, HEAD");
    return plain(405, "method not allowed\n");
  }
  auto stream = std::make_unique<Stream>();
  stream->path = path;
  stream->fd = g_open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  struct stat st {};
  if (stream->fd < 0 || fstat(stream->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    GST_INFO("file not served [path:%s error:%s]", path.c_str(), stream->fd < 0 ? std::strerror(errno) : "not a file");
    return plain(404, "not found\n");
  }
  const uint64_t size = uint64_t(st.st_size);
  const std::string etag = ETagOf(st);
  soup_message_headers_replace(out, "Accept-Ranges", "bytes");
  soup_message_headers_replace(out, "ETag", etag.c_str());
  soup_message_headers_replace(out, "Last-Modified", HttpDate(st.st_mtim.tv_sec).c_str());
  soup_message_headers_replace(out, "Content-Disposition", ContentDisposition(downloadName, attachment).c_str());
  soup_message_headers_replace(out, "Cache-Control", "private, no-cache");

  SoupMessageHeaders* in = soup_server_message_get_request_headers(msg);
  RangeRequest req;
  if (const char* range = soup_message_headers_get_one(in, "Range")) {
    const char* ifRange = soup_message_headers_get_one(in, "If-Range");
    if (!ifRange || etag == ifRange) req = ParseRange(range, size);
  }

  int status = 200;
  uint64_t total = 0;
  switch (req.kind) {
    case RangeRequest::Kind::Unsatisfiable:
      soup_message_headers_replace(out, "Content-Range", ("bytes */" + std::to_string(size)).c_str());
      return plain(416, "range not satisfiable\n");
    case RangeRequest::Kind::Whole:
      soup_message_headers_replace(out, "Content-Type", contentType.c_str());
      stream->pieces.push_back({{}, 0, size});
      total = size;
      break;
    case RangeRequest::Kind::Partial:
      status = 206;
      if (req.ranges.size() == 1) {
        const ByteRange& r = req.ranges.front();
        soup_message_headers_replace(out, "Content-Type", contentType.c_str());
        soup_message_headers_replace(out, "Content-Range", ContentRange(r, size).c_str());
        stream->pieces.push_back({{}, r.first, r.length()});
        total = r.length();
      } else {
        char* b = g_uuid_string_random();
        std::string boundary = std::string("atrium-") + b;
        g_free(b);
        soup_message_headers_replace(out, "Content-Type", ("multipart/byteranges; boundary=" + boundary).c_str());
        for (const ByteRange& r : req.ranges) {
          std::string head = "\r\n--" + boundary + "\r\nContent-Type: " + contentType +
                             "\r\nContent-Range: " + ContentRange(r, size) + "\r\n\r\n";
          total += head.size() + r.length();
          stream->pieces.push_back({std::move(head), 0, 0});
          stream->pieces.push_back({{}, r.first, r.length()});
        }
        std::string tail = "\r\n--" + boundary + "--\r\n";
        total += tail.size();
        stream->pieces.push_back({std::move(tail), 0, 0});
      }
      break;
  }

  soup_server_message_set_status(msg, guint(status), nullptr);
  soup_message_headers_set_content_length(out, goffset(total));
  if (method == SOUP_METHOD_HEAD || total == 0) return status;

  SoupMessageBody* body = soup_server_message_get_response_body(msg);
  soup_message_body_set_accumulate(body, FALSE);
  Stream* raw = stream.release();
  g_object_set_data_full(G_OBJECT(msg), kStreamKey, raw, [](gpointer p) { delete static_cast<Stream*>(p); });
  g_signal_connect(msg, "wrote-chunk", G_CALLBACK(OnWroteChunk), raw);
  if (!AppendNext(*raw, body)) {
    raw->index = raw->pieces.size();
    soup_message_headers_remove(out, "Content-Range");
    return plain(500, "read error\n");
  }
  return status;
}

}  // namespace atrium::rpc
